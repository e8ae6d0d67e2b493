//! Forecasts from observed counts: the particle filter finds the member
//! whose counts were observed, a forecast folder holds its tables, chart
//! and sentence, and a counts file with mistakes is refused with every
//! problem located (exit 2).

mod common;
use common::*;
use northbound::engine::{Col, Engine};
use northbound::forecast::{self, filter, observed, Plan, SpinUp};
use northbound::rng::replicate_seed;
use northbound::scenario::{load_bytes, Scenario};
use std::fmt::Write as _;
use std::path::Path;

/// The chain a → b → c, its walkers leaving home each day with a chance
/// of 3 %: members (seeds) differ day by day in who reaches c.
fn daily_chain() -> Scenario {
    let text = std::fs::read_to_string(fixture("chain.toml")).expect("the fixture reads");
    let text = text
        .replace("people = 1000", "people = 20000")
        .replace("depart = 2025-01-02", "daily_depart_share = 0.03");
    load_bytes(text.as_bytes(), Path::new("daily-chain.toml")).expect("the scenario loads")
}

/// Arrivals at c on each of the first `days` days of the member that
/// continues from the start with seed `replicate_seed(seed, m)`.
fn member_arrivals(sc: &Scenario, m: u64, days: u32) -> Vec<u64> {
    let c = sc.places.iter().position(|p| p.id == "c").expect("c");
    let mut st = Engine::new(sc, sc.seed).take_state();
    st.dynamics = replicate_seed(sc.seed, m);
    let mut e = Engine::from_state(sc, st, false);
    (0..days)
        .map(|_| {
            e.step().expect("steps");
            e.places()[c][Col::Arrived as usize]
        })
        .collect()
}

fn counts_csv(sc: &Scenario, arrivals: &[u64]) -> String {
    let mut s = String::from("date,place,metric,value\n");
    for (d, a) in arrivals.iter().enumerate() {
        let _ = writeln!(s, "{},c,arrived,{a}", sc.calendar.date_of(d as u32));
    }
    s
}

#[test]
fn the_filter_concentrates_the_weights_on_the_member_whose_counts_were_observed() {
    let sc = daily_chain();
    let (known, observed_days, horizon) = (5u64, 21u32, 7u32);
    let truth = member_arrivals(&sc, known, observed_days + horizon);
    assert!(truth.iter().sum::<u64>() > 1000, "people reach c: {truth:?}");
    let csv = counts_csv(&sc, &truth[..observed_days as usize]);
    let obs = observed::load_bytes(csv.as_bytes(), Path::new("counts.csv"), &sc).expect("the counts read");
    let plan = Plan {
        origin: observed_days,
        horizon,
        window: observed_days,
        filter: filter::Settings {
            members: 20,
            dispersion: f64::INFINITY,
            resample_below: 0.5,
        },
    };
    let draws = [sc.clone()];
    let f = forecast::forecast(&draws, &obs, &plan, &mut SpinUp::new(&draws)).expect("the forecast runs");
    assert_eq!(f.used.len(), observed_days as usize, "every daily count is assimilated");
    assert_eq!(f.members.len(), 20);
    let w = f.weights();
    let on_known: f64 = f
        .members
        .iter()
        .zip(&w)
        .filter(|(m, _)| m.ancestor == known as usize)
        .map(|(_, w)| w)
        .sum();
    assert!(
        on_known > 0.9,
        "the weight on member {known}'s lineage is {on_known}: {w:?}"
    );
    // The member itself (its own seed, continued through every resampling)
    // survives, and no lineage matches the counts better.
    let own = f
        .members
        .iter()
        .find(|m| m.seed == replicate_seed(sc.seed, known))
        .expect("the known member survives");
    let best = f.members.iter().map(|m| m.log_lik).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(own.log_lik, best);
    assert!(
        f.stages.iter().any(|s| s.resampled),
        "collapsed weights are resampled (effective sample size below half the members)"
    );
    // What the known member did next lies within the forecast's 90 % interval.
    let d = f.dist(&obs, 0, plan.origin, plan.origin + horizon - 1);
    let next: u64 = truth[observed_days as usize..].iter().sum();
    let (lo, hi) = (d.quantile(0.05), d.quantile(0.95));
    assert!(
        lo <= next as f64 && next as f64 <= hi,
        "the known member's next week ({next}) within [{lo}, {hi}]"
    );
}

#[test]
fn without_counts_the_members_weigh_the_same() {
    let sc = daily_chain();
    // A count after the origin: nothing to weigh the members on.
    let obs = observed::load_bytes(
        b"date,place,metric,value\n2025-01-25,c,arrived,3\n",
        Path::new("later.csv"),
        &sc,
    )
    .expect("the counts read");
    let plan = Plan {
        origin: 10,
        horizon: 7,
        window: 56,
        filter: filter::Settings {
            members: 8,
            ..filter::Settings::default()
        },
    };
    let draws = [sc.clone()];
    let f = forecast::forecast(&draws, &obs, &plan, &mut SpinUp::new(&draws)).expect("runs");
    assert!(f.weights().iter().all(|w| (w - 0.125).abs() < 1e-12));
    assert!(f.stages.is_empty());
}

#[test]
fn a_forecast_folder_holds_its_tables_chart_and_sentence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sc = daily_chain();
    let text = std::fs::read_to_string(fixture("chain.toml"))
        .expect("reads")
        .replace("people = 1000", "people = 20000")
        .replace("depart = 2025-01-02", "daily_depart_share = 0.03");
    let scenario = write(dir.path(), "daily-chain.toml", &text);
    let truth = member_arrivals(&sc, 3, 14);
    let counts = write(dir.path(), "counts.csv", &counts_csv(&sc, &truth));
    let out = dir.path().join("fc");
    let o = bin()
        .args(["forecast", scenario.to_str().expect("utf-8"), "--observed"])
        .arg(&counts)
        .args([
            "--from",
            "2025-01-15",
            "--horizon",
            "2",
            "--members",
            "12",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("starts");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = std::fs::read_to_string(out.join("forecast.csv")).expect("forecast.csv");
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("place,name,metric,period,from,until,mean,median,p05,p25,p75,p95")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').skip(6).map(|x| x.parse().expect("a number")).collect())
        .collect();
    assert_eq!(rows.len(), 3, "two weeks and the total: {table}");
    for r in &rows {
        let (med, p05, p25, p75, p95) = (r[1], r[2], r[3], r[4], r[5]);
        assert!(p05 <= p25 && p25 <= med && med <= p75 && p75 <= p95, "{r:?}");
    }
    assert!(rows[2][1] > 0.0, "people keep reaching c");
    let weights = std::fs::read_to_string(out.join("weights.csv")).expect("weights.csv");
    let sum: f64 = weights
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).and_then(|x| x.parse::<f64>().ok()).expect("weight"))
        .sum();
    assert!((sum - 1.0).abs() < 1e-3, "weights sum to 1: {sum}");
    let package = std::fs::read_to_string(out.join("datapackage.json")).expect("datapackage.json");
    for t in [
        "forecast.csv",
        "fitted.csv",
        "observed.csv",
        "weights.csv",
        "filter.csv",
    ] {
        assert!(package.contains(&format!("\"path\": \"{t}\"")), "{t} is described");
    }
    assert!(!package.contains("undocumented"), "every column is described");
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    assert!(summary.contains("northbound expects about") && summary.contains("90 % likely between"));
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(report.contains("data-axis=\"time\""), "the chart has a time axis");
    assert!(report.contains("data-date=\"2025-"), "its ticks are dates");
    assert!(report.contains("forecast: median and 90 % interval") && report.contains("observed"));
}

#[test]
fn a_counts_file_with_mistakes_is_refused_with_every_problem_located() {
    let dir = tempfile::tempdir().expect("temp dir");
    let counts = write(
        dir.path(),
        "counts.csv",
        "date,place,metric,value\n2025-01-05,c,arrived,10\n2025-13-01,c,arrived,5\n2025-01-06,zz,arrived,3\n\
         2025-01-07,c,arived,3\n2025-01-08,c,arrived,-4\n",
    );
    let out = dir.path().join("fc");
    let o = bin()
        .args(["forecast"])
        .arg(fixture("chain.toml"))
        .arg("--observed")
        .arg(&counts)
        .args(["--from", "2025-01-10", "--horizon", "1", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("starts");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for located in [
        "counts.csv:3:1",
        "counts.csv:4:12",
        "counts.csv:5:14",
        "counts.csv:6:22",
    ] {
        assert!(err.contains(located), "{located} in: {err}");
    }
    assert!(err.contains("did you mean \"arrived\""), "{err}");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_forecast_past_the_scenarios_end_is_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let counts = write(
        dir.path(),
        "counts.csv",
        "date,place,metric,value\n2025-01-05,c,arrived,10\n",
    );
    let o = bin()
        .arg("forecast")
        .arg(fixture("chain.toml"))
        .arg("--observed")
        .arg(&counts)
        .args(["--from", "2025-01-20", "--horizon", "4", "--quiet", "--out"])
        .arg(dir.path().join("fc"))
        .output()
        .expect("starts");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("set its `end` later"), "{err}");
}

#[test]
fn a_backtest_scores_each_origin_against_the_counts_that_followed_beside_the_baselines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sc = daily_chain();
    let text = std::fs::read_to_string(fixture("chain.toml"))
        .expect("reads")
        .replace("people = 1000", "people = 20000")
        .replace("depart = 2025-01-02", "daily_depart_share = 0.03");
    let scenario = write(dir.path(), "daily-chain.toml", &text);
    let truth = member_arrivals(&sc, 2, 28);
    let counts = write(dir.path(), "counts.csv", &counts_csv(&sc, &truth));
    let out = dir.path().join("bt");
    let o = bin()
        .args(["forecast", scenario.to_str().expect("utf-8"), "--observed"])
        .arg(&counts)
        .args([
            "--backtest",
            "2025-01-08..2025-01-22",
            "--every",
            "1",
            "--horizon",
            "1",
            "--members",
            "10",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("starts");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bt = std::fs::read_to_string(out.join("backtest.csv")).expect("backtest.csv");
    // Three origins, each scored on the seven daily counts of its week.
    assert_eq!(bt.lines().count(), 1 + 3 * 7, "{bt}");
    for l in bt.lines().skip(1) {
        let origin = l.split(',').next().expect("origin");
        let from = l.split(',').nth(5).expect("from");
        assert!(from >= origin, "only counts after the origin are scored: {l}");
    }
    let scores = std::fs::read_to_string(out.join("scores.csv")).expect("scores.csv");
    assert!(scores.contains("all,model,21,"), "{scores}");
    assert!(scores.contains("all,persistence,21,"), "{scores}");
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    assert!(
        summary.contains("3 forecasts") && summary.contains("for persistence"),
        "{summary}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(report.contains("Scores") && report.contains("data-axis=\"time\""));
}

#[test]
fn members_are_spread_over_draws_of_the_uncertain_inputs_unless_they_are_fixed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sc = daily_chain();
    let text = std::fs::read_to_string(fixture("chain.toml"))
        .expect("reads")
        .replace("people = 1000", "people = 20000")
        .replace(
            "depart = 2025-01-02",
            "daily_depart_share = { value = 0.03, range = [0.01, 0.05] }",
        );
    let scenario = write(dir.path(), "uncertain-chain.toml", &text);
    let counts = write(dir.path(), "counts.csv", &counts_csv(&sc, &member_arrivals(&sc, 3, 14)));
    let forecast = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let o = bin()
            .args(["forecast", scenario.to_str().expect("utf-8"), "--observed"])
            .arg(&counts)
            .args([
                "--from",
                "2025-01-15",
                "--horizon",
                "2",
                "--members",
                "12",
                "--draws",
                "4",
                "--resample-below",
                "0",
                "--quiet",
            ])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("starts");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let weights = std::fs::read_to_string(out.join("weights.csv")).expect("weights.csv");
        let draws: std::collections::BTreeSet<String> = weights
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).expect("draw").to_string())
            .collect();
        (
            draws.len(),
            std::fs::read_to_string(out.join("summary.md")).expect("summary.md"),
        )
    };
    let (drawn, summary) = forecast("drawn", &[]);
    assert_eq!(drawn, 4, "members of four input draws (never resampled here)");
    assert!(
        summary.contains("the scenario's uncertain inputs (4 Latin hypercube draws)"),
        "{summary}"
    );
    let (fixed, summary) = forecast("fixed", &["--fixed-inputs"]);
    assert_eq!(fixed, 1, "one draw: the inputs at their values");
    assert!(
        summary.contains("uncertainty in the scenario's inputs (at their values here)"),
        "{summary}"
    );
}
