//! `northbound analyze DIR`: sensitivity indices from a study's folder.
//!
//! Owns the estimators, written to agree with SALib (Herman & Usher 2017;
//! its `analyze/sobol.py` and `analyze/morris.py` were read for every
//! choice below):
//! - Sobol' (Saltelli's scheme): outputs standardised over all points,
//!   first-order index S1_j = mean(f_B (f_ABj − f_A)) / Var (Saltelli et al.
//!   2010), total index ST_j = ½ mean((f_A − f_ABj)²) / Var (Jansen 1999),
//!   Var the variance of f_A and f_B together;
//! - Morris: elementary effects (f(x + Δe_j) − f(x)) / Δ in the unit cube
//!   (Morris 1991), μ, μ* = mean |EE| (Campolongo et al. 2007), σ (n − 1);
//! - 95 % intervals by bootstrap: the estimator over `resamples` resamples
//!   of the base points (Sobol') or trajectories (Morris) drawn with
//!   replacement from a fixed seed, ± 1.96 × their standard deviation, as
//!   SALib reports them.
//!
//! Reads the folder through `csv` and `serde_json` only; writes nothing
//! unless asked (`analysis.csv` through `table::Table` and
//! `outdir::replace_in_folder`, which keeps the folder's manifest). Must not
//! run a model.

use super::StudyError;
use crate::rng::{Key, Stream};
use crate::table::Table;
use std::path::Path;

/// The two-sided 95 % normal quantile (SALib: `norm.ppf(0.5 + 0.95 / 2)`).
const Z95: f64 = 1.959_963_984_540_054;

/// Resamples of the bootstrap.
pub const RESAMPLES: usize = 1000;

/// One parameter's Sobol' indices with their 95 % half-widths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SobolIndex {
    /// First-order index.
    pub s1: f64,
    /// Half-width of its 95 % interval.
    pub s1_conf: f64,
    /// Total index.
    pub st: f64,
    /// Half-width of its 95 % interval.
    pub st_conf: f64,
}

/// One parameter's Morris measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MorrisIndex {
    /// Mean elementary effect.
    pub mu: f64,
    /// Mean absolute elementary effect.
    pub mu_star: f64,
    /// Standard deviation of the elementary effects.
    pub sigma: f64,
    /// Half-width of μ*'s 95 % interval.
    pub mu_star_conf: f64,
}

fn mean(x: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = x.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    s / n.max(1) as f64
}

/// Population variance (`np.var`).
fn var(x: &[f64]) -> f64 {
    let m = mean(x.iter().copied());
    mean(x.iter().map(|v| (v - m).powi(2)))
}

/// Sample standard deviation (`ddof=1`).
fn sd(x: &[f64]) -> f64 {
    let m = mean(x.iter().copied());
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len().max(2) - 1) as f64).sqrt()
}

/// Bootstrap index sets: `resamples` draws of `n` indices with replacement.
fn resamples(n: usize, count: usize, seed: u64) -> Vec<Vec<usize>> {
    let key = Key::new(seed ^ 0x626f_6f74, Stream::Inputs);
    (0..count)
        .map(|b| {
            let mut d = key.draws(b as u32, 0);
            (0..n).map(|_| (d.next_word() % n.max(1) as u64) as usize).collect()
        })
        .collect()
}

fn first_order(a: &[f64], ab: &[f64], b: &[f64]) -> f64 {
    let v = var(&[a, b].concat());
    if v == 0.0 {
        return 0.0;
    }
    mean(b.iter().zip(ab).zip(a).map(|((b, ab), a)| b * (ab - a))) / v
}

fn total_order(a: &[f64], ab: &[f64], b: &[f64]) -> f64 {
    let v = var(&[a, b].concat());
    if v == 0.0 {
        return 0.0;
    }
    0.5 * mean(a.iter().zip(ab).map(|(a, ab)| (a - ab).powi(2))) / v
}

/// Sobol' indices of `y`, the outputs of Saltelli's scheme over `d`
/// parameters in SALib's row order (A, AB₁…AB_D, [BA₁…BA_D,] B per base
/// point).
pub fn sobol(y: &[f64], d: usize, second_order: bool, resample: usize, seed: u64) -> Result<Vec<SobolIndex>, String> {
    let step = if second_order { 2 * d + 2 } else { d + 2 };
    if d == 0 || y.is_empty() || !y.len().is_multiple_of(step) {
        return Err(format!(
            "{} outputs do not make whole blocks of {step} (Saltelli's scheme)",
            y.len()
        ));
    }
    let n = y.len() / step;
    // Standardised as SALib does before estimating.
    let (m, s) = (mean(y.iter().copied()), var(y).sqrt());
    let y: Vec<f64> = y.iter().map(|v| if s > 0.0 { (v - m) / s } else { 0.0 }).collect();
    let col = |k: usize| -> Vec<f64> { (0..n).map(|i| y[i * step + k]).collect() };
    let (a, b) = (col(0), col(step - 1));
    let boots = resamples(n, resample, seed);
    let pick = |x: &[f64], r: &[usize]| -> Vec<f64> { r.iter().map(|&i| x[i]).collect() };
    Ok((0..d)
        .map(|j| {
            let ab = col(j + 1);
            let (mut s1s, mut sts) = (Vec::with_capacity(resample), Vec::with_capacity(resample));
            for r in &boots {
                let (ar, abr, br) = (pick(&a, r), pick(&ab, r), pick(&b, r));
                s1s.push(first_order(&ar, &abr, &br));
                sts.push(total_order(&ar, &abr, &br));
            }
            SobolIndex {
                s1: first_order(&a, &ab, &b),
                s1_conf: Z95 * sd(&s1s),
                st: total_order(&a, &ab, &b),
                st_conf: Z95 * sd(&sts),
            }
        })
        .collect())
}

/// Morris measures from trajectories of `d + 1` points (`x` scaled to the
/// unit cube) on a grid of `levels` levels, as SALib's `analyze/morris.py`.
pub fn morris(
    x: &[Vec<f64>],
    y: &[f64],
    d: usize,
    levels: usize,
    resample: usize,
    seed: u64,
) -> Result<Vec<MorrisIndex>, String> {
    let t = d + 1;
    if d == 0 || y.is_empty() || !y.len().is_multiple_of(t) || x.len() != y.len() {
        return Err(format!(
            "{} outputs do not make whole trajectories of {t} points",
            y.len()
        ));
    }
    let delta = levels as f64 / (2.0 * (levels as f64 - 1.0));
    let r = y.len() / t;
    let mut ee = vec![vec![f64::NAN; r]; d];
    // Consecutive points within a trajectory; the last of one and the
    // first of the next are not a step.
    for (i0, pair) in x.windows(2).enumerate().filter(|(i, _)| i % t != d) {
        let (k, i1) = (i0 / t, i0 + 1);
        let Some(j) = (0..d).find(|&j| pair[1][j] != pair[0][j]) else {
            return Err(format!(
                "points {i0} and {i1} of trajectory {k} are the same: not a Morris design"
            ));
        };
        let up = pair[1][j] > pair[0][j];
        ee[j][k] = if up { y[i1] - y[i0] } else { y[i0] - y[i1] } / delta;
    }
    if ee.iter().flatten().any(|v| v.is_nan()) {
        return Err("a trajectory does not move every parameter once: not a Morris design".into());
    }
    let boots = resamples(r, resample, seed);
    Ok(ee
        .iter()
        .map(|e| {
            let abs: Vec<f64> = e.iter().map(|v| v.abs()).collect();
            let means: Vec<f64> = boots.iter().map(|b| mean(b.iter().map(|&i| abs[i]))).collect();
            MorrisIndex {
                mu: mean(e.iter().copied()),
                mu_star: mean(abs.iter().copied()),
                sigma: sd(e),
                mu_star_conf: Z95 * sd(&means),
            }
        })
        .collect())
}

/// What `analyze` reads from a study folder.
pub struct Folder {
    /// Parameter paths.
    pub names: Vec<String>,
    /// Their bounds.
    pub bounds: Vec<(f64, f64)>,
    /// The design's name (`sobol`, `morris`, …).
    pub method: String,
    /// Morris's levels.
    pub levels: usize,
    /// Whether Saltelli's scheme has the BA rows.
    pub second_order: bool,
    /// The points.
    pub x: Vec<Vec<f64>>,
    /// Output names.
    pub outputs: Vec<String>,
    /// `[point][replicate][output]`.
    pub y: Vec<Vec<Vec<f64>>>,
}

fn bad(dir: &Path, m: impl std::fmt::Display) -> StudyError {
    StudyError::Spec(format!("{}: {m}", dir.display()))
}

fn csv_rows(dir: &Path, name: &str) -> Result<(Vec<String>, Vec<Vec<String>>), StudyError> {
    let path = dir.join(name);
    let mut r = csv::Reader::from_path(&path).map_err(|e| bad(dir, format!("{name}: {e}; is it a study folder?")))?;
    let head = r
        .headers()
        .map_err(|e| bad(dir, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|x| x.map(|x| x.iter().map(str::to_string).collect()))
        .collect::<Result<Vec<Vec<String>>, _>>()
        .map_err(|e| bad(dir, format!("{name}: {e}")))?;
    Ok((head, rows))
}

fn num(dir: &Path, file: &str, line: usize, s: &str) -> Result<f64, StudyError> {
    s.parse::<f64>()
        .map_err(|_| bad(dir, format!("{file}:{line}: `{s}` is not a number")))
}

/// Reads `problem.json`, `design.csv` and `runs.csv` of a study folder.
pub fn read(dir: &Path) -> Result<Folder, StudyError> {
    let text = std::fs::read_to_string(dir.join("problem.json"))
        .map_err(|e| bad(dir, format!("problem.json: {e}; is it a folder of `northbound sweep`?")))?;
    let p: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(dir, format!("problem.json: {e}")))?;
    let names: Vec<String> = serde_json::from_value(p["names"].clone()).map_err(|e| bad(dir, e))?;
    let bounds: Vec<(f64, f64)> = serde_json::from_value(p["bounds"].clone()).map_err(|e| bad(dir, e))?;
    let nb = &p["northbound"];
    let (_, design) = csv_rows(dir, "design.csv")?;
    let x = design
        .iter()
        .enumerate()
        .map(|(i, r)| r.iter().map(|c| num(dir, "design.csv", i + 2, c)).collect())
        .collect::<Result<Vec<Vec<f64>>, _>>()?;
    let (head, runs) = csv_rows(dir, "runs.csv")?;
    let first_output = 3 + names.len();
    let outputs: Vec<String> = head.iter().skip(first_output).cloned().collect();
    let mut y: Vec<Vec<Vec<f64>>> = vec![Vec::new(); x.len()];
    for (i, r) in runs.iter().enumerate() {
        let point = r[0].parse::<usize>().ok().filter(|p| *p < x.len());
        let point = point.ok_or_else(|| {
            bad(
                dir,
                format!("runs.csv:{}: point `{}` is not in design.csv", i + 2, r[0]),
            )
        })?;
        let v = r[first_output..]
            .iter()
            .map(|c| num(dir, "runs.csv", i + 2, c))
            .collect::<Result<Vec<_>, _>>()?;
        y[point].push(v);
    }
    Ok(Folder {
        names,
        bounds,
        method: nb["design"].as_str().unwrap_or("file").to_string(),
        levels: nb["num_levels"].as_u64().unwrap_or(4) as usize,
        second_order: nb["calc_second_order"].as_bool().unwrap_or(true),
        x,
        outputs,
        y,
    })
}

/// Which runs make a point's output.
#[derive(Clone, Copy, Debug)]
pub enum Over {
    /// The mean over the point's replicates.
    Mean,
    /// One replicate.
    Replicate(usize),
}

/// One output's indices: its name and per parameter (name, four numbers:
/// S1, S1 ±, ST, ST ± for Sobol'; μ, μ*, σ, μ* ± for Morris).
pub type Analysis = Vec<(String, Vec<(String, [f64; 4])>)>;

/// Analyses the `outputs` (all that vary when empty) of a folder.
pub fn analyze(f: &Folder, outputs: &[String], over: Over) -> Result<Analysis, StudyError> {
    let chosen: Vec<usize> = if outputs.is_empty() {
        (0..f.outputs.len()).collect()
    } else {
        outputs
            .iter()
            .map(|o| {
                f.outputs.iter().position(|x| x == o).ok_or_else(|| {
                    StudyError::Spec(format!(
                        "--output {o}: not an output of this study{}",
                        super::nearest(o, f.outputs.iter().map(String::as_str))
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let d = f.names.len();
    let mut out = Vec::new();
    for k in chosen {
        let y =
            f.y.iter()
                .enumerate()
                .map(|(p, reps)| match over {
                    Over::Mean if !reps.is_empty() => Ok(mean(reps.iter().map(|r| r[k]))),
                    Over::Replicate(i) if i < reps.len() => Ok(reps[i][k]),
                    _ => Err(StudyError::Spec(format!("point {p} has no such run in runs.csv"))),
                })
                .collect::<Result<Vec<f64>, _>>()?;
        if outputs.is_empty() && y.iter().all(|v| *v == y[0]) {
            continue;
        }
        let rows: Vec<[f64; 4]> = match f.method.as_str() {
            "sobol" => sobol(&y, d, f.second_order, RESAMPLES, 0)
                .map_err(StudyError::Spec)?
                .iter()
                .map(|s| [s.s1, s.s1_conf, s.st, s.st_conf])
                .collect(),
            "morris" => {
                let unit: Vec<Vec<f64>> =
                    f.x.iter()
                        .map(|p| {
                            p.iter()
                                .zip(&f.bounds)
                                .map(|(v, (lo, hi))| (v - lo) / (hi - lo))
                                .collect()
                        })
                        .collect();
                morris(&unit, &y, d, f.levels, RESAMPLES, 0)
                    .map_err(StudyError::Spec)?
                    .iter()
                    .map(|m| [m.mu, m.mu_star, m.sigma, m.mu_star_conf])
                    .collect()
            }
            other => {
                return Err(StudyError::Spec(format!(
                    "a {other} design has no sensitivity estimator here: run `sweep --design sobol:N` or \
                     `morris:R`, or read design.csv and runs.csv with SALib or another tool"
                )))
            }
        };
        out.push((f.outputs[k].clone(), f.names.iter().cloned().zip(rows).collect()));
    }
    Ok(out)
}

/// The column names of a method's four numbers in `analysis.csv`.
fn columns(method: &str) -> [&'static str; 4] {
    if method == "morris" {
        ["mu", "mu_star", "sigma", "mu_star_conf95"]
    } else {
        ["S1", "S1_conf95", "ST", "ST_conf95"]
    }
}

/// The analysis as text for the terminal.
pub fn text(f: &Folder, a: &Analysis, over: Over) -> String {
    let runs = match over {
        Over::Mean => "the mean over each point's replicates".to_string(),
        Over::Replicate(k) => format!("replicate {k} at each point"),
    };
    let mut s = if f.method == "morris" {
        format!(
            "Morris elementary effects (Morris 1991; μ* of Campolongo et al. 2007), {} trajectories on {} levels, of {runs};\n\
             ± is the half-width of μ*'s 95 % bootstrap interval ({RESAMPLES} resamples of the trajectories)\n",
            f.y.len() / (f.names.len() + 1),
            f.levels
        )
    } else {
        format!(
            "Sobol' indices: first order (Saltelli et al. 2010) and total (Jansen 1999), {} base points, of {runs};\n\
             ± is the half-width of the 95 % bootstrap interval ({RESAMPLES} resamples of the base points)\n",
            f.y.len()
                / if f.second_order {
                    2 * f.names.len() + 2
                } else {
                    f.names.len() + 2
                }
        )
    };
    // Morris: μ, μ*, its ±, σ; Sobol': S1, ±, ST, ±.
    let (head, order) = if f.method == "morris" {
        (["μ", "μ*", "±", "σ"], [0, 1, 3, 2])
    } else {
        (["S1", "±", "ST", "±"], [0, 1, 2, 3])
    };
    let w = f.names.iter().map(|n| n.chars().count()).max().unwrap_or(9).max(9);
    for (output, rows) in a {
        s += &format!("\n{output}\n{:<w$}", "parameter");
        for h in head {
            s += &format!(" {h:>12}");
        }
        s.push('\n');
        for (name, v) in rows {
            s += &format!("{name:<w$}");
            for i in order {
                s += &format!(" {:>12}", fmt4(v[i]));
            }
            s.push('\n');
        }
    }
    s
}

/// Four significant digits, at most: what a bootstrap of a thousand
/// resamples supports.
fn fmt4(v: f64) -> String {
    let digits = if v == 0.0 {
        0
    } else {
        (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    format!("{v:.digits$}")
}

/// `analysis.csv` as bytes: one row per output and parameter.
pub fn csv(f: &Folder, a: &Analysis) -> Result<Vec<u8>, StudyError> {
    let c = columns(&f.method);
    let e = |x: std::io::Error| StudyError::Failed(format!("analysis.csv: {x}"));
    let mut t = Table::new(Vec::new(), ["output", "parameter", c[0], c[1], c[2], c[3]]).map_err(e)?;
    for (output, rows) in a {
        for (name, v) in rows {
            t.cell(output).cell(name);
            for x in v {
                t.cell(x);
            }
            t.end_row().map_err(e)?;
        }
    }
    t.finish().map_err(e)
}

/// Writes `analysis.csv` into the study folder under its rules (replaced
/// only if absent or listed unchanged in the manifest, which is updated).
pub fn write(dir: &Path, f: &Folder, a: &Analysis) -> Result<std::path::PathBuf, StudyError> {
    Ok(crate::outdir::replace_in_folder(dir, "analysis.csv", &csv(f, a)?)?)
}
