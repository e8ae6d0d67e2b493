//! Nothing the user has is ever lost: northbound replaces only what it
//! wrote, swaps a finished folder in whole, leaves no debris when it is
//! interrupted, and refuses a destination it must not touch before any work
//! starts (exit 2, with a message that says what to do).

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `northbound run SCENARIO --out OUT --quiet [extra]` in `cwd`, without
/// asserting success.
fn try_run(cwd: &Path, scenario: &Path, out: &str, extra: &[&str]) -> Output {
    bin()
        .current_dir(cwd)
        .arg("run")
        .arg(scenario)
        .args(["--out", out, "--quiet"])
        .args(extra)
        .output()
        .expect("the binary starts")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every entry under `dir`, recursively, with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
                out.push((p, Vec::new()));
            } else {
                let b = std::fs::read(&p).unwrap_or_default();
                out.push((p, b));
            }
        }
    }
    out.sort();
    out
}

/// Names in `dir` that a run may leave only while it runs.
fn debris(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.contains(".partial-") || n.contains(".old-") || n.ends_with(".lock") || n.contains(".tmp")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A folder with the chain fixture as `s.toml` and a user's notes.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = tmp.path().join("s.toml");
    std::fs::copy(fixture("chain.toml"), &sc).expect("copy");
    std::fs::create_dir(tmp.path().join("results")).expect("mkdir");
    std::fs::write(tmp.path().join("results/notes.txt"), "my notes").expect("write");
    std::fs::write(tmp.path().join("report.txt"), "my report").expect("write");
    (tmp, sc)
}

#[test]
fn out_dot_dotdot_root_an_ancestor_a_users_folder_and_a_file_are_refused_and_kept() {
    let (tmp, sc) = workspace();
    let sub = tmp.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let before = snapshot(tmp.path());
    let parent = tmp.path().to_string_lossy().into_owned();
    for out in [".", "..", "/", parent.as_str(), "../results", "../report.txt", "../.."] {
        for force in [false, true] {
            let extra: &[&str] = if force { &["--force"] } else { &[] };
            let o = try_run(&sub, &sc, out, extra);
            assert_eq!(o.status.code(), Some(2), "--out {out} (force {force}): {}", stderr(&o));
            let e = stderr(&o);
            assert!(e.contains("refusing to write"), "{e}");
            assert!(
                e.contains("--out") || e.contains("move it away") || e.contains("Move it away"),
                "the message says what to do: {e}"
            );
        }
    }
    assert_eq!(snapshot(tmp.path()), before, "nothing was changed");
}

#[test]
fn the_home_folder_and_the_scenarios_own_folder_are_refused() {
    let (tmp, sc) = workspace();
    let o = bin()
        .current_dir(tmp.path())
        .env("HOME", tmp.path().join("results"))
        .args(["run", "s.toml", "--out", "results", "--force", "--quiet"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("home folder"), "{}", stderr(&o));
    // A folder holding the scenario, seen from elsewhere.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let o = try_run(elsewhere.path(), &sc, &tmp.path().to_string_lossy(), &["--force"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("which this command reads"), "{}", stderr(&o));
    assert!(sc.is_file());
}

#[test]
fn a_symbolic_link_as_destination_is_refused() {
    let (tmp, sc) = workspace();
    std::os::unix::fs::symlink(tmp.path().join("results"), tmp.path().join("link")).expect("symlink");
    let o = try_run(tmp.path(), &sc, "link", &["--force"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert!(tmp.path().join("results/notes.txt").is_file());
}

#[test]
fn a_northbound_folder_is_replaced_and_files_added_to_it_need_force() {
    let (tmp, sc) = workspace();
    let o = try_run(tmp.path(), &sc, "out/s", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = tmp.path().join("out/s");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(".northbound.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["northbound"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["command"], "run");
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    for f in [
        "places.csv",
        "outcomes.csv",
        "events.csv",
        "routes.csv",
        "summary.json",
        "report.html",
    ] {
        assert!(listed.contains(&f), "{f} in {listed:?}");
    }
    // Its own folder is replaced.
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    // With the user's file added, only --force replaces it.
    std::fs::write(out.join("mine.txt"), "keep me").expect("write");
    let o = try_run(tmp.path(), &sc, "out/s", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("mine.txt") && stderr(&o).contains("--force"),
        "{}",
        stderr(&o)
    );
    assert!(out.join("mine.txt").is_file());
    // A table the user changed counts as theirs too.
    std::fs::remove_file(out.join("mine.txt")).expect("rm");
    std::fs::write(out.join("outcomes.csv"), "edited").expect("write");
    let o = try_run(tmp.path(), &sc, "out/s", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("changed"), "{}", stderr(&o));
    assert!(try_run(tmp.path(), &sc, "out/s", &["--force"]).status.success());
    assert!(debris(&tmp.path().join("out")).is_empty());
}

#[test]
fn calibrate_and_import_flee_replace_only_files_northbound_wrote() {
    let (tmp, sc) = workspace();
    // calibrate's default file is beside the run folders, never inside one.
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    std::fs::write(tmp.path().join("mine.toml"), "# my own notes\n").expect("write");
    let o = bin()
        .current_dir(tmp.path())
        .args([
            "calibrate",
            "s.toml",
            "--targets",
            "nowhere.toml",
            "--params",
            "behaviour.w_dist=0:2",
        ])
        .args(["--out", "mine.toml"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("northbound did not write it"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("mine.toml")).expect("kept"),
        "# my own notes\n"
    );
    let flee = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/flee/mali2012");
    if flee.is_dir() {
        let import = |to: &str| {
            bin()
                .current_dir(tmp.path())
                .arg("import-flee")
                .arg(&flee)
                .args(["-o", to])
                .output()
                .expect("runs")
        };
        let o = import("mine.toml");
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(import("mali.toml").status.success());
        // Its own file is replaced.
        assert!(import("mali.toml").status.success());
        assert!(debris(tmp.path()).is_empty(), "{:?}", debris(tmp.path()));
    }
}

#[test]
fn report_dir_replaces_only_the_report_northbound_wrote() {
    let (tmp, sc) = workspace();
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    let out = tmp.path().join("out/s");
    let report = |dir: &Path| bin().arg("report").arg(dir).output().expect("runs");
    assert!(report(&out).status.success());
    // The folder is still entirely northbound's: a later run replaces it.
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    std::fs::write(out.join("report.html"), "<p>my edits</p>").expect("write");
    let o = report(&out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).expect("kept"),
        "<p>my edits</p>"
    );
}

#[test]
fn report_refuses_inf_nan_and_huge_numbers_in_a_table() {
    let (tmp, sc) = workspace();
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    let out = tmp.path().join("out/s");
    // The tables the report draws from: a period's mean, a final state's people.
    for (table, column, k, name) in [("periods.csv", 7, 2, "mean"), ("outcomes.csv", 3, 3, "people")] {
        let text = std::fs::read_to_string(out.join(table)).expect("table");
        for bad in ["inf", "NaN", "1e308", "-1e300"] {
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let mut f: Vec<String> = lines[k - 1].split(',').map(String::from).collect();
            f[column] = bad.into();
            lines[k - 1] = f.join(",");
            std::fs::write(out.join(table), lines.join("\n") + "\n").expect("write");
            let t0 = Instant::now();
            let o = bin().arg("report").arg(&out).output().expect("runs");
            assert_eq!(o.status.code(), Some(2), "{table} {bad}: {}", stderr(&o));
            assert!(
                stderr(&o).contains(&format!("{table}:{k}")) && stderr(&o).contains(name),
                "{}",
                stderr(&o)
            );
            assert!(t0.elapsed() < Duration::from_secs(60), "{bad} took {:?}", t0.elapsed());
        }
        std::fs::write(out.join(table), &text).expect("restore");
    }
    // GeoJSON holds no inf or NaN, but a huge number, or a place off the globe, is refused too.
    let geo = std::fs::read_to_string(out.join("places.geojson")).expect("geojson");
    let at = geo.find("\"arrived\":").expect("arrivals") + "\"arrived\":".len();
    let end = at + geo[at..].find([',', '}']).expect("end of number");
    for (edited, says) in [
        (format!("{}1e300{}", &geo[..at], &geo[end..]), "arrived"),
        (
            geo.replacen("\"coordinates\":[", "\"coordinates\":[4294967294,", 1),
            "longitude",
        ),
    ] {
        std::fs::write(out.join("places.geojson"), edited).expect("write");
        let o = bin().arg("report").arg(&out).output().expect("runs");
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("places.geojson") && stderr(&o).contains(says),
            "{}",
            stderr(&o)
        );
    }
}

/// BASE with `extra` appended (and `from` replaced where given).
fn nobody_arrives(name: &str, extra: &str) -> String {
    let base = BASE.replace("name = \"base\"", &format!("name = \"{name}\""));
    format!("{base}{extra}")
}

#[test]
fn runs_in_which_nobody_arrives_write_every_table_and_a_report_saying_so() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let closed = "\n[[policy]]\nid = \"shut\"\nkind = \"closure\"\nroutes = [[\"home\", \"port\"]]\n";
    let expelled = BASE.replace(
        "kind = \"crossing\"",
        "kind = \"crossing\"\nborder = \"MX-US\"\nnear_side = \"home\"",
    ) + "\n[[policy]]\nid = \"t42\"\nkind = \"title42\"\nborder = \"MX-US\"\nexpulsion_rate = 1.0\n";
    let short = BASE
        .replace("end = 2025-01-31", "end = 2025-01-03")
        .replace("km = 100", "km = 2000");
    for (name, text) in [
        ("closed", nobody_arrives("closed", closed)),
        ("expelled", expelled),
        ("short", short),
    ] {
        let p = write(tmp.path(), &format!("{name}.toml"), &text);
        let check = bin().arg("check").arg(&p).output().expect("runs");
        assert!(check.status.success(), "{name}: {}", stderr(&check));
        for extra in [&[][..], &["--replicates", "2"][..]] {
            let out = tmp.path().join(format!("{name}-{}", extra.len()));
            let o = try_run(tmp.path(), &p, &out.to_string_lossy(), extra);
            assert!(o.status.success(), "{name} {extra:?}: {}", stderr(&o));
            let tables: &[&str] = if extra.is_empty() {
                &[
                    "places.csv",
                    "outcomes.csv",
                    "events.csv",
                    "routes.csv",
                    "summary.json",
                    "report.html",
                ]
            } else {
                &[
                    "places_summary.csv",
                    "outcomes_summary.csv",
                    "events_summary.csv",
                    "replicate-1/places.csv",
                    "report.html",
                ]
            };
            let published = [
                "periods.csv",
                "policies.csv",
                "places.geojson",
                "flows.geojson",
                "summary.md",
                "datapackage.json",
            ];
            for f in tables.iter().chain(&published) {
                assert!(out.join(f).is_file(), "{name}: {f}");
            }
            let html = std::fs::read_to_string(out.join("report.html")).expect("report");
            let md = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
            if name != "expelled" {
                assert!(html.contains("Nobody arrived anywhere during the run"), "{name}");
                assert!(md.contains("Nobody arrived anywhere during the run"), "{name}: {md}");
            }
        }
    }
}

/// Starts a run that stops at `stage` (see `outdir::pause_at`) and waits
/// until it says so.
fn paused_run(cwd: &Path, scenario: &Path, out: &str, stage: &str) -> Child {
    let mut child = bin()
        .current_dir(cwd)
        .env("NORTHBOUND_PAUSE_AT", stage)
        .arg("run")
        .arg(scenario)
        .args(["--out", out, "--quiet"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains(&format!("paused at {stage}")) => break,
            Some(_) => {}
            None => panic!("the run ended before pausing at {stage}"),
        }
    }
    // Keep reading, so that what the run says next has somewhere to go.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(ok.success());
}

#[test]
fn a_kill_during_the_commit_loses_neither_the_old_output_nor_the_new() {
    let (tmp, sc) = workspace();
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    let old = std::fs::read(tmp.path().join("out/s/places.csv")).expect("old");
    for stage in ["aside", "swapped"] {
        let mut child = paused_run(tmp.path(), &sc, "out/s", stage);
        signal(&child, "KILL");
        let _ = child.wait();
        // Killed with the old folder aside, the destination is missing for a
        // moment: the next run puts it back, or finds the new one in place.
        let o = try_run(tmp.path(), &sc, "out/s", &[]);
        assert!(o.status.success(), "{stage}: {}", stderr(&o));
        assert_eq!(std::fs::read(tmp.path().join("out/s/places.csv")).expect("whole"), old);
        assert!(
            debris(&tmp.path().join("out")).is_empty(),
            "{stage}: {:?}",
            debris(&tmp.path().join("out"))
        );
    }
}

#[test]
fn sigint_and_sigterm_mid_run_leave_no_debris_and_the_old_output_whole() {
    let (tmp, sc) = workspace();
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    let before = snapshot(&tmp.path().join("out"));
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let mut child = paused_run(tmp.path(), &sc, "out/s", "writing");
        assert!(
            !debris(&tmp.path().join("out")).is_empty(),
            "a partial folder exists mid-run"
        );
        signal(&child, sig);
        let status = child.wait().expect("ends");
        assert_eq!(status.code(), Some(code), "SIG{sig}");
        assert_eq!(
            snapshot(&tmp.path().join("out")),
            before,
            "SIG{sig} left debris or changed the output"
        );
    }
}

#[test]
fn two_runs_on_one_destination_the_second_fails_clearly_and_nothing_is_lost() {
    let (tmp, sc) = workspace();
    let mut first = paused_run(tmp.path(), &sc, "out/s", "writing");
    let o = try_run(tmp.path(), &sc, "out/s", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("being written by another northbound process"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(&first.id().to_string()),
        "names the other process: {}",
        stderr(&o)
    );
    signal(&first, "TERM");
    let _ = first.wait();
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    assert!(debris(&tmp.path().join("out")).is_empty());
}

#[test]
fn stale_partial_folders_of_dead_processes_are_removed() {
    let (tmp, sc) = workspace();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join(".s.partial-999999999/x")).expect("mkdir");
    std::fs::write(out.join(".s.partial-999999999/x/places.csv"), "half").expect("write");
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    assert!(debris(&out).is_empty(), "{:?}", debris(&out));
}

#[test]
fn ids_with_commas_and_quotes_round_trip_through_every_table() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = BASE.replace("from = \"home\"", "id = \"a,b \\\"c\\\"\"\nfrom = \"home\"");
    let p = write(tmp.path(), "s.toml", &text);
    let out = tmp.path().join("out");
    run(&p, &out, &["--trace", "3"]);
    let mut r = csv::Reader::from_path(out.join("routes.csv")).expect("csv");
    let ids: Vec<String> = r.records().map(|x| x.expect("a record")[0].to_string()).collect();
    assert!(ids.iter().all(|i| i == "a,b \"c\""), "{ids:?}");
    let mut r = csv::Reader::from_path(out.join("trace.csv")).expect("csv");
    let width = r.headers().expect("header").len();
    for rec in r.records() {
        assert_eq!(rec.expect("a record").len(), width);
    }
    assert!(bin().arg("report").arg(&out).status().expect("runs").success());
}

#[test]
fn a_scenario_from_a_pipe_or_a_fifo_is_read_once() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // A provenance mark, which summary.md reports from the bytes read once.
    let text = std::fs::read_to_string(fixture("chain.toml"))
        .expect("fixture")
        .replace("seed = 7", "seed = 7  # assumption: any fixed seed")
        .into_bytes();
    let mut child = bin()
        .current_dir(tmp.path())
        .args(["run", "/dev/stdin", "--out", "piped", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("starts");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &text).expect("write");
    assert!(child.wait().expect("ends").success());
    assert!(tmp.path().join("piped/places.csv").is_file());
    let md = std::fs::read_to_string(tmp.path().join("piped/summary.md")).expect("summary.md");
    assert!(md.contains("1 is marked as an assumption"), "{md}");
    let fifo = tmp.path().join("fifo.toml");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    for args in [&["check"][..], &["run", "--out", "from-fifo", "--quiet"][..]] {
        let writer = {
            let (fifo, text) = (fifo.clone(), text.clone());
            std::thread::spawn(move || std::fs::write(fifo, text))
        };
        let mut child = bin()
            .current_dir(tmp.path())
            .args(&args[..1])
            .arg(&fifo)
            .args(&args[1..])
            .stdout(Stdio::null())
            .spawn()
            .expect("starts");
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().expect("waits") {
                break s;
            }
            if t0.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                panic!("{} of a FIFO hangs", args[0]);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success());
        writer.join().expect("writer").expect("written");
    }
    let md = std::fs::read_to_string(tmp.path().join("from-fifo/summary.md")).expect("summary.md");
    assert!(md.contains("1 is marked as an assumption"), "{md}");
}

#[test]
fn runs_past_memory_or_agent_ids_are_refused_before_work_with_the_figure() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = fixture("chain.toml");
    let refused = |args: &[&str], env: Option<&str>, says: &str| {
        let mut c = bin();
        c.current_dir(tmp.path()).args(args);
        if let Some(m) = env {
            c.env("NORTHBOUND_MEMORY_BYTES", m);
        }
        let t0 = Instant::now();
        let o = c.output().expect("runs");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        assert!(t0.elapsed() < Duration::from_secs(60), "{args:?} did work first");
    };
    let s = sc.to_str().expect("utf-8");
    refused(
        &["run", s, "--scale", "1e9", "--out", "a"],
        None,
        "more than the engine's 4294967294",
    );
    refused(
        &["run", s, "--scale", "100", "--out", "a"],
        Some("1000000"),
        "of memory and 1000000 bytes",
    );
    refused(
        &["run", s, "--replicates", "50", "--out", "a"],
        Some("200000"),
        "of memory",
    );
    refused(
        &[
            "sweep",
            s,
            "--param",
            "population.walkers.people=1e12:1e12:1",
            "--out",
            "a",
        ],
        None,
        "sweep point population.walkers.people=1000000000000",
    );
    refused(
        &["sweep", s, "--param", "behaviour.w_dist=0:1e308:1e-308", "--out", "a"],
        None,
        "points is too many",
    );
    refused(
        &["sweep", s, "--param", "behaviour.w_dist=1:2:1e-17", "--out", "a"],
        None,
        "points is too many",
    );
    refused(
        &[
            "sweep",
            s,
            "--param",
            "behaviour.w_dist=1e16:1.0000000000000002e16:1",
            "--out",
            "a",
        ],
        None,
        "the points would repeat",
    );
    refused(
        &[
            "sweep",
            s,
            "--param",
            "behaviour.w_dist=0:99:1",
            "--param",
            "behaviour.w_cost=0:99:1",
            "--param",
            "behaviour.w_risk=0:99:1",
            "--out",
            "a",
        ],
        None,
        "a grid of 100 × 100 × 100 points",
    );
    refused(
        &["bench", "--people", "4294967294", "--scenario", s],
        Some("1000000000"),
        "bench --people 4294967294",
    );
    assert!(!tmp.path().join("a").exists(), "nothing was written");
}

#[test]
fn replicates_write_by_cohort_and_trace_tables_as_a_single_run_does() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = fixture("all_levers.toml");
    let single = tmp.path().join("single");
    let reps = tmp.path().join("reps");
    run(&sc, &single, &["--by-cohort", "--trace", "7"]);
    run(&sc, &reps, &["--by-cohort", "--trace", "7", "--replicates", "2"]);
    for f in ["cohort_places.csv", "trace.csv", "places.csv"] {
        assert_eq!(
            std::fs::read(single.join(f)).expect("single"),
            std::fs::read(reps.join("replicate-0").join(f)).expect("replicate 0"),
            "{f}"
        );
        assert!(reps.join("replicate-1").join(f).is_file());
    }
}

#[test]
fn a_run_folder_of_an_earlier_version_without_manifest_is_recognised_by_its_summary() {
    let (tmp, sc) = workspace();
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    let out = tmp.path().join("out/s");
    // Before manifests, summary.json listed the tables' SHA-256; those
    // versions wrote neither the published outputs nor a manifest.
    let legacy = || {
        for f in [
            ".northbound.json",
            "periods.csv",
            "policies.csv",
            "places.geojson",
            "flows.geojson",
            "summary.md",
            "datapackage.json",
        ] {
            std::fs::remove_file(out.join(f)).expect("rm");
        }
    };
    legacy();
    assert!(try_run(tmp.path(), &sc, "out/s", &[]).status.success());
    legacy();
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let o = try_run(tmp.path(), &sc, "out/s", &["--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(out.join("notes.txt").is_file());
}
