//! The `flee` behaviour model: Flee 3.1's daily rules on northbound's
//! parallel, deterministic engine.
//!
//! Owns the agent columns of the model, the per-day location state
//! (conflicts, closures, camp openings), the route tables (loop-free paths
//! up to the awareness level, rebuilt only when a closure opens or ends),
//! spawning, and the daily step. Must not read files or write tables.
//!
//! Serial Flee updates a place's count as each agent in its list leaves or
//! arrives, and capacity multipliers read those running counts. Only the
//! counts of camps above their capacity buffer change any decision, so the
//! day runs in three steps that give serial Flee's counts where they matter
//! and stay the same on any number of threads (resting agents are skipped
//! until the day they next leave, drawn once per stay, `wake`: the passes
//! visit only the agents that travel, leave or keep a daily draw, and the
//! others' counts stand):
//!
//! 1. residents of camps above the buffer decide first (their departures
//!    are what release agents waiting to go there);
//! 2. everyone else decides with the counts after those departures and
//!    travels up to a first arrival; an arrival whose move-chance draw says
//!    "stay" is settled here. Steps 1 and 2 are two parallel sweeps over
//!    fixed chunks: the first takes every decision that reads no count
//!    (the camp residents', everyone's move-chance draw) and lists the
//!    agents that move or travel; the second chooses their routes;
//! 3. a pass, in agent order, over the arrivals that move on: each sees
//!    the counts after every arrival and departure before it, and uses the
//!    day's weight table unless a camp among its destinations could cross
//!    its buffer today (with two or more threads it runs ahead in parallel
//!    with the same results: `ahead`).
//!
//! Where Flee 3.1 departs from what its documentation intends, each
//! difference is a named switch of [`Quirks`], all on with
//! `flee_compat = "3.1"`. Files, one per phase: `routes` (links, route
//! tables, [`Prepared`]), `spawn` (conflicts, spawning, closures),
//! `step` (the day's tables and every agent's day), `wake` (when resting
//! agents next leave), `agents` (columns).

mod agents;
mod ahead;
mod routes;
mod spawn;
mod step;
mod wake;

use super::model::FleeScenario;
use super::settings::Compat;
use crate::rng::{Key, Stream};
use agents::Agents;
pub use routes::Prepared;
use routes::Routes;
use spawn::LocState;
use std::borrow::Cow;
use step::Place;

/// "No route".
pub(super) const NONE: u32 = u32::MAX;
/// On a link (`loc` is then a link index).
pub(super) const TRAVELLING: u8 = 1;
/// Has arrived somewhere since spawning (Flee's `places_travelled > 1`).
pub(super) const MOVED: u8 = 2;
/// Deactivated in a camp (`camps_are_sinks`).
pub(super) const GONE: u8 = 4;
/// Agents per parallel chunk (fixed, so chunking never depends on threads).
pub(super) const CHUNK: usize = 8192;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Data-driven spawning found no conflict zone with residents.
    #[error(
        "day {day}: {n} agents to spawn but no conflict zone has residents (Flee 3.1 stops with an assertion here)"
    )]
    NoSpawnOrigin {
        /// Day.
        day: u32,
        /// Agents waiting.
        n: u64,
    },
    /// `take_from_population` ran out of people.
    #[error("day {day}: {place} has no residents left to spawn (take_from_population); raise its population in locations.csv")]
    PopulationExhausted {
        /// Day.
        day: u32,
        /// Location.
        place: String,
    },
    /// A setting 3.1 cannot run, asked for in 3.1 mode.
    #[error("{0}")]
    Unsupported(String),
    /// People were lost or created.
    #[error("conservation failed on day {day}: {counted} agents counted, {expected} expected")]
    Conservation {
        /// Day.
        day: u32,
        /// Counted.
        counted: u64,
        /// Expected.
        expected: u64,
    },
    /// A place's count, kept from day to day, is not the number of agents
    /// there.
    #[error("day {day}: {kept} agents counted at {place}, but {counted} are there")]
    Recount {
        /// Day.
        day: u32,
        /// Location.
        place: String,
        /// The count kept.
        kept: u32,
        /// The agents there.
        counted: u32,
    },
    /// The thread pool could not be built.
    #[error("cannot start worker threads: {0}")]
    Pool(String),
}

/// Bytes of agent state per agent.
pub const BYTES_PER_AGENT: usize = 4 + 4 + 4 + 1 + 1 + 4 + 4 + 4;

/// What a run produces.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FleeRun {
    /// Agents at each location (not on a link) at the end of each day.
    pub counts: Vec<Vec<u32>>,
    /// Camps of day 0 (the columns of camp tables).
    pub camps: Vec<u32>,
    /// Agents in the simulation at the end of each day.
    pub agents: Vec<u64>,
    /// Agents on links at the end of each day.
    pub travelling: Vec<u64>,
    /// Flee's `refugee_debt` each day.
    pub debt: Vec<u64>,
    /// Agents spawned each day.
    pub spawned: Vec<u64>,
    /// Agents that stepped onto each link (over the run), by link.
    pub link_entries: Vec<u64>,
    /// The links (from, to, km) in index order.
    pub links: Vec<(u32, u32, f64)>,
    /// Notes for the user (3.1 quirks that changed something).
    pub warnings: Vec<String>,
    /// Seconds spent stepping.
    pub sim_s: f64,
}

/// Flee 3.1's behaviours where they differ from what Flee's documentation
/// intends, each a named switch: all on with `flee_compat = "3.1"`
/// ([`Compat::V31`]), all off otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quirks {
    /// A route with `forced_redirection = 1` makes its two links twice.
    pub forced_redirection_links_twice: bool,
    /// The haversine distance reads the longitude column as the latitude
    /// (column 5 of locations.csv).
    pub haversine_lat_lon_swapped: bool,
    /// A conflict ends only on a day after its intensity was exactly 1.
    pub conflict_ends_only_from_intensity_one: bool,
    /// A conflict keeps the intensity it started with.
    pub conflict_intensity_fixed_at_start: bool,
    /// A link closure compares names by identity: only a one-character
    /// first name matches, and only its second→first direction closes.
    pub link_closure_by_name_identity: bool,
    /// `use_pop_for_loc_weight` weighs min(population, 1), not max.
    pub pop_weight_capped_at_one: bool,
    /// `stay_close_to_home` weighs the distance from where the agent is
    /// deciding, not from its home.
    pub home_distance_from_current_place: bool,
    /// Every hop of a day moves a whole day's speed, not the share of the
    /// day left.
    pub full_speed_every_hop: bool,
    /// An agent arrives only once strictly past the end of its link.
    pub arrives_strictly_past_the_end: bool,
    /// Whether an agent may move on the day it arrives is decided by the
    /// km moved that day against the last hop's speed, not by time left.
    pub moves_on_by_distance: bool,
    /// `spawn_mode = poisson` cannot run (3.1 compares "poisson" with
    /// "Poisson" and stops).
    pub poisson_spawning_fails: bool,
}

impl Quirks {
    /// The quirks of a compatibility mode.
    pub fn of(compat: Compat) -> Quirks {
        let on = compat == Compat::V31;
        Quirks {
            forced_redirection_links_twice: on,
            haversine_lat_lon_swapped: on,
            conflict_ends_only_from_intensity_one: on,
            conflict_intensity_fixed_at_start: on,
            link_closure_by_name_identity: on,
            pop_weight_capped_at_one: on,
            home_distance_from_current_place: on,
            full_speed_every_hop: on,
            arrives_strictly_past_the_end: on,
            moves_on_by_distance: on,
            poisson_spawning_fails: on,
        }
    }
}

/// The keys of a run's draws.
#[derive(Clone, Copy, Debug)]
struct Keys {
    /// Everyone's decisions and travel in the parallel pass.
    decide: Key,
    /// Camp residents' decisions.
    camp: Key,
    /// The serial pass.
    serial: Key,
    /// Data-driven spawning.
    spawn: Key,
    /// Poisson spawning.
    event: Key,
    /// Resting agents' wake days.
    wake: Key,
}

/// A run in progress: what a day changes.
struct Run<'p> {
    p: &'p Prepared<'p>,
    states: Vec<LocState>,
    /// The prepared route tables until a closure changes them.
    routes: Cow<'p, Routes>,
    agents: Agents,
    /// Agents at each location at the end of yesterday.
    count: Vec<u32>,
    /// Flee's `refugee_debt`.
    debt: i64,
    keys: Keys,
    /// What a resting agent read of each place yesterday (a change sends
    /// its residents to draw their wake days again).
    places: Vec<Place>,
    /// Agents deactivated so far.
    gone: u64,
    /// Per chunk, the agents the first sweep leaves for the second (kept
    /// from day to day for their room).
    later: Vec<Vec<step::Later>>,
    warnings: Vec<String>,
    out: FleeRun,
}

impl<'p> Run<'p> {
    fn new(p: &'p Prepared<'p>, seed: u64) -> Run<'p> {
        let sc = p.sc;
        let s = &sc.settings;
        let nl = sc.locations.len();
        let mut agents = Agents::default();
        let mut count = vec![0u32; nl];
        if s.insert_day0 {
            for &c in &p.camps {
                let n = sc.locations[c as usize].initial_people / s.hasten as u64;
                for _ in 0..n {
                    agents.push(c);
                }
                count[c as usize] += n as u32;
            }
        }
        let links = &p.routes.links;
        Run {
            p,
            states: p.states.clone(),
            routes: Cow::Borrowed(&p.routes),
            agents,
            count,
            debt: 0,
            keys: Keys {
                decide: Key::new(seed, Stream::Decide),
                camp: Key::new(seed, Stream::Depart),
                serial: Key::new(seed, Stream::Queue),
                spawn: Key::new(seed, Stream::Build),
                event: Key::new(seed, Stream::Event),
                wake: Key::new(seed, Stream::Wake),
            },
            places: Vec::new(),
            gone: 0,
            later: Vec::new(),
            warnings: Vec::new(),
            out: FleeRun {
                counts: Vec::with_capacity(sc.days as usize),
                camps: p.camps.clone(),
                agents: Vec::new(),
                travelling: Vec::new(),
                debt: Vec::new(),
                spawned: Vec::new(),
                link_entries: vec![0; links.len()],
                links: links.iter().map(|l| (l.from, l.to, l.km)).collect(),
                warnings: Vec::new(),
                sim_s: 0.0,
            },
        }
    }
}

/// Runs a Flee scenario with `seed` on the current rayon pool, calling
/// `progress` after each day.
pub fn run(sc: &FleeScenario, seed: u64, progress: &mut dyn FnMut(u32)) -> Result<FleeRun, SimError> {
    run_prepared(&Prepared::new(sc)?, seed, progress)
}

/// As [`run`], with the scenario's seed-independent tables prepared once
/// ([`Prepared::new`]) and shared by every run: exactly the run of [`run`].
pub fn run_prepared(p: &Prepared<'_>, seed: u64, progress: &mut dyn FnMut(u32)) -> Result<FleeRun, SimError> {
    let mut r = Run::new(p, seed);
    let t0 = std::time::Instant::now();
    for t in 0..p.sc.days {
        let zone_changed = r.conflicts(t);
        r.spawn(t, zone_changed)?;
        r.closures(t);
        r.agents_day(t)?;
        progress(t);
    }
    r.out.sim_s = t0.elapsed().as_secs_f64();
    r.out.warnings = r.warnings;
    Ok(r.out)
}
