//! Saved states: a run stopped after a day, written to a file and continued
//! later, under the same scenario or a changed one.
//!
//! Owns the state file's format (a checked header, then the payload), the
//! reading back of a file with a clear error for anything foreign,
//! truncated, corrupt or inconsistent (never a panic), and the comparison
//! of the saved run's scenario with the one it continues under. Must not
//! simulate: the engine's part of a state is `engine::EngineState`, the
//! tables' part is `results::KeptRun`.
//!
//! The layout (all integers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 0–16 | the magic `NORTHBOUND STATE\n` (also the first line that tells [`crate::outdir::write_file`] northbound wrote the file) |
//! | 17–20 | the format version, u32 ([`VERSION`]) |
//! | 21–28 | the payload's length in bytes, u64 |
//! | 29–60 | the SHA-256 of the payload |
//! | 61– | the payload: [`Saved`] in `postcard`'s encoding (serde) |

use crate::engine::{Engine, EngineState, N_COLS};
use crate::graph::Graph;
use crate::policy::PolicyBook;
use crate::results::{KeptRun, Trace};
use crate::scenario::{PolicyKind, Scenario, NONE};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The first bytes of every state file.
pub const MAGIC: &[u8] = b"NORTHBOUND STATE\n";
/// The first line of a state file, as `outdir::write_file` checks it.
pub const MARKER: &str = "NORTHBOUND STATE";
/// The version of the format this build writes and reads. Version 2: the
/// agents' place and target columns are 16-bit and the policy class is no
/// longer a column (issue 20); a version-1 file is refused with
/// [`StateError::Version`].
pub const VERSION: u32 = 2;
const HEADER: usize = 17 + 4 + 8 + 32;

/// Why a state file cannot be read or continued.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// It could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a state file.
    #[error("{path} is not a northbound state file (it does not start with `NORTHBOUND STATE`); name a file written by `northbound run --save-state`")]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// It was written by a version of the format this build does not read.
    #[error("{path} is a state file of format version {found}; this northbound reads version {VERSION}: continue it with the northbound that wrote it")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// It is shorter or longer than its header says.
    #[error("{path} is truncated or padded: its header promises {expected} bytes of state, it holds {found}; the file was cut short while copying or writing — save the state again")]
    Length {
        /// The file.
        path: PathBuf,
        /// Bytes promised.
        expected: u64,
        /// Bytes there.
        found: u64,
    },
    /// Its bytes were changed after it was written, or it contradicts itself.
    #[error("{path} is corrupt: {detail}; save the state again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The scenario to continue under does not fit the saved run.
    #[error("{path} cannot continue under {scenario}:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Mismatch {
        /// The state file.
        path: PathBuf,
        /// The scenario given.
        scenario: PathBuf,
        /// Every difference that stops it.
        problems: Vec<String>,
    },
}

/// The scenario a state was saved from: its bytes, so that a state file
/// continues by itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedScenario {
    /// The path it was read from (for messages and the default output folder).
    pub path: String,
    /// The file's bytes.
    pub text: Vec<u8>,
    /// SHA-256 of `text`.
    pub sha256: String,
    /// `--scale`, if the run was scaled.
    pub scale: Option<f64>,
}

/// The numbers of the saved days' tables, so that the continued run writes
/// the tables of the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// `[day][place]` counts (`places.csv`).
    pub daily: Vec<Vec<[u64; N_COLS]>>,
    /// With `--by-cohort`: `[day][cohort * places + place]` counts.
    pub by_cohort: Vec<Vec<[u64; N_COLS]>>,
    /// Whether the run kept per-cohort counts.
    pub keeps_by_cohort: bool,
    /// People who set out on each leg so far.
    pub legs: Vec<u64>,
    /// `[policy window][leg]`: people who set out, per window so far.
    pub legs_by_window: Vec<Vec<u64>>,
    /// With `--trace N`: the followed agents so far.
    pub trace: Option<Trace>,
}

impl History {
    /// What a kept run holds.
    pub fn of(kept: &KeptRun, by_cohort: bool) -> History {
        History {
            daily: kept.counts.daily.clone(),
            by_cohort: kept.by_cohort.clone(),
            keeps_by_cohort: by_cohort,
            legs: kept.counts.legs.clone(),
            legs_by_window: kept.counts.legs_by_window.clone(),
            trace: kept.trace.clone(),
        }
    }

    /// A kept run holding these days, to continue.
    pub fn into_kept(self) -> KeptRun {
        let mut k = KeptRun::default();
        k.counts.daily = self.daily;
        k.counts.legs = self.legs;
        k.counts.legs_by_window = self.legs_by_window;
        k.by_cohort = self.by_cohort;
        k.trace = self.trace;
        k
    }
}

/// Everything a state file holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The version of northbound that wrote it.
    pub northbound: String,
    /// The scenario it ran.
    pub scenario: SavedScenario,
    /// The engine after the last simulated day.
    pub engine: EngineState,
    /// The tables' numbers so far.
    pub history: History,
}

/// The file's bytes: header and payload.
pub fn encode(s: &Saved) -> Result<Vec<u8>, postcard::Error> {
    Ok(frame(&postcard::to_stdvec(s)?))
}

/// A payload with its header (magic, version, length, checksum).
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

/// Reads a state file.
pub fn read(path: &Path) -> Result<Saved, StateError> {
    let bytes = std::fs::read(path).map_err(|source| StateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes, path)
}

/// Decodes a state file's bytes, naming `path` in errors: checks the
/// magic, the version, the length and the checksum, then decodes the
/// payload and checks that it holds together (columns of one length,
/// indices within their tables, people conserved).
pub fn decode(bytes: &[u8], path: &Path) -> Result<Saved, StateError> {
    let p = || path.to_path_buf();
    if !bytes.starts_with(MAGIC) {
        return Err(StateError::Foreign { path: p() });
    }
    let Some(header) = bytes.get(..HEADER) else {
        return Err(StateError::Length {
            path: p(),
            expected: HEADER as u64,
            found: bytes.len() as u64,
        });
    };
    let word = |r: std::ops::Range<usize>| -> [u8; 8] {
        let mut w = [0u8; 8];
        w[..r.len()].copy_from_slice(&header[r]);
        w
    };
    let version = u64::from_le_bytes(word(17..21)) as u32;
    if version != VERSION {
        return Err(StateError::Version {
            path: p(),
            found: version,
        });
    }
    let len = u64::from_le_bytes(word(21..29));
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != len {
        return Err(StateError::Length {
            path: p(),
            expected: len,
            found: payload.len() as u64,
        });
    }
    if Sha256::digest(payload).as_slice() != &header[29..61] {
        return Err(StateError::Corrupt {
            path: p(),
            detail: "its checksum does not match its contents (the file was changed after northbound wrote it)".into(),
        });
    }
    decode_payload(payload, path)
}

/// Decodes a payload whose checksum has been checked (the fuzz harness
/// calls it on changed payloads directly).
pub fn decode_payload(payload: &[u8], path: &Path) -> Result<Saved, StateError> {
    let saved: Saved = postcard::from_bytes(payload).map_err(|e| StateError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("its contents cannot be decoded ({e})"),
    })?;
    if Sha256::digest(&saved.scenario.text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        != saved.scenario.sha256
    {
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            detail: "the saved scenario does not match its hash".into(),
        });
    }
    Ok(saved)
}

/// Checks that a saved engine state fits a scenario: every column as long
/// as the others, every index within its table, every number usable, and
/// the people of each cohort and state those of the scenario. Whatever
/// passes can be stepped without a panic. Returns what does not fit.
pub fn check(st: &EngineState, sc: &Scenario) -> Result<(), String> {
    let places = sc.places.len();
    let legs = sc.legs.len();
    let cohorts = sc.cohorts.len();
    let claim_points = sc.claim_points();
    let a = &st.agents;
    let n = a.state.len();
    // Every column but `state`, whose length is `n`.
    let lens: Vec<usize> = a
        .column_lens()
        .into_iter()
        .filter(|&(name, _)| name != "state")
        .map(|(_, len)| len)
        .collect();
    if lens.iter().any(|&l| l != n) {
        return Err(format!(
            "agent columns of different lengths ({n} states, columns of {lens:?})"
        ));
    }
    if st.day > sc.calendar.days {
        return Err(format!(
            "it was saved after day {} of a run of {} days",
            st.day, sc.calendar.days
        ));
    }
    let mut people = vec![0u64; cohorts];
    let mut states = [0u64; crate::agents::N_STATES];
    for i in 0..n {
        let bad = |what: &str| Err(format!("agent {i}: {what}"));
        if a.state[i] as usize >= crate::agents::N_STATES {
            return bad("an unknown state");
        }
        if a.place[i] as usize >= places {
            return bad("a place outside the scenario");
        }
        if a.leg[i] != NONE && a.leg[i] as usize >= legs {
            return bad("a route outside the scenario");
        }
        if a.state[i] == crate::agents::State::Travelling as u8 && a.leg[i] == NONE {
            return bad("travelling on no route");
        }
        if a.target[i] != crate::agents::NO_PLACE && !claim_points.contains(&(a.target[i] as u32)) {
            return bad("a target that takes no claims");
        }
        if a.cohort[i] as usize >= cohorts {
            return bad("a cohort outside the scenario");
        }
        if a.size[i] == 0 {
            return bad("a group of no one");
        }
        if a.flags[i] & crate::agents::F_CARAVAN != 0 && sc.cohorts[a.cohort[i] as usize].caravan.is_none() {
            return bad("walking in a caravan its cohort does not have");
        }
        if a.failed[i] != crate::agents::NO_DOOR && a.failed[i] as usize >= claim_points.len() {
            return bad("a remembered door outside the scenario");
        }
        if !a.left[i].is_finite() || a.left[i] < 0.0 || a.budget[i].is_nan() {
            return bad("days left or a budget that is not a number");
        }
        people[a.cohort[i] as usize] += a.size[i] as u64;
        states[a.state[i] as usize] += a.size[i] as u64;
    }
    for (c, (&got, cohort)) in people.iter().zip(&sc.cohorts).enumerate() {
        if got != cohort.people {
            return Err(format!(
                "the agents of cohort {} ({c}) hold {got} people; the scenario gives it {}",
                cohort.id, cohort.people
            ));
        }
    }
    if st.people != sc.people() {
        return Err(format!("{} people saved; the scenario has {}", st.people, sc.people()));
    }
    if states != st.states || st.state_people.iter().zip(&states).any(|(&a, &b)| a != b as i64) {
        return Err("the census of the agents differs from the saved counts of people per state".into());
    }
    let targets = claim_points.len();
    let sized = [
        ("learning hazards", st.hazard.len(), targets),
        ("word-of-mouth hazards", st.heard.len(), cohorts),
        ("people present", st.present.len(), places),
        ("people on their way", st.incoming.len(), places),
        ("event counts", st.events.len(), cohorts * crate::agents::N_EVENTS),
        ("place counts", st.cols.len(), places),
        ("route counts", st.leg_flows.len(), legs),
    ];
    for (what, got, want) in sized {
        if got != want {
            return Err(format!("{got} {what} for {want} entries of the scenario"));
        }
    }
    if st.window.iter().any(|d| d.len() != targets) || st.returns.iter().any(|d| d.len() != cohorts) {
        return Err("a day of the learning window does not fit the scenario".into());
    }
    if st.hazard.iter().chain(&st.heard).any(|h| !h.is_finite() || *h < 0.0) {
        return Err("a learning hazard that is not a number ≥ 0".into());
    }
    Ok(())
}

/// Checks the tables' numbers of a saved run against its scenario and day.
pub fn check_history(h: &History, sc: &Scenario, day: u32) -> Result<(), String> {
    let places = sc.places.len();
    if h.daily.len() != day as usize || h.daily.iter().any(|d| d.len() != places) {
        return Err(format!(
            "the saved tables hold {} days for a run saved after {day}",
            h.daily.len()
        ));
    }
    if h.keeps_by_cohort
        && (h.by_cohort.len() != day as usize || h.by_cohort.iter().any(|d| d.len() != places * sc.cohorts.len()))
    {
        return Err("the saved per-cohort tables do not fit the scenario".into());
    }
    if !h.legs.is_empty() && h.legs.len() != sc.legs.len() {
        return Err("the saved route counts do not fit the scenario".into());
    }
    if let Some(t) = &h.trace {
        let rows = t.agents.len() * day as usize;
        let cols = t.column_lens();
        if cols.iter().any(|&c| c != rows) {
            return Err("the saved trace does not fit the days saved".into());
        }
        for k in 0..rows {
            let bad = t.state[k] as usize >= crate::agents::N_STATES
                || t.cohort[k] as usize >= sc.cohorts.len()
                || (t.place[k] != NONE && t.place[k] as usize >= places)
                || (t.leg[k] != NONE && t.leg[k] as usize >= sc.legs.len())
                || (t.state[k] == crate::agents::State::Travelling as u8 && t.leg[k] == NONE);
            if bad {
                return Err(format!("row {k} of the saved trace does not fit the scenario"));
            }
        }
    }
    Ok(())
}

/// How a scenario to continue under differs from the saved run's.
#[derive(Clone, Debug, Default)]
pub struct Differences {
    /// What stops the run from continuing (places, routes, cohorts, the start).
    pub problems: Vec<String>,
    /// What changes from the day it continues (policies, behaviour, the end).
    pub changes: Vec<String>,
}

/// The top-level fields of a value's derived `Debug` text (`Name { a: 1,
/// b: "x, y" }` → `a: 1`, `b: "x, y"`), split outside strings and
/// brackets.
fn top_fields(debug: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut escaped) = (0i32, false, false);
    let mut cur = String::new();
    for ch in debug.chars() {
        if in_str {
            cur.push(ch);
            match (escaped, ch) {
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => escaped = false,
            }
            continue;
        }
        match ch {
            '"' => in_str = true,
            '{' | '[' | '(' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            '}' | ']' | ')' => {
                depth -= 1;
                if depth == 0 {
                    continue;
                }
            }
            ',' if depth == 1 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        if depth >= 1 {
            cur.push(ch);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The names of the fields that differ between two derived `Debug` texts
/// of one type, a field of a struct variant named to its own fields
/// (`kind.factor`).
fn changed_fields(a: &str, b: &str) -> Vec<String> {
    let (fa, fb) = (top_fields(a), top_fields(b));
    let mut out = Vec::new();
    for (x, y) in fa.iter().zip(&fb).filter(|(x, y)| x != y) {
        let (Some((k, va)), Some((_, vb))) = (x.split_once(": "), y.split_once(": ")) else {
            continue;
        };
        let head = |v: &str| v.split_once(" {").map(|(h, _)| h.to_string());
        match (head(va), head(vb)) {
            (Some(ha), Some(hb)) if ha == hb && !ha.contains(['(', '"', '[']) => {
                let inner = changed_fields(va, vb);
                if inner.is_empty() {
                    out.push(k.to_string());
                }
                out.extend(inner.into_iter().map(|f| format!("{k}.{f}")));
            }
            _ => out.push(k.to_string()),
        }
    }
    out
}

/// Says which fields of two values of a model type differ.
fn fields<T: std::fmt::Debug>(what: &str, id: &str, old: &T, new: &T, out: &mut Vec<String>) {
    let (a, b) = (format!("{old:?}"), format!("{new:?}"));
    let changed = changed_fields(&a, &b);
    let name = if id.is_empty() {
        what.to_string()
    } else {
        format!("{what} {id}")
    };
    if changed.is_empty() {
        out.push(format!("{name} differs"));
    } else {
        out.push(format!(
            "{name}: {} differ{}",
            changed.join(", "),
            if changed.len() == 1 { "s" } else { "" }
        ));
    }
}

/// Compares the scenario a run continues under with the one it was saved
/// from, `day` being the first day simulated under the new one. Places,
/// routes and cohorts must be the same (the agents' columns point into
/// them), and so must the start date and the documents policies (agents
/// hold their papers by position); policies, behaviour and the end may
/// change.
pub fn differences(old: &Scenario, new: &Scenario, day: u32) -> Differences {
    let mut d = Differences::default();
    let date = old.calendar.date_of(day);
    if old.calendar.start != new.calendar.start {
        d.problems.push(format!(
            "it starts on {}, the saved run on {}: day numbers would not match",
            new.calendar.start, old.calendar.start
        ));
    } else if new.calendar.days < day {
        d.problems.push(format!(
            "it ends on {}, before {date}, the day the saved run continues",
            new.calendar.end()
        ));
    } else if new.calendar.days != old.calendar.days {
        d.changes.push(format!(
            "the run ends on {} (the saved run's scenario: {})",
            new.calendar.end(),
            old.calendar.end()
        ));
    }
    // (what, the old scenario's (id, description), the new one's).
    type Listed<'a> = (&'a str, Vec<(&'a str, String)>, Vec<(&'a str, String)>);
    let lists: [Listed; 3] = [
        (
            "place",
            old.places.iter().map(|p| (p.id.as_str(), format!("{p:?}"))).collect(),
            new.places.iter().map(|p| (p.id.as_str(), format!("{p:?}"))).collect(),
        ),
        (
            "route",
            old.routes.iter().map(|r| (r.id.as_str(), format!("{r:?}"))).collect(),
            new.routes.iter().map(|r| (r.id.as_str(), format!("{r:?}"))).collect(),
        ),
        (
            "cohort",
            old.cohorts.iter().map(|c| (c.id.as_str(), format!("{c:?}"))).collect(),
            new.cohorts.iter().map(|c| (c.id.as_str(), format!("{c:?}"))).collect(),
        ),
    ];
    for (what, a, b) in lists {
        let ids = |v: &[(&str, String)]| v.iter().map(|(i, _)| i.to_string()).collect::<Vec<_>>();
        if ids(&a) != ids(&b) {
            let (ia, ib) = (ids(&a), ids(&b));
            let gone: Vec<&String> = ia.iter().filter(|i| !ib.contains(i)).collect();
            let added: Vec<&String> = ib.iter().filter(|i| !ia.contains(i)).collect();
            let mut s = format!("its {what}s are not the saved run's");
            if !gone.is_empty() {
                s += &format!("; missing: {}", join(&gone));
            }
            if !added.is_empty() {
                s += &format!("; new: {}", join(&added));
            }
            if gone.is_empty() && added.is_empty() {
                s += "; they are in another order (agents hold them by position)";
            }
            d.problems.push(s);
            continue;
        }
        for (i, ((id, x), (_, y))) in a.iter().zip(&b).enumerate() {
            if x != y {
                match what {
                    "place" => fields(what, id, &old.places[i], &new.places[i], &mut d.problems),
                    "route" => fields(what, id, &old.routes[i], &new.routes[i], &mut d.problems),
                    _ => fields(what, id, &old.cohorts[i], &new.cohorts[i], &mut d.problems),
                }
            }
        }
    }
    let docs = |sc: &Scenario| -> Vec<String> {
        sc.policies
            .iter()
            .filter(|p| matches!(p.kind, PolicyKind::Documents { .. }))
            .map(|p| p.id.clone())
            .collect()
    };
    if docs(old) != docs(new) {
        d.problems.push(format!(
            "its documents policies ({}) are not the saved run's ({}): groups hold papers by the position of the policy that issued them",
            join(&docs(new)),
            join(&docs(old))
        ));
    }
    for p in &new.policies {
        let before = |from: u32| {
            if from < day {
                format!(" (in force before {date}: the saved days ran under the saved version)")
            } else {
                String::new()
            }
        };
        match old.policies.iter().find(|q| q.id == p.id) {
            None => d.changes.push(format!("policy {} is added{}", p.id, before(p.from))),
            Some(q) if q != p => {
                let mut v = Vec::new();
                fields("policy", &p.id, q, p, &mut v);
                for s in v {
                    d.changes.push(format!("{s}{}", before(p.from.min(q.from))));
                }
            }
            _ => {}
        }
    }
    for q in &old.policies {
        if !new.policies.iter().any(|p| p.id == q.id) {
            d.changes.push(format!(
                "policy {} is removed{}",
                q.id,
                if q.from < day {
                    format!(" (it was in force before {date}: the saved days ran under it)")
                } else {
                    String::new()
                }
            ));
        }
    }
    if old.behaviour != new.behaviour {
        fields("behaviour", "", &old.behaviour, &new.behaviour, &mut d.changes);
    }
    d
}

fn join(v: &[impl AsRef<str>]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(", ")
    }
}

/// The state of a run saved under `old`, to continue under `new` (which
/// [`differences`] found compatible): the policy epoch each group last
/// decided by is renumbered through the first day of that epoch, so that
/// a policy that changes from the day the run continues changes only what
/// follows.
pub fn carry_over(mut st: EngineState, old: &Scenario, new: &Scenario) -> EngineState {
    let (ob, nb) = (
        PolicyBook::new(old, &Graph::new(old)),
        PolicyBook::new(new, &Graph::new(new)),
    );
    if ob.epoch_of_day == nb.epoch_of_day && old.policies == new.policies {
        return st;
    }
    let mut first = vec![u32::MAX; ob.epochs.len()];
    for (d, &e) in ob.epoch_of_day.iter().enumerate() {
        if let Some(f) = first.get_mut(e as usize) {
            *f = (*f).min(d as u32);
        }
    }
    for e in st.agents.epoch_seen.iter_mut() {
        if let Some(&d) = first.get(*e as usize).filter(|&&d| d != u32::MAX) {
            *e = nb.epoch(d as i64);
        }
    }
    st
}

/// How [`run_span`] runs: from the start or a saved state, to `last`.
pub struct Span {
    /// The seed of a run from the start.
    pub seed: u64,
    /// Counts per cohort kept.
    pub by_cohort: bool,
    /// The last day simulated (the scenario's last if `None`).
    pub last: Option<u32>,
    /// Agents traced.
    pub trace: usize,
    /// Worker threads (all cores if `None`).
    pub threads: Option<usize>,
    /// Whether the engine's state after `last` is returned (to be saved).
    pub keep_state: bool,
}

/// Runs `sc` from its start (no `state`) or from a saved state and the
/// tables' history, up to `span.last`, on a pool of `span.threads`: the
/// result, the tables kept, and the engine's state if asked for.
pub fn run_span(
    sc: &Scenario,
    state: Option<EngineState>,
    history: Option<History>,
    span: &Span,
    extra: &mut [&mut dyn crate::engine::Recorder],
) -> Result<(crate::engine::RunResult, crate::results::KeptRun, Option<EngineState>), crate::engine::EngineError> {
    crate::engine::pool(span.threads)?.install(|| {
        let (mut engine, mut kept) = match (state, history) {
            (Some(st), Some(h)) => (Engine::from_state(sc, st, span.by_cohort), h.into_kept()),
            _ => (
                Engine::with_config(sc, span.seed, span.by_cohort),
                crate::results::KeptRun::default(),
            ),
        };
        let t = std::time::Instant::now();
        crate::results::continue_run(&mut engine, &mut kept, span.last, span.trace, extra)?;
        let result = engine.result(t.elapsed().as_secs_f64())?;
        let state = span.keep_state.then(|| engine.state());
        Ok((result, kept, state))
    })
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::agents::F_CARAVAN;
    use crate::engine::Engine;

    /// Found by the fuzzer: a state whose group walks in a caravan its
    /// cohort does not have passed the checks and panicked in the census.
    #[test]
    fn a_group_flagged_in_a_caravan_its_cohort_lacks_is_refused() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chain.toml");
        let text = std::fs::read(&path).expect("fixture");
        let sc = crate::scenario::load_bytes(&text, &path).expect("fixture loads");
        assert!(
            sc.cohorts.iter().all(|c| c.caravan.is_none()),
            "a fixture without caravans"
        );
        let mut st = Engine::new(&sc, sc.seed).state();
        assert_eq!(check(&st, &sc), Ok(()));
        st.agents.flags[0] |= F_CARAVAN;
        let err = check(&st, &sc).expect_err("refused");
        assert!(err.contains("agent 0") && err.contains("caravan"), "{err}");
    }
}
