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
//! and stay the same on any number of threads:
//! 1. residents of camps above the buffer decide first (their departures
//!    are what release agents waiting to go there);
//! 2. a parallel pass over fixed chunks: everyone else decides with the
//!    counts after those departures and travels up to a first arrival; an
//!    arrival whose move-chance draw says "stay" is settled here;
//! 3. a serial pass, in agent order, over the arrivals that move on: each
//!    sees the counts after every arrival and departure before it, and
//!    uses the day's weight table unless a camp among its destinations
//!    could cross its buffer today.

use super::model::*;
use super::settings::{Compat, Settings, SpawnMode};
use crate::rng::{Key, Stream};
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;

/// "No route".
const NONE: u32 = u32::MAX;
/// On a link (`loc` is then a link index).
const TRAVELLING: u8 = 1;
/// Has arrived somewhere since spawning (Flee's `places_travelled > 1`).
const MOVED: u8 = 2;
/// Deactivated in a camp (`camps_are_sinks`).
const GONE: u8 = 4;
/// Made its first decision of the day in the camp residents' pass.
const DECIDED: u8 = 8;
/// Agents per parallel chunk (fixed, so chunking never depends on threads).
const CHUNK: usize = 8192;

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
    /// The thread pool could not be built.
    #[error("cannot start worker threads: {0}")]
    Pool(String),
}

/// Agent columns (struct of arrays, 22 bytes an agent).
#[derive(Default, Clone)]
struct Agents {
    loc: Vec<u32>,
    dist: Vec<f32>,
    route: Vec<u32>,
    left: Vec<u8>,
    flags: Vec<u8>,
    home: Vec<u32>,
    recent: Vec<f32>,
}

impl Agents {
    fn push(&mut self, loc: u32) {
        self.loc.push(loc);
        self.dist.push(0.0);
        self.route.push(NONE);
        self.left.push(0);
        self.flags.push(0);
        self.home.push(loc);
        self.recent.push(0.0);
    }
    fn len(&self) -> usize {
        self.loc.len()
    }
    /// Agent `i`'s columns, for the serial steps.
    fn me(&mut self, i: usize) -> Me<'_> {
        Me {
            loc: &mut self.loc[i],
            dist: &mut self.dist[i],
            route: &mut self.route[i],
            left: &mut self.left[i],
            flags: &mut self.flags[i],
            home: self.home[i],
            recent: &mut self.recent[i],
        }
    }
}

/// Bytes of agent state per agent.
pub const BYTES_PER_AGENT: usize = 4 + 4 + 4 + 1 + 1 + 4 + 4;

/// A location's state on one day.
#[derive(Clone, Debug)]
struct LocState {
    movechance: f64,
    conflict: f64,
    time_of_conflict: i64,
    camp: bool,
    town: bool,
    marker: bool,
    pop: f64,
    capacity: f64,
}

/// A candidate path from a location.
#[derive(Clone, Copy, Debug)]
struct Cand {
    /// Offset of its first hop in the arena.
    off: u32,
    /// Hops.
    len: u8,
    /// Its end.
    end: u32,
    /// Cumulative km.
    km: f64,
}

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

/// The model's static tables.
struct World<'a> {
    sc: &'a FleeScenario,
    s: &'a Settings,
    links: Vec<Link>,
    /// Open out-links per location (link indices, file order).
    out: Vec<Vec<u32>>,
    open: Vec<bool>,
    arena: Vec<u32>,
    cands: Vec<Vec<Cand>>,
}

impl<'a> World<'a> {
    fn rebuild(&mut self, states: &[LocState]) {
        let n = self.sc.locations.len();
        self.out = vec![Vec::new(); n];
        for (i, l) in self.links.iter().enumerate() {
            if self.open[i] {
                self.out[l.from as usize].push(i as u32);
            }
        }
        let awareness = self.s.awareness_level as i64;
        let mut cands = vec![Vec::new(); n];
        for (o, c) in cands.iter_mut().enumerate() {
            let mut path = vec![o as u32];
            let first: Vec<u32> = self.out[o].clone();
            for l in first {
                self.walk(l, 0.0, &mut path, 1, awareness, states, c);
            }
        }
        self.cands = cands;
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        link: u32,
        prior: f64,
        path: &mut Vec<u32>,
        mut step: i64,
        awareness: i64,
        states: &[LocState],
        out: &mut Vec<Cand>,
    ) {
        let l = self.links[link as usize].clone();
        if !states[l.to as usize].marker {
            let off = self.arena.len() as u32;
            self.arena.extend_from_slice(&path[1..]);
            self.arena.push(l.to);
            out.push(Cand {
                off,
                len: path.len() as u8,
                end: l.to,
                km: prior + l.km,
            });
        } else {
            step -= 1;
        }
        if awareness > step {
            let next: Vec<u32> = self.out[l.to as usize].clone();
            for l2 in next {
                let to = self.links[l2 as usize].to;
                if path.contains(&to) {
                    continue;
                }
                path.push(l.to);
                self.walk(l2, prior + l.km, path, step + 1, awareness, states, out);
                path.pop();
            }
        }
    }
}

fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6373.0 * 2.0 * a.sqrt().atan2((1.0 - a).sqrt())
}

/// Per-day tables every agent reads.
struct Day<'w> {
    t: u32,
    s: &'w Settings,
    compat: Compat,
    links: &'w [Link],
    link_open: &'w [bool],
    out: &'w [Vec<u32>],
    arena: &'w [u32],
    cands: &'w [Vec<Cand>],
    /// Cumulative weights per location (parallel to `cands`).
    cum: Vec<Vec<f64>>,
    /// Per candidate: (score, distance term, capacity multiplier) for
    /// per-agent weights (stay_close_to_home as intended).
    parts: Vec<Vec<(f64, f64, f64)>>,
    movechance: Vec<f64>,
    town: Vec<bool>,
    camp: Vec<bool>,
    cap: Vec<f64>,
    deactivate: &'w [f64],
    coords: &'w [(f64, f64)],
    /// Capacity multipliers after the camp residents' departures.
    cap_b: Vec<f64>,
    /// Cumulative weights with `cap_b`.
    cum_b: Vec<Vec<f64>>,
    /// Camp capacities in agents (−1: unlimited), for running multipliers.
    capacity: Vec<f64>,
    /// Camps above their capacity buffer at the start of the day.
    zone: Vec<bool>,
    /// Places with a candidate camp whose multiplier may change during the
    /// serial pass (set before it).
    risky: Vec<bool>,
    key: Key,
    /// Draws of camp residents' decisions.
    camp_key: Key,
    /// Draws of the serial pass.
    serial_key: Key,
}

/// Counts folded over a chunk of agents.
#[derive(Clone)]
struct Fold {
    at: Vec<u32>,
    entries: Vec<u64>,
    /// Departures by location in the parallel passes.
    left: Vec<i64>,
    /// Agents that arrived and move on: the serial pass, in agent order.
    pending: Vec<Pending>,
    /// Every first arrival of the parallel pass, in agent order.
    arrivals: Vec<Arrival>,
    /// Agents ending the day in camps above their capacity buffer (any order).
    zone_ids: Vec<u32>,
    travelling: u64,
    gone: u64,
}

impl Fold {
    fn new(locs: usize, links: usize) -> Fold {
        Fold {
            at: vec![0; locs],
            entries: vec![0; links],
            left: vec![0; locs],
            pending: Vec::new(),
            arrivals: Vec::new(),
            zone_ids: Vec::new(),
            travelling: 0,
            gone: 0,
        }
    }
    fn add(mut self, o: Fold) -> Fold {
        for (a, b) in self.at.iter_mut().zip(o.at) {
            *a += b;
        }
        for (a, b) in self.entries.iter_mut().zip(o.entries) {
            *a += b;
        }
        for (a, b) in self.left.iter_mut().zip(o.left) {
            *a += b;
        }
        self.pending.extend(o.pending);
        self.arrivals.extend(o.arrivals);
        self.zone_ids.extend(o.zone_ids);
        self.travelling += o.travelling;
        self.gone += o.gone;
        self
    }
}

/// One agent's columns.
struct Me<'c> {
    loc: &'c mut u32,
    dist: &'c mut f32,
    route: &'c mut u32,
    left: &'c mut u8,
    flags: &'c mut u8,
    home: u32,
    recent: &'c mut f32,
}

/// The day so far of an agent on the move.
#[derive(Clone, Copy, Debug)]
struct Trip {
    /// km covered today (Flee's `distance_moved_this_timestep`).
    moved: f64,
    /// Share of the day left (intended rules).
    day_left: f64,
    /// Speed of the last hop, km/day.
    speed: f64,
}

/// An agent that reached the end of a link in the parallel pass: its
/// arrival, and whatever it does next that day, run in the serial pass.
#[derive(Clone, Copy, Debug)]
struct Pending {
    id: u32,
    trip: Trip,
}

/// An arrival in the parallel pass: where, and who (for the order).
#[derive(Clone, Copy, Debug)]
struct Arrival {
    id: u32,
    loc: u32,
}

/// Which counts a decision sees (serial Flee updates them agent by agent;
/// see the module comment).
enum Caps<'a> {
    /// The start of the day (camp residents' decisions).
    Start,
    /// The start of the day less the departures from camps (everyone
    /// else's first decision of the day).
    AfterCamps,
    /// Running counts of the serial pass over the day's arrivals.
    Running(&'a mut [i64]),
}

impl Day<'_> {
    fn cap_of(&self, loc: u32, caps: &Caps) -> f64 {
        match caps {
            Caps::Start => self.cap[loc as usize],
            Caps::AfterCamps => self.cap_b[loc as usize],
            Caps::Running(c) => cap_multiplier(
                c[loc as usize] as f64,
                self.capacity[loc as usize],
                self.s.capacity_buffer,
            ),
        }
    }

    /// Flee's `Person.evolve`: maybe plan a route and step onto a link.
    /// (The move-chance draw is all most agents do on most days: it stays
    /// inline, the rest does not.)
    #[inline(always)]
    fn evolve(&self, me: &mut Me, force_town: bool, r: &mut crate::rng::Draws, fold: &mut Fold, caps: &mut Caps) {
        let loc = *me.loc as usize;
        let chance = if self.town[loc] && force_town {
            1.0
        } else {
            self.movechance[loc]
        };
        if r.uniform() < chance {
            self.set_out(me, r, fold, caps);
        }
    }

    /// The rest of `evolve` once an agent moves: route, checks, the link.
    #[inline(never)]
    fn set_out(&self, me: &mut Me, r: &mut crate::rng::Draws, fold: &mut Fold, caps: &mut Caps) {
        let loc = *me.loc as usize;
        if *me.left == 0 {
            self.select(me, r, caps);
        }
        if *me.left == 0 {
            return;
        }
        let next = self.arena[*me.route as usize];
        let Some(&link) = self.out[loc].iter().find(|&&l| self.links[l as usize].to == next) else {
            *me.left = 0;
            return;
        };
        let dest = self.arena[(*me.route + *me.left as u32 - 1) as usize];
        if self.camp[dest as usize] && self.cap_of(dest, caps) < 0.5 {
            *me.left = 0;
            return;
        }
        *me.route += 1;
        *me.left -= 1;
        *me.loc = link;
        *me.flags |= TRAVELLING;
        *me.dist = 0.0;
        fold.entries[link as usize] += 1;
        match caps {
            Caps::Running(c) => c[loc] -= 1,
            _ => fold.left[loc] += 1,
        }
    }

    /// Flee's `selectRoute`.
    fn select(&self, me: &mut Me, r: &mut crate::rng::Draws, caps: &Caps) {
        let loc = *me.loc as usize;
        let cands = &self.cands[loc];
        if cands.is_empty() {
            return;
        }
        let u = r.uniform();
        let home = self.s.stay_close_to_home && self.compat == Compat::Intended;
        let k = match caps {
            Caps::Start if !home => pick(&self.cum[loc], u),
            Caps::AfterCamps if !home => pick(&self.cum_b[loc], u),
            // No candidate can change its multiplier today: the table holds.
            Caps::Running(_) if !home && !self.risky[loc] => pick(&self.cum_b[loc], u),
            _ => {
                let (hl, ho) = self.coords[me.home as usize];
                let weight = |c: &Cand, &(score, d, home_f): &(f64, f64, f64)| {
                    let f = if home {
                        let (el, eo) = self.coords[c.end as usize];
                        1.0 / haversine(hl, ho, el, eo).max(1.0).powf(self.s.home_distance_power)
                    } else {
                        home_f
                    };
                    let w = (self.s.weight_softening + score * f) / d * self.cap_of(c.end, caps);
                    if self.s.weight_power == 1.0 {
                        w
                    } else {
                        w.powf(self.s.weight_power)
                    }
                };
                // Two passes over a handful of candidates instead of a
                // vector of weights: this runs for every serial decision.
                let ps = &self.parts[loc];
                let total: f64 = cands.iter().zip(ps).map(|(c, p)| weight(c, p)).sum();
                if total.is_nan() || total <= 0.0 {
                    ((u * cands.len() as f64) as usize).min(cands.len() - 1)
                } else {
                    let x = u * total;
                    let mut acc = 0.0;
                    let mut k = cands.len() - 1;
                    for (i, (c, p)) in cands.iter().zip(ps).enumerate() {
                        acc += weight(c, p);
                        if x < acc {
                            k = i;
                            break;
                        }
                    }
                    k
                }
            }
        };
        let c = cands[k];
        *me.route = c.off;
        *me.left = c.len;
    }

    /// Moves an agent along its link for what is left of its day; true when
    /// it reaches the end (the arrival itself is `arrive`).
    fn advance(&self, me: &mut Me, r: &mut crate::rng::Draws, trip: &mut Trip) -> bool {
        let link = &self.links[*me.loc as usize];
        let mut speed = link.max_move_speed.unwrap_or(self.s.max_move_speed);
        if *me.flags & MOVED == 0 && self.s.start_on_foot {
            speed = self.s.max_walk_speed;
        }
        if link.walk_probability > 0.0 && r.uniform() < link.walk_probability {
            speed = self.s.max_walk_speed;
        }
        let before = *me.dist as f64;
        let advance = match self.compat {
            Compat::V31 => speed,
            Compat::Intended => speed * trip.day_left,
        };
        let now = before + advance;
        trip.moved += advance;
        let arrived = match self.compat {
            Compat::V31 => now > link.km,
            Compat::Intended => now >= link.km,
        };
        if !arrived {
            *me.dist = now as f32;
            return false;
        }
        trip.moved += link.km - now;
        trip.day_left -= if speed > 0.0 { (link.km - before) / speed } else { 1.0 };
        trip.speed = speed;
        true
    }

    /// An arrival at the end of the link (or, if it was closed meanwhile, a
    /// return to its start); true if the agent may move on the same day.
    fn arrive(&self, me: &mut Me, trip: &Trip, caps: &mut Caps) -> bool {
        let link_ix = *me.loc as usize;
        let link = &self.links[link_ix];
        *me.flags |= MOVED;
        *me.flags &= !TRAVELLING;
        *me.dist = 0.0;
        let open = self.link_open[link_ix];
        *me.loc = if open { link.to } else { link.from };
        if let Caps::Running(c) = caps {
            c[*me.loc as usize] += 1;
        }
        open && match self.compat {
            Compat::V31 => trip.moved < trip.speed,
            Compat::Intended => trip.day_left > 1e-9,
        }
    }

    /// Flee's `finish_travel`, with onward hops the same day. With `defer`
    /// (the parallel pass) it stops at the first arrival and says so.
    fn travel(
        &self,
        me: &mut Me,
        r: &mut crate::rng::Draws,
        fold: &mut Fold,
        trip: &mut Trip,
        caps: &mut Caps,
        defer: bool,
    ) -> bool {
        while *me.flags & TRAVELLING != 0 {
            if !self.advance(me, r, trip) {
                break;
            }
            if defer {
                return true;
            }
            if !self.arrive(me, trip, caps) {
                break;
            }
            let force =
                self.s.avoid_short_stints && (*me.recent as f64 + trip.moved / self.s.max_move_speed) / 2.0 < 0.5;
            self.evolve(me, force, r, fold, caps);
        }
        false
    }

    /// The end of an agent's day: recent travel, camps as sinks, counts.
    fn settle(&self, id: u32, me: &mut Me, r: &mut crate::rng::Draws, trip: &Trip, fold: &mut Fold) {
        // Only avoid_short_stints reads it: otherwise leave the column alone
        // (a store per agent and day is most of a resting agent's cost).
        if self.s.avoid_short_stints {
            *me.recent = ((*me.recent as f64 + trip.moved / self.s.max_move_speed) / 2.0) as f32;
        }
        if *me.flags & TRAVELLING != 0 {
            fold.travelling += 1;
            return;
        }
        let at = *me.loc as usize;
        if self.s.camps_are_sinks && self.camp[at] && self.deactivate[at] > 0.0 && r.uniform() < self.deactivate[at] {
            *me.flags |= GONE;
            fold.gone += 1;
            return;
        }
        fold.at[at] += 1;
        if self.zone[at] {
            fold.zone_ids.push(id);
        }
    }

    /// The first decision of the day of an agent in a camp above its
    /// capacity buffer (Flee's pass 1 for it), taken before everyone else's
    /// so that theirs see its departure.
    fn camp_resident(&self, id: u32, me: &mut Me, fold: &mut Fold) {
        let mut r = self.camp_key.draws(id, self.t);
        self.evolve(me, false, &mut r, fold, &mut Caps::Start);
        *me.flags |= DECIDED;
    }

    /// The parallel pass: everyone else's pass-1 decision, then pass 2 up
    /// to the first arrival.
    fn agent(&self, id: u32, me: &mut Me, fold: &mut Fold) {
        if *me.flags & GONE != 0 {
            fold.gone += 1;
            return;
        }
        let mut r = self.key.draws(id, self.t);
        if *me.flags & (TRAVELLING | DECIDED) == 0 {
            self.evolve(me, false, &mut r, fold, &mut Caps::AfterCamps);
        } else if *me.flags & DECIDED != 0 {
            *me.flags &= !DECIDED;
        }
        let mut trip = Trip {
            moved: 0.0,
            day_left: 1.0,
            speed: self.s.max_move_speed,
        };
        if self.travel(me, &mut r, fold, &mut trip, &mut Caps::AfterCamps, true) {
            // Arrived. Whether it moves on today is a draw that depends on
            // no count: most stay, and only their arrival matters to others.
            let more = self.arrive(me, &trip, &mut Caps::AfterCamps);
            let loc = *me.loc as usize;
            let force =
                self.s.avoid_short_stints && (*me.recent as f64 + trip.moved / self.s.max_move_speed) / 2.0 < 0.5;
            let chance = if self.town[loc] && force {
                1.0
            } else {
                self.movechance[loc]
            };
            let arrival = Arrival { id, loc: loc as u32 };
            if more && r.uniform() < chance {
                fold.pending.push(Pending { id, trip });
            } else {
                self.settle(id, me, &mut r, &trip, fold);
            }
            fold.arrivals.push(arrival);
            return;
        }
        self.settle(id, me, &mut r, &trip, fold);
    }

    /// The day of an agent that arrived and moves on, from there, in the
    /// serial pass: it sees the arrivals and departures before it.
    fn resume(&self, p: &Pending, me: &mut Me, fold: &mut Fold, running: &mut [i64]) {
        let mut caps = Caps::Running(running);
        let mut r = self.serial_key.draws(p.id, self.t);
        let mut trip = p.trip;
        self.set_out(me, &mut r, fold, &mut caps);
        self.travel(me, &mut r, fold, &mut trip, &mut caps, false);
        self.settle(p.id, me, &mut r, &trip, fold);
    }
}

/// Cumulative route weights per location for capacity multipliers `cap`.
fn cumulate(cands: &[Vec<Cand>], parts: &[Vec<(f64, f64, f64)>], cap: &[f64], s: &Settings) -> Vec<Vec<f64>> {
    cands
        .iter()
        .zip(parts)
        .map(|(cs, ps)| {
            let mut acc = 0.0;
            cs.iter()
                .zip(ps)
                .map(|(c, &(base, d, home))| {
                    acc += ((s.weight_softening + base * home) / d * cap[c.end as usize]).powf(s.weight_power);
                    acc
                })
                .collect()
        })
        .collect()
}

/// Runs `f` on every agent over fixed chunks in parallel and sums the
/// chunks' counts (integers: the same in any order).
fn parallel<F: Fn(u32, &mut Me, &mut Fold) + Sync>(agents: &mut Agents, nl: usize, nlinks: usize, f: &F) -> Fold {
    let a = agents;
    let chunks: Vec<_> = a
        .loc
        .chunks_mut(CHUNK)
        .zip(a.dist.chunks_mut(CHUNK))
        .zip(a.route.chunks_mut(CHUNK))
        .zip(a.left.chunks_mut(CHUNK))
        .zip(a.flags.chunks_mut(CHUNK))
        .zip(a.home.chunks(CHUNK))
        .zip(a.recent.chunks_mut(CHUNK))
        .enumerate()
        .collect();
    chunks
        .into_par_iter()
        .map(|(k, ((((((loc, dist), route), left), flags), home), recent))| {
            let mut fold = Fold::new(nl, nlinks);
            for i in 0..loc.len() {
                let mut me = Me {
                    loc: &mut loc[i],
                    dist: &mut dist[i],
                    route: &mut route[i],
                    left: &mut left[i],
                    flags: &mut flags[i],
                    home: home[i],
                    recent: &mut recent[i],
                };
                f((k * CHUNK + i) as u32, &mut me, &mut fold);
            }
            fold
        })
        .reduce(|| Fold::new(nl, nlinks), Fold::add)
}

/// Index drawn from a cumulative table of weights for a uniform `u`;
/// uniform when the weights are all 0 (as Flee does).
fn pick(cum: &[f64], u: f64) -> usize {
    let n = cum.len();
    let total = cum[n - 1];
    if total.is_nan() || total <= 0.0 {
        return ((u * n as f64) as usize).min(n - 1);
    }
    cum.partition_point(|&c| c <= u * total).min(n - 1)
}

fn cap_multiplier(count: f64, capacity: f64, buffer: f64) -> f64 {
    if capacity < 1.0 || count <= buffer * capacity {
        1.0
    } else if count >= capacity {
        0.0
    } else {
        1.0 - (count - buffer * capacity) / (capacity * (1.0 - buffer))
    }
}

/// Runs a Flee scenario with `seed` on the current rayon pool, calling
/// `progress` after each day.
pub fn run(sc: &FleeScenario, seed: u64, progress: &mut dyn FnMut(u32)) -> Result<FleeRun, SimError> {
    let s = &sc.settings;
    let compat = sc.compat;
    let mut warnings = Vec::new();
    if compat == Compat::V31 {
        if let SpawnMode::Poisson(_) = s.spawn {
            return Err(SimError::Unsupported(
                "spawn_mode poisson cannot run as Flee 3.1 does: 3.1 compares \"poisson\" with \"Poisson\" \
                 and stops with UnboundLocalError; drop flee_compat = \"3.1\" to draw Poisson numbers"
                    .into(),
            ));
        }
    }
    let per = s.hasten as f64;
    // Links, in route order; 3.1 creates a forced_redirection = 1 link twice.
    let mut links = Vec::new();
    for r in &sc.routes {
        let copies = if compat == Compat::V31 && r.forced_redirection == 1 {
            2
        } else {
            1
        };
        for _ in 0..copies {
            for (from, to) in [(r.a, r.b), (r.b, r.a)] {
                links.push(Link {
                    from,
                    to,
                    km: r.km,
                    max_move_speed: r.max_move_speed,
                    walk_probability: r.walk_probability,
                });
            }
        }
    }
    let nl = sc.locations.len();
    let mut states: Vec<LocState> = sc
        .locations
        .iter()
        .map(|l| {
            let (movechance, camp, town) = match l.kind {
                LocKind::Camp => (s.camp_movechance, true, false),
                LocKind::IdpCamp => (s.idpcamp_movechance, true, false),
                LocKind::Conflict => (s.conflict_movechance, false, false),
                LocKind::Forward | LocKind::Marker => (1.0, false, false),
                LocKind::Town => (s.default_movechance, false, true),
            };
            // Flee turns any place with a tiny move chance into a camp.
            let tiny = movechance < 0.005 && !camp;
            LocState {
                movechance,
                conflict: if l.kind == LocKind::Conflict {
                    l.conflict_intensity
                } else {
                    -1.0
                },
                time_of_conflict: -1,
                camp: camp || tiny,
                town: town && !tiny,
                marker: l.kind == LocKind::Marker,
                pop: (l.population / s.hasten as u64) as f64,
                capacity: if l.kind.is_camp() {
                    (l.capacity / s.hasten as u64) as f64
                } else {
                    -1.0
                },
            }
        })
        .collect();
    let mut world = World {
        sc,
        s,
        open: vec![true; links.len()],
        links,
        out: Vec::new(),
        arena: Vec::new(),
        cands: Vec::new(),
    };
    world.rebuild(&states);
    let camps = sc.camps();
    let mut agents = Agents::default();
    let mut count = vec![0u32; nl];
    if s.insert_day0 {
        for &c in &camps {
            let n = sc.locations[c as usize].initial_people / s.hasten as u64;
            for _ in 0..n {
                agents.push(c);
            }
            count[c as usize] += n as u32;
        }
    }
    let coords: Vec<(f64, f64)> = sc
        .locations
        .iter()
        .map(|l| match compat {
            // 3.1's haversine reads column 5 as the latitude.
            Compat::V31 => (l.lon, l.lat),
            Compat::Intended => (l.lat, l.lon),
        })
        .collect();
    let deactivate: Vec<f64> = sc.locations.iter().map(|l| l.deactivation_probability).collect();
    let key = Key::new(seed, Stream::Decide);
    let camp_key = Key::new(seed, Stream::Depart);
    let serial_key = Key::new(seed, Stream::Queue);
    let spawn_key = Key::new(seed, Stream::Build);
    let event_key = Key::new(seed, Stream::Event);
    let mut run = FleeRun {
        counts: Vec::with_capacity(sc.days as usize),
        camps: camps.clone(),
        agents: Vec::new(),
        travelling: Vec::new(),
        debt: Vec::new(),
        spawned: Vec::new(),
        link_entries: vec![0; world.links.len()],
        links: world.links.iter().map(|l| (l.from, l.to, l.km)).collect(),
        warnings: Vec::new(),
        sim_s: 0.0,
    };
    let mut debt: i64 = 0;
    let mut prev_zone = vec![false; nl];
    let mut prev_ids: Vec<u32> = Vec::new();
    let t0 = std::time::Instant::now();
    for t in 0..sc.days {
        // 1. Conflicts.
        let mut zone_changed = false;
        for series in &sc.conflicts {
            let l = series.loc as usize;
            let v = series.at(t);
            let prev = if t > 0 { series.at(t - 1) } else { 0.0 };
            let st = &mut states[l];
            if v > 1e-6 && (t == 0 || prev < 1e-6) {
                st.movechance = s.conflict_movechance;
                st.conflict = v;
                st.town = false;
                st.time_of_conflict = t as i64;
                zone_changed = true;
            } else if v < 1e-6 && t > 0 {
                let ends = match compat {
                    Compat::V31 => prev == 1.0,
                    Compat::Intended => prev > 1e-6,
                };
                if ends {
                    st.movechance = s.default_movechance;
                    st.conflict = -1.0;
                    st.town = true;
                    zone_changed = true;
                }
            } else if v > 1e-6 && compat == Compat::Intended && v != prev {
                st.conflict = v;
            }
        }
        // 2. Spawning.
        let weight_day = if zone_changed || t == 0 { t as i64 } else { t as i64 - 1 };
        let mut new: Vec<u32> = Vec::new();
        match s.spawn {
            SpawnMode::Data => {
                let now = interpolate(&sc.totals, t as i64, per) as i64;
                let diff = if t == 0 {
                    now
                } else {
                    now - interpolate(&sc.totals, t as i64 - 1, per) as i64
                };
                let mut n = diff - debt;
                if s.insert_day0 && t == 0 {
                    n = 0;
                }
                if n < 0 {
                    debt = -n;
                    n = 0;
                } else if debt > 0 {
                    debt = 0;
                }
                if n > 0 {
                    let w: Vec<f64> = states
                        .iter()
                        .map(|st| {
                            if st.conflict > 0.0 {
                                st.pop * st.conflict * s.decay(weight_day - st.time_of_conflict)
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    let mut cum = Vec::with_capacity(nl);
                    let mut acc = 0.0;
                    for x in &w {
                        acc += x;
                        cum.push(acc);
                    }
                    if acc.is_nan() || acc <= 0.0 {
                        return Err(SimError::NoSpawnOrigin { day: t, n: n as u64 });
                    }
                    let first = agents.len() as u32;
                    for k in 0..n as u32 {
                        let u = spawn_key.uniform(first + k, t);
                        new.push(pick(&cum, u) as u32);
                    }
                }
            }
            SpawnMode::Constant(x) | SpawnMode::PopRatio(x) | SpawnMode::Poisson(x) => {
                for (l, st) in states.iter().enumerate() {
                    if st.conflict <= 0.0 {
                        continue;
                    }
                    let n = match s.spawn {
                        SpawnMode::Constant(_) => (x * st.conflict) as u64,
                        SpawnMode::PopRatio(_) => (x * st.pop * st.conflict) as u64,
                        _ => {
                            let mean = x * st.conflict;
                            let mut r = event_key.draws(l as u32, t);
                            Poisson::new(mean).map(|p| p.sample(&mut r) as u64).unwrap_or(0)
                        }
                    };
                    new.extend(std::iter::repeat_n(l as u32, n as usize));
                }
            }
        }
        for &l in &new {
            if s.take_from_population && states[l as usize].conflict > 0.0 {
                if states[l as usize].pop > 0.0 {
                    states[l as usize].pop -= 1.0;
                } else {
                    return Err(SimError::PopulationExhausted {
                        day: t,
                        place: sc.locations[l as usize].name.clone(),
                    });
                }
            }
            agents.push(l);
            count[l as usize] += 1;
        }
        run.spawned.push(new.len() as u64);
        // 3. Closures.
        let mut links_changed = false;
        for c in &sc.closures {
            let close = t as i64 == c.start;
            let reopen = c.end == Some(t as i64);
            if !close && !reopen {
                continue;
            }
            for (closing, on) in [(close, true), (reopen, false)] {
                if !closing {
                    continue;
                }
                match &c.kind {
                    ClosureKind::Camp { loc, idp } => {
                        let st = &mut states[*loc as usize];
                        st.conflict = -1.0;
                        st.marker = false;
                        if on {
                            st.movechance = s.default_movechance;
                            st.camp = false;
                            st.town = true;
                        } else {
                            st.movechance = if *idp { s.idpcamp_movechance } else { s.camp_movechance };
                            st.camp = true;
                            st.town = false;
                        }
                    }
                    kind => {
                        for (i, l) in world.links.iter().enumerate() {
                            let hit = match kind {
                                ClosureKind::Country(a, b) => {
                                    let (ca, cb) = (
                                        &sc.locations[l.from as usize].country,
                                        &sc.locations[l.to as usize].country,
                                    );
                                    (ca == a && cb == b) || (ca == b && cb == a)
                                }
                                ClosureKind::Location(x) => l.from == *x || l.to == *x,
                                ClosureKind::Link(a, b) => match compat {
                                    Compat::Intended => (l.from == *a && l.to == *b) || (l.from == *b && l.to == *a),
                                    // 3.1 compares names by identity: only a
                                    // one-character name1 matches, and only
                                    // name2→name1 is touched.
                                    Compat::V31 => {
                                        l.from == *b
                                            && l.to == *a
                                            && sc.locations[*a as usize].name.chars().count() == 1
                                    }
                                },
                                ClosureKind::Camp { .. } => false,
                            };
                            if hit && world.open[i] == on {
                                world.open[i] = !on;
                                links_changed = true;
                            }
                        }
                        if let (ClosureKind::Link(a, _), Compat::V31) = (kind, compat) {
                            if on && sc.locations[*a as usize].name.chars().count() != 1 {
                                let msg = format!(
                                    "flee_compat 3.1: the link closure {}–{} does nothing, as in Flee 3.1 \
                                     (names longer than one character never match)",
                                    sc.locations[*a as usize].name,
                                    match kind {
                                        ClosureKind::Link(_, b) => sc.locations[*b as usize].name.as_str(),
                                        _ => "",
                                    }
                                );
                                if !warnings.contains(&msg) {
                                    warnings.push(msg);
                                }
                            }
                        }
                    }
                }
            }
        }
        if links_changed {
            world.rebuild(&states);
        }
        // 4. The day's tables.
        let buffer = s.capacity_buffer;
        let cap: Vec<f64> = (0..nl)
            .map(|l| cap_multiplier(count[l] as f64, states[l].capacity, buffer))
            .collect();
        let score: Vec<f64> = (0..nl)
            .map(|l| {
                let st = &states[l];
                let loc = &sc.locations[l];
                let mut x = 1.0;
                if loc.foreign {
                    x *= s.foreign_weight;
                }
                if st.camp {
                    x *= s.camp_weight;
                }
                if st.conflict > 0.0 {
                    x *= s
                        .conflict_weight
                        .powf(s.decay(t as i64 - st.time_of_conflict) * st.conflict);
                }
                x
            })
            .collect();
        let parts: Vec<Vec<(f64, f64, f64)>> = (0..nl)
            .map(|o| {
                world.cands[o]
                    .iter()
                    .map(|cd| {
                        let e = cd.end as usize;
                        let mut base = score[e];
                        if !states[e].camp && s.use_pop_for_loc_weight {
                            let pop = match compat {
                                Compat::V31 => states[e].pop.min(1.0),
                                Compat::Intended => states[e].pop.max(1.0),
                            };
                            base *= pop.powf(s.pop_power_for_loc_weight);
                        }
                        let d = (s.softening + cd.km).powf(s.distance_power);
                        let mut home = 1.0;
                        if s.stay_close_to_home && compat == Compat::V31 {
                            let (a, b) = coords[o];
                            let (x, y) = coords[e];
                            home = 1.0 / haversine(a, b, x, y).max(1.0).powf(s.home_distance_power);
                        }
                        (base, d, home)
                    })
                    .collect()
            })
            .collect();
        let cum = cumulate(&world.cands, &parts, &cap, s);
        let zone: Vec<bool> = (0..nl)
            .map(|l| states[l].camp && states[l].capacity >= 1.0 && count[l] as f64 > buffer * states[l].capacity)
            .collect();
        let day = Day {
            t,
            s,
            compat,
            links: &world.links,
            link_open: &world.open,
            out: &world.out,
            arena: &world.arena,
            cands: &world.cands,
            cum: cum.clone(),
            parts,
            movechance: states
                .iter()
                .map(|st| {
                    let m = st.pop.max(st.capacity) / s.movechance_pop_base;
                    st.movechance * m.powf(s.movechance_pop_scale_factor)
                })
                .collect(),
            town: states.iter().map(|st| st.town).collect(),
            camp: states.iter().map(|st| st.camp).collect(),
            deactivate: &deactivate,
            coords: &coords,
            cap_b: cap.clone(),
            cum_b: cum,
            capacity: states.iter().map(|st| st.capacity).collect(),
            zone: zone.clone(),
            risky: Vec::new(),
            cap,
            key,
            camp_key,
            serial_key,
        };
        // 5. Every agent's day, in parallel over fixed chunks: camp
        // residents decide first, then everyone else (seeing the camps'
        // departures), travelling up to a first arrival; then, serially in
        // agent order, the arrivals and what follows them, each seeing the
        // arrivals and departures before it (module comment).
        let nlinks = world.links.len();
        let mut day = day;
        // Only residents of camps above the capacity buffer can change a
        // multiplier by leaving: they decide first. Yesterday's list of them
        // serves while no camp has entered the buffer since.
        let mut camps_fold = Fold::new(nl, nlinks);
        if zone.iter().any(|&z| z) {
            let covered = zone.iter().zip(&prev_zone).all(|(&z, &p)| !z || p);
            let ok = |l: u32, f: u8| f & (GONE | TRAVELLING) == 0 && zone[l as usize];
            let ids: Vec<u32> = if covered {
                prev_ids
                    .iter()
                    .copied()
                    .filter(|&i| ok(agents.loc[i as usize], agents.flags[i as usize]))
                    .collect()
            } else {
                agents
                    .loc
                    .par_iter()
                    .zip(agents.flags.par_iter())
                    .enumerate()
                    .filter(|(_, (&l, &f))| ok(l, f))
                    .map(|(i, _)| i as u32)
                    .collect()
            };
            for id in ids {
                let mut me = agents.me(id as usize);
                day.camp_resident(id, &mut me, &mut camps_fold);
            }
        }
        if camps_fold.left.iter().any(|&x| x > 0) {
            let after: Vec<f64> = (0..nl)
                .map(|l| {
                    cap_multiplier(
                        (count[l] as i64 - camps_fold.left[l]) as f64,
                        states[l].capacity,
                        buffer,
                    )
                })
                .collect();
            day.cum_b = cumulate(&world.cands, &day.parts, &after, s);
            day.cap_b = after;
        }
        let mut fold = parallel(&mut agents, nl, nlinks, &|id, me, f| day.agent(id, me, f));
        let mut running: Vec<i64> = (0..nl)
            .map(|l| count[l] as i64 - camps_fold.left[l] - fold.left[l])
            .collect();
        for (e, x) in fold.entries.iter_mut().zip(&camps_fold.entries) {
            *e += x;
        }
        // Chunks are folded in order, so both lists are in agent order.
        let pending = std::mem::take(&mut fold.pending);
        let arrivals = std::mem::take(&mut fold.arrivals);
        // A camp's multiplier can change in the serial pass only if its
        // count could pass the buffer: everyone arriving or moving on today
        // ending up there.
        let mut reach = running.clone();
        for a in &arrivals {
            reach[a.loc as usize] += 1;
        }
        let may_change: Vec<bool> = (0..nl)
            .map(|l| {
                states[l].capacity >= 1.0 && (reach[l] + pending.len() as i64) as f64 > buffer * states[l].capacity
                    || day.cap_b[l] < 1.0
            })
            .collect();
        day.risky = world
            .cands
            .iter()
            .map(|cs| cs.iter().any(|c| may_change[c.end as usize]))
            .collect();
        let mut next = 0;
        for p in &pending {
            // Everyone who arrived before this agent in Flee's order, and the
            // agent itself, is at its arrival place by now.
            while next < arrivals.len() && arrivals[next].id <= p.id {
                running[arrivals[next].loc as usize] += 1;
                next += 1;
            }
            let mut me = agents.me(p.id as usize);
            day.resume(p, &mut me, &mut fold, &mut running);
        }
        prev_ids = std::mem::take(&mut fold.zone_ids);
        prev_zone = zone;
        let placed: u64 = fold.at.iter().map(|&x| x as u64).sum();
        let expected = agents.len() as u64;
        if placed + fold.travelling + fold.gone != expected {
            return Err(SimError::Conservation {
                day: t,
                counted: placed + fold.travelling + fold.gone,
                expected,
            });
        }
        let gone_total = fold.gone;
        for (e, x) in run.link_entries.iter_mut().zip(&fold.entries) {
            *e += x;
        }
        count = fold.at;
        run.counts.push(count.clone());
        run.agents.push(expected - gone_total);
        run.travelling.push(fold.travelling);
        run.debt.push(debt.max(0) as u64);
        progress(t);
    }
    run.sim_s = t0.elapsed().as_secs_f64();
    run.warnings = warnings;
    Ok(run)
}
