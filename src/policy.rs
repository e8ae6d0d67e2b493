//! Policies in force: epochs, policy classes, and what each (epoch, class)
//! pair may do — open legs and places, the true openness of each claim
//! point, the rules acting at each place — with the routing tables that
//! follow from them.
//!
//! Owns the translation of dated policies into per-epoch tables. Tables are
//! built once per epoch (a policy window opening or closing), never in the
//! daily loop. Must not move agents: `engine` applies the rules.
//!
//! Two views of every table: *informed* (the rules as they are) and
//! *naive* (what a group that does not know the eligibility rules
//! believes: only closures and visas, which are physical, act). A group's
//! `informed` flag picks the view it decides and routes by.

use crate::graph::{Graph, Routing};
use crate::scenario::{
    Country, Dest, Mode, PlaceIx, PlaceKind, Policy, PolicyKind, Scenario, SendTo, StcaScope, Trait,
};
use std::collections::HashMap;

/// Bit of the first papers trait (papers of documents policy k: bit 8 + k).
pub const PAPERS_BIT0: u16 = 8;
/// Most documents policies whose papers can be told apart.
pub const MAX_PAPERS: usize = 8;

/// Policy classes: the small integer that combines every trait any policy
/// in the scenario looks at, and the nationality where a policy names
/// nationalities.
#[derive(Clone, Debug)]
pub struct Classes {
    /// Nationalities that some policy names, each its own group; the rest
    /// are together in group 0.
    nat_groups: Vec<Country>,
    /// Trait bits that matter, in order.
    bits: Vec<u16>,
    /// Number of classes.
    pub count: usize,
}

/// The trait bits and named nationalities that policies look at.
fn looked_at<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> (u16, Vec<Country>) {
    let mut mask = 0u16;
    let mut nats: Vec<Country> = Vec::new();
    for p in policies {
        for t in &p.exempt {
            mask |= trait_bit(*t);
        }
        for t in built_in_exemptions(&p.kind) {
            mask |= trait_bit(t);
        }
        if let Some(ns) = &p.nationalities {
            nats.extend(ns.iter().copied());
        }
        if let PolicyKind::Visa { country, exempt_visas } = &p.kind {
            for c in std::iter::once(country).chain(exempt_visas) {
                if let Some(d) = Dest::of(*c) {
                    mask |= Trait::Visa(d).bit();
                }
            }
        }
    }
    nats.sort();
    nats.dedup();
    (mask, nats)
}

/// How many policy classes a set of policies makes (it must fit in 16
/// bits; the loader refuses more).
pub fn class_count<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> u128 {
    let (mask, nats) = looked_at(policies);
    (nats.len() as u128 + 1) << mask.count_ones()
}

impl Classes {
    fn new(sc: &Scenario) -> Classes {
        let (mask, nats) = looked_at(&sc.policies);
        let bits: Vec<u16> = (0..16).filter(|b| mask & (1 << b) != 0).collect();
        let count = (nats.len() + 1) << bits.len();
        Classes {
            nat_groups: nats,
            bits,
            count,
        }
    }

    /// Nationality group of a nationality.
    pub fn nat_group(&self, c: Country) -> u16 {
        self.nat_groups
            .iter()
            .position(|n| *n == c)
            .map(|i| i as u16 + 1)
            .unwrap_or(0)
    }

    /// The class of a group.
    #[inline]
    pub fn class_of(&self, nat_group: u16, traits: u16) -> u16 {
        let mut packed = 0u16;
        for (i, b) in self.bits.iter().enumerate() {
            packed |= ((traits >> b) & 1) << i;
        }
        (nat_group << self.bits.len()) | packed
    }

    /// The nationality (if a named one) and traits a class stands for.
    fn describe(&self, class: usize) -> (Option<Country>, u16) {
        let k = self.bits.len();
        let g = class >> k;
        let mut traits = 0u16;
        for (i, b) in self.bits.iter().enumerate() {
            traits |= (((class >> i) & 1) as u16) << b;
        }
        (g.checked_sub(1).map(|i| self.nat_groups[i]), traits)
    }
}

/// The trait-word bit of a trait (papers by documents policy order).
pub fn trait_bit(t: Trait) -> u16 {
    match t {
        Trait::Papers(k) => 1 << (PAPERS_BIT0 + k.min(MAX_PAPERS as u16 - 1)),
        other => other.bit(),
    }
}

/// Exemptions a kind carries by law: the STCA exempts unaccompanied minors
/// and people with relatives in the country of refuge.
fn built_in_exemptions(kind: &PolicyKind) -> Vec<Trait> {
    match kind {
        PolicyKind::Stca { border, .. } => {
            let mut v = vec![Trait::Minor];
            if let Some(d) = Dest::of(border.north) {
                v.push(Trait::Relatives(d));
            }
            v
        }
        _ => Vec::new(),
    }
}

/// Whether policy `p` applies to a group of nationality `nat` (None: a
/// nationality no policy names) with `traits`.
fn applies(p: &Policy, nat: Option<Country>, traits: u16) -> bool {
    if let Some(ns) = &p.nationalities {
        match nat {
            Some(n) if ns.contains(&n) => {}
            _ => return false,
        }
    }
    let exempt = p.exempt.iter().copied().chain(built_in_exemptions(&p.kind));
    if exempt.into_iter().any(|t| traits & trait_bit(t) != 0) {
        return false;
    }
    if let PolicyKind::Visa { country, exempt_visas } = &p.kind {
        let holds = |c: &Country| {
            Dest::of(*c)
                .map(|d| traits & Trait::Visa(d).bit() != 0)
                .unwrap_or(false)
        };
        if holds(country) || exempt_visas.iter().any(holds) {
            return false;
        }
    }
    true
}

/// A policy slot in per-place rules: the index of the policy, if one acts.
pub type Slot = Option<u16>;

/// The rules acting at one place in one epoch (policy indices; whether one
/// applies to a group is [`PolicyBook::applies`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct PlaceRules {
    /// A checkpoint.
    pub checkpoint: Slot,
    /// The STCA, where it returns claimants (official ports of its border;
    /// with the whole-border scope also the crossings between ports).
    pub stca: Slot,
    /// Title 42 (crossings of its border).
    pub title42: Slot,
    /// Detection of people crossing between ports.
    pub enforcement: Slot,
    /// A port taking claims by appointment.
    pub appt_port: Slot,
    /// A place where appointments are requested.
    pub appt_from: Slot,
    /// A place issuing papers.
    pub documents: Slot,
    /// A place where a lawful pathway is applied for.
    pub pathway: Slot,
}

/// What one epoch allows.
#[derive(Clone, Debug)]
pub struct Epoch {
    /// Rules by place.
    pub rules: Vec<PlaceRules>,
    /// A whole-border STCA: claims inland in its north country within
    /// `claim_within_days` of crossing are returned.
    pub stca_inland: Slot,
}

/// Every table the engine reads about policies.
#[derive(Clone, Debug)]
pub struct PolicyBook {
    /// The classes.
    pub classes: Classes,
    /// Epochs in day order.
    pub epochs: Vec<Epoch>,
    /// Epoch of each day.
    pub epoch_of_day: Vec<u16>,
    /// Claim points, in place order: target slot t is `targets[t]`.
    pub targets: Vec<PlaceIx>,
    /// Target slot of each place (`u32::MAX`: not a claim point).
    pub slot_of: Vec<u32>,
    /// Distinct routing tables.
    pub routings: Vec<Routing>,
    /// `[((epoch * classes + class) * 2 + informed)]` → index into `routings`.
    routing_of: Vec<u32>,
    /// `[((epoch * classes + class) * 2 + informed) * targets + t]`: the
    /// chance of being let in to claim at target t (informed: true; naive:
    /// as believed without knowing the eligibility rules).
    openness: Vec<f32>,
    /// `[policy * classes + class]`.
    applies: Vec<bool>,
    /// `[epoch * cohorts + cohort]`: daily departure chance after `pressure`.
    depart_share: Vec<f64>,
    /// Index of each documents policy among documents policies (papers bit).
    pub papers_of: Vec<u16>,
    cohorts: usize,
}

impl PolicyBook {
    /// Builds every table for the scenario's policies.
    pub fn new(sc: &Scenario, graph: &Graph) -> PolicyBook {
        let classes = Classes::new(sc);
        let days = sc.calendar.days;
        let mut cuts: Vec<u32> = vec![0];
        for p in &sc.policies {
            cuts.push(p.from);
            if p.until + 1 < days {
                cuts.push(p.until + 1);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let targets = sc.claim_points();
        let mut slot_of = vec![u32::MAX; sc.places.len()];
        for (t, &p) in targets.iter().enumerate() {
            slot_of[p as usize] = t as u32;
        }
        let mut papers_of = vec![u16::MAX; sc.policies.len()];
        let mut k = 0u16;
        for (i, p) in sc.policies.iter().enumerate() {
            if matches!(p.kind, PolicyKind::Documents { .. }) {
                papers_of[i] = k;
                k += 1;
            }
        }
        let mut applies_t = Vec::with_capacity(sc.policies.len() * classes.count);
        for p in &sc.policies {
            for c in 0..classes.count {
                let (nat, traits) = classes.describe(c);
                applies_t.push(applies(p, nat, traits));
            }
        }
        let n_places = sc.places.len();
        let mut epoch_of_day = vec![0u16; days as usize];
        let mut epochs = Vec::with_capacity(cuts.len());
        let mut routings: Vec<Routing> = Vec::new();
        let mut routing_key: HashMap<(Vec<bool>, Vec<bool>), u32> = HashMap::new();
        let mut routing_of = Vec::new();
        let mut openness = Vec::new();
        let mut depart_share = Vec::new();
        for (e, &from) in cuts.iter().enumerate() {
            let until = cuts.get(e + 1).copied().unwrap_or(days);
            for d in from..until {
                epoch_of_day[d as usize] = e as u16;
            }
            let active: Vec<(usize, &Policy)> =
                sc.policies.iter().enumerate().filter(|(_, p)| p.active(from)).collect();
            let (rules, stca_inland) = place_rules(sc, &active);
            for c in &sc.cohorts {
                let mut share = match c.departure {
                    crate::scenario::Departure::Share(s) => s,
                    _ => 0.0,
                };
                for (_, p) in &active {
                    if let PolicyKind::Pressure { country, factor } = p.kind {
                        if c.resident_of == Some(country) {
                            share *= factor;
                        }
                    }
                }
                depart_share.push(share.clamp(0.0, 1.0));
            }
            for class in 0..classes.count {
                let ap = |i: usize| applies_t[i * classes.count + class];
                // Physical limits, known to everyone: closures and visas.
                let mut leg_open = vec![true; sc.legs.len()];
                let mut place_open = vec![true; n_places];
                for &(i, p) in &active {
                    if !ap(i) {
                        continue;
                    }
                    match &p.kind {
                        PolicyKind::Closure { places, legs } => {
                            for &pl in places {
                                place_open[pl as usize] = false;
                            }
                            for &l in legs {
                                leg_open[l as usize] = false;
                            }
                        }
                        PolicyKind::Visa { country, .. } => {
                            for (li, l) in sc.legs.iter().enumerate() {
                                if l.mode == Mode::Air && sc.places[l.to as usize].country == *country {
                                    leg_open[li] = false;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                // The informed also know that an STCA port returns them: it
                // is no way through.
                let mut informed_places = place_open.clone();
                for (p, r) in rules.iter().enumerate() {
                    if let Some(s) = r.stca {
                        if ap(s as usize) && sc.places[p].official {
                            informed_places[p] = false;
                        }
                    }
                }
                // Under a whole-border STCA, a claim inland needs a crossing
                // between ports unseen: its chance is the best evasion chance
                // over the border's crossings between ports.
                let inland = stca_inland
                    .filter(|&p| ap(p as usize))
                    .and_then(|p| match sc.policies[p as usize].kind {
                        PolicyKind::Stca { border, .. } => {
                            let evade = sc
                                .places
                                .iter()
                                .enumerate()
                                .filter(|(_, pl)| {
                                    pl.kind == PlaceKind::Crossing && pl.border == Some(border) && !pl.official
                                })
                                .map(|(pi, _)| match rules[pi].enforcement.filter(|&e| ap(e as usize)) {
                                    Some(e) => match sc.policies[e as usize].kind {
                                        PolicyKind::Enforcement { detection_rate, .. } => 1.0 - detection_rate,
                                        _ => 1.0,
                                    },
                                    None => 1.0,
                                })
                                .fold(0.0f64, f64::max);
                            Some((border.north, evade))
                        }
                        _ => None,
                    });
                for informed in [false, true] {
                    let places_v = if informed { &informed_places } else { &place_open };
                    for &t in &targets {
                        let tu = t as usize;
                        let mut o = if place_open[tu] { 1.0f32 } else { 0.0 };
                        if informed {
                            let r = &rules[tu];
                            if r.stca.map(|s| ap(s as usize)).unwrap_or(false) {
                                o = 0.0;
                            }
                            if let Some((north, evade)) = inland {
                                let pl = &sc.places[tu];
                                if pl.country == north && pl.kind != PlaceKind::Crossing {
                                    o *= evade as f32;
                                }
                            }
                            if let Some(s) = r.title42 {
                                if ap(s as usize) {
                                    if let PolicyKind::Title42 { expulsion_rate, .. } = sc.policies[s as usize].kind {
                                        o *= (1.0 - expulsion_rate) as f32;
                                    }
                                }
                            }
                        }
                        openness.push(o);
                    }
                    let key = (leg_open.clone(), places_v.clone());
                    let r = match routing_key.get(&key) {
                        Some(&r) => r,
                        None => {
                            let r = routings.len() as u32;
                            routings.push(Routing::build(graph, &sc.legs, &targets, &key.0, &key.1, &sc.behaviour));
                            routing_key.insert(key, r);
                            r
                        }
                    };
                    routing_of.push(r);
                }
            }
            epochs.push(Epoch { rules, stca_inland });
        }
        PolicyBook {
            classes,
            epochs,
            epoch_of_day,
            targets,
            slot_of,
            routings,
            routing_of,
            openness,
            applies: applies_t,
            depart_share,
            papers_of,
            cohorts: sc.cohorts.len(),
        }
    }

    /// Epoch of `day` (days before the start count as the first epoch).
    #[inline(always)]
    pub fn epoch(&self, day: i64) -> u16 {
        let d = day.clamp(0, self.epoch_of_day.len() as i64 - 1);
        self.epoch_of_day.get(d as usize).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn view(&self, epoch: u16, class: u16, informed: bool) -> usize {
        (epoch as usize * self.classes.count + class as usize) * 2 + informed as usize
    }

    /// The routing of a class in an epoch, as the group knows it.
    #[inline(always)]
    pub fn routing(&self, epoch: u16, class: u16, informed: bool) -> &Routing {
        &self.routings[self.routing_of[self.view(epoch, class, informed)] as usize]
    }

    /// Openness of target slot `t` for a class in an epoch, as the group
    /// knows it (informed: the true chance).
    #[inline(always)]
    pub fn openness(&self, epoch: u16, class: u16, informed: bool, t: usize) -> f32 {
        self.openness[self.view(epoch, class, informed) * self.targets.len() + t]
    }

    /// Whether policy `p` applies to `class`.
    #[inline(always)]
    pub fn applies(&self, p: u16, class: u16) -> bool {
        self.applies[p as usize * self.classes.count + class as usize]
    }

    /// The rules at place `p` in an epoch.
    #[inline(always)]
    pub fn rules(&self, epoch: u16, p: PlaceIx) -> &PlaceRules {
        &self.epochs[epoch as usize].rules[p as usize]
    }

    /// The rule in `slot` if it applies to `class`.
    #[inline(always)]
    pub fn acting(&self, slot: Slot, class: u16) -> Option<u16> {
        slot.filter(|&s| self.applies(s, class))
    }

    /// Daily departure chance of a cohort in an epoch (after `pressure`).
    #[inline(always)]
    pub fn depart_share(&self, epoch: u16, cohort: u16) -> f64 {
        self.depart_share[epoch as usize * self.cohorts + cohort as usize]
    }

    /// Where a checkpoint sends people, and its rate, if one acts on `class` at `p`.
    pub fn checkpoint(&self, sc: &Scenario, epoch: u16, class: u16, p: PlaceIx) -> Option<(f64, SendTo)> {
        let s = self.acting(self.rules(epoch, p).checkpoint, class)?;
        match sc.policies[s as usize].kind {
            PolicyKind::Checkpoint {
                interception_rate,
                send_to,
                ..
            } => Some((interception_rate, send_to)),
            _ => None,
        }
    }
}

/// The rules at each place, from the active policies (later policies in the
/// file win where two of a kind act at one place).
fn place_rules(sc: &Scenario, active: &[(usize, &Policy)]) -> (Vec<PlaceRules>, Slot) {
    let mut rules = vec![PlaceRules::default(); sc.places.len()];
    let mut inland = None;
    for &(i, p) in active {
        let s = Some(i as u16);
        match &p.kind {
            PolicyKind::Checkpoint { place, .. } => rules[*place as usize].checkpoint = s,
            PolicyKind::Stca { border, scope, .. } => {
                for (pi, pl) in sc.places.iter().enumerate() {
                    if pl.kind == PlaceKind::Crossing
                        && pl.border == Some(*border)
                        && (pl.official || *scope == StcaScope::WholeBorder)
                    {
                        rules[pi].stca = s;
                    }
                }
                if *scope == StcaScope::WholeBorder {
                    inland = s;
                }
            }
            PolicyKind::Title42 { border, .. } => {
                for (pi, pl) in sc.places.iter().enumerate() {
                    if pl.kind == PlaceKind::Crossing && pl.border == Some(*border) {
                        rules[pi].title42 = s;
                    }
                }
            }
            PolicyKind::Enforcement { places, .. } => {
                for &pl in places {
                    rules[pl as usize].enforcement = s;
                }
            }
            PolicyKind::Appointments {
                ports, request_from, ..
            } => {
                for &pl in ports {
                    rules[pl as usize].appt_port = s;
                }
                for &pl in request_from {
                    rules[pl as usize].appt_from = s;
                }
            }
            PolicyKind::Documents { place, .. } => rules[*place as usize].documents = s,
            PolicyKind::Pathway { apply_at, .. } => {
                for &pl in apply_at {
                    rules[pl as usize].pathway = s;
                }
            }
            PolicyKind::Closure { .. } | PolicyKind::Visa { .. } | PolicyKind::Pressure { .. } => {}
        }
    }
    (rules, inland)
}
