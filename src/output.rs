//! Run outputs: the tables, the summary and the trace, written so that a
//! crash never leaves a half table that looks whole.
//!
//! Owns file formats and the output folder. Every file is written under a
//! temporary name inside a temporary folder; the folder replaces the old
//! output only when every file is complete. Must not simulate.

use crate::agents::{Agents, Event, State, N_EVENTS, N_STATES};
use crate::engine::{Col, DayView, Recorder, RunResult, N_COLS};
use crate::scenario::{Scenario, NONE};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The reason.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An output folder being written: files go to a temporary sibling folder,
/// which replaces `dest` in [`OutDir::commit`].
pub struct OutDir {
    dest: PathBuf,
    tmp: PathBuf,
    hashes: BTreeMap<String, String>,
}

impl OutDir {
    /// Starts writing the output for `dest`.
    pub fn create(dest: &Path) -> Result<OutDir, OutputError> {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io_err(parent))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
        }
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        Ok(OutDir {
            dest: dest.to_path_buf(),
            tmp,
            hashes: BTreeMap::new(),
        })
    }

    /// A new file in the folder, under a temporary name until finished.
    pub fn file(&self, name: &str) -> Result<TableFile, OutputError> {
        let path = self.tmp.join(format!("{name}.tmp"));
        let f = File::create(&path).map_err(io_err(&path))?;
        Ok(TableFile {
            name: name.to_string(),
            path,
            w: BufWriter::with_capacity(1 << 20, f),
            hash: Sha256::new(),
        })
    }

    /// Finishes a file: flushes it, records its SHA-256 and gives it its name.
    pub fn finish(&mut self, mut f: TableFile) -> Result<(), OutputError> {
        f.w.flush().map_err(io_err(&f.path))?;
        let final_path = self.tmp.join(&f.name);
        fs::rename(&f.path, &final_path).map_err(io_err(&final_path))?;
        self.hashes.insert(f.name.clone(), hex(&f.hash.finalize()));
        Ok(())
    }

    /// SHA-256 of each finished file.
    pub fn hashes(&self) -> &BTreeMap<String, String> {
        &self.hashes
    }

    /// Replaces the destination with the finished folder.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        if self.dest.exists() {
            let meta = fs::symlink_metadata(&self.dest).map_err(io_err(&self.dest))?;
            if meta.is_dir() {
                fs::remove_dir_all(&self.dest).map_err(io_err(&self.dest))?;
            } else {
                fs::remove_file(&self.dest).map_err(io_err(&self.dest))?;
            }
        }
        fs::rename(&self.tmp, &self.dest).map_err(io_err(&self.dest))?;
        Ok(self.dest.clone())
    }

    /// Where files are being written.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        // An abandoned (uncommitted) folder is removed; a committed one has
        // been renamed away already.
        let _ = fs::remove_dir_all(&self.tmp);
    }
}

/// A file being written, hashed as it goes.
pub struct TableFile {
    name: String,
    path: PathBuf,
    w: BufWriter<File>,
    hash: Sha256,
}

impl Write for TableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.w.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes a small file (a scenario, a calibration) under a temporary name
/// and renames it, so that a reader never sees half of it.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

/// Writes `places.csv` day by day.
pub struct PlacesTable {
    f: TableFile,
}

impl PlacesTable {
    /// Starts the table.
    pub fn new(out: &OutDir) -> Result<PlacesTable, OutputError> {
        let mut f = out.file("places.csv")?;
        let header: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
        writeln!(f, "day,date,place,{}", header.join(",")).map_err(io_err(Path::new("places.csv")))?;
        Ok(PlacesTable { f })
    }

    /// The finished file.
    pub fn into_file(self) -> TableFile {
        self.f
    }
}

impl Recorder for PlacesTable {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        let date = v.date.format("%Y-%m-%d").to_string();
        let mut line = String::with_capacity(96);
        for (p, c) in v.places.iter().enumerate() {
            use std::fmt::Write as _;
            line.clear();
            let _ = write!(line, "{},{},{}", v.day, date, v.scenario.places[p].id);
            for x in c.iter().take(N_COLS) {
                let _ = write!(line, ",{x}");
            }
            line.push('\n');
            self.f.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// Writes `cohort_places.csv`: the places table per cohort, so a user can
/// see who crossed where.
pub struct CohortPlacesTable {
    f: TableFile,
}

impl CohortPlacesTable {
    /// Starts the table.
    pub fn new(out: &OutDir) -> Result<CohortPlacesTable, OutputError> {
        let mut f = out.file("cohort_places.csv")?;
        let header: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
        writeln!(f, "day,date,cohort,nationality,place,{}", header.join(","))
            .map_err(io_err(Path::new("cohort_places.csv")))?;
        Ok(CohortPlacesTable { f })
    }

    /// The finished file.
    pub fn into_file(self) -> TableFile {
        self.f
    }
}

impl Recorder for CohortPlacesTable {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        use std::fmt::Write as _;
        let date = v.date.format("%Y-%m-%d").to_string();
        let n = v.scenario.places.len();
        let mut line = String::with_capacity(128);
        for (ci, c) in v.scenario.cohorts.iter().enumerate() {
            for (p, place) in v.scenario.places.iter().enumerate() {
                let Some(counts) = v.by_cohort.get(ci * n + p) else {
                    continue;
                };
                line.clear();
                let _ = write!(line, "{},{},{},{},{}", v.day, date, c.id, c.nationality, place.id);
                for x in counts {
                    let _ = write!(line, ",{x}");
                }
                line.push('\n');
                self.f.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// Writes `places.csv` from kept daily counts (`[day][place]`), byte for
/// byte what [`PlacesTable`] writes during a run.
pub fn write_places(out: &mut OutDir, sc: &Scenario, daily: &[Vec<[u64; N_COLS]>]) -> Result<(), OutputError> {
    use std::fmt::Write as _;
    let mut f = out.file("places.csv")?;
    let p = PathBuf::from("places.csv");
    let header: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
    writeln!(f, "day,date,place,{}", header.join(",")).map_err(io_err(&p))?;
    let mut line = String::with_capacity(96);
    for (d, day) in daily.iter().enumerate() {
        let date = sc.calendar.date_of(d as u32).format("%Y-%m-%d").to_string();
        for (pi, c) in day.iter().enumerate() {
            line.clear();
            let _ = write!(line, "{},{},{}", d, date, sc.places[pi].id);
            for x in c {
                let _ = write!(line, ",{x}");
            }
            line.push('\n');
            f.write_all(line.as_bytes()).map_err(io_err(&p))?;
        }
    }
    out.finish(f)
}

/// Writes `trace.csv`: the day-by-day place and state of sampled agents.
pub struct TraceTable {
    f: TableFile,
    agents: Vec<u32>,
}

impl TraceTable {
    /// Samples `n` agents evenly over the population (deterministic: the
    /// same agents for the same scenario and seed).
    pub fn new(out: &OutDir, n: usize, agents: usize) -> Result<TraceTable, OutputError> {
        let mut f = out.file("trace.csv")?;
        writeln!(f, "day,agent,cohort,state,place,route").map_err(io_err(Path::new("trace.csv")))?;
        Ok(TraceTable {
            f,
            agents: trace_agents(n, agents),
        })
    }

    /// The finished file.
    pub fn into_file(self) -> TableFile {
        self.f
    }
}

impl Recorder for TraceTable {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        let a: &Agents = v.agents;
        let sc = v.scenario;
        for &i in &self.agents {
            let i = i as usize;
            let state = State::from_u8(a.state[i]);
            let cohort = &sc.cohorts[a.cohort[i] as usize].id;
            let (place, route) = trace_where(sc, state, a.place[i], a.leg[i]);
            let place = place.map(|p| sc.places[p].id.as_str()).unwrap_or("");
            let route = route.map(|r| sc.routes[r].id.as_str()).unwrap_or("");
            writeln!(
                self.f,
                "{},{},{},{},{},{}",
                v.day,
                i,
                cohort,
                state.name(),
                place,
                route
            )?;
        }
        Ok(())
    }
}

/// The ids of the `n` agents a trace follows among `agents`: evenly spread
/// over the population, so the same agents for the same scenario and seed.
pub fn trace_agents(n: usize, agents: usize) -> Vec<u32> {
    let n = n.min(agents);
    (0..n)
        .map(|k| ((2 * k + 1) as u128 * agents as u128 / (2 * n) as u128) as u32)
        .collect()
}

/// Where a traced agent is: its place, or the route it is travelling
/// (neither once its journey has ended).
pub fn trace_where(sc: &Scenario, state: State, place: u32, leg: u32) -> (Option<usize>, Option<usize>) {
    match state {
        State::Travelling => (None, Some(sc.legs[leg as usize].route as usize)),
        s if s.absorbing() => (None, None),
        _ if place != NONE => (Some(place as usize), None),
        _ => (None, None),
    }
}

/// Writes `outcomes.csv`.
pub fn write_outcomes(out: &mut OutDir, sc: &Scenario, r: &RunResult) -> Result<(), OutputError> {
    let mut f = out.file("outcomes.csv")?;
    let p = PathBuf::from("outcomes.csv");
    writeln!(f, "cohort,nationality,outcome,people").map_err(io_err(&p))?;
    for (c, o) in sc.cohorts.iter().zip(&r.outcomes) {
        for s in State::ALL {
            writeln!(f, "{},{},{},{}", c.id, c.nationality, s.name(), o[s as usize]).map_err(io_err(&p))?;
        }
    }
    out.finish(f)
}

/// Writes `events.csv`.
pub fn write_events(out: &mut OutDir, sc: &Scenario, r: &RunResult) -> Result<(), OutputError> {
    let mut f = out.file("events.csv")?;
    let p = PathBuf::from("events.csv");
    writeln!(f, "cohort,nationality,event,count,people").map_err(io_err(&p))?;
    for (c, ev) in sc.cohorts.iter().zip(&r.events) {
        for e in Event::ALL {
            let [count, people] = ev[e as usize];
            writeln!(f, "{},{},{},{},{}", c.id, c.nationality, e.name(), count, people).map_err(io_err(&p))?;
        }
    }
    out.finish(f)
}

#[derive(Serialize)]
struct SummaryScenario<'a> {
    name: &'a str,
    file: String,
    sha256: &'a str,
}

#[derive(Serialize)]
struct SummaryCohort<'a> {
    id: &'a str,
    nationality: String,
    people: u64,
}

#[derive(Serialize)]
struct SummaryEvent {
    count: u64,
    people: u64,
}

/// The contents of `summary.json`, in its field order.
#[derive(Serialize)]
pub struct Summary<'a> {
    scenario: SummaryScenario<'a>,
    seed: u64,
    version: &'a str,
    days: u32,
    agents: usize,
    people: u64,
    threads: usize,
    cohorts: Vec<SummaryCohort<'a>>,
    states: BTreeMap<&'static str, u64>,
    events: BTreeMap<&'static str, SummaryEvent>,
    wall_s: f64,
    tables: &'a BTreeMap<String, String>,
}

/// Writes `summary.json` (after the tables, whose hashes it lists).
pub fn write_summary(
    out: &mut OutDir,
    sc: &Scenario,
    r: &RunResult,
    threads: usize,
    wall_s: f64,
) -> Result<(), OutputError> {
    let s = summary(sc, r, threads, wall_s, out.hashes());
    let mut f = out.file("summary.json")?;
    let p = PathBuf::from("summary.json");
    serde_json::to_writer_pretty(&mut f, &s).map_err(|e| OutputError::Io {
        path: p.clone(),
        source: io::Error::other(e),
    })?;
    writeln!(f).map_err(io_err(&p))?;
    out.finish(f)
}

/// What `summary.json` holds (`tables`: the SHA-256 of each table written,
/// empty for a run kept in memory); serialise it to read it.
pub fn summary<'a>(
    sc: &'a Scenario,
    r: &RunResult,
    threads: usize,
    wall_s: f64,
    tables: &'a BTreeMap<String, String>,
) -> Summary<'a> {
    let mut states = BTreeMap::new();
    for s in State::ALL {
        states.insert(s.name(), r.states[s as usize]);
    }
    let mut events = BTreeMap::new();
    for e in Event::ALL {
        let (count, people) = r
            .events
            .iter()
            .fold((0, 0), |(c, p), ev| (c + ev[e as usize][0], p + ev[e as usize][1]));
        events.insert(e.name(), SummaryEvent { count, people });
    }
    Summary {
        scenario: SummaryScenario {
            name: &sc.name,
            file: sc.file.display().to_string(),
            sha256: &sc.sha256,
        },
        seed: r.seed,
        version: env!("CARGO_PKG_VERSION"),
        days: r.days,
        agents: r.agents,
        people: r.people,
        threads,
        cohorts: sc
            .cohorts
            .iter()
            .map(|c| SummaryCohort {
                id: &c.id,
                nationality: c.nationality.to_string(),
                people: c.people,
            })
            .collect(),
        states,
        events,
        wall_s: (wall_s * 1000.0).round() / 1000.0,
        tables,
    }
}

/// People per state summed over events, for a quick line (used by the CLI).
pub fn totals(r: &RunResult) -> ([u64; N_STATES], [[u64; 2]; N_EVENTS]) {
    let mut ev = [[0u64; 2]; N_EVENTS];
    for c in &r.events {
        for e in 0..N_EVENTS {
            ev[e][0] += c[e][0];
            ev[e][1] += c[e][1];
        }
    }
    (r.states, ev)
}

/// Sums the people who set out on each leg over the run.
#[derive(Clone, Debug, Default)]
pub struct RouteFlows {
    /// People per leg.
    pub people: Vec<u64>,
}

impl Recorder for RouteFlows {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        if self.people.len() != v.legs.len() {
            self.people = vec![0; v.legs.len()];
        }
        for (s, x) in self.people.iter_mut().zip(v.legs) {
            *s += x;
        }
        Ok(())
    }
}

/// Writes `routes.csv`: people who set out on each leg over the run, with
/// the ends' coordinates (the report draws the map from it).
pub fn write_routes(out: &mut OutDir, sc: &Scenario, flows: &[u64]) -> Result<(), OutputError> {
    let mut f = out.file("routes.csv")?;
    let p = PathBuf::from("routes.csv");
    writeln!(f, "route,from,to,mode,km,from_lat,from_lon,to_lat,to_lon,people").map_err(io_err(&p))?;
    for (i, l) in sc.legs.iter().enumerate() {
        let (a, b) = (&sc.places[l.from as usize], &sc.places[l.to as usize]);
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{}",
            sc.routes[l.route as usize].id,
            a.id,
            b.id,
            l.mode.name(),
            l.km,
            a.lat,
            a.lon,
            b.lat,
            b.lon,
            flows.get(i).copied().unwrap_or(0)
        )
        .map_err(io_err(&p))?;
    }
    out.finish(f)
}
