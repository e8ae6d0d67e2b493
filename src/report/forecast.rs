//! The report of a forecast or a backtest folder: for each series, one
//! chart over dates with the observed counts, the members' fit to the
//! counts they were weighed on and the forecast fan (median, 50 % and
//! 90 % intervals); for a backtest, the forecasts made before each count
//! beside it and the baselines, then the scores.
//!
//! Owns these sections only; reads the rows `report::read` took from
//! `forecast.csv`, `fitted.csv`, `observed.csv`, `backtest.csv` and
//! `scores.csv`. Counts of periods of different lengths (months, weeks) are
//! drawn as people per week, so that they share one axis. Must not
//! simulate.

use super::chart::{Header, LineChart, Point, Series, XAxis};
use super::page::{figure, table_html, NARROW, WIDE};
use super::{esc, get, num, Folder, Row};
use crate::publish::words;
use chrono::NaiveDate;
use std::fmt::Write as _;

/// The tables of a forecast or backtest folder.
#[derive(Default)]
pub(super) struct Tables {
    pub forecast: Vec<Row>,
    pub fitted: Vec<Row>,
    pub observed: Vec<Row>,
    pub backtest: Vec<Row>,
    pub scores: Vec<Row>,
}

impl Tables {
    pub fn is_empty(&self) -> bool {
        self.forecast.is_empty() && self.backtest.is_empty()
    }
}

fn day(r: &Row, key: &str) -> Option<NaiveDate> {
    crate::time::parse_date(get(r, key))
}

/// A count over `from..=until` as people per week (`present` is already an
/// average day's count and is left as it is); its x is the period's middle.
fn per_week(r: &Row, key: &str, start: NaiveDate) -> Option<(f64, f64)> {
    let (a, b) = (day(r, "from")?, day(r, "until")?);
    let days = ((b - a).num_days() + 1).max(1) as f64;
    let v = num(r, key);
    if !v.is_finite() {
        return None;
    }
    let scale = if get(r, "metric") == "present" { 1.0 } else { 7.0 / days };
    let x = (a - start).num_days() as f64 + days / 2.0;
    Some((x, v * scale))
}

fn band(r: &Row, lo: &str, hi: &str, start: NaiveDate) -> Option<Point> {
    let (x, m) = per_week(r, "median", start)?;
    let (_, l) = per_week(r, lo, start)?;
    let (_, h) = per_week(r, hi, start)?;
    Some((x, m, Some((l, h))))
}

fn series_keys(rows: &[&[Row]]) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for t in rows {
        for r in t.iter() {
            let k = (get(r, "place").to_string(), get(r, "metric").to_string());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

fn of<'a>(rows: &'a [Row], k: &(String, String)) -> impl Iterator<Item = &'a Row> + 'a {
    let k = k.clone();
    rows.iter()
        .filter(move |r| get(r, "place") == k.0 && get(r, "metric") == k.1)
}

/// The series' name: the `name` column of its rows (place names joined by
/// ` + `), else its place ids by the names the folder knows.
fn series_name(f: &Folder, rows: &[Row], place: &str) -> String {
    if let Some(n) = rows.iter().find(|r| get(r, "place") == place).map(|r| get(r, "name")) {
        if !n.is_empty() {
            return n.split(" + ").map(words::place_short).collect::<Vec<_>>().join(" + ");
        }
    }
    let names: Vec<String> = place.split('+').map(|p| f.name_of(p)).collect();
    words::list(&names)
}

fn unit(metric: &str) -> &'static str {
    if metric == "present" {
        "people present on an average day"
    } else {
        "people per week (a month's count is drawn as its weekly average)"
    }
}

/// A series drawn as lines that break where its periods are not
/// contiguous (a gap in the counts, or a month counted for another series):
/// one chart series per unbroken run, only the first named in the legend.
fn runs(rows: &[&Row], name: &str, color: usize, dashed: bool, point: impl Fn(&Row) -> Option<Point>) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    let mut last: Option<NaiveDate> = None;
    for r in rows {
        let Some(p) = point(r) else {
            last = None;
            continue;
        };
        let from = day(r, "from");
        let joined = matches!((last, from), (Some(l), Some(f)) if f == l + chrono::Days::new(1));
        if !joined || out.is_empty() {
            out.push(Series {
                name: if out.is_empty() { name.into() } else { String::new() },
                color,
                dashed,
                points: Vec::new(),
            });
        }
        if let Some(s) = out.last_mut() {
            s.points.push(p);
        }
        last = day(r, "until");
    }
    out
}

/// Counts as points without a band.
fn plain(key: &str, start: NaiveDate) -> impl Fn(&Row) -> Option<Point> + '_ {
    move |r| {
        if get(r, key).is_empty() {
            return None;
        }
        per_week(r, key, start).map(|(x, v)| (x, v, None))
    }
}

/// The forecast's chart of one series: observed counts, the fit, the fan.
fn forecast_chart(f: &Folder, k: &(String, String)) -> Option<String> {
    let t = &f.forecast;
    let weeks: Vec<&Row> = of(&t.forecast, k).filter(|r| get(r, "period") != "total").collect();
    let origin = weeks.iter().filter_map(|r| day(r, "from")).min()?;
    let end = weeks.iter().filter_map(|r| day(r, "until")).max()?;
    // From a year before the forecast (or the first count, if later).
    let first_count = of(&t.observed, k)
        .filter_map(|r| day(r, "from"))
        .min()
        .unwrap_or(origin);
    let start = first_count.max(origin - chrono::Days::new(364)).min(origin);
    let days = ((end - start).num_days() + 1) as u32;
    let mut counted: Vec<&Row> = of(&t.observed, k)
        .filter(|r| day(r, "from").is_some_and(|d| d >= start) && day(r, "until").is_some_and(|d| d <= end))
        .collect();
    counted.sort_by_key(|r| get(r, "from").to_string());
    // The weeks of the window when the folder has them (rows without a
    // count), else the counted periods.
    let weekly: Vec<&Row> = of(&t.fitted, k).filter(|r| get(r, "observed").is_empty()).collect();
    let fitted: Vec<Point> = if weekly.is_empty() {
        of(&t.fitted, k).filter_map(|r| band(r, "p05", "p95", start)).collect()
    } else {
        weekly.iter().filter_map(|r| band(r, "p05", "p95", start)).collect()
    };
    let fan90: Vec<Point> = weeks.iter().filter_map(|r| band(r, "p05", "p95", start)).collect();
    let fan50: Vec<Point> = weeks.iter().filter_map(|r| band(r, "p25", "p75", start)).collect();
    let mut series = runs(&counted, "observed", 0, false, plain("value", start));
    if !fitted.is_empty() {
        series.push(Series {
            name: "members weighed on the counts: median, 90 %".into(),
            color: 1,
            dashed: false,
            points: fitted,
        });
    }
    series.push(Series {
        name: "forecast: median and 90 % interval".into(),
        color: 2,
        dashed: false,
        points: fan90,
    });
    series.push(Series {
        name: "forecast: 50 % interval".into(),
        color: 2,
        dashed: true,
        points: fan50,
    });
    let x0 = (origin - start).num_days() as f64;
    let chart = LineChart {
        header: Header {
            title: format!(
                "{} at {}: observed and forecast",
                capital(&words::metric_label(&k.1)),
                series_name(f, &t.forecast, &k.0)
            ),
            lines: vec![
                format!("{} · {} members · {}", f.meta.scenario, f.meta.replicates, unit(&k.1)),
                "Bands: the members' 90 % interval (and, darker, 50 %) including a count's own spread".into(),
            ],
        },
        x: XAxis::Dates { start, days },
        series,
        marks: Vec::new(),
        shade: Some((
            x0,
            days as f64,
            format!("the forecast, from {}", words::date_long(origin)),
        )),
        notes: Vec::new(),
    };
    Some(figure(chart.svg(WIDE), chart.svg(NARROW)))
}

/// The backtest's chart of one series: each count, the forecast made at
/// the latest origin before it (the shortest lead), and persistence.
fn backtest_chart(f: &Folder, k: &(String, String)) -> Option<String> {
    let t = &f.forecast;
    let rows: Vec<&Row> = of(&t.backtest, k).collect();
    let start = rows.iter().filter_map(|r| day(r, "from")).min()?;
    let end = rows.iter().filter_map(|r| day(r, "until")).max()?;
    let days = ((end - start).num_days() + 1) as u32;
    // Per counted period, the row of the latest origin.
    let mut latest: Vec<&Row> = Vec::new();
    for r in &rows {
        let key = (get(r, "from"), get(r, "until"));
        match latest.iter_mut().find(|x| (get(x, "from"), get(x, "until")) == key) {
            Some(x) => {
                if get(r, "origin") > get(x, "origin") {
                    *x = r;
                }
            }
            None => latest.push(r),
        }
    }
    latest.sort_by_key(|r| get(r, "from").to_string());
    let mut series = runs(&latest, "observed", 0, false, plain("observed", start));
    series.extend(runs(&latest, "model: median and 90 % interval", 2, false, |r| {
        band(r, "p05", "p95", start)
    }));
    series.extend(runs(&latest, "persistence", 3, true, plain("persistence", start)));
    let chart = LineChart {
        header: Header {
            title: format!(
                "{} at {}: each count and the forecast made before it",
                capital(&words::metric_label(&k.1)),
                series_name(f, &t.backtest, &k.0)
            ),
            lines: vec![format!(
                "{} · {} members · {} · the forecast of each count is the one from the latest origin before it",
                f.meta.scenario,
                f.meta.replicates,
                unit(&k.1)
            )],
        },
        x: XAxis::Dates { start, days },
        series,
        marks: Vec::new(),
        shade: None,
        notes: Vec::new(),
    };
    Some(figure(chart.svg(WIDE), chart.svg(NARROW)))
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn cell(r: &Row, key: &str) -> String {
    let v = get(r, key);
    match v.parse::<f64>() {
        Ok(x) if key.starts_with("coverage") => format!("{:.0} %", 100.0 * x),
        Ok(x) => words::thousands(x.round() as i64),
        Err(_) if v.is_empty() => "—".into(),
        Err(_) => v.to_string(),
    }
}

/// The sections of a forecast or backtest folder.
pub(super) fn sections(f: &Folder) -> String {
    let t = &f.forecast;
    let mut h = String::new();
    if !t.forecast.is_empty() {
        for k in series_keys(&[&t.forecast]) {
            if let Some(c) = forecast_chart(f, &k) {
                let _ = write!(h, "<h2>{}</h2>", esc(&series_name(f, &t.forecast, &k.0)));
                h += &c;
            }
            let rows: Vec<Vec<String>> = of(&t.forecast, &k)
                .map(|r| {
                    vec![
                        get(r, "period").to_string(),
                        format!(
                            "{} – {}",
                            words::date_short(day(r, "from").unwrap_or_default()),
                            words::date_short(day(r, "until").unwrap_or_default())
                        ),
                        cell(r, "median"),
                        format!("{} – {}", cell(r, "p25"), cell(r, "p75")),
                        format!("{} – {}", cell(r, "p05"), cell(r, "p95")),
                    ]
                })
                .collect();
            h += &table_html(&["period", "dates", "median", "50 % interval", "90 % interval"], &rows);
        }
    }
    if !t.backtest.is_empty() {
        for k in series_keys(&[&t.backtest]) {
            if let Some(c) = backtest_chart(f, &k) {
                let _ = write!(h, "<h2>{}</h2>", esc(&series_name(f, &t.backtest, &k.0)));
                h += &c;
            }
        }
        let rows: Vec<Vec<String>> = t
            .scores
            .iter()
            .map(|r| {
                vec![
                    get(r, "group").to_string(),
                    get(r, "method").to_string(),
                    cell(r, "targets"),
                    cell(r, "mae"),
                    cell(r, "crps"),
                    cell(r, "coverage_50"),
                    cell(r, "coverage_90"),
                ]
            })
            .collect();
        h += "<h2>Scores</h2>";
        h += &table_html(
            &[
                "targets",
                "method",
                "n",
                "MAE",
                "CRPS",
                "50 % interval holds",
                "90 % interval holds",
            ],
            &rows,
        );
        h += "<p class=\"note\">Lower MAE and CRPS are better; a 90 % interval should hold about 90 % of the counts. \
A baseline is scored on the counts it can forecast, beside the model on the same counts.</p>\n";
    }
    h
}
