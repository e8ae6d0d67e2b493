//! `northbound sweep` (a study: a design over parameters, replicates at
//! every point, resumable), `northbound analyze` (sensitivity indices of a
//! study folder) and `northbound params` (what a study may vary).
//!
//! Owns the arguments and what the terminal shows. Must not compute:
//! `study` plans, runs, resumes and writes; `scenario::params` and
//! `flee::params` list parameters.

use super::*;

#[derive(clap::Args, Debug)]
pub(super) struct SweepArgs {
    /// The scenario file (TOML), of either model.
    pub(super) scenario: PathBuf,
    /// PATH=LO:HI (a grid: PATH=FROM:TO:STEP), e.g. behaviour.w_fail=0:2 (repeat for each
    /// parameter; `northbound params SCENARIO` lists them).
    #[arg(long = "param")]
    pub(super) params: Vec<String>,
    /// The design: grid, lhs:N (Latin hypercube), sobol:N (Saltelli's scheme, N (2D+2) points)
    /// or morris:R[:P] (R trajectories on P levels, default 4).
    #[arg(long, default_value = "grid")]
    pub(super) design: String,
    /// Points made elsewhere: a CSV file with a header of parameter paths and a row per point.
    #[arg(long, value_name = "CSV")]
    pub(super) design_file: Option<PathBuf>,
    /// A place-level output for runs.csv: METRIC@PLACE[:FROM..UNTIL], e.g.
    /// claims@roxham_road:2023-04-01..2023-06-30 (repeat for more).
    #[arg(long = "metric", value_name = "METRIC@PLACE[:FROM..UNTIL]")]
    pub(super) metrics: Vec<String>,
    /// Replicates at every point (replicate k uses the same seed at every point).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(super) replicates: u64,
    #[command(flatten)]
    pub(super) opts: EnsembleOpts,
}

#[derive(clap::Args, Debug)]
pub(super) struct AnalyzeArgs {
    /// The study folder (written by `northbound sweep`).
    pub(super) dir: PathBuf,
    /// The output to analyse (repeat for more; default: every output that varies).
    #[arg(long = "output", value_name = "NAME")]
    pub(super) outputs: Vec<String>,
    /// Analyse replicate K at each point (default: the mean over each point's replicates).
    #[arg(long, value_name = "K")]
    pub(super) replicate: Option<usize>,
    /// Also write analysis.csv into the folder (its manifest is updated).
    #[arg(long)]
    pub(super) out: bool,
}

/// A study's error, printed, as an outcome.
fn failed(e: crate::study::StudyError) -> Kind {
    print_error(&e);
    if e.is_bad_input() {
        Kind::BadInput
    } else {
        Kind::Failure
    }
}

pub(super) fn sweep(args: SweepArgs) -> Outcome {
    use crate::study::folder;
    let input = Input::read(&args.scenario)?;
    let (sc, fsc) = match input.is_flee() {
        true => (
            None,
            Some(super::flee::load(&input, None, args.opts.scale, args.opts.quiet)?),
        ),
        false => (Some(load(&input).and_then(|s| scaled(s, args.opts.scale))?), None),
    };
    let model = match (&sc, &fsc) {
        (Some(s), _) => folder::Model::Default(s),
        (_, Some(f)) => folder::Model::Flee(f),
        _ => return Err(Kind::Failure),
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
    let study = folder::Study::plan(model, &req).map_err(failed)?;
    if root() {
        for w in crate::study::warnings(&study.design.method) {
            eprintln!("warning: {w}");
        }
    }
    let out_path = out_or_default(&args.opts.out, &args.scenario, "-sweep")?;
    let mut inputs = vec![args.scenario.clone()];
    inputs.extend(args.design_file.clone());
    let claim = claim_out(&out_path, &out_options(args.opts.force, "sweep", &inputs))?;
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
    let done = study
        .run(&out_path, claim, args.opts.force, ranks(), &progress, &p)
        .map_err(failed)?;
    b.finish_and_clear();
    if let Some((dest, files, text)) = done {
        if !args.opts.quiet {
            say(
                &mut std::io::stdout().lock(),
                &format!("{text}\nIn {}/: {files}\n", dest.display()),
            );
        }
    }
    Ok(())
}

pub(super) fn analyze(args: AnalyzeArgs) -> Outcome {
    use crate::study::analyze::{self, Over};
    let over = args.replicate.map(Over::Replicate).unwrap_or(Over::Mean);
    let f = analyze::read(&args.dir).map_err(failed)?;
    let a = analyze::analyze(&f, &args.outputs, over).map_err(failed)?;
    let written = match args.out {
        true => Some(analyze::write(&args.dir, &f, &a).map_err(failed)?),
        false => None,
    };
    let more = written
        .map(|p| format!("\nWrote {}\n", p.display()))
        .unwrap_or_default();
    say(
        &mut std::io::stdout().lock(),
        &format!("{}{more}", analyze::text(&f, &a, over)),
    );
    Ok(())
}

pub(super) fn params(scenario: &Path, csv: bool) -> Outcome {
    let input = Input::read(scenario)?;
    let list = match input.is_flee() {
        true => crate::flee::params::list(&super::flee::load(&input, None, None, true)?),
        false => crate::scenario::params::list(&load(&input)?),
    };
    let text = crate::scenario::params::table(&list, csv).map_err(|e| {
        eprintln!("error: {e}");
        Kind::Failure
    })?;
    say(&mut std::io::stdout().lock(), &text);
    Ok(())
}
