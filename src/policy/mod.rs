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

mod rules;

pub use rules::{
    AppointmentsRule, CheckpointRule, DocumentsRule, EnforcementRule, OfferRule, PathwayRule, PlaceRules, Queue,
    RemovalRule, Rule, SendsBack, StcaRule, Title42Rule,
};

use crate::graph::{Graph, Routing};
use crate::scenario::{
    Bar, Country, Dest, Mode, PlaceIx, PlaceKind, Policy, PolicyKind, Scenario, SendBack, SendTo, Trait, NONE,
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

    /// Number of trait bits in a class (classes of one nationality group
    /// are `1 << trait_bits()` in a row).
    pub fn trait_bits(&self) -> usize {
        self.bits.len()
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

/// A checkpoint acting on a group (see [`PolicyBook::checkpoint`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Checkpoint {
    /// The policy.
    pub policy: u16,
    /// Chance of interception for the group.
    pub rate: f64,
    /// Where the intercepted are sent.
    pub send_to: SendTo,
    /// Whether the group holds papers that exempt it, which the checkpoint
    /// does not always honour.
    pub papers: bool,
    /// The trait bits of those papers (taken from a holder whose papers
    /// are not honoured).
    pub exempting: u16,
}

/// The trait bits of the papers that exempt from a policy (`exempt =
/// ["papers:…"]`), if it is a checkpoint that does not always honour them.
pub(super) fn papers_mask(p: &Policy) -> u16 {
    match p.kind {
        PolicyKind::Checkpoint { honour_rate, .. } if honour_rate < 1.0 => p
            .exempt
            .iter()
            .filter(|t| matches!(t, Trait::Papers(_)))
            .fold(0, |m, t| m | trait_bit(*t)),
        _ => 0,
    }
}

/// What sending a group back from a door does to it: where it goes and
/// whether it is barred from the door's country.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Return {
    /// Where it is sent.
    pub send: SendBack,
    /// What it does to later claims.
    pub bar: Bar,
}

/// The share of a year-or-longer bar that a bar weighs (a bar of a year or
/// more, or for good, weighs 1).
pub fn bar_weight(bar: Bar) -> f64 {
    match bar {
        Bar::None => 0.0,
        Bar::Days(d) => (d as f64 / 365.0).min(1.0),
        Bar::Forever => 1.0,
    }
}

/// Chances of getting through the crossings on the way to each target, and
/// the first crossing where a group can be sent back, for one (epoch,
/// class) in the informed view: `[t * places + p]`.
#[derive(Clone, Debug)]
struct Reach {
    pass: Vec<f32>,
    door: Vec<u32>,
}

/// What one epoch allows.
#[derive(Clone, Debug)]
pub struct Epoch {
    /// Rules by place.
    pub rules: Vec<PlaceRules>,
    /// A whole-border STCA: claims inland in its north country within
    /// `claim_within_days` of crossing are returned.
    pub stca_inland: Option<StcaRule>,
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
    /// `[policy * classes + class]`: the policy (a checkpoint) acts on the
    /// class only because its papers may not be honoured.
    dishonours: Vec<bool>,
    /// `[epoch * cohorts + cohort]`: daily departure chance after `pressure`.
    depart_share: Vec<f64>,
    /// Index of each documents policy among documents policies (papers bit).
    pub papers_of: Vec<u16>,
    cohorts: usize,
    places: usize,
    /// Distinct reach tables (informed view).
    reaches: Vec<Reach>,
    /// `[epoch * classes + class]` → index into `reaches` (`u32::MAX`: every
    /// crossing lets the class through).
    reach_of: Vec<u32>,
    /// The queues of policies that grant places by the day, in policy order.
    pub queues: Vec<Queue>,
    /// Whether the people some policy meets are counted (offers, and
    /// checkpoints that do not always honour papers).
    pub counted: bool,
    /// Per leg: whether it enters a crossing from outside the crossing's
    /// country (only such travellers meet the crossing's rules).
    pub into_country: Vec<bool>,
    /// Distinct sets of physically usable legs (open, towards an open place).
    usable: Vec<Vec<bool>>,
    /// `[epoch * classes + class]` → index into `usable`.
    usable_of: Vec<u32>,
}

impl PolicyBook {
    /// Builds every table for the scenario's policies.
    pub fn new(sc: &Scenario, graph: &Graph) -> PolicyBook {
        let classes = Classes::new(sc);
        let days = sc.calendar.days;
        let cuts = epoch_cuts(sc);
        let targets = sc.claim_points();
        let mut slot_of = vec![u32::MAX; sc.places.len()];
        for (t, &p) in targets.iter().enumerate() {
            slot_of[p as usize] = t as u32;
        }
        let mut papers_of = vec![u16::MAX; sc.policies.len()];
        let mut k = 0u16;
        for (i, p) in sc.policies.iter().enumerate() {
            if p.kind.issues_papers() {
                papers_of[i] = k;
                k += 1;
            }
        }
        let (applies_t, dishonours) = class_applies(sc, &classes);
        let into_country: Vec<bool> = sc
            .legs
            .iter()
            .map(|l| {
                let to = &sc.places[l.to as usize];
                to.kind == PlaceKind::Crossing && sc.places[l.from as usize].country != to.country
            })
            .collect();
        let mut t = Tables {
            sc,
            graph,
            targets: &targets,
            into_country: &into_country,
            siblings: siblings(sc),
            classes: classes.count,
            applies: &applies_t,
            routings: Vec::new(),
            routing_key: HashMap::new(),
            routing_of: Vec::new(),
            openness: Vec::new(),
            reaches: Vec::new(),
            reach_key: HashMap::new(),
            reach_of: Vec::new(),
            usable: Vec::new(),
            usable_key: HashMap::new(),
            usable_of: Vec::new(),
        };
        let mut epoch_of_day = vec![0u16; days as usize];
        let mut epochs = Vec::with_capacity(cuts.len());
        let mut depart_share = Vec::new();
        for (e, &from) in cuts.iter().enumerate() {
            let until = cuts.get(e + 1).copied().unwrap_or(days);
            for d in from..until {
                epoch_of_day[d as usize] = e as u16;
            }
            let active: Vec<(usize, &Policy)> =
                sc.policies.iter().enumerate().filter(|(_, p)| p.active(from)).collect();
            let (rules, stca_inland) = rules::place_rules(sc, &active, &papers_of);
            depart_share.extend(depart_shares(sc, &active));
            for class in 0..classes.count {
                t.add(&active, &rules, class);
            }
            epochs.push(Epoch { rules, stca_inland });
        }
        let counted = sc.policies.iter().any(|p| match p.kind {
            PolicyKind::Offer { .. } => true,
            PolicyKind::Checkpoint { honour_rate, .. } => honour_rate < 1.0,
            _ => false,
        });
        PolicyBook {
            classes,
            epochs,
            epoch_of_day,
            slot_of,
            routing_of: t.routing_of,
            openness: t.openness,
            reaches: t.reaches,
            reach_of: t.reach_of,
            usable: t.usable,
            usable_of: t.usable_of,
            routings: t.routings,
            targets,
            applies: applies_t,
            dishonours,
            depart_share,
            papers_of,
            cohorts: sc.cohorts.len(),
            places: sc.places.len(),
            queues: rules::queues(sc),
            counted,
            into_country,
        }
    }

    /// Whether a class can physically set out on `leg` in an epoch (the leg
    /// is open to it and leads to an open place): a group plans by the
    /// rules it perceives but moves in the world as it is.
    #[inline(always)]
    pub fn usable(&self, epoch: u16, class: u16, leg: u32) -> bool {
        self.usable[self.usable_of[epoch as usize * self.classes.count + class as usize] as usize][leg as usize]
    }

    /// Epoch of `day` (days before the start count as the first epoch).
    #[inline(always)]
    pub fn epoch(&self, day: i64) -> u16 {
        let d = day.clamp(0, self.epoch_of_day.len() as i64 - 1);
        self.epoch_of_day.get(d as usize).copied().unwrap_or(0)
    }

    /// Index of an (epoch, class, view) in the per-view tables (×
    /// `targets.len()` for a target's entry).
    #[inline(always)]
    pub fn view(&self, epoch: u16, class: u16, informed: bool) -> usize {
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

    /// For a group that knows the rules, at place `p` and aiming for target
    /// slot `t`: the chance of getting through the crossings on its way
    /// (before `t`) and the first crossing where it can be sent back
    /// (`NONE`: none). Groups that do not know the rules see `(1, NONE)`.
    #[inline]
    pub fn reach(&self, epoch: u16, class: u16, informed: bool, t: usize, p: PlaceIx) -> (f32, u32) {
        if !informed {
            return (1.0, NONE);
        }
        match self.reach_of[epoch as usize * self.classes.count + class as usize] {
            u32::MAX => (1.0, NONE),
            r => {
                let r = &self.reaches[r as usize];
                let i = t * self.places + p as usize;
                (r.pass[i], r.door[i])
            }
        }
    }

    /// What failing at `door` does to a group of `class` in an epoch: the
    /// first of the STCA, Title 42 and a removal acting there (the order in
    /// which a crossing applies them), or `None`.
    pub fn return_at(&self, epoch: u16, class: u16, door: PlaceIx) -> Option<Return> {
        let r = self.rules(epoch, door);
        (self.acting(r.stca, class).map(|x| x.ret()))
            .or_else(|| self.acting(r.title42, class).map(|x| x.ret()))
            .or_else(|| self.acting(r.removal, class).map(|x| x.ret()))
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

    /// The rule if it applies to `class`.
    #[inline(always)]
    pub fn acting<R: Rule>(&self, rule: Option<R>, class: u16) -> Option<R> {
        rule.filter(|r| self.applies(r.policy(), class))
    }

    /// Daily departure chance of a cohort in an epoch (after `pressure`).
    #[inline(always)]
    pub fn depart_share(&self, epoch: u16, cohort: u16) -> f64 {
        self.depart_share[epoch as usize * self.cohorts + cohort as usize]
    }

    /// The checkpoint acting on `class` at `p`, if one does: its index,
    /// its rate of interception for the class, where it sends people, and
    /// whether the class is exempt by papers that it does not always honour
    /// (the rate is then the rate × the chance that they are not honoured).
    pub fn checkpoint(&self, epoch: u16, class: u16, p: PlaceIx) -> Option<Checkpoint> {
        let r = self.rules(epoch, p).checkpoint?;
        let s = r.policy;
        if self.applies(s, class) {
            return Some(Checkpoint {
                policy: s,
                rate: r.interception_rate,
                send_to: r.send_to,
                papers: false,
                exempting: r.papers,
            });
        }
        self.dishonours[s as usize * self.classes.count + class as usize].then_some(Checkpoint {
            policy: s,
            rate: r.interception_rate * (1.0 - r.honour_rate),
            send_to: r.send_to,
            papers: true,
            exempting: r.papers,
        })
    }
}

/// The first day of every epoch: a new one whenever a policy window opens
/// or closes. (A policy beginning after the run — a run cut short — never
/// acts.)
pub(crate) fn epoch_cuts(sc: &Scenario) -> Vec<u32> {
    let days = sc.calendar.days;
    let mut cuts: Vec<u32> = vec![0];
    for p in &sc.policies {
        if p.from < days {
            cuts.push(p.from);
        }
        if p.until + 1 < days {
            cuts.push(p.until + 1);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// `[policy * classes + class]`: whether the policy applies to the class,
/// and whether it (a checkpoint that does not always honour papers) acts
/// on a holder exempt only by them, at the rate of papers not honoured.
fn class_applies(sc: &Scenario, classes: &Classes) -> (Vec<bool>, Vec<bool>) {
    let mut applies_t = Vec::with_capacity(sc.policies.len() * classes.count);
    let mut dishonours = Vec::with_capacity(sc.policies.len() * classes.count);
    for p in &sc.policies {
        let papers = papers_mask(p);
        for c in 0..classes.count {
            let (nat, traits) = classes.describe(c);
            let a = applies(p, nat, traits);
            applies_t.push(a);
            dishonours.push(!a && papers & traits != 0 && applies(p, nat, traits & !papers));
        }
    }
    (applies_t, dishonours)
}

/// A crossing between ports and the official ports of its border with the
/// same near side: nobody who can use the port crosses beside it.
fn siblings(sc: &Scenario) -> Vec<(usize, Vec<usize>)> {
    sc.places
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind == PlaceKind::Crossing && !u.official && u.border.is_some())
        .filter_map(|(ui, u)| {
            let ports: Vec<usize> = sc
                .places
                .iter()
                .enumerate()
                .filter(|(_, o)| {
                    o.kind == PlaceKind::Crossing
                        && o.official
                        && o.border == u.border
                        && o.near_side.is_some()
                        && o.near_side == u.near_side
                })
                .map(|(oi, _)| oi)
                .collect();
            (!ports.is_empty()).then_some((ui, ports))
        })
        .collect()
}

/// Each cohort's daily departure chance in an epoch, after `pressure`.
fn depart_shares<'a>(sc: &'a Scenario, active: &'a [(usize, &Policy)]) -> impl Iterator<Item = f64> + 'a {
    sc.cohorts.iter().map(move |c| {
        let mut share = match c.departure {
            crate::scenario::Departure::Share(s) => s,
            _ => 0.0,
        };
        for (_, p) in active {
            if let PolicyKind::Pressure { country, factor } = p.kind {
                if c.resident_of == Some(country) {
                    share *= factor;
                }
            }
        }
        share.clamp(0.0, 1.0)
    })
}

/// The per-(epoch, class) tables while they are built, each kept once
/// (deduplicated by what it is made from).
struct Tables<'a> {
    sc: &'a Scenario,
    graph: &'a Graph,
    targets: &'a [PlaceIx],
    into_country: &'a [bool],
    siblings: Vec<(usize, Vec<usize>)>,
    classes: usize,
    applies: &'a [bool],
    routings: Vec<Routing>,
    routing_key: HashMap<(Vec<bool>, Vec<bool>), u32>,
    routing_of: Vec<u32>,
    openness: Vec<f32>,
    reaches: Vec<Reach>,
    reach_key: HashMap<(u32, Vec<u32>), u32>,
    reach_of: Vec<u32>,
    usable: Vec<Vec<bool>>,
    usable_key: HashMap<Vec<bool>, u32>,
    usable_of: Vec<u32>,
}

impl Tables<'_> {
    /// The tables of one class in the epoch whose policies are `active`.
    fn add(&mut self, active: &[(usize, &Policy)], rules: &[PlaceRules], class: usize) {
        let sc = self.sc;
        let (classes, applies) = (self.classes, self.applies);
        let ap = |i: usize| applies[i * classes + class];
        let (leg_open, place_open) = physical(sc, active, &ap);
        let u: Vec<bool> = sc
            .legs
            .iter()
            .enumerate()
            .map(|(li, l)| leg_open[li] && place_open[l.to as usize])
            .collect();
        let n_usable = self.usable.len() as u32;
        let usable = &mut self.usable;
        self.usable_of
            .push(*self.usable_key.entry(u.clone()).or_insert_with(|| {
                usable.push(u);
                n_usable
            }));
        // The chance of getting through each crossing for a group that
        // knows the rules: met by officers (always at a port; between
        // ports if detected), then returned by the STCA, Title 42 or a
        // removal.
        let pass: Vec<f64> = (0..sc.places.len())
            .map(|pi| {
                let pl = &sc.places[pi];
                if pl.kind != PlaceKind::Crossing {
                    return 1.0;
                }
                pass_at(&rules[pi], pl.official, &ap)
            })
            .collect();
        // The informed also know that a crossing that returns everyone (an
        // STCA port, a removal at rate 1) is no way through.
        let mut informed_places = place_open.clone();
        for (pi, &x) in pass.iter().enumerate() {
            if x <= 0.0 {
                informed_places[pi] = false;
            }
        }
        let route_through = |mut open: Vec<bool>| {
            for (u, ports) in &self.siblings {
                if ports.iter().any(|&o| open[o]) {
                    open[*u] = false;
                }
            }
            open
        };
        let views = [route_through(place_open.clone()), route_through(informed_places)];
        for informed in [false, true] {
            for &t in self.targets {
                let o = openness_at(&rules[t as usize], place_open[t as usize], informed, &ap);
                self.openness.push(o);
            }
            let r = self.routing(&leg_open, &views[informed as usize]);
            self.routing_of.push(r);
            if informed {
                self.add_reach(r, &pass);
            }
        }
    }

    /// The routing over open legs and places, built once.
    fn routing(&mut self, legs: &[bool], places: &[bool]) -> u32 {
        let key = (legs.to_vec(), places.to_vec());
        if let Some(&r) = self.routing_key.get(&key) {
            return r;
        }
        let r = self.routings.len() as u32;
        let sc = self.sc;
        self.routings.push(Routing::build(
            self.graph,
            &sc.legs,
            self.targets,
            &key.0,
            &key.1,
            &sc.behaviour,
        ));
        self.routing_key.insert(key, r);
        r
    }

    /// The reach table of routing `r` with the crossings' pass chances,
    /// built once (none if every crossing lets the class through).
    fn add_reach(&mut self, r: u32, pass: &[f64]) {
        if pass.iter().all(|&x| x >= 1.0) {
            self.reach_of.push(u32::MAX);
            return;
        }
        let passes: Vec<u32> = pass.iter().map(|x| (*x as f32).to_bits()).collect();
        let k = (r, passes);
        let idx = match self.reach_key.get(&k) {
            Some(&i) => i,
            None => {
                let i = self.reaches.len() as u32;
                let n = self.sc.places.len();
                let routing = &self.routings[r as usize];
                self.reaches
                    .push(reach(routing, &self.sc.legs, self.into_country, self.targets, pass, n));
                self.reach_key.insert(k, i);
                i
            }
        };
        self.reach_of.push(idx);
    }
}

/// Physical limits, known to everyone: the legs and places that closures
/// and visas acting on a class leave open.
fn physical(sc: &Scenario, active: &[(usize, &Policy)], ap: &dyn Fn(usize) -> bool) -> (Vec<bool>, Vec<bool>) {
    let mut leg_open = vec![true; sc.legs.len()];
    let mut place_open = vec![true; sc.places.len()];
    for &(i, p) in active {
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
    (leg_open, place_open)
}

/// The openness of a claim point with `rules` for a class to which `ap`
/// says which policies apply: open or closed; for the informed, also a
/// claim at the door itself (a port, a crossing that takes claims) under
/// the rules acting there.
fn openness_at(r: &PlaceRules, open: bool, informed: bool, ap: &dyn Fn(usize) -> bool) -> f32 {
    let mut o = if open { 1.0f32 } else { 0.0 };
    if informed {
        let acts = |p: u16| ap(p as usize);
        if r.stca.map(|s| acts(s.policy)).unwrap_or(false) {
            o = 0.0;
        }
        for rate in [
            r.title42.filter(|x| acts(x.policy)).map(|x| x.rate()),
            r.removal.filter(|x| acts(x.policy)).map(|x| x.rate()),
        ]
        .into_iter()
        .flatten()
        {
            o *= (1.0 - rate) as f32;
        }
    }
    o
}

/// The chance of getting through a crossing with `rules` for a class to
/// which `ap` says which policies apply: 1 − P(met) · P(sent back | met),
/// where a group is met at a port, and between ports if detected.
fn pass_at(rules: &PlaceRules, official: bool, ap: &dyn Fn(usize) -> bool) -> f64 {
    fn acting<R: Rule>(r: Option<R>, ap: &dyn Fn(usize) -> bool) -> Option<R> {
        r.filter(|r| ap(r.policy() as usize))
    }
    let met = if official {
        1.0
    } else {
        acting(rules.enforcement, ap).map(|r| r.detection_rate).unwrap_or(0.0)
    };
    let stay: f64 = [
        acting(rules.stca, ap).map(|r| r.rate()),
        acting(rules.title42, ap).map(|r| r.rate()),
        acting(rules.removal, ap).map(|r| r.rate()),
    ]
    .into_iter()
    .flatten()
    .map(|rate| 1.0 - rate)
    .product();
    1.0 - met * (1.0 - stay)
}

/// The reach table of one routing: for every target and place, the product
/// of the pass chances of the crossings entered (from outside their
/// country) on the next-hop path, the target itself excluded, and the first
/// of them where a group can be sent back.
fn reach(
    routing: &Routing,
    legs: &[crate::scenario::Leg],
    into: &[bool],
    targets: &[PlaceIx],
    pass: &[f64],
    n: usize,
) -> Reach {
    let mut out = Reach {
        pass: vec![1.0; targets.len() * n],
        door: vec![NONE; targets.len() * n],
    };
    let mut chain: Vec<usize> = Vec::new();
    for (t, &tp) in targets.iter().enumerate() {
        let mut done = vec![false; n];
        done[tp as usize] = true;
        let base = t * n;
        for start in 0..n {
            // Walk the next hops to a place already done, then fill the
            // walk back from there.
            let mut p = start;
            chain.clear();
            while !done[p] {
                chain.push(p);
                let l = routing.next(t, p as PlaceIx);
                if l == NONE {
                    break;
                }
                p = legs[l as usize].to as usize;
            }
            for &q in chain.iter().rev() {
                done[q] = true;
                let l = routing.next(t, q as PlaceIx);
                if l == NONE {
                    continue;
                }
                let to = legs[l as usize].to as usize;
                let x = if to != tp as usize && into[l as usize] {
                    pass[to]
                } else {
                    1.0
                };
                out.pass[base + q] = (x * out.pass[base + to] as f64) as f32;
                out.door[base + q] = if x < 1.0 { to as u32 } else { out.door[base + to] };
            }
        }
    }
    out
}
