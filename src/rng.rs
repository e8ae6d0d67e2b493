//! Counter-based randomness: every draw is a pure function of
//! (seed, stream, agent, day, n).
//!
//! Owns the generator and the list of streams. Must not hold any state that
//! outlives one agent's work on one day: that is what makes results
//! independent of thread count, chunking and (later) process count.
//!
//! The generator is a keyed 64-bit mixer in the spirit of Random123's
//! counter-based generators: a key derived from (seed, stream) and a counter
//! (agent, day, n) go through two rounds of a strong avalanche function
//! (the `murmur3`/SplitMix64 finaliser); [`Light`], the flee model's, one
//! round a word after the first. Both pass the checks we run on them
//! (uniformity and independence of neighbouring agents, see the tests) and
//! costs a few nanoseconds a draw, with no state to seed per agent.

use rand::rand_core::TryRng;
use std::convert::Infallible;

/// One independent purpose of randomness. Separate streams keep, for
/// example, the departure draws of an agent unchanged when a policy changes
/// what it decides, which is what common random numbers need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Group sizes and traits, drawn once when the population is built.
    Build = 1,
    /// Daily departure chance (`daily_depart_share`).
    Depart = 2,
    /// Choice among targets (the logit draw).
    Decide = 3,
    /// Queue order for capacities and daily processing numbers.
    Queue = 4,
    /// Whether a claim is let in (openness).
    Claim = 5,
    /// Checkpoints, enforcement and other events at places.
    Event = 6,
    /// Learning of claim points from other people's use (keyed by claim point).
    Learn = 7,
    /// Harm on a route (with `harm_outcome = true`).
    Harm = 8,
    /// Learning the rules at a border's near side (`learn_at_door`).
    Word = 9,
    /// The values of uncertain inputs drawn for replicates (keyed by input
    /// and replicate, not by agent).
    Inputs = 10,
    /// Whether a group takes an offer (keyed by agent and offer: a group
    /// that declined an offer declines it again).
    Offer = 11,
    /// Resampling a forecast's members (one draw per resampling).
    Filter = 12,
    /// The day a resting agent of the flee model next leaves (one
    /// geometric draw standing for its daily move-chance draws).
    Wake = 13,
}

/// The uniform in [0, 1) of a word's top 53 bits.
#[inline(always)]
fn unit(word: u64) -> f64 {
    (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[inline(always)]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// The key of one (seed, stream) pair; cheap to copy into hot loops.
#[derive(Clone, Copy, Debug)]
pub struct Key(u64);

impl Key {
    /// Derives the key of `stream` under `seed`.
    pub fn new(seed: u64, stream: Stream) -> Key {
        Key(fmix64(
            seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ fmix64(stream as u64 ^ 0x5851_f42d_4c95_7f2d),
        ))
    }

    /// The generator of `agent` on `day` under this key.
    #[inline(always)]
    pub fn draws(self, agent: u32, day: u32) -> Draws {
        Draws {
            base: self.0 ^ fmix64(((agent as u64) << 32 | day as u64) ^ 0x2545_f491_4f6c_dd1d),
            n: 0,
        }
    }

    /// A single uniform number in [0, 1) for (agent, day), the first draw
    /// of [`Key::draws`].
    #[inline(always)]
    pub fn uniform(self, agent: u32, day: u32) -> f64 {
        self.draws(agent, day).uniform()
    }

    /// A single 64-bit word for (agent, day): used as a queue key.
    #[inline(always)]
    pub fn word(self, agent: u32, day: u32) -> u64 {
        self.draws(agent, day).next_word()
    }

    /// The [`Light`] draws of `agent` on `day` under this key.
    #[inline(always)]
    pub fn light(self, agent: u32, day: u32) -> Light {
        Light {
            base: self.draws(agent, day).base,
            n: 0,
        }
    }

    /// [`Key::light`] with its first `taken` draws already taken: the
    /// same draws after them, without computing the ones skipped.
    #[inline(always)]
    pub fn light_after(self, agent: u32, day: u32, taken: u64) -> Light {
        let mut r = self.light(agent, day);
        r.n = taken;
        r
    }
}

/// The draws of one agent on one day under one stream.
#[derive(Clone, Debug)]
pub struct Draws {
    base: u64,
    n: u64,
}

impl Draws {
    /// The next 64 random bits.
    #[inline(always)]
    pub fn next_word(&mut self) -> u64 {
        let x = fmix64(self.base.wrapping_add(self.n.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        self.n += 1;
        fmix64(x ^ self.base.rotate_left(29))
    }

    /// A uniform number in [0, 1) with 53 random bits.
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        unit(self.next_word())
    }
}

/// The draws of one agent on one day as SplitMix64 words: the same
/// (seed, stream, agent, day) base as [`Draws`], then one round of the
/// mixer over a Weyl sequence a word (Steele, Lea and Flood 2014) where
/// [`Draws`] has two. The flee model's per-agent paths draw several words
/// an agent and day (with its other changes of 2026-12-01, dropping the
/// second round took 8 % off a Burundi run: BENCHMARKS.md). Its words are
/// not [`Draws`]'s but not independent of them either (each word of
/// [`Draws`] is a mix of one of these): never draw both on one key.
#[derive(Clone, Debug)]
pub struct Light {
    base: u64,
    n: u64,
}

impl Light {
    /// The next 64 random bits.
    #[inline(always)]
    pub fn next_word(&mut self) -> u64 {
        self.n += 1;
        fmix64(self.base.wrapping_add(self.n.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }

    /// A uniform number in [0, 1) with 53 random bits.
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        unit(self.next_word())
    }
}

impl TryRng for Draws {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_word() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_word())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let w = self.next_word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

/// The seed of replicate `k` of a run with `seed`: replicate 0 is the run
/// itself; the others are derived so that replicate k of every variant uses
/// the same seed (common random numbers).
pub fn replicate_seed(seed: u64, k: u64) -> u64 {
    if k == 0 {
        seed
    } else {
        fmix64(seed ^ fmix64(k.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn light_draws_after_skipped_ones_are_the_draws_that_follow_them() {
        let k = Key::new(9, Stream::Depart);
        for a in (0..37).map(|i| i * 7_919 + 3) {
            let mut l = k.light(a, 5);
            for _ in 0..2 {
                l.next_word();
            }
            let mut m = k.light_after(a, 5, 2);
            for _ in 0..2 {
                assert_eq!(l.next_word(), m.next_word());
            }
        }
    }

    /// Asserts that the first of each pair is uniform (chi-square over ten
    /// bins below the 0.999 quantile with 9 degrees of freedom, 27.9) and
    /// uncorrelated with the second (the sd of the covariance estimate is
    /// about 1/12/√n, 1.9e-4 for 200,000 pairs).
    fn uniform_and_uncorrelated(what: &str, pairs: impl Iterator<Item = (f64, f64)>) {
        let mut bins = [0u32; 10];
        let (mut n, mut sxy, mut sx, mut sy) = (0.0, 0.0, 0.0, 0.0);
        for (x, y) in pairs {
            bins[(x * 10.0) as usize] += 1;
            n += 1.0;
            sx += x;
            sy += y;
            sxy += x * y;
        }
        let e = n / 10.0;
        let chi: f64 = bins.iter().map(|&b| (b as f64 - e).powi(2) / e).sum();
        assert!(chi < 27.9, "{what}: chi-square {chi}");
        let cov = sxy / n - (sx / n) * (sy / n);
        assert!(cov.abs() < 1e-3, "{what}: covariance {cov}");
    }

    /// Light words are uniform, and uncorrelated between neighbouring
    /// agents, neighbouring days, successive words of one agent and the
    /// streams of one agent and day (whose bases differ by a fixed xor).
    #[test]
    fn light_uniforms_are_uniform_and_uncorrelated_across_agents_days_words_and_streams() {
        let (k, q) = (Key::new(3, Stream::Decide), Key::new(3, Stream::Queue));
        let n = 200_000u32;
        let light = |a, d| k.light(a, d).uniform();
        uniform_and_uncorrelated("agents", (0..n).map(|a| (light(a, 9), light(a + 1, 9))));
        uniform_and_uncorrelated("days", (0..n).map(|a| (light(a, 9), light(a, 10))));
        uniform_and_uncorrelated("streams", (0..n).map(|a| (light(a, 9), q.light(a, 9).uniform())));
        let words = (0..n).map(|a| {
            let mut r = k.light(a, 9);
            (r.uniform(), r.uniform())
        });
        uniform_and_uncorrelated("words", words);
    }

    #[test]
    fn same_counter_gives_same_draw_and_neighbours_differ() {
        let k = Key::new(42, Stream::Decide);
        assert_eq!(k.word(7, 3), k.word(7, 3));
        assert_ne!(k.word(7, 3), k.word(8, 3));
        assert_ne!(k.word(7, 3), k.word(7, 4));
        assert_ne!(k.word(7, 3), Key::new(43, Stream::Decide).word(7, 3));
        assert_ne!(k.word(7, 3), Key::new(42, Stream::Queue).word(7, 3));
    }

    #[test]
    fn uniforms_over_neighbouring_agents_are_uniform_and_uncorrelated() {
        let k = Key::new(1, Stream::Claim);
        uniform_and_uncorrelated(
            "agents",
            (0..200_000u32).map(|a| (k.uniform(a, 0), k.uniform(a + 1, 0))),
        );
    }
}
