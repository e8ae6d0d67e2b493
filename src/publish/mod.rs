//! Outputs people publish and plan with, written beside the tables of a
//! run, an ensemble, a comparison or a sweep: calendar periods
//! (`periods.csv`), policy windows (`policies.csv`), place-level paired
//! differences (`place_differences.csv`), the long sweep table
//! (`sweep_long.csv`), GeoJSON (`places.geojson`, `flows.geojson`), the
//! plain-language summary (`summary.md`) and the folder's description
//! (`datapackage.json`).
//!
//! Owns these files and the figures in them, computed from replicates kept
//! in memory (a single run is one replicate). Reads nothing but the
//! scenario file (for its provenance marks). Must not simulate, and must
//! not change the bytes of the tables `output` and `ensemble` write.

pub mod datapackage;
pub mod geo;
pub mod narrative;
pub mod tables;
pub mod windows;
pub mod words;

use crate::engine::{Col, DayView, Recorder, RunResult, N_COLS};
use crate::ensemble::{CompareRow, Replicate, SweepRow};
use crate::output::{OutDir, OutputError, TableFile};
use crate::scenario::Scenario;
use crate::table::{table_err, Table};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
pub use windows::{Period, WindowFlows};

/// What a folder holds and how it was made: the `northbound` section of
/// `datapackage.json`, which the report reads for its titles.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `run`, `replicates`, `compare` or `sweep`.
    pub kind: String,
    /// The scenario's name.
    pub scenario: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// The scenario file as given.
    #[serde(default)]
    pub file: String,
    /// SHA-256 of the scenario file.
    #[serde(default)]
    pub sha256: String,
    /// First date simulated.
    pub start: String,
    /// Last date simulated.
    pub end: String,
    /// People in the scenario (after `--scale`).
    #[serde(default)]
    pub people: u64,
    /// The seed (replicate 0's; the others are derived from it).
    pub seed: u64,
    /// Replicates (1 for a single run).
    pub replicates: usize,
    /// `--scale` (1 when not given).
    pub scale: f64,
    /// `week` or `month`: the periods of `periods.csv`.
    #[serde(default)]
    pub period: String,
    /// `compare --window`: first and last date of the place-level figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<(String, String)>,
    /// `compare`: the variants against the base.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantMeta>,
    /// `sweep`: the parameters varied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
    /// What the intervals cover (`narrative::covers`).
    #[serde(default)]
    pub uncertainty: String,
    /// northbound's version.
    #[serde(default)]
    pub version: String,
}

/// A variant in [`Meta`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantMeta {
    /// Its id.
    pub id: String,
    /// What it asks.
    pub description: String,
}

impl Meta {
    /// What the intervals cover, in two or three words for captions and
    /// column descriptions: `chance only` or `chance and inputs`.
    pub fn covers_short(&self) -> &str {
        match self.uncertainty.split_once(':') {
            Some((short, _)) => short.trim(),
            None => "chance only",
        }
    }

    /// The description of a folder of `kind` made from `sc`.
    pub fn new(kind: &str, sc: &Scenario, seed: u64, replicates: usize, scale: Option<f64>, period: Period) -> Meta {
        Meta {
            kind: kind.into(),
            scenario: sc.about.name.clone(),
            description: sc.about.description.clone(),
            file: sc.about.file.display().to_string(),
            sha256: sc.about.sha256.clone(),
            start: sc.calendar.start.to_string(),
            end: sc.calendar.end().to_string(),
            people: sc.people(),
            seed,
            replicates,
            scale: scale.unwrap_or(1.0),
            period: period.name().into(),
            window: None,
            variants: Vec::new(),
            params: Vec::new(),
            uncertainty: narrative::covers().into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Keeps what a single run's published outputs need: every day's place
/// counts and the people who set out on each leg per policy window.
pub struct Keep {
    daily: Vec<Vec<[u64; N_COLS]>>,
    legs: Vec<u64>,
    windows: WindowFlows,
}

impl Keep {
    /// Starts keeping a run of `sc`.
    pub fn new(sc: &Scenario) -> Keep {
        Keep {
            daily: Vec::with_capacity(sc.calendar.days as usize),
            legs: vec![0; sc.legs.len()],
            windows: WindowFlows::new(sc),
        }
    }

    /// The run as a replicate (replicate 0, the only one).
    pub fn into_replicate(self, result: &RunResult) -> Replicate {
        Replicate {
            seed: result.seed,
            daily: self.daily,
            legs: self.legs,
            legs_by_window: self.windows.people,
            result: result.clone(),
            tables: Vec::new(),
            inputs: Vec::new(),
        }
    }
}

impl Recorder for Keep {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        self.daily.push(v.places.to_vec());
        for (s, x) in self.legs.iter_mut().zip(v.legs) {
            *s += x;
        }
        self.windows.day(v)
    }
}

/// A figure of a place over some days: a column summed, or the most people
/// present at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceMetric {
    /// A flow column summed over the days.
    Sum(Col),
    /// The largest `present` of any day.
    Peak,
}

impl PlaceMetric {
    /// The figures of places in `periods.csv`.
    pub const ALL: [PlaceMetric; 9] = [
        PlaceMetric::Sum(Col::Arrived),
        PlaceMetric::Sum(Col::Departed),
        PlaceMetric::Sum(Col::Claims),
        PlaceMetric::Sum(Col::TurnedBack),
        PlaceMetric::Sum(Col::Expelled),
        PlaceMetric::Sum(Col::Intercepted),
        PlaceMetric::Sum(Col::Detected),
        PlaceMetric::Sum(Col::Removed),
        PlaceMetric::Peak,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            PlaceMetric::Sum(c) => c.name(),
            PlaceMetric::Peak => "present_peak",
        }
    }

    /// Its value in one replicate at place `p` over days `from..=until`.
    pub fn value(self, r: &Replicate, p: usize, from: u32, until: u32) -> f64 {
        let days = r
            .daily
            .get(from as usize..=(until as usize).min(r.daily.len().saturating_sub(1)))
            .unwrap_or(&[]);
        match self {
            PlaceMetric::Sum(c) => days.iter().map(|d| d[p][c as usize]).sum::<u64>() as f64,
            PlaceMetric::Peak => days.iter().map(|d| d[p][Col::Present as usize]).max().unwrap_or(0) as f64,
        }
    }
}

/// Writes one table through the table writer (`table::Table`) into the
/// folder, so that it is quoted as every table is and listed in the
/// folder's manifest: `rows` is called with the table.
pub(crate) fn table(
    out: &mut OutDir,
    name: &str,
    header: &[String],
    rows: impl FnOnce(&mut Table<TableFile>) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut t = out.table(name, header)?;
    rows(&mut t).map_err(table_err(name))?;
    out.finish_table(t)
}

/// Writes a text file.
pub(crate) fn text_file(out: &mut OutDir, name: &str, text: &str) -> Result<(), OutputError> {
    use std::io::Write;
    let mut f = out.file(name)?;
    f.write_all(text.as_bytes()).map_err(|e| OutputError::Io {
        path: PathBuf::from(name),
        source: e,
    })?;
    out.finish(f)
}

/// A variant's run in a comparison: its id, its scenario and its replicates.
pub struct VariantRuns<'a> {
    /// Its id.
    pub id: &'a str,
    /// The scenario under the variant.
    pub scenario: &'a Scenario,
    /// Its replicates (replicate k with the base's seed k).
    pub reps: &'a [Replicate],
}

/// Writes the published outputs of a run or of replicates of one scenario
/// (`meta.kind` `run` or `replicates`): `periods.csv`, `policies.csv`,
/// `places.geojson`, `flows.geojson`, `summary.md`, `datapackage.json`.
pub fn write_run(
    out: &mut OutDir,
    meta: &Meta,
    sc: &Scenario,
    reps: &[Replicate],
    period: Period,
) -> Result<(), OutputError> {
    tables::write_periods(out, sc, period, &[("", reps)])?;
    tables::write_policies(out, &[("", sc)])?;
    let whole = (0, sc.calendar.days.saturating_sub(1));
    geo::write_places(out, sc, reps, &[], whole)?;
    geo::write_flows(out, sc, reps, &[])?;
    text_file(out, "summary.md", &narrative::run(meta, sc, reps))?;
    datapackage::write(out, meta)
}

/// A comparison's runs: the base's replicates, each variant's, the rows of
/// `comparison.csv` and the window (inclusive day numbers) of the
/// place-level figures.
pub struct Comparison<'a> {
    /// The base's replicates.
    pub base: &'a [Replicate],
    /// Each variant's runs.
    pub variants: &'a [VariantRuns<'a>],
    /// The rows of `comparison.csv`.
    pub rows: &'a [CompareRow],
    /// First and last day of the place-level figures.
    pub window: (u32, u32),
}

/// Writes the published outputs of a comparison: per-variant
/// `periods.csv` and `policies.csv`, `place_differences.csv` over the
/// window, GeoJSON per variant with paired differences, `summary.md` and
/// `datapackage.json`.
pub fn write_compare(
    out: &mut OutDir,
    meta: &Meta,
    sc: &Scenario,
    c: &Comparison<'_>,
    period: Period,
) -> Result<(), OutputError> {
    let (base, variants, window) = (c.base, c.variants, c.window);
    let mut series: Vec<(&str, &[Replicate])> = vec![("base", base)];
    series.extend(variants.iter().map(|v| (v.id, v.reps)));
    tables::write_periods(out, sc, period, &series)?;
    let mut scenarios: Vec<(&str, &Scenario)> = vec![("base", sc)];
    scenarios.extend(variants.iter().map(|v| (v.id, v.scenario)));
    tables::write_policies(out, &scenarios)?;
    let diffs = tables::place_differences(sc, base, variants, window);
    tables::write_place_differences(out, sc, &diffs, window)?;
    geo::write_places(out, sc, base, variants, window)?;
    geo::write_flows(out, sc, base, variants)?;
    text_file(out, "summary.md", &narrative::compare(meta, sc, c, &diffs))?;
    datapackage::write(out, meta)
}

/// Writes the published outputs of a sweep: `sweep_long.csv` (every point ×
/// final state, event and place flow), `summary.md` and `datapackage.json`.
pub fn write_sweep(out: &mut OutDir, meta: &Meta, sc: &Scenario, rows: &[SweepRow]) -> Result<(), OutputError> {
    tables::write_sweep_long(out, sc, &meta.params, rows, meta.replicates)?;
    text_file(out, "summary.md", &narrative::sweep(meta, sc, &meta.params, rows))?;
    datapackage::write(out, meta)
}
