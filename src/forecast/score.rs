//! Predictive distributions and their scores: the weighted ensemble spread
//! by the observation model, its quantiles, the continuous ranked
//! probability score, interval coverage, and the two baselines a forecast
//! must beat.
//!
//! Owns the statistics. Must not simulate: it reads members' values.
//!
//! - The predictive distribution of a period's count is the mixture over
//!   members of the filter's observation model, NB(μ_m, k) with member m's
//!   simulated value μ_m and weight w_m. It is represented by a weighted
//!   sample: for each member the negative binomial's quantiles at the
//!   probabilities (j + ½)/J, j = 0…J−1 (J = [`STRATA`]), each of weight
//!   w_m/J — deterministic, and exact in the limit of J.
//! - CRPS of a weighted sample {x_i, w_i} against y: Σ w_i|x_i − y| −
//!   ½ ΣΣ w_i w_j |x_i − x_j|, the ensemble (energy-form) estimator of
//!   Gneiting & Raftery (2007, eq. 21), computed on the sorted sample in
//!   O(n log n). For a point forecast it is the absolute error.
//! - Point forecast of the model: the median (it minimises the expected
//!   absolute error). Central intervals: 50 % from the 25th to the 75th
//!   percentile, 90 % from the 5th to the 95th.
//! - Persistence: the last count of the series before the forecast's
//!   origin, as a daily rate over the target period's days (a level for
//!   `present`). Seasonal naive: the count of the same period a year before
//!   (the same month, day or interval one calendar year back; the ISO week
//!   52 weeks back), where it was counted before the origin.

use super::observed::{Obs, Observed, Span};
use crate::engine::Col;
use crate::time::Calendar;
use chrono::Datelike;

/// Quantiles per member in a predictive distribution.
pub const STRATA: usize = 40;

/// A weighted sample of a distribution, sorted by value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dist {
    /// Values, ascending.
    pub x: Vec<f64>,
    /// Their weights (summing to 1).
    pub w: Vec<f64>,
}

impl Dist {
    /// From (value, weight) pairs.
    pub fn new(mut pairs: Vec<(f64, f64)>) -> Dist {
        pairs.retain(|(x, w)| x.is_finite() && *w > 0.0);
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let s: f64 = pairs.iter().map(|p| p.1).sum();
        Dist {
            x: pairs.iter().map(|p| p.0).collect(),
            w: pairs.iter().map(|p| p.1 / s).collect(),
        }
    }

    /// The weighted mean.
    pub fn mean(&self) -> f64 {
        self.x.iter().zip(&self.w).map(|(x, w)| x * w).sum()
    }

    /// The smallest value whose cumulative weight reaches `q`.
    pub fn quantile(&self, q: f64) -> f64 {
        let mut c = 0.0;
        for (x, w) in self.x.iter().zip(&self.w) {
            c += w;
            if c >= q - 1e-12 {
                return *x;
            }
        }
        self.x.last().copied().unwrap_or(f64::NAN)
    }

    /// The continuous ranked probability score against `y`.
    pub fn crps(&self, y: f64) -> f64 {
        let a: f64 = self.x.iter().zip(&self.w).map(|(x, w)| w * (x - y).abs()).sum();
        // ΣΣ w_i w_j |x_i − x_j| = 2 Σ w_i x_i (2 W_i − w_i − 1) on sorted x.
        let mut cum = 0.0;
        let mut b = 0.0;
        for (x, w) in self.x.iter().zip(&self.w) {
            cum += w;
            b += w * x * (2.0 * cum - w - 1.0);
        }
        a - b
    }

    /// Whether the central interval of `level` (0.5, 0.9) holds `y`.
    pub fn covers(&self, y: f64, level: f64) -> bool {
        let t = (1.0 - level) / 2.0;
        self.quantile(t) <= y && y <= self.quantile(1.0 - t)
    }
}

/// The negative binomial's (mean `mu`, size `k`; ∞: Poisson) smallest
/// counts whose distribution function reaches each of `probs` (ascending).
pub fn nb_quantiles(mu: f64, k: f64, probs: &[f64]) -> Vec<f64> {
    let mu = mu.max(0.5);
    let var = if k.is_finite() { mu + mu * mu / k } else { mu };
    let sd = var.sqrt();
    let start = (mu - 12.0 * sd).floor().max(0.0);
    let log_p = super::filter::log_likelihood(start, mu, k);
    let ratio = if k.is_finite() { mu / (k + mu) } else { 1.0 };
    let mut p = log_p.exp();
    let mut cdf = 0.0;
    let mut y = start;
    let mut out = Vec::with_capacity(probs.len());
    let cap = mu + 60.0 * sd + 100.0;
    for &q in probs {
        while cdf + p < q && y < cap {
            cdf += p;
            // P(y + 1) / P(y) = (y + k)/(y + 1) · μ/(k + μ); μ/(y + 1) for Poisson.
            p *= if k.is_finite() {
                (y + k) / (y + 1.0) * ratio
            } else {
                mu / (y + 1.0)
            };
            y += 1.0;
        }
        out.push(y);
    }
    out
}

/// The predictive distribution of a count from members' simulated values
/// and weights (see the module's comment).
pub fn predictive(members: &[(f64, f64)], k: f64) -> Dist {
    let probs: Vec<f64> = (0..STRATA).map(|j| (j as f64 + 0.5) / STRATA as f64).collect();
    let mut pairs = Vec::with_capacity(members.len() * STRATA);
    for &(mu, w) in members {
        if w <= 0.0 {
            continue;
        }
        for x in nb_quantiles(mu, k, &probs) {
            pairs.push((x, w / STRATA as f64));
        }
    }
    Dist::new(pairs)
}

/// The persistence forecast of `target` at `origin`: the series' last
/// count before it, as a daily rate (a level for `present`).
pub fn persistence(observed: &Observed, target: &Obs, origin: u32) -> Option<f64> {
    let last = observed
        .obs
        .iter()
        .filter(|o| o.series == target.series && o.period.until < origin)
        .max_by_key(|o| (o.period.until, o.period.from))?;
    Some(scaled(observed, last, target))
}

fn scaled(observed: &Observed, from: &Obs, to: &Obs) -> f64 {
    if observed.series[to.series].metric == Col::Present {
        from.value
    } else {
        from.value * to.period.days() as f64 / from.period.days() as f64
    }
}

/// The seasonal naive forecast of `target` at `origin`: the count of the
/// same period a year before, if counted before the origin.
pub fn seasonal(observed: &Observed, target: &Obs, origin: u32, cal: Calendar) -> Option<f64> {
    let back = |day: u32| -> Option<i64> {
        let d = cal.date_of(day);
        let prev = match target.period.span {
            Span::Week => d.checked_sub_days(chrono::Days::new(364))?,
            _ => d
                .with_year(d.year() - 1)
                .or_else(|| d.pred_opt()?.with_year(d.year() - 1))?,
        };
        Some(cal.day_of(prev))
    };
    let (from, until) = (back(target.period.from)?, back(target.period.until)?);
    let o = observed.obs.iter().find(|o| {
        o.series == target.series
            && o.period.from as i64 == from
            && o.period.until as i64 == until
            && o.period.until < origin
    })?;
    Some(scaled(observed, o, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crps_of_a_point_is_the_absolute_error_and_of_two_points_the_formula() {
        let d = Dist::new(vec![(3.0, 1.0)]);
        assert!((d.crps(5.0) - 2.0).abs() < 1e-12);
        // Two equally likely values 0 and 2, y = 1: E|X − y| = 1, ½E|X − X'| = ½.
        let d = Dist::new(vec![(0.0, 1.0), (2.0, 1.0)]);
        assert!((d.crps(1.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn crps_of_the_sorted_formula_equals_the_double_sum() {
        let d = Dist::new(vec![(1.0, 0.1), (4.0, 0.3), (2.5, 0.2), (9.0, 0.4)]);
        let y = 3.7;
        let a: f64 = d.x.iter().zip(&d.w).map(|(x, w)| w * (x - y).abs()).sum();
        let mut b = 0.0;
        for (xi, wi) in d.x.iter().zip(&d.w) {
            for (xj, wj) in d.x.iter().zip(&d.w) {
                b += wi * wj * (xi - xj).abs();
            }
        }
        assert!((d.crps(y) - (a - 0.5 * b)).abs() < 1e-12);
    }

    #[test]
    fn negative_binomial_quantiles_match_its_mean_and_spread() {
        let probs: Vec<f64> = (0..200).map(|j| (j as f64 + 0.5) / 200.0).collect();
        let q = nb_quantiles(1000.0, 10.0, &probs);
        let mean = q.iter().sum::<f64>() / q.len() as f64;
        let sd = (q.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / q.len() as f64).sqrt();
        // mean 1000, sd √(1000 + 1000²/10) ≈ 317
        assert!((mean - 1000.0).abs() < 15.0, "mean {mean}");
        assert!((sd - 317.8).abs() < 20.0, "sd {sd}");
        let pois = nb_quantiles(4.0, f64::INFINITY, &[0.5]);
        assert_eq!(pois, vec![4.0]);
    }

    #[test]
    fn quantiles_and_coverage_of_a_weighted_sample() {
        let d = Dist::new((1..=100).map(|x| (x as f64, 1.0)).collect());
        assert_eq!(d.quantile(0.5), 50.0);
        assert_eq!(d.quantile(0.05), 5.0);
        assert!(d.covers(50.0, 0.9) && !d.covers(99.0, 0.9) && d.covers(95.0, 0.9));
    }
}
