//! `northbound sensitivity`: each uncertain input at the ends of its range.
//!
//! Owns the arguments and what the terminal shows. Must not compute:
//! `sensitivity` does.

use super::*;

#[derive(clap::Args, Debug)]
pub(super) struct SensitivityArgs {
    /// The scenario file (TOML).
    pub(super) scenario: PathBuf,
    /// The figure to report (default: the scenario's `headline`): METRIC@PLACE,PLACE for a
    /// places.csv column summed over places and the run, or a state (people at the end) or an
    /// event (person-events over the run).
    #[arg(long)]
    pub(super) headline: Option<String>,
    /// Replicates at every point (the same seeds at every point).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(super) replicates: u64,
    #[command(flatten)]
    pub(super) opts: EnsembleOpts,
}

pub(super) fn sensitivity(args: SensitivityArgs) -> Outcome {
    let input = Input::read(&args.scenario)?;
    let sc = load(&input).and_then(|s| scaled(s, args.opts.scale))?;
    let headline = match (&args.headline, &sc.headline) {
        (Some(text), _) => match scenario::parse_headline(text, &sc.place_index) {
            Ok(h) => h,
            Err((msg, help)) => {
                eprintln!("error: --headline {text}: {msg}; {help}");
                return Err(Kind::BadInput);
            }
        },
        (None, Some(h)) => h.clone(),
        (None, None) => {
            eprintln!(
                "error: {} has no `headline` in [scenario]; give one with --headline (e.g. claims@mexico_city)",
                args.scenario.display()
            );
            return Err(Kind::BadInput);
        }
    };
    if args.opts.fixed_inputs {
        eprintln!("error: --fixed-inputs has no meaning here: every input but one is at its value already");
        return Err(Kind::BadInput);
    }
    let n = args.replicates as usize;
    let threads = args.opts.threads.map(|t| t as usize);
    let workers = crate::limits::workers(threads);
    // Every point is checked against the limits before the first runs.
    for (i, u) in sc.uncertain.iter().enumerate() {
        for v in [u.low, u.high] {
            let s = match crate::scenario::uncertain::one_at(&sc, i, v) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Err(Kind::BadInput);
                }
            };
            if let Err(e) = crate::limits::check(
                &format!("{} with {} = {v}", what_scaled(&args.scenario, args.opts.scale), u.path),
                crate::limits::ensemble(&s, n, workers, false, 0),
            ) {
                eprintln!("error: {e}");
                return Err(Kind::BadInput);
            }
        }
    }
    let out_path = out_or_default(&args.opts.out, &args.scenario, "-sensitivity")?;
    let claim = match claim_out(
        &out_path,
        &out_options(args.opts.force, "sensitivity", std::slice::from_ref(&args.scenario)),
    )? {
        Some(c) => c,
        None => return Ok(()),
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
                    sc.about.name,
                    crate::sensitivity::render(&s),
                    dest.display()
                ),
            );
        }
        Ok(())
    })();
    failed_if(result)
}
