//! Run outputs: the tables, the summary and the trace, written so that a
//! crash never leaves a half table that looks whole.
//!
//! Owns the run's file formats (every table through `table::Table`). The
//! folder itself, its manifest and the rule for replacing a destination are
//! `outdir`'s. Must not simulate.

use crate::agents::{Agents, Event, State, N_EVENTS, N_STATES};
use crate::engine::{Col, DayView, Recorder, RunResult, N_COLS};
use crate::scenario::{Dest, Scenario, NONE};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use crate::outdir::{OutDir, OutputError, TableFile};
use crate::table::{table_err, Table};

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn places_header() -> Vec<&'static str> {
    ["day", "date", "place"]
        .into_iter()
        .chain(Col::ALL.iter().map(|c| c.name()))
        .collect()
}

/// Writes `places.csv` day by day.
pub struct PlacesTable<W: Write = TableFile> {
    t: Table<W>,
}

impl PlacesTable {
    /// Starts the table.
    pub fn new(out: &OutDir) -> Result<PlacesTable, OutputError> {
        Ok(PlacesTable {
            t: out.table("places.csv", places_header())?,
        })
    }

    /// The finished file.
    pub fn into_file(self) -> io::Result<TableFile> {
        self.t.finish()
    }
}

impl<W: Write + Send> Recorder for PlacesTable<W> {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        let date = v.date.format("%Y-%m-%d").to_string();
        for (p, c) in v.places.iter().enumerate() {
            self.t.cell(v.day).cell(&date).cell(&v.scenario.places[p].id);
            for x in c.iter().take(N_COLS) {
                self.t.cell(x);
            }
            self.t.end_row()?;
        }
        Ok(())
    }
}

/// Writes `cohort_places.csv`: the places table per cohort, so a user can
/// see who crossed where.
pub struct CohortPlacesTable<W: Write = TableFile> {
    t: Table<W>,
}

impl<W: Write> CohortPlacesTable<W> {
    /// Starts the table on any writer (a replicate's is kept in memory).
    pub fn on(w: W) -> io::Result<CohortPlacesTable<W>> {
        let header = ["day", "date", "cohort", "nationality", "place"]
            .into_iter()
            .chain(Col::ALL.iter().map(|c| c.name()));
        Ok(CohortPlacesTable {
            t: Table::new(w, header)?,
        })
    }

    /// The finished writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.t.finish()
    }
}

impl CohortPlacesTable {
    /// Starts the table.
    pub fn new(out: &OutDir) -> Result<CohortPlacesTable, OutputError> {
        CohortPlacesTable::on(out.file("cohort_places.csv")?).map_err(table_err("cohort_places.csv"))
    }

    /// The finished file.
    pub fn into_file(self) -> io::Result<TableFile> {
        self.t.finish()
    }
}

impl<W: Write + Send> Recorder for CohortPlacesTable<W> {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        let date = v.date.format("%Y-%m-%d").to_string();
        let n = v.scenario.places.len();
        for (ci, c) in v.scenario.cohorts.iter().enumerate() {
            for (p, place) in v.scenario.places.iter().enumerate() {
                let Some(counts) = v.by_cohort.get(ci * n + p) else {
                    continue;
                };
                self.t
                    .cell(v.day)
                    .cell(&date)
                    .cell(&c.id)
                    .cell(c.nationality)
                    .cell(&place.id);
                for x in counts {
                    self.t.cell(x);
                }
                self.t.end_row()?;
            }
        }
        Ok(())
    }
}

/// Writes `places.csv` from kept daily counts (`[day][place]`), byte for
/// byte what [`PlacesTable`] writes during a run.
pub fn write_places(out: &mut OutDir, sc: &Scenario, daily: &[Vec<[u64; N_COLS]>]) -> Result<(), OutputError> {
    let e = table_err("places.csv");
    let mut t = out.table("places.csv", places_header())?;
    for (d, day) in daily.iter().enumerate() {
        let date = sc.calendar.date_of(d as u32).format("%Y-%m-%d").to_string();
        for (pi, c) in day.iter().enumerate() {
            t.cell(d).cell(&date).cell(&sc.places[pi].id);
            for x in c {
                t.cell(x);
            }
            t.end_row().map_err(&e)?;
        }
    }
    out.finish_table(t)
}

/// Writes `trace.csv`: the day-by-day place and state of sampled agents.
pub struct TraceTable<W: Write = TableFile> {
    t: Table<W>,
    agents: Vec<u32>,
    /// Claim points in target-slot order (the scenario's, read on the first day).
    targets: Vec<u32>,
}

impl<W: Write> TraceTable<W> {
    /// Samples `n` agents evenly over the population (deterministic: the
    /// same agents for the same scenario and seed), writing to `w`.
    pub fn on(w: W, n: usize, agents: usize) -> io::Result<TraceTable<W>> {
        Ok(TraceTable {
            t: Table::new(
                w,
                [
                    "day",
                    "agent",
                    "cohort",
                    "state",
                    "place",
                    "route",
                    "target",
                    "informed",
                    "failed",
                    "failed_day",
                    "barred",
                ],
            )?,
            agents: trace_agents(n, agents),
            targets: Vec::new(),
        })
    }

    /// The finished writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.t.finish()
    }
}

impl TraceTable {
    /// Samples `n` agents evenly over the population (deterministic: the
    /// same agents for the same scenario and seed).
    pub fn new(out: &OutDir, n: usize, agents: usize) -> Result<TraceTable, OutputError> {
        TraceTable::on(out.file("trace.csv")?, n, agents).map_err(table_err("trace.csv"))
    }

    /// The finished file.
    pub fn into_file(self) -> io::Result<TableFile> {
        self.t.finish()
    }
}

impl<W: Write + Send> Recorder for TraceTable<W> {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        let a: &Agents = v.agents;
        let sc = v.scenario;
        if self.targets.is_empty() {
            self.targets = sc.claim_points();
        }
        for &i in &self.agents {
            let i = i as usize;
            let state = State::from_u8(a.state[i]);
            let cohort = &sc.cohorts[a.cohort[i] as usize].id;
            let (place, route) = trace_where(sc, state, crate::agents::wide(a.place[i]), a.leg[i]);
            let place = place.map(|p| sc.places[p].id.as_str()).unwrap_or("");
            let route = route.map(|r| sc.routes[r].id.as_str()).unwrap_or("");
            let m = trace_memory(
                sc,
                &self.targets,
                state,
                TraceMemory {
                    target: crate::agents::wide(a.target[i]),
                    flags: a.flags[i],
                    failed: a.failed[i],
                    failed_day: a.failed_day[i],
                    barred: a.barred[i],
                    bar_until: a.bar_until[i],
                },
                v.day,
            );
            let id = |p: Option<usize>| p.map(|p| sc.places[p].id.as_str()).unwrap_or("");
            self.t
                .cell(v.day)
                .cell(i)
                .cell(cohort)
                .cell(state.name())
                .cell(place)
                .cell(route)
                .cell(id(m.target))
                .cell(m.informed as u8)
                .cell(id(m.failed))
                .cell(m.failed_day.map(|d| d.to_string()).unwrap_or_default())
                .cell(m.barred)
                .end_row()?;
        }
        Ok(())
    }
}

/// A traced group's columns that say what it is making for and what it
/// remembers of failure.
#[derive(Clone, Copy, Debug)]
pub struct TraceMemory {
    /// Target claim point (`NONE`: none).
    pub target: u32,
    /// Flags (`agents::F_*`).
    pub flags: u8,
    /// Claim-point slot of the door that failed it last (`agents::NO_DOOR`: none).
    pub failed: u16,
    /// Day it failed (`agents::NO_DAY`: never).
    pub failed_day: u16,
    /// Barred countries (see `agents::is_barred`).
    pub barred: u8,
    /// Last day of a temporary bar.
    pub bar_until: u16,
}

/// What `trace.csv` shows of a group's memory on `day`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRecall {
    /// The place it is making for (none once its journey has ended).
    pub target: Option<usize>,
    /// Whether it knows the eligibility rules in force.
    pub informed: bool,
    /// The door that failed it last.
    pub failed: Option<usize>,
    /// The day that door failed it.
    pub failed_day: Option<u16>,
    /// The countries that bar it on `day`, joined by `+` (e.g. `US+CA`).
    pub barred: &'static str,
}

/// Reads a traced group's memory columns: `claim_points` are the
/// scenario's claim points in slot order ([`Scenario::claim_points`]).
pub fn trace_memory(sc: &Scenario, claim_points: &[u32], state: State, m: TraceMemory, day: u32) -> TraceRecall {
    let place = |p: u32| (p != NONE && (p as usize) < sc.places.len()).then_some(p as usize);
    let mut bits = 0;
    for (k, d) in [Dest::MX, Dest::US, Dest::CA].into_iter().enumerate() {
        if crate::agents::is_barred(m.barred, m.bar_until, d, day) {
            bits |= 1 << k;
        }
    }
    const BARRED: [&str; 8] = ["", "MX", "US", "MX+US", "CA", "MX+CA", "US+CA", "MX+US+CA"];
    TraceRecall {
        target: if state.absorbing() { None } else { place(m.target) },
        informed: m.flags & crate::agents::F_INFORMED != 0,
        failed: match m.failed {
            crate::agents::NO_DOOR => None,
            s => claim_points.get(s as usize).and_then(|&p| place(p)),
        },
        failed_day: (m.failed_day != crate::agents::NO_DAY).then_some(m.failed_day),
        barred: BARRED[bits],
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
    let e = table_err("outcomes.csv");
    let mut t = out.table("outcomes.csv", ["cohort", "nationality", "outcome", "people"])?;
    for (c, o) in sc.cohorts.iter().zip(&r.outcomes) {
        for s in State::ALL {
            t.cell(&c.id)
                .cell(c.nationality)
                .cell(s.name())
                .cell(o[s as usize])
                .end_row()
                .map_err(&e)?;
        }
    }
    out.finish_table(t)
}

/// Writes `events.csv`.
pub fn write_events(out: &mut OutDir, sc: &Scenario, r: &RunResult) -> Result<(), OutputError> {
    let e = table_err("events.csv");
    let mut t = out.table("events.csv", ["cohort", "nationality", "event", "count", "people"])?;
    for (c, ev) in sc.cohorts.iter().zip(&r.events) {
        for x in Event::ALL {
            let [count, people] = ev[x as usize];
            t.cell(&c.id)
                .cell(c.nationality)
                .cell(x.name())
                .cell(count)
                .cell(people)
                .end_row()
                .map_err(&e)?;
        }
    }
    out.finish_table(t)
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
    /// For a `[[stock]]`: where its people were on the start date.
    #[serde(skip_serializing_if = "Option::is_none")]
    stock: Option<SummaryStock<'a>>,
}

#[derive(Serialize)]
struct SummaryStock<'a> {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days_left: Option<f64>,
}

fn summary_stock<'a>(sc: &'a Scenario, s: &crate::scenario::Stock) -> SummaryStock<'a> {
    match s.leg {
        None => SummaryStock {
            state: State::Waiting.name(),
            place: Some(&sc.places[s.place as usize].id),
            route: None,
            to: None,
            days_left: None,
        },
        Some(l) => {
            let leg = &sc.legs[l as usize];
            SummaryStock {
                state: State::Travelling.name(),
                place: None,
                route: Some(&sc.routes[leg.route as usize].id),
                to: Some(&sc.places[leg.to as usize].id),
                days_left: Some(s.days_left),
            }
        }
    }
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
            name: &sc.about.name,
            file: sc.about.file.display().to_string(),
            sha256: &sc.about.sha256,
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
                stock: c.stock.as_ref().map(|s| summary_stock(sc, s)),
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
    let e = table_err("routes.csv");
    let mut t = out.table(
        "routes.csv",
        [
            "route", "from", "to", "mode", "km", "from_lat", "from_lon", "to_lat", "to_lon", "people",
        ],
    )?;
    for (i, l) in sc.legs.iter().enumerate() {
        let (a, b) = (&sc.places[l.from as usize], &sc.places[l.to as usize]);
        t.cell(&sc.routes[l.route as usize].id)
            .cell(&a.id)
            .cell(&b.id)
            .cell(l.mode.name())
            .cell(l.km)
            .cell(a.lat)
            .cell(a.lon)
            .cell(b.lat)
            .cell(b.lon)
            .cell(flows.get(i).copied().unwrap_or(0))
            .end_row()
            .map_err(&e)?;
    }
    out.finish_table(t)
}

/// The tables of caravans, offers and papers a run writes when its
/// scenario has them: `caravan.csv` (each caravan day by day: the groups,
/// people and families walking in it, the place where most of them are,
/// the day's pace), `offers.csv` (each offer on each day it is made: people
/// offered, people who took it) and `papers.csv` (each checkpoint that does
/// not always honour papers, on each day in force: holders of papers who
/// reached it, and those intercepted despite them).
pub struct SideTables<W: Write = TableFile> {
    tables: Vec<(Side, Table<W>)>,
    /// What the tables hold, summed for the terminal: per caravan, the most
    /// people walking in it, the last day anyone did and where.
    caravans: Vec<CaravanStory>,
    /// Per policy: people met and people who took it (offers) or whose
    /// papers were not honoured (checkpoints), over the run.
    policies: Vec<[u64; 2]>,
}

/// A caravan over a run, for the terminal.
#[derive(Clone, Copy, Default)]
struct CaravanStory {
    most: u64,
    first_day: Option<u32>,
    last_day: Option<u32>,
    last_at: u32,
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Caravan,
    Offers,
    Papers,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Caravan => "caravan.csv",
            Side::Offers => "offers.csv",
            Side::Papers => "papers.csv",
        }
    }

    fn header(self) -> &'static [&'static str] {
        match self {
            Side::Caravan => &[
                "day",
                "date",
                "caravan",
                "groups",
                "people",
                "families",
                "place",
                "pace_km_per_day",
            ],
            Side::Offers => &["day", "date", "offer", "place", "offered", "accepted"],
            Side::Papers => &["day", "date", "checkpoint", "place", "holders", "not_honoured"],
        }
    }

    /// Whether policy `p` has rows in this table.
    fn counts(self, p: &crate::scenario::Policy) -> bool {
        use crate::scenario::PolicyKind;
        match (self, &p.kind) {
            (Side::Offers, PolicyKind::Offer { .. }) => true,
            (Side::Papers, PolicyKind::Checkpoint { honour_rate, .. }) => *honour_rate < 1.0,
            _ => false,
        }
    }

    fn of(sc: &Scenario) -> Vec<Side> {
        let mut v = Vec::new();
        if !sc.caravans.is_empty() {
            v.push(Side::Caravan);
        }
        for s in [Side::Offers, Side::Papers] {
            if sc.policies.iter().any(|p| s.counts(p)) {
                v.push(s);
            }
        }
        v
    }
}

impl<W: Write> SideTables<W> {
    /// The names of the tables `sc` has (none for most scenarios).
    pub fn names(sc: &Scenario) -> Vec<&'static str> {
        Side::of(sc).into_iter().map(Side::name).collect()
    }

    /// Starts the tables `sc` has, each on the writer `open` gives for its name.
    pub fn on(sc: &Scenario, mut open: impl FnMut(&'static str) -> io::Result<W>) -> io::Result<SideTables<W>> {
        let tables = Side::of(sc)
            .into_iter()
            .map(|s| Ok((s, Table::new(open(s.name())?, s.header())?)))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(SideTables {
            tables,
            caravans: vec![CaravanStory::default(); sc.caravans.len()],
            policies: vec![[0; 2]; sc.policies.len()],
        })
    }

    /// The caravans, offers and papers of the run in a few lines for the
    /// terminal (empty for a scenario without them): what `caravan.csv`,
    /// `offers.csv` and `papers.csv` hold, summed.
    pub fn story(&self, sc: &Scenario) -> String {
        let mut s = String::new();
        let date = |d: u32| sc.calendar.date_of(d).format("%-d %B %Y").to_string();
        for (name, c) in sc.caravans.iter().zip(&self.caravans) {
            let (Some(a), Some(z)) = (c.first_day, c.last_day) else {
                continue;
            };
            let place = sc
                .places
                .get(c.last_at as usize)
                .map(|p| p.name.as_str())
                .unwrap_or("?");
            let end = if z + 1 < sc.calendar.days {
                format!("it was gone on {} (day {}): the last walked in it", date(z + 1), z + 1)
            } else {
                "some still walked in it at the end of the run,".to_string()
            };
            s += &format!(
                "  caravan {name}: {} people set out together on {}; {end} from {place}\n",
                c.most,
                date(a),
            );
        }
        for (p, [met, took]) in sc.policies.iter().zip(&self.policies) {
            if Side::Offers.counts(p) {
                s += &format!("  offer {}: {took} of the {met} people offered took it\n", p.id);
            } else if Side::Papers.counts(p) && *met > 0 {
                s += &format!(
                    "  checkpoint {}: papers not honoured at {took} of {met} passes by people holding them\n",
                    p.id
                );
            }
        }
        s
    }

    /// Whether the scenario has none of these tables.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The finished writers, with their tables' names.
    pub fn finish(self) -> io::Result<Vec<(&'static str, W)>> {
        self.tables
            .into_iter()
            .map(|(s, t)| Ok((s.name(), t.finish()?)))
            .collect()
    }
}

impl SideTables {
    /// Starts the tables `sc` has in an output folder.
    pub fn new(out: &OutDir, sc: &Scenario) -> Result<SideTables, OutputError> {
        SideTables::on(sc, |name| out.file(name).map_err(io::Error::other)).map_err(table_err("caravan.csv"))
    }
}

impl<W: Write + Send> Recorder for SideTables<W> {
    fn day(&mut self, v: &DayView<'_>) -> io::Result<()> {
        let sc = v.scenario;
        let date = v.date.format("%Y-%m-%d").to_string();
        let place = |p: u32| sc.places.get(p as usize).map(|x| x.id.as_str()).unwrap_or_default();
        for (side, t) in &mut self.tables {
            match side {
                Side::Caravan => {
                    for (story, c) in self.caravans.iter_mut().zip(v.caravans) {
                        if c.people > 0 {
                            story.most = story.most.max(c.people);
                            story.first_day.get_or_insert(v.day);
                            story.last_day = Some(v.day);
                            story.last_at = c.at;
                        }
                    }
                    for (name, c) in sc.caravans.iter().zip(v.caravans) {
                        t.cell(v.day)
                            .cell(&date)
                            .cell(name)
                            .cell(c.groups)
                            .cell(c.people)
                            .cell(c.families)
                            .cell(if c.people > 0 { place(c.at) } else { "" })
                            .cell(format_args!("{:.2}", c.pace_km_per_day))
                            .end_row()?;
                    }
                }
                s => {
                    for (i, p) in sc.policies.iter().enumerate() {
                        if !s.counts(p) || !p.active(v.day) {
                            continue;
                        }
                        let at = match p.kind {
                            crate::scenario::PolicyKind::Offer { place: x, .. }
                            | crate::scenario::PolicyKind::Checkpoint { place: x, .. } => place(x),
                            _ => "",
                        };
                        let [met, took] = v.policies.get(i).copied().unwrap_or([0, 0]);
                        if let Some(x) = self.policies.get_mut(i) {
                            x[0] += met;
                            x[1] += took;
                        }
                        t.cell(v.day)
                            .cell(&date)
                            .cell(&p.id)
                            .cell(at)
                            .cell(met)
                            .cell(took)
                            .end_row()?;
                    }
                }
            }
        }
        Ok(())
    }
}
