//! Uncertain inputs: marks in a scenario, their located errors, the Latin
//! hypercube that draws them for replicates, paired comparisons, the
//! sensitivity table; and the guarantee that a scenario without uncertain
//! inputs gives the tables it gave before they existed.

mod common;
use common::*;
use northbound::ensemble::{self, Extra, Inputs};
use northbound::scenario::uncertain::{self, Dist};
use northbound::scenario::{load_bytes, params};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The chain fixture with two uncertain inputs: the first leg's length and
/// the cohort's size.
fn marked_chain() -> String {
    std::fs::read_to_string(fixture("chain.toml"))
        .expect("fixture")
        .replace("km = 40", "km = { value = 40, range = [20, 80] }")
        .replace(
            "people = 1000",
            "people = { value = 1000, range = [500, 2000], dist = \"triangular\" }",
        )
}

fn load(text: &str) -> northbound::scenario::Scenario {
    load_bytes(text.as_bytes(), Path::new("u.toml")).expect("loads")
}

#[test]
fn marks_are_read_with_their_paths_values_ranges_and_distributions() {
    let sc = load(&marked_chain());
    let u = uncertain::inputs(&sc);
    assert_eq!(u.len(), 2);
    assert_eq!(u[0].path, "route.a-b.km");
    assert_eq!(
        (u[0].value, u[0].low, u[0].high, u[0].dist),
        (40.0, 20.0, 80.0, Dist::Uniform)
    );
    assert!(!u[0].whole);
    assert_eq!(u[1].path, "population.walkers.people");
    assert_eq!(u[1].dist, Dist::Triangular);
    assert!(u[1].whole);
    // A plain run uses the values: the same scenario as with plain numbers.
    let plain = load(&std::fs::read_to_string(fixture("chain.toml")).expect("fixture"));
    assert_eq!(sc.people(), plain.people());
    assert_eq!(sc.legs[0].days, plain.legs[0].days);
    // The paths are those of `params` where it knows the field.
    assert_eq!(params::get(&sc, "population.walkers.people"), Ok(1000.0));
}

#[test]
fn a_plain_run_of_a_marked_scenario_gives_the_tables_of_its_values() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let marked = write(tmp.path(), "u.toml", &marked_chain());
    run(&marked, &tmp.path().join("a"), &[]);
    run(&fixture("chain.toml"), &tmp.path().join("b"), &[]);
    for t in ["places.csv", "outcomes.csv", "events.csv", "routes.csv"] {
        assert_eq!(
            std::fs::read(tmp.path().join("a").join(t)).ok(),
            std::fs::read(tmp.path().join("b").join(t)).ok(),
            "{t}"
        );
    }
}

#[test]
fn the_latin_hypercube_puts_one_replicate_in_each_stratum_of_every_input() {
    let sc = load(&marked_chain());
    let n = 40;
    let d = uncertain::design(&sc, n);
    assert_eq!(d.len(), n);
    for (j, u) in uncertain::inputs(&sc).iter().enumerate() {
        let mut strata = vec![0; n];
        for row in &d {
            let x = row[j];
            assert!(x >= u.low && x <= u.high, "{} = {x}", u.path);
            // The cumulative probability of the value tells its stratum.
            let p = match u.dist {
                Dist::Uniform => (x - u.low) / (u.high - u.low),
                _ => continue,
            };
            strata[((p * n as f64) as usize).min(n - 1)] += 1;
        }
        if u.dist == Dist::Uniform {
            assert!(strata.iter().all(|&c| c == 1), "{}: {strata:?}", u.path);
        }
    }
    // Whole-number inputs are drawn whole; the design is a function of the
    // seed, the paths and n.
    assert!(d.iter().all(|r| r[1].fract() == 0.0));
    assert_eq!(d, uncertain::design(&sc, n));
    let mut other = sc.clone();
    other.seed += 1;
    assert_ne!(d, uncertain::design(&other, n));
}

#[test]
fn drawn_values_are_the_file_read_again_with_changes_since_loading_made_again() {
    let mut sc = load(&marked_chain());
    params::set(&mut sc, "population.walkers.family_share", 0.0).expect("settable");
    let sc = sc.scaled(0.5);
    let drawn = uncertain::with_values(&sc, &[60.0, 1800.0]).expect("valid values");
    // 1,800 people at scale 0.5, the first leg 60 km (3 days at 20 km/day).
    assert_eq!(drawn.people(), 900);
    assert_eq!(drawn.legs[0].km, 60.0);
    assert!((drawn.legs[0].days - 3.0).abs() < 1e-6);
    assert_eq!(params::get(&drawn, "population.walkers.family_share"), Ok(0.0));
    // Values no field allows are refused, not run.
    assert!(uncertain::with_values(&sc, &[-1.0, 1800.0]).is_err());
    assert!(uncertain::with_values(&sc, &[60.0]).is_err());
}

#[test]
fn drawing_inputs_keeps_runs_byte_identical_across_thread_counts() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let marked = write(tmp.path(), "u.toml", &marked_chain());
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    run(&marked, &one, &["--replicates", "5", "--threads", "1"]);
    run(&marked, &two, &["--replicates", "5", "--threads", "2"]);
    let mut files = vec!["inputs.csv".to_string()];
    for t in ["places_summary.csv", "outcomes_summary.csv", "events_summary.csv"] {
        files.push(t.to_string());
    }
    for k in 0..5 {
        for t in ["places.csv", "outcomes.csv", "events.csv"] {
            files.push(format!("replicate-{k}/{t}"));
        }
    }
    for f in &files {
        let a = std::fs::read(one.join(f)).unwrap_or_else(|_| panic!("{f} written"));
        assert_eq!(
            Some(a),
            std::fs::read(two.join(f)).ok(),
            "{f} differs between 1 and 2 threads"
        );
    }
    // Each replicate drew both inputs; replicate k's own summary has its
    // drawn people.
    let inputs = std::fs::read_to_string(one.join("inputs.csv")).expect("inputs.csv");
    assert!(inputs.starts_with("replicate,path,value,low,high,dist\n"));
    assert_eq!(inputs.lines().count(), 1 + 5 * 2);
    let people: Vec<u64> = inputs
        .lines()
        .filter(|l| l.contains("population.walkers.people"))
        .map(|l| l.split(',').nth(2).expect("value").parse().expect("whole"))
        .collect();
    for (k, p) in people.iter().enumerate() {
        let total: u64 = outcomes(&one.join(format!("replicate-{k}"))).iter().map(|r| r.2).sum();
        assert_eq!(total, *p, "replicate {k}");
    }
    assert!(people.iter().any(|&p| p != people[0]), "the draws differ: {people:?}");
}

#[test]
fn fixed_inputs_give_seed_only_intervals_and_no_inputs_table() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let marked = write(tmp.path(), "u.toml", &marked_chain());
    let fixed = tmp.path().join("fixed");
    let o = run(&marked, &fixed, &["--replicates", "3", "--fixed-inputs"]);
    let _ = o;
    assert!(!fixed.join("inputs.csv").exists());
    let drawn = tmp.path().join("drawn");
    let out = bin()
        .args(["run", "--replicates", "3", "--out"])
        .arg(&drawn)
        .arg(&marked)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ranges cover chance and inputs"), "{text}");
    let out = bin()
        .args(["run", "--replicates", "3", "--fixed-inputs", "--force", "--out"])
        .arg(&drawn)
        .arg(&marked)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ranges cover chance only"), "{text}");
    // With fixed inputs, every replicate has the file's 1,000 people.
    for k in 0..3 {
        let total: u64 = outcomes(&fixed.join(format!("replicate-{k}")))
            .iter()
            .map(|r| r.2)
            .sum();
        assert_eq!(total, 1000);
    }
}

#[test]
fn a_comparison_draws_the_same_inputs_for_the_base_and_its_variants() {
    let text = marked_chain()
        + "\n[[policy]]\nid = \"cp\"\nkind = \"checkpoint\"\nplace = \"b\"\n\
           interception_rate = { value = 0.2, range = [0.1, 0.3] }\nsend_to = \"a\"\n\
           \n[[variant]]\nid = \"no_cp\"\ndescription = \"without the checkpoint\"\nremove = [\"cp\"]\n";
    let sc = load(&text);
    assert!(!sc.variants.is_empty() && !sc.uncertain.is_empty());
    let v = ensemble::apply_variant(&sc, &sc.variants[0]);
    let extra = Extra::default();
    let base =
        ensemble::replicates_with(&sc, 4, Some(1), None, &|| {}, &northbound::engine::Local, &extra).expect("runs");
    let var =
        ensemble::replicates_with(&v, 4, Some(1), None, &|| {}, &northbound::engine::Local, &extra).expect("runs");
    for (b, x) in base.iter().zip(&var) {
        assert_eq!(b.inputs, x.inputs);
        assert_eq!(b.seed, x.seed);
        assert!(!b.inputs.is_empty());
    }
    assert_eq!(
        ensemble::input_design(&sc, 4, Inputs::Fixed),
        vec![Vec::<f64>::new(); 4]
    );
}

#[test]
fn the_sensitivity_table_reports_what_moves_the_headline() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = marked_chain().replace(
        "description = \"three places in a line, one claim point\"",
        "description = \"three places in a line, one claim point\"\nheadline = \"claims@c\"",
    );
    let marked = write(tmp.path(), "u.toml", &text);
    let out = tmp.path().join("sens");
    let o = bin()
        .args(["sensitivity", "--replicates", "2", "--quiet", "--out"])
        .arg(&out)
        .arg(&marked)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("sensitivity.csv")).expect("sensitivity.csv");
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    // Largest swing first: the cohort's size moves claims at c by 1,500;
    // the length of the first leg does not move them (all arrive in time).
    assert_eq!(rows[0][0], "population.walkers.people");
    assert_eq!(rows[0][10], "1500.000");
    assert_eq!(rows[1][0], "route.a-b.km");
    assert_eq!(rows[1][10], "0.000");
}

/// Where a problem is: its message and its line, from the rendered errors.
#[track_caller]
fn refused(text: &str, says: &str, line_with: &str) {
    let e = match load_bytes(text.as_bytes(), Path::new("s.toml")) {
        Ok(_) => panic!("loaded:\n{text}"),
        Err(e) => e.render(),
    };
    let line = text
        .lines()
        .position(|l| l.contains(line_with))
        .map(|i| i + 1)
        .expect("line");
    let block = e
        .split("\nerror: ")
        .find(|b| b.contains(says))
        .unwrap_or_else(|| panic!("no problem saying `{says}` in:\n{e}"));
    assert!(
        block.contains(&format!("s.toml:{line}:")),
        "expected line {line}:\n{block}"
    );
}

#[test]
fn bad_uncertain_marks_are_refused_with_their_place() {
    let chain = std::fs::read_to_string(fixture("chain.toml")).expect("fixture");
    let with = |old: &str, new: &str| chain.replace(old, new);
    refused(
        &with("km = 40", "km = { value = 40, range = [50, 80] }"),
        "40 is outside its range [50, 80]",
        "range = [50, 80]",
    );
    refused(
        &with("km = 40", "km = { value = 40, range = [80, 20] }"),
        "the range [80, 20] is empty",
        "range = [80, 20]",
    );
    refused(
        &with("km = 40", "km = { value = 40 }"),
        "needs a range",
        "km = { value = 40 }",
    );
    refused(
        &with("km = 40", "km = { value = 40, range = [20] }"),
        "expected two numbers",
        "range = [20]",
    );
    refused(
        &with("km = 40", "km = { value = 40, range = [20, 80], dist = \"normal\" }"),
        "unknown distribution \"normal\"",
        "dist = \"normal\"",
    );
    refused(
        &with("km = 40", "km = { value = 40, range = [0, 80], dist = \"loguniform\" }"),
        "a loguniform range must be above 0",
        "loguniform",
    );
    refused(
        &with("km = 40", "km = { value = 40, range = [20, 80], mean = 3 }"),
        "unknown key",
        "mean = 3",
    );
    refused(
        &with("km = 40", "km = { range = [20, 80] }"),
        "expected a number, found a table",
        "km = { range",
    );
    refused(
        &with("people = 1000", "people = { value = 1000, range = [500, 1500.5] }"),
        "expected a whole number",
        "1500.5",
    );
    refused(
        &with("seed = 7", "seed = { value = 7, range = [1, 9] }"),
        "the seed cannot be an uncertain input",
        "seed = {",
    );
    // A range end that the field does not allow, at that end.
    refused(
        &with("km = 30", "km = { value = 30, range = [-5, 60] }"),
        "at the low ends of their ranges: -5 must be greater than 0",
        "range = [-5, 60]",
    );
    refused(
        &with(
            "family_share = 0.3",
            "family_share = { value = 0.3, range = [0.1, 1.5] }",
        ),
        "at the high ends of their ranges: 1.5 is outside [0, 1]",
        "range = [0.1, 1.5]",
    );
}

#[test]
fn marks_are_refused_where_no_input_is_uncertain() {
    // A targets file's counts are observations, not inputs.
    let tmp = tempfile::tempdir().expect("temp dir");
    let targets = write(
        tmp.path(),
        "t.toml",
        "[[target]]\nid = \"x\"\nmetric = \"claimed_us\"\nvalue = { value = 3, range = [1, 4] }\nsource = \"test\"\n",
    );
    let sc = load_bytes(
        std::fs::read_to_string(fixture("chain.toml"))
            .expect("fixture")
            .as_bytes(),
        Path::new("chain.toml"),
    )
    .expect("loads");
    let e = northbound::validation::load_targets(&targets, &sc).expect_err("refused");
    assert!(
        e.render().contains("expected a number, found a table"),
        "{}",
        e.render()
    );
}

/// The tables the binary of main wrote before issue 15, as SHA-256.
fn golden() -> Vec<(String, String, String, String)> {
    std::fs::read_to_string(fixture("golden-issue14.txt"))
        .expect("golden file")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].into(), f[1].into(), f[2].into(), f[3].into())
        })
        .collect()
}

#[test]
fn a_scenario_with_no_uncertain_inputs_gives_the_tables_of_before() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let g = golden();
    assert_eq!(g.len(), 28);
    for name in ["chain", "queues", "all_levers", "roxham"] {
        let file = if name == "roxham" {
            fixture("roxham-issue14.toml")
        } else {
            fixture(&format!("{name}.toml"))
        };
        let scale: &[&str] = if name == "roxham" { &["--scale", "0.5"] } else { &[] };
        let one = tmp.path().join(format!("{name}-run"));
        let reps = tmp.path().join(format!("{name}-reps"));
        run(&file, &one, &[&["--threads", "2"], scale].concat());
        run(
            &file,
            &reps,
            &[&["--threads", "2", "--replicates", "3"], scale].concat(),
        );
        assert!(!reps.join("inputs.csv").exists());
        for (f, cmd, table, hash) in g.iter().filter(|x| x.0 == name) {
            let dir = if cmd == "run" { &one } else { &reps };
            let bytes = std::fs::read(dir.join(table)).expect("table written");
            let got: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(&got, hash, "{f} {cmd} {table} differs from the binary before issue 15");
        }
    }
}

#[test]
fn a_sweep_that_draws_inputs_writes_what_each_replicate_drew() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(dir.path(), "u.toml", &marked_chain());
    let sweep = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let o = bin()
            .arg("sweep")
            .arg(&path)
            .args([
                "--param",
                "behaviour.w_open=0.5:1.0:0.5",
                "--replicates",
                "3",
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .args(extra)
            .output()
            .expect("starts");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let drawn = sweep("drawn", &[]);
    let table = std::fs::read_to_string(drawn.join("inputs.csv")).expect("inputs.csv");
    // Three replicates × two inputs, the same rows for every point.
    assert_eq!(table.lines().count(), 1 + 3 * 2, "{table}");
    let sc = load(&marked_chain());
    for (k, row) in ensemble::input_design(&sc, 3, Inputs::Drawn).iter().enumerate() {
        assert!(
            table.contains(&format!("{k},{},{}", sc.uncertain[0].path, row[0])),
            "{table}"
        );
    }
    let fixed = sweep("fixed", &["--fixed-inputs"]);
    assert!(!fixed.join("inputs.csv").exists(), "fixed inputs draw nothing");
}
