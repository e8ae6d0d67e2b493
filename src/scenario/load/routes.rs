//! The `[[route]]` list: each route between two places and the legs it
//! makes (one, or two when it runs both ways).
//!
//! Owns `ROUTE_KEYS`, route ids (given, or from-to) and the defaults of a
//! route's days and cost from the behaviour's speeds and fares. Must not
//! change places.

use super::Loader;
use crate::scenario::model::*;
use crate::scenario::read::{Keys, Tbl};
use std::collections::{HashMap, HashSet};

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

impl Loader<'_, '_> {
    pub(super) fn routes(
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
        let mut ids: HashSet<String> = HashSet::new();
        let routes = root.list(self, "route", Keys::Fixed(ROUTE_KEYS), |l, t| {
            l.route(t, places, index, (&speeds, &fares), &mut ids)
        });
        let mut legs = Vec::new();
        for (ri, route) in routes.iter().enumerate() {
            let leg = |from, to| Leg {
                route: ri as RouteIx,
                from,
                to,
                days: route.days as f32,
                km: route.km as f32,
                cost_usd: route.cost_usd as f32,
                risk: route.risk as f32,
                mode: route.mode,
            };
            legs.push(leg(route.from, route.to));
            if route.both_ways {
                legs.push(leg(route.to, route.from));
            }
        }
        (routes, legs)
    }

    /// One `[[route]]`; its days and cost, where not given, from the mode's
    /// speed and fare (km per day and US dollars per km, per mode).
    fn route(
        &mut self,
        t: &mut Tbl,
        places: &[Place],
        index: &HashMap<String, PlaceIx>,
        (speeds, fares): (&[f64; 7], &[f64; 7]),
        ids: &mut HashSet<String>,
    ) -> Option<Route> {
        let id = t.str(self.r, "id", false, "");
        let from = t.str(self.r, "from", true, "the id of the place the route starts at");
        let to = t.str(self.r, "to", true, "the id of the place the route ends at");
        match (&id, &from, &to) {
            (Some(i), _, _) => t.name_after(&i.v),
            (None, Some(f), Some(tt)) => t.name_after(&format!("{}-{}", f.v, tt.v)),
            _ => {}
        }
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
        let km = self.positive(t, "km", true, "road distance in km, > 0");
        let mode = t.str(self.r, "mode", false, "");
        let mode_field = t.field("mode");
        let mode = match mode {
            None => Some(Mode::Walk),
            Some(m) => self.choice(m, &mode_field, &Mode::NAMES, "mode"),
        };
        let days = self.positive(t, "days", false, "travel time in days, > 0");
        let cost = self.non_negative(t, "cost_usd", false, "cost per person in US dollars, ≥ 0");
        let risk = self.rate(t, "risk", false);
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
        let (Some(a), Some(bb), Some(km), Some(mode)) = (fp, tp, km, mode) else {
            return None;
        };
        if a == bb {
            return None;
        }
        Some(Route {
            id: id
                .map(|i| i.v)
                .unwrap_or_else(|| format!("{}-{}", places[a as usize].id, places[bb as usize].id)),
            from: a,
            to: bb,
            km: km.v,
            mode,
            days: days.map(|d| d.v).unwrap_or(km.v / speeds[mode as usize]),
            // Not given: the mode's fare per km over the route's length.
            cost_usd: cost.map(|c| c.v).unwrap_or(km.v * fares[mode as usize]),
            risk: risk.unwrap_or(0.0),
            both_ways: both.map(|b| b.v).unwrap_or(true),
        })
    }
}
