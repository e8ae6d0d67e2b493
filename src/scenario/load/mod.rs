//! Stage two of loading: the spanned TOML tree (stage one, `toml`'s
//! `DeTable`, read through `read`) to a validated [`Scenario`].
//!
//! Owns the entry points (`load`, `load_bytes`, `load_marked`), the
//! `Loader` that every section's reader extends, the assembly of the
//! `Scenario` (sections read in the order each needs the ones before: head,
//! behaviour, places, routes, populations, stocks, policies, variants), and
//! the checks that need several
//! sections at once (headline, caravans, reachability, policy limits and
//! places, memory). Each section's own rules live in the file named after
//! it; this file must not read a section's fields itself. Collects all
//! problems and reports them together; never panics on user input.

mod behaviour;
mod fields;
mod places;
mod policies;
mod policy_kinds;
mod population;
mod routes;
mod stock;
mod traits;
mod variants;

use super::diag::{closest, LoadError, Problem};
use super::model::*;
use super::read::{self, Marks, Reader, Reading, Sp, Tbl};
use crate::time::Calendar;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

const ROOT_KEYS: &[&str] = &[
    "scenario",
    "behaviour",
    "place",
    "route",
    "population",
    "policy",
    "variant",
    "stock",
];

/// Longest run, in days: day numbers are kept in 16 bits in agent columns.
pub const MAX_DAYS: u32 = 65_000;

/// Loads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_bytes(&bytes, path)
}

/// Loads and validates a scenario from bytes, naming `path` in messages.
pub fn load_bytes(bytes: &[u8], path: &Path) -> Result<Scenario, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(LoadError::Invalid {
            path: path.to_path_buf(),
            text: text.to_string(),
            problems: vec![Problem::new(None, "file", "the scenario file is empty").help(
                "a scenario needs a [scenario] table, [[place]]s, [[route]]s and at least one [[population]]; \
                 see docs/scenario-format.md",
            )],
        });
    }
    let mut sc = load_marked(bytes, path, Reading::Central)?;
    if !sc.uncertain.is_empty() {
        // Every range end must be a valid value of its field: the file is
        // read with every uncertain input at the low ends, then at the high
        // ends, and what is wrong there is reported at the range's end.
        let mut problems = Vec::new();
        for (reading, which) in [(Reading::Low, "low"), (Reading::High, "high")] {
            if let Err(LoadError::Invalid { problems: ps, .. }) = load_marked(bytes, path, reading) {
                problems.extend(ps.into_iter().map(|mut p| {
                    p.message = format!(
                        "with the uncertain inputs at the {which} ends of their ranges: {}",
                        p.message
                    );
                    p
                }));
            }
        }
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.span.as_ref().map(|s| s.start).unwrap_or(usize::MAX));
            problems.dedup();
            return Err(LoadError::Invalid {
                path: path.to_path_buf(),
                text: text.to_string(),
                problems,
            });
        }
        sc.source = Some(Arc::new(Source {
            path: path.to_path_buf(),
            text: text.to_string(),
        }));
    }
    Ok(sc)
}

/// A headline figure: `METRIC@PLACE,PLACE` (a places.csv column over
/// those places) or `METRIC` (a state at the end, or an event over the
/// run); `Err((what is wrong, what would be valid))`.
pub fn parse_headline(text: &str, index: &HashMap<String, PlaceIx>) -> Result<Headline, (String, String)> {
    let cols: Vec<&str> = crate::engine::Col::ALL.iter().map(|c| c.name()).collect();
    let whole: Vec<&str> = crate::agents::State::ALL
        .iter()
        .map(|s| s.name())
        .chain(crate::agents::Event::ALL.iter().map(|e| e.name()))
        .collect();
    let (metric, list) = match text.split_once('@') {
        Some((m, p)) => (m.trim(), Some(p)),
        None => (text.trim(), None),
    };
    let names = if list.is_some() { &cols } else { &whole };
    if !names.contains(&metric) {
        let dym = closest(metric, names.iter().copied())
            .map(|c| format!("did you mean \"{c}\"? "))
            .unwrap_or_default();
        let what = if list.is_some() {
            format!("with places, a places.csv column: {}", cols.join(", "))
        } else {
            format!(
                "without places, a state or an event: {}; or METRIC@PLACE,PLACE for a places.csv column",
                whole.join(", ")
            )
        };
        return Err((format!("\"{metric}\" is not a metric here"), format!("{dym}{what}")));
    }
    let mut places = Vec::new();
    for id in list.into_iter().flat_map(|l| l.split(',')).map(str::trim) {
        match index.get(id) {
            Some(&p) => places.push(p),
            None => {
                // In the places' order: the same suggestion on every run.
                let mut ids: Vec<(&String, &PlaceIx)> = index.iter().collect();
                ids.sort_by_key(|(_, &p)| p);
                let dym = closest(id, ids.into_iter().map(|(id, _)| id.as_str()))
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                return Err((
                    format!("no place has id \"{id}\""),
                    format!("{dym}write METRIC@PLACE,PLACE with the ids of [[place]]s"),
                ));
            }
        }
    }
    Ok(Headline {
        text: text.to_string(),
        metric: metric.to_string(),
        places,
    })
}

/// Loads a scenario reading its uncertain marks as `reading` says.
pub(crate) fn load_marked(bytes: &[u8], path: &Path, reading: Reading) -> Result<Scenario, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.valid_up_to(),
    })?;
    let sha256 = hex(&Sha256::digest(bytes));
    let marks = Marks {
        found: Vec::new(),
        reading,
    };
    let (mut sc, marks) = read::read_toml_marked(text, path, ROOT_KEYS, Some(marks), |r, root| {
        Loader::new(r, path, sha256).load(root)
    })?;
    sc.uncertain = marks.map(|m| m.found).unwrap_or_default();
    // The marks are read from the very bytes loaded: a scenario given on a
    // pipe or a FIFO is never read twice, and a file changed since cannot
    // speak for this run.
    sc.marks = Arc::new(super::provenance::scan(text));
    Ok(sc)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The state of one load: the problem collector, and what a section
/// leaves for the checks that need several sections. Each section's file
/// adds its own methods (`impl Loader` in `places.rs`, `routes.rs`, …).
struct Loader<'r, 't> {
    r: &'r mut Reader<'t>,
    path: &'r Path,
    sha256: String,
    notes: Vec<String>,
    /// Every place id declared, valid or not, with its span: a reference to
    /// a place whose own table has an error is not reported again.
    declared: HashMap<String, std::ops::Range<usize>>,
    /// The same ids in file order, for suggestions that do not depend on a
    /// hash map's order (which differs from run to run).
    declared_order: Vec<String>,
    /// Header span of each valid cohort, for problems about the cohort.
    cohort_spans: Vec<std::ops::Range<usize>>,
    /// Id span of each valid policy.
    policy_spans: HashMap<String, std::ops::Range<usize>>,
    /// Caravans named by cohorts, in order of first mention, with the span
    /// of that mention.
    caravans: Vec<(String, std::ops::Range<usize>)>,
}

/// A loader is the context of its lists (`Tbl::list`): each item's reader
/// gets the loader, and the list reports through its reader.
impl<'t> AsMut<Reader<'t>> for Loader<'_, 't> {
    fn as_mut(&mut self) -> &mut Reader<'t> {
        self.r
    }
}

/// What the later sections refer to: the places (and their index by id),
/// routes and legs read so far, and the run's calendar (`None` when the
/// `[scenario]` head has an error: dates then are not checked against a
/// run whose dates are unknown).
struct Ctx<'a> {
    places: &'a [Place],
    place_index: &'a HashMap<String, PlaceIx>,
    routes: &'a [Route],
    legs: &'a [Leg],
    cal: Option<Calendar>,
}

impl<'r, 't> Loader<'r, 't> {
    fn new(r: &'r mut Reader<'t>, path: &'r Path, sha256: String) -> Self {
        Loader {
            r,
            path,
            sha256,
            notes: Vec::new(),
            declared: HashMap::new(),
            declared_order: Vec::new(),
            cohort_spans: Vec::new(),
            policy_spans: HashMap::new(),
            caravans: Vec::new(),
        }
    }

    fn load(mut self, root: &mut Tbl) -> Option<Scenario> {
        let head = super::head::parse(self.r, root, true);
        let behaviour = self.behaviour(root);
        let (places, place_index) = self.places(root);
        let (routes, legs) = self.routes(root, &places, &place_index, &behaviour);
        let ctx = Ctx {
            places: &places,
            place_index: &place_index,
            routes: &routes,
            legs: &legs,
            cal: head.as_ref().map(|h| h.cal),
        };
        let mut cohort_ids = HashSet::new();
        let mut cohorts = self.cohorts(root, &ctx, &mut cohort_ids);
        cohorts.extend(self.stocks(root, &ctx, &mut cohort_ids));
        self.check_cohort_count(root, &cohorts);
        if places.len() > crate::agents::MAX_PLACES {
            // Agents keep their place and target in 16 bits (agents.rs).
            let (n, most) = (places.len(), crate::agents::MAX_PLACES);
            let span = self.r.head(&root.span);
            self.r
                .err(span, "place", format!("{n} places"), format!("at most {most} places"));
        }
        let (declared_policies, documents) = policies::policy_ids(root);
        let policies = self.policies(root, &ctx, &documents);
        let variants = self.variants(root, &ctx, &documents, &policies, &declared_policies);
        self.check_policy_limits(&policies, &variants);
        if places.is_empty() && !root.has("place") {
            let span = self.r.head(&root.span);
            self.r.err(
                span,
                "place",
                "no [[place]] in the scenario",
                "add at least the origin and one claim point as [[place]] tables",
            );
        }
        if cohorts.is_empty() && !root.has("population") && !root.has("stock") {
            let span = self.r.head(&root.span);
            self.r.err(
                span,
                "population",
                "no [[population]] in the scenario",
                "add a [[population]] with id, origin, nationality, people, destinations and a departure \
                 (or a [[stock]] of people already on the road)",
            );
        }
        self.check_reachability(&places, &legs, &cohorts);
        self.check_memory(&cohorts);
        self.check_policy_places(&places, &policies);
        let caravans = std::mem::take(&mut self.caravans);
        self.check_caravans(&cohorts, &caravans);
        let head = head?;
        let headline = match &head.headline {
            Some(h) => Some(self.headline(h, &place_index)?),
            None => None,
        };
        Some(Scenario {
            about: crate::scenario::About {
                name: head.name.v,
                description: head.description,
                file: self.path.to_path_buf(),
                sha256: self.sha256,
            },
            calendar: head.cal,
            seed: head.seed,
            behaviour: behaviour?,
            places,
            routes,
            legs,
            cohorts,
            policies,
            variants,
            notes: {
                let mut seen = HashSet::new();
                self.notes.into_iter().filter(|n| seen.insert(n.clone())).collect()
            },
            place_index,
            caravans: caravans.into_iter().map(|(n, _)| n).collect(),
            headline,
            uncertain: Vec::new(),
            source: None,
            edits: Vec::new(),
            marks: Default::default(),
        })
    }

    /// The `headline`, reported at its span if it is not valid.
    fn headline(&mut self, h: &Sp<String>, index: &HashMap<String, PlaceIx>) -> Option<Headline> {
        match parse_headline(&h.v, index) {
            Ok(x) => Some(x),
            Err((msg, help)) => {
                self.r.err(h.span.clone(), "scenario.headline", msg, help);
                None
            }
        }
    }

    /// The cohorts of a caravan set out together: each names the same day
    /// with `depart = DATE`.
    fn check_caravans(&mut self, cohorts: &[Cohort], caravans: &[(String, std::ops::Range<usize>)]) {
        for (k, (name, span)) in caravans.iter().enumerate() {
            let days: Vec<(&Cohort, Option<u32>)> = cohorts
                .iter()
                .filter(|c| c.caravan == Some(k as u16))
                .map(|c| {
                    (
                        c,
                        match c.departure {
                            Departure::On(d) => Some(d),
                            _ => None,
                        },
                    )
                })
                .collect();
            let first = days.iter().find_map(|(_, d)| *d);
            if let Some((c, _)) = days.iter().find(|(c, _)| c.origin != days[0].0.origin) {
                self.r.err(
                    span.clone(),
                    &format!("population[{}].caravan", c.id),
                    format!("the cohorts of caravan \"{name}\" do not all set out from one place"),
                    "a caravan's groups set out together: give each of its cohorts the same single origin",
                );
            }
            for (c, d) in &days {
                if d.is_none() || *d != first {
                    self.r.err(
                        span.clone(),
                        &format!("population[{}].caravan", c.id),
                        format!("the cohorts of caravan \"{name}\" do not all set out on one day"),
                        "a caravan's groups set out together: give each of its cohorts the same depart = DATE",
                    );
                    break;
                }
            }
        }
    }

    fn check_cohort_count(&mut self, root: &Tbl, cohorts: &[Cohort]) {
        if cohorts.len() > CohortIx::MAX as usize {
            let span = self.r.head(&root.span);
            self.r.err(
                span,
                "population",
                format!("{} cohorts (populations and stocks)", cohorts.len()),
                format!("at most {} cohorts", CohortIx::MAX),
            );
        }
    }

    /// Limits of the policy tables, for the base and under every variant:
    /// at most `MAX_PAPERS` documents policies (their papers are told apart
    /// by one bit each), and policy classes that fit in 16 bits.
    fn check_policy_limits(&mut self, base: &[Policy], variants: &[Variant]) {
        let mut sets: Vec<(String, Vec<&Policy>)> = vec![(String::new(), base.iter().collect())];
        for v in variants {
            let mut ps: Vec<&Policy> = base.iter().filter(|p| !v.remove.contains(&p.id)).collect();
            for p in &v.policies {
                match ps.iter_mut().find(|q| q.id == p.id) {
                    Some(q) => *q = p,
                    None => ps.push(p),
                }
            }
            sets.push((format!(" under variant {}", v.id), ps));
        }
        let max = crate::policy::MAX_PAPERS;
        for (under, ps) in sets {
            let docs: Vec<&&Policy> = ps.iter().filter(|p| p.kind.issues_papers()).collect();
            if let Some(p) = docs.get(max) {
                self.r.push(
                    Problem::new(
                        self.policy_spans.get(&p.id).cloned(),
                        format!("policy[{}]", p.id),
                        format!("{} policies that give papers{under}: at most {max}", docs.len()),
                    )
                    .help(format!(
                        "papers of each documents policy or offer are told apart by one of {max} bits; merge \
                             places that issue the same papers into one policy"
                    )),
                );
            }
            let classes = crate::policy::class_count(ps.iter().copied());
            if classes > 1 << 16 {
                let last = ps.last().map(|p| p.id.clone()).unwrap_or_default();
                self.r.push(
                    Problem::new(
                        self.policy_spans.get(&last).cloned(),
                        "policy",
                        format!(
                            "the policies{under} tell apart {classes} classes of people (named nationalities × \
                             traits), more than the {} a class number holds",
                            1 << 16
                        ),
                    )
                    .help("name fewer nationalities in `nationalities`, or use fewer traits in `exempt`"),
                );
            }
        }
    }

    fn check_policy_places(&mut self, places: &[Place], policies: &[Policy]) {
        for p in policies {
            let (border, crossings): (Option<Border>, Vec<&Place>) = match &p.kind {
                PolicyKind::Stca { border, .. } | PolicyKind::Title42 { border, .. } => (
                    Some(*border),
                    places.iter().filter(|pl| pl.border == Some(*border)).collect(),
                ),
                PolicyKind::Removal {
                    places: at,
                    send_to: SendBack::NearSide,
                    ..
                } => (None, at.iter().map(|&i| &places[i as usize]).collect()),
                _ => continue,
            };
            let span = self.policy_spans.get(&p.id).cloned();
            if let (Some(border), true) = (border, crossings.is_empty()) {
                self.r.push(
                    Problem::new(
                        span.clone(),
                        format!("policy[{}].border", p.id),
                        format!("no crossing has border = \"{border}\""),
                    )
                    .help("give the border's crossings `border` so the policy has places to act on"),
                );
            }
            for c in crossings {
                if c.near_side.is_none() {
                    let cspan = self.declared.get(&c.id).cloned();
                    self.r.push(
                        Problem::new(
                            cspan,
                            format!("place[{}].near_side", c.id),
                            format!(
                                "policy {} sends people back from this crossing, but it has no near_side",
                                p.id
                            ),
                        )
                        .help("set near_side to the place on the other side where people sent back go"),
                    );
                }
            }
        }
    }

    fn check_reachability(&mut self, places: &[Place], legs: &[Leg], cohorts: &[Cohort]) {
        if places.is_empty() {
            return;
        }
        let mut out: Vec<Vec<PlaceIx>> = vec![Vec::new(); places.len()];
        for l in legs {
            out[l.from as usize].push(l.to);
        }
        for (ci, c) in cohorts.iter().enumerate() {
            // A stock starts where it waits, or at the end of its leg.
            let start = match c.stock {
                Some(Stock { leg: Some(l), .. }) => legs[l as usize].to,
                Some(s) => s.place,
                None => c.origin,
            };
            let mut seen = vec![false; places.len()];
            let mut stack = vec![start];
            seen[start as usize] = true;
            while let Some(p) = stack.pop() {
                for &q in &out[p as usize] {
                    if !seen[q as usize] {
                        seen[q as usize] = true;
                        stack.push(q);
                    }
                }
            }
            let candidate = |p: usize| {
                let pl = &places[p];
                pl.claims
                    && Dest::of(pl.country)
                        .map(|d| c.destinations[d as usize] > 0.0)
                        .unwrap_or(false)
                    && c.knows.as_ref().map(|k| k.contains(&(p as PlaceIx))).unwrap_or(true)
            };
            if !(0..places.len()).any(|p| seen[p] && candidate(p)) {
                self.r.push(
                    Problem::new(self.cohort_spans.get(ci).cloned(), format!("{}[{}]", if c.stock.is_some() { "stock" } else { "population" }, c.id), format!("no claim point in a destination country is reachable from {}", places[start as usize].id))
                        .help("add routes from there to a claim point (claims = true) in a country listed in destinations, and check `knows`"),
                );
            }
        }
    }

    fn check_memory(&mut self, cohorts: &[Cohort]) {
        let people: u128 = cohorts.iter().map(|c| c.people as u128).sum();
        // Groups have at least one person, so there are at most `people` agents.
        let need = people * crate::agents::BYTES_PER_AGENT as u128;
        if people >= u32::MAX as u128 {
            self.r.push(
                Problem::new(
                    self.cohort_spans.first().cloned(),
                    "population",
                    format!("{people} people in all: more than the engine's {} agents", u32::MAX - 1),
                )
                .help("split the study into several runs, or use larger groups"),
            );
            return;
        }
        if let Some(avail) = available_memory() {
            if need > avail as u128 {
                let span = self.cohort_spans.first().cloned();
                self.r.push(
                    Problem::new(
                        span,
                        "population",
                        format!(
                            "{people} people would need up to {} of memory for agents; this machine has {} available",
                            human_bytes(need),
                            human_bytes(avail as u128)
                        ),
                    )
                    .help("reduce people, or run on a machine with more memory"),
                );
            }
        }
    }
}

/// Memory available to this process, from /proc/meminfo (Linux); `None`
/// where it cannot be read, and then no check is made.
pub fn available_memory() -> Option<u64> {
    if let Ok(v) = std::env::var("NORTHBOUND_MEMORY_BYTES") {
        return v.parse().ok();
    }
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Bytes as a short human figure (GiB, MiB).
pub fn human_bytes(b: u128) -> String {
    let b = b as f64;
    if b >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", b / (1u64 << 30) as f64)
    } else if b >= (1u64 << 20) as f64 {
        format!("{:.1} MiB", b / (1u64 << 20) as f64)
    } else {
        format!("{b:.0} bytes")
    }
}
