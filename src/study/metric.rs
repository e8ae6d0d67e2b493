//! Place-level outputs a user names for a study: `--metric
//! METRIC@PLACE[:FROM..UNTIL]`, e.g. `claims@roxham_road:2023-04-01..2023-06-30`.
//!
//! Owns the parsing of a metric against what a model's runs record (its
//! metric names, its places, its calendar) and the located error with the
//! valid choices. Must not run anything: a runner evaluates a parsed
//! [`Metric`] on its own runs.

use super::StudyError;

/// A named place-level output, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// As the user wrote it: its column in `runs.csv`.
    pub name: String,
    /// Index of the metric in the model's list.
    pub metric: usize,
    /// Index of the place.
    pub place: usize,
    /// First and last day (inclusive), or the whole run.
    pub days: (u32, u32),
}

/// The days of a `FROM..UNTIL` window (inclusive), or why not.
pub type Window<'a> = &'a dyn Fn(&str) -> Result<(u32, u32), String>;

/// What a model's runs record, for parsing metrics against.
pub struct Recorded<'a> {
    /// The metric names (a place table's columns).
    pub metrics: &'a [&'a str],
    /// The place ids, in index order.
    pub places: &'a [String],
    /// The days of a `FROM..UNTIL` window (inclusive), or why not.
    pub window: Window<'a>,
    /// Days in a run.
    pub days: u32,
}

/// Parses one `--metric`.
pub fn parse(spec: &str, rec: &Recorded<'_>) -> Result<Metric, StudyError> {
    let bad = |m: String| StudyError::Spec(format!("--metric `{spec}`: {m}"));
    let (head, window) = match spec.split_once(':') {
        Some((h, w)) => (h, Some(w)),
        None => (spec, None),
    };
    let (metric, place) = head
        .split_once('@')
        .ok_or_else(|| bad("write METRIC@PLACE or METRIC@PLACE:FROM..UNTIL".into()))?;
    let (metric, place) = (metric.trim(), place.trim());
    let m = rec.metrics.iter().position(|x| *x == metric).ok_or_else(|| {
        bad(format!(
            "no metric `{metric}`; the runs record {}",
            rec.metrics.join(", ")
        ))
    })?;
    let p = rec.places.iter().position(|x| x == place).ok_or_else(|| {
        let near = super::nearest(place, rec.places.iter().map(String::as_str));
        bad(format!("no place `{place}`{}", near))
    })?;
    let days = match window {
        Some(w) => (rec.window)(w.trim()).map_err(bad)?,
        None => (0, rec.days.saturating_sub(1)),
    };
    Ok(Metric {
        name: spec.trim().to_string(),
        metric: m,
        place: p,
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_names_a_recorded_column_a_place_and_a_window() {
        let places = vec!["roxham_road".to_string(), "lacolle".to_string()];
        let window = |w: &str| -> Result<(u32, u32), String> {
            w.split_once("..")
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| "not a window".to_string())
        };
        let rec = Recorded {
            metrics: &["present", "claims"],
            places: &places,
            window: &window,
            days: 100,
        };
        let m = parse("claims@roxham_road:3..9", &rec).expect("parses");
        assert_eq!((m.metric, m.place, m.days), (1, 0, (3, 9)));
        assert_eq!(parse("present@lacolle", &rec).expect("whole run").days, (0, 99));
        let e = parse("claims@roxam_road", &rec).expect_err("unknown place").to_string();
        assert!(e.contains("roxham_road"), "{e}");
        let e = parse("claim@lacolle", &rec).expect_err("unknown metric").to_string();
        assert!(e.contains("present, claims"), "{e}");
    }
}
