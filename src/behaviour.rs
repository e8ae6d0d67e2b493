//! How agents choose: the multinomial logit over known, affordable claim
//! points, and the knowledge of claim points.
//!
//! Owns the decision rule of the default model (`[behaviour] model =
//! "default"`). Reads the policy tables and the agent; must not move agents
//! or touch shared counts.

use crate::agents::{Agent, F_INFORMED};
use crate::policy::PolicyBook;
use crate::rng::{Key, Stream};
use crate::scenario::{Behaviour, Dest, Scenario, NONE};

/// Per-scenario constants the decision needs, precomputed once.
#[derive(Clone, Debug)]
pub struct Chooser {
    /// `[cohort * targets + t]`: known from the start.
    knows: Vec<bool>,
    /// `[cohort * 3 + dest]`: ln of the destination weight (−∞: not a destination).
    ln_pref: Vec<f64>,
    /// Destination country of each target slot.
    pub target_dest: Vec<Dest>,
    n_targets: usize,
    w_open: f64,
    w_dist: f64,
    w_cost: f64,
    w_risk: f64,
    decide: Key,
    learn: Key,
}

impl Chooser {
    /// Precomputes the decision constants.
    pub fn new(sc: &Scenario, book: &PolicyBook, seed: u64) -> Chooser {
        let n_targets = book.targets.len();
        let mut knows = Vec::with_capacity(sc.cohorts.len() * n_targets);
        let mut ln_pref = Vec::with_capacity(sc.cohorts.len() * 3);
        for c in &sc.cohorts {
            for &t in &book.targets {
                knows.push(c.knows.as_ref().map(|k| k.contains(&t)).unwrap_or(true));
            }
            for d in Dest::ALL {
                let w = c.destinations[d as usize];
                ln_pref.push(if w > 0.0 { w.ln() } else { f64::NEG_INFINITY });
            }
        }
        // Claim points are only in MX, US or CA (checked at load).
        let target_dest = book
            .targets
            .iter()
            .map(|&t| Dest::of(sc.places[t as usize].country).unwrap_or(Dest::MX))
            .collect();
        let b: &Behaviour = &sc.behaviour;
        Chooser {
            knows,
            ln_pref,
            target_dest,
            n_targets,
            w_open: b.w_open,
            w_dist: b.w_dist,
            w_cost: b.w_cost,
            w_risk: b.w_risk,
            decide: Key::new(seed, Stream::Decide),
            learn: Key::new(seed, Stream::Learn),
        }
    }

    /// Whether the agent knows target slot `t`: from the start, or learned
    /// from other people's use. Learning is a hazard process: the agent
    /// knows `t` once the cumulative hazard of learning it exceeds its own
    /// exponential threshold, which gives the same law as a daily learning
    /// draw without storing anything per agent.
    #[inline]
    pub fn knows(&self, a: &Agent, t: usize, hazard: &[f64]) -> bool {
        if self.knows[a.cohort as usize * self.n_targets + t] {
            return true;
        }
        let h = hazard[t];
        if h <= 0.0 {
            return false;
        }
        let u = self.learn.uniform(a.id, t as u32);
        -(1.0 - u).ln() < h
    }

    /// The utility of target slot `t` for an agent at its place, or `None`
    /// if `t` is not a candidate (unknown, perceived closed, unreachable,
    /// unaffordable, or not in a destination country).
    #[inline]
    pub fn utility(
        &self,
        a: &Agent,
        t: usize,
        perceived_open: f32,
        book: &PolicyBook,
        epoch: u16,
        hazard: &[f64],
    ) -> Option<f64> {
        let ln_pref = self.ln_pref[a.cohort as usize * 3 + self.target_dest[t] as usize];
        if ln_pref == f64::NEG_INFINITY || perceived_open <= 0.0 {
            return None;
        }
        let path = book
            .routing(epoch, a.class, a.flags & F_INFORMED != 0)
            .path(t, a.place)?;
        if path.cost_usd > a.budget {
            return None;
        }
        if !self.knows(a, t, hazard) {
            return None;
        }
        Some(
            self.w_open * (perceived_open as f64).ln()
                - self.w_dist * path.km as f64 / 1000.0
                - self.w_cost * path.cost_usd as f64 / 1000.0
                - self.w_risk * path.risk as f64
                + ln_pref,
        )
    }

    /// Chooses a target by the logit over candidates (Gumbel-max: the
    /// argmax of utility plus a standard Gumbel draw has exactly the logit
    /// shares). Returns the target's place, or `NONE` with no candidate.
    ///
    /// `perceived` is the epoch whose openness the agent believes in (news
    /// delay); routes are those of `epoch`, the day's true one.
    pub fn choose(&self, a: &Agent, day: u32, book: &PolicyBook, epoch: u16, perceived: u16, hazard: &[f64]) -> u32 {
        let mut draws = self.decide.draws(a.id, day);
        let mut best = (f64::NEG_INFINITY, NONE);
        for t in 0..self.n_targets {
            let open = book.openness(perceived, a.class, a.flags & F_INFORMED != 0, t);
            if let Some(u) = self.utility(a, t, open, book, epoch, hazard) {
                let g = -(-(draws.uniform().max(f64::MIN_POSITIVE)).ln()).ln();
                if u + g > best.0 {
                    best = (u + g, book.targets[t]);
                }
            }
        }
        best.1
    }
}
