//! The fields of each policy kind (stca, visa, title42, checkpoint,
//! closure, enforcement, pathway, appointments, documents, offer,
//! pressure, removal), read into its `PolicyKind`.
//!
//! Owns one reader per kind and the lists of places and routes a policy
//! names. A new lever adds its reader here and its keys to `POLICY_KINDS`
//! in `policies.rs`. Must not read the common fields (`policies.rs`).

use super::{Ctx, Loader, MAX_DAYS};
use crate::scenario::diag::closest;
use crate::scenario::model::*;
use crate::scenario::read::{Sp, Tbl};

impl Loader<'_, '_> {
    fn places_list(&mut self, t: &mut Tbl, key: &str, ctx: &Ctx, required: bool) -> Option<Vec<PlaceIx>> {
        let list = t.strs(self.r, key, required, "a list of place ids")?;
        let field = t.field(key);
        let out: Vec<PlaceIx> = list
            .iter()
            .filter_map(|p| self.place_ref(p, &field, ctx.place_index))
            .collect();
        (out.len() == list.len()).then_some(out)
    }

    fn one_place(&mut self, t: &mut Tbl, key: &str, ctx: &Ctx) -> Option<PlaceIx> {
        let s = t.str(self.r, key, true, "a place id")?;
        self.place_ref(&s, &t.field(key), ctx.place_index)
    }

    pub(super) fn policy_kind(&mut self, t: &mut Tbl, kind: &str, ctx: &Ctx) -> Option<PolicyKind> {
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
    fn closure(&mut self, t: &mut Tbl, ctx: &Ctx) -> Option<PolicyKind> {
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
    fn send_to(&mut self, t: &mut Tbl, ctx: &Ctx) -> Option<SendTo> {
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
    fn removal(&mut self, t: &mut Tbl, ctx: &Ctx) -> Option<PolicyKind> {
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

    fn closure_routes(&mut self, t: &mut Tbl, ctx: &Ctx, one_way: bool) -> Option<Vec<LegIx>> {
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
}
