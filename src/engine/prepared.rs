//! What a run needs that depends on the scenario alone: the policy book
//! (epochs, classes, rules, routing and reach tables; the graph it was
//! built from is not kept), the decision tables and departure factors, and
//! the per-place and per-cohort facts of the daily step. Built once by
//! [`Prepared::new`] and shared, read-only, by every run of the scenario
//! whatever its seed: replicates on one rayon pool share one `&Prepared`.
//! (The decision's rows of targets are filled on first use, once, and
//! depend on the scenario alone: see `behaviour::ChoiceTables`.)
//!
//! Owns the seed-independent tables. Must not hold anything a seed, a day
//! or a process changes (keys, agents, counts are the engine's).

use super::admission::Buckets;
use super::tallies::Extras;
use crate::behaviour::ChoiceTables;
use crate::graph::Graph;
use crate::policy::PolicyBook;
use crate::scenario::{NoTarget, PlaceIx, PlaceKind, Scenario, NONE};

/// The tables of a scenario that every run of it shares.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub(super) book: PolicyBook,
    pub(super) choice: ChoiceTables,
    /// Capacity per place (`u64::MAX`: none).
    pub(super) capacity: Vec<u64>,
    /// Daily claims per place (`u64::MAX`: none).
    pub(super) claims_per_day: Vec<u64>,
    /// Where people sent back from a crossing go (`NONE`: nowhere set).
    pub(super) near_side: Vec<u32>,
    /// Whether each place is the near side of some crossing (where groups
    /// may learn the rules, `learn_at_door`).
    pub(super) at_door: Vec<bool>,
    pub(super) origin: Vec<PlaceIx>,
    /// Per cohort: days a visitor waits before claiming inland.
    pub(super) claim_delay: Vec<u32>,
    pub(super) learn_at_door: f64,
    /// Nationality group of each cohort (for recomputing classes).
    pub(super) nat: Vec<u16>,
    pub(super) buckets: Buckets,
    pub(super) replan_days: u16,
    pub(super) no_target: NoTarget,
    pub(super) harm_outcome: bool,
    /// Per cohort: its caravan (`u16::MAX`: none).
    pub(super) caravan_of: Vec<u16>,
    /// A family's walking speed as a share of a lone walker's.
    pub(super) family_pace: f32,
    /// What the day's accumulator counts beyond places and states.
    pub(super) extras: Extras,
    /// Per caravan: the people of its cohorts (who all set out with it).
    pub(super) caravan_people: Vec<u64>,
    /// Daily hazard of learning a claim point per recent user of it.
    pub(super) learn_rate: f64,
    /// Daily hazard of hearing of a cohort's returns per recent return.
    pub(super) heard_rate: f64,
    /// Places, legs, cohorts and policies of the scenario it was built
    /// from (a cheap check that an engine gets the right one).
    shape: [usize; 4],
}

impl Prepared {
    /// Builds every table of `sc` that does not depend on a seed.
    pub fn new(sc: &Scenario) -> Prepared {
        let graph = Graph::new(sc);
        let book = PolicyBook::new(sc, &graph);
        let choice = ChoiceTables::new(sc, &book);
        let nat = sc
            .cohorts
            .iter()
            .map(|c| book.classes.nat_group(c.nationality))
            .collect();
        let b = &sc.behaviour;
        let mut at_door = vec![false; sc.places.len()];
        for p in &sc.places {
            if let (PlaceKind::Crossing, Some(n)) = (p.kind, p.near_side) {
                at_door[n as usize] = true;
            }
        }
        let claims_per_day = sc
            .places
            .iter()
            .map(|p| match (p.claims, p.claims_per_day) {
                (true, Some(n)) => n,
                _ => u64::MAX,
            })
            .collect();
        let extras = Extras {
            caravans: sc.caravans.len(),
            policies: if book.counted { sc.policies.len() } else { 0 },
        };
        let caravan_people = (0..sc.caravans.len())
            .map(|k| {
                sc.cohorts
                    .iter()
                    .filter(|c| c.caravan == Some(k as u16))
                    .map(|c| c.people)
                    .sum()
            })
            .collect();
        Prepared {
            capacity: sc.places.iter().map(|p| p.capacity.unwrap_or(u64::MAX)).collect(),
            claims_per_day,
            near_side: sc.places.iter().map(|p| p.near_side.unwrap_or(NONE)).collect(),
            at_door,
            origin: sc.cohorts.iter().map(|c| c.origin).collect(),
            claim_delay: sc.cohorts.iter().map(|c| c.claim_delay_days).collect(),
            learn_at_door: b.learn_at_door,
            nat,
            buckets: Buckets::new(sc, &book.queues),
            replan_days: b.replan_days.min(u16::MAX as u32) as u16,
            no_target: b.no_target,
            harm_outcome: b.harm_outcome,
            caravan_of: sc.cohorts.iter().map(|c| c.caravan.unwrap_or(u16::MAX)).collect(),
            family_pace: b.family_pace as f32,
            extras,
            caravan_people,
            learn_rate: hazard_rate(b.learn_per_user),
            heard_rate: hazard_rate(b.learn_per_return),
            shape: shape(sc),
            book,
            choice,
        }
    }

    /// The policy book (epochs, classes, rules, routing tables).
    pub fn book(&self) -> &PolicyBook {
        &self.book
    }

    /// Whether these tables were built from a scenario of `sc`'s shape
    /// (its places, legs, cohorts and policies).
    pub(super) fn fits(&self, sc: &Scenario) -> bool {
        self.shape == shape(sc)
    }
}

fn shape(sc: &Scenario) -> [usize; 4] {
    [sc.places.len(), sc.legs.len(), sc.cohorts.len(), sc.policies.len()]
}

/// The daily hazard per recent user (or return) of a daily chance `p` of
/// learning from each: −ln(1 − p), kept finite for p = 1.
fn hazard_rate(p: f64) -> f64 {
    -(1.0 - p.min(1.0 - 1e-12)).ln()
}
