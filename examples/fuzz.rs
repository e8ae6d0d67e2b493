//! A fuzz harness that runs on stable Rust: structure-aware mutation of a
//! seed corpus built from the shipped scenarios, the test fixtures, the
//! Flee folders beside the project and tables of real runs, fed in-process
//! to four targets, each input on a worker thread with panics caught and a
//! time limit. Any panic, hang, or failure of northbound's own (what the
//! command line would exit 1 for) stops the run with the input saved.
//!
//! ```sh
//! cargo run --release --example fuzz -- --seconds 60             # all six targets
//! cargo run --release --example fuzz -- --target report --seconds 36000 --seed 7
//! ```
//!
//! Targets: `scenario` (the scenario loader, both models' TOML), `flee`
//! (the Flee folder importer), `targets` (targets files against a scenario)
//! `report` (the table reader and page of `northbound report`), `state`
//! (the state-file reader of `run --resume`: mutated files, and mutated
//! payloads under a valid header, checked against their scenario and, when
//! accepted, stepped) and `observed` (the observed-counts reader of
//! `northbound forecast`).
//! `--simulate` also runs each scenario that loads, scaled down to at most
//! 2,000 people (conservation is checked every day). See docs/fuzzing.md.

use northbound::scenario::{self, Scenario};
use northbound::{report, results};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// splitmix64: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.5",
    "1e308",
    "-1e308",
    "1e-308",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "4294967294",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "65000",
    "65535",
    "65536",
    "255",
    "256",
    "1e15",
    "1e16",
    "0x10",
    "1_000",
    "-0",
    "3.0",
    "",
];

const STRINGS: &[&str] = &[
    "",
    "../../victim",
    "/etc/passwd",
    "/proc/self/environ",
    "a,b",
    "say \"hi\"",
    "two\nlines",
    "é",
    "\u{0}",
    "tapachula",
    "origin",
    "MX",
    "US-CA",
    "flee",
    "minor",
    "papers:x",
    "relatives:CA",
    ".",
    "..",
];

const DATES: &[&str] = &[
    "1900-01-01",
    "9999-12-31",
    "2025-02-30",
    "2024-02-29",
    "2025-01-01",
    "0000-01-01",
    "2025-13-01",
];

/// One mutation of a text, keeping most of its structure.
fn mutate_text(rng: &mut Rng, text: &str, others: &[&str]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = rng.below(lines.len());
    match rng.below(14) {
        // A number replaced by an interesting one.
        0..=2 => {
            let l = &lines[i];
            let spans = tokens(l, |c| c.is_ascii_digit() || c == '.' || c == '-' || c == 'e');
            if let Some(&(a, b)) = spans.get(rng.below(spans.len().max(1))) {
                lines[i] = format!("{}{}{}", &l[..a], rng.pick(NUMBERS), &l[b..]);
            }
        }
        // A quoted string replaced.
        3 | 4 => {
            let l = &lines[i];
            let q: Vec<usize> = l.match_indices('"').map(|(k, _)| k).collect();
            if q.len() >= 2 {
                let k = rng.below(q.len() / 2) * 2;
                let s = rng.pick(STRINGS).replace('"', "\\\"").replace('\n', "\\n");
                lines[i] = format!("{}\"{}\"{}", &l[..q[k]], s, &l[q[k + 1] + 1..]);
            } else {
                lines[i] = format!("{l}{}", rng.pick(STRINGS));
            }
        }
        // A CSV cell replaced.
        5 => {
            let mut cells: Vec<String> = lines[i].split(',').map(String::from).collect();
            let c = rng.below(cells.len());
            cells[c] = if rng.below(2) == 0 {
                rng.pick(NUMBERS).to_string()
            } else {
                rng.pick(STRINGS).to_string()
            };
            lines[i] = cells.join(",");
        }
        6 => {
            lines.remove(i);
        }
        7 => {
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        8 => {
            let j = rng.below(lines.len());
            lines.swap(i, j);
        }
        // A block (a table and what follows it) duplicated.
        9 => {
            let end = (i + 1 + rng.below(12)).min(lines.len());
            let block: Vec<String> = lines[i..end].to_vec();
            let at = rng.below(lines.len() + 1);
            for (k, l) in block.into_iter().enumerate() {
                lines.insert(at + k, l);
            }
        }
        // A date replaced.
        10 => {
            let l = &lines[i];
            if let Some(k) = l.find(|c: char| c.is_ascii_digit()).filter(|&k| l.len() >= k + 10) {
                if l.is_char_boundary(k + 10) && l[k..k + 10].chars().filter(|c| *c == '-').count() == 2 {
                    lines[i] = format!("{}{}{}", &l[..k], rng.pick(DATES), &l[k + 10..]);
                }
            }
        }
        // A line from another seed.
        11 => {
            let o = rng.pick(others);
            let ol: Vec<&str> = o.lines().collect();
            if !ol.is_empty() {
                lines[i] = ol[rng.below(ol.len())].to_string();
            }
        }
        // Truncated.
        12 => {
            let keep = rng.below(lines.len() + 1);
            lines.truncate(keep);
        }
        // A byte changed.
        _ => {
            let mut b = lines[i].clone().into_bytes();
            let k = rng.below(b.len() + 1);
            let byte = *rng.pick(b"=[]{},\"'#\n\\0\xff");
            b.insert(k, byte);
            lines[i] = String::from_utf8_lossy(&b).into_owned();
        }
    }
    let mut out = lines.join("\n");
    if rng.below(4) != 0 {
        out.push('\n');
    }
    out
}

/// Byte ranges of runs of characters that `f` accepts.
fn tokens(s: &str, f: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (k, c) in s.char_indices() {
        match (f(c), start) {
            (true, None) => start = Some(k),
            (false, Some(a)) => {
                out.push((a, k));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        out.push((a, s.len()));
    }
    out
}

/// What a target did with an input.
enum Verdict {
    /// Accepted (exit 0) or refused as bad input (exit 2).
    Fine,
    /// A failure of northbound's own (exit 1).
    Failure(String),
}

/// A folder of files as (relative path, text).
type Files = BTreeMap<String, String>;

struct Corpus {
    scenarios: Vec<String>,
    flee: Vec<Files>,
    targets: Vec<String>,
    tables: Vec<Files>,
    /// State files (whole, header and payload).
    states: Vec<Vec<u8>>,
    /// Observed counts files.
    counts: Vec<String>,
}

/// State files of the chain fixture and of a fixture with queues, saved
/// after a few days.
fn state_files() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (name, days) in [("chain.toml", 3u32), ("chain.toml", 12), ("queues.toml", 6)] {
        let path = root().join("tests/fixtures").join(name);
        let text = std::fs::read(&path).expect("fixture");
        let sc = scenario::load_bytes(&text, &path).expect("fixture loads");
        let mut engine = northbound::engine::Engine::new(&sc, sc.seed);
        let mut kept = results::KeptRun::default();
        results::continue_run(&mut engine, &mut kept, Some(days.min(sc.calendar.days - 1)), 2, &mut []).expect("runs");
        let saved = northbound::state::Saved {
            northbound: env!("CARGO_PKG_VERSION").into(),
            scenario: northbound::state::SavedScenario {
                path: path.display().to_string(),
                sha256: sc.about.sha256.clone(),
                text,
                scale: None,
            },
            engine: engine.state(),
            history: northbound::state::History::of(&kept, false),
        };
        out.push(northbound::state::encode(&saved).expect("encodes"));
    }
    out
}

/// Byte-level mutations: flips, boundary values, cuts, copies and splices.
fn mutate_bytes(rng: &mut Rng, b: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut v = b.to_vec();
    if v.is_empty() {
        v.push(0);
    }
    let i = rng.below(v.len());
    match rng.below(7) {
        0 => v[i] ^= 1 << rng.below(8),
        1 => v[i] = *rng.pick(&[0u8, 1, 0x7f, 0x80, 0xff]),
        2 => v.truncate(i),
        3 => {
            let n = 1 + rng.below(16.min(v.len() - i));
            let chunk = v[i..i + n].to_vec();
            let at = rng.below(v.len());
            v.splice(at..at, chunk);
        }
        4 => {
            let n = 1 + rng.below(8.min(v.len() - i));
            v.drain(i..i + n);
        }
        5 => {
            // Varints: a long run of continuation bytes, or a huge length.
            let at = rng.below(v.len());
            v.splice(at..at, [0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        }
        _ => {
            let o = rng.pick(others);
            if !o.is_empty() {
                let j = rng.below(o.len());
                let n = 1 + rng.below(64.min(o.len() - j));
                let at = rng.below(v.len());
                v.splice(at..at, o[j..j + n].iter().copied());
            }
        }
    }
    v
}

fn state_target(bytes: &[u8]) -> Verdict {
    let path = Path::new("fuzz.state");
    let Ok(saved) = northbound::state::decode(bytes, path) else {
        return Verdict::Fine;
    };
    // What `run --resume` does next: load the saved scenario, check the
    // state and the tables' history against it, and continue.
    let Ok(sc) = scenario::load_bytes(&saved.scenario.text, Path::new("saved.toml")) else {
        return Verdict::Fine;
    };
    if northbound::state::check(&saved.engine, &sc).is_err()
        || northbound::state::check_history(&saved.history, &sc, saved.engine.day).is_err()
    {
        return Verdict::Fine;
    }
    let day = saved.engine.day;
    let mut engine = northbound::engine::Engine::from_state(&sc, saved.engine, false);
    let mut kept = saved.history.into_kept();
    match results::continue_run(&mut engine, &mut kept, Some(day + 5), 0, &mut []) {
        Ok(()) => Verdict::Fine,
        Err(e) => Verdict::Failure(format!("a state the checks accepted failed to continue: {e}")),
    }
}

fn observed_target(bytes: &[u8], sc: &Scenario) -> Verdict {
    match northbound::forecast::observed::load_bytes(bytes, Path::new("counts.csv"), sc) {
        Ok(o) => {
            let _ = northbound::forecast::used(&o, sc.calendar.days / 2, 56);
            Verdict::Fine
        }
        Err(e) => {
            let _ = e.render();
            Verdict::Fine
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_folder(dir: &Path, rel: &str, out: &mut Files) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if e.path().is_dir() {
            read_folder(&e.path(), &r, out);
        } else if let Ok(t) = std::fs::read_to_string(e.path()) {
            if name != "report.html" && !name.starts_with('.') {
                out.insert(r, t);
            }
        }
    }
}

fn write_folder(dir: &Path, files: &Files) {
    for (rel, text) in files {
        let p = dir.join(rel);
        if let Some(d) = p.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        let _ = std::fs::write(p, text);
    }
}

fn toml_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v.into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

/// The folders of a run, of replicates, of a comparison and of a sweep —
/// tables, GeoJSON, `summary.md`, `datapackage.json` — written by the
/// library's own writers (`results`) into `tmp`.
fn run_tables(tmp: &Path) -> Vec<Files> {
    use northbound::{ensemble, publish};
    let load = |name: &str| {
        let text = std::fs::read(root().join("tests/fixtures").join(name)).expect("fixture");
        scenario::load_bytes(&text, Path::new(name)).expect("fixture loads")
    };
    let sc = load("all_levers.toml");
    let p = results::Publish::default();
    let reps = ensemble::replicates(&sc, 2, Some(1), None, &|| {}).expect("runs");
    let folder = |name: &str, write: &dyn Fn(&mut northbound::output::OutDir)| {
        let dir = tmp.join(name);
        let mut o = northbound::output::OutDir::create(&dir).expect("out");
        write(&mut o);
        o.commit().expect("commit");
        let mut f = Files::new();
        read_folder(&dir, "", &mut f);
        f
    };
    let mut out = Vec::new();
    out.push(folder("run", &|o| {
        northbound::output::write_places(o, &sc, &reps[0].daily).expect("places");
        northbound::output::write_outcomes(o, &sc, &reps[0].result).expect("outcomes");
        northbound::output::write_events(o, &sc, &reps[0].result).expect("events");
        northbound::output::write_routes(o, &sc, &reps[0].legs).expect("routes");
        northbound::output::write_summary(o, &sc, &reps[0].result, 1, 0.0).expect("summary");
        results::finish_run(o, &sc, &reps[0], &p).expect("published");
    }));
    out.push(folder("replicates", &|o| {
        results::write_replicates(o, &sc, &reps, &p).expect("replicates")
    }));
    out.push(folder("compare", &|o| {
        let rows = ensemble::compare_rows(&sc, &reps, &[("same".into(), reps.clone())]);
        let runs = [publish::VariantRuns {
            id: "same",
            scenario: &sc,
            reps: &reps,
        }];
        let c = results::Compared {
            base: &reps,
            variants: &runs,
            rows: &rows,
            window: Some((1, sc.calendar.days.saturating_sub(2))),
        };
        results::write_comparison(o, &sc, &c, &p).expect("comparison");
    }));
    out.push(folder("sweep", &|o| {
        // A grid study, as `northbound sweep` runs it.
        use northbound::study::folder::{Model, Request, Study};
        let params = ["behaviour.w_dist=0.5:1:0.5".to_string()];
        let req = Request {
            design: "grid",
            params: &params,
            design_file: None,
            metrics: &[],
            replicates: 2,
            threads: Some(1),
            inputs: ensemble::Inputs::Drawn,
            scale: None,
        };
        let study = Study::plan(Model::Default(&sc), &req).expect("study");
        let quiet = northbound::study::Progress {
            start: &|_, _| {},
            point: &|| {},
        };
        let rows = study.rows(&quiet).expect("sweep");
        study.write(o, &rows, &p).expect("sweep");
    }));
    out
}

fn corpus(tmp: &Path) -> Corpus {
    let mut scenarios = toml_files(&root().join("scenarios"));
    scenarios.extend(toml_files(&root().join("tests/fixtures")));
    let mut flee = Vec::new();
    for name in ["mali2012", "burundi"] {
        let mut f = Files::new();
        read_folder(&root().join("../shared/peers/flee").join(name), "", &mut f);
        // Flee's large data files make each input slow: keep the folder's
        // structure, not every observation.
        for v in f.values_mut() {
            if v.len() > 20_000 {
                let cut = v.char_indices().nth(20_000).map(|(k, _)| k).unwrap_or(v.len());
                let end = v[..cut].rfind('\n').unwrap_or(cut);
                v.truncate(end + 1);
            }
        }
        if !f.is_empty() {
            flee.push(f);
        }
    }
    let mut tiny = Files::new();
    tiny.insert(
        "input_csv/sim_period.csv".into(),
        "StartDate,2020-01-01\nLength,10\n".into(),
    );
    tiny.insert(
        "input_csv/locations.csv".into(),
        "#name,region,country,lat,lon,location_type,conflict_date,pop\n\"War Town\",r,A,0,0,conflict_zone,0,100\nCamp,r,B,1,1,camp,,50\nHub,r,A,0,1,town,,5\n".into(),
    );
    tiny.insert(
        "input_csv/routes.csv".into(),
        "#name1,name2,distance\n\"War Town\",Hub,10\nHub,Camp,20,1\n".into(),
    );
    tiny.insert(
        "input_csv/closures.csv".into(),
        "#closure_type,name1,name2,closure_start,closure_end\nlink,Hub,Camp,2,5\n".into(),
    );
    tiny.insert(
        "simsetting.yml".into(),
        "spawn_rules:\n  conflict_driven_spawning:\n    spawn_mode: constant\n    displaced_per_conflict_day: 10\n"
            .into(),
    );
    flee.push(tiny);
    let targets = toml_files(&root().join("validation"))
        .into_iter()
        .filter(|t| t.contains("[[target]]"))
        .collect();
    let mut counts: Vec<String> = ["data/roxham_observed_2017_2020.csv", "data/lacolle_claims_2025.csv"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(root().join(f)).ok())
        .collect();
    counts.push(
        "date,place,metric,value\n2018-W05,roxham_road,arrived,120\n2018-02-03,lacolle,claims,4\n\
         2018-03-01/2018-03-31,roxham_road+emerson,present,55.5\n\"2018-04\",\"roxham_road\",arrived,1\n"
            .into(),
    );
    Corpus {
        scenarios,
        flee,
        targets,
        tables: run_tables(tmp),
        states: state_files(),
        counts,
    }
}

fn scenario_target(bytes: &[u8], simulate: bool) -> Verdict {
    if northbound::flee::is_flee_text(bytes) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Verdict::Fine;
        };
        return match northbound::flee::scenario::load_str(text, Path::new("fuzz.toml")) {
            Ok(sc) if simulate && sc.days <= 400 => flee_simulate(&sc),
            _ => Verdict::Fine,
        };
    }
    match scenario::load_bytes(bytes, Path::new("fuzz.toml")) {
        Ok(sc) => {
            let _ = sc.scaled(1e9);
            if simulate {
                simulate_small(&sc)
            } else {
                Verdict::Fine
            }
        }
        Err(e) => {
            let _ = e.render();
            Verdict::Fine
        }
    }
}

fn simulate_small(sc: &Scenario) -> Verdict {
    let people = northbound::limits::people(sc) as f64;
    if sc.calendar.days > 3000 || people <= 0.0 {
        return Verdict::Fine;
    }
    let small = if people > 2000.0 {
        sc.scaled(2000.0 / people)
    } else {
        sc.clone()
    };
    let cfg = northbound::engine::RunConfig {
        seed: None,
        threads: Some(1),
        by_cohort: false,
    };
    match northbound::engine::run(&small, &cfg, &mut []) {
        Ok(_) => Verdict::Fine,
        Err(e) => Verdict::Failure(format!("the engine failed: {e}")),
    }
}

fn flee_simulate(sc: &northbound::flee::FleeScenario) -> Verdict {
    if sc.max_agents() > 200_000 {
        return Verdict::Fine;
    }
    match northbound::flee::sim::run(sc, 1, &mut |_| {}) {
        Ok(_) => Verdict::Fine,
        Err(e) => Verdict::Failure(format!("the flee model failed: {e}")),
    }
}

fn flee_target(dir: &Path, simulate: bool) -> Verdict {
    match northbound::flee::import::import(dir) {
        Ok(sc) => {
            let _ = northbound::flee::scenario::to_toml(&sc, "fuzz");
            if simulate && sc.days <= 400 {
                flee_simulate(&sc)
            } else {
                Verdict::Fine
            }
        }
        Err(e) => {
            let _ = e.render();
            Verdict::Fine
        }
    }
}

fn targets_target(path: &Path, sc: &Scenario) -> Verdict {
    match northbound::validation::load_targets(path, sc) {
        Ok(_) => Verdict::Fine,
        Err(e) => {
            let _ = e.render();
            Verdict::Fine
        }
    }
}

fn report_target(dir: &Path) -> Verdict {
    match report::html(dir) {
        Ok(_) => Verdict::Fine,
        Err(e) if e.is_bad_input() => Verdict::Fine,
        Err(e) => Verdict::Failure(format!("report failed: {e}")),
    }
}

/// Runs `work` on a worker thread; a panic or a failure is reported, a hang
/// past `limit` too (the process then exits, since a thread cannot be
/// stopped).
fn guarded(limit: Duration, work: impl FnOnce() -> Verdict + Send + 'static) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = tx.send(r);
        })
        .map_err(|e| e.to_string())?;
    match rx.recv_timeout(limit) {
        Ok(Ok(Verdict::Fine)) => Ok(()),
        Ok(Ok(Verdict::Failure(m))) => Err(m),
        Ok(Err(p)) => Err(format!(
            "panic: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        Err(_) => Err(format!("hang: no answer within {limit:?}")),
    }
}

struct Args {
    targets: Vec<String>,
    seconds: f64,
    seed: u64,
    timeout: f64,
    simulate: bool,
    save: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        targets: ["scenario", "flee", "targets", "report", "state", "observed"]
            .map(String::from)
            .to_vec(),
        seconds: 60.0,
        seed: 1,
        timeout: 20.0,
        simulate: false,
        save: root().join("target/fuzz-failures"),
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        let val = v.get(i + 1).cloned().unwrap_or_default();
        match v[i].as_str() {
            "--target" if val != "all" => a.targets = val.split(',').map(String::from).collect(),
            "--target" => {}
            "--seconds" => a.seconds = val.parse().unwrap_or(a.seconds),
            "--seed" => a.seed = val.parse().unwrap_or(a.seed),
            "--timeout" => a.timeout = val.parse().unwrap_or(a.timeout),
            "--save" => a.save = PathBuf::from(val),
            "--simulate" => {
                a.simulate = true;
                i += 1;
                continue;
            }
            other => {
                eprintln!(
                    "unknown argument {other}; usage: fuzz [--target scenario,flee,targets,report,state,observed|all] \
                     [--seconds S (all targets together)] [--seed N] [--timeout S] [--simulate] [--save DIR]"
                );
                std::process::exit(2);
            }
        }
        i += 2;
    }
    a
}

/// A failing state file is saved as hex (the harness saves text files):
/// `xxd -r -p input.state.hex > input.state` turns it back.
fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len() + b.len() / 32);
    for (i, x) in b.iter().enumerate() {
        s += &format!("{x:02x}");
        if i % 32 == 31 {
            s.push('\n');
        }
    }
    s
}

fn main() {
    let a = args();
    let tmp = tempfile::tempdir().expect("temp dir");
    let c = corpus(tmp.path());
    let roxham = {
        let text = std::fs::read(root().join("scenarios/roxham-2017-2020.toml")).expect("scenario");
        std::sync::Arc::new(scenario::load_bytes(&text, Path::new("roxham.toml")).expect("loads"))
    };
    let per = a.seconds / a.targets.len().max(1) as f64;
    let limit = Duration::from_secs_f64(a.timeout);
    let mut rng = Rng(a.seed);
    let mut failed = 0;
    let mut passed = 0;
    for target in &a.targets {
        let t0 = Instant::now();
        let mut n = 0u64;
        let mut failure: Option<(String, Files)> = None;
        while t0.elapsed().as_secs_f64() < per && failure.is_none() {
            n += 1;
            let rounds = 1 + rng.below(4);
            let case = tmp.path().join(format!("case-{n}"));
            let _ = std::fs::remove_dir_all(&case);
            let _ = std::fs::create_dir_all(&case);
            let (files, outcome) = match target.as_str() {
                "state" => {
                    let seed = rng.pick(&c.states).clone();
                    // Half the time the payload is changed under a valid
                    // header, to reach the decoder and the checks.
                    let whole = rng.below(2) == 0;
                    let header = seed.len().min(61);
                    let mut body = if whole { seed.clone() } else { seed[header..].to_vec() };
                    for _ in 0..rounds {
                        body = mutate_bytes(&mut rng, &body, &c.states);
                    }
                    let bytes = if whole { body } else { northbound::state::frame(&body) };
                    let files = Files::from([("input.state.hex".to_string(), hex(&bytes))]);
                    (files, guarded(limit, move || state_target(&bytes)))
                }
                "observed" => {
                    let seeds: Vec<&str> = c.counts.iter().map(String::as_str).collect();
                    let mut text = rng.pick(&seeds).to_string();
                    for _ in 0..rounds {
                        text = mutate_text(&mut rng, &text, &seeds);
                    }
                    let files = Files::from([("counts.csv".to_string(), text.clone())]);
                    let sc = roxham.clone();
                    (files, guarded(limit, move || observed_target(text.as_bytes(), &sc)))
                }
                "scenario" | "targets" => {
                    let seeds: Vec<&str> = if target == "scenario" {
                        c.scenarios.iter().map(String::as_str).collect()
                    } else {
                        c.targets.iter().map(String::as_str).collect()
                    };
                    let mut text = rng.pick(&seeds).to_string();
                    for _ in 0..rounds {
                        text = mutate_text(&mut rng, &text, &seeds);
                    }
                    let files = Files::from([("input.toml".to_string(), text.clone())]);
                    let outcome = if target == "scenario" {
                        let simulate = a.simulate;
                        guarded(limit, move || scenario_target(text.as_bytes(), simulate))
                    } else {
                        let p = case.join("input.toml");
                        let _ = std::fs::write(&p, &text);
                        let sc = roxham.clone();
                        guarded(limit, move || targets_target(&p, &sc))
                    };
                    (files, outcome)
                }
                "flee" | "report" => {
                    let seeds = if target == "flee" { &c.flee } else { &c.tables };
                    let mut files = rng.pick(seeds).clone();
                    let keys: Vec<String> = files.keys().cloned().collect();
                    for _ in 0..rounds {
                        let k = rng.pick(&keys).clone();
                        let others: Vec<&str> = files.values().map(String::as_str).collect();
                        let m = mutate_text(&mut rng, &files[&k], &others);
                        files.insert(k, m);
                    }
                    write_folder(&case, &files);
                    let dir = case.clone();
                    let outcome = if target == "flee" {
                        let simulate = a.simulate;
                        guarded(limit, move || flee_target(&dir, simulate))
                    } else {
                        guarded(limit, move || report_target(&dir))
                    };
                    (files, outcome)
                }
                other => {
                    eprintln!("unknown target {other}: scenario, flee, targets, report, state or observed");
                    std::process::exit(2);
                }
            };
            let _ = std::fs::remove_dir_all(&case);
            if let Err(why) = outcome {
                failure = Some((why, files));
            }
        }
        match failure {
            None => {
                passed += 1;
                println!(
                    "ok   {target}: {n} inputs in {:.0} s, no panic, hang or failure",
                    t0.elapsed().as_secs_f64()
                );
            }
            Some((why, files)) => {
                failed += 1;
                let dir = a.save.join(format!("{target}-seed{}-input{n}", a.seed));
                let _ = std::fs::create_dir_all(&dir);
                write_folder(&dir, &files);
                println!("FAIL {target}: {why}\n     input {n} saved in {}", dir.display());
                if why.starts_with("hang") {
                    println!("fuzz: {passed} passed, {failed} failed");
                    std::process::exit(1);
                }
            }
        }
    }
    println!("fuzz: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
