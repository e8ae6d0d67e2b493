//! `northbound validate` on the default model: replicates against counted
//! targets, spread over the MPI processes as `run` and `compare` spread
//! theirs (rank 0 prints).
//!
//! Owns the arguments and what the terminal shows. Must not score:
//! `validation` does.

use super::*;

#[derive(clap::Args, Debug)]
pub(super) struct ValidateArgs {
    /// The scenario file (TOML).
    pub(super) scenario: PathBuf,
    /// The targets file (TOML, [[target]] tables; see docs/validation.md), or a Flee
    /// `source_data/` folder for a flee-model scenario.
    #[arg(long)]
    pub(super) targets: PathBuf,
    /// Replicates (seeds derived from the scenario's).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(super) replicates: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(super) threads: Option<u64>,
    /// Run the same system at another size (see `run --scale`); targets are compared as they are.
    #[arg(long, value_name = "FACTOR")]
    pub(super) scale: Option<f64>,
    /// For the flee model: "3.1" reproduces Flee 3.1's bugs where they change results.
    #[arg(long, value_name = "VERSION")]
    pub(super) flee_compat: Option<String>,
    /// For Flee targets: where to write out.csv (default: out/<scenario>-validation/).
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Simulate only to this date (YYYY-MM-DD): targets after it cannot be read.
    #[arg(long, value_name = "DATE")]
    pub(super) until: Option<String>,
    /// Replace the output folder even if files were added to it since northbound wrote it.
    #[arg(long)]
    pub(super) force: bool,
}

pub(super) fn load_targets(path: &Path, sc: &Scenario) -> Result<Vec<crate::validation::Target>, Kind> {
    crate::validation::load_targets(path, sc).map_err(|e| {
        eprint!("{}", e.render());
        Kind::BadInput
    })
}

/// The scenario simulated only to `until` (YYYY-MM-DD), if given.
pub(super) fn until(sc: Scenario, until: Option<&str>) -> Result<Scenario, Kind> {
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
            Err(Kind::BadInput)
        }
        None => {
            eprintln!("error: --until {text}: write a date as YYYY-MM-DD");
            Err(Kind::BadInput)
        }
    }
}

pub(super) fn validate(args: ValidateArgs, input: &Input) -> Outcome {
    let sc = load(input)
        .and_then(|s| scaled(s, args.scale))
        .and_then(|s| until(s, args.until.as_deref()))?;
    let targets = load_targets(&args.targets, &sc)?;
    let n = args.replicates as usize;
    let need = crate::limits::ensemble(
        &sc,
        n,
        crate::limits::workers(args.threads.map(|t| t as usize)),
        false,
        0,
    );
    if let Err(e) = crate::limits::check(&what_scaled(input.path(), args.scale), need) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
    }
    // Every rank runs its share of the replicates; rank 0 prints.
    let reps = crate::validation::Replicates {
        ranks: ranks(),
        ..crate::validation::Replicates::local(n, args.threads.map(|t| t as usize))
    };
    match crate::validation::validate(&sc, &targets, &reps) {
        Ok(Some(v)) => {
            let mut o = std::io::stdout().lock();
            say(
                &mut o,
                &format!(
                    "{} against {} ({} replicates)\n",
                    sc.about.name,
                    args.targets.display(),
                    args.replicates
                ),
            );
            say(&mut o, &crate::validation::render(&v, &targets));
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => {
            print_error(&e);
            Err(e.kind())
        }
    }
}
