//! Every call the Python package makes into the northbound library, and
//! the conversion of what comes back into plain tables and JSON.
//!
//! Owns the choice of library functions behind each Python call, so that
//! when the library's layers move (an experiment layer, a thinner CLI) only
//! this module changes. The rest of the crate sees its handles and plain
//! data, never a library type. Must not simulate or format a file itself:
//! runs go through the engine, files through the library's writers.

mod tables;

pub use tables::{Data, Table};

use northbound::engine::{DayView, Recorder};
use northbound::engine::{EngineError, RunConfig};
use northbound::ensemble::{self, CompareRow, EnsembleError, Replicate};
use northbound::flee;
use northbound::limits::{self, LimitError};
use northbound::outdir::{self, OutDir};
use northbound::output;
use northbound::publish::{self, Period, VariantRuns};
use northbound::results::Stop;
use northbound::results::{self, Compared, KeptRun, Publish, ResultsError};
use northbound::rng::replicate_seed;
pub use northbound::scenario::diag::Located;
pub use northbound::scenario::params::Param;
use northbound::scenario::{self, params, LoadError, Scenario};
use northbound::study::design::{Design, Factor, Method};
use northbound::study::folder::{self, Model, Request, Study};
use northbound::study::runner::RepResult;
use northbound::study::{runs, Progress, StudyError};
use northbound::validation::{self, Target};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What went wrong, sorted by the Python exception it becomes.
#[derive(Debug)]
pub enum Error {
    /// A file could not be read or is not valid (`ScenarioError`).
    Load(LoadFailure),
    /// A parameter path or value was refused (`ParameterError`).
    Param(String),
    /// An argument was refused (`ValueError`).
    Value(String),
    /// A run failed: a failure of northbound's own (`RunError`).
    Run(String),
    /// The run was stopped (Ctrl-C).
    Stopped,
    /// Output could not be written (`OutputError`).
    Output(String),
}

/// A file that could not be loaded, with every problem.
#[derive(Debug)]
pub struct LoadFailure {
    /// One line: the file and how many problems.
    pub message: String,
    /// The file.
    pub path: String,
    /// The whole report as the command line prints it.
    pub rendered: String,
    /// Every problem, in file order (of every file, for several).
    pub problems: Vec<Located>,
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Error {
        Error::Load(LoadFailure {
            message: e.to_string(),
            path: e.path().display().to_string(),
            rendered: e.render(),
            // Every problem of every file (a Flee folder's files each have theirs).
            problems: e.located(),
        })
    }
}

impl From<LimitError> for Error {
    fn from(e: LimitError) -> Error {
        Error::Value(e.to_string())
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Error {
        if results::is_stopped(&e) {
            Error::Stopped
        } else {
            Error::Run(e.to_string())
        }
    }
}

impl From<EnsembleError> for Error {
    fn from(e: EnsembleError) -> Error {
        match e {
            EnsembleError::Engine(e) => e.into(),
            EnsembleError::Output(e) => Error::Output(e.to_string()),
            EnsembleError::Param(e) => Error::Param(e.to_string()),
            EnsembleError::Limit(e) => e.into(),
            // Only under MPI, which Python does not use.
            e @ (EnsembleError::Wire(_) | EnsembleError::Rank(_)) => Error::Run(e.to_string()),
            e @ (EnsembleError::UnknownVariant { .. } | EnsembleError::Spec(_) | EnsembleError::Inputs(_)) => {
                Error::Value(e.to_string())
            }
        }
    }
}

impl From<ResultsError> for Error {
    fn from(e: ResultsError) -> Error {
        match e {
            ResultsError::Ensemble(e) => e.into(),
            e => Error::Output(e.to_string()),
        }
    }
}

impl From<outdir::OutputError> for Error {
    fn from(e: outdir::OutputError) -> Error {
        Error::Output(e.to_string())
    }
}

/// Starts an output folder at `dir` under the command line's rules
/// (`outdir::claim`: replaced only if northbound wrote it, `force` as
/// `--force`; never `.`, the home folder or a folder holding the
/// scenario), recorded in its manifest as written by `command`.
fn out_dir(dir: &Path, force: bool, command: &str, input: &Path) -> Res<OutDir> {
    let opts = outdir::Options {
        force,
        command: command.to_string(),
        inputs: vec![input.to_path_buf()],
    };
    Ok(OutDir::start(outdir::claim(dir, &opts)?)?)
}

/// What a check of the limits calls the scenario.
fn what(sc: &Scenario) -> String {
    sc.about.file.display().to_string()
}

/// Workers a pool of `threads` has.
fn workers(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(rayon::current_num_threads)
}

/// Result of this module.
pub type Res<T> = Result<T, Error>;

/// What the caller holds over long work: the flag that stops it, and how
/// much of it is done (days of a single run, runs of an ensemble).
#[derive(Clone, Default)]
pub struct Control {
    stop: Stop,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

impl Control {
    /// Asks the work to stop at the end of its current day.
    pub fn stop(&self) {
        self.stop.stop();
    }

    /// (done, total) units of work; total is 0 until known.
    pub fn progress(&self) -> (u64, u64) {
        (self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed))
    }

    fn plan(&self, total: usize) {
        self.total.store(total as u64, Ordering::Relaxed);
    }

    fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// Replicates that stop with this control.
    fn extra(&self) -> ensemble::Extra {
        ensemble::Extra {
            stop: Some(self.stop.clone()),
            ..ensemble::Extra::default()
        }
    }
}

/// Counts the days of a run into its [`Control`].
struct Days(Control);

impl Recorder for Days {
    fn day(&mut self, _: &DayView<'_>) -> std::io::Result<()> {
        self.0.tick();
        Ok(())
    }
}

/// The version of the library.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// What `northbound sweep --design DESIGN` warns of before it runs (a
/// Sobol' design of few or unbalanced base points), worded for the Python
/// argument `design=`; nothing for a design that does not parse (the sweep
/// itself says why).
pub fn design_warnings(design: &str) -> Vec<String> {
    northbound::study::design::parse_method(design)
        .map(|m| northbound::study::warnings(&m))
        .unwrap_or_default()
        .into_iter()
        .map(|w| w.replacen("--design ", "design=", 1))
        .collect()
}

/// The seed of replicate `k` of a run with `seed` (replicate 0 is the run itself).
pub fn seed_of_replicate(seed: u64, k: u64) -> u64 {
    replicate_seed(seed, k)
}

/// Worker threads as the command line accepts them (1 to 4,096).
pub fn check_threads(threads: Option<usize>) -> Res<()> {
    match threads {
        Some(t) if !(1..=4096).contains(&t) => {
            Err(Error::Value(format!("threads must be between 1 and 4096, got {t}")))
        }
        _ => Ok(()),
    }
}

/// Replicates as the command line accepts them (1 to `max`).
pub fn check_replicates(n: usize, max: usize) -> Res<()> {
    if (1..=max).contains(&n) {
        Ok(())
    } else {
        Err(Error::Value(format!("replicates must be between 1 and {max}, got {n}")))
    }
}

/// Calendar periods by name, as `--period` takes them.
pub fn parse_period(name: &str) -> Res<Period> {
    Period::parse(name).ok_or_else(|| Error::Value(format!("period must be \"week\" or \"month\", got {name:?}")))
}

/// A loaded scenario of the default model.
#[derive(Clone)]
pub struct ScenarioHandle {
    sc: Arc<Scenario>,
    /// The file, canonical when loaded: an output folder may not contain
    /// it, wherever the process has moved since.
    input: Arc<PathBuf>,
    /// The factor its people were scaled by (`--scale`; said in the
    /// titles of what it writes).
    scale: f64,
}

impl ScenarioHandle {
    /// Loads a scenario file, as every command of the default model does.
    pub fn load(path: &Path) -> Res<ScenarioHandle> {
        if flee::is_flee(path) {
            return Err(Error::Value(format!(
                "{} is a flee-model scenario: the Python package runs the default model; run it with \
                 `northbound run` (docs/flee.md)",
                path.display()
            )));
        }
        Ok(ScenarioHandle {
            sc: Arc::new(scenario::load(path)?),
            input: Arc::new(path.canonicalize().unwrap_or_else(|_| path.to_path_buf())),
            scale: 1.0,
        })
    }

    /// Another scenario from the same file.
    fn derived(&self, sc: Scenario) -> ScenarioHandle {
        ScenarioHandle {
            sc: Arc::new(sc),
            input: self.input.clone(),
            scale: self.scale,
        }
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.sc.about.name
    }

    /// The file it was loaded from.
    pub fn file(&self) -> String {
        self.sc.about.file.display().to_string()
    }

    /// Everything in the scenario as plain JSON (see `tables::describe`).
    pub fn describe(&self) -> String {
        tables::describe(&self.sc).to_string()
    }

    /// Every settable parameter: path, value, valid range.
    pub fn parameters(&self) -> Vec<Param> {
        params::list(&self.sc)
    }

    /// A copy with parameters set by path, each checked as `sweep` checks it.
    pub fn with_values(&self, values: &[(String, f64)]) -> Res<ScenarioHandle> {
        let mut sc = (*self.sc).clone();
        for (path, v) in values {
            params::set(&mut sc, path, *v).map_err(|e| Error::Param(e.to_string()))?;
        }
        Ok(self.derived(sc))
    }

    /// A copy under a variant (its policies removed, replaced or added).
    pub fn variant(&self, id: &str) -> Res<ScenarioHandle> {
        let v = ensemble::pick_variants(&self.sc, &[id.to_string()])?;
        Ok(self.derived(ensemble::apply_variant(&self.sc, v[0])))
    }

    /// The same system at another size (`--scale`).
    pub fn scaled(&self, factor: f64) -> Res<ScenarioHandle> {
        if !(factor.is_finite() && factor > 0.0) {
            return Err(Error::Value(format!("scale must be a positive number, got {factor}")));
        }
        if factor == 1.0 {
            return Ok(self.clone());
        }
        let sc = self.sc.scaled(factor);
        // A size no run could have is refused now, as `--scale` is.
        limits::check(
            &format!("{} at scale {factor}", what(&self.sc)),
            limits::run(&sc, false),
        )?;
        let mut h = self.derived(sc);
        h.scale *= factor;
        Ok(h)
    }

    /// A copy whose own seed is `seed` (replicates derive theirs from it).
    pub fn seeded(&self, seed: u64) -> ScenarioHandle {
        let mut sc = (*self.sc).clone();
        sc.seed = seed;
        self.derived(sc)
    }

    /// The names of the outputs a run of it has (see [`RunHandle::outputs`]).
    pub fn output_names(&self) -> Vec<String> {
        tables::output_names(&self.sc)
    }

    /// Its seed.
    pub fn seed(&self) -> u64 {
        self.sc.seed
    }

    /// The ids of its variants.
    pub fn variant_ids(&self) -> Vec<String> {
        self.sc.variants.iter().map(|v| v.id.clone()).collect()
    }
}

/// How to run.
pub struct RunOptions {
    /// Seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Replicates (1: a single run).
    pub replicates: usize,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Agents to trace.
    pub trace: usize,
    /// Keep place counts per cohort.
    pub by_cohort: bool,
    /// Calendar periods of `periods` and of the written folder.
    pub period: Period,
    /// Whether replicates draw the uncertain inputs (the default) or keep
    /// them at their values (`--fixed-inputs`).
    pub inputs: ensemble::Inputs,
}

enum Kept {
    One(Box<KeptRun>),
    Many(Arc<Vec<Replicate>>),
}

/// A finished run (or replicates of one), kept in memory.
pub struct RunHandle {
    sc: Arc<Scenario>,
    input: Arc<PathBuf>,
    kept: Kept,
    publish: Publish,
}

impl RunHandle {
    /// Runs `sc` as `northbound run` does (`--replicates N` for more than
    /// one); stopped through `ctl`, ends early with [`Error::Stopped`].
    pub fn start(sc: &ScenarioHandle, o: &RunOptions, ctl: &Control) -> Res<RunHandle> {
        check_threads(o.threads)?;
        check_replicates(o.replicates, 100_000)?;
        if o.replicates > 1 && (o.trace > 0 || o.by_cohort) {
            return Err(Error::Value(
                "trace and by_cohort are for a single run; replicates keep the places, outcomes, events \
                 and routes tables"
                    .into(),
            ));
        }
        let need = limits::run_command(&sc.sc, o.replicates, workers(o.threads), o.by_cohort, o.trace);
        limits::check(&what(&sc.sc), need)?;
        if o.replicates > 1 {
            ctl.plan(o.replicates);
            let sc = match o.seed {
                Some(s) => sc.seeded(s),
                None => sc.clone(),
            };
            let reps = ensemble::replicates_with(
                &sc.sc,
                o.replicates,
                o.threads,
                None,
                &|| ctl.tick(),
                &northbound::engine::Local,
                &ensemble::Extra {
                    inputs: o.inputs,
                    ..ctl.extra()
                },
            )?;
            return Ok(RunHandle {
                publish: Publish {
                    period: o.period,
                    scale: sc.scale,
                    inputs: o.inputs,
                },
                sc: sc.sc,
                input: sc.input,
                kept: Kept::Many(Arc::new(reps)),
            });
        }
        let cfg = RunConfig {
            seed: o.seed,
            threads: o.threads,
            by_cohort: o.by_cohort,
        };
        ctl.plan(sc.sc.calendar.days as usize);
        let mut stop = ctl.stop.clone();
        let run = results::run(&sc.sc, &cfg, o.trace, &mut [&mut stop, &mut Days(ctl.clone())])?;
        Ok(RunHandle {
            sc: sc.sc.clone(),
            input: sc.input.clone(),
            kept: Kept::One(Box::new(run)),
            publish: Publish {
                period: o.period,
                scale: sc.scale,
                inputs: o.inputs,
            },
        })
    }

    fn replicates(&self) -> Vec<&Replicate> {
        self.kept_replicates().iter().collect()
    }

    fn kept_replicates(&self) -> &[Replicate] {
        match &self.kept {
            Kept::One(r) => std::slice::from_ref(&r.counts),
            Kept::Many(reps) => reps,
        }
    }

    /// The seed of each replicate.
    pub fn seeds(&self) -> Vec<u64> {
        self.replicates().iter().map(|r| r.seed).collect()
    }

    /// Whether this holds replicates (tables then have a `replicate` column).
    pub fn has_replicates(&self) -> bool {
        matches!(self.kept, Kept::Many(_))
    }

    /// The names of the tables this run has.
    pub fn table_names(&self) -> Vec<&'static str> {
        let mut v = vec!["places", "outcomes", "events", "routes", "periods"];
        if let Kept::One(r) = &self.kept {
            if !r.by_cohort.is_empty() {
                v.push("cohort_places");
            }
            if r.trace.is_some() {
                v.push("trace");
            }
        }
        v
    }

    /// A table by name, as the columns of its CSV file.
    pub fn table(&self, name: &str) -> Option<Table> {
        let sc = &self.sc;
        let reps = self.replicates();
        let many = self.has_replicates();
        Some(match name {
            "places" => tables::places(sc, &reps, many),
            "outcomes" => tables::outcomes(sc, &reps, many),
            "events" => tables::events(sc, &reps, many),
            "routes" => tables::routes(sc, &reps, many),
            "periods" => tables::periods(sc, self.publish.period, &[self.kept_replicates()], None),
            "cohort_places" => match &self.kept {
                Kept::One(r) if !r.by_cohort.is_empty() => tables::cohort_places(sc, &r.by_cohort),
                _ => return None,
            },
            "trace" => match &self.kept {
                Kept::One(r) => tables::trace(sc, r.trace.as_ref()?),
                _ => return None,
            },
            _ => return None,
        })
    }

    /// One row per replicate, one column per named output: people in each
    /// state at the end, person-events of each kind, and `metric@place`
    /// totals of each place's flows over the run.
    pub fn outputs(&self) -> Table {
        tables::outputs(&self.sc, &self.replicates())
    }

    /// `summary.json` as the command line writes it, with no tables' hashes
    /// (they exist once written); with replicates, a list of one summary per
    /// replicate (whose `threads`, as in `replicate-K/summary.json`, is the
    /// default pool's size: replicates share the pool).
    pub fn summary_json(&self) -> String {
        let none = Default::default();
        let text = match &self.kept {
            Kept::One(r) => {
                serde_json::to_string(&output::summary(&self.sc, &r.counts.result, r.threads, r.wall_s, &none))
            }
            Kept::Many(reps) => serde_json::to_string(
                &reps
                    .iter()
                    .map(|r| {
                        let wall = r.result.build_s + r.result.sim_s;
                        output::summary(&self.sc, &r.result, rayon::current_num_threads(), wall, &none)
                    })
                    .collect::<Vec<_>>(),
            ),
        };
        text.unwrap_or_default()
    }

    /// Writes the run folder `northbound run` (or `run --replicates N`)
    /// writes, under its rules (`force` as `--force`); returns where.
    pub fn write(&self, dir: &Path, force: bool) -> Res<PathBuf> {
        let mut out = out_dir(dir, force, "run", &self.input)?;
        match &self.kept {
            Kept::One(r) => results::write_run(&mut out, &self.sc, r, &self.publish)?,
            Kept::Many(reps) => results::write_replicates(&mut out, &self.sc, reps, &self.publish)?,
        }
        Ok(out.commit()?)
    }
}

/// A comparison of variants with the base, kept in memory.
pub struct CompareHandle {
    sc: Arc<Scenario>,
    input: Arc<PathBuf>,
    base: Arc<Vec<Replicate>>,
    variants: Vec<(String, Arc<Scenario>, Arc<Vec<Replicate>>)>,
    rows: Vec<CompareRow>,
    window: Option<(u32, u32)>,
    publish: Publish,
}

/// How to compare, beyond the variants and replicates.
pub struct CompareOptions {
    /// Calendar periods of `periods`.
    pub period: Period,
    /// `FROM..UNTIL` of the place-level differences (default: the whole run).
    pub window: Option<String>,
    /// Whether replicates draw the uncertain inputs (the default) or keep
    /// them at their values (`--fixed-inputs`).
    pub inputs: ensemble::Inputs,
}

impl CompareHandle {
    /// Runs `northbound compare`: the base and each variant (all declared
    /// when `variants` is empty), replicate k of each with the same seed.
    pub fn start(
        sc: &ScenarioHandle,
        variants: &[String],
        replicates: usize,
        threads: Option<usize>,
        o: &CompareOptions,
        ctl: &Control,
    ) -> Res<CompareHandle> {
        check_threads(threads)?;
        check_replicates(replicates, 10_000)?;
        let window = o
            .window
            .as_deref()
            .map(|w| publish::windows::parse_window(&sc.sc.calendar, w))
            .transpose()
            .map_err(|e| Error::Value(format!("window: {e}")))?;
        let picked = ensemble::pick_variants(&sc.sc, variants)?;
        if picked.is_empty() {
            return Err(Error::Value(format!(
                "{} declares no [[variant]] to compare",
                sc.file()
            )));
        }
        limits::check(
            &what(&sc.sc),
            limits::compare(&sc.sc, replicates, picked.len(), workers(threads)),
        )?;
        ctl.plan(replicates * (picked.len() + 1));
        let extra = ensemble::Extra {
            inputs: o.inputs,
            ..ctl.extra()
        };
        let run = |s: &Scenario| {
            ensemble::replicates_with(
                s,
                replicates,
                threads,
                None,
                &|| ctl.tick(),
                &northbound::engine::Local,
                &extra,
            )
        };
        let base = run(&sc.sc)?;
        let (mut pairs, mut scenarios) = (Vec::new(), Vec::new());
        for v in picked {
            let vs = ensemble::apply_variant(&sc.sc, v);
            pairs.push((v.id.clone(), run(&vs)?));
            scenarios.push(Arc::new(vs));
        }
        let rows = ensemble::compare_rows(&sc.sc, &base, &pairs);
        Ok(CompareHandle {
            sc: sc.sc.clone(),
            input: sc.input.clone(),
            base: Arc::new(base),
            variants: pairs
                .into_iter()
                .zip(scenarios)
                .map(|((id, r), s)| (id, s, Arc::new(r)))
                .collect(),
            rows,
            window,
            publish: Publish {
                period: o.period,
                scale: sc.scale,
                inputs: o.inputs,
            },
        })
    }

    /// The variants as the library's writers take them.
    fn variant_runs(&self) -> Vec<VariantRuns<'_>> {
        self.variants
            .iter()
            .map(|(id, sc, reps)| VariantRuns { id, scenario: sc, reps })
            .collect()
    }

    /// The inclusive days of the place-level differences.
    fn window(&self) -> (u32, u32) {
        self.window.unwrap_or((0, self.sc.calendar.days.saturating_sub(1)))
    }

    /// `periods.csv` of the comparison: the base's and every variant's.
    pub fn periods(&self) -> Table {
        let mut names = vec!["base".to_string()];
        names.extend(self.variants.iter().map(|v| v.0.clone()));
        let mut series: Vec<&[Replicate]> = vec![&self.base];
        series.extend(self.variants.iter().map(|v| v.2.as_slice()));
        tables::periods(&self.sc, self.publish.period, &series, Some(&names))
    }

    /// `place_differences.csv` as columns.
    pub fn place_differences(&self) -> Table {
        let runs = self.variant_runs();
        let diffs = publish::tables::place_differences(&self.sc, &self.base, &runs, self.window());
        tables::place_differences(&self.sc, &diffs, &self.variant_ids(), self.window())
    }

    /// The first and last date of the place-level differences, as `YYYY-MM-DD`.
    pub fn window_dates(&self) -> (String, String) {
        let (a, z) = self.window();
        let cal = &self.sc.calendar;
        (cal.date_of(a).to_string(), cal.date_of(z).to_string())
    }

    fn compared<'a>(&'a self, runs: &'a [VariantRuns<'a>]) -> Compared<'a> {
        Compared {
            base: &self.base,
            variants: runs,
            rows: &self.rows,
            window: self.window,
        }
    }

    /// `comparison.csv` as columns.
    pub fn table(&self) -> Table {
        tables::comparison(&self.rows)
    }

    /// What `northbound compare` prints.
    pub fn render(&self) -> String {
        let runs = self.variant_runs();
        results::comparison_text(&self.sc, &self.compared(&runs), &self.publish)
    }

    /// The variants' ids, in order.
    pub fn variant_ids(&self) -> Vec<String> {
        self.variants.iter().map(|v| v.0.clone()).collect()
    }

    /// The replicates of the base (`None`) or of a variant, as a run.
    pub fn run(&self, variant: Option<&str>) -> Option<RunHandle> {
        let (sc, reps) = match variant {
            None => (self.sc.clone(), self.base.clone()),
            Some(id) => {
                let v = self.variants.iter().find(|v| v.0 == id)?;
                (v.1.clone(), v.2.clone())
            }
        };
        Some(RunHandle {
            sc,
            input: self.input.clone(),
            kept: Kept::Many(reps),
            publish: self.publish,
        })
    }

    /// Writes the folder `northbound compare` writes, under its rules;
    /// returns where.
    pub fn write(&self, dir: &Path, force: bool) -> Res<PathBuf> {
        let mut out = out_dir(dir, force, "compare", &self.input)?;
        let runs = self.variant_runs();
        results::write_comparison(&mut out, &self.sc, &self.compared(&runs), &self.publish)?;
        Ok(out.commit()?)
    }
}

/// One axis of a sweep as Python gives it.
pub enum AxisSpec {
    /// `FROM:TO:STEP`, as `--param PATH=FROM:TO:STEP`.
    Range(String),
    /// The values themselves.
    Values(Vec<f64>),
}

/// A sweep, kept in memory: a study of the default model (`study::folder`)
/// over a design, its rows kept per point and replicate.
pub struct SweepHandle {
    sc: Arc<Scenario>,
    input: Arc<PathBuf>,
    design: Design,
    outputs: Vec<String>,
    rows: Vec<Vec<RepResult>>,
    publish: Publish,
}

impl From<StudyError> for Error {
    fn from(e: StudyError) -> Error {
        match e {
            StudyError::Ensemble(e) => e.into(),
            StudyError::Results(e) => e.into(),
            StudyError::Output(e) => e.into(),
            StudyError::Spec(m) => Error::Value(m),
            StudyError::Failed(m) => Error::Run(m),
            // Only under MPI, which Python does not use.
            e @ StudyError::Rank(_) => Error::Run(e.to_string()),
        }
    }
}

impl SweepHandle {
    /// Runs `northbound sweep` over `design` (`grid`, `lhs:N`, `sobol:N`,
    /// `morris:R[:P]`): a grid of the axes' values, or the design's points
    /// over each axis's `LO:HI`; `metrics` as `--metric`.
    pub fn start(
        sc: &ScenarioHandle,
        axes: &[(String, AxisSpec)],
        design: &str,
        metrics: &[String],
        replicates: usize,
        threads: Option<usize>,
        ctl: &Control,
    ) -> Res<SweepHandle> {
        check_threads(threads)?;
        check_replicates(replicates, 10_000)?;
        if axes.is_empty() {
            return Err(Error::Value("a sweep needs at least one parameter".into()));
        }
        // A path that names nothing is a parameter error, whatever the design.
        for (path, _) in axes {
            params::get(&sc.sc, path).map_err(|e| Error::Param(e.to_string()))?;
        }
        let model = Model::Default(&sc.sc);
        let req = Request {
            design,
            params: &[],
            design_file: None,
            metrics,
            replicates,
            threads,
            inputs: ensemble::Inputs::Drawn,
            scale: None,
        };
        let mut study = if design == "grid" {
            let axes = axes
                .iter()
                .map(|(path, spec)| match spec {
                    AxisSpec::Range(r) => ensemble::parse_axis(&sc.sc, &format!("{path}={r}")),
                    AxisSpec::Values(v) if v.is_empty() => Err(EnsembleError::Spec(format!("`{path}`: no values"))),
                    AxisSpec::Values(v) => ensemble::axis(&sc.sc, path, v.clone()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let factors = axes
                .iter()
                .map(|a| Factor {
                    path: a.path.clone(),
                    lo: a.values.iter().copied().fold(f64::INFINITY, f64::min),
                    hi: a.values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                })
                .collect();
            let points = ensemble::grid(&axes)?;
            let d = Design {
                method: Method::Grid,
                factors,
                points,
            };
            Study::of_design(model, &req, d)?
        } else {
            let params = axes
                .iter()
                .map(|(path, spec)| match spec {
                    AxisSpec::Range(r) => Ok(format!("{path}={r}")),
                    AxisSpec::Values(_) => Err(Error::Value(format!(
                        "`{path}`: a {design} design samples a range: give \"LO:HI\""
                    ))),
                })
                .collect::<Res<Vec<String>>>()?;
            Study::plan(model, &Request { params: &params, ..req })?
        };
        study.stop_on(ctl.stop.clone());
        ctl.plan(study.design.points.len());
        let rows = study.rows(&Progress {
            start: &|_, _| {},
            point: &|| ctl.tick(),
        })?;
        Ok(SweepHandle {
            sc: sc.sc.clone(),
            input: sc.input.clone(),
            design: study.design.clone(),
            outputs: study.outputs(),
            rows,
            publish: Publish {
                period: Period::Week,
                scale: sc.scale,
                inputs: Default::default(),
            },
        })
    }

    fn axes(&self) -> Vec<ensemble::Axis> {
        self.design
            .factors
            .iter()
            .map(|f| ensemble::Axis {
                path: f.path.clone(),
                values: Vec::new(),
            })
            .collect()
    }

    /// The table as columns (values unrounded): one row per point.
    pub fn table(&self) -> Table {
        tables::sweep(&self.axes(), &runs::sweep_rows(&self.design, &self.rows))
    }

    /// `runs.csv` as columns: one row per point and replicate.
    pub fn runs(&self) -> Table {
        tables::runs(&self.design, &self.outputs, &self.rows)
    }

    /// `sweep.csv` as the command line writes it.
    pub fn csv(&self) -> Res<String> {
        Ok(ensemble::sweep_csv(
            &self.axes(),
            &runs::sweep_rows(&self.design, &self.rows),
        )?)
    }

    /// What `northbound sweep` prints.
    pub fn render(&self) -> Res<String> {
        Ok(folder::text(
            &self.sc.about.name,
            Some(&self.sc),
            &self.design,
            &self.outputs,
            &self.rows,
            &self.publish,
        ))
    }

    /// Writes the folder `northbound sweep` writes, under its rules;
    /// returns where.
    pub fn write(&self, dir: &Path, force: bool) -> Res<PathBuf> {
        let mut out = out_dir(dir, force, "sweep", &self.input)?;
        folder::write_default(
            &mut out,
            &self.sc,
            &self.design,
            &self.outputs,
            &self.rows,
            &self.publish,
        )?;
        Ok(out.commit()?)
    }
}

/// A validation against counted targets.
pub struct ValidationHandle {
    header: String,
    targets: Vec<Target>,
    sc: Arc<Scenario>,
    v: validation::Validation,
}

impl ValidationHandle {
    /// Runs `northbound validate`: replicates (seeds derived from the
    /// scenario's), each target's simulated value, errors, persistence.
    pub fn start(
        sc: &ScenarioHandle,
        targets: &Path,
        replicates: usize,
        threads: Option<usize>,
        ctl: &Control,
    ) -> Res<ValidationHandle> {
        check_threads(threads)?;
        check_replicates(replicates, 10_000)?;
        let t = validation::load_targets(targets, &sc.sc)?;
        limits::check(
            &what(&sc.sc),
            limits::ensemble(&sc.sc, replicates, workers(threads), false, 0),
        )?;
        // The command line's replicates (`experiment::replicates`), stopped
        // by the control.
        ctl.plan(replicates);
        let reps = validation::Replicates {
            stop: Some(ctl.stop.clone()),
            on_done: &|| ctl.tick(),
            ..validation::Replicates::local(replicates, threads)
        };
        let runs = validation::simulate_replicates(&sc.sc, &t, &reps)?;
        let v = validation::compare(&t, &runs);
        Ok(ValidationHandle {
            header: format!(
                "{} against {} ({} replicates)\n",
                sc.sc.about.name,
                targets.display(),
                replicates
            ),
            targets: t,
            sc: sc.sc.clone(),
            v,
        })
    }

    /// One row per target.
    pub fn table(&self) -> Table {
        tables::validation(&self.sc, &self.targets, &self.v)
    }

    /// Mean absolute relative error.
    pub fn mare(&self) -> f64 {
        self.v.mare
    }

    /// (persistence error, the model's error on the same targets, targets), if any.
    pub fn persistence(&self) -> Option<(f64, f64, usize)> {
        self.v.persistence
    }

    /// What `northbound validate` prints.
    pub fn render(&self) -> String {
        self.header.clone() + &validation::render(&self.v, &self.targets)
    }
}

/// `northbound import-flee DIR`: the Flee folder as a northbound scenario
/// (TOML text) and the warnings the command prints; with `out`, also
/// written there under the command's rule (a file replaced only if
/// northbound wrote it, checked before the import).
pub fn import_flee(dir: &Path, compat: Option<&str>, out: Option<&Path>) -> Res<(String, Vec<String>)> {
    if !flee::import::is_flee_folder(dir) {
        return Err(Error::Value(format!(
            "{} is not a Flee scenario folder: it needs input_csv/locations.csv (or locations.csv)",
            dir.display()
        )));
    }
    let opts = outdir::Options {
        force: false,
        command: "import-flee".into(),
        inputs: vec![dir.to_path_buf()],
    };
    if let Some(p) = out {
        outdir::check_file(p, flee::scenario::IMPORT_MARKER, &opts)?;
    }
    let mut sc = flee::import::import(dir).map_err(|e| {
        let several = matches!(e, LoadError::Several(_));
        let mut err = Error::from(e);
        if let (true, Error::Load(f)) = (several, &mut err) {
            // Problems in several of the folder's files: the folder is the path.
            f.path = dir.display().to_string();
        }
        err
    })?;
    flee::configure(&mut sc, compat, None).map_err(Error::Value)?;
    let text = flee::scenario::to_toml(&sc, &dir.display().to_string());
    if let Some(p) = out {
        outdir::write_file(p, flee::scenario::IMPORT_MARKER, text.as_bytes(), &opts)?;
    }
    Ok((text, sc.warnings))
}
