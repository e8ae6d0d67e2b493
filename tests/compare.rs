//! Comparing policy outcomes: replicates with intervals, variants with
//! common random numbers, sweeps, and the report.

mod common;
use common::*;
use std::path::Path;

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn replicates_write_per_replicate_tables_and_summaries_identical_for_any_threads() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = scenario("protocol-2023.toml");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    run(&sc, &a, &["--replicates", "3", "--threads", "1", "--scale", "0.3"]);
    run(&sc, &b, &["--replicates", "3", "--threads", "2", "--scale", "0.3"]);
    for f in [
        "places_summary.csv",
        "outcomes_summary.csv",
        "events_summary.csv",
        "replicate-0/places.csv",
        "replicate-2/outcomes.csv",
        "replicate-1/events.csv",
        "periods.csv",
        "places.geojson",
        "flows.geojson",
        "summary.md",
        "datapackage.json",
        "report.html",
    ] {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs between 1 and 2 threads"
        );
    }
    // Replicate 0, its inputs at their values (--fixed-inputs), is the plain
    // run with the scenario's seed.
    let plain = tmp.path().join("plain");
    run(&sc, &plain, &["--scale", "0.3"]);
    let fixed = tmp.path().join("fixed");
    run(&sc, &fixed, &["--replicates", "2", "--scale", "0.3", "--fixed-inputs"]);
    assert!(read(&plain.join("places.csv")) == read(&fixed.join("replicate-0/places.csv")));
    // Replicates differ from one another.
    assert!(read(&a.join("replicate-0/places.csv")) != read(&a.join("replicate-1/places.csv")));
    // Every figure has mean, sd and an interval; the interval holds the mean.
    let text = String::from_utf8(read(&a.join("outcomes_summary.csv"))).expect("utf-8");
    assert!(text.starts_with("cohort,nationality,outcome,mean,sd,lo95,hi95\n"));
    for l in text.lines().skip(1) {
        let f: Vec<f64> = l.split(',').skip(3).map(|x| x.parse().expect("a number")).collect();
        assert!(f[2] <= f[0] + 1e-9 && f[0] <= f[3] + 1e-9, "{l}");
    }
}

const SAME_AS_BASE: &str = r#"
[[variant]]
id = "same"
description = "The base policy written again: differences must be exactly zero"

[[variant.policy]]
id = "stca_protocol"
kind = "stca"
border = "US-CA"
scope = "whole_border"
claim_within_days = 14
from = 2023-03-25
"#;

#[test]
fn compare_uses_common_random_numbers_and_finds_the_effect_of_suspending_the_stca() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(scenario("protocol-2023.toml")).expect("scenario") + SAME_AS_BASE;
    let p = write(tmp.path(), "protocol.toml", &text);
    let out = tmp.path().join("cmp");
    let o = bin()
        .args(["compare"])
        .arg(&p)
        .args([
            "--variants",
            "same,stca_suspended",
            "--replicates",
            "4",
            "--scale",
            "0.3",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("stca_suspended") && stdout.contains("95% interval"),
        "{stdout}"
    );
    let csv = String::from_utf8(read(&out.join("comparison.csv"))).expect("utf-8");
    assert!(csv.starts_with("variant,metric,place,base,mean,diff,diff_lo95,diff_hi95\n"));
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    // The same policy under another name: every difference exactly zero.
    for r in rows.iter().filter(|r| r[0] == "same") {
        assert_eq!((r[5], r[6], r[7]), ("0.000", "0.000", "0.000"), "{r:?}");
    }
    // Suspending the STCA: more claims in Canada, with an interval above zero.
    let ca = rows
        .iter()
        .find(|r| r[0] == "stca_suspended" && r[1] == "claimed_ca" && r[2].is_empty())
        .expect("claimed_ca row");
    let (diff, lo): (f64, f64) = (ca[5].parse().expect("diff"), ca[6].parse().expect("lo"));
    assert!(
        diff > 1000.0 && lo > 0.0,
        "claimed_ca difference {diff}, lower bound {lo}"
    );
    let html = String::from_utf8(read(&out.join("report.html"))).expect("utf-8");
    assert!(html.contains("stca_suspended: change in where people ended, against the base"));
    assert!(
        html.matches("<svg").count() >= 8,
        "each variant's differences, places, time series and maps"
    );
    assert!(out.join("places_summary.csv").exists() && out.join("routes.csv").exists());
}

#[test]
fn sweep_writes_one_row_per_grid_point_with_intervals() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("sweep");
    let o = bin()
        .args(["sweep"])
        .arg(scenario("pathways-2021.toml"))
        .args([
            "--param",
            "policy.lawful_pathways.quota_per_year=0:40000:20000",
            "--param",
            "policy.title42.expulsion_rate=0.2:0.6:0.4",
            "--replicates",
            "2",
            "--scale",
            "0.01",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(read(&out.join("sweep.csv"))).expect("utf-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(
        &header[..2],
        &["policy.lawful_pathways.quota_per_year", "policy.title42.expulsion_rate"]
    );
    assert!(header.contains(&"entered_lawfully_mean") && header.contains(&"expelled_hi95"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().expect("number")).collect())
        .collect();
    assert_eq!(rows.len(), 3 * 2, "3 quotas × 2 rates");
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let lawful = col("entered_lawfully_mean");
    // More quota, more lawful entries (at each expulsion rate).
    for rate in [0.2, 0.6] {
        let at: Vec<f64> = rows
            .iter()
            .filter(|r| (r[1] - rate).abs() < 1e-9)
            .map(|r| r[lawful])
            .collect();
        assert!(
            at[0] < at[1] && at[1] < at[2],
            "lawful entries rise with the quota: {at:?}"
        );
    }
    // A wrong path is refused as bad input.
    let o = bin()
        .args(["sweep"])
        .arg(scenario("pathways-2021.toml"))
        .args(["--param", "policy.nope.factor=0:1:1"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
}

/// Checks a report is one self-contained file with its charts.
fn self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 3, "arrivals, outcomes and map charts");
    assert!(!html.contains("<script"), "no scripts");
    for attr in ["src=\"http", "href=\"http", "url(http", "@import", "<link"] {
        assert!(!html.contains(attr), "nothing fetched: found {attr}");
    }
}

#[test]
fn every_run_writes_a_self_contained_report_that_report_renders_again() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("caravan");
    run(&scenario("caravan-2025.toml"), &out, &[]);
    let first = String::from_utf8(read(&out.join("report.html"))).expect("utf-8");
    self_contained(&first);
    assert!(first.contains("claimed_mx") && first.contains("per week"));
    std::fs::remove_file(out.join("report.html")).expect("removed");
    let o = bin().arg("report").arg(&out).output().expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        first,
        String::from_utf8(read(&out.join("report.html"))).expect("utf-8"),
        "report renders the same page again"
    );
    // Replicates get a report with bands.
    let reps = tmp.path().join("reps");
    run(&scenario("caravan-2025.toml"), &reps, &["--replicates", "3"]);
    let html = String::from_utf8(read(&reps.join("report.html"))).expect("utf-8");
    self_contained(&html);
    assert!(
        html.contains("percentile of each week&#39;s total over replicates")
            || html.contains("percentile of each week's total over replicates")
    );
    // A folder without tables is refused as bad input.
    let o = bin().arg("report").arg(tmp.path()).output().expect("runs");
    assert_eq!(o.status.code(), Some(2));
}
