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
    /// Search parameters that minimise the error on counted targets.
    Calibrate(CalibrateArgs),
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
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// PATH=FROM:TO:STEP, e.g. policy.cam.quota_per_year=0:40000:10000 (repeat for a grid).
    #[arg(long = "param", required = true)]
    params: Vec<String>,
    /// Replicates at every grid point.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
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
    /// Where to write the result (default: out/<scenario stem>/calibration.toml).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Output folder (default: out/<scenario file stem>/). Replaced whole when the run completes.
    #[arg(long)]
    out: Option<PathBuf>,
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
    /// tables in replicate-K/ and summaries with intervals at the top.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    replicates: Option<u64>,
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
    match cli.command {
        Command::Check { scenario } if crate::flee::is_flee(&scenario) => flee_cli::check(&scenario),
        Command::Check { scenario } => check(&scenario),
        Command::Run(args) if crate::flee::is_flee(&args.scenario) => flee_cli::run(args),
        Command::Run(args) => run(args),
        Command::Validate(args) if crate::flee::is_flee(&args.scenario) => flee_cli::validate(args),
        Command::Validate(args) => validate(args),
        Command::ImportFlee { dir, out, flee_compat } => flee_cli::import(&dir, out.as_deref(), flee_compat.as_deref()),
        Command::Compare(args) => compare(args),
        Command::Bench(args) => bench(args),
        Command::Report { dir } => match crate::report::render_dir(&dir) {
            Ok(p) => {
                say(&mut std::io::stdout().lock(), &format!("{}\n", p.display()));
                ExitCode::SUCCESS
            }
            Err(e @ crate::report::ReportError::Empty(_)) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Sweep(args) => sweep(args),
        Command::Calibrate(args) => calibrate(args),
    }
}

fn load_targets(path: &Path, sc: &Scenario) -> Result<Vec<crate::validation::Target>, ExitCode> {
    crate::validation::load_targets(path, sc).map_err(|e| {
        eprint!("{}", e.render());
        ExitCode::from(2)
    })
}

fn validate(args: ValidateArgs) -> ExitCode {
    let sc = match load(&args.scenario).and_then(|s| scaled(s, args.scale)) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let targets = match load_targets(&args.targets, &sc) {
        Ok(t) => t,
        Err(c) => return c,
    };
    match crate::validation::validate(
        &sc,
        &targets,
        args.replicates as usize,
        args.threads.map(|t| t as usize),
    ) {
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

fn calibrate(args: CalibrateArgs) -> ExitCode {
    use crate::calibrate::{self as cal, CalibrateError};
    let sc = match load(&args.scenario) {
        Ok(s) => s,
        Err(c) => return c,
    };
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
        Err(CalibrateError::Param(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let text = cal::render_toml(&c, &sc, &args.targets.display().to_string());
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .scenario
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        PathBuf::from("out").join(stem).join("calibration.toml")
    });
    if let Err(e) = write_atomically(&out, &text) {
        eprintln!("error: {}: {e}", out.display());
        return ExitCode::from(1);
    }
    let mut o = std::io::stdout().lock();
    say(&mut o, &text);
    say(&mut o, &format!("written to {}\n", out.display()));
    ExitCode::SUCCESS
}

/// Writes a small file under a temporary name and renames it.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn load(path: &Path) -> Result<Scenario, ExitCode> {
    if crate::flee::is_flee(path) {
        eprintln!(
            "error: {} is a flee-model scenario: `run`, `check` and `validate` take it; this command \
             works with the default model only",
            path.display()
        );
        return Err(ExitCode::from(2));
    }
    scenario::load(path).map_err(|e| {
        eprint!("{}", e.render());
        match e {
            LoadError::Io { .. } | LoadError::NotUtf8 { .. } | LoadError::Invalid { .. } => ExitCode::from(2),
        }
    })
}

/// Exit code 0, or 1 with the error printed: a failure of northbound's own
/// (bad input is refused with 2 before work starts).
fn failed_if<T, E: std::fmt::Display>(r: Result<T, E>) -> ExitCode {
    match r {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Prints to stdout, treating a closed pipe as the reader's choice.
fn say(out: &mut impl Write, s: &str) {
    let _ = out.write_all(s.as_bytes());
}

fn check(path: &Path) -> ExitCode {
    let sc = match load(path) {
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
        s += &format!(
            "  {:<24} {:>12} people  {}  from {}\n",
            c.id, c.people, c.nationality, sc.places[c.origin as usize].id
        );
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

fn run(args: RunArgs) -> ExitCode {
    let t0 = Instant::now();
    let sc = match load(&args.scenario).and_then(|s| scaled(s, args.scale)) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let out_path = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .scenario
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        PathBuf::from("out").join(stem)
    });
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
    if let Some(n) = args.replicates.filter(|&n| n > 1) {
        return failed_if(run_replicates(&sc, &args, n as usize, &out_path));
    }
    failed_if(execute(&sc, &args, &out_path, t0))
}

fn execute(sc: &Scenario, args: &RunArgs, out_path: &Path, t0: Instant) -> Result<(), Box<dyn std::error::Error>> {
    if args.partition && !root() {
        // The other processes step their agents and write nothing.
        let cfg = RunConfig {
            seed: args.seed,
            threads: args.threads.map(|t| t as usize),
            by_cohort: args.by_cohort,
        };
        engine::run_partitioned(sc, &cfg, ranks(), &mut [])?;
        return Ok(());
    }
    let mut out = OutDir::create(out_path)?;
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
    out.finish(places.into_file())?;
    if let Some(t) = trace {
        out.finish(t.into_file())?;
    }
    if let Some(t) = by_cohort {
        out.finish(t.into_file())?;
    }
    output::write_outcomes(&mut out, sc, &result)?;
    output::write_events(&mut out, sc, &result)?;
    output::write_routes(&mut out, sc, &flows.people)?;
    let wall = t0.elapsed().as_secs_f64();
    output::write_summary(&mut out, sc, &result, used_threads, wall)?;
    let meta = publish::Meta::new("run", sc, result.seed, 1, args.scale, args.period);
    let rep = keep.into_replicate(&result);
    publish::write_run(&mut out, &meta, sc, std::slice::from_ref(&rep), args.period)?;
    let tmp = out.tmp_path().to_path_buf();
    crate::report::render_into(&tmp, &mut out)?;
    let files = file_list(&out);
    let dest = out.commit()?;
    if !args.quiet {
        let mut o = std::io::stdout().lock();
        say(
            &mut o,
            &summary_text(sc, &result, &totals.claims, &dest, wall, used_threads, &files),
        );
    }
    Ok(())
}

/// The files of a finished folder, for the terminal's last line.
fn file_list(out: &OutDir) -> String {
    let mut names: Vec<&str> = out.hashes().keys().map(String::as_str).collect();
    names.sort_by_key(|n| (!n.ends_with(".html"), !n.ends_with(".md"), *n));
    names.join(", ")
}

fn summary_text(
    sc: &Scenario,
    r: &engine::RunResult,
    claims: &[u64],
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

fn default_out(scenario: &Path, suffix: &str) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    PathBuf::from("out").join(format!("{stem}{suffix}"))
}

fn run_replicates(sc: &Scenario, args: &RunArgs, n: usize, out_path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    use crate::ensemble;
    let t0 = Instant::now();
    let mut out = OutDir::create(out_path)?;
    let b = bar(n as u64, "replicates", args.quiet);
    let reps = ensemble::replicates(sc, n, args.threads.map(|t| t as usize), Some(out.tmp_path()), &|| {
        b.inc(1)
    })?;
    b.finish_and_clear();
    ensemble::write_summaries(&mut out, sc, &reps)?;
    // Replicate seeds derive from the scenario's seed.
    let meta = publish::Meta::new("replicates", sc, sc.seed, n, args.scale, args.period);
    publish::write_run(&mut out, &meta, sc, &reps, args.period)?;
    let tmp = out.tmp_path().to_path_buf();
    crate::report::render_into(&tmp, &mut out)?;
    let files = file_list(&out);
    let dest = out.commit()?;
    if !args.quiet {
        let mut s = format!(
            "{}: {n} replicates, {:.1} s\n\nWhere people ended on {} (mean over replicates, and the range from the \
             2.5th to the 97.5th percentile;\nranges cover chance only, not the inputs' uncertainty; rounded to what \
             the range supports):\n",
            sc.name,
            t0.elapsed().as_secs_f64(),
            sc.calendar.end()
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

fn compare(args: CompareArgs) -> ExitCode {
    use crate::ensemble::{self, EnsembleError};
    let sc = match load(&args.scenario).and_then(|s| scaled(s, args.opts.scale)) {
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
    let window = match args.window.as_deref().map(|w| parse_window(&sc, w)).transpose() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: --window: {e}");
            return ExitCode::from(2);
        }
    };
    let n = args.replicates as usize;
    let threads = args.opts.threads.map(|t| t as usize);
    let b = bar((n * (variants.len() + 1)) as u64, "runs", args.opts.quiet);
    let result = (|| -> Result<PathBuf, EnsembleError> {
        let base = ensemble::replicates_on(&sc, n, threads, None, &|| b.inc(1), ranks())?;
        let mut all = Vec::new();
        let mut scenarios = Vec::new();
        for v in &variants {
            let vs = ensemble::apply_variant(&sc, v);
            all.push((
                v.id.clone(),
                ensemble::replicates_on(&vs, n, threads, None, &|| b.inc(1), ranks())?,
            ));
            scenarios.push(vs);
        }
        if !root() {
            return Ok(PathBuf::new());
        }
        let rows = ensemble::compare_rows(&sc, &base, &all);
        let out_path = args
            .opts
            .out
            .clone()
            .unwrap_or_else(|| default_out(&args.scenario, "-compare"));
        let mut out = OutDir::create(&out_path)?;
        ensemble::write_comparison(&mut out, &rows)?;
        // The base's own figures, so the report can show where people went.
        ensemble::write_summaries(&mut out, &sc, &base)?;
        if let Some(first) = base.first() {
            crate::output::write_routes(&mut out, &sc, &first.legs)?;
        }
        let last = sc.calendar.days.saturating_sub(1);
        let win = window.unwrap_or((0, last));
        let mut meta = publish::Meta::new("compare", &sc, sc.seed, n, args.opts.scale, args.period);
        meta.variants = variants
            .iter()
            .map(|v| publish::VariantMeta {
                id: v.id.clone(),
                description: v.description.clone(),
            })
            .collect();
        if window.is_some() {
            meta.window = Some((
                sc.calendar.date_of(win.0).to_string(),
                sc.calendar.date_of(win.1).to_string(),
            ));
        }
        let runs: Vec<publish::VariantRuns<'_>> = all
            .iter()
            .zip(&scenarios)
            .map(|((id, reps), vs)| publish::VariantRuns { id, scenario: vs, reps })
            .collect();
        let comparison = publish::Comparison {
            base: &base,
            variants: &runs,
            rows: &rows,
            window: win,
        };
        publish::write_compare(&mut out, &meta, &sc, &comparison, args.period)?;
        let tmp = out.tmp_path().to_path_buf();
        crate::report::render_into(&tmp, &mut out).map_err(|e| EnsembleError::Spec(format!("report: {e}")))?;
        let files = file_list(&out);
        let dest = out.commit()?;
        b.finish_and_clear();
        if !args.opts.quiet {
            let mut s = format!(
                "{}: the base against {} variant(s), {}\n\n",
                sc.name,
                variants.len(),
                words::scale_phrase(args.opts.scale.unwrap_or(1.0))
            );
            s += &ensemble::render_comparison(&rows, n);
            if let Some((a, z)) = &meta.window {
                s += &format!("(place-level differences between {a} and {z} are in place_differences.csv)\n");
            }
            s += &format!("\nIn {}/: {files}\n", dest.display());
            say(&mut std::io::stdout().lock(), &s);
        }
        Ok(dest)
    })();
    failed_if(result)
}

/// Parses `FROM..UNTIL` into inclusive day numbers inside the run.
fn parse_window(sc: &Scenario, w: &str) -> Result<(u32, u32), String> {
    let (a, z) = w
        .split_once("..")
        .ok_or_else(|| format!("`{w}`: write FROM..UNTIL, e.g. 2023-04-01..2023-06-30"))?;
    let date = |s: &str| crate::time::parse_date(s).ok_or_else(|| format!("`{s}` is not a date (YYYY-MM-DD)"));
    let (a, z) = (date(a)?, date(z)?);
    let cal = sc.calendar;
    let (da, dz) = (cal.day_of(a), cal.day_of(z));
    if da > dz {
        return Err(format!("{a} is after {z}"));
    }
    if da < 0 || dz >= cal.days as i64 {
        return Err(format!(
            "{a}..{z} is not inside the run ({} to {})",
            cal.start,
            cal.end()
        ));
    }
    Ok((da as u32, dz as u32))
}

fn sweep(args: SweepArgs) -> ExitCode {
    use crate::ensemble::{self, EnsembleError};
    let sc = match load(&args.scenario).and_then(|s| scaled(s, args.opts.scale)) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let axes = match args
        .params
        .iter()
        .map(|p| ensemble::parse_axis(&sc, p))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let points = ensemble::grid(&axes);
    let n = args.replicates as usize;
    let b = bar((points.len() * n) as u64, "sweep runs", args.opts.quiet);
    let result = (|| -> Result<PathBuf, Box<dyn std::error::Error>> {
        let mut text = String::new();
        let mut header: Vec<String> = axes.iter().map(|a| a.path.clone()).collect();
        for (m, _) in ensemble::headline(&[]) {
            header.push(format!("{m}_mean"));
            header.push(format!("{m}_lo95"));
            header.push(format!("{m}_hi95"));
        }
        text += &header.join(",");
        text.push('\n');
        let mut figures = Vec::with_capacity(points.len());
        for p in &points {
            let mut s2 = sc.clone();
            for (a, v) in axes.iter().zip(p) {
                crate::scenario::params::set(&mut s2, &a.path, *v).map_err(EnsembleError::from)?;
            }
            let reps = ensemble::replicates_on(
                &s2,
                n,
                args.opts.threads.map(|t| t as usize),
                None,
                &|| b.inc(1),
                ranks(),
            )?;
            let mut cells: Vec<String> = p.iter().map(|v| format!("{v}")).collect();
            for (_, st) in ensemble::headline(&reps) {
                cells.push(format!("{:.3}", st.mean));
                cells.push(format!("{:.3}", st.lo));
                cells.push(format!("{:.3}", st.hi));
            }
            text += &cells.join(",");
            text.push('\n');
            figures.push(publish::tables::sweep_figures(&s2, &reps));
        }
        b.finish_and_clear();
        if !root() {
            return Ok(PathBuf::new());
        }
        let out_path = args
            .opts
            .out
            .clone()
            .unwrap_or_else(|| default_out(&args.scenario, "-sweep"));
        let mut out = OutDir::create(&out_path)?;
        let mut f = out.file("sweep.csv")?;
        f.write_all(text.as_bytes())?;
        out.finish(f)?;
        let mut meta = publish::Meta::new("sweep", &sc, sc.seed, n, args.opts.scale, Period::Week);
        meta.params = axes.iter().map(|a| a.path.clone()).collect();
        publish::write_sweep(&mut out, &meta, &sc, &points, &figures)?;
        let tmp = out.tmp_path().to_path_buf();
        crate::report::render_into(&tmp, &mut out)?;
        let files = file_list(&out);
        let dest = out.commit()?;
        if !args.opts.quiet {
            say(
                &mut std::io::stdout().lock(),
                &format!(
                    "{}: {} grid points × {n} replicates, {}\n\n{}\nIn {}/: {files}\n",
                    sc.name,
                    points.len(),
                    words::scale_phrase(args.opts.scale.unwrap_or(1.0)),
                    sweep_table(&meta.params, &points, &figures),
                    dest.display()
                ),
            );
        }
        Ok(dest)
    })();
    failed_if(result)
}

/// The sweep as a terminal table: the parameters, then the final states
/// that vary most over the grid (mean and range over replicates, rounded).
fn sweep_table(
    params: &[String],
    points: &[Vec<f64>],
    figures: &[Vec<(String, String, crate::ensemble::Stats)>],
) -> String {
    let states: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
    let get = |i: usize, m: &str| {
        figures[i]
            .iter()
            .find(|(p, k, _)| p.is_empty() && k == m)
            .map(|(_, _, s)| *s)
    };
    let mut spread: Vec<(&str, f64)> = states
        .iter()
        .map(|m| {
            let v: Vec<f64> = (0..points.len()).filter_map(|i| get(i, m).map(|s| s.mean)).collect();
            let (lo, hi) = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
            (*m, if v.is_empty() { 0.0 } else { hi - lo })
        })
        .filter(|(_, w)| *w > 0.0)
        .collect();
    spread.sort_by(|a, b| b.1.total_cmp(&a.1));
    let shown: Vec<&str> = spread.iter().take(4).map(|(m, _)| *m).collect();
    let mut s = String::new();
    let widths: Vec<usize> = params.iter().map(|p| short_param(p).chars().count().max(8)).collect();
    for (p, w) in params.iter().zip(&widths) {
        s += &format!("{:>w$} ", short_param(p), w = *w);
    }
    for m in &shown {
        s += &format!(" {:>26}", m);
    }
    s.push('\n');
    for (i, p) in points.iter().enumerate() {
        for (v, w) in p.iter().zip(&widths) {
            s += &format!("{:>w$} ", format!("{v}"), w = *w);
        }
        for m in &shown {
            let cell = get(i, m).map(|x| words::with_range(&x)).unwrap_or_default();
            s += &format!(" {:>26}", cell);
        }
        s.push('\n');
    }
    s += "(people at the end of the run: mean over replicates (2.5th–97.5th percentile range, chance only); every \
          state, event and place in sweep_long.csv)\n";
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

fn bench(args: BenchArgs) -> ExitCode {
    let path = args
        .scenario
        .clone()
        .unwrap_or_else(|| PathBuf::from("scenarios/title42-2020-2023.toml"));
    let t0 = Instant::now();
    let sc = match load(&path) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let load_s = t0.elapsed().as_secs_f64();
    if args.people == 0 || args.people >= u32::MAX as u64 {
        eprintln!("error: --people must be between 1 and {}", u32::MAX - 1);
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
