//! The `[[variant]]` list: named changes to the base scenario's policies
//! (policies removed, replaced or added with `[[variant.policy]]`).
//!
//! Owns `VARIANT_KEYS` and the rules that tie a variant to the base (the
//! ids it removes or replaces exist; a new policy says `add = true`). Each
//! policy it gives is read by `policies.rs`. Must not change the base.

use super::policies::{policy_keys, t_kind};
use super::{Ctx, Loader};
use crate::scenario::diag::closest;
use crate::scenario::model::*;
use crate::scenario::read::{Keys, Tbl};
use std::collections::HashSet;

const VARIANT_KEYS: &[&str] = &["id", "description", "remove", "policy"];

impl Loader<'_, '_> {
    pub(super) fn variants(
        &mut self,
        root: &mut Tbl,
        ctx: &Ctx,
        documents: &[String],
        base: &[Policy],
        declared: &HashSet<String>,
    ) -> Vec<Variant> {
        let mut ids = HashSet::new();
        root.list(self, "variant", Keys::Fixed(VARIANT_KEYS), |l, t| {
            l.variant(t, ctx, documents, base, declared, &mut ids)
        })
    }

    /// One `[[variant]]`, kept when it has an id.
    fn variant(
        &mut self,
        t: &mut Tbl,
        ctx: &Ctx,
        documents: &[String],
        base: &[Policy],
        declared: &HashSet<String>,
        ids: &mut HashSet<String>,
    ) -> Option<Variant> {
        let id = t.str(self.r, "id", true, "a short id for the variant, e.g. \"no_stca\"");
        if let Some(i) = &id {
            t.name_after(&i.v);
            if !ids.insert(i.v.clone()) {
                self.r.err(
                    i.span.clone(),
                    &t.field("id"),
                    format!("duplicate variant id `{}`", i.v),
                    "variant ids must be unique",
                );
            }
        }
        let description = t.str(self.r, "description", false, "");
        let remove = t
            .strs(self.r, "remove", false, "a list of policy ids")
            .unwrap_or_default();
        for r in &remove {
            if !declared.contains(&r.v) {
                let dym = closest(&r.v, base.iter().map(|p| p.id.as_str()))
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                self.r.err(
                    r.span.clone(),
                    &t.field("remove"),
                    format!("no policy has id \"{}\"", r.v),
                    format!("{dym}remove names policies of the base scenario"),
                );
            }
        }
        let keys = Keys::Of(|pt| {
            let mut keys = policy_keys(t_kind(pt));
            keys.push("add");
            keys
        });
        let policies = t.list(self, "policy", keys, |l, pt| {
            l.variant_policy(pt, ctx, documents, declared)
        });
        Some(Variant {
            id: id?.v,
            description: description.map(|d| d.v).unwrap_or_default(),
            remove: remove.into_iter().map(|r| r.v).collect(),
            policies,
        })
    }

    /// One `[[variant.policy]]`: a policy that replaces the base's policy
    /// of its id, or, with `add = true`, one the base does not have.
    fn variant_policy(
        &mut self,
        pt: &mut Tbl,
        ctx: &Ctx,
        documents: &[String],
        declared: &HashSet<String>,
    ) -> Option<Policy> {
        // A policy with a new id is added only when the variant says
        // so: a typo in the id of the policy to replace must not
        // quietly add a second one.
        let add = pt.bool(self.r, "add", "true to add a policy the base does not have");
        let pid = pt.str(self.r, "id", false, "").filter(|i| !i.v.is_empty());
        if let Some(id) = &pid {
            let in_base = declared.contains(&id.v);
            match add {
                Some(a) if a.v && in_base => self.r.err(
                    a.span.clone(),
                    &format!("{}.add", pt.path),
                    format!("add = true, but the base scenario has a policy `{}`", id.v),
                    "remove `add` to replace the base's policy, or give the new policy an id of its own",
                ),
                Some(a) if a.v => {}
                _ if in_base => {}
                _ => {
                    let mut near: Vec<&str> = declared.iter().map(String::as_str).collect();
                    near.sort_unstable();
                    let dym = closest(&id.v, near.iter().copied())
                        .map(|c| format!("did you mean \"{c}\"? "))
                        .unwrap_or_default();
                    self.r.err(
                        id.span.clone(),
                        &format!("{}.id", pt.path),
                        format!("the base scenario has no policy `{}` to replace", id.v),
                        format!(
                            "{dym}a variant's [[variant.policy]] replaces the base's policy with its id; \
                             to add a new policy, write add = true"
                        ),
                    );
                }
            }
        }
        self.policy(pt, ctx, documents).map(|(p, _)| p)
    }
}
