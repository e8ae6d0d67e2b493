//! Validation against what was counted: targets, replicated runs, errors,
//! and the naive persistence forecast to beat.
//!
//! Owns the targets file (`[[target]]` tables), the reading of simulated
//! values for each target from a run, and the error figures. Replicates
//! run through the experiment layer (`experiment::replicates` with
//! `experiment::default::TargetsModel`: tables prepared once, replicates
//! side by side and over MPI processes). Runs the engine through its
//! public API; must not change how it simulates.

use crate::agents::{Event, State};
use crate::engine::{self, Col, DayView, EngineError, Exchange, Recorder, RunConfig, RunResult};
use crate::ensemble::EnsembleError;
use crate::experiment::{self, default::TargetsModel};
use crate::results::Stop;
use crate::scenario::diag::{closest, LoadError};
use crate::scenario::read::{Reader, Sp, Tbl};
use crate::scenario::{Country, PlaceIx, Scenario};
use crate::stats;
use std::path::Path;

/// What a target measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// A column of `places.csv` (flows summed over the window, `present`
    /// averaged over it).
    Col(Col),
    /// People in a state at the end of the run (no `place`).
    State(State),
    /// Person-events over the whole run (no `place`).
    Event(Event),
}

/// One counted figure to compare with.
#[derive(Clone, Debug)]
pub struct Target {
    /// Id.
    pub id: String,
    /// Places summed (empty: a whole-run figure).
    pub places: Vec<PlaceIx>,
    /// What is measured.
    pub metric: Metric,
    /// Only people of this nationality.
    pub nationality: Option<Country>,
    /// First day of the window.
    pub from: u32,
    /// Last day of the window.
    pub until: u32,
    /// The counted value.
    pub value: f64,
    /// Where it comes from.
    pub source: String,
}

impl Target {
    /// The series a target belongs to, for the persistence forecast.
    fn series(&self) -> (Vec<PlaceIx>, Metric, Option<Country>) {
        (self.places.clone(), self.metric, self.nationality)
    }
}

const TARGET_KEYS: &[&str] = &[
    "id",
    "place",
    "metric",
    "nationality",
    "from",
    "until",
    "value",
    "source",
];

/// Loads a targets file against a scenario.
pub fn load_targets(path: &Path, sc: &Scenario) -> Result<Vec<Target>, LoadError> {
    let text = crate::scenario::read::read_text(path)?;
    crate::scenario::read::read_toml(&text, path, &["target"], |r, root| read_targets(r, root, sc))
}

fn read_targets(r: &mut Reader, root: &mut Tbl, sc: &Scenario) -> Option<Vec<Target>> {
    let mut out: Vec<Target> = Vec::new();
    let tables = root.tables(r, "target");
    if tables.is_empty() {
        let span = r.head(&root.span);
        r.err(
            span,
            "target",
            "no [[target]] in the file",
            "add [[target]] tables with id, metric, value and source",
        );
    }
    let cal = sc.calendar;
    let mut ids = std::collections::HashSet::new();
    for mut t in tables {
        let id = t.str(r, "id", true, "a short id, e.g. \"roxham_2017_08\"");
        if let Some(i) = &id {
            t.path = format!("target[{}]", i.v);
            if !ids.insert(i.v.clone()) {
                r.err(
                    i.span.clone(),
                    &t.field("id"),
                    format!("duplicate target id `{}`", i.v),
                    "target ids must be unique",
                );
            }
        }
        let place_field = t.field("place");
        let places: Option<Vec<PlaceIx>> = t
            .strs(r, "place", false, "a place id or a list of place ids")
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| match sc.place_index.get(&p.v) {
                        Some(&i) => Some(i),
                        None => {
                            let dym = closest(&p.v, sc.place_index.keys().map(String::as_str))
                                .map(|c| format!("did you mean \"{c}\"? "))
                                .unwrap_or_default();
                            r.err(
                                p.span.clone(),
                                &place_field,
                                format!("no place in the scenario has id \"{}\"", p.v),
                                format!("{dym}use place ids of {}", sc.about.file.display()),
                            );
                            None
                        }
                    })
                    .collect()
            });
        let with_place = t.has("place");
        let metric = t.str(r, "metric", true, "a places.csv column, a state or an event");
        let metric = metric.and_then(|m| parse_metric(r, &m, with_place, &t.field("metric")));
        let nationality = t
            .str(r, "nationality", false, "")
            .and_then(|n| match Country::parse(&n.v) {
                Some(c) => Some(c),
                None => {
                    r.err(
                        n.span,
                        &t.field("nationality"),
                        format!("\"{}\" is not an ISO 3166-1 alpha-2 code", n.v),
                        "two capital letters, e.g. \"HT\"",
                    );
                    None
                }
            });
        let from = t.date(r, "from", false);
        let until = t.date(r, "until", false);
        let window =
            |d: &Option<Sp<chrono::NaiveDate>>, default: i64| d.as_ref().map(|d| cal.day_of(d.v)).unwrap_or(default);
        let (f, u) = (window(&from, 0), window(&until, cal.days as i64 - 1));
        let mut window_ok = true;
        for (d, field) in [(&from, "from"), (&until, "until")] {
            if let Some(d) = d {
                let day = cal.day_of(d.v);
                if day < 0 || day >= cal.days as i64 {
                    r.err(
                        d.span.clone(),
                        &t.field(field),
                        format!("{} is outside the scenario ({} to {})", d.v, cal.start, cal.end()),
                        "a target's window must lie within the scenario's run",
                    );
                    window_ok = false;
                }
            }
        }
        if window_ok && u < f {
            if let Some(us) = &until {
                r.err(
                    us.span.clone(),
                    &t.field("until"),
                    "until is before from",
                    "windows are inclusive: until on or after from",
                );
            }
            window_ok = false;
        }
        let value = t.num(r, "value", true, "the counted value, ≥ 0");
        if let Some(v) = &value {
            if v.v < 0.0 {
                r.err(
                    v.span.clone(),
                    &t.field("value"),
                    "a count cannot be negative",
                    "the counted value, ≥ 0",
                );
            }
        }
        let source = t.str(
            r,
            "source",
            true,
            "where the value comes from (a facts.md section or a citation)",
        );
        t.finish(r, TARGET_KEYS);
        if let (Some(id), Some(metric), Some(value), Some(source), true) = (id, metric, value, source, window_ok) {
            out.push(Target {
                id: id.v,
                places: places.unwrap_or_default(),
                metric,
                nationality,
                from: f as u32,
                until: u as u32,
                value: value.v,
                source: source.v,
            });
        }
    }
    Some(out)
}

fn parse_metric(r: &mut Reader, m: &Sp<String>, with_place: bool, field: &str) -> Option<Metric> {
    let cols: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
    let states: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
    let events: Vec<&str> = Event::ALL.iter().map(|e| e.name()).collect();
    if with_place {
        if let Some(c) = Col::ALL.iter().find(|c| c.name() == m.v) {
            return Some(Metric::Col(*c));
        }
        let dym = closest(&m.v, cols.iter().copied())
            .map(|c| format!("did you mean \"{c}\"? "))
            .unwrap_or_default();
        r.err(
            m.span.clone(),
            field,
            format!("\"{}\" is not a places.csv column", m.v),
            format!("{dym}with a place, metric is one of {}", cols.join(", ")),
        );
        return None;
    }
    if let Some(s) = State::ALL.iter().find(|s| s.name() == m.v) {
        return Some(Metric::State(*s));
    }
    if let Some(e) = Event::ALL.iter().find(|e| e.name() == m.v) {
        return Some(Metric::Event(*e));
    }
    let all: Vec<&str> = states.iter().chain(&events).copied().collect();
    let dym = closest(&m.v, all.iter().copied())
        .map(|c| format!("did you mean \"{c}\"? "))
        .unwrap_or_default();
    r.err(
        m.span.clone(),
        field,
        format!("\"{}\" is not a state or an event", m.v),
        format!(
            "{dym}without a place, metric is a state ({}) or an event ({})",
            states.join(", "),
            events.join(", ")
        ),
    );
    None
}

/// Collects, during a run, the simulated value of every target that reads
/// `places.csv` or `cohort_places.csv`.
struct TargetRecorder<'t> {
    targets: &'t [Target],
    /// Cohorts of each target's nationality (empty: all).
    cohorts: Vec<Vec<usize>>,
    sums: Vec<f64>,
}

impl Recorder for TargetRecorder<'_> {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        let n = v.scenario.places.len();
        for (k, t) in self.targets.iter().enumerate() {
            let Metric::Col(col) = t.metric else { continue };
            if v.day < t.from || v.day > t.until {
                continue;
            }
            let mut x = 0u64;
            for &p in &t.places {
                if t.nationality.is_none() {
                    x += v.places[p as usize][col as usize];
                } else {
                    for &c in &self.cohorts[k] {
                        x += v
                            .by_cohort
                            .get(c * n + p as usize)
                            .map(|r| r[col as usize])
                            .unwrap_or(0);
                    }
                }
            }
            self.sums[k] += x as f64;
        }
        Ok(())
    }
}

/// The simulated value of each target in one run.
pub fn simulate(sc: &Scenario, targets: &[Target], seed: u64, threads: Option<usize>) -> Result<Vec<f64>, EngineError> {
    let p = engine::Prepared::new(sc);
    engine::pool(threads)?.install(|| simulate_prepared(&p, sc, targets, seed, None))
}

/// As [`simulate`], on the scenario's tables prepared once (`p`, shared
/// by every replicate) and on the current rayon pool; `stop` ends the run
/// early (`results::Stop`). Exactly the run of [`simulate`].
pub(crate) fn simulate_prepared(
    p: &engine::Prepared,
    sc: &Scenario,
    targets: &[Target],
    seed: u64,
    stop: Option<&Stop>,
) -> Result<Vec<f64>, EngineError> {
    let cohorts: Vec<Vec<usize>> = targets
        .iter()
        .map(|t| match t.nationality {
            Some(n) => sc
                .cohorts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.nationality == n)
                .map(|(i, _)| i)
                .collect(),
            None => (0..sc.cohorts.len()).collect(),
        })
        .collect();
    let mut rec = TargetRecorder {
        targets,
        cohorts: cohorts.clone(),
        sums: vec![0.0; targets.len()],
    };
    let cfg = RunConfig {
        seed: Some(seed),
        threads: None,
        by_cohort: targets.iter().any(|t| t.nationality.is_some() && !t.places.is_empty()),
    };
    let mut stop = stop.cloned();
    let result: RunResult = {
        let mut recs: Vec<&mut dyn Recorder> = vec![&mut rec];
        if let Some(s) = stop.as_mut() {
            recs.push(s);
        }
        engine::run_prepared_here(p, sc, &cfg, &mut recs)?
    };
    Ok(targets
        .iter()
        .enumerate()
        .map(|(k, t)| match t.metric {
            Metric::Col(Col::Present) => rec.sums[k] / (t.until - t.from + 1) as f64,
            Metric::Col(_) => rec.sums[k],
            Metric::State(s) => cohorts[k].iter().map(|&c| result.outcomes[c][s as usize] as f64).sum(),
            Metric::Event(e) => cohorts[k].iter().map(|&c| result.events[c][e as usize][0] as f64).sum(),
        })
        .collect())
}

/// How the replicates of a validation or a calibration run: side by side
/// on a pool of `threads`, spread over the processes of `ranks`
/// (replicate k on process k mod P), `stop` ending them early, `on_done`
/// called as each finishes.
pub struct Replicates<'a> {
    /// How many (at least one is run).
    pub n: usize,
    /// Worker threads (all cores if `None`).
    pub threads: Option<usize>,
    /// The processes (`engine::Local` without MPI).
    pub ranks: &'a dyn Exchange,
    /// Ends every replicate still running at the end of its day.
    pub stop: Option<Stop>,
    /// Called as each replicate finishes.
    pub on_done: &'a (dyn Fn() + Sync),
}

impl Replicates<'_> {
    /// `n` replicates on this process alone, not stopped, not shown.
    pub fn local(n: usize, threads: Option<usize>) -> Replicates<'static> {
        Replicates {
            n,
            threads,
            ranks: &engine::Local,
            stop: None,
            on_done: &|| {},
        }
    }
}

/// Each replicate's simulated value of every target (`runs[replicate]
/// [target]`; replicate k with `replicate_seed(sc.seed, k)`), run through
/// the experiment layer with the default model: the scenario's tables are
/// prepared once and shared. Every run on rank 0, in replicate order;
/// nothing on the other ranks. The same numbers for any number of threads
/// or processes.
pub fn simulate_replicates(
    sc: &Scenario,
    targets: &[Target],
    reps: &Replicates<'_>,
) -> Result<Vec<Vec<f64>>, EnsembleError> {
    let plan = experiment::plan(sc.seed, reps.n.max(1), &[]);
    let model = TargetsModel {
        targets,
        stop: reps.stop.clone(),
    };
    experiment::replicates(&model, sc, &plan, reps.threads, reps.ranks, reps.on_done)
}

/// One target's comparison.
#[derive(Clone, Debug)]
pub struct Row {
    /// The target.
    pub id: String,
    /// Counted.
    pub observed: f64,
    /// Mean over replicates.
    pub mean: f64,
    /// 2.5th percentile over replicates.
    pub lo: f64,
    /// 97.5th percentile over replicates.
    pub hi: f64,
    /// Standard deviation over replicates.
    pub sd: f64,
    /// |mean − observed| / observed.
    pub rel_error: f64,
}

/// The result of validating a scenario.
#[derive(Clone, Debug)]
pub struct Validation {
    /// One row per target.
    pub rows: Vec<Row>,
    /// Mean absolute relative error over targets.
    pub mare: f64,
    /// The persistence forecast's error, the model's error on the same
    /// targets, and how many targets allow it; `None` if none do.
    pub persistence: Option<(f64, f64, usize)>,
}

/// Relative error, with a zero observation compared in absolute terms.
fn rel(sim: f64, obs: f64) -> f64 {
    if obs == 0.0 {
        sim.abs()
    } else {
        (sim - obs).abs() / obs
    }
}

/// Runs the replicates of `reps` (seeds derived from the scenario's;
/// spread over `reps.ranks`) and compares each target: on rank 0; `None`
/// on the other ranks, which only run their share of the replicates.
pub fn validate(sc: &Scenario, targets: &[Target], reps: &Replicates<'_>) -> Result<Option<Validation>, EnsembleError> {
    let runs = simulate_replicates(sc, targets, reps)?;
    Ok((reps.ranks.rank() == 0).then(|| compare(targets, &runs)))
}

/// Compares replicate values (`runs[replicate][target]`) with the targets.
pub fn compare(targets: &[Target], runs: &[Vec<f64>]) -> Validation {
    let rows: Vec<Row> = targets
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let mut v: Vec<f64> = runs.iter().map(|r| r[k]).collect();
            // Sorted first: the mean and sd are summed in that order.
            v.sort_by(f64::total_cmp);
            let mean = stats::mean(&v);
            Row {
                id: t.id.clone(),
                observed: t.value,
                mean,
                lo: stats::percentile(&v, 0.025),
                hi: stats::percentile(&v, 0.975),
                sd: stats::sd(&v, mean),
                rel_error: rel(mean, t.value),
            }
        })
        .collect();
    let mare = rows.iter().map(|r| r.rel_error).sum::<f64>() / rows.len().max(1) as f64;
    // Persistence: each target predicted by the previous period of its series.
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by_key(|&k| (format!("{:?}", targets[k].series()), targets[k].from));
    let (mut pe, mut me, mut n) = (0.0, 0.0, 0usize);
    for w in order.windows(2) {
        let (a, b) = (&targets[w[0]], &targets[w[1]]);
        if a.series() == b.series() && a.until < b.from {
            pe += rel(a.value, b.value);
            me += rows[w[1]].rel_error;
            n += 1;
        }
    }
    Validation {
        rows,
        mare,
        persistence: (n > 0).then(|| (pe / n as f64, me / n as f64, n)),
    }
}

/// The table `validate` prints.
pub fn render(v: &Validation, targets: &[Target]) -> String {
    let w = targets.iter().map(|t| t.id.len()).max().unwrap_or(6).max(6);
    let mut s = format!(
        "{:<w$}  {:>12}  {:>12}  {:>25}  {:>9}\n",
        "target", "observed", "simulated", "95% interval", "rel.error"
    );
    for r in &v.rows {
        s += &format!(
            "{:<w$}  {:>12.0}  {:>12.1}  {:>25}  {:>9.3}\n",
            r.id,
            r.observed,
            r.mean,
            format!("[{:.1}, {:.1}]", r.lo, r.hi),
            r.rel_error
        );
    }
    s += &format!("mean absolute relative error: {:.3}\n", v.mare);
    match v.persistence {
        Some((p, m, n)) => s += &format!("persistence: {p:.3} (the model on the same {n} targets: {m:.3})\n"),
        None => s += "persistence: not available (no target has an earlier period of the same series)\n",
    }
    s
}
