//! Ensembles: replicates of a run, policy variants with common random
//! numbers, parameter sweeps, and their statistics.
//!
//! Owns replicate seeding (through `rng::replicate_seed`), the application
//! of variants, the summary and comparison statistics and their tables.
//! Runs the engine through its public API; must not change how it
//! simulates. Results are byte-identical whatever the number of threads:
//! each replicate is a pure function of its seed, and results are gathered
//! in replicate order.

use crate::agents::{Event, State, N_EVENTS, N_STATES};
use crate::engine::{self, Col, DayView, EngineError, Recorder, RunConfig, RunResult, N_COLS};
use crate::experiment::{self, default::DefaultModel};
use crate::output::{self, OutDir, OutputError, RouteFlows};
use crate::publish::windows::WindowFlows;
use crate::scenario::params::{self, ParamError};
use crate::scenario::{Scenario, Variant};
pub use crate::stats::{paired, stats, t975, Paired, Stats};
use crate::table::{table_err, Table};
use std::path::Path;

/// Why an ensemble failed.
#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    /// A run failed.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// Writing failed.
    #[error("{0}")]
    Output(#[from] OutputError),
    /// A variant name is unknown.
    #[error("no variant `{name}` in the scenario; declared: {declared}")]
    UnknownVariant {
        /// The name asked for.
        name: String,
        /// The declared ones.
        declared: String,
    },
    /// A sweep parameter is not understood.
    #[error("{0}")]
    Param(#[from] ParamError),
    /// A sweep specification is malformed.
    #[error("--param: {0}")]
    Spec(String),
    /// A run or a sweep point would not fit (agent ids or memory).
    #[error("{0}")]
    Limit(#[from] crate::limits::LimitError),
    /// A replicate's drawn inputs do not make a valid scenario.
    #[error("{0}")]
    Inputs(#[from] crate::scenario::uncertain::InputsError),
    /// Replicates could not be gathered from the other processes.
    #[error("{0}")]
    Wire(#[from] crate::wire::WireError),
    /// Another process's replicate failed (or, on a rank other than 0, the
    /// failure rank 0 reports).
    #[error("{0}")]
    Rank(#[from] experiment::RankError),
}

impl EnsembleError {
    /// Whether the user can fix it (a refused destination, a run that would
    /// not fit, drawn inputs that make no valid scenario — the scenario's
    /// ranges — an unknown variant or parameter) or it is northbound's own.
    pub fn kind(&self) -> crate::experiment::Kind {
        use crate::experiment::Kind;
        match self {
            EnsembleError::Output(o) => Kind::of_output(o),
            EnsembleError::Limit(_)
            | EnsembleError::Inputs(_)
            | EnsembleError::UnknownVariant { .. }
            | EnsembleError::Param(_)
            | EnsembleError::Spec(_) => Kind::BadInput,
            EnsembleError::Engine(_) | EnsembleError::Wire(_) => Kind::Failure,
            EnsembleError::Rank(r) => r.kind,
        }
    }
}

impl experiment::JobError for EnsembleError {
    fn kind(&self) -> experiment::Kind {
        EnsembleError::kind(self)
    }
}

/// How the replicates of an ensemble take the scenario's uncertain inputs
/// (`scenario::uncertain`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Inputs {
    /// Each replicate draws its inputs from their ranges (a Latin
    /// hypercube over the replicates): intervals cover chance and what is
    /// not known of the inputs.
    #[default]
    Drawn,
    /// Every replicate uses the inputs' values (`--fixed-inputs`):
    /// intervals cover chance only.
    Fixed,
}

/// The scenario under a variant: its removed policies gone, its policies
/// replacing those with the same id or added. Cohorts are untouched, so the
/// same agents with the same ids and random streams run under every variant.
pub fn apply_variant(sc: &Scenario, v: &Variant) -> Scenario {
    sc.under_variant(v)
}

/// Keeps every day's place counts.
#[derive(Default)]
struct Daily(Vec<Vec<[u64; N_COLS]>>);

impl Recorder for Daily {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        self.0.push(v.places.to_vec());
        Ok(())
    }
}

/// One replicate's results.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Replicate {
    /// Its seed.
    pub seed: u64,
    /// `[day][place]` counts.
    pub daily: Vec<Vec<[u64; N_COLS]>>,
    /// People who set out on each leg over the run.
    pub legs: Vec<u64>,
    /// `[policy window][leg]`: people who set out on each leg within each
    /// policy window (`publish::windows`).
    pub legs_by_window: Vec<Vec<u64>>,
    /// The end of the run.
    #[serde(with = "RunResultWire")]
    pub result: RunResult,
    /// Extra tables (`cohort_places.csv`, `trace.csv`, `caravan.csv`, …), written whole.
    pub tables: Vec<(String, Vec<u8>)>,
    /// The values its uncertain inputs were drawn at, in the scenario's
    /// order (empty if they were not drawn).
    pub inputs: Vec<f64>,
}

/// `engine::RunResult` on the wire (`wire`), field by field.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(remote = "RunResult")]
struct RunResultWire {
    seed: u64,
    agents: usize,
    people: u64,
    days: u32,
    outcomes: Vec<[u64; N_STATES]>,
    events: Vec<[[u64; 2]; N_EVENTS]>,
    states: [u64; N_STATES],
    build_s: f64,
    sim_s: f64,
}

/// What each replicate does beyond keeping its counts: extra tables, as
/// `run` writes them for one run, and a flag that stops it.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// `cohort_places.csv`.
    pub by_cohort: bool,
    /// `trace.csv` of this many agents (0: none).
    pub trace: usize,
    /// Once set, every replicate still running ends at the end of its day
    /// with an error of kind `Interrupted` ([`crate::results::is_stopped`]).
    pub stop: Option<crate::results::Stop>,
    /// Whether replicates draw the uncertain inputs (the default) or fix them.
    pub inputs: Inputs,
}

/// The values of the uncertain inputs for each of `n` replicates: a Latin
/// hypercube when they are drawn (`scenario::uncertain::design`), nothing
/// when they are fixed or there are none.
pub fn input_design(sc: &Scenario, n: usize, inputs: Inputs) -> Vec<Vec<f64>> {
    if inputs == Inputs::Fixed || sc.uncertain.is_empty() {
        return vec![Vec::new(); n];
    }
    crate::scenario::uncertain::design(sc, n)
}

/// Which interval the summaries of these replicates show, for people: the
/// spread from chance alone, or from chance and the uncertain inputs.
pub fn interval_kind(sc: &Scenario, reps: &[Replicate]) -> String {
    interval_kind_of(sc, reps.iter().any(|r| !r.inputs.is_empty()))
}

/// As [`interval_kind`], for replicates that drew the uncertain inputs
/// (`drawn`, if the scenario has any) or not.
pub fn interval_kind_of(sc: &Scenario, drawn: bool) -> String {
    let m = sc.uncertain.len();
    if drawn && m > 0 {
        format!(
            "chance and inputs: each replicate drew its {m} uncertain input{} (Latin hypercube, inputs.csv)",
            if m == 1 { "" } else { "s" }
        )
    } else if m > 0 {
        format!(
            "chance only: the {m} uncertain input{} fixed at {} values (--fixed-inputs)",
            if m == 1 { "" } else { "s" },
            if m == 1 { "its" } else { "their" }
        )
    } else {
        "chance only: the scenario has no uncertain inputs".to_string()
    }
}

impl Replicate {
    /// A place column summed over the run.
    pub fn total(&self, place: usize, col: Col) -> u64 {
        self.daily.iter().map(|d| d[place][col as usize]).sum()
    }
}

/// Runs replicates 0..n of a scenario side by side on one pool of
/// `threads` (on this process's share of them when `ranks` spreads them
/// over processes); with `out`, writes each replicate's tables in
/// `out/replicate-K/`. `on_done` is called as replicates finish. Returns
/// every replicate, in order, on the process that writes (all of them
/// without MPI).
pub fn replicates(
    sc: &Scenario,
    n: usize,
    threads: Option<usize>,
    out: Option<&Path>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Replicate>, EnsembleError> {
    replicates_on(sc, n, threads, out, on_done, &crate::engine::Local)
}

/// As [`replicates`], spreading replicate k over process k mod P of
/// `ranks`; the results are gathered on rank 0, which alone writes.
pub fn replicates_on(
    sc: &Scenario,
    n: usize,
    threads: Option<usize>,
    out: Option<&Path>,
    on_done: &(dyn Fn() + Sync),
    ranks: &dyn engine::Exchange,
) -> Result<Vec<Replicate>, EnsembleError> {
    replicates_with(sc, n, threads, out, on_done, ranks, &Extra::default())
}

/// As [`replicates_on`], each replicate also writing the `extra` tables
/// and stopping on `extra.stop`.
pub fn replicates_with(
    sc: &Scenario,
    n: usize,
    threads: Option<usize>,
    out: Option<&Path>,
    on_done: &(dyn Fn() + Sync),
    ranks: &dyn engine::Exchange,
    extra: &Extra,
) -> Result<Vec<Replicate>, EnsembleError> {
    let all = replicates_of(&[sc], n, threads, on_done, ranks, extra)?
        .pop()
        .unwrap_or_default();
    if ranks.rank() != 0 {
        return Ok(all);
    }
    if let Some(dir) = out {
        write_replicate_folders(sc, &all, dir)?;
    }
    Ok(all)
}

/// Writes each replicate's folder `replicate-K` under `dir`, side by side
/// on the calling thread's pool: the folders share nothing, and writing
/// ten of them one after another kept one thread busy while the others
/// waited. The first failing replicate's error, in replicate order.
pub(crate) fn write_replicate_folders(sc: &Scenario, reps: &[Replicate], dir: &Path) -> Result<(), EnsembleError> {
    use rayon::prelude::*;
    // The threads each `summary.json` reports: those of the caller's pool,
    // as when the folders were written one by one.
    let threads = rayon::current_num_threads();
    let done: Vec<Result<(), EnsembleError>> = reps
        .par_iter()
        .enumerate()
        .map(|(k, r)| write_replicate_on(sc, r, &dir.join(format!("replicate-{k}")), threads))
        .collect();
    done.into_iter().collect()
}

/// Replicates 0..n of each of several scenarios (study points, a
/// comparison's base and variants) run as one list of jobs
/// (`experiment::batch`), each scenario's in replicate order, on the
/// process that writes; nothing is written.
pub(crate) fn replicates_of(
    scs: &[&Scenario],
    n: usize,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
    ranks: &dyn engine::Exchange,
    extra: &Extra,
) -> Result<Vec<Vec<Replicate>>, EnsembleError> {
    // Replicate k draws its inputs from row k of one design for all n, and
    // uses seed k whatever its inputs (common random numbers).
    let plans: Vec<Vec<experiment::Replicate>> = scs
        .iter()
        .map(|sc| experiment::plan(sc.seed, n, &input_design(sc, n, extra.inputs)))
        .collect();
    let groups: Vec<(&Scenario, &[experiment::Replicate])> =
        scs.iter().zip(&plans).map(|(sc, p)| (*sc, p.as_slice())).collect();
    let model = DefaultModel { extra: extra.clone() };
    experiment::batch(&model, &groups, threads, ranks, on_done)
}

/// Runs one replicate of `sc` with `seed` on the current pool, keeping
/// what `extra` asks for.
pub(crate) fn one(p: &engine::Prepared, sc: &Scenario, seed: u64, extra: &Extra) -> Result<Replicate, EnsembleError> {
    let cfg = RunConfig {
        seed: Some(seed),
        threads: None,
        by_cohort: extra.by_cohort,
    };
    let mut daily = Daily::default();
    let mut flows = RouteFlows::default();
    let mut by_window = WindowFlows::new(sc);
    let table = |e: std::io::Error| {
        EnsembleError::Output(OutputError::Io {
            path: "table".into(),
            source: e,
        })
    };
    let mut cohorts = if extra.by_cohort {
        Some(output::CohortPlacesTable::on(Vec::new()).map_err(table)?)
    } else {
        None
    };
    let mut trace = if extra.trace > 0 {
        let groups = crate::agents::count_groups(sc, seed) as usize;
        Some(output::TraceTable::on(Vec::new(), extra.trace, groups).map_err(table)?)
    } else {
        None
    };
    let mut stop = extra.stop.clone();
    let mut side = output::SideTables::on(sc, |_| Ok(Vec::new())).map_err(table)?;
    let result = {
        let mut recs: Vec<&mut dyn Recorder> = vec![&mut daily, &mut flows, &mut by_window];
        if !side.is_empty() {
            recs.push(&mut side);
        }
        if let Some(t) = trace.as_mut() {
            recs.push(t);
        }
        if let Some(t) = cohorts.as_mut() {
            recs.push(t);
        }
        if let Some(s) = stop.as_mut() {
            recs.push(s);
        }
        engine::run_prepared_here(p, sc, &cfg, &mut recs)?
    };
    let mut tables = Vec::new();
    for (name, bytes) in side.finish().map_err(table)? {
        tables.push((name.to_string(), bytes));
    }
    if let Some(t) = trace {
        tables.push(("trace.csv".to_string(), t.into_inner().map_err(table)?));
    }
    if let Some(t) = cohorts {
        tables.push(("cohort_places.csv".to_string(), t.into_inner().map_err(table)?));
    }
    Ok(Replicate {
        seed,
        daily: daily.0,
        legs: flows.people,
        legs_by_window: by_window.people,
        result,
        tables,
        inputs: Vec::new(),
    })
}

/// Writes one replicate's tables, as a single run writes them (of the
/// scenario with its drawn inputs, if it drew them).
pub fn write_replicate(sc: &Scenario, r: &Replicate, dir: &Path) -> Result<(), EnsembleError> {
    write_replicate_on(sc, r, dir, rayon::current_num_threads())
}

/// [`write_replicate`], its `summary.json` saying it ran on `threads`.
fn write_replicate_on(sc: &Scenario, r: &Replicate, dir: &Path, threads: usize) -> Result<(), EnsembleError> {
    let drawn;
    let sc = if r.inputs.is_empty() {
        sc
    } else {
        drawn = crate::scenario::uncertain::with_values(sc, &r.inputs)?;
        &drawn
    };
    let mut o = OutDir::create(dir)?;
    output::write_places(&mut o, sc, &r.daily)?;
    output::write_outcomes(&mut o, sc, &r.result)?;
    output::write_events(&mut o, sc, &r.result)?;
    output::write_routes(&mut o, sc, &r.legs)?;
    for (name, bytes) in &r.tables {
        let mut f = o.file(name)?;
        std::io::Write::write_all(&mut f, bytes).map_err(|source| OutputError::Io {
            path: name.into(),
            source,
        })?;
        o.finish(f)?;
    }
    output::write_summary(&mut o, sc, &r.result, threads, r.result.build_s + r.result.sim_s)?;
    o.commit()?;
    Ok(())
}

/// Writes `inputs.csv`: the value each replicate drew for each uncertain
/// input (nothing if no replicate drew any).
pub fn write_inputs(out: &mut OutDir, sc: &Scenario, reps: &[Replicate]) -> Result<(), OutputError> {
    let rows: Vec<&[f64]> = reps.iter().map(|r| r.inputs.as_slice()).collect();
    write_input_rows(out, sc, &rows)
}

/// Writes `inputs.csv` from the values of each replicate (`rows[k]`, in
/// the order of `sc.uncertain`; nothing if every row is empty).
pub fn write_input_rows(out: &mut OutDir, sc: &Scenario, rows: &[&[f64]]) -> Result<(), OutputError> {
    if rows.iter().all(|r| r.is_empty()) {
        return Ok(());
    }
    let e = table_err("inputs.csv");
    let mut t = out.table("inputs.csv", ["replicate", "path", "value", "low", "high", "dist"])?;
    for (k, values) in rows.iter().enumerate() {
        for (u, v) in sc.uncertain.iter().zip(values.iter()) {
            t.cell(k)
                .cell(&u.path)
                .cell(v)
                .cell(u.low)
                .cell(u.high)
                .cell(u.dist.name())
                .end_row()
                .map_err(&e)?;
        }
    }
    out.finish_table(t)
}

/// Mean, sd and interval as four cells, three decimals each.
fn stat_cells<W: std::io::Write>(t: &mut Table<W>, s: &Stats) {
    t.cell(format_args!("{:.3}", s.mean))
        .cell(format_args!("{:.3}", s.sd))
        .cell(format_args!("{:.3}", s.lo))
        .cell(format_args!("{:.3}", s.hi));
}

/// Writes `places_summary.csv`, `outcomes_summary.csv` and
/// `events_summary.csv` for replicates of one scenario.
pub fn write_summaries(out: &mut OutDir, sc: &Scenario, reps: &[Replicate]) -> Result<(), OutputError> {
    let days = reps.first().map(|r| r.daily.len()).unwrap_or(0);
    let e = table_err("places_summary.csv");
    let mut t = out.table(
        "places_summary.csv",
        ["day", "date", "place", "metric", "mean", "sd", "lo95", "hi95"],
    )?;
    let mut buf = Vec::with_capacity(reps.len());
    for d in 0..days {
        let date = sc.calendar.date_of(d as u32).format("%Y-%m-%d").to_string();
        for (p, place) in sc.places.iter().enumerate() {
            for c in Col::ALL {
                buf.clear();
                buf.extend(reps.iter().map(|r| r.daily[d][p][c as usize] as f64));
                t.cell(d).cell(&date).cell(&place.id).cell(c.name());
                stat_cells(&mut t, &stats(&buf));
                t.end_row().map_err(&e)?;
            }
        }
    }
    out.finish_table(t)?;
    let e = table_err("outcomes_summary.csv");
    let mut t = out.table(
        "outcomes_summary.csv",
        ["cohort", "nationality", "outcome", "mean", "sd", "lo95", "hi95"],
    )?;
    for (ci, c) in sc.cohorts.iter().enumerate() {
        for s in State::ALL {
            let v: Vec<f64> = reps.iter().map(|r| r.result.outcomes[ci][s as usize] as f64).collect();
            t.cell(&c.id).cell(c.nationality).cell(s.name());
            stat_cells(&mut t, &stats(&v));
            t.end_row().map_err(&e)?;
        }
    }
    out.finish_table(t)?;
    let e = table_err("events_summary.csv");
    let mut t = out.table(
        "events_summary.csv",
        [
            "cohort",
            "nationality",
            "event",
            "count_mean",
            "count_sd",
            "count_lo95",
            "count_hi95",
            "people_mean",
            "people_sd",
            "people_lo95",
            "people_hi95",
        ],
    )?;
    for (ci, c) in sc.cohorts.iter().enumerate() {
        for ev in Event::ALL {
            let count: Vec<f64> = reps
                .iter()
                .map(|r| r.result.events[ci][ev as usize][0] as f64)
                .collect();
            let people: Vec<f64> = reps
                .iter()
                .map(|r| r.result.events[ci][ev as usize][1] as f64)
                .collect();
            t.cell(&c.id).cell(c.nationality).cell(ev.name());
            stat_cells(&mut t, &stats(&count));
            stat_cells(&mut t, &stats(&people));
            t.end_row().map_err(&e)?;
        }
    }
    out.finish_table(t)
}

/// One line of a comparison.
#[derive(Clone, Debug)]
pub struct CompareRow {
    /// The variant.
    pub variant: String,
    /// A state, or a place column.
    pub metric: String,
    /// The place (empty for states).
    pub place: String,
    /// The base's mean.
    pub base: f64,
    /// The variant's mean.
    pub mean: f64,
    /// Mean paired difference (variant − base).
    pub diff: f64,
    /// 95 % confidence interval of the mean difference (t, paired).
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

/// The figures compared: people in each state at the end, and each place's
/// flows over the run.
pub const COMPARED_COLS: [Col; 7] = [
    Col::Arrived,
    Col::Claims,
    Col::TurnedBack,
    Col::Expelled,
    Col::Intercepted,
    Col::Detected,
    Col::Removed,
];

/// The figures a comparison compares, as (metric, place, value): people in
/// each state at the end (no place), and each place's flows over the run.
pub fn figures(sc: &Scenario, r: &Replicate) -> Vec<(String, String, f64)> {
    let mut v: Vec<(String, String, f64)> = State::ALL
        .iter()
        .map(|s| (s.name().to_string(), String::new(), r.result.states[*s as usize] as f64))
        .collect();
    for (p, place) in sc.places.iter().enumerate() {
        for c in COMPARED_COLS {
            v.push((c.name().to_string(), place.id.clone(), r.total(p, c) as f64));
        }
    }
    v
}

/// Paired comparison of each variant with the base: replicate k of every
/// variant uses the same seed as replicate k of the base.
pub fn compare_rows(sc: &Scenario, base: &[Replicate], variants: &[(String, Vec<Replicate>)]) -> Vec<CompareRow> {
    let base_f: Vec<Vec<(String, String, f64)>> = base.iter().map(|r| figures(sc, r)).collect();
    let mut out = Vec::new();
    for (name, reps) in variants {
        let var_f: Vec<Vec<(String, String, f64)>> = reps.iter().map(|r| figures(sc, r)).collect();
        let n = base_f.len().min(var_f.len());
        for i in 0..base_f.first().map(|f| f.len()).unwrap_or(0) {
            let b: Vec<f64> = base_f.iter().take(n).map(|f| f[i].2).collect();
            let v: Vec<f64> = var_f.iter().take(n).map(|f| f[i].2).collect();
            if b.iter().chain(&v).all(|x| *x == 0.0) {
                continue;
            }
            let p = paired(&b, &v);
            out.push(CompareRow {
                variant: name.clone(),
                metric: base_f[0][i].0.clone(),
                place: base_f[0][i].1.clone(),
                base: p.base,
                mean: p.variant,
                diff: p.diff,
                lo: p.lo,
                hi: p.hi,
            });
        }
    }
    out
}

/// Writes `comparison.csv`.
pub fn write_comparison(out: &mut OutDir, rows: &[CompareRow]) -> Result<(), OutputError> {
    let header = [
        "variant",
        "metric",
        "place",
        "base",
        "mean",
        "diff",
        "diff_lo95",
        "diff_hi95",
    ];
    out.write_table("comparison.csv", header, rows, |t, r| {
        t.cell(&r.variant).cell(&r.metric).cell(&r.place);
        for x in [r.base, r.mean, r.diff, r.lo, r.hi] {
            t.cell(format_args!("{x:.3}"));
        }
    })
}

/// The comparison as a terminal table: states, and the places whose flows
/// changed most.
pub fn render_comparison(rows: &[CompareRow], replicates: usize, covers: &str) -> String {
    let mut s = format!(
        "{:<16} {:<18} {:<22} {:>12} {:>12} {:>12}  {:>27}\n",
        "variant", "metric", "place", "base", "variant", "difference", "95% interval (paired)"
    );
    let mut variants: Vec<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
    variants.dedup();
    for v in variants {
        let mine: Vec<&CompareRow> = rows.iter().filter(|r| r.variant == v).collect();
        let mut places: Vec<&CompareRow> = mine
            .iter()
            .copied()
            .filter(|r| !r.place.is_empty() && r.diff != 0.0)
            .collect();
        places.sort_by(|a, b| b.diff.abs().total_cmp(&a.diff.abs()));
        for r in mine
            .iter()
            .copied()
            .filter(|r| r.place.is_empty())
            .chain(places.into_iter().take(8))
        {
            use crate::publish::words::{rounded, signed, step_for};
            let step = step_for(r.lo, r.hi);
            s += &format!(
                "{:<16} {:<18} {:<22} {:>12} {:>12} {:>12}  {:>27}\n",
                r.variant,
                r.metric,
                r.place,
                rounded(r.base, step),
                rounded(r.mean, step),
                signed(r.diff, step),
                format!("[{}, {}]", signed(r.lo, step), signed(r.hi, step))
            );
        }
    }
    s += &format!(
        "(people; {replicates} replicates, replicate k of every variant with the same seed;\n \
         difference: mean of the paired differences variant − base; 95% interval: its confidence\n \
         interval (Student's t), covering {covers};\n \
         figures rounded to what the interval supports)\n"
    );
    s
}

/// Looks up variants by name (all declared when `names` is empty).
pub fn pick_variants<'a>(sc: &'a Scenario, names: &[String]) -> Result<Vec<&'a Variant>, EnsembleError> {
    if names.is_empty() {
        return Ok(sc.variants.iter().collect());
    }
    names
        .iter()
        .map(|n| {
            sc.variants
                .iter()
                .find(|v| &v.id == n)
                .ok_or_else(|| EnsembleError::UnknownVariant {
                    name: n.clone(),
                    declared: sc.variants.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", "),
                })
        })
        .collect()
}

/// One axis of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The parameter path.
    pub path: String,
    /// Its values.
    pub values: Vec<f64>,
}

/// Parses `PATH=FROM:TO:STEP`.
pub fn parse_axis(sc: &Scenario, spec: &str) -> Result<Axis, EnsembleError> {
    let (path, range) = spec.split_once('=').ok_or_else(|| {
        EnsembleError::Spec(format!(
            "`{spec}`: write PATH=FROM:TO:STEP, e.g. policy.cam.quota_per_year=0:40000:10000"
        ))
    })?;
    let parts: Vec<f64> = range
        .split(':')
        .map(|x| x.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| EnsembleError::Spec(format!("`{spec}`: FROM, TO and STEP must be numbers")))?;
    let [from, to, step] = parts[..] else {
        return Err(EnsembleError::Spec(format!("`{spec}`: write PATH=FROM:TO:STEP")));
    };
    if step <= 0.0 || to < from {
        return Err(EnsembleError::Spec(format!("`{spec}`: STEP must be > 0 and TO ≥ FROM")));
    }
    // Counted in floating point first: a tiny STEP over a wide range is
    // more points than any integer holds.
    let count = ((to - from) / step + 1e-9).floor() + 1.0;
    if !count.is_finite() || count > MAX_POINTS as f64 {
        return Err(EnsembleError::Spec(format!(
            "`{spec}`: {count:.3e} points is too many (at most {MAX_POINTS} in a sweep)"
        )));
    }
    let n = count as usize;
    let values: Vec<f64> = (0..n).map(|i| from + step * i as f64).collect();
    if values.windows(2).any(|w| w[1] <= w[0] || !w[1].is_finite()) {
        return Err(EnsembleError::Spec(format!(
            "`{spec}`: STEP {step} is too small to change {from} in floating point: the points would repeat"
        )));
    }
    axis(sc, path.trim(), values)
}

/// An axis of given values, each checked against the parameter's range
/// (at most [`MAX_POINTS`] of them).
pub fn axis(sc: &Scenario, path: &str, values: Vec<f64>) -> Result<Axis, EnsembleError> {
    if values.is_empty() || values.len() > MAX_POINTS {
        return Err(EnsembleError::Spec(format!(
            "`{path}`: {} values; an axis has 1 to {MAX_POINTS}",
            values.len()
        )));
    }
    let mut probe = sc.clone();
    for v in &values {
        params::set(&mut probe, path, *v)?;
    }
    Ok(Axis {
        path: path.to_string(),
        values,
    })
}

/// Most points in a sweep (over all its axes).
pub const MAX_POINTS: usize = 10_000;

/// The grid of a sweep: every combination of the axes' values (at most
/// [`MAX_POINTS`], checked before the grid is built).
pub fn grid(axes: &[Axis]) -> Result<Vec<Vec<f64>>, EnsembleError> {
    let total = axes
        .iter()
        .try_fold(1usize, |acc, a| acc.checked_mul(a.values.len()))
        .filter(|&t| t <= MAX_POINTS);
    if total.is_none() {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        return Err(EnsembleError::Spec(format!(
            "a grid of {} points is too many (at most {MAX_POINTS} in a sweep)",
            sizes.join(" × ")
        )));
    }
    let mut g: Vec<Vec<f64>> = vec![Vec::new()];
    for a in axes {
        g = g
            .into_iter()
            .flat_map(|p| a.values.iter().map(move |v| [p.clone(), vec![*v]].concat()))
            .collect();
    }
    Ok(g)
}

/// The headline outcomes of a sweep row: people per final state and
/// person-events per event.
pub fn headline(reps: &[Replicate]) -> Vec<(String, Stats)> {
    let mut v = Vec::new();
    for s in State::ALL {
        let x: Vec<f64> = reps.iter().map(|r| r.result.states[s as usize] as f64).collect();
        v.push((s.name().to_string(), stats(&x)));
    }
    for e in Event::ALL {
        let x: Vec<f64> = reps
            .iter()
            .map(|r| r.result.events.iter().map(|c| c[e as usize][0]).sum::<u64>() as f64)
            .collect();
        v.push((e.name().to_string(), stats(&x)));
    }
    v
}

/// One grid point of a sweep: its parameter values, the headline
/// outcomes and the places' flows over its replicates.
#[derive(Clone, Debug)]
pub struct SweepRow {
    /// The values, in axis order.
    pub point: Vec<f64>,
    /// [`headline`] over the point's replicates.
    pub outcomes: Vec<(String, Stats)>,
    /// Each place's flows over the run over the point's replicates
    /// ([`COMPARED_COLS`], place by place: entry `place *
    /// COMPARED_COLS.len() + k`; `sweep_long.csv`).
    pub places: Vec<Stats>,
}

/// The header of `sweep.csv`: a column per axis, then the mean and 95 %
/// range over replicates of every headline outcome.
pub fn sweep_header(axes: &[Axis]) -> Vec<String> {
    let mut header: Vec<String> = axes.iter().map(|a| a.path.clone()).collect();
    for (m, _) in headline(&[]) {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_lo95"));
        header.push(format!("{m}_hi95"));
    }
    header
}

/// Writes the rows of `sweep.csv` (three decimals).
pub fn sweep_rows<W: std::io::Write>(t: &mut Table<W>, rows: &[SweepRow]) -> std::io::Result<()> {
    for r in rows {
        for v in &r.point {
            t.cell(v);
        }
        for (_, st) in &r.outcomes {
            t.cell(format_args!("{:.3}", st.mean))
                .cell(format_args!("{:.3}", st.lo))
                .cell(format_args!("{:.3}", st.hi));
        }
        t.end_row()?;
    }
    Ok(())
}

/// `sweep.csv` as text, byte for byte the file (the command line prints it).
pub fn sweep_csv(axes: &[Axis], rows: &[SweepRow]) -> Result<String, OutputError> {
    let e = table_err("sweep.csv");
    let mut t = Table::new(Vec::new(), sweep_header(axes)).map_err(&e)?;
    sweep_rows(&mut t, rows).map_err(&e)?;
    let bytes = t.finish().map_err(&e)?;
    String::from_utf8(bytes).map_err(|x| e(std::io::Error::new(std::io::ErrorKind::InvalidData, x)))
}
