//! The experiment layer: what any model's runs are made into — replicates
//! side by side on one pool, variants with common random numbers,
//! calibration, which MPI process runs what and which one writes.
//!
//! A [`Model`] turns a prepared scenario and a [`Replicate`] (its seed and
//! the values its uncertain inputs were drawn at) into a run. Preparation
//! happens once per scenario or variant and is shared by every replicate
//! that keeps the scenario's inputs; a replicate that draws its own inputs
//! runs a scenario of its own, prepared for it alone.
//!
//! A run that stops at a date is a run of the scenario cut there
//! (`Scenario::first_days`, as `validate --until` does): a scenario edit,
//! prepared like any other. A run that starts from a saved state (`run
//! --resume`, `forecast`'s members branching from a shared past) is not a
//! replicate of a scenario: `state` and `forecast` drive the engine's
//! `Engine::from_state` directly.
//!
//! Owns the replicate plan, the scheduling of replicates over processes
//! (replicate k on process k mod P), their gathering in replicate order
//! through `wire`, and the derivative-free search of `search`. Must not
//! simulate (models do) or write tables (`results`, `flee::output` and the
//! model modules here do): everything here is the same for every model.

pub mod default;
pub mod flee;
pub mod search;

use crate::engine::Exchange;
use crate::wire::{self, WireError};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One replicate of an experiment: which one, its seed and the values of
/// the uncertain inputs it draws (empty: the scenario's own values).
#[derive(Clone, Debug, PartialEq)]
pub struct Replicate {
    /// Its place in the experiment (0, 1, …): results come back in this order.
    pub index: usize,
    /// Its seed (`rng::replicate_seed` of the scenario's seed and the index).
    pub seed: u64,
    /// The values its uncertain inputs take, in the scenario's order.
    pub inputs: Vec<f64>,
}

/// Replicates 0..n of a scenario with seed `seed`: replicate k uses
/// `replicate_seed(seed, k)` and the k-th row of `inputs` (none if shorter).
/// The same plan for the base and every variant is what makes a comparison
/// paired (common random numbers).
pub fn plan(seed: u64, n: usize, inputs: &[Vec<f64>]) -> Vec<Replicate> {
    (0..n)
        .map(|k| Replicate {
            index: k,
            seed: crate::rng::replicate_seed(seed, k as u64),
            inputs: inputs.get(k).cloned().unwrap_or_default(),
        })
        .collect()
}

/// A behaviour model, as the experiment layer sees it.
pub trait Model: Sync {
    /// The validated scenario.
    type Scenario: Sync;
    /// What every replicate of one scenario shares (built once; it may
    /// borrow the scenario).
    type Prepared<'s>: Sync
    where
        Self: 's;
    /// What one replicate gives back; crosses processes by `wire`.
    type Run: Send + Serialize + DeserializeOwned;
    /// Why a replicate failed.
    type Error: From<WireError> + Send;

    /// The scenario with a replicate's drawn input values.
    fn with_inputs(&self, sc: &Self::Scenario, values: &[f64]) -> Result<Self::Scenario, Self::Error>;

    /// The tables every replicate of `sc` shares.
    fn prepare<'s>(&'s self, sc: &'s Self::Scenario) -> Result<Self::Prepared<'s>, Self::Error>;

    /// Runs one replicate on the current rayon pool.
    fn run(
        &self,
        prepared: &Self::Prepared<'_>,
        sc: &Self::Scenario,
        rep: &Replicate,
    ) -> Result<Self::Run, Self::Error>;

    /// A pool of `threads` worker threads (all cores if `None`).
    fn pool(&self, threads: Option<usize>) -> Result<rayon::ThreadPool, Self::Error>;
}

/// Runs the replicates of `plan` side by side on one pool of `threads`,
/// this process's share of them when `ranks` spreads them over processes
/// (replicate k on process k mod P). `on_done` is called as each finishes.
/// Returns every run in plan order on rank 0, nothing on the others.
/// Results do not depend on the number of threads or processes: a
/// replicate is a pure function of its scenario, seed and inputs.
pub fn replicates<M: Model>(
    m: &M,
    sc: &M::Scenario,
    plan: &[Replicate],
    threads: Option<usize>,
    ranks: &dyn Exchange,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<M::Run>, M::Error> {
    let (rank, size) = (ranks.rank(), ranks.size());
    let mine: Vec<&Replicate> = plan.iter().filter(|r| r.index % size == rank).collect();
    let pool = m.pool(threads)?;
    let local = pool.install(|| -> Result<Vec<M::Run>, M::Error> {
        // Prepared once for every replicate that keeps the scenario's inputs.
        let shared = if mine.iter().any(|r| r.inputs.is_empty()) {
            Some(m.prepare(sc)?)
        } else {
            None
        };
        mine.par_iter()
            .map(|rep| {
                let run = match &shared {
                    Some(p) if rep.inputs.is_empty() => m.run(p, sc, rep),
                    _ => {
                        let drawn = m.with_inputs(sc, &rep.inputs)?;
                        m.prepare(&drawn).and_then(|p| m.run(&p, &drawn, rep))
                    }
                };
                on_done();
                run
            })
            .collect()
    })?;
    gather(local, plan.len(), ranks).map_err(M::Error::from)
}

/// Gathers runs of replicates 0..n, spread k ↦ process k mod P, onto rank 0
/// in replicate order (empty elsewhere).
pub fn gather<T: Serialize + DeserializeOwned>(
    local: Vec<T>,
    n: usize,
    ranks: &dyn Exchange,
) -> Result<Vec<T>, WireError> {
    let (rank, size) = (ranks.rank(), ranks.size());
    if size == 1 {
        return Ok(local);
    }
    let gathered = ranks.gather_to_root(&wire::encode(&local)?);
    if rank != 0 {
        return Ok(Vec::new());
    }
    let mut by_rank = Vec::with_capacity(size);
    for bytes in &gathered {
        by_rank.push(wire::decode::<Vec<T>>(bytes)?.into_iter());
    }
    (0..n)
        .map(|k| {
            by_rank[k % size].next().ok_or(WireError::Missing {
                index: k,
                rank: k % size,
            })
        })
        .collect()
}

/// Whether an error is the user's (bad input, a refused destination, a run
/// that would not fit: exit 2) or northbound's own (exit 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bad input or a refusal: the user can fix it.
    BadInput,
    /// A failure of northbound's own.
    Failure,
}

impl Kind {
    /// A refused destination is the user's to fix; a failed write is not.
    pub fn of_output(e: &crate::output::OutputError) -> Kind {
        if e.is_refusal() {
            Kind::BadInput
        } else {
            Kind::Failure
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rank 0 of two processes whose other rank sent `other`.
    struct TwoRanks {
        other: Vec<u8>,
    }

    impl Exchange for TwoRanks {
        fn rank(&self) -> usize {
            0
        }
        fn size(&self) -> usize {
            2
        }
        fn sum_u64(&self, _buf: &mut [u64]) {}
        fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>> {
            vec![local.to_vec(), self.other.clone()]
        }
        fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>> {
            vec![local.to_vec(), self.other.clone()]
        }
    }

    #[test]
    fn replicates_spread_over_two_ranks_come_back_in_replicate_order() {
        // Rank 0 ran replicates 0, 2, 4; rank 1 ran 1, 3.
        let other = wire::encode(&vec![(1u64, 10.5f64), (3, 30.5)]).unwrap();
        let mine = vec![(0u64, 0.5f64), (2, 20.5), (4, 40.5)];
        let all = gather(mine, 5, &TwoRanks { other }).unwrap();
        assert_eq!(all.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(all[3].1, 30.5);
    }

    #[test]
    fn a_rank_that_sent_too_few_replicates_is_an_error_naming_it() {
        let other = wire::encode(&vec![1u64]).unwrap();
        let err = gather(vec![0u64, 2], 4, &TwoRanks { other }).unwrap_err();
        assert!(matches!(err, WireError::Missing { index: 3, rank: 1 }), "{err}");
    }

    #[test]
    fn a_plan_gives_replicate_k_its_seed_and_its_row_of_inputs() {
        let p = plan(7, 3, &[vec![0.1], vec![0.2]]);
        assert_eq!(p[1].seed, crate::rng::replicate_seed(7, 1));
        assert_eq!(p[1].inputs, vec![0.2]);
        assert!(p[2].inputs.is_empty(), "no row: the scenario's own values");
        assert_eq!(p.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1, 2]);
    }
}
