//! The standing counts carried from one day to the next: people waiting at
//! each place (and per cohort), on their way to each place, and walking in
//! each caravan, at the end of a day, for this process's agents.
//!
//! A day starts from them and counts only the groups that act: each one is
//! taken out of the counts as it stood and put back as it ends the day. A
//! group in the middle of a leg, at home before its day or out of the graph
//! then costs no count at all. The sums are of integers, so the counts are
//! exactly those of a census of every group, whatever the chunks.
//!
//! Owns the standing counts and how they carry over. Must not count a
//! day's flows (arrivals, claims, events, requests: `tallies`) nor the
//! people per state, which the step recounts from the state column every
//! day so that the conservation check keeps reading the whole column.

use super::tallies::{Acc, Col};
use super::world::World;
use super::CHUNK;
use crate::agents::{Agents, State};
use rayon::prelude::*;

/// This process's standing counts at the end of a day.
#[derive(Debug, PartialEq)]
pub(super) struct Stock {
    /// Per place, people waiting there.
    present: Vec<u64>,
    /// `[cohort * places + place]`, people waiting there (with `--by-cohort`).
    by_cohort: Vec<u64>,
    /// Per place, people on a leg to it.
    incoming: Vec<u64>,
    /// Per caravan: groups, people and families walking in it.
    caravan: Vec<[u64; 3]>,
    /// `[caravan * places + place]`: people of the caravan at each place.
    caravan_at: Vec<u64>,
}

impl Stock {
    /// The standing counts of a day's accumulator that has counted every
    /// group as it ends the day.
    pub(super) fn of(acc: &Acc) -> Stock {
        let present = |rows: &[[u64; super::N_COLS]]| rows.iter().map(|c| c[Col::Present as usize]).collect();
        Stock {
            present: present(&acc.cols),
            by_cohort: present(&acc.by_cohort),
            incoming: acc.incoming.clone(),
            caravan: acc.caravan.clone(),
            caravan_at: acc.caravan_at.clone(),
        }
    }

    /// A census of every group of `agents` (ids from `id_base`): the
    /// counts a day would end with if no group acted. Used on the first
    /// day and after the columns were replaced.
    pub(super) fn count(w: &World, agents: &Agents, id_base: u32, new_acc: &(dyn Fn() -> Acc + Sync)) -> Stock {
        let n = agents.len();
        let acc = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .fold(new_acc, |mut acc, c| {
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    if !State::from_u8(agents.state[i]).absorbing() {
                        let a = agents.load(i, id_base + i as u32);
                        acc.census(&a, w.legs, &w.caravan_of);
                    }
                }
                acc
            })
            .reduce_with(Acc::merge)
            .unwrap_or_else(new_acc);
        Stock::of(&acc)
    }

    /// Brings a day's accumulator to the counts it would hold had every
    /// group been counted: it holds the groups that acted as they end the
    /// day; `gone` holds those same groups as they started it (and so are
    /// counted in `self`).
    pub(super) fn settle(&self, acc: &mut Acc, gone: &Acc) {
        let p = Col::Present as usize;
        for (rows, (old, out)) in [
            (&mut acc.cols, (&self.present, &gone.cols)),
            (&mut acc.by_cohort, (&self.by_cohort, &gone.by_cohort)),
        ] {
            for ((row, &s), g) in rows.iter_mut().zip(old).zip(out) {
                row[p] = row[p] + s - g[p];
            }
        }
        for ((x, &s), &g) in acc.incoming.iter_mut().zip(&self.incoming).zip(&gone.incoming) {
            *x = *x + s - g;
        }
        for ((x, s), g) in acc.caravan.iter_mut().zip(&self.caravan).zip(&gone.caravan) {
            for i in 0..3 {
                x[i] = x[i] + s[i] - g[i];
            }
        }
        for ((x, &s), &g) in acc.caravan_at.iter_mut().zip(&self.caravan_at).zip(&gone.caravan_at) {
            *x = *x + s - g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    /// Runs `path` (by cohort) to its end and, after every day, compares
    /// the counts carried over with a census of every group; returns the
    /// most people seen waiting, on their way and walking in caravans on
    /// any one day, so that a test can tell it compared something.
    fn carried_against_census(path: &str) -> [u64; 3] {
        let sc = crate::scenario::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("loads");
        let mut e = Engine::with_config(&sc, sc.seed, true);
        let mut most = [0u64; 3];
        while !e.done() {
            e.step().expect("a day conserves people");
            let w = World::new(&e.prep, e.sc, e.seed, e.dynamics, e.by_cohort);
            let new_acc = || Acc::new(sc.places.len(), sc.legs.len(), sc.cohorts.len(), 0, true, e.prep.extras);
            let census = Stock::count(&w, &e.agents, e.id_base, &new_acc);
            let carried = e.stock.as_ref().expect("kept for the next day");
            assert_eq!(carried, &census, "{path}: day {}", e.day - 1);
            let seen = [
                census.present.iter().sum(),
                census.incoming.iter().sum(),
                census.caravan.iter().map(|c| c[1]).sum(),
            ];
            for (m, s) in most.iter_mut().zip(seen) {
                *m = (*m).max(s);
            }
        }
        most
    }

    #[test]
    fn counts_carried_over_equal_a_census_of_every_group_each_day() {
        let [waiting, on_the_way, _] = carried_against_census("tests/fixtures/all_levers.toml");
        assert!(
            waiting > 0 && on_the_way > 0,
            "{waiting} waiting, {on_the_way} on their way"
        );
        let [waiting, on_the_way, _] = carried_against_census("tests/fixtures/queues.toml");
        assert!(
            waiting > 0 && on_the_way > 0,
            "{waiting} waiting, {on_the_way} on their way"
        );
        let [_, _, walking] = carried_against_census("scenarios/caravan-2025.toml");
        assert!(walking > 0, "nobody walked in a caravan");
    }
}
