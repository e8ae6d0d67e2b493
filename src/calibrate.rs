//! Calibration of the default model: the mean absolute relative error on
//! targets of a parameter set (`validation`), searched by the experiment
//! layer's Nelder–Mead (`experiment::search`) with common random numbers
//! across evaluations.
//!
//! Under MPI, rank 0 searches and keeps the journal; each set's replicates
//! run through `experiment::replicates`, spread over every rank, the other
//! ranks told which set to run next (`serve`). The result is the same
//! bytes for any number of threads or processes.
//!
//! Owns the default model's parameter paths in a search (`scenario::params`),
//! its score and what rank 0 tells the others. Must not change the
//! scenario file.

use crate::engine::Exchange;
use crate::experiment::search::{self, OptimiserError, SpecError};
pub use crate::experiment::search::{Calibration, Keep, ParamSpec};
use crate::experiment::{Kind, RankError};
use crate::scenario::params::{self, ParamError};
use crate::scenario::Scenario;
use crate::validation::{self, Replicates, Target};
use crate::wire;

/// Why calibration could not run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// A parameter was not understood.
    #[error("{0}")]
    Param(#[from] ParamError),
    /// A parameter specification is malformed.
    #[error("--params: {0}")]
    Spec(String),
    /// A run failed, or runs could not be gathered from the other processes.
    #[error("{0}")]
    Run(#[from] crate::ensemble::EnsembleError),
    /// Rank 0 could not tell the other processes what to run.
    #[error("{0}")]
    Wire(#[from] crate::wire::WireError),
    /// The optimiser failed.
    #[error("the optimiser failed: {0}")]
    Optimiser(String),
    /// An evaluation would not fit in memory or in the agent ids.
    #[error("{0}")]
    Limit(#[from] crate::limits::LimitError),
    /// The journal of evaluations could not be read or written.
    #[error("{0}")]
    Journal(#[from] crate::study::StudyError),
    /// Rank 0's search failed (on the other ranks: rank 0 reports why).
    #[error("{0}")]
    Rank(#[from] RankError),
}

impl CalibrateError {
    /// A parameter the user gave or an evaluation that would not fit is
    /// theirs to fix (exit 2); anything else is northbound's (exit 1).
    pub fn kind(&self) -> Kind {
        match self {
            CalibrateError::Param(_) | CalibrateError::Limit(_) => Kind::BadInput,
            CalibrateError::Rank(r) => r.kind,
            _ => Kind::Failure,
        }
    }
}

impl crate::experiment::JobError for CalibrateError {
    fn kind(&self) -> Kind {
        CalibrateError::kind(self)
    }
}

impl From<SpecError> for CalibrateError {
    fn from(e: SpecError) -> Self {
        CalibrateError::Spec(e.0)
    }
}

impl From<OptimiserError> for CalibrateError {
    fn from(e: OptimiserError) -> Self {
        CalibrateError::Optimiser(e.0)
    }
}

/// Checks the largest evaluation of a search (every parameter at its upper
/// bound: people and departures only grow with them), its `replicates`
/// side by side on `threads`, before it starts.
pub fn check_limits(
    sc: &Scenario,
    specs: &[ParamSpec],
    replicates: usize,
    threads: Option<usize>,
) -> Result<(), CalibrateError> {
    let mut big = sc.clone();
    for s in specs {
        params::set(&mut big, &s.path, s.hi)?;
    }
    check_evaluation(&big, replicates, threads)
}

fn check_evaluation(sc: &Scenario, replicates: usize, threads: Option<usize>) -> Result<(), CalibrateError> {
    let need = crate::limits::ensemble(sc, replicates, crate::limits::workers(threads), false, 0);
    crate::limits::check("a calibration evaluation", need)?;
    Ok(())
}

/// Parses `path=lo:hi,path2,...` over the scenario's settable fields
/// (`experiment::search::parse_specs`).
pub fn parse_specs(sc: &Scenario, list: &str) -> Result<Vec<ParamSpec>, CalibrateError> {
    search::parse_specs(list, &|path| Ok(params::get(sc, path)?), &|path, v| {
        let mut probe = sc.clone();
        Ok(params::set(&mut probe, path, v)?)
    })
}

/// What a calibration evaluates and where: the scenario, its targets, the
/// parameters searched, the replicates of each set (the same seeds for
/// every set: common random numbers) and how they run (threads, and the
/// MPI processes they are spread over).
pub(crate) struct Problem<'a> {
    /// The scenario (its seed gives the replicates' seeds).
    pub(crate) sc: &'a Scenario,
    /// The targets scored.
    pub(crate) targets: &'a [Target],
    /// The parameters searched.
    pub(crate) specs: &'a [ParamSpec],
    /// Replicates per set (at least one).
    pub(crate) replicates: usize,
    /// Worker threads (all cores if `None`).
    pub(crate) threads: Option<usize>,
    /// The processes (`engine::Local` without MPI).
    pub(crate) ranks: &'a dyn Exchange,
}

impl Problem<'_> {
    /// The scenario with a parameter set.
    fn with(&self, values: &[f64]) -> Result<Scenario, CalibrateError> {
        let mut sc = self.sc.clone();
        for (v, s) in values.iter().zip(self.specs) {
            params::set(&mut sc, &s.path, *v)?;
        }
        Ok(sc)
    }

    /// The set's replicates, this process's share of them: every run on
    /// rank 0, nothing on the others.
    fn runs(&self, sc: &Scenario) -> Result<Vec<Vec<f64>>, CalibrateError> {
        let reps = Replicates {
            n: self.replicates.max(1),
            threads: self.threads,
            ranks: self.ranks,
            stop: None,
            on_done: &|| {},
        };
        Ok(validation::simulate_replicates(sc, self.targets, &reps)?)
    }

    /// The error of a parameter set and its noise unit, on rank 0; the
    /// other ranks run their share of its replicates when rank 0 asks
    /// ([`serve`]).
    fn score(&self, values: &[f64]) -> Result<(f64, f64), CalibrateError> {
        let sc = self.with(values)?;
        check_evaluation(&sc, self.replicates.max(1), self.threads)?;
        // Asked only once the set is known to be valid: a set rank 0
        // refuses ends the search, and the others with it (`Word::Failed`).
        tell(self.ranks, &Word::Run(values.to_vec()))?;
        let runs = self.runs(&sc)?;
        let v = validation::compare(self.targets, &runs);
        let r = runs.len() as f64;
        let noise = v
            .rows
            .iter()
            .filter(|row| row.observed > 0.0)
            .map(|row| (row.sd * row.sd / r + row.sd * row.sd).sqrt() / row.observed)
            .sum::<f64>()
            / v.rows.len().max(1) as f64;
        Ok((v.mare, noise))
    }
}

/// What rank 0 tells the other ranks between evaluations.
#[derive(serde::Serialize, serde::Deserialize)]
enum Word {
    /// Run your share of this parameter set's replicates.
    Run(Vec<f64>),
    /// The search is over.
    Done,
    /// The search failed on rank 0 (which reports why): exit as it does.
    Failed(RankError),
}

/// Rank 0 tells the other ranks what comes next. Without other ranks,
/// nothing is sent.
fn tell(ranks: &dyn Exchange, word: &Word) -> Result<(), CalibrateError> {
    if ranks.size() > 1 {
        ranks.all_gather(&wire::encode(word)?);
    }
    Ok(())
}

/// What rank 0 told (every rank sends, only rank 0's message counts).
fn hear(ranks: &dyn Exchange) -> Result<Word, CalibrateError> {
    let all = ranks.all_gather(&[]);
    let first = all.first().map(Vec::as_slice).unwrap_or_default();
    Ok(wire::decode::<Word>(first)?)
}

/// Searches the parameters with at most `budget` Nelder–Mead iterations,
/// scoring each set on `replicates` runs with the same seeds throughout.
pub fn calibrate(
    sc: &Scenario,
    targets: &[Target],
    specs: &[ParamSpec],
    budget: u64,
    replicates: usize,
    threads: Option<usize>,
) -> Result<Calibration, CalibrateError> {
    let p = Problem {
        sc,
        targets,
        specs,
        replicates,
        threads,
        ranks: &crate::engine::Local,
    };
    calibrate_kept(&p, budget, Keep::none())
}

/// [`calibrate`] on rank 0 of `p.ranks`, each set's replicates spread over
/// the ranks (the others [`serve`] meanwhile), with its evaluations kept
/// in a journal (the command line's store beside the result, which an
/// interrupted run leaves for the same command to resume) and shown as
/// they are made. The search and the journal are rank 0's alone: an
/// evaluation the journal answers runs nothing anywhere.
pub(crate) fn calibrate_kept(p: &Problem<'_>, budget: u64, keep: Keep<'_>) -> Result<Calibration, CalibrateError> {
    let start: Vec<f64> = p
        .specs
        .iter()
        .map(|s| params::get(p.sc, &s.path).unwrap_or(s.lo))
        .collect();
    let found = search::search(p.specs, &start, budget, &|values: &[f64]| p.score(values), keep);
    // Whether the search ended or failed, the other ranks stop serving, and
    // exit as rank 0 does. A set's replicates that failed failed on every
    // rank already (`experiment::batch`): the others have stopped.
    let word = match &found {
        Ok(_) => Word::Done,
        Err(CalibrateError::Run(_)) => return found,
        Err(e) => Word::Failed(RankError::of(e)),
    };
    tell(p.ranks, &word)?;
    found
}

/// What the ranks other than 0 do during [`calibrate_kept`]: run their
/// share of the replicates of every set rank 0 asks for, until it says the
/// search is over.
pub(crate) fn serve(p: &Problem<'_>) -> Result<(), CalibrateError> {
    loop {
        match hear(p.ranks)? {
            Word::Run(values) => {
                let sc = p.with(&values)?;
                p.runs(&sc)?;
            }
            Word::Done => return Ok(()),
            Word::Failed(r) => return Err(RankError { quiet: true, ..r }.into()),
        }
    }
}

/// The calibration as TOML, as `calibrate` writes it (`arguments`: the
/// command's arguments after the scenario, for its header).
pub fn render_toml(c: &Calibration, scenario: &Scenario, arguments: &str) -> String {
    search::render_toml(c, &scenario.about.file, arguments, "mean absolute relative error")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::meeting::Meeting;

    /// The chain fixture and one target on its claims at `c` (read from a
    /// file in a temporary folder named after `tag`).
    fn chain_with_a_target(tag: &str) -> (Scenario, Vec<validation::Target>) {
        let text = include_str!("../tests/fixtures/chain.toml");
        let sc = crate::scenario::load_bytes(text.as_bytes(), std::path::Path::new("chain.toml")).unwrap();
        let dir = std::env::temp_dir().join(format!("northbound-calibrate-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("targets.toml");
        let target = "[[target]]\nid = \"claims_at_c\"\nplace = \"c\"\nmetric = \"claims\"\nvalue = 1000\nsource = \"the chain\"\n";
        std::fs::write(&path, target).unwrap();
        let targets = validation::load_targets(&path, &sc).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        (sc, targets)
    }

    /// A calibration of `specs` over three sets, two replicates each: rank 0
    /// searches, the others serve. Each rank's failure: its words, kind and
    /// whether rank 0 reports it instead.
    fn calibrate_on(
        ranks: &dyn Exchange,
        sc: &Scenario,
        targets: &[validation::Target],
        specs: &[ParamSpec],
    ) -> Result<(), (String, Kind, bool)> {
        let p = Problem {
            sc,
            targets,
            specs,
            replicates: 2,
            threads: Some(1),
            ranks,
        };
        let done = match ranks.rank() {
            0 => calibrate_kept(&p, 3, Keep::none()).map(|_| ()),
            _ => serve(&p),
        };
        done.map_err(|e| (e.to_string(), e.kind(), RankError::is_quiet(&e)))
    }

    #[test]
    fn a_set_rank_0_refuses_ends_the_serving_ranks_with_its_exit_code() {
        let (sc, targets) = chain_with_a_target("ranks");
        // The first set (1,000 people) runs on both ranks; the second, a
        // quarter of the way up the range, would need more agents than the
        // engine's ids: rank 0 refuses it (bad input, exit 2).
        let specs = vec![ParamSpec {
            path: "population.walkers.people".into(),
            lo: 1.0,
            hi: 1e12,
        }];
        let outcomes = Meeting::new(2).run(|me| calibrate_on(me, &sc, &targets, &specs));
        let Err((said, Kind::BadInput, false)) = &outcomes[0] else {
            panic!("rank 0 refuses the set: {:?}", outcomes[0]);
        };
        assert!(said.contains("agents"), "{said}");
        assert_eq!(
            outcomes[1],
            Err((said.clone(), Kind::BadInput, true)),
            "rank 1 exits as rank 0 does"
        );
    }

    /// Processes whose gathered messages from rank 1 reach rank 0 unreadable.
    struct Corrupt<'a, 'm>(&'a crate::experiment::meeting::Member<'m>);

    impl Exchange for Corrupt<'_, '_> {
        fn rank(&self) -> usize {
            self.0.rank()
        }
        fn size(&self) -> usize {
            self.0.size()
        }
        fn sum_u64(&self, buf: &mut [u64]) {
            self.0.sum_u64(buf)
        }
        fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>> {
            self.0.all_gather(local)
        }
        fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>> {
            let mut all = self.0.gather_to_root(local);
            if let Some(b) = all.get_mut(1) {
                *b = vec![0xff; 3];
            }
            all
        }
    }

    #[test]
    fn a_set_whose_runs_rank_0_cannot_read_ends_the_serving_ranks_too() {
        let (sc, targets) = chain_with_a_target("unreadable");
        let specs = vec![ParamSpec {
            path: "population.walkers.people".into(),
            lo: 500.0,
            hi: 2000.0,
        }];
        // Before the gather was agreed on, rank 1 went back to wait for the
        // next set while rank 0 failed: the meeting fails such a test.
        let outcomes = Meeting::new(2).run(|me| calibrate_on(&Corrupt(me), &sc, &targets, &specs));
        let (zero, one) = (outcomes[0].as_ref().unwrap_err(), outcomes[1].as_ref().unwrap_err());
        assert_eq!((zero.1, zero.2), (Kind::Failure, false), "rank 0 reports: {}", zero.0);
        assert_eq!((one.1, one.2), (Kind::Failure, true), "rank 1 stops quietly: {}", one.0);
    }
}
