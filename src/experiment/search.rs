//! Calibration's search, for any model: parameter bounds (`path=lo:hi`),
//! a derivative-free Nelder–Mead search (the `argmin` crate) in the unit
//! box with common random numbers across evaluations (the caller's score
//! runs the same seeds every time), and the spread of good fits.
//!
//! Owns the bounds' syntax, the search and the order in which it asks
//! for evaluations (each one kept in the caller's `study::journal`, so
//! that an interrupted search resumes). Must not know what a parameter
//! path means or how a set is scored: the model's calibration gives `get`,
//! `set` and `score` (`calibrate` for the default model, `experiment::flee`
//! for Flee's).

use crate::study::journal::Journal;
use crate::study::StudyError;
use argmin::core::{CostFunction, Error as ArgminError, Executor};
use argmin::solver::neldermead::NelderMead;
use std::sync::Mutex;

/// One parameter to search, with its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// The path (`population.haitian_tps.daily_depart_share`, `flee.camp_weight`).
    pub path: String,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// A malformed `--params` list (what is wrong, with an example).
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError(pub String);

/// The optimiser itself failed.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimiserError(pub String);

/// Parses `path=lo:hi,path2,...`; a path without bounds searches [0, 1] for
/// rates, shares and chances and [x/5, 5x] around the current value
/// otherwise. `get` gives a path's current value (or says why the path is
/// wrong); `probe` checks that a value is valid for a path.
pub fn parse_specs<E: From<SpecError>>(
    list: &str,
    get: &dyn Fn(&str) -> Result<f64, E>,
    probe: &dyn Fn(&str, f64) -> Result<(), E>,
) -> Result<Vec<ParamSpec>, E> {
    let spec = |m: String| E::from(SpecError(m));
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (path, bounds) = match item.split_once('=') {
            Some((p, b)) => (p.trim(), Some(b.trim())),
            None => (item, None),
        };
        let current = get(path)?;
        let (lo, hi) = match bounds {
            Some(b) => {
                let (l, h) = b
                    .split_once(':')
                    .ok_or_else(|| spec(format!("`{item}`: bounds are written lo:hi, e.g. {path}=0.1:2")))?;
                let parse = |x: &str| {
                    x.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| spec(format!("`{item}`: `{x}` is not a number")))
                };
                (parse(l)?, parse(h)?)
            }
            None if path.ends_with("_rate")
                || path.ends_with("_share")
                || path.ends_with("learn_per_user")
                || path.ends_with("movechance") =>
            {
                (0.0, 1.0)
            }
            None if current.is_finite() && current > 0.0 => (current / 5.0, current * 5.0),
            None => {
                return Err(spec(format!(
                    "`{path}` has no finite positive value to search around; give bounds: {path}=lo:hi"
                )))
            }
        };
        if lo >= hi {
            return Err(spec(format!("`{item}`: the lower bound must be below the upper")));
        }
        // Both bounds must be valid values of the parameter.
        probe(path, lo)?;
        probe(path, hi)?;
        out.push(ParamSpec {
            path: path.to_string(),
            lo,
            hi,
        });
    }
    if out.is_empty() {
        return Err(spec("no parameter given".into()));
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
    /// Their error (the model's score: mean absolute relative error on
    /// targets, or Flee's averaged relative difference).
    pub best_error: f64,
    /// The error of the starting values.
    pub start_error: f64,
    /// For each parameter, the range among good fits: sets whose error is
    /// within two noise units of the best, where a noise unit is the error
    /// that sampling alone causes at the best set.
    pub spread: Vec<(f64, f64)>,
    /// Parameter sets evaluated.
    pub evaluations: usize,
    /// How many of them were good fits.
    pub good: usize,
}

/// A parameter set's score: its error and its noise unit.
pub type Score<'a, E> = dyn Fn(&[f64]) -> Result<(f64, f64), E> + Sync + 'a;

type Log = Mutex<Vec<(Vec<f64>, f64, f64)>>;

struct Problem<'a, E> {
    specs: &'a [ParamSpec],
    score: &'a Score<'a, E>,
    log: &'a Log,
    failure: &'a Mutex<Option<E>>,
}

impl<E> Problem<'_, E> {
    fn values(&self, unit: &[f64]) -> Vec<f64> {
        unit.iter()
            .zip(self.specs)
            .map(|(u, s)| s.lo + u.clamp(0.0, 1.0) * (s.hi - s.lo))
            .collect()
    }
}

impl<E: std::fmt::Display> CostFunction for Problem<'_, E> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, unit: &Vec<f64>) -> Result<f64, ArgminError> {
        // After a failure nothing more is evaluated (under MPI the other
        // ranks have stopped): the search ends with the failure kept.
        if self.failure.lock().map_or(true, |f| f.is_some()) {
            return Ok(f64::INFINITY);
        }
        let values = self.values(unit);
        // Leaving the unit box costs in proportion to how far.
        let outside: f64 = unit.iter().map(|u| (u - u.clamp(0.0, 1.0)).abs()).sum();
        match (self.score)(&values) {
            Ok((e, noise)) => {
                if let Ok(mut log) = self.log.lock() {
                    log.push((values, e, noise));
                }
                Ok(e + outside)
            }
            Err(err) => {
                if let Ok(mut f) = self.failure.lock() {
                    *f = Some(err);
                }
                // Not an error for argmin: its Nelder–Mead unwraps the
                // costs of the first simplex (a panic). The failure is
                // returned once the (now instant) iterations end.
                Ok(f64::INFINITY)
            }
        }
    }
}

/// How a search keeps and shows its evaluations: the journal of this
/// command (`None`: kept nowhere, e.g. a library caller) and a callback
/// after each evaluation with the evaluations made so far and how many of
/// them the journal answered.
pub struct Keep<'a> {
    /// The journal (`study::journal`) that an interrupted run left.
    pub journal: Option<&'a mut Journal>,
    /// Called after each evaluation: (done, answered from the journal).
    pub progress: &'a (dyn Fn(usize, usize) + Sync),
}

impl Keep<'_> {
    /// Nothing kept, nothing shown.
    pub fn none() -> Keep<'static> {
        Keep {
            journal: None,
            progress: &|_, _| {},
        }
    }
}

/// An evaluation as the journal keeps it: the values' and the results'
/// bits, so that a replayed step gives Nelder–Mead exactly the numbers an
/// uninterrupted run computed (decimal text need not round-trip).
type Bits = Vec<u64>;

fn bits(x: &[f64]) -> Bits {
    x.iter().map(|v| v.to_bits()).collect()
}

/// `score` answered from the journal where the interrupted run made the
/// step, and computed (then appended) otherwise. The model's own error
/// passes through unchanged, so that its exit code stays the model's.
fn journalled<E: From<StudyError>>(
    journal: &Mutex<Option<&mut Journal>>,
    progress: &(dyn Fn(usize, usize) + Sync),
    done: &Mutex<usize>,
    score: &Score<'_, E>,
    values: &[f64],
) -> Result<(f64, f64), E> {
    let mut guard = journal.lock().unwrap_or_else(|e| e.into_inner());
    let Some(j) = guard.as_deref_mut() else {
        let r = score(values)?;
        let mut n = done.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        progress(*n, 0);
        return Ok(r);
    };
    let mut failed = None;
    let kept = j.eval(&bits(values), || {
        score(values).map(|(e, n)| bits(&[e, n])).map_err(|e| {
            failed = Some(e);
            StudyError::Failed("the evaluation failed".into())
        })
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let kept = kept?;
    let (&[e, n], replayed) = (kept.as_slice(), j.replayed()) else {
        return Err(E::from(StudyError::Failed(
            "the journal holds an evaluation that is not an error and a noise unit".into(),
        )));
    };
    let mut count = done.lock().unwrap_or_else(|e| e.into_inner());
    *count += 1;
    progress(*count, replayed);
    Ok((f64::from_bits(e), f64::from_bits(n)))
}

/// Searches the parameters from their `start` values with at most `budget`
/// Nelder–Mead iterations; `score` must use the same seeds for every set.
/// Every evaluation goes through `keep`'s journal, in the order the
/// search asks for them (argmin's Nelder–Mead is sequential and
/// deterministic), so that a rerun of an interrupted search replays it.
pub fn search<E: From<OptimiserError> + From<StudyError> + std::fmt::Display>(
    specs: &[ParamSpec],
    start: &[f64],
    budget: u64,
    score: &Score<'_, E>,
    keep: Keep<'_>,
) -> Result<Calibration, E> {
    let journal = Mutex::new(keep.journal);
    let done = Mutex::new(0);
    let kept = |values: &[f64]| journalled(&journal, keep.progress, &done, score, values);
    search_with(specs, start, budget, &kept)
}

fn search_with<E: From<OptimiserError> + std::fmt::Display>(
    specs: &[ParamSpec],
    start: &[f64],
    budget: u64,
    score: &Score<'_, E>,
) -> Result<Calibration, E> {
    let optimiser = |e: ArgminError| E::from(OptimiserError(e.to_string()));
    let log = Mutex::new(Vec::new());
    let failure = Mutex::new(None);
    let problem = Problem {
        specs,
        score,
        log: &log,
        failure: &failure,
    };
    let start: Vec<f64> = specs
        .iter()
        .zip(start)
        .map(|(s, v)| ((v - s.lo) / (s.hi - s.lo)).clamp(0.0, 1.0))
        .collect();
    let start_values = problem.values(&start);
    let (start_error, start_noise) = score(&start_values)?;
    // The initial simplex: the start and one step of a quarter of the range
    // along each parameter (towards the middle).
    let mut simplex = vec![start.clone()];
    for i in 0..start.len() {
        let mut p = start.clone();
        p[i] += if p[i] > 0.5 { -0.25 } else { 0.25 };
        simplex.push(p);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-4).map_err(optimiser)?;
    let run = Executor::new(problem, solver).configure(|s| s.max_iters(budget)).run();
    if let Some(err) = failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(err);
    }
    run.map_err(optimiser)?;
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
            let (lo, hi) = crate::stats::range(&good.iter().map(|(v, _, _)| v[i]).collect::<Vec<_>>());
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

/// The calibration as TOML, as `calibrate` writes it: a header naming the
/// command (the scenario, then `arguments`: the targets and everything
/// else the result depends on) and the error (`measure`), then one
/// `[[param]]` per parameter.
pub fn render_toml(c: &Calibration, scenario: &std::path::Path, arguments: &str, measure: &str) -> String {
    let mut s = format!(
        "# northbound calibrate {} {arguments}\n# {measure}: {:.4} (start: {:.4}); {} parameter sets evaluated, {} good fits\n\n",
        scenario.display(),
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
