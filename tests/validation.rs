//! Validation and calibration: an exactly known answer scores zero, bad
//! targets are refused clearly, and calibration recovers a parameter that
//! generated synthetic targets.

mod common;
use common::*;
use northbound::calibrate::{self, ParamSpec};
use northbound::scenario::params;
use northbound::validation::{self, Metric, Target};

const CHAIN_TARGETS: &str = r#"
[[target]]
id = "claims_at_c"
place = "c"
metric = "claims"
value = 1000
source = "the chain: everyone claims at c"

[[target]]
id = "through_b_day_2"
place = "b"
metric = "arrived"
from = 2025-01-03
until = 2025-01-03
value = 1000
source = "the chain: 40 km at 20 km/day from day 1 reaches b on day 2"

[[target]]
id = "claimed_us"
metric = "claimed_us"
value = 1000
source = "the chain: everyone ends claimed in the US"

[[target]]
id = "nobody_waits_at_b_later"
place = "b"
metric = "present"
from = 2025-01-10
until = 2025-01-30
value = 0
source = "the chain: nobody is left at b"
"#;

#[test]
fn validate_on_a_deterministic_chain_reports_zero_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let t = write(tmp.path(), "chain-targets.toml", CHAIN_TARGETS);
    let o = bin()
        .arg("validate")
        .arg(fixture("chain.toml"))
        .arg("--targets")
        .arg(&t)
        .arg("--replicates")
        .arg("3")
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("mean absolute relative error: 0.000"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("persistence:")), "{out}");
    for id in [
        "claims_at_c",
        "through_b_day_2",
        "claimed_us",
        "nobody_waits_at_b_later",
    ] {
        assert!(out.contains(id), "{id} in {out}");
    }
}

#[test]
fn targets_naming_an_unknown_place_or_metric_or_a_window_outside_the_scenario_are_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (bad, says) in [
        (
            CHAIN_TARGETS.replacen("place = \"c\"", "place = \"cc\"", 1),
            "no place in the scenario has id \"cc\"",
        ),
        (
            CHAIN_TARGETS.replacen("metric = \"claims\"", "metric = \"claimz\"", 1),
            "\"claimz\" is not a places.csv column",
        ),
        (
            CHAIN_TARGETS.replacen("metric = \"claimed_us\"", "metric = \"arrived\"", 1),
            "\"arrived\" is not a state or an event",
        ),
        (
            CHAIN_TARGETS.replacen("from = 2025-01-03", "from = 2024-12-03", 1),
            "2024-12-03 is outside the scenario",
        ),
        (
            CHAIN_TARGETS.replacen("until = 2025-01-30", "until = 2025-03-30", 1),
            "2025-03-30 is outside the scenario",
        ),
    ] {
        let t = write(tmp.path(), "bad.toml", &bad);
        let o = bin()
            .arg("validate")
            .arg(fixture("chain.toml"))
            .arg("--targets")
            .arg(&t)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(says) && err.contains("bad.toml:"),
            "expected `{says}` in:\n{err}"
        );
        assert!(!err.contains("panicked"));
    }
}

/// Two claim points; the share going to the nearer one depends on w_dist.
const TWO_PORTS: &str = r#"[scenario]
name = "two-ports"
start = 2025-01-01
end = 2025-02-28
seed = 12

[behaviour]
news_delay_days = { mean = 0, max = 0 }

[[place]]
id = "o"
country = "MX"
kind = "city"
lat = 15
lon = -92

[[place]]
id = "near"
country = "US"
kind = "crossing"
lat = 27
lon = -99

[[place]]
id = "far"
country = "US"
kind = "crossing"
lat = 31
lon = -106

[[route]]
from = "o"
to = "near"
km = 500
mode = "bus"

[[route]]
from = "o"
to = "far"
km = 1500
mode = "bus"

[[population]]
id = "p"
origin = "o"
nationality = "HN"
people = 20000
destinations = { US = 1 }
depart_from = 2025-01-01
depart_until = 2025-01-31
"#;

#[test]
fn calibration_recovers_the_parameter_that_generated_synthetic_targets() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = write(tmp.path(), "two.toml", TWO_PORTS);
    let sc = northbound::scenario::load(&path).expect("loads");
    // Synthetic truth: w_dist = 1.8 (the scenario says 1.0).
    let truth = 1.8;
    let mut true_sc = sc.clone();
    params::set(&mut true_sc, "behaviour.w_dist", truth).expect("settable");
    let mk = |id: &str, place: u32| Target {
        id: id.into(),
        places: vec![place],
        metric: Metric::Col(northbound::engine::Col::Claims),
        nationality: None,
        from: 0,
        until: sc.calendar.days - 1,
        value: 0.0,
        source: "synthetic".into(),
    };
    let mut targets = vec![mk("near", sc.place_index["near"]), mk("far", sc.place_index["far"])];
    let observed = validation::simulate(&true_sc, &targets, 999, None).expect("runs");
    for (t, v) in targets.iter_mut().zip(observed) {
        t.value = v;
    }
    let specs = vec![ParamSpec {
        path: "behaviour.w_dist".into(),
        lo: 0.2,
        hi: 4.0,
    }];
    let c = calibrate::calibrate(&sc, &targets, &specs, 30, 2, None).expect("calibrates");
    let (lo, hi) = c.spread[0];
    assert!(
        c.best_error < c.start_error,
        "error fell: {} → {}",
        c.start_error,
        c.best_error
    );
    assert!(
        lo <= truth && truth <= hi,
        "truth {truth} within the good fits [{lo}, {hi}] (best {})",
        c.best[0]
    );
    assert!((c.best[0] - truth).abs() < 0.25, "best {} near {truth}", c.best[0]);
}

#[test]
fn calibrate_refuses_unknown_parameters_and_bad_bounds() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let t = write(tmp.path(), "chain-targets.toml", CHAIN_TARGETS);
    for (params, says) in [
        ("behaviour.w_dust=0:1", "`behaviour.w_dust` is not a settable parameter"),
        ("behaviour.w_dist=2:1", "the lower bound must be below the upper"),
        ("population.walkers.family_share=0:2", "a probability in [0, 1]"),
    ] {
        let o = bin()
            .arg("calibrate")
            .arg(fixture("chain.toml"))
            .arg("--targets")
            .arg(&t)
            .arg("--params")
            .arg(params)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2), "{params}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "expected `{says}` in {err}");
    }
}

#[test]
fn validation_replicates_side_by_side_are_each_seed_s_own_run() {
    // The experiment layer runs replicates on one pool with tables prepared
    // once; each must be the run `simulate` makes alone with its seed.
    let sc = northbound::scenario::load(&scenario("roxham-2017-2020.toml"))
        .expect("loads")
        .scaled(0.05);
    let targets = validation::load_targets(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/roxham-2017-2018.toml"),
        &sc,
    )
    .expect("targets");
    let reps = validation::Replicates::local(3, Some(2));
    let together = validation::simulate_replicates(&sc, &targets, &reps).expect("runs");
    let alone: Vec<Vec<f64>> = (0..3)
        .map(|k| {
            let seed = northbound::rng::replicate_seed(sc.seed, k);
            validation::simulate(&sc, &targets, seed, Some(1)).expect("runs")
        })
        .collect();
    assert_eq!(together, alone);
    assert!(together[0] != together[1], "replicates differ: each has its own seed");
    let v = validation::validate(&sc, &targets, &reps).expect("validates");
    let v = v.expect("one process is rank 0");
    assert_eq!(v.rows.len(), targets.len());
}

#[test]
fn a_calibration_file_says_the_command_that_made_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let t = write(tmp.path(), "chain targets.toml", CHAIN_TARGETS);
    let out = tmp.path().join("cal.toml");
    let o = bin()
        .arg("calibrate")
        .arg(fixture("chain.toml"))
        .arg("--targets")
        .arg(&t)
        .args([
            "--params",
            "behaviour.w_dist=0:2",
            "--budget",
            "1",
            "--replicates",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).expect("written");
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("# northbound calibrate "), "{first}");
    // A path with a space is quoted, so that the line runs again as it is.
    let targets = format!("--targets '{}'", t.display());
    assert!(first.contains(&targets), "{first}");
    assert!(
        first.ends_with("--params behaviour.w_dist=0:2 --budget 1 --replicates 2"),
        "{first}"
    );
}
