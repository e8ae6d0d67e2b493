//! Agents: travelling groups in flat struct-of-arrays columns, and the
//! building of a population from the cohorts.
//!
//! Owns the columns, the state and event enums and the population build.
//! Must not decide anything: what agents do each day is `engine` and
//! `behaviour`.

use crate::named::named_enum;
use crate::rng::{Key, Stream};
use crate::scenario::{Budget, Cohort, CohortIx, Departure, Dest, Scenario, Stock, Trait, NONE};
use rand::RngExt;
use rand_distr::{Distribution, LogNormal};

named_enum! {
    /// Each day an agent is in exactly one state.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[repr(u8)]
    pub enum State {
        /// Still at home.
        NotDeparted = 0 => "not_departed",
        /// On a route.
        Travelling = 1 => "travelling",
        /// At a place.
        Waiting = 2 => "waiting",
        /// Asylum claimed and taken for processing in Mexico.
        ClaimedMx = 3 => "claimed_mx",
        /// … in the United States.
        ClaimedUs = 4 => "claimed_us",
        /// … in Canada.
        ClaimedCa = 5 => "claimed_ca",
        /// Entered through a lawful pathway.
        EnteredLawfully = 6 => "entered_lawfully",
        /// Stays without claiming.
        SettledIrregular = 7 => "settled_irregular",
        /// Went home.
        ReturnedHome = 8 => "returned_home",
        /// Died or missing (only with `harm_outcome = true`).
        DiedOrMissing = 9 => "died_or_missing",
    }
}

/// Number of states.
pub const N_STATES: usize = State::ALL.len();

impl State {
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

named_enum! {
    /// Events happen to people and move them at once.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    #[repr(u8)]
    pub enum Event {
        /// Turned back under the STCA.
        TurnedBack = 0 => "turned_back",
        /// Expelled under Title 42.
        Expelled = 1 => "expelled",
        /// Intercepted at a checkpoint.
        Intercepted = 2 => "intercepted",
        /// Detected crossing between ports.
        Detected = 3 => "detected",
        /// Removed (a `removal`: Title 8 expedited removal, or Canada's returns
        /// of March 2020).
        Removed = 4 => "removed",
    }
}

/// Number of events.
pub const N_EVENTS: usize = Event::ALL.len();

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

/// Declares the agent columns once: each line of [`columns!`]'s one use
/// below is a column, and from that list come [`Agents`], [`ChunkMut`],
/// [`Agent`], [`BYTES_PER_AGENT`], and the reserve, push, load, store and
/// length checks over every column, so that adding a column touches one
/// list (and the population build, which gives it its first value).
///
/// A line is `var name: T` (the engine changes it; [`Agent`] holds a `T`),
/// `fixed name: T` (fixed when the population is built: read-only in a
/// [`ChunkMut`], never stored back), or either followed by `as U, load,
/// store` where [`Agent`] holds a `U` made by `load` from the cell and
/// turned back by `store`. The order of the lines is the order of
/// [`Agents`]'s fields, which is the saved state's byte layout (`state`).
macro_rules! columns {
    ($(
        $(#[$doc:meta])*
        $acc:ident $f:ident : $t:ty $(as $at:ty, $load:path, $store:path)?;
    )+) => {
        /// The agent columns. Index = agent id, stable for a scenario and seed
        /// whatever the policies (variants re-run the same agents).
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct Agents {
            $( $(#[$doc])* pub $f: Vec<$t>, )+
        }

        /// A contiguous run of agents, borrowed column by column.
        pub struct ChunkMut<'a> {
            /// Id of the first agent.
            pub base: u32,
            $(
                #[doc = concat!("See [`Agents::", stringify!($f), "`].")]
                pub $f: columns!(@slice 'a $acc $t),
            )+
        }

        /// One agent's fields, copied out of the columns for a day's work
        /// and written back after: the hot loop works on registers, not on
        /// twenty scattered slices.
        #[derive(Clone, Copy, Debug)]
        pub struct Agent {
            /// Id.
            pub id: u32,
            /// Policy class (see `policy::Classes`): not a column; the engine
            /// sets it from the cohort and traits when it copies the group out.
            pub class: u16,
            $(
                #[doc = concat!("See [`Agents::", stringify!($f), "`].")]
                pub $f: columns!(@ty $t $(, $at)?),
            )+
        }

        /// Bytes of column storage per agent, all columns told. The policy
        /// class is not stored: it is a function of the cohort and the
        /// traits, computed when a group is copied out for a day's
        /// decisions (`engine`), which is far rarer than a day in which
        /// nothing happens.
        pub const BYTES_PER_AGENT: usize = 0 $(+ std::mem::size_of::<$t>())+;

        impl Agents {
            fn reserve(&mut self, n: usize) {
                $( self.$f.reserve_exact(n); )+
            }

            /// Appends `a` as the last agent (its `id` and `class` are not
            /// columns).
            fn push(&mut self, a: &Agent) {
                $( self.$f.push(columns!(@conv a.$f $(, $store)?)); )+
            }

            /// Every column's name and length, in column order.
            pub(crate) fn column_lens(&self) -> Vec<(&'static str, usize)> {
                vec![$( (stringify!($f), self.$f.len()), )+]
            }

            /// Every column as one chunk, from agent 0.
            fn all_mut(&mut self) -> ChunkMut<'_> {
                ChunkMut {
                    base: 0,
                    $( $f: columns!(@borrow $acc self.$f), )+
                }
            }
        }

        impl<'a> ChunkMut<'a> {
            /// The first `k` agents and the rest.
            fn split_at(self, k: usize) -> (ChunkMut<'a>, ChunkMut<'a>) {
                $( let $f = columns!(@split $acc self.$f, k); )+
                let head = ChunkMut { base: self.base, $( $f: $f.0, )+ };
                (head, ChunkMut { base: self.base + k as u32, $( $f: $f.1, )+ })
            }
        }

        columns!(@load_store Agents; $( $acc $f $(, $load, $store)?; )+);
        columns!(@load_store ChunkMut<'_>; $( $acc $f $(, $load, $store)?; )+);
    };
    (@load_store $ty:ty; $( $acc:ident $f:ident $(, $load:path, $store:path)?; )+) => {
        impl $ty {
            /// Copies agent `i` (index within these columns) out; its
            /// `class` is the caller's to set.
            #[inline(always)]
            pub fn load(&self, i: usize, id: u32) -> Agent {
                Agent {
                    id,
                    class: 0,
                    $( $f: columns!(@conv self.$f[i] $(, $load)?), )+
                }
            }

            /// Writes the fields of `a` that the engine changes back to
            /// index `i`.
            #[inline(always)]
            pub fn store(&mut self, i: usize, a: &Agent) {
                $( columns!(@set $acc self.$f[i], a.$f $(, $store)?); )+
            }
        }
    };
    (@slice $l:lifetime var $t:ty) => { &$l mut [$t] };
    (@slice $l:lifetime fixed $t:ty) => { &$l [$t] };
    (@ty $t:ty) => { $t };
    (@ty $t:ty, $at:ty) => { $at };
    (@conv $e:expr) => { $e };
    (@conv $e:expr, $conv:path) => { $conv($e) };
    (@borrow var $e:expr) => { &mut $e[..] };
    (@borrow fixed $e:expr) => { &$e[..] };
    (@split var $e:expr, $k:expr) => { $e.split_at_mut($k) };
    (@split fixed $e:expr, $k:expr) => { $e.split_at($k) };
    (@set var $dst:expr, $e:expr $(, $conv:path)?) => { $dst = columns!(@conv $e $(, $conv)?) };
    (@set fixed $($rest:tt)*) => {};
}

columns! {
    /// Current place, or the start of the current leg while travelling
    /// (u16: the loader refuses a graph of more than [`MAX_PLACES`]).
    var place: u16 as u32, wide, narrow;
    /// Current leg, or `NONE` at a place.
    var leg: u32;
    /// Days left on the current leg, as they will be on the day in
    /// `timer` (the engine's `World::park`).
    var left: f32;
    /// Target claim point (a place index), or [`NO_PLACE`].
    var target: u16 as u32, wide, narrow;
    /// Remaining budget per person, USD (infinite if unlimited).
    var budget: f32;
    /// Cohort.
    fixed cohort: CohortIx;
    /// Trait bits (see [`Trait::bit`]; papers from bit 8).
    var traits: u16;
    /// Not departed: departure day; waiting: days waited; on a leg: the
    /// day the group next acts (until then it only travels).
    var timer: u16;
    /// Policy epoch as perceived at the last decision.
    var epoch_seen: u16;
    /// Day of the last crossing between ports into a country under a
    /// whole-border STCA (`NO_DAY`: none).
    var mark: u16;
    /// Day of the group's appointment at its target port (`NO_DAY`: none).
    var appt: u16;
    /// [`State`] as a byte.
    var state: u8 as State, State::from_u8, State::byte;
    /// People in the group.
    fixed size: u8;
    /// News delay, days: 0 once the group has learned the rules at a
    /// border's near side or by word of mouth (it then keeps up with them).
    var delay: u8;
    /// Flags (`F_*`).
    var flags: u8;
    /// Events this group has had (bit per [`Event`]), for counting distinct people.
    var seen: u8;
    /// Memory of failure: the claim point the group was making for when it
    /// was last turned back, expelled, removed or intercepted (a target
    /// slot; [`NO_DOOR`]: never).
    var failed: u16;
    /// The day of that failure (`NO_DAY`: never): being sent back is news,
    /// so from the next day the group perceives the rules in force then,
    /// whatever its news delay.
    var failed_day: u16;
    /// Countries that bar the group from claiming, which of those bars are
    /// temporary, and the failures at `failed` ([`BARRED`],
    /// [`BAR_TEMPORARY`], [`FAIL_COUNT`]).
    var barred: u8;
    /// Last day of the group's temporary bars.
    var bar_until: u16;
}

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

    /// Splits the columns into chunks of `n` agents for parallel work. The
    /// split depends only on `n`, never on the number of threads.
    pub fn chunks_mut(&mut self, n: usize) -> Vec<ChunkMut<'_>> {
        assert!(n > 0, "chunks of no agents");
        let mut out = Vec::with_capacity(self.len() / n + 1);
        let mut rest = self.all_mut();
        while rest.state.len() > n {
            let (head, tail) = rest.split_at(n);
            out.push(head);
            rest = tail;
        }
        if !rest.state.is_empty() {
            out.push(rest);
        }
        out
    }
}

impl State {
    /// The column's byte.
    #[inline(always)]
    pub fn byte(self) -> u8 {
        self as u8
    }
}

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
        a.push(&Agent {
            id,
            class: 0,
            place,
            leg,
            left,
            target: NONE,
            budget,
            cohort: ci,
            traits,
            timer,
            epoch_seen: u16::MAX,
            mark: NO_DAY,
            appt: NO_DAY,
            state,
            size: size as u8,
            delay,
            flags: if informed { F_DECIDE | F_INFORMED } else { F_DECIDE },
            seen: 0,
            failed: NO_DOOR,
            failed_day: NO_DAY,
            barred: 0,
            bar_until: 0,
        });
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

    /// Agents 0..n whose every column holds something of its own id.
    fn numbered(n: u32) -> Agents {
        let mut a = Agents::default();
        for id in 0..n {
            let k = id as u16;
            a.push(&Agent {
                id,
                class: 0,
                place: id,
                leg: id + 1,
                left: id as f32 / 2.0,
                target: NONE,
                budget: id as f32,
                cohort: k,
                traits: k,
                timer: k,
                epoch_seen: k,
                mark: k,
                appt: k,
                state: State::ALL[id as usize % N_STATES],
                size: 1 + (id % 200) as u8,
                delay: id as u8,
                flags: id as u8,
                seen: id as u8,
                failed: k,
                failed_day: k,
                barred: id as u8,
                bar_until: k,
            });
        }
        a
    }

    #[test]
    fn chunks_cover_every_agent_once_in_id_order() {
        let mut a = numbered(10);
        let want: Vec<Agent> = (0..10).map(|i| a.load(i, i as u32)).collect();
        let chunks = a.chunks_mut(4);
        assert_eq!(
            chunks.iter().map(|c| (c.base, c.state.len())).collect::<Vec<_>>(),
            [(0, 4), (4, 4), (8, 2)]
        );
        for c in &chunks {
            for i in 0..c.state.len() {
                let (got, w) = (c.load(i, c.base + i as u32), want[c.base as usize + i]);
                assert_eq!(format!("{got:?}"), format!("{w:?}"));
            }
        }
    }

    #[test]
    fn store_writes_what_the_engine_changes_and_leaves_cohort_and_size() {
        let mut a = numbered(3);
        let mut g = a.load(1, 1);
        (g.place, g.target, g.state, g.bar_until) = (7, NONE, State::ClaimedCa, 99);
        (g.cohort, g.size) = (2, 9);
        a.chunks_mut(2)[0].store(1, &g);
        let back = a.load(1, 1);
        assert_eq!(
            (back.place, back.target, back.state, back.bar_until),
            (7, NONE, State::ClaimedCa, 99)
        );
        assert_eq!((a.target[1], a.state[1]), (NO_PLACE, State::ClaimedCa as u8));
        assert_eq!((back.cohort, back.size), (1, 2));
    }

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
