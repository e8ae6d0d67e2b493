//! The `[scenario]` table of every scenario file, for both models: name,
//! description, start, end, seed (and, for the default model, headline),
//! with one set of rules and messages for the same mistakes.
//!
//! Owns the head's keys and rules. Must not read any other table.

use super::read::{Reader, Sp, Tbl};
use super::MAX_DAYS;
use crate::time::Calendar;

/// What `[scenario]` says.
pub(crate) struct Head {
    /// `name`.
    pub(crate) name: Sp<String>,
    /// `description` (empty if absent).
    pub(crate) description: String,
    /// `start` and the days from it to `end`, both included.
    pub(crate) cal: Calendar,
    /// `seed` (1 if absent).
    pub(crate) seed: u64,
    /// `headline`, read where the model has one, unparsed.
    pub(crate) headline: Option<Sp<String>>,
}

/// Reads `[scenario]` from `root`, recording every problem;
/// `with_headline` says whether the model takes a `headline` key. `None` if the head
/// cannot be used.
pub(crate) fn parse(r: &mut Reader, root: &mut Tbl, with_headline: bool) -> Option<Head> {
    let Some(mut t) = root.sub(r, "scenario") else {
        let span = r.head(&root.span);
        r.err(
            span,
            "scenario",
            "the [scenario] table is missing",
            "add [scenario] with name, start and end (dates), and optionally description and seed",
        );
        return None;
    };
    let name = t.str(
        r,
        "name",
        true,
        "a short name for the scenario, e.g. name = \"caravan-2025\"",
    );
    let description = t.str(r, "description", false, "");
    let start = t.date(r, "start", true);
    let end = t.date(r, "end", true);
    let seed = seed(r, &mut t);
    let mut cal = None;
    if let (Some(s), Some(e)) = (&start, &end) {
        if e.v < s.v {
            r.err(
                e.span.clone(),
                &t.field("end"),
                format!("end ({}) is before start ({})", e.v, s.v),
                "end is the last day simulated and must be on or after start",
            );
        } else {
            let days = (e.v - s.v).num_days() as u64 + 1;
            if days > MAX_DAYS as u64 {
                r.err(
                    e.span.clone(),
                    &t.field("end"),
                    format!("the run is {days} days long"),
                    format!("runs are limited to {MAX_DAYS} days (about 178 years)"),
                );
            } else {
                cal = Some(Calendar {
                    start: s.v,
                    days: days as u32,
                });
            }
        }
    }
    let headline = if with_headline {
        t.str(
            r,
            "headline",
            false,
            "the figure the question is about: METRIC@PLACE,PLACE (a places.csv column), or a state or event",
        )
    } else {
        None
    };
    let keys = ["name", "description", "start", "end", "seed", "headline"];
    t.finish(r, if with_headline { &keys } else { &keys[..5] });
    Some(Head {
        name: name?,
        description: description.map(|d| d.v).unwrap_or_default(),
        cal: cal?,
        seed: seed?,
        headline,
    })
}

/// `seed`: a whole number ≥ 0 (1 if absent), never an uncertain input.
fn seed(r: &mut Reader, t: &mut Tbl) -> Option<u64> {
    let seed = match t.peek("seed") {
        Some(v) if matches!(v.get_ref(), toml::de::DeValue::Table(_)) => {
            r.err(
                v.span(),
                &t.field("seed"),
                "the seed cannot be an uncertain input",
                "replicates draw their own seeds from it; write one whole number ≥ 0",
            );
            t.get("seed");
            return None;
        }
        _ => t.int(r, "seed", false, "a whole number ≥ 0"),
    };
    match seed {
        Some(s) if s.v < 0 => {
            r.err(
                s.span,
                &t.field("seed"),
                "the seed must be ≥ 0",
                "write a whole number ≥ 0, e.g. seed = 1",
            );
            None
        }
        Some(s) => Some(s.v as u64),
        None => Some(1),
    }
}
