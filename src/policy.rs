//! Policies in force: epochs, policy classes, and what each (epoch, class)
//! pair may do — open legs and places, the true openness of each claim
//! point, checkpoints — with the routing tables that follow from them.
//!
//! Owns the translation of dated policies into per-epoch tables. Tables are
//! built once per epoch (a policy window opening or closing), never in the
//! daily loop. Must not move agents.

use crate::graph::{Graph, Routing};
use crate::scenario::{Country, Dest, PlaceIx, Policy, PolicyKind, Scenario, SendTo, Trait};
use std::collections::HashMap;

/// Bit of the first papers trait (papers of documents policy k: bit 8 + k).
pub const PAPERS_BIT0: u16 = 8;

/// Policy classes: the small integer that combines every trait any policy
/// in the scenario looks at, and the nationality where a policy names
/// nationalities.
#[derive(Clone, Debug)]
pub struct Classes {
    /// Nationality groups: nationalities that some policy names, each its
    /// own group, and the rest together in group 0.
    nat_groups: Vec<Country>,
    /// Trait bits that matter, in order.
    bits: Vec<u16>,
    /// Number of classes.
    pub count: usize,
}

impl Classes {
    fn new(sc: &Scenario) -> Classes {
        let mut mask = 0u16;
        let mut nats: Vec<Country> = Vec::new();
        let docs = documents(sc);
        for p in &sc.policies {
            for t in &p.exempt {
                mask |= trait_bit(*t, &docs);
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

fn documents(sc: &Scenario) -> Vec<usize> {
    sc.policies
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.kind, PolicyKind::Documents { .. }))
        .map(|(i, _)| i)
        .collect()
}

/// The trait-word bit of a trait (papers: by documents policy order).
pub fn trait_bit(t: Trait, _docs: &[usize]) -> u16 {
    match t {
        Trait::Papers(k) => 1 << (PAPERS_BIT0 + k.min(7)),
        other => other.bit(),
    }
}

/// Whether policy `p` applies to a group of nationality `nat` (None: a
/// nationality no policy names) with `traits`.
fn applies(p: &Policy, nat: Option<Country>, traits: u16, docs: &[usize]) -> bool {
    if let Some(ns) = &p.nationalities {
        match nat {
            Some(n) if ns.contains(&n) => {}
            _ => return false,
        }
    }
    !p.exempt.iter().any(|t| traits & trait_bit(*t, docs) != 0)
}

/// A checkpoint in force at a place.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint {
    /// Chance of interception per passage.
    pub rate: f32,
    /// Where the intercepted go.
    pub send_to: SendTo,
    /// Index of the policy (for the class test).
    pub policy: u16,
}

/// What one epoch allows.
#[derive(Clone, Debug)]
pub struct Epoch {
    /// First day.
    pub from: u32,
    /// Checkpoints by place (`u32::MAX`: none), indexing `checkpoints`.
    checkpoint_at: Vec<u32>,
    checkpoints: Vec<Checkpoint>,
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
    /// `[epoch * classes + class]` → index into `routings`.
    routing_of: Vec<u32>,
    /// `[(epoch * classes + class) * targets + t]`: true chance of being let
    /// in to claim at target t.
    openness: Vec<f32>,
    /// `[(epoch * classes + class) * places + p]`: whether checkpoint
    /// policy applies (stored per checkpoint place for the class).
    checkpoint_applies: Vec<bool>,
    places: usize,
}

impl PolicyBook {
    /// Builds every table for the scenario's policies.
    pub fn new(sc: &Scenario, graph: &Graph) -> PolicyBook {
        let classes = Classes::new(sc);
        let docs = documents(sc);
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
        let n_places = sc.places.len();
        let mut epoch_of_day = vec![0u16; days as usize];
        let mut epochs = Vec::with_capacity(cuts.len());
        let mut routings: Vec<Routing> = Vec::new();
        let mut routing_key: HashMap<(Vec<bool>, Vec<bool>), u32> = HashMap::new();
        let mut routing_of = Vec::new();
        let mut openness = Vec::new();
        let mut checkpoint_applies = Vec::new();
        for (e, &from) in cuts.iter().enumerate() {
            let until = cuts.get(e + 1).copied().unwrap_or(days);
            for d in from..until {
                epoch_of_day[d as usize] = e as u16;
            }
            let active: Vec<(usize, &Policy)> =
                sc.policies.iter().enumerate().filter(|(_, p)| p.active(from)).collect();
            let mut checkpoint_at = vec![u32::MAX; n_places];
            let mut checkpoints = Vec::new();
            for &(i, p) in &active {
                if let PolicyKind::Checkpoint {
                    place,
                    interception_rate,
                    send_to,
                } = p.kind
                {
                    // Two checkpoint policies at one place: the later one in
                    // the file wins, as a later rule replaces an earlier.
                    checkpoint_at[place as usize] = checkpoints.len() as u32;
                    checkpoints.push(Checkpoint {
                        rate: interception_rate as f32,
                        send_to,
                        policy: i as u16,
                    });
                }
            }
            for class in 0..classes.count {
                let (nat, traits) = classes.describe(class);
                let mut leg_open = vec![true; sc.legs.len()];
                let mut place_open = vec![true; n_places];
                for &(_, p) in &active {
                    if !applies(p, nat, traits, &docs) {
                        continue;
                    }
                    if let PolicyKind::Closure { places, legs } = &p.kind {
                        for &pl in places {
                            place_open[pl as usize] = false;
                        }
                        for &l in legs {
                            leg_open[l as usize] = false;
                        }
                    }
                }
                for &t in &targets {
                    openness.push(if place_open[t as usize] { 1.0 } else { 0.0 });
                }
                for &cp in &checkpoint_at {
                    checkpoint_applies.push(
                        cp != u32::MAX
                            && applies(
                                &sc.policies[checkpoints[cp as usize].policy as usize],
                                nat,
                                traits,
                                &docs,
                            ),
                    );
                }
                let key = (leg_open, place_open);
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
            epochs.push(Epoch {
                from,
                checkpoint_at,
                checkpoints,
            });
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
            checkpoint_applies,
            places: n_places,
        }
    }

    /// Epoch of `day` (days before the start count as the first epoch).
    #[inline(always)]
    pub fn epoch(&self, day: i64) -> u16 {
        let d = day.clamp(0, self.epoch_of_day.len() as i64 - 1);
        self.epoch_of_day.get(d as usize).copied().unwrap_or(0)
    }

    /// The routing of a class in an epoch.
    #[inline(always)]
    pub fn routing(&self, epoch: u16, class: u16) -> &Routing {
        &self.routings[self.routing_of[epoch as usize * self.classes.count + class as usize] as usize]
    }

    /// True openness of target slot `t` for a class in an epoch.
    #[inline(always)]
    pub fn openness(&self, epoch: u16, class: u16, t: usize) -> f32 {
        self.openness[(epoch as usize * self.classes.count + class as usize) * self.targets.len() + t]
    }

    /// The checkpoint acting on a class at place `p` in an epoch.
    #[inline(always)]
    pub fn checkpoint(&self, epoch: u16, class: u16, p: PlaceIx) -> Option<&Checkpoint> {
        let i = (epoch as usize * self.classes.count + class as usize) * self.places + p as usize;
        if !self.checkpoint_applies[i] {
            return None;
        }
        let e = &self.epochs[epoch as usize];
        e.checkpoints.get(e.checkpoint_at[p as usize] as usize)
    }

    /// Whether any checkpoint is in force at `p` in an epoch (for any class).
    pub fn has_checkpoint(&self, epoch: u16, p: PlaceIx) -> bool {
        self.epochs[epoch as usize].checkpoint_at[p as usize] != u32::MAX
    }
}
