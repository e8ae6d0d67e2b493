//! The daily step: decide → admit (capacities, queues) → move → act →
//! record, in parallel over fixed chunks of agents, with counts reduced
//! exactly.
//!
//! Owns the simulation state and the run loop. Does no I/O: results go to
//! [`Recorder`]s. Invariants: results are a pure function of the scenario and
//! seed whatever the thread count (fixed chunks, integer reductions, queue
//! order by per-agent keys); people in all states equal the people of all
//! cohorts every day, checked against counters kept from transitions.

use crate::agents::{self, Agent, Agents, CohortRanges, Event, State, DEPART_DAILY, F_DECIDE, N_EVENTS, N_STATES};
use crate::behaviour::Chooser;
use crate::graph::Graph;
use crate::policy::PolicyBook;
use crate::rng::{Key, Stream};
use crate::scenario::{Departure, Leg, NoTarget, PlaceIx, Scenario, SendTo, NONE};
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
}

/// Number of place columns.
pub const N_COLS: usize = 8;

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
}

/// What one day looked like, handed to recorders.
pub struct DayView<'a> {
    /// Day number (0 = start).
    pub day: u32,
    /// Its date.
    pub date: NaiveDate,
    /// Counts per place, in people (`[place][Col]`).
    pub places: &'a [[u64; N_COLS]],
    /// People in each state at the end of the day.
    pub states: [u64; N_STATES],
    /// The agents, for traces.
    pub agents: &'a Agents,
    /// The scenario.
    pub scenario: &'a Scenario,
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
#[derive(Clone, Debug)]
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
    origin: Vec<PlaceIx>,
    /// `[kind * places + place]` → index of the request bucket (`u32::MAX`: none).
    buckets: Buckets,
    /// Daily departure chance per cohort.
    depart_share: Vec<f64>,
    replan_days: u16,
    no_target: NoTarget,
    depart: Key,
    queue: Key,
    claim: Key,
    event: Key,
    event_b: Key,
}

/// One day's context.
struct DayCtx<'a> {
    day: u32,
    epoch: u16,
    hazard: &'a [f64],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The parallel pass: shared resources are requested, not taken.
    A,
    /// Admitted requests continue; new requests wait for tomorrow.
    B,
}

const REQ_ADMIT: u8 = 0;
const REQ_CLAIM: u8 = 1;

/// A request for a shared resource: a place's capacity, or a claim slot.
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

/// The shared resources requests can be for: every place with a capacity
/// (admission) and every claim point with `claims_per_day`.
struct Buckets {
    of: Vec<u32>,
    list: Vec<(u8, u32)>,
}

impl Buckets {
    fn new(sc: &Scenario) -> Buckets {
        let places = sc.places.len();
        let mut of = vec![u32::MAX; 2 * places];
        let mut list = Vec::new();
        for (kind, has) in [
            (REQ_ADMIT, &|p: &crate::scenario::Place| p.capacity.is_some()),
            (REQ_CLAIM, &|p: &crate::scenario::Place| {
                p.claims && p.claims_per_day.is_some()
            }),
        ] as [(u8, &dyn Fn(&crate::scenario::Place) -> bool); 2]
        {
            for (i, p) in sc.places.iter().enumerate() {
                if has(p) {
                    of[kind as usize * places + i] = list.len() as u32;
                    list.push((kind, i as u32));
                }
            }
        }
        Buckets { of, list }
    }
}

/// Decides which requests are granted: per resource, requests are taken in
/// order of (per-agent random key, agent id), and a group is admitted if it
/// fits in the room left; one that does not is skipped. Only the smallest
/// keys that could possibly be admitted are sorted (a group has at least
/// one person, so at most `room` groups fit), which keeps a queue of a
/// million requests for a few hundred places cheap. The result does not
/// depend on how requests were gathered: keys are unique and totally ordered.
fn admit(per: Vec<Vec<Vec<Request>>>, buckets: &Buckets, room_of: impl Fn(u8, u32) -> u64) -> Vec<Request> {
    let mut out = Vec::new();
    for (b, pieces) in per.into_iter().enumerate() {
        let total: usize = pieces.iter().map(Vec::len).sum();
        if total == 0 {
            continue;
        }
        let mut reqs = Vec::with_capacity(total);
        for p in pieces {
            reqs.extend(p);
        }
        let (kind, res) = buckets.list[b];
        let mut room = room_of(kind, res);
        let order = |r: &Request| (r.key, r.agent);
        let mut start = 0;
        while room > 0 && start < reqs.len() {
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
                }
            }
            start += k;
        }
    }
    out
}

/// Per-split accumulator of the parallel pass.
struct Acc {
    cols: Vec<[u64; N_COLS]>,
    incoming: Vec<u64>,
    census: [u64; N_STATES],
    delta: [i64; N_STATES],
    /// `[cohort * N_EVENTS + e]` = (count, new distinct people).
    events: Vec<[u64; 2]>,
    /// `[bucket]`: pieces of requests, one per fold; merging moves pieces,
    /// not requests.
    requests: Vec<Vec<Vec<Request>>>,
}

impl Acc {
    fn new(places: usize, cohorts: usize, buckets: usize) -> Acc {
        Acc {
            cols: vec![[0; N_COLS]; places],
            incoming: vec![0; places],
            census: [0; N_STATES],
            delta: [0; N_STATES],
            events: vec![[0; 2]; cohorts * N_EVENTS],
            requests: vec![vec![Vec::new()]; buckets],
        }
    }

    fn merge(mut self, o: Acc) -> Acc {
        for (a, b) in self.cols.iter_mut().zip(&o.cols) {
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
        self
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
    fn census(&mut self, a: &Agent, legs: &[Leg]) {
        self.census[a.state as usize] += a.size as u64;
        match a.state {
            State::Waiting => self.cols[a.place as usize][Col::Present as usize] += a.size as u64,
            State::Travelling => self.incoming[legs[a.leg as usize].to as usize] += a.size as u64,
            _ => {}
        }
    }
}

impl World<'_> {
    /// One agent's day. Returns a request when it needs a shared resource
    /// (phase A only); the agent then waits for the admission step.
    #[inline]
    fn advance(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc) -> Option<Request> {
        match a.state {
            State::NotDeparted => {
                let go = match a.timer {
                    DEPART_DAILY => self.depart.uniform(a.id, d.day) < self.depart_share[a.cohort as usize],
                    t => t as u32 == d.day,
                };
                if !go {
                    return None;
                }
                acc.set_state(a, State::Waiting);
                a.flags |= F_DECIDE;
                a.timer = 0;
            }
            State::Waiting => a.timer = a.timer.saturating_add(1),
            State::Travelling => {}
            _ => return None,
        }
        self.travel(d, a, 1.0, acc, Phase::A)
    }

    /// Moves an agent for `budget` days of travel, acting at every place
    /// reached, until the budget is used, it reaches its target, or a place
    /// acts on it.
    fn travel(&self, d: &DayCtx, a: &mut Agent, mut budget: f32, acc: &mut Acc, phase: Phase) -> Option<Request> {
        let mut decided = false;
        let mut events = if phase == Phase::A { self.event } else { self.event_b }.draws(a.id, d.day);
        loop {
            if a.leg != NONE {
                let l = &self.legs[a.leg as usize];
                if a.left > budget + EPS {
                    a.left -= budget;
                    acc.set_state(a, State::Travelling);
                    return None;
                }
                budget -= a.left;
                a.left = 0.0;
                a.leg = NONE;
                a.place = l.to;
                acc.set_state(a, State::Waiting);
                acc.cols[l.to as usize][Col::Arrived as usize] += a.size as u64;
                if let Some(cp) = self.book.checkpoint(d.epoch, a.class, l.to) {
                    if events.uniform() < cp.rate as f64 {
                        acc.cols[l.to as usize][Col::Intercepted as usize] += a.size as u64;
                        acc.event(a, Event::Intercepted);
                        a.place = match cp.send_to {
                            SendTo::Place(p) => p,
                            SendTo::Origin => self.origin[a.cohort as usize],
                        };
                        a.flags |= F_DECIDE;
                        a.timer = 0;
                        return None;
                    }
                }
                if l.to != a.target && self.capacity[l.to as usize] != u64::MAX {
                    // A place with a capacity holds the group for the night.
                    return None;
                }
                continue;
            }
            // At a place.
            acc.set_state(a, State::Waiting);
            let perceived = self.book.epoch(d.day as i64 - a.delay as i64);
            let trigger =
                a.flags & F_DECIDE != 0 || a.target == NONE || perceived != a.epoch_seen || a.timer >= self.replan_days;
            if trigger {
                if decided {
                    return None;
                }
                decided = true;
                self.decide(d, a, perceived, acc);
                if a.state.absorbing() {
                    return None;
                }
            }
            if a.place == a.target {
                if self.claims_per_day[a.place as usize] != u64::MAX {
                    return (phase == Phase::A).then(|| self.request(REQ_CLAIM, a.place, d, a, budget));
                }
                self.claim(d, a, acc);
                return None;
            }
            if budget <= EPS {
                return None;
            }
            let slot = self.book.slot_of[a.target as usize] as usize;
            let next = self.book.routing(d.epoch, a.class).next(slot, a.place);
            if next == NONE {
                // The target cannot be reached any more (a route or place
                // closed): decide again, at most once a day.
                a.flags |= F_DECIDE;
                if decided {
                    return None;
                }
                continue;
            }
            let to = self.legs[next as usize].to;
            if self.capacity[to as usize] != u64::MAX {
                return (phase == Phase::A).then(|| self.request(REQ_ADMIT, to, d, a, budget));
            }
            if !self.set_out(a, next, acc) {
                return None;
            }
        }
    }

    fn request(&self, kind: u8, resource: PlaceIx, d: &DayCtx, a: &Agent, budget: f32) -> Request {
        Request {
            kind,
            resource,
            key: self.queue.word(a.id, d.day),
            agent: a.id,
            size: a.size,
            budget,
        }
    }

    /// Sets out on a leg, paying its cost. False if the group cannot pay.
    #[inline]
    fn set_out(&self, a: &mut Agent, leg: u32, acc: &mut Acc) -> bool {
        let l = &self.legs[leg as usize];
        if l.cost_usd > a.budget {
            a.flags |= F_DECIDE;
            return false;
        }
        a.budget -= l.cost_usd;
        acc.cols[a.place as usize][Col::Departed as usize] += a.size as u64;
        a.leg = leg;
        a.left = l.days;
        a.timer = 0;
        acc.set_state(a, State::Travelling);
        true
    }

    fn decide(&self, d: &DayCtx, a: &mut Agent, perceived: u16, acc: &mut Acc) {
        let t = self.chooser.choose(a, d.day, &self.book, d.epoch, perceived, d.hazard);
        a.epoch_seen = perceived;
        a.timer = 0;
        a.flags &= !F_DECIDE;
        a.target = t;
        if t == NONE {
            let s = match self.no_target {
                NoTarget::Settle => State::SettledIrregular,
                NoTarget::ReturnHome => State::ReturnedHome,
            };
            acc.set_state(a, s);
        }
    }

    /// A claim at the agent's target, let in with the true openness.
    fn claim(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc) {
        let slot = self.book.slot_of[a.place as usize] as usize;
        let open = self.book.openness(d.epoch, a.class, slot);
        if self.claim.uniform(a.id, d.day) < open as f64 {
            let s = match self.chooser.target_dest[slot] {
                crate::scenario::Dest::MX => State::ClaimedMx,
                crate::scenario::Dest::US => State::ClaimedUs,
                crate::scenario::Dest::CA => State::ClaimedCa,
            };
            acc.cols[a.place as usize][Col::Claims as usize] += a.size as u64;
            acc.set_state(a, s);
        } else {
            a.flags |= F_DECIDE;
        }
    }
}

/// A simulation in progress.
pub struct Engine<'s> {
    w: World<'s>,
    agents: Agents,
    ranges: CohortRanges,
    seed: u64,
    day: u32,
    people: u64,
    hazard: Vec<f64>,
    learn_rate: f64,
    window: std::collections::VecDeque<Vec<u64>>,
    window_sum: Vec<u64>,
    present: Vec<u64>,
    incoming: Vec<u64>,
    state_people: [i64; N_STATES],
    states: [u64; N_STATES],
    events: Vec<[u64; 2]>,
    cols: Vec<[u64; N_COLS]>,
    build_s: f64,
}

impl<'s> Engine<'s> {
    /// Builds the population and every table.
    pub fn new(sc: &'s Scenario, seed: u64) -> Engine<'s> {
        let t0 = Instant::now();
        let (agents, ranges) = agents::build(sc, seed);
        Engine::with_agents(sc, seed, agents, ranges, t0)
    }

    fn with_agents(sc: &'s Scenario, seed: u64, mut agents: Agents, ranges: CohortRanges, t0: Instant) -> Engine<'s> {
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
        let people = agents.people();
        let mut state_people = [0i64; N_STATES];
        state_people[State::NotDeparted as usize] = people as i64;
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
            origin: sc.cohorts.iter().map(|c| c.origin).collect(),
            buckets: Buckets::new(sc),
            depart_share: sc
                .cohorts
                .iter()
                .map(|c| match c.departure {
                    Departure::Share(p) => p,
                    _ => 0.0,
                })
                .collect(),
            replan_days: b.replan_days.min(u16::MAX as u32) as u16,
            no_target: b.no_target,
            depart: Key::new(seed, Stream::Depart),
            queue: Key::new(seed, Stream::Queue),
            claim: Key::new(seed, Stream::Claim),
            event: Key::new(seed, Stream::Event),
            event_b: Key::new(seed ^ 0xb5ad_4ece_da1c_e2a9, Stream::Event),
            book,
            chooser,
        };
        let targets = w.book.targets.len();
        let mut states = [0u64; N_STATES];
        states[State::NotDeparted as usize] = people;
        Engine {
            learn_rate: -(1.0 - b.learn_per_user).ln(),
            window: std::collections::VecDeque::new(),
            window_sum: vec![0; targets],
            hazard: vec![0.0; targets],
            present: vec![0; n],
            incoming: vec![0; n],
            state_people,
            states,
            events: vec![[0; 2]; sc.cohorts.len() * N_EVENTS],
            cols: vec![[0; N_COLS]; n],
            agents,
            ranges,
            seed,
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
        let ctx = DayCtx {
            day,
            epoch: w.book.epoch(day as i64),
            hazard: &self.hazard,
        };
        let places = w.sc.places.len();
        let cohorts = w.sc.cohorts.len();
        let legs = w.legs;
        // Pass A: every agent, in parallel over fixed chunks.
        let acc = self
            .agents
            .chunks_mut(CHUNK)
            .into_par_iter()
            .fold(
                || Acc::new(places, cohorts, w.buckets.list.len()),
                |mut acc, mut ch| {
                    for i in 0..ch.state.len() {
                        if State::from_u8(ch.state[i]).absorbing() {
                            acc.census[ch.state[i] as usize] += ch.size[i] as u64;
                            continue;
                        }
                        let mut a = ch.load(i, ch.base + i as u32);
                        let req = w.advance(&ctx, &mut a, &mut acc);
                        ch.store(i, &a);
                        // A requester is counted waiting where it is; if
                        // admitted, pass B moves it and counts it again.
                        acc.census(&a, legs);
                        if let Some(r) = req {
                            let b = w.buckets.of[r.kind as usize * places + r.resource as usize] as usize;
                            if let Some(piece) = acc.requests.get_mut(b).and_then(|p| p.first_mut()) {
                                piece.push(r);
                            }
                        }
                    }
                    acc
                },
            )
            .reduce_with(Acc::merge);
        let mut acc = acc.unwrap_or_else(|| Acc::new(places, cohorts, w.buckets.list.len()));
        // Admission: per resource, requests in order of (per-agent key, id).
        let requests = std::mem::take(&mut acc.requests);
        let admitted = admit(requests, &w.buckets, |kind, res| {
            if kind == REQ_ADMIT {
                w.capacity[res as usize].saturating_sub(self.present[res as usize] + self.incoming[res as usize])
            } else {
                w.claims_per_day[res as usize]
            }
        });
        // Pass B: the admitted, in admission order. Requesters were counted
        // as waiting where they are; the admitted are counted again after.
        for r in &admitted {
            let idx = r.agent as usize;
            let mut a = self.agents.load(idx, r.agent);
            acc.census[State::Waiting as usize] -= a.size as u64;
            acc.cols[a.place as usize][Col::Present as usize] -= a.size as u64;
            match r.kind {
                REQ_ADMIT => {
                    let slot = w.book.slot_of[a.target as usize] as usize;
                    let next = w.book.routing(ctx.epoch, a.class).next(slot, a.place);
                    if next != NONE && w.set_out(&mut a, next, &mut acc) {
                        w.travel(&ctx, &mut a, r.budget, &mut acc, Phase::B);
                    }
                }
                _ => w.claim(&ctx, &mut a, &mut acc),
            }
            self.agents.store(idx, &a);
            acc.census(&a, legs);
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
        for (e, x) in self.events.iter_mut().zip(&acc.events) {
            e[0] += x[0];
            e[1] += x[1];
        }
        self.present = acc.cols.iter().map(|c| c[Col::Present as usize]).collect();
        self.incoming = acc.incoming;
        self.states = acc.census;
        self.cols = acc.cols;
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
            states: self.states,
            agents: &self.agents,
            scenario: self.w.sc,
        }
    }

    /// The end-of-run result (also checks the per-cohort census against
    /// the daily counters).
    pub fn result(&self, sim_s: f64) -> Result<RunResult, EngineError> {
        let mut outcomes = vec![[0u64; N_STATES]; self.w.sc.cohorts.len()];
        for (ci, r) in self.ranges.0.iter().enumerate() {
            for i in r.start as usize..r.end as usize {
                outcomes[ci][self.agents.state[i] as usize] += self.agents.size[i] as u64;
            }
        }
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
            agents: self.agents.len(),
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

/// Runs a scenario to its end, handing every day to the recorders.
pub fn run(sc: &Scenario, cfg: &RunConfig, recorders: &mut [&mut dyn Recorder]) -> Result<RunResult, EngineError> {
    let threads = cfg.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| EngineError::Threads {
            threads,
            reason: e.to_string(),
        })?;
    pool.install(|| {
        let mut engine = Engine::new(sc, cfg.seed.unwrap_or(sc.seed));
        let t0 = Instant::now();
        while !engine.done() {
            engine.step()?;
            let view = engine.view();
            for r in recorders.iter_mut() {
                r.day(&view)?;
            }
        }
        engine.result(t0.elapsed().as_secs_f64())
    })
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
