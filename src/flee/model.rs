//! The validated `flee` scenario: Flee's locations, links, conflicts,
//! closures, spawning and settings, with names resolved to indices.
//!
//! Owns the types both readers (`import` for Flee folders, `scenario` for
//! northbound TOML) produce and the simulation (`sim`) consumes.

use super::settings::{Compat, Settings};
use crate::named::named_enum;
use chrono::NaiveDate;

named_enum! {
    /// What a location is, as Flee's `location_type` substring rules decide.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum LocKind {
        /// A conflict zone from day 0.
        Conflict => "conflict",
        /// A town (also a conflict zone whose `conflict_date` is after day 0).
        Town => "town",
        /// A refugee camp.
        Camp => "camp",
        /// An IDP camp.
        IdpCamp => "idpcamp",
        /// A forwarding hub (move chance 1).
        Forward => "forward",
        /// A marker: invisible to route choice (move chance 1).
        Marker => "marker",
    }
}

impl LocKind {
    /// Flee's reading of a `location_type` string (substring, case-insensitive).
    pub fn from_flee(s: &str) -> Option<LocKind> {
        let l = s.to_lowercase();
        if l.contains("camp") {
            Some(if l.contains("idp") {
                LocKind::IdpCamp
            } else {
                LocKind::Camp
            })
        } else if l.contains("conflict") {
            Some(LocKind::Conflict)
        } else if l.contains("forward") {
            Some(LocKind::Forward)
        } else if l.contains("marker") {
            Some(LocKind::Marker)
        } else if l.contains("default") || l.contains("town") {
            Some(LocKind::Town)
        } else {
            None
        }
    }

    /// Whether it is a camp of either kind.
    pub fn is_camp(self) -> bool {
        matches!(self, LocKind::Camp | LocKind::IdpCamp)
    }
}

/// A location.
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    /// Flee's name (the id).
    pub name: String,
    /// Region.
    pub region: String,
    /// Country, as Flee writes it.
    pub country: String,
    /// Flee's column 4 (labelled latitude; Flee stores it as x).
    pub lat: f64,
    /// Flee's column 5 (labelled longitude; Flee stores it as y).
    pub lon: f64,
    /// Kind on day 0.
    pub kind: LocKind,
    /// Day a conflict zone's conflict began (information only; `conflicts`
    /// drives the model).
    pub conflict_date: Option<i64>,
    /// Residents (not camps), in people.
    pub population: u64,
    /// Camp capacity in people; 0 is unlimited (Flee issue #46).
    pub capacity: u64,
    /// Conflict intensity of a day-0 conflict zone (`conflict_intensity`
    /// column, default 1).
    pub conflict_intensity: f64,
    /// Agents placed here on day 0 (`insert_day0`), in people.
    pub initial_people: u64,
    /// Daily chance that an agent here leaves the simulation when
    /// `camps_are_sinks` (`deactivation_probability` column).
    pub deactivation_probability: f64,
    /// Whether it is in another country than the first location.
    pub foreign: bool,
    /// Extra CSV columns, kept for the record.
    pub attributes: Vec<(String, String)>,
}

/// One direction of a route.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// Start (location index).
    pub from: u32,
    /// End.
    pub to: u32,
    /// Length, km.
    pub km: f64,
    /// Speed on this link, km/day (`max_move_speed` column).
    pub max_move_speed: Option<f64>,
    /// Chance a day of walking it (`walk_probability` column).
    pub walk_probability: f64,
}

/// A route as declared: the links both ways come from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// name1.
    pub a: u32,
    /// name2.
    pub b: u32,
    /// Length, km.
    pub km: f64,
    /// Flee's flag (0, 1 or 2): inert, but 1 creates the link twice in 3.1.
    pub forced_redirection: u8,
    /// Speed on it, km/day (`max_move_speed` column).
    pub max_move_speed: Option<f64>,
    /// Chance a day of walking it (`walk_probability` column).
    pub walk_probability: f64,
}

/// What a closure closes.
#[derive(Clone, Debug, PartialEq)]
pub enum ClosureKind {
    /// Every link between two countries, both directions.
    Country(String, String),
    /// Every link into and out of a location.
    Location(u32),
    /// The link between two locations (`a`, `b` as written).
    Link(u32, u32),
    /// A camp that becomes a town while closed (`idp`: an IDP camp on reopening).
    Camp {
        /// The camp.
        loc: u32,
        /// Reopens as an IDP camp.
        idp: bool,
    },
}

/// A dated closure: in force from day `start` until the day before `end`.
#[derive(Clone, Debug, PartialEq)]
pub struct Closure {
    /// What.
    pub kind: ClosureKind,
    /// Day it takes effect (Flee's `closure_start`).
    pub start: i64,
    /// Day it is lifted (Flee's `closure_end`; `None`: never).
    pub end: Option<i64>,
}

/// Conflict intensity of one location over time: `(day, intensity)` at
/// every change, the first at day 0.
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictSeries {
    /// Location index.
    pub loc: u32,
    /// Changes, in day order.
    pub changes: Vec<(u32, f64)>,
}

impl ConflictSeries {
    /// Intensity on `day`.
    pub fn at(&self, day: u32) -> f64 {
        let k = self.changes.partition_point(|&(d, _)| d <= day);
        if k == 0 {
            0.0
        } else {
            self.changes[k - 1].1
        }
    }
}

/// A Flee scenario, ready to run.
#[derive(Clone, Debug)]
pub struct FleeScenario {
    /// Its name, description, file or folder and the SHA-256 of its inputs.
    pub about: crate::scenario::About,
    /// Day 0.
    pub start: NaiveDate,
    /// Days simulated.
    pub days: u32,
    /// Seed.
    pub seed: u64,
    /// Intended behaviour or 3.1's.
    pub compat: Compat,
    /// Settings.
    pub settings: Settings,
    /// Locations in file order.
    pub locations: Vec<Location>,
    /// Routes in file order (each is a link both ways).
    pub routes: Vec<Route>,
    /// Conflict series (empty without `conflicts.csv`).
    pub conflicts: Vec<ConflictSeries>,
    /// Closures in file order.
    pub closures: Vec<Closure>,
    /// Observed refugee total, `(day relative to start, people)`, which
    /// drives data-driven spawning.
    pub totals: Vec<(i64, f64)>,
    /// Things the user should know (ignored settings, 3.1 quirks that bite).
    pub warnings: Vec<String>,
}

impl FleeScenario {
    /// Index of a location by name.
    pub fn loc(&self, name: &str) -> Option<u32> {
        self.locations.iter().position(|l| l.name == name).map(|i| i as u32)
    }

    /// Camps on day 0, in file order: the columns of every camp table.
    pub fn camps(&self) -> Vec<u32> {
        (0..self.locations.len() as u32)
            .filter(|&i| self.locations[i as usize].kind.is_camp())
            .collect()
    }

    /// The most agents a run can hold: the camps' day-0 agents plus the
    /// largest observed total (data-driven spawning), or every conflict-capable
    /// place spawning its most every day (conflict-driven).
    pub fn max_agents(&self) -> u128 {
        let h = self.settings.hasten.max(1) as u128;
        let initial: u128 = if self.settings.insert_day0 {
            self.locations.iter().map(|l| l.initial_people as u128 / h).sum()
        } else {
            0
        };
        let spawned = match self.settings.spawn {
            super::settings::SpawnMode::Data => self.totals.iter().map(|x| x.1).fold(0.0, f64::max) as u128 / h,
            super::settings::SpawnMode::Constant(n) | super::settings::SpawnMode::Poisson(n) => {
                (n.max(0.0) as u128 + 1) * 2 * self.locations.len() as u128 * self.days as u128
            }
            super::settings::SpawnMode::PopRatio(r) => {
                let pop: u128 = self.locations.iter().map(|l| l.population as u128 / h).sum();
                (r.max(0.0) * pop as f64) as u128 * self.days as u128
            }
        };
        initial + spawned
    }

    /// The date of `day`.
    pub fn date_of(&self, day: u32) -> NaiveDate {
        // Days past the calendar's end (not from a valid scenario) saturate.
        self.start
            .checked_add_days(chrono::Days::new(day as u64))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// Flee's interpolation of an observed series at `day` (`DataTable.
/// get_interpolated_data`), with every count divided by `per` first (Flee's
/// `hasten`): the first value before the first observation, the last after
/// the last, linear in between, truncated to a whole number.
pub fn interpolate(series: &[(i64, f64)], day: i64, per: f64) -> f64 {
    interpolate_exact(series, day, per).trunc()
}

/// [`interpolate`] without the truncation.
pub fn interpolate_exact(series: &[(i64, f64)], day: i64, per: f64) -> f64 {
    let Some(&(d0, v0)) = series.first() else {
        return 0.0;
    };
    if day <= d0 {
        return v0 / per;
    }
    for w in series.windows(2) {
        let ((da, va), (db, vb)) = (w[0], w[1]);
        if day < db {
            let f = (day - da) as f64 / (db - da) as f64;
            return va / per + f * (vb / per - va / per);
        }
    }
    series[series.len() - 1].1 / per
}
