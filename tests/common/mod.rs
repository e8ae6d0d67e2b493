//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `northbound` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_northbound"))
}

/// A fixture's path.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A shipped scenario's path.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Runs `northbound run` on `scenario` into `out` with extra arguments.
pub fn run(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    let o = bin()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("the binary starts");
    assert!(
        o.status.success(),
        "northbound run {} failed: {}",
        scenario.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Writes `text` to a scenario file in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("temp file is writable");
    p
}

/// One row of places.csv.
#[derive(Debug, Clone)]
pub struct Row {
    pub day: u32,
    pub place: String,
    pub present: u64,
    pub arrived: u64,
    pub departed: u64,
    pub claims: u64,
    pub turned_back: u64,
    pub intercepted: u64,
}

/// Reads places.csv.
pub fn places(out: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(out.join("places.csv")).expect("places.csv exists");
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let n = |i: usize| f[i].parse::<u64>().expect("a count");
            Row {
                day: f[0].parse().expect("a day"),
                place: f[2].to_string(),
                present: n(3),
                arrived: n(4),
                departed: n(5),
                claims: n(6),
                turned_back: n(7),
                intercepted: n(9),
            }
        })
        .collect()
}

/// Reads outcomes.csv as (cohort, outcome, people).
pub fn outcomes(out: &Path) -> Vec<(String, String, u64)> {
    let text = std::fs::read_to_string(out.join("outcomes.csv")).expect("outcomes.csv exists");
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[2].to_string(), f[3].parse().expect("a count"))
        })
        .collect()
}

/// A small valid scenario that tests change one thing in.
pub const BASE: &str = r#"[scenario]
name = "base"
start = 2025-01-01
end = 2025-01-31
seed = 3

[[place]]
id = "home"
country = "HN"
kind = "city"
lat = 15.5
lon = -88.0

[[place]]
id = "port"
country = "US"
kind = "crossing"
lat = 27.5
lon = -99.5

[[route]]
from = "home"
to = "port"
km = 100
mode = "walk"

[[population]]
id = "people"
origin = "home"
nationality = "HN"
people = 100
destinations = { US = 1 }
depart = 2025-01-02
"#;
