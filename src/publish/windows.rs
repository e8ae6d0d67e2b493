//! Policy windows and calendar periods: the spans of days that outputs are
//! summed over.
//!
//! A policy window is a stretch of days during which the same policies are
//! in force (a new one starts whenever a policy opens or closes: the
//! engine's epochs). A calendar period is a week (Monday to Sunday) or a
//! month. Owns both and the recorders that sum a run over them. Must not
//! simulate.

use crate::engine::{DayView, Recorder};
use crate::scenario::Scenario;
use crate::time::Calendar;
use chrono::{Datelike, NaiveDate};

/// Days with the same policies in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// First day.
    pub from: u32,
    /// Last day (inclusive).
    pub until: u32,
    /// Indices of the policies in force.
    pub in_force: Vec<usize>,
}

/// The policy windows of a scenario, in order, covering every day of the run.
pub fn windows(sc: &Scenario) -> Vec<Window> {
    let days = sc.calendar.days.max(1);
    // The engine's epochs: the windows are exactly its policy epochs.
    let cuts = crate::policy::epoch_cuts(sc);
    cuts.iter()
        .enumerate()
        .map(|(i, &from)| {
            let until = cuts.get(i + 1).map(|n| n - 1).unwrap_or(days - 1);
            Window {
                from,
                until,
                in_force: sc
                    .policies
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.active(from))
                    .map(|(i, _)| i)
                    .collect(),
            }
        })
        .collect()
}

/// Sums the people who set out on each leg within each policy window.
#[derive(Clone, Debug)]
pub struct WindowFlows {
    starts: Vec<u32>,
    /// `[window][leg]`: people who set out.
    pub people: Vec<Vec<u64>>,
}

impl WindowFlows {
    /// An empty sum over the windows of `sc`.
    pub fn new(sc: &Scenario) -> WindowFlows {
        let w = windows(sc);
        WindowFlows {
            starts: w.iter().map(|w| w.from).collect(),
            people: vec![vec![0; sc.legs.len()]; w.len()],
        }
    }
}

impl Recorder for WindowFlows {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        let w = self.starts.partition_point(|&s| s <= v.day).saturating_sub(1);
        if let Some(row) = self.people.get_mut(w) {
            for (s, x) in row.iter_mut().zip(v.legs) {
                *s += x;
            }
        }
        Ok(())
    }
}

/// How days are grouped into calendar periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Period {
    /// Weeks from Monday to Sunday.
    Week,
    /// Calendar months.
    Month,
}

impl Period {
    /// `week` or `month`.
    pub fn name(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// From its name.
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }
}

/// One calendar period, or the part of it inside the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// `2023-W13` (ISO week of the Monday) or `2023-03`.
    pub label: String,
    /// First day of the run in it.
    pub from: u32,
    /// Last day of the run in it (inclusive).
    pub until: u32,
    /// Days of the whole period (7, or the month's length).
    pub full_days: u32,
}

impl Span {
    /// Days of the run in it.
    pub fn days(&self) -> u32 {
        self.until - self.from + 1
    }
    /// Whether the whole period is inside the run.
    pub fn complete(&self) -> bool {
        self.days() == self.full_days
    }
}

fn first_of_period(d: NaiveDate, p: Period) -> NaiveDate {
    match p {
        Period::Week => d - chrono::Days::new(d.weekday().num_days_from_monday() as u64),
        Period::Month => d.with_day(1).unwrap_or(d),
    }
}

fn next_period(first: NaiveDate, p: Period) -> NaiveDate {
    match p {
        Period::Week => first + chrono::Days::new(7),
        Period::Month => first.checked_add_months(chrono::Months::new(1)).unwrap_or(first),
    }
}

fn label(first: NaiveDate, p: Period) -> String {
    match p {
        Period::Week => {
            let w = first.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Period::Month => first.format("%Y-%m").to_string(),
    }
}

/// The calendar periods that hold the days of a run, the first and last
/// possibly partial.
pub fn spans(cal: &Calendar, p: Period) -> Vec<Span> {
    let mut out = Vec::new();
    if cal.days == 0 {
        return out;
    }
    let mut first = first_of_period(cal.start, p);
    let end = cal.end();
    while first <= end {
        let next = next_period(first, p);
        let full_days = (next - first).num_days() as u32;
        let from = cal.day_of(first).max(0) as u32;
        let until = (cal.day_of(next) - 1).min(cal.days as i64 - 1) as u32;
        out.push(Span {
            label: label(first, p),
            from,
            until,
            full_days,
        });
        if next <= first {
            break;
        }
        first = next;
    }
    out
}

/// Parses `FROM..UNTIL` (`compare --window`, dates as YYYY-MM-DD) into the
/// inclusive day numbers of a run on `cal`; both dates must be inside it.
pub fn parse_window(cal: &Calendar, w: &str) -> Result<(u32, u32), String> {
    let (a, z) = w
        .split_once("..")
        .ok_or_else(|| format!("`{w}`: write FROM..UNTIL, e.g. 2023-04-01..2023-06-30"))?;
    let date = |s: &str| crate::time::parse_date(s.trim()).ok_or_else(|| format!("`{s}` is not a date (YYYY-MM-DD)"));
    let (a, z) = (date(a)?, date(z)?);
    let (da, dz) = (cal.day_of(a), cal.day_of(z));
    if da > dz {
        return Err(format!("{a} is after {z}"));
    }
    if da < 0 || dz >= cal.days as i64 {
        return Err(format!(
            "{a}..{z} is not inside the run ({} to {})",
            cal.start,
            cal.end()
        ));
    }
    Ok((da as u32, dz as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_date;

    #[test]
    fn weeks_run_monday_to_sunday_and_months_by_the_calendar_with_partial_ends() {
        // 1 January 2025 is a Wednesday.
        let cal = Calendar {
            start: parse_date("2025-01-01").expect("date"),
            days: 40,
        };
        let w = spans(&cal, Period::Week);
        assert_eq!(w[0].label, "2025-W01");
        assert_eq!((w[0].from, w[0].until, w[0].complete()), (0, 4, false));
        assert_eq!((w[1].from, w[1].until, w[1].complete()), (5, 11, true));
        let last = w.last().expect("a week");
        // Day 39 is Sunday 9 February: the last week is whole.
        assert_eq!((last.from, last.until, last.complete()), (33, 39, true));
        assert_eq!(w.iter().map(Span::days).sum::<u32>(), 40);
        let m = spans(&cal, Period::Month);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].label.as_str(), m[0].from, m[0].until, m[0].complete()),
            ("2025-01", 0, 30, true)
        );
        assert_eq!(
            (m[1].label.as_str(), m[1].from, m[1].until, m[1].full_days),
            ("2025-02", 31, 39, 28)
        );
    }
}
