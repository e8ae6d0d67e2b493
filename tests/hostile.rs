//! A scenario never chooses where northbound writes or which file outside
//! its folder it reads, and bad input is reported whole, once, in linear
//! time.

mod common;
use common::*;
use northbound::scenario::load_bytes;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn peer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/peers/flee")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("readable").flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).expect("copy");
        }
    }
}

#[test]
fn a_flee_scenario_name_that_is_a_path_is_refused_at_load_with_its_place() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flee-mali2012.toml"))
        .expect("scenario");
    std::fs::create_dir(tmp.path().join("victim")).expect("mkdir");
    std::fs::write(tmp.path().join("victim/precious.txt"), "mine").expect("write");
    for name in ["../../victim", "/tmp/victim", "..", "a b", ""] {
        let hostile = text.replacen("name = \"mali2012\"", &format!("name = \"{name}\""), 1);
        assert_ne!(hostile, text, "the shipped scenario's name line");
        let p = write(tmp.path(), "hostile.toml", &hostile);
        for cmd in ["check", "run"] {
            let o = bin().current_dir(tmp.path()).arg(cmd).arg(&p).output().expect("runs");
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} with name {name:?}: {err}");
            assert!(err.contains("scenario.name") && err.contains("hostile.toml:"), "{err}");
        }
    }
    assert!(tmp.path().join("victim/precious.txt").is_file());
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn data_layout_paths_stay_inside_source_data_and_errors_never_quote_outside_files() {
    if !peer("mali2012").is_dir() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let secret = tmp.path().join("secret.csv");
    std::fs::write(&secret, "NB_SECRET_TOKEN=hunter2,1\n").expect("write");
    let dir = tmp.path().join("mali");
    copy_dir(&peer("mali2012"), &dir);
    let layout = dir.join("source_data/data_layout.csv");
    let original = std::fs::read_to_string(&layout).expect("layout");
    std::os::unix::fs::symlink(&secret, dir.join("source_data/link.csv")).expect("symlink");
    for bad in [
        "../../secret.csv",
        secret.to_str().expect("utf-8"),
        "/proc/self/environ",
        "link.csv",
    ] {
        let mut lines: Vec<String> = original.lines().map(String::from).collect();
        let first: Vec<&str> = lines[0].split(',').collect();
        lines[0] = format!("{},{bad}", first[0]);
        std::fs::write(&layout, lines.join("\n") + "\n").expect("write");
        let o = bin()
            .arg("check")
            .arg(&dir)
            .env("NB_SECRET_ENV", "hunter3")
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("data_layout.csv:1:"), "{bad}: located: {err}");
        assert!(
            !err.contains("hunter2") && !err.contains("hunter3"),
            "{bad}: leaked: {err}"
        );
    }
}

#[test]
fn a_flee_folder_with_errors_in_four_files_reports_them_all_at_once() {
    if !peer("mali2012").is_dir() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("mali");
    copy_dir(&peer("mali2012"), &dir);
    let spoil = |rel: &str, from: &str, to: &str| {
        let p = dir.join(rel);
        let t = std::fs::read_to_string(&p).expect("file");
        let n = t.replacen(from, to, 1);
        assert_ne!(t, n, "{rel}: `{from}` not found");
        std::fs::write(p, n).expect("write");
    };
    let loc = std::fs::read_to_string(dir.join("input_csv/locations.csv")).expect("locations");
    let row = loc
        .lines()
        .find(|l| !l.trim_start_matches('"').starts_with('#'))
        .expect("a location")
        .to_string();
    let cells: Vec<&str> = row.split(',').collect();
    spoil("input_csv/locations.csv", &row, &row.replacen(cells[3], "north", 1));
    let routes = std::fs::read_to_string(dir.join("input_csv/routes.csv")).expect("routes");
    let r = routes
        .lines()
        .find(|l| !l.starts_with('#'))
        .expect("a route")
        .to_string();
    let rc: Vec<&str> = r.split(',').collect();
    spoil("input_csv/routes.csv", &r, &r.replacen(rc[2], "far", 1));
    spoil("input_csv/sim_period.csv", "Length,", "Length,x");
    let conf = std::fs::read_to_string(dir.join("input_csv/conflicts.csv")).expect("conflicts");
    let line = conf.lines().nth(1).expect("a day").to_string();
    spoil("input_csv/conflicts.csv", &line, &line.replacen(",", ",7,", 1));
    let o = bin().arg("check").arg(&dir).output().expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    for f in ["locations.csv:", "routes.csv:", "sim_period.csv:", "conflicts.csv:"] {
        assert!(err.contains(f), "{f} missing from:\n{err}");
    }
}

#[test]
fn a_variant_policy_with_an_unknown_id_is_an_error_naming_the_closest_unless_it_says_add() {
    let base =
        format!("{BASE}\n[[policy]]\nid = \"shut_port\"\nkind = \"closure\"\nplaces = [\"port\"]\nfrom = 2025-01-20\n");
    let variant = |id: &str, add: &str| {
        format!("{base}\n[[variant]]\nid = \"v\"\n\n[[variant.policy]]\nid = \"{id}\"\n{add}kind = \"closure\"\nplaces = [\"port\"]\n")
    };
    let e = match load_bytes(variant("shut_prot", "").as_bytes(), Path::new("s.toml")) {
        Ok(_) => panic!("a typo in the replaced id must not load"),
        Err(e) => e.render(),
    };
    assert!(
        e.contains("no policy `shut_prot` to replace") && e.contains("did you mean \"shut_port\"?"),
        "{e}"
    );
    assert!(e.contains("add = true"), "{e}");
    let sc = load_bytes(variant("shut_more", "add = true\n").as_bytes(), Path::new("s.toml"))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let v = northbound::ensemble::apply_variant(&sc, &sc.variants[0]);
    assert_eq!(v.policies.len(), 2);
    let sc = load_bytes(variant("shut_port", "").as_bytes(), Path::new("s.toml")).expect("replaces");
    assert_eq!(
        northbound::ensemble::apply_variant(&sc, &sc.variants[0]).policies.len(),
        1
    );
    let e = load_bytes(variant("shut_port", "add = true\n").as_bytes(), Path::new("s.toml"))
        .expect_err("add on an existing id")
        .render();
    assert!(
        e.contains("add = true, but the base scenario has a policy `shut_port`"),
        "{e}"
    );
}

#[test]
fn one_bad_end_date_is_reported_once() {
    let text = format!(
        "{}\n[[policy]]\nid = \"shut_port\"\nkind = \"closure\"\nplaces = [\"port\"]\nfrom = 2025-01-20\n\n\
         [[variant]]\nid = \"open\"\nremove = [\"shut_port\"]\n\n[[variant]]\nid = \"later\"\n\n\
         [[variant.policy]]\nid = \"shut_port\"\nkind = \"closure\"\nplaces = [\"port\"]\nfrom = 2025-01-25\n",
        BASE.replace("end = 2025-01-31", "end = 2024-12-31")
    );
    let e = load_bytes(text.as_bytes(), Path::new("s.toml")).expect_err("refused");
    assert_eq!(e.problems().len(), 1, "{}", e.render());
    assert!(
        e.render().contains("end (2024-12-31) is before start"),
        "{}",
        e.render()
    );
}

#[test]
fn a_ninth_documents_policy_and_overflowing_policy_classes_are_located_errors() {
    let mut docs = BASE.to_string();
    for i in 0..9 {
        docs += &format!("\n[[policy]]\nid = \"papers_{i}\"\nkind = \"documents\"\nplace = \"home\"\nwait_days = 1\n");
    }
    let e = load_bytes(docs.as_bytes(), Path::new("s.toml"))
        .expect_err("refused")
        .render();
    assert!(
        e.contains("policy[papers_8]") && e.contains("9 policies that give papers: at most 8"),
        "{e}"
    );
    let mut classes = BASE.to_string();
    // 16 trait bits (minor, family, relatives ×3, visa ×3, papers ×8) and
    // one named nationality: 2 × 65,536 classes.
    for i in 0..8 {
        classes +=
            &format!("\n[[policy]]\nid = \"papers_{i}\"\nkind = \"documents\"\nplace = \"home\"\nwait_days = 1\n");
    }
    let exempt: Vec<String> = [
        "minor",
        "family",
        "relatives:MX",
        "relatives:US",
        "relatives:CA",
        "visa:MX",
        "visa:US",
        "visa:CA",
    ]
    .iter()
    .map(|s| format!("\"{s}\""))
    .chain((0..8).map(|i| format!("\"papers:papers_{i}\"")))
    .collect();
    classes += &format!(
        "\n[[policy]]\nid = \"all_traits\"\nkind = \"closure\"\nplaces = [\"port\"]\nnationalities = [\"HN\"]\nexempt = [{}]\n",
        exempt.join(", ")
    );
    let e = load_bytes(classes.as_bytes(), Path::new("s.toml"))
        .expect_err("refused")
        .render();
    assert!(e.contains("131072 classes") && e.contains("s.toml:"), "{e}");
}

#[test]
fn reporting_a_hundred_thousand_problems_takes_linear_time() {
    // 24 s for 20,000 bad places and no end for 300,000 before; the bound
    // is loose on purpose (a quadratic reader would need hours here).
    let mut text = BASE.to_string();
    for i in 0..100_000 {
        text += &format!(
            "\n[[place]]\nid = \"bad{i}\"\ncountry = \"MX\"\nkind = \"town\"\nlat = 999\nlon = -90\n\n\
             [[route]]\nfrom = \"bad{i}\"\nto = \"nowhere{i}\"\nkm = 5\n"
        );
    }
    let t0 = Instant::now();
    let e = load_bytes(text.as_bytes(), Path::new("s.toml")).expect_err("refused");
    let rendered = e.render();
    // Two per bad place, and one for more places than the engine holds.
    assert_eq!(e.problems().len(), 200_001);
    assert!(rendered.contains(&format!("s.toml:{}:", text.lines().count() - 1)));
    assert!(t0.elapsed() < Duration::from_secs(300), "took {:?}", t0.elapsed());
}

#[test]
fn a_flee_camp_name_with_a_comma_keeps_out_csv_well_formed() {
    let s = northbound::flee::data::Scored {
        camps: vec!["Camp, North".into(), "Say \"Mbera\"".into()],
        sim: vec![vec![1.0, 2.0]; 3],
        data: vec![vec![1.5, 2.5]; 3],
    };
    let mut bytes = Vec::new();
    let start = chrono::NaiveDate::from_ymd_opt(2012, 2, 29).expect("a date");
    northbound::flee::data::write_out_csv(&mut bytes, &s, start, &[(0, 3.0)], 1.0, &[3, 3, 3], &[0, 0, 0])
        .expect("written");
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let h = r.headers().expect("a header").clone();
    assert_eq!(&h[2], "Camp, North sim");
    assert_eq!(&h[5], "Say \"Mbera\" sim");
    for rec in r.records() {
        assert_eq!(rec.expect("a row").len(), h.len());
    }
}
