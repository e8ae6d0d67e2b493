//! The value rules every section shares: rates and shares, positive and
//! non-negative numbers, counts, one of a list of names, countries,
//! borders, references to places, ids.
//!
//! Owns the wording of these values' messages, so that a rate is described
//! the same way wherever it is written. Must not know which section or key
//! it is reading for beyond the name it is given.

use super::Loader;
use crate::scenario::diag::closest;
use crate::scenario::model::*;
use crate::scenario::read::{Sp, Tbl};
use std::collections::HashMap;

impl Loader<'_, '_> {
    /// One of a fixed list of names, with a "did you mean" when it is not.
    pub(super) fn choice<T: Copy>(
        &mut self,
        v: Sp<String>,
        field: &str,
        names: &[(&'static str, T)],
        what: &str,
    ) -> Option<T> {
        if let Some((_, x)) = names.iter().find(|(n, _)| *n == v.v) {
            return Some(*x);
        }
        let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        let dym = closest(&v.v, list.iter().copied())
            .map(|c| format!("did you mean \"{c}\"? "))
            .unwrap_or_default();
        self.r.err(
            v.span,
            field,
            format!("unknown {what} \"{}\"", v.v),
            format!("{dym}valid {what}s: {}", list.join(", ")),
        );
        None
    }

    pub(super) fn rate(&mut self, t: &mut Tbl, key: &str, required: bool) -> Option<f64> {
        let v = t.num(self.r, key, required, "a probability between 0 and 1")?;
        self.check_rate(&t.field(key), &v)
    }

    pub(super) fn check_rate(&mut self, field: &str, v: &Sp<f64>) -> Option<f64> {
        if !(0.0..=1.0).contains(&v.v) {
            self.r.err(
                v.span.clone(),
                field,
                format!("{} is outside [0, 1]", v.v),
                "rates and shares are probabilities between 0 and 1",
            );
            return None;
        }
        Some(v.v)
    }

    pub(super) fn positive(&mut self, t: &mut Tbl, key: &str, required: bool, what: &str) -> Option<Sp<f64>> {
        let v = t.num(self.r, key, required, what)?;
        if v.v <= 0.0 {
            self.r.err(
                v.span.clone(),
                &t.field(key),
                format!("{} must be greater than 0", v.v),
                what,
            );
            return None;
        }
        Some(v)
    }

    /// An optional share: in `[0, 1]` with `zero_ok`, else in `(0, 1]`.
    pub(super) fn share(&mut self, t: &mut Tbl, key: &str, zero_ok: bool, what: &str) -> Option<f64> {
        let v = if zero_ok {
            self.non_negative(t, key, false, what)
        } else {
            self.positive(t, key, false, what)
        }?;
        if v.v > 1.0 {
            self.r.err(v.span, &t.field(key), format!("{} is above 1", v.v), what);
            return None;
        }
        Some(v.v)
    }

    pub(super) fn non_negative(&mut self, t: &mut Tbl, key: &str, required: bool, what: &str) -> Option<Sp<f64>> {
        let v = t.num(self.r, key, required, what)?;
        if v.v < 0.0 {
            self.r
                .err(v.span.clone(), &t.field(key), format!("{} is negative", v.v), what);
            return None;
        }
        Some(v)
    }

    pub(super) fn count(&mut self, t: &mut Tbl, key: &str, required: bool, min: i64, what: &str) -> Option<Sp<u64>> {
        let v = t.int(self.r, key, required, what)?;
        if v.v < min {
            self.r.err(
                v.span.clone(),
                &t.field(key),
                format!("{} is less than {min}", v.v),
                what,
            );
            return None;
        }
        Some(Sp::new(v.v as u64, v.span))
    }

    pub(super) fn country(&mut self, t: &mut Tbl, key: &str, required: bool) -> Option<Sp<Country>> {
        let v = t.str(self.r, key, required, "a two-letter ISO 3166-1 code, e.g. \"MX\"")?;
        match Country::parse(&v.v) {
            Some(c) => Some(Sp::new(c, v.span)),
            None => {
                self.r.err(
                    v.span,
                    &t.field(key),
                    format!("\"{}\" is not an ISO 3166-1 alpha-2 code", v.v),
                    "write two capital letters, e.g. \"MX\", \"US\", \"CA\", \"HT\"",
                );
                None
            }
        }
    }

    pub(super) fn border(&mut self, b: &Sp<String>, field: &str) -> Option<Border> {
        let parts: Vec<&str> = b.v.split('-').collect();
        let parsed = match parts.as_slice() {
            [s, n] => Country::parse(s).zip(Country::parse(n)),
            _ => None,
        };
        match parsed {
            Some((south, north)) if south != north => Some(Border { south, north }),
            _ => {
                self.r.err(
                    b.span.clone(),
                    field,
                    format!("\"{}\" is not a border", b.v),
                    "write the two countries, south first, e.g. \"MX-US\" or \"US-CA\"",
                );
                None
            }
        }
    }

    /// A list item's required `id`, checked for its form (`form`: what a
    /// valid one is). The item is named after it at once, so that every
    /// later message names the item, not its position in the file.
    pub(super) fn item_id(&mut self, t: &mut Tbl, help: &str, form: &str) -> Option<Sp<String>> {
        let id = t.str(self.r, "id", true, help);
        if let Some(i) = &id {
            t.name_after(&i.v);
            if !valid_id(&i.v) {
                self.r.err(
                    i.span.clone(),
                    &t.field("id"),
                    format!("\"{}\" is not a valid id", i.v),
                    form,
                );
            }
        }
        id
    }

    pub(super) fn place_ref(
        &mut self,
        s: &Sp<String>,
        field: &str,
        index: &HashMap<String, PlaceIx>,
    ) -> Option<PlaceIx> {
        match index.get(&s.v) {
            Some(&p) => Some(p),
            None if self.declared.contains_key(&s.v) => None,
            None => {
                // In file order, so that of equally close ids the first
                // declared is suggested, the same on every run.
                let dym = closest(&s.v, self.declared_order.iter().map(String::as_str))
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                self.r.err(
                    s.span.clone(),
                    field,
                    format!("no place has id \"{}\"", s.v),
                    format!("{dym}use the id of a [[place]] in this file"),
                );
                None
            }
        }
    }
}

/// What a valid id is, for the sections whose ids have no example of
/// their own.
pub(super) const ID_FORM: &str = "use lower-case letters, digits and _";

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use crate::scenario::{load_bytes, LoadError};
    use std::path::Path;

    /// The help of the problem about a route to a place no `[[place]]`
    /// declares.
    fn unknown_place_help(text: &str) -> String {
        let Err(LoadError::Invalid { problems, .. }) = load_bytes(text.as_bytes(), Path::new("s.toml")) else {
            panic!("the scenario should not load");
        };
        let p = problems
            .iter()
            .find(|p| p.field == "route[home-portc].to")
            .expect("a problem at route.to");
        p.help.clone().unwrap_or_default()
    }

    #[test]
    fn of_equally_close_place_ids_the_first_declared_is_suggested_every_time() {
        let place = |id: &str, country: &str, kind: &str| {
            format!("[[place]]\nid = \"{id}\"\ncountry = \"{country}\"\nkind = \"{kind}\"\nlat = 20.0\nlon = -99.0\n\n")
        };
        let text = format!(
            "[scenario]\nname = \"t\"\nstart = 2025-01-01\nend = 2025-01-31\nseed = 3\n\n{}{}{}\
             [[route]]\nfrom = \"home\"\nto = \"portc\"\nkm = 100\n",
            place("home", "HN", "city"),
            place("portb", "US", "crossing"),
            place("porta", "US", "crossing"),
        );
        // Each load builds its maps anew, with a new hash order: a choice
        // made in that order would differ between these loads.
        for _ in 0..20 {
            let help = unknown_place_help(&text);
            assert!(help.starts_with("did you mean \"portb\"?"), "{help}");
        }
    }
}
