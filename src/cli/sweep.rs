//! `northbound sweep`: numeric scenario fields over a grid.
//!
//! Owns the arguments and what the terminal shows; the body is moved
//! verbatim from the old `cli.rs` (the study runner replaces it). Must not
//! compute: `ensemble` and `results` do.

use super::*;

#[derive(clap::Args, Debug)]
pub(super) struct SweepArgs {
    /// The scenario file (TOML).
    pub(super) scenario: PathBuf,
    /// PATH=FROM:TO:STEP, e.g. policy.cam.quota_per_year=0:40000:10000 (repeat for a grid).
    #[arg(long = "param", required = true)]
    pub(super) params: Vec<String>,
    /// Replicates at every grid point.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(super) replicates: u64,
    #[command(flatten)]
    pub(super) opts: EnsembleOpts,
}

pub(super) fn sweep(args: SweepArgs) -> Outcome {
    use crate::ensemble::{self, EnsembleError};
    let input = Input::read(&args.scenario)?;
    let sc = load(&input).and_then(|s| scaled(s, args.opts.scale))?;
    let axes = match args
        .params
        .iter()
        .map(|p| ensemble::parse_axis(&sc, p))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Kind::BadInput);
        }
    };
    let n = args.replicates as usize;
    let threads = args.opts.threads.map(|t| t as usize);
    // Every point is set up and checked against the limits before the first runs.
    let points = match ensemble::sweep_points(&sc, &axes, n, threads) {
        Ok(p) => p,
        Err(EnsembleError::Param(e)) => {
            eprintln!("error: --param: {e}");
            return Err(Kind::BadInput);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Kind::BadInput);
        }
    };
    let out_path = out_or_default(&args.opts.out, &args.scenario, "-sweep")?;
    let claim = claim_out(
        &out_path,
        &out_options(args.opts.force, "sweep", std::slice::from_ref(&args.scenario)),
    )?;
    let b = bar((points.len() * n) as u64, "sweep runs", args.opts.quiet);
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        let rows = ensemble::sweep_with(
            &points,
            n,
            threads,
            &|| b.inc(1),
            ranks(),
            None,
            inputs_of(args.opts.fixed_inputs),
        )?;
        b.finish_and_clear();
        // Only rank 0 holds the gathered replicates, and only it writes.
        let Some(claim) = claim else {
            return Ok(());
        };
        let mut out = OutDir::start(claim)?;
        let mut p = publishing(Period::Week, args.opts.scale);
        p.inputs = inputs_of(args.opts.fixed_inputs);
        crate::results::write_sweep(&mut out, &sc, &axes, &rows, n, &p)?;
        let files = file_list(&out);
        let dest = out.commit()?;
        if !args.opts.quiet {
            say(
                &mut std::io::stdout().lock(),
                &format!(
                    "{}\nIn {}/: {files}\n",
                    crate::results::sweep_text(&sc, &axes, &rows, n, &p),
                    dest.display()
                ),
            );
        }
        Ok(())
    })();
    failed_if(result)
}
