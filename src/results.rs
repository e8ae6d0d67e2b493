//! Results kept in memory — one run's tables as the engine produced them,
//! replicates, comparisons — and the folders they are written to.
//!
//! Owns the in-memory recorders ([`Stop`], and the one behind [`run`]) and
//! the writing of a kept result's folder, for the command line and for
//! embedders (the Python package) alike. Must not format a table itself:
//! every file goes through the writers of `output`, `ensemble`, `publish`
//! and `report` into an `OutDir`, so a folder written from memory is the
//! one the command line writes, byte for byte, under the same folder rules.

use crate::agents::{narrow, wide, Agents, State, NO_DAY, NO_DOOR, NO_PLACE};
use crate::engine::{self, DayView, EngineError, Recorder, RunConfig, N_COLS};
use crate::ensemble::{self, Axis, CompareRow, EnsembleError, Replicate, SweepRow};
use crate::experiment::{self, RankError};
use crate::output::{self, CohortPlacesTable, OutDir, OutputError, TraceTable};
use crate::publish::{self, Meta, Period, VariantMeta, VariantRuns, WindowFlows};
use crate::report::{self, ReportError};
use crate::scenario::{Scenario, NONE};
use crate::table::table_err;
use std::convert::identity;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Why a kept result could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A table could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The report could not be rendered.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// An ensemble's tables could not be written.
    #[error(transparent)]
    Ensemble(#[from] EnsembleError),
}

impl ResultsError {
    /// Whether the user can fix it (a refused destination, drawn inputs
    /// that make no valid scenario) or it is northbound's own failure.
    pub fn kind(&self) -> crate::experiment::Kind {
        match self {
            ResultsError::Output(o) => crate::experiment::Kind::of_output(o),
            ResultsError::Ensemble(e) => e.kind(),
            ResultsError::Report(_) => crate::experiment::Kind::Failure,
        }
    }
}

/// A flag that stops runs: a recorder that fails, with an error of kind
/// [`io::ErrorKind::Interrupted`], at the end of the first day on which the
/// flag is set. Clones share the flag, so one `stop()` ends every run (and
/// every replicate) that holds a clone.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// A flag not set.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Sets the flag.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl Recorder for Stop {
    fn day(&mut self, _: &DayView<'_>) -> io::Result<()> {
        if self.is_set() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "the run was stopped"));
        }
        Ok(())
    }
}

/// Whether a run failed because a [`Stop`] was set.
pub fn is_stopped(e: &EngineError) -> bool {
    matches!(e, EngineError::Record(io) if io.kind() == io::ErrorKind::Interrupted)
}

/// Declares the traced columns once: each line is a column of [`Trace`]
/// (in its serialised order, the saved state's layout), the value an
/// agent column holds for a group not followed, and the conversions from
/// the agent column and back. From the list come the struct, the day's
/// rows from the agents, the agents a saved trace is replayed into, and
/// the length check of a saved trace.
macro_rules! traced {
    ($( $(#[$doc:meta])* $f:ident : $t:ty = $blank:expr, $from:path, $back:path; )+) => {
        /// The day-by-day place and state of the agents a trace follows, as the
        /// engine's own columns: row `d * agents.len() + k` is agent `agents[k]` at
        /// the end of day `d`.
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct Trace {
            /// The ids of the agents followed ([`output::trace_agents`]).
            pub agents: Vec<u32>,
            $( $(#[$doc])* pub $f: Vec<$t>, )+
        }

        impl Trace {
            /// Appends the followed agents' rows of the day.
            fn push_day(&mut self, a: &Agents) {
                for &i in &self.agents {
                    let i = i as usize;
                    $( self.$f.push($from(a.$f[i])); )+
                }
            }

            /// `n` agents whose traced columns hold what a group not
            /// followed holds (the others are empty).
            fn blank_agents(n: usize) -> Agents {
                Agents {
                    $( $f: vec![$blank; n], )+
                    ..Agents::default()
                }
            }

            /// Writes row `row` back into agent `i` of `a`.
            fn replay(&self, row: usize, i: usize, a: &mut Agents) {
                $( a.$f[i] = $back(self.$f[row]); )+
            }

            /// The length of every traced column.
            pub(crate) fn column_lens(&self) -> Vec<usize> {
                vec![$( self.$f.len(), )+]
            }
        }
    };
}

traced! {
    /// [`State`] as a byte.
    state: u8 = State::NotDeparted as u8, identity, identity;
    /// Place index (or the start of the leg while travelling; `NONE`: none).
    place: u32 = NO_PLACE, wide, narrow;
    /// Leg index while travelling.
    leg: u32 = NONE, identity, identity;
    /// Cohort index.
    cohort: u16 = 0, identity, identity;
    /// Target claim point (`NONE`: none).
    target: u32 = NO_PLACE, wide, narrow;
    /// Flags (`agents::F_*`; the trace shows whether the group is informed).
    flags: u8 = 0, identity, identity;
    /// The door that failed the group last (`agents::NO_DOOR`: none).
    failed: u16 = NO_DOOR, identity, identity;
    /// The day it failed (`agents::NO_DAY`: never).
    failed_day: u16 = NO_DAY, identity, identity;
    /// Countries that bar the group (bit per destination).
    barred: u8 = 0, identity, identity;
    /// Last day of a temporary bar.
    bar_until: u16 = NO_DAY, identity, identity;
}

/// One run kept in memory: every number its tables are written from.
#[derive(Clone, Debug, Default)]
pub struct KeptRun {
    /// What a replicate keeps: the `[day][place]` counts (`places.csv`),
    /// the people who set out on each leg (`routes.csv`) and the end of the
    /// run (`outcomes.csv`, `events.csv`, `summary.json`).
    pub counts: Replicate,
    /// With `by_cohort`: `[day][cohort * places + place]` counts
    /// (`cohort_places.csv`); else empty.
    pub by_cohort: Vec<Vec<[u64; N_COLS]>>,
    /// The followed agents, if a trace was asked for (`trace.csv`).
    pub trace: Option<Trace>,
    /// Worker threads used.
    pub threads: usize,
    /// Seconds from the start of the run to its end.
    pub wall_s: f64,
}

/// Keeps a run's numbers day by day.
struct Keep<'k> {
    run: &'k mut KeptRun,
    trace_n: usize,
    windows: WindowFlows,
}

impl Recorder for Keep<'_> {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        self.windows.day(v)?;
        let r = &mut *self.run;
        r.counts.daily.push(v.places.to_vec());
        if !v.by_cohort.is_empty() {
            r.by_cohort.push(v.by_cohort.to_vec());
        }
        let legs = &mut r.counts.legs;
        if legs.len() != v.legs.len() {
            *legs = vec![0; v.legs.len()];
        }
        for (s, x) in legs.iter_mut().zip(v.legs) {
            *s += x;
        }
        if self.trace_n > 0 {
            let a: &Agents = v.agents;
            let t = r.trace.get_or_insert_with(|| Trace {
                agents: output::trace_agents(self.trace_n, a.len()),
                ..Trace::default()
            });
            t.push_day(a);
        }
        Ok(())
    }
}

/// One recorder, then others.
struct Both<'a, 'b, 'k>(&'a mut Keep<'k>, &'a mut [&'b mut dyn Recorder]);

impl Recorder for Both<'_, '_, '_> {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        self.0.day(v)?;
        self.1.iter_mut().try_for_each(|r| r.day(v))
    }
}

/// Runs a scenario and keeps its tables' numbers in memory: the place
/// counts, per cohort with `cfg.by_cohort`, the route flows, and with
/// `trace > 0` the day-by-day state of `trace` agents (the ones `run
/// --trace` follows). `extra` recorders see every day too (a [`Stop`]
/// ends the run early with an error that [`is_stopped`] recognises).
pub fn run(
    sc: &Scenario,
    cfg: &RunConfig,
    trace: usize,
    extra: &mut [&mut dyn Recorder],
) -> Result<KeptRun, EngineError> {
    let t0 = Instant::now();
    let mut run = KeptRun::default();
    let mut keep = Keep {
        run: &mut run,
        trace_n: trace,
        windows: WindowFlows::new(sc),
    };
    let mut side = output::SideTables::on(sc, |_| Ok(Vec::new()))?;
    let result = if side.is_empty() {
        engine::run(sc, cfg, &mut [&mut Both(&mut keep, extra)])?
    } else {
        engine::run(sc, cfg, &mut [&mut side, &mut Both(&mut keep, extra)])?
    };
    let windows = std::mem::take(&mut keep.windows.people);
    run.counts.legs_by_window = windows;
    // The caravan, offers and papers tables, kept whole (as a replicate keeps them).
    for (name, bytes) in side.finish()? {
        run.counts.tables.push((name.to_string(), bytes));
    }
    if run.trace.is_none() && trace > 0 {
        run.trace = Some(Trace::default());
    }
    run.counts.seed = result.seed;
    run.counts.result = result;
    run.threads = cfg.threads.unwrap_or_else(rayon::current_num_threads);
    run.wall_s = t0.elapsed().as_secs_f64();
    Ok(run)
}

/// Steps `engine` until it has simulated day `last` (to the end of its
/// run with `None`), keeping the numbers of the tables in `kept` — which
/// may hold the days before already: a run continued from a saved state
/// writes the tables of the whole run. With `trace > 0` the agents that
/// `run --trace` follows are kept. `extra` recorders see every day too.
/// Runs on the current rayon pool.
pub fn continue_run(
    engine: &mut engine::Engine<'_>,
    kept: &mut KeptRun,
    last: Option<u32>,
    trace: usize,
    extra: &mut [&mut dyn Recorder],
) -> Result<(), EngineError> {
    // The flows per policy window carry on from the days already kept.
    let mut windows = WindowFlows::new(engine.scenario());
    if kept.counts.legs_by_window.len() == windows.people.len() {
        windows.people = std::mem::take(&mut kept.counts.legs_by_window);
    }
    let mut keep = Keep {
        run: kept,
        trace_n: trace,
        windows,
    };
    let mut both = Both(&mut keep, extra);
    let stepped = (|| {
        while !engine.done() && last.is_none_or(|l| engine.day() <= l) {
            engine.step()?;
            both.day(&engine.view())?;
        }
        Ok(())
    })();
    keep.run.counts.legs_by_window = std::mem::take(&mut keep.windows.people);
    stepped
}

/// The view of `day` that a recorder saw during the run, as far as the
/// kept numbers tell it.
fn replayed<'a>(
    sc: &'a Scenario,
    run: &'a KeptRun,
    day: usize,
    by_cohort: &'a [[u64; N_COLS]],
    agents: &'a Agents,
) -> DayView<'a> {
    DayView {
        day: day as u32,
        date: sc.calendar.date_of(day as u32),
        places: &run.counts.daily[day],
        by_cohort,
        legs: &[],
        states: [0; crate::agents::N_STATES],
        agents,
        scenario: sc,
        caravans: &[],
        policies: &[],
    }
}

/// How the published outputs of a folder are made: the calendar periods of
/// `periods.csv` and of the report's charts (`--period`), and the scale the
/// scenario was run at (`--scale`, said in every title).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Publish {
    /// Weeks (Monday to Sunday) or calendar months.
    pub period: Period,
    /// The factor the scenario's people were scaled by (1: as written).
    pub scale: f64,
    /// Whether the replicates drew the uncertain inputs (what a sweep's
    /// intervals cover; replicates and comparisons say it themselves).
    pub inputs: ensemble::Inputs,
}

impl Default for Publish {
    fn default() -> Publish {
        Publish {
            period: Period::Week,
            scale: 1.0,
            inputs: ensemble::Inputs::Drawn,
        }
    }
}

impl Publish {
    fn meta(&self, kind: &str, sc: &Scenario, seed: u64, replicates: usize) -> Meta {
        Meta::new(kind, sc, seed, replicates, Some(self.scale), self.period)
    }
}

/// Ends the folder of a single run whose tables are written (streamed by
/// `northbound run`, or from memory by [`write_run`]): the published outputs
/// (`periods.csv`, `policies.csv`, GeoJSON, `summary.md`,
/// `datapackage.json`) from the run kept as a replicate, then `report.html`.
pub fn finish_run(out: &mut OutDir, sc: &Scenario, run: &Replicate, p: &Publish) -> Result<(), ResultsError> {
    let meta = p.meta("run", sc, run.seed, 1);
    publish::write_run(out, &meta, sc, std::slice::from_ref(run), p.period)?;
    let tmp = out.tmp_path().to_path_buf();
    report::render_into(&tmp, out)?;
    Ok(())
}

/// Writes a kept run's folder — the tables, `summary.json`, the published
/// outputs and `report.html` — as `northbound run` writes it. The
/// day-by-day tables are replayed through the command line's own recorders.
pub fn write_run(out: &mut OutDir, sc: &Scenario, run: &KeptRun, p: &Publish) -> Result<(), ResultsError> {
    let (c, agents) = (&run.counts, run.counts.result.agents);
    output::write_places(out, sc, &c.daily)?;
    if let Some(t) = &run.trace {
        let mut table = TraceTable::new(out, t.agents.len(), agents)?;
        // The followed agents' columns at their own ids, day after day: what
        // the recorder reads during a run.
        let mut a = Trace::blank_agents(agents);
        let n = t.agents.len();
        for day in 0..c.daily.len() {
            for (k, &i) in t.agents.iter().enumerate() {
                let (row, i) = (day * n + k, i as usize);
                t.replay(row, i, &mut a);
            }
            table
                .day(&replayed(sc, run, day, &[], &a))
                .map_err(table_err("trace.csv"))?;
        }
        out.finish(table.into_file().map_err(table_err("trace.csv"))?)?;
    }
    if !run.by_cohort.is_empty() {
        let mut table = CohortPlacesTable::new(out)?;
        for (day, counts) in run.by_cohort.iter().enumerate() {
            table
                .day(&replayed(sc, run, day, counts, &Agents::default()))
                .map_err(table_err("cohort_places.csv"))?;
        }
        out.finish(table.into_file().map_err(table_err("cohort_places.csv"))?)?;
    }
    for (name, bytes) in &c.tables {
        let mut f = out.file(name)?;
        io::Write::write_all(&mut f, bytes).map_err(table_err(name))?;
        out.finish(f)?;
    }
    output::write_outcomes(out, sc, &c.result)?;
    output::write_events(out, sc, &c.result)?;
    output::write_routes(out, sc, &c.legs)?;
    output::write_summary(out, sc, &c.result, run.threads, run.wall_s)?;
    finish_run(out, sc, c, p)
}

/// Writes the folder of `northbound run --replicates N`: each replicate's
/// tables in `replicate-K/`, the summaries with intervals, the published
/// outputs over replicates, `report.html`.
pub fn write_replicates(out: &mut OutDir, sc: &Scenario, reps: &[Replicate], p: &Publish) -> Result<(), ResultsError> {
    // The replicates' folders and the summaries over them are written side
    // by side (they touch different files); what reads the folders
    // (`publish`'s data package, the report) comes after both.
    let tmp = out.tmp_path().to_path_buf();
    let (folders, summaries) = rayon::join(
        || ensemble::write_replicate_folders(sc, reps, &tmp),
        || -> Result<(), OutputError> {
            ensemble::write_summaries(out, sc, reps)?;
            ensemble::write_inputs(out, sc, reps)
        },
    );
    folders?;
    summaries?;
    // Replicate seeds derive from the scenario's seed.
    let mut meta = p.meta("replicates", sc, sc.seed, reps.len());
    meta.uncertainty = ensemble::interval_kind(sc, reps);
    publish::write_run(out, &meta, sc, reps, p.period)?;
    let tmp = out.tmp_path().to_path_buf();
    report::render_into(&tmp, out)?;
    Ok(())
}

/// A comparison kept in memory: the base's replicates, each variant's runs
/// and the rows of `comparison.csv`.
pub struct Compared<'a> {
    /// The base's replicates.
    pub base: &'a [Replicate],
    /// Each variant: its id, the scenario under it and its replicates.
    pub variants: &'a [VariantRuns<'a>],
    /// The rows of `comparison.csv`.
    pub rows: &'a [CompareRow],
    /// `--window`: the first and last day (inclusive) of the place-level
    /// differences; `None`: the whole run.
    pub window: Option<(u32, u32)>,
}

/// Writes the folder of `northbound compare`: `comparison.csv`, the base's
/// summaries and routes (so the report can show where people went), the
/// published outputs of every variant (`periods.csv`, `policies.csv`,
/// `place_differences.csv` over the window, GeoJSON, `summary.md`,
/// `datapackage.json`) and `report.html`.
pub fn write_comparison(out: &mut OutDir, sc: &Scenario, c: &Compared<'_>, p: &Publish) -> Result<(), ResultsError> {
    ensemble::write_comparison(out, c.rows)?;
    ensemble::write_summaries(out, sc, c.base)?;
    ensemble::write_inputs(out, sc, c.base)?;
    if let Some(first) = c.base.first() {
        output::write_routes(out, sc, &first.legs)?;
    }
    let mut meta = p.meta("compare", sc, sc.seed, c.base.len());
    meta.uncertainty = ensemble::interval_kind(sc, c.base);
    meta.variants = c
        .variants
        .iter()
        .map(|v| VariantMeta {
            id: v.id.to_string(),
            description: sc
                .variants
                .iter()
                .find(|x| x.id == v.id)
                .map(|x| x.description.clone())
                .unwrap_or_default(),
        })
        .collect();
    let window = c.window.unwrap_or((0, sc.calendar.days.saturating_sub(1)));
    if c.window.is_some() {
        meta.window = Some((
            sc.calendar.date_of(window.0).to_string(),
            sc.calendar.date_of(window.1).to_string(),
        ));
    }
    let comparison = publish::Comparison {
        base: c.base,
        variants: c.variants,
        rows: c.rows,
        window,
    };
    publish::write_compare(out, &meta, sc, &comparison, p.period)?;
    let tmp = out.tmp_path().to_path_buf();
    report::render_into(&tmp, out)?;
    Ok(())
}

/// Writes the folder of `northbound sweep`: `sweep.csv`, `sweep_long.csv`
/// (every point × final state, event and place flow), `summary.md`,
/// `datapackage.json` and `report.html` (one chart per swept parameter).
pub fn write_sweep(
    out: &mut OutDir,
    sc: &Scenario,
    axes: &[Axis],
    rows: &[SweepRow],
    replicates: usize,
    p: &Publish,
) -> Result<(), ResultsError> {
    let mut t = out.table("sweep.csv", ensemble::sweep_header(axes))?;
    ensemble::sweep_rows(&mut t, rows).map_err(table_err("sweep.csv"))?;
    out.finish_table(t)?;
    // Replicate k draws the same inputs at every point (the design depends
    // on the seed, the inputs and the replicates only); a swept parameter's
    // value replaces its draw.
    let design = ensemble::input_design(sc, replicates, p.inputs);
    let design: Vec<&[f64]> = design.iter().map(Vec::as_slice).collect();
    ensemble::write_input_rows(out, sc, &design)?;
    let mut meta = p.meta("sweep", sc, sc.seed, replicates);
    meta.uncertainty = ensemble::interval_kind_of(sc, p.inputs == ensemble::Inputs::Drawn);
    meta.params = axes.iter().map(|a| a.path.clone()).collect();
    publish::write_sweep(out, &meta, sc, rows)?;
    let tmp = out.tmp_path().to_path_buf();
    report::render_into(&tmp, out)?;
    Ok(())
}

/// What `northbound compare` prints before naming its folder: the
/// comparison as a table with rounded figures, and where the place-level
/// differences of a window are.
pub fn comparison_text(sc: &Scenario, c: &Compared<'_>, p: &Publish) -> String {
    let (rows, replicates, window) = (c.rows, c.base.len(), c.window);
    let mut s = format!(
        "{}: the base against {} variant(s), {}\n\n",
        sc.about.name,
        c.variants.len(),
        publish::words::scale_phrase(p.scale),
    );
    s += &ensemble::render_comparison(rows, replicates, &ensemble::interval_kind(sc, c.base));
    if let Some((a, z)) = window {
        s += &format!(
            "(place-level differences between {} and {} are in place_differences.csv)\n",
            sc.calendar.date_of(a),
            sc.calendar.date_of(z)
        );
    }
    s
}

/// What `northbound sweep` prints before naming its folder: the
/// parameters, then the final states that vary most over the grid (mean
/// and range over replicates, rounded).
pub fn sweep_text(sc: &Scenario, axes: &[Axis], rows: &[SweepRow], replicates: usize, p: &Publish) -> String {
    use publish::words;
    let get = |i: usize, m: &str| rows[i].outcomes.iter().find(|(k, _)| k == m).map(|(_, s)| *s);
    let mut spread: Vec<(&str, f64)> = State::ALL
        .iter()
        .map(|st| {
            let m = st.name();
            let v: Vec<f64> = (0..rows.len()).filter_map(|i| get(i, m).map(|s| s.mean)).collect();
            let (lo, hi) = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
            (m, if v.is_empty() { 0.0 } else { hi - lo })
        })
        .filter(|(_, w)| *w > 0.0)
        .collect();
    spread.sort_by(|a, b| b.1.total_cmp(&a.1));
    let shown: Vec<&str> = spread.iter().take(4).map(|(m, _)| *m).collect();
    let mut s = format!(
        "{}: {} grid points × {replicates} replicates, {}\n\n",
        sc.about.name,
        rows.len(),
        words::scale_phrase(p.scale)
    );
    let names: Vec<String> = axes.iter().map(|a| short_param(&a.path)).collect();
    let widths: Vec<usize> = names.iter().map(|p| p.chars().count().max(8)).collect();
    for (name, w) in names.iter().zip(&widths) {
        s += &format!("{:>w$} ", name, w = *w);
    }
    for m in &shown {
        s += &format!(" {:>26}", m);
    }
    s.push('\n');
    for (i, r) in rows.iter().enumerate() {
        for (v, w) in r.point.iter().zip(&widths) {
            s += &format!("{:>w$} ", format!("{v}"), w = *w);
        }
        for m in &shown {
            let cell = get(i, m).map(|x| words::with_range(&x)).unwrap_or_default();
            s += &format!(" {:>26}", cell);
        }
        s.push('\n');
    }
    s += &format!(
        "(people at the end of the run: mean over replicates (2.5th–97.5th percentile range, {}); every state, \
         event and place in sweep_long.csv)\n",
        ensemble::interval_kind_of(sc, p.inputs == ensemble::Inputs::Drawn)
    );
    s
}

/// The last two parts of a parameter path (`rcmp_between_ports.detection_rate`).
fn short_param(p: &str) -> String {
    let parts: Vec<&str> = p.rsplitn(3, '.').collect();
    match parts.as_slice() {
        [a, b, _] => format!("{b}.{a}"),
        _ => p.to_string(),
    }
}

/// How a single run streamed to its folder is run.
pub struct Streaming<'a> {
    /// Its seed (the scenario's if `None`).
    pub seed: Option<u64>,
    /// Worker threads (all cores if `None`).
    pub threads: Option<usize>,
    /// Also write cohort_places.csv.
    pub by_cohort: bool,
    /// Agents traced in trace.csv.
    pub trace: Option<usize>,
    /// The processes the agents are split over (`--partition`), if any.
    pub partition: Option<&'a dyn engine::Exchange>,
    /// Periods and scale of the published tables.
    pub publish: Publish,
}

/// What a streamed run ended with, for the terminal.
pub struct Streamed {
    /// The run's result.
    pub result: engine::RunResult,
    /// Claims per place over the run.
    pub claims: Vec<u64>,
    /// What caravans, offers and papers did, in words (empty if none).
    pub story: String,
    /// The folder written.
    pub dest: std::path::PathBuf,
    /// The files in it, for the terminal.
    pub files: String,
    /// Seconds from `t0` to the end of writing.
    pub wall: f64,
    /// Worker threads used.
    pub threads: usize,
}

/// Sums of claims per place over a run.
struct Claims(Vec<u64>);

impl Recorder for Claims {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        for (t, c) in self.0.iter_mut().zip(v.places) {
            *t += c[engine::Col::Claims as usize];
        }
        Ok(())
    }
}

/// One run streamed day by day into the claimed folder (its tables written
/// as the days pass, the published ones at the end), `progress` told each
/// day. Without a claim (a process other than rank 0), a partitioned run
/// steps its share of the agents and writes nothing.
pub fn stream(
    sc: &Scenario,
    s: &Streaming<'_>,
    claim: Option<crate::outdir::Claim>,
    progress: &mut dyn Recorder,
    t0: Instant,
) -> Result<Option<Streamed>, Box<dyn std::error::Error>> {
    let cfg = RunConfig {
        seed: s.seed,
        threads: s.threads,
        by_cohort: s.by_cohort,
    };
    let Some(claim) = claim else {
        if let Some(ex) = s.partition {
            // Whether rank 0 could start its tables (below), then the run.
            experiment::agree(Ok::<(), RankError>(()), ex)?;
            engine::run_partitioned(sc, &cfg, ex, &mut [])?;
        }
        return Ok(None);
    };
    let started = (|| -> Result<_, OutputError> {
        let out = OutDir::start(claim)?;
        let places = output::PlacesTable::new(&out)?;
        let by_cohort = s.by_cohort.then(|| CohortPlacesTable::new(&out)).transpose()?;
        let side = output::SideTables::new(&out, sc)?;
        // The trace samples agents by id: count the groups from their sizes'
        // draws, without building the population.
        let trace = match s.trace {
            Some(n) if n > 0 => Some(TraceTable::new(
                &out,
                n,
                crate::agents::count_groups(sc, s.seed.unwrap_or(sc.seed)) as usize,
            )?),
            _ => None,
        };
        Ok((out, places, by_cohort, side, trace))
    })();
    // The other processes of a partitioned run learn whether rank 0 could
    // start before the run's first collective.
    let (mut out, mut places, mut by_cohort, mut side, mut trace) = match s.partition {
        Some(ex) => experiment::agree_boxed(started, experiment::Kind::of_output, ex)?,
        None => started?,
    };
    let used_threads = crate::limits::workers(s.threads);
    let mut claims = Claims(vec![0; sc.places.len()]);
    let mut flows = output::RouteFlows::default();
    let mut keep = publish::Keep::new(sc);
    let result = {
        let mut recs: Vec<&mut dyn Recorder> = vec![&mut places, &mut claims, progress, &mut flows, &mut keep];
        if !side.is_empty() {
            recs.push(&mut side);
        }
        if let Some(t) = trace.as_mut() {
            recs.push(t);
        }
        if let Some(t) = by_cohort.as_mut() {
            recs.push(t);
        }
        match s.partition {
            Some(ex) => engine::run_partitioned(sc, &cfg, ex, &mut recs)?,
            None => engine::run(sc, &cfg, &mut recs)?,
        }
    };
    out.finish(places.into_file()?)?;
    if let Some(t) = trace {
        out.finish(t.into_file()?)?;
    }
    if let Some(t) = by_cohort {
        out.finish(t.into_file()?)?;
    }
    let story = side.story(sc);
    for (_, f) in side.finish()? {
        out.finish(f)?;
    }
    output::write_outcomes(&mut out, sc, &result)?;
    output::write_events(&mut out, sc, &result)?;
    output::write_routes(&mut out, sc, &flows.people)?;
    let wall = t0.elapsed().as_secs_f64();
    output::write_summary(&mut out, sc, &result, used_threads, wall)?;
    let rep = keep.into_replicate(&result);
    finish_run(&mut out, sc, &rep, &s.publish)?;
    let files = file_list(&out);
    let dest = out.commit()?;
    Ok(Some(Streamed {
        result,
        claims: claims.0,
        story,
        dest,
        files,
        wall,
        threads: used_threads,
    }))
}

/// The files of a folder being written, the report and summary first, for
/// the terminal.
pub fn file_list(out: &OutDir) -> String {
    let mut names: Vec<&str> = out.hashes().keys().map(String::as_str).collect();
    names.sort_by_key(|n| (!n.ends_with(".html"), !n.ends_with(".md"), *n));
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_replays_the_columns_of_the_agents_it_follows() {
        let mut a = Trace::blank_agents(5);
        (a.place[3], a.target[3], a.state[3], a.failed[3]) = (2, 4, State::Waiting as u8, 1);
        (a.cohort[1], a.bar_until[1]) = (1, 30);
        let mut t = Trace {
            agents: vec![1, 3],
            ..Trace::default()
        };
        t.push_day(&a);
        assert_eq!(t.column_lens(), vec![2; 10]);
        // A place column's "none" is the engine's NONE once traced.
        assert_eq!((t.place[0], t.place[1]), (NONE, 2));
        let mut b = Trace::blank_agents(5);
        t.replay(0, 1, &mut b);
        t.replay(1, 3, &mut b);
        assert_eq!(b, a);
    }
}
