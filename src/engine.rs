//! The daily step: decide → admit (capacities, queues) → move → act →
//! record, in parallel over fixed chunks of agents, with counts reduced
//! exactly.
//!
//! Owns the simulation state and the run loop. Does no I/O: results go to
//! [`Recorder`]s. Invariants: results are a pure function of the scenario and
//! seed whatever the thread count (fixed chunks, integer reductions, queue
//! order by per-agent keys); people in all states equal the people of all
//! cohorts every day, checked against counters kept from transitions.

use crate::agents::{
    self, Agent, Agents, Event, State, BARRED, BAR_TEMPORARY, DEPART_DAILY, DEPART_NEVER, FAIL_COUNT, F_CARAVAN,
    F_DECIDE, F_HEARD, F_INFORMED, F_PAPERS, F_VISITOR, NO_DAY, NO_DOOR, N_EVENTS, N_STATES,
};
use crate::behaviour::Chooser;
use crate::graph::Graph;
use crate::policy::{PolicyBook, Return, PAPERS_BIT0};
use crate::rng::{Key, Stream};
use crate::scenario::{
    Bar, Dest, Leg, Mode, NoTarget, PlaceIx, PlaceKind, PolicyKind, Scenario, SendBack, SendTo, Trait, NONE,
};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::time::Instant;

/// Columns of the places table, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    /// People waiting at the place at the end of the day.
    Present = 0,
    /// People who reached the place (passing or stopping).
    Arrived = 1,
    /// People who set out from the place.
    Departed = 2,
    /// People whose claim was taken there.
    Claims = 3,
    /// People turned back there (STCA).
    TurnedBack = 4,
    /// People expelled there (Title 42).
    Expelled = 5,
    /// People intercepted there (checkpoint).
    Intercepted = 6,
    /// People detected there (enforcement).
    Detected = 7,
    /// People removed there (removal).
    Removed = 8,
}

/// Number of place columns.
pub const N_COLS: usize = 9;

impl Col {
    /// Every column, in table order.
    pub const ALL: [Col; N_COLS] = [
        Col::Present,
        Col::Arrived,
        Col::Departed,
        Col::Claims,
        Col::TurnedBack,
        Col::Expelled,
        Col::Intercepted,
        Col::Detected,
        Col::Removed,
    ];
    /// Name in tables.
    pub fn name(self) -> &'static str {
        [
            "present",
            "arrived",
            "departed",
            "claims",
            "turned_back",
            "expelled",
            "intercepted",
            "detected",
            "removed",
        ][self as usize]
    }
}

/// Agents per chunk of parallel work. Fixed, so that the work split never
/// depends on the number of threads.
pub const CHUNK: usize = 8192;
const EPS: f32 = 1e-4;

/// How a run is set up.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Keep place counts per cohort (for `cohort_places.csv`).
    pub by_cohort: bool,
}

/// What one day looked like, handed to recorders.
pub struct DayView<'a> {
    /// Day number (0 = start).
    pub day: u32,
    /// Its date.
    pub date: NaiveDate,
    /// Counts per place, in people (`[place][Col]`).
    pub places: &'a [[u64; N_COLS]],
    /// With `by_cohort`: counts per cohort and place (`[cohort * places + place]`); else empty.
    pub by_cohort: &'a [[u64; N_COLS]],
    /// People who set out on each leg that day.
    pub legs: &'a [u64],
    /// People in each state at the end of the day.
    pub states: [u64; N_STATES],
    /// The agents, for traces.
    pub agents: &'a Agents,
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Each caravan at the end of the day (empty without caravans).
    pub caravans: &'a [CaravanDay],
    /// Per policy, the people it met that day in two counts: for an offer,
    /// (offered, accepted); for a checkpoint that does not always honour
    /// papers, (holders of papers met, intercepted despite them). Empty if
    /// the scenario has neither.
    pub policies: &'a [[u64; 2]],
}

/// A caravan at the end of a day.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CaravanDay {
    /// Groups walking in it.
    pub groups: u64,
    /// People in those groups.
    pub people: u64,
    /// Families among the groups (the slowest).
    pub families: u64,
    /// The place most of its people are at or last left (`NONE`: nobody left in it).
    pub at: u32,
    /// The pace it walked at that day, km/day.
    pub pace_km_per_day: f64,
}

/// Receives each day's results. A new output is a new recorder, not a new
/// branch in the engine.
pub trait Recorder: Send {
    /// Called after every day.
    fn day(&mut self, view: &DayView<'_>) -> std::io::Result<()>;
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// People were lost or created: a bug, reported loudly.
    #[error("conservation violated on day {day}: {detail}")]
    Conservation {
        /// The day.
        day: u32,
        /// What did not add up.
        detail: String,
    },
    /// A recorder failed.
    #[error("writing results failed: {0}")]
    Record(#[from] std::io::Error),
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// Why not.
        reason: String,
    },
}

/// What a run ended with.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// Seed used.
    pub seed: u64,
    /// Agents (groups).
    pub agents: usize,
    /// People.
    pub people: u64,
    /// Days simulated.
    pub days: u32,
    /// People per state at the end, per cohort.
    pub outcomes: Vec<[u64; N_STATES]>,
    /// `[cohort][event]` = (person-events, distinct people).
    pub events: Vec<[[u64; 2]; N_EVENTS]>,
    /// People per state at the end.
    pub states: [u64; N_STATES],
    /// Seconds spent building the population.
    pub build_s: f64,
    /// Seconds spent simulating.
    pub sim_s: f64,
}

/// Read-only facts for the daily step.
struct World<'s> {
    sc: &'s Scenario,
    legs: &'s [Leg],
    book: PolicyBook,
    chooser: Chooser,
    /// Capacity per place (`u64::MAX`: none).
    capacity: Vec<u64>,
    /// Daily claims per place (`u64::MAX`: none).
    claims_per_day: Vec<u64>,
    /// Where people sent back from a crossing go (`NONE`: nowhere set).
    near_side: Vec<u32>,
    /// Whether each place is the near side of some crossing (where groups
    /// may learn the rules, `learn_at_door`).
    at_door: Vec<bool>,
    origin: Vec<PlaceIx>,
    /// Per cohort: days a visitor waits before claiming inland.
    claim_delay: Vec<u32>,
    learn_at_door: f64,
    /// Nationality group of each cohort (for recomputing classes).
    nat: Vec<u16>,
    buckets: Buckets,
    replan_days: u16,
    no_target: NoTarget,
    harm_outcome: bool,
    by_cohort: bool,
    depart: Key,
    queue: Key,
    claim: Key,
    event: Key,
    event_b: Key,
    harm: Key,
    word: Key,
    offer: Key,
    /// Per cohort: its caravan (`u16::MAX`: none).
    caravan_of: Vec<u16>,
    /// A family's walking speed as a share of a lone walker's.
    family_pace: f32,
}

/// One day's context.
struct DayCtx<'a> {
    day: u32,
    epoch: u16,
    hazard: &'a [f64],
    /// Per cohort: the cumulative hazard of hearing of its returns.
    heard: &'a [f64],
    /// Per request bucket, the most requests worth keeping (`u64::MAX`: all).
    caps: &'a [u64],
    /// Per caravan: today's pace as a share of a lone walker's (that of
    /// the slowest group walking in it at the end of yesterday).
    pace: &'a [f32],
    /// Per caravan: whether, walking at the end of yesterday, it had shrunk
    /// below `caravan_breakup` of its cohorts' people: it breaks up at the
    /// next offer.
    breaking: &'a [bool],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The parallel pass: shared resources are requested, not taken.
    A,
    /// Admitted requests continue; new requests wait for tomorrow.
    B,
}

/// Room at a place with a capacity (blocking).
const REQ_ADMIT: u8 = 0;
/// A claim slot at a place with `claims_per_day` (blocking).
const REQ_CLAIM: u8 = 1;
/// An appointment (blocking: the group waits where it asks).
const REQ_APPT: u8 = 2;
/// A place on a lawful pathway (not blocking: the group goes on meanwhile).
const REQ_PATHWAY: u8 = 3;

/// A request for a shared resource.
#[derive(Clone, Copy, Debug)]
struct Request {
    kind: u8,
    resource: u32,
    key: u64,
    agent: u32,
    size: u8,
    /// Travel left today, days.
    budget: f32,
}

/// The shared resources requests can be for: every place with a capacity,
/// every claim point with `claims_per_day`, every appointments and every
/// pathway policy. Buckets are in that order, so pathway selections are
/// settled after the day's moves.
struct Buckets {
    places: usize,
    of_place: Vec<u32>,
    of_policy: Vec<u32>,
    list: Vec<(u8, u32)>,
}

impl Buckets {
    fn new(sc: &Scenario) -> Buckets {
        let places = sc.places.len();
        let mut of_place = vec![u32::MAX; 2 * places];
        let mut of_policy = vec![u32::MAX; sc.policies.len()];
        let mut list = Vec::new();
        for (i, p) in sc.places.iter().enumerate() {
            if p.capacity.is_some() {
                of_place[i] = list.len() as u32;
                list.push((REQ_ADMIT, i as u32));
            }
        }
        for (i, p) in sc.places.iter().enumerate() {
            if p.claims && p.claims_per_day.is_some() {
                of_place[places + i] = list.len() as u32;
                list.push((REQ_CLAIM, i as u32));
            }
        }
        for kind in [REQ_APPT, REQ_PATHWAY] {
            for (i, p) in sc.policies.iter().enumerate() {
                let k = match p.kind {
                    PolicyKind::Appointments { .. } => REQ_APPT,
                    PolicyKind::Pathway { .. } => REQ_PATHWAY,
                    _ => continue,
                };
                if k == kind {
                    of_policy[i] = list.len() as u32;
                    list.push((kind, i as u32));
                }
            }
        }
        Buckets {
            places,
            of_place,
            of_policy,
            list,
        }
    }

    #[inline(always)]
    fn of(&self, kind: u8, resource: u32) -> u32 {
        match kind {
            REQ_ADMIT | REQ_CLAIM => self.of_place[kind as usize * self.places + resource as usize],
            _ => self.of_policy[resource as usize],
        }
    }
}

/// Whole units of a daily `rate` that fall on day `d` of a window, so that
/// fractional rates add up exactly over days.
fn daily_units(rate: f64, d: u32) -> u64 {
    ((rate * (d as f64 + 1.0)).floor() - (rate * d as f64).floor()).max(0.0) as u64
}

/// Decides which requests are granted: per resource, requests are taken in
/// order of (per-agent random key, agent id), and a group is admitted if it
/// fits in the room left; one that does not is skipped. Only the smallest
/// keys that could possibly be admitted are sorted (a group has at least
/// one person, so at most `room` groups fit), which keeps a queue of a
/// million requests for a few hundred places cheap. The result does not
/// depend on how requests were gathered: keys are unique and totally ordered.
///
/// Pathway places are drawn without skipping: the draw stops at the first
/// group that does not fit, and the places it leaves are carried to the
/// next day. So only the `room` smallest keys can win, and each fold of the
/// parallel pass keeps only those (see [`Acc::push`]): a million groups at
/// home applying every day cost a partial selection, not a million
/// requests. Returns the granted requests and, per bucket, the room carried.
fn admit(per: Vec<Vec<Vec<Request>>>, buckets: &Buckets, room_of: impl Fn(usize) -> u64) -> (Vec<Request>, Vec<u64>) {
    let mut out = Vec::new();
    let mut carry = vec![0u64; buckets.list.len()];
    for (b, pieces) in per.into_iter().enumerate() {
        let total: usize = pieces.iter().map(Vec::len).sum();
        if total == 0 {
            continue;
        }
        let mut reqs = Vec::with_capacity(total);
        for p in pieces {
            reqs.extend(p);
        }
        let kind = buckets.list[b].0;
        let mut room = room_of(b);
        let order = |r: &Request| (r.key, r.agent);
        let mut start = 0;
        'scan: while room > 0 && start < reqs.len() {
            let rest = &mut reqs[start..];
            let k = (room.min(rest.len() as u64)) as usize;
            if k < rest.len() {
                rest.select_nth_unstable_by_key(k - 1, order);
            }
            rest[..k].sort_unstable_by_key(order);
            for r in &rest[..k] {
                if r.size as u64 <= room {
                    room -= r.size as u64;
                    out.push(*r);
                } else if kind == REQ_PATHWAY {
                    carry[b] = room;
                    break 'scan;
                }
            }
            start += k;
        }
    }
    (out, carry)
}

/// Per-split accumulator of the parallel pass.
struct Acc {
    cols: Vec<[u64; N_COLS]>,
    /// `[cohort * places + place]`, with `--by-cohort`.
    by_cohort: Vec<[u64; N_COLS]>,
    places: usize,
    incoming: Vec<u64>,
    census: [u64; N_STATES],
    delta: [i64; N_STATES],
    /// `[cohort * N_EVENTS + e]` = (count, new distinct people).
    events: Vec<[u64; 2]>,
    /// `[bucket]`: pieces of requests, one per fold; merging moves pieces,
    /// not requests.
    requests: Vec<Vec<Vec<Request>>>,
    /// People setting out on each leg.
    legs: Vec<u64>,
    /// Per caravan: groups, people and families walking in it (empty
    /// without caravans).
    caravan: Vec<[u64; 3]>,
    /// `[caravan * places + place]`: people of the caravan at (or last
    /// leaving) each place.
    caravan_at: Vec<u64>,
    /// Per policy: the two counts of [`DayView::policies`] (empty if no
    /// policy counts).
    policy: Vec<[u64; 2]>,
}

/// What the daily accumulator counts beyond places and states.
#[derive(Clone, Copy)]
struct Extras {
    /// Caravans.
    caravans: usize,
    /// Policies counted (all of them, or none).
    policies: usize,
}

impl Acc {
    fn new(places: usize, legs: usize, cohorts: usize, buckets: usize, by_cohort: bool, x: Extras) -> Acc {
        Acc {
            caravan: vec![[0; 3]; x.caravans],
            caravan_at: vec![0; x.caravans * places],
            policy: vec![[0; 2]; x.policies],
            cols: vec![[0; N_COLS]; places],
            by_cohort: if by_cohort {
                vec![[0; N_COLS]; places * cohorts]
            } else {
                Vec::new()
            },
            places,
            incoming: vec![0; places],
            census: [0; N_STATES],
            delta: [0; N_STATES],
            events: vec![[0; 2]; cohorts * N_EVENTS],
            requests: vec![vec![Vec::new()]; buckets],
            legs: vec![0; legs],
        }
    }

    fn merge(mut self, o: Acc) -> Acc {
        for (a, b) in self
            .cols
            .iter_mut()
            .zip(&o.cols)
            .chain(self.by_cohort.iter_mut().zip(&o.by_cohort))
        {
            for c in 0..N_COLS {
                a[c] += b[c];
            }
        }
        for (a, b) in self.incoming.iter_mut().zip(&o.incoming) {
            *a += b;
        }
        for s in 0..N_STATES {
            self.census[s] += o.census[s];
            self.delta[s] += o.delta[s];
        }
        for (a, b) in self.events.iter_mut().zip(&o.events) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for (a, b) in self.requests.iter_mut().zip(o.requests) {
            a.extend(b);
        }
        for (a, b) in self.legs.iter_mut().zip(&o.legs) {
            *a += b;
        }
        for (a, b) in self.caravan.iter_mut().zip(&o.caravan) {
            for i in 0..3 {
                a[i] += b[i];
            }
        }
        for (a, b) in self.caravan_at.iter_mut().zip(&o.caravan_at) {
            *a += b;
        }
        for (a, b) in self.policy.iter_mut().zip(&o.policy) {
            a[0] += b[0];
            a[1] += b[1];
        }
        self
    }

    /// Counts a group walking in caravan `k`, or takes it back.
    #[inline]
    fn caravan_member(&mut self, k: u16, size: u8, family: bool, place: u32, take_back: bool) {
        let k = k as usize;
        let (g, p, f) = (1u64, size as u64, family as u64);
        let at = k * self.places + place as usize;
        if take_back {
            self.caravan[k][0] -= g;
            self.caravan[k][1] -= p;
            self.caravan[k][2] -= f;
            self.caravan_at[at] -= p;
        } else {
            self.caravan[k][0] += g;
            self.caravan[k][1] += p;
            self.caravan[k][2] += f;
            self.caravan_at[at] += p;
        }
    }

    /// Adds the group's people to a place column (and its cohort's).
    #[inline(always)]
    fn add(&mut self, a: &Agent, place: u32, col: Col) {
        self.cols[place as usize][col as usize] += a.size as u64;
        if !self.by_cohort.is_empty() {
            self.by_cohort[a.cohort as usize * self.places + place as usize][col as usize] += a.size as u64;
        }
    }

    #[inline(always)]
    fn sub_present(&mut self, a: &Agent) {
        self.cols[a.place as usize][Col::Present as usize] -= a.size as u64;
        if !self.by_cohort.is_empty() {
            self.by_cohort[a.cohort as usize * self.places + a.place as usize][Col::Present as usize] -= a.size as u64;
        }
    }

    #[inline(always)]
    fn set_state(&mut self, a: &mut Agent, s: State) {
        if a.state != s {
            self.delta[a.state as usize] -= a.size as i64;
            self.delta[s as usize] += a.size as i64;
            a.state = s;
        }
    }

    #[inline(always)]
    fn event(&mut self, a: &mut Agent, e: Event) {
        let i = a.cohort as usize * N_EVENTS + e as usize;
        self.events[i][0] += a.size as u64;
        let bit = 1u8 << e as u8;
        if a.seen & bit == 0 {
            a.seen |= bit;
            self.events[i][1] += a.size as u64;
        }
    }

    #[inline(always)]
    fn census(&mut self, a: &Agent, legs: &[Leg], caravan_of: &[u16]) {
        self.census[a.state as usize] += a.size as u64;
        match a.state {
            State::Waiting => self.add(a, a.place, Col::Present),
            State::Travelling => self.incoming[legs[a.leg as usize].to as usize] += a.size as u64,
            _ => {}
        }
        if a.flags & F_CARAVAN != 0 && !a.state.absorbing() {
            let family = a.traits & Trait::Family.bit() != 0;
            self.caravan_member(caravan_of[a.cohort as usize], a.size, family, a.place, false);
        }
    }

    /// Takes back [`Acc::census`] of a group that pass B will count again.
    #[inline(always)]
    fn uncensus(&mut self, a: &Agent, legs: &[Leg], caravan_of: &[u16]) {
        self.census[a.state as usize] -= a.size as u64;
        match a.state {
            State::Waiting => self.sub_present(a),
            State::Travelling => self.incoming[legs[a.leg as usize].to as usize] -= a.size as u64,
            _ => {}
        }
        if a.flags & F_CARAVAN != 0 && !a.state.absorbing() {
            let family = a.traits & Trait::Family.bit() != 0;
            self.caravan_member(caravan_of[a.cohort as usize], a.size, family, a.place, true);
        }
    }

    /// Files a request. A bucket with a cap (pathways) keeps only its
    /// `cap` smallest keys: no other can be drawn (see [`admit`]).
    #[inline(always)]
    fn push(&mut self, buckets: &Buckets, caps: &[u64], r: Request) {
        let b = buckets.of(r.kind, r.resource) as usize;
        let cap = caps.get(b).copied().unwrap_or(u64::MAX);
        if cap == 0 {
            return;
        }
        if let Some(piece) = self.requests.get_mut(b).and_then(|p| p.first_mut()) {
            piece.push(r);
            if cap != u64::MAX && piece.len() as u64 >= 2 * cap + 1024 {
                let keep = cap as usize;
                piece.select_nth_unstable_by_key(keep - 1, |r| (r.key, r.agent));
                piece.truncate(keep);
            }
        }
    }
}

/// What happens after a group reaches a place.
enum Arrival {
    /// It may go on today.
    Go,
    /// Its day ends here (or it was moved, or it left the graph).
    Stop,
}

impl World<'_> {
    #[inline(always)]
    fn informed(a: &Agent) -> bool {
        a.flags & F_INFORMED != 0
    }

    /// One agent's day, in pass A.
    #[inline]
    fn advance(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc) {
        match a.state {
            State::NotDeparted => {
                self.apply_pathway(d, a, acc);
                // Deterrence: the chance of setting out scales with how
                // the group's options look to it against the start of the
                // run. Word of mouth is heard when the group is about to
                // act on it: a daily draw that could not lead to a departure
                // whatever the group heard costs no more than before.
                let go = match a.timer {
                    DEPART_DAILY => {
                        let share = self.book.depart_share(d.epoch, a.cohort);
                        if share <= 0.0 {
                            return;
                        }
                        let u = self.depart.uniform(a.id, d.day);
                        if u >= share * self.chooser.max_depart_factor(a.cohort) {
                            return;
                        }
                        let unheard = a.flags & F_HEARD == 0 && d.heard[a.cohort as usize] > 0.0;
                        let mut bound = self.chooser.depart_factor(a, self.perceived(d, a));
                        if unheard {
                            let mut told = *a;
                            told.flags |= F_INFORMED;
                            bound = bound.max(self.chooser.depart_factor(&told, d.epoch));
                        }
                        if u >= share * bound {
                            return;
                        }
                        self.hear(d, a);
                        u < share * self.chooser.depart_factor(a, self.perceived(d, a))
                    }
                    t if t as u32 == d.day => {
                        self.hear(d, a);
                        let f = self.chooser.depart_factor(a, self.perceived(d, a));
                        f >= 1.0 || self.depart.uniform(a.id, d.day) < f
                    }
                    _ => false,
                };
                if !go {
                    return;
                }
                let perceived = self.perceived(d, a);
                // It decides at home: a group whose best option is to claim
                // where it lives, or that has none, stays at home.
                let t = self.chooser.choose(a, d.day, &self.book, perceived, d.hazard);
                if t == NONE || t == a.place {
                    if a.timer != DEPART_DAILY {
                        a.timer = DEPART_NEVER;
                    }
                    return;
                }
                acc.set_state(a, State::Waiting);
                a.target = t;
                a.epoch_seen = perceived;
                a.flags &= !F_DECIDE;
                a.timer = 0;
                if self.caravan_of[a.cohort as usize] != u16::MAX {
                    // Sets out with its caravan.
                    a.flags |= F_CARAVAN;
                }
            }
            State::Waiting => {
                a.timer = a.timer.saturating_add(1);
                self.apply_pathway(d, a, acc);
                if a.flags & F_PAPERS != 0 && !self.wait_for_papers(d, a) {
                    return;
                }
                if a.appt != NO_DAY && d.day < a.appt as u32 && a.place != a.target {
                    // An appointment holder waits where it is for its date.
                    return;
                }
            }
            State::Travelling => {}
            _ => return,
        }
        self.travel(d, a, 1.0, acc, Phase::A);
    }

    /// The epoch whose rules a group perceives today: the one in force
    /// `delay` days ago, or, from the day after it was sent back, the one in
    /// force then (being sent back is news).
    #[inline(always)]
    fn perceived(&self, d: &DayCtx, a: &Agent) -> u16 {
        let mut seen = d.day as i64 - a.delay as i64;
        if a.failed_day != NO_DAY {
            seen = seen.max((a.failed_day as u32 + 1).min(d.day) as i64);
        }
        self.book.epoch(seen)
    }

    /// Word of mouth: a group that has not yet heard of its cohort's
    /// returns hears of them once the cohort's cumulative hazard passes its
    /// own threshold, and then knows the rules in force that day.
    #[inline(always)]
    fn hear(&self, d: &DayCtx, a: &mut Agent) {
        if a.flags & F_HEARD != 0 {
            return;
        }
        let h = d.heard[a.cohort as usize];
        if h > 0.0 && self.chooser.heard(a.id, h) {
            a.flags |= F_HEARD;
            self.learn_rules(a);
        }
    }

    /// The group learns the rules in force today, and keeps up with them
    /// from then on (its news delay falls to 0: it is at the border, or in
    /// touch with those who were).
    #[inline]
    fn learn_rules(&self, a: &mut Agent) {
        if a.flags & F_INFORMED == 0 {
            // It now decides by other rules (a change of the epoch it
            // perceives is a trigger of its own).
            a.flags |= F_INFORMED | F_DECIDE;
        }
        a.delay = 0;
    }

    /// A group at home or waiting at a place where a lawful pathway is
    /// applied for applies each day; the draw is settled after the moves.
    #[inline]
    fn apply_pathway(&self, d: &DayCtx, a: &Agent, acc: &mut Acc) {
        if let Some(p) = self.book.acting(self.book.rules(d.epoch, a.place).pathway, a.class) {
            acc.push(&self.buckets, d.caps, self.request(REQ_PATHWAY, p as u32, d, a, 0.0));
        }
    }

    /// Papers: true once they are issued (or the office closed).
    fn wait_for_papers(&self, d: &DayCtx, a: &mut Agent) -> bool {
        let Some(p) = self.book.acting(self.book.rules(d.epoch, a.place).documents, a.class) else {
            a.flags &= !F_PAPERS;
            return true;
        };
        let PolicyKind::Documents { wait_days, .. } = self.sc.policies[p as usize].kind else {
            return true;
        };
        if (a.timer as u32) < wait_days {
            return false;
        }
        a.traits |= 1 << (PAPERS_BIT0 + self.book.papers_of[p as usize].min(7));
        a.class = self.book.classes.class_of(self.nat[a.cohort as usize], a.traits);
        a.flags &= !F_PAPERS;
        a.timer = 0;
        true
    }

    /// Moves an agent for `budget` days of travel, acting at every place
    /// reached, until the budget is used, it reaches its target, or a place
    /// acts on it.
    fn travel(&self, d: &DayCtx, a: &mut Agent, mut budget: f32, acc: &mut Acc, phase: Phase) {
        let mut decided = false;
        let mut events = if phase == Phase::A { self.event } else { self.event_b }.draws(a.id, d.day);
        loop {
            if a.leg != NONE {
                if a.left > budget + EPS {
                    a.left -= budget;
                    acc.set_state(a, State::Travelling);
                    return;
                }
                budget -= a.left;
                match self.arrive(d, a, acc, &mut events) {
                    Arrival::Go => continue,
                    Arrival::Stop => return,
                }
            }
            // At a place.
            acc.set_state(a, State::Waiting);
            let mut perceived = self.perceived(d, a);
            let committed = a.appt != NO_DAY;
            // A group that is in the country of its claim and only waiting
            // out the days before it may claim there (having crossed unseen
            // under the whole-border STCA, or entered as a visitor) keeps its
            // claim: it has nothing left to decide.
            let waiting_out = a.mark != NO_DAY && a.place == a.target;
            let trigger = a.flags & F_DECIDE != 0
                || a.target == NONE
                || (perceived != a.epoch_seen && !waiting_out)
                || (a.timer >= self.replan_days && !committed && !waiting_out);
            if trigger {
                if decided {
                    return;
                }
                decided = true;
                // What the cohort says of its returns is taken in when the
                // group decides.
                if a.flags & F_HEARD == 0 {
                    self.hear(d, a);
                    perceived = self.perceived(d, a);
                }
                self.decide(d, a, perceived, acc);
                if a.state.absorbing() {
                    return;
                }
            }
            if a.place == a.target {
                // At its journey's end: it leaves its caravan.
                a.flags &= !F_CARAVAN;
                if self.claims_per_day[a.place as usize] != u64::MAX {
                    if phase == Phase::A {
                        acc.push(&self.buckets, d.caps, self.request(REQ_CLAIM, a.place, d, a, budget));
                    }
                    return;
                }
                self.claim(d, a, acc);
                return;
            }
            if budget <= EPS {
                return;
            }
            // A group aiming for a port that takes claims by appointment asks
            // for one where it can, and waits there until it has one.
            if a.appt == NO_DAY {
                let rules = self.book.rules(d.epoch, a.place);
                if let Some(p) = self.book.acting(rules.appt_from, a.class) {
                    if self.book.rules(d.epoch, a.target).appt_port == Some(p) {
                        a.flags &= !F_CARAVAN;
                        if phase == Phase::A {
                            acc.push(&self.buckets, d.caps, self.request(REQ_APPT, p as u32, d, a, budget));
                        }
                        return;
                    }
                }
            }
            let next = self.next_hop(d, a, perceived);
            if next == NONE {
                // The target cannot be reached any more (a route or place
                // closed): decide again, at most once a day.
                a.flags |= F_DECIDE;
                if decided {
                    return;
                }
                continue;
            }
            let to = self.legs[next as usize].to;
            if self.capacity[to as usize] != u64::MAX {
                // Held by room at the next place, apart from its caravan.
                a.flags &= !F_CARAVAN;
                if phase == Phase::A {
                    acc.push(&self.buckets, d.caps, self.request(REQ_ADMIT, to, d, a, budget));
                }
                return;
            }
            if !self.set_out(d, a, next, acc) {
                return;
            }
        }
    }

    /// The next leg towards the group's target by the routes it plans with
    /// (those of the rules it perceives), if it can set out on it in the
    /// world as it is today; `NONE` otherwise.
    #[inline]
    fn next_hop(&self, d: &DayCtx, a: &Agent, perceived: u16) -> u32 {
        let slot = self.book.slot_of[a.target as usize] as usize;
        let next = self
            .book
            .routing(perceived, a.class, Self::informed(a))
            .next(slot, a.place);
        if next != NONE && !self.book.usable(d.epoch, a.class, next) {
            return NONE;
        }
        next
    }

    /// The end of a leg: the place acts on the group.
    fn arrive(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc, events: &mut crate::rng::Draws) -> Arrival {
        let l = &self.legs[a.leg as usize];
        let x = l.to;
        // Only people entering the crossing's country meet its rules.
        let entering = self.book.into_country[a.leg as usize];
        a.left = 0.0;
        a.leg = NONE;
        a.place = x;
        acc.set_state(a, State::Waiting);
        if self.harm_outcome && l.risk > 0.0 && self.harm.draws(a.id, d.day ^ (x << 16)).uniform() < l.risk as f64 {
            acc.set_state(a, State::DiedOrMissing);
            return Arrival::Stop;
        }
        acc.add(a, x, Col::Arrived);
        if let Some(cp) = self.book.checkpoint(self.sc, d.epoch, a.class, x) {
            if cp.papers {
                acc.policy[cp.policy as usize][0] += a.size as u64;
            }
            if events.uniform() < cp.rate {
                if cp.papers {
                    // Papers not honoured: taken, and the holder sent back.
                    acc.policy[cp.policy as usize][1] += a.size as u64;
                    a.traits &= !self.book.papers_exempting(self.sc, cp.policy);
                    a.class = self.book.classes.class_of(self.nat[a.cohort as usize], a.traits);
                }
                let ret = Return {
                    send: SendBack::To(cp.send_to),
                    bar: Bar::None,
                };
                self.fail(d, a, x, Col::Intercepted, Event::Intercepted, ret, acc);
                return Arrival::Stop;
            }
        }
        if a.flags & F_CARAVAN != 0 {
            if let Some(p) = self.book.acting(self.book.rules(d.epoch, x).offer, a.class) {
                let breaking = d.breaking[self.caravan_of[a.cohort as usize] as usize];
                if self.take_offer(a, p, breaking, acc) {
                    return Arrival::Stop;
                }
            }
        }
        let place = &self.sc.places[x as usize];
        if entering {
            // A new country by land: no longer a visitor, and a new day of entry.
            a.flags &= !F_VISITOR;
            a.mark = NO_DAY;
        } else if l.mode == Mode::Air && self.sc.places[l.from as usize].country != place.country {
            // Flown in: a lawful visitor, who may claim at the airport on
            // arrival or inland after `claim_delay_days`.
            a.flags |= F_VISITOR;
            a.mark = d.day.min(NO_DAY as u32 - 1) as u16;
        }
        if self.at_door[x as usize] && self.learn_at_door > 0.0 {
            let stale = a.flags & F_INFORMED == 0 || self.perceived(d, a) != d.epoch;
            if stale && self.word.uniform(a.id, d.day ^ (x << 16)) < self.learn_at_door {
                self.learn_rules(a);
            }
        }
        if place.kind == PlaceKind::Crossing && x != a.target && entering {
            let rules = self.book.rules(d.epoch, x);
            let mut detected = false;
            if !place.official {
                if let Some(p) = self.book.acting(rules.enforcement, a.class) {
                    if let PolicyKind::Enforcement { detection_rate, .. } = self.sc.policies[p as usize].kind {
                        if events.uniform() < detection_rate {
                            detected = true;
                            acc.add(a, x, Col::Detected);
                            acc.event(a, Event::Detected);
                            a.flags |= F_INFORMED;
                        }
                    }
                }
            }
            if place.official || detected {
                // Met by border officers: the rules of the crossing apply.
                if let Some(p) = self.book.acting(rules.stca, a.class) {
                    self.fail_by(d, a, x, p, Col::TurnedBack, Event::TurnedBack, acc);
                    return Arrival::Stop;
                }
                if let Some(p) = self.book.acting(rules.title42, a.class) {
                    if let PolicyKind::Title42 { expulsion_rate, .. } = self.sc.policies[p as usize].kind {
                        if events.uniform() < expulsion_rate {
                            self.fail_by(d, a, x, p, Col::Expelled, Event::Expelled, acc);
                            return Arrival::Stop;
                        }
                    }
                }
                if let Some(p) = self.book.acting(rules.removal, a.class) {
                    if let PolicyKind::Removal { removal_rate, .. } = self.sc.policies[p as usize].kind {
                        if events.uniform() < removal_rate {
                            self.fail_by(d, a, x, p, Col::Removed, Event::Removed, acc);
                            return Arrival::Stop;
                        }
                    }
                }
                if detected && place.claims {
                    // Apprehended between ports: the claim is made here.
                    self.claim(d, a, acc);
                    return Arrival::Stop;
                }
            } else if self.book.acting(rules.stca, a.class).is_some() {
                // Crossed between ports unseen under a whole-border STCA: a
                // claim inland must wait out `claim_within_days`.
                a.mark = d.day.min(NO_DAY as u32 - 1) as u16;
            }
        }
        if let Some(p) = self.book.acting(self.book.rules(d.epoch, x).documents, a.class) {
            let bit = 1u16 << (PAPERS_BIT0 + self.book.papers_of[p as usize].min(7));
            if a.traits & bit == 0 {
                a.flags |= F_PAPERS;
                a.flags &= !F_CARAVAN;
                a.timer = 0;
                return Arrival::Stop;
            }
        }
        if x == a.target {
            return Arrival::Go;
        }
        if self.capacity[x as usize] != u64::MAX {
            // A place with a capacity holds the group for the night.
            return Arrival::Stop;
        }
        Arrival::Go
    }

    /// An offer made to a group walking in a caravan: it takes it with the
    /// offer's `uptake` (one draw per group and offer: a group that
    /// declined declines again), or surely if its caravan is breaking up
    /// (`caravan_breakup`), and then has its papers and is taken where the
    /// offer says, out of its caravan. True if it took it.
    fn take_offer(&self, a: &mut Agent, p: u16, breaking: bool, acc: &mut Acc) -> bool {
        let PolicyKind::Offer {
            uptake,
            send_to,
            ref papers,
            ..
        } = self.sc.policies[p as usize].kind
        else {
            return false;
        };
        let bit = 1u16 << (PAPERS_BIT0 + self.book.papers_of[p as usize].min(7));
        if papers.is_some() && a.traits & bit != 0 {
            return false;
        }
        acc.policy[p as usize][0] += a.size as u64;
        if !breaking && self.offer.uniform(a.id, p as u32) >= uptake {
            return false;
        }
        acc.policy[p as usize][1] += a.size as u64;
        if papers.is_some() {
            a.traits |= bit;
            a.class = self.book.classes.class_of(self.nat[a.cohort as usize], a.traits);
        }
        let to = match send_to {
            SendTo::Place(q) => q,
            SendTo::Origin => self.origin[a.cohort as usize],
        };
        self.moved(a, to);
        true
    }

    /// A forced move: the group waits where it was sent and decides again.
    fn moved(&self, a: &mut Agent, to: PlaceIx) {
        a.place = to;
        a.leg = NONE;
        a.flags |= F_DECIDE | F_INFORMED;
        a.flags &= !F_CARAVAN;
        a.timer = 0;
    }

    /// Sent back from `x` by policy `p` (the STCA, Title 42, a removal).
    #[allow(clippy::too_many_arguments)]
    fn fail_by(&self, d: &DayCtx, a: &mut Agent, x: PlaceIx, p: u16, col: Col, e: Event, acc: &mut Acc) {
        let ret = self.book.return_at(d.epoch, a.class, x).unwrap_or(Return {
            send: SendBack::NearSide,
            bar: Bar::None,
        });
        debug_assert!(self.book.acting(Some(p), a.class).is_some());
        self.fail(d, a, x, col, e, ret, acc);
    }

    /// A failure at `x` (turned back, expelled, removed, intercepted): the
    /// group is counted, remembers the door it was making for and the day,
    /// perceives the rules in force from the next day, takes the bar the
    /// failure brings, and waits where it is sent.
    #[allow(clippy::too_many_arguments)]
    fn fail(&self, d: &DayCtx, a: &mut Agent, x: PlaceIx, col: Col, e: Event, ret: Return, acc: &mut Acc) {
        acc.add(a, x, col);
        acc.event(a, e);
        let slot_of = |p: u32| {
            if p == NONE {
                u32::MAX
            } else {
                self.book.slot_of[p as usize]
            }
        };
        let slot = match slot_of(a.target) {
            u32::MAX => slot_of(x),
            s => s,
        };
        let door = if slot < NO_DOOR as u32 { slot as u16 } else { NO_DOOR };
        let count = (a.barred & FAIL_COUNT) >> 6;
        let count = if door == a.failed && door != NO_DOOR {
            (count + 1).min(3)
        } else {
            1
        };
        a.failed = door;
        a.barred = (a.barred & !FAIL_COUNT) | (count << 6);
        a.failed_day = d.day.min(NO_DAY as u32 - 2) as u16;
        if let Some(dest) = Dest::of(self.sc.places[x as usize].country) {
            let bit = 1u8 << dest as u8;
            let forever = a.barred & bit != 0 && a.barred & (bit << 3) == 0;
            match ret.bar {
                Bar::None => {}
                Bar::Forever => {
                    a.barred = (a.barred | bit) & !(bit << 3);
                }
                Bar::Days(n) if !forever => {
                    let until = (d.day + n).min(NO_DAY as u32 - 1) as u16;
                    let active = a.barred & BAR_TEMPORARY != 0 && (d.day as u16) < a.bar_until;
                    a.bar_until = if active { a.bar_until.max(until) } else { until };
                    a.barred |= bit | (bit << 3);
                }
                Bar::Days(_) => {}
            }
            debug_assert!(a.barred & BARRED != 0 || ret.bar == Bar::None);
        }
        a.mark = NO_DAY;
        a.appt = NO_DAY;
        a.flags &= !F_VISITOR;
        let to = match ret.send {
            SendBack::NearSide => match self.near_side[x as usize] {
                NONE => x,
                n => n,
            },
            SendBack::To(SendTo::Origin) => self.origin[a.cohort as usize],
            SendBack::To(SendTo::Place(p)) => p,
        };
        self.moved(a, to);
    }

    fn request(&self, kind: u8, resource: u32, d: &DayCtx, a: &Agent, budget: f32) -> Request {
        Request {
            kind,
            resource,
            key: self.queue.word(a.id, d.day ^ ((kind as u32) << 28)),
            agent: a.id,
            size: a.size,
            budget,
        }
    }

    /// Sets out on a leg, paying its cost. False if the group cannot pay.
    /// On foot, a group walks at its own pace (a family at `family_pace`),
    /// or, in a caravan, at the caravan's; other transport takes it out of
    /// its caravan.
    #[inline]
    fn set_out(&self, d: &DayCtx, a: &mut Agent, leg: u32, acc: &mut Acc) -> bool {
        let l = &self.legs[leg as usize];
        if l.cost_usd > a.budget {
            a.flags |= F_DECIDE;
            return false;
        }
        a.budget -= l.cost_usd;
        acc.add(a, a.place, Col::Departed);
        acc.legs[leg as usize] += a.size as u64;
        a.leg = leg;
        a.left = l.days;
        if l.mode == Mode::Walk {
            let pace = if a.flags & F_CARAVAN != 0 {
                d.pace[self.caravan_of[a.cohort as usize] as usize]
            } else if a.traits & Trait::Family.bit() != 0 {
                self.family_pace
            } else {
                1.0
            };
            if pace != 1.0 {
                a.left = l.days / pace;
            }
        } else {
            a.flags &= !F_CARAVAN;
        }
        a.timer = 0;
        acc.set_state(a, State::Travelling);
        true
    }

    fn decide(&self, d: &DayCtx, a: &mut Agent, perceived: u16, acc: &mut Acc) {
        let t = self.chooser.choose(a, d.day, &self.book, perceived, d.hazard);
        a.epoch_seen = perceived;
        a.timer = 0;
        a.flags &= !F_DECIDE;
        if t != a.target {
            a.appt = NO_DAY;
        }
        a.target = t;
        if t == NONE {
            let s = match self.no_target {
                NoTarget::Settle => State::SettledIrregular,
                NoTarget::ReturnHome => State::ReturnedHome,
            };
            acc.set_state(a, s);
        }
    }

    /// A claim at the place the group is at, under the rules in force.
    fn claim(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc) {
        let x = a.place;
        let rules = self.book.rules(d.epoch, x);
        let holder = a.appt != NO_DAY;
        if self.book.acting(rules.appt_port, a.class).is_some() {
            if !holder {
                // Turned away without an appointment.
                a.flags |= F_DECIDE | F_INFORMED;
                return;
            }
            if d.day < a.appt as u32 {
                return;
            }
        }
        if let Some(p) = self.book.acting(rules.stca, a.class) {
            self.fail_by(d, a, x, p, Col::TurnedBack, Event::TurnedBack, acc);
            return;
        }
        if let Some(p) = self
            .book
            .acting(self.book.epochs[d.epoch as usize].stca_inland, a.class)
        {
            if let PolicyKind::Stca {
                border,
                claim_within_days,
                ..
            } = self.sc.policies[p as usize].kind
            {
                let place = &self.sc.places[x as usize];
                if place.country == border.north
                    && place.kind != PlaceKind::Crossing
                    && a.mark != NO_DAY
                    && a.flags & F_VISITOR == 0
                    && d.day < a.mark as u32 + claim_within_days
                {
                    // Waits out the days since crossing before claiming.
                    return;
                }
            }
        }
        if a.flags & F_VISITOR != 0 && a.mark != NO_DAY {
            let kind = self.sc.places[x as usize].kind;
            if kind != PlaceKind::Airport
                && kind != PlaceKind::Crossing
                && d.day < a.mark as u32 + self.claim_delay[a.cohort as usize]
            {
                // A visitor claims inland after `claim_delay_days`.
                return;
            }
        }
        if !holder {
            let mut draws = self.claim.draws(a.id, d.day);
            let u = draws.uniform();
            if let Some(p) = self.book.acting(rules.title42, a.class) {
                if let PolicyKind::Title42 { expulsion_rate, .. } = self.sc.policies[p as usize].kind {
                    if u < expulsion_rate {
                        self.fail_by(d, a, x, p, Col::Expelled, Event::Expelled, acc);
                        return;
                    }
                }
            }
            if let Some(p) = self.book.acting(rules.removal, a.class) {
                if let PolicyKind::Removal { removal_rate, .. } = self.sc.policies[p as usize].kind {
                    if draws.uniform() < removal_rate {
                        self.fail_by(d, a, x, p, Col::Removed, Event::Removed, acc);
                        return;
                    }
                }
            }
        }
        let slot = self.book.slot_of[x as usize] as usize;
        if slot != u32::MAX as usize && self.book.openness(d.epoch, a.class, false, slot) > 0.0 {
            let s = match self.chooser.target_dest[slot] {
                crate::scenario::Dest::MX => State::ClaimedMx,
                crate::scenario::Dest::US => State::ClaimedUs,
                crate::scenario::Dest::CA => State::ClaimedCa,
            };
            acc.add(a, x, Col::Claims);
            acc.set_state(a, s);
        } else {
            a.flags |= F_DECIDE | F_INFORMED;
        }
    }
}

/// Everything a run carries from one day to the next besides its
/// scenario: what a checkpoint saves (`state`) and what a forecast's
/// members continue from. Draws are counter-based (keyed by seed, stream,
/// agent and day), so no generator position is kept: the seeds and the day
/// are the whole of the randomness.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EngineState {
    /// The population's seed (group sizes, traits; thresholds of learning).
    pub seed: u64,
    /// The seed of the days' draws (the population's unless reseeded).
    pub dynamics: u64,
    /// The next day to simulate.
    pub day: u32,
    /// People in all cohorts.
    pub people: u64,
    /// Every agent column.
    pub agents: Agents,
    /// Per claim point (target slot): the cumulative hazard of learning it.
    pub hazard: Vec<f64>,
    /// Claims per claim point on each day of the learning window, oldest first.
    pub window: Vec<Vec<u64>>,
    /// Per cohort: the cumulative hazard of hearing of its returns.
    pub heard: Vec<f64>,
    /// Per cohort: people sent back on each day of the window, oldest first.
    pub returns: Vec<Vec<u64>>,
    /// People waiting at each place at the end of the last day.
    pub present: Vec<u64>,
    /// People on their way to each place at the end of the last day.
    pub incoming: Vec<u64>,
    /// People per state by the transition counters.
    pub state_people: [i64; N_STATES],
    /// People per state by the census of the last day.
    pub states: [u64; N_STATES],
    /// `[cohort * events + event]`: person-events and distinct people so far.
    pub events: Vec<[u64; 2]>,
    /// The last day's place counts.
    pub cols: Vec<[u64; N_COLS]>,
    /// People who set out on each leg on the last day.
    pub leg_flows: Vec<u64>,
    /// Pathway places carried to the next day, by policy id.
    pub carry: Vec<(String, u64)>,
}

/// A simulation in progress.
pub struct Engine<'s> {
    w: World<'s>,
    agents: Agents,
    /// Id of this process's first agent (0 unless partitioned).
    id_base: u32,
    ex: &'s dyn Exchange,
    /// The seed of the population and of what its groups are (their
    /// thresholds of learning).
    seed: u64,
    /// The seed of the days' draws (`seed`, unless continued with fresh
    /// draws: [`Engine::reseed`]).
    dynamics: u64,
    day: u32,
    people: u64,
    hazard: Vec<f64>,
    learn_rate: f64,
    window: std::collections::VecDeque<Vec<u64>>,
    window_sum: Vec<u64>,
    /// Per cohort: the cumulative hazard of hearing of its returns.
    heard: Vec<f64>,
    heard_rate: f64,
    /// Per cohort: people of the cohort sent back on each day of the
    /// learning window, and their sum.
    returns: std::collections::VecDeque<Vec<u64>>,
    returns_sum: Vec<u64>,
    present: Vec<u64>,
    incoming: Vec<u64>,
    state_people: [i64; N_STATES],
    states: [u64; N_STATES],
    events: Vec<[u64; 2]>,
    cols: Vec<[u64; N_COLS]>,
    by_cohort_cols: Vec<[u64; N_COLS]>,
    leg_flows: Vec<u64>,
    /// Pathway places left by a group too large for them, per request bucket.
    carry: Vec<u64>,
    /// What the day's accumulator counts beyond places and states.
    extras: Extras,
    /// Each caravan at the end of the last day.
    caravan_days: Vec<CaravanDay>,
    /// Per caravan: whether any group of its cohorts is a family.
    caravan_slow: Vec<bool>,
    /// Per caravan: the people of its cohorts (who all set out with it).
    caravan_people: Vec<u64>,
    /// Per policy, the last day's counts of [`DayView::policies`].
    policy_counts: Vec<[u64; 2]>,
    build_s: f64,
}

impl<'s> Engine<'s> {
    /// Builds the population and every table.
    pub fn new(sc: &'s Scenario, seed: u64) -> Engine<'s> {
        Engine::with_config(sc, seed, false)
    }

    /// As [`Engine::new`], keeping place counts per cohort if `by_cohort`.
    pub fn with_config(sc: &'s Scenario, seed: u64, by_cohort: bool) -> Engine<'s> {
        let t0 = Instant::now();
        let agents = agents::build(sc, seed);
        let people = agents.people();
        Engine::with_agents(sc, seed, agents, t0, by_cohort, 0, people, &Local)
    }

    /// An engine that continues from a saved state (checked with
    /// `state::check` against `sc`), keeping place counts per cohort if
    /// `by_cohort`. The population is not built again: it is in the state.
    pub fn from_state(sc: &'s Scenario, st: EngineState, by_cohort: bool) -> Engine<'s> {
        let mut e = Engine::with_agents(
            sc,
            st.seed,
            Agents::default(),
            Instant::now(),
            by_cohort,
            0,
            st.people,
            &Local,
        );
        e.load(st);
        e
    }

    /// The part of a run that this process of `ex` steps: agents
    /// `[n·r/P, n·(r+1)/P)` of the whole population (ids unchanged), with
    /// the day's requests gathered and counts summed over all processes, so
    /// that results do not depend on P.
    pub fn partitioned(sc: &'s Scenario, seed: u64, by_cohort: bool, ex: &'s dyn Exchange) -> Engine<'s> {
        let t0 = Instant::now();
        let (mine, lo) = agents::build_part(sc, seed, ex.rank(), ex.size().max(1));
        let people = sc.people();
        Engine::with_agents(sc, seed, mine, t0, by_cohort, lo, people, ex)
    }

    #[allow(clippy::too_many_arguments)]
    fn with_agents(
        sc: &'s Scenario,
        seed: u64,
        mut agents: Agents,
        t0: Instant,
        by_cohort: bool,
        id_base: u32,
        people: u64,
        ex: &'s dyn Exchange,
    ) -> Engine<'s> {
        let graph = Graph::new(sc);
        let book = PolicyBook::new(sc, &graph);
        let chooser = Chooser::new(sc, &book, seed);
        let nat: Vec<u16> = sc
            .cohorts
            .iter()
            .map(|c| book.classes.nat_group(c.nationality))
            .collect();
        {
            let classes = &book.classes;
            agents
                .class
                .par_iter_mut()
                .zip(agents.traits.par_iter())
                .zip(agents.cohort.par_iter())
                .for_each(|((cl, &tr), &co)| *cl = classes.class_of(nat[co as usize], tr));
        }
        let n = sc.places.len();
        // The census of the population as built: everyone at home, or, for
        // a stock, waiting at a place or on a leg (summed over processes).
        let mut census = vec![0u64; N_STATES + 2 * n];
        for i in 0..agents.len() {
            let k = agents.size[i] as u64;
            census[agents.state[i] as usize] += k;
            match State::from_u8(agents.state[i]) {
                State::Waiting => census[N_STATES + agents.place[i] as usize] += k,
                State::Travelling => census[N_STATES + n + sc.legs[agents.leg[i] as usize].to as usize] += k,
                _ => {}
            }
        }
        ex.sum_u64(&mut census);
        let states: [u64; N_STATES] = std::array::from_fn(|s| census[s]);
        let state_people: [i64; N_STATES] = std::array::from_fn(|s| census[s] as i64);
        let b = &sc.behaviour;
        let w = World {
            sc,
            legs: &sc.legs,
            capacity: sc.places.iter().map(|p| p.capacity.unwrap_or(u64::MAX)).collect(),
            claims_per_day: sc
                .places
                .iter()
                .map(|p| {
                    if p.claims {
                        p.claims_per_day.unwrap_or(u64::MAX)
                    } else {
                        u64::MAX
                    }
                })
                .collect(),
            near_side: sc.places.iter().map(|p| p.near_side.unwrap_or(NONE)).collect(),
            at_door: {
                let mut v = vec![false; sc.places.len()];
                for p in &sc.places {
                    if let (PlaceKind::Crossing, Some(n)) = (p.kind, p.near_side) {
                        v[n as usize] = true;
                    }
                }
                v
            },
            origin: sc.cohorts.iter().map(|c| c.origin).collect(),
            claim_delay: sc.cohorts.iter().map(|c| c.claim_delay_days).collect(),
            learn_at_door: b.learn_at_door,
            nat,
            buckets: Buckets::new(sc),
            replan_days: b.replan_days.min(u16::MAX as u32) as u16,
            no_target: b.no_target,
            harm_outcome: b.harm_outcome,
            by_cohort,
            harm: Key::new(seed, Stream::Harm),
            word: Key::new(seed, Stream::Word),
            depart: Key::new(seed, Stream::Depart),
            queue: Key::new(seed, Stream::Queue),
            claim: Key::new(seed, Stream::Claim),
            event: Key::new(seed, Stream::Event),
            event_b: Key::new(seed ^ 0xb5ad_4ece_da1c_e2a9, Stream::Event),
            offer: Key::new(seed, Stream::Offer),
            caravan_of: sc.cohorts.iter().map(|c| c.caravan.unwrap_or(u16::MAX)).collect(),
            family_pace: b.family_pace as f32,
            book,
            chooser,
        };
        // Policies whose people are counted: offers, and checkpoints that
        // do not always honour papers.
        let counted = sc.policies.iter().any(|p| match p.kind {
            PolicyKind::Offer { .. } => true,
            PolicyKind::Checkpoint { honour_rate, .. } => honour_rate < 1.0,
            _ => false,
        });
        let extras = Extras {
            caravans: sc.caravans.len(),
            policies: if counted { sc.policies.len() } else { 0 },
        };
        // Before they set out, caravans are as slow as their slowest group:
        // a family, if any of their cohorts' groups is one.
        // (Counted over every process of a partitioned run.)
        let mut slow = vec![0u64; sc.caravans.len()];
        for (c, t) in agents.cohort.iter().zip(&agents.traits) {
            if let Some(k) = sc.cohorts[*c as usize].caravan {
                slow[k as usize] += (t & Trait::Family.bit() != 0) as u64;
            }
        }
        if !slow.is_empty() {
            ex.sum_u64(&mut slow);
        }
        let caravan_slow: Vec<bool> = slow.iter().map(|&n| n > 0).collect();
        let targets = w.book.targets.len();
        Engine {
            learn_rate: hazard_rate(b.learn_per_user),
            window: std::collections::VecDeque::new(),
            window_sum: vec![0; targets],
            heard: vec![0.0; sc.cohorts.len()],
            heard_rate: hazard_rate(b.learn_per_return),
            returns: std::collections::VecDeque::new(),
            returns_sum: vec![0; sc.cohorts.len()],
            hazard: vec![0.0; targets],
            present: census[N_STATES..N_STATES + n].to_vec(),
            incoming: census[N_STATES + n..].to_vec(),
            state_people,
            states,
            events: vec![[0; 2]; sc.cohorts.len() * N_EVENTS],
            cols: vec![[0; N_COLS]; n],
            by_cohort_cols: Vec::new(),
            leg_flows: vec![0; sc.legs.len()],
            carry: vec![0; w.buckets.list.len()],
            extras,
            caravan_days: vec![CaravanDay::default(); sc.caravans.len()],
            caravan_slow,
            caravan_people: sc
                .caravans
                .iter()
                .enumerate()
                .map(|(k, _)| {
                    sc.cohorts
                        .iter()
                        .filter(|c| c.caravan == Some(k as u16))
                        .map(|c| c.people)
                        .sum()
                })
                .collect(),
            policy_counts: vec![[0; 2]; extras.policies],
            agents,
            id_base,
            ex,
            seed,
            dynamics: seed,
            day: 0,
            people,
            build_s: t0.elapsed().as_secs_f64(),
            w,
        }
    }

    /// The agents.
    pub fn agents(&self) -> &Agents {
        &self.agents
    }

    /// The scenario it runs.
    pub fn scenario(&self) -> &'s Scenario {
        self.w.sc
    }

    /// Draws the days from here on with `seed` (the population and what
    /// its groups know stay as they are): a forecast's members continue a
    /// shared past with draws of their own.
    pub fn reseed(&mut self, seed: u64) {
        self.dynamics = seed;
        let w = &mut self.w;
        w.harm = Key::new(seed, Stream::Harm);
        w.word = Key::new(seed, Stream::Word);
        w.depart = Key::new(seed, Stream::Depart);
        w.queue = Key::new(seed, Stream::Queue);
        w.claim = Key::new(seed, Stream::Claim);
        w.event = Key::new(seed, Stream::Event);
        w.event_b = Key::new(seed ^ 0xb5ad_4ece_da1c_e2a9, Stream::Event);
        w.offer = Key::new(seed, Stream::Offer);
        w.chooser.reseed(self.seed, seed);
    }

    /// The state carried to the next day (a copy).
    pub fn state(&self) -> EngineState {
        self.state_with(self.agents.clone())
    }

    /// The state carried to the next day, moving the agents out (the
    /// engine holds none until [`Engine::load`]).
    pub fn take_state(&mut self) -> EngineState {
        let agents = std::mem::take(&mut self.agents);
        self.state_with(agents)
    }

    fn state_with(&self, agents: Agents) -> EngineState {
        let sc = self.w.sc;
        EngineState {
            seed: self.seed,
            dynamics: self.dynamics,
            day: self.day,
            people: self.people,
            agents,
            hazard: self.hazard.clone(),
            window: self.window.iter().cloned().collect(),
            heard: self.heard.clone(),
            returns: self.returns.iter().cloned().collect(),
            present: self.present.clone(),
            incoming: self.incoming.clone(),
            state_people: self.state_people,
            states: self.states,
            events: self.events.clone(),
            cols: self.cols.clone(),
            leg_flows: self.leg_flows.clone(),
            carry: self
                .w
                .buckets
                .list
                .iter()
                .zip(&self.carry)
                .filter(|(&(kind, _), &c)| c > 0 && (kind == REQ_PATHWAY || kind == REQ_APPT))
                .map(|(&(_, res), &c)| (sc.policies[res as usize].id.clone(), c))
                .collect(),
        }
    }

    /// Continues from a saved state: the day, the agents, what was
    /// learned, the queues' carried room, the seeds. The state must fit
    /// the scenario (`state::check` says whether it does); only the
    /// single-process engine loads one.
    pub fn load(&mut self, st: EngineState) {
        let sc = self.w.sc;
        let targets = self.w.book.targets.len();
        self.seed = st.seed;
        self.reseed(st.dynamics);
        self.day = st.day;
        self.people = st.people;
        self.agents = st.agents;
        {
            let (classes, nat) = (&self.w.book.classes, &self.w.nat);
            let a = &mut self.agents;
            a.class
                .par_iter_mut()
                .zip(a.traits.par_iter())
                .zip(a.cohort.par_iter())
                .for_each(|((cl, &tr), &co)| *cl = classes.class_of(nat[co as usize], tr));
        }
        self.hazard = st.hazard;
        self.hazard.resize(targets, 0.0);
        // A shorter learning window (a changed scenario) drops the oldest days.
        let keep = sc.behaviour.learn_window_days as usize;
        let skip = st.window.len().saturating_sub(keep);
        self.window = st.window.into_iter().skip(skip).collect();
        self.window_sum = vec![0; targets];
        for d in &self.window {
            for (s, x) in self.window_sum.iter_mut().zip(d) {
                *s += x;
            }
        }
        let skip = st.returns.len().saturating_sub(keep);
        self.returns = st.returns.into_iter().skip(skip).collect();
        self.returns_sum = vec![0; sc.cohorts.len()];
        for d in &self.returns {
            for (s, x) in self.returns_sum.iter_mut().zip(d) {
                *s += x;
            }
        }
        self.heard = st.heard;
        self.present = st.present;
        self.incoming = st.incoming;
        self.state_people = st.state_people;
        self.states = st.states;
        self.events = st.events;
        self.cols = st.cols;
        self.by_cohort_cols = Vec::new();
        self.leg_flows = st.leg_flows;
        self.carry = self
            .w
            .buckets
            .list
            .iter()
            .map(|&(kind, res)| {
                // Only a policy's bucket carries places (a place's bucket
                // holds a place index, not a policy's).
                if kind != REQ_PATHWAY && kind != REQ_APPT {
                    return 0;
                }
                let id = &sc.policies[res as usize].id;
                st.carry.iter().find(|(p, _)| p == id).map(|(_, c)| *c).unwrap_or(0)
            })
            .collect();
    }

    /// The next day to simulate.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// Whether every day has been simulated.
    pub fn done(&self) -> bool {
        self.day >= self.w.sc.calendar.days
    }

    /// People per state at the end of the last day.
    pub fn states(&self) -> [u64; N_STATES] {
        self.states
    }

    /// Place counts of the last day.
    pub fn places(&self) -> &[[u64; N_COLS]] {
        &self.cols
    }

    /// Simulates one day.
    pub fn step(&mut self) -> Result<(), EngineError> {
        let day = self.day;
        let w = &self.w;
        let sc = w.sc;
        // Each bucket's room today (capacities from yesterday's counts).
        let room: Vec<u64> =
            w.buckets
                .list
                .iter()
                .enumerate()
                .map(|(b, &(kind, res))| match kind {
                    REQ_ADMIT => w.capacity[res as usize]
                        .saturating_sub(self.present[res as usize] + self.incoming[res as usize]),
                    REQ_CLAIM => w.claims_per_day[res as usize],
                    _ => {
                        let p = &sc.policies[res as usize];
                        let rate = match p.kind {
                            PolicyKind::Appointments { slots_per_day, .. } => slots_per_day,
                            PolicyKind::Pathway { quota_per_year, .. } => quota_per_year / 365.0,
                            _ => 0.0,
                        };
                        daily_units(rate, day.saturating_sub(p.from)) + self.carry[b]
                    }
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
        let breakup = w.sc.behaviour.caravan_breakup;
        let breaking: Vec<bool> = self
            .caravan_days
            .iter()
            .zip(&self.caravan_people)
            .map(|(c, &all)| breakup > 0.0 && c.people > 0 && (c.people as f64) < breakup * all as f64)
            .collect();
        let ctx = DayCtx {
            day,
            epoch: w.book.epoch(day as i64),
            hazard: &self.hazard,
            heard: &self.heard,
            caps: &caps,
            pace: &pace,
            breaking: &breaking,
        };
        let extras = self.extras;
        let caravan_of = &w.caravan_of;
        let any_caravan = extras.caravans > 0;
        let places = w.sc.places.len();
        let cohorts = w.sc.cohorts.len();
        let legs = w.legs;
        let id_base = self.id_base;
        // For the fast paths at home, once a day: the places where a
        // pathway is applied for, and per cohort the bound of the daily
        // departure draw (`World::advance`'s first test, the same product).
        let pathway_at: Vec<bool> = (0..places as u32)
            .map(|p| w.book.rules(ctx.epoch, p).pathway.is_some())
            .collect();
        let depart_bound: Vec<f64> = (0..cohorts as u16)
            .map(|c| {
                let share = w.book.depart_share(ctx.epoch, c);
                if share <= 0.0 {
                    0.0
                } else {
                    share * w.chooser.max_depart_factor(c)
                }
            })
            .collect();
        // Pass A: every agent, in parallel over fixed chunks.
        let acc = self
            .agents
            .chunks_mut(CHUNK)
            .into_par_iter()
            .fold(
                || Acc::new(places, legs.len(), cohorts, w.buckets.list.len(), w.by_cohort, extras),
                |mut acc, mut ch| {
                    for i in 0..ch.state.len() {
                        let st = ch.state[i];
                        if State::from_u8(st).absorbing() {
                            acc.census[st as usize] += ch.size[i] as u64;
                            continue;
                        }
                        // Fast paths, with exactly the arithmetic of the
                        // full path: a group in the middle of a multi-day
                        // leg costs no decision work until it arrives, and
                        // one waiting at home for its departure day costs
                        // a comparison.
                        if st == State::Travelling as u8 && ch.left[i] > 1.0 + EPS {
                            ch.left[i] -= 1.0;
                            acc.census[st as usize] += ch.size[i] as u64;
                            acc.incoming[legs[ch.leg[i] as usize].to as usize] += ch.size[i] as u64;
                            if any_caravan && ch.flags[i] & F_CARAVAN != 0 {
                                let family = ch.traits[i] & Trait::Family.bit() != 0;
                                acc.caravan_member(
                                    caravan_of[ch.cohort[i] as usize],
                                    ch.size[i],
                                    family,
                                    ch.place[i],
                                    false,
                                );
                            }
                            continue;
                        }
                        if st == State::NotDeparted as u8 && !pathway_at[ch.place[i] as usize] {
                            let t = ch.timer[i];
                            if t != DEPART_DAILY && t as u32 != day {
                                acc.census[st as usize] += ch.size[i] as u64;
                                continue;
                            }
                            // A group at home that draws its departure each
                            // day: the first test of `World::advance`, with
                            // the same draw, without copying the group out.
                            if t == DEPART_DAILY {
                                let bound = depart_bound[ch.cohort[i] as usize];
                                if bound <= 0.0 || w.depart.uniform(id_base + ch.base + i as u32, day) >= bound {
                                    acc.census[st as usize] += ch.size[i] as u64;
                                    continue;
                                }
                            }
                        }
                        let mut a = ch.load(i, id_base + ch.base + i as u32);
                        w.advance(&ctx, &mut a, &mut acc);
                        ch.store(i, &a);
                        // A requester is counted where it is; if granted,
                        // pass B takes that back and counts it again.
                        acc.census(&a, legs, caravan_of);
                    }
                    acc
                },
            )
            .reduce_with(Acc::merge);
        let mut acc =
            acc.unwrap_or_else(|| Acc::new(places, legs.len(), cohorts, w.buckets.list.len(), w.by_cohort, extras));
        // Admission: per resource, requests in order of (per-agent key, id).
        let mut requests = std::mem::take(&mut acc.requests);
        if self.ex.size() > 1 {
            requests = exchange_requests(self.ex, requests);
        }
        let (admitted, carry) = admit(requests, &w.buckets, |b| room[b]);
        self.carry = carry;
        // Pass B: the granted, in bucket and admission order. Requesters
        // were counted where they were; each is taken back and counted again.
        let local = id_base..id_base + self.agents.len() as u32;
        for r in admitted.iter().filter(|r| local.contains(&r.agent)) {
            let idx = (r.agent - id_base) as usize;
            let mut a = self.agents.load(idx, r.agent);
            if a.state.absorbing() {
                continue;
            }
            acc.uncensus(&a, legs, caravan_of);
            match r.kind {
                REQ_ADMIT => {
                    let next = w.next_hop(&ctx, &a, w.perceived(&ctx, &a));
                    if next != NONE && w.set_out(&ctx, &mut a, next, &mut acc) {
                        w.travel(&ctx, &mut a, r.budget, &mut acc, Phase::B);
                    }
                }
                REQ_CLAIM => w.claim(&ctx, &mut a, &mut acc),
                REQ_APPT => {
                    let lead = match sc.policies[r.resource as usize].kind {
                        PolicyKind::Appointments { lead_days, .. } => lead_days,
                        _ => 0,
                    };
                    a.appt = (day + lead).min(NO_DAY as u32 - 1) as u16;
                    if lead == 0 {
                        w.travel(&ctx, &mut a, r.budget, &mut acc, Phase::B);
                    }
                }
                _ => acc.set_state(&mut a, State::EnteredLawfully),
            }
            self.agents.store(idx, &a);
            acc.census(&a, legs, caravan_of);
        }
        if self.ex.size() > 1 {
            sum_over_processes(self.ex, &mut acc);
        }
        // Conservation: the census of the state column against the
        // counters kept from transitions, and against the cohorts' people.
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
        // Learning: people who claimed at each claim point over the window.
        if w.sc.behaviour.learn_per_user > 0.0 {
            let today: Vec<u64> = w
                .book
                .targets
                .iter()
                .map(|&t| acc.cols[t as usize][Col::Claims as usize])
                .collect();
            for (s, x) in self.window_sum.iter_mut().zip(&today) {
                *s += x;
            }
            self.window.push_back(today);
            if self.window.len() > w.sc.behaviour.learn_window_days as usize {
                if let Some(old) = self.window.pop_front() {
                    for (s, x) in self.window_sum.iter_mut().zip(&old) {
                        *s -= x;
                    }
                }
            }
            for (h, &users) in self.hazard.iter_mut().zip(&self.window_sum) {
                *h += users as f64 * self.learn_rate;
            }
        }
        // Word of mouth: people of each cohort sent back over the window
        // raise the cohort's hazard of hearing of it.
        if w.sc.behaviour.learn_per_return > 0.0 {
            let today: Vec<u64> = (0..cohorts)
                .map(|c| {
                    [Event::TurnedBack, Event::Expelled, Event::Intercepted, Event::Removed]
                        .iter()
                        .map(|&e| acc.events[c * N_EVENTS + e as usize][0])
                        .sum()
                })
                .collect();
            for (s, x) in self.returns_sum.iter_mut().zip(&today) {
                *s += x;
            }
            self.returns.push_back(today);
            if self.returns.len() > w.sc.behaviour.learn_window_days as usize {
                if let Some(old) = self.returns.pop_front() {
                    for (s, x) in self.returns_sum.iter_mut().zip(&old) {
                        *s -= x;
                    }
                }
            }
            for (h, &n) in self.heard.iter_mut().zip(&self.returns_sum) {
                *h += n as f64 * self.heard_rate;
            }
        }
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
                pace_km_per_day: pace[k] as f64 * w.sc.behaviour.speed_km_per_day[Mode::Walk as usize],
            };
        }
        self.day += 1;
        Ok(())
    }

    /// The view of the last simulated day, for recorders.
    pub fn view(&self) -> DayView<'_> {
        let day = self.day.saturating_sub(1);
        DayView {
            day,
            date: self.w.sc.calendar.date_of(day),
            places: &self.cols,
            by_cohort: &self.by_cohort_cols,
            legs: &self.leg_flows,
            states: self.states,
            agents: &self.agents,
            scenario: self.w.sc,
            caravans: &self.caravan_days,
            policies: &self.policy_counts,
        }
    }

    /// The end-of-run result (also checks the per-cohort census against
    /// the daily counters).
    pub fn result(&self, sim_s: f64) -> Result<RunResult, EngineError> {
        let cohorts = self.w.sc.cohorts.len();
        let mut flat = vec![0u64; cohorts * N_STATES + 1];
        for i in 0..self.agents.len() {
            flat[self.agents.cohort[i] as usize * N_STATES + self.agents.state[i] as usize] +=
                self.agents.size[i] as u64;
        }
        flat[cohorts * N_STATES] = self.agents.len() as u64;
        self.ex.sum_u64(&mut flat);
        let agents = flat[cohorts * N_STATES] as usize;
        let outcomes: Vec<[u64; N_STATES]> = (0..cohorts)
            .map(|c| std::array::from_fn(|s| flat[c * N_STATES + s]))
            .collect();
        let mut states = [0u64; N_STATES];
        for o in &outcomes {
            for s in 0..N_STATES {
                states[s] += o[s];
            }
        }
        if states != self.states {
            return Err(EngineError::Conservation {
                day: self.day.saturating_sub(1),
                detail: format!(
                    "end-of-run census {:?} differs from the last day's {:?}",
                    states, self.states
                ),
            });
        }
        for (ci, (o, c)) in outcomes.iter().zip(&self.w.sc.cohorts).enumerate() {
            let sum: u64 = o.iter().sum();
            if sum != c.people {
                return Err(EngineError::Conservation {
                    day: self.day.saturating_sub(1),
                    detail: format!(
                        "cohort {} ({ci}) has {sum} people in its outcomes, {} declared",
                        c.id, c.people
                    ),
                });
            }
        }
        let events = (0..self.w.sc.cohorts.len())
            .map(|c| std::array::from_fn(|e| self.events[c * N_EVENTS + e]))
            .collect();
        Ok(RunResult {
            seed: self.seed,
            agents,
            people: self.people,
            days: self.day,
            outcomes,
            events,
            states,
            build_s: self.build_s,
            sim_s,
        })
    }

    #[cfg(test)]
    fn agents_mut(&mut self) -> &mut Agents {
        &mut self.agents
    }
}

/// Communication between the processes of a run spread over several (MPI);
/// [`Local`] is the single process. Every operation gives the same result
/// whatever the number of processes: sums are of integers, and gathered
/// data is in rank order.
pub trait Exchange: Sync {
    /// This process's rank.
    fn rank(&self) -> usize;
    /// Number of processes.
    fn size(&self) -> usize;
    /// Sums `buf` element-wise over all processes, in place, on every process.
    fn sum_u64(&self, buf: &mut [u64]);
    /// Every process's bytes, in rank order, on every process.
    fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>>;
    /// Every process's bytes, in rank order, on rank 0 (empty elsewhere).
    fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>>;
}

/// The single process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Local;

impl Exchange for Local {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn sum_u64(&self, _buf: &mut [u64]) {}
    fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>> {
        vec![local.to_vec()]
    }
    fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>> {
        vec![local.to_vec()]
    }
}

/// Gathers every process's requests (their order does not matter: admission
/// sorts by key and agent id).
fn exchange_requests(ex: &dyn Exchange, local: Vec<Vec<Vec<Request>>>) -> Vec<Vec<Vec<Request>>> {
    let mut words: Vec<u64> = Vec::new();
    for (b, pieces) in local.iter().enumerate() {
        for r in pieces.iter().flatten() {
            words.push(b as u64);
            words.push(r.key);
            words.push((r.agent as u64) << 32 | r.resource as u64);
            words.push((r.kind as u64) << 40 | (r.size as u64) << 32 | r.budget.to_bits() as u64);
        }
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut out: Vec<Vec<Vec<Request>>> = vec![vec![Vec::new()]; local.len()];
    for part in ex.all_gather(&bytes) {
        let w: Vec<u64> = part
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        for q in w.chunks_exact(4) {
            let r = Request {
                kind: (q[3] >> 40) as u8,
                resource: q[2] as u32,
                key: q[1],
                agent: (q[2] >> 32) as u32,
                size: (q[3] >> 32) as u8,
                budget: f32::from_bits(q[3] as u32),
            };
            if let Some(piece) = out.get_mut(q[0] as usize).and_then(|p| p.first_mut()) {
                piece.push(r);
            }
        }
    }
    out
}

/// Sums the day's counts over all processes (two's-complement sums keep
/// the signed deltas exact).
fn sum_over_processes(ex: &dyn Exchange, acc: &mut Acc) {
    let mut w: Vec<u64> = Vec::new();
    for c in acc.cols.iter().chain(&acc.by_cohort) {
        w.extend_from_slice(c);
    }
    w.extend_from_slice(&acc.incoming);
    w.extend_from_slice(&acc.census);
    w.extend(acc.delta.iter().map(|d| *d as u64));
    for e in &acc.events {
        w.extend_from_slice(e);
    }
    w.extend_from_slice(&acc.legs);
    for c in &acc.caravan {
        w.extend_from_slice(c);
    }
    w.extend_from_slice(&acc.caravan_at);
    for p in &acc.policy {
        w.extend_from_slice(p);
    }
    ex.sum_u64(&mut w);
    let mut it = w.into_iter();
    let mut next = || it.next().unwrap_or(0);
    for c in acc.cols.iter_mut().chain(acc.by_cohort.iter_mut()) {
        for x in c.iter_mut() {
            *x = next();
        }
    }
    for x in acc.incoming.iter_mut() {
        *x = next();
    }
    for x in acc.census.iter_mut() {
        *x = next();
    }
    for x in acc.delta.iter_mut() {
        *x = next() as i64;
    }
    for e in acc.events.iter_mut() {
        for x in e.iter_mut() {
            *x = next();
        }
    }
    for x in acc.legs.iter_mut() {
        *x = next();
    }
    for c in acc.caravan.iter_mut() {
        for x in c.iter_mut() {
            *x = next();
        }
    }
    for x in acc.caravan_at.iter_mut() {
        *x = next();
    }
    for p in acc.policy.iter_mut() {
        for x in p.iter_mut() {
            *x = next();
        }
    }
}

/// The daily hazard per recent user (or return) of a daily chance `p` of
/// learning from each: −ln(1 − p), kept finite for p = 1.
fn hazard_rate(p: f64) -> f64 {
    -(1.0 - p.min(1.0 - 1e-12)).ln()
}

/// A worker pool of `threads` threads (`None`: all cores).
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, EngineError> {
    let n = threads.unwrap_or(0);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| EngineError::Threads {
            threads: n,
            reason: e.to_string(),
        })
}

/// Runs a scenario to its end, handing every day to the recorders, on a
/// pool of `cfg.threads` threads.
pub fn run(sc: &Scenario, cfg: &RunConfig, recorders: &mut [&mut dyn Recorder]) -> Result<RunResult, EngineError> {
    pool(cfg.threads)?.install(|| run_here(sc, cfg, recorders))
}

/// As [`run`], on the current rayon pool (for replicates run side by side
/// on one pool). `cfg.threads` is ignored.
pub fn run_here(sc: &Scenario, cfg: &RunConfig, recorders: &mut [&mut dyn Recorder]) -> Result<RunResult, EngineError> {
    let engine = Engine::with_config(sc, cfg.seed.unwrap_or(sc.seed), cfg.by_cohort);
    drive(engine, recorders)
}

/// Runs this process's part of a run spread over the processes of `ex`
/// (see [`Engine::partitioned`]). Recorders see the whole run's counts.
pub fn run_partitioned(
    sc: &Scenario,
    cfg: &RunConfig,
    ex: &dyn Exchange,
    recorders: &mut [&mut dyn Recorder],
) -> Result<RunResult, EngineError> {
    pool(cfg.threads)?.install(|| {
        let engine = Engine::partitioned(sc, cfg.seed.unwrap_or(sc.seed), cfg.by_cohort, ex);
        drive(engine, recorders)
    })
}

fn drive(mut engine: Engine<'_>, recorders: &mut [&mut dyn Recorder]) -> Result<RunResult, EngineError> {
    let t0 = Instant::now();
    while !engine.done() {
        engine.step()?;
        let view = engine.view();
        for r in recorders.iter_mut() {
            r.day(&view)?;
        }
    }
    engine.result(t0.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_bytes;

    #[test]
    fn a_lost_group_is_reported_loudly() {
        let text = include_str!("../tests/fixtures/chain.toml");
        let sc = load_bytes(text.as_bytes(), std::path::Path::new("chain.toml")).expect("fixture loads");
        let mut e = Engine::new(&sc, sc.seed);
        // The chain's walkers set out on day 1.
        e.step().expect("day 0 conserves people");
        e.step().expect("day 1 conserves people");
        // Corrupt one agent's state behind the engine's back.
        let agents = e.agents_mut();
        let i = agents
            .state
            .iter()
            .position(|&s| s == State::Travelling as u8 || s == State::Waiting as u8)
            .expect("someone is on the move");
        agents.state[i] = State::ClaimedCa as u8;
        match e.step() {
            Err(EngineError::Conservation { .. }) => {}
            other => panic!("expected a conservation error, got {other:?}"),
        }
    }
}
