//! The new tables: `periods.csv`, `policies.csv`, `place_differences.csv`
//! and `sweep_long.csv`, written through the one table writer
//! (`table::Table`) into the output folder.
//!
//! Every interval here is computed from the plotted or tabled quantity
//! itself: a period's sum in each replicate first, then percentiles over
//! replicates (never sums of daily percentiles).

use super::windows::{spans, Period, Span};
use super::words::country as country_name;
use super::{table, PlaceMetric, VariantRuns};
use crate::ensemble::{paired, stats, Paired, Replicate, Stats, SweepRow, COMPARED_COLS};
use crate::output::{OutDir, OutputError};
use crate::scenario::{Bar, PolicyKind, Scenario, StcaScope};

/// One row of `periods.csv`: a figure of a place over a calendar period,
/// over the replicates of one series (the scenario, or in a comparison the
/// base or a variant).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PeriodFigure {
    /// Index of the series.
    pub series: usize,
    /// Index of the calendar period ([`spans`]).
    pub span: usize,
    /// Index of the place.
    pub place: usize,
    /// The figure.
    pub metric: PlaceMetric,
    /// Its value in the period: mean, sd and 2.5th–97.5th percentiles of
    /// each replicate's value.
    pub stats: Stats,
}

/// The calendar periods of a run and the rows of its `periods.csv`, in
/// table order: series, period, place, figure.
pub fn period_figures(sc: &Scenario, period: Period, series: &[&[Replicate]]) -> (Vec<Span>, Vec<PeriodFigure>) {
    let spans = spans(&sc.calendar, period);
    let mut out = Vec::with_capacity(series.len() * spans.len() * sc.places.len() * PlaceMetric::ALL.len());
    let mut v = Vec::new();
    for (k, reps) in series.iter().enumerate() {
        for (i, s) in spans.iter().enumerate() {
            for p in 0..sc.places.len() {
                for m in PlaceMetric::ALL {
                    v.clear();
                    v.extend(reps.iter().map(|r| m.value(r, p, s.from, s.until)));
                    out.push(PeriodFigure {
                        series: k,
                        span: i,
                        place: p,
                        metric: m,
                        stats: stats(&v),
                    });
                }
            }
        }
    }
    (spans, out)
}

/// Writes `periods.csv`: for every calendar period (weeks Monday–Sunday or
/// months), place and figure, the mean, standard deviation and 2.5th–97.5th
/// percentiles over replicates of the figure's value in the period. A
/// `variant` column leads when `series` holds more than the scenario itself
/// (its names are then non-empty).
pub(crate) fn write_periods(
    out: &mut OutDir,
    sc: &Scenario,
    period: Period,
    series: &[(&str, &[Replicate])],
) -> Result<(), OutputError> {
    let with_variant = series.iter().any(|(n, _)| !n.is_empty());
    let mut header: Vec<String> = Vec::new();
    if with_variant {
        header.push("variant".into());
    }
    for h in [
        "period", "from", "until", "days", "complete", "place", "metric", "mean", "sd", "lo95", "hi95",
    ] {
        header.push(h.into());
    }
    let reps: Vec<&[Replicate]> = series.iter().map(|(_, r)| *r).collect();
    let (spans, figures) = period_figures(sc, period, &reps);
    let dates: Vec<(String, String)> = spans
        .iter()
        .map(|s| {
            (
                sc.calendar.date_of(s.from).to_string(),
                sc.calendar.date_of(s.until).to_string(),
            )
        })
        .collect();
    table(out, "periods.csv", &header, |t| {
        for f in &figures {
            let s = &spans[f.span];
            if with_variant {
                t.cell(series[f.series].0);
            }
            t.cell(&s.label)
                .cell(&dates[f.span].0)
                .cell(&dates[f.span].1)
                .cell(s.days())
                .cell(s.complete())
                .cell(&sc.places[f.place].id)
                .cell(f.metric.name());
            for x in [f.stats.mean, f.stats.sd, f.stats.lo, f.stats.hi] {
                t.cell(format_args!("{x:.3}"));
            }
            t.end_row()?;
        }
        Ok(())
    })
}

/// What a policy does, in a few words (for tables and chart keys).
pub(crate) fn policy_gist(sc: &Scenario, kind: &PolicyKind) -> String {
    let place = |p: &u32| sc.places.get(*p as usize).map(|p| p.id.clone()).unwrap_or_default();
    match kind {
        PolicyKind::Stca { scope, bar, .. } => {
            let at = match scope {
                StcaScope::Ports => "STCA at ports of entry",
                StcaScope::WholeBorder => "STCA on the whole border",
            };
            match bar {
                // A turnback bars later claims for good: the agreement as written.
                Bar::Forever => at.into(),
                b => format!("{at}, turnbacks {}", bar_phrase(b)),
            }
        }
        PolicyKind::Visa { country, .. } => format!("visa required to fly to {}", country_name(country.as_str())),
        PolicyKind::Title42 { expulsion_rate, .. } => format!("Title 42 expulsions, rate {expulsion_rate}"),
        PolicyKind::Checkpoint {
            place: p,
            interception_rate,
            honour_rate,
            ..
        } => {
            let at = format!("checkpoint at {}, interception rate {interception_rate}", place(p));
            if *honour_rate < 1.0 {
                format!("{at}, papers honoured at rate {honour_rate}")
            } else {
                at
            }
        }
        PolicyKind::Closure { places, legs } => {
            let names: Vec<String> = places.iter().map(place).collect();
            if names.is_empty() {
                format!("{} route legs closed", legs.len())
            } else {
                format!("closed: {}", names.join(", "))
            }
        }
        PolicyKind::Enforcement { detection_rate, .. } => {
            format!("enforcement between ports, detection rate {detection_rate}")
        }
        PolicyKind::Pathway {
            country,
            quota_per_year,
            ..
        } => format!(
            "lawful pathway to {}, {} a year",
            country_name(country.as_str()),
            super::words::thousands(quota_per_year.round() as i64)
        ),
        PolicyKind::Appointments { slots_per_day, .. } => format!("appointments, {slots_per_day:.0} a day"),
        PolicyKind::Documents { place: p, papers, .. } => format!("{papers} issued at {}", place(p)),
        PolicyKind::Offer {
            place: p,
            uptake,
            papers,
            ..
        } => match papers {
            Some(kind) => format!("offer of {kind} and transport at {}, uptake {uptake}", place(p)),
            None => format!("offer of transport at {}, uptake {uptake}", place(p)),
        },
        PolicyKind::Pressure { country, factor } => {
            format!(
                "pressure to leave on residents of {}, ×{factor}",
                country_name(country.as_str())
            )
        }
        PolicyKind::Removal {
            places,
            removal_rate,
            bar,
            ..
        } => {
            let at = if places.len() <= 3 {
                places.iter().map(place).collect::<Vec<_>>().join(", ")
            } else {
                format!("{} crossings", places.len())
            };
            format!(
                "removal at {at}, rate {removal_rate}, removed people {}",
                bar_phrase(bar)
            )
        }
    }
}

/// What a bar does to later claims, in words: `barred for 5 years`.
fn bar_phrase(b: &Bar) -> String {
    match b {
        Bar::None => "not barred from claiming again".into(),
        Bar::Forever => "barred from claiming for good".into(),
        Bar::Days(d) if d % 365 == 0 => {
            let y = d / 365;
            format!("barred from claiming for {y} year{}", if y == 1 { "" } else { "s" })
        }
        Bar::Days(d) => format!("barred from claiming for {d} days"),
    }
}

/// Writes `policies.csv`: every policy of each scenario with its window
/// (clipped to the run) and what it does; a `variant` column leads when
/// more than one scenario is listed.
pub(crate) fn write_policies(out: &mut OutDir, scenarios: &[(&str, &Scenario)]) -> Result<(), OutputError> {
    let with_variant = scenarios.iter().any(|(n, _)| !n.is_empty());
    let mut header: Vec<String> = Vec::new();
    if with_variant {
        header.push("variant".into());
    }
    for h in ["policy", "kind", "from", "until", "nationalities", "what"] {
        header.push(h.into());
    }
    table(out, "policies.csv", &header, |t| {
        for (name, sc) in scenarios {
            for p in &sc.policies {
                let mut rec: Vec<String> = Vec::new();
                if with_variant {
                    rec.push(name.to_string());
                }
                rec.extend([
                    p.id.clone(),
                    p.kind.name().into(),
                    sc.calendar.date_of(p.from).to_string(),
                    sc.calendar
                        .date_of(p.until.min(sc.calendar.days.saturating_sub(1)))
                        .to_string(),
                    p.nationalities
                        .as_ref()
                        .map(|n| n.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" "))
                        .unwrap_or_default(),
                    policy_gist(sc, &p.kind),
                ]);
                t.row(&rec)?;
            }
        }
        Ok(())
    })
}

/// One place-level paired difference.
#[derive(Clone, Debug)]
pub struct PlaceDiff {
    /// The variant.
    pub variant: String,
    /// The place index.
    pub place: usize,
    /// The figure (`arrived`, `claims`, …).
    pub metric: &'static str,
    /// The paired comparison.
    pub paired: Paired,
}

/// Paired differences of every place's flows over `window` (inclusive day
/// numbers), variant by variant; figures that are zero everywhere are left
/// out.
pub fn place_differences(
    sc: &Scenario,
    base: &[Replicate],
    variants: &[VariantRuns<'_>],
    window: (u32, u32),
) -> Vec<PlaceDiff> {
    let mut out = Vec::new();
    for v in variants {
        for p in 0..sc.places.len() {
            for c in COMPARED_COLS {
                let m = PlaceMetric::Sum(c);
                let b: Vec<f64> = base.iter().map(|r| m.value(r, p, window.0, window.1)).collect();
                let x: Vec<f64> = v.reps.iter().map(|r| m.value(r, p, window.0, window.1)).collect();
                if b.iter().chain(&x).all(|x| *x == 0.0) {
                    continue;
                }
                out.push(PlaceDiff {
                    variant: v.id.to_string(),
                    place: p,
                    metric: c.name(),
                    paired: paired(&b, &x),
                });
            }
        }
    }
    out
}

/// Writes `place_differences.csv`.
pub(crate) fn write_place_differences(
    out: &mut OutDir,
    sc: &Scenario,
    diffs: &[PlaceDiff],
    window: (u32, u32),
) -> Result<(), OutputError> {
    let header: Vec<String> = [
        "variant",
        "place",
        "metric",
        "from",
        "until",
        "base",
        "mean",
        "diff",
        "diff_lo95",
        "diff_hi95",
    ]
    .map(String::from)
    .to_vec();
    let from = sc.calendar.date_of(window.0).to_string();
    let until = sc.calendar.date_of(window.1).to_string();
    table(out, "place_differences.csv", &header, |t| {
        for d in diffs {
            t.cell(&d.variant)
                .cell(&sc.places[d.place].id)
                .cell(d.metric)
                .cell(&from)
                .cell(&until);
            let p = &d.paired;
            for x in [p.base, p.variant, p.diff, p.lo, p.hi] {
                t.cell(format_args!("{x:.3}"));
            }
            t.end_row()?;
        }
        Ok(())
    })
}

/// Writes `sweep_long.csv`: one row per point × figure — every final state
/// and event (person-events) with an empty place, then every place's flows
/// over the run — the point's parameter values in their own columns, then
/// the mean, sd and 2.5th–97.5th percentiles over the point's replicates.
pub(crate) fn write_sweep_long(
    out: &mut OutDir,
    sc: &Scenario,
    params: &[String],
    rows: &[SweepRow],
    replicates: usize,
) -> Result<(), OutputError> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(params.iter().cloned());
    for h in ["place", "metric", "replicates", "mean", "sd", "lo95", "hi95"] {
        header.push(h.into());
    }
    table(out, "sweep_long.csv", &header, |t| {
        let mut put = |i: usize, point: &[f64], place: &str, metric: &str, s: &Stats| {
            t.cell(i);
            for v in point {
                t.cell(v);
            }
            t.cell(place).cell(metric).cell(replicates);
            for x in [s.mean, s.sd, s.lo, s.hi] {
                t.cell(format_args!("{x:.3}"));
            }
            t.end_row()
        };
        for (i, r) in rows.iter().enumerate() {
            for (metric, s) in &r.outcomes {
                put(i, &r.point, "", metric, s)?;
            }
            let flows = sc.places.iter().flat_map(|p| COMPARED_COLS.iter().map(move |c| (p, c)));
            for ((place, c), s) in flows.zip(&r.places) {
                put(i, &r.point, &place.id, c.name(), s)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::N_COLS;

    /// Three replicates of a one-place run starting on Wednesday 1 January
    /// 2025, ten days long, with chosen daily arrivals.
    fn reps() -> Vec<Replicate> {
        let arrivals: [[u64; 10]; 3] = [
            // Wed..Sun (days 0–4), then Mon..Fri (days 5–9)
            [1, 1, 1, 1, 1, 2, 2, 2, 2, 2],
            [0, 0, 0, 0, 10, 4, 4, 4, 4, 4],
            [3, 3, 3, 3, 3, 0, 0, 0, 0, 10],
        ];
        arrivals
            .iter()
            .map(|a| Replicate {
                daily: a
                    .iter()
                    .map(|&x| {
                        let mut c = [0u64; N_COLS];
                        c[crate::engine::Col::Arrived as usize] = x;
                        c[crate::engine::Col::Present as usize] = x * 2;
                        vec![c]
                    })
                    .collect(),
                ..Replicate::default()
            })
            .collect()
    }

    #[test]
    fn period_bands_are_percentiles_of_each_replicates_period_sum() {
        let reps = reps();
        let week1: Vec<f64> = reps
            .iter()
            .map(|r| PlaceMetric::Sum(crate::engine::Col::Arrived).value(r, 0, 0, 4))
            .collect();
        // By hand: 5, 10, 15 → mean 10, 2.5th percentile 5 + 0.05·5 = 5.25,
        // 97.5th 10 + 0.95·5 = 14.75.
        assert_eq!(week1, vec![5.0, 10.0, 15.0]);
        let s = stats(&week1);
        assert!((s.mean - 10.0).abs() < 1e-12 && (s.lo - 5.25).abs() < 1e-12 && (s.hi - 14.75).abs() < 1e-12);
        // Week 2 (days 5–9): 10, 20, 10 → sorted 10, 10, 20: lo 10, hi 10 + 0.95·10 = 19.5.
        let week2: Vec<f64> = reps
            .iter()
            .map(|r| PlaceMetric::Sum(crate::engine::Col::Arrived).value(r, 0, 5, 9))
            .collect();
        let s = stats(&week2);
        assert!((s.lo - 10.0).abs() < 1e-12 && (s.hi - 19.5).abs() < 1e-12, "{s:?}");
        // The sum of daily percentiles would be far wider: a band of the wrong quantity.
        let daily_hi: f64 = (5..=9)
            .map(|d| {
                let v: Vec<f64> = reps
                    .iter()
                    .map(|r| r.daily[d][0][crate::engine::Col::Arrived as usize] as f64)
                    .collect();
                stats(&v).hi
            })
            .sum();
        assert!(daily_hi > 25.0, "{daily_hi}");
        // The peak of `present` is the largest day, per replicate.
        assert_eq!(PlaceMetric::Peak.value(&reps[1], 0, 0, 4), 20.0);
    }
}
