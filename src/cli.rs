//! The command line: argument parsing, progress, and the rendering of
//! results and errors for people.
//!
//! Owns exit codes (0 success, 1 a failure of northbound's own, 2 bad
//! input) and everything printed to the terminal. Must not simulate: it
//! calls the library.

use crate::agents::{State, N_STATES};
use crate::engine::{self, Col, DayView, Recorder, RunConfig};
use crate::output::{self, CohortPlacesTable, OutDir, PlacesTable, TraceTable};
use crate::publish::{self, words, Period};
use crate::scenario::{self, human_bytes, LoadError, Scenario};
use clap::{Parser, Subcommand};

#[path = "cli_flee.rs"]
mod flee_cli;
#[path = "cli_forecast.rs"]
mod forecast_cli;
#[path = "cli_state.rs"]
mod state_cli;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// northbound: an agent-based simulator of migration routes from southern
/// Mexico through the United States to Canada.
#[derive(Parser, Debug)]
#[command(name = "northbound", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write its tables.
    Run(RunArgs),
    /// Validate a scenario and summarise it, without running it.
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Compare a scenario's runs with counted targets.
    Validate(ValidateArgs),
    /// Run the base and policy variants with common random numbers and compare them.
    Compare(CompareArgs),
    /// Vary numeric scenario fields over a grid, with replicates at every point.
    Sweep(SweepArgs),
    /// Sensitivity indices of a study folder (`sweep --design sobol:N` or `morris:R`).
    Analyze(AnalyzeArgs),
    /// List every settable parameter of a scenario (either model) with its value and valid range.
    Params {
        /// The scenario file (TOML) or Flee folder.
        scenario: PathBuf,
        /// Print CSV instead of an aligned table.
        #[arg(long)]
        csv: bool,
    },
    /// Search parameters that minimise the error on counted targets.
    Calibrate(CalibrateArgs),
    /// How much each uncertain input moves the scenario's headline figure (one at a time).
    Sensitivity(SensitivityArgs),
    /// Measure speed and memory on a large population built from a scenario's cohorts.
    Bench(BenchArgs),
    /// Import a Flee scenario folder (input_csv/, source_data/, simsetting.yml) as a northbound scenario.
    ImportFlee {
        /// The Flee folder.
        dir: PathBuf,
        /// Where to write the scenario (default: standard output).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Write `flee_compat = "3.1"`: reproduce Flee 3.1's bugs where they change results.
        #[arg(long, value_name = "VERSION")]
        flee_compat: Option<String>,
    },
    /// Forecast from observed counts (an ensemble weighed by them), or backtest such forecasts.
    Forecast(forecast_cli::ForecastArgs),
    /// Render report.html again from the tables in a run, replicate or comparison folder.
    Report {
        /// The output folder.
        dir: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// People (one per group).
    #[arg(long, default_value_t = 1_000_000)]
    people: u64,
    /// Days to simulate.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=65_000))]
    days: u32,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// The scenario whose cohorts and graph are used (default: scenarios/title42-2020-2023.toml).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
struct CompareArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Variants to compare with the base, comma-separated (default: every declared variant).
    #[arg(long, value_delimiter = ',')]
    variants: Vec<String>,
    /// Replicates of the base and of each variant (replicate k of each uses the same seed).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    replicates: u64,
    /// Dates the place-level differences are summed over (FROM..UNTIL, e.g. 2023-04-01..2023-06-30;
    /// default: the whole run). Final states are always those at the end of the run.
    #[arg(long, value_name = "FROM..UNTIL")]
    window: Option<String>,
    /// Calendar periods of the per-variant time series: weeks (Monday to Sunday) or months.
    #[arg(long, value_enum, default_value = "week")]
    period: Period,
    #[command(flatten)]
    opts: EnsembleOpts,
}

/// Options shared by `compare` and `sweep`.
#[derive(clap::Args, Debug)]
struct EnsembleOpts {
    /// Output folder (default: out/<scenario stem>-compare/ or -sweep/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads per process (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Run the same system at another size (see `run --scale`).
    #[arg(long, value_name = "FACTOR")]
    scale: Option<f64>,
    /// No progress bar and no table on the terminal.
    #[arg(long, short)]
    quiet: bool,
    /// Replace the output folder even if files were added to it since northbound wrote it.
    #[arg(long)]
    force: bool,
    /// Every replicate uses the uncertain inputs' values (intervals cover
    /// chance only); by default each replicate draws them.
    #[arg(long)]
    fixed_inputs: bool,
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    /// The scenario file (TOML), of either model.
    scenario: PathBuf,
    /// PATH=LO:HI (a grid: PATH=FROM:TO:STEP), e.g. behaviour.w_fail=0:2 (repeat for each
    /// parameter; `northbound params SCENARIO` lists them).
    #[arg(long = "param")]
    params: Vec<String>,
    /// The design: grid, lhs:N (Latin hypercube), sobol:N (Saltelli's scheme, N (2D+2) points)
    /// or morris:R[:P] (R trajectories on P levels, default 4).
    #[arg(long, default_value = "grid")]
    design: String,
    /// Points made elsewhere: a CSV file with a header of parameter paths and a row per point.
    #[arg(long, value_name = "CSV")]
    design_file: Option<PathBuf>,
    /// A place-level output for runs.csv: METRIC@PLACE[:FROM..UNTIL], e.g.
    /// claims@roxham_road:2023-04-01..2023-06-30 (repeat for more).
    #[arg(long = "metric", value_name = "METRIC@PLACE[:FROM..UNTIL]")]
    metrics: Vec<String>,
    /// Replicates at every point (replicate k uses the same seed at every point).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    replicates: u64,
    #[command(flatten)]
    opts: EnsembleOpts,
}

#[derive(clap::Args, Debug)]
struct AnalyzeArgs {
    /// The study folder (written by `northbound sweep`).
    dir: PathBuf,
    /// The output to analyse (repeat for more; default: every output that varies).
    #[arg(long = "output", value_name = "NAME")]
    outputs: Vec<String>,
    /// Analyse replicate K at each point (default: the mean over each point's replicates).
    #[arg(long, value_name = "K")]
    replicate: Option<usize>,
    /// Also write analysis.csv into the folder (its manifest is updated).
    #[arg(long)]
    out: bool,
}

#[derive(clap::Args, Debug)]
struct SensitivityArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The figure to report (default: the scenario's `headline`): METRIC@PLACE,PLACE for a
    /// places.csv column summed over places and the run, or a state (people at the end) or an
    /// event (person-events over the run).
    #[arg(long)]
    headline: Option<String>,
    /// Replicates at every point (the same seeds at every point).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    replicates: u64,
    #[command(flatten)]
    opts: EnsembleOpts,
}

#[derive(clap::Args, Debug)]
struct ValidateArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The targets file (TOML, [[target]] tables; see docs/validation.md), or a Flee
    /// `source_data/` folder for a flee-model scenario.
    #[arg(long)]
    targets: PathBuf,
    /// Replicates (seeds derived from the scenario's).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    replicates: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Run the same system at another size (see `run --scale`); targets are compared as they are.
    #[arg(long, value_name = "FACTOR")]
    scale: Option<f64>,
    /// For the flee model: "3.1" reproduces Flee 3.1's bugs where they change results.
    #[arg(long, value_name = "VERSION")]
    flee_compat: Option<String>,
    /// For Flee targets: where to write out.csv (default: out/<scenario>-validation/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Simulate only to this date (YYYY-MM-DD): targets after it cannot be read.
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Replace the output folder even if files were added to it since northbound wrote it.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args, Debug)]
struct CalibrateArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// The targets file (TOML).
    #[arg(long)]
    targets: PathBuf,
    /// Parameters to search: path=lo:hi, comma-separated (e.g.
    /// population.haitian_tps.daily_depart_share=0.00001:0.0005,behaviour.w_dist=0:3).
    #[arg(long)]
    params: String,
    /// Most Nelder–Mead iterations.
    #[arg(long, default_value_t = 40)]
    budget: u64,
    /// Replicates per parameter set (the same seeds for every set).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=1000))]
    replicates: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Where to write the result (default: out/<scenario stem>-calibration.toml). An existing
    /// file is replaced only if northbound wrote it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Simulate only to this date (YYYY-MM-DD): a calibration on an early window need not run
    /// the years after it.
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The scenario file (TOML). With --resume, the scenario saved in the state (see --scenario).
    #[arg(required_unless_present = "resume")]
    scenario: Option<PathBuf>,
    /// Stop after simulating this date (YYYY-MM-DD); the tables cover the run up to it.
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    until: Option<chrono::NaiveDate>,
    /// Write the whole state of the run after its last day to FILE, to continue it with --resume
    /// (a file northbound did not write is never replaced).
    #[arg(long, value_name = "FILE")]
    save_state: Option<PathBuf>,
    /// Continue the run saved in FILE (by --save-state); its tables cover the whole run.
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
    /// With --resume: continue under this scenario (changed policies, behaviour or end; the
    /// same places, routes and cohorts) instead of the saved one.
    #[arg(
        long = "scenario",
        value_name = "NEW.toml",
        requires = "resume",
        conflicts_with = "scenario"
    )]
    new_scenario: Option<PathBuf>,
    /// Output folder (default: out/<scenario file stem>/). Replaced whole when the run completes,
    /// if it is a folder northbound wrote (see docs/outputs.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the output folder even if files were added to it since northbound wrote it.
    #[arg(long)]
    force: bool,
    /// Random seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Also write trace.csv with the day-by-day place and state of N agents.
    #[arg(long, value_name = "N")]
    trace: Option<usize>,
    /// Run the same system at another size: multiply people, per_day departures, capacities,
    /// daily claim limits, appointment slots and pathway quotas by this factor.
    #[arg(long, value_name = "FACTOR")]
    scale: Option<f64>,
    /// Also write cohort_places.csv: the places table per cohort.
    #[arg(long)]
    by_cohort: bool,
    /// Split the agents of this run over the MPI processes (`mpirun -n P …`);
    /// the tables are the same for any P. Without MPI, one process.
    #[arg(long)]
    partition: bool,
    /// Run N replicates (seeds derived from the scenario's) and write their
    /// tables in replicate-K/ and summaries with intervals at the top. Each
    /// replicate draws the scenario's uncertain inputs (a Latin hypercube;
    /// inputs.csv), so the intervals cover chance and inputs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    replicates: Option<u64>,
    /// With --replicates: every replicate uses the uncertain inputs' values,
    /// so the intervals cover chance only.
    #[arg(long)]
    fixed_inputs: bool,
    /// For the flee model: "3.1" reproduces Flee 3.1's bugs where they change results.
    #[arg(long, value_name = "VERSION")]
    flee_compat: Option<String>,
    /// Calendar periods of periods.csv and of the report's charts: weeks (Monday to Sunday) or months.
    #[arg(long, value_enum, default_value = "week")]
    period: Period,
    /// No progress bar and no summary on the terminal.
    #[arg(long, short)]
    quiet: bool,
}

impl RunArgs {
    /// The scenario argument (present unless --resume; checked by clap).
    fn path(&self) -> &Path {
        self.scenario.as_deref().unwrap_or(Path::new(""))
    }
}

/// A date argument (YYYY-MM-DD).
fn parse_date_arg(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::time::parse_date(s).ok_or_else(|| format!("`{s}` is not a date: write YYYY-MM-DD, e.g. 2025-08-01"))
}

#[cfg(feature = "mpi")]
static MPI: std::sync::OnceLock<Option<crate::cluster::Mpi>> = std::sync::OnceLock::new();

/// The processes of this run: the MPI world under `mpirun` (with the `mpi`
/// feature), else this process alone.
fn ranks() -> &'static dyn crate::engine::Exchange {
    #[cfg(feature = "mpi")]
    {
        if let Some(Some(m)) = MPI.get() {
            return m;
        }
    }
    &crate::engine::Local
}

/// Whether this process writes outputs and talks to the terminal.
fn root() -> bool {
    ranks().rank() == 0
}

/// Parses the arguments, runs the command, and returns the exit code.
pub fn main() -> ExitCode {
    // MPI is finalised when `_universe` is dropped, at the end of main.
    #[cfg(feature = "mpi")]
    let _universe = {
        let (mpi, universe) = match crate::cluster::Mpi::init() {
            Some((m, u)) => (Some(m), Some(u)),
            None => (None, None),
        };
        let _ = MPI.set(mpi);
        universe
    };
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            };
        }
    };
    crate::outdir::install_signal_handlers();
    // Commands that write nothing collective run on rank 0 alone under mpirun.
    let collective = matches!(&cli.command, Command::Run(_) | Command::Compare(_) | Command::Sweep(_))
        || matches!(&cli.command, Command::Validate(a) if a.targets.join("data_layout.csv").is_file());
    if !collective && !root() {
        return ExitCode::SUCCESS;
    }
    match cli.command {
        Command::Check { scenario } => match Input::read(&scenario) {
            Ok(i) if i.is_flee() => flee_cli::check(&i),
            Ok(i) => check(&i),
            Err(c) => c,
        },
        Command::Run(args) if state_cli::wants(&args) => state_cli::run(args),
        Command::Run(args) => match Input::read(args.path()) {
            Ok(i) if i.is_flee() => flee_cli::run(args, &i),
            Ok(i) => run(args, &i),
            Err(c) => c,
        },
        Command::Validate(args) => match Input::read(&args.scenario) {
            Ok(i) if i.is_flee() => flee_cli::validate(args, &i),
            Ok(i) => validate(args, &i),
            Err(c) => c,
        },
        Command::ImportFlee { dir, out, flee_compat } => flee_cli::import(&dir, out.as_deref(), flee_compat.as_deref()),
        Command::Compare(args) => compare(args),
        Command::Bench(args) => bench(args),
        Command::Report { dir } => match crate::report::render_dir(&dir) {
            Ok(p) => {
                say(&mut std::io::stdout().lock(), &format!("{}\n", p.display()));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
            }
        },
        Command::Sweep(args) => sweep(args),
        Command::Analyze(args) => analyze(args),
        Command::Params { scenario, csv } => params(&scenario, csv),
        Command::Forecast(args) => forecast_cli::run(args),
        Command::Calibrate(args) => calibrate(args),
        Command::Sensitivity(args) => sensitivity(args),
    }
}

/// A scenario argument, read once: a pipe, a process substitution or a
/// FIFO gives its bytes only once.
pub(crate) enum Input {
    /// A Flee scenario folder.
    Folder(PathBuf),
    /// A scenario file's bytes.
    File {
        /// Where it was read from.
        path: PathBuf,
        /// Its bytes.
        bytes: Vec<u8>,
    },
}

impl Input {
    fn read(path: &Path) -> Result<Input, ExitCode> {
        if crate::flee::import::is_flee_folder(path) {
            return Ok(Input::Folder(path.to_path_buf()));
        }
        match std::fs::read(path) {
            Ok(bytes) => Ok(Input::File {
                path: path.to_path_buf(),
                bytes,
            }),
            Err(source) => {
                eprint!(
                    "{}",
                    LoadError::Io {
                        path: path.to_path_buf(),
                        source
                    }
                    .render()
                );
                Err(ExitCode::from(2))
            }
        }
    }

    fn path(&self) -> &Path {
        match self {
            Input::Folder(p) | Input::File { path: p, .. } => p,
        }
    }

    fn is_flee(&self) -> bool {
        match self {
            Input::Folder(_) => true,
            Input::File { bytes, .. } => crate::flee::is_flee_text(bytes),
        }
    }
}

fn load_targets(path: &Path, sc: &Scenario) -> Result<Vec<crate::validation::Target>, ExitCode> {
    crate::validation::load_targets(path, sc).map_err(|e| {
        eprint!("{}", e.render());
        ExitCode::from(2)
    })
}

/// The scenario simulated only to `until` (YYYY-MM-DD), if given.
fn until(sc: Scenario, until: Option<&str>) -> Result<Scenario, ExitCode> {
    let Some(text) = until else { return Ok(sc) };
    let day = crate::time::parse_date(text).map(|d| sc.calendar.day_of(d));
    match day {
        Some(d) if d >= 0 && d < sc.calendar.days as i64 => Ok(sc.first_days(d as u32 + 1)),
        Some(_) => {
            eprintln!(
                "error: --until {text} is outside the scenario ({} to {})",
                sc.calendar.start,
                sc.calendar.end()
            );
            Err(ExitCode::from(2))
        }
        None => {
            eprintln!("error: --until {text}: write a date as YYYY-MM-DD");
            Err(ExitCode::from(2))
        }
    }
}

fn validate(args: ValidateArgs, input: &Input) -> ExitCode {
    let sc = match load(input)
        .and_then(|s| scaled(s, args.scale))
        .and_then(|s| until(s, args.until.as_deref()))
    {
        Ok(s) => s,
        Err(c) => return c,
    };
    let targets = match load_targets(&args.targets, &sc) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let n = args.replicates as usize;
    let need = crate::limits::ensemble(
        &sc,
        n,
        args.threads.map(|t| t as usize).unwrap_or(rayon::current_num_threads()),
        false,
        0,
    );
    if let Err(e) = crate::limits::check(&what_scaled(input.path(), args.scale), need) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    match crate::validation::validate(&sc, &targets, n, args.threads.map(|t| t as usize)) {
        Ok(v) => {
            let mut o = std::io::stdout().lock();
            say(
                &mut o,
                &format!(
                    "{} against {} ({} replicates)\n",
                    sc.name,
                    args.targets.display(),
                    args.replicates
                ),
            );
            say(&mut o, &crate::validation::render(&v, &targets));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// The first line of every `calibrate` result: an existing file is
/// replaced only if it starts so.
pub const CALIBRATION_MARKER: &str = "# northbound calibrate ";

fn calibrate(args: CalibrateArgs) -> ExitCode {
    use crate::calibrate::{self as cal, CalibrateError};
    let input = match Input::read(&args.scenario) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let sc = match load(&input).and_then(|s| until(s, args.until.as_deref())) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let out = match &args.out {
        Some(p) => p.clone(),
        None => match default_out(&args.scenario, "-calibration") {
            Ok(p) => p.with_file_name(format!(
                "{}.toml",
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )),
            Err(c) => return c,
        },
    };
    let opts = out_options(false, "calibrate", &[args.scenario.clone(), args.targets.clone()]);
    if let Err(e) = crate::outdir::check_file(&out, CALIBRATION_MARKER, &opts) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let targets = match load_targets(&args.targets, &sc) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let specs = match cal::parse_specs(&sc, &args.params) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Every evaluation is checked again; the largest is checked now.
    if let Err(e) = cal::check_limits(&sc, &specs, args.threads.map(|t| t as usize)) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let result = cal::calibrate(
        &sc,
        &targets,
        &specs,
        args.budget,
        args.replicates as usize,
        args.threads.map(|t| t as usize),
    );
    let c = match result {
        Ok(c) => c,
        Err(e @ (CalibrateError::Param(_) | CalibrateError::Limit(_))) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let text = cal::render_toml(&c, &sc, &args.targets.display().to_string());
    if let Err(e) = crate::outdir::write_file(&out, CALIBRATION_MARKER, text.as_bytes(), &opts) {
        eprintln!("error: {e}");
        return ExitCode::from(if e.is_refusal() { 2 } else { 1 });
    }
    let mut o = std::io::stdout().lock();
    say(&mut o, &text);
    say(&mut o, &format!("written to {}\n", out.display()));
    ExitCode::SUCCESS
}

fn load(input: &Input) -> Result<Scenario, ExitCode> {
    let path = input.path();
    let bytes = match input {
        Input::File { bytes, .. } if !input.is_flee() => bytes,
        _ => {
            eprintln!(
                "error: {} is a flee-model scenario: `run`, `check` and `validate` take it; this command \
                 works with the default model only",
                path.display()
            );
            return Err(ExitCode::from(2));
        }
    };
    scenario::load_bytes(bytes, path).map_err(|e| {
        eprint!("{}", e.render());
        ExitCode::from(2)
    })
}

/// How a command writes, for `outdir`.
fn out_options(force: bool, command: &str, inputs: &[PathBuf]) -> crate::outdir::Options {
    crate::outdir::Options {
        force,
        command: command.to_string(),
        inputs: inputs.to_vec(),
    }
}

/// Checks and locks the output folder on rank 0 before any work; every
/// rank learns whether it may go on (2 if not).
fn claim_out(dest: &Path, opts: &crate::outdir::Options) -> Result<Option<crate::outdir::Claim>, ExitCode> {
    let claim = if root() {
        match crate::outdir::claim(dest, opts) {
            Ok(c) => Some(Ok(c)),
            Err(e) => {
                eprintln!("error: {e}");
                Some(Err(()))
            }
        }
    } else {
        None
    };
    let ok = !matches!(claim, Some(Err(())));
    if !all_agree(ok) {
        return Err(ExitCode::from(2));
    }
    Ok(claim.and_then(Result::ok))
}

/// Whether every process says `ok` (a collective call under mpirun).
fn all_agree(ok: bool) -> bool {
    let mut b = [u64::from(!ok)];
    ranks().sum_u64(&mut b);
    b[0] == 0
}

fn what_scaled(path: &Path, scale: Option<f64>) -> String {
    match scale {
        Some(f) => format!("{} at --scale {f}", path.display()),
        None => path.display().to_string(),
    }
}

/// Exit code for an error: 2 when the user's input or the destination is
/// refused, 1 for a failure of northbound's own.
fn code_of(e: &(dyn std::error::Error + 'static)) -> u8 {
    use crate::ensemble::EnsembleError as E;
    use crate::results::ResultsError as R;
    let output = e
        .downcast_ref::<crate::output::OutputError>()
        .or(match e.downcast_ref::<E>() {
            Some(E::Output(o)) => Some(o),
            _ => None,
        })
        .or(match e.downcast_ref::<R>() {
            Some(R::Output(o) | R::Ensemble(E::Output(o))) => Some(o),
            _ => None,
        });
    if let Some(o) = output {
        return if o.is_refusal() { 2 } else { 1 };
    }
    if e.downcast_ref::<crate::limits::LimitError>().is_some() || matches!(e.downcast_ref::<E>(), Some(E::Limit(_))) {
        return 2;
    }
    // Ranges that give an invalid scenario when drawn are the scenario's
    // mistake (its ranges), not northbound's.
    if e.downcast_ref::<crate::scenario::uncertain::InputsError>().is_some()
        || matches!(e.downcast_ref::<E>(), Some(E::Inputs(_)))
        || matches!(e.downcast_ref::<R>(), Some(R::Ensemble(E::Inputs(_))))
    {
        return 2;
    }
    1
}

/// Exit code 0, or 1 with the error printed: a failure of northbound's own
/// (bad input is refused with 2 before work starts).
fn failed_if<T>(r: Result<T, Box<dyn std::error::Error>>) -> ExitCode {
    match r {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(code_of(&*e))
        }
    }
}

/// Prints to stdout, treating a closed pipe as the reader's choice.
fn say(out: &mut impl Write, s: &str) {
    let _ = out.write_all(s.as_bytes());
}

fn check(input: &Input) -> ExitCode {
    let path = input.path();
    let sc = match load(input) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut o = std::io::stdout().lock();
    let cal = sc.calendar;
    let mut s = format!("{}: ok\n", path.display());
    s += &format!(
        "scenario  {} ({} to {}, {} days, seed {})\n",
        sc.name,
        cal.start,
        cal.end(),
        cal.days,
        sc.seed
    );
    let claim_points = sc.places.iter().filter(|p| p.claims).count();
    s += &format!("places    {} ({} claim points)\n", sc.places.len(), claim_points);
    s += &format!("routes    {} ({} directed legs)\n", sc.routes.len(), sc.legs.len());
    s += &format!("cohorts   {} ({} people)\n", sc.cohorts.len(), sc.people());
    for c in &sc.cohorts {
        let whence = match c.stock {
            None => format!("from {}", sc.places[c.origin as usize].id),
            Some(crate::scenario::Stock { place, leg: None, .. }) => {
                format!(
                    "waiting at {} on the start date (a stock)",
                    sc.places[place as usize].id
                )
            }
            Some(crate::scenario::Stock {
                leg: Some(l),
                days_left,
                ..
            }) => {
                let leg = &sc.legs[l as usize];
                format!(
                    "on route {} to {}, {days_left} days left on the start date (a stock)",
                    sc.routes[leg.route as usize].id, sc.places[leg.to as usize].id
                )
            }
        };
        s += &format!("  {:<24} {:>12} people  {}  {whence}\n", c.id, c.people, c.nationality);
    }
    s += &format!("policies  {}\n", sc.policies.len());
    for p in &sc.policies {
        let who = match &p.nationalities {
            Some(n) => format!(
                "  nationalities {}",
                n.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
            ),
            None => String::new(),
        };
        s += &format!(
            "  {:<24} {:<12} {} to {}{}\n",
            p.id,
            p.kind.name(),
            cal.date_of(p.from),
            cal.date_of(p.until),
            who
        );
    }
    if !sc.variants.is_empty() {
        s += &format!(
            "variants  {}\n",
            sc.variants.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(h) = &sc.headline {
        s += &format!("headline  {}\n", h.text);
    }
    if !sc.caravans.is_empty() {
        s += &format!("caravans  {}\n", sc.caravans.join(", "));
    }
    if !sc.uncertain.is_empty() {
        s += &format!("uncertain {} inputs\n", sc.uncertain.len());
        for u in &sc.uncertain {
            s += &format!("  {:<48} {:>12}  {} (line {})\n", u.path, u.value, u.describe(), u.line);
        }
    }
    for n in &sc.notes {
        s += &format!("note: {n}\n");
    }
    let need = sc.people() as u128 * crate::agents::BYTES_PER_AGENT as u128;
    s += &format!("memory    at most {} for agents\n", human_bytes(need));
    say(&mut o, &s);
    ExitCode::SUCCESS
}

/// Sums over the run for the terminal summary.
struct Totals {
    claims: Vec<u64>,
}

impl Recorder for Totals {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        for (t, c) in self.claims.iter_mut().zip(v.places) {
            *t += c[Col::Claims as usize];
        }
        Ok(())
    }
}

struct Progress(ProgressBar);

impl Recorder for Progress {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        self.0.set_position(v.day as u64 + 1);
        self.0.set_message(v.date.to_string());
        Ok(())
    }
}

fn run(args: RunArgs, input: &Input) -> ExitCode {
    let t0 = Instant::now();
    let sc = match load(input).and_then(|s| scaled(s, args.scale)) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let out_path = match out_or_default(&args.out, args.path(), "") {
        Ok(p) => p,
        Err(c) => return c,
    };
    if args.partition && args.trace.is_some() {
        eprintln!("error: --trace is not available with --partition (each process holds only its own agents)");
        return ExitCode::from(2);
    }
    if args.partition && args.replicates.is_some() {
        eprintln!(
            "error: --partition splits one run; with --replicates, replicates are spread over the processes already"
        );
        return ExitCode::from(2);
    }
    let threads = args.threads.map(|t| t as usize).unwrap_or(rayon::current_num_threads());
    let reps = args.replicates.filter(|&n| n > 1).map(|n| n as usize);
    let need = crate::limits::run_command(&sc, reps.unwrap_or(1), threads, args.by_cohort, args.trace.unwrap_or(0));
    if let Err(e) = crate::limits::check(&what_scaled(args.path(), args.scale), need) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let claim = match claim_out(&out_path, &out_options(args.force, "run", &[args.path().to_path_buf()])) {
        Ok(c) => c,
        Err(c) => return c,
    };
    if let Some(n) = reps {
        return failed_if(run_replicates(&sc, &args, n, claim));
    }
    failed_if(execute(&sc, &args, claim, t0))
}

fn execute(
    sc: &Scenario,
    args: &RunArgs,
    claim: Option<crate::outdir::Claim>,
    t0: Instant,
) -> Result<(), Box<dyn std::error::Error>> {
    let Some(claim) = claim else {
        // The other processes step their agents of a partitioned run and
        // write nothing; without --partition they have nothing to do.
        if args.partition {
            let cfg = RunConfig {
                seed: args.seed,
                threads: args.threads.map(|t| t as usize),
                by_cohort: args.by_cohort,
            };
            engine::run_partitioned(sc, &cfg, ranks(), &mut [])?;
        }
        return Ok(());
    };
    let mut out = OutDir::start(claim)?;
    let mut places = PlacesTable::new(&out)?;
    let mut by_cohort = if args.by_cohort {
        Some(CohortPlacesTable::new(&out)?)
    } else {
        None
    };
    let threads = args.threads.map(|t| t as usize);
    let used_threads = threads.unwrap_or_else(rayon::current_num_threads);
    let show = !args.quiet && root() && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(sc.calendar.days as u64),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] day {pos}/{len} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut progress = Progress(bar);
    let mut totals = Totals {
        claims: vec![0; sc.places.len()],
    };
    let mut flows = output::RouteFlows::default();
    let mut side = output::SideTables::new(&out, sc)?;
    let mut keep = publish::Keep::new(sc);
    let cfg = RunConfig {
        seed: args.seed,
        threads,
        by_cohort: args.by_cohort,
    };
    // The trace samples agents by id: count the groups from their sizes'
    // draws, without building the population.
    let mut trace = match args.trace {
        Some(n) if n > 0 => Some(TraceTable::new(
            &out,
            n,
            crate::agents::count_groups(sc, args.seed.unwrap_or(sc.seed)) as usize,
        )?),
        _ => None,
    };
    let result = {
        let mut recs: Vec<&mut dyn Recorder> = vec![&mut places, &mut totals, &mut progress, &mut flows, &mut keep];
        if !side.is_empty() {
            recs.push(&mut side);
        }
        if let Some(t) = trace.as_mut() {
            recs.push(t);
        }
        if let Some(t) = by_cohort.as_mut() {
            recs.push(t);
        }
        if args.partition {
            engine::run_partitioned(sc, &cfg, ranks(), &mut recs)?
        } else {
            engine::run(sc, &cfg, &mut recs)?
        }
    };
    progress.0.finish_and_clear();
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
    crate::results::finish_run(&mut out, sc, &rep, &publishing(args.period, args.scale))?;
    let files = file_list(&out);
    let dest = out.commit()?;
    if !args.quiet {
        let mut o = std::io::stdout().lock();
        say(
            &mut o,
            &summary_text(sc, &result, &totals.claims, &story, &dest, wall, used_threads, &files),
        );
    }
    Ok(())
}

/// How the published outputs are made: `--period` and `--scale`.
fn publishing(period: Period, scale: Option<f64>) -> crate::results::Publish {
    crate::results::Publish {
        period,
        scale: scale.unwrap_or(1.0),
        inputs: Default::default(),
    }
}

/// The files of a finished folder, for the terminal's last line.
fn file_list(out: &OutDir) -> String {
    let mut names: Vec<&str> = out.hashes().keys().map(String::as_str).collect();
    names.sort_by_key(|n| (!n.ends_with(".html"), !n.ends_with(".md"), *n));
    names.join(", ")
}

#[allow(clippy::too_many_arguments)]
fn summary_text(
    sc: &Scenario,
    r: &engine::RunResult,
    claims: &[u64],
    story: &str,
    dest: &Path,
    wall: f64,
    threads: usize,
    files: &str,
) -> String {
    let cal = sc.calendar;
    let mut s = format!(
        "{}: {} people in {} groups, {} to {} ({} days), seed {}, {} threads, {:.2} s\n\nWhere people ended on {}:\n",
        sc.name,
        words::thousands(r.people as i64),
        words::thousands(r.agents as i64),
        cal.start,
        cal.end(),
        r.days,
        r.seed,
        threads,
        wall,
        cal.end()
    );
    for st in State::ALL {
        let n = r.states[st as usize];
        if n > 0 {
            s += &format!(
                "  {:<18} {:>12}  {:>6}  {}\n",
                st.name(),
                words::thousands(n as i64),
                words::percent(n as f64, r.people.max(1) as f64),
                words::state_phrase(st.name())
            );
        }
    }
    let mut by_place: Vec<(usize, u64)> = claims.iter().copied().enumerate().filter(|(_, c)| *c > 0).collect();
    by_place.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !by_place.is_empty() {
        s += "\nClaims by place:\n";
        for (p, c) in by_place.iter().take(8) {
            s += &format!(
                "  {:<18} {:>12}  ({})\n",
                sc.places[*p].id,
                words::thousands(*c as i64),
                sc.places[*p].country
            );
        }
    }
    let (_, ev) = output::totals(r);
    let events: Vec<String> = crate::agents::Event::ALL
        .iter()
        .filter(|e| ev[**e as usize][0] > 0)
        .map(|e| {
            format!(
                "{} {} ({} people)",
                e.name(),
                words::thousands(ev[*e as usize][0] as i64),
                words::thousands(ev[*e as usize][1] as i64)
            )
        })
        .collect();
    if !events.is_empty() {
        s += &format!("\nEvents: {}\n", events.join(", "));
    }
    if !story.is_empty() {
        s += &format!("\nCaravans, offers and papers (caravan.csv, offers.csv, papers.csv):\n{story}");
    }
    let _ = N_STATES;
    s += "\nOne run: one draw of chance (run with --replicates N for ranges). summary.md says it in words.\n";
    s += &format!("\nIn {}/: {files}\n", dest.display());
    s
}

fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    let show = !quiet && root() && std::io::stderr().is_terminal();
    let b = ProgressBar::with_draw_target(
        Some(len),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} ({{eta}} left)"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b
}

fn scaled(sc: Scenario, scale: Option<f64>) -> Result<Scenario, ExitCode> {
    match scale {
        None => Ok(sc),
        Some(f) if f.is_finite() && f > 0.0 => Ok(sc.scaled(f)),
        Some(f) => {
            eprintln!("error: --scale must be a positive number, got {f}");
            Err(ExitCode::from(2))
        }
    }
}

/// `out/<scenario stem><suffix>`, if the stem is a safe name (see
/// `outdir::safe_name`); otherwise the user is asked for `--out`.
/// `--out` if given, else the scenario's default folder (`default_out`).
pub(crate) fn out_or_default(out: &Option<PathBuf>, scenario: &Path, suffix: &str) -> Result<PathBuf, ExitCode> {
    match out {
        Some(p) => Ok(p.clone()),
        None => default_out(scenario, suffix),
    }
}

fn default_out(scenario: &Path, suffix: &str) -> Result<PathBuf, ExitCode> {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !crate::outdir::safe_name(&stem) {
        eprintln!(
            "error: `{stem}` (from {}) cannot name an output folder: names are letters, digits, `_`, `-` and `.`; \
             pass --out",
            scenario.display()
        );
        return Err(ExitCode::from(2));
    }
    Ok(PathBuf::from("out").join(format!("{stem}{suffix}")))
}

fn run_replicates(
    sc: &Scenario,
    args: &RunArgs,
    n: usize,
    claim: Option<crate::outdir::Claim>,
) -> Result<(), Box<dyn std::error::Error>> {
    use crate::ensemble;
    let t0 = Instant::now();
    let mut out = claim.map(OutDir::start).transpose()?;
    let b = bar(n as u64, "replicates", args.quiet);
    let extra = ensemble::Extra {
        by_cohort: args.by_cohort,
        trace: args.trace.unwrap_or(0),
        stop: None,
        inputs: inputs_of(args.fixed_inputs),
    };
    let reps = ensemble::replicates_with(
        sc,
        n,
        args.threads.map(|t| t as usize),
        None,
        &|| b.inc(1),
        ranks(),
        &extra,
    )?;
    b.finish_and_clear();
    let Some(mut out) = out.take() else {
        return Ok(());
    };
    crate::results::write_replicates(&mut out, sc, &reps, &publishing(args.period, args.scale))?;
    let files = file_list(&out);
    let dest = out.commit()?;
    if !args.quiet {
        let mut s = format!(
            "{}: {n} replicates, {:.1} s\n\nWhere people ended on {} (mean over replicates, and the range from the \
             2.5th to the 97.5th percentile;\nranges cover {}; rounded to what the range supports):\n",
            sc.name,
            t0.elapsed().as_secs_f64(),
            sc.calendar.end(),
            ensemble::interval_kind(sc, &reps)
        );
        for st in State::ALL {
            let v: Vec<f64> = reps.iter().map(|r| r.result.states[st as usize] as f64).collect();
            let x = ensemble::stats(&v);
            if x.hi > 0.0 {
                s += &format!(
                    "  {:<18} {:>12}  {:>20}  {}\n",
                    st.name(),
                    words::rounded(x.mean, words::step_for(x.lo, x.hi)),
                    format!("range {}", words::range(&x)),
                    words::state_phrase(st.name())
                );
            }
        }
        s += &format!("\nIn {}/: {files}, replicate-K/\n", dest.display());
        say(&mut std::io::stdout().lock(), &s);
    }
    Ok(())
}

/// How replicates take the uncertain inputs, from `--fixed-inputs`.
fn inputs_of(fixed: bool) -> crate::ensemble::Inputs {
    if fixed {
        crate::ensemble::Inputs::Fixed
    } else {
        crate::ensemble::Inputs::Drawn
    }
}

fn compare(args: CompareArgs) -> ExitCode {
    use crate::ensemble;
    let input = match Input::read(&args.scenario) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let sc = match load(&input).and_then(|s| scaled(s, args.opts.scale)) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let variants = match ensemble::pick_variants(&sc, &args.variants) {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => {
            eprintln!("error: {} declares no [[variant]] to compare", args.scenario.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let window = match args
        .window
        .as_deref()
        .map(|w| publish::windows::parse_window(&sc.calendar, w))
        .transpose()
    {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: --window: {e}");
            return ExitCode::from(2);
        }
    };
    let n = args.replicates as usize;
    let threads = args.opts.threads.map(|t| t as usize);
    let out_path = match out_or_default(&args.opts.out, &args.scenario, "-compare") {
        Ok(p) => p,
        Err(c) => return c,
    };
    // The base's and every variant's replicates are kept until compared.
    let need = crate::limits::compare(&sc, n, variants.len(), threads.unwrap_or(rayon::current_num_threads()));
    if let Err(e) = crate::limits::check(&what_scaled(&args.scenario, args.opts.scale), need) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let claim = match claim_out(
        &out_path,
        &out_options(args.opts.force, "compare", std::slice::from_ref(&args.scenario)),
    ) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let b = bar((n * (variants.len() + 1)) as u64, "runs", args.opts.quiet);
    let extra = ensemble::Extra {
        inputs: inputs_of(args.opts.fixed_inputs),
        ..ensemble::Extra::default()
    };
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        // Replicate k of the base and of every variant draws the same
        // inputs and uses the same seed: the comparison is paired.
        let base = ensemble::replicates_with(&sc, n, threads, None, &|| b.inc(1), ranks(), &extra)?;
        let mut all = Vec::new();
        let mut scenarios = Vec::new();
        for v in &variants {
            let vs = ensemble::apply_variant(&sc, v);
            all.push((
                v.id.clone(),
                ensemble::replicates_with(&vs, n, threads, None, &|| b.inc(1), ranks(), &extra)?,
            ));
            scenarios.push(vs);
        }
        let Some(claim) = claim else {
            return Ok(());
        };
        let rows = ensemble::compare_rows(&sc, &base, &all);
        let mut out = OutDir::start(claim)?;
        let runs: Vec<publish::VariantRuns<'_>> = all
            .iter()
            .zip(&scenarios)
            .map(|((id, reps), vs)| publish::VariantRuns { id, scenario: vs, reps })
            .collect();
        let compared = crate::results::Compared {
            base: &base,
            variants: &runs,
            rows: &rows,
            window,
        };
        crate::results::write_comparison(&mut out, &sc, &compared, &publishing(args.period, args.opts.scale))?;
        let files = file_list(&out);
        let dest = out.commit()?;
        b.finish_and_clear();
        if !args.opts.quiet {
            let mut s = crate::results::comparison_text(&sc, &compared, &publishing(args.period, args.opts.scale));
            s += &format!("\nIn {}/: {files}\n", dest.display());
            say(&mut std::io::stdout().lock(), &s);
        }
        Ok(())
    })();
    failed_if(result)
}

fn sweep(args: SweepArgs) -> ExitCode {
    use crate::study::{folder, StudyError};
    let fail = |e: StudyError| {
        eprintln!("error: {e}");
        ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
    };
    let input = match Input::read(&args.scenario) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let loaded = match input.is_flee() {
        true => flee_cli::load(&input, None, args.opts.scale, args.opts.quiet).map(|f| (None, Some(f))),
        false => load(&input)
            .and_then(|s| scaled(s, args.opts.scale))
            .map(|s| (Some(s), None)),
    };
    let (sc, fsc) = match loaded {
        Ok(x) => x,
        Err(c) => return c,
    };
    let model = match (&sc, &fsc) {
        (Some(s), _) => folder::Model::Default(s),
        (_, Some(f)) => folder::Model::Flee(f),
        _ => return ExitCode::from(1),
    };
    let req = folder::Request {
        design: &args.design,
        params: &args.params,
        design_file: args.design_file.as_deref(),
        metrics: &args.metrics,
        replicates: args.replicates as usize,
        threads: args.opts.threads.map(|t| t as usize),
        inputs: inputs_of(args.opts.fixed_inputs),
        scale: args.opts.scale,
    };
    // Every point is set up and checked before the folder is claimed.
    let study = match folder::Study::plan(model, &req) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let out_path = match out_or_default(&args.opts.out, &args.scenario, "-sweep") {
        Ok(p) => p,
        Err(c) => return c,
    };
    let mut inputs = vec![args.scenario.clone()];
    inputs.extend(args.design_file.clone());
    let claim = match claim_out(&out_path, &out_options(args.opts.force, "sweep", &inputs)) {
        Ok(c) => c,
        Err(c) => return c,
    };
    // Points done over points total: a resumed study starts part-way.
    let b = bar(study.design.points.len() as u64, "sweep points", args.opts.quiet);
    let progress = crate::study::Progress {
        start: &|done, _| {
            b.set_position(done);
            b.reset_eta();
        },
        point: &|| b.inc(1),
    };
    let mut p = publishing(Period::Week, args.opts.scale);
    p.inputs = req.inputs;
    match study.run(&out_path, claim, args.opts.force, ranks(), &progress, &p) {
        Ok(Some((dest, files, text))) => {
            b.finish_and_clear();
            if !args.opts.quiet {
                say(
                    &mut std::io::stdout().lock(),
                    &format!("{text}\nIn {}/: {files}\n", dest.display()),
                );
            }
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn analyze(args: AnalyzeArgs) -> ExitCode {
    use crate::study::analyze::{self, Over};
    let over = args.replicate.map(Over::Replicate).unwrap_or(Over::Mean);
    let result = analyze::read(&args.dir).and_then(|f| {
        let a = analyze::analyze(&f, &args.outputs, over)?;
        let written = if args.out {
            Some(analyze::write(&args.dir, &f, &a)?)
        } else {
            None
        };
        Ok((analyze::text(&f, &a, over), written))
    });
    match result {
        Ok((text, written)) => {
            let more = written
                .map(|p| format!("\nWrote {}\n", p.display()))
                .unwrap_or_default();
            say(&mut std::io::stdout().lock(), &format!("{text}{more}"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}

fn params(scenario: &Path, csv: bool) -> ExitCode {
    let input = match Input::read(scenario) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let list = if input.is_flee() {
        flee_cli::load(&input, None, None, true).map(|f| crate::flee::params::list(&f))
    } else {
        load(&input).map(|s| scenario::params::list(&s))
    };
    match list.map(|l| scenario::params::table(&l, csv)) {
        Ok(Ok(text)) => {
            say(&mut std::io::stdout().lock(), &text);
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Err(c) => c,
    }
}

fn sensitivity(args: SensitivityArgs) -> ExitCode {
    let input = match Input::read(&args.scenario) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let sc = match load(&input).and_then(|s| scaled(s, args.opts.scale)) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let headline = match (&args.headline, &sc.headline) {
        (Some(text), _) => match scenario::parse_headline(text, &sc.place_index) {
            Ok(h) => h,
            Err((msg, help)) => {
                eprintln!("error: --headline {text}: {msg}; {help}");
                return ExitCode::from(2);
            }
        },
        (None, Some(h)) => h.clone(),
        (None, None) => {
            eprintln!(
                "error: {} has no `headline` in [scenario]; give one with --headline (e.g. claims@mexico_city)",
                args.scenario.display()
            );
            return ExitCode::from(2);
        }
    };
    if args.opts.fixed_inputs {
        eprintln!("error: --fixed-inputs has no meaning here: every input but one is at its value already");
        return ExitCode::from(2);
    }
    let n = args.replicates as usize;
    let threads = args.opts.threads.map(|t| t as usize);
    let workers = threads.unwrap_or(rayon::current_num_threads());
    // Every point is checked against the limits before the first runs.
    for (i, u) in sc.uncertain.iter().enumerate() {
        for v in [u.low, u.high] {
            let s = match crate::scenario::uncertain::one_at(&sc, i, v) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Err(e) = crate::limits::check(
                &format!("{} with {} = {v}", what_scaled(&args.scenario, args.opts.scale), u.path),
                crate::limits::ensemble(&s, n, workers, false, 0),
            ) {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let out_path = match out_or_default(&args.opts.out, &args.scenario, "-sensitivity") {
        Ok(p) => p,
        Err(c) => return c,
    };
    let claim = match claim_out(
        &out_path,
        &out_options(args.opts.force, "sensitivity", std::slice::from_ref(&args.scenario)),
    ) {
        Ok(Some(c)) => c,
        Ok(None) => return ExitCode::SUCCESS,
        Err(c) => return c,
    };
    let b = bar(
        ((2 * sc.uncertain.len() + 1) * n) as u64,
        "sensitivity runs",
        args.opts.quiet,
    );
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        let s = crate::sensitivity::run(&sc, &headline, n, threads, &|| b.inc(1))?;
        b.finish_and_clear();
        let mut out = OutDir::start(claim)?;
        crate::sensitivity::write(&mut out, &s)?;
        let dest = out.commit()?;
        if !args.opts.quiet {
            say(
                &mut std::io::stdout().lock(),
                &format!(
                    "{}: one input at a time, at the ends of its range\n\n{}\nsensitivity.csv in {}/\n",
                    sc.name,
                    crate::sensitivity::render(&s),
                    dest.display()
                ),
            );
        }
        Ok(())
    })();
    failed_if(result)
}

fn bench(args: BenchArgs) -> ExitCode {
    let path = args
        .scenario
        .clone()
        .unwrap_or_else(|| PathBuf::from("scenarios/title42-2020-2023.toml"));
    let t0 = Instant::now();
    let sc = match Input::read(&path).and_then(|i| load(&i)) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let load_s = t0.elapsed().as_secs_f64();
    if args.people == 0 || args.people >= u32::MAX as u64 {
        eprintln!("error: --people must be between 1 and {}", u32::MAX - 1);
        return ExitCode::from(2);
    }
    let need = crate::limits::run(&crate::bench::population(&sc, args.people, args.days), false);
    if let Err(e) = crate::limits::check(&format!("bench --people {}", args.people), need) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let b = bar(args.days as u64, "days", args.quiet || args.json);
    let r = crate::bench::run(
        &sc,
        load_s,
        args.people,
        args.days,
        args.threads.map(|t| t as usize),
        &mut |d| b.set_position(d as u64 + 1),
    );
    b.finish_and_clear();
    match r {
        Ok(r) => {
            let text = if args.json {
                serde_json::to_string(&r).unwrap_or_default() + "\n"
            } else {
                format!(
                    "benchmark population: {} people from the cohorts of {} ({}), one person per group, all setting out on day 0\n\
                     from the first cohort's origin, every route at least as slow as walking it (so that most agents stay active)\n\
                     agents                     {}\npeople                     {}\ndays                       {}\nthreads                    {}\n\
                     load (s)                   {:.3}\nbuild (s)                  {:.3}\nsimulate (s)               {:.3}\n\
                     agent-days per second      {:.0}\nactive agent-steps per s   {:.0}\nactive share               {:.3}  (agent-days travelling or waiting)\n\
                     peak resident memory       {}\nbytes per agent            {:.1}\n",
                    r.people,
                    r.scenario,
                    path.display(),
                    r.agents,
                    r.people,
                    r.days,
                    r.threads,
                    r.load_s,
                    r.build_s,
                    r.sim_s,
                    r.agent_days_per_s,
                    r.active_agent_steps_per_s,
                    r.active_share,
                    human_bytes(r.peak_rss_bytes as u128),
                    r.bytes_per_agent
                )
            };
            say(&mut std::io::stdout().lock(), &text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
