//! [`Engine::step`], one day in named phases: the day's context (room,
//! caravans' pace), pass A over every agent in parallel, admission, pass B
//! over the granted, then reduction, the conservation check and learning.
//!
//! Owns the order of a day. The rules for one agent are `world`'s; counts
//! are `tallies`'.

use super::admission::{admit, daily_units, Request, REQ_ADMIT, REQ_APPT, REQ_CLAIM, REQ_PATHWAY};
use super::exchange::{exchange_requests, sum_over_processes, Exchange};
use super::stock::Stock;
use super::tallies::{Acc, Col};
use super::world::{DayCtx, Phase, World};
use super::{CaravanDay, Engine, EngineError, CHUNK};
use crate::agents::{Agents, ChunkMut, Event, State, DEPART_DAILY, DEPART_NEVER, NO_DAY, N_EVENTS, N_STATES};
use crate::scenario::{Mode, NONE};
use rayon::prelude::*;
use std::collections::VecDeque;

/// What the day's passes share, computed before them from yesterday's
/// counts.
struct Today {
    /// Per request bucket, its room today.
    room: Vec<u64>,
    /// Per request bucket, the most requests worth keeping (`u64::MAX`: all).
    caps: Vec<u64>,
    /// Per caravan, today's pace as a share of a lone walker's.
    pace: Vec<f32>,
    /// Per caravan, whether it breaks up at the next offer.
    breaking: Vec<bool>,
}

impl Engine<'_> {
    /// Simulates one day: pass A over every agent, admission of the day's
    /// requests, pass B over the granted, then the reduction, the
    /// conservation check and learning.
    pub fn step(&mut self) -> Result<(), EngineError> {
        let today = self.today();
        let w = &World::new(&self.prep, self.sc, self.seed, self.dynamics, self.by_cohort);
        let ctx = DayCtx {
            day: self.day,
            epoch: w.book.epoch(self.day as i64),
            hazard: &self.hazard,
            heard: &self.heard,
            caps: &today.caps,
            pace: &today.pace,
            breaking: &today.breaking,
        };
        let extras = self.prep.extras;
        let new_acc = || {
            let sc = self.sc;
            Acc::new(
                sc.places.len(),
                sc.legs.len(),
                sc.cohorts.len(),
                w.buckets.list.len(),
                w.by_cohort,
                extras,
            )
        };
        // Taken for the day: an error below leaves none, and the next day
        // counts every group again.
        let stock = match self.stock.take() {
            Some(s) => s,
            None => Stock::count(w, &self.agents, self.id_base, &new_acc),
        };
        let mut acc = pass_a(w, &ctx, &mut self.agents, self.id_base, &stock, &new_acc);
        let (admitted, carry) = admission(self.ex, w, &mut acc, &today.room)?;
        self.carry = carry;
        pass_b(w, &ctx, &mut self.agents, self.id_base, &admitted, &mut acc);
        self.stock = Some(Stock::of(&acc));
        if self.ex.size() > 1 {
            sum_over_processes(self.ex, &mut acc);
        }
        self.check_conservation(&acc)?;
        self.learn(&acc);
        self.keep(acc, &today.pace);
        self.day += 1;
        Ok(())
    }

    /// Each bucket's room today (capacities from yesterday's counts), and
    /// the caravans' pace and break-up.
    fn today(&self) -> Today {
        let (w, day) = (&*self.prep, self.day);
        let sc = self.sc;
        let room: Vec<u64> =
            w.buckets
                .list
                .iter()
                .enumerate()
                .map(|(b, &(kind, res))| match kind {
                    REQ_ADMIT => w.capacity[res as usize]
                        .saturating_sub(self.present[res as usize] + self.incoming[res as usize]),
                    REQ_CLAIM => w.claims_per_day[res as usize],
                    _ => match w.buckets.queue[b] {
                        Some(q) => daily_units(q.per_day, day.saturating_sub(q.from)) + self.carry[b],
                        None => self.carry[b],
                    },
                })
                .collect();
        let caps: Vec<u64> = w
            .buckets
            .list
            .iter()
            .zip(&room)
            .map(|(&(kind, _), &r)| if kind == REQ_PATHWAY { r } else { u64::MAX })
            .collect();
        // Each caravan walks today at the pace of the slowest group that
        // was walking in it at the end of yesterday (before it sets out: of
        // every group of its cohorts).
        let pace: Vec<f32> = self
            .caravan_days
            .iter()
            .zip(&self.caravan_slow)
            .map(|(c, &slow)| {
                if c.families > 0 || (c.groups == 0 && slow) {
                    w.family_pace
                } else {
                    1.0
                }
            })
            .collect();
        // A caravan on its way that has shrunk below `caravan_breakup` of
        // its cohorts' people breaks up at the next offer (integer counts of
        // yesterday's census: the same whatever the threads).
        let breakup = sc.behaviour.caravan_breakup;
        let breaking: Vec<bool> = self
            .caravan_days
            .iter()
            .zip(&w.caravan_people)
            .map(|(c, &all)| breakup > 0.0 && c.people > 0 && (c.people as f64) < breakup * all as f64)
            .collect();
        Today {
            room,
            caps,
            pace,
            breaking,
        }
    }

    /// Conservation: the census of the state column against the counters
    /// kept from transitions, and against the cohorts' people.
    fn check_conservation(&mut self, acc: &Acc) -> Result<(), EngineError> {
        let day = self.day;
        let mut total = 0u64;
        for s in 0..N_STATES {
            self.state_people[s] += acc.delta[s];
            total += acc.census[s];
            if self.state_people[s] != acc.census[s] as i64 {
                return Err(EngineError::Conservation {
                    day,
                    detail: format!(
                        "{}: {} people by the state column, {} by the transition counters",
                        State::ALL[s].name(),
                        acc.census[s],
                        self.state_people[s]
                    ),
                });
            }
        }
        if total != self.people {
            return Err(EngineError::Conservation {
                day,
                detail: format!("{total} people in all states, {} in all cohorts", self.people),
            });
        }
        Ok(())
    }

    /// Learning from the day: people who claimed at each claim point over
    /// the window, and word of mouth of each cohort's returns.
    fn learn(&mut self, acc: &Acc) {
        let b = &self.sc.behaviour;
        let window = b.learn_window_days as usize;
        if b.learn_per_user > 0.0 {
            let today: Vec<u64> = self
                .prep
                .book
                .targets
                .iter()
                .map(|&t| acc.cols[t as usize][Col::Claims as usize])
                .collect();
            slide(&mut self.window, &mut self.window_sum, today, window);
            for (h, &users) in self.hazard.iter_mut().zip(&self.window_sum) {
                *h += users as f64 * self.prep.learn_rate;
            }
        }
        // People of each cohort sent back over the window raise the
        // cohort's hazard of hearing of it.
        if b.learn_per_return > 0.0 {
            let today: Vec<u64> = (0..self.sc.cohorts.len())
                .map(|c| {
                    [Event::TurnedBack, Event::Expelled, Event::Intercepted, Event::Removed]
                        .iter()
                        .map(|&e| acc.events[c * N_EVENTS + e as usize][0])
                        .sum()
                })
                .collect();
            slide(&mut self.returns, &mut self.returns_sum, today, window);
            for (h, &n) in self.heard.iter_mut().zip(&self.returns_sum) {
                *h += n as f64 * self.prep.heard_rate;
            }
        }
    }

    /// Keeps the day's counts for the view and for tomorrow.
    fn keep(&mut self, acc: Acc, pace: &[f32]) {
        let places = self.sc.places.len();
        for (e, x) in self.events.iter_mut().zip(&acc.events) {
            e[0] += x[0];
            e[1] += x[1];
        }
        self.present = acc.cols.iter().map(|c| c[Col::Present as usize]).collect();
        self.incoming = acc.incoming;
        self.states = acc.census;
        self.cols = acc.cols;
        self.by_cohort_cols = acc.by_cohort;
        self.leg_flows = acc.legs;
        self.policy_counts = acc.policy;
        let walk = self.sc.behaviour.speed_km_per_day[Mode::Walk as usize];
        for (k, c) in self.caravan_days.iter_mut().enumerate() {
            let [groups, people, families] = acc.caravan[k];
            let row = &acc.caravan_at[k * places..(k + 1) * places];
            // The place with most of its people (the first such, in place order).
            let at = row
                .iter()
                .enumerate()
                .fold(
                    (NONE, 0u64),
                    |best, (p, &n)| if n > best.1 { (p as u32, n) } else { best },
                )
                .0;
            *c = CaravanDay {
                groups,
                people,
                families,
                at,
                pace_km_per_day: pace[k] as f64 * walk,
            };
        }
    }
}

/// Adds today's row to a sliding window of `len` days and its sums.
fn slide(window: &mut VecDeque<Vec<u64>>, sum: &mut [u64], today: Vec<u64>, len: usize) {
    for (s, x) in sum.iter_mut().zip(&today) {
        *s += x;
    }
    window.push_back(today);
    if window.len() > len {
        if let Some(old) = window.pop_front() {
            for (s, x) in sum.iter_mut().zip(&old) {
                *s -= x;
            }
        }
    }
}

/// What pass A's first sweep reads, made once a day.
struct Quiet {
    day: u32,
    /// Whether a group at home whose departure day is not today and that
    /// does not draw it daily can be passed over on its columns alone: no
    /// pathway is applied for anywhere today (and the day fits a timer).
    home_passes: bool,
    /// Per place, whether a pathway is applied for there today.
    pathway_at: Vec<bool>,
    /// Per cohort, the bound of the daily departure draw
    /// (`World::advance`'s first test, the same product).
    depart_bound: Vec<f64>,
}

/// Pass A: every agent, in parallel over fixed chunks. Shared resources
/// are requested, not taken. Each chunk is swept twice: first the people
/// per state are counted from the columns and the groups for whom nothing
/// happens today are passed over (`quiet`); then the others, in id order,
/// are copied out and take their day, each taken out of the standing
/// counts as it was (`gone`) and counted as it ends the day. Only integer
/// counts are kept across the sweeps and the requests are filed in id
/// order, so the result is that of one sweep that counts every group.
fn pass_a(
    w: &World,
    ctx: &DayCtx,
    agents: &mut Agents,
    id_base: u32,
    stock: &Stock,
    new_acc: &(dyn Fn() -> Acc + Sync),
) -> Acc {
    let day = ctx.day;
    let caravan_of = &w.caravan_of;
    let places = w.sc.places.len();
    let cohorts = w.sc.cohorts.len();
    let legs = w.legs;
    let pathway_at: Vec<bool> = (0..places as u32)
        .map(|p| w.book.rules(ctx.epoch, p).pathway.is_some())
        .collect();
    let q = Quiet {
        day,
        home_passes: !pathway_at.contains(&true) && day < DEPART_NEVER as u32,
        pathway_at,
        depart_bound: (0..cohorts as u16)
            .map(|c| {
                let share = w.book.depart_share(ctx.epoch, c);
                if share <= 0.0 {
                    0.0
                } else {
                    share * w.chooser.max_depart_factor(c)
                }
            })
            .collect(),
    };
    let folds = agents
        .chunks_mut(CHUNK)
        .into_par_iter()
        .fold(
            || (new_acc(), new_acc(), Vec::with_capacity(CHUNK)),
            |(mut acc, mut gone, mut slow), mut ch| {
                let id0 = id_base + ch.base;
                quiet(&q, w, ctx, id0, &mut ch, &mut acc, &mut slow);
                for &i in &slow {
                    let i = i as usize;
                    let mut a = ch.load(i, id0 + i as u32);
                    gone.census(&a, legs, caravan_of);
                    w.taken_out(&mut a);
                    w.advance(ctx, &mut a, &mut acc);
                    World::park(day, &mut a);
                    ch.store(i, &a);
                    // A requester is counted where it is; if granted, pass B
                    // takes that back and counts it again.
                    acc.census(&a, legs, caravan_of);
                }
                slow.clear();
                (acc, gone, slow)
            },
        )
        .map(|(acc, gone, _)| (acc, gone))
        .reduce_with(|(a, g), (b, h)| (a.merge(b), g.merge(h)));
    let (mut acc, gone) = folds.unwrap_or_else(|| (new_acc(), new_acc()));
    // The recount holds each group that acted as it started the day and
    // `acc.census` of it as it ends: take the start back.
    for s in 0..N_STATES {
        acc.census[s] -= gone.census[s];
    }
    stock.settle(&mut acc, &gone);
    acc
}

/// Groups per block of the first sweep: a block in which no group can act
/// is passed over after one test of its columns.
const BLOCK: usize = 64;

/// Pass A's first sweep over a chunk: the people per state are counted
/// from the state column, and the groups that may act today go to `slow`,
/// in order. A group passes today without acting if it has left the graph,
/// is in the middle of a leg (`World::park`: the day it next acts is in its
/// timer), or is at home before its departure day, or draws it daily and
/// does not go today (the first test of `World::advance`, with the same
/// draw). Such a group at a place where a pathway is applied for files its
/// application from its columns (`World::apply_pathway_at_home`: the same
/// request as `World::advance` files); the order in which requests are
/// filed does not matter to admission.
#[inline]
fn quiet(q: &Quiet, w: &World, ctx: &DayCtx, id0: u32, ch: &mut ChunkMut, acc: &mut Acc, slow: &mut Vec<u32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { quiet_avx2(q, w, ctx, id0, ch, acc, slow) };
    }
    quiet_plain::<false>(q, w, ctx, id0, ch, acc, slow)
}

/// [`quiet`] compiled for AVX2: the recount and `may_act` run on 32-byte
/// vectors. AVX2 brings no fused multiply-add and Rust never contracts
/// one, so the floating-point work inlined here (the departure draw, a
/// pathway request's key) gives the same bits as the plain build.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn quiet_avx2(q: &Quiet, w: &World, ctx: &DayCtx, id0: u32, ch: &mut ChunkMut, acc: &mut Acc, slow: &mut Vec<u32>) {
    quiet_plain::<true>(q, w, ctx, id0, ch, acc, slow)
}

/// The sweep itself; `AVX2` only when called from [`quiet_avx2`].
#[inline(always)]
fn quiet_plain<const AVX2: bool>(
    q: &Quiet,
    w: &World,
    ctx: &DayCtx,
    id0: u32,
    ch: &mut ChunkMut,
    acc: &mut Acc,
    slow: &mut Vec<u32>,
) {
    let n = ch.state.len();
    let (state, timer, size, place) = (&ch.state[..n], &ch.timer[..n], &ch.size[..n], &ch.place[..n]);
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: instantiated with AVX2 only from `quiet_avx2`, which
        // runs only on a CPU with AVX2.
        unsafe { recount_avx2(state, size, &mut acc.census) };
    } else {
        recount(state, size, &mut acc.census);
    }
    #[cfg(not(target_arch = "x86_64"))]
    recount(state, size, &mut acc.census);
    let mut maybe = [0u8; BLOCK];
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        if !may_act(q, &state[start..end], &timer[start..end], &mut maybe) {
            continue;
        }
        // The marks, eight at a time: a word of zeros is passed over, and
        // in the others each marked byte is found by its trailing zeros
        // and cleared whole.
        for (k, word) in maybe[..end - start].chunks(8).enumerate() {
            let mut bytes = [0u8; 8];
            bytes[..word.len()].copy_from_slice(word);
            let mut marks = u64::from_le_bytes(bytes);
            while marks != 0 {
                let byte = marks.trailing_zeros() / 8;
                marks &= !(0xff << (byte * 8));
                let i = start + k * 8 + byte as usize;
                let id = id0 + i as u32;
                if acts(q, w, id, state[i], timer[i], ch.cohort[i]) {
                    slow.push(i as u32);
                } else if state[i] == State::NotDeparted as u8 && q.pathway_at[place[i] as usize] {
                    // At home, it only applies for a pathway today.
                    w.apply_pathway_at_home(ctx, id, ch, i, acc);
                }
            }
        }
    }
}

/// Marks in `maybe` the groups of a block that may act today, on their
/// state and timer alone (branch-free, so that it runs on whole vectors);
/// whether any may.
#[inline(always)]
fn may_act(q: &Quiet, state: &[u8], timer: &[u16], maybe: &mut [u8; BLOCK]) -> bool {
    const HOME: u8 = State::NotDeparted as u8;
    const TRAVELLING: u8 = State::Travelling as u8;
    const WAITING: u8 = State::Waiting as u8;
    let day = q.day.min(u16::MAX as u32) as u16;
    let home_passes = q.home_passes;
    let mut any = 0u8;
    for ((m, &st), &t) in maybe.iter_mut().zip(state).zip(timer) {
        let on_leg = (st == TRAVELLING) & (day < t);
        let before_day = (st == HOME) & home_passes & (t != DEPART_DAILY) & (t != day);
        let may = (st <= WAITING) & !on_leg & !before_day;
        *m = may as u8;
        any |= may as u8;
    }
    any != 0
}

/// Whether a group that `may_act` marked acts today: the exact tests.
#[inline(always)]
fn acts(q: &Quiet, w: &World, id: u32, st: u8, t: u16, cohort: u16) -> bool {
    const TRAVELLING: u8 = State::Travelling as u8;
    const HOME: u8 = State::NotDeparted as u8;
    if State::from_u8(st).absorbing() || (st == TRAVELLING && q.day < t as u32) {
        return false;
    }
    if st == HOME {
        if t != DEPART_DAILY && t as u32 != q.day {
            return false;
        }
        // A group at home that draws its departure each day: the first
        // test of `World::advance`, with the same draw, without copying
        // the group out.
        if t == DEPART_DAILY {
            let bound = q.depart_bound[cohort as usize];
            if bound <= 0.0 || w.depart.uniform(id, q.day) >= bound {
                return false;
            }
        }
    }
    true
}

/// Adds the people of a chunk to `census` by the state column: one pass
/// per state over blocks of 256 groups, whose sizes (at most 255) sum in
/// 16 bits, so that it runs on whole vectors. A byte that is no state is
/// not counted, and so breaks the conservation check rather than the step.
#[inline(always)]
fn recount(state: &[u8], size: &[u8], census: &mut [u64; N_STATES]) {
    for (st, k) in state.chunks(256).zip(size.chunks(256)) {
        for (s, c) in census.iter_mut().enumerate() {
            let s = s as u8;
            let sum = st.iter().zip(k).fold(0u16, |sum, (&x, &k)| {
                sum.wrapping_add(if x == s { k as u16 } else { 0 })
            });
            *c += sum as u64;
        }
    }
}

/// [`recount`] on 32 groups at a time: per state, the sizes of the groups
/// in it (compare, mask) are summed by `vpsadbw` into four 64-bit lanes,
/// four instructions per state for 32 groups. The tail goes to `recount`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn recount_avx2(state: &[u8], size: &[u8], census: &mut [u64; N_STATES]) {
    use std::arch::x86_64::*;
    let n = state.len().min(size.len());
    let full = n - n % 32;
    let zero = _mm256_setzero_si256();
    let mut sums = [zero; N_STATES];
    for i in (0..full).step_by(32) {
        // SAFETY: i + 32 <= full <= the length of both slices; unaligned
        // loads.
        let (st, k) = unsafe {
            (
                _mm256_loadu_si256(state.as_ptr().add(i).cast()),
                _mm256_loadu_si256(size.as_ptr().add(i).cast()),
            )
        };
        for (s, sum) in sums.iter_mut().enumerate() {
            let mine = _mm256_and_si256(_mm256_cmpeq_epi8(st, _mm256_set1_epi8(s as i8)), k);
            *sum = _mm256_add_epi64(*sum, _mm256_sad_epu8(mine, zero));
        }
    }
    for (c, sum) in census.iter_mut().zip(&sums) {
        let mut lanes = [0u64; 4];
        // SAFETY: `lanes` is 32 bytes; unaligned store.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *sum) };
        *c += lanes.iter().sum::<u64>();
    }
    recount(&state[full..n], &size[full..n], census);
}

/// Admission: per resource, requests in order of (per-agent key, id),
/// gathered from every process first. Returns the granted and, per
/// bucket, the room carried to tomorrow.
fn admission(
    ex: &dyn Exchange,
    w: &World,
    acc: &mut Acc,
    room: &[u64],
) -> Result<(Vec<Request>, Vec<u64>), EngineError> {
    let mut requests = std::mem::take(&mut acc.requests);
    if ex.size() > 1 {
        requests = exchange_requests(ex, requests)?;
    }
    Ok(admit(requests, &w.buckets, |b| room[b]))
}

/// Pass B: the granted, in bucket and admission order. Requesters were
/// counted where they were; each is taken back and counted again.
fn pass_b(w: &World, ctx: &DayCtx, agents: &mut Agents, id_base: u32, admitted: &[Request], acc: &mut Acc) {
    let (legs, caravan_of) = (w.legs, &w.caravan_of);
    let local = id_base..id_base + agents.len() as u32;
    for r in admitted.iter().filter(|r| local.contains(&r.agent)) {
        let idx = (r.agent - id_base) as usize;
        let mut a = agents.load(idx, r.agent);
        w.taken_out(&mut a);
        if a.state.absorbing() {
            continue;
        }
        acc.uncensus(&a, legs, caravan_of);
        match r.kind {
            REQ_ADMIT => {
                let next = w.next_hop(ctx, &a, w.perceived(ctx, &a));
                if next != NONE && w.set_out(ctx, &mut a, next, acc) {
                    w.travel(ctx, &mut a, r.budget, acc, Phase::B);
                }
            }
            REQ_CLAIM => w.claim(ctx, &mut a, acc),
            REQ_APPT => {
                let b = w.buckets.of(r.kind, r.resource) as usize;
                let lead = w.buckets.queue[b].map_or(0, |q| q.lead_days);
                a.appt = (ctx.day + lead).min(NO_DAY as u32 - 1) as u16;
                if lead == 0 {
                    w.travel(ctx, &mut a, r.budget, acc, Phase::B);
                }
            }
            _ => acc.set_state(&mut a, State::EnteredLawfully),
        }
        World::park(ctx.day, &mut a);
        agents.store(idx, &a);
        acc.census(&a, legs, caravan_of);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector recount counts what one add per group counts, for any
    /// length (tails included) and with bytes that are no state.
    #[test]
    fn the_vector_recount_equals_one_add_per_group() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0, 1, 31, 32, 33, 255, 256, 257, 1000, 4097] {
            let state: Vec<u8> = (0..n).map(|_| (next() % (N_STATES as u64 + 2)) as u8).collect();
            let size: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            let mut expect = [0u64; N_STATES];
            for (&s, &k) in state.iter().zip(&size) {
                if (s as usize) < N_STATES {
                    expect[s as usize] += k as u64;
                }
            }
            let mut plain = [0u64; N_STATES];
            recount(&state, &size, &mut plain);
            assert_eq!(plain, expect, "n = {n}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                let mut wide = [0u64; N_STATES];
                // SAFETY: the CPU has AVX2, checked just above.
                unsafe { recount_avx2(&state, &size, &mut wide) };
                assert_eq!(wide, expect, "n = {n}");
            }
        }
    }
}
