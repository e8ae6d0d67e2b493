//! The `[[place]]` list: ids, countries, kinds, coordinates, capacity,
//! claims, and the crossings' border, official and near side.
//!
//! Owns `PLACE_KEYS`, the place index (id → `PlaceIx`) and the declared
//! ids that later references are checked against. Must not read routes or
//! policies; whether a policy needs a crossing's near side is checked in
//! `mod.rs` once both are read.

use super::Loader;
use crate::scenario::model::*;
use crate::scenario::read::{Keys, Sp, Tbl};
use std::collections::HashMap;

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

impl Loader<'_, '_> {
    pub(super) fn places(&mut self, root: &mut Tbl) -> (Vec<Place>, HashMap<String, PlaceIx>) {
        let mut index: HashMap<String, PlaceIx> = HashMap::new();
        // Near sides name other places: resolve them once all ids are known.
        let mut near: Vec<(usize, Sp<String>, String)> = Vec::new();
        let mut places = root.list(self, "place", Keys::Fixed(PLACE_KEYS), |l, t| {
            // Ids are unique in the index, so its size is the next place's.
            let i = index.len();
            let (place, near_side) = l.place(t);
            if let Some(ns) = near_side {
                near.push((i, ns, t.field("near_side")));
            }
            let place = place?;
            index.insert(place.id.clone(), i as PlaceIx);
            Some(place)
        });
        for (i, ns, field) in near {
            if let Some(p) = self.place_ref(&ns, &field, &index) {
                if let Some(place) = places.get_mut(i) {
                    place.near_side = Some(p);
                }
            }
        }
        (places, index)
    }

    /// One `[[place]]`, and its `near_side` as written (resolved once every
    /// place is known).
    fn place(&mut self, t: &mut Tbl) -> (Option<Place>, Option<Sp<String>>) {
        let id = self.item_id(
            t,
            "a short id of lower-case letters, digits and _ (e.g. \"tapachula\")",
            "use lower-case letters, digits and _ (e.g. \"roxham_road\")",
        );
        let name = t.str(self.r, "name", false, "");
        let country = self.country(t, "country", true);
        let kind = t.str(
            self.r,
            "kind",
            true,
            "one of city, town, shelter, checkpoint, crossing, airport, camp, conflict",
        );
        let kind_field = t.field("kind");
        let kind = kind.and_then(|k| self.choice(k, &kind_field, &PlaceKind::NAMES, "place kind"));
        let (lat, lon) = self.lat_lon(t);
        let capacity = self.count(
            t,
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
            t,
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
        self.crossing_only(t, kind, crossing_keys);
        let border = border.and_then(|b| self.border(&b, &t.field("border")));
        let claims_v = self.place_claims(t, kind, &country, &claims, &claims_per_day);
        if id.as_ref().is_some_and(|id| !self.first_place_id(id)) {
            return (None, near_side);
        }
        let (Some(id), Some(country), Some(kind), Some(lat), Some(lon)) = (id, country, kind, lat, lon) else {
            return (None, near_side);
        };
        let place = Place {
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
        };
        (Some(place), near_side)
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
        self.declared_order.push(id.v.clone());
        true
    }
}
