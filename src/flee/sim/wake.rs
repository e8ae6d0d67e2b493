//! When resting agents next leave: one geometric draw per stay instead of
//! a move-chance draw per agent and day.
//!
//! Flee draws every agent's move chance every day, and most agents, in
//! camps with a chance of 0.001, stay on most days. For an agent at a
//! place whose chance `p` does not change, the days until its first "go"
//! are geometric: P(first go after k quiet days) = (1 − p)^k · p. So an
//! agent that ends its day resting draws that day once (the next of its
//! draws of the day), and the day's passes skip it until then; its place's
//! count stands meanwhile. Where a place's chance changes (a conflict
//! starts or ends, a camp opens), every agent resting there draws again
//! from that day, under its own key (`rng::Stream::Wake`): by the
//! memorylessness of the geometric, what it did before does not matter. The distribution of
//! every agent's days is Flee's; the draws are not the per-day draws
//! (docs/flee.md).
//!
//! Places where a resting agent does more than stay (`avoid_short_stints`
//! keeps its recent travel, sink camps draw deactivation) keep the daily
//! draw: their agents are [`ACTIVE`].
//!
//! Owns the wake column's meaning, the draw and the redraw pass. Must not
//! decide what an agent does once awake (`step` does).

use super::agents::Agents;
use super::step::Place;
use super::{CHUNK, GONE, TRAVELLING};
use crate::rng::Key;
use rayon::prelude::*;

/// Visited every day (travelling, new, or at a place that keeps the daily
/// draw): its day starts with the move-chance draw.
pub(super) const ACTIVE: u32 = 0;
/// Never leaves (deactivated, or at a place it cannot leave).
pub(super) const NEVER: u32 = u32::MAX;

/// What a wake draw needs of a place's daily move chance `p` = `go` /
/// 2⁵³ (the per-day draw's bound, `Place::go`), computed once a day per
/// place: 1 / ln(1 − p), 0 where every draw goes (p = 1), NaN where none
/// does (p = 0).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Chance(f64);

impl Chance {
    pub(super) fn of(go: u64) -> Chance {
        const ONE: u64 = 1 << 53;
        Chance(match go {
            0 => f64::NAN,
            g if g >= ONE => 0.0,
            _ => 1.0 / (-(go as f64 / ONE as f64)).ln_1p(),
        })
    }

    /// Every daily draw goes.
    pub(super) fn certain(&self) -> bool {
        self.0 == 0.0
    }

    /// The first day from `from` on whose move-chance draw says go, from
    /// the 64-bit `word`: `from + G` with G geometric, P(G ≥ k) = (1 −
    /// p)^k. [`NEVER`] if it never goes (or not before `u32::MAX`).
    #[inline(always)]
    pub(super) fn day(&self, from: u32, word: u64) -> u32 {
        const ONE: f64 = (1u64 << 53) as f64;
        // u uniform in (0, 1] and G = ⌊ln u / ln(1 − p)⌋: G ≥ k exactly
        // when u ≤ (1 − p)^k, so P(G ≥ k) = (1 − p)^k. (Counting the days
        // one by one for large chances was slower, and a table of the
        // first 16 days no faster: BENCHMARKS.md, 2026-12-01.)
        let u = ((word >> 11) + 1) as f64 / ONE;
        // ln u ≤ 0 and 1 / ln(1 − p) ≤ 0 give g ≥ 0 (the cast below
        // truncates, which is the floor here); p = 0 gives NaN: never.
        let g = u.ln() * self.0;
        if g.is_nan() || g >= (NEVER - from) as f64 {
            NEVER
        } else {
            from + g as u32
        }
    }
}

/// The wake day of an agent resting at a place of `place` from day `from`
/// on, drawn from `word` (one of the agent's draws, taken only if needed).
#[inline(always)]
pub(super) fn wake_day(from: u32, place: &Place, word: impl FnOnce() -> u64) -> u32 {
    if !place.quiet {
        return ACTIVE;
    }
    // From day 1 on: a wake day of 0 would read as ACTIVE.
    debug_assert!(from > 0, "agents rest from day 1 on");
    // Every draw goes (conflict zones): no draw to make.
    if place.wake.certain() {
        return from;
    }
    place.wake.day(from, word())
}

/// Whether what a resting agent draws at a place changed from `was` to
/// `now`.
pub(super) fn changed(was: &Place, now: &Place) -> bool {
    was.go != now.go || was.quiet != now.quiet
}

/// Every agent resting at a place in `moved` (true where its chance
/// changed today) draws its wake day again from `t`.
pub(super) fn redraw(agents: &mut Agents, moved: &[bool], place: &[Place], key: Key, t: u32) {
    let a = agents;
    (a.wake.par_chunks_mut(CHUNK))
        .zip(a.loc.par_chunks(CHUNK))
        .zip(a.flags.par_chunks(CHUNK))
        .enumerate()
        .for_each(|(k, ((wake, loc), flags))| {
            for (j, ((w, &l), &f)) in wake.iter_mut().zip(loc).zip(flags).enumerate() {
                if f & (GONE | TRAVELLING) != 0 || *w == ACTIVE {
                    continue;
                }
                let l = l as usize;
                if moved[l] {
                    *w = wake_day(t, &place[l], || key.light((k * CHUNK + j) as u32, t).next_word());
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::{Chance, NEVER};
    use crate::rng::{Key, Stream};

    /// The share of agents whose first go is on each of the first days
    /// is (1 − p)^k · p, within sampling error, for chances from camps'
    /// 0.001 to conflict zones' 1.
    #[test]
    fn a_wake_day_falls_as_daily_draws_would_first_say_go() {
        let key = Key::new(9, Stream::Wake);
        let one = (1u64 << 53) as f64;
        for p in [0.001, 0.1, 0.3, 0.5, 0.9] {
            let go = (p * one).ceil() as u64;
            let n = 400_000u32;
            let mut hist = [0u32; 8];
            let mut sum = 0.0;
            for a in 0..n {
                let d = Chance::of(go).day(5, key.word(a, 5)) - 5;
                sum += d as f64;
                if (d as usize) < hist.len() {
                    hist[d as usize] += 1;
                }
            }
            for (k, &h) in hist.iter().enumerate() {
                let want = (1.0 - p).powi(k as i32) * p;
                let sd = (want * (1.0 - want) / n as f64).sqrt();
                let got = h as f64 / n as f64;
                assert!(
                    (got - want).abs() < 5.0 * sd + 1e-9,
                    "p {p}, day {k}: {got} against {want}"
                );
            }
            let mean = (1.0 - p) / p;
            let sd = ((1.0 - p) / (p * p) / n as f64).sqrt();
            assert!(
                (sum / n as f64 - mean).abs() < 5.0 * sd,
                "p {p}: mean {}",
                sum / n as f64
            );
        }
    }

    #[test]
    fn a_certain_chance_goes_at_once_and_a_zero_chance_never() {
        for w in [0, 1, u64::MAX / 3, u64::MAX] {
            assert_eq!(Chance::of(1 << 53).day(7, w), 7);
            assert_eq!(Chance::of(2 << 53).day(7, w), 7);
            assert_eq!(Chance::of(0).day(7, w), NEVER);
        }
        // The smallest chance a draw can express, and the word that waits
        // longest: far past any run, but not wrapped round.
        assert!(Chance::of(1).day(7, 0) > 1_000_000);
        assert_eq!(Chance::of(1).day(7, u64::MAX), 7);
        assert_eq!(Chance::of(1).day(u32::MAX - 3, 0), NEVER);
    }
}
