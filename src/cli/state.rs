//! `run --until DATE`, `run --save-state FILE` and `run --resume FILE
//! [--scenario NEW.toml]`: runs stopped after a day, saved, and continued
//! under the same scenario or a changed one.
//!
//! Owns the command line of checkpoints: what may be combined, the checks
//! made before any work, and the messages. The file format is `state`'s;
//! the run and its tables are `results`'s (a continued run writes the
//! tables of the whole run, from the numbers the state carries).

use super::run::{summary_text, Progress};
use super::*;
use crate::engine::EngineState;
use crate::output::OutDir;
use crate::results;
use crate::scenario::{self, Scenario};
use crate::state::{self, History, Saved, SavedScenario, StateError};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Whether `run` was asked to stop, save or continue.
pub(super) fn wants(args: &RunArgs) -> bool {
    args.until.is_some() || args.save_state.is_some() || args.resume.is_some()
}

pub(super) fn refuse(msg: impl std::fmt::Display) -> Kind {
    eprintln!("error: {msg}");
    Kind::BadInput
}

/// Where a run starts: from the beginning, or from a saved state.
pub(super) enum Start {
    Fresh,
    Saved(Box<EngineState>, Box<History>),
}

/// A scenario file's bytes, loaded (the default model only).
pub(super) fn load_file(path: &Path) -> Result<(Scenario, Vec<u8>), Kind> {
    let input = Input::read(path)?;
    if input.is_flee() {
        return Err(refuse(format!(
            "{} is a flee-model scenario: --until, --save-state and --resume are for the default model",
            path.display()
        )));
    }
    let sc = load(&input)?;
    let bytes = match input {
        Input::File { bytes, .. } => bytes,
        Input::Folder(_) => Vec::new(),
    };
    Ok((sc, bytes))
}

/// `run` with --until, --save-state or --resume.
pub(super) fn run(args: RunArgs) -> Outcome {
    let t0 = Instant::now();
    let (sc, text, path, start, scale) = begin(&args)?;
    let cal = sc.calendar;
    let first = match &start {
        Start::Fresh => 0,
        Start::Saved(st, _) => st.day,
    };
    let last = match args.until {
        None => None,
        Some(d) => {
            let day = cal.day_of(d);
            if day < first as i64 || day >= cal.days as i64 {
                return Err(refuse(format!(
                    "--until {d} is outside the days this run simulates ({} to {})",
                    cal.date_of(first),
                    cal.end()
                )));
            }
            Some(day as u32)
        }
    };
    if first >= cal.days {
        return Err(refuse(format!(
            "the saved run has simulated every day of its scenario (to {}); give a scenario that ends later with --scenario",
            cal.end()
        )));
    }
    let (by_cohort, trace) = kept_tables(&args, &start)?;
    let inputs: Vec<PathBuf> = [Some(path.clone()), args.resume.clone()]
        .into_iter()
        .flatten()
        .collect();
    let opts = out_options(args.force, "run", &inputs);
    if let Some(dest) = &args.save_state {
        if let Err(e) = crate::outdir::check_file(dest, state::MARKER, &opts) {
            return Err(refuse(e));
        }
    }
    let out_path = out_or_default(&args.out, &path, "")?;
    let threads = args.threads.map(|t| t as usize);
    let used = crate::limits::workers(threads);
    let need = crate::limits::run_command(&sc, 1, used, by_cohort, trace);
    if let Err(e) = crate::limits::check(&path.display().to_string(), need) {
        return Err(refuse(e));
    }
    let Some(claim) = claim_out(&out_path, &opts)? else {
        // Under mpirun a run with saved state is one process's work and
        // one writer's: the other ranks, having agreed to rank 0's folder,
        // stop here with nothing to do (they used to exit 2, failing the job).
        return Ok(());
    };
    let saved_scenario = SavedScenario {
        path: path.display().to_string(),
        sha256: sc.about.sha256.clone(),
        text,
        scale,
    };
    failed_if((|| -> Result<(), Box<dyn std::error::Error>> {
        let bar = progress(cal.days as u64, first as u64, args.quiet);
        let mut progress = Progress(bar);
        let (engine_state, history) = match start {
            Start::Fresh => (None, None),
            Start::Saved(st, h) => (Some(*st), Some(*h)),
        };
        let span = crate::state::Span {
            seed: args.seed.unwrap_or(sc.seed),
            by_cohort,
            last,
            trace,
            threads,
            keep_state: args.save_state.is_some(),
        };
        let (result, kept, state) = crate::state::run_span(&sc, engine_state, history, &span, &mut [&mut progress])?;
        progress.0.finish_and_clear();
        let mut kept = kept;
        if let (Some(dest), Some(state)) = (&args.save_state, state) {
            let saved = Saved {
                northbound: env!("CARGO_PKG_VERSION").into(),
                scenario: saved_scenario,
                history: History::of(&kept, by_cohort),
                engine: state,
            };
            let bytes = state::encode(&saved).map_err(|e| std::io::Error::other(format!("encoding the state: {e}")))?;
            crate::outdir::write_file(dest, state::MARKER, &bytes, &opts)?;
        }
        let wall = t0.elapsed().as_secs_f64();
        kept.counts.seed = result.seed;
        kept.counts.result = result;
        kept.threads = used;
        kept.wall_s = wall;
        // A run stopped early is published as what it is: the days it ran,
        // its states on the last of them (not as the scenario's end).
        let stopped = last.filter(|&l| l + 1 < cal.days);
        let shown = match stopped {
            Some(l) => {
                let mut s = sc.clone();
                s.calendar.days = l + 1;
                s
            }
            None => sc.clone(),
        };
        let mut out = OutDir::start(claim)?;
        results::write_run(&mut out, &shown, &kept, &publishing(args.period, scale))?;
        let files = file_list(&out);
        let dest = out.commit()?;
        if !args.quiet && root() {
            let claims: Vec<u64> = (0..sc.places.len())
                .map(|p| kept.counts.total(p, crate::engine::Col::Claims))
                .collect();
            let mut s = summary_text(&shown, &kept.counts.result, &claims, "", &dest, wall, used, &files);
            if let Some(l) = stopped {
                s += &format!(
                    "The run stopped after {} (--until): the states above are those of that day, not of the scenario's end ({}).\n",
                    cal.date_of(l),
                    cal.date_of(cal.days - 1)
                );
            }
            if !crate::output::SideTables::<Vec<u8>>::names(&sc).is_empty() {
                s += "A run continued from a state, or stopped with --until, writes no caravan.csv, offers.csv or papers.csv (they are not carried in the state).\n";
            }
            if let Some(f) = &args.save_state {
                s += &format!(
                    "State saved to {} (continue it with: northbound run --resume {})\n",
                    f.display(),
                    f.display()
                );
            }
            say(&mut std::io::stdout().lock(), &s);
        }
        Ok(())
    })())
}

/// The scenario and where the run starts: from day 0 of the scenario
/// file, or from a saved state (`--resume`). `Err` printed.
#[allow(clippy::type_complexity)]
fn begin(args: &RunArgs) -> Result<(Scenario, Vec<u8>, PathBuf, Start, Option<f64>), Kind> {
    if args.replicates.is_some() {
        return Err(refuse(
            "--until, --save-state and --resume stop and continue one run; they do not take --replicates",
        ));
    }
    if args.partition {
        return Err(refuse(
            "--until, --save-state and --resume need the whole population in one process; they do not take --partition",
        ));
    }
    if args.flee_compat.is_some() {
        return Err(refuse(
            "--until, --save-state and --resume are for the default model; --flee-compat is for flee scenarios",
        ));
    }
    Ok(match &args.resume {
        None => {
            let path = args.path().to_path_buf();
            let (sc, text) = load_file(&path).and_then(|(s, t)| Ok((scaled(s, args.scale)?, t)))?;
            (sc, text, path, Start::Fresh, args.scale)
        }
        Some(file) => {
            if args.scale.is_some() {
                return Err(refuse("--scale is the saved run's: a continued run keeps it"));
            }
            if args.seed.is_some() {
                return Err(refuse(
                    "the seed is the saved run's: a continued run keeps it (`northbound forecast` draws fresh futures)",
                ));
            }
            resume(args, file)?
        }
    })
}

/// The optional tables the run keeps (per cohort, traced agents): a
/// continued run keeps what the saved one kept, so its tables are those of
/// the whole run. `Err` printed.
fn kept_tables(args: &RunArgs, start: &Start) -> Result<(bool, usize), Kind> {
    Ok(match start {
        Start::Fresh => (args.by_cohort, args.trace.unwrap_or(0)),
        Start::Saved(_, h) => {
            let n = h.trace.as_ref().map(|t| t.agents.len()).unwrap_or(0);
            if args.by_cohort && !h.keeps_by_cohort {
                return Err(refuse("the saved run kept no per-cohort counts (it ran without --by-cohort): continue it without --by-cohort, or run it again from the start with it"));
            }
            if args.trace.is_some_and(|t| t != n) {
                return Err(refuse(format!(
                    "the saved run followed {n} agents (--trace {n}): a continued run follows the same ones"
                )));
            }
            (h.keeps_by_cohort, n)
        }
    })
}

/// Reads the state to continue and the scenario to continue under; checks
/// that they fit; says what changes.
#[allow(clippy::type_complexity)]
pub(super) fn resume(args: &RunArgs, file: &Path) -> Result<(Scenario, Vec<u8>, PathBuf, Start, Option<f64>), Kind> {
    let saved = state::read(file).map_err(refuse)?;
    let saved_path = PathBuf::from(&saved.scenario.path);
    let old = scenario::load_bytes(&saved.scenario.text, &saved_path)
        .map_err(|e| {
            eprint!("{}", e.render());
            refuse(format!(
                "the scenario saved in {} no longer loads with this northbound (above)",
                file.display()
            ))
        })
        .and_then(|s| scaled(s, saved.scenario.scale))?;
    let corrupt = |detail: String| {
        refuse(StateError::Corrupt {
            path: file.to_path_buf(),
            detail,
        })
    };
    state::check(&saved.engine, &old).map_err(&corrupt)?;
    state::check_history(&saved.history, &old, saved.engine.day).map_err(&corrupt)?;
    let day = saved.engine.day;
    let scale = saved.scenario.scale;
    let (sc, text, path, engine) = match &args.new_scenario {
        None => (old, saved.scenario.text, saved_path, saved.engine),
        Some(p) => {
            let (new, text) = load_file(p)?;
            let new = scaled(new, saved.scenario.scale)?;
            let d = state::differences(&old, &new, day);
            if !d.problems.is_empty() {
                return Err(refuse(StateError::Mismatch {
                    path: file.to_path_buf(),
                    scenario: p.clone(),
                    problems: d.problems,
                }));
            }
            if !args.quiet {
                let date = old.calendar.date_of(day);
                if d.changes.is_empty() {
                    eprintln!("note: {} changes nothing the run depends on", p.display());
                }
                for c in &d.changes {
                    eprintln!("note: from {date}, {c}");
                }
            }
            let engine = state::carry_over(saved.engine, &old, &new);
            (new, text, p.clone(), engine)
        }
    };
    Ok((
        sc,
        text,
        path,
        Start::Saved(Box::new(engine), Box::new(saved.history)),
        scale,
    ))
}

pub(super) fn progress(days: u64, first: u64, quiet: bool) -> ProgressBar {
    let bar = day_bar(days, quiet);
    bar.set_position(first);
    bar
}
