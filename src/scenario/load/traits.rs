//! What a `[[population]]` and a `[[stock]]` both say of their people:
//! nationality, number, household sizes, shares of families and minors,
//! destinations, known claim points, relatives, visas, residence, budget,
//! how informed they are, and the cohort's id.
//!
//! Owns `TRAIT_KEYS` and `Traits` (made into a `Cohort` by the section that
//! read it). Must not read a departure or a stock's position.

use super::{Loader, MAX_DAYS};
use crate::scenario::model::*;
use crate::scenario::read::{self, Sp, Tbl};
use std::collections::{HashMap, HashSet};

/// The traits a `[[population]]` and a `[[stock]]` share (`Loader::traits`).
pub(super) const TRAIT_KEYS: &[&str] = &[
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

impl Loader<'_, '_> {
    /// The traits a `[[population]]` and a `[[stock]]` share: who the
    /// people are, what they want, know, hold and can pay.
    pub(super) fn traits(&mut self, t: &mut Tbl, places: &[Place], index: &HashMap<String, PlaceIx>) -> Option<Traits> {
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

    /// Checks a cohort's id (its form is checked as it is read) is unique
    /// among populations and stocks (both are rows of the `cohort` column).
    pub(super) fn cohort_id(&mut self, id: &Option<Sp<String>>, t: &Tbl, ids: &mut HashSet<String>, what: &str) {
        let Some(i) = id else { return };
        if !ids.insert(i.v.clone()) {
            self.r.err(
                i.span.clone(),
                &t.field("id"),
                format!("duplicate {what} id `{}`", i.v),
                "population and stock ids must be unique: each names rows of the cohort column",
            );
        }
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
}

/// What a `[[population]]` and a `[[stock]]` say of their people.
pub(super) struct Traits {
    nationality: Country,
    pub(super) people: u64,
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
    pub(super) fn cohort(self, id: String, origin: PlaceIx, departure: Departure, stock: Option<Stock>) -> Cohort {
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
