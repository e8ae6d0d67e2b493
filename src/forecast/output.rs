//! The tables of a forecast and of a backtest, through `table::Table` into
//! an `OutDir`.
//!
//! Owns their formats: `forecast.csv` (the forecast by period),
//! `fitted.csv` (the counted periods the members were weighed on, with the
//! ensemble's fit), `observed.csv` (every count given), `weights.csv` (the
//! members), `filter.csv` (the days counts were assimilated);
//! `backtest.csv` (every target of every origin) and `scores.csv`. Must not
//! simulate.

use super::observed::{Observed, Period, Span};
use super::{Forecast, Scored, Summary, QUANTILES};
use crate::output::{OutDir, OutputError};
use crate::table::{table_err, Table};
use crate::time::Calendar;
use chrono::Datelike;

/// How the forecast's horizon is cut into periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Periods {
    /// Weeks from the origin (week 1 is its first seven days).
    Weeks,
    /// Calendar months, the first and last cut to the horizon.
    Months,
}

/// A period of the forecast table: its label and days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// `week 1`…, `2025-09`…, or `total`.
    pub label: String,
    /// First day.
    pub from: u32,
    /// Last day.
    pub until: u32,
}

/// The periods of a horizon, and the whole horizon last (`total`).
pub fn cuts(origin: u32, horizon: u32, periods: Periods, cal: Calendar) -> Vec<Cut> {
    let end = origin + horizon;
    let mut out = Vec::new();
    match periods {
        Periods::Weeks => {
            let mut k = 0;
            while origin + 7 * k < end {
                let from = origin + 7 * k;
                out.push(Cut {
                    label: format!("week {}", k + 1),
                    from,
                    until: (from + 6).min(end - 1),
                });
                k += 1;
            }
        }
        Periods::Months => {
            let mut from = origin;
            while from < end {
                let d = cal.date_of(from);
                let next = if d.month() == 12 {
                    chrono::NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
                } else {
                    chrono::NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
                };
                let until = next
                    .map(|n| cal.day_of(n) - 1)
                    .unwrap_or(end as i64 - 1)
                    .min(end as i64 - 1) as u32;
                out.push(Cut {
                    label: d.format("%Y-%m").to_string(),
                    from,
                    until,
                });
                from = until + 1;
            }
        }
    }
    out.push(Cut {
        label: "total".into(),
        from: origin,
        until: end - 1,
    });
    out
}

/// A counted period as written in a counts file.
pub fn period_label(p: &Period, cal: Calendar) -> String {
    let (a, b) = (cal.date_of(p.from), cal.date_of(p.until));
    match p.span {
        Span::Day => a.to_string(),
        Span::Week => {
            let w = a.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Span::Month => a.format("%Y-%m").to_string(),
        Span::Interval => format!("{a}/{b}"),
    }
}

fn quantile_cells<W: std::io::Write>(t: &mut Table<W>, mean: f64, q: &[f64; 5]) {
    t.cell(format_args!("{mean:.1}"))
        .cell(q[2])
        .cell(q[0])
        .cell(q[1])
        .cell(q[3])
        .cell(q[4]);
}

const STATS: [&str; 6] = ["mean", "median", "p05", "p25", "p75", "p95"];

/// Writes `forecast.csv`: for each series and period of the horizon, the
/// predictive mean, median, and the 50 % (p25–p75) and 90 % (p05–p95)
/// intervals of the count.
pub fn write_forecast(
    out: &mut OutDir,
    f: &Forecast,
    observed: &Observed,
    cuts: &[Cut],
    cal: Calendar,
) -> Result<(), OutputError> {
    let e = table_err("forecast.csv");
    let header = ["place", "name", "metric", "period", "from", "until"]
        .into_iter()
        .chain(STATS);
    let mut t = out.table("forecast.csv", header)?;
    for (k, s) in observed.series.iter().enumerate() {
        for c in cuts {
            let d = f.dist(observed, k, c.from, c.until);
            t.cell(&s.label)
                .cell(&s.name)
                .cell(s.metric.name())
                .cell(&c.label)
                .cell(cal.date_of(c.from))
                .cell(cal.date_of(c.until));
            quantile_cells(&mut t, d.mean(), &QUANTILES.map(|q| d.quantile(q)));
            t.end_row().map_err(&e)?;
        }
    }
    out.finish_table(t)
}

/// Writes `fitted.csv`: each count the members were weighed on, beside
/// the predictive distribution of the members at the end (their lineages'
/// values over that period); then each whole week of the window before the
/// origin, with an empty `observed`.
pub fn write_fitted(out: &mut OutDir, f: &Forecast, observed: &Observed, cal: Calendar) -> Result<(), OutputError> {
    let e = table_err("fitted.csv");
    let header = ["place", "metric", "date", "from", "until", "observed"]
        .into_iter()
        .chain(STATS);
    let mut t = out.table("fitted.csv", header)?;
    for &i in &f.used {
        let o = &observed.obs[i];
        let s = &observed.series[o.series];
        let d = f.dist(observed, o.series, o.period.from, o.period.until);
        t.cell(&s.label)
            .cell(s.metric.name())
            .cell(period_label(&o.period, cal))
            .cell(cal.date_of(o.period.from))
            .cell(cal.date_of(o.period.until))
            .cell(o.value);
        quantile_cells(&mut t, d.mean(), &QUANTILES.map(|q| d.quantile(q)));
        t.end_row().map_err(&e)?;
    }
    // The weeks of the window, ending the day before the origin: the
    // members' fit between and around the counts, with no count of its own.
    for (k, s) in observed.series.iter().enumerate() {
        for (from, until) in past_weeks(f.branch, f.plan.origin) {
            let d = f.dist(observed, k, from, until);
            t.cell(&s.label)
                .cell(s.metric.name())
                .cell(format_args!("{}/{}", cal.date_of(from), cal.date_of(until)))
                .cell(cal.date_of(from))
                .cell(cal.date_of(until))
                .cell("");
            quantile_cells(&mut t, d.mean(), &QUANTILES.map(|q| d.quantile(q)));
            t.end_row().map_err(&e)?;
        }
    }
    out.finish_table(t)
}

/// Whole weeks from `branch` that end the day before `origin`, oldest first.
pub fn past_weeks(branch: u32, origin: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut until = origin;
    while until >= branch + 7 {
        out.push((until - 7, until - 1));
        until -= 7;
    }
    out.reverse();
    out
}

/// Writes `observed.csv`: every count of the counts file, and whether the
/// forecast assimilated it.
pub fn write_observed(out: &mut OutDir, observed: &Observed, used: &[usize], cal: Calendar) -> Result<(), OutputError> {
    let e = table_err("observed.csv");
    let mut t = out.table(
        "observed.csv",
        ["date", "place", "metric", "from", "until", "value", "assimilated"],
    )?;
    let mut order: Vec<usize> = (0..observed.obs.len()).collect();
    order.sort_by_key(|&i| (observed.obs[i].series, observed.obs[i].period.from));
    for i in order {
        let o = &observed.obs[i];
        let s = &observed.series[o.series];
        t.cell(period_label(&o.period, cal))
            .cell(&s.label)
            .cell(s.metric.name())
            .cell(cal.date_of(o.period.from))
            .cell(cal.date_of(o.period.until))
            .cell(o.value)
            .cell(used.contains(&i))
            .end_row()
            .map_err(&e)?;
    }
    out.finish_table(t)
}

/// Writes `weights.csv`: each member at the end — its input draw, the
/// seed of its last days, the member of the first ensemble it descends
/// from, its weight and its lineage's log-likelihood.
pub fn write_weights(out: &mut OutDir, f: &Forecast) -> Result<(), OutputError> {
    let e = table_err("weights.csv");
    let mut t = out.table(
        "weights.csv",
        ["member", "draw", "seed", "ancestor", "weight", "log_likelihood"],
    )?;
    for (k, (m, w)) in f.members.iter().zip(f.weights()).enumerate() {
        t.cell(k)
            .cell(m.draw)
            .cell(m.seed)
            .cell(m.ancestor)
            .cell(format_args!("{w:.6}"))
            .cell(format_args!("{:.3}", m.log_lik))
            .end_row()
            .map_err(&e)?;
    }
    out.finish_table(t)
}

/// Writes `filter.csv`: each day on which counted periods ended, the
/// counts assimilated, the effective sample size and whether the members
/// were resampled.
pub fn write_filter(out: &mut OutDir, f: &Forecast, cal: Calendar) -> Result<(), OutputError> {
    let e = table_err("filter.csv");
    let mut t = out.table("filter.csv", ["date", "counts", "ess", "resampled"])?;
    for s in &f.stages {
        t.cell(cal.date_of(s.day))
            .cell(s.counts)
            .cell(format_args!("{:.2}", s.ess))
            .cell(s.resampled)
            .end_row()
            .map_err(&e)?;
    }
    out.finish_table(t)
}

/// Writes `backtest.csv`: every target of every origin.
pub fn write_backtest(
    out: &mut OutDir,
    rows: &[Scored],
    observed: &Observed,
    cal: Calendar,
) -> Result<(), OutputError> {
    let e = table_err("backtest.csv");
    let header = [
        "origin",
        "place",
        "name",
        "metric",
        "date",
        "from",
        "until",
        "lead_days",
        "observed",
    ]
    .into_iter()
    .chain(STATS)
    .chain(["crps", "persistence", "seasonal_naive"]);
    let mut t = out.table("backtest.csv", header)?;
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_default();
    for r in rows {
        let o = &observed.obs[r.obs];
        let s = &observed.series[o.series];
        t.cell(cal.date_of(r.origin))
            .cell(&s.label)
            .cell(&s.name)
            .cell(s.metric.name())
            .cell(period_label(&o.period, cal))
            .cell(cal.date_of(o.period.from))
            .cell(cal.date_of(o.period.until))
            .cell(o.period.until + 1 - r.origin)
            .cell(r.observed);
        quantile_cells(&mut t, r.mean, &r.q);
        t.cell(format_args!("{:.1}", r.crps))
            .cell(opt(r.persistence))
            .cell(opt(r.seasonal))
            .end_row()
            .map_err(&e)?;
    }
    out.finish_table(t)
}

/// Writes `scores.csv`: each method's scores by group.
pub fn write_scores(out: &mut OutDir, s: &[Summary]) -> Result<(), OutputError> {
    let header = [
        "group",
        "method",
        "targets",
        "mae",
        "crps",
        "coverage_50",
        "coverage_90",
    ];
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_default();
    out.write_table("scores.csv", header, s, |t, r| {
        t.cell(&r.group)
            .cell(&r.method)
            .cell(r.n)
            .cell(format_args!("{:.1}", r.mae))
            .cell(format_args!("{:.1}", r.crps))
            .cell(opt(r.cover50))
            .cell(opt(r.cover90));
    })
}

/// The scores as a Markdown table (the terminal and docs/forecasting.md).
pub fn scores_markdown(s: &[Summary]) -> String {
    let mut out = String::from(
        "| targets | method | n | MAE | CRPS | 50 % interval holds | 90 % interval holds |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    let pct = |x: Option<f64>| x.map(|v| format!("{:.0} %", 100.0 * v)).unwrap_or_else(|| "—".into());
    for r in s {
        out += &format!(
            "| {} | {} | {} | {:.0} | {:.0} | {} | {} |\n",
            r.group,
            r.method,
            r.n,
            r.mae,
            r.crps,
            pct(r.cover50),
            pct(r.cover90)
        );
    }
    out
}
