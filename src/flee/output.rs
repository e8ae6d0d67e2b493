//! The tables of a `flee` run, written through northbound's atomic output
//! folder.
//!
//! Owns `places.csv`, `links.csv`, `out.csv` (Flee's own layout) and
//! `summary.json` of the `flee` model. Must not simulate or score.

use super::data::{self, Scored, SourceData};
use super::model::{interpolate, FleeScenario};
use super::sim::FleeRun;
use crate::output::{OutDir, OutputError, TableFile};
use crate::table::Table;
use std::io::Write;
use std::path::{Path, PathBuf};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Each camp's simulated and observed counts of a run, in Flee's units
/// (agents). `Err` names the camps the data lacks.
pub fn score(sc: &FleeScenario, run: &FleeRun, data: &SourceData) -> Result<Scored, Vec<String>> {
    let per = sc.settings.hasten as f64;
    let mut series = Vec::new();
    let mut missing = Vec::new();
    for &c in &run.camps {
        let name = &sc.locations[c as usize].name;
        match data.camp(name) {
            Some(s) => series.push(s),
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let sim = run
        .counts
        .iter()
        .map(|day| run.camps.iter().map(|&c| day[c as usize] as f64).collect())
        .collect();
    let obs = (0..run.counts.len())
        .map(|t| series.iter().map(|s| interpolate(s, t as i64, per)).collect())
        .collect();
    Ok(Scored {
        camps: run
            .camps
            .iter()
            .map(|&c| sc.locations[c as usize].name.clone())
            .collect(),
        sim,
        data: obs,
    })
}

/// Writes Flee's `out.csv` for a scored run into `out`.
pub fn write_out(
    out: &mut OutDir,
    name: &str,
    sc: &FleeScenario,
    run: &FleeRun,
    s: &Scored,
) -> Result<(), OutputError> {
    table(out, name, |f| {
        data::write_out_csv(
            f,
            s,
            sc.start,
            &sc.totals,
            sc.settings.hasten as f64,
            &run.agents,
            &run.debt,
        )
    })
}

/// Writes the file `name` of `out` with `body`; a failure names the file.
pub(super) fn table(
    out: &mut OutDir,
    name: &str,
    body: impl FnOnce(&mut TableFile) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut f = out.file(name)?;
    body(&mut f).map_err(io(&out.tmp_path().join(name)))?;
    out.finish(f)
}

/// Writes the tables of one run (`prefix` is "" or "replicate-K/").
pub fn write_run(
    out: &mut OutDir,
    prefix: &str,
    sc: &FleeScenario,
    run: &FleeRun,
    seed: u64,
) -> Result<(), OutputError> {
    if !prefix.is_empty() {
        let d = out.tmp_path().join(prefix);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
    }
    let per = sc.settings.hasten as u64;
    table(out, &format!("{prefix}places.csv"), |f| {
        let mut t = Table::new(f, ["day", "date", "place", "kind", "agents", "people"])?;
        for (day, counts) in run.counts.iter().enumerate() {
            let date = sc.date_of(day as u32);
            for (l, &n) in counts.iter().enumerate() {
                let loc = &sc.locations[l];
                t.cell(day)
                    .cell(date)
                    .cell(&loc.name)
                    .cell(loc.kind.name())
                    .cell(n)
                    .cell(n as u64 * per)
                    .end_row()?;
            }
        }
        t.finish().map(|_| ())
    })?;
    table(out, &format!("{prefix}links.csv"), |f| {
        let mut t = Table::new(f, ["from", "to", "km", "agents_entered", "people_entered"])?;
        for (&(a, b, km), &n) in run.links.iter().zip(&run.link_entries) {
            let name = |x: u32| &sc.locations[x as usize].name;
            t.cell(name(a)).cell(name(b)).cell(km).cell(n).cell(n * per).end_row()?;
        }
        t.finish().map(|_| ())
    })?;
    let last = run.counts.last().cloned().unwrap_or_default();
    let camps: serde_json::Map<String, serde_json::Value> = run
        .camps
        .iter()
        .map(|&c| {
            (
                sc.locations[c as usize].name.clone(),
                serde_json::json!(last[c as usize] as u64 * per),
            )
        })
        .collect();
    let v = serde_json::json!({
        "scenario": sc.name,
        "model": "flee",
        "flee_compat": match sc.compat { super::Compat::V31 => "3.1", super::Compat::Intended => "intended" },
        "source": sc.file.display().to_string(),
        "inputs_sha256": sc.sha256,
        "seed": seed,
        "start": sc.start.to_string(),
        "days": sc.days,
        "hasten": sc.settings.hasten,
        "agents": run.agents.last().copied().unwrap_or(0),
        "people": run.agents.last().copied().unwrap_or(0) * per,
        "travelling_people": run.travelling.last().copied().unwrap_or(0) * per,
        "camps_last_day_people": camps,
        "sim_seconds": run.sim_s,
        "warnings": sc.warnings.iter().chain(&run.warnings).collect::<Vec<_>>(),
    });
    table(out, &format!("{prefix}summary.json"), |f| {
        serde_json::to_writer_pretty(&mut *f, &v).map_err(std::io::Error::other)?;
        writeln!(f)
    })
}

/// Where a run's tables go by default: `out/<scenario name>/`.
pub fn default_out(sc: &FleeScenario, suffix: &str) -> PathBuf {
    PathBuf::from("out").join(format!("{}{suffix}", sc.name))
}
