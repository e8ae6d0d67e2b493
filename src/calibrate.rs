//! Calibration: a derivative-free search (Nelder–Mead, from the `argmin`
//! crate) of listed parameters that minimises the mean absolute relative
//! error on targets, with common random numbers across evaluations.
//!
//! Owns the parameter specification (`path=lo:hi`) and the search. Uses
//! `validation` to score a parameter set; must not change the scenario file.

use crate::rng::replicate_seed;
use crate::scenario::params::{self, ParamError};
use crate::scenario::Scenario;
use crate::validation::{self, Target};
use argmin::core::{CostFunction, Error as ArgminError, Executor};
use argmin::solver::neldermead::NelderMead;
use std::sync::Mutex;

/// One parameter to search, with its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// The path (`population.haitian_tps.daily_depart_share`).
    pub path: String,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

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

/// Parses `path=lo:hi,path2,...`; a path without bounds searches [0, 1] for
/// rates and shares and [x/5, 5x] around the current value otherwise.
pub fn parse_specs(sc: &Scenario, list: &str) -> Result<Vec<ParamSpec>, CalibrateError> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (path, bounds) = match item.split_once('=') {
            Some((p, b)) => (p.trim(), Some(b.trim())),
            None => (item, None),
        };
        let current = params::get(sc, path)?;
        let (lo, hi) = match bounds {
            Some(b) => {
                let (l, h) = b.split_once(':').ok_or_else(|| {
                    CalibrateError::Spec(format!("`{item}`: bounds are written lo:hi, e.g. {path}=0.1:2"))
                })?;
                let parse = |x: &str| {
                    x.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| CalibrateError::Spec(format!("`{item}`: `{x}` is not a number")))
                };
                (parse(l)?, parse(h)?)
            }
            None if path.ends_with("_rate") || path.ends_with("_share") || path.ends_with("learn_per_user") => {
                (0.0, 1.0)
            }
            None if current.is_finite() && current > 0.0 => (current / 5.0, current * 5.0),
            None => {
                return Err(CalibrateError::Spec(format!(
                    "`{path}` has no finite positive value to search around; give bounds: {path}=lo:hi"
                )))
            }
        };
        if lo >= hi {
            return Err(CalibrateError::Spec(format!(
                "`{item}`: the lower bound must be below the upper"
            )));
        }
        // Both bounds must be valid values of the parameter.
        let mut probe = sc.clone();
        params::set(&mut probe, path, lo)?;
        params::set(&mut probe, path, hi)?;
        out.push(ParamSpec {
            path: path.to_string(),
            lo,
            hi,
        });
    }
    if out.is_empty() {
        return Err(CalibrateError::Spec("no parameter given".into()));
    }
    Ok(out)
}

/// What calibration found.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// The parameters searched.
    pub specs: Vec<ParamSpec>,
    /// The best values.
    pub best: Vec<f64>,
    /// Their mean absolute relative error.
    pub best_error: f64,
    /// The error of the starting values.
    pub start_error: f64,
    /// For each parameter, the range among good fits: sets whose error is
    /// within two noise units of the best, where a noise unit is the error
    /// that sampling alone causes at the best set (the replicates' spread
    /// of each target, for the simulated mean and as a stand-in for the
    /// count's own noise).
    pub spread: Vec<(f64, f64)>,
    /// Parameter sets evaluated.
    pub evaluations: usize,
    /// How many of them were good fits.
    pub good: usize,
}

struct Problem<'a> {
    sc: &'a Scenario,
    targets: &'a [Target],
    specs: &'a [ParamSpec],
    seeds: Vec<u64>,
    threads: Option<usize>,
    log: &'a Mutex<Vec<(Vec<f64>, f64, f64)>>,
    failure: &'a Mutex<Option<CalibrateError>>,
}

impl Problem<'_> {
    fn values(&self, unit: &[f64]) -> Vec<f64> {
        unit.iter()
            .zip(self.specs)
            .map(|(u, s)| s.lo + u.clamp(0.0, 1.0) * (s.hi - s.lo))
            .collect()
    }

    /// The error of a parameter set, and its noise unit.
    fn score(&self, values: &[f64]) -> Result<(f64, f64), CalibrateError> {
        let mut sc = self.sc.clone();
        for (v, s) in values.iter().zip(self.specs) {
            params::set(&mut sc, &s.path, *v)?;
        }
        check_evaluation(&sc, self.threads)?;
        let runs = self
            .seeds
            .iter()
            .map(|&seed| validation::simulate(&sc, self.targets, seed, self.threads))
            .collect::<Result<Vec<_>, _>>()?;
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

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, unit: &Vec<f64>) -> Result<f64, ArgminError> {
        let values = self.values(unit);
        // Leaving the unit box costs in proportion to how far.
        let outside: f64 = unit.iter().map(|u| (u - u.clamp(0.0, 1.0)).abs()).sum();
        match self.score(&values) {
            Ok((e, noise)) => {
                if let Ok(mut log) = self.log.lock() {
                    log.push((values, e, noise));
                }
                Ok(e + outside)
            }
            Err(err) => {
                let msg = err.to_string();
                if let Ok(mut f) = self.failure.lock() {
                    *f = Some(err);
                }
                Err(ArgminError::msg(msg))
            }
        }
    }
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
    let log = Mutex::new(Vec::new());
    let failure = Mutex::new(None);
    let problem = Problem {
        sc,
        targets,
        specs,
        seeds: (0..replicates.max(1) as u64)
            .map(|k| replicate_seed(sc.seed, k))
            .collect(),
        threads,
        log: &log,
        failure: &failure,
    };
    let start: Vec<f64> = specs
        .iter()
        .map(|s| {
            let v = params::get(sc, &s.path).unwrap_or(s.lo);
            ((v - s.lo) / (s.hi - s.lo)).clamp(0.0, 1.0)
        })
        .collect();
    let (start_error, start_noise) = problem.score(&problem.values(&start))?;
    // The initial simplex: the start and one step of a quarter of the range
    // along each parameter (towards the middle).
    let mut simplex = vec![start.clone()];
    for i in 0..start.len() {
        let mut p = start.clone();
        p[i] += if p[i] > 0.5 { -0.25 } else { 0.25 };
        simplex.push(p);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-4)
        .map_err(|e| CalibrateError::Optimiser(e.to_string()))?;
    let start_values = problem.values(&start);
    let run = Executor::new(problem, solver).configure(|s| s.max_iters(budget)).run();
    if let Ok(mut f) = failure.lock() {
        if let Some(err) = f.take() {
            return Err(err);
        }
    }
    run.map_err(|e| CalibrateError::Optimiser(e.to_string()))?;
    let log = log.into_inner().unwrap_or_default();
    // The best set evaluated (the optimiser's best may lie outside the box,
    // where its cost carries a penalty; the log holds clamped values).
    let (best, best_error, noise) = match log.iter().min_by(|a, b| a.1.total_cmp(&b.1)).cloned() {
        Some((v, e, n)) if e <= start_error => (v, e, n),
        _ => (start_values, start_error, start_noise),
    };
    let cutoff = best_error + 2.0 * noise.max(0.0025);
    let good: Vec<&(Vec<f64>, f64, f64)> = log.iter().filter(|(_, e, _)| *e <= cutoff).collect();
    let spread = (0..specs.len())
        .map(|i| {
            let xs = good.iter().map(|(v, _, _)| v[i]);
            let lo = xs.clone().fold(f64::INFINITY, f64::min);
            let hi = xs.fold(f64::NEG_INFINITY, f64::max);
            if lo.is_finite() {
                (lo, hi)
            } else {
                (best[i], best[i])
            }
        })
        .collect();
    Ok(Calibration {
        specs: specs.to_vec(),
        best,
        best_error,
        start_error,
        spread,
        evaluations: log.len(),
        good: good.len(),
    })
}

/// The calibration as TOML, as `calibrate` writes it.
pub fn render_toml(c: &Calibration, scenario: &Scenario, targets_file: &str) -> String {
    let mut s = format!(
        "# northbound calibrate {} --targets {targets_file}\n# mean absolute relative error: {:.4} (start: {:.4}); {} parameter sets evaluated, {} good fits\n\n",
        scenario.file.display(),
        c.best_error,
        c.start_error,
        c.evaluations,
        c.good
    );
    for ((spec, v), (lo, hi)) in c.specs.iter().zip(&c.best).zip(&c.spread) {
        s += &format!(
            "[[param]]\npath = \"{}\"\nvalue = {}\nsearched = [{}, {}]\ngood_fits = [{}, {}]\n\n",
            spec.path,
            fmt(*v),
            fmt(spec.lo),
            fmt(spec.hi),
            fmt(*lo),
            fmt(*hi)
        );
    }
    s
}

fn fmt(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        format!("{x:.6}")
    }
}
