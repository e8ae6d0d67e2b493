//! Studies (`northbound sweep --design …`, `analyze`, `params`): designs
//! beyond the grid for both models, `runs.csv` and `design.csv`, a study
//! interrupted with SIGINT that resumes to the same bytes as an
//! uninterrupted one, and the sensitivity estimators against analytic
//! results.

mod common;

use common::{bin, scenario};
use northbound::study::analyze;
use northbound::study::design::{build, Factor, Method};
use std::path::{Path, PathBuf};
use std::process::Output;

fn sweep(args: &[&str], out: &Path) -> Output {
    bin()
        .arg("sweep")
        .args(args)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--threads", "2"])
        .output()
        .expect("the binary starts")
}

fn ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// Runs `sweep SCENARIO ARGS…` (ARGS split at white space) into a new
/// temporary folder, which lives as long as the first value returned.
fn study(sc: &str, args: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("study");
    let sc = scenario(sc);
    let mut a = vec![sc.to_str().expect("path")];
    a.extend(args.split_whitespace());
    ok(&sweep(&a, &out));
    (tmp, out)
}

fn csv_rows(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(p).expect("csv");
    let h = r.headers().expect("header").iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

/// Every file of a folder (not the manifest), by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("folder")
        .flatten()
        .filter(|e| e.file_name() != ".northbound.json")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("file"),
            )
        })
        .collect();
    v.sort();
    v
}

/// The Sobol' study of the acceptance test: protocol-2023 over four
/// parameters, 16 base points (160 points) × 2 replicates, at a tenth of
/// its size so that it runs in seconds.
fn protocol_study() -> Vec<String> {
    [
        scenario("protocol-2023.toml").to_string_lossy().into_owned(),
        "--design".into(),
        "sobol:16".into(),
        "--param".into(),
        "behaviour.w_fail=0:2".into(),
        "--param".into(),
        "behaviour.learn_at_door=0.05:0.2".into(),
        "--param".into(),
        "policy.stca_protocol.bar_days=0:365".into(),
        "--param".into(),
        "population.roxham_flow.informed_share=0.2:0.8".into(),
        "--metric".into(),
        "claims@roxham_road:2023-04-01..2023-06-30".into(),
        "--replicates".into(),
        "2".into(),
        "--scale".into(),
        "0.1".into(),
    ]
    .into()
}

fn store_lines(out: &Path) -> usize {
    let store = out.parent().expect("parent").join(format!(
        ".{}.study/rows.jsonl",
        out.file_name().expect("name").to_string_lossy()
    ));
    std::fs::read_to_string(store).map(|s| s.lines().count()).unwrap_or(0)
}

#[test]
fn a_sobol_study_interrupted_with_sigint_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let args = protocol_study();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let whole = tmp.path().join("whole");
    ok(&sweep(&args, &whole));
    let (h, rows) = csv_rows(&whole.join("runs.csv"));
    assert_eq!(rows.len(), 16 * (2 * 4 + 2) * 2, "one row per point and replicate");
    assert_eq!(
        h[..7],
        [
            "point",
            "replicate",
            "seed",
            "behaviour.w_fail",
            "behaviour.learn_at_door",
            "policy.stca_protocol.bar_days",
            "population.roxham_flow.informed_share"
        ]
    );
    assert_eq!(
        h.last().map(String::as_str),
        Some("claims@roxham_road:2023-04-01..2023-06-30")
    );
    // Common random numbers: replicate k has the same seed at every point.
    for r in &rows {
        let first = rows.iter().find(|x| x[1] == r[1]).expect("replicate");
        assert_eq!(r[2], first[2]);
    }
    let (dh, design) = csv_rows(&whole.join("design.csv"));
    assert_eq!(dh.len(), 4);
    assert_eq!(design.len(), 160);

    // The same study, interrupted once some points are stored.
    let cut = tmp.path().join("cut");
    let mut child = bin()
        .arg("sweep")
        .args(&args)
        .arg("--out")
        .arg(&cut)
        .args(["--quiet", "--threads", "2"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let t0 = std::time::Instant::now();
    while store_lines(&cut) < 3 {
        assert!(t0.elapsed().as_secs() < 120, "no point was stored");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the study ended before it was interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "SIGINT ends it with 128 + 2");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("the work done so far is kept in") && said.contains(".cut.study"),
        "the interrupted study says where its work is kept: {said}"
    );
    assert!(!cut.exists(), "no folder for an unfinished study");
    let kept = store_lines(&cut);
    assert!((3..160).contains(&kept), "{kept} points kept");

    // Another command on the same folder is refused, and says why.
    let mut other: Vec<&str> = args.clone();
    let r = other.iter().position(|a| *a == "2").expect("replicates");
    other[r] = "3";
    let o = sweep(&other, &cut);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("unfinished study of another command") && e.contains("replicates"),
        "{e}"
    );
    assert_eq!(store_lines(&cut), kept, "the refused command leaves the store alone");

    // The same command resumes and finishes with the same bytes.
    ok(&sweep(&args, &cut));
    assert_eq!(files(&cut), files(&whole), "resumed tables are byte-identical");
    assert_eq!(store_lines(&cut), 0, "the store is gone once the folder is in place");
    assert!(std::fs::read_to_string(cut.join(".northbound.json"))
        .expect("manifest")
        .contains("runs.csv"));

    // Its indices: every first-order index within its total one, roughly.
    let o = bin()
        .arg("analyze")
        .arg(&whole)
        .args(["--output", "claimed_ca"])
        .output()
        .expect("runs");
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Saltelli et al. 2010") && text.contains("behaviour.w_fail"),
        "{text}"
    );
}

#[test]
fn a_study_with_force_starts_afresh_and_a_foreign_folder_is_never_a_store() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = scenario("protocol-2023.toml");
    let sc = sc.to_str().expect("path");
    let out = tmp.path().join("s");
    let store = tmp.path().join(".s.study");
    std::fs::create_dir(&store).expect("dir");
    std::fs::write(store.join("notes.txt"), "mine").expect("file");
    let args = [
        "--design",
        "lhs:3",
        "--param",
        "behaviour.w_fail=0:2",
        "--replicates",
        "1",
        "--scale",
        "0.05",
    ];
    let mut a = vec![sc];
    a.extend(args);
    for force in [false, true] {
        let mut a = a.clone();
        if force {
            a.push("--force");
        }
        let o = sweep(&a, &out);
        assert_eq!(
            o.status.code(),
            Some(2),
            "a folder that is not ours is refused, even with --force"
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains("not the store of a northbound study"));
    }
    assert_eq!(std::fs::read_to_string(store.join("notes.txt")).expect("kept"), "mine");
    std::fs::remove_dir_all(&store).expect("rm");
    ok(&sweep(&a, &out));
    let (h, rows) = csv_rows(&out.join("runs.csv"));
    assert_eq!(rows.len(), 3);
    assert_eq!(h[3], "behaviour.w_fail");
}

#[test]
fn a_grid_sweep_writes_runs_and_design_beside_its_sweep_tables() {
    let (_tmp, out) = study(
        "protocol-2023.toml",
        "--param behaviour.w_fail=0:2:1 --replicates 2 --scale 0.1",
    );
    for f in [
        "sweep.csv",
        "sweep_long.csv",
        "runs.csv",
        "design.csv",
        "problem.json",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let (_, design) = csv_rows(&out.join("design.csv"));
    assert_eq!(design, vec![vec!["0"], vec!["1"], vec!["2"]]);
    let (_, runs) = csv_rows(&out.join("runs.csv"));
    assert_eq!(runs.len(), 6);
    // sweep.csv's mean is the mean of runs.csv's replicates.
    let (sh, sweep_rows) = csv_rows(&out.join("sweep.csv"));
    let (rh, _) = csv_rows(&out.join("runs.csv"));
    let col = sh.iter().position(|c| c == "claimed_ca_mean").expect("column");
    let rc = rh.iter().position(|c| c == "claimed_ca").expect("column");
    for (p, row) in sweep_rows.iter().enumerate() {
        let mean: f64 = runs
            .iter()
            .filter(|r| r[0] == p.to_string())
            .map(|r| r[rc].parse::<f64>().expect("number"))
            .sum::<f64>()
            / 2.0;
        assert_eq!(row[col], format!("{mean:.3}"));
    }
    let o = bin().arg("analyze").arg(&out).output().expect("runs");
    assert_eq!(o.status.code(), Some(2), "a grid has no estimator here");
}

#[test]
fn a_flee_scenario_runs_a_sobol_study() {
    let (_tmp, out) = study(
        "flee-mali2012.toml",
        "--design sobol:8 --param flee.camp_weight=1:10 --param flee.conflict_weight=0.1:1 --replicates 1 \
         --metric people@Fassala-Mbera:2012-03-01..2012-04-30",
    );
    let (h, rows) = csv_rows(&out.join("runs.csv"));
    assert_eq!(rows.len(), 8 * 6);
    assert_eq!(h[3..5], ["flee.camp_weight", "flee.conflict_weight"]);
    assert!(h.iter().any(|c| c == "people@Fassala-Mbera"));
    let (_, design) = csv_rows(&out.join("design.csv"));
    assert_eq!(design.len(), 8 * 6);
    let o = bin()
        .arg("analyze")
        .arg(&out)
        .args(["--output", "people@Fassala-Mbera"])
        .output()
        .expect("runs");
    ok(&o);
}

#[test]
fn a_wrong_parameter_path_names_the_nearest_valid_ones_for_either_model() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (sc, wrong, near) in [
        ("protocol-2023.toml", "behaviour.w_fial=0:2", "behaviour.w_fail"),
        ("flee-mali2012.toml", "flee.camp_wieght=1:2", "flee.camp_weight"),
    ] {
        let sc = scenario(sc);
        let o = sweep(
            &[sc.to_str().expect("path"), "--design", "lhs:4", "--param", wrong],
            &tmp.path().join("x"),
        );
        assert_eq!(o.status.code(), Some(2));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(&format!("did you mean {near}")), "{e}");
    }
    let sc = scenario("protocol-2023.toml");
    let o = sweep(
        &[
            sc.to_str().expect("path"),
            "--param",
            "behaviour.w_fail=0:2:1",
            "--metric",
            "claims@roxam_road",
        ],
        &tmp.path().join("y"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("roxham_road"));
}

#[test]
fn params_lists_every_settable_path_with_its_value_and_range() {
    let o = bin()
        .arg("params")
        .arg(scenario("protocol-2023.toml"))
        .output()
        .expect("runs");
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("policy.rcmp_between_ports.detection_rate "))
        .expect("listed");
    assert!(line.contains("0.95") && line.contains("[0, 1]"), "{line}");
    let o = bin()
        .args(["params", "--csv"])
        .arg(scenario("flee-mali2012.toml"))
        .output()
        .expect("runs");
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("path,value,min,max,min_exclusive,max_exclusive,integer\n"));
    assert!(
        text.contains("\nflee.awareness_level,1,1,6,false,false,true\n"),
        "{text}"
    );
    assert!(text.contains("\nflee.capacity_buffer,"), "{text}");
}

fn ishigami(x: &[f64]) -> f64 {
    x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
}

#[test]
fn sobol_indices_of_the_ishigami_function_match_the_analytic_values() {
    let pi = std::f64::consts::PI;
    let factors: Vec<Factor> = (0..3)
        .map(|j| Factor {
            path: format!("x{j}"),
            lo: -pi,
            hi: pi,
        })
        .collect();
    let design = build(Method::Sobol(4096), factors, &[], 1).expect("design");
    let y: Vec<f64> = design.points.iter().map(|p| ishigami(p)).collect();
    let s = analyze::sobol(&y, 3, true, 200, 0).expect("indices");
    // Analytic (Ishigami & Homma 1990; a = 7, b = 0.1).
    let s1 = [0.3139, 0.4424, 0.0];
    let st = [0.5576, 0.4424, 0.2437];
    for j in 0..3 {
        assert!((s[j].s1 - s1[j]).abs() < 0.03, "S1[{j}] = {} vs {}", s[j].s1, s1[j]);
        assert!((s[j].st - st[j]).abs() < 0.03, "ST[{j}] = {} vs {}", s[j].st, st[j]);
        assert!(s[j].s1_conf > 0.0 && s[j].s1_conf < 0.1, "S1 ± {}", s[j].s1_conf);
    }
}

#[test]
fn morris_measures_of_a_linear_function_are_its_slopes_over_the_ranges() {
    let factors: Vec<Factor> = [(0.0, 1.0), (0.0, 10.0), (-5.0, 5.0)]
        .iter()
        .enumerate()
        .map(|(j, &(lo, hi))| Factor {
            path: format!("x{j}"),
            lo,
            hi,
        })
        .collect();
    let design = build(Method::Morris { r: 20, levels: 4 }, factors.clone(), &[], 2).expect("design");
    let slope = [3.0, -2.0, 0.0];
    let y: Vec<f64> = design
        .points
        .iter()
        .map(|p| p.iter().zip(slope).map(|(x, a)| a * x).sum())
        .collect();
    let unit: Vec<Vec<f64>> = design
        .points
        .iter()
        .map(|p| {
            p.iter()
                .zip(&factors)
                .map(|(v, f)| (v - f.lo) / (f.hi - f.lo))
                .collect()
        })
        .collect();
    let m = analyze::morris(&unit, &y, 3, 4, 100, 0).expect("measures");
    for j in 0..3 {
        let effect = slope[j] * (factors[j].hi - factors[j].lo);
        assert!((m[j].mu - effect).abs() < 1e-9, "μ[{j}] = {}", m[j].mu);
        assert!((m[j].mu_star - effect.abs()).abs() < 1e-9, "μ*[{j}]");
        assert!(
            m[j].sigma.abs() < 1e-9 && m[j].mu_star_conf.abs() < 1e-9,
            "no spread for a linear function"
        );
    }
}

#[test]
fn a_sobol_design_of_few_or_unbalanced_base_points_is_warned_about() {
    use northbound::study::warnings;
    assert!(warnings(&Method::Sobol(64)).is_empty(), "a power of two, ≥ 16");
    let w = warnings(&Method::Sobol(6));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("not a power of two") && w[0].contains("sobol:4 or sobol:8"),
        "{w:?}"
    );
    assert!(w[1].contains("fewer than 16"), "{w:?}");
    assert_eq!(warnings(&Method::Sobol(8)).len(), 1, "small, but a power of two");
    assert_eq!(warnings(&Method::Sobol(100)).len(), 1, "large, not a power of two");
    assert!(warnings(&Method::Lhs(7)).is_empty(), "only Sobol' designs");
    // The command line says so before the study runs.
    let tmp = tempfile::tempdir().expect("temp dir");
    let fixture = common::fixture("chain.toml");
    let args = [
        fixture.to_str().expect("path"),
        "--design",
        "sobol:3",
        "--param",
        "behaviour.w_dist=0.5:2",
        "--replicates",
        "1",
    ];
    let o = sweep(&args, &tmp.path().join("study"));
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: --design sobol:3: N is not a power of two"),
        "{err}"
    );
    assert!(err.contains("warning: --design sobol:3: with fewer than 16"), "{err}");
}

#[test]
fn a_sobol_sweeps_summary_sends_readers_to_the_indices_not_to_pairs_of_points() {
    let (_tmp, out) = study(
        "protocol-2023.toml",
        "--scale 0.1 --design sobol:4 --param behaviour.w_fail=1:4 --param behaviour.w_dist=0.5:2 \
         --replicates 1 --fixed-inputs",
    );
    let md = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    assert!(md.contains("The 24 points are not a grid"), "{md}");
    assert!(md.contains("northbound analyze"), "{md}");
    // Saltelli's rows share some parameters' values by design: no line may
    // read a pair of them as one parameter's effect.
    assert!(!md.contains("at their first value"), "{md}");
    assert!(!md.contains("`behaviour.w_fail` from"), "{md}");
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(report.contains("not a grid"), "the report carries the summary");
    assert!(
        !report.contains("Where people ended as"),
        "no chart of a slice through a Sobol' design"
    );
}

#[test]
fn a_grid_sweeps_summary_reads_each_parameter_from_its_lowest_value_to_its_highest() {
    let (_tmp, out) = study(
        "protocol-2023.toml",
        "--scale 0.1 --param behaviour.w_fail=0:2:1 --param behaviour.w_dist=0.5:2:1.5 --replicates 1 --fixed-inputs",
    );
    let md = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    assert!(!md.contains("not a grid"), "{md}");
    assert!(
        md.contains("`behaviour.w_fail` from 0 to 2 (the other parameters at their first value)"),
        "{md}"
    );
    assert!(
        md.contains("`behaviour.w_dist` from 0.5 to 2 (the other parameters at their first value)"),
        "{md}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(report.contains("Where people ended as behaviour.w_fail varies"));
}
