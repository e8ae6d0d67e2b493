//! Calendar dates and the run's day numbers.
//!
//! Owns the conversion between dates and day numbers (day 0 is the
//! scenario's `start`). Must not know about scenarios or the engine.

use chrono::NaiveDate;

/// Parses an ISO 8601 calendar date (`2025-08-06`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// The calendar of one run: its first date and its number of days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    /// Day 0.
    pub start: NaiveDate,
    /// Days simulated (`end − start + 1`).
    pub days: u32,
}

impl Calendar {
    /// Day number of `date` (negative before the start).
    pub fn day_of(&self, date: NaiveDate) -> i64 {
        (date - self.start).num_days()
    }

    /// The date of `day`.
    pub fn date_of(&self, day: u32) -> NaiveDate {
        self.start + chrono::Days::new(day as u64)
    }

    /// The last date simulated.
    pub fn end(&self) -> NaiveDate {
        self.date_of(self.days.saturating_sub(1))
    }
}
