//! The new tables: `periods.csv`, `policies.csv`, `place_differences.csv`
//! and `sweep_long.csv`, written with `csv::Writer`.
//!
//! Every interval here is computed from the plotted or tabled quantity
//! itself: a period's sum in each replicate first, then percentiles over
//! replicates (never sums of daily percentiles).

use super::windows::{spans, Period};
use super::words::country as country_name;
use super::{table, PlaceMetric, VariantRuns};
use crate::agents::{Event, State};
use crate::ensemble::{paired, stats, Paired, Replicate, Stats, COMPARED_COLS};
use crate::output::{OutDir, OutputError};
use crate::scenario::{PolicyKind, Scenario, StcaScope};

fn f3(x: f64) -> String {
    format!("{x:.3}")
}

/// Writes `periods.csv`: for every calendar period (weeks Monday–Sunday or
/// months), place and figure, the mean, standard deviation and 2.5th–97.5th
/// percentiles over replicates of the figure's value in the period. A
/// `variant` column leads when `series` holds more than the scenario itself
/// (its names are then non-empty).
pub fn write_periods(
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
    let spans = spans(&sc.calendar, period);
    table(out, "periods.csv", &header, |w| {
        let mut v = Vec::new();
        for (name, reps) in series {
            for s in &spans {
                let from = sc.calendar.date_of(s.from).to_string();
                let until = sc.calendar.date_of(s.until).to_string();
                for (p, place) in sc.places.iter().enumerate() {
                    for m in PlaceMetric::ALL {
                        v.clear();
                        v.extend(reps.iter().map(|r| m.value(r, p, s.from, s.until)));
                        let st = stats(&v);
                        let mut rec: Vec<String> = Vec::with_capacity(12);
                        if with_variant {
                            rec.push(name.to_string());
                        }
                        rec.extend([
                            s.label.clone(),
                            from.clone(),
                            until.clone(),
                            s.days().to_string(),
                            s.complete().to_string(),
                            place.id.clone(),
                            m.name().into(),
                            f3(st.mean),
                            f3(st.sd),
                            f3(st.lo),
                            f3(st.hi),
                        ]);
                        w.write_record(&rec)?;
                    }
                }
            }
        }
        Ok(())
    })
}

/// What a policy does, in a few words (for tables and chart keys).
pub fn policy_gist(sc: &Scenario, kind: &PolicyKind) -> String {
    let place = |p: &u32| sc.places.get(*p as usize).map(|p| p.id.clone()).unwrap_or_default();
    match kind {
        PolicyKind::Stca { scope, .. } => match scope {
            StcaScope::Ports => "STCA at ports of entry".into(),
            StcaScope::WholeBorder => "STCA on the whole border".into(),
        },
        PolicyKind::Visa { country, .. } => format!("visa required to fly to {}", country_name(country.as_str())),
        PolicyKind::Title42 { expulsion_rate, .. } => format!("Title 42 expulsions, rate {expulsion_rate}"),
        PolicyKind::Checkpoint {
            place: p,
            interception_rate,
            ..
        } => format!("checkpoint at {}, interception rate {interception_rate}", place(p)),
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
        PolicyKind::Pressure { country, factor } => {
            format!(
                "pressure to leave on residents of {}, ×{factor}",
                country_name(country.as_str())
            )
        }
    }
}

/// Writes `policies.csv`: every policy of each scenario with its window
/// (clipped to the run) and what it does; a `variant` column leads when
/// more than one scenario is listed.
pub fn write_policies(out: &mut OutDir, scenarios: &[(&str, &Scenario)]) -> Result<(), OutputError> {
    let with_variant = scenarios.iter().any(|(n, _)| !n.is_empty());
    let mut header: Vec<String> = Vec::new();
    if with_variant {
        header.push("variant".into());
    }
    for h in ["policy", "kind", "from", "until", "nationalities", "what"] {
        header.push(h.into());
    }
    table(out, "policies.csv", &header, |w| {
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
                w.write_record(&rec)?;
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
pub fn write_place_differences(
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
    table(out, "place_differences.csv", &header, |w| {
        for d in diffs {
            w.write_record([
                d.variant.clone(),
                sc.places[d.place].id.clone(),
                d.metric.to_string(),
                from.clone(),
                until.clone(),
                f3(d.paired.base),
                f3(d.paired.variant),
                f3(d.paired.diff),
                f3(d.paired.lo),
                f3(d.paired.hi),
            ])?;
        }
        Ok(())
    })
}

/// The figures of one sweep point: (place id or empty, metric, statistics
/// over replicates) for every final state, every event (person-events) and
/// every place's flows over the run.
pub fn sweep_figures(sc: &Scenario, reps: &[Replicate]) -> Vec<(String, String, Stats)> {
    let mut out = Vec::new();
    for s in State::ALL {
        let x: Vec<f64> = reps.iter().map(|r| r.result.states[s as usize] as f64).collect();
        out.push((String::new(), s.name().to_string(), stats(&x)));
    }
    for e in Event::ALL {
        let x: Vec<f64> = reps
            .iter()
            .map(|r| r.result.events.iter().map(|c| c[e as usize][0]).sum::<u64>() as f64)
            .collect();
        out.push((String::new(), e.name().to_string(), stats(&x)));
    }
    for (p, place) in sc.places.iter().enumerate() {
        for c in COMPARED_COLS {
            let x: Vec<f64> = reps.iter().map(|r| r.total(p, c) as f64).collect();
            out.push((place.id.clone(), c.name().to_string(), stats(&x)));
        }
    }
    out
}

/// Writes `sweep_long.csv`: one row per point × place × figure (place empty
/// for final states and events), the point's parameter values in their own
/// columns, then the mean, sd and 2.5th–97.5th percentiles over the point's
/// replicates.
pub fn write_sweep_long(
    out: &mut OutDir,
    params: &[String],
    points: &[Vec<f64>],
    figures: &[Vec<(String, String, Stats)>],
    replicates: usize,
) -> Result<(), OutputError> {
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(params.iter().cloned());
    for h in ["place", "metric", "replicates", "mean", "sd", "lo95", "hi95"] {
        header.push(h.into());
    }
    table(out, "sweep_long.csv", &header, |w| {
        for (i, (p, figs)) in points.iter().zip(figures).enumerate() {
            for (place, metric, s) in figs {
                let mut rec: Vec<String> = vec![i.to_string()];
                rec.extend(p.iter().map(|v| format!("{v}")));
                rec.extend([
                    place.clone(),
                    metric.clone(),
                    replicates.to_string(),
                    f3(s.mean),
                    f3(s.sd),
                    f3(s.lo),
                    f3(s.hi),
                ]);
                w.write_record(&rec)?;
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
