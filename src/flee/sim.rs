//! The `flee` behaviour model: Flee 3.1's daily rules on northbound's
//! parallel, deterministic engine.
//!
//! Owns the agent columns of the model, the per-day location state
//! (conflicts, closures, camp openings), the route tables (loop-free paths
//! up to the awareness level, rebuilt only when a closure opens or ends),
//! spawning, and the daily step. Must not read files or write tables.
//!
//! Decisions within a day see the counts of the start of the day (after
//! spawning), as pflee does, rather than serial Flee's running counts:
//! that is what lets every agent's day run in parallel with the same
//! result on any number of threads.

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
    deactivate: Vec<f64>,
    coords: Vec<(f64, f64)>,
    key: Key,
}

/// Counts folded over a chunk of agents.
#[derive(Clone)]
struct Fold {
    at: Vec<u32>,
    entries: Vec<u64>,
    travelling: u64,
    gone: u64,
}

impl Fold {
    fn new(locs: usize, links: usize) -> Fold {
        Fold {
            at: vec![0; locs],
            entries: vec![0; links],
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

impl Day<'_> {
    fn cap_of(&self, loc: u32) -> f64 {
        self.cap[loc as usize]
    }

    /// Flee's `Person.evolve`: maybe plan a route and step onto a link.
    fn evolve(&self, me: &mut Me, force_town: bool, r: &mut crate::rng::Draws, fold: &mut Fold) {
        let loc = *me.loc as usize;
        let chance = if self.town[loc] && force_town {
            1.0
        } else {
            self.movechance[loc]
        };
        if r.uniform() >= chance {
            return;
        }
        if *me.left == 0 {
            self.select(me, r);
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
        if self.camp[dest as usize] && self.cap_of(dest) < 0.5 {
            *me.left = 0;
            return;
        }
        *me.route += 1;
        *me.left -= 1;
        *me.loc = link;
        *me.flags |= TRAVELLING;
        *me.dist = 0.0;
        fold.entries[link as usize] += 1;
    }

    /// Flee's `selectRoute`.
    fn select(&self, me: &mut Me, r: &mut crate::rng::Draws) {
        let loc = *me.loc as usize;
        let cands = &self.cands[loc];
        if cands.is_empty() {
            return;
        }
        let u = r.uniform();
        let k = if self.s.stay_close_to_home && self.compat == Compat::Intended {
            let (hl, ho) = self.coords[me.home as usize];
            let w: Vec<f64> = cands
                .iter()
                .zip(&self.parts[loc])
                .map(|(c, &(score, d, cap))| {
                    let (el, eo) = self.coords[c.end as usize];
                    let f = 1.0 / haversine(hl, ho, el, eo).max(1.0).powf(self.s.home_distance_power);
                    ((self.s.weight_softening + score * f) / d * cap).powf(self.s.weight_power)
                })
                .collect();
            pick(&w, u, false)
        } else {
            pick(&self.cum[loc], u, true)
        };
        let c = cands[k];
        *me.route = c.off;
        *me.left = c.len;
    }

    /// Flee's `finish_travel`, with onward hops the same day.
    fn travel(&self, me: &mut Me, r: &mut crate::rng::Draws, fold: &mut Fold) -> f64 {
        let mut moved = 0.0f64;
        let mut day_left = 1.0f64;
        while *me.flags & TRAVELLING != 0 {
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
                Compat::Intended => speed * day_left,
            };
            let now = before + advance;
            moved += advance;
            let arrived = match self.compat {
                Compat::V31 => now > link.km,
                Compat::Intended => now >= link.km,
            };
            if !arrived {
                *me.dist = now as f32;
                break;
            }
            *me.flags |= MOVED;
            moved += link.km - now;
            day_left -= if speed > 0.0 { (link.km - before) / speed } else { 1.0 };
            let link_ix = *me.loc as usize;
            *me.flags &= !TRAVELLING;
            *me.dist = 0.0;
            if !self.link_open[link_ix] {
                *me.loc = link.from;
                break;
            }
            *me.loc = link.to;
            let more = match self.compat {
                Compat::V31 => moved < speed,
                Compat::Intended => day_left > 1e-9,
            };
            if !more {
                break;
            }
            let force = self.s.avoid_short_stints && (*me.recent as f64 + moved / self.s.max_move_speed) / 2.0 < 0.5;
            self.evolve(me, force, r, fold);
        }
        moved
    }

    fn agent(&self, id: u32, me: &mut Me, fold: &mut Fold) {
        if *me.flags & GONE != 0 {
            fold.gone += 1;
            return;
        }
        let mut r = self.key.draws(id, self.t);
        if *me.flags & TRAVELLING == 0 {
            self.evolve(me, false, &mut r, fold);
        }
        let moved = self.travel(me, &mut r, fold);
        *me.recent = ((*me.recent as f64 + moved / self.s.max_move_speed) / 2.0) as f32;
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
    }
}

/// Index drawn from weights for a uniform `u`: from a cumulative table, or
/// from raw weights; uniform when they are all 0 (as Flee does).
fn pick(w: &[f64], u: f64, cumulative: bool) -> usize {
    let n = w.len();
    let total = if cumulative { w[n - 1] } else { w.iter().sum() };
    if total.is_nan() || total <= 0.0 {
        return ((u * n as f64) as usize).min(n - 1);
    }
    let x = u * total;
    if cumulative {
        w.partition_point(|&c| c <= x).min(n - 1)
    } else {
        let mut acc = 0.0;
        for (i, &wi) in w.iter().enumerate() {
            acc += wi;
            if x < acc {
                return i;
            }
        }
        n - 1
    }
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
                        new.push(pick(&cum, u, true) as u32);
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
        let mut cum = Vec::with_capacity(nl);
        let mut parts = Vec::with_capacity(nl);
        for o in 0..nl {
            let mut c = Vec::with_capacity(world.cands[o].len());
            let mut p = Vec::with_capacity(world.cands[o].len());
            let mut acc = 0.0;
            for cd in &world.cands[o] {
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
                let w = ((s.weight_softening + base * home) / d * cap[e]).powf(s.weight_power);
                acc += w;
                c.push(acc);
                p.push((base, d, cap[e]));
            }
            cum.push(c);
            parts.push(p);
        }
        let day = Day {
            t,
            s,
            compat,
            links: &world.links,
            link_open: &world.open,
            out: &world.out,
            arena: &world.arena,
            cands: &world.cands,
            cum,
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
            cap,
            deactivate: deactivate.clone(),
            coords: coords.clone(),
            key,
        };
        // 5. Every agent's day, in parallel over fixed chunks.
        let nlinks = world.links.len();
        let a = &mut agents;
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
        let fold = chunks
            .into_par_iter()
            .map(|(k, ((((((loc, dist), route), left), flags), home), recent))| {
                let mut f = Fold::new(nl, nlinks);
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
                    day.agent((k * CHUNK + i) as u32, &mut me, &mut f);
                }
                f
            })
            .reduce(|| Fold::new(nl, nlinks), Fold::add);
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
