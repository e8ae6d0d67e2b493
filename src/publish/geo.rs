//! `places.geojson` and `flows.geojson`: the places and routes of a run as
//! RFC 7946 GeoJSON (WGS 84 longitude, latitude; no `crs` member), with the
//! run's figures as properties, so that QGIS, kepler.gl, geojson.io and
//! newsroom map tools open them as they are.
//!
//! Property names are flat (`claims`, `claims_lo95`, `w2_people_fwd`,
//! `stca_suspended_claims_diff`): map tools filter and style on flat
//! properties. What the windows `w1`, `w2`, … are is written as a foreign
//! member `windows` of the collection.

use super::windows::windows;
use super::{PlaceMetric, VariantRuns};
use crate::ensemble::{paired, stats, Replicate, Stats};
use crate::output::{OutDir, OutputError};
use crate::scenario::Scenario;
use geojson::{Feature, FeatureCollection, Geometry, GeometryValue, JsonObject, JsonValue};

/// A number as JSON, to three decimals (whole numbers as integers).
fn num(x: f64) -> JsonValue {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        JsonValue::from(x as i64)
    } else {
        serde_json::Number::from_f64((x * 1000.0).round() / 1000.0)
            .map(JsonValue::Number)
            .unwrap_or(JsonValue::Null)
    }
}

/// Puts a figure's mean, and with more than one replicate its 2.5th and
/// 97.5th percentiles, under `key`, `key_lo95`, `key_hi95`.
fn put_stats(props: &mut JsonObject, key: &str, s: &Stats, replicates: usize) {
    props.insert(key.into(), num(s.mean));
    if replicates > 1 {
        props.insert(format!("{key}_lo95"), num(s.lo));
        props.insert(format!("{key}_hi95"), num(s.hi));
    }
}

fn write_collection(out: &mut OutDir, name: &str, fc: FeatureCollection) -> Result<(), OutputError> {
    let text = serde_json::to_string(&fc).map_err(|e| OutputError::Io {
        path: name.into(),
        source: std::io::Error::other(e),
    })?;
    super::text_file(out, name, &(text + "\n"))
}

fn foreign(sc: &Scenario, replicates: usize) -> JsonObject {
    let mut m = JsonObject::new();
    m.insert("name".into(), JsonValue::from(sc.about.name.clone()));
    m.insert("replicates".into(), JsonValue::from(replicates));
    m.insert("start".into(), JsonValue::from(sc.calendar.start.to_string()));
    m.insert("end".into(), JsonValue::from(sc.calendar.end().to_string()));
    m
}

/// The figures of places reported in `places.geojson`.
const FIGURES: [PlaceMetric; 8] = [
    PlaceMetric::Sum(crate::engine::Col::Arrived),
    PlaceMetric::Sum(crate::engine::Col::Claims),
    PlaceMetric::Sum(crate::engine::Col::TurnedBack),
    PlaceMetric::Sum(crate::engine::Col::Expelled),
    PlaceMetric::Sum(crate::engine::Col::Intercepted),
    PlaceMetric::Sum(crate::engine::Col::Detected),
    PlaceMetric::Sum(crate::engine::Col::Removed),
    PlaceMetric::Peak,
];

/// Writes `places.geojson`: a Point per place with its attributes and its
/// figures over `window` (inclusive day numbers; the whole run outside
/// `compare --window`): arrivals, claims, events, the most people present
/// at once and the share of its capacity that was; for a comparison, each
/// variant's figures and the paired differences with their 95 % intervals.
pub(crate) fn write_places(
    out: &mut OutDir,
    sc: &Scenario,
    base: &[Replicate],
    variants: &[VariantRuns<'_>],
    window: (u32, u32),
) -> Result<(), OutputError> {
    let n = base.len();
    let mut features = Vec::with_capacity(sc.places.len());
    for (p, place) in sc.places.iter().enumerate() {
        let mut props = JsonObject::new();
        props.insert("id".into(), JsonValue::from(place.id.clone()));
        props.insert("name".into(), JsonValue::from(place.name.clone()));
        props.insert("country".into(), JsonValue::from(place.country.to_string()));
        props.insert("kind".into(), JsonValue::from(place.kind.name()));
        props.insert("claim_point".into(), JsonValue::from(place.claims));
        if place.border.is_some() {
            props.insert("official_port".into(), JsonValue::from(place.official));
        }
        props.insert(
            "capacity".into(),
            place.capacity.map(JsonValue::from).unwrap_or(JsonValue::Null),
        );
        props.insert(
            "claims_per_day".into(),
            place.claims_per_day.map(JsonValue::from).unwrap_or(JsonValue::Null),
        );
        for m in FIGURES {
            let v: Vec<f64> = base.iter().map(|r| m.value(r, p, window.0, window.1)).collect();
            put_stats(&mut props, m.name(), &stats(&v), n);
        }
        let peak: Vec<f64> = base
            .iter()
            .map(|r| PlaceMetric::Peak.value(r, p, window.0, window.1))
            .collect();
        let use_of = place
            .capacity
            .filter(|c| *c > 0)
            .map(|c| num(stats(&peak).mean / c as f64))
            .unwrap_or(JsonValue::Null);
        props.insert("capacity_use".into(), use_of);
        for v in variants {
            for m in FIGURES {
                let b: Vec<f64> = base.iter().map(|r| m.value(r, p, window.0, window.1)).collect();
                let x: Vec<f64> = v.reps.iter().map(|r| m.value(r, p, window.0, window.1)).collect();
                let d = paired(&b, &x);
                let key = format!("{}_{}", v.id, m.name());
                props.insert(key.clone(), num(d.variant));
                props.insert(format!("{key}_diff"), num(d.diff));
                props.insert(format!("{key}_diff_lo95"), num(d.lo));
                props.insert(format!("{key}_diff_hi95"), num(d.hi));
            }
        }
        features.push(Feature {
            bbox: None,
            geometry: Some(Geometry::new(GeometryValue::Point {
                coordinates: vec![place.lon, place.lat].into(),
            })),
            id: None,
            properties: Some(props),
            foreign_members: None,
        });
    }
    let mut fm = foreign(sc, n);
    fm.insert(
        "from".into(),
        JsonValue::from(sc.calendar.date_of(window.0).to_string()),
    );
    fm.insert(
        "until".into(),
        JsonValue::from(sc.calendar.date_of(window.1).to_string()),
    );
    let fc = FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(fm),
    };
    write_collection(out, "places.geojson", fc)
}

/// Writes `flows.geojson`: a LineString per declared route (from its first
/// place to its second) with its mode and length and the people who set out
/// on it over the run, in each direction and in total; per policy window
/// (`w1_people`, …; the collection's `windows` member says when each ran
/// and which policies were in force); for a comparison, each variant's
/// people and the paired difference with its 95 % interval.
pub(crate) fn write_flows(
    out: &mut OutDir,
    sc: &Scenario,
    base: &[Replicate],
    variants: &[VariantRuns<'_>],
) -> Result<(), OutputError> {
    let n = base.len();
    let wins = windows(sc);
    // Each route's forward and backward legs.
    let mut legs: Vec<(Option<usize>, Option<usize>)> = vec![(None, None); sc.routes.len()];
    for (i, l) in sc.legs.iter().enumerate() {
        let r = &sc.routes[l.route as usize];
        let slot = &mut legs[l.route as usize];
        if l.from == r.from {
            slot.0 = Some(i);
        } else {
            slot.1 = Some(i);
        }
    }
    let leg_of = |r: &Replicate, leg: Option<usize>| leg.and_then(|l| r.legs.get(l)).copied().unwrap_or(0) as f64;
    let mut features = Vec::with_capacity(sc.routes.len());
    for (ri, route) in sc.routes.iter().enumerate() {
        let (fwd, back) = legs[ri];
        let (a, b) = (&sc.places[route.from as usize], &sc.places[route.to as usize]);
        let mut props = JsonObject::new();
        props.insert("route".into(), JsonValue::from(route.id.clone()));
        props.insert("from".into(), JsonValue::from(a.id.clone()));
        props.insert("to".into(), JsonValue::from(b.id.clone()));
        props.insert("mode".into(), JsonValue::from(route.mode.name()));
        props.insert("km".into(), num(route.km));
        props.insert("both_ways".into(), JsonValue::from(route.both_ways));
        let total = |r: &Replicate| leg_of(r, fwd) + leg_of(r, back);
        let f: Vec<f64> = base.iter().map(|r| leg_of(r, fwd)).collect();
        let bk: Vec<f64> = base.iter().map(|r| leg_of(r, back)).collect();
        let t: Vec<f64> = base.iter().map(total).collect();
        put_stats(&mut props, "people", &stats(&t), n);
        put_stats(&mut props, "people_fwd", &stats(&f), n);
        put_stats(&mut props, "people_back", &stats(&bk), n);
        if variants.is_empty() {
            for (w, _) in wins.iter().enumerate() {
                let at = |r: &Replicate, leg: Option<usize>| {
                    leg.and_then(|l| r.legs_by_window.get(w).and_then(|x| x.get(l)))
                        .copied()
                        .unwrap_or(0) as f64
                };
                let f: Vec<f64> = base.iter().map(|r| at(r, fwd)).collect();
                let bk: Vec<f64> = base.iter().map(|r| at(r, back)).collect();
                let t: Vec<f64> = base.iter().map(|r| at(r, fwd) + at(r, back)).collect();
                props.insert(format!("w{}_people", w + 1), num(stats(&t).mean));
                props.insert(format!("w{}_people_fwd", w + 1), num(stats(&f).mean));
                props.insert(format!("w{}_people_back", w + 1), num(stats(&bk).mean));
            }
        }
        for v in variants {
            let x: Vec<f64> = v.reps.iter().map(total).collect();
            let xf: Vec<f64> = v.reps.iter().map(|r| leg_of(r, fwd)).collect();
            let xb: Vec<f64> = v.reps.iter().map(|r| leg_of(r, back)).collect();
            let d = paired(&t, &x);
            props.insert(format!("{}_people", v.id), num(d.variant));
            props.insert(format!("{}_people_fwd", v.id), num(stats(&xf).mean));
            props.insert(format!("{}_people_back", v.id), num(stats(&xb).mean));
            props.insert(format!("{}_diff", v.id), num(d.diff));
            props.insert(format!("{}_diff_lo95", v.id), num(d.lo));
            props.insert(format!("{}_diff_hi95", v.id), num(d.hi));
        }
        features.push(Feature {
            bbox: None,
            geometry: Some(Geometry::new(GeometryValue::LineString {
                coordinates: vec![vec![a.lon, a.lat].into(), vec![b.lon, b.lat].into()],
            })),
            id: None,
            properties: Some(props),
            foreign_members: None,
        });
    }
    let mut fm = foreign(sc, n);
    if variants.is_empty() {
        let ws: Vec<JsonValue> = wins
            .iter()
            .enumerate()
            .map(|(i, w)| {
                serde_json::json!({
                    "key": format!("w{}", i + 1),
                    "from": sc.calendar.date_of(w.from).to_string(),
                    "until": sc.calendar.date_of(w.until).to_string(),
                    "in_force": w.in_force.iter().map(|&p| sc.policies[p].id.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        fm.insert("windows".into(), JsonValue::Array(ws));
    } else {
        fm.insert(
            "variants".into(),
            JsonValue::from(variants.iter().map(|v| v.id.to_string()).collect::<Vec<_>>()),
        );
    }
    let fc = FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(fm),
    };
    write_collection(out, "flows.geojson", fc)
}
