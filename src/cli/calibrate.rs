//! `northbound calibrate`, for either model: bounds parsed, the search run
//! by the library, the result written as TOML.
//!
//! Owns the arguments, what the terminal shows, and the command's
//! fingerprint and journal: the store beside the result file
//! (`.NAME.toml.study/`) that keeps every evaluation as it is made, so that
//! the same command after an interruption answers the evaluations it
//! already made and writes the same bytes. Must not search or score:
//! `calibrate` and `experiment` do.

use super::validate::{load_targets, until};
use super::*;
use crate::experiment::search::Keep;
use crate::outdir::Claim;
use crate::study::journal::Journal;
use sha2::{Digest, Sha256};

#[derive(clap::Args, Debug)]
pub(super) struct CalibrateArgs {
    /// The scenario file (TOML).
    pub(super) scenario: PathBuf,
    /// The targets file (TOML), or a Flee `source_data/` folder for a flee-model scenario
    /// (whose averaged relative difference is minimised).
    #[arg(long)]
    pub(super) targets: PathBuf,
    /// Parameters to search: path=lo:hi, comma-separated (e.g.
    /// population.haitian_tps.daily_depart_share=0.00001:0.0005,behaviour.w_dist=0:3;
    /// for a flee-model scenario flee.<setting>, e.g. flee.camp_weight=1:10).
    #[arg(long)]
    pub(super) params: String,
    /// Most Nelder–Mead iterations.
    #[arg(long, default_value_t = 40)]
    pub(super) budget: u64,
    /// Replicates per parameter set (the same seeds for every set).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub(super) replicates: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(super) threads: Option<u64>,
    /// Where to write the result (default: out/<scenario stem>-calibration.toml). An existing
    /// file is replaced only if northbound wrote it.
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Simulate only to this date (YYYY-MM-DD): a calibration on an early window need not run
    /// the years after it.
    #[arg(long, value_name = "DATE")]
    pub(super) until: Option<String>,
    /// Start afresh: forget the evaluations an interrupted run of this or another command left
    /// beside the result (its `.NAME.study/` store). Without it the same command resumes, and
    /// another one is refused.
    #[arg(long)]
    pub(super) force: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

/// The first line of every `calibrate` result: an existing file is
/// replaced only if it starts so.
pub(super) const CALIBRATION_MARKER: &str = "# northbound calibrate ";

pub(super) fn calibrate(args: CalibrateArgs, input: &Input) -> Outcome {
    use crate::calibrate::{self as cal, CalibrateError};
    let sc = load(input).and_then(|s| until(s, args.until.as_deref()))?;
    // Checked (not claimed) on every rank before anything else is read.
    let (out, opts) = destination(&args)?;
    let targets = load_targets(&args.targets, &sc)?;
    let specs = cal::parse_specs(&sc, &args.params).map_err(|e| {
        eprintln!("error: {e}");
        Kind::BadInput
    })?;
    let threads = args.threads.map(|t| t as usize);
    // Every evaluation is checked again; the largest is checked now.
    if let Err(e) = cal::check_limits(&sc, &specs, args.replicates as usize, threads) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
    }
    let fp = fingerprint(&args, "default", &sc.about.sha256, sc.seed)?;
    let problem = cal::Problem {
        sc: &sc,
        targets: &targets,
        specs: &specs,
        replicates: args.replicates as usize,
        threads,
        ranks: ranks(),
    };
    let failed = |e: CalibrateError| {
        print_error(&e);
        e.kind()
    };
    // Rank 0 alone claims the result and keeps the journal; every rank
    // learns whether it could (a refusal ends them all, exit 2).
    let kept = root().then(|| open_journal(&out, &opts, &fp, args.force));
    if !all_agree(!matches!(kept, Some(Err(_)))) {
        return Err(match kept {
            Some(Err(k)) => k,
            _ => Kind::BadInput,
        });
    }
    let Some(Ok((claim, mut journal))) = kept else {
        // The other ranks run their share of each set's replicates.
        return cal::serve(&problem).map_err(failed);
    };
    let bar = evaluations_bar(&args);
    let show = |done: usize, replayed: usize| shown(&bar, done, replayed);
    let keep = Keep {
        journal: Some(&mut journal),
        progress: &show,
    };
    let result = cal::calibrate_kept(&problem, args.budget, keep);
    bar.finish_and_clear();
    let c = result.map_err(failed)?;
    let text = cal::render_toml(&c, &sc, &arguments(&args));
    publish(&claim, journal, &text)
}

/// The arguments a result's header names after the scenario: those its
/// evaluations depend on (as in the fingerprint), so that the file says
/// how it was made and the line can be run again.
pub(super) fn arguments(args: &CalibrateArgs) -> String {
    let mut s = format!(
        "--targets {} --params {} --budget {} --replicates {}",
        shell_word(&args.targets.display().to_string()),
        shell_word(&args.params),
        args.budget,
        args.replicates
    );
    if let Some(u) = &args.until {
        s += &format!(" --until {}", shell_word(u));
    }
    s
}

/// `w` as one word of a POSIX shell line: as it is if it is plain, else
/// single-quoted.
fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// What identifies a calibration for its journal: everything its
/// evaluations depend on (not `--threads`: runs are the same bytes for
/// any thread count). The same fingerprint resumes; another is refused.
pub(super) fn fingerprint(
    args: &CalibrateArgs,
    model: &str,
    scenario_sha256: &str,
    seed: u64,
) -> Result<serde_json::Value, Kind> {
    let targets = inputs_sha256(&args.targets).map_err(|e| {
        eprintln!("error: {}: {e}", args.targets.display());
        Kind::BadInput
    })?;
    Ok(serde_json::json!({
        "command": "calibrate",
        "model": model,
        "scenario_sha256": scenario_sha256,
        "targets_sha256": targets,
        "params": args.params,
        "budget": args.budget,
        "replicates": args.replicates,
        "until": args.until,
        "seed": seed,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// SHA-256 of a targets file's bytes, or of a `source_data/` folder's files
/// (each one's relative path and bytes, in name order).
fn inputs_sha256(path: &Path) -> std::io::Result<String> {
    fn add(h: &mut Sha256, dir: &Path, rel: &str) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let r = format!("{rel}/{}", e.file_name().to_string_lossy());
            if e.file_type()?.is_dir() {
                add(h, &e.path(), &r)?;
            } else {
                h.update(r.as_bytes());
                h.update(std::fs::read(e.path())?);
            }
        }
        Ok(())
    }
    let mut h = Sha256::new();
    if path.is_dir() {
        add(&mut h, path, "")?;
    } else {
        h.update(std::fs::read(path)?);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Locks the result file and opens the journal of this command beside it
/// (`--force`: afresh); a journal of another command, or a folder of that
/// name northbound did not make, is refused (exit 2).
pub(super) fn open_journal(
    out: &Path,
    opts: &crate::outdir::Options,
    fp: &serde_json::Value,
    force: bool,
) -> Result<(Claim, Journal), Kind> {
    let claim = crate::outdir::claim_file(out, CALIBRATION_MARKER, opts).map_err(|e| {
        eprintln!("error: {e}");
        kind_of_output(&e)
    })?;
    let journal = Journal::open(&claim, fp, force).map_err(|e| {
        eprintln!("error: {e}");
        if e.is_bad_input() {
            Kind::BadInput
        } else {
            Kind::Failure
        }
    })?;
    Ok((claim, journal))
}

/// The progress bar: evaluations made, against the budget's Nelder–Mead
/// iterations (one makes one or two evaluations, a shrink one per
/// parameter, so their number is not known ahead).
pub(super) fn evaluations_bar(args: &CalibrateArgs) -> ProgressBar {
    let template = format!(
        "{{spinner}} calibrate: {{pos}} evaluations{{msg}} (budget: {} Nelder–Mead iterations; {{elapsed}})",
        args.budget
    );
    let b = progress_bar(args.budget, &template, args.quiet);
    b.enable_steady_tick(std::time::Duration::from_millis(200));
    b
}

/// Shows `done` evaluations, of which `replayed` the journal answered.
pub(super) fn shown(bar: &ProgressBar, done: usize, replayed: usize) {
    bar.set_position(done as u64);
    if replayed > 0 {
        bar.set_message(format!(" ({replayed} from the interrupted run)"));
    }
}

/// Where the result goes (`--out`, or out/<scenario stem>-calibration.toml),
/// checked before any work: a file northbound did not write is refused.
pub(super) fn destination(args: &CalibrateArgs) -> Result<(PathBuf, crate::outdir::Options), Kind> {
    let out = match &args.out {
        Some(p) => p.clone(),
        None => {
            let p = default_out(&args.scenario, "-calibration")?;
            p.with_file_name(format!(
                "{}.toml",
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ))
        }
    };
    let opts = out_options(args.force, "calibrate", &[args.scenario.clone(), args.targets.clone()]);
    if let Err(e) = crate::outdir::check_file(&out, CALIBRATION_MARKER, &opts) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
    }
    Ok((out, opts))
}

/// Writes the calibration's TOML, removes its journal once the file is in
/// place, and shows it.
pub(super) fn publish(claim: &Claim, journal: Journal, text: &str) -> Outcome {
    let out = claim.write_file(text.as_bytes()).map_err(|e| {
        eprintln!("error: {e}");
        kind_of_output(&e)
    })?;
    journal.remove();
    let mut o = std::io::stdout().lock();
    say(&mut o, text);
    say(&mut o, &format!("written to {}\n", out.display()));
    Ok(())
}
