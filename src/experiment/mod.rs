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
//! Owns the replicate plan, the scheduling of replicates over threads (one
//! per thread side by side, `at_once`) and processes (job j of a list on
//! process j mod P), their gathering in order through `wire`, and the
//! derivative-free search of `search`. Must not
//! simulate (models do) or write tables (`results`, `flee::output` and the
//! model modules here do): everything here is the same for every model.

pub mod default;
pub mod flee;
pub mod search;

use crate::engine::Exchange;
use crate::wire::{self, WireError};
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
    Ok(batch(m, &[(sc, plan)], threads, ranks, on_done)?
        .pop()
        .unwrap_or_default())
}

/// As [`replicates`], for the replicates of several scenarios at once
/// (study points, a comparison's base and variants) run as one list of
/// jobs, so that the threads are kept busy across scenarios instead of
/// waiting for the last replicate of each. Job j of the list (group by
/// group, replicate by replicate) runs on process j mod P. Returns each
/// group's runs in plan order on rank 0 (empty groups on the others).
pub(crate) fn batch<M: Model>(
    m: &M,
    groups: &[(&M::Scenario, &[Replicate])],
    threads: Option<usize>,
    ranks: &dyn Exchange,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<M::Run>>, M::Error> {
    let (rank, size) = (ranks.rank(), ranks.size());
    let jobs: Vec<(usize, &Replicate)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, (_, plan))| plan.iter().map(move |r| (g, r)))
        .collect();
    let total = jobs.len();
    let mine: Vec<(usize, &Replicate)> = jobs
        .into_iter()
        .enumerate()
        .filter(|(j, _)| j % size == rank)
        .map(|(_, x)| x)
        .collect();
    let pool = m.pool(threads)?;
    let at_once = at_once(mine.len(), pool.current_num_threads());
    let local = pool.install(|| -> Result<Vec<M::Run>, M::Error> {
        // Prepared once per scenario for every replicate of it that keeps
        // the scenario's inputs.
        let shared = groups
            .iter()
            .enumerate()
            .map(|(g, (sc, _))| {
                let wanted = mine.iter().any(|(h, r)| *h == g && r.inputs.is_empty());
                wanted.then(|| m.prepare(sc)).transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        side_by_side(at_once, &mine, |(g, rep): (usize, &Replicate)| {
            let sc = groups[g].0;
            let run = match &shared[g] {
                Some(p) if rep.inputs.is_empty() => m.run(p, sc, rep),
                _ => {
                    let drawn = m.with_inputs(sc, &rep.inputs)?;
                    m.prepare(&drawn).and_then(|p| m.run(&p, &drawn, rep))
                }
            };
            on_done();
            run
        })
    })?;
    let all = gather(local, total, ranks).map_err(M::Error::from)?;
    let mut all = all.into_iter();
    Ok(groups
        .iter()
        .map(|(_, plan)| all.by_ref().take(plan.len()).collect())
        .collect())
}

/// How many replicates run at once on a pool of `threads`: one per thread
/// (side by side, each on one thread) up to the number of jobs. Measured
/// on 2 cores (BENCHMARKS.md, 2026-11-30 — ensembles of the big eras): a
/// replicate spends a fifth (pathways-2021 at scale 0.1) to a tenth
/// (title42-2020-2023 at full size) more CPU on 2 threads than on 1 (the
/// day's serial phases leave a thread waiting), while two replicates side
/// by side each run at one-thread speed. The pool's idle threads still
/// help whatever is running (rayon steals the running replicates' chunks),
/// so the last replicate of a list gets every thread. Memory is not a
/// reason to run fewer: `limits::ensemble` refuses an ensemble whose
/// `threads` replicates at once would not fit before any work starts.
pub(crate) fn at_once(jobs: usize, threads: usize) -> usize {
    jobs.min(threads).max(1)
}

/// Runs `job` on each item of `items` on the current rayon pool, at most
/// `at_once` at a time (each taken by one of `at_once` tasks in list
/// order), and returns the results in list order; the first error stops
/// the tasks from taking more work. The tasks wait the rayon way, so a
/// thread with nothing left to take helps the jobs still running.
fn side_by_side<T: Copy + Sync, R: Send, E: Send>(
    at_once: usize,
    items: &[T],
    job: impl Fn(T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Result<R, E>>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let take = || {
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&item) = items.get(i) else { break };
            let r = job(item);
            failed.fetch_or(r.is_err(), Ordering::Relaxed);
            *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
        }
    };
    rayon::scope(|s| {
        for _ in 0..at_once {
            s.spawn(|_| take());
        }
    });
    let mut out = Vec::with_capacity(items.len());
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(r) => out.push(r?),
            None => break,
        }
    }
    Ok(out)
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

    /// A model whose run is a number made of its scenario, seed and
    /// inputs, counting the preparations it makes.
    struct Toy {
        prepared: std::sync::atomic::AtomicUsize,
        fail_seed: Option<u64>,
    }

    impl Toy {
        fn new(fail_seed: Option<u64>) -> Toy {
            Toy {
                prepared: Default::default(),
                fail_seed,
            }
        }
    }

    impl Model for Toy {
        type Scenario = u64;
        type Prepared<'s> = u64;
        type Run = (u64, u64);
        type Error = WireError;

        fn with_inputs(&self, sc: &u64, values: &[f64]) -> Result<u64, WireError> {
            Ok(sc + values.iter().map(|v| *v as u64).sum::<u64>())
        }
        fn prepare<'s>(&'s self, sc: &'s u64) -> Result<u64, WireError> {
            self.prepared.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(*sc)
        }
        fn run(&self, p: &u64, _sc: &u64, rep: &Replicate) -> Result<(u64, u64), WireError> {
            if Some(rep.seed) == self.fail_seed {
                return Err(WireError::Missing {
                    index: rep.index,
                    rank: 0,
                });
            }
            Ok((*p, rep.seed))
        }
        fn pool(&self, threads: Option<usize>) -> Result<rayon::ThreadPool, WireError> {
            Ok(rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .build()
                .expect("a pool"))
        }
    }

    #[test]
    fn a_batch_gives_each_scenario_its_replicates_in_order_whatever_the_threads() {
        let plan = plan(7, 5, &[]);
        let drawn = plan_with_inputs(3);
        let groups: [(&u64, &[Replicate]); 3] = [(&100, &plan), (&200, &drawn), (&300, &plan[..1])];
        let one = batch(&Toy::new(None), &groups, Some(1), &crate::engine::Local, &|| {}).unwrap();
        for threads in [2, 3, 8] {
            let many = batch(&Toy::new(None), &groups, Some(threads), &crate::engine::Local, &|| {}).unwrap();
            assert_eq!(many, one, "{threads} threads");
        }
        assert_eq!(one.iter().map(Vec::len).collect::<Vec<_>>(), [5, 3, 1]);
        assert_eq!(one[0][4], (100, plan[4].seed));
        assert_eq!(
            one[1][2],
            (200 + 2, drawn[2].seed),
            "replicate 2 ran its drawn scenario"
        );
    }

    /// Three replicates whose inputs are drawn (replicate k at value k).
    fn plan_with_inputs(n: usize) -> Vec<Replicate> {
        let rows: Vec<Vec<f64>> = (0..n).map(|k| vec![k as f64]).collect();
        plan(9, n, &rows)
    }

    #[test]
    fn a_scenario_is_prepared_once_for_the_replicates_that_keep_its_inputs() {
        let plan = plan(7, 6, &[]);
        let toy = Toy::new(None);
        let groups: [(&u64, &[Replicate]); 2] = [(&1, &plan), (&2, &plan)];
        batch(&toy, &groups, Some(2), &crate::engine::Local, &|| {}).unwrap();
        assert_eq!(toy.prepared.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn a_failed_replicate_fails_the_batch() {
        let plan = plan(7, 6, &[]);
        let toy = Toy::new(Some(plan[3].seed));
        let err = batch(&toy, &[(&1, &plan[..])], Some(2), &crate::engine::Local, &|| {}).unwrap_err();
        assert!(matches!(err, WireError::Missing { index: 3, .. }), "{err}");
    }

    #[test]
    fn replicates_run_one_per_thread_up_to_the_jobs() {
        assert_eq!(at_once(10, 2), 2);
        assert_eq!(at_once(1, 2), 1, "a single replicate gets every thread");
        assert_eq!(at_once(0, 4), 1);
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
