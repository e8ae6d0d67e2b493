//! Uncertain inputs: numbers a scenario file writes as
//! `{ value = 0.3, range = [0.1, 0.6] }` (optionally with `dist`), the
//! Latin hypercube that draws them for replicates, and scenarios with
//! given values for them.
//!
//! Owns the list of a scenario's uncertain inputs ([`inputs`]), their
//! distributions, the design of draws ([`design`]) and the scenario with
//! drawn values ([`with_values`]). A scenario with drawn values is the file
//! read again with those values in place of the marks — so every derived
//! quantity (a route's days from its km, the weights of household sizes)
//! and every rule of the loader applies to them — and then the changes made
//! to the loaded scenario since (`params::set`, `scaled`, a variant: its
//! [`Edit`]s) made again, in order. Must not run anything.

use super::model::{Edit, Scenario};
use super::params;
use super::read::Reading;
use super::LoadError;
use crate::rng::{Key, Stream};
use std::collections::HashMap;

/// How an uncertain input is distributed over its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dist {
    /// Every value of the range equally likely (the default).
    Uniform,
    /// Triangular, its mode at the input's `value`.
    Triangular,
    /// Uniform in the logarithm: for a quantity known to within a factor
    /// (a daily chance between 0.000003 and 0.0001).
    LogUniform,
}

impl Dist {
    /// Every distribution with its name in scenario files.
    pub const NAMES: [(&'static str, Dist); 3] = [
        ("uniform", Dist::Uniform),
        ("triangular", Dist::Triangular),
        ("loguniform", Dist::LogUniform),
    ];

    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        Dist::NAMES
            .iter()
            .find(|(_, d)| *d == self)
            .map(|(n, _)| *n)
            .unwrap_or("uniform")
    }

    /// The value at cumulative probability `u` in [0, 1] of this
    /// distribution on `[low, high]` (mode `mode` for the triangular).
    pub fn quantile(self, u: f64, low: f64, mode: f64, high: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        // The ends exactly (exp(ln x) need not give x back).
        if u == 0.0 {
            return low;
        }
        if u == 1.0 {
            return high;
        }
        let x = match self {
            Dist::Uniform => low + u * (high - low),
            Dist::LogUniform => (low.ln() + u * (high.ln() - low.ln())).exp(),
            Dist::Triangular => {
                let w = high - low;
                let f = (mode - low) / w;
                if u < f {
                    low + (u * w * (mode - low)).sqrt()
                } else {
                    high - ((1.0 - u) * w * (high - mode)).sqrt()
                }
            }
        };
        x.clamp(low, high)
    }
}

/// One uncertain input of a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Uncertain {
    /// Its path: the field's place in the file, dotted
    /// (`population.haitian_tps.people`, `route.new_york-plattsburgh.km`,
    /// `population.chnv_fl.relatives.CA`); where `scenario::params` knows
    /// the field, the same path.
    pub path: String,
    /// The value used when inputs are fixed (a plain run, `--fixed-inputs`).
    pub value: f64,
    /// The low end of its range.
    pub low: f64,
    /// The high end of its range.
    pub high: f64,
    /// How it is drawn over the range.
    pub dist: Dist,
    /// Whether the field takes whole numbers (draws are rounded).
    pub whole: bool,
    /// The line of the file it is written on.
    pub line: usize,
}

impl Uncertain {
    /// The value at cumulative probability `u`, rounded for whole-number fields.
    pub fn at(&self, u: f64) -> f64 {
        let x = self.dist.quantile(u, self.low, self.value, self.high);
        if self.whole {
            x.round()
        } else {
            x
        }
    }

    /// The range as people read it: `[low, high]`, with the distribution if
    /// it is not uniform.
    pub fn describe(&self) -> String {
        match self.dist {
            Dist::Uniform => format!("[{}, {}]", self.low, self.high),
            d => format!("[{}, {}] {}", self.low, self.high, d.name()),
        }
    }
}

/// The scenario's uncertain inputs, in the order the file is read
/// (behaviour, places, routes, cohorts, policies, variants).
pub fn inputs(sc: &Scenario) -> &[Uncertain] {
    &sc.uncertain
}

/// Why a scenario with given values could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// As many values as inputs are needed.
    #[error("{given} values for {inputs} uncertain inputs")]
    Count {
        /// Values given.
        given: usize,
        /// Inputs of the scenario.
        inputs: usize,
    },
    /// The scenario was not loaded from a file (nothing to read again).
    #[error("the scenario {0} has uncertain inputs but not the text of its file")]
    NoSource(String),
    /// The file with these values is not a valid scenario (values outside
    /// what the fields allow together).
    #[error("with the values drawn for its uncertain inputs: {0}")]
    Load(String),
    /// A change made since loading could not be made again.
    #[error("{0}")]
    Edit(String),
}

/// The scenario with `values` (one per input, in [`inputs`] order) in
/// place of its uncertain inputs' values; every other number as loaded,
/// and every change made since loading made again. With no uncertain
/// inputs, a copy.
pub fn with_values(sc: &Scenario, values: &[f64]) -> Result<Scenario, InputsError> {
    if values.len() != sc.uncertain.len() {
        return Err(InputsError::Count {
            given: values.len(),
            inputs: sc.uncertain.len(),
        });
    }
    if sc.uncertain.is_empty() {
        return Ok(sc.clone());
    }
    let src = sc
        .source
        .as_ref()
        .ok_or_else(|| InputsError::NoSource(sc.about.name.clone()))?;
    let map: HashMap<String, f64> = sc
        .uncertain
        .iter()
        .zip(values)
        .map(|(u, v)| (u.path.clone(), *v))
        .collect();
    let mut out = super::load::load_marked(src.text.as_bytes(), &src.path, Reading::Values(map))
        .map_err(|e| InputsError::Load(load_message(&e)))?;
    out.seed = sc.seed;
    for e in &sc.edits {
        match e {
            Edit::Set { path, value } => {
                params::set(&mut out, path, *value).map_err(|e| InputsError::Edit(e.to_string()))?
            }
            Edit::Scale(f) => out = out.scaled(*f),
            Edit::Days(d) => out = out.first_days(*d),
            Edit::Variant(id) => {
                let v = out
                    .variants
                    .iter()
                    .find(|v| &v.id == id)
                    .cloned()
                    .ok_or_else(|| InputsError::Edit(format!("no variant `{id}`")))?;
                out = out.under_variant(&v);
            }
        }
    }
    Ok(out)
}

/// The central values of the inputs (their `value`s).
pub fn central(sc: &Scenario) -> Vec<f64> {
    sc.uncertain.iter().map(|u| u.value).collect()
}

/// The scenario with input `i` at `value` and every other at its central
/// value (one point of a one-at-a-time sensitivity analysis).
pub fn one_at(sc: &Scenario, i: usize, value: f64) -> Result<Scenario, InputsError> {
    let mut v = central(sc);
    if let Some(x) = v.get_mut(i) {
        *x = value;
    }
    with_values(sc, &v)
}

/// The Latin hypercube of `n` replicates over the scenario's uncertain
/// inputs: `design[k][j]` is input j's value in replicate k. Each input's
/// range is cut into `n` strata of equal probability; each stratum is used
/// by exactly one replicate, the pairing shuffled independently per input,
/// and the value drawn within its stratum. Every draw comes from the
/// counter-based stream keyed by (seed, input path, replicate): the design
/// depends on the seed, the paths and `n` only — the same for a variant
/// (paired comparisons) and whatever the threads or processes.
pub fn design(sc: &Scenario, n: usize) -> Vec<Vec<f64>> {
    let key = Key::new(sc.seed, Stream::Inputs);
    let m = sc.uncertain.len();
    let mut out = vec![vec![0.0; m]; n];
    for (j, u) in sc.uncertain.iter().enumerate() {
        let h = path_hash(&u.path);
        // The pairing of replicates with strata: replicates ranked by a
        // random word (ties, impossible in practice, broken by replicate).
        let mut order: Vec<(u64, usize)> = (0..n).map(|k| (key.word(h, k as u32), k)).collect();
        order.sort_unstable();
        for (stratum, &(_, k)) in order.iter().enumerate() {
            let within = key.draws(h, k as u32 | 1 << 31).uniform();
            out[k][j] = u.at((stratum as f64 + within) / n as f64);
        }
    }
    out
}

/// Replicate `k` of `n`: its values from [`design`] and the scenario with them.
pub fn draw(sc: &Scenario, k: usize, n: usize) -> Result<(Scenario, Vec<f64>), InputsError> {
    let values = design(sc, n).swap_remove(k.min(n.saturating_sub(1)));
    Ok((with_values(sc, &values)?, values))
}

/// The 32-bit FNV-1a hash of a path: which counter an input's draws use.
fn path_hash(path: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in path.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn load_message(e: &LoadError) -> String {
    match e.problems().first() {
        Some(p) => format!("{}: {}", p.field, p.message),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_stay_in_range_and_the_triangular_peaks_at_its_mode() {
        for d in [Dist::Uniform, Dist::Triangular, Dist::LogUniform] {
            assert_eq!(d.quantile(0.0, 0.1, 0.3, 0.6), 0.1, "{d:?}");
            assert!((d.quantile(1.0, 0.1, 0.3, 0.6) - 0.6).abs() < 1e-12, "{d:?}");
        }
        assert!((Dist::Uniform.quantile(0.5, 0.0, 0.2, 1.0) - 0.5).abs() < 1e-12);
        // The triangular's cumulative probability at its mode is (c − a)/(b − a).
        assert!((Dist::Triangular.quantile(0.4, 0.0, 0.4, 1.0) - 0.4).abs() < 1e-12);
        // Log-uniform: the geometric middle at 0.5.
        assert!((Dist::LogUniform.quantile(0.5, 0.01, 0.1, 1.0) - 0.1).abs() < 1e-12);
    }
}
