//! Checkpoint and resume: a run stopped with `--until` and `--save-state`
//! and continued with `--resume` writes the same tables as the run never
//! stopped, whatever the thread count; a changed policy from the resume
//! date changes only the days that follow; a state file that is corrupt,
//! truncated or not a state file at all is refused with exit 2, never a
//! panic.

mod common;
use common::*;
use std::path::Path;
use std::process::Output;

/// The tables of a run that must not depend on whether it was stopped
/// and continued (summary.json holds the wall time, report.html the page).
const TABLES: [&str; 7] = [
    "places.csv",
    "outcomes.csv",
    "events.csv",
    "routes.csv",
    "periods.csv",
    "places.geojson",
    "flows.geojson",
];

fn northbound(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary starts")
}

fn ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn resuming_with_nothing_changed_writes_the_uninterrupted_runs_tables_at_any_thread_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sc = scenario("roxham-2017-2020.toml");
    let whole = dir.path().join("whole");
    run(&sc, &whole, &["--threads", "2"]);
    let state = dir.path().join("2018.state");
    let first = dir.path().join("first");
    run(
        &sc,
        &first,
        &["--until", "2018-06-30", "--save-state", s(&state), "--threads", "2"],
    );
    // The stopped run's tables end on the date asked.
    let places = String::from_utf8(read(&first.join("places.csv"))).expect("utf-8");
    assert!(places.lines().last().is_some_and(|l| l.contains("2018-06-30")));
    for threads in ["1", "2"] {
        let cont = dir.path().join(format!("resumed-{threads}"));
        ok(&northbound(&[
            "run",
            "--resume",
            s(&state),
            "--out",
            s(&cont),
            "--quiet",
            "--threads",
            threads,
        ]));
        for t in TABLES {
            assert!(
                read(&whole.join(t)) == read(&cont.join(t)),
                "{t} differs between the whole run and the run resumed on {threads} threads"
            );
        }
    }
}

#[test]
fn a_policy_changed_at_the_resume_date_changes_only_the_days_that_follow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sc = scenario("roxham-2017-2020.toml");
    let text = std::fs::read_to_string(&sc).expect("the scenario reads");
    // The returns of 21 March 2020 at a fifth of their rate.
    let changed = text.replacen("removal_rate = 1.0 ", "removal_rate = 0.2 ", 1);
    assert_ne!(changed, text, "the returns' rate is in the scenario");
    let new = write(dir.path(), "weaker-returns.toml", &changed);
    let whole = dir.path().join("whole");
    run(&sc, &whole, &[]);
    let state = dir.path().join("march.state");
    run(
        &sc,
        &dir.path().join("first"),
        &["--until", "2020-03-20", "--save-state", s(&state)],
    );
    let cont = dir.path().join("changed");
    ok(&northbound(&[
        "run",
        "--resume",
        s(&state),
        "--scenario",
        s(&new),
        "--out",
        s(&cont),
        "--quiet",
    ]));
    let (a, b) = (places(&whole), places(&cont));
    assert_eq!(a.len(), b.len());
    let resume_day = (chrono::NaiveDate::from_ymd_opt(2020, 3, 21).expect("date")
        - chrono::NaiveDate::from_ymd_opt(2017, 1, 1).expect("date"))
    .num_days() as u32;
    let key = |r: &Row| (r.present, r.arrived, r.departed, r.claims, r.turned_back, r.intercepted);
    for (x, y) in a.iter().zip(&b) {
        if x.day < resume_day {
            assert_eq!(
                key(x),
                key(y),
                "{} on day {} changed before the resume date",
                x.place,
                x.day
            );
        }
    }
    let claims_after = |rows: &[Row]| -> u64 {
        rows.iter()
            .filter(|r| r.day >= resume_day && r.place == "roxham_road")
            .map(|r| r.claims)
            .sum()
    };
    assert!(
        claims_after(&b) > claims_after(&a),
        "weaker returns let more claims be taken at Roxham Road after 21 March 2020 ({} against {})",
        claims_after(&b),
        claims_after(&a)
    );
}

/// Runs `run --resume FILE` and returns its exit code and standard error.
fn resume(file: &Path, out: &Path) -> (Option<i32>, String) {
    let o = northbound(&["run", "--resume", s(file), "--out", s(out), "--quiet"]);
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn corrupt_truncated_and_foreign_state_files_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("good.state");
    run(
        &fixture("chain.toml"),
        &dir.path().join("first"),
        &["--until", "2025-01-10", "--save-state", s(&state)],
    );
    let good = read(&state);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated header", good[..good.len().min(10)].to_vec()),
        ("truncated payload", good[..good.len() - 7].to_vec()),
        ("a scenario file", b"[scenario]\nname = \"x\"\n".to_vec()),
        ("a PNG", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
    ];
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x5a;
    cases.push(("one byte flipped", flipped));
    let mut version = good.clone();
    // The format version (bytes 17–20, little-endian) of a future build.
    version[17] = version[17].wrapping_add(1);
    cases.push(("another version", version));
    for (what, bytes) in cases {
        let f = write(dir.path(), "bad.state", "");
        std::fs::write(&f, &bytes).expect("writes");
        let (code, err) = resume(&f, &dir.path().join("out"));
        assert_eq!(code, Some(2), "{what}: exit 2, got {code:?}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(err.contains("bad.state"), "{what}: the error names the file: {err}");
    }
    assert!(
        !dir.path().join("out").exists(),
        "nothing is written for a refused state"
    );
    let (code, err) = resume(&dir.path().join("missing.state"), &dir.path().join("out"));
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn resuming_under_a_scenario_with_other_places_says_what_differs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("chain.state");
    run(
        &fixture("chain.toml"),
        &dir.path().join("first"),
        &["--until", "2025-01-10", "--save-state", s(&state)],
    );
    let text = std::fs::read_to_string(fixture("chain.toml")).expect("reads");
    let other = write(
        dir.path(),
        "other.toml",
        &text
            .replace("id = \"c\"", "id = \"z\"")
            .replace("to = \"c\"", "to = \"z\""),
    );
    let o = northbound(&[
        "run",
        "--resume",
        s(&state),
        "--scenario",
        s(&other),
        "--out",
        s(&dir.path().join("out")),
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains('z') || err.contains("place"),
        "the loader says what differs: {err}"
    );
}

#[test]
fn a_run_with_queues_at_capacity_resumes_as_if_never_stopped() {
    // Places with a capacity and claim points with a daily limit are queues
    // of their own; their state (and the places a pathway carries) is part
    // of the state file.
    let dir = tempfile::tempdir().expect("temp dir");
    let sc = fixture("queues.toml");
    let whole = dir.path().join("whole");
    run(&sc, &whole, &[]);
    let state = dir.path().join("q.state");
    run(
        &sc,
        &dir.path().join("first"),
        &["--until", "2025-03-20", "--save-state", s(&state)],
    );
    let cont = dir.path().join("resumed");
    ok(&northbound(&[
        "run",
        "--resume",
        s(&state),
        "--out",
        s(&cont),
        "--quiet",
    ]));
    for t in ["places.csv", "outcomes.csv", "events.csv", "routes.csv"] {
        assert!(
            read(&whole.join(t)) == read(&cont.join(t)),
            "{t} differs after resuming"
        );
    }
}

#[test]
fn a_run_stopped_with_until_publishes_the_days_it_ran_not_the_scenarios_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("part");
    let o = bin()
        .arg("run")
        .arg(common::scenario("caravan-2025.toml"))
        .args(["--until", "2025-08-12", "--save-state"])
        .arg(dir.path().join("s.state"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("starts");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("Where people ended on 2025-08-12"), "{said}");
    assert!(said.contains("writes no caravan.csv"), "{said}");
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    assert!(
        summary.contains("Simulated between 6 and 12 August 2025 (7 days)"),
        "{summary}"
    );
    assert!(!summary.contains("2026"), "nothing of the scenario's end: {summary}");
}
