//! `northbound run` on the default model: one run streamed to its folder, or
//! replicates kept and written with their summaries, and what the terminal
//! shows of them.
//!
//! Owns the `run` arguments and printing. Must not simulate or assemble
//! folders: `engine`, `ensemble` and `results` do.

use super::*;

#[derive(clap::Args, Debug)]
pub(super) struct RunArgs {
    /// The scenario file (TOML). With --resume, the scenario saved in the state (see --scenario).
    #[arg(required_unless_present = "resume")]
    pub(super) scenario: Option<PathBuf>,
    /// Stop after simulating this date (YYYY-MM-DD); the tables cover the run up to it.
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    pub(super) until: Option<chrono::NaiveDate>,
    /// Write the whole state of the run after its last day to FILE, to continue it with --resume
    /// (a file northbound did not write is never replaced).
    #[arg(long, value_name = "FILE")]
    pub(super) save_state: Option<PathBuf>,
    /// Continue the run saved in FILE (by --save-state); its tables cover the whole run.
    #[arg(long, value_name = "FILE")]
    pub(super) resume: Option<PathBuf>,
    /// With --resume: continue under this scenario (changed policies, behaviour or end; the
    /// same places, routes and cohorts) instead of the saved one.
    #[arg(
        long = "scenario",
        value_name = "NEW.toml",
        requires = "resume",
        conflicts_with = "scenario"
    )]
    pub(super) new_scenario: Option<PathBuf>,
    /// Output folder (default: out/<scenario file stem>/). Replaced whole when the run completes,
    /// if it is a folder northbound wrote (see docs/outputs.md).
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Replace the output folder even if files were added to it since northbound wrote it.
    #[arg(long)]
    pub(super) force: bool,
    /// Random seed (default: the scenario's).
    #[arg(long)]
    pub(super) seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(super) threads: Option<u64>,
    /// Also write trace.csv with the day-by-day place and state of N agents.
    #[arg(long, value_name = "N")]
    pub(super) trace: Option<usize>,
    /// Run the same system at another size: multiply people, per_day departures, capacities,
    /// daily claim limits, appointment slots and pathway quotas by this factor.
    #[arg(long, value_name = "FACTOR")]
    pub(super) scale: Option<f64>,
    /// Also write cohort_places.csv: the places table per cohort.
    #[arg(long)]
    pub(super) by_cohort: bool,
    /// Split the agents of this run over the MPI processes (`mpirun -n P …`);
    /// the tables are the same for any P. Without MPI, one process.
    #[arg(long)]
    pub(super) partition: bool,
    /// Run N replicates (seeds derived from the scenario's) and write their
    /// tables in replicate-K/ and summaries with intervals at the top. Each
    /// replicate draws the scenario's uncertain inputs (a Latin hypercube;
    /// inputs.csv), so the intervals cover chance and inputs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub(super) replicates: Option<u64>,
    /// With --replicates: every replicate uses the uncertain inputs' values,
    /// so the intervals cover chance only.
    #[arg(long)]
    pub(super) fixed_inputs: bool,
    /// For the flee model: "3.1" reproduces Flee 3.1's bugs where they change results.
    #[arg(long, value_name = "VERSION")]
    pub(super) flee_compat: Option<String>,
    /// Calendar periods of periods.csv and of the report's charts: weeks (Monday to Sunday) or months.
    #[arg(long, value_enum, default_value = "week")]
    pub(super) period: Period,
    /// No progress bar and no summary on the terminal.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

impl RunArgs {
    /// The scenario argument (present unless --resume; checked by clap).
    pub(super) fn path(&self) -> &Path {
        self.scenario.as_deref().unwrap_or(Path::new(""))
    }
}

pub(super) struct Progress(pub(super) ProgressBar);

impl Recorder for Progress {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        self.0.set_position(v.day as u64 + 1);
        self.0.set_message(v.date.to_string());
        Ok(())
    }
}

pub(super) fn run(args: RunArgs, input: &Input) -> Outcome {
    let t0 = Instant::now();
    let sc = load(input).and_then(|s| scaled(s, args.scale))?;
    let out_path = out_or_default(&args.out, args.path(), "")?;
    if args.partition && args.trace.is_some() {
        eprintln!("error: --trace is not available with --partition (each process holds only its own agents)");
        return Err(Kind::BadInput);
    }
    if args.partition && args.replicates.is_some() {
        eprintln!(
            "error: --partition splits one run; with --replicates, replicates are spread over the processes already"
        );
        return Err(Kind::BadInput);
    }
    let threads = crate::limits::workers(args.threads.map(|t| t as usize));
    let reps = args.replicates.filter(|&n| n > 1).map(|n| n as usize);
    let need = crate::limits::run_command(&sc, reps.unwrap_or(1), threads, args.by_cohort, args.trace.unwrap_or(0));
    if let Err(e) = crate::limits::check(&what_scaled(args.path(), args.scale), need) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
    }
    let claim = claim_out(&out_path, &out_options(args.force, "run", &[args.path().to_path_buf()]))?;
    if let Some(n) = reps {
        return failed_if(run_replicates(&sc, &args, n, claim));
    }
    failed_if(execute(&sc, &args, claim, t0))
}

pub(super) fn execute(
    sc: &Scenario,
    args: &RunArgs,
    claim: Option<crate::outdir::Claim>,
    t0: Instant,
) -> Result<(), Box<dyn std::error::Error>> {
    let streaming = crate::results::Streaming {
        seed: args.seed,
        threads: args.threads.map(|t| t as usize),
        by_cohort: args.by_cohort,
        trace: args.trace,
        partition: args.partition.then(ranks),
        publish: publishing(args.period, args.scale),
    };
    let mut progress = Progress(day_bar(sc.calendar.days as u64, args.quiet || claim.is_none()));
    let done = crate::results::stream(sc, &streaming, claim, &mut progress, t0)?;
    progress.0.finish_and_clear();
    if let (Some(d), false) = (done, args.quiet) {
        let mut o = std::io::stdout().lock();
        say(
            &mut o,
            &summary_text(sc, &d.result, &d.claims, &d.story, &d.dest, d.wall, d.threads, &d.files),
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn summary_text(
    sc: &Scenario,
    r: &engine::RunResult,
    claims: &[u64],
    story: &str,
    dest: &Path,
    wall: f64,
    threads: usize,
    files: &str,
) -> String {
    let cal = sc.calendar;
    let mut s = format!(
        "{}: {} people in {} groups, {} to {} ({} days), seed {}, {} threads, {:.2} s\n\nWhere people ended on {}:\n",
        sc.about.name,
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
    if !story.is_empty() {
        s += &format!("\nCaravans, offers and papers (caravan.csv, offers.csv, papers.csv):\n{story}");
    }
    let _ = N_STATES;
    s += "\nOne run: one draw of chance (run with --replicates N for ranges). summary.md says it in words.\n";
    s += &format!("\nIn {}/: {files}\n", dest.display());
    s
}

pub(super) fn run_replicates(
    sc: &Scenario,
    args: &RunArgs,
    n: usize,
    claim: Option<crate::outdir::Claim>,
) -> Result<(), Box<dyn std::error::Error>> {
    use crate::ensemble;
    let t0 = Instant::now();
    // Every rank learns whether rank 0 could start its folder before the
    // replicates' collectives.
    let mut out = crate::experiment::agree_boxed(claim.map(OutDir::start).transpose(), Kind::of_output, ranks())?;
    let b = bar(n as u64, "replicates", args.quiet);
    let extra = ensemble::Extra {
        by_cohort: args.by_cohort,
        trace: args.trace.unwrap_or(0),
        stop: None,
        inputs: inputs_of(args.fixed_inputs),
    };
    let reps = ensemble::replicates_with(
        sc,
        n,
        args.threads.map(|t| t as usize),
        None,
        &|| b.inc(1),
        ranks(),
        &extra,
    )?;
    b.finish_and_clear();
    let Some(mut out) = out.take() else {
        return Ok(());
    };
    crate::results::write_replicates(&mut out, sc, &reps, &publishing(args.period, args.scale))?;
    let files = file_list(&out);
    let dest = out.commit()?;
    if !args.quiet {
        let mut s = format!(
            "{}: {n} replicates, {:.1} s\n\nWhere people ended on {} (mean over replicates, and the range from the \
             2.5th to the 97.5th percentile;\nranges cover {}; rounded to what the range supports):\n",
            sc.about.name,
            t0.elapsed().as_secs_f64(),
            sc.calendar.end(),
            ensemble::interval_kind(sc, &reps)
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
