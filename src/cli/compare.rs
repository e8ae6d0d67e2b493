//! `northbound compare` on the default model: the base and its variants with
//! common random numbers.
//!
//! Owns the arguments and what the terminal shows. Must not compute: the
//! experiment layer (`ensemble`, `results`) does.

use super::*;

#[derive(clap::Args, Debug)]
pub(super) struct CompareArgs {
    /// The scenario file (TOML).
    pub(super) scenario: PathBuf,
    /// Variants to compare with the base, comma-separated (default: every declared variant).
    #[arg(long, value_delimiter = ',')]
    pub(super) variants: Vec<String>,
    /// Replicates of the base and of each variant (replicate k of each uses the same seed).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(super) replicates: u64,
    /// Dates the place-level differences are summed over (FROM..UNTIL, e.g. 2023-04-01..2023-06-30;
    /// default: the whole run). Final states are always those at the end of the run.
    #[arg(long, value_name = "FROM..UNTIL")]
    pub(super) window: Option<String>,
    /// Calendar periods of the per-variant time series: weeks (Monday to Sunday) or months.
    #[arg(long, value_enum, default_value = "week")]
    pub(super) period: Period,
    #[command(flatten)]
    pub(super) opts: EnsembleOpts,
}

pub(super) fn compare(args: CompareArgs, input: &Input) -> Outcome {
    use crate::ensemble;
    let sc = load(input).and_then(|s| scaled(s, args.opts.scale))?;
    let variants = match ensemble::pick_variants(&sc, &args.variants) {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => {
            eprintln!("error: {} declares no [[variant]] to compare", args.scenario.display());
            return Err(Kind::BadInput);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Kind::BadInput);
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
            return Err(Kind::BadInput);
        }
    };
    let n = args.replicates as usize;
    let threads = args.opts.threads.map(|t| t as usize);
    let out_path = out_or_default(&args.opts.out, &args.scenario, "-compare")?;
    // The base's and every variant's replicates are kept until compared.
    let need = crate::limits::compare(&sc, n, variants.len(), crate::limits::workers(threads));
    if let Err(e) = crate::limits::check(&what_scaled(&args.scenario, args.opts.scale), need) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
    }
    let claim = claim_out(
        &out_path,
        &out_options(args.opts.force, "compare", std::slice::from_ref(&args.scenario)),
    )?;
    let b = bar((n * (variants.len() + 1)) as u64, "runs", args.opts.quiet);
    let extra = ensemble::Extra {
        inputs: inputs_of(args.opts.fixed_inputs),
        ..ensemble::Extra::default()
    };
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        // Replicate k of the base and of every variant draws the same
        // inputs and uses the same seed: the comparison is paired.
        // The base and every variant run as one list of jobs, so that the
        // threads stay busy from one to the next (experiment::batch).
        let scenarios: Vec<_> = variants.iter().map(|v| ensemble::apply_variant(&sc, v)).collect();
        let every: Vec<&crate::scenario::Scenario> = std::iter::once(&sc).chain(&scenarios).collect();
        let mut reps = ensemble::replicates_of(&every, n, threads, &|| b.inc(1), ranks(), &extra)?.into_iter();
        let base = reps.next().unwrap_or_default();
        let all: Vec<_> = variants.iter().map(|v| v.id.clone()).zip(reps).collect();
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
