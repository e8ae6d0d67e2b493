//! Agents: travelling groups in flat struct-of-arrays columns, and the
//! building of a population from the cohorts.
//!
//! Owns the columns, the state and event enums and the population build.
//! Must not decide anything: what agents do each day is `engine` and
//! `behaviour`.

use crate::rng::{Key, Stream};
use crate::scenario::{Budget, Cohort, CohortIx, Departure, Dest, Scenario, Stock, Trait, NONE};
use rand::RngExt;
use rand_distr::{Distribution, LogNormal};

/// Each day an agent is in exactly one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// Still at home.
    NotDeparted = 0,
    /// On a route.
    Travelling = 1,
    /// At a place.
    Waiting = 2,
    /// Asylum claimed and taken for processing in Mexico.
    ClaimedMx = 3,
    /// … in the United States.
    ClaimedUs = 4,
    /// … in Canada.
    ClaimedCa = 5,
    /// Entered through a lawful pathway.
    EnteredLawfully = 6,
    /// Stays without claiming.
    SettledIrregular = 7,
    /// Went home.
    ReturnedHome = 8,
    /// Died or missing (only with `harm_outcome = true`).
    DiedOrMissing = 9,
}

/// Number of states.
pub const N_STATES: usize = 10;

impl State {
    /// Every state, in table order.
    pub const ALL: [State; N_STATES] = [
        State::NotDeparted,
        State::Travelling,
        State::Waiting,
        State::ClaimedMx,
        State::ClaimedUs,
        State::ClaimedCa,
        State::EnteredLawfully,
        State::SettledIrregular,
        State::ReturnedHome,
        State::DiedOrMissing,
    ];

    /// Name in tables.
    pub fn name(self) -> &'static str {
        match self {
            State::NotDeparted => "not_departed",
            State::Travelling => "travelling",
            State::Waiting => "waiting",
            State::ClaimedMx => "claimed_mx",
            State::ClaimedUs => "claimed_us",
            State::ClaimedCa => "claimed_ca",
            State::EnteredLawfully => "entered_lawfully",
            State::SettledIrregular => "settled_irregular",
            State::ReturnedHome => "returned_home",
            State::DiedOrMissing => "died_or_missing",
        }
    }

    /// From the column's byte.
    #[inline(always)]
    pub fn from_u8(b: u8) -> State {
        State::ALL[(b as usize).min(N_STATES - 1)]
    }

    /// Whether people in this state have left the graph for good.
    #[inline(always)]
    pub fn absorbing(self) -> bool {
        self as u8 >= State::ClaimedMx as u8
    }
}

/// Events happen to people and move them at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Event {
    /// Turned back under the STCA.
    TurnedBack = 0,
    /// Expelled under Title 42.
    Expelled = 1,
    /// Intercepted at a checkpoint.
    Intercepted = 2,
    /// Detected crossing between ports.
    Detected = 3,
    /// Removed (a `removal`: Title 8 expedited removal, or Canada's returns
    /// of March 2020).
    Removed = 4,
}

/// Number of events.
pub const N_EVENTS: usize = 5;

impl Event {
    /// Every event, in table order.
    pub const ALL: [Event; N_EVENTS] = [
        Event::TurnedBack,
        Event::Expelled,
        Event::Intercepted,
        Event::Detected,
        Event::Removed,
    ];

    /// Name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Event::TurnedBack => "turned_back",
            Event::Expelled => "expelled",
            Event::Intercepted => "intercepted",
            Event::Detected => "detected",
            Event::Removed => "removed",
        }
    }
}

/// `timer` of a not-departed agent that draws its departure daily.
pub const DEPART_DAILY: u16 = u16::MAX;
/// `timer` of a not-departed agent whose departure falls after the run.
pub const DEPART_NEVER: u16 = u16::MAX - 1;

/// Flag: decide at the next chance (after an event, a refusal, or a lost route).
pub const F_DECIDE: u8 = 1 << 0;
/// Flag: knows the eligibility rules in force (decides by the informed view).
pub const F_INFORMED: u8 = 1 << 1;
/// Flag: waiting for papers at a documents place.
pub const F_PAPERS: u8 = 1 << 2;
/// Flag: entered its current country lawfully as a visitor (by air); an
/// inland claim waits `claim_delay_days` from `mark`.
pub const F_VISITOR: u8 = 1 << 3;
/// Flag: has heard, by word of mouth, of returns of its own cohort (it then
/// knows the rules in force on that day).
pub const F_HEARD: u8 = 1 << 4;
/// Flag: walks in its caravan (`Cohort::caravan`), at the caravan's pace;
/// cleared when the group takes other transport, is sent back or moved,
/// takes an offer, waits for papers or a shared resource, or ends its
/// journey. Which caravan is its cohort's: nothing else is stored.
pub const F_CARAVAN: u8 = 1 << 5;

/// `failed` of a group that has not failed anywhere.
pub const NO_DOOR: u16 = u16::MAX;
/// Bits of `barred` that say which countries bar the group ([`Dest`] order).
pub const BARRED: u8 = 0b0000_0111;
/// Bits of `barred` that say which of those bars end on `bar_until`
/// (shifted by 3); the others are for good.
pub const BAR_TEMPORARY: u8 = 0b0011_1000;
/// Bits of `barred` that count the failures at `failed` (0–3, saturating).
pub const FAIL_COUNT: u8 = 0b1100_0000;

/// Whether a group with `barred` and `bar_until` is barred from `d` on `day`.
#[inline(always)]
pub fn is_barred(barred: u8, bar_until: u16, d: Dest, day: u32) -> bool {
    let bit = 1u8 << d as u8;
    barred & bit != 0 && (barred & (bit << 3) == 0 || day < bar_until as u32)
}

/// The agent columns. Index = agent id, stable for a scenario and seed
/// whatever the policies (variants re-run the same agents).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Agents {
    /// Current place, or the start of the current leg while travelling
    /// (u16: the loader refuses a graph of more than [`MAX_PLACES`]).
    pub place: Vec<u16>,
    /// Current leg, or `NONE` at a place.
    pub leg: Vec<u32>,
    /// Days left on the current leg, as they will be on the day in
    /// `timer` (the engine's `World::park`).
    pub left: Vec<f32>,
    /// Target claim point (a place index), or [`NO_PLACE`].
    pub target: Vec<u16>,
    /// Remaining budget per person, USD (infinite if unlimited).
    pub budget: Vec<f32>,
    /// Cohort.
    pub cohort: Vec<CohortIx>,
    /// Trait bits (see [`Trait::bit`]; papers from bit 8).
    pub traits: Vec<u16>,
    /// Not departed: departure day; waiting: days waited; on a leg: the
    /// day the group next acts (until then it only travels).
    pub timer: Vec<u16>,
    /// Policy epoch as perceived at the last decision.
    pub epoch_seen: Vec<u16>,
    /// Day of the last crossing between ports into a country under a
    /// whole-border STCA (`NO_DAY`: none).
    pub mark: Vec<u16>,
    /// Day of the group's appointment at its target port (`NO_DAY`: none).
    pub appt: Vec<u16>,
    /// [`State`] as a byte.
    pub state: Vec<u8>,
    /// People in the group.
    pub size: Vec<u8>,
    /// News delay, days: 0 once the group has learned the rules at a
    /// border's near side or by word of mouth (it then keeps up with them).
    pub delay: Vec<u8>,
    /// Flags (`F_*`).
    pub flags: Vec<u8>,
    /// Events this group has had (bit per [`Event`]), for counting distinct people.
    pub seen: Vec<u8>,
    /// Memory of failure: the claim point the group was making for when it
    /// was last turned back, expelled, removed or intercepted (a target
    /// slot; [`NO_DOOR`]: never).
    pub failed: Vec<u16>,
    /// The day of that failure (`NO_DAY`: never): being sent back is news,
    /// so from the next day the group perceives the rules in force then,
    /// whatever its news delay.
    pub failed_day: Vec<u16>,
    /// Countries that bar the group from claiming, which of those bars are
    /// temporary, and the failures at `failed` ([`BARRED`],
    /// [`BAR_TEMPORARY`], [`FAIL_COUNT`]).
    pub barred: Vec<u8>,
    /// Last day of the group's temporary bars.
    pub bar_until: Vec<u16>,
}

/// Bytes of column storage per agent, all columns told: place, leg, left,
/// target, budget, cohort, traits, timer, epoch_seen, mark, appt, state,
/// size, delay, flags, seen, failed, failed_day, barred, bar_until. The
/// policy class is not stored: it is a function of the cohort and the
/// traits, computed when a group is copied out for a day's decisions
/// (`engine`), which is far rarer than a day in which nothing happens.
pub const BYTES_PER_AGENT: usize = 2 + 4 + 4 + 2 + 4 + 2 + 2 + 2 + 2 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 2 + 2 + 1 + 2;

/// Most places a scenario the engine runs may have: place columns are u16,
/// with [`NO_PLACE`] for none.
pub const MAX_PLACES: usize = u16::MAX as usize;
/// "No place" in the u16 place columns (`NONE` once copied out).
pub const NO_PLACE: u16 = u16::MAX;

/// A place column's value as an index (`NONE` for [`NO_PLACE`]).
#[inline(always)]
pub fn wide(p: u16) -> u32 {
    if p == NO_PLACE {
        crate::scenario::NONE
    } else {
        p as u32
    }
}

/// An index (< [`MAX_PLACES`], or `NONE`) as a place column's value:
/// `NONE` (u32::MAX) truncates to [`NO_PLACE`].
#[inline(always)]
pub fn narrow(p: u32) -> u16 {
    debug_assert!(p == crate::scenario::NONE || (p as usize) < MAX_PLACES);
    p as u16
}

/// "No day" in u16 day columns.
pub const NO_DAY: u16 = u16::MAX;

const _: () = assert!(BYTES_PER_AGENT <= 48, "the design limit is 48 bytes per agent");

impl Agents {
    /// Number of agents (groups).
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// People in all groups.
    pub fn people(&self) -> u64 {
        self.size.iter().map(|&s| s as u64).sum()
    }

    fn reserve(&mut self, n: usize) {
        self.place.reserve_exact(n);
        self.leg.reserve_exact(n);
        self.left.reserve_exact(n);
        self.target.reserve_exact(n);
        self.budget.reserve_exact(n);
        self.cohort.reserve_exact(n);
        self.traits.reserve_exact(n);
        self.timer.reserve_exact(n);
        self.epoch_seen.reserve_exact(n);
        self.mark.reserve_exact(n);
        self.appt.reserve_exact(n);
        self.state.reserve_exact(n);
        self.size.reserve_exact(n);
        self.delay.reserve_exact(n);
        self.flags.reserve_exact(n);
        self.seen.reserve_exact(n);
        self.failed.reserve_exact(n);
        self.failed_day.reserve_exact(n);
        self.barred.reserve_exact(n);
        self.bar_until.reserve_exact(n);
    }

    /// Splits the columns into chunks of `n` agents for parallel work. The
    /// split depends only on `n`, never on the number of threads.
    pub fn chunks_mut(&mut self, n: usize) -> Vec<ChunkMut<'_>> {
        let mut out = Vec::with_capacity(self.len() / n.max(1) + 1);
        let mut place = self.place.chunks_mut(n);
        let mut leg = self.leg.chunks_mut(n);
        let mut left = self.left.chunks_mut(n);
        let mut target = self.target.chunks_mut(n);
        let mut budget = self.budget.chunks_mut(n);
        let mut traits = self.traits.chunks_mut(n);
        let mut timer = self.timer.chunks_mut(n);
        let mut epoch_seen = self.epoch_seen.chunks_mut(n);
        let mut mark = self.mark.chunks_mut(n);
        let mut appt = self.appt.chunks_mut(n);
        let mut state = self.state.chunks_mut(n);
        let mut flags = self.flags.chunks_mut(n);
        let mut seen = self.seen.chunks_mut(n);
        let mut failed = self.failed.chunks_mut(n);
        let mut failed_day = self.failed_day.chunks_mut(n);
        let mut barred = self.barred.chunks_mut(n);
        let mut bar_until = self.bar_until.chunks_mut(n);
        let mut cohort = self.cohort.chunks(n);
        let mut size = self.size.chunks(n);
        let mut delay = self.delay.chunks_mut(n);
        let mut base = 0u32;
        while let (Some(place), Some(leg), Some(left), Some(target), Some(budget), Some(traits), Some(timer)) = (
            place.next(),
            leg.next(),
            left.next(),
            target.next(),
            budget.next(),
            traits.next(),
            timer.next(),
        ) {
            let (
                Some(epoch_seen),
                Some(mark),
                Some(appt),
                Some(state),
                Some(flags),
                Some(seen),
                Some(cohort),
                Some(size),
                Some(delay),
            ) = (
                epoch_seen.next(),
                mark.next(),
                appt.next(),
                state.next(),
                flags.next(),
                seen.next(),
                cohort.next(),
                size.next(),
                delay.next(),
            )
            else {
                break;
            };
            let (Some(failed), Some(failed_day), Some(barred), Some(bar_until)) =
                (failed.next(), failed_day.next(), barred.next(), bar_until.next())
            else {
                break;
            };
            let len = place.len() as u32;
            out.push(ChunkMut {
                base,
                place,
                leg,
                left,
                target,
                budget,
                traits,
                timer,
                epoch_seen,
                mark,
                appt,
                state,
                flags,
                seen,
                failed,
                failed_day,
                barred,
                bar_until,
                cohort,
                size,
                delay,
            });
            base += len;
        }
        out
    }
}

/// A contiguous run of agents, borrowed column by column.
pub struct ChunkMut<'a> {
    /// Id of the first agent.
    pub base: u32,
    #[allow(missing_docs)]
    pub place: &'a mut [u16],
    #[allow(missing_docs)]
    pub leg: &'a mut [u32],
    #[allow(missing_docs)]
    pub left: &'a mut [f32],
    #[allow(missing_docs)]
    pub target: &'a mut [u16],
    #[allow(missing_docs)]
    pub budget: &'a mut [f32],
    #[allow(missing_docs)]
    pub traits: &'a mut [u16],
    #[allow(missing_docs)]
    pub timer: &'a mut [u16],
    #[allow(missing_docs)]
    pub epoch_seen: &'a mut [u16],
    #[allow(missing_docs)]
    pub mark: &'a mut [u16],
    #[allow(missing_docs)]
    pub appt: &'a mut [u16],
    #[allow(missing_docs)]
    pub state: &'a mut [u8],
    #[allow(missing_docs)]
    pub flags: &'a mut [u8],
    #[allow(missing_docs)]
    pub seen: &'a mut [u8],
    #[allow(missing_docs)]
    pub failed: &'a mut [u16],
    #[allow(missing_docs)]
    pub failed_day: &'a mut [u16],
    #[allow(missing_docs)]
    pub barred: &'a mut [u8],
    #[allow(missing_docs)]
    pub bar_until: &'a mut [u16],
    #[allow(missing_docs)]
    pub cohort: &'a [CohortIx],
    #[allow(missing_docs)]
    pub size: &'a [u8],
    #[allow(missing_docs)]
    pub delay: &'a mut [u8],
}

/// One agent's mutable fields, copied out of the columns for a day's work
/// and written back after: the hot loop works on registers, not on fifteen
/// scattered slices.
#[derive(Clone, Copy, Debug)]
pub struct Agent {
    /// Id.
    pub id: u32,
    /// See [`Agents::place`].
    pub place: u32,
    /// See [`Agents::leg`].
    pub leg: u32,
    /// See [`Agents::left`].
    pub left: f32,
    /// See [`Agents::target`].
    pub target: u32,
    /// See [`Agents::budget`].
    pub budget: f32,
    /// See [`Agents::traits`].
    pub traits: u16,
    /// Policy class (see `policy::Classes`): not a column; the engine
    /// sets it from the cohort and traits when it copies the group out.
    pub class: u16,
    /// See [`Agents::timer`].
    pub timer: u16,
    /// See [`Agents::epoch_seen`].
    pub epoch_seen: u16,
    /// See [`Agents::mark`].
    pub mark: u16,
    /// See [`Agents::appt`].
    pub appt: u16,
    /// See [`Agents::state`].
    pub state: State,
    /// See [`Agents::flags`].
    pub flags: u8,
    /// See [`Agents::seen`].
    pub seen: u8,
    /// See [`Agents::failed`].
    pub failed: u16,
    /// See [`Agents::failed_day`].
    pub failed_day: u16,
    /// See [`Agents::barred`].
    pub barred: u8,
    /// See [`Agents::bar_until`].
    pub bar_until: u16,
    /// See [`Agents::cohort`].
    pub cohort: CohortIx,
    /// See [`Agents::size`].
    pub size: u8,
    /// See [`Agents::delay`].
    pub delay: u8,
}

macro_rules! load_store {
    ($t:ty) => {
        impl $t {
            /// Copies agent `i` (index within these columns) out; its
            /// `class` is the caller's to set.
            #[inline(always)]
            pub fn load(&self, i: usize, id: u32) -> Agent {
                Agent {
                    id,
                    place: wide(self.place[i]),
                    leg: self.leg[i],
                    left: self.left[i],
                    target: wide(self.target[i]),
                    budget: self.budget[i],
                    traits: self.traits[i],
                    class: 0,
                    timer: self.timer[i],
                    epoch_seen: self.epoch_seen[i],
                    mark: self.mark[i],
                    appt: self.appt[i],
                    state: State::from_u8(self.state[i]),
                    flags: self.flags[i],
                    seen: self.seen[i],
                    failed: self.failed[i],
                    failed_day: self.failed_day[i],
                    barred: self.barred[i],
                    bar_until: self.bar_until[i],
                    cohort: self.cohort[i],
                    size: self.size[i],
                    delay: self.delay[i],
                }
            }

            /// Writes the mutable fields of `a` back to index `i`.
            #[inline(always)]
            pub fn store(&mut self, i: usize, a: &Agent) {
                self.place[i] = narrow(a.place);
                self.leg[i] = a.leg;
                self.left[i] = a.left;
                self.target[i] = narrow(a.target);
                self.budget[i] = a.budget;
                self.traits[i] = a.traits;
                self.timer[i] = a.timer;
                self.epoch_seen[i] = a.epoch_seen;
                self.mark[i] = a.mark;
                self.appt[i] = a.appt;
                self.state[i] = a.state as u8;
                self.flags[i] = a.flags;
                self.seen[i] = a.seen;
                self.failed[i] = a.failed;
                self.failed_day[i] = a.failed_day;
                self.delay[i] = a.delay;
                self.barred[i] = a.barred;
                self.bar_until[i] = a.bar_until;
            }
        }
    };
}

load_store!(Agents);
load_store!(ChunkMut<'_>);

/// Builds the population: groups, traits, budgets, news delays and
/// departure days, each drawn from the agent's own `Build` stream.
pub fn build(sc: &Scenario, seed: u64) -> Agents {
    build_part(sc, seed, 0, 1).0
}

/// How many groups the population has: the first draws of every group's
/// stream, without building anything.
pub fn count_groups(sc: &Scenario, seed: u64) -> u32 {
    let key = Key::new(seed, Stream::Build);
    let mut n = 0u32;
    for c in &sc.cohorts {
        let mut placed = 0u64;
        while placed < c.people {
            let mut d = key.draws(n, 0);
            placed += group_size(c, &mut d).0.min(c.people - placed);
            n += 1;
        }
    }
    n
}

/// Builds only the agents of part `part` of `parts` (ids `[n·part/parts,
/// n·(part+1)/parts)` of the whole population of n groups), so that a
/// process of a partitioned run holds its own agents only. Returns them
/// and the first id.
pub fn build_part(sc: &Scenario, seed: u64, part: usize, parts: usize) -> (Agents, u32) {
    let key = Key::new(seed, Stream::Build);
    // Group sizes come from each group's own stream, in id order: count the
    // groups first (a cheap pass drawing sizes only), then build the part.
    let n = if parts > 1 { count_groups(sc, seed) } else { 0 };
    let (lo, hi) = if parts > 1 {
        let p = parts as u64;
        (
            (n as u64 * part as u64 / p) as u32,
            (n as u64 * (part as u64 + 1) / p) as u32,
        )
    } else {
        (0, u32::MAX)
    };
    let est: usize = sc
        .cohorts
        .iter()
        .map(|c| {
            let mean_family: f64 = c.household_size.iter().map(|(s, w)| *s as f64 * w).sum();
            let mean = c.family_share * mean_family + (1.0 - c.family_share);
            (c.people as f64 / mean.max(1.0)).ceil() as usize + 1
        })
        .sum();
    let mut a = Agents::default();
    a.reserve(est.min(sc.people() as usize).min((hi - lo) as usize));
    let mut next = 0u32;
    for (ci, c) in sc.cohorts.iter().enumerate() {
        build_cohort(&mut a, sc, ci as CohortIx, c, key, &mut next, lo..hi);
    }
    (a, lo)
}

/// A group's size and its family/minor traits, the first draws of its stream.
fn group_size(c: &Cohort, d: &mut crate::rng::Draws) -> (u64, u16) {
    let mut traits = 0u16;
    let size: u64 = if d.uniform() < c.family_share {
        traits |= Trait::Family.bit();
        pick_size(&c.household_size, d.uniform()) as u64
    } else {
        if d.uniform() < c.minor_share {
            traits |= Trait::Minor.bit();
        }
        1
    };
    (size, traits)
}

fn build_cohort(
    a: &mut Agents,
    sc: &Scenario,
    ci: CohortIx,
    c: &Cohort,
    key: Key,
    next: &mut u32,
    keep: std::ops::Range<u32>,
) {
    let lognormal = match c.budget {
        Some(Budget::LogNormal { median, p90 }) => {
            // p90 = median · exp(1.2816 σ)
            let sigma = ((p90 / median).ln() / 1.281_551_565_544_600_4).max(0.0);
            LogNormal::new(median.ln(), sigma).ok()
        }
        _ => None,
    };
    let mean_delay = sc.behaviour.news_delay_mean;
    let max_delay = sc.behaviour.news_delay_max.min(255) as f64;
    let mut placed: u64 = 0;
    while placed < c.people {
        let id = *next;
        *next += 1;
        let mut d = key.draws(id, 0);
        let (size, mut traits) = group_size(c, &mut d);
        // The last group is cut so that sizes add up exactly to `people`.
        let size = size.min(c.people - placed);
        let before = placed;
        placed += size;
        if !keep.contains(&id) {
            continue;
        }
        for dest in crate::scenario::Dest::ALL {
            if d.uniform() < c.relatives[dest as usize] {
                traits |= Trait::Relatives(dest).bit();
            }
            if d.uniform() < c.visa[dest as usize] {
                traits |= Trait::Visa(dest).bit();
            }
        }
        let budget = match (c.budget, &lognormal) {
            (Some(Budget::Fixed(x)), _) => x as f32,
            (Some(Budget::LogNormal { .. }), Some(ln)) => ln.sample(&mut d) as f32,
            _ => f32::INFINITY,
        };
        let delay = if mean_delay > 0.0 {
            let e = -mean_delay * (1.0 - d.random::<f64>()).ln();
            e.round().min(max_delay) as u8
        } else {
            0
        };
        let informed = d.uniform() < c.informed_share;
        // A stock's groups are on the road already: waiting at its place
        // (0 days waited) or part-way along its leg; they choose a target
        // at their first chance, as a group that has just been moved does.
        let (state, place, leg, left, timer) = match c.stock {
            Some(Stock {
                place,
                leg: Some(l),
                days_left,
            }) => (State::Travelling, place, l, days_left as f32, 0),
            Some(Stock { place, leg: None, .. }) => (State::Waiting, place, NONE, 0.0, 0),
            None => (
                State::NotDeparted,
                c.origin,
                NONE,
                0.0,
                departure_day(c.departure, before, c.people),
            ),
        };
        a.place.push(narrow(place));
        a.leg.push(leg);
        a.left.push(left);
        a.target.push(NO_PLACE);
        a.budget.push(budget);
        a.cohort.push(ci);
        a.traits.push(traits);
        a.timer.push(timer);
        a.epoch_seen.push(u16::MAX);
        a.mark.push(NO_DAY);
        a.appt.push(NO_DAY);
        a.state.push(state as u8);
        a.size.push(size as u8);
        a.delay.push(delay);
        a.flags.push(if informed { F_DECIDE | F_INFORMED } else { F_DECIDE });
        a.seen.push(0);
        a.failed.push(NO_DOOR);
        a.failed_day.push(NO_DAY);
        a.barred.push(0);
        a.bar_until.push(0);
    }
}

fn pick_size(sizes: &[(u8, f64)], u: f64) -> u8 {
    let mut acc = 0.0;
    for &(s, w) in sizes {
        acc += w;
        if u < acc {
            return s;
        }
    }
    sizes.last().map(|(s, _)| *s).unwrap_or(1)
}

/// Departure day of a group given the people of its cohort placed before it.
fn departure_day(dep: Departure, before: u64, people: u64) -> u16 {
    let day = match dep {
        Departure::On(d) => d as u64,
        Departure::Spread { from, until } => {
            let n = (until - from + 1) as u64;
            from as u64 + (before as u128 * n as u128 / people as u128) as u64
        }
        Departure::PerDay { from, per_day } => from as u64 + (before as f64 / per_day).floor() as u64,
        Departure::Share(_) => return DEPART_DAILY,
    };
    if day >= DEPART_NEVER as u64 {
        DEPART_NEVER
    } else {
        day as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_departures_cover_the_window_evenly() {
        let dep = Departure::Spread { from: 10, until: 19 };
        let days: Vec<u16> = (0..100).map(|b| departure_day(dep, b, 100)).collect();
        for d in 10..20u16 {
            assert_eq!(days.iter().filter(|&&x| x == d).count(), 10);
        }
    }

    #[test]
    fn per_day_departures_release_that_many_people_a_day() {
        let dep = Departure::PerDay { from: 3, per_day: 25.0 };
        assert_eq!(departure_day(dep, 0, 1000), 3);
        assert_eq!(departure_day(dep, 24, 1000), 3);
        assert_eq!(departure_day(dep, 25, 1000), 4);
        assert_eq!(departure_day(dep, 999, 1000), 42);
    }
}
