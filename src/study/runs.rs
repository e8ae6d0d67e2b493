//! The tables of a study: `runs.csv` (one long-format row per point and
//! replicate), `design.csv` and `problem.json` (SALib's layout), and the
//! grid sweep's rows (`sweep.csv`, `sweep_long.csv`) rebuilt from the same
//! stored numbers.
//!
//! Owns those tables' columns and their order. Every CSV goes through
//! `table::Table` into the study's `OutDir`. Must not run anything: it
//! writes what a [`super::runner::PointRunner`] returned (or a resumed
//! study's store held), so an interrupted and resumed study writes the same
//! bytes as an uninterrupted one.

use super::design::Design;
use super::runner::RepResult;
use crate::ensemble::{self, stats, SweepRow};
use crate::outdir::{OutDir, OutputError};
use crate::table::{table_err, Table};

/// The header of `runs.csv`: point, replicate, seed, the inputs, the outputs.
pub fn runs_header(design: &Design, outputs: &[String]) -> Vec<String> {
    let mut h: Vec<String> = ["point", "replicate", "seed"].iter().map(|s| s.to_string()).collect();
    h.extend(design.header());
    h.extend(outputs.iter().cloned());
    h
}

/// Writes `runs.csv` rows: for each point in order, each replicate.
pub fn write_runs<W: std::io::Write>(
    t: &mut Table<W>,
    design: &Design,
    rows: &[Vec<RepResult>],
) -> std::io::Result<()> {
    for (i, (values, reps)) in design.points.iter().zip(rows).enumerate() {
        for r in reps {
            t.cell(i).cell(r.replicate).cell(r.seed);
            for v in values {
                t.cell(v);
            }
            for y in &r.outputs {
                t.cell(y);
            }
            t.end_row()?;
        }
    }
    Ok(())
}

/// Writes `runs.csv`, `design.csv` and `problem.json` into `out`.
pub fn write_study_tables(
    out: &mut OutDir,
    design: &Design,
    outputs: &[String],
    replicates: usize,
    rows: &[Vec<RepResult>],
) -> Result<(), OutputError> {
    let mut t = out.table("runs.csv", runs_header(design, outputs))?;
    write_runs(&mut t, design, rows).map_err(table_err("runs.csv"))?;
    out.finish_table(t)?;
    let e = table_err("design.csv");
    let mut t = out.table("design.csv", design.header())?;
    for p in &design.points {
        t.row(p).map_err(&e)?;
    }
    out.finish_table(t)?;
    let problem = design.problem(replicates, outputs);
    let text = serde_json::to_string_pretty(&problem).map_err(|x| e(std::io::Error::other(x)))? + "\n";
    let mut f = out.file("problem.json")?;
    std::io::Write::write_all(&mut f, text.as_bytes()).map_err(table_err("problem.json"))?;
    out.finish(f)
}

/// The sweep's row of each point, as `sweep.csv` has always made it from its
/// replicates: the headline outputs' statistics (the first
/// `ensemble::headline` columns of each replicate's outputs, in the same
/// order and the same `f64`s) and each place flow's.
pub fn sweep_rows(design: &Design, rows: &[Vec<RepResult>]) -> Vec<SweepRow> {
    let names: Vec<String> = ensemble::headline(&[]).into_iter().map(|(m, _)| m).collect();
    design
        .points
        .iter()
        .zip(rows)
        .map(|(point, reps)| {
            let column = |f: &dyn Fn(&RepResult) -> f64| stats(&reps.iter().map(f).collect::<Vec<f64>>());
            let flows = reps.first().map(|r| r.flows.len()).unwrap_or(0);
            SweepRow {
                point: point.clone(),
                outcomes: names
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.clone(), column(&|r| r.outputs[i])))
                    .collect(),
                places: (0..flows).map(|i| column(&|r| r.flows[i] as f64)).collect(),
            }
        })
        .collect()
}

/// Column descriptions of `runs.csv` and `design.csv` for the folder's
/// `datapackage.json`: (type, unit, text), or `None` for another table.
pub fn describe(file: &str, col: &str) -> Option<(&'static str, &'static str, String)> {
    let base = std::path::Path::new(file).file_name()?.to_str()?;
    match (base, col) {
        ("runs.csv", "point") => Some(("integer", "", "design point (row of design.csv), from 0".into())),
        ("runs.csv", "replicate") => Some((
            "integer",
            "",
            "replicate; replicate k uses the same seed at every point".into(),
        )),
        ("runs.csv", "seed") => Some(("string", "", "the replicate's seed (an unsigned 64-bit integer)".into())),
        ("runs.csv", c) if c.contains('@') => Some((
            "number",
            "people",
            format!(
                "{c}: METRIC@PLACE[:FROM..UNTIL], a flow summed over the window (people present: their mean over it)"
            ),
        )),
        ("runs.csv" | "design.csv", c) if c.contains('.') => {
            Some(("number", "", format!("the value of the parameter {c} at the point")))
        }
        ("runs.csv", c) => Some((
            "number",
            "people",
            format!("{c}: people in this final state at the end of the run, or person-events of this kind over it"),
        )),
        _ => None,
    }
}
