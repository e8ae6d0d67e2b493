//! The particle filter: members run to the end of each counted period,
//! weighted by the likelihood of the counts, resampled when their weights
//! have collapsed, and run on to the forecast's end.
//!
//! Owns members (an input draw and a seed, with the state they carry),
//! the likelihood, the effective-sample-size rule and the resampling. Runs
//! the engine through its public API (a member's state is an
//! `engine::EngineState`); must not change how it simulates.
//!
//! - Likelihood: a count y of a period whose simulated value is μ is
//!   negative binomial with mean μ and size k (`dispersion`), variance
//!   μ + μ²/k; μ is at least 0.5, so that no count is impossible; k = ∞ is
//!   Poisson. Counts ending on the same day are independent given the member.
//! - Resampling: after each day on which counted periods end, when the
//!   effective sample size 1/Σw² falls below `resample_below` × members,
//!   systematic resampling (Kitagawa 1996; one uniform draw per resampling)
//!   gives each member a number of copies; all copies continue from the
//!   parent's state, the first with the parent's seed, the others with
//!   fresh seeds (so duplicates share the past and differ in the future),
//!   and weights are reset to equal.

use super::observed::{Observed, Series};
use crate::engine::{Engine, EngineError, EngineState};
use crate::rng::{replicate_seed, Key, Stream};
use crate::scenario::Scenario;
use rayon::prelude::*;

/// How the filter weighs and resamples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Members of the ensemble.
    pub members: usize,
    /// Size k of the negative binomial (∞: Poisson).
    pub dispersion: f64,
    /// Resample when the effective sample size falls below this share of
    /// the members (0: never).
    pub resample_below: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            members: 100,
            dispersion: DISPERSION,
            resample_below: 0.5,
        }
    }
}

/// The default size of the negative binomial: a coefficient of variation
/// of about 1/√10 ≈ 0.32 for large counts, the model's relative error on
/// the months it was calibrated on (0.27 on the Roxham Road era,
/// docs/validation.md) and a little more for the counts' own noise.
pub const DISPERSION: f64 = 10.0;

/// One member of the ensemble as it goes.
#[derive(Clone, Debug)]
pub struct Member {
    /// Its input draw (0 without uncertain inputs).
    pub draw: usize,
    /// The seed of its days' draws now.
    pub seed: u64,
    /// The member of the starting ensemble it descends from.
    pub ancestor: usize,
    /// Its state at `state.day` (taken while it is stepped; dropped at the end).
    pub state: Option<EngineState>,
    /// Day of `series[0]`.
    pub first_day: u32,
    /// `[day − first_day][series]`: the series' daily values so far.
    pub series: Vec<Vec<f64>>,
    /// Log of its weight (not normalised).
    pub log_w: f64,
    /// Log-likelihood of all the counts assimilated, along its lineage.
    pub log_lik: f64,
}

impl Member {
    /// The simulated value of `s` (index `k`) over days `from..=until`.
    pub fn value(&self, s: &Series, k: usize, from: u32, until: u32) -> f64 {
        let a = from.saturating_sub(self.first_day) as usize;
        let b = ((until + 1).saturating_sub(self.first_day) as usize).min(self.series.len());
        s.over(self.series[a.min(b)..b].iter().map(|d| d[k]), until - from + 1)
    }
}

/// One day on which counts were assimilated.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// The last day of the periods counted.
    pub day: u32,
    /// Counts assimilated.
    pub counts: usize,
    /// Effective sample size after weighing.
    pub ess: f64,
    /// Whether the members were resampled.
    pub resampled: bool,
}

/// The log-probability of a count `y` under a negative binomial of mean
/// `mu` (at least 0.5) and size `k` (∞: Poisson).
pub fn log_likelihood(y: f64, mu: f64, k: f64) -> f64 {
    let mu = mu.max(0.5);
    if !k.is_finite() {
        return y * mu.ln() - mu - libm::lgamma(y + 1.0);
    }
    libm::lgamma(y + k) - libm::lgamma(k) - libm::lgamma(y + 1.0) + k * (k / (k + mu)).ln() + y * (mu / (k + mu)).ln()
}

/// Normalised weights from log-weights.
pub fn weights(members: &[Member]) -> Vec<f64> {
    let max = members.iter().map(|m| m.log_w).fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = members.iter().map(|m| (m.log_w - max).exp()).collect();
    let s: f64 = w.iter().sum();
    if !s.is_finite() || s <= 0.0 {
        return vec![1.0 / members.len().max(1) as f64; members.len()];
    }
    w.into_iter().map(|x| x / s).collect()
}

/// The effective sample size of normalised weights, 1/Σw².
pub fn ess(w: &[f64]) -> f64 {
    1.0 / w.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE)
}

/// Steps every member to the start of day `stop`, keeping the series'
/// daily values. Members run side by side on the current pool.
pub fn advance(draws: &[Scenario], members: &mut [Member], series: &[Series], stop: u32) -> Result<(), EngineError> {
    members.par_iter_mut().try_for_each(|m| {
        let Some(st) = m.state.take() else { return Ok(()) };
        if st.day >= stop {
            m.state = Some(st);
            return Ok(());
        }
        let mut e = Engine::from_state(&draws[m.draw], st, false);
        while e.day() < stop && !e.done() {
            e.step()?;
            let cols = e.places();
            m.series.push(series.iter().map(|s| s.value(cols)).collect());
        }
        m.state = Some(e.take_state());
        Ok(())
    })
}

/// The starting ensemble: `n` members, member m of draw m mod D (D =
/// `spun.len()`) continuing from that draw's state with seed
/// `replicate_seed(seed, m)` — so member 0 of draw 0 is the scenario's own
/// run.
pub fn start(spun: &[EngineState], n: usize, seed: u64) -> Vec<Member> {
    (0..n)
        .map(|m| {
            let draw = m % spun.len().max(1);
            let mut st = spun[draw].clone();
            let s = replicate_seed(seed, m as u64);
            st.dynamics = s;
            Member {
                draw,
                seed: s,
                ancestor: m,
                first_day: st.day,
                state: Some(st),
                series: Vec::new(),
                log_w: 0.0,
                log_lik: 0.0,
            }
        })
        .collect()
}

/// Runs the filter over the counts `used` (indices of `observed.obs`,
/// all ending before `origin`), from the members' day to the start of
/// `origin`. Returns the stages.
pub fn assimilate(
    draws: &[Scenario],
    members: &mut Vec<Member>,
    observed: &Observed,
    used: &[usize],
    origin: u32,
    settings: &Settings,
    seed: u64,
) -> Result<Vec<Stage>, EngineError> {
    let mut days: Vec<u32> = used.iter().map(|&i| observed.obs[i].period.until).collect();
    days.sort_unstable();
    days.dedup();
    let mut stages = Vec::new();
    for (k, &day) in days.iter().enumerate() {
        advance(draws, members, &observed.series, day + 1)?;
        let counts: Vec<usize> = used
            .iter()
            .copied()
            .filter(|&i| observed.obs[i].period.until == day)
            .collect();
        for m in members.iter_mut() {
            let ll: f64 = counts
                .iter()
                .map(|&i| {
                    let o = &observed.obs[i];
                    let s = &observed.series[o.series];
                    log_likelihood(
                        o.value,
                        m.value(s, o.series, o.period.from, o.period.until),
                        settings.dispersion,
                    )
                })
                .sum();
            m.log_w += ll;
            m.log_lik += ll;
        }
        let w = weights(members);
        let e = ess(&w);
        let resampled = e < settings.resample_below * members.len() as f64;
        if resampled {
            let u = Key::new(seed, Stream::Filter).uniform(k as u32, day);
            resample(members, &w, u, day);
        }
        stages.push(Stage {
            day,
            counts: counts.len(),
            ess: e,
            resampled,
        });
    }
    advance(draws, members, &observed.series, origin)?;
    Ok(stages)
}

/// How many copies of each member systematic resampling makes with the
/// uniform `u` (n positions (u + i)/n on the cumulative weights).
pub fn systematic(w: &[f64], u: f64) -> Vec<usize> {
    let n = w.len();
    let mut copies = vec![0usize; n];
    let mut cum = 0.0;
    let mut j = 0usize;
    for (i, &wi) in w.iter().enumerate() {
        cum += wi;
        // The last member takes whatever rounding leaves.
        let upto = if i + 1 == n {
            n
        } else {
            ((cum * n as f64 - u).ceil().max(0.0) as usize).min(n)
        };
        if upto > j {
            copies[i] = upto - j;
            j = upto;
        }
    }
    copies
}

/// Replaces the members by their copies (see the module's comment).
fn resample(members: &mut Vec<Member>, w: &[f64], u: f64, day: u32) {
    let copies = systematic(w, u);
    let old = std::mem::take(members);
    for (m, c) in old.into_iter().zip(copies) {
        if c == 0 {
            continue;
        }
        let children: Vec<Member> = (1..c)
            .map(|k| {
                let mut child = m.clone();
                child.seed = replicate_seed(m.seed ^ ((day as u64 + 1) << 32), k as u64);
                if let Some(st) = child.state.as_mut() {
                    st.dynamics = child.seed;
                }
                child.log_w = 0.0;
                child
            })
            .collect();
        // The parent's own continuation first, then its copies.
        let mut first = m;
        first.log_w = 0.0;
        members.push(first);
        members.extend(children);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systematic_resampling_keeps_the_number_of_members_and_follows_the_weights() {
        let w = [0.5, 0.25, 0.125, 0.125];
        let c = systematic(&w, 0.3);
        assert_eq!(c.iter().sum::<usize>(), 4);
        assert_eq!(c, vec![2, 1, 1, 0]);
        let all = systematic(&[0.0, 1.0, 0.0], 0.9);
        assert_eq!(all, vec![0, 3, 0]);
    }

    #[test]
    fn the_likelihood_is_the_negative_binomial_and_poisson_in_the_limit() {
        // NB(mean 10, size 5): P(Y = 10) = C(14,10) (5/15)^5 (10/15)^10
        let p = (1001.0f64).ln() + 5.0 * (1.0f64 / 3.0).ln() + 10.0 * (2.0f64 / 3.0).ln();
        assert!((log_likelihood(10.0, 10.0, 5.0) - p).abs() < 1e-9);
        let poisson = 10.0 * 10f64.ln() - 10.0 - libm::lgamma(11.0);
        assert!((log_likelihood(10.0, 10.0, f64::INFINITY) - poisson).abs() < 1e-12);
        assert!((log_likelihood(10.0, 10.0, 1e9) - poisson).abs() < 1e-6);
        // A member that simulates nobody can still see a count.
        assert!(log_likelihood(3.0, 0.0, 10.0).is_finite());
    }

    #[test]
    fn effective_sample_size_runs_from_one_to_the_members() {
        assert!((ess(&[0.25; 4]) - 4.0).abs() < 1e-12);
        assert!((ess(&[1.0, 0.0, 0.0]) - 1.0).abs() < 1e-12);
    }
}
