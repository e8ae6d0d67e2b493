//! `northbound calibrate`, for either model: bounds parsed, the search run
//! by the library, the result written as TOML.
//!
//! Owns the arguments and what the terminal shows. Must not search or
//! score: `calibrate` and `experiment` do.

use super::validate::{load_targets, until};
use super::*;

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
}

/// The first line of every `calibrate` result: an existing file is
/// replaced only if it starts so.
pub(super) const CALIBRATION_MARKER: &str = "# northbound calibrate ";

pub(super) fn calibrate(args: CalibrateArgs, input: &Input) -> Outcome {
    use crate::calibrate::{self as cal, CalibrateError};
    let sc = load(input).and_then(|s| until(s, args.until.as_deref()))?;
    let (out, opts) = destination(&args)?;
    let targets = load_targets(&args.targets, &sc)?;
    let specs = match cal::parse_specs(&sc, &args.params) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Kind::BadInput);
        }
    };
    // Every evaluation is checked again; the largest is checked now.
    if let Err(e) = cal::check_limits(&sc, &specs, args.threads.map(|t| t as usize)) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
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
            return Err(Kind::BadInput);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Kind::Failure);
        }
    };
    let text = cal::render_toml(&c, &sc, &args.targets.display().to_string());
    publish(&out, &opts, &text)
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
    let opts = out_options(false, "calibrate", &[args.scenario.clone(), args.targets.clone()]);
    if let Err(e) = crate::outdir::check_file(&out, CALIBRATION_MARKER, &opts) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
    }
    Ok((out, opts))
}

/// Writes the calibration's TOML and shows it.
pub(super) fn publish(out: &Path, opts: &crate::outdir::Options, text: &str) -> Outcome {
    if let Err(e) = crate::outdir::write_file(out, CALIBRATION_MARKER, text.as_bytes(), opts) {
        eprintln!("error: {e}");
        return Err(kind_of_output(&e));
    }
    let mut o = std::io::stdout().lock();
    say(&mut o, text);
    say(&mut o, &format!("written to {}\n", out.display()));
    Ok(())
}
