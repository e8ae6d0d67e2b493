//! The `[[stock]]` list: people already on the road on the start date,
//! waiting at a place or travelling on a route.
//!
//! Owns `STOCK_KEYS` and where a stock stands (place, or route, end and
//! days left). Who the people are is read by `traits.rs`, shared with
//! `[[population]]`; must not read populations.

use super::fields::ID_FORM;
use super::traits::TRAIT_KEYS;
use super::{Ctx, Loader};
use crate::scenario::diag::closest;
use crate::scenario::model::*;
use crate::scenario::read::{Keys, Tbl};
use std::collections::{HashMap, HashSet};

/// A `[[stock]]`'s own keys besides its traits: where its people are (no
/// departure: they have set out already).
const STOCK_KEYS: &[&str] = &["id", "state", "place", "route", "to", "days_left", "origin"];

impl Loader<'_, '_> {
    pub(super) fn stocks(&mut self, root: &mut Tbl, ctx: &Ctx, ids: &mut HashSet<String>) -> Vec<Cohort> {
        let keys = [STOCK_KEYS, TRAIT_KEYS].concat();
        root.list(self, "stock", Keys::Fixed(&keys), |l, t| l.stock(t, ctx, ids))
    }

    /// One `[[stock]]`: a cohort that starts on the road on day 0.
    fn stock(&mut self, t: &mut Tbl, ctx: &Ctx, ids: &mut HashSet<String>) -> Option<Cohort> {
        let id = self.item_id(t, "a short id for the stock, e.g. \"plattsburgh_waiting\"", ID_FORM);
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
            Some(false) => self.stock_waiting(t, ctx.place_index),
            Some(true) => self.stock_travelling(t, ctx),
            None => None,
        };
        let origin = match t.str(
            self.r,
            "origin",
            false,
            "the id of the place the stock's people call home",
        ) {
            Some(o) => self.place_ref(&o, &t.field("origin"), ctx.place_index),
            // Home is where the stock is: returns "to the origin" send
            // its groups back there (docs/scenario-format.md).
            None => stock.map(|s| s.place),
        };
        let traits = self.traits(t, ctx.places, ctx.place_index);
        self.cohort_id(&id, t, ids, "stock");
        let head_span = self.r.head(&t.span);
        if let (Some(s), Some(tr)) = (&stock, &traits) {
            let at = s.leg.map(|l| ctx.legs[l as usize].to).unwrap_or(s.place);
            if let Some(cap) = ctx.places[at as usize]
                .capacity
                .filter(|c| s.leg.is_none() && tr.people > *c)
            {
                self.notes.push(format!(
                    "stock {} puts {} people at {}, above its capacity of {cap}: nobody is let in there until fewer remain",
                    id.as_ref().map(|i| i.v.as_str()).unwrap_or("?"),
                    tr.people,
                    ctx.places[at as usize].id
                ));
            }
        }
        let (Some(id), Some(stock), Some(origin), Some(traits)) = (id, stock, origin, traits) else {
            return None;
        };
        self.cohort_spans.push(head_span);
        Some(traits.cohort(id.v, origin, Departure::On(0), Some(stock)))
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

    fn stock_travelling(&mut self, t: &mut Tbl, ctx: &Ctx) -> Option<Stock> {
        let (places, routes, legs) = (ctx.places, ctx.routes, ctx.legs);
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
}
