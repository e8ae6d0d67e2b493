//! Numbers, dates and names as people read them: rounded to what their
//! interval supports, with thousands separators, dates spelled out, states
//! and places in words.
//!
//! Owns every such rendering shared by `summary.md`, the terminal and the
//! report, so that they say the same thing the same way. Must not compute
//! figures.

use crate::ensemble::Stats;
use chrono::{Datelike, NaiveDate};

/// `30447` → `30,447` (negative numbers with a true minus sign).
pub(crate) fn thousands(x: i64) -> String {
    let digits = x.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0 {
        format!("−{out}")
    } else {
        out
    }
}

/// The rounding step that an interval from `lo` to `hi` supports: a tenth
/// of its width's order of magnitude, at least 1 (counts of people).
pub(crate) fn step_for(lo: f64, hi: f64) -> f64 {
    let w = (hi - lo).abs();
    if !w.is_finite() || w < 10.0 {
        1.0
    } else {
        10f64.powi(w.log10().floor() as i32 - 1)
    }
}

/// `x` rounded to `step`, with separators.
pub(crate) fn rounded(x: f64, step: f64) -> String {
    let r = (x / step).round() * step;
    thousands(r as i64)
}

/// A count of people, rounded to a whole person.
pub(crate) fn people(x: f64) -> String {
    rounded(x, 1.0)
}

/// A signed change: `+1,200` or `−350`.
pub(crate) fn signed(x: f64, step: f64) -> String {
    let s = rounded(x, step);
    if (x / step).round() > 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// A mean with its interval, rounded alike: `14,100 (14,010–14,170)`; with
/// one replicate (no spread), the figure alone.
pub(crate) fn with_range(s: &Stats) -> String {
    if s.hi - s.lo <= 0.0 {
        return people(s.mean);
    }
    let step = step_for(s.lo, s.hi);
    format!(
        "{} ({}–{})",
        rounded(s.mean, step),
        rounded(s.lo, step),
        rounded(s.hi, step)
    )
}

/// An interval alone, rounded to its own width: `14,010–14,170`.
pub(crate) fn range(s: &Stats) -> String {
    if s.hi - s.lo <= 0.0 {
        return people(s.mean);
    }
    let step = step_for(s.lo, s.hi);
    format!("{}–{}", rounded(s.lo, step), rounded(s.hi, step))
}

/// A share in per cent with one decimal under 10 %, none above.
pub(crate) fn percent(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        return "0 %".into();
    }
    let p = 100.0 * part / whole;
    if p < 10.0 {
        format!("{p:.1} %")
    } else {
        format!("{p:.0} %")
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `25 March 2023`.
pub(crate) fn date_long(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// `25 Mar 2023`.
pub(crate) fn date_short(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month_abbr(d), d.year())
}

/// `Mar`.
pub(crate) fn month_abbr(d: NaiveDate) -> &'static str {
    &MONTHS[d.month0() as usize][..3]
}

/// `between 1 and 30 September 2023`, `between 28 August and 3 September
/// 2023`, `between 30 December 2022 and 5 January 2023`.
pub(crate) fn between(a: NaiveDate, b: NaiveDate) -> String {
    if a.year() != b.year() {
        format!("between {} and {}", date_long(a), date_long(b))
    } else if a.month() != b.month() {
        format!(
            "between {} {} and {}",
            a.day(),
            MONTHS[a.month0() as usize],
            date_long(b)
        )
    } else {
        format!("between {} and {}", a.day(), date_long(b))
    }
}

/// What a final state means, for a sentence ("claimed asylum in Canada").
pub(crate) fn state_phrase(state: &str) -> &'static str {
    match state {
        "not_departed" => "had not set out",
        "travelling" => "were still travelling",
        "waiting" => "were waiting somewhere without claiming",
        "claimed_mx" => "had claimed asylum in Mexico",
        "claimed_us" => "had claimed asylum in the United States",
        "claimed_ca" => "had claimed asylum in Canada",
        "entered_lawfully" => "had entered through a lawful pathway",
        "settled_irregular" => "had stayed without claiming",
        "returned_home" => "had gone home",
        "died_or_missing" => "had died or gone missing",
        _ => "had ended otherwise",
    }
}

/// A country's name for a sentence (`Canada`, `the United States`), or its code.
pub(crate) fn country(code: &str) -> String {
    match code {
        "MX" => "Mexico".into(),
        "US" => "the United States".into(),
        "CA" => "Canada".into(),
        "GT" => "Guatemala".into(),
        "HN" => "Honduras".into(),
        "SV" => "El Salvador".into(),
        "HT" => "Haiti".into(),
        "VE" => "Venezuela".into(),
        "CU" => "Cuba".into(),
        "NI" => "Nicaragua".into(),
        "CO" => "Colombia".into(),
        "PA" => "Panama".into(),
        c => c.to_string(),
    }
}

/// A short label of a final state, for charts and tables.
pub(crate) fn state_label(state: &str) -> &'static str {
    match state {
        "not_departed" => "not yet set out",
        "travelling" => "still travelling",
        "waiting" => "waiting, no claim",
        "claimed_mx" => "claimed in Mexico",
        "claimed_us" => "claimed in the US",
        "claimed_ca" => "claimed in Canada",
        "entered_lawfully" => "entered lawfully",
        "settled_irregular" => "stayed, no claim",
        "returned_home" => "went home",
        "died_or_missing" => "died or missing",
        _ => "other",
    }
}

/// A short label of a place column ("claims", "turned back").
pub(crate) fn metric_label(metric: &str) -> String {
    match metric {
        "arrived" => "arrivals".into(),
        "departed" => "departures".into(),
        "present_peak" => "most present at once".into(),
        m => m.replace('_', " "),
    }
}

/// The short form of a place name: `Lacolle / Champlain (official port of
/// entry)` → `Lacolle / Champlain`.
pub(crate) fn place_short(name: &str) -> String {
    let s = name.split(" (").next().unwrap_or(name).trim();
    let s = s.split(", ").next().unwrap_or(s);
    if s.is_empty() {
        name.to_string()
    } else {
        s.to_string()
    }
}

/// `full scale`, or `scale 0.3 (30 % of the people, capacities and quotas)`.
pub(crate) fn scale_phrase(scale: f64) -> String {
    if (scale - 1.0).abs() < 1e-12 {
        "full scale".into()
    } else {
        format!(
            "scale {scale} ({} of the people, capacities and quotas)",
            percent(scale, 1.0)
        )
    }
}

/// `5 replicates (seeds derived from 2023)` or `one run, seed 2023`.
pub(crate) fn runs_phrase(replicates: usize, seed: u64) -> String {
    if replicates <= 1 {
        format!("one run, seed {seed}")
    } else {
        format!("{replicates} replicates (seeds derived from {seed})")
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rounded_to_what_their_interval_supports() {
        assert_eq!(thousands(1005931), "1,005,931");
        assert_eq!(thousands(-8770), "−8,770");
        let s = Stats {
            mean: 14104.2,
            sd: 60.0,
            lo: 14013.0,
            hi: 14173.0,
        };
        assert_eq!(with_range(&s), "14,100 (14,010–14,170)");
        let w = Stats {
            mean: 57.4,
            sd: 1.0,
            lo: 40.0,
            hi: 70.0,
        };
        assert_eq!(with_range(&w), "57 (40–70)");
        let one = Stats {
            mean: 1005931.0,
            sd: 0.0,
            lo: 1005931.0,
            hi: 1005931.0,
        };
        assert_eq!(with_range(&one), "1,005,931");
        assert_eq!(signed(-24640.0, 100.0), "−24,600");
        assert_eq!(signed(25106.5, 100.0), "+25,100");
    }

    #[test]
    fn dates_and_names_read_as_words() {
        let d = |s| crate::time::parse_date(s).expect("date");
        assert_eq!(
            between(d("2023-09-01"), d("2023-09-30")),
            "between 1 and 30 September 2023"
        );
        assert_eq!(
            between(d("2022-12-30"), d("2023-01-05")),
            "between 30 December 2022 and 5 January 2023"
        );
        assert_eq!(
            place_short("Lacolle / Champlain (official port of entry)"),
            "Lacolle / Champlain"
        );
        assert_eq!(place_short("Buffalo, New York"), "Buffalo");
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    }
}
