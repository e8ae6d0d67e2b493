//! Every shipped scenario passes `check`, runs end to end (scaled down where
//! it must be, with the scale stated), conserves people, and gives the same
//! tables with one and two threads.

mod common;
use common::*;

/// Each shipped scenario with the scale its end-to-end test runs at: the
/// scale keeps every test run to at most ~100,000 people.
const SHIPPED: &[(&str, &str)] = &[
    ("caravan-2025.toml", "1"),
    ("roxham-2017-2020.toml", "0.5"),
    ("protocol-2023.toml", "1"),
    ("mexico-visa-2024.toml", "1"),
    ("mexico-visa-2009.toml", "1"),
    ("pathways-2021.toml", "0.02"),
    ("title42-2020-2023.toml", "0.02"),
    ("northbound-2025.toml", "0.05"),
];

/// The flee-model scenarios imported from Flee's folders (run end to end,
/// with their thread-count check, in tests/flee.rs).
const FLEE_SHIPPED: &[&str] = &["flee-burundi.toml", "flee-mali2012.toml"];

#[test]
fn every_file_in_scenarios_is_listed_here() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = SHIPPED.iter().map(|(f, _)| f.to_string()).collect();
    listed.extend(FLEE_SHIPPED.iter().map(|f| f.to_string()));
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn every_shipped_scenario_passes_check() {
    for f in SHIPPED.iter().map(|x| x.0).chain(FLEE_SHIPPED.iter().copied()) {
        let o = bin().arg("check").arg(scenario(f)).output().expect("runs");
        assert_eq!(o.status.code(), Some(0), "{f}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn every_shipped_scenario_runs_conserves_people_and_is_deterministic_across_threads() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (f, scale) in SHIPPED {
        let one = tmp.path().join(format!("{f}-1"));
        let two = tmp.path().join(format!("{f}-2"));
        run(&scenario(f), &one, &["--threads", "1", "--scale", scale]);
        run(&scenario(f), &two, &["--threads", "2", "--scale", scale]);
        for t in ["places.csv", "outcomes.csv", "events.csv"] {
            assert!(
                std::fs::read(one.join(t)).ok() == std::fs::read(two.join(t)).ok(),
                "{f}: {t} differs between 1 and 2 threads"
            );
        }
        let sc = northbound::scenario::load(&scenario(f))
            .expect("loads")
            .scaled(scale.parse().expect("a scale"));
        let total: u64 = outcomes(&one).iter().map(|r| r.2).sum();
        assert_eq!(total, sc.people(), "{f}: outcomes add up to the people");
        assert!(
            sc.people() <= 120_000,
            "{f} at scale {scale} has {} people",
            sc.people()
        );
    }
}
