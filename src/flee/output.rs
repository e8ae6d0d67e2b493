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
        "scenario": sc.about.name,
        "model": "flee",
        "flee_compat": match sc.compat { super::Compat::V31 => "3.1", super::Compat::Intended => "intended" },
        "source": sc.about.file.display().to_string(),
        "inputs_sha256": sc.about.sha256,
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
    PathBuf::from("out").join(format!("{}{suffix}", sc.about.name))
}

/// Writes `summary.md` of a flee-model run: what was run, where people were
/// on the last day (with ranges over replicates) and, against observed
/// counts, Flee's averaged relative difference — in the words and with the
/// rounding of `publish` (docs/reports.md).
pub fn write_summary_md(
    out: &mut OutDir,
    sc: &FleeScenario,
    runs: &[(u64, FleeRun)],
    scores: Option<&[Scored]>,
) -> Result<(), OutputError> {
    use crate::ensemble::stats;
    use crate::publish::words::{self, date_long, list, with_range};
    let n = runs.len();
    let per = sc.settings.hasten as f64;
    let last_day = |r: &FleeRun| r.counts.len().saturating_sub(1);
    let mut s = format!(
        "**{}**: a Flee scenario run with the flee model{} for {} days from {}; {}.\n\n",
        sc.about.name,
        if sc.compat == super::Compat::V31 {
            " (reproducing Flee 3.1's bugs)"
        } else {
            ""
        },
        sc.days,
        date_long(sc.start),
        words::runs_phrase(n, runs.first().map(|r| r.0).unwrap_or(0)),
    );
    if let Some((_, first)) = runs.first() {
        let total = stats(
            &runs
                .iter()
                .map(|(_, r)| r.agents.last().copied().unwrap_or(0) as f64 * per)
                .collect::<Vec<_>>(),
        );
        let moving = stats(
            &runs
                .iter()
                .map(|(_, r)| r.travelling.last().copied().unwrap_or(0) as f64 * per)
                .collect::<Vec<_>>(),
        );
        let mut camps: Vec<(String, crate::ensemble::Stats)> = first
            .camps
            .iter()
            .map(|&c| {
                let v: Vec<f64> = runs
                    .iter()
                    .map(|(_, r)| r.counts[last_day(r)][c as usize] as f64 * per)
                    .collect();
                (sc.locations[c as usize].name.clone(), stats(&v))
            })
            .collect();
        let in_camps = stats(
            &runs
                .iter()
                .map(|(_, r)| {
                    r.camps
                        .iter()
                        .map(|&c| r.counts[last_day(r)][c as usize] as f64 * per)
                        .sum::<f64>()
                })
                .collect::<Vec<_>>(),
        );
        camps.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
        let top: Vec<String> = camps
            .iter()
            .filter(|c| c.1.mean > 0.0)
            .take(3)
            .map(|(name, x)| format!("{name} with {}", with_range(x)))
            .collect();
        s += &format!(
            "On {}, {} people had entered the simulation; {} were in camps{}, and {} were on the move.\n\n",
            date_long(sc.date_of(sc.days.saturating_sub(1))),
            with_range(&total),
            with_range(&in_camps),
            if top.is_empty() {
                String::new()
            } else {
                format!(", most in {}", list(&top))
            },
            with_range(&moving)
        );
    }
    if let Some(sc_list) = scores {
        let a = stats(&sc_list.iter().map(|x| x.ard().total).collect::<Vec<_>>());
        s += &format!(
            "Against the observed camp counts, Flee's averaged relative difference (the mean over days of \
             Σ|simulated − observed| / Σ observed) is {:.3}{}.\n\n",
            a.mean,
            if n > 1 {
                format!(" (range {:.3}–{:.3})", a.lo, a.hi)
            } else {
                String::new()
            }
        );
    }
    if n > 1 {
        s += &format!(
            "Ranges are the 2.5th–97.5th percentiles over {n} replicates; they cover {}.\n",
            crate::publish::narrative::covers()
        );
    } else {
        s += "These figures are one run: one draw of chance. Run with `--replicates N` for ranges.\n";
    }
    let mut f = out.file("summary.md")?;
    f.write_all(s.as_bytes()).map_err(io(Path::new("summary.md")))?;
    out.finish(f)
}
