//! The numeric settings of a `flee` scenario by path (`flee.camp_weight`,
//! `flee.awareness_level`, …), for sweeps, studies and `northbound params`.
//!
//! Owns the paths and the valid ranges of the numeric keys of
//! [`super::settings::KEYS`]; the values are read and written through
//! `Settings::get`/`Settings::set`, which stay the one place that enforces
//! them (a test holds this table to it). Must not touch the scenario's
//! other parts: a `flee` study varies the model's settings only.

use super::settings::{Kind, Value, KEYS};
use super::FleeScenario;
use crate::scenario::params::{Param, ParamError};

/// The prefix of every flee settings path.
pub const PREFIX: &str = "flee.";

/// (key, min, max, min excluded, max excluded) of each numeric key, as
/// `Settings::set` accepts them.
const RANGES: &[(&str, f64, f64, bool, bool)] = &[
    ("max_move_speed", 0.0, f64::INFINITY, true, false),
    ("max_walk_speed", 0.0, f64::INFINITY, true, false),
    ("foreign_weight", 0.0, f64::INFINITY, false, false),
    ("camp_weight", 0.0, f64::INFINITY, false, false),
    ("conflict_weight", 0.0, f64::INFINITY, false, false),
    ("conflict_movechance", 0.0, 1.0, false, false),
    ("camp_movechance", 0.0, 1.0, false, false),
    ("idpcamp_movechance", 0.0, 1.0, false, false),
    ("default_movechance", 0.0, 1.0, false, false),
    ("awareness_level", 1.0, 6.0, false, false),
    ("capacity_buffer", 0.0, 1.0, false, true),
    ("softening", 0.0, f64::INFINITY, false, false),
    ("weight_softening", 0.0, f64::INFINITY, false, false),
    ("weight_power", 0.0, f64::INFINITY, false, false),
    ("distance_power", 0.0, f64::INFINITY, false, false),
    ("home_distance_power", 0.0, f64::INFINITY, false, false),
    ("pop_power_for_loc_weight", 0.0, f64::INFINITY, false, false),
    ("movechance_pop_base", 0.0, f64::INFINITY, true, false),
    ("movechance_pop_scale_factor", 0.0, f64::INFINITY, false, false),
    ("hasten", 1.0, 999_999.0, false, false),
];

fn numeric(key: &str) -> Option<Kind> {
    KEYS.iter()
        .find(|(k, kind)| *k == key && matches!(kind, Kind::Num | Kind::Count))
        .map(|(_, kind)| *kind)
}

fn key_of(path: &str) -> Result<&str, ParamError> {
    path.strip_prefix(PREFIX)
        .filter(|k| numeric(k).is_some())
        .ok_or_else(|| {
            let all: Vec<String> = RANGES.iter().map(|r| format!("{PREFIX}{}", r.0)).collect();
            let near = crate::scenario::params::nearest(path, all.iter().map(String::as_str));
            ParamError::Unknown {
                path: path.to_string(),
                help: if near.is_empty() {
                    format!("a flee scenario's settable parameters are {}", all.join(", "))
                } else {
                    format!(
                        "did you mean {}? (`northbound params SCENARIO` lists them all)",
                        crate::scenario::params::or_list(&near)
                    )
                },
            }
        })
}

/// The value of a numeric setting by path.
pub fn get(sc: &FleeScenario, path: &str) -> Result<f64, ParamError> {
    match sc.settings.get(key_of(path)?) {
        Some(Value::Num(x)) => Ok(x),
        _ => Err(ParamError::Unknown {
            path: path.to_string(),
            help: "not a number".into(),
        }),
    }
}

/// Sets a numeric setting by path (whole-number settings rounded to the
/// nearest), with `Settings::set`'s checks.
pub fn set(sc: &mut FleeScenario, path: &str, value: f64) -> Result<(), ParamError> {
    let key = key_of(path)?;
    let v = if numeric(key) == Some(Kind::Count) {
        value.round()
    } else {
        value
    };
    sc.settings.set(key, &Value::Num(v)).map_err(|help| ParamError::Range {
        path: path.to_string(),
        value,
        help: format!("must be {help}"),
    })
}

/// Every numeric setting with its value and valid range, in `KEYS` order.
pub fn list(sc: &FleeScenario) -> Vec<Param> {
    RANGES
        .iter()
        .filter_map(|&(key, min, max, min_exclusive, max_exclusive)| {
            let path = format!("{PREFIX}{key}");
            Some(Param {
                value: get(sc, &path).ok()?,
                path,
                min,
                max,
                min_exclusive,
                max_exclusive,
                integer: numeric(key) == Some(Kind::Count),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_numeric_setting_is_listed_with_the_range_settings_set_enforces() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/flee-mali2012.toml"));
        let mut sc = crate::flee::load(path).expect("the shipped flee scenario loads");
        let all = list(&sc);
        let numeric_keys = KEYS.iter().filter(|(k, _)| numeric(k).is_some()).count();
        assert_eq!(all.len(), numeric_keys, "every numeric key has a range");
        for p in &all {
            let step = if p.integer { 1.0 } else { 1e-9 };
            let (lo_in, lo_out) = if p.min_exclusive {
                (p.min + step, p.min)
            } else {
                (p.min, p.min - step)
            };
            assert!(set(&mut sc, &p.path, lo_in).is_ok(), "{} accepts {lo_in}", p.path);
            assert!(set(&mut sc, &p.path, lo_out).is_err(), "{} refuses {lo_out}", p.path);
            if p.max.is_finite() {
                let (hi_in, hi_out) = if p.max_exclusive {
                    (p.max - step, p.max)
                } else {
                    (p.max, p.max + step)
                };
                assert!(set(&mut sc, &p.path, hi_in).is_ok(), "{} accepts {hi_in}", p.path);
                assert!(set(&mut sc, &p.path, hi_out).is_err(), "{} refuses {hi_out}", p.path);
            }
        }
        assert!(matches!(get(&sc, "flee.camp_weigth"), Err(ParamError::Unknown { .. })));
        assert!(matches!(
            get(&sc, "flee.start_on_foot"),
            Err(ParamError::Unknown { .. })
        ));
    }
}
