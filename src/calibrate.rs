//! Calibration of the default model: the mean absolute relative error on
//! targets of a parameter set (`validation`), searched by the experiment
//! layer's Nelder–Mead (`experiment::search`) with common random numbers
//! across evaluations.
//!
//! Owns the default model's parameter paths in a search (`scenario::params`)
//! and its score. Must not change the scenario file.

use crate::experiment::search::{self, OptimiserError, SpecError};
pub use crate::experiment::search::{Calibration, Keep, ParamSpec};
use crate::rng::replicate_seed;
use crate::scenario::params::{self, ParamError};
use crate::scenario::Scenario;
use crate::validation::{self, Target};

/// Why calibration could not run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// A parameter was not understood.
    #[error("{0}")]
    Param(#[from] ParamError),
    /// A parameter specification is malformed.
    #[error("--params: {0}")]
    Spec(String),
    /// A run failed.
    #[error("{0}")]
    Engine(#[from] crate::engine::EngineError),
    /// The optimiser failed.
    #[error("the optimiser failed: {0}")]
    Optimiser(String),
    /// An evaluation would not fit in memory or in the agent ids.
    #[error("{0}")]
    Limit(#[from] crate::limits::LimitError),
    /// The journal of evaluations could not be read or written.
    #[error("{0}")]
    Journal(#[from] crate::study::StudyError),
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
/// bound: people and departures only grow with them) before it starts.
pub fn check_limits(sc: &Scenario, specs: &[ParamSpec], threads: Option<usize>) -> Result<(), CalibrateError> {
    let mut big = sc.clone();
    for s in specs {
        params::set(&mut big, &s.path, s.hi)?;
    }
    check_evaluation(&big, threads)
}

fn check_evaluation(sc: &Scenario, threads: Option<usize>) -> Result<(), CalibrateError> {
    let need = crate::limits::ensemble(sc, 1, threads.unwrap_or(1), false, 0);
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

/// The error of a parameter set on `seeds`' runs, and its noise unit.
fn score(
    sc: &Scenario,
    targets: &[Target],
    specs: &[ParamSpec],
    seeds: &[u64],
    threads: Option<usize>,
    values: &[f64],
) -> Result<(f64, f64), CalibrateError> {
    let mut sc = sc.clone();
    for (v, s) in values.iter().zip(specs) {
        params::set(&mut sc, &s.path, *v)?;
    }
    check_evaluation(&sc, threads)?;
    let runs = seeds
        .iter()
        .map(|&seed| validation::simulate(&sc, targets, seed, threads))
        .collect::<Result<Vec<_>, _>>()?;
    let v = validation::compare(targets, &runs);
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
    calibrate_kept(sc, targets, specs, budget, replicates, threads, Keep::none())
}

/// [`calibrate`] with its evaluations kept in a journal (the command line's
/// store beside the result, which an interrupted run leaves for the same
/// command to resume) and shown as they are made.
pub fn calibrate_kept(
    sc: &Scenario,
    targets: &[Target],
    specs: &[ParamSpec],
    budget: u64,
    replicates: usize,
    threads: Option<usize>,
    keep: Keep<'_>,
) -> Result<Calibration, CalibrateError> {
    let seeds: Vec<u64> = (0..replicates.max(1) as u64)
        .map(|k| replicate_seed(sc.seed, k))
        .collect();
    let start: Vec<f64> = specs.iter().map(|s| params::get(sc, &s.path).unwrap_or(s.lo)).collect();
    search::search(
        specs,
        &start,
        budget,
        &|values: &[f64]| score(sc, targets, specs, &seeds, threads, values),
        keep,
    )
}

/// The calibration as TOML, as `calibrate` writes it.
pub fn render_toml(c: &Calibration, scenario: &Scenario, targets_file: &str) -> String {
    search::render_toml(c, &scenario.file, targets_file, "mean absolute relative error")
}
