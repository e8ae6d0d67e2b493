//! `northbound bench`: speed and memory on a large population.
//!
//! Owns the arguments and the table printed. Must not measure: `bench` does.

use super::*;

#[derive(clap::Args, Debug)]
pub(super) struct BenchArgs {
    /// People (one per group).
    #[arg(long, default_value_t = 1_000_000)]
    pub(super) people: u64,
    /// Days to simulate.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=65_000))]
    pub(super) days: u32,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(super) threads: Option<u64>,
    /// The scenario whose cohorts and graph are used (default: scenarios/title42-2020-2023.toml).
    #[arg(long)]
    pub(super) scenario: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(super) json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

pub(super) fn bench(args: BenchArgs) -> Outcome {
    let path = args
        .scenario
        .clone()
        .unwrap_or_else(|| PathBuf::from("scenarios/title42-2020-2023.toml"));
    let t0 = Instant::now();
    let sc = Input::read(&path).and_then(|i| load(&i))?;
    let load_s = t0.elapsed().as_secs_f64();
    if args.people == 0 || args.people >= u32::MAX as u64 {
        eprintln!("error: --people must be between 1 and {}", u32::MAX - 1);
        return Err(Kind::BadInput);
    }
    let need = crate::limits::run(&crate::bench::population(&sc, args.people, args.days), false);
    if let Err(e) = crate::limits::check(&format!("bench --people {}", args.people), need) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
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
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(Kind::Failure)
        }
    }
}
