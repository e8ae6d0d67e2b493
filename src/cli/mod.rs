//! The command line: argument parsing, progress, and the rendering of
//! results and errors for people.
//!
//! Owns exit codes (0 success, 1 a failure of northbound's own, 2 bad
//! input) and everything printed to the terminal. Must not simulate: it
//! calls the library.

use crate::agents::{State, N_STATES};
use crate::engine::{self, DayView, Recorder};
use crate::experiment::Kind;
use crate::output::{self, OutDir};
use crate::publish::{self, words, Period};
use crate::scenario::{self, human_bytes, LoadError, Scenario};
use clap::{Parser, Subcommand};

mod bench;
mod calibrate;
mod check;
mod compare;
mod flee;
mod forecast;
mod run;
mod sensitivity;
mod state;
mod sweep;
mod validate;

use bench::BenchArgs;
use calibrate::CalibrateArgs;
use compare::CompareArgs;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use run::RunArgs;
use sensitivity::SensitivityArgs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use sweep::SweepArgs;
use validate::ValidateArgs;

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
    /// A study: numeric parameters over a design (grid, lhs, sobol, morris or a file), replicates at every point; resumable.
    Sweep(SweepArgs),
    /// Sensitivity indices of a study folder (`sweep --design sobol:N` or `morris:R`).
    Analyze(sweep::AnalyzeArgs),
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
    Forecast(forecast::ForecastArgs),
    /// Render report.html again from the tables in a run, replicate or comparison folder.
    Report {
        /// The output folder.
        dir: PathBuf,
    },
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

/// What a command ended with: done, or failed of a [`Kind`] (its message
/// already printed where the failure was understood).
pub(crate) type Outcome = Result<(), Kind>;

/// The one place where outcomes become exit codes: 0 done, 1 a failure of
/// northbound's own, 2 bad input or a refused destination.
fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Kind::Failure) => ExitCode::from(1),
        Err(Kind::BadInput) => ExitCode::from(2),
    }
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
            return exit_code(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => Ok(()),
                _ => Err(Kind::BadInput),
            });
        }
    };
    crate::outdir::install_signal_handlers();
    // Commands that write nothing collective run on rank 0 alone under mpirun.
    let collective = matches!(
        &cli.command,
        Command::Run(_) | Command::Compare(_) | Command::Sweep(_) | Command::Validate(_)
    ) || matches!(&cli.command, Command::Calibrate(a) if !a.targets.join("data_layout.csv").is_file());
    if !collective && !root() {
        return ExitCode::SUCCESS;
    }
    exit_code(dispatch(cli.command))
}

/// Runs a command: the default model's handler, or the flee model's when
/// the scenario is a Flee folder or a `flee` TOML file.
fn dispatch(command: Command) -> Outcome {
    match command {
        Command::Check { scenario } => match Input::read(&scenario)? {
            i if i.is_flee() => flee::check(&i),
            i => check::check(&i),
        },
        Command::Run(args) if state::wants(&args) => state::run(args),
        Command::Run(args) => match Input::read(args.path())? {
            i if i.is_flee() => flee::run(args, &i),
            i => run::run(args, &i),
        },
        Command::Validate(args) => match Input::read(&args.scenario)? {
            i if i.is_flee() => flee::validate(args, &i),
            i => validate::validate(args, &i),
        },
        Command::Compare(args) => match Input::read(&args.scenario)? {
            i if i.is_flee() => flee::compare(args, &i),
            i => compare::compare(args, &i),
        },
        Command::Calibrate(args) => match Input::read(&args.scenario)? {
            i if i.is_flee() => flee::calibrate(args, &i),
            i => calibrate::calibrate(args, &i),
        },
        Command::ImportFlee { dir, out, flee_compat } => flee::import(&dir, out.as_deref(), flee_compat.as_deref()),
        Command::Bench(args) => bench::bench(args),
        Command::Report { dir } => report(&dir),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Analyze(args) => sweep::analyze(args),
        Command::Params { scenario, csv } => sweep::params(&scenario, csv),
        Command::Forecast(args) => forecast::run(args),
        Command::Sensitivity(args) => sensitivity::sensitivity(args),
    }
}

/// `northbound report DIR`: report.html rendered again from the folder.
fn report(dir: &Path) -> Outcome {
    match crate::report::render_dir(dir) {
        Ok(p) => {
            say(&mut std::io::stdout().lock(), &format!("{}\n", p.display()));
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(if e.is_bad_input() {
                Kind::BadInput
            } else {
                Kind::Failure
            })
        }
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
    fn read(path: &Path) -> Result<Input, Kind> {
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
                Err(Kind::BadInput)
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

fn load(input: &Input) -> Result<Scenario, Kind> {
    let path = input.path();
    let bytes = match input {
        Input::File { bytes, .. } if !input.is_flee() => bytes,
        _ => {
            eprintln!(
                "error: {} is a flee-model scenario: `run`, `check`, `validate`, `compare` and `calibrate` take it; \
                 this command works with the default model only",
                path.display()
            );
            return Err(Kind::BadInput);
        }
    };
    scenario::load_bytes(bytes, path).map_err(|e| {
        eprint!("{}", e.render());
        Kind::BadInput
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
fn claim_out(dest: &Path, opts: &crate::outdir::Options) -> Result<Option<crate::outdir::Claim>, Kind> {
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
        return Err(Kind::BadInput);
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

/// Whose fault an error is: the user's when their input or the
/// destination is refused, northbound's otherwise (the library's errors
/// say which with `kind()`).
fn kind_of(e: &(dyn std::error::Error + 'static)) -> Kind {
    if let Some(o) = e.downcast_ref::<crate::output::OutputError>() {
        Kind::of_output(o)
    } else if let Some(x) = e.downcast_ref::<crate::ensemble::EnsembleError>() {
        x.kind()
    } else if let Some(x) = e.downcast_ref::<crate::results::ResultsError>() {
        x.kind()
    } else if let Some(x) = e.downcast_ref::<crate::experiment::flee::FleeError>() {
        x.kind()
    } else if let Some(x) = rank_error(e) {
        x.kind
    } else if e.downcast_ref::<crate::limits::LimitError>().is_some()
        // Ranges that give an invalid scenario when drawn are the
        // scenario's mistake (its ranges), not northbound's.
        || e.downcast_ref::<crate::scenario::uncertain::InputsError>().is_some()
    {
        Kind::BadInput
    } else {
        Kind::Failure
    }
}

/// Another process's failure, wherever it sits in `e`'s chain of sources
/// (an engine error of a partitioned run wraps one).
fn rank_error<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e crate::experiment::RankError> {
    let mut at = Some(e);
    while let Some(x) = at {
        if let Some(r) = x.downcast_ref::<crate::experiment::RankError>() {
            return Some(r);
        }
        at = x.source();
    }
    None
}

/// A refused destination is the user's to fix; a failed write is not.
fn kind_of_output(e: &crate::output::OutputError) -> Kind {
    Kind::of_output(e)
}

/// Done, or the error printed and its kind (bad input is mostly refused
/// before work starts).
fn failed_if<T>(r: Result<T, Box<dyn std::error::Error>>) -> Outcome {
    match r {
        Ok(_) => Ok(()),
        Err(e) => {
            print_error(&*e);
            Err(kind_of(&*e))
        }
    }
}

/// Prints a library error, unless it is a failure under MPI that rank 0
/// reports (`experiment::RankError`): the other ranks then only exit with
/// its code.
fn print_error(e: &(dyn std::error::Error + 'static)) {
    if !crate::experiment::RankError::is_quiet(e) {
        eprintln!("error: {e}");
    }
}

/// Prints to stdout, treating a closed pipe as the reader's choice.
fn say(out: &mut impl Write, s: &str) {
    let _ = out.write_all(s.as_bytes());
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
    crate::results::file_list(out)
}

/// A progress bar over `len` items counted as `what`.
fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    progress_bar(
        len,
        &format!("{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} ({{eta}} left)"),
        quiet,
    )
}

/// A progress bar over the days of one run (the date as its message).
fn day_bar(days: u64, quiet: bool) -> ProgressBar {
    progress_bar(days, "{spinner} {msg} [{bar:30}] day {pos}/{len} ({eta} left)", quiet)
}

/// The one progress-bar builder (indicatif): drawn on standard error only
/// when it is a terminal, by the process that talks to it, and never with
/// `--quiet`.
fn progress_bar(len: u64, template: &str, quiet: bool) -> ProgressBar {
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
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b
}

fn scaled(sc: Scenario, scale: Option<f64>) -> Result<Scenario, Kind> {
    match scale {
        None => Ok(sc),
        Some(f) if f.is_finite() && f > 0.0 => Ok(sc.scaled(f)),
        Some(f) => {
            eprintln!("error: --scale must be a positive number, got {f}");
            Err(Kind::BadInput)
        }
    }
}

/// `out/<scenario stem><suffix>`, if the stem is a safe name (see
/// `outdir::safe_name`); otherwise the user is asked for `--out`.
/// `--out` if given, else the scenario's default folder (`default_out`).
pub(crate) fn out_or_default(out: &Option<PathBuf>, scenario: &Path, suffix: &str) -> Result<PathBuf, Kind> {
    match out {
        Some(p) => Ok(p.clone()),
        None => default_out(scenario, suffix),
    }
}

fn default_out(scenario: &Path, suffix: &str) -> Result<PathBuf, Kind> {
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
        return Err(Kind::BadInput);
    }
    Ok(PathBuf::from("out").join(format!("{stem}{suffix}")))
}

/// How replicates take the uncertain inputs, from `--fixed-inputs`.
fn inputs_of(fixed: bool) -> crate::ensemble::Inputs {
    if fixed {
        crate::ensemble::Inputs::Fixed
    } else {
        crate::ensemble::Inputs::Drawn
    }
}
