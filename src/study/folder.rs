//! A study's folder and what the command prints: the design planned from
//! the command's words, the tables written from the finished rows, and the
//! text for people.
//!
//! Owns which files a study folder holds: for the default model the grid
//! sweep's files (`sweep.csv`, `sweep_long.csv`, `inputs.csv`,
//! `summary.md`, `datapackage.json`, `report.html`, written by `results`
//! and `publish` as before) plus `runs.csv`, `design.csv` and
//! `problem.json`; for `flee`, `runs.csv`, `design.csv` and
//! `problem.json`. Must not run anything or decide where the folder goes.

use super::design::{self, Design, Method};
use super::runner::{DefaultRunner, FleeRunner, PointRunner, RepResult};
use super::{runs, Fingerprint, Progress, StudyError};
use crate::engine::Exchange;
use crate::ensemble::{Axis, Inputs};
use crate::flee::FleeScenario;
use crate::outdir::{Claim, OutDir};
use crate::results::Publish;
use crate::scenario::Scenario;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The scenario a study runs, of either model.
#[derive(Clone, Copy)]
pub enum Model<'a> {
    /// The default model.
    Default(&'a Scenario),
    /// The `flee` model.
    Flee(&'a FleeScenario),
}

/// What a `sweep` command asks for, besides its scenario.
pub struct Request<'a> {
    /// `--design`.
    pub design: &'a str,
    /// `--param`s.
    pub params: &'a [String],
    /// `--design-file`.
    pub design_file: Option<&'a Path>,
    /// `--metric`s.
    pub metrics: &'a [String],
    /// Replicates per point.
    pub replicates: usize,
    /// Worker threads per process.
    pub threads: Option<usize>,
    /// Whether replicates draw the uncertain inputs (default model).
    pub inputs: Inputs,
    /// `--scale`, if given (part of the fingerprint).
    pub scale: Option<f64>,
}

/// A study planned and checked, ready to run.
pub struct Study<'a> {
    model: Model<'a>,
    runner: Box<dyn PointRunner + 'a>,
    /// The design.
    pub design: Design,
    replicates: usize,
    fingerprint: Fingerprint,
    metric_specs: Vec<String>,
    threads: Option<usize>,
    inputs: Inputs,
}

impl<'a> Study<'a> {
    /// Plans a study: the runner for the model, the design, every point
    /// checked; nothing runs yet.
    pub fn plan(model: Model<'a>, req: &Request<'_>) -> Result<Study<'a>, StudyError> {
        Study::new(model, req, None)
    }

    /// A study of a design made by the caller (Python's grids of given
    /// values), each point checked by the model.
    pub fn of_design(model: Model<'a>, req: &Request<'_>, design: Design) -> Result<Study<'a>, StudyError> {
        for p in &design.points {
            for (f, v) in design.factors.iter().zip(p) {
                let r = match model {
                    Model::Default(sc) => DefaultRunner::new(sc, &[])?.check(&f.path, *v),
                    Model::Flee(sc) => FleeRunner::new(sc, &[])?.check(&f.path, *v),
                };
                r.map_err(StudyError::Spec)?;
            }
        }
        Study::new(model, req, Some(design))
    }

    /// Sets the flag that stops every run of the default model at the end of its day.
    pub fn stop_on(&mut self, stop: crate::results::Stop) {
        if let Model::Default(sc) = self.model {
            if let Ok(mut r) = DefaultRunner::new(sc, &self.metric_specs) {
                r.threads = self.threads;
                r.inputs = self.inputs;
                r.stop = Some(stop);
                self.runner = Box::new(r);
            }
        }
    }

    /// Runs every point in memory (no store, on this process): each
    /// point's replicates in point order.
    pub fn rows(&self, progress: &Progress<'_>) -> Result<Vec<Vec<RepResult>>, StudyError> {
        let done = super::run(
            self.runner.as_ref(),
            &self.design,
            self.replicates,
            &self.fingerprint,
            None,
            None,
            false,
            &crate::engine::Local,
            progress,
        )?;
        Ok(done.rows)
    }

    /// The output columns of `runs.csv`.
    pub fn outputs(&self) -> Vec<String> {
        self.runner.outputs()
    }

    /// Writes a study's folder from rows kept in memory (`rows`).
    pub fn write(&self, out: &mut OutDir, rows: &[Vec<RepResult>], p: &Publish) -> Result<(), StudyError> {
        match self.model {
            Model::Default(sc) => write_default(out, sc, &self.design, &self.outputs(), rows, p),
            Model::Flee(_) => write_flee(out, &self.design, &self.outputs(), rows),
        }
    }

    /// What `northbound sweep` prints for rows kept in memory.
    pub fn text(&self, rows: &[Vec<RepResult>], p: &Publish) -> String {
        let (name, sc) = match self.model {
            Model::Default(sc) => (sc.about.name.as_str(), Some(sc)),
            Model::Flee(sc) => (sc.about.name.as_str(), None),
        };
        text(name, sc, &self.design, &self.outputs(), rows, p)
    }

    fn new(model: Model<'a>, req: &Request<'_>, given: Option<Design>) -> Result<Study<'a>, StudyError> {
        let (runner, sha, seed, name): (Box<dyn PointRunner + 'a>, &str, u64, &str) = match model {
            Model::Default(sc) => {
                let mut r = DefaultRunner::new(sc, req.metrics)?;
                r.threads = req.threads;
                r.inputs = req.inputs;
                (Box::new(r), &sc.about.sha256, sc.seed, "default")
            }
            Model::Flee(sc) => {
                let mut r = FleeRunner::new(sc, req.metrics)?;
                r.threads = req.threads;
                (Box::new(r), &sc.about.sha256, sc.seed, "flee")
            }
        };
        let design = match given {
            Some(d) => d,
            None => plan(runner.as_ref(), req.design, req.params, req.design_file)?,
        };
        runner.prepare(&design.header(), &design.points, req.replicates)?;
        let points = serde_json::to_vec(&design.points).unwrap_or_default();
        let fingerprint = Fingerprint {
            scenario_sha256: sha.to_string(),
            design: req
                .design_file
                .map(|_| "file".to_string())
                .unwrap_or_else(|| req.design.to_string()),
            params: req.params.to_vec(),
            replicates: req.replicates,
            metrics: req.metrics.to_vec(),
            options: serde_json::json!({
                "model": name,
                "scale": req.scale,
                "fixed_inputs": req.inputs == Inputs::Fixed,
                "points_sha256": Sha256::digest(&points).iter().map(|b| format!("{b:02x}")).collect::<String>(),
            }),
            seed,
        };
        Ok(Study {
            model,
            runner,
            design,
            replicates: req.replicates,
            fingerprint,
            metric_specs: req.metrics.to_vec(),
            threads: req.threads,
            inputs: req.inputs,
        })
    }

    /// Runs the points not yet in the store of `dest`, then (on rank 0,
    /// which holds `claim`) writes the folder, puts it in place and removes
    /// the store. Returns where the folder is, its files and what to print.
    pub fn run(
        &self,
        dest: &Path,
        claim: Option<Claim>,
        fresh: bool,
        ranks: &dyn Exchange,
        progress: &Progress<'_>,
        p: &Publish,
    ) -> Result<Option<(PathBuf, String, String)>, StudyError> {
        let done = super::run(
            self.runner.as_ref(),
            &self.design,
            self.replicates,
            &self.fingerprint,
            Some(dest),
            claim.as_ref(),
            fresh,
            ranks,
            progress,
        )?;
        let Some(claim) = claim else {
            return Ok(None);
        };
        let mut out = OutDir::start(claim)?;
        self.write(&mut out, &done.rows, p)?;
        let mut files: Vec<&str> = out.hashes().keys().map(String::as_str).collect();
        files.sort_by_key(|n| (!n.ends_with(".html"), !n.ends_with(".md"), *n));
        let files = files.join(", ");
        let mut said = self.text(&done.rows, p);
        if done.resumed > 0 {
            said += &format!(
                "({} of {} points were resumed from an interrupted run)\n",
                done.resumed,
                self.design.points.len()
            );
        }
        let dest = out.commit()?;
        if let Some(s) = done.store {
            s.remove();
        }
        Ok(Some((dest, files, said)))
    }
}

/// The design of a `sweep` command: `--design-file`, or `--design` over
/// the `--param`s, every value checked by the model.
pub fn plan(
    runner: &dyn PointRunner,
    method: &str,
    params: &[String],
    design_file: Option<&Path>,
) -> Result<Design, StudyError> {
    let check = |p: &str, v: f64| runner.check(p, v);
    if let Some(f) = design_file {
        if !params.is_empty() {
            return Err(StudyError::Spec(
                "--design-file gives the points: leave out --param (its header names the parameters)".into(),
            ));
        }
        return design::from_file(f, &check);
    }
    let method = design::parse_method(method)?;
    let mut factors = Vec::new();
    let mut values = Vec::new();
    for p in params {
        let (f, v) = design::parse_factor(p, &method, &check)?;
        if factors.iter().any(|g: &design::Factor| g.path == f.path) {
            return Err(StudyError::Spec(format!("--param {}: given twice", f.path)));
        }
        factors.push(f);
        values.extend(v);
    }
    design::build(method, factors, &values, runner.seed())
}

/// The axes of `sweep.csv` and the report: one per factor.
fn axes(design: &Design) -> Vec<Axis> {
    design
        .factors
        .iter()
        .map(|f| Axis {
            path: f.path.clone(),
            values: Vec::new(),
        })
        .collect()
}

/// Writes a default-model study's folder: the study's tables first (so
/// that `datapackage.json` describes them), then the sweep's.
pub fn write_default(
    out: &mut OutDir,
    sc: &Scenario,
    design: &Design,
    outputs: &[String],
    rows: &[Vec<RepResult>],
    p: &Publish,
) -> Result<(), StudyError> {
    let n = rows.first().map(Vec::len).unwrap_or(0);
    runs::write_study_tables(out, design, outputs, n, rows)?;
    let sweep = runs::sweep_rows(design, rows);
    crate::results::write_sweep(out, sc, &axes(design), &sweep, n, p)?;
    Ok(())
}

/// Writes a `flee` study's folder: `runs.csv`, `design.csv`, `problem.json`.
pub fn write_flee(
    out: &mut OutDir,
    design: &Design,
    outputs: &[String],
    rows: &[Vec<RepResult>],
) -> Result<(), StudyError> {
    let n = rows.first().map(Vec::len).unwrap_or(0);
    runs::write_study_tables(out, design, outputs, n, rows)?;
    Ok(())
}

/// What `northbound sweep` prints before naming its folder: for a grid of
/// the default model, the sweep's table as before; otherwise the design,
/// its size, and the outputs' spread over the points.
pub fn text(
    name: &str,
    sc: Option<&Scenario>,
    design: &Design,
    outputs: &[String],
    rows: &[Vec<RepResult>],
    p: &Publish,
) -> String {
    let n = rows.first().map(Vec::len).unwrap_or(0);
    if let (Method::Grid, Some(sc)) = (&design.method, sc) {
        return crate::results::sweep_text(sc, &axes(design), &runs::sweep_rows(design, rows), n, p);
    }
    let mut s = format!(
        "{name}: {} design over {} parameter{}, {} points × {n} replicate{} (replicate k with the same seed at every point)\n\n",
        design.method.name(),
        design.factors.len(),
        if design.factors.len() == 1 { "" } else { "s" },
        design.points.len(),
        if n == 1 { "" } else { "s" },
    );
    s += &format!(
        "{:<44} {:>14} {:>14} {:>14}\n",
        "output (mean over replicates)", "lowest point", "mean", "highest point"
    );
    for (i, o) in outputs.iter().enumerate() {
        let means: Vec<f64> = rows
            .iter()
            .map(|reps| reps.iter().map(|r| r.outputs[i]).sum::<f64>() / reps.len().max(1) as f64)
            .collect();
        let lo = means.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if hi <= 0.0 {
            continue;
        }
        let mean = means.iter().sum::<f64>() / means.len().max(1) as f64;
        s += &format!("{o:<44} {lo:>14.1} {mean:>14.1} {hi:>14.1}\n");
    }
    if matches!(design.method, Method::Sobol(_) | Method::Morris { .. }) {
        s += "(outputs that stay at 0 are left out; `northbound analyze DIR` gives the sensitivity indices)\n";
    } else {
        s += "(outputs that stay at 0 are left out; every run is in runs.csv)\n";
    }
    s
}
