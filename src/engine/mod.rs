//! The daily step: decide → admit (capacities, queues) → move → act →
//! record, in parallel over fixed chunks of agents, with counts reduced
//! exactly.
//!
//! Owns the simulation state and the run loop. Does no I/O: results go to
//! [`Recorder`]s. Invariants: results are a pure function of the scenario and
//! seed whatever the thread count (fixed chunks, integer reductions, queue
//! order by per-agent keys); people in all states equal the people of all
//! cohorts every day, checked against counters kept from transitions.

use crate::agents::{self, Agents, State, N_EVENTS, N_STATES};
use crate::behaviour::Chooser;
use crate::graph::Graph;
use crate::policy::PolicyBook;
use crate::rng::{Key, Stream};
use crate::scenario::{PlaceKind, Scenario, Trait, NONE};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::time::Instant;

mod admission;
mod exchange;
mod step;
mod tallies;
mod world;

use admission::{Buckets, REQ_APPT, REQ_PATHWAY};
pub use exchange::{Exchange, Local};
use tallies::Extras;
pub use tallies::{Col, N_COLS};
use world::World;

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
            buckets: Buckets::new(sc, &book.queues),
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
        let counted = w.book.counted;
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
        let text = include_str!("../../tests/fixtures/chain.toml");
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
