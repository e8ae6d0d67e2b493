//! Experimental designs: which points of the parameter space a study runs.
//!
//! Owns `--design grid | lhs:N | sobol:N | morris:R[:P]`, `--param
//! PATH=LO:HI` (grid: `PATH=FROM:TO:STEP`), `--design-file`, the points
//! each makes, `design.csv` and `problem.json` in SALib's layout (Herman &
//! Usher 2017), so that `SALib.analyze.sobol.analyze(problem, Y)` and
//! `SALib.analyze.morris.analyze(problem, X, Y)` read a study directly.
//! Must not know a model: whether a path is settable and a value valid is
//! asked of the study's [`super::runner::PointRunner`].
//!
//! The schemes follow SALib's own code (github.com/SALib/SALib):
//! `sample/sobol.py` (Saltelli's scheme: for each base point i the rows
//! A, AB₁…AB_D, BA₁…BA_D, B, from a Sobol' sequence of 2D dimensions) and
//! `sample/morris/morris.py` (r trajectories of D+1 points on a p-level
//! grid, Δ = p / (2(p − 1)); Morris 1991). The Sobol' points come from
//! `sobol_burley` (Owen-scrambled, Joe–Kuo direction numbers), not from
//! hand-written code.

use super::StudyError;
use crate::ensemble;
use crate::rng::{Key, Stream};
use serde_json::json;

/// Whether `points` (of `d` values each) are a grid: every combination of
/// each parameter's values, each once. Only then does a line through the
/// points that differ in one parameter show what that parameter does
/// (summaries, reports); the other designs move every parameter at once.
pub(crate) fn is_grid(points: &[&[f64]], d: usize) -> bool {
    let bits = |p: &[f64]| p.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
    let mut distinct: Vec<Vec<u64>> = points.iter().map(|p| bits(p)).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let combinations = (0..d)
        .map(|a| {
            let mut v: Vec<u64> = points.iter().map(|p| p[a].to_bits()).collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        })
        .try_fold(1usize, |n, k| n.checked_mul(k));
    distinct.len() == points.len() && combinations == Some(points.len())
}

/// How the points are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// Every combination of the axes' values.
    Grid,
    /// A Latin hypercube of `n` points.
    Lhs(usize),
    /// Saltelli's scheme over `n` base points: `n (2D + 2)` points.
    Sobol(usize),
    /// `r` Morris trajectories on `levels` levels: `r (D + 1)` points.
    Morris {
        /// Trajectories.
        r: usize,
        /// Levels of the grid (even).
        levels: usize,
    },
    /// Points read from a CSV file.
    File,
}

impl Method {
    /// The method's name in `problem.json` and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Grid => "grid",
            Method::Lhs(_) => "lhs",
            Method::Sobol(_) => "sobol",
            Method::Morris { .. } => "morris",
            Method::File => "file",
        }
    }
}

/// One varied parameter: its path and range (a grid's values too).
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    /// The parameter path (`behaviour.w_fail`, `flee.camp_weight`).
    pub path: String,
    /// Low end of its range.
    pub lo: f64,
    /// High end of its range.
    pub hi: f64,
}

/// A design: its method, its factors and its points (one value per factor
/// each, in factor order).
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// How the points were chosen.
    pub method: Method,
    /// The parameters varied.
    pub factors: Vec<Factor>,
    /// The points.
    pub points: Vec<Vec<f64>>,
}

/// Most points in a study (over all its factors).
pub const MAX_POINTS: usize = 65_536;

/// Parses `--design`: `grid`, `lhs:N`, `sobol:N`, `morris:R` or `morris:R:P`.
pub fn parse_method(s: &str) -> Result<Method, StudyError> {
    let bad = |why: &str| {
        StudyError::Spec(format!(
            "--design {s}: {why}; write grid, lhs:N, sobol:N or morris:R[:P]"
        ))
    };
    let mut parts = s.split(':');
    let name = parts.next().unwrap_or("").trim();
    let nums: Vec<usize> = parts
        .map(|p| p.trim().parse::<usize>().ok().filter(|n| *n > 0))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("N, R and P are whole numbers > 0"))?;
    match (name, nums.as_slice()) {
        ("grid", []) => Ok(Method::Grid),
        ("lhs", [n]) => Ok(Method::Lhs(*n)),
        ("sobol", [n]) if *n <= 1 << 16 => Ok(Method::Sobol(*n)),
        ("sobol", [_]) => Err(bad("at most 65536 base points")),
        ("morris", [r]) => Ok(Method::Morris { r: *r, levels: 4 }),
        ("morris", [r, p]) if *p >= 2 && p % 2 == 0 => Ok(Method::Morris { r: *r, levels: *p }),
        ("morris", [_, _]) => Err(bad("the levels P must be even and ≥ 2 (SALib's rule)")),
        _ => Err(bad("not a design")),
    }
}

/// What a study asks of its model about a parameter: `Err` with a message
/// naming the nearest valid paths or the valid range.
pub type Check<'a> = &'a dyn Fn(&str, f64) -> Result<(), String>;

/// Parses one `--param`: `PATH=LO:HI`, or for a grid `PATH=FROM:TO:STEP`
/// (its values returned too), each value checked by `check`.
pub fn parse_factor(spec: &str, method: &Method, check: Check<'_>) -> Result<(Factor, Option<Vec<f64>>), StudyError> {
    // The grid's messages are those `sweep` has always given.
    let grid = *method == Method::Grid;
    let (form, example, numbers) = if grid {
        (
            "PATH=FROM:TO:STEP",
            "policy.cam.quota_per_year=0:40000:10000",
            "FROM, TO and STEP",
        )
    } else {
        ("PATH=LO:HI", "behaviour.w_fail=0:2", "LO and HI")
    };
    let bad = |m: String| StudyError::Spec(format!("--param: `{spec}`: {m}"));
    let (path, range) = spec
        .split_once('=')
        .ok_or_else(|| bad(format!("write {form}, e.g. {example}")))?;
    let path = path.trim();
    let nums: Vec<f64> = range
        .split(':')
        .map(|x| x.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad(format!("{numbers} must be numbers")))?;
    let values = match (grid, nums.as_slice()) {
        (true, [from, to, step]) => Some(steps(spec, *from, *to, *step)?),
        (false, [lo, hi]) if lo < hi => None,
        (false, [_, _]) => return Err(bad("LO must be below HI".into())),
        _ => return Err(bad(format!("write {form}"))),
    };
    let (lo, hi) = match &values {
        Some(v) => (v[0], v[v.len() - 1]),
        None => (nums[0], nums[1]),
    };
    // Both ends and the middle: a range the model refuses is refused before
    // anything runs (every point is checked again as it is set up).
    let probes: Vec<f64> = values.clone().unwrap_or_else(|| vec![lo, (lo + hi) / 2.0, hi]);
    for v in probes {
        // The model's own message, as `with_values` and calibration give it.
        check(path, v).map_err(StudyError::Spec)?;
    }
    Ok((
        Factor {
            path: path.to_string(),
            lo,
            hi,
        },
        values,
    ))
}

/// FROM, FROM + STEP, … up to TO (a grid axis), counted in floating point
/// first: a tiny STEP over a wide range is more points than an integer holds.
fn steps(spec: &str, from: f64, to: f64, step: f64) -> Result<Vec<f64>, StudyError> {
    let bad = |m: String| StudyError::Spec(format!("--param: `{spec}`: {m}"));
    if step <= 0.0 || to < from {
        return Err(bad("STEP must be > 0 and TO ≥ FROM".into()));
    }
    let count = ((to - from) / step + 1e-9).floor() + 1.0;
    if count.is_nan() || count > ensemble::MAX_POINTS as f64 {
        return Err(bad(format!(
            "{count:.3e} points is too many (at most {} in a sweep)",
            ensemble::MAX_POINTS
        )));
    }
    let values: Vec<f64> = (0..count as usize).map(|i| from + step * i as f64).collect();
    if values.windows(2).any(|w| w[1] <= w[0]) {
        return Err(bad(format!(
            "STEP {step} is too small to change {from} in floating point: the points would repeat"
        )));
    }
    Ok(values)
}

/// The design of `method` over `factors` (`grid_values`: a grid's values per
/// factor). Random choices come from the counter-based stream keyed by the
/// scenario's `seed`: the same command gives the same points.
pub fn build(method: Method, factors: Vec<Factor>, grid_values: &[Vec<f64>], seed: u64) -> Result<Design, StudyError> {
    let d = factors.len();
    if d == 0 {
        return Err(StudyError::Spec("a study needs at least one --param".into()));
    }
    let count = match &method {
        Method::Grid => grid_values.iter().try_fold(1usize, |a, v| a.checked_mul(v.len())),
        Method::Lhs(n) => Some(*n),
        Method::Sobol(n) => n.checked_mul(2 * d + 2),
        Method::Morris { r, .. } => r.checked_mul(d + 1),
        Method::File => Some(0),
    };
    // A grid's size is checked by `ensemble::grid`, with its message.
    if method != Method::Grid && count.is_none_or(|c| c > MAX_POINTS) {
        return Err(StudyError::Spec(format!(
            "--design {}: too many points (at most {MAX_POINTS} in a study)",
            method.name()
        )));
    }
    if let Method::Sobol(_) = method {
        if 2 * d > sobol_burley::NUM_DIMENSIONS as usize {
            return Err(StudyError::Spec(format!(
                "--design sobol: at most {} parameters",
                sobol_burley::NUM_DIMENSIONS / 2
            )));
        }
    }
    let unit: Vec<Vec<f64>> = match &method {
        Method::Grid | Method::File => {
            let axes: Vec<ensemble::Axis> = factors
                .iter()
                .zip(grid_values)
                .map(|(f, v)| ensemble::Axis {
                    path: f.path.clone(),
                    values: v.clone(),
                })
                .collect();
            let points = ensemble::grid(&axes).map_err(|e| StudyError::Spec(e.to_string()))?;
            return Ok(Design {
                method,
                factors,
                points,
            });
        }
        Method::Lhs(n) => lhs(*n, d, seed),
        Method::Sobol(n) => saltelli(*n, d, seed),
        Method::Morris { r, levels } => morris(*r, d, *levels, seed),
    };
    let points = unit
        .iter()
        .map(|u| u.iter().zip(&factors).map(|(x, f)| f.lo + (f.hi - f.lo) * x).collect())
        .collect();
    Ok(Design {
        method,
        factors,
        points,
    })
}

/// The key of a design's draws: the scenario's seed under a salt of its
/// own, so a design never shares draws with the runs or the inputs.
fn design_key(seed: u64) -> Key {
    Key::new(seed ^ 0x6465_7369_676e_0001, Stream::Inputs)
}

/// A Latin hypercube of `n` points in [0, 1)^d: each factor's range cut in
/// `n` strata, each stratum used once, the pairing shuffled per factor.
fn lhs(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let key = design_key(seed);
    let mut out = vec![vec![0.0; d]; n];
    for j in 0..d {
        let mut order: Vec<(u64, usize)> = (0..n).map(|i| (key.word(j as u32, i as u32), i)).collect();
        order.sort_unstable();
        for (stratum, &(_, i)) in order.iter().enumerate() {
            let within = key.draws(j as u32 | 1 << 30, i as u32).uniform();
            if let Some(row) = out.get_mut(i) {
                row[j] = (stratum as f64 + within) / n as f64;
            }
        }
    }
    out
}

/// Saltelli's scheme as SALib's `sample/sobol.py` lays it out with
/// `calc_second_order=True`: for each base point i of a 2D-dimensional
/// Sobol' sequence (A: its first D coordinates, B: the last D), the rows A,
/// AB_j (A with column j from B) for each j, BA_j (B with column j from A)
/// for each j, then B.
fn saltelli(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let scramble = (seed ^ (seed >> 32)) as u32;
    let mut out = Vec::with_capacity(n * (2 * d + 2));
    for i in 0..n {
        let base: Vec<f64> = (0..2 * d)
            .map(|k| sobol_burley::sample(i as u32, k as u32, scramble) as f64)
            .collect();
        let (a, b) = base.split_at(d);
        out.push(a.to_vec());
        for j in 0..d {
            let mut row = a.to_vec();
            row[j] = b[j];
            out.push(row);
        }
        for j in 0..d {
            let mut row = b.to_vec();
            row[j] = a[j];
            out.push(row);
        }
        out.push(b.to_vec());
    }
    out
}

/// `r` Morris trajectories as SALib's `sample/morris` makes them (Morris
/// 1991): B* = J x* + (Δ/2)((2B − J) D* + J) with B strictly lower
/// triangular ones, x* drawn from the levels {0, 1/(p−1), …, 1 − Δ}, D* a
/// random ±1 diagonal and the factors taken in a random order (P*).
fn morris(r: usize, d: usize, levels: usize, seed: u64) -> Vec<Vec<f64>> {
    let key = design_key(seed ^ 0x6d6f_7272_6973);
    let delta = levels as f64 / (2.0 * (levels as f64 - 1.0));
    let half = levels / 2;
    let mut out = Vec::with_capacity(r * (d + 1));
    for t in 0..r {
        let mut draws = key.draws(t as u32, 0);
        let x_star: Vec<f64> = (0..d)
            .map(|_| {
                let k = ((draws.uniform() * half as f64) as usize).min(half - 1);
                if half > 1 {
                    k as f64 * (1.0 - delta) / (half - 1) as f64
                } else {
                    0.0
                }
            })
            .collect();
        let sign: Vec<f64> = (0..d).map(|_| if draws.uniform() < 0.5 { -1.0 } else { 1.0 }).collect();
        let mut order: Vec<(u64, usize)> = (0..d).map(|j| (draws.next_word(), j)).collect();
        order.sort_unstable();
        // Row m moves the factors taken at steps < m; each moved factor
        // sits at x* + Δ where its sign is +, at x* where −, and the reverse
        // before it moves.
        for m in 0..=d {
            let row: Vec<f64> = (0..d)
                .map(|j| {
                    let step = order.iter().position(|&(_, f)| f == j).unwrap_or(0);
                    let b = if step < m { 1.0 } else { 0.0 };
                    x_star[j] + delta / 2.0 * ((2.0 * b - 1.0) * sign[j] + 1.0)
                })
                .collect();
            out.push(row);
        }
    }
    out
}

/// Reads a design made elsewhere: a CSV file with a header of parameter
/// paths and a row of values per point; each value checked by `check`.
pub fn from_file(path: &std::path::Path, check: Check<'_>) -> Result<Design, StudyError> {
    let shown = path.display().to_string();
    let err = |line: usize, m: String| StudyError::Spec(format!("{shown}:{line}: {m}"));
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| StudyError::Spec(format!("--design-file {shown}: {e}")))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| err(1, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut points: Vec<Vec<f64>> = Vec::new();
    let mut problems = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| err(line, e.to_string()))?;
        let mut p = Vec::with_capacity(header.len());
        for (col, cell) in header.iter().zip(rec.iter()) {
            match cell.parse::<f64>().ok().filter(|x| x.is_finite()) {
                Some(v) => match check(col, v) {
                    Ok(()) => p.push(v),
                    Err(m) => problems.push(format!("{shown}:{line}: column {col}: {m}")),
                },
                None => problems.push(format!("{shown}:{line}: column {col}: `{cell}` is not a number")),
            }
        }
        if rec.len() != header.len() {
            problems.push(format!(
                "{shown}:{line}: {} cells, the header has {}",
                rec.len(),
                header.len()
            ));
        }
        points.push(p);
        if points.len() > MAX_POINTS {
            return Err(err(line, format!("more than {MAX_POINTS} points")));
        }
    }
    if !problems.is_empty() {
        problems.truncate(20);
        return Err(StudyError::Spec(problems.join("\n")));
    }
    if points.is_empty() || header.is_empty() {
        return Err(StudyError::Spec(format!(
            "{shown}: no points (a header of paths, then a row per point)"
        )));
    }
    let factors = header
        .iter()
        .enumerate()
        .map(|(j, h)| {
            let col = points.iter().map(|p| p[j]);
            Factor {
                path: h.clone(),
                lo: col.clone().fold(f64::INFINITY, f64::min),
                hi: col.fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect();
    Ok(Design {
        method: Method::File,
        factors,
        points,
    })
}

impl Design {
    /// `design.csv`'s header: the parameter paths.
    pub fn header(&self) -> Vec<String> {
        self.factors.iter().map(|f| f.path.clone()).collect()
    }

    /// SALib's problem dictionary (`num_vars`, `names`, `bounds`) with what
    /// `northbound analyze` needs beside it under `northbound`: the method,
    /// its size, Morris's levels, the replicates and the outputs.
    pub fn problem(&self, replicates: usize, outputs: &[String]) -> serde_json::Value {
        let (n, levels) = match self.method {
            Method::Lhs(n) | Method::Sobol(n) => (n, None),
            Method::Morris { r, levels } => (r, Some(levels)),
            Method::Grid | Method::File => (self.points.len(), None),
        };
        json!({
            "num_vars": self.factors.len(),
            "names": self.header(),
            "bounds": self.factors.iter().map(|f| [f.lo, f.hi]).collect::<Vec<_>>(),
            "northbound": {
                "design": self.method.name(),
                "n": n,
                "calc_second_order": matches!(self.method, Method::Sobol(_)),
                "num_levels": levels,
                "points": self.points.len(),
                "replicates": replicates,
                "outputs": outputs,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(d: usize) -> Vec<Factor> {
        (0..d)
            .map(|j| Factor {
                path: format!("x{j}"),
                lo: -1.0,
                hi: 1.0 + j as f64,
            })
            .collect()
    }

    #[test]
    fn saltelli_rows_follow_salib_layout() {
        let d = 3;
        let design = build(Method::Sobol(8), factors(d), &[], 7).expect("design");
        assert_eq!(design.points.len(), 8 * (2 * d + 2));
        for block in design.points.chunks(2 * d + 2) {
            let (a, b) = (&block[0], &block[2 * d + 1]);
            for j in 0..d {
                let ab = &block[1 + j];
                let ba = &block[1 + d + j];
                for k in 0..d {
                    assert_eq!(ab[k], if k == j { b[k] } else { a[k] });
                    assert_eq!(ba[k], if k == j { a[k] } else { b[k] });
                }
            }
        }
        assert_eq!(design, build(Method::Sobol(8), factors(d), &[], 7).expect("again"));
    }

    #[test]
    fn morris_trajectories_move_one_factor_by_delta_at_a_time() {
        let d = 4;
        let f = factors(d);
        let design = build(Method::Morris { r: 10, levels: 4 }, f.clone(), &[], 3).expect("design");
        assert_eq!(design.points.len(), 10 * (d + 1));
        for t in design.points.chunks(d + 1) {
            let mut moved = vec![false; d];
            for w in t.windows(2) {
                let changed: Vec<usize> = (0..d).filter(|&j| w[0][j] != w[1][j]).collect();
                assert_eq!(changed.len(), 1);
                let j = changed[0];
                let unit = (w[1][j] - w[0][j]) / (f[j].hi - f[j].lo);
                assert!((unit.abs() - 2.0 / 3.0).abs() < 1e-12, "Δ = p/(2(p−1)) = 2/3");
                moved[j] = true;
            }
            assert!(moved.iter().all(|m| *m));
        }
    }

    #[test]
    fn a_latin_hypercube_uses_every_stratum_of_every_factor_once() {
        let n = 20;
        let design = build(Method::Lhs(n), factors(3), &[], 1).expect("design");
        for (j, f) in factors(3).iter().enumerate() {
            let mut strata: Vec<usize> = design
                .points
                .iter()
                .map(|p| ((p[j] - f.lo) / (f.hi - f.lo) * n as f64) as usize)
                .collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..n).collect::<Vec<_>>());
        }
    }
}
