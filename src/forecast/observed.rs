//! Observed counts: the tidy `date,place,metric,value` table a forecast
//! assimilates and a backtest scores against.
//!
//! Owns the counts file's format and its validation against a scenario
//! (every problem with its line, column and field, all at once). Reads
//! through the loose CSV tokeniser of `flee::csvin` (RFC 4180 quoting, byte
//! positions). Must not simulate.
//!
//! A row is one count of one series (a place, or places joined by `+`
//! and summed, with a `places.csv` column) over one period, written in
//! `date` as a day (`2025-08-01`), an ISO week (`2025-W31`, Monday to
//! Sunday), a calendar month (`2025-08`) or an inclusive interval of days
//! (`2025-06-01/2025-08-31`). Other columns (a `source`, a `note`) are
//! kept out of the way.

use crate::engine::Col;
use crate::flee::csvin::{Row, Source};
use crate::scenario::diag::closest;
use crate::scenario::{LoadError, PlaceIx, Scenario};
use chrono::{NaiveDate, Weekday};
use std::path::Path;

/// How long a period is, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Span {
    /// One day.
    Day,
    /// An ISO week.
    Week,
    /// A calendar month.
    Month,
    /// An interval of days.
    Interval,
}

/// A period of days of the run, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// First day.
    pub from: u32,
    /// Last day.
    pub until: u32,
    /// How it was written.
    pub span: Span,
}

impl Period {
    /// Days in it.
    pub fn days(&self) -> u32 {
        self.until - self.from + 1
    }
}

/// A series: places summed, and a column of `places.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// The places, in the order written.
    pub places: Vec<PlaceIx>,
    /// The column (`present` is averaged over a period, the others summed).
    pub metric: Col,
    /// `place` as written (ids joined by `+`).
    pub label: String,
    /// The places' names joined by ` + `.
    pub name: String,
}

impl Series {
    /// The series' value on one day from that day's place counts.
    pub fn value(&self, cols: &[[u64; crate::engine::N_COLS]]) -> f64 {
        self.places
            .iter()
            .map(|&p| cols[p as usize][self.metric as usize])
            .sum::<u64>() as f64
    }

    /// A period's value from the daily values of its days: their mean for
    /// `present` (people at a place), their sum for flows.
    pub fn over(&self, daily: impl Iterator<Item = f64>, days: u32) -> f64 {
        let s: f64 = daily.sum();
        if self.metric == Col::Present {
            s / days.max(1) as f64
        } else {
            s
        }
    }
}

/// One observed count.
#[derive(Clone, Debug, PartialEq)]
pub struct Obs {
    /// Index in [`Observed::series`].
    pub series: usize,
    /// The period counted.
    pub period: Period,
    /// The count.
    pub value: f64,
    /// Line in the file (1-based).
    pub line: usize,
}

/// A counts file read against a scenario.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Every series, in the order they first appear.
    pub series: Vec<Series>,
    /// Every count, by the end of its period, then series, then start.
    pub obs: Vec<Obs>,
}

const COLUMNS: [&str; 4] = ["date", "place", "metric", "value"];
const DATE_HELP: &str =
    "a day (2025-08-01), an ISO week (2025-W31), a month (2025-08) or an interval of days (2025-06-01/2025-08-31)";

/// Reads a counts file against a scenario.
pub fn load(path: &Path, sc: &Scenario) -> Result<Observed, LoadError> {
    let src = Source::read(path)?;
    parse(src, sc)
}

/// Reads a counts file's bytes against a scenario, naming `path` in errors.
pub fn load_bytes(bytes: &[u8], path: &Path, sc: &Scenario) -> Result<Observed, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.valid_up_to(),
    })?;
    parse(
        Source {
            path: path.to_path_buf(),
            text: text.to_string(),
            problems: Vec::new(),
        },
        sc,
    )
}

fn parse(mut src: Source, sc: &Scenario) -> Result<Observed, LoadError> {
    let rows = src.rows();
    let Some(header) = rows.first() else {
        src.missing(
            "header",
            "the counts file is empty",
            "the first line names the columns: date,place,metric,value",
        );
        src.check()?;
        return Ok(Observed::default());
    };
    let mut at = [usize::MAX; 4];
    for (i, f) in header.fields.iter().enumerate() {
        if let Some(k) = COLUMNS.iter().position(|c| *c == f.text) {
            if at[k] != usize::MAX {
                src.err(
                    f.span.clone(),
                    "header",
                    format!("column `{}` appears twice", f.text),
                    "name each column once",
                );
            }
            at[k] = i;
        }
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(&at)
        .filter(|(_, &i)| i == usize::MAX)
        .map(|(c, _)| *c)
        .collect();
    if !missing.is_empty() {
        src.err(
            header.span.clone(),
            "header",
            format!("the header has no column {}", missing.join(", ")),
            "the first line names the columns: date,place,metric,value (others, such as source, are allowed)",
        );
        src.check()?;
    }
    let cal = sc.calendar;
    let mut out = Observed::default();
    let mut seen: std::collections::HashMap<(usize, Period), usize> = std::collections::HashMap::new();
    // Lines by the byte where they start: a file of a million counts is
    // placed in linear time.
    let newlines: Vec<usize> = src.text.match_indices('\n').map(|(i, _)| i).collect();
    let line_of = |_: &Source, pos: usize| newlines.partition_point(|&n| n < pos) + 1;
    let mut date_spans = Vec::new();
    for row in rows.iter().skip(1) {
        let line = line_of(&src, row.span.start);
        let field = |k: usize| format!("line {line}: {}", COLUMNS[k]);
        if row.fields.len() <= *at.iter().max().unwrap_or(&0) {
            src.err(
                row.span.clone(),
                &format!("line {line}"),
                format!("{} fields; the header has {}", row.fields.len(), header.fields.len()),
                "every row gives date, place, metric and value",
            );
            continue;
        }
        let period = date(&mut src, row, at[0], &field(0), cal);
        let series = series(&mut src, row, at[1], at[2], &field(1), &field(2), sc);
        let value = value(&mut src, row, at[3], &field(3));
        let (Some(period), Some(s), Some(value)) = (period, series, value) else {
            continue;
        };
        let si = match out.series.iter().position(|x| *x == s) {
            Some(i) => i,
            None => {
                out.series.push(s);
                out.series.len() - 1
            }
        };
        if let Some(&first) = seen.get(&(si, period)) {
            src.err(
                row.span_of(at[0]),
                &field(0),
                format!(
                    "a second count of {} for this period (the first is on line {first})",
                    out.series[si].label
                ),
                "give each period of a series one count",
            );
            continue;
        }
        seen.insert((si, period), line);
        date_spans.push(row.span_of(at[0]));
        out.obs.push(Obs {
            series: si,
            period,
            value,
            line,
        });
    }
    // Periods of one series must not overlap: a day counted twice would
    // weigh twice in the filter.
    let mut by: Vec<usize> = (0..out.obs.len()).collect();
    by.sort_by_key(|&k| (out.obs[k].series, out.obs[k].period.from, out.obs[k].period.until));
    // The period reaching furthest so far in each series.
    let mut reach: Option<usize> = None;
    for &k in &by {
        let b = &out.obs[k];
        let prev = reach.filter(|&r| out.obs[r].series == b.series);
        reach = match prev {
            Some(r) if out.obs[r].period.until >= b.period.until => Some(r),
            _ => Some(k),
        };
        let Some(a) = prev.map(|r| &out.obs[r]) else { continue };
        if b.period.from <= a.period.until {
            src.err(
                date_spans[k].clone(),
                &format!("line {}: date", b.line),
                format!(
                    "this period overlaps the one on line {} for {} {}",
                    a.line,
                    out.series[a.series].label,
                    out.series[a.series].metric.name()
                ),
                "periods of one place and metric must not share days: drop one, or give the difference as its own interval",
            );
        }
    }
    if out.obs.is_empty() && src.problems.is_empty() {
        src.err(
            header.span.clone(),
            "rows",
            "the counts file has no counts",
            "add rows of date,place,metric,value below the header",
        );
    }
    src.check()?;
    out.obs.sort_by_key(|o| (o.period.until, o.series, o.period.from));
    Ok(out)
}

fn date(src: &mut Source, row: &Row, i: usize, field: &str, cal: crate::time::Calendar) -> Option<Period> {
    let f = row.get(i)?;
    let t = f.text.as_str();
    let parsed: Option<(NaiveDate, NaiveDate, Span)> = if let Some((a, b)) = t.split_once('/') {
        match (crate::time::parse_date(a), crate::time::parse_date(b)) {
            (Some(a), Some(b)) if b >= a => Some((a, b, Span::Interval)),
            (Some(_), Some(_)) => {
                src.err(
                    f.span.clone(),
                    field,
                    format!("the interval `{t}` ends before it starts"),
                    "write the first day, then the last: 2025-06-01/2025-08-31",
                );
                return None;
            }
            _ => None,
        }
    } else if let Some((y, w)) = t.split_once("-W") {
        let (y, w) = (y.parse::<i32>().ok(), w.parse::<u32>().ok());
        match (y, w) {
            (Some(y), Some(w)) => NaiveDate::from_isoywd_opt(y, w, Weekday::Mon)
                .and_then(|a| Some((a, NaiveDate::from_isoywd_opt(y, w, Weekday::Sun)?, Span::Week))),
            _ => None,
        }
    } else if t.len() == 7 && t.as_bytes().get(4) == Some(&b'-') {
        let (y, m) = (t[..4].parse::<i32>().ok(), t[5..].parse::<u32>().ok());
        match (y, m) {
            (Some(y), Some(m)) => NaiveDate::from_ymd_opt(y, m, 1).and_then(|a| {
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)
                }?;
                Some((a, next.pred_opt()?, Span::Month))
            }),
            _ => None,
        }
    } else {
        crate::time::parse_date(t).map(|d| (d, d, Span::Day))
    };
    let Some((a, b, span)) = parsed else {
        src.err(f.span.clone(), field, format!("`{t}` is not a period"), DATE_HELP);
        return None;
    };
    let (da, db) = (cal.day_of(a), cal.day_of(b));
    if da < 0 || db >= cal.days as i64 {
        src.err(
            f.span.clone(),
            field,
            format!(
                "{t} ({} to {}) is outside the scenario's run ({} to {})",
                a,
                b,
                cal.start,
                cal.end()
            ),
            "count periods that lie within the scenario's start and end",
        );
        return None;
    }
    Some(Period {
        from: da as u32,
        until: db as u32,
        span,
    })
}

#[allow(clippy::too_many_arguments)]
fn series(
    src: &mut Source,
    row: &Row,
    pi: usize,
    mi: usize,
    pfield: &str,
    mfield: &str,
    sc: &Scenario,
) -> Option<Series> {
    let (pf, mf) = (row.get(pi)?, row.get(mi)?);
    let mut places = Vec::new();
    let mut ok = true;
    for id in pf.text.split('+').map(str::trim) {
        match sc.place_index.get(id) {
            Some(&p) if !places.contains(&p) => places.push(p),
            Some(_) => {
                src.err(
                    pf.span.clone(),
                    pfield,
                    format!("{id} is named twice"),
                    "name each place of a sum once",
                );
                ok = false;
            }
            None => {
                let dym = closest(id, sc.place_index.keys().map(String::as_str))
                    .map(|c| format!("did you mean \"{c}\"? "))
                    .unwrap_or_default();
                src.err(
                    pf.span.clone(),
                    pfield,
                    format!("no place in the scenario has id \"{id}\""),
                    format!(
                        "{dym}a place id of {}, or several joined by + (their sum)",
                        sc.about.file.display()
                    ),
                );
                ok = false;
            }
        }
    }
    let metric = Col::ALL.iter().copied().find(|c| c.name() == mf.text);
    if metric.is_none() {
        let names: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
        let dym = closest(&mf.text, names.iter().copied())
            .map(|c| format!("did you mean \"{c}\"? "))
            .unwrap_or_default();
        src.err(
            mf.span.clone(),
            mfield,
            format!("\"{}\" is not a places.csv column", mf.text),
            format!("{dym}metric is one of {}", names.join(", ")),
        );
    }
    (ok && !places.is_empty()).then_some(())?;
    Some(Series {
        metric: metric?,
        label: pf.text.split('+').map(str::trim).collect::<Vec<_>>().join("+"),
        name: places
            .iter()
            .map(|&p| sc.places[p as usize].name.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        places,
    })
}

fn value(src: &mut Source, row: &Row, i: usize, field: &str) -> Option<f64> {
    let f = row.get(i)?;
    match f.text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
        _ => {
            src.err(
                f.span.clone(),
                field,
                format!("`{}` is not a count", f.text),
                "a number ≥ 0 (people counted over the period)",
            );
            None
        }
    }
}
