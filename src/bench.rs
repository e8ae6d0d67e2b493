//! The `bench` command: a large population built from a scenario's cohorts,
//! run for a number of days, with the speed and memory figures that
//! `BENCHMARKS.md` records.
//!
//! Owns the benchmark population (one person per group, everyone setting
//! out on day 0) and the measurements. Must not change how the engine
//! simulates: it runs the ordinary engine on a transformed scenario.

use crate::agents::State;
use crate::engine::{self, DayView, EngineError, Recorder};
use crate::scenario::{Departure, Scenario};
use serde::Serialize;
use std::time::Instant;

/// What a benchmark measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// The scenario the population was built from.
    pub scenario: String,
    /// Agents (groups; one person each here).
    pub agents: usize,
    /// People.
    pub people: u64,
    /// Days simulated.
    pub days: u32,
    /// Worker threads.
    pub threads: usize,
    /// Seconds to load and validate the scenario file.
    pub load_s: f64,
    /// Seconds to build the population and the policy tables.
    pub build_s: f64,
    /// Seconds simulating.
    pub sim_s: f64,
    /// agents × days / sim_s.
    pub agent_days_per_s: f64,
    /// Agent-days spent travelling or waiting / sim_s.
    pub active_agent_steps_per_s: f64,
    /// Share of agent-days that were active.
    pub active_share: f64,
    /// Peak resident memory of the process (VmHWM), bytes.
    pub peak_rss_bytes: u64,
    /// peak_rss_bytes / agents.
    pub bytes_per_agent: f64,
}

/// The benchmark population: `people` people in the proportions of the
/// scenario's cohorts, one person per group, all setting out on day 0 from
/// the first cohort's origin (for title42-2020-2023, Necoclí, before the
/// Darién), over
/// `days` days (policy windows clipped to them), on the scenario's graph
/// with every route at least as slow as walking it. Setting out together on
/// foot keeps most agents on the move for most of a long corridor's days,
/// so the figures measure work, not agents that have finished.
pub fn population(sc: &Scenario, people: u64, days: u32) -> Scenario {
    let mut s = sc.clone();
    let total = sc.people().max(1) as f64;
    let n = s.cohorts.len() as u64;
    let mut left = people;
    let origin = s.cohorts.first().map(|c| c.origin).unwrap_or(0);
    for (i, c) in s.cohorts.iter_mut().enumerate() {
        c.origin = origin;
        let share = if i as u64 + 1 == n {
            left
        } else {
            ((c.people as f64 / total) * people as f64).round() as u64
        };
        c.people = share.clamp(1, left.max(1));
        left = left.saturating_sub(c.people);
        c.family_share = 0.0;
        c.departure = Departure::On(0);
    }
    let walk = s.behaviour.speed_km_per_day[crate::scenario::Mode::Walk as usize];
    for l in &mut s.legs {
        l.days = l.days.max(l.km / walk as f32);
    }
    for r in &mut s.routes {
        r.days = r.days.max(r.km / walk);
    }
    s.calendar.days = days.max(1);
    let last = s.calendar.days - 1;
    s.policies.retain(|p| p.from <= last);
    for p in &mut s.policies {
        p.until = p.until.min(last);
    }
    s
}

/// Counts active agent-days (travelling or waiting) from the daily census.
struct Active {
    agent_days: u64,
}

impl Recorder for Active {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        // One person per group: people are agents.
        self.agent_days += v.states[State::Travelling as usize] + v.states[State::Waiting as usize];
        Ok(())
    }
}

/// Peak resident memory of this process, from /proc/self/status (Linux).
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Runs the benchmark; `on_day` is called after every day (progress).
pub fn run(
    sc: &Scenario,
    load_s: f64,
    people: u64,
    days: u32,
    threads: Option<usize>,
    on_day: &mut (dyn FnMut(u32) + Send),
) -> Result<BenchResult, EngineError> {
    let bench = population(sc, people, days);
    let pool = engine::pool(threads)?;
    let threads = pool.current_num_threads();
    pool.install(|| {
        let t0 = Instant::now();
        let mut eng = engine::Engine::with_config(&bench, bench.seed, false);
        let build_s = t0.elapsed().as_secs_f64();
        let mut active = Active { agent_days: 0 };
        let t1 = Instant::now();
        while !eng.done() {
            eng.step()?;
            let v = eng.view();
            active.day(&v)?;
            on_day(v.day);
        }
        let sim_s = t1.elapsed().as_secs_f64().max(1e-9);
        let agents = eng.agents().len();
        let result = eng.result(sim_s)?;
        let peak = peak_rss();
        let agent_days = agents as f64 * result.days as f64;
        Ok(BenchResult {
            scenario: sc.about.name.clone(),
            agents,
            people: result.people,
            days: result.days,
            threads,
            load_s,
            build_s,
            sim_s,
            agent_days_per_s: agent_days / sim_s,
            active_agent_steps_per_s: active.agent_days as f64 / sim_s,
            active_share: active.agent_days as f64 / agent_days.max(1.0),
            peak_rss_bytes: peak,
            bytes_per_agent: peak as f64 / agents.max(1) as f64,
        })
    })
}

/// A synthetic scenario file of `places` places and `routes` routes (a
/// chain that joins every place, then routes between near neighbours), with
/// a claim point every `places / claim_points` places and one cohort: for
/// measuring loading, validation and routing on large graphs.
pub fn synthetic_scenario(places: usize, routes: usize, claim_points: usize) -> String {
    use std::fmt::Write as _;
    let key = crate::rng::Key::new(7, crate::rng::Stream::Build);
    let side = (places as f64).sqrt().ceil() as usize;
    let every = (places / claim_points.max(1)).max(1);
    let mut s = String::with_capacity(places * 120 + routes * 60);
    s += "[scenario]\nname = \"synthetic\"\nstart = 2025-01-01\nend = 2025-12-31\nseed = 1\n\n";
    for i in 0..places {
        let (r, c) = (i / side, i % side);
        let claims = i % every == every - 1;
        let _ = write!(
            s,
            "[[place]]\nid = \"p{i}\"\ncountry = \"{}\"\nkind = \"{}\"\nlat = {:.4}\nlon = {:.4}\n\n",
            if claims { "US" } else { "MX" },
            if claims { "crossing" } else { "town" },
            -10.0 + 60.0 * r as f64 / side as f64,
            -120.0 + 60.0 * c as f64 / side as f64,
        );
    }
    let mut written = 0;
    for i in 1..places.min(routes + 1) {
        let _ = write!(
            s,
            "[[route]]\nfrom = \"p{}\"\nto = \"p{i}\"\nkm = {}\nmode = \"bus\"\n\n",
            i - 1,
            20 + i % 80
        );
        written += 1;
    }
    let mut k = 0u32;
    while written < routes {
        let mut d = key.draws(k, 0);
        k += 1;
        let a = (d.next_word() % places as u64) as usize;
        let step = 2 + (d.next_word() % (2 * side as u64)) as usize;
        let b = (a + step) % places;
        if a == b {
            continue;
        }
        let _ = write!(
            s,
            "[[route]]\nfrom = \"p{a}\"\nto = \"p{b}\"\nkm = {}\nmode = \"bus\"\n\n",
            10 + d.next_word() % 300
        );
        written += 1;
    }
    s += "[[population]]\nid = \"everyone\"\norigin = \"p0\"\nnationality = \"HN\"\npeople = 100000\ndestinations = { US = 1.0 }\ndepart = 2025-01-01\n";
    s
}
