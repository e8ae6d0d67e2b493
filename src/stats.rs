//! Summary statistics of replicate values, the one copy every module uses:
//! mean, sample standard deviation, interpolated percentiles, Student's t
//! quantile and the paired difference of two ensembles.
//!
//! Owns only arithmetic on slices of numbers. Must not know what the
//! numbers are (places, targets, camps): callers name them.

/// Mean, standard deviation and the 2.5th–97.5th percentiles of replicate
/// values: the spread of the figure from run to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 with one replicate).
    pub sd: f64,
    /// 2.5th percentile.
    pub lo: f64,
    /// 97.5th percentile.
    pub hi: f64,
}

/// The mean of a sample (0 for none), summed in the order given so that a
/// caller that sorted first gets the same bits as before.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The sample standard deviation about `mean` (0 with fewer than two values).
pub fn sd(values: &[f64], mean: f64) -> f64 {
    if values.len() > 1 {
        (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0)).sqrt()
    } else {
        0.0
    }
}

/// The `q` quantile of sorted values, linear between order statistics
/// (R's type 7, numpy's default); NaN for no values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let x = q * (sorted.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x - x.floor());
    sorted[i] * (1.0 - f) + sorted[(i + 1).min(sorted.len() - 1)] * f
}

/// The statistics of a sample (all 0 for none).
pub fn stats(values: &[f64]) -> Stats {
    let mean = mean(values);
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pct = |q: f64| if v.is_empty() { 0.0 } else { percentile(&v, q) };
    Stats {
        mean,
        sd: sd(values, mean),
        lo: pct(0.025),
        hi: pct(0.975),
    }
}

/// Smallest and largest value (±∞ for none).
pub fn range(values: &[f64]) -> (f64, f64) {
    (
        values.iter().copied().fold(f64::INFINITY, f64::min),
        values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// Student's t quantile for a two-sided 95 % interval with `df` degrees of
/// freedom: the published three-decimal table up to 30 (the values every
/// interval written so far used), then the Cornish–Fisher expansion of the
/// t quantile about the normal one (Abramowitz & Stegun 26.7.5), within
/// 1e-4 of the exact value from 30 degrees of freedom on. (The normal 1.96
/// from 61 on, used before, made paired intervals too narrow up to about
/// 120 replicates.)
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        d if d <= 30 => T[d - 1],
        d => {
            let (z, n) = (1.959_963_984_540_054_f64, d as f64);
            let g1 = (z.powi(3) + z) / 4.0;
            let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
            let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
            let g4 =
                (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5) - 1920.0 * z.powi(3) - 945.0 * z) / 92160.0;
            z + g1 / n + g2 / n.powi(2) + g3 / n.powi(3) + g4 / n.powi(4)
        }
    }
}

/// Half the width of the 95 % confidence interval of a mean of `n` values
/// with standard deviation `sd` (0 for fewer than two).
pub fn half_width(sd: f64, n: usize) -> f64 {
    if n > 1 {
        t975(n - 1) * sd / (n as f64).sqrt()
    } else {
        0.0
    }
}

/// A paired comparison of one figure: replicate k of the variant against
/// replicate k of the base.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paired {
    /// The base's mean.
    pub base: f64,
    /// The variant's mean.
    pub variant: f64,
    /// Mean paired difference (variant − base).
    pub diff: f64,
    /// Lower end of its 95 % confidence interval (Student's t, paired).
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

/// The paired difference of `variant` and `base` (the first
/// min(len) replicates of each): mean ± t₀.₉₇₅,ₙ₋₁ · s_d / √n.
pub fn paired(base: &[f64], variant: &[f64]) -> Paired {
    let n = base.len().min(variant.len());
    let (b, v) = (&base[..n], &variant[..n]);
    let d: Vec<f64> = v.iter().zip(b).map(|(x, y)| x - y).collect();
    let sd = stats(&d);
    let half = half_width(sd.sd, n);
    Paired {
        base: stats(b).mean,
        variant: stats(v).mean,
        diff: sd.mean,
        lo: sd.mean - half,
        hi: sd.mean + half,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantile_matches_published_values_at_every_size() {
        // Student's t 0.975 quantiles as tables print them (R: qt(0.975, df)).
        for (df, printed) in [(1, 12.706), (10, 2.228), (60, 2.000), (100, 1.984), (1000, 1.962)] {
            assert!((t975(df) - printed).abs() < 5e-4, "df {df}: {} vs {printed}", t975(df));
        }
        // Exact values beyond the table, to four decimals.
        for (df, exact) in [
            (31, 2.039513),
            (40, 2.021075),
            (60, 2.000298),
            (61, 1.999624),
            (100, 1.983972),
            (120, 1.979930),
            (1000, 1.962339),
        ] {
            assert!((t975(df) - exact).abs() < 1e-4, "df {df}: {} vs {exact}", t975(df));
        }
        assert_eq!(t975(30), 2.042);
        assert!(t975(0).is_infinite());
        // Never the normal quantile while the sample is small.
        assert!((61..=120).all(|d| t975(d) > 1.979));
    }

    #[test]
    fn summary_of_a_sample_interpolates_its_percentiles() {
        let s = stats(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((s.lo - 1.075).abs() < 1e-12 && (s.hi - 3.925).abs() < 1e-12);
        assert_eq!(stats(&[7.0]).sd, 0.0);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn paired_interval_is_narrow_when_differences_agree() {
        let p = paired(&[10.0, 20.0, 30.0], &[12.0, 22.0, 32.0]);
        assert_eq!((p.diff, p.lo, p.hi), (2.0, 2.0, 2.0));
        assert_eq!((p.base, p.variant), (20.0, 22.0));
    }
}
