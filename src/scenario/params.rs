//! Numeric fields of a loaded scenario named by paths, for calibration and
//! sweeps: `behaviour.w_dist`, `population.<id>.people`,
//! `policy.<id>.expulsion_rate`, `place.<id>.capacity`.
//!
//! Owns the list of settable fields and their valid ranges. Must not touch
//! the file: it changes the validated `Scenario` in memory.

use super::model::*;

/// Why a parameter path or value was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParamError {
    /// The path names nothing settable.
    #[error("`{path}` is not a settable parameter: {help}")]
    Unknown {
        /// The path.
        path: String,
        /// What would be valid.
        help: String,
    },
    /// The value is outside the field's range.
    #[error("`{path}` = {value}: {help}")]
    Range {
        /// The path.
        path: String,
        /// The value.
        value: f64,
        /// The valid range.
        help: String,
    },
}

const BEHAVIOUR: &[&str] = &[
    "w_open",
    "w_dist",
    "w_cost",
    "w_risk",
    "learn_per_user",
    "news_delay_mean",
    "replan_days",
    "w_fail",
    "w_bar",
    "memory_trials",
    "learn_at_door",
    "learn_per_return",
    "depart_elasticity",
    "family_pace",
    "caravan_breakup",
];
const POPULATION: &[&str] = &[
    "people",
    "family_share",
    "minor_share",
    "informed_share",
    "daily_depart_share",
    "per_day",
    "claim_delay_days",
];
const POLICY: &[&str] = &[
    "expulsion_rate",
    "interception_rate",
    "detection_rate",
    "quota_per_year",
    "slots_per_day",
    "factor",
    "claim_within_days",
    "wait_days",
    "removal_rate",
    "bar_days",
    "honour_rate",
    "uptake",
];
const PLACE: &[&str] = &["capacity", "claims_per_day"];

/// Every settable field, as `kind.<id>.field` patterns, for messages.
pub fn settable() -> String {
    let mut v: Vec<String> = BEHAVIOUR.iter().map(|f| format!("behaviour.{f}")).collect();
    v.extend(POPULATION.iter().map(|f| format!("population.<id>.{f}")));
    v.extend(POLICY.iter().map(|f| format!("policy.<id>.{f}")));
    v.extend(PLACE.iter().map(|f| format!("place.<id>.{f}")));
    v.join(", ")
}

enum Slot<'a> {
    F(&'a mut f64, Kind),
    U64(&'a mut u64),
    OptU64(&'a mut Option<u64>),
    U32(&'a mut u32),
    Bar(&'a mut Bar),
}

#[derive(Clone, Copy)]
enum Kind {
    Rate,
    NonNeg,
    Positive,
}

fn unknown(path: &str) -> ParamError {
    ParamError::Unknown {
        path: path.to_string(),
        help: format!("settable: {}", settable()),
    }
}

fn slot<'a>(sc: &'a mut Scenario, path: &str) -> Result<Slot<'a>, ParamError> {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["behaviour", f] => {
            let b = &mut sc.behaviour;
            Ok(match *f {
                "w_open" => Slot::F(&mut b.w_open, Kind::NonNeg),
                "w_dist" => Slot::F(&mut b.w_dist, Kind::NonNeg),
                "w_cost" => Slot::F(&mut b.w_cost, Kind::NonNeg),
                "w_risk" => Slot::F(&mut b.w_risk, Kind::NonNeg),
                "learn_per_user" => Slot::F(&mut b.learn_per_user, Kind::Rate),
                "news_delay_mean" => Slot::F(&mut b.news_delay_mean, Kind::NonNeg),
                "replan_days" => Slot::U32(&mut b.replan_days),
                "w_fail" => Slot::F(&mut b.w_fail, Kind::NonNeg),
                "w_bar" => Slot::F(&mut b.w_bar, Kind::NonNeg),
                "memory_trials" => Slot::F(&mut b.memory_trials, Kind::NonNeg),
                "learn_at_door" => Slot::F(&mut b.learn_at_door, Kind::Rate),
                "learn_per_return" => Slot::F(&mut b.learn_per_return, Kind::Rate),
                "depart_elasticity" => Slot::F(&mut b.depart_elasticity, Kind::NonNeg),
                "family_pace" => Slot::F(&mut b.family_pace, Kind::Positive),
                "caravan_breakup" => Slot::F(&mut b.caravan_breakup, Kind::Rate),
                _ => return Err(unknown(path)),
            })
        }
        ["population", id, f] => {
            let c = sc
                .cohorts
                .iter_mut()
                .find(|c| c.id == *id)
                .ok_or_else(|| unknown(path))?;
            Ok(match (*f, &mut c.departure) {
                ("people", _) => Slot::U64(&mut c.people),
                ("family_share", _) => Slot::F(&mut c.family_share, Kind::Rate),
                ("minor_share", _) => Slot::F(&mut c.minor_share, Kind::Rate),
                ("informed_share", _) => Slot::F(&mut c.informed_share, Kind::Rate),
                ("daily_depart_share", Departure::Share(s)) => Slot::F(s, Kind::Rate),
                ("per_day", Departure::PerDay { per_day, .. }) => Slot::F(per_day, Kind::Positive),
                ("claim_delay_days", _) => Slot::U32(&mut c.claim_delay_days),
                _ => return Err(unknown(path)),
            })
        }
        ["policy", id, f] => {
            let p = sc
                .policies
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or_else(|| unknown(path))?;
            Ok(match (&mut p.kind, *f) {
                (PolicyKind::Title42 { expulsion_rate, .. }, "expulsion_rate") => Slot::F(expulsion_rate, Kind::Rate),
                (PolicyKind::Checkpoint { interception_rate, .. }, "interception_rate") => {
                    Slot::F(interception_rate, Kind::Rate)
                }
                (PolicyKind::Enforcement { detection_rate, .. }, "detection_rate") => {
                    Slot::F(detection_rate, Kind::Rate)
                }
                (PolicyKind::Pathway { quota_per_year, .. }, "quota_per_year") => Slot::F(quota_per_year, Kind::NonNeg),
                (PolicyKind::Appointments { slots_per_day, .. }, "slots_per_day") => {
                    Slot::F(slots_per_day, Kind::NonNeg)
                }
                (PolicyKind::Pressure { factor, .. }, "factor") => Slot::F(factor, Kind::NonNeg),
                (PolicyKind::Stca { claim_within_days, .. }, "claim_within_days") => Slot::U32(claim_within_days),
                (PolicyKind::Documents { wait_days, .. }, "wait_days") => Slot::U32(wait_days),
                (PolicyKind::Removal { removal_rate, .. }, "removal_rate") => Slot::F(removal_rate, Kind::Rate),
                (PolicyKind::Removal { bar, .. } | PolicyKind::Stca { bar, .. }, "bar_days") => Slot::Bar(bar),
                (PolicyKind::Checkpoint { honour_rate, .. }, "honour_rate") => Slot::F(honour_rate, Kind::Rate),
                (PolicyKind::Offer { uptake, .. }, "uptake") => Slot::F(uptake, Kind::Rate),
                _ => return Err(unknown(path)),
            })
        }
        ["place", id, f] => {
            let p = sc
                .places
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or_else(|| unknown(path))?;
            Ok(match *f {
                "capacity" => Slot::OptU64(&mut p.capacity),
                "claims_per_day" => Slot::OptU64(&mut p.claims_per_day),
                _ => return Err(unknown(path)),
            })
        }
        _ => Err(unknown(path)),
    }
}

/// The current value of a parameter.
pub fn get(sc: &Scenario, path: &str) -> Result<f64, ParamError> {
    get_in(sc, path).map_err(|e| with_nearest(sc, e))
}

fn get_in(sc: &Scenario, path: &str) -> Result<f64, ParamError> {
    let mut copy = sc.clone();
    Ok(match slot(&mut copy, path)? {
        Slot::F(x, _) => *x,
        Slot::U64(x) => *x as f64,
        Slot::OptU64(x) => x.map(|v| v as f64).unwrap_or(f64::INFINITY),
        Slot::U32(x) => *x as f64,
        Slot::Bar(b) => bar_value(b),
    })
}

/// A bar in days: 0 for none, infinity for a bar for good.
fn bar_value(b: &Bar) -> f64 {
    match b {
        Bar::None => 0.0,
        Bar::Days(d) => *d as f64,
        Bar::Forever => f64::INFINITY,
    }
}

/// Sets a parameter; whole-number fields are rounded.
pub fn set(sc: &mut Scenario, path: &str, value: f64) -> Result<(), ParamError> {
    set_in(sc, path, value).map_err(|e| with_nearest(sc, e))
}

/// An unknown path's message names the scenario's nearest valid paths.
fn with_nearest(sc: &Scenario, e: ParamError) -> ParamError {
    match e {
        ParamError::Unknown { path, help } => {
            let all: Vec<String> = list(sc).into_iter().map(|p| p.path).collect();
            let near = nearest(&path, all.iter().map(String::as_str));
            let help = if near.is_empty() {
                help
            } else {
                format!(
                    "did you mean {}? (`northbound params SCENARIO` lists them all)",
                    or_list(&near)
                )
            };
            ParamError::Unknown { path, help }
        }
        e => e,
    }
}

/// The valid names nearest to `wrong`, at most three, most similar first
/// (Jaro–Winkler similarity above 0.75, `strsim`).
pub fn nearest<'a>(wrong: &str, valid: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = valid.map(|v| (strsim::jaro_winkler(wrong, v), v)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .filter(|(s, _)| *s > 0.75)
        .take(3)
        .map(|(_, v)| v)
        .collect()
}

/// `a`, `a or b`, `a, b or c`.
pub fn or_list(v: &[&str]) -> String {
    match v {
        [] => String::new(),
        [a] => a.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn set_in(sc: &mut Scenario, path: &str, value: f64) -> Result<(), ParamError> {
    let range = |help: &str| ParamError::Range {
        path: path.to_string(),
        value,
        help: help.to_string(),
    };
    if !value.is_finite() {
        return Err(range("must be a finite number"));
    }
    match slot(sc, path)? {
        Slot::F(x, kind) => {
            match kind {
                Kind::Rate if !(0.0..=1.0).contains(&value) => return Err(range("a probability in [0, 1]")),
                Kind::NonNeg if value < 0.0 => return Err(range("must be ≥ 0")),
                Kind::Positive if value <= 0.0 => return Err(range("must be > 0")),
                _ => {}
            }
            *x = value;
        }
        Slot::U64(x) => {
            if value.round() < 1.0 {
                return Err(range("a whole number ≥ 1"));
            }
            *x = value.round() as u64;
        }
        Slot::OptU64(x) => {
            if value.round() < 1.0 {
                return Err(range("a whole number ≥ 1"));
            }
            *x = Some(value.round() as u64);
        }
        Slot::U32(x) => {
            if !(0.0..=MAX_DAYS_PARAM).contains(&value) {
                return Err(range("whole days, 0 to 65,000"));
            }
            *x = value.round() as u32;
        }
        Slot::Bar(b) => {
            if !(0.0..=MAX_DAYS_PARAM).contains(&value) {
                return Err(range("whole days, 0 to 65,000"));
            }
            *b = Bar::days(value.round() as u32);
        }
    }
    // Remembered, so that a scenario given other values for its uncertain
    // inputs (`scenario::uncertain`) is changed in the same way again.
    sc.edits.push(Edit::Set {
        path: path.to_string(),
        value,
    });
    Ok(())
}

const MAX_DAYS_PARAM: f64 = 65_000.0;

/// One settable field of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its path (`policy.t42.expulsion_rate`).
    pub path: String,
    /// Its value in the scenario (infinite for a capacity not set).
    pub value: f64,
    /// The smallest valid value.
    pub min: f64,
    /// The largest valid value (infinite if unbounded).
    pub max: f64,
    /// Whether `min` itself is excluded (`per_day` must be > 0).
    pub min_exclusive: bool,
    /// Whether `max` itself is excluded (a flee `capacity_buffer` < 1).
    pub max_exclusive: bool,
    /// Whether values are rounded to whole numbers.
    pub integer: bool,
}

/// Every field of `sc` that [`set`] accepts, with its value and valid
/// range, in the order behaviour, population, policy, place (file order
/// within each).
pub fn list(sc: &Scenario) -> Vec<Param> {
    let mut paths: Vec<String> = BEHAVIOUR.iter().map(|f| format!("behaviour.{f}")).collect();
    for c in &sc.cohorts {
        paths.extend(POPULATION.iter().map(|f| format!("population.{}.{f}", c.id)));
    }
    for p in &sc.policies {
        paths.extend(POLICY.iter().map(|f| format!("policy.{}.{f}", p.id)));
    }
    for p in &sc.places {
        paths.extend(PLACE.iter().map(|f| format!("place.{}.{f}", p.id)));
    }
    let mut copy = sc.clone();
    paths
        .into_iter()
        .filter_map(|path| {
            let (value, min, max, min_exclusive, integer) = match slot(&mut copy, &path).ok()? {
                Slot::F(x, Kind::Rate) => (*x, 0.0, 1.0, false, false),
                Slot::F(x, Kind::NonNeg) => (*x, 0.0, f64::INFINITY, false, false),
                Slot::F(x, Kind::Positive) => (*x, 0.0, f64::INFINITY, true, false),
                Slot::U64(x) => (*x as f64, 1.0, f64::INFINITY, false, true),
                Slot::OptU64(x) => (
                    x.map(|v| v as f64).unwrap_or(f64::INFINITY),
                    1.0,
                    f64::INFINITY,
                    false,
                    true,
                ),
                Slot::U32(x) => (*x as f64, 0.0, MAX_DAYS_PARAM, false, true),
                // A bar for good reads as infinity; it is set in whole days.
                Slot::Bar(b) => (bar_value(b), 0.0, MAX_DAYS_PARAM, false, true),
            };
            Some(Param {
                path,
                value,
                min,
                max,
                min_exclusive,
                max_exclusive: false,
                integer,
            })
        })
        .collect()
}

/// The valid range of a parameter in words: `[0, 1]`, `(0, ∞)`, `whole
/// numbers in [1, 6]`.
pub fn range_text(p: &Param) -> String {
    let hi = if p.max.is_finite() {
        p.max.to_string()
    } else {
        "∞".into()
    };
    let r = format!(
        "{}{}, {hi}{}",
        if p.min_exclusive { "(" } else { "[" },
        p.min,
        if p.max_exclusive || !p.max.is_finite() {
            ")"
        } else {
            "]"
        }
    );
    if p.integer {
        format!("whole numbers in {r}")
    } else {
        r
    }
}

/// What `northbound params` prints: an aligned table of every parameter
/// with its value and valid range, or the same as CSV (through
/// `table::Table`).
pub fn table(params: &[Param], csv: bool) -> std::io::Result<String> {
    if csv {
        let mut t = crate::table::Table::new(
            Vec::new(),
            [
                "path",
                "value",
                "min",
                "max",
                "min_exclusive",
                "max_exclusive",
                "integer",
            ],
        )?;
        for p in params {
            t.cell(&p.path)
                .cell(p.value)
                .cell(p.min)
                .cell(p.max)
                .cell(p.min_exclusive)
                .cell(p.max_exclusive)
                .cell(p.integer)
                .end_row()?;
        }
        return String::from_utf8(t.finish()?).map_err(std::io::Error::other);
    }
    let w = params.iter().map(|p| p.path.chars().count()).max().unwrap_or(4).max(4);
    let v = params
        .iter()
        .map(|p| p.value.to_string().chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!("{:<w$}  {:>v$}  valid\n", "path", "value");
    for p in params {
        let value = if p.value.is_finite() {
            p.value.to_string()
        } else {
            "∞".into()
        };
        s += &format!("{:<w$}  {:>v$}  {}\n", p.path, value, range_text(p));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_bytes;

    #[test]
    fn parameters_are_read_set_and_checked_by_path() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/all_levers.toml"))
            .expect("fixture");
        let mut sc = load_bytes(text.as_bytes(), std::path::Path::new("all.toml")).expect("loads");
        assert_eq!(get(&sc, "policy.t42.expulsion_rate"), Ok(0.5));
        set(&mut sc, "policy.t42.expulsion_rate", 0.25).expect("settable");
        assert_eq!(get(&sc, "policy.t42.expulsion_rate"), Ok(0.25));
        set(&mut sc, "population.south.people", 1234.4).expect("settable");
        assert_eq!(get(&sc, "population.south.people"), Ok(1234.0));
        set(&mut sc, "behaviour.w_dist", 2.0).expect("settable");
        assert!(matches!(
            set(&mut sc, "policy.t42.expulsion_rate", 1.5),
            Err(ParamError::Range { .. })
        ));
        assert!(matches!(
            set(&mut sc, "population.south.people", 0.0),
            Err(ParamError::Range { .. })
        ));
        assert!(matches!(
            get(&sc, "population.nobody.people"),
            Err(ParamError::Unknown { .. })
        ));
        assert!(matches!(get(&sc, "policy.t42.factor"), Err(ParamError::Unknown { .. })));
        assert!(matches!(
            get(&sc, "population.transit.daily_depart_share"),
            Err(ParamError::Unknown { .. })
        ));
    }

    #[test]
    fn the_failure_parameters_are_settable_by_path() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/all_levers.toml"))
            .expect("fixture");
        let mut sc = load_bytes(text.as_bytes(), std::path::Path::new("all.toml")).expect("loads");
        for (path, v) in [
            ("behaviour.w_fail", 4.0),
            ("behaviour.w_bar", 1.5),
            ("behaviour.memory_trials", 2.0),
            ("behaviour.learn_at_door", 0.25),
            ("behaviour.learn_per_return", 0.002),
            ("behaviour.depart_elasticity", 0.5),
            ("policy.title8.removal_rate", 0.3),
            ("policy.title8.bar_days", 365.0),
            ("population.flyers.claim_delay_days", 45.0),
        ] {
            set(&mut sc, path, v).expect("settable");
            assert_eq!(get(&sc, path), Ok(v), "{path}");
        }
        // An STCA turnback bars for good until a number of days is set.
        assert_eq!(get(&sc, "policy.stca_ports.bar_days"), Ok(f64::INFINITY));
        set(&mut sc, "policy.stca_ports.bar_days", 0.0).expect("settable");
        assert!(matches!(
            sc.policies.iter().find(|p| p.id == "stca_ports").map(|p| &p.kind),
            Some(PolicyKind::Stca { bar: Bar::None, .. })
        ));
        assert!(matches!(
            set(&mut sc, "behaviour.learn_at_door", 1.5),
            Err(ParamError::Range { .. })
        ));
        assert!(matches!(
            set(&mut sc, "policy.title8.bar_days", -1.0),
            Err(ParamError::Range { .. })
        ));
    }

    #[test]
    fn the_list_of_parameters_holds_every_settable_path_with_its_value_and_range() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/all_levers.toml"))
            .expect("fixture");
        let sc = load_bytes(text.as_bytes(), std::path::Path::new("all.toml")).expect("loads");
        let all = list(&sc);
        for p in &all {
            assert_eq!(get(&sc, &p.path), Ok(p.value), "{}", p.path);
            let mut probe = sc.clone();
            let inside = if p.max.is_finite() { p.max } else { p.min + 1.0 };
            assert_eq!(set(&mut probe, &p.path, inside), Ok(()), "{} accepts {inside}", p.path);
            let below = if p.min_exclusive { p.min } else { p.min - 1.0 };
            assert!(set(&mut probe, &p.path, below).is_err(), "{} refuses {below}", p.path);
            if p.max.is_finite() {
                assert!(
                    set(&mut probe, &p.path, p.max + 1.0).is_err(),
                    "{} refuses above its max",
                    p.path
                );
            }
        }
        let rate = all
            .iter()
            .find(|p| p.path == "policy.t42.expulsion_rate")
            .expect("listed");
        assert_eq!((rate.value, rate.min, rate.max, rate.integer), (0.5, 0.0, 1.0, false));
        let people = all
            .iter()
            .find(|p| p.path == "population.south.people")
            .expect("listed");
        assert!(people.integer && people.max.is_infinite());
        assert!(!all.iter().any(|p| p.path == "policy.t42.factor"));
    }
}
