//! The `[[population]]` list: cohorts of people who set out during the
//! run, from one origin or several, on a day, over a window, at a rate or
//! as a daily share, alone or in a caravan.
//!
//! Owns `POPULATION_KEYS`, the departure forms and the split of a cohort of
//! several origins into one cohort per origin. Who the people are is read
//! by `traits.rs`, shared with `[[stock]]`; must not read stocks.

use super::fields::ID_FORM;
use super::traits::TRAIT_KEYS;
use super::{Ctx, Loader};
use crate::scenario::model::*;
use crate::scenario::read::{self, Keys, Sp, Tbl};
use crate::time::Calendar;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

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

impl Loader<'_, '_> {
    pub(super) fn cohorts(&mut self, root: &mut Tbl, ctx: &Ctx, ids: &mut HashSet<String>) -> Vec<Cohort> {
        let keys = [POPULATION_KEYS, TRAIT_KEYS].concat();
        let cohorts = root.list(self, "population", Keys::Fixed(&keys), |l, t| l.population(t, ctx, ids));
        cohorts.into_iter().flatten().collect()
    }

    /// One `[[population]]`: one cohort, or one per origin.
    fn population(&mut self, t: &mut Tbl, ctx: &Ctx, ids: &mut HashSet<String>) -> Option<Vec<Cohort>> {
        let (places, index) = (ctx.places, ctx.place_index);
        let id = self.item_id(t, "a short id for the cohort, e.g. \"caravan\"", ID_FORM);
        let origins = self.origins(t, index);
        let traits = self.traits(t, places, index);
        let departure = self.departure(t, ctx.cal);
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
        self.cohort_id(&id, t, ids, "population");
        let head_span = self.r.head(&t.span);
        let (Some(id), Some(origins), Some(traits), Some(departure)) = (id, origins, traits, departure) else {
            return None;
        };
        let mut cohort = traits.cohort(id.v, origins[0].0, departure, None);
        cohort.caravan = caravan;
        // A cohort with several origins is one cohort per origin, its
        // people (and per-day departures) shared among them.
        let mut out = Vec::new();
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
            out.push(c);
        }
        Some(out)
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
