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
//! derivative-free search of `search`, and the one protocol by which the
//! processes learn of a failure ([`RankError`], [`agree`]): every process
//! enters every collective the others enter, a failure travelling through
//! it as a value, so that one process's error never leaves the others
//! waiting. Must not
//! simulate (models do) or write tables (`results`, `flee::output` and the
//! model modules here do): everything here is the same for every model.

pub mod default;
pub mod flee;
#[cfg(test)]
pub(crate) mod meeting;
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
    /// Why a replicate failed (another process's failure arrives as a
    /// [`RankError`]).
    type Error: JobError + From<WireError>;

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
    // This process's jobs, each with its place in the list.
    let mine: Vec<(usize, (usize, &Replicate))> =
        jobs.into_iter().enumerate().filter(|(j, _)| j % size == rank).collect();
    // A failure's place is its job's (a pool that could not be built: the
    // process's first job, or after every job if it has none).
    let local =
        run_mine(m, groups, &mine, threads, on_done).map_err(|(i, e)| (mine.get(i).map_or(total + rank, |x| x.0), e));
    // Every process learns whether any job failed before any run crosses:
    // then the first failure in job order is every process's error.
    let local = settle(local, ranks)?;
    // Only rank 0 reads the gathered runs: a message it cannot read is
    // agreed too, or the other ranks would go on to their next collective.
    let all = agree(gather(local, total, ranks).map_err(M::Error::from), ranks)?;
    let mut all = all.into_iter();
    Ok(groups
        .iter()
        .map(|(_, plan)| all.by_ref().take(plan.len()).collect())
        .collect())
}

/// This process's jobs (`mine`: each job's place in the list, its group
/// and its replicate) side by side on one pool: their runs in order, or
/// the first failure in their order with its position in `mine` (a pool
/// that cannot be built fails the first).
fn run_mine<M: Model>(
    m: &M,
    groups: &[(&M::Scenario, &[Replicate])],
    mine: &[(usize, (usize, &Replicate))],
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<M::Run>, (usize, M::Error)> {
    let pool = m.pool(threads).map_err(|e| (0, e))?;
    let at_once = at_once(mine.len(), pool.current_num_threads());
    pool.install(|| {
        // Prepared once per scenario for every replicate of it that keeps
        // the scenario's inputs. A preparation that fails is the failure
        // of each of those jobs (its words and kind), so that the first
        // failure is the first job's whatever the processes.
        let shared: Vec<Option<Result<M::Prepared<'_>, RankError>>> = groups
            .iter()
            .enumerate()
            .map(|(g, (sc, _))| {
                let wanted = mine.iter().any(|(_, (h, r))| *h == g && r.inputs.is_empty());
                wanted.then(|| m.prepare(sc).map_err(|e| RankError::of(&e)))
            })
            .collect();
        let jobs: Vec<(usize, &Replicate)> = mine.iter().map(|(_, job)| *job).collect();
        side_by_side(at_once, &jobs, |(g, rep): (usize, &Replicate)| {
            let sc = groups[g].0;
            let run = match &shared[g] {
                Some(Ok(p)) if rep.inputs.is_empty() => m.run(p, sc, rep),
                Some(Err(e)) if rep.inputs.is_empty() => Err(M::Error::from(e.clone())),
                _ => {
                    let drawn = m.with_inputs(sc, &rep.inputs)?;
                    m.prepare(&drawn).and_then(|p| m.run(&p, &drawn, rep))
                }
            };
            on_done();
            run
        })
    })
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
/// thread with nothing left to take helps the jobs still running. An
/// error is the first in list order (items are taken in order and every
/// item taken is finished, so every item before a failed one ran), with
/// its item's position.
fn side_by_side<T: Copy + Sync, R: Send, E: Send>(
    at_once: usize,
    items: &[T],
    job: impl Fn(T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, (usize, E)> {
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
    for (i, slot) in slots.into_iter().enumerate() {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(r) => out.push(r.map_err(|e| (i, e))?),
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

/// A failure as it crosses processes: its kind and its words, as the
/// process that failed would print them. On rank 0 it stands for another
/// process's error, reported there as that process would have reported
/// it; on the other ranks (`quiet`) for whichever process's error rank 0
/// reports, so that they print nothing of it and only exit with its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RankError {
    /// Whose fault it is (the exit code).
    pub kind: Kind,
    /// The error's text.
    pub message: String,
    /// Whether rank 0, not this process, reports it.
    pub quiet: bool,
}

impl RankError {
    /// `e`'s kind and words, to be reported.
    pub fn of<E: JobError>(e: &E) -> RankError {
        RankError {
            kind: e.kind(),
            message: e.to_string(),
            quiet: false,
        }
    }

    /// Whether `e`, or an error it wraps, is a failure that rank 0 reports
    /// rather than this process.
    pub fn is_quiet(e: &(dyn std::error::Error + 'static)) -> bool {
        let mut at = Some(e);
        while let Some(x) = at {
            if x.downcast_ref::<RankError>().is_some_and(|r| r.quiet) {
                return true;
            }
            at = x.source();
        }
        false
    }
}

/// An error that can cross processes: it says its kind, and another
/// process's failure arrives as one (`From<RankError>`).
pub trait JobError: From<RankError> + std::fmt::Display + Send {
    /// Whether the user can fix it (exit 2) or it is northbound's (exit 1):
    /// what the command line would make of it.
    fn kind(&self) -> Kind;
}

impl JobError for RankError {
    fn kind(&self) -> Kind {
        self.kind
    }
}

/// A run's failure is northbound's own, whichever process had it.
impl JobError for crate::engine::EngineError {
    fn kind(&self) -> Kind {
        match self {
            crate::engine::EngineError::Rank(r) => r.kind,
            _ => Kind::Failure,
        }
    }
}

/// What a process says of its part: nothing, or its first failure with its
/// place in the order that decides which failure is reported.
type Status = Option<(usize, RankError)>;

/// Every process's status, on every process, and the first failure among
/// them in their order with the rank that had it. A status that cannot be
/// read is that process's failure.
fn statuses(mine: &Status, ranks: &dyn Exchange) -> Option<(usize, (usize, RankError))> {
    // Most steps fail nowhere: one summed word says so, and the messages
    // are gathered only when some process failed.
    let mut failures = [u64::from(mine.is_some())];
    ranks.sum_u64(&mut failures);
    if failures[0] == 0 {
        return None;
    }
    // Encoding a number and a string cannot fail; were it to, the empty
    // message is read below as this process's failure, not skipped.
    let bytes = wire::encode(mine).unwrap_or_default();
    ranks
        .all_gather(&bytes)
        .iter()
        .enumerate()
        .filter_map(|(r, b)| match wire::decode::<Status>(b) {
            Ok(s) => s.map(|s| (r, s)),
            Err(e) => Some((
                r,
                (
                    usize::MAX,
                    RankError {
                        kind: Kind::Failure,
                        message: e.to_string(),
                        quiet: false,
                    },
                ),
            )),
        })
        .min_by_key(|(r, (at, _))| (*at, *r))
}

/// The outcome of a step every process took part in, the same on every
/// process: `Ok` if none failed, else the first failure (in the order of
/// `local`'s `usize`) — rank 0's own error as it is if it is rank 0's,
/// another process's as a [`RankError`] rank 0 reports, and on the other
/// ranks a quiet one of the same kind. Without other processes, `local`.
fn settle<T, E: JobError>(local: Result<T, (usize, E)>, ranks: &dyn Exchange) -> Result<T, E> {
    if ranks.size() <= 1 {
        return local.map_err(|(_, e)| e);
    }
    let status: Status = local.as_ref().err().map(|(at, e)| (*at, RankError::of(e)));
    let Some((who, (_, first))) = statuses(&status, ranks) else {
        return local.map_err(|(_, e)| e);
    };
    let rank = ranks.rank();
    match local {
        Err((_, e)) if rank == 0 && who == 0 => Err(e),
        _ => Err(E::from(RankError {
            quiet: rank != 0,
            ..first
        })),
    }
}

/// A step that one process may fail while the others would go on to the
/// next collective (rank 0 appending to a study's store, searching, or
/// writing): every process calls it after the step, and every process
/// then fails if any did — with the lowest rank's error, reported by
/// rank 0 — or goes on. Without other processes, `local`.
pub fn agree<T, E: JobError>(local: Result<T, E>, ranks: &dyn Exchange) -> Result<T, E> {
    let rank = ranks.rank();
    settle(local.map_err(|e| (rank, e)), ranks)
}

/// As [`agree`], for a step whose error cannot carry another process's
/// failure (rank 0 starting its output folder: an `OutputError`, of kind
/// `kind`): this process's own error as it is, or another's failure.
pub fn agree_boxed<T, E: std::error::Error + 'static>(
    local: Result<T, E>,
    kind: impl Fn(&E) -> Kind,
    ranks: &dyn Exchange,
) -> Result<T, Box<dyn std::error::Error>> {
    let said = local.as_ref().map(|_| ()).map_err(|e| RankError {
        kind: kind(e),
        message: e.to_string(),
        quiet: false,
    });
    match agree(said, ranks) {
        Ok(()) => local.map_err(Into::into),
        // Rank 0's own failure is the first (the lowest rank's).
        Err(r) => Err(match local {
            Err(e) if ranks.rank() == 0 => e.into(),
            _ => r.into(),
        }),
    }
}

/// Whether an error is the user's (bad input, a refused destination, a run
/// that would not fit: exit 2) or northbound's own (exit 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    use super::meeting::Meeting;
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

    /// Why a toy replicate failed: its run (northbound's own failure) or
    /// its drawn inputs (bad input).
    #[derive(Debug, thiserror::Error)]
    enum ToyError {
        #[error("replicate {0} failed")]
        Run(usize),
        #[error("the inputs drawn ({0}) make no valid scenario")]
        Inputs(u64),
        #[error("{0}")]
        Wire(#[from] WireError),
        #[error("{0}")]
        Rank(#[from] RankError),
    }

    impl JobError for ToyError {
        fn kind(&self) -> Kind {
            match self {
                ToyError::Inputs(_) => Kind::BadInput,
                ToyError::Rank(r) => r.kind,
                _ => Kind::Failure,
            }
        }
    }

    /// A model whose run is a number made of its scenario, seed and
    /// inputs, counting the preparations it makes; the replicates with a
    /// seed in `fail_seeds` fail, and so do drawn inputs above 100.
    struct Toy {
        prepared: std::sync::atomic::AtomicUsize,
        fail_seeds: Vec<u64>,
    }

    impl Toy {
        fn new(fail_seed: Option<u64>) -> Toy {
            Toy::failing(fail_seed.into_iter().collect())
        }
        fn failing(fail_seeds: Vec<u64>) -> Toy {
            Toy {
                prepared: Default::default(),
                fail_seeds,
            }
        }
    }

    impl Model for Toy {
        type Scenario = u64;
        type Prepared<'s> = u64;
        type Run = (u64, u64);
        type Error = ToyError;

        fn with_inputs(&self, sc: &u64, values: &[f64]) -> Result<u64, ToyError> {
            let v = values.iter().map(|v| *v as u64).sum::<u64>();
            if v > 100 {
                return Err(ToyError::Inputs(v));
            }
            Ok(sc + v)
        }
        fn prepare<'s>(&'s self, sc: &'s u64) -> Result<u64, ToyError> {
            self.prepared.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(*sc)
        }
        fn run(&self, p: &u64, _sc: &u64, rep: &Replicate) -> Result<(u64, u64), ToyError> {
            if self.fail_seeds.contains(&rep.seed) {
                return Err(ToyError::Run(rep.index));
            }
            Ok((*p, rep.seed))
        }
        fn pool(&self, threads: Option<usize>) -> Result<rayon::ThreadPool, ToyError> {
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
        assert!(matches!(err, ToyError::Run(3)), "{err}");
    }

    /// The batch's outcome on every process of `size` and without MPI.
    type Outcomes = (
        Vec<Result<Vec<Vec<(u64, u64)>>, ToyError>>,
        Result<Vec<Vec<(u64, u64)>>, ToyError>,
    );

    fn on_ranks(size: usize, toy: &Toy, groups: &[(&u64, &[Replicate])]) -> Outcomes {
        let spread = Meeting::new(size).run(|me| batch(toy, groups, Some(2), me, &|| {}));
        (spread, batch(toy, groups, Some(2), &crate::engine::Local, &|| {}))
    }

    #[test]
    fn a_failure_on_rank_1_is_reported_on_rank_0_with_its_kind_and_message() {
        // Replicate 1 (job 1, rank 1's) draws inputs that make no scenario.
        let plan = plan(9, 4, &[vec![1.0], vec![500.0], vec![2.0], vec![3.0]]);
        let (spread, alone) = on_ranks(2, &Toy::new(None), &[(&1, &plan)]);
        let alone = alone.unwrap_err();
        assert!(matches!(alone, ToyError::Inputs(500)), "{alone}");
        let Err(ToyError::Rank(r)) = &spread[0] else {
            panic!("rank 0 reports rank 1's failure: {:?}", spread[0]);
        };
        assert_eq!(
            (r.kind, r.message.as_str(), r.quiet),
            (Kind::BadInput, &*alone.to_string(), false)
        );
        let Err(ToyError::Rank(r)) = &spread[1] else {
            panic!("rank 1 fails too: {:?}", spread[1]);
        };
        assert_eq!(
            (r.kind, r.quiet),
            (Kind::BadInput, true),
            "rank 1 exits as rank 0 does, silently"
        );
        assert!(RankError::is_quiet(spread[1].as_ref().unwrap_err()));
        assert!(!RankError::is_quiet(spread[0].as_ref().unwrap_err()));
    }

    #[test]
    fn rank_0s_own_failure_still_takes_part_in_the_gather() {
        // Replicate 2 is rank 0's; rank 1's replicates all run.
        let plan = plan(7, 4, &[]);
        let (spread, alone) = on_ranks(2, &Toy::new(Some(plan[2].seed)), &[(&1, &plan)]);
        assert!(matches!(alone, Err(ToyError::Run(2))));
        assert!(
            matches!(spread[0], Err(ToyError::Run(2))),
            "rank 0's own error, as it is: {:?}",
            spread[0]
        );
        let Err(ToyError::Rank(r)) = &spread[1] else {
            panic!("rank 1 learns of rank 0's failure: {:?}", spread[1]);
        };
        assert_eq!(
            (r.kind, r.quiet, r.message.as_str()),
            (Kind::Failure, true, "replicate 2 failed")
        );
    }

    #[test]
    fn the_first_failure_in_job_order_wins_whatever_the_ranks() {
        // Job 3 (group 0's replicate 3, by its seed) fails, and so do jobs 5
        // and 6 (group 2's replicates, by their drawn inputs).
        let plan = plan(7, 4, &[]);
        let toy = Toy::failing(vec![plan[3].seed]);
        let drawn = plan_with_inputs(2)
            .into_iter()
            .map(|r| Replicate {
                inputs: vec![700.0],
                ..r
            })
            .collect::<Vec<_>>();
        let groups: [(&u64, &[Replicate]); 3] = [(&1, &plan[..]), (&2, &plan[..1]), (&3, &drawn)];
        for size in [2, 3, 4, 5] {
            let (spread, alone) = on_ranks(size, &toy, &groups);
            let alone = alone.unwrap_err();
            assert_eq!(alone.to_string(), "replicate 3 failed");
            for (rank, got) in spread.iter().enumerate() {
                let got = got.as_ref().unwrap_err();
                assert_eq!(got.to_string(), alone.to_string(), "rank {rank} of {size}");
                assert_eq!(got.kind(), Kind::Failure, "rank {rank} of {size}");
                assert_eq!(RankError::is_quiet(got), rank != 0, "rank {rank} of {size}");
            }
        }
    }

    #[test]
    fn a_batch_without_failures_comes_back_whole_on_rank_0_over_any_ranks() {
        let plan = plan(7, 5, &[]);
        let drawn = plan_with_inputs(3);
        let groups: [(&u64, &[Replicate]); 2] = [(&1, &plan[..]), (&2, &drawn)];
        for size in [2, 3, 8] {
            let (spread, alone) = on_ranks(size, &Toy::new(None), &groups);
            assert_eq!(spread[0].as_ref().unwrap(), &alone.unwrap());
            assert!(spread[1..]
                .iter()
                .all(|r| r.as_ref().unwrap().iter().all(Vec::is_empty)));
        }
    }

    /// A recorder that fails on day `on`.
    struct FailsOn(u32);

    impl crate::engine::Recorder for FailsOn {
        fn day(&mut self, v: &crate::engine::DayView<'_>) -> std::io::Result<()> {
            if v.day == self.0 {
                return Err(std::io::Error::other("the disk is full"));
            }
            Ok(())
        }
    }

    #[test]
    fn a_partitioned_run_stops_on_every_rank_when_rank_0s_tables_fail() {
        let text = include_str!("../../tests/fixtures/chain.toml");
        let sc = crate::scenario::load_bytes(text.as_bytes(), std::path::Path::new("chain.toml")).unwrap();
        let cfg = crate::engine::RunConfig {
            seed: None,
            threads: Some(1),
            by_cohort: false,
        };
        let outcomes = Meeting::new(2).run(|me| {
            let mut fails = FailsOn(3);
            let mut recs: Vec<&mut dyn crate::engine::Recorder> = Vec::new();
            if me.rank() == 0 {
                recs.push(&mut fails);
            }
            crate::engine::run_partitioned(&sc, &cfg, me, &mut recs).map(|r| r.people)
        });
        let Err(e) = &outcomes[0] else { panic!("rank 0 fails") };
        assert_eq!(e.to_string(), "writing results failed: the disk is full");
        assert!(!RankError::is_quiet(e));
        let Err(e) = &outcomes[1] else {
            panic!("rank 1 stops too")
        };
        assert!(RankError::is_quiet(e), "{e}");
        assert_eq!(JobError::kind(e), Kind::Failure);
    }

    #[test]
    fn a_step_one_rank_fails_fails_every_rank_with_the_lowest_ranks_error() {
        let outcomes = Meeting::new(3).run(|me| {
            let mine: Result<u32, ToyError> = match me.rank() {
                1 => Err(ToyError::Inputs(101)),
                2 => Err(ToyError::Run(2)),
                _ => Ok(7),
            };
            agree(mine, me)
        });
        let Err(ToyError::Rank(r)) = &outcomes[0] else {
            panic!("rank 0 reports rank 1's failure: {:?}", outcomes[0]);
        };
        assert_eq!((r.kind, r.quiet), (Kind::BadInput, false));
        assert_eq!(r.message, ToyError::Inputs(101).to_string());
        for o in &outcomes[1..] {
            assert!(
                matches!(
                    o,
                    Err(ToyError::Rank(RankError {
                        kind: Kind::BadInput,
                        quiet: true,
                        ..
                    }))
                ),
                "{o:?}"
            );
        }
        let fine = Meeting::new(2).run(|me| agree(Ok::<_, ToyError>(me.rank()), me).unwrap());
        assert_eq!(fine, [0, 1]);
    }

    #[test]
    fn rank_0_failing_to_start_its_folder_stops_the_others_before_their_work() {
        let outcomes = Meeting::new(2).run(|me| {
            let started = match me.rank() {
                0 => Err(std::io::Error::other("no room left")),
                _ => Ok(()),
            };
            agree_boxed(started, |_| Kind::Failure, me).map_err(|e| (e.to_string(), RankError::is_quiet(&*e)))
        });
        assert_eq!(
            outcomes[0],
            Err(("no room left".to_string(), false)),
            "rank 0's own error, as it is"
        );
        assert_eq!(
            outcomes[1],
            Err(("no room left".to_string(), true)),
            "the others stop, silently"
        );
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
