//! What a study asks of a model: check a parameter, run the replicates of
//! one point, and give back one row of numbers per replicate.
//!
//! Owns [`PointRunner`] and its two implementations: [`DefaultRunner`] (the
//! default model, through `ensemble::replicates_with`: replicates on one
//! pool, spread over MPI ranks and gathered on rank 0, uncertain inputs
//! drawn per replicate) and [`FleeRunner`] (the `flee` model, through
//! `flee::sim::run` on a copy of the scenario with the point's settings).
//! Replicate k of every point uses the same seed (common random numbers).
//! Must not write anything: the study layer stores and writes the rows.

use super::metric::{self, Metric, Recorded};
use super::StudyError;
use crate::agents::{Event, State};
use crate::engine::{Col, Exchange};
use crate::ensemble::{self, Inputs, Replicate, COMPARED_COLS};
use crate::flee::{self, FleeScenario};
use crate::scenario::{params, Scenario};
use serde::{Deserialize, Serialize};

/// One replicate at one point: what `runs.csv` and the sweep's tables are
/// written from (and what a study's store keeps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepResult {
    /// Replicate number (its seed is the same at every point).
    pub replicate: usize,
    /// Its seed.
    pub seed: u64,
    /// The outputs, in [`PointRunner::outputs`] order.
    pub outputs: Vec<f64>,
    /// The default model's place flows over the run (`sweep_long.csv`):
    /// place by place, [`COMPARED_COLS`] within each. Empty for flee.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<u64>,
}

/// Each point's replicates in replicate order, points in the order asked
/// (`None` on MPI ranks other than 0).
pub type PointRows = Result<Option<Vec<Vec<RepResult>>>, StudyError>;

/// A model as a study sees it.
pub trait PointRunner: Sync {
    /// The output columns of `runs.csv`: the headline outputs, then the
    /// `--metric`s.
    fn outputs(&self) -> Vec<String>;
    /// Whether `path` may be set to `value` (`Err`: what is valid, with the
    /// nearest valid paths for a path that names nothing).
    fn check(&self, path: &str, value: f64) -> Result<(), String>;
    /// The scenario's seed (designs are drawn from it).
    fn seed(&self) -> u64;
    /// Checks that every point can be set up and fits this machine before
    /// anything runs.
    fn prepare(&self, paths: &[String], points: &[Vec<f64>], replicates: usize) -> Result<(), StudyError>;
    /// Runs replicates 0..n at each of `points` as one list of jobs
    /// (`experiment::batch`: side by side, spread over the processes of
    /// `ranks`); the results, point by point in replicate order, on rank 0
    /// (`None` on the others).
    fn run_points(&self, paths: &[String], points: &[&[f64]], n: usize, ranks: &dyn Exchange) -> PointRows;
    /// How many points to run at once with `replicates` each: enough that
    /// the replicates fill the threads evenly (threads / gcd(replicates,
    /// threads): with 2 threads, two points when the replicates are odd —
    /// one replicate a point runs two points side by side — and one when
    /// they are even).
    fn points_at_once(&self, replicates: usize) -> usize;
}

/// [`PointRunner::points_at_once`] on `threads` (all cores if `None`).
fn points_at_once(threads: Option<usize>, replicates: usize) -> usize {
    let t = crate::limits::workers(threads).max(1);
    let (mut a, mut b) = (t, replicates.max(1));
    while b != 0 {
        (a, b) = (b, a % b);
    }
    t / a
}

/// The default model.
pub struct DefaultRunner<'a> {
    /// The scenario (scaled, as the command asked).
    pub sc: &'a Scenario,
    /// The named place-level outputs.
    pub metrics: Vec<Metric>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Whether replicates draw the uncertain inputs.
    pub inputs: Inputs,
    /// Set to stop every run at the end of its day.
    pub stop: Option<crate::results::Stop>,
}

impl<'a> DefaultRunner<'a> {
    /// A runner for `sc` with the `--metric`s parsed against it.
    pub fn new(sc: &'a Scenario, metric_specs: &[String]) -> Result<DefaultRunner<'a>, StudyError> {
        let names: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
        let places: Vec<String> = sc.places.iter().map(|p| p.id.clone()).collect();
        let window = |w: &str| crate::publish::windows::parse_window(&sc.calendar, w);
        let rec = Recorded {
            metrics: &names,
            places: &places,
            window: &window,
            days: sc.calendar.days,
        };
        let metrics = metric_specs
            .iter()
            .map(|m| metric::parse(m, &rec))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DefaultRunner {
            sc,
            metrics,
            threads: None,
            inputs: Inputs::Drawn,
            stop: None,
        })
    }

    fn at(&self, paths: &[String], values: &[f64]) -> Result<Scenario, StudyError> {
        let mut s = self.sc.clone();
        for (p, v) in paths.iter().zip(values) {
            params::set(&mut s, p, *v).map_err(|e| StudyError::Spec(e.to_string()))?;
        }
        Ok(s)
    }

    /// One replicate's row: people per final state, person-events per
    /// event (as `ensemble::headline`), then the metrics.
    fn row(&self, k: usize, r: &Replicate) -> RepResult {
        let mut outputs: Vec<f64> = State::ALL.iter().map(|s| r.result.states[*s as usize] as f64).collect();
        outputs.extend(
            Event::ALL
                .iter()
                .map(|e| r.result.events.iter().map(|c| c[*e as usize][0]).sum::<u64>() as f64),
        );
        for m in &self.metrics {
            let days = &r.daily[m.days.0 as usize..=(m.days.1 as usize).min(r.daily.len().saturating_sub(1))];
            let sum: u64 = days.iter().map(|d| d[m.place][m.metric]).sum();
            // People present is a stock: its mean over the window; the
            // other columns are flows: their sum.
            outputs.push(if m.metric == Col::Present as usize {
                sum as f64 / days.len().max(1) as f64
            } else {
                sum as f64
            });
        }
        let flows = (0..self.sc.places.len())
            .flat_map(|p| COMPARED_COLS.iter().map(move |c| r.total(p, *c)))
            .collect();
        RepResult {
            replicate: k,
            seed: r.seed,
            outputs,
            flows,
        }
    }
}

impl PointRunner for DefaultRunner<'_> {
    fn outputs(&self) -> Vec<String> {
        let mut v: Vec<String> = ensemble::headline(&[]).into_iter().map(|(m, _)| m).collect();
        v.extend(self.metrics.iter().map(|m| m.name.clone()));
        v
    }

    fn check(&self, path: &str, value: f64) -> Result<(), String> {
        let mut probe = self.sc.clone();
        params::set(&mut probe, path, value).map_err(|e| e.to_string())
    }

    fn seed(&self) -> u64 {
        self.sc.seed
    }

    fn prepare(&self, paths: &[String], points: &[Vec<f64>], replicates: usize) -> Result<(), StudyError> {
        let workers = self.threads.unwrap_or_else(rayon::current_num_threads);
        for values in points {
            let s = self.at(paths, values)?;
            let what = format!(
                "sweep point {}",
                paths
                    .iter()
                    .zip(values)
                    .map(|(p, v)| format!("{p}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // The replicates of the points run at once are kept together.
            let kept = replicates * self.points_at_once(replicates);
            crate::limits::check(&what, crate::limits::ensemble(&s, kept, workers, false, 0))
                .map_err(|e| StudyError::Spec(e.to_string()))?;
        }
        Ok(())
    }

    fn run_points(&self, paths: &[String], points: &[&[f64]], n: usize, ranks: &dyn Exchange) -> PointRows {
        let scs = points
            .iter()
            .map(|values| self.at(paths, values))
            .collect::<Result<Vec<_>, _>>()?;
        let extra = ensemble::Extra {
            stop: self.stop.clone(),
            inputs: self.inputs,
            ..ensemble::Extra::default()
        };
        let scs: Vec<&Scenario> = scs.iter().collect();
        let reps = ensemble::replicates_of(&scs, n, self.threads, &|| {}, ranks, &extra)?;
        if ranks.rank() != 0 {
            return Ok(None);
        }
        Ok(Some(
            reps.iter()
                .map(|point| point.iter().enumerate().map(|(k, r)| self.row(k, r)).collect())
                .collect(),
        ))
    }

    fn points_at_once(&self, replicates: usize) -> usize {
        points_at_once(self.threads, replicates)
    }
}

/// The `flee` model. Its headline outputs: people in the simulation and on
/// links at the end of the run, then the people in each camp of day 0 at
/// the end (`people@CAMP`).
pub struct FleeRunner<'a> {
    /// The scenario (configured: compat, scale).
    pub sc: &'a FleeScenario,
    /// The named place-level outputs.
    pub metrics: Vec<Metric>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
}

/// What a flee run records per location and day.
const FLEE_METRICS: [&str; 2] = ["people", "agents"];

impl<'a> FleeRunner<'a> {
    /// A runner for `sc` with the `--metric`s parsed against it:
    /// `people@LOCATION` or `agents@LOCATION`, the mean over the window's days.
    pub fn new(sc: &'a FleeScenario, metric_specs: &[String]) -> Result<FleeRunner<'a>, StudyError> {
        let places: Vec<String> = sc.locations.iter().map(|l| l.name.clone()).collect();
        let window = |w: &str| -> Result<(u32, u32), String> {
            let (a, z) = w
                .split_once("..")
                .ok_or_else(|| format!("`{w}`: write FROM..UNTIL, e.g. 2012-03-01..2012-06-30"))?;
            let day = |s: &str| {
                crate::time::parse_date(s.trim())
                    .map(|d| (d - sc.start).num_days())
                    .filter(|d| (0..sc.days as i64).contains(d))
                    .ok_or_else(|| format!("`{s}` is not a date (YYYY-MM-DD) inside the run"))
            };
            let (a, z) = (day(a)?, day(z)?);
            if a > z {
                return Err(format!("`{w}`: FROM is after UNTIL"));
            }
            Ok((a as u32, z as u32))
        };
        let rec = Recorded {
            metrics: &FLEE_METRICS,
            places: &places,
            window: &window,
            days: sc.days,
        };
        let metrics = metric_specs
            .iter()
            .map(|m| metric::parse(m, &rec))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FleeRunner {
            sc,
            metrics,
            threads: None,
        })
    }

    fn at(&self, paths: &[String], values: &[f64]) -> Result<FleeScenario, StudyError> {
        let mut s = self.sc.clone();
        for (p, v) in paths.iter().zip(values) {
            flee::params::set(&mut s, p, *v).map_err(|e| StudyError::Spec(e.to_string()))?;
        }
        Ok(s)
    }

    fn row(&self, sc: &FleeScenario, k: usize, seed: u64, run: &flee::sim::FleeRun) -> RepResult {
        let per = sc.settings.hasten as f64;
        let last = run.counts.last().cloned().unwrap_or_default();
        let mut outputs = vec![
            run.agents.last().copied().unwrap_or(0) as f64 * per,
            run.travelling.last().copied().unwrap_or(0) as f64 * per,
        ];
        outputs.extend(
            run.camps
                .iter()
                .map(|&c| last.get(c as usize).copied().unwrap_or(0) as f64 * per),
        );
        for m in &self.metrics {
            let days = &run.counts[m.days.0 as usize..=(m.days.1 as usize).min(run.counts.len().saturating_sub(1))];
            let sum: f64 = days.iter().map(|d| d[m.place] as f64).sum();
            let mean = sum / days.len().max(1) as f64;
            outputs.push(if m.metric == 0 { mean * per } else { mean });
        }
        RepResult {
            replicate: k,
            seed,
            outputs,
            flows: Vec::new(),
        }
    }
}

impl PointRunner for FleeRunner<'_> {
    fn outputs(&self) -> Vec<String> {
        let mut v = vec!["people".to_string(), "travelling".to_string()];
        v.extend(
            self.sc
                .camps()
                .iter()
                .map(|&c| format!("people@{}", self.sc.locations[c as usize].name)),
        );
        v.extend(self.metrics.iter().map(|m| m.name.clone()));
        v
    }

    fn check(&self, path: &str, value: f64) -> Result<(), String> {
        let mut probe = self.sc.clone();
        flee::params::set(&mut probe, path, value).map_err(|e| e.to_string())
    }

    fn seed(&self) -> u64 {
        self.sc.seed
    }

    fn prepare(&self, paths: &[String], points: &[Vec<f64>], _replicates: usize) -> Result<(), StudyError> {
        for values in points {
            self.at(paths, values)?;
        }
        Ok(())
    }

    fn run_points(&self, paths: &[String], points: &[&[f64]], n: usize, ranks: &dyn Exchange) -> PointRows {
        let scs = points
            .iter()
            .map(|values| self.at(paths, values))
            .collect::<Result<Vec<_>, _>>()?;
        // Through the experiment layer: each point's route tables prepared
        // once for its replicates, job j of the batch on process j mod P,
        // gathered on rank 0 in the one wire format.
        let model = crate::experiment::flee::FleeModel { on_day: &|| {} };
        let plans: Vec<_> = scs.iter().map(|s| crate::experiment::plan(s.seed, n, &[])).collect();
        let groups: Vec<_> = scs.iter().zip(&plans).map(|(s, p)| (s, p.as_slice())).collect();
        let runs = crate::experiment::batch(&model, &groups, self.threads, ranks, &|| {})
            .map_err(|e| StudyError::Failed(e.to_string()))?;
        if ranks.rank() != 0 {
            return Ok(None);
        }
        Ok(Some(
            scs.iter()
                .zip(&plans)
                .zip(&runs)
                .map(|((s, plan), runs)| {
                    plan.iter()
                        .zip(runs)
                        .map(|(r, run)| self.row(s, r.index, r.seed, run))
                        .collect()
                })
                .collect(),
        ))
    }

    fn points_at_once(&self, replicates: usize) -> usize {
        points_at_once(self.threads, replicates)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn points_run_together_until_their_replicates_fill_the_threads_evenly() {
        assert_eq!(
            super::points_at_once(Some(2), 1),
            2,
            "one replicate a point: two points side by side"
        );
        assert_eq!(super::points_at_once(Some(2), 5), 2, "ten replicates over two threads");
        assert_eq!(super::points_at_once(Some(2), 4), 1);
        assert_eq!(super::points_at_once(Some(3), 2), 3);
        assert_eq!(super::points_at_once(Some(1), 7), 1);
    }
}
