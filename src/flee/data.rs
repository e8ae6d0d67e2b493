//! Observed camp counts in Flee's `source_data/` layout, and the way Flee
//! scores a run against them (FLEE_MODEL.md §5).
//!
//! Owns `data_layout.csv` and the series files, registration corrections,
//! the averaged relative difference (plain and rescaled) and the `out.csv`
//! table. Must not run the model: it scores tables it is given.

use super::csvin::Source;
use super::model::{interpolate, interpolate_exact};
use crate::scenario::{LoadError, Problem};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The series of a `source_data/` folder: the first row of
/// `data_layout.csv` (the total), then one per camp.
#[derive(Clone, Debug)]
pub struct SourceData {
    /// The folder.
    pub dir: PathBuf,
    /// Names in layout order (the first is the total).
    pub names: Vec<String>,
    /// `(day relative to start, people)` per name.
    pub series: Vec<Vec<(i64, f64)>>,
    /// The observed total (the first series).
    pub total: Vec<(i64, f64)>,
}

impl SourceData {
    /// The series of a camp, if the layout names it (the total excluded).
    pub fn camp(&self, name: &str) -> Option<&[(i64, f64)]> {
        self.names
            .iter()
            .skip(1)
            .position(|n| n == name)
            .map(|i| self.series[i + 1].as_slice())
    }
}

/// An error about the layout as a whole.
pub fn layout_error(dir: &Path, msg: String) -> LoadError {
    let path = dir.join("data_layout.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    LoadError::Invalid {
        path,
        text,
        problems: vec![Problem::new(None, "data_layout.csv", msg)],
    }
}

fn read_series(path: &Path, start: NaiveDate, hash: &mut Sha256) -> Result<Vec<(i64, f64)>, LoadError> {
    let mut src = Source::read(path)?;
    hash.update(src.text.as_bytes());
    let mut out: Vec<(i64, f64)> = Vec::new();
    for (n, row) in src.rows().iter().enumerate() {
        if row.fields.len() < 2 || row.is_comment() || row.text(1).is_empty() {
            continue;
        }
        if n == 0 && (row.text(0).is_empty() || ["Date", "DateTime"].contains(&row.text(0))) {
            continue;
        }
        let Some(date) = crate::time::parse_date(row.text(0)) else {
            src.err(
                row.span_of(0),
                "date",
                format!("`{}` is not a date", row.text(0)),
                "rows are YYYY-MM-DD,count",
            );
            continue;
        };
        let count = match row.text(1).parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => x,
            _ => {
                src.err(
                    row.span_of(1),
                    "count",
                    format!("`{}` is not a count", row.text(1)),
                    "rows are YYYY-MM-DD,count with a count ≥ 0",
                );
                continue;
            }
        };
        let day = (date - start).num_days();
        if let Some(&(last, _)) = out.last() {
            if day <= last {
                src.err(
                    row.span_of(0),
                    "date",
                    "dates out of order",
                    "each row's date must come after the previous row's",
                );
                continue;
            }
        }
        out.push((day, count));
    }
    if out.is_empty() {
        src.missing("series", "no observations", "rows are YYYY-MM-DD,count");
    }
    src.check()?;
    Ok(out)
}

/// The sum of two series at the union of their dates, each interpolated.
/// (Flee's `AddCSVTables` carries the last value of one table instead; the
/// shipped layouts name one file per row, where the two agree.)
fn add_series(a: &[(i64, f64)], b: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut days: Vec<i64> = a.iter().chain(b).map(|x| x.0).collect();
    days.sort_unstable();
    days.dedup();
    days.into_iter()
        .map(|d| (d, interpolate_exact(a, d, 1.0) + interpolate_exact(b, d, 1.0)))
        .collect()
}

/// Reads `dir/data_layout.csv` and its series, with day numbers relative to
/// `start`, and applies `registration_corrections.csv` if given and present.
pub fn read_source_data(
    dir: &Path,
    start: NaiveDate,
    corrections: Option<&Path>,
    hash: &mut Sha256,
) -> Result<SourceData, LoadError> {
    let mut layout = Source::read_inside(&dir.join("data_layout.csv"), dir)?;
    hash.update(layout.text.as_bytes());
    let mut names = Vec::new();
    let mut series = Vec::new();
    // Problems of the series files, reported with the layout's.
    let mut errs: Vec<LoadError> = Vec::new();
    for row in layout.rows() {
        if row.fields.len() < 2 || row.is_comment() {
            continue;
        }
        let mut files = Vec::new();
        for k in 1..row.fields.len() {
            let name = row.text(k);
            if name.is_empty() {
                continue;
            }
            let rel = Path::new(name);
            let plain = !rel.is_absolute()
                && rel
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
            if !plain {
                layout.err(
                    row.span_of(k),
                    "data_layout.csv",
                    format!("`{name}` is outside {}", dir.display()),
                    "series files are named relative to source_data/ and stay inside it: no `..`, no absolute paths",
                );
                continue;
            }
            let p = dir.join(rel);
            if !p.is_file() {
                layout.err(
                    row.span_of(k),
                    "data_layout.csv",
                    format!("no file `{name}` in {}", dir.display()),
                    "each row is <name>,<series file>[,more files to add]",
                );
                continue;
            }
            if !super::csvin::inside(&p, dir) {
                layout.err(
                    row.span_of(k),
                    "data_layout.csv",
                    format!("`{name}` leads outside {} (a symbolic link?)", dir.display()),
                    "series files must be inside source_data/: copy the file there",
                );
                continue;
            }
            files.push(p);
        }
        if files.is_empty() {
            continue;
        }
        let mut s: Option<Vec<(i64, f64)>> = None;
        for f in &files {
            match read_series(f, start, hash) {
                Ok(x) => s = Some(s.map(|a| add_series(&a, &x)).unwrap_or(x)),
                Err(e) => errs.push(e),
            }
        }
        if let Some(s) = s {
            names.push(row.text(0).to_string());
            series.push(s);
        }
    }
    if names.is_empty() && errs.is_empty() {
        layout.missing(
            "data_layout.csv",
            "no series",
            "first row: total,<file>; then <camp>,<file> per camp",
        );
    }
    if let Err(e) = layout.check() {
        errs.insert(0, e);
    }
    if let Some(e) = LoadError::combine(errs) {
        return Err(e);
    }
    if let Some(c) = corrections.filter(|c| c.is_file()) {
        // registration_corrections.csv is in the scenario's input_csv/,
        // beside source_data/: both inside the scenario folder.
        let folder = dir.parent().unwrap_or(dir);
        let mut src = Source::read_inside(c, folder)?;
        hash.update(src.text.as_bytes());
        for row in src.rows() {
            if row.fields.len() < 2 || row.is_comment() {
                continue;
            }
            let Some(i) = names.iter().skip(1).position(|n| n == row.text(0)).map(|i| i + 1) else {
                src.err(
                    row.span_of(0),
                    "camp",
                    format!("`{}` is not in data_layout.csv", row.text(0)),
                    format!("camps with series: {}", names[1..].join(", ")),
                );
                continue;
            };
            let Some(date) = crate::time::parse_date(row.text(1)) else {
                src.err(
                    row.span_of(1),
                    "date",
                    format!("`{}` is not a date", row.text(1)),
                    "YYYY-MM-DD",
                );
                continue;
            };
            let day = (date - start).num_days();
            let s = &mut series[i];
            match s.iter().position(|x| x.0 == day) {
                // Counts before the first "level 2" registration are scaled to it.
                Some(k) if k > 0 => {
                    let ratio = if s[k - 1].1 > 0.0 { s[k].1 / s[k - 1].1 } else { 1.0 };
                    for x in &mut s[..k] {
                        x.1 *= ratio;
                    }
                }
                Some(_) => {}
                None => src.err(
                    row.span_of(1),
                    "date",
                    format!("{} has no observation on {}", row.text(0), row.text(1)),
                    "a correction date must be the date of one of the camp's observations \
                     (Flee 3.1 stops with UnboundLocalError here)",
                ),
            }
        }
        src.check()?;
    }
    Ok(SourceData {
        dir: dir.to_path_buf(),
        total: series[0].clone(),
        names,
        series,
    })
}

/// A run's camp counts next to the observations, in Flee's units (agents;
/// observations divided by `hasten`).
#[derive(Clone, Debug)]
pub struct Scored {
    /// Camp names (the columns).
    pub camps: Vec<String>,
    /// Simulated count per day per camp.
    pub sim: Vec<Vec<f64>>,
    /// Observed (interpolated) count per day per camp.
    pub data: Vec<Vec<f64>>,
}

/// The averaged relative difference of a run, in total and per camp.
#[derive(Clone, Debug, PartialEq)]
pub struct Ard {
    /// Mean over days of Σ|sim − data| / max(Σdata, 1).
    pub total: f64,
    /// The same after scaling each day's simulated counts to the observed total.
    pub rescaled: f64,
    /// Each camp's share of `total` (they sum to it).
    pub camps: Vec<f64>,
    /// Each camp's share of `rescaled`.
    pub camps_rescaled: Vec<f64>,
}

impl Scored {
    /// The averaged relative difference (FLEE_MODEL.md §5).
    pub fn ard(&self) -> Ard {
        let n = self.camps.len();
        let days = self.sim.len().max(1) as f64;
        let mut a = Ard {
            total: 0.0,
            rescaled: 0.0,
            camps: vec![0.0; n],
            camps_rescaled: vec![0.0; n],
        };
        for (sim, data) in self.sim.iter().zip(&self.data) {
            let sd: f64 = data.iter().sum();
            let ss: f64 = sim.iter().sum();
            let denom = sd.max(1.0);
            let scale = if ss > 0.0 { sd / ss } else { 1.0 };
            for c in 0..n {
                let e = (sim[c] - data[c]).abs() / denom / days;
                let r = (sim[c] * scale - data[c]).abs() / denom / days;
                a.camps[c] += e;
                a.camps_rescaled[c] += r;
                a.total += e;
                a.rescaled += r;
            }
        }
        a
    }
}

/// Writes Flee's `out.csv` table: `Day,Date,<camp> sim,<camp> data,<camp>
/// error,…,Total error,refugees in camps (UNHCR),total refugees
/// (simulation),raw UNHCR refugee count,refugees in camps (simulation),refugee_debt`.
pub fn write_out_csv(
    w: &mut dyn Write,
    s: &Scored,
    start: NaiveDate,
    totals: &[(i64, f64)],
    per: f64,
    agents: &[u64],
    debt: &[u64],
) -> std::io::Result<()> {
    let mut header = vec!["Day".to_string(), "Date".to_string()];
    for c in &s.camps {
        header.extend([format!("{c} sim"), format!("{c} data"), format!("{c} error")]);
    }
    header.extend(
        [
            "Total error",
            "refugees in camps (UNHCR)",
            "total refugees (simulation)",
            "raw UNHCR refugee count",
            "refugees in camps (simulation)",
            "refugee_debt",
        ]
        .map(String::from),
    );
    let mut t = crate::table::Table::new(w, header)?;
    for (day, (sim, data)) in s.sim.iter().zip(&s.data).enumerate() {
        t.cell(day).cell(start + chrono::Days::new(day as u64));
        let mut abs = 0.0;
        for (x, d) in sim.iter().zip(data) {
            let e = if *d > 0.0 { (x - d).abs() / d } else { 0.0 };
            abs += (x - d).abs();
            t.cell(x).cell(d).cell(e);
        }
        let raw = interpolate(totals, day as i64, per);
        let total_err = if raw > 0.0 { abs / raw } else { 0.0 };
        t.cell(total_err)
            .cell(data.iter().sum::<f64>())
            .cell(agents.get(day).copied().unwrap_or(0))
            .cell(raw)
            .cell(sim.iter().sum::<f64>())
            .cell(debt.get(day).copied().unwrap_or(0))
            .end_row()?;
    }
    t.finish()?;
    Ok(())
}
