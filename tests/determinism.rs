//! The same scenario and seed give byte-identical tables whatever the
//! number of threads; a different seed gives a different run.

mod common;
use common::*;

fn tables(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    ["places.csv", "outcomes.csv", "events.csv"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).expect("table exists")))
        .collect()
}

#[test]
fn tables_are_byte_identical_with_one_two_and_all_threads_when_capacities_bind() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = fixture("queues.toml");
    let one = tmp.path().join("t1");
    let two = tmp.path().join("t2");
    let all = tmp.path().join("tn");
    run(&sc, &one, &["--threads", "1"]);
    run(&sc, &two, &["--threads", "2"]);
    run(&sc, &all, &[]);
    // The scenario must exercise what could break determinism: at least
    // 100,000 agents, a binding capacity and binding daily claims.
    let summary = std::fs::read_to_string(one.join("summary.json")).expect("summary");
    let v: serde_json::Value = serde_json::from_str(&summary).expect("summary is JSON");
    assert!(v["agents"].as_u64().unwrap_or(0) >= 100_000, "agents: {}", v["agents"]);
    let rows = places(&one);
    let shelter_max = rows
        .iter()
        .filter(|r| r.place == "shelter")
        .map(|r| r.present)
        .max()
        .unwrap_or(0);
    assert!(
        (2_900..=3_000).contains(&shelter_max),
        "shelter capacity 3000 binds: max {shelter_max}"
    );
    let us_claims_max = rows
        .iter()
        .filter(|r| r.place == "port_us")
        .map(|r| r.claims)
        .max()
        .unwrap_or(0);
    assert!(
        (1_150..=1_200).contains(&us_claims_max),
        "1200 claims a day bind: max {us_claims_max}"
    );
    let queue = rows
        .iter()
        .filter(|r| r.place == "port_us")
        .map(|r| r.present)
        .max()
        .unwrap_or(0);
    assert!(queue > 0, "a queue forms at port_us");

    let t1 = tables(&one);
    for (other, name) in [(tables(&two), "--threads 2"), (tables(&all), "default threads")] {
        for ((f, a), (_, b)) in t1.iter().zip(&other) {
            assert!(a == b, "{f} differs between --threads 1 and {name}");
        }
    }
}

#[test]
fn a_different_seed_gives_a_different_run() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = fixture("queues.toml");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    run(&sc, &a, &["--seed", "1", "--scale", "0.05"]);
    run(&sc, &b, &["--seed", "2", "--scale", "0.05"]);
    let pa = std::fs::read(a.join("places.csv")).expect("places");
    let pb = std::fs::read(b.join("places.csv")).expect("places");
    assert_ne!(pa, pb, "seeds 1 and 2 gave the same places.csv");
    // and the same seed again gives the same run
    let c = tmp.path().join("c");
    run(&sc, &c, &["--seed", "1", "--scale", "0.05"]);
    assert_eq!(pa, std::fs::read(c.join("places.csv")).expect("places"));
}

/// Keeps every day's place counts and state totals.
#[derive(Default)]
struct Days(
    Vec<(
        Vec<[u64; northbound::engine::N_COLS]>,
        [u64; northbound::agents::N_STATES],
    )>,
);

impl northbound::engine::Recorder for Days {
    fn day(&mut self, v: &northbound::engine::DayView<'_>) -> std::io::Result<()> {
        self.0.push((v.places.to_vec(), v.states));
        Ok(())
    }
}

#[test]
fn the_benchmark_population_is_identical_with_one_and_two_threads_and_conserves_people() {
    let sc = northbound::scenario::load(&scenario("title42-2020-2023.toml")).expect("loads");
    let bench = northbound::bench::population(&sc, 60_000, 90);
    let mut runs = Vec::new();
    for threads in [1, 2] {
        let mut days = Days::default();
        let cfg = northbound::engine::RunConfig {
            seed: None,
            threads: Some(threads),
            by_cohort: false,
        };
        let r = northbound::engine::run(&bench, &cfg, &mut [&mut days]).expect("conserves people");
        assert_eq!(r.people, 60_000);
        assert!(days.0.iter().all(|(_, s)| s.iter().sum::<u64>() == 60_000));
        runs.push(days.0);
    }
    assert!(
        runs[0] == runs[1],
        "the benchmark population's days differ between 1 and 2 threads"
    );
    // Most agents are on the move: the point of the benchmark population.
    let active: u64 = runs[0].iter().map(|(_, s)| s[1] + s[2]).sum();
    assert!(active as f64 > 0.5 * 60_000.0 * 90.0, "active agent-days {active}");
}
