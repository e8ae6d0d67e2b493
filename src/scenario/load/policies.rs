//! The `[[policy]]` list, and what every policy has whatever its kind: id,
//! kind, dated window (clipped to the run, with a note), nationalities and
//! exempt traits.
//!
//! Owns `POLICY_COMMON`, `POLICY_KINDS` (the keys each kind adds) and the
//! uniqueness of policy ids. Each kind's own fields are read by
//! `policy_kinds.rs`; `[[variant.policy]]` items are read here too, through
//! `variants.rs`. Must not read variants.

use super::fields::ID_FORM;
use super::{Ctx, Loader};
use crate::scenario::diag::closest;
use crate::scenario::model::*;
use crate::scenario::read::{Keys, Sp, Tbl};
use crate::time::Calendar;
use chrono::NaiveDate;
use std::collections::HashSet;

/// The keys every policy may have, whatever its kind.
const POLICY_COMMON: &[&str] = &["id", "kind", "from", "until", "nationalities", "exempt"];

/// The kinds of policy, each with the keys it adds (read by
/// `policy_kinds.rs`).
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

/// The ids the `[[policy]]` list names, looked at before any policy is
/// read: every id written, valid or not (a variant naming a policy whose
/// own table has an error is not reported again), and, in order, the ids of
/// the policies that give papers (documents, and offers with papers), which
/// `papers:<id>` traits name.
pub(super) fn policy_ids(root: &Tbl) -> (HashSet<String>, Vec<String>) {
    let tables = root.peek_tables("policy");
    let declared = tables
        .iter()
        .filter_map(|t| t_str(t, "id").map(str::to_string))
        .collect();
    let documents = tables
        .iter()
        .filter(|t| t_kind(t) == Some("documents") || (t_kind(t) == Some("offer") && t.has("papers")))
        .filter_map(|t| t_str(t, "id").map(str::to_string))
        .collect();
    (declared, documents)
}

impl Loader<'_, '_> {
    /// The `[[policy]]` list of the base scenario, each id once.
    pub(super) fn policies(&mut self, root: &mut Tbl, ctx: &Ctx, documents: &[String]) -> Vec<Policy> {
        root.list(self, "policy", Keys::Of(|t| policy_keys(t_kind(t))), |l, t| {
            let (p, span) = l.policy(t, ctx, documents)?;
            if let Some(first) = l.policy_spans.get(&p.id) {
                let line = l.r.line_of(first.start);
                l.r.err(
                    span,
                    &t.path,
                    format!("duplicate policy id `{}`", p.id),
                    format!("the first is on line {line}; policy ids must be unique"),
                );
                return None;
            }
            l.policy_spans.insert(p.id.clone(), span);
            Some(p)
        })
    }

    pub(super) fn policy(
        &mut self,
        t: &mut Tbl,
        ctx: &Ctx,
        documents: &[String],
    ) -> Option<(Policy, std::ops::Range<usize>)> {
        let id = self.item_id(t, "a short id for the policy, e.g. \"stca_ports\"", ID_FORM);
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
}

fn t_str<'a>(t: &'a Tbl, key: &str) -> Option<&'a str> {
    t.peek(key).and_then(|v| v.get_ref().as_str())
}

pub(super) fn t_kind<'a>(t: &'a Tbl) -> Option<&'a str> {
    t_str(t, "kind")
}

/// The keys valid in a policy of this kind (the common ones alone when the
/// kind is missing or unknown: its problem is reported already).
pub(super) fn policy_keys(kind: Option<&str>) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = POLICY_COMMON.to_vec();
    if let Some((_, own)) = POLICY_KINDS.iter().find(|(k, _)| Some(*k) == kind) {
        keys.extend_from_slice(own);
    }
    keys
}
