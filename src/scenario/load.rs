//! Stage two of loading: the spanned TOML tree (stage one, `toml`'s
//! `DeTable`, read through `read`) to a validated [`Scenario`].
//!
//! Owns every rule about what a scenario may say. Collects all problems and
//! reports them together; never panics on user input.

use super::diag::{closest, LoadError, Problem};
use super::model::*;
use super::read::{self, Marks, Reader, Reading, Sp, Tbl};
use crate::time::Calendar;
use chrono::NaiveDate;
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
const BEHAVIOUR_KEYS: &[&str] = &[
    "model",
    "w_open",
    "w_dist",
    "w_cost",
    "w_risk",
    "replan_days",
    "news_delay_days",
    "learn_per_user",
    "learn_window_days",
    "speed_km_per_day",
    "fare_usd_per_km",
    "harm_outcome",
    "no_target",
    "w_fail",
    "w_bar",
    "memory_trials",
    "learn_at_door",
    "learn_per_return",
    "depart_elasticity",
    "family_pace",
    "caravan_breakup",
];
const PLACE_KEYS: &[&str] = &[
    "id",
    "name",
    "country",
    "kind",
    "lat",
    "lon",
    "capacity",
    "claims",
    "border",
    "official",
    "near_side",
    "claims_per_day",
];
const ROUTE_KEYS: &[&str] = &[
    "id",
    "from",
    "to",
    "km",
    "mode",
    "days",
    "cost_usd",
    "risk",
    "both_ways",
];
/// The traits a `[[population]]` and a `[[stock]]` share (`Loader::traits`).
const TRAIT_KEYS: &[&str] = &[
    "nationality",
    "people",
    "household_size",
    "family_share",
    "minor_share",
    "destinations",
    "knows",
    "relatives",
    "visa",
    "resident_of",
    "budget_usd",
    "informed_share",
    "claim_delay_days",
];
/// A `[[population]]`'s own keys besides its traits: who, from where, when.
const POPULATION_KEYS: &[&str] = &[
    "id",
    "origin",
    "depart",
    "depart_from",
    "depart_until",
    "per_day",
    "daily_depart_share",
    "caravan",
];
/// A `[[stock]]`'s own keys besides its traits: where its people are (no
/// departure: they have set out already).
const STOCK_KEYS: &[&str] = &["id", "state", "place", "route", "to", "days_left", "origin"];
const POLICY_COMMON: &[&str] = &["id", "kind", "from", "until", "nationalities", "exempt"];
const POLICY_KINDS: &[(&str, &[&str])] = &[
    ("stca", &["border", "scope", "claim_within_days", "bar_days"]),
    ("visa", &["country", "exempt_visas"]),
    ("title42", &["border", "expulsion_rate"]),
    ("checkpoint", &["place", "interception_rate", "send_to", "honour_rate"]),
    ("closure", &["places", "routes", "one_way"]),
    ("enforcement", &["places", "detection_rate"]),
    ("pathway", &["country", "quota_per_year", "apply_at"]),
    ("appointments", &["ports", "slots_per_day", "request_from", "lead_days"]),
    ("documents", &["place", "wait_days", "papers"]),
    ("offer", &["place", "uptake", "send_to", "papers"]),
    ("pressure", &["country", "factor"]),
    ("removal", &["border", "places", "removal_rate", "bar_days", "send_to"]),
];
const VARIANT_KEYS: &[&str] = &["id", "description", "remove", "policy"];

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
                let dym = closest(id, index.keys().map(String::as_str))
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

/// A cohort of several origins as one cohort per origin (ids
/// `<id>_<place>`): its people shared by the origins' shares (whole people,
/// the rest to the largest share; an origin with nobody is dropped), and a `per_day` flow
/// shared alike. A cohort of one origin is itself.
fn split_by_origin(c: Cohort, origins: &[(PlaceIx, f64)], places: &[Place]) -> Vec<Cohort> {
    if origins.len() <= 1 {
        return vec![c];
    }
    let mut people: Vec<u64> = origins
        .iter()
        .map(|(_, s)| (c.people as f64 * s).floor() as u64)
        .collect();
    let largest = origins
        .iter()
        .enumerate()
        .fold(0, |b, (i, o)| if o.1 > origins[b].1 { i } else { b });
    // The floors never add up to more than the people (the shares sum to
    // 1); the rest goes to the largest share, and an origin left with
    // nobody is no cohort: a split never adds or loses a person.
    let placed: u64 = people.iter().sum();
    people[largest] += c.people.saturating_sub(placed);
    let over = people.iter().sum::<u64>().saturating_sub(c.people);
    people[largest] -= over.min(people[largest]);
    origins
        .iter()
        .zip(people)
        .filter(|&(_, n)| n > 0)
        .map(|(&(p, share), n)| {
            let mut x = c.clone();
            x.id = format!("{}_{}", c.id, places[p as usize].id);
            x.origin = p;
            x.people = n;
            if let Departure::PerDay { per_day, .. } = &mut x.departure {
                *per_day *= share;
            }
            x
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

struct Loader<'r, 't> {
    r: &'r mut Reader<'t>,
    path: &'r Path,
    sha256: String,
    notes: Vec<String>,
    /// Every place id declared, valid or not, with its span: a reference to
    /// a place whose own table has an error is not reported again.
    declared: HashMap<String, std::ops::Range<usize>>,
    /// Header span of each valid cohort, for problems about the cohort.
    cohort_spans: Vec<std::ops::Range<usize>>,
    /// Id span of each valid policy.
    policy_spans: HashMap<String, std::ops::Range<usize>>,
    /// Caravans named by cohorts, in order of first mention, with the span
    /// of that mention.
    caravans: Vec<(String, std::ops::Range<usize>)>,
}

impl<'r, 't> Loader<'r, 't> {
    fn new(r: &'r mut Reader<'t>, path: &'r Path, sha256: String) -> Self {
        Loader {
            r,
            path,
            sha256,
            notes: Vec::new(),
            declared: HashMap::new(),
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
        let cal = head.as_ref().map(|h| h.cal);
        let mut cohort_ids = HashSet::new();
        let mut cohorts = self.cohorts(root, &places, &place_index, cal, &mut cohort_ids);
        cohorts.extend(self.stocks(root, &places, &place_index, &routes, &legs, &mut cohort_ids));
        self.check_cohort_count(root, &cohorts);
        if places.len() > crate::agents::MAX_PLACES {
            // Agents keep their place and target in 16 bits (agents.rs).
            let (n, most) = (places.len(), crate::agents::MAX_PLACES);
            let span = self.r.head(&root.span);
            self.r
                .err(span, "place", format!("{n} places"), format!("at most {most} places"));
        }
        let ctx = PolicyCtx {
            places: &places,
            place_index: &place_index,
            routes: &routes,
            legs: &legs,
            cal,
        };
        let policy_tables = root.tables(self.r, "policy");
        // Every id written in a [[policy]], valid or not: a variant naming a
        // policy whose own table has an error is not reported again.
        let declared_policies: HashSet<String> = policy_tables
            .iter()
            .filter_map(|t| t_str(t, "id").map(str::to_string))
            .collect();
        let mut policies = Vec::new();
        let mut policy_ids: HashMap<String, std::ops::Range<usize>> = HashMap::new();
        // Papers traits name the policies that give papers (documents, and
        // offers with papers) by id: collect those ids first.
        let documents: Vec<String> = policy_tables
            .iter()
            .filter(|t| t_str(t, "kind") == Some("documents") || (t_str(t, "kind") == Some("offer") && t.has("papers")))
            .filter_map(|t| t_str(t, "id").map(str::to_string))
            .collect();
        for mut t in policy_tables {
            if let Some((p, span)) = self.policy(&mut t, &ctx, &documents) {
                if let Some(first) = policy_ids.get(&p.id) {
                    let line = self.r.line_of(first.start);
                    self.r.err(
                        span,
                        &t.path,
                        format!("duplicate policy id `{}`", p.id),
                        format!("the first is on line {line}; policy ids must be unique"),
                    );
                } else {
                    self.policy_spans.insert(p.id.clone(), span.clone());
                    policy_ids.insert(p.id.clone(), span);
                    policies.push(p);
                }
            }
            let keys = policy_keys(t_kind(&t));
            t.finish(self.r, &keys);
        }
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
            name: head.name.v,
            description: head.description,
            file: self.path.to_path_buf(),
            sha256: self.sha256,
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

    /// One of a fixed list of names, with a "did you mean" when it is not.
    fn choice<T: Copy>(&mut self, v: Sp<String>, field: &str, names: &[(&'static str, T)], what: &str) -> Option<T> {
        if let Some((_, x)) = names.iter().find(|(n, _)| *n == v.v) {
            return Some(*x);
        }
        let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        let dym = closest(&v.v, list.iter().copied())
            .map(|c| format!("did you mean \"{c}\"? "))
            .unwrap_or_default();
        self.r.err(
            v.span,
            field,
            format!("unknown {what} \"{}\"", v.v),
            format!("{dym}valid {what}s: {}", list.join(", ")),
        );
        None
    }

    fn rate(&mut self, t: &mut Tbl, key: &str, required: bool) -> Option<f64> {
        let v = t.num(self.r, key, required, "a probability between 0 and 1")?;
        self.check_rate(&t.field(key), &v)
    }

    fn check_rate(&mut self, field: &str, v: &Sp<f64>) -> Option<f64> {
        if !(0.0..=1.0).contains(&v.v) {
            self.r.err(
                v.span.clone(),
                field,
                format!("{} is outside [0, 1]", v.v),
                "rates and shares are probabilities between 0 and 1",
            );
            return None;
        }
        Some(v.v)
    }

    fn positive(&mut self, t: &mut Tbl, key: &str, required: bool, what: &str) -> Option<Sp<f64>> {
        let v = t.num(self.r, key, required, what)?;
        if v.v <= 0.0 {
            self.r.err(
                v.span.clone(),
                &t.field(key),
                format!("{} must be greater than 0", v.v),
                what,
            );
            return None;
        }
        Some(v)
    }

    /// An optional share: in `[0, 1]` with `zero_ok`, else in `(0, 1]`.
    fn share(&mut self, t: &mut Tbl, key: &str, zero_ok: bool, what: &str) -> Option<f64> {
        let v = if zero_ok {
            self.non_negative(t, key, false, what)
        } else {
            self.positive(t, key, false, what)
        }?;
        if v.v > 1.0 {
            self.r.err(v.span, &t.field(key), format!("{} is above 1", v.v), what);
            return None;
        }
        Some(v.v)
    }

    fn non_negative(&mut self, t: &mut Tbl, key: &str, required: bool, what: &str) -> Option<Sp<f64>> {
        let v = t.num(self.r, key, required, what)?;
        if v.v < 0.0 {
            self.r
                .err(v.span.clone(), &t.field(key), format!("{} is negative", v.v), what);
            return None;
        }
        Some(v)
    }

    fn count(&mut self, t: &mut Tbl, key: &str, required: bool, min: i64, what: &str) -> Option<Sp<u64>> {
        let v = t.int(self.r, key, required, what)?;
        if v.v < min {
            self.r.err(
                v.span.clone(),
                &t.field(key),
                format!("{} is less than {min}", v.v),
                what,
            );
            return None;
        }
        Some(Sp::new(v.v as u64, v.span))
    }

    fn behaviour(&mut self, root: &mut Tbl) -> Option<Behaviour> {
        let mut b = Behaviour::default();
        let Some(mut t) = root.sub(self.r, "behaviour") else {
            return Some(b);
        };
        let before = self.r.problems.len();
        self.behaviour_model(&mut t, &mut b);
        let w = "a weight ≥ 0";
        if let Some(v) = self.non_negative(&mut t, "w_open", false, w) {
            b.w_open = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_dist", false, w) {
            b.w_dist = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_cost", false, w) {
            b.w_cost = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_risk", false, w) {
            b.w_risk = v.v;
        }
        if let Some(v) = self.count(&mut t, "replan_days", false, 1, "a whole number of days ≥ 1") {
            b.replan_days = v.v.min(MAX_DAYS as u64) as u32;
        }
        self.news_delay(&mut t, &mut b);
        if let Some(v) = self.below_one(
            &mut t,
            "learn_per_user",
            "the daily chance of learning per recent user, a probability below 1",
        ) {
            b.learn_per_user = v;
        }
        if let Some(v) = self.count(&mut t, "learn_window_days", false, 1, "a whole number of days ≥ 1") {
            b.learn_window_days = v.v.min(MAX_DAYS as u64) as u32;
        }
        if let Some(v) = self.non_negative(&mut t, "w_fail", false, w) {
            b.w_fail = v.v;
        }
        if let Some(v) = self.non_negative(&mut t, "w_bar", false, w) {
            b.w_bar = v.v;
        }
        if let Some(v) = self.non_negative(
            &mut t,
            "memory_trials",
            false,
            "attempts the perceived rules count for against a group's own failures, ≥ 0",
        ) {
            b.memory_trials = v.v;
        }
        if let Some(v) = self.rate(&mut t, "learn_at_door", false) {
            b.learn_at_door = v;
        }
        if let Some(v) = self.below_one(
            &mut t,
            "learn_per_return",
            "the daily chance of learning per recent return, a probability below 1",
        ) {
            b.learn_per_return = v;
        }
        if let Some(v) = self.non_negative(
            &mut t,
            "depart_elasticity",
            false,
            "an elasticity ≥ 0 (0: departures ignore prospects)",
        ) {
            b.depart_elasticity = v.v;
        }
        if let Some(v) = self.share(
            &mut t,
            "family_pace",
            false,
            "a family's walking speed as a share of a lone walker's, in (0, 1]",
        ) {
            b.family_pace = v;
        }
        if let Some(v) = self.share(
            &mut t,
            "caravan_breakup",
            true,
            "a share in [0, 1] of the caravan's largest size (0: caravans never break up at once)",
        ) {
            b.caravan_breakup = v;
        }
        self.per_mode(
            &mut t,
            "fare_usd_per_km",
            &mut b.fare_usd_per_km,
            Self::non_negative,
            "US dollars per person and km, ≥ 0",
        );
        self.per_mode(
            &mut t,
            "speed_km_per_day",
            &mut b.speed_km_per_day,
            Self::positive,
            "a speed in km per day, > 0",
        );
        if let Some(v) = t.bool(self.r, "harm_outcome", "true or false") {
            b.harm_outcome = v.v;
        }
        if let Some(v) = t.str(self.r, "no_target", false, "") {
            match v.v.as_str() {
                "settle" => b.no_target = NoTarget::Settle,
                "return_home" => b.no_target = NoTarget::ReturnHome,
                other => self.r.err(
                    v.span,
                    &t.field("no_target"),
                    format!("unknown choice \"{other}\""),
                    "valid: \"settle\", \"return_home\"",
                ),
            }
        }
        t.finish(self.r, BEHAVIOUR_KEYS);
        (self.r.problems.len() == before).then_some(b)
    }

    /// `behaviour.model`: only "default" is loaded here; a "flee" model is
    /// a different file layout, so it gets its own message pointing there.
    fn behaviour_model(&mut self, t: &mut Tbl, b: &mut Behaviour) {
        if let Some(m) = t.str(self.r, "model", false, "") {
            match m.v.as_str() {
                "default" => b.model = Model::Default,
                "flee" => self.r.err(
                    m.span,
                    &t.field("model"),
                    "a `flee` scenario has its own layout (Flee's places, routes, conflicts and settings)",
                    "load it with `northbound::flee::load` (the CLI does so by itself); see docs/flee.md",
                ),
                other => {
                    let help = closest(other, ["default", "flee"])
                        .map(|c| format!("did you mean \"{c}\"? "))
                        .unwrap_or_default();
                    self.r.err(
                        m.span,
                        &t.field("model"),
                        format!("unknown behaviour model \"{other}\""),
                        format!("{help}valid: \"default\", \"flee\""),
                    );
                }
            }
        }
    }

    /// `behaviour.news_delay_days`: mean and max are checked against each
    /// other, and max must fit the engine's one-byte delay.
    fn news_delay(&mut self, t: &mut Tbl, b: &mut Behaviour) {
        if let Some(mut n) = t.sub(self.r, "news_delay_days") {
            let mean = self.non_negative(&mut n, "mean", false, "mean delay in days, ≥ 0");
            let max = self.count(&mut n, "max", false, 0, "longest delay in whole days, 0 to 255");
            if let Some(m) = &mean {
                b.news_delay_mean = m.v;
            }
            if let Some(m) = &max {
                if m.v > 255 {
                    self.r.err(
                        m.span.clone(),
                        &n.field("max"),
                        format!("{} days is too long", m.v),
                        "news delays are at most 255 days",
                    );
                } else {
                    b.news_delay_max = m.v as u32;
                }
            }
            if let (Some(m), Some(x)) = (&mean, &max) {
                if m.v > x.v as f64 {
                    self.r.err(
                        m.span.clone(),
                        &n.field("mean"),
                        format!("mean {} is above max {}", m.v, x.v),
                        "the mean delay must not exceed the longest delay",
                    );
                }
            }
            n.finish(self.r, &["mean", "max"]);
        }
    }

    /// A daily chance in [0, 1): 1 would make learning certain on the
    /// first day, which the learning model's geometric wait cannot express.
    fn below_one(&mut self, t: &mut Tbl, key: &str, help: &str) -> Option<f64> {
        let v = t.num(self.r, key, false, "a probability in [0, 1)")?;
        if !(0.0..1.0).contains(&v.v) {
            self.r
                .err(v.span, &t.field(key), format!("{} is outside [0, 1)", v.v), help);
            return None;
        }
        Some(v.v)
    }

    /// A sub-table with one number per travel mode (fares, speeds): the
    /// modes' names are its only keys, and `read` decides what is valid.
    fn per_mode(
        &mut self,
        t: &mut Tbl,
        key: &str,
        out: &mut [f64; 7],
        read: fn(&mut Self, &mut Tbl, &str, bool, &str) -> Option<Sp<f64>>,
        what: &str,
    ) {
        let Some(mut s) = t.sub(self.r, key) else { return };
        let names: Vec<&str> = Mode::NAMES.iter().map(|(n, _)| *n).collect();
        for (name, mode) in Mode::NAMES {
            if let Some(v) = read(self, &mut s, name, false, what) {
                out[mode as usize] = v.v;
            }
        }
        s.finish(self.r, &names);
    }

    fn country(&mut self, t: &mut Tbl, key: &str, required: bool) -> Option<Sp<Country>> {
        let v = t.str(self.r, key, required, "a two-letter ISO 3166-1 code, e.g. \"MX\"")?;
        match Country::parse(&v.v) {
            Some(c) => Some(Sp::new(c, v.span)),
            None => {
                self.r.err(
                    v.span,
                    &t.field(key),
                    format!("\"{}\" is not an ISO 3166-1 alpha-2 code", v.v),
                    "write two capital letters, e.g. \"MX\", \"US\", \"CA\", \"HT\"",
                );
                None
            }
        }
    }

    fn places(&mut self, root: &mut Tbl) -> (Vec<Place>, HashMap<String, PlaceIx>) {
        let mut places = Vec::new();
        let mut index: HashMap<String, PlaceIx> = HashMap::new();
        // Near sides name other places: resolve them once all ids are known.
        let mut near: Vec<(usize, Sp<String>, String)> = Vec::new();
        for mut t in root.tables(self.r, "place") {
            let id = self.place_id(&mut t);
            let name = t.str(self.r, "name", false, "");
            let country = self.country(&mut t, "country", true);
            let kind = t.str(
                self.r,
                "kind",
                true,
                "one of city, town, shelter, checkpoint, crossing, airport, camp, conflict",
            );
            let kind_field = t.field("kind");
            let kind = kind.and_then(|k| self.choice(k, &kind_field, &PlaceKind::NAMES, "place kind"));
            let (lat, lon) = self.lat_lon(&mut t);
            let capacity = self.count(
                &mut t,
                "capacity",
                false,
                1,
                "the most people present at once, a whole number ≥ 1",
            );
            let claims = t.bool(self.r, "claims", "true if asylum claims are taken here");
            let border = t.str(self.r, "border", false, "");
            let official = t.bool(
                self.r,
                "official",
                "true for an official port of entry, false between ports",
            );
            let near_side = t.str(self.r, "near_side", false, "the id of the place people sent back go to");
            let claims_per_day = self.count(
                &mut t,
                "claims_per_day",
                false,
                1,
                "people whose claims are taken per day, a whole number ≥ 1",
            );
            let crossing_keys = [
                ("border", border.is_some()),
                ("official", official.is_some()),
                ("near_side", near_side.is_some()),
            ];
            self.crossing_only(&mut t, kind, crossing_keys);
            let border = border.and_then(|b| self.border(&b, &t.field("border")));
            let claims_v = self.place_claims(&mut t, kind, &country, &claims, &claims_per_day);
            let i = places.len();
            if let Some(ns) = near_side {
                near.push((i, ns, t.field("near_side")));
            }
            t.finish(self.r, PLACE_KEYS);
            if id.as_ref().is_some_and(|id| !self.first_place_id(id)) {
                continue;
            }
            let (Some(id), Some(country), Some(kind), Some(lat), Some(lon)) = (id, country, kind, lat, lon) else {
                continue;
            };
            index.insert(id.v.clone(), i as PlaceIx);
            places.push(Place {
                name: name.map(|n| n.v).unwrap_or_else(|| id.v.clone()),
                id: id.v,
                country: country.v,
                kind,
                lat: lat.v,
                lon: lon.v,
                capacity: capacity.map(|c| c.v),
                claims: claims_v,
                border,
                official: official.map(|o| o.v).unwrap_or(true),
                near_side: None,
                claims_per_day: claims_per_day.map(|c| c.v),
            });
        }
        for (i, ns, field) in near {
            if let Some(p) = self.place_ref(&ns, &field, &index) {
                if let Some(place) = places.get_mut(i) {
                    place.near_side = Some(p);
                }
            }
        }
        (places, index)
    }

    /// A place's `id`, checked for its form. The table's path is renamed
    /// after the id at once so that every later message names the place,
    /// not its position in the file.
    fn place_id(&mut self, t: &mut Tbl) -> Option<Sp<String>> {
        let id = t.str(
            self.r,
            "id",
            true,
            "a short id of lower-case letters, digits and _ (e.g. \"tapachula\")",
        );
        if let Some(id) = &id {
            t.path = format!("place[{}]", id.v);
            if !valid_id(&id.v) {
                self.r.err(
                    id.span.clone(),
                    &t.field("id"),
                    format!("\"{}\" is not a valid id", id.v),
                    "use lower-case letters, digits and _ (e.g. \"roxham_road\")",
                );
            }
        }
        id
    }

    /// A place's `lat` and `lon`: both are read before either is checked,
    /// so a missing one and an out-of-range one are reported together.
    fn lat_lon(&mut self, t: &mut Tbl) -> (Option<Sp<f64>>, Option<Sp<f64>>) {
        let lat = t.num(self.r, "lat", true, "latitude in decimal degrees, −90 to 90");
        let lon = t.num(self.r, "lon", true, "longitude in decimal degrees, −180 to 180");
        if let Some(v) = &lat {
            if !(-90.0..=90.0).contains(&v.v) {
                self.r.err(
                    v.span.clone(),
                    &t.field("lat"),
                    format!("latitude {} is outside [−90, 90]", v.v),
                    "latitude in decimal degrees, −90 (south) to 90 (north)",
                );
            }
        }
        if let Some(v) = &lon {
            if !(-180.0..=180.0).contains(&v.v) {
                self.r.err(
                    v.span.clone(),
                    &t.field("lon"),
                    format!("longitude {} is outside [−180, 180]", v.v),
                    "longitude in decimal degrees, −180 (west) to 180 (east)",
                );
            }
        }
        (lat, lon)
    }

    /// `border`, `official` and `near_side` mean something only at a
    /// crossing; written on another kind they are a mistake, not ignored.
    /// An unknown kind is reported already, so it is not blamed again here.
    fn crossing_only(&mut self, t: &mut Tbl, kind: Option<PlaceKind>, keys: [(&str, bool); 3]) {
        let is_crossing = kind == Some(PlaceKind::Crossing);
        for (key, present) in keys {
            if present && kind.is_some() && !is_crossing {
                let span = t.get(key).map(|v| v.span()).unwrap_or_else(|| t.span.clone());
                self.r.err(
                    span,
                    &t.field(key),
                    format!("`{key}` is only for places of kind crossing"),
                    "remove it, or set kind = \"crossing\"",
                );
            }
        }
    }

    /// Whether a place takes asylum claims: by default crossings and
    /// airports of MX, US and CA do. Claims elsewhere, and a daily claim
    /// limit where none are taken, are contradictions the file must fix.
    fn place_claims(
        &mut self,
        t: &mut Tbl,
        kind: Option<PlaceKind>,
        country: &Option<Sp<Country>>,
        claims: &Option<Sp<bool>>,
        claims_per_day: &Option<Sp<u64>>,
    ) -> bool {
        let dest_country = country.as_ref().map(|c| Dest::of(c.v).is_some()).unwrap_or(true);
        let default_claims = matches!(kind, Some(PlaceKind::Crossing | PlaceKind::Airport)) && dest_country;
        let claims_v = claims.as_ref().map(|c| c.v).unwrap_or(default_claims);
        if let (Some(c), Some(co)) = (claims, country) {
            if c.v && Dest::of(co.v).is_none() {
                self.r.err(
                    c.span.clone(),
                    &t.field("claims"),
                    format!("claims are taken only in MX, US or CA, and this place is in {}", co.v),
                    "set claims = false, or correct the country",
                );
            }
        }
        if let Some(c) = claims_per_day {
            if !claims_v {
                self.r.err(
                    c.span.clone(),
                    &t.field("claims_per_day"),
                    "claims_per_day on a place that takes no claims",
                    "set claims = true, or remove claims_per_day",
                );
            }
        }
        claims_v
    }

    /// Records a place id as declared; `false` (with the problem reported)
    /// if it was declared before, so the duplicate is not loaded and the
    /// index keeps pointing at the first.
    fn first_place_id(&mut self, id: &Sp<String>) -> bool {
        if let Some(first) = self.declared.get(&id.v) {
            let line = self.r.line_of(first.start);
            self.r.err(
                id.span.clone(),
                &format!("place[{}].id", id.v),
                format!("duplicate place id `{}`", id.v),
                format!("the first is on line {line}; place ids must be unique"),
            );
            return false;
        }
        self.declared.insert(id.v.clone(), id.span.clone());
        true
    }

    fn border(&mut self, b: &Sp<String>, field: &str) -> Option<Border> {
        let parts: Vec<&str> = b.v.split('-').collect();
        let parsed = match parts.as_slice() {
            [s, n] => Country::parse(s).zip(Country::parse(n)),
            _ => None,
        };
        match parsed {
            Some((south, north)) if south != north => Some(Border { south, north }),
            _ => {
                self.r.err(
                    b.span.clone(),
                    field,
                    format!("\"{}\" is not a border", b.v),
                    "write the two countries, south first, e.g. \"MX-US\" or \"US-CA\"",
                );
                None
            }
        }
    }

    fn place_ref(&mut self, s: &Sp<String>, field: &str, index: &HashMap<String, PlaceIx>) -> Option<PlaceIx> {
        match index.get(&s.v) {
            Some(&p) => Some(p),
            None if self.declared.contains_key(&s.v) => None,
            None => {
                let dym = closest(&s.v, self.declared.keys().map(String::as_str))
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                self.r.err(
                    s.span.clone(),
                    field,
                    format!("no place has id \"{}\"", s.v),
                    format!("{dym}use the id of a [[place]] in this file"),
                );
                None
            }
        }
    }

    fn routes(
        &mut self,
        root: &mut Tbl,
        places: &[Place],
        index: &HashMap<String, PlaceIx>,
        b: &Option<Behaviour>,
    ) -> (Vec<Route>, Vec<Leg>) {
        let speeds = b
            .as_ref()
            .map(|b| b.speed_km_per_day)
            .unwrap_or(Behaviour::default().speed_km_per_day);
        let fares = b
            .as_ref()
            .map(|b| b.fare_usd_per_km)
            .unwrap_or(Behaviour::default().fare_usd_per_km);
        let mut routes = Vec::new();
        let mut legs = Vec::new();
        let mut ids: HashSet<String> = HashSet::new();
        for (n, mut t) in root.tables(self.r, "route").into_iter().enumerate() {
            let id = t.str(self.r, "id", false, "");
            let from = t.str(self.r, "from", true, "the id of the place the route starts at");
            let to = t.str(self.r, "to", true, "the id of the place the route ends at");
            t.path = match (&id, &from, &to) {
                (Some(i), _, _) => format!("route[{}]", i.v),
                (None, Some(f), Some(tt)) => format!("route[{}-{}]", f.v, tt.v),
                _ => format!("route[{n}]"),
            };
            let fp = from.as_ref().and_then(|f| self.place_ref(f, &t.field("from"), index));
            let tp = to.as_ref().and_then(|f| self.place_ref(f, &t.field("to"), index));
            if let (Some(a), Some(b), Some(tt)) = (fp, tp, &to) {
                if a == b {
                    self.r.err(
                        tt.span.clone(),
                        &t.field("to"),
                        "a route must join two different places",
                        "",
                    );
                }
            }
            let km = self.positive(&mut t, "km", true, "road distance in km, > 0");
            let mode = t.str(self.r, "mode", false, "");
            let mode_field = t.field("mode");
            let mode = match mode {
                None => Some(Mode::Walk),
                Some(m) => self.choice(m, &mode_field, &Mode::NAMES, "mode"),
            };
            let days = self.positive(&mut t, "days", false, "travel time in days, > 0");
            let cost = self.non_negative(&mut t, "cost_usd", false, "cost per person in US dollars, ≥ 0");
            let risk = self.rate(&mut t, "risk", false);
            let both = t.bool(
                self.r,
                "both_ways",
                "true if the route can be travelled in both directions",
            );
            if let Some(i) = &id {
                if !ids.insert(i.v.clone()) {
                    self.r.err(
                        i.span.clone(),
                        &t.field("id"),
                        format!("duplicate route id `{}`", i.v),
                        "route ids must be unique",
                    );
                }
            }
            t.finish(self.r, ROUTE_KEYS);
            let (Some(a), Some(bb), Some(km), Some(mode)) = (fp, tp, km, mode) else {
                continue;
            };
            if a == bb {
                continue;
            }
            let days = days.map(|d| d.v).unwrap_or(km.v / speeds[mode as usize]);
            let route = Route {
                id: id
                    .map(|i| i.v)
                    .unwrap_or_else(|| format!("{}-{}", places[a as usize].id, places[bb as usize].id)),
                from: a,
                to: bb,
                km: km.v,
                mode,
                days,
                // Not given: the mode's fare per km over the route's length.
                cost_usd: cost.map(|c| c.v).unwrap_or(km.v * fares[mode as usize]),
                risk: risk.unwrap_or(0.0),
                both_ways: both.map(|b| b.v).unwrap_or(true),
            };
            let ri = routes.len() as RouteIx;
            let leg = |from, to| Leg {
                route: ri,
                from,
                to,
                days: route.days as f32,
                km: route.km as f32,
                cost_usd: route.cost_usd as f32,
                risk: route.risk as f32,
                mode,
            };
            legs.push(leg(a, bb));
            if route.both_ways {
                legs.push(leg(bb, a));
            }
            routes.push(route);
        }
        (routes, legs)
    }

    fn country_shares(&mut self, t: &mut Tbl, key: &str, what: &str, dest_only: bool) -> Option<[f64; 3]> {
        let mut sub = t.sub(self.r, key)?;
        let mut out = [0.0; 3];
        let entries: Vec<_> = sub
            .entries()
            .map(|(k, v)| (Sp::new(k.v.to_string(), k.span), v))
            .collect();
        for (k, v) in entries {
            sub.get(&k.v);
            let field = sub.field(&k.v);
            let Some(d) = Country::parse(&k.v).and_then(Dest::of) else {
                self.r.err(
                    k.span,
                    &field,
                    format!("\"{}\" is not one of MX, US, CA", k.v),
                    format!("{what} can be given for MX, US and CA"),
                );
                continue;
            };
            let Some(x) = read::number(self.r, v, &field, what) else {
                continue;
            };
            if dest_only {
                if x.v < 0.0 {
                    self.r.err(
                        x.span,
                        &field,
                        format!("{} is negative", x.v),
                        "destination weights are ≥ 0",
                    );
                    continue;
                }
            } else if self.check_rate(&field, &x).is_none() {
                continue;
            }
            out[d as usize] = x.v;
        }
        sub.finish(self.r, &["MX", "US", "CA"]);
        Some(out)
    }

    fn cohorts(
        &mut self,
        root: &mut Tbl,
        places: &[Place],
        index: &HashMap<String, PlaceIx>,
        cal: Option<Calendar>,
        ids: &mut HashSet<String>,
    ) -> Vec<Cohort> {
        let mut cohorts = Vec::new();
        for (n, mut t) in root.tables(self.r, "population").into_iter().enumerate() {
            let id = t.str(self.r, "id", true, "a short id for the cohort, e.g. \"caravan\"");
            t.path = match &id {
                Some(i) => format!("population[{}]", i.v),
                None => format!("population[{n}]"),
            };
            let origins = self.origins(&mut t, index);
            let traits = self.traits(&mut t, places, index);
            let departure = self.departure(&mut t, cal);
            let caravan = t
                .str(
                    self.r,
                    "caravan",
                    false,
                    "the name of the caravan its groups set out in, e.g. \"exodo_2025\"",
                )
                .map(|c| match self.caravans.iter().position(|(n, _)| *n == c.v) {
                    Some(k) => k as u16,
                    None => {
                        self.caravans.push((c.v, c.span));
                        (self.caravans.len() - 1) as u16
                    }
                });
            self.cohort_id(&id, &t, ids, "population");
            let head_span = self.r.head(&t.span);
            t.finish(self.r, &[POPULATION_KEYS, TRAIT_KEYS].concat());
            let (Some(id), Some(origins), Some(traits), Some(departure)) = (id, origins, traits, departure) else {
                continue;
            };
            let mut cohort = traits.cohort(id.v, origins[0].0, departure, None);
            cohort.caravan = caravan;
            // A cohort with several origins is one cohort per origin, its
            // people (and per-day departures) shared among them.
            for c in split_by_origin(cohort, &origins, places) {
                if origins.len() > 1 && !ids.insert(c.id.clone()) {
                    self.r.err(
                        head_span.clone(),
                        &format!("population[{}]", c.id),
                        format!("the cohort `{}` of one origin has the id of another cohort", c.id),
                        "cohorts of several origins are named <id>_<place>: rename one of them",
                    );
                    continue;
                }
                self.cohort_spans.push(head_span.clone());
                cohorts.push(c);
            }
        }
        cohorts
    }

    /// The `[[stock]]` tables: people already on the road on the start
    /// date, each stock a cohort of its own (after the populations, so
    /// adding a stock leaves the populations' agent ids as they were).
    fn stocks(
        &mut self,
        root: &mut Tbl,
        places: &[Place],
        index: &HashMap<String, PlaceIx>,
        routes: &[Route],
        legs: &[Leg],
        ids: &mut HashSet<String>,
    ) -> Vec<Cohort> {
        let mut out = Vec::new();
        for (n, mut t) in root.tables(self.r, "stock").into_iter().enumerate() {
            let id = t.str(
                self.r,
                "id",
                true,
                "a short id for the stock, e.g. \"plattsburgh_waiting\"",
            );
            t.path = match &id {
                Some(i) => format!("stock[{}]", i.v),
                None => format!("stock[{n}]"),
            };
            let state = t.str(
                self.r,
                "state",
                true,
                "\"waiting\" (at a place) or \"travelling\" (on a route)",
            );
            let state_field = t.field("state");
            let state = state.and_then(|s| {
                self.choice(
                    s,
                    &state_field,
                    &[("waiting", false), ("travelling", true)],
                    "stock state",
                )
            });
            let stock = match state {
                Some(false) => self.stock_waiting(&mut t, index),
                Some(true) => self.stock_travelling(&mut t, places, routes, legs),
                None => None,
            };
            let origin = match t.str(
                self.r,
                "origin",
                false,
                "the id of the place the stock's people call home",
            ) {
                Some(o) => self.place_ref(&o, &t.field("origin"), index),
                // Home is where the stock is: returns "to the origin" send
                // its groups back there (docs/scenario-format.md).
                None => stock.map(|s| s.place),
            };
            let traits = self.traits(&mut t, places, index);
            self.cohort_id(&id, &t, ids, "stock");
            let head_span = self.r.head(&t.span);
            if let (Some(s), Some(tr)) = (&stock, &traits) {
                let at = s.leg.map(|l| legs[l as usize].to).unwrap_or(s.place);
                if let Some(cap) = places[at as usize]
                    .capacity
                    .filter(|c| s.leg.is_none() && tr.people > *c)
                {
                    self.notes.push(format!(
                        "stock {} puts {} people at {}, above its capacity of {cap}: nobody is let in there until fewer remain",
                        id.as_ref().map(|i| i.v.as_str()).unwrap_or("?"),
                        tr.people,
                        places[at as usize].id
                    ));
                }
            }
            t.finish(self.r, &[STOCK_KEYS, TRAIT_KEYS].concat());
            let (Some(id), Some(stock), Some(origin), Some(traits)) = (id, stock, origin, traits) else {
                continue;
            };
            self.cohort_spans.push(head_span);
            out.push(traits.cohort(id.v, origin, Departure::On(0), Some(stock)));
        }
        out
    }

    fn stock_waiting(&mut self, t: &mut Tbl, index: &HashMap<String, PlaceIx>) -> Option<Stock> {
        for key in ["route", "to", "days_left"] {
            if let Some(v) = t.get(key) {
                let span = v.span();
                self.r.err(
                    span,
                    &t.field(key),
                    format!("`{key}` is for a travelling stock"),
                    "a waiting stock has a place; remove it, or set state = \"travelling\"",
                );
            }
        }
        let place = t.str(
            self.r,
            "place",
            true,
            "the id of the place where the stock's people wait",
        )?;
        let p = self.place_ref(&place, &t.field("place"), index)?;
        Some(Stock {
            place: p,
            leg: None,
            days_left: 0.0,
        })
    }

    fn stock_travelling(&mut self, t: &mut Tbl, places: &[Place], routes: &[Route], legs: &[Leg]) -> Option<Stock> {
        if let Some(v) = t.get("place") {
            let span = v.span();
            self.r.err(
                span,
                &t.field("place"),
                "a travelling stock is on a route, not at a place",
                "give route, to (the end it is heading for) and days_left; or set state = \"waiting\"",
            );
        }
        let route = t.str(
            self.r,
            "route",
            true,
            "the id of the route travelled (a [[route]]'s id, or from-to)",
        );
        let to = t.str(self.r, "to", false, "");
        let days_left = self.positive(t, "days_left", true, "days of travel left on the route, > 0");
        let route = route?;
        let Some(ri) = routes.iter().position(|r| r.id == route.v) else {
            let dym = closest(&route.v, routes.iter().map(|r| r.id.as_str()))
                .map(|c| format!("did you mean \"{c}\"? "))
                .unwrap_or_default();
            self.r.err(
                route.span,
                &t.field("route"),
                format!("no route has id \"{}\"", route.v),
                format!("{dym}a route's id is its `id`, or from-to when it has none"),
            );
            return None;
        };
        let r = &routes[ri];
        let end = match &to {
            None => r.to,
            Some(to) => match places.iter().position(|p| p.id == to.v) {
                Some(p) if p as PlaceIx == r.to || p as PlaceIx == r.from => p as PlaceIx,
                _ => {
                    self.r.err(
                        to.span.clone(),
                        &t.field("to"),
                        format!("\"{}\" is not an end of route {}", to.v, r.id),
                        format!(
                            "the route joins {} and {}; `to` is the end the stock is heading for",
                            places[r.from as usize].id, places[r.to as usize].id
                        ),
                    );
                    return None;
                }
            },
        };
        let Some(li) = legs.iter().position(|l| l.route == ri as RouteIx && l.to == end) else {
            let span = to.map(|t| t.span).unwrap_or(route.span);
            self.r.err(
                span,
                &t.field("to"),
                format!(
                    "route {} goes one way, from {} to {}",
                    r.id, places[r.from as usize].id, places[r.to as usize].id
                ),
                format!("a stock on it heads for {}", places[r.to as usize].id),
            );
            return None;
        };
        let days_left = days_left?;
        if days_left.v > r.days + 1e-9 {
            self.r.err(
                days_left.span,
                &t.field("days_left"),
                format!("{} days left on a route of {:.2} days", days_left.v, r.days),
                "days_left is at most the route's days (given, or its km over the mode's speed)",
            );
            return None;
        }
        Some(Stock {
            place: legs[li].from,
            leg: Some(li as LegIx),
            days_left: days_left.v,
        })
    }

    /// Checks a cohort's id: valid, and unique among populations and stocks
    /// (both are rows of the `cohort` column).
    fn cohort_id(&mut self, id: &Option<Sp<String>>, t: &Tbl, ids: &mut HashSet<String>, what: &str) {
        let Some(i) = id else { return };
        if !valid_id(&i.v) {
            self.r.err(
                i.span.clone(),
                &t.field("id"),
                format!("\"{}\" is not a valid id", i.v),
                "use lower-case letters, digits and _",
            );
        }
        if !ids.insert(i.v.clone()) {
            self.r.err(
                i.span.clone(),
                &t.field("id"),
                format!("duplicate {what} id `{}`", i.v),
                "population and stock ids must be unique: each names rows of the cohort column",
            );
        }
    }

    /// The traits a `[[population]]` and a `[[stock]]` share: who the
    /// people are, what they want, know, hold and can pay.
    fn traits(&mut self, t: &mut Tbl, places: &[Place], index: &HashMap<String, PlaceIx>) -> Option<Traits> {
        let nationality = self.country(t, "nationality", true);
        let people = t.int(self.r, "people", true, "the number of people, a whole number ≥ 1");
        let people = people.and_then(|p| {
            if p.v < 1 {
                self.r.err(
                    p.span,
                    &t.field("people"),
                    format!("{} people: a cohort needs at least 1", p.v),
                    "people is a whole number ≥ 1",
                );
                None
            } else {
                Some(p.v as u64)
            }
        });
        let household = self.household(t);
        let family_share = self.rate(t, "family_share", false);
        let minor_share = self.rate(t, "minor_share", false);
        let destinations = self.country_shares(t, "destinations", "destination weights", true);
        if destinations.is_none() && !t.has("destinations") {
            let span = self.r.head(&t.span);
            self.r.err(
                span,
                &t.field("destinations"),
                "required field is missing",
                "weights of the countries the cohort aims for, e.g. destinations = { CA = 0.7, US = 0.3 }",
            );
        }
        if let Some(d) = &destinations {
            if d.iter().all(|x| *x == 0.0) {
                let span = t.get("destinations").map(|v| v.span()).unwrap_or(t.span.clone());
                self.r.err(
                    span,
                    &t.field("destinations"),
                    "no destination has a weight above 0",
                    "give at least one of MX, US, CA a positive weight",
                );
            }
        }
        let knows = t.strs(self.r, "knows", false, "a list of claim point ids");
        let knows = knows.map(|ks| {
            ks.iter()
                .filter_map(|k| {
                    let p = self.place_ref(k, &t.field("knows"), index)?;
                    if !places[p as usize].claims {
                        self.r.err(
                            k.span.clone(),
                            &t.field("knows"),
                            format!("\"{}\" takes no claims", k.v),
                            "knows lists claim points (places with claims = true)",
                        );
                        return None;
                    }
                    Some(p)
                })
                .collect::<Vec<_>>()
        });
        let relatives = self.country_shares(t, "relatives", "shares with relatives", false);
        let visa = self.country_shares(t, "visa", "visa shares", false);
        let resident_of = self.country(t, "resident_of", false);
        let budget = self.budget(t);
        let informed_share = self.rate(t, "informed_share", false);
        let claim_delay = self.count(
            t,
            "claim_delay_days",
            false,
            0,
            "days a visitor waits before claiming inland, a whole number ≥ 0",
        );
        Some(Traits {
            nationality: nationality?.v,
            people: people?,
            household_size: household?,
            family_share: family_share.unwrap_or(0.0),
            minor_share: minor_share.unwrap_or(0.0),
            destinations: destinations?,
            knows,
            relatives: relatives.unwrap_or([0.0; 3]),
            visa: visa.unwrap_or([0.0; 3]),
            resident_of: resident_of.map(|r| r.v),
            budget: budget.unwrap_or(None),
            informed_share: informed_share.unwrap_or(1.0),
            claim_delay_days: claim_delay.map(|c| c.v.min(MAX_DAYS as u64) as u32).unwrap_or(0),
        })
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

    /// `origin = "place"`, or `origin = { place = share, … }` for a cohort
    /// that lives in several places (shares normalised to sum to 1).
    fn origins(&mut self, t: &mut Tbl, index: &HashMap<String, PlaceIx>) -> Option<Vec<(PlaceIx, f64)>> {
        let field = t.field("origin");
        let help = "the id of the place the cohort starts from, or { place = share, … } for several";
        let is_table = matches!(t.peek("origin").map(|v| v.get_ref()), Some(toml::de::DeValue::Table(_)));
        if !is_table {
            let o = t.str(self.r, "origin", true, help)?;
            return self.place_ref(&o, &field, index).map(|p| vec![(p, 1.0)]);
        }
        let mut sub = t.sub(self.r, "origin")?;
        let entries: Vec<_> = sub
            .entries()
            .map(|(k, v)| (Sp::new(k.v.to_string(), k.span), v))
            .collect();
        let mut out = Vec::new();
        let mut ok = true;
        for (k, v) in entries {
            sub.get(&k.v);
            let f = sub.field(&k.v);
            let place = self.place_ref(&k, &f, index);
            let share = read::number(self.r, v, &f, "a share ≥ 0 of the cohort's people");
            match (place, share) {
                (Some(p), Some(s)) if s.v >= 0.0 => out.push((p, s.v)),
                (_, Some(s)) if s.v < 0.0 => {
                    self.r
                        .err(s.span, &f, format!("{} is negative", s.v), "shares of origins are ≥ 0");
                    ok = false;
                }
                _ => ok = false,
            }
        }
        sub.finish(self.r, &["<place id>"]);
        let total: f64 = out.iter().map(|(_, s)| s).sum();
        if ok && (out.is_empty() || total <= 0.0) {
            let span = self.r.head(&t.span);
            self.r.err(span, &field, "no origin has a share above 0", help);
            return None;
        }
        ok.then(|| out.into_iter().map(|(p, s)| (p, s / total)).collect())
    }

    fn household(&mut self, t: &mut Tbl) -> Option<Vec<(u8, f64)>> {
        let Some(mut sub) = t.sub(self.r, "household_size") else {
            // Default: families of four (assumption; see docs/scenario-format.md).
            return if t.has("household_size") {
                None
            } else {
                Some(vec![(4, 1.0)])
            };
        };
        let mut out = Vec::new();
        let entries: Vec<_> = sub
            .entries()
            .map(|(k, v)| (Sp::new(k.v.to_string(), k.span), v))
            .collect();
        let mut ok = true;
        for (k, v) in entries {
            sub.get(&k.v);
            let field = sub.field(&k.v);
            let size = k.v.parse::<u32>().ok().filter(|s| (1..=255).contains(s));
            let Some(size) = size else {
                self.r.err(
                    k.span,
                    &field,
                    format!("\"{}\" is not a group size", k.v),
                    "keys are group sizes from 1 to 255, e.g. household_size = { 2 = 0.3, 4 = 0.7 }",
                );
                ok = false;
                continue;
            };
            let Some(w) = read::number(self.r, v, &field, "a weight ≥ 0") else {
                ok = false;
                continue;
            };
            if w.v < 0.0 {
                self.r
                    .err(w.span, &field, format!("{} is negative", w.v), "weights are ≥ 0");
                ok = false;
                continue;
            }
            out.push((size as u8, w.v));
        }
        let total: f64 = out.iter().map(|(_, w)| w).sum();
        if ok && total <= 0.0 {
            self.r.err(
                sub.span.clone(),
                &t.field("household_size"),
                "no group size has a weight above 0",
                "give at least one size a positive weight",
            );
            ok = false;
        }
        sub.finish(self.r, &["1", "2", "3", "4", "…"]);
        ok.then(|| out.into_iter().map(|(s, w)| (s, w / total)).collect())
    }

    fn budget(&mut self, t: &mut Tbl) -> Option<Option<Budget>> {
        let field = t.field("budget_usd");
        let Some(v) = t.get("budget_usd") else {
            return Some(None);
        };
        let help = "US dollars per person: a number, or { median = …, p90 = … }";
        let lognormal = matches!(v.get_ref(), toml::de::DeValue::Table(tb) if tb.get("value").is_none());
        if lognormal {
            let mut sub = Tbl::of(self.r, v, field.clone())?;
            let median = self.positive(&mut sub, "median", true, "median budget per person, > 0");
            let p90 = self.positive(&mut sub, "p90", true, "90th percentile of budget per person, ≥ median");
            let p90_field = sub.field("p90");
            sub.finish(self.r, &["median", "p90"]);
            let (m, p) = (median?, p90?);
            if p.v < m.v {
                self.r.err(
                    p.span,
                    &p90_field,
                    format!("p90 {} is below the median {}", p.v, m.v),
                    "the 90th percentile must be at least the median",
                );
                return None;
            }
            return Some(Some(Budget::LogNormal { median: m.v, p90: p.v }));
        }
        let x = read::number(self.r, v, &field, help)?;
        if x.v < 0.0 {
            self.r.err(x.span, &field, format!("{} is negative", x.v), help);
            return None;
        }
        Some(Some(Budget::Fixed(x.v)))
    }

    fn departure(&mut self, t: &mut Tbl, cal: Option<Calendar>) -> Option<Departure> {
        let forms = ["depart", "depart_from", "depart_until", "per_day", "daily_depart_share"];
        let depart = t.date(self.r, "depart", false);
        let from = t.date(self.r, "depart_from", false);
        let until = t.date(self.r, "depart_until", false);
        let per_day = self.positive(t, "per_day", false, "people per day, > 0");
        let share = self.rate(t, "daily_depart_share", false);
        let help =
            "use one form: depart = DATE; depart_from + depart_until; depart_from + per_day; or daily_depart_share";
        let present: Vec<&str> = forms.iter().copied().filter(|k| t.has(k)).collect();
        let combo = (
            t.has("depart"),
            t.has("depart_from"),
            t.has("depart_until"),
            t.has("per_day"),
            t.has("daily_depart_share"),
        );
        let span_of = |t: &mut Tbl, k: &str| t.get(k).map(|v| v.span()).unwrap_or_else(|| t.span.clone());
        let in_run = |s: &mut Self, d: &Sp<NaiveDate>, field: String| -> Option<u32> {
            let cal = cal?;
            let day = cal.day_of(d.v);
            if day < 0 || day >= cal.days as i64 {
                s.r.err(
                    d.span.clone(),
                    &field,
                    format!("{} is outside the run ({} to {})", d.v, cal.start, cal.end()),
                    "departures must fall within the scenario's start and end",
                );
                return None;
            }
            Some(day as u32)
        };
        match combo {
            (true, false, false, false, false) => {
                let d = depart?;
                in_run(self, &d, t.field("depart")).map(Departure::On)
            }
            (false, true, true, false, false) => {
                let (f, u) = (from?, until?);
                let fd = in_run(self, &f, t.field("depart_from"));
                let ud = in_run(self, &u, t.field("depart_until"));
                let (fd, ud) = (fd?, ud?);
                if ud < fd {
                    self.r.err(
                        u.span,
                        &t.field("depart_until"),
                        format!("depart_until ({}) is before depart_from ({})", u.v, f.v),
                        "the window is inclusive: until must be on or after from",
                    );
                    return None;
                }
                Some(Departure::Spread { from: fd, until: ud })
            }
            (false, true, false, true, false) => {
                let f = from?;
                let fd = in_run(self, &f, t.field("depart_from"))?;
                Some(Departure::PerDay {
                    from: fd,
                    per_day: per_day?.v,
                })
            }
            (false, false, false, false, true) => Some(Departure::Share(share?)),
            (false, false, false, false, false) => {
                let span = self.r.head(&t.span);
                self.r.err(span, &t.field("depart"), "no departure form", help);
                None
            }
            _ => {
                let span = span_of(t, present.last().copied().unwrap_or("depart"));
                self.r.err(
                    span,
                    &t.field(present.join(" + ").as_str()),
                    "these departure keys do not make one form",
                    help,
                );
                None
            }
        }
    }

    fn policy(
        &mut self,
        t: &mut Tbl,
        ctx: &PolicyCtx,
        documents: &[String],
    ) -> Option<(Policy, std::ops::Range<usize>)> {
        let id = t.str(self.r, "id", true, "a short id for the policy, e.g. \"stca_ports\"");
        if let Some(i) = &id {
            let stem = t
                .path
                .rfind('[')
                .map(|b| t.path[..b].to_string())
                .unwrap_or_else(|| "policy".into());
            t.path = format!("{stem}[{}]", i.v);
            if !valid_id(&i.v) {
                self.r.err(
                    i.span.clone(),
                    &t.field("id"),
                    format!("\"{}\" is not a valid id", i.v),
                    "use lower-case letters, digits and _",
                );
            }
        }
        let kind = t.str(
            self.r,
            "kind",
            true,
            "one of stca, visa, title42, checkpoint, closure, enforcement, pathway, appointments, documents, pressure",
        );
        let kinds: Vec<&str> = POLICY_KINDS.iter().map(|(k, _)| *k).collect();
        let kind = kind.and_then(|k| {
            if kinds.contains(&k.v.as_str()) {
                Some(k)
            } else {
                let dym = closest(&k.v, kinds.iter().copied())
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                self.r.err(
                    k.span,
                    &t.field("kind"),
                    format!("unknown policy kind \"{}\"", k.v),
                    format!("{dym}valid kinds: {}", kinds.join(", ")),
                );
                None
            }
        });
        let from = t.date(self.r, "from", false);
        let until = t.date(self.r, "until", false);
        let window = self.window(
            t,
            from,
            until,
            ctx.cal,
            id.as_ref().map(|i| i.v.as_str()).unwrap_or("?"),
        );
        let nationalities = t
            .strs(self.r, "nationalities", false, "a list of ISO 3166-1 alpha-2 codes")
            .map(|ns| {
                ns.iter()
                    .filter_map(|n| match Country::parse(&n.v) {
                        Some(c) => Some(c),
                        None => {
                            self.r.err(
                                n.span.clone(),
                                &t.field("nationalities"),
                                format!("\"{}\" is not an ISO 3166-1 alpha-2 code", n.v),
                                "write two capital letters, e.g. \"MX\"",
                            );
                            None
                        }
                    })
                    .collect::<Vec<_>>()
            });
        let exempt = t.strs(
            self.r,
            "exempt",
            false,
            "traits: minor, family, relatives:CA, visa:US, papers:<documents policy id>",
        );
        let exempt = exempt.map(|es| {
            es.iter()
                .filter_map(|e| self.trait_of(e, &t.field("exempt"), documents))
                .collect::<Vec<_>>()
        });
        let kind = kind?;
        let k = self.policy_kind(t, &kind.v, ctx)?;
        let (from, until) = window?;
        Some((
            Policy {
                id: id.as_ref()?.v.clone(),
                from,
                until,
                nationalities,
                exempt: exempt.unwrap_or_default(),
                kind: k,
            },
            id?.span,
        ))
    }

    fn trait_of(&mut self, e: &Sp<String>, field: &str, documents: &[String]) -> Option<Trait> {
        let help = "valid traits: minor, family, relatives:MX|US|CA, visa:MX|US|CA, papers:<id of a documents policy>";
        let dest = |s: &str| Country::parse(s).and_then(Dest::of);
        let t = match e.v.split_once(':') {
            None if e.v == "minor" => Some(Trait::Minor),
            None if e.v == "family" => Some(Trait::Family),
            Some(("relatives", c)) => dest(c).map(Trait::Relatives),
            Some(("visa", c)) => dest(c).map(Trait::Visa),
            Some(("papers", p)) => match documents.iter().position(|d| d == p) {
                Some(i) => Some(Trait::Papers(i as PolicyIx)),
                None => {
                    self.r.err(
                        e.span.clone(),
                        field,
                        format!("no policy that gives papers has id \"{p}\""),
                        "papers:<id> names a policy of kind documents, or an offer with papers, in this file",
                    );
                    return None;
                }
            },
            _ => None,
        };
        if t.is_none() {
            self.r
                .err(e.span.clone(), field, format!("unknown trait \"{}\"", e.v), help);
        }
        t
    }

    fn window(
        &mut self,
        t: &mut Tbl,
        from: Option<Sp<NaiveDate>>,
        until: Option<Sp<NaiveDate>>,
        cal: Option<Calendar>,
        id: &str,
    ) -> Option<(u32, u32)> {
        let cal = cal?;
        let f = from.as_ref().map(|f| cal.day_of(f.v)).unwrap_or(0);
        let u = until.as_ref().map(|u| cal.day_of(u.v)).unwrap_or(cal.days as i64 - 1);
        if let (Some(fs), Some(us)) = (&from, &until) {
            if us.v < fs.v {
                self.r.err(
                    us.span.clone(),
                    &t.field("until"),
                    format!("until ({}) is before from ({})", us.v, fs.v),
                    "windows are inclusive: until must be on or after from",
                );
                return None;
            }
        }
        if u < 0 || f >= cal.days as i64 {
            let span = until
                .as_ref()
                .or(from.as_ref())
                .map(|s| s.span.clone())
                .unwrap_or(t.span.clone());
            self.r.err(
                span,
                &t.field("from"),
                format!("the window does not overlap the run ({} to {})", cal.start, cal.end()),
                "move the window into the run, or remove the policy",
            );
            return None;
        }
        if f < 0 {
            self.notes.push(format!(
                "policy {id}: from {} is before the start; clipped to {}",
                from.as_ref().map(|f| f.v.to_string()).unwrap_or_default(),
                cal.start
            ));
        }
        if u >= cal.days as i64 {
            self.notes.push(format!(
                "policy {id}: until {} is after the end; clipped to {}",
                until.as_ref().map(|u| u.v.to_string()).unwrap_or_default(),
                cal.end()
            ));
        }
        Some((f.max(0) as u32, u.min(cal.days as i64 - 1) as u32))
    }

    fn places_list(&mut self, t: &mut Tbl, key: &str, ctx: &PolicyCtx, required: bool) -> Option<Vec<PlaceIx>> {
        let list = t.strs(self.r, key, required, "a list of place ids")?;
        let field = t.field(key);
        let out: Vec<PlaceIx> = list
            .iter()
            .filter_map(|p| self.place_ref(p, &field, ctx.place_index))
            .collect();
        (out.len() == list.len()).then_some(out)
    }

    fn one_place(&mut self, t: &mut Tbl, key: &str, ctx: &PolicyCtx) -> Option<PlaceIx> {
        let s = t.str(self.r, key, true, "a place id")?;
        self.place_ref(&s, &t.field(key), ctx.place_index)
    }

    fn policy_kind(&mut self, t: &mut Tbl, kind: &str, ctx: &PolicyCtx) -> Option<PolicyKind> {
        Some(match kind {
            "stca" => self.stca(t)?,
            "visa" => self.visa(t)?,
            "title42" => {
                let b = t.str(self.r, "border", true, "the border, \"MX-US\"");
                let border = b.and_then(|b| self.border(&b, &t.field("border")));
                let rate = self.rate(t, "expulsion_rate", true);
                PolicyKind::Title42 {
                    border: border?,
                    expulsion_rate: rate?,
                }
            }
            "checkpoint" => {
                let place = self.one_place(t, "place", ctx);
                let rate = self.rate(t, "interception_rate", true);
                let send = self.send_to(t, ctx);
                let honour = if t.has("honour_rate") {
                    self.rate(t, "honour_rate", false)
                } else {
                    Some(1.0)
                };
                PolicyKind::Checkpoint {
                    place: place?,
                    interception_rate: rate?,
                    send_to: send?,
                    honour_rate: honour?,
                }
            }
            "closure" => self.closure(t, ctx)?,
            "enforcement" => {
                let places = self.places_list(t, "places", ctx, true);
                let rate = if t.has("detection_rate") {
                    self.rate(t, "detection_rate", false)
                } else {
                    Some(1.0)
                };
                PolicyKind::Enforcement {
                    places: places?,
                    detection_rate: rate?,
                }
            }
            "pathway" => {
                let country = self.country(t, "country", true);
                let q = self.non_negative(t, "quota_per_year", true, "lawful entries per year, ≥ 0");
                let at = self.places_list(t, "apply_at", ctx, true);
                PolicyKind::Pathway {
                    country: country?.v,
                    quota_per_year: q?.v,
                    apply_at: at?,
                }
            }
            "appointments" => {
                let ports = self.places_list(t, "ports", ctx, true);
                let slots = self.non_negative(t, "slots_per_day", true, "appointments per day, ≥ 0");
                let from = self.places_list(t, "request_from", ctx, true);
                let lead = self.count(
                    t,
                    "lead_days",
                    false,
                    0,
                    "days from the grant of an appointment to its date, ≥ 0",
                );
                PolicyKind::Appointments {
                    ports: ports?,
                    slots_per_day: slots?.v,
                    request_from: from?,
                    lead_days: lead.map(|l| l.v.min(MAX_DAYS as u64) as u32).unwrap_or(14),
                }
            }
            "documents" => {
                let place = self.one_place(t, "place", ctx);
                let wait = self.count(t, "wait_days", true, 0, "days of waiting, a whole number ≥ 0");
                let papers = t.str(self.r, "papers", false, "");
                PolicyKind::Documents {
                    place: place?,
                    wait_days: wait?.v.min(MAX_DAYS as u64) as u32,
                    papers: papers.map(|p| p.v).unwrap_or_default(),
                }
            }
            "offer" => {
                let place = self.one_place(t, "place", ctx);
                let uptake = self.rate(t, "uptake", true);
                let send = self.send_to(t, ctx);
                let papers = t.str(self.r, "papers", false, "the name of the papers given");
                PolicyKind::Offer {
                    place: place?,
                    uptake: uptake?,
                    send_to: send?,
                    papers: papers.map(|p| p.v),
                }
            }
            "pressure" => {
                let country = self.country(t, "country", true);
                let factor = self.non_negative(t, "factor", true, "a multiplier ≥ 0");
                PolicyKind::Pressure {
                    country: country?.v,
                    factor: factor?.v,
                }
            }
            "removal" => self.removal(t, ctx)?,
            _ => return None,
        })
    }

    /// A `stca` policy. Its own function because the scope and the bar
    /// (days, or for good when `bar_days` is absent) each need their own
    /// reading and message.
    fn stca(&mut self, t: &mut Tbl) -> Option<PolicyKind> {
        let b = t.str(self.r, "border", true, "the border, \"US-CA\"");
        let border = b.and_then(|b| self.border(&b, &t.field("border")));
        let scope = t.str(self.r, "scope", true, "\"ports\" or \"whole_border\"");
        let scope = scope.and_then(|s| match s.v.as_str() {
            "ports" => Some(StcaScope::Ports),
            "whole_border" => Some(StcaScope::WholeBorder),
            other => {
                self.r.err(
                    s.span,
                    &t.field("scope"),
                    format!("unknown scope \"{other}\""),
                    "valid: \"ports\", \"whole_border\"",
                );
                None
            }
        });
        let within = self.count(t, "claim_within_days", false, 0, "days, a whole number ≥ 0");
        let bar = if t.has("bar_days") {
            let b = self.count(
                t,
                "bar_days",
                false,
                0,
                "days a turnback bars later claims in the country, ≥ 0 (omit: for good, IRPA s. 101(1)(c))",
            );
            Bar::days(b?.v.min(MAX_DAYS as u64) as u32)
        } else {
            Bar::Forever
        };
        Some(PolicyKind::Stca {
            border: border?,
            scope: scope?,
            claim_within_days: within.map(|w| w.v.min(MAX_DAYS as u64) as u32).unwrap_or(14),
            bar,
        })
    }

    /// A `visa` policy: each exempt country is checked on its own so that
    /// every wrong code in the list is reported, not just the first.
    fn visa(&mut self, t: &mut Tbl) -> Option<PolicyKind> {
        let country = self.country(t, "country", true);
        let ex = t.strs(self.r, "exempt_visas", false, "a list of country codes, e.g. [\"US\"]");
        let ex = ex.map(|v| {
            v.iter()
                .filter_map(|c| match Country::parse(&c.v).filter(|c| Dest::of(*c).is_some()) {
                    Some(c) => Some(c),
                    None => {
                        self.r.err(
                            c.span.clone(),
                            &t.field("exempt_visas"),
                            format!("\"{}\" is not one of MX, US, CA", c.v),
                            "visas are tracked for MX, US and CA",
                        );
                        None
                    }
                })
                .collect::<Vec<_>>()
        });
        Some(PolicyKind::Visa {
            country: country?.v,
            exempt_visas: ex.unwrap_or_default(),
        })
    }

    /// A `closure`: places, routes or both, one of which must be present;
    /// the routes' direction depends on `one_way`, so it is read first.
    fn closure(&mut self, t: &mut Tbl, ctx: &PolicyCtx) -> Option<PolicyKind> {
        let places = if t.has("places") {
            self.places_list(t, "places", ctx, false)
        } else {
            Some(Vec::new())
        };
        let one_way = t
            .bool(self.r, "one_way", "true to close only the direction written")
            .map(|b| b.v)
            .unwrap_or(false);
        let legs = self.closure_routes(t, ctx, one_way);
        if !t.has("places") && !t.has("routes") {
            let span = self.r.head(&t.span);
            self.r.err(
                span,
                &t.field("places"),
                "a closure needs places, routes or both",
                "e.g. places = [\"laredo\"] or routes = [[\"nuevo_laredo\", \"laredo\"]]",
            );
            return None;
        }
        Some(PolicyKind::Closure {
            places: places?,
            legs: legs?,
        })
    }

    /// Where the people a checkpoint or an offer sends back go: "origin" is
    /// a word, not a place id, so it is matched before the place lookup.
    fn send_to(&mut self, t: &mut Tbl, ctx: &PolicyCtx) -> Option<SendTo> {
        let send = t.str(self.r, "send_to", true, "a place id, or \"origin\"");
        send.and_then(|s| {
            if s.v == "origin" {
                Some(SendTo::Origin)
            } else {
                self.place_ref(&s, &t.field("send_to"), ctx.place_index)
                    .map(SendTo::Place)
            }
        })
    }

    /// A `removal`: the crossings of `border`, or the listed `places` (which
    /// must be crossings), with its rate, bar and destination.
    fn removal(&mut self, t: &mut Tbl, ctx: &PolicyCtx) -> Option<PolicyKind> {
        let rate = if t.has("removal_rate") {
            self.rate(t, "removal_rate", false)
        } else {
            Some(1.0)
        };
        let bar = self.count(
            t,
            "bar_days",
            false,
            0,
            "days a removal bars later claims in the country, ≥ 0 (INA 212(a)(9)(A): 1825)",
        );
        let send_to = match t.str(self.r, "send_to", false, "\"near_side\", \"origin\" or a place id") {
            None => Some(SendBack::NearSide),
            Some(s) if s.v == "near_side" => Some(SendBack::NearSide),
            Some(s) if s.v == "origin" => Some(SendBack::To(SendTo::Origin)),
            Some(s) => self
                .place_ref(&s, &t.field("send_to"), ctx.place_index)
                .map(|p| SendBack::To(SendTo::Place(p))),
        };
        let places = match (t.has("border"), t.has("places")) {
            (true, false) => {
                let b = t.str(self.r, "border", true, "the border, e.g. \"MX-US\"");
                let border = b.as_ref().and_then(|b| self.border(b, &t.field("border")))?;
                let at: Vec<PlaceIx> = ctx
                    .places
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.kind == PlaceKind::Crossing && p.border == Some(border))
                    .map(|(i, _)| i as PlaceIx)
                    .collect();
                if at.is_empty() {
                    if let Some(b) = b {
                        self.r.err(
                            b.span,
                            &t.field("border"),
                            format!("no crossing has border = \"{border}\""),
                            "give the border's crossings `border` so the removal has places to act on",
                        );
                    }
                    return None;
                }
                Some(at)
            }
            (false, true) => {
                let list = self.places_list(t, "places", ctx, true)?;
                let field = t.field("places");
                let span = t.get("places").map(|v| v.span()).unwrap_or(t.span.clone());
                for &p in &list {
                    let pl = &ctx.places[p as usize];
                    if pl.kind != PlaceKind::Crossing {
                        self.r.err(
                            span.clone(),
                            &field,
                            format!("\"{}\" is a {}, not a crossing", pl.id, pl.kind.name()),
                            "a removal acts at border crossings (kind = \"crossing\")",
                        );
                        return None;
                    }
                }
                Some(list)
            }
            _ => {
                let span = self.r.head(&t.span);
                self.r.err(
                    span,
                    &t.field("border"),
                    "a removal needs either border or places",
                    "e.g. border = \"MX-US\" (every crossing of the border) or places = [\"roxham_road\"]",
                );
                return None;
            }
        };
        Some(PolicyKind::Removal {
            places: places?,
            removal_rate: rate?,
            bar: Bar::days(bar.map(|b| b.v.min(MAX_DAYS as u64) as u32).unwrap_or(0)),
            send_to: send_to?,
        })
    }

    fn closure_routes(&mut self, t: &mut Tbl, ctx: &PolicyCtx, one_way: bool) -> Option<Vec<LegIx>> {
        let help = "routes = [[\"from\", \"to\"], …] or route ids, e.g. routes = [\"bus_cdmx_monterrey\"]";
        let Some(items) = t.array(self.r, "routes", help) else {
            return if t.has("routes") { None } else { Some(Vec::new()) };
        };
        let field = t.field("routes");
        let mut legs = Vec::new();
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            let f = format!("{field}[{i}]");
            match item.get_ref() {
                toml::de::DeValue::String(id) => match ctx.routes.iter().position(|r| r.id == id.as_ref()) {
                    Some(ri) => {
                        for (li, l) in ctx.legs.iter().enumerate() {
                            if l.route == ri as RouteIx && (!one_way || l.from == ctx.routes[ri].from) {
                                legs.push(li as LegIx);
                            }
                        }
                    }
                    None => {
                        let dym = closest(id, ctx.routes.iter().map(|r| r.id.as_str()))
                            .map(|c| format!("did you mean \"{c}\"? "))
                            .unwrap_or_default();
                        self.r.err(
                            item.span(),
                            &f,
                            format!("no route has id \"{id}\""),
                            format!("{dym}{help}"),
                        );
                        ok = false;
                    }
                },
                toml::de::DeValue::Array(pair) if pair.len() == 2 => {
                    let ends: Vec<Option<PlaceIx>> = pair
                        .iter()
                        .map(|e| match e.get_ref().as_str() {
                            Some(s) => self.place_ref(&Sp::new(s.to_string(), e.span()), &f, ctx.place_index),
                            None => {
                                self.r.err(e.span(), &f, "expected a place id", help);
                                None
                            }
                        })
                        .collect();
                    let (Some(a), Some(b)) = (ends[0], ends[1]) else {
                        ok = false;
                        continue;
                    };
                    let found: Vec<LegIx> = ctx
                        .legs
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| (l.from == a && l.to == b) || (!one_way && l.from == b && l.to == a))
                        .map(|(i, _)| i as LegIx)
                        .collect();
                    if found.is_empty() {
                        self.r.err(
                            item.span(),
                            &f,
                            format!(
                                "no route joins {} and {}",
                                ctx.places[a as usize].id, ctx.places[b as usize].id
                            ),
                            "close a route that a [[route]] declares",
                        );
                        ok = false;
                    }
                    legs.extend(found);
                }
                _ => {
                    self.r
                        .err(item.span(), &f, "expected a pair of place ids or a route id", help);
                    ok = false;
                }
            }
        }
        legs.sort_unstable();
        legs.dedup();
        ok.then_some(legs)
    }

    fn variants(
        &mut self,
        root: &mut Tbl,
        ctx: &PolicyCtx,
        documents: &[String],
        base: &[Policy],
        declared: &HashSet<String>,
    ) -> Vec<Variant> {
        let mut out = Vec::new();
        let mut ids = HashSet::new();
        for mut t in root.tables(self.r, "variant") {
            let id = t.str(self.r, "id", true, "a short id for the variant, e.g. \"no_stca\"");
            if let Some(i) = &id {
                t.path = format!("variant[{}]", i.v);
                if !ids.insert(i.v.clone()) {
                    self.r.err(
                        i.span.clone(),
                        &t.field("id"),
                        format!("duplicate variant id `{}`", i.v),
                        "variant ids must be unique",
                    );
                }
            }
            let description = t.str(self.r, "description", false, "");
            let remove = t
                .strs(self.r, "remove", false, "a list of policy ids")
                .unwrap_or_default();
            for r in &remove {
                if !declared.contains(&r.v) {
                    let dym = closest(&r.v, base.iter().map(|p| p.id.as_str()))
                        .map(|c| format!("did you mean \"{c}\"? "))
                        .unwrap_or_default();
                    self.r.err(
                        r.span.clone(),
                        &t.field("remove"),
                        format!("no policy has id \"{}\"", r.v),
                        format!("{dym}remove names policies of the base scenario"),
                    );
                }
            }
            let mut policies = Vec::new();
            for mut pt in t.tables(self.r, "policy") {
                // A policy with a new id is added only when the variant says
                // so: a typo in the id of the policy to replace must not
                // quietly add a second one.
                let add = pt.bool(self.r, "add", "true to add a policy the base does not have");
                let pid = pt.str(self.r, "id", false, "").filter(|i| !i.v.is_empty());
                if let Some(id) = &pid {
                    let in_base = declared.contains(&id.v);
                    match add {
                        Some(a) if a.v && in_base => self.r.err(
                            a.span.clone(),
                            &format!("{}.add", pt.path),
                            format!("add = true, but the base scenario has a policy `{}`", id.v),
                            "remove `add` to replace the base's policy, or give the new policy an id of its own",
                        ),
                        Some(a) if a.v => {}
                        _ if in_base => {}
                        _ => {
                            let mut near: Vec<&str> = declared.iter().map(String::as_str).collect();
                            near.sort_unstable();
                            let dym = closest(&id.v, near.iter().copied())
                                .map(|c| format!("did you mean \"{c}\"? "))
                                .unwrap_or_default();
                            self.r.err(
                                id.span.clone(),
                                &format!("{}.id", pt.path),
                                format!("the base scenario has no policy `{}` to replace", id.v),
                                format!(
                                    "{dym}a variant's [[variant.policy]] replaces the base's policy with its id; \
                                     to add a new policy, write add = true"
                                ),
                            );
                        }
                    }
                }
                if let Some((p, _)) = self.policy(&mut pt, ctx, documents) {
                    policies.push(p);
                }
                let mut keys = policy_keys(t_kind(&pt));
                keys.push("add");
                pt.finish(self.r, &keys);
            }
            t.finish(self.r, VARIANT_KEYS);
            if let Some(id) = id {
                out.push(Variant {
                    id: id.v,
                    description: description.map(|d| d.v).unwrap_or_default(),
                    remove: remove.into_iter().map(|r| r.v).collect(),
                    policies,
                });
            }
        }
        out
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

/// What a `[[population]]` and a `[[stock]]` say of their people.
struct Traits {
    nationality: Country,
    people: u64,
    household_size: Vec<(u8, f64)>,
    family_share: f64,
    minor_share: f64,
    destinations: [f64; 3],
    knows: Option<Vec<PlaceIx>>,
    relatives: [f64; 3],
    visa: [f64; 3],
    resident_of: Option<Country>,
    budget: Option<Budget>,
    informed_share: f64,
    claim_delay_days: u32,
}

impl Traits {
    fn cohort(self, id: String, origin: PlaceIx, departure: Departure, stock: Option<Stock>) -> Cohort {
        Cohort {
            id,
            origin,
            nationality: self.nationality,
            people: self.people,
            household_size: self.household_size,
            family_share: self.family_share,
            minor_share: self.minor_share,
            destinations: self.destinations,
            knows: self.knows,
            relatives: self.relatives,
            visa: self.visa,
            resident_of: self.resident_of,
            budget: self.budget,
            informed_share: self.informed_share,
            claim_delay_days: self.claim_delay_days,
            departure,
            caravan: None,
            stock,
        }
    }
}

struct PolicyCtx<'a> {
    places: &'a [Place],
    place_index: &'a HashMap<String, PlaceIx>,
    routes: &'a [Route],
    legs: &'a [Leg],
    cal: Option<Calendar>,
}

fn t_str<'a>(t: &'a Tbl, key: &str) -> Option<&'a str> {
    t.peek(key).and_then(|v| v.get_ref().as_str())
}

fn t_kind<'a>(t: &'a Tbl) -> Option<&'a str> {
    t_str(t, "kind")
}

fn policy_keys(kind: Option<&str>) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = POLICY_COMMON.to_vec();
    if let Some((_, own)) = POLICY_KINDS.iter().find(|(k, _)| Some(*k) == kind) {
        keys.extend_from_slice(own);
    }
    keys
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
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
