//! `report.html`: one self-contained page a person can read, publish and
//! plan with, rendered from the files in a run, ensemble, comparison or
//! sweep folder.
//!
//! Owns the page: the summary of `summary.md` at the top, charts with
//! calendar dates, policy marks and honest bands (`chart`), maps on a real
//! basemap (`map`), and tables. Every chart is inline SVG written directly
//! (`svg`), drawn twice — for a desktop and for a phone — and the page
//! shows the one that fits; no scripts, no fonts or styles fetched, and a
//! Content-Security-Policy that forbids any request. Reads only the files
//! of the folder (all through the readers in "Reading" below), so
//! `northbound report DIR` renders any of them again. Must not simulate.

pub(crate) mod chart;
mod forecast;
mod map;
pub(crate) mod page;
mod svg;

use crate::output::{OutDir, OutputError};
use crate::publish::words::{self, place_short};
use crate::publish::Meta;
use chart::{BarChart, BarRow, Header, Key, LineChart, Mark, Series, StackChart, XAxis};
use chrono::NaiveDate;
use csv::StringRecord;
use map::{MapChart, MapPlace, MapRoute, Style};
use page::{figure, markdown, table_html, Page, NARROW, WIDE};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use svg::esc;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A table could not be read.
    #[error("{path}: {reason}")]
    Table {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The folder holds no tables to report on.
    #[error(
        "{0}: no places.csv, places_summary.csv, comparison.csv or sweep_long.csv; is it a northbound output folder?"
    )]
    Empty(PathBuf),
    /// A number no table northbound writes can hold (inf, NaN, 1e308).
    #[error("{path}:{line}: column `{column}`: `{value}` is not a number a northbound table holds (finite, at most 1e15 in size); was the table edited?")]
    Number {
        /// The file.
        path: PathBuf,
        /// The line (1-based, the header is line 1; 0 in a JSON file).
        line: u64,
        /// The column's name (in a JSON file, the key holding it).
        column: String,
        /// The text.
        value: String,
    },
    /// Writing failed.
    #[error("{0}")]
    Output(#[from] OutputError),
    /// A chart failed to render.
    #[error("chart: {0}")]
    Chart(String),
}

impl ReportError {
    /// Whether the folder or its files are at fault (exit 2), not
    /// northbound (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ReportError::Table { .. } | ReportError::Empty(_) | ReportError::Number { .. } => true,
            ReportError::Output(o) => o.is_refusal(),
            ReportError::Chart(_) => false,
        }
    }
}

// ------------------------------------------------------------------ Reading
//
// Every file the report reads goes through `table`, `json` or `text`; the
// first two refuse numbers no file northbound writes can hold.

type Row = BTreeMap<String, String>;

/// Columns of text (ids, names, dates, words) in the tables the report
/// reads; every other column holds numbers.
pub(crate) const TEXT_COLUMNS: [&str; 19] = [
    "place",
    "cohort",
    "nationality",
    "outcome",
    "event",
    "route",
    "from",
    "to",
    "mode",
    "variant",
    "metric",
    "date",
    "period",
    "until",
    "complete",
    "policy",
    "kind",
    "nationalities",
    "what",
];

/// The largest magnitude a number may have: far above any count of
/// people, far below where sums and chart scales overflow.
const MAX_NUMBER: f64 = 1e15;

/// Whether a number is one northbound could have written.
fn plausible(x: f64) -> bool {
    x.is_finite() && x.abs() <= MAX_NUMBER
}

/// A CSV table as rows of column → value (`None` if the file is absent).
fn table(path: &Path) -> Result<Option<Vec<Row>>, ReportError> {
    let mut rows = Vec::new();
    let found = records(path, |headers, rec| {
        rows.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        )
    })?;
    Ok(found.then_some(rows))
}

/// Reads a CSV table record by record (false if the file is absent),
/// handing `each` the headers and the record once every number in it is
/// one northbound could have written. One record is reused: the large
/// tables are read without a string per cell.
fn records(path: &Path, mut each: impl FnMut(&StringRecord, &StringRecord)) -> Result<bool, ReportError> {
    if !path.exists() {
        return Ok(false);
    }
    let err = |e: csv::Error| ReportError::Table {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    let headers = r.headers().map_err(err)?.clone();
    let numeric: Vec<bool> = headers.iter().map(|h| !TEXT_COLUMNS.contains(&h)).collect();
    let mut rec = StringRecord::new();
    while r.read_record(&mut rec).map_err(err)? {
        for (i, v) in rec.iter().enumerate() {
            let bad = numeric.get(i).copied().unwrap_or(false) && v.trim().parse::<f64>().is_ok_and(|x| !plausible(x));
            if bad {
                return Err(ReportError::Number {
                    path: path.to_path_buf(),
                    line: rec.position().map(|p| p.line()).unwrap_or(0),
                    column: headers.get(i).unwrap_or("").to_string(),
                    value: v.chars().take(40).collect(),
                });
            }
        }
        each(&headers, &rec);
    }
    Ok(true)
}

/// The first number in `v` that northbound could not have written, with
/// the key that holds it.
fn implausible(v: &serde_json::Value, key: &str) -> Option<(String, f64)> {
    use serde_json::Value as V;
    match v {
        V::Number(n) => n.as_f64().filter(|x| !plausible(*x)).map(|x| (key.to_string(), x)),
        V::Array(a) => a.iter().find_map(|x| implausible(x, key)),
        // A seed is an id of 64 bits, not a figure.
        V::Object(o) => o
            .iter()
            .filter(|(k, _)| *k != "seed")
            .find_map(|(k, x)| implausible(x, k)),
        _ => None,
    }
}

/// A JSON file (`None` if absent).
fn json(path: &Path) -> Result<Option<serde_json::Value>, ReportError> {
    match std::fs::read_to_string(path) {
        Ok(t) => {
            let v: serde_json::Value = serde_json::from_str(&t).map_err(|e| ReportError::Table {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            match implausible(&v, "") {
                Some((column, x)) => Err(ReportError::Number {
                    path: path.to_path_buf(),
                    line: 0,
                    column,
                    value: x.to_string(),
                }),
                None => Ok(Some(v)),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReportError::Table {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

/// A text file (`None` if absent).
fn text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn num(row: &Row, key: &str) -> f64 {
    row.get(key).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
}

fn get<'a>(row: &'a Row, key: &str) -> &'a str {
    row.get(key).map(String::as_str).unwrap_or("")
}

fn date(row: &Row, key: &str) -> Option<NaiveDate> {
    crate::time::parse_date(get(row, key))
}

fn prop_f(p: &serde_json::Map<String, serde_json::Value>, k: &str) -> f64 {
    p.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0)
}

fn prop_opt(p: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<f64> {
    p.get(k).and_then(|v| v.as_f64())
}

/// A place of `places.geojson`.
struct Place {
    id: String,
    name: String,
    kind: String,
    claim_point: bool,
    lon: f64,
    lat: f64,
    props: serde_json::Map<String, serde_json::Value>,
}

/// A route of `flows.geojson`.
struct Route {
    a: (f64, f64),
    b: (f64, f64),
    props: serde_json::Map<String, serde_json::Value>,
}

/// A row of `periods.csv`.
struct PeriodRow {
    variant: String,
    from: NaiveDate,
    until: NaiveDate,
    complete: bool,
    place: String,
    metric: String,
    mean: f64,
    lo: f64,
    hi: f64,
}

/// A row of `policies.csv`.
struct PolicyRow {
    variant: String,
    policy: String,
    from: NaiveDate,
    until: NaiveDate,
    what: String,
}

/// Everything the page shows, read from the folder.
struct Folder {
    meta: Meta,
    start: NaiveDate,
    days: u32,
    summary: Option<String>,
    periods: Vec<PeriodRow>,
    places: Vec<Place>,
    routes: Vec<Route>,
    policies: Vec<PolicyRow>,
    /// Per final state: per-replicate totals where the folder has them.
    states: Vec<(String, crate::ensemble::Stats)>,
    /// (cohort, outcome, mean).
    cohorts: Vec<(String, String, f64)>,
    comparison: Vec<Row>,
    place_diffs: Vec<Row>,
    sweep: Vec<Row>,
    /// A forecast's or a backtest's tables.
    forecast: forecast::Tables,
}

/// A longitude and latitude as a scenario can hold them (WGS 84 degrees),
/// or the file is refused: the map projects nothing else.
fn position(path: &Path, lon: f64, lat: f64) -> Result<(f64, f64), ReportError> {
    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
        Ok((lon, lat))
    } else {
        Err(ReportError::Table {
            path: path.to_path_buf(),
            reason: format!("[{lon}, {lat}] is not a longitude and latitude in degrees; was the file edited?"),
        })
    }
}

fn read_geo(dir: &Path) -> Result<(Vec<Place>, Vec<Route>), ReportError> {
    let mut places = Vec::new();
    let mut routes = Vec::new();
    let path = dir.join("places.geojson");
    if let Some(v) = json(&path)? {
        for f in v["features"].as_array().into_iter().flatten() {
            let p = f["properties"].as_object().cloned().unwrap_or_default();
            let c = &f["geometry"]["coordinates"];
            let (lon, lat) = position(&path, c[0].as_f64().unwrap_or(0.0), c[1].as_f64().unwrap_or(0.0))?;
            places.push(Place {
                id: p.get("id").and_then(|v| v.as_str()).unwrap_or("").into(),
                name: p.get("name").and_then(|v| v.as_str()).unwrap_or("").into(),
                kind: p.get("kind").and_then(|v| v.as_str()).unwrap_or("city").into(),
                claim_point: p.get("claim_point").and_then(|v| v.as_bool()).unwrap_or(false),
                lon,
                lat,
                props: p,
            });
        }
    }
    let path = dir.join("flows.geojson");
    if let Some(v) = json(&path)? {
        for f in v["features"].as_array().into_iter().flatten() {
            let p = f["properties"].as_object().cloned().unwrap_or_default();
            let c = &f["geometry"]["coordinates"];
            let pt = |i: usize| position(&path, c[i][0].as_f64().unwrap_or(0.0), c[i][1].as_f64().unwrap_or(0.0));
            routes.push(Route {
                a: pt(0)?,
                b: pt(1)?,
                props: p,
            });
        }
    } else {
        // A folder written before flows.geojson: routes.csv (one replicate's legs).
        let mut path = dir.join("routes.csv");
        if !path.exists() {
            path = dir.join("replicate-0").join("routes.csv");
        }
        for r in table(&path)?.into_iter().flatten() {
            let mut props = serde_json::Map::new();
            props.insert("people".into(), num(&r, "people").into());
            routes.push(Route {
                a: position(&path, num(&r, "from_lon"), num(&r, "from_lat"))?,
                b: position(&path, num(&r, "to_lon"), num(&r, "to_lat"))?,
                props,
            });
            for (id, lon, lat) in [
                (get(&r, "from"), num(&r, "from_lon"), num(&r, "from_lat")),
                (get(&r, "to"), num(&r, "to_lon"), num(&r, "to_lat")),
            ] {
                if places.iter().all(|p: &Place| p.id != id) {
                    places.push(Place {
                        id: id.into(),
                        name: id.into(),
                        kind: "city".into(),
                        claim_point: false,
                        lon,
                        lat,
                        props: serde_json::Map::new(),
                    });
                }
            }
        }
    }
    Ok((places, routes))
}

/// Final states over the run: from each replicate's `outcomes.csv` (so the
/// range is of the total), from one run's, or, in a comparison folder, the
/// base's means.
/// Final states over replicates, and (cohort, outcome, mean people).
type States = (Vec<(String, crate::ensemble::Stats)>, Vec<(String, String, f64)>);

fn read_states(dir: &Path) -> Result<States, ReportError> {
    let mut per_rep: Vec<BTreeMap<String, f64>> = Vec::new();
    let mut cohorts: Vec<(String, String, Vec<f64>)> = Vec::new();
    let mut add = |rows: &[Row], col: &str, k: usize, per_rep: &mut Vec<BTreeMap<String, f64>>| {
        if per_rep.len() <= k {
            per_rep.push(BTreeMap::new());
        }
        for r in rows {
            let (c, o, x) = (get(r, "cohort"), get(r, "outcome"), num(r, col));
            *per_rep[k].entry(o.to_string()).or_default() += x;
            match cohorts.iter_mut().find(|e| e.0 == c && e.1 == o) {
                Some(e) => e.2.push(x),
                None => cohorts.push((c.into(), o.into(), vec![x])),
            }
        }
    };
    if let Some(rows) = table(&dir.join("outcomes.csv"))? {
        add(&rows, "people", 0, &mut per_rep);
    } else if dir.join("replicate-0").is_dir() {
        let mut k = 0;
        while let Some(rows) = table(&dir.join(format!("replicate-{k}")).join("outcomes.csv"))? {
            add(&rows, "people", k, &mut per_rep);
            k += 1;
        }
    } else if let Some(rows) = table(&dir.join("outcomes_summary.csv"))? {
        add(&rows, "mean", 0, &mut per_rep);
    }
    let mut states = Vec::new();
    for s in crate::agents::State::ALL {
        let v: Vec<f64> = per_rep
            .iter()
            .map(|m| m.get(s.name()).copied().unwrap_or(0.0))
            .collect();
        if !v.is_empty() {
            states.push((s.name().to_string(), crate::ensemble::stats(&v)));
        }
    }
    let cohorts = cohorts
        .into_iter()
        .map(|(c, o, v)| {
            let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
            (c, o, m)
        })
        .collect();
    Ok((states, cohorts))
}

fn folder_name(dir: &Path) -> String {
    // A folder still being written is `.<name>.partial-<pid>`: title it <name>.
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_prefix('.').and_then(|n| n.rsplit_once(".partial-")) {
        Some((base, _)) => base.to_string(),
        None => name,
    }
}

/// What `datapackage.json` says of the folder, or, for a folder written
/// before it, what `summary.json` and the files present say.
fn read_meta(dir: &Path) -> Result<Meta, ReportError> {
    let mut meta: Meta = match json(&dir.join("datapackage.json"))? {
        Some(v) => serde_json::from_value(v["northbound"].clone()).unwrap_or_default(),
        None => Meta::default(),
    };
    if meta.scenario.is_empty() {
        meta.scenario = folder_name(dir);
        meta.scale = 1.0;
        meta.replicates = 1;
        if let Some(v) = json(&dir.join("summary.json"))? {
            meta.scenario = v["scenario"]["name"].as_str().unwrap_or(&meta.scenario).to_string();
            meta.seed = v["seed"].as_u64().unwrap_or(0);
            meta.people = v["people"].as_u64().unwrap_or(0);
        }
        meta.kind = if dir.join("comparison.csv").exists() {
            "compare".into()
        } else if dir.join("sweep_long.csv").exists() {
            "sweep".into()
        } else if dir.join("replicate-0").is_dir() {
            "replicates".into()
        } else {
            "run".into()
        };
    }
    Ok(meta)
}

/// The rows of a table with dated `from` and `until` (rows without are
/// skipped), each with its variant (`base` where the table has none).
fn dated_rows(path: &Path) -> Result<Vec<DatedRow>, ReportError> {
    let mut out = Vec::new();
    for r in table(path)?.into_iter().flatten() {
        let (Some(from), Some(until)) = (date(&r, "from"), date(&r, "until")) else {
            continue;
        };
        let variant = r.get("variant").cloned().unwrap_or_else(|| "base".into());
        out.push(DatedRow {
            row: r,
            variant,
            from,
            until,
        });
    }
    Ok(out)
}

/// The rows of `periods.csv` with their dates (rows without are left
/// out), read as [`dated_rows`] and [`num`] read them but without a map
/// per row: it is the largest table the report reads (a row per period,
/// place and metric; 72,000 for title42-2020-2023's ensemble), and the
/// maps cost most of the report's time.
fn period_rows(path: &Path) -> Result<Vec<PeriodRow>, ReportError> {
    const KEYS: [&str; 9] = [
        "from", "until", "variant", "complete", "place", "metric", "mean", "lo95", "hi95",
    ];
    let mut at: Option<[Option<usize>; 9]> = None;
    let mut out = Vec::new();
    records(path, |headers, rec| {
        let at = *at.get_or_insert_with(|| KEYS.map(|k| (0..headers.len()).rev().find(|&i| &headers[i] == k)));
        let cell = |k: usize| at[k].and_then(|i| rec.get(i));
        let text = |k: usize| cell(k).unwrap_or("");
        let number = |k: usize| cell(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let (Some(from), Some(until)) = (crate::time::parse_date(text(0)), crate::time::parse_date(text(1))) else {
            return;
        };
        out.push(PeriodRow {
            variant: cell(2).unwrap_or("base").into(),
            from,
            until,
            complete: text(3) == "true",
            place: text(4).into(),
            metric: text(5).into(),
            mean: number(6),
            lo: number(7),
            hi: number(8),
        });
    })?;
    Ok(out)
}

/// A row of `periods.csv` or `policies.csv` with its dates read.
struct DatedRow {
    row: Row,
    variant: String,
    from: NaiveDate,
    until: NaiveDate,
}

fn read(dir: &Path) -> Result<Folder, ReportError> {
    let meta = read_meta(dir)?;
    let periods = period_rows(&dir.join("periods.csv"))?;
    let policies: Vec<PolicyRow> = dated_rows(&dir.join("policies.csv"))?
        .into_iter()
        .map(|d| PolicyRow {
            policy: get(&d.row, "policy").into(),
            what: get(&d.row, "what").into(),
            variant: d.variant,
            from: d.from,
            until: d.until,
        })
        .collect();
    let (places, routes) = read_geo(dir)?;
    let (states, cohorts) = read_states(dir)?;
    let start = crate::time::parse_date(&meta.start)
        .or_else(|| periods.first().map(|p| p.from))
        .unwrap_or_default();
    let end = crate::time::parse_date(&meta.end)
        .or_else(|| periods.iter().map(|p| p.until).max())
        .unwrap_or(start);
    let f = Folder {
        days: ((end - start).num_days() + 1).max(1) as u32,
        start,
        summary: text(&dir.join("summary.md")),
        periods,
        places,
        routes,
        policies,
        states,
        cohorts,
        comparison: table(&dir.join("comparison.csv"))?.unwrap_or_default(),
        place_diffs: table(&dir.join("place_differences.csv"))?.unwrap_or_default(),
        sweep: table(&dir.join("sweep_long.csv"))?.unwrap_or_default(),
        forecast: forecast::Tables {
            forecast: table(&dir.join("forecast.csv"))?.unwrap_or_default(),
            fitted: table(&dir.join("fitted.csv"))?.unwrap_or_default(),
            observed: table(&dir.join("observed.csv"))?.unwrap_or_default(),
            backtest: table(&dir.join("backtest.csv"))?.unwrap_or_default(),
            scores: table(&dir.join("scores.csv"))?.unwrap_or_default(),
        },
        meta,
    };
    if f.periods.is_empty()
        && f.comparison.is_empty()
        && f.sweep.is_empty()
        && f.states.is_empty()
        && f.forecast.is_empty()
    {
        return Err(ReportError::Empty(dir.to_path_buf()));
    }
    let mut f = f;
    if f.meta.variants.is_empty() {
        // A comparison written before datapackage.json: its variants from comparison.csv.
        for r in &f.comparison {
            let v = get(r, "variant");
            if !f.meta.variants.iter().any(|x| x.id == v) {
                f.meta.variants.push(crate::publish::VariantMeta {
                    id: v.to_string(),
                    description: String::new(),
                });
            }
        }
    }
    Ok(f)
}

// ------------------------------------------------------------------ The page

impl Folder {
    fn name_of(&self, id: &str) -> String {
        self.places
            .iter()
            .find(|p| p.id == id)
            .map(|p| place_short(&p.name))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| id.to_string())
    }

    /// Whether the folder shows that nobody reached any place: its places
    /// carry arrivals, all zero.
    fn nobody_arrived(&self) -> bool {
        let counted: Vec<&Place> = self.places.iter().filter(|p| p.props.contains_key("arrived")).collect();
        !counted.is_empty() && counted.iter().all(|p| prop_f(&p.props, "arrived") == 0.0)
    }

    fn place(&self, id: &str) -> Option<&Place> {
        self.places.iter().find(|p| p.id == id)
    }

    /// `protocol-2023 · 5 replicates (seeds derived from 2023) · full scale`.
    fn context(&self) -> String {
        format!(
            "{} · {} · {}",
            self.meta.scenario,
            words::runs_phrase(self.meta.replicates, self.meta.seed),
            words::scale_phrase(self.meta.scale)
        )
    }

    fn period_word(&self) -> &'static str {
        if self.meta.period == "month" {
            "month"
        } else {
            "week"
        }
    }

    /// The line under a chart's title on what its line and band are.
    fn band_line(&self) -> String {
        let per = if self.meta.period == "month" {
            "People per calendar month"
        } else {
            "People per week (Monday to Sunday)"
        };
        if self.meta.replicates > 1 {
            format!(
                "{per}. Line: mean of {} replicates; band: 2.5th–97.5th percentile of each {}'s total over replicates ({}).",
                self.meta.replicates,
                self.period_word(),
                self.meta.covers_short()
            )
        } else {
            format!("{per}, one run.")
        }
    }

    /// A series of `periods.csv` over complete periods: (x, mean, band).
    fn series(&self, variant: &str, place: &str, metric: &str) -> Vec<chart::Point> {
        self.periods
            .iter()
            .filter(|r| r.variant == variant && r.place == place && r.metric == metric && r.complete)
            .map(|r| {
                let a = (r.from - self.start).num_days() as f64;
                let b = (r.until - self.start).num_days() as f64 + 1.0;
                let band = (self.meta.replicates > 1).then_some((r.lo, r.hi));
                ((a + b) / 2.0, r.mean, band)
            })
            .collect()
    }

    /// Why some periods are not drawn.
    fn partial_note(&self) -> Option<String> {
        let partial: Vec<&PeriodRow> = {
            let mut seen: Vec<(NaiveDate, NaiveDate)> = Vec::new();
            self.periods
                .iter()
                .filter(|r| !r.complete)
                .filter(|r| {
                    let k = (r.from, r.until);
                    let new = !seen.contains(&k);
                    if new {
                        seen.push(k);
                    }
                    new
                })
                .collect()
        };
        if partial.is_empty() {
            return None;
        }
        let spans: Vec<String> = partial
            .iter()
            .map(|r| {
                let d = (r.until - r.from).num_days() + 1;
                if d == 1 {
                    format!("{} (1 day)", words::date_short(r.from))
                } else {
                    format!(
                        "{} – {} ({d} days)",
                        words::date_short(r.from),
                        words::date_short(r.until)
                    )
                }
            })
            .collect();
        Some(format!(
            "Partial {}s at the ends of the run are left out of the lines (their totals are in periods.csv): {}.",
            self.period_word(),
            spans.join("; ")
        ))
    }

    /// Policy marks: every date a policy window opens or closes inside the
    /// run, with what happens; in a comparison, which series it is in.
    fn marks(&self, series: &[&str]) -> Vec<Mark> {
        let end = self.start + chrono::Days::new(self.days as u64);
        let mut at: BTreeMap<NaiveDate, Vec<(String, String)>> = BTreeMap::new();
        for p in self.policies.iter().filter(|p| series.contains(&p.variant.as_str())) {
            if p.from > self.start {
                at.entry(p.from)
                    .or_default()
                    .push((format!("{} starts ({})", p.policy, p.what), p.variant.clone()));
            }
            let after = p.until + chrono::Days::new(1);
            if after < end {
                at.entry(after)
                    .or_default()
                    .push((format!("{} ends", p.policy), p.variant.clone()));
            }
        }
        at.into_iter()
            .map(|(d, evs)| {
                let mut texts: Vec<String> = Vec::new();
                let mut seen: Vec<&str> = Vec::new();
                for (t, _) in &evs {
                    if seen.contains(&t.as_str()) {
                        continue;
                    }
                    seen.push(t);
                    let who: Vec<&str> = evs.iter().filter(|e| &e.0 == t).map(|e| e.1.as_str()).collect();
                    if series.len() > 1 && who.len() < series.len() {
                        texts.push(format!("{t} [{}]", who.join(", ")));
                    } else {
                        texts.push(t.clone());
                    }
                }
                Mark {
                    day: (d - self.start).num_days().max(0) as u32,
                    text: texts.join("; "),
                }
            })
            .collect()
    }

    fn time_chart(&self, title: String, series: Vec<Series>, marks_of: &[&str], shade: bool) -> String {
        // No periods (a folder written before periods.csv): no time chart.
        if series.iter().all(|s| s.points.is_empty()) {
            return String::new();
        }
        let mut notes = Vec::new();
        if let Some(n) = self.partial_note() {
            notes.push(n);
        }
        let shade = match (&self.meta.window, shade) {
            (Some((a, z)), true) => {
                let (a, z) = (crate::time::parse_date(a), crate::time::parse_date(z));
                match (a, z) {
                    (Some(a), Some(z)) => Some((
                        (a - self.start).num_days() as f64,
                        (z - self.start).num_days() as f64 + 1.0,
                        format!(
                            "the window of the place-level differences, {} – {}",
                            words::date_short(a),
                            words::date_short(z)
                        ),
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        let c = LineChart {
            header: Header {
                title,
                lines: vec![self.context(), self.band_line()],
            },
            x: XAxis::Dates {
                start: self.start,
                days: self.days,
            },
            series,
            marks: self.marks(marks_of),
            shade,
            notes,
        };
        figure(c.svg(WIDE), c.svg(NARROW))
    }

    /// The places with the largest `key` property, `filter` passing.
    fn top_places(&self, key: &str, k: usize, filter: impl Fn(&Place) -> bool) -> Vec<&Place> {
        let mut v: Vec<&Place> = self
            .places
            .iter()
            .filter(|p| filter(p) && prop_f(&p.props, key) > 0.0)
            .collect();
        v.sort_by(|a, b| {
            prop_f(&b.props, key)
                .total_cmp(&prop_f(&a.props, key))
                .then(a.id.cmp(&b.id))
        });
        v.truncate(k);
        v
    }

    fn flows_map(&self, id: &str) -> String {
        let places = self.map_places();
        let routes = self.map_routes("people", false);
        let per = if self.meta.replicates > 1 {
            format!("mean of {} replicates", self.meta.replicates)
        } else {
            "one run".into()
        };
        let c = MapChart {
            header: Header {
                title: "Where people travelled: people who set out on each route over the run".into(),
                lines: vec![
                    self.context(),
                    format!("Line width proportional to people, both directions together ({per}); grey dashes: routes no one took."),
                ],
            },
            places,
            routes,
            style: Style::Flows,
            notes: vec![],
            id: id.into(),
        };
        figure(c.svg(WIDE), c.svg(NARROW))
    }

    /// Every route with the value of its property `key` and, with `ci`,
    /// the interval of `key_lo95` to `key_hi95`.
    fn map_routes(&self, key: &str, ci: bool) -> Vec<MapRoute> {
        self.routes
            .iter()
            .map(|r| MapRoute {
                a: r.a,
                b: r.b,
                value: prop_f(&r.props, key),
                ci: ci.then(|| {
                    (
                        prop_f(&r.props, &format!("{key}_lo95")),
                        prop_f(&r.props, &format!("{key}_hi95")),
                    )
                }),
            })
            .collect()
    }

    fn map_places(&self) -> Vec<MapPlace> {
        self.places
            .iter()
            .map(|p| MapPlace {
                label: place_short(&p.name),
                kind: p.kind.clone(),
                claim_point: p.claim_point,
                lon: p.lon,
                lat: p.lat,
                priority: prop_f(&p.props, "claims") * 2.0 + prop_f(&p.props, "arrived"),
            })
            .collect()
    }

    /// The line under the page's title: what kind of folder, when, how many
    /// people and runs, at what scale.
    fn sub_line(&self) -> String {
        let kind = match self.meta.kind.as_str() {
            "compare" => "Policy comparison",
            "sweep" => "Parameter sweep",
            "replicates" => "Replicates of one scenario",
            "forecast" => "Forecast from observed counts",
            "backtest" => "Forecasts scored against what followed",
            _ => "One run",
        };
        let dates = match (
            crate::time::parse_date(&self.meta.start),
            crate::time::parse_date(&self.meta.end),
        ) {
            (Some(a), Some(b)) => format!("{} – {}", words::date_long(a), words::date_long(b)),
            _ => String::new(),
        };
        let mut sub = vec![kind.to_string()];
        if !dates.is_empty() {
            sub.push(dates);
        }
        if self.meta.people > 0 {
            sub.push(format!("{} people", words::thousands(self.meta.people as i64)));
        }
        if matches!(self.meta.kind.as_str(), "forecast" | "backtest") {
            sub.push(format!("{} members", self.meta.replicates));
        } else {
            sub.push(words::runs_phrase(self.meta.replicates, self.meta.seed));
        }
        sub.push(words::scale_phrase(self.meta.scale));
        if let Some((a, z)) = &self.meta.window {
            sub.push(format!("window {a} to {z}"));
        }
        sub.join(" · ")
    }

    fn summary_html(&self) -> String {
        match &self.summary {
            Some(md) => format!("<section class=\"summary\">{}</section>\n", markdown(md)),
            None => String::new(),
        }
    }
}

/// `mean (lo–hi)` from properties `key`, `key_lo95`, `key_hi95`.
fn prop_range(p: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    let s = crate::ensemble::Stats {
        mean: prop_f(p, key),
        sd: 0.0,
        lo: prop_opt(p, &format!("{key}_lo95")).unwrap_or(prop_f(p, key)),
        hi: prop_opt(p, &format!("{key}_hi95")).unwrap_or(prop_f(p, key)),
    };
    if s.mean == 0.0 && s.hi == 0.0 {
        "–".into()
    } else {
        words::with_range(&s)
    }
}

/// The events of places, as columns of `places.geojson` and `periods.csv`.
const EVENTS: [&str; 5] = ["turned_back", "expelled", "intercepted", "detected", "removed"];

/// A single run's or replicates' page: where people ended, claims,
/// arrivals and events over time, routes, cohorts and places.
fn run_sections(f: &Folder) -> String {
    let mut h = states_table(f);
    if !f.periods.is_empty() {
        h += "<h2>Over time</h2>\n";
    }
    if f.nobody_arrived() {
        h += "<p><strong>Nobody arrived anywhere during the run.</strong> No group reached a place (a closure for \
              the whole run, an expulsion rate of 1, or a run shorter than the first leg can do this), so there \
              is nothing to chart over time; where people ended is above, and periods.csv and places.csv hold \
              every period's and day's counts all the same.</p>\n";
    }
    h += &claims_chart(f);
    h += &arrivals_chart(f);
    h += &events_chart(f);
    if !f.routes.is_empty() {
        h += "<h2>Routes</h2>\n";
        h += &f.flows_map("flows");
    }
    h += &cohorts_chart(f);
    h += &places_table(f);
    h
}

/// Where people ended: each final state's people and share.
fn states_table(f: &Folder) -> String {
    if f.states.is_empty() {
        return String::new();
    }
    let total: f64 = f.states.iter().map(|(_, s)| s.mean).sum();
    let rows: Vec<Vec<String>> = f
        .states
        .iter()
        .filter(|(_, s)| s.hi > 0.0)
        .map(|(st, s)| {
            vec![
                format!("{}\u{1}{st}", words::state_label(st)),
                words::with_range(s),
                words::percent(s.mean, total),
            ]
        })
        .collect();
    let mut h = format!(
        "<h2>Where people ended on {}</h2>",
        esc(&crate::time::parse_date(&f.meta.end)
            .map(words::date_long)
            .unwrap_or_default())
    );
    let people = if f.meta.replicates > 1 {
        "people: mean (2.5th–97.5th percentile)"
    } else {
        "people"
    };
    h += &table_html(&["state", people, "share"], &rows);
    h
}

/// One series per place of the base's `metric`, in palette order.
fn place_series(f: &Folder, places: &[&Place], metric: &str) -> Vec<Series> {
    places
        .iter()
        .enumerate()
        .map(|(i, p)| Series {
            name: f.name_of(&p.id),
            color: i,
            dashed: false,
            points: f.series("base", &p.id, metric),
        })
        .collect()
}

/// Claims per period at the claim points that took the most.
fn claims_chart(f: &Folder) -> String {
    let claims = f.top_places("claims", 5, |p| p.claim_point);
    if claims.is_empty() {
        return String::new();
    }
    let k = claims.len();
    let places = if k == 1 {
        "place".to_string()
    } else {
        format!("{k} places")
    };
    f.time_chart(
        format!(
            "Asylum claims per {} at the {places} that took the most",
            f.period_word()
        ),
        place_series(f, &claims, "claims"),
        &["base"],
        false,
    )
}

/// Arrivals per period at the busiest crossings (or, without crossings,
/// the busiest places without claims).
fn arrivals_chart(f: &Folder) -> String {
    let mut crossings = f.top_places("arrived", 5, |p| p.kind == "crossing");
    let mut what = "border crossings";
    if crossings.is_empty() {
        crossings = f.top_places("arrived", 5, |p| !p.claim_point);
        what = "places without claims";
    }
    if crossings.is_empty() {
        return String::new();
    }
    f.time_chart(
        format!(
            "People arriving per {} at the {} busiest {what}",
            f.period_word(),
            crossings.len()
        ),
        place_series(f, &crossings, "arrived"),
        &["base"],
        false,
    )
}

/// The (place, event, people) the events chart shows: every kind of event
/// that happened where it happened most, then the largest of the rest, up
/// to five, largest first.
fn events_shown(f: &Folder) -> Vec<(&Place, &'static str, f64)> {
    let mut events: Vec<(&Place, &'static str, f64)> = Vec::new();
    for p in &f.places {
        for e in EVENTS {
            let x = prop_f(&p.props, e);
            if x > 0.0 {
                events.push((p, e, x));
            }
        }
    }
    events.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut shown: Vec<(&Place, &'static str, f64)> = Vec::new();
    for e in EVENTS {
        if let Some(x) = events.iter().find(|x| x.1 == e) {
            shown.push(*x);
        }
    }
    for x in &events {
        if shown.len() >= 5 {
            break;
        }
        if !shown.iter().any(|y| std::ptr::eq(y.0, x.0) && y.1 == x.1) {
            shown.push(*x);
        }
    }
    shown.truncate(5);
    shown.sort_by(|a, b| b.2.total_cmp(&a.2));
    shown
}

/// People turned back, expelled, … per period, where it happened most.
fn events_chart(f: &Folder) -> String {
    let events = events_shown(f);
    if events.is_empty() {
        return String::new();
    }
    let kinds: Vec<String> = EVENTS
        .iter()
        .filter(|e| events.iter().any(|x| x.1 == **e))
        .map(|e| e.replace('_', " "))
        .collect();
    let kinds = match kinds.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    let series = events
        .iter()
        .enumerate()
        .map(|(i, (p, e, _))| Series {
            name: format!("{}: {}", f.name_of(&p.id), words::metric_label(e)),
            color: i,
            dashed: false,
            points: f.series("base", &p.id, e),
        })
        .collect();
    f.time_chart(
        format!("People {kinds} per {}, where it happened most", f.period_word()),
        series,
        &["base"],
        false,
    )
}

/// Colours of final states in the cohorts chart, by `State::ALL` order.
const STATE_COLORS: [&str; 10] = [
    "#0072B2", "#56B4E9", "#009E73", "#D55E00", "#E69F00", "#CC79A7", "#999999", "#444444", "#F0E442", "#000000",
];

/// A cohort, its people in each state shown, and their total in words.
type CohortRow = (String, Vec<f64>, String);

/// Rows of the cohorts chart: the states any cohort ended in, and per
/// cohort (largest first, at most 12) its people in each; how many were
/// left out.
fn cohort_rows(f: &Folder) -> (Vec<&'static str>, Vec<CohortRow>, usize) {
    let mut names: Vec<String> = Vec::new();
    for (c, _, _) in &f.cohorts {
        if !names.contains(c) {
            names.push(c.clone());
        }
    }
    let states: Vec<&'static str> = crate::agents::State::ALL
        .iter()
        .map(|s| s.name())
        .filter(|s| f.cohorts.iter().any(|(_, o, x)| o == s && *x > 0.0))
        .collect();
    let value = |c: &str, s: &str| {
        f.cohorts
            .iter()
            .find(|(a, b, _)| a == c && b == s)
            .map(|x| x.2)
            .unwrap_or(0.0)
    };
    let mut rows: Vec<CohortRow> = names
        .iter()
        .map(|c| {
            let v: Vec<f64> = states.iter().map(|s| value(c, s)).collect();
            let t: f64 = v.iter().sum();
            (c.clone(), v, words::people(t))
        })
        .collect();
    rows.sort_by(|a, b| b.1.iter().sum::<f64>().total_cmp(&a.1.iter().sum::<f64>()));
    let hidden = rows.len().saturating_sub(12);
    rows.truncate(12);
    (states, rows, hidden)
}

/// Where each cohort ended, as stacked bars.
fn cohorts_chart(f: &Folder) -> String {
    if f.cohorts.is_empty() {
        return String::new();
    }
    let (states, rows, hidden) = cohort_rows(f);
    let keys = states
        .iter()
        .map(|s| Key {
            name: words::state_label(s).into(),
            color: STATE_COLORS[crate::agents::State::ALL
                .iter()
                .position(|x| x.name() == *s)
                .unwrap_or(0)
                % STATE_COLORS.len()]
            .into(),
            swatch: "box",
        })
        .collect();
    let mut notes = Vec::new();
    if hidden > 0 {
        notes.push(format!("{hidden} smaller cohorts are in outcomes.csv."));
    }
    let c = StackChart {
        header: Header {
            title: "Where each cohort ended".into(),
            lines: vec![
                f.context(),
                if f.meta.replicates > 1 {
                    format!(
                        "People at the end of the run, mean of {} replicates.",
                        f.meta.replicates
                    )
                } else {
                    "People at the end of the run.".into()
                },
            ],
        },
        keys,
        rows,
        notes,
    };
    format!("<h2>Cohorts</h2>\n{}", figure(c.svg(WIDE), c.svg(NARROW)))
}

fn places_table(f: &Folder) -> String {
    if f.places.is_empty() {
        return String::new();
    }
    let mut ps: Vec<&Place> = f.places.iter().collect();
    ps.sort_by(|a, b| {
        prop_f(&b.props, "arrived")
            .total_cmp(&prop_f(&a.props, "arrived"))
            .then(a.id.cmp(&b.id))
    });
    let rows: Vec<Vec<String>> = ps
        .iter()
        .map(|p| {
            let events: f64 = EVENTS.iter().map(|e| prop_f(&p.props, e)).sum();
            vec![
                format!("{}\u{1}{}", place_short(&p.name), p.id),
                format!("{}{}", p.kind, if p.claim_point { ", claims" } else { "" }),
                prop_range(&p.props, "arrived"),
                prop_range(&p.props, "claims"),
                if events > 0.0 {
                    words::people(events)
                } else {
                    "–".into()
                },
                prop_range(&p.props, "present_peak"),
                prop_opt(&p.props, "capacity_use")
                    .map(|u| format!("{:.0} %", u * 100.0))
                    .unwrap_or_else(|| "–".into()),
            ]
        })
        .collect();
    let mut h = String::from("<h2>Places</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">Over {}; {}. Events: turned back, expelled, intercepted, detected and removed together (each apart in places.geojson).</p>",
        if f.meta.window.is_some() { "the window" } else { "the run" },
        if f.meta.replicates > 1 {
            "mean (2.5th–97.5th percentile over replicates)"
        } else {
            "one run"
        }
    );
    h += &table_html(
        &[
            "place",
            "kind",
            "arrivals",
            "claims",
            "events",
            "most present",
            "capacity use",
        ],
        &rows,
    );
    h
}

fn policies_table(f: &Folder) -> String {
    if f.policies.is_empty() {
        return String::new();
    }
    let with_variant = f.policies.iter().any(|p| p.variant != "base");
    let rows: Vec<Vec<String>> = f
        .policies
        .iter()
        .map(|p| {
            let mut r = Vec::new();
            if with_variant {
                r.push(p.variant.clone());
            }
            r.extend([
                p.policy.clone(),
                p.what.clone(),
                words::date_short(p.from),
                words::date_short(p.until),
            ]);
            r
        })
        .collect();
    let mut head = Vec::new();
    if with_variant {
        head.push("variant");
    }
    head.extend(["policy", "what it does", "from", "until"]);
    format!("<h2>Policies</h2>\n{}", table_html(&head, &rows))
}

/// A comparison's page: per variant its changes as bars, the places that
/// change most over time, the maps of flows and changes, and the tables.
fn compare_sections(f: &Folder) -> String {
    let mut h = String::new();
    for v in &f.meta.variants {
        h += &variant_bars(f, &v.id, &v.description);
    }
    h += &compare_over_time(f);
    h += &compare_maps(f);
    h += &compare_states_table(f);
    h += &compare_places_table(f);
    h
}

/// What a comparison's bar charts show, under their titles.
fn ci_line(f: &Folder) -> String {
    format!(
        "People. Bar: mean paired difference (variant − base) over {} replicates with the same seeds; whisker: 95 % confidence interval of that mean (Student's t; {}).",
        f.meta.replicates,
        f.meta.covers_short()
    )
}

/// `between 1 March and 30 June 2024`, or over the run.
fn window_words(f: &Folder) -> String {
    match &f.meta.window {
        Some((a, z)) => match (crate::time::parse_date(a), crate::time::parse_date(z)) {
            (Some(a), Some(z)) => words::between(a, z),
            _ => "over the window".into(),
        },
        None => "over the run".into(),
    }
}

/// A bar of a paired difference (a row of `comparison.csv` or
/// `place_differences.csv`): blue for fewer, orange for more.
fn diff_bar(label: String, r: &Row) -> BarRow {
    let (d, lo, hi) = (num(r, "diff"), num(r, "diff_lo95"), num(r, "diff_hi95"));
    let step = words::step_for(lo, hi).max(words::step_for(0.0, d.abs() / 10.0));
    BarRow {
        label,
        value: d,
        ci: Some((lo, hi)),
        color: if d < 0.0 { "#7fb2d9".into() } else { "#f0a77a".into() },
        value_text: words::signed(d, step),
    }
}

/// A bar chart of paired differences under the comparison's header lines.
fn diff_chart(f: &Folder, title: String, rows: Vec<BarRow>, notes: Vec<String>) -> String {
    let c = BarChart {
        header: Header {
            title,
            lines: vec![f.context(), ci_line(f)],
        },
        keys: vec![],
        rows,
        notes,
    };
    figure(c.svg(WIDE), c.svg(NARROW))
}

/// One variant's section: its description, the change in where people
/// ended, and the largest changes at places.
fn variant_bars(f: &Folder, v: &str, desc: &str) -> String {
    let mut h = format!("<h2>{}</h2>", esc(v));
    if !desc.is_empty() {
        let _ = write!(h, "<p class=\"lead\">{}</p>", esc(desc));
    }
    let rows: Vec<BarRow> = f
        .comparison
        .iter()
        .filter(|r| get(r, "variant") == v && get(r, "place").is_empty() && num(r, "diff") != 0.0)
        .map(|r| diff_bar(words::state_label(get(r, "metric")).to_string(), r))
        .collect();
    if !rows.is_empty() {
        h += &diff_chart(
            f,
            format!("{v}: change in where people ended, against the base"),
            rows,
            vec![],
        );
    }
    let mut pd: Vec<&Row> = f
        .place_diffs
        .iter()
        .filter(|r| get(r, "variant") == v && num(r, "diff") != 0.0)
        .collect();
    pd.sort_by(|a, b| num(b, "diff").abs().total_cmp(&num(a, "diff").abs()));
    let more = pd.len().saturating_sub(10);
    let rows: Vec<BarRow> = pd
        .iter()
        .take(10)
        .map(|r| {
            let label = format!(
                "{}: {}",
                words::metric_label(get(r, "metric")),
                f.name_of(get(r, "place"))
            );
            diff_bar(label, r)
        })
        .collect();
    if !rows.is_empty() {
        let notes = if more > 0 {
            vec![format!(
                "{more} smaller changes are in place_differences.csv and the table below."
            )]
        } else {
            vec![]
        };
        h += &diff_chart(
            f,
            format!("{v}: the largest changes at places, {}", window_words(f)),
            rows,
            notes,
        );
    }
    h
}

/// The (place, metric) of up to four places that change most: claims at
/// claim points, arrivals elsewhere.
fn places_that_change(f: &Folder) -> Vec<(String, &'static str)> {
    let mut picked: Vec<(String, &'static str)> = Vec::new();
    let mut cands: Vec<&Row> = f
        .place_diffs
        .iter()
        .filter(|r| {
            let m = get(r, "metric");
            let claim = f.place(get(r, "place")).map(|p| p.claim_point).unwrap_or(false);
            (claim && m == "claims") || (!claim && m == "arrived")
        })
        .collect();
    cands.sort_by(|a, b| num(b, "diff").abs().total_cmp(&num(a, "diff").abs()));
    for r in cands {
        let p = get(r, "place").to_string();
        if picked.iter().any(|x| x.0 == p) {
            continue;
        }
        let m = if get(r, "metric") == "claims" {
            "claims"
        } else {
            "arrived"
        };
        picked.push((p, m));
        if picked.len() == 4 {
            break;
        }
    }
    picked
}

/// Time series of the places that change most, base and variants together.
fn compare_over_time(f: &Folder) -> String {
    let picked = places_that_change(f);
    if picked.is_empty() || f.periods.is_empty() {
        return String::new();
    }
    let mut h = String::from("<h2>Over time, base and variants</h2>\n");
    let mut names: Vec<&str> = vec!["base"];
    names.extend(f.meta.variants.iter().map(|v| v.id.as_str()));
    for (p, m) in &picked {
        let series = names
            .iter()
            .enumerate()
            .map(|(i, v)| Series {
                name: (*v).to_string(),
                color: i,
                dashed: false,
                points: f.series(v, p, m),
            })
            .collect();
        let what = if *m == "claims" {
            "Asylum claims"
        } else {
            "People arriving"
        };
        h += &f.time_chart(
            format!("{what} per {} at {}, base and variants", f.period_word(), f.name_of(p)),
            series,
            &names,
            true,
        );
    }
    h
}

/// The base's flows, then each variant's change on every route.
fn compare_maps(f: &Folder) -> String {
    if f.routes.is_empty() {
        return String::new();
    }
    let mut h = String::from("<h2>Routes</h2>\n");
    h += &f.flows_map("base");
    for (i, v) in f.meta.variants.iter().enumerate() {
        let v = &v.id;
        if !f.routes.iter().any(|r| r.props.contains_key(&format!("{v}_diff"))) {
            continue;
        }
        let routes = f.map_routes(&format!("{v}_diff"), true);
        let c = MapChart {
            header: Header {
                title: format!("{v}: more or fewer people on each route than in the base, over the run"),
                lines: vec![
                    f.context(),
                    format!("Line width proportional to the mean paired difference over {} replicates; dashed and faint where its 95 % interval includes zero.", f.meta.replicates),
                ],
            },
            places: f.map_places(),
            routes,
            style: Style::Difference,
            notes: vec![],
            id: format!("diff{i}"),
        };
        h += &figure(c.svg(WIDE), c.svg(NARROW));
    }
    h
}

/// Base, variant, difference and its interval of a row, rounded alike.
fn diff_cells(r: &Row) -> Vec<String> {
    let (lo, hi) = (num(r, "diff_lo95"), num(r, "diff_hi95"));
    let step = words::step_for(lo, hi);
    vec![
        words::rounded(num(r, "base"), step),
        words::rounded(num(r, "mean"), step),
        words::signed(num(r, "diff"), step),
        format!("{} to {}", words::signed(lo, step), words::signed(hi, step)),
    ]
}

/// Where people ended, base and variants, as a table.
fn compare_states_table(f: &Folder) -> String {
    let rows: Vec<Vec<String>> = f
        .comparison
        .iter()
        .filter(|r| get(r, "place").is_empty())
        .map(|r| {
            let mut v = vec![
                get(r, "variant").to_string(),
                words::state_label(get(r, "metric")).to_string(),
            ];
            v.extend(diff_cells(r));
            v
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut h = String::from("<h2>Where people ended, base and variants</h2>\n");
    h += &table_html(
        &["variant", "state", "base", "variant", "difference", "95 % interval"],
        &rows,
    );
    h
}

/// The 25 largest changes at places, as a table.
fn compare_places_table(f: &Folder) -> String {
    let mut pd: Vec<&Row> = f.place_diffs.iter().filter(|r| num(r, "diff") != 0.0).collect();
    pd.sort_by(|a, b| num(b, "diff").abs().total_cmp(&num(a, "diff").abs()));
    let total = pd.len();
    let rows: Vec<Vec<String>> = pd
        .iter()
        .take(25)
        .map(|r| {
            let mut v = vec![
                get(r, "variant").to_string(),
                f.name_of(get(r, "place")),
                words::metric_label(get(r, "metric")),
            ];
            v.extend(diff_cells(r));
            v
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<h2>Changes at places, {}</h2><p class=\"note\">The {} largest of {total}; all in place_differences.csv.</p>\n",
        esc(&window_words(f)),
        rows.len()
    );
    h += &table_html(
        &[
            "variant",
            "place",
            "figure",
            "base",
            "variant",
            "difference",
            "95 % interval",
        ],
        &rows,
    );
    h
}

/// A sweep's points: parameter values per point, and (point, final state)
/// → (mean, lo, hi) of the people in it.
struct Grid {
    points: BTreeMap<usize, Vec<f64>>,
    fig: BTreeMap<(usize, String), (f64, f64, f64)>,
}

fn sweep_grid(f: &Folder) -> Grid {
    let params = &f.meta.params;
    let mut points: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let mut fig: BTreeMap<(usize, String), (f64, f64, f64)> = BTreeMap::new();
    for r in &f.sweep {
        let p = num(r, "point") as usize;
        points
            .entry(p)
            .or_insert_with(|| params.iter().map(|k| num(r, k)).collect());
        if get(r, "place").is_empty() {
            fig.insert(
                (p, get(r, "metric").to_string()),
                (num(r, "mean"), num(r, "lo95"), num(r, "hi95")),
            );
        }
    }
    Grid { points, fig }
}

/// A sweep's page: per parameter of a grid, where people ended as it
/// varies (the others held at the first point's values), then every point.
fn sweep_sections(f: &Folder) -> String {
    let grid = sweep_grid(f);
    let states: Vec<&str> = crate::agents::State::ALL.iter().map(|s| s.name()).collect();
    let mut h = String::new();
    // A line through the points that differ in one parameter only says what
    // that parameter does on a grid (`summary.md` says where to look
    // otherwise).
    let points: Vec<&[f64]> = grid.points.values().map(Vec::as_slice).collect();
    if crate::study::design::is_grid(&points, f.meta.params.len()) {
        for (a, name) in f.meta.params.iter().enumerate() {
            h += &sweep_chart(f, &grid, &states, a, name);
        }
    }
    h += &sweep_table(f, &grid, &states);
    h
}

/// Where people ended as parameter `a` varies: the slice of the grid
/// through the first point, the (up to four) states that move most.
fn sweep_chart(f: &Folder, grid: &Grid, states: &[&str], a: usize, name: &str) -> String {
    let params = &f.meta.params;
    let (points, fig) = (&grid.points, &grid.fig);
    let first = points.values().next().cloned().unwrap_or_default();
    let slice: Vec<(usize, f64)> = points
        .iter()
        .filter(|(_, v)| (0..params.len()).all(|b| b == a || v.get(b) == first.get(b)))
        .map(|(i, v)| (*i, v.get(a).copied().unwrap_or(0.0)))
        .collect();
    let mut moving: Vec<(&str, f64)> = states
        .iter()
        .map(|s| {
            let v: Vec<f64> = slice
                .iter()
                .filter_map(|(i, _)| fig.get(&(*i, s.to_string())).map(|x| x.0))
                .collect();
            let (lo, hi) = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
            (*s, if v.is_empty() { 0.0 } else { hi - lo })
        })
        .filter(|(s, w)| {
            *w > 0.0
                || slice
                    .iter()
                    .any(|(i, _)| fig.get(&(*i, s.to_string())).map(|x| x.0 > 0.0).unwrap_or(false))
        })
        .collect();
    moving.sort_by(|x, y| y.1.total_cmp(&x.1));
    moving.truncate(4);
    // A state keeps its colour from chart to chart.
    let series: Vec<Series> = moving
        .iter()
        .map(|(s, _)| Series {
            name: words::state_label(s).into(),
            color: states.iter().position(|x| x == s).unwrap_or(0),
            dashed: false,
            points: slice
                .iter()
                .filter_map(|(i, x)| {
                    fig.get(&(*i, s.to_string()))
                        .map(|(m, lo, hi)| (*x, *m, (f.meta.replicates > 1).then_some((*lo, *hi))))
                })
                .collect(),
        })
        .collect();
    if series.is_empty() {
        return String::new();
    }
    let held: Vec<String> = params
        .iter()
        .enumerate()
        .filter(|(b, _)| *b != a)
        .map(|(b, p)| {
            format!(
                "{p} = {}",
                first.get(b).map(|x| svg::tick_label(*x)).unwrap_or_default()
            )
        })
        .collect();
    let mut lines = vec![
        f.context(),
        format!(
            "People at the end of the run. Line: mean of {} replicates at each value; band: 2.5th–97.5th percentile ({}).",
            f.meta.replicates,
            f.meta.covers_short()
        ),
    ];
    if !held.is_empty() {
        lines.push(format!("Other parameters held at {}.", held.join(", ")));
    }
    let c = LineChart {
        header: Header {
            title: format!("Where people ended as {name} varies"),
            lines,
        },
        x: XAxis::Numbers {
            label: name.to_string(),
        },
        series,
        marks: vec![],
        shade: None,
        notes: vec![],
    };
    figure(c.svg(WIDE), c.svg(NARROW))
}

/// Every point: its parameter values and the people in each state any
/// point holds.
fn sweep_table(f: &Folder, grid: &Grid, states: &[&str]) -> String {
    let params = &f.meta.params;
    let (points, fig) = (&grid.points, &grid.fig);
    let mut h = String::new();
    let shown: Vec<&str> = states
        .iter()
        .copied()
        .filter(|s| {
            points
                .keys()
                .any(|i| fig.get(&(*i, s.to_string())).map(|x| x.0 > 0.0).unwrap_or(false))
        })
        .collect();
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|(i, v)| {
            let mut r: Vec<String> = vec![i.to_string()];
            r.extend(v.iter().map(|x| svg::tick_label(*x)));
            for s in &shown {
                let (m, lo, hi) = fig.get(&(*i, s.to_string())).copied().unwrap_or_default();
                r.push(words::with_range(&crate::ensemble::Stats {
                    mean: m,
                    sd: 0.0,
                    lo,
                    hi,
                }));
            }
            r
        })
        .collect();
    let short: Vec<String> = params
        .iter()
        .map(|p| {
            p.rsplit('.')
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    let mut head: Vec<&str> = vec!["point"];
    head.extend(short.iter().map(String::as_str));
    let labels: Vec<&str> = shown.iter().map(|s| words::state_label(s)).collect();
    head.extend(labels);
    h += "<h2>Every point</h2><p class=\"note\">People at the end of the run: mean (2.5th–97.5th percentile over replicates). Every state, event and place per point is in sweep_long.csv.</p>\n";
    h += &table_html(&head, &rows);
    h
}

/// The page of a folder in the one skeleton (`page`).
fn page(f: &Folder) -> String {
    let mut body = f.summary_html();
    body += &match f.meta.kind.as_str() {
        "compare" => compare_sections(f),
        "sweep" => sweep_sections(f),
        "forecast" | "backtest" => forecast::sections(f),
        _ => run_sections(f),
    };
    body += &policies_table(f);
    Page {
        title: &f.meta.scenario,
        sub: &f.sub_line(),
        body: &body,
        about: "Made by northbound from the files in this folder \
(<code>datapackage.json</code> describes every table and column); <code>northbound report DIR</code> renders it again. \
Every chart is drawn for a wide screen and for a phone. Maps: land, lakes and borders from Natural Earth \
(public domain), Lambert conformal conic projection.",
    }
    .html()
}

/// Renders `report.html` from the files in `dir` into `out` (which may be
/// the same folder, still being written).
pub(crate) fn render_into(dir: &Path, out: &mut OutDir) -> Result<(), ReportError> {
    let html = page(&read(dir)?);
    let mut f = out.file("report.html")?;
    f.write_all(html.as_bytes()).map_err(|e| OutputError::Io {
        path: "report.html".into(),
        source: e,
    })?;
    out.finish(f)?;
    Ok(())
}

/// The page for the files in `dir`, without writing it.
pub fn html(dir: &Path) -> Result<String, ReportError> {
    Ok(page(&read(dir)?))
}

/// Re-renders `DIR/report.html` from the files in `DIR`. An existing
/// report.html is replaced only if northbound wrote it (the folder's
/// manifest lists it unchanged); see `outdir::replace_in_folder`.
pub(crate) fn render_dir(dir: &Path) -> Result<PathBuf, ReportError> {
    let html = page(&read(dir)?);
    Ok(crate::outdir::replace_in_folder(dir, "report.html", html.as_bytes())?)
}
