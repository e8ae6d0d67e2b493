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
use crate::scenario::{Scenario, Trait};
use chrono::NaiveDate;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::Instant;

mod admission;
mod exchange;
mod prepared;
mod step;
mod stock;
mod tallies;
mod world;

use admission::{REQ_APPT, REQ_PATHWAY};
pub use exchange::{Exchange, Local};
pub use prepared::Prepared;
pub use tallies::{Col, N_COLS};

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
    /// A message between processes could not be made or read.
    #[error(transparent)]
    Wire(#[from] crate::wire::WireError),
    /// A process of a partitioned run failed: on rank 0 another process's
    /// failure, which it reports; on the other ranks the failure rank 0
    /// reports (quiet).
    #[error("{0}")]
    Rank(#[from] crate::experiment::RankError),
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

/// The agents one engine steps, and the processes they are part of.
struct Part<'s> {
    agents: Agents,
    /// Id of the first agent.
    id_base: u32,
    /// People of the whole run.
    people: u64,
    ex: &'s dyn Exchange,
}

/// `p`, checked to have been built from a scenario of `sc`'s shape.
fn fitted<'s>(p: &'s Prepared, sc: &Scenario) -> &'s Prepared {
    assert!(
        p.fits(sc),
        "engine: prepared tables of another scenario (places, legs, cohorts or policies differ)"
    );
    p
}

/// A simulation in progress.
pub struct Engine<'s> {
    /// The scenario's tables: built by this engine, or shared by every
    /// run of the scenario ([`Engine::from_prepared`]).
    prep: Cow<'s, Prepared>,
    sc: &'s Scenario,
    /// Keep place counts per cohort.
    by_cohort: bool,
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
    window: std::collections::VecDeque<Vec<u64>>,
    window_sum: Vec<u64>,
    /// Per cohort: the cumulative hazard of hearing of its returns.
    heard: Vec<f64>,
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
    /// Each caravan at the end of the last day.
    caravan_days: Vec<CaravanDay>,
    /// Per caravan: whether any group of its cohorts is a family.
    caravan_slow: Vec<bool>,
    /// Per policy, the last day's counts of [`DayView::policies`].
    policy_counts: Vec<[u64; 2]>,
    /// This process's standing counts at the end of the last day (`None`:
    /// counted from the columns on the next day).
    stock: Option<stock::Stock>,
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
        Engine::built(Cow::Owned(Prepared::new(sc)), sc, seed, by_cohort, t0)
    }

    /// As [`Engine::with_config`], with the scenario's tables built
    /// beforehand by [`Prepared::new`]`(sc)` and shared: only the
    /// population is built. Gives exactly the run of `with_config`.
    ///
    /// # Panics
    /// If `p` was built from a scenario of another shape than `sc`.
    pub fn from_prepared(p: &'s Prepared, sc: &'s Scenario, seed: u64, by_cohort: bool) -> Engine<'s> {
        Engine::built(Cow::Borrowed(fitted(p, sc)), sc, seed, by_cohort, Instant::now())
    }

    fn built(prep: Cow<'s, Prepared>, sc: &'s Scenario, seed: u64, by_cohort: bool, t0: Instant) -> Engine<'s> {
        let agents = agents::build(sc, seed);
        let people = agents.people();
        let part = Part {
            agents,
            id_base: 0,
            people,
            ex: &Local,
        };
        Engine::with_agents(prep, sc, seed, part, t0, by_cohort)
    }

    /// An engine that continues from a saved state (checked with
    /// `state::check` against `sc`), keeping place counts per cohort if
    /// `by_cohort`. The population is not built again: it is in the state.
    pub fn from_state(sc: &'s Scenario, st: EngineState, by_cohort: bool) -> Engine<'s> {
        Engine::continued(Cow::Owned(Prepared::new(sc)), sc, st, by_cohort)
    }

    /// As [`Engine::from_state`], with the scenario's tables prepared.
    ///
    /// # Panics
    /// If `p` was built from a scenario of another shape than `sc`.
    pub fn from_state_prepared(p: &'s Prepared, sc: &'s Scenario, st: EngineState, by_cohort: bool) -> Engine<'s> {
        Engine::continued(Cow::Borrowed(fitted(p, sc)), sc, st, by_cohort)
    }

    fn continued(prep: Cow<'s, Prepared>, sc: &'s Scenario, st: EngineState, by_cohort: bool) -> Engine<'s> {
        let part = Part {
            agents: Agents::default(),
            id_base: 0,
            people: st.people,
            ex: &Local,
        };
        let mut e = Engine::with_agents(prep, sc, st.seed, part, Instant::now(), by_cohort);
        e.load(st);
        e
    }

    /// The part of a run that this process of `ex` steps: agents
    /// `[n·r/P, n·(r+1)/P)` of the whole population (ids unchanged), with
    /// the day's requests gathered and counts summed over all processes, so
    /// that results do not depend on P.
    pub fn partitioned(sc: &'s Scenario, seed: u64, by_cohort: bool, ex: &'s dyn Exchange) -> Engine<'s> {
        let t0 = Instant::now();
        Engine::parted(Cow::Owned(Prepared::new(sc)), sc, seed, by_cohort, ex, t0)
    }

    /// As [`Engine::partitioned`], with the scenario's tables prepared.
    ///
    /// # Panics
    /// If `p` was built from a scenario of another shape than `sc`.
    pub fn partitioned_prepared(
        p: &'s Prepared,
        sc: &'s Scenario,
        seed: u64,
        by_cohort: bool,
        ex: &'s dyn Exchange,
    ) -> Engine<'s> {
        Engine::parted(Cow::Borrowed(fitted(p, sc)), sc, seed, by_cohort, ex, Instant::now())
    }

    fn parted(
        prep: Cow<'s, Prepared>,
        sc: &'s Scenario,
        seed: u64,
        by_cohort: bool,
        ex: &'s dyn Exchange,
        t0: Instant,
    ) -> Engine<'s> {
        let (agents, id_base) = agents::build_part(sc, seed, ex.rank(), ex.size().max(1));
        let part = Part {
            agents,
            id_base,
            people: sc.people(),
            ex,
        };
        Engine::with_agents(prep, sc, seed, part, t0, by_cohort)
    }

    /// An engine over the agents of `part`, with the census of the
    /// population as built: everyone at home, or, for a stock, waiting at
    /// a place or on a leg (summed over processes).
    fn with_agents(
        prep: Cow<'s, Prepared>,
        sc: &'s Scenario,
        seed: u64,
        part: Part<'s>,
        t0: Instant,
        by_cohort: bool,
    ) -> Engine<'s> {
        let Part {
            agents,
            id_base,
            people,
            ex,
        } = part;
        let n = sc.places.len();
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
        let targets = prep.book.targets.len();
        let policies = prep.extras.policies;
        Engine {
            window: VecDeque::new(),
            window_sum: vec![0; targets],
            heard: vec![0.0; sc.cohorts.len()],
            returns: VecDeque::new(),
            returns_sum: vec![0; sc.cohorts.len()],
            hazard: vec![0.0; targets],
            present: census[N_STATES..N_STATES + n].to_vec(),
            incoming: census[N_STATES + n..].to_vec(),
            state_people: std::array::from_fn(|s| census[s] as i64),
            states: std::array::from_fn(|s| census[s]),
            events: vec![[0; 2]; sc.cohorts.len() * N_EVENTS],
            cols: vec![[0; N_COLS]; n],
            by_cohort_cols: Vec::new(),
            leg_flows: vec![0; sc.legs.len()],
            carry: vec![0; prep.buckets.list.len()],
            caravan_days: vec![CaravanDay::default(); sc.caravans.len()],
            caravan_slow: slow.iter().map(|&n| n > 0).collect(),
            policy_counts: vec![[0; 2]; policies],
            stock: None,
            agents,
            id_base,
            ex,
            seed,
            dynamics: seed,
            day: 0,
            people,
            build_s: t0.elapsed().as_secs_f64(),
            prep,
            sc,
            by_cohort,
        }
    }

    /// The agents.
    pub fn agents(&self) -> &Agents {
        &self.agents
    }

    /// The scenario it runs.
    pub fn scenario(&self) -> &'s Scenario {
        self.sc
    }

    /// Draws the days from here on with `seed` (the population and what
    /// its groups know stay as they are): a forecast's members continue a
    /// shared past with draws of their own.
    pub fn reseed(&mut self, seed: u64) {
        self.dynamics = seed;
    }

    /// The state carried to the next day (a copy).
    pub fn state(&self) -> EngineState {
        self.state_with(self.agents.clone())
    }

    /// The state carried to the next day, moving the agents out (the
    /// engine holds none until [`Engine::load`]).
    pub fn take_state(&mut self) -> EngineState {
        let agents = std::mem::take(&mut self.agents);
        self.stock = None;
        self.state_with(agents)
    }

    fn state_with(&self, agents: Agents) -> EngineState {
        let sc = self.sc;
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
                .prep
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
        let sc = self.sc;
        let targets = self.prep.book.targets.len();
        self.seed = st.seed;
        self.reseed(st.dynamics);
        self.day = st.day;
        self.people = st.people;
        self.agents = st.agents;
        self.stock = None;
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
            .prep
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
        self.day >= self.sc.calendar.days
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
            date: self.sc.calendar.date_of(day),
            places: &self.cols,
            by_cohort: &self.by_cohort_cols,
            legs: &self.leg_flows,
            states: self.states,
            agents: &self.agents,
            scenario: self.sc,
            caravans: &self.caravan_days,
            policies: &self.policy_counts,
        }
    }

    /// The end-of-run result (also checks the per-cohort census against
    /// the daily counters).
    pub fn result(&self, sim_s: f64) -> Result<RunResult, EngineError> {
        let cohorts = self.sc.cohorts.len();
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
        for (ci, (o, c)) in outcomes.iter().zip(&self.sc.cohorts).enumerate() {
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
        let events = (0..self.sc.cohorts.len())
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
        self.stock = None;
        &mut self.agents
    }
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

/// As [`run`], with the scenario's tables prepared once ([`Prepared::new`])
/// and shared: exactly the run of [`run`].
///
/// # Panics
/// If `p` was built from a scenario of another shape than `sc`.
pub fn run_prepared(
    p: &Prepared,
    sc: &Scenario,
    cfg: &RunConfig,
    recorders: &mut [&mut dyn Recorder],
) -> Result<RunResult, EngineError> {
    pool(cfg.threads)?.install(|| run_prepared_here(p, sc, cfg, recorders))
}

/// As [`run_prepared`], on the current rayon pool: replicates side by
/// side on one pool share one `&Prepared`. `cfg.threads` is ignored.
///
/// # Panics
/// If `p` was built from a scenario of another shape than `sc`.
pub fn run_prepared_here(
    p: &Prepared,
    sc: &Scenario,
    cfg: &RunConfig,
    recorders: &mut [&mut dyn Recorder],
) -> Result<RunResult, EngineError> {
    let engine = Engine::from_prepared(p, sc, cfg.seed.unwrap_or(sc.seed), cfg.by_cohort);
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
    // A process that cannot start its threads stops every process.
    crate::experiment::agree(pool(cfg.threads), ex)?.install(|| {
        let engine = Engine::partitioned(sc, cfg.seed.unwrap_or(sc.seed), cfg.by_cohort, ex);
        drive(engine, recorders)
    })
}

fn drive(mut engine: Engine<'_>, recorders: &mut [&mut dyn Recorder]) -> Result<RunResult, EngineError> {
    let t0 = Instant::now();
    while !engine.done() {
        engine.step()?;
        let view = engine.view();
        let recorded = recorders.iter_mut().try_for_each(|r| r.day(&view));
        // A partitioned run's processes learn whether any one's recorders
        // failed (rank 0's tables) before the next day's collectives.
        crate::experiment::agree(recorded.map_err(EngineError::from), engine.ex)?;
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
