//! The agents' day (steps 4 and 5 of a day): the day's tables (capacity
//! multipliers, location scores, route weights), then the day of every
//! agent that does not simply rest (`wake`) — a parallel sweep over fixed
//! chunks taking the decisions that read no count (camp residents above
//! the buffer, everyone's move-chance draw), a second up to a first
//! arrival of those who move, and the serial pass over the arrivals that
//! move on (see the module comment of `sim`).
//!
//! Owns the daily rules of one agent (`Day`) and the order of the passes.
//! Must not change location states or route tables (`spawn` does).

use super::agents::{parallel, Cols, Fold, Me};
use super::ahead::{run_ahead, Log, Stable};
use super::routes::{haversine, Cand, Prepared, Routes};
use super::spawn::LocState;
use super::wake::{self, ACTIVE, NEVER};
use super::{Keys, Quirks, Run, SimError, CHUNK, GONE, MOVED, TRAVELLING};
use crate::flee::model::Link;
use crate::flee::settings::Settings;
use crate::rng::{Key, Light};

/// Per-day tables every agent reads.
pub(super) struct Day<'w> {
    pub(super) t: u32,
    pub(super) s: &'w Settings,
    /// Flee 3.1's quirks in force.
    pub(super) q: Quirks,
    pub(super) links: &'w [Link],
    pub(super) link_open: &'w [bool],
    pub(super) out: &'w [Vec<u32>],
    pub(super) arena: &'w [u32],
    /// Per arena entry, the link to it from the hop before (`Routes`).
    pub(super) hop_link: &'w [u32],
    pub(super) cands: &'w [Vec<Cand>],
    /// Cumulative weights per location (parallel to `cands`).
    pub(super) cum: Vec<Vec<f64>>,
    /// Per candidate: (score, distance term, capacity multiplier) for
    /// per-agent weights (stay_close_to_home as intended).
    pub(super) parts: Vec<Vec<(f64, f64, f64)>>,
    pub(super) movechance: Vec<f64>,
    pub(super) town: Vec<bool>,
    pub(super) camp: Vec<bool>,
    pub(super) cap: Vec<f64>,
    pub(super) deactivate: &'w [f64],
    pub(super) coords: &'w [(f64, f64)],
    /// Capacity multipliers after the camp residents' departures.
    pub(super) cap_b: Vec<f64>,
    /// Cumulative weights with `cap_b`.
    pub(super) cum_b: Vec<Vec<f64>>,
    /// Camp capacities in agents (−1: unlimited), for running multipliers.
    pub(super) capacity: Vec<f64>,
    /// Places with a candidate camp whose multiplier may change during the
    /// serial pass (set before it).
    pub(super) risky: Vec<bool>,
    pub(super) key: Key,
    /// Draws of camp residents' decisions.
    pub(super) camp_key: Key,
    /// Draws of the serial pass.
    pub(super) serial_key: Key,
    /// The trip of an agent that has not moved yet today.
    pub(super) rest: Trip,
    /// What the serial pass run ahead may read (set before it).
    pub(super) ahead: Stable,
    /// Route weights from each agent's home (`stay_close_to_home` as
    /// intended), not the day's tables.
    pub(super) home_weights: bool,
    /// Per place, what the first sweep and the wake draws read.
    pub(super) place: Vec<Place>,
}
/// The day so far of an agent on the move.
#[derive(Clone, Copy, Debug)]
pub(super) struct Trip {
    /// km covered today (Flee's `distance_moved_this_timestep`).
    pub(super) moved: f64,
    /// Share of the day left (intended rules).
    pub(super) day_left: f64,
    /// Speed of the last hop, km/day.
    pub(super) speed: f64,
}

/// An agent that reached the end of a link in the parallel pass: its
/// arrival, and whatever it does next that day, run in the serial pass.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    pub(super) id: u32,
    pub(super) trip: Trip,
}

/// An arrival in the parallel pass: where, and who (for the order).
#[derive(Clone, Copy, Debug)]
pub(super) struct Arrival {
    pub(super) id: u32,
    pub(super) loc: u32,
}

/// Agents whose wake days are scanned together in the first sweep.
const BLOCK: usize = 256;

/// An agent the first sweep leaves for the second: its index in its
/// chunk and whether its move-chance draw said go (if not, it is
/// travelling, or a camp resident that decided already).
pub(super) struct Later {
    i: u32,
    go: bool,
}

/// What the first sweep reads of a place, in one lookup.
#[derive(Clone, Copy, Default)]
pub(super) struct Place {
    /// The move chance as a bound on a draw's 53 bits: `uniform() <
    /// chance` exactly when `next_word() >> 11 < go` (the uniform is
    /// those bits times 2⁻⁵³, so the comparison scales exactly).
    pub(super) go: u64,
    /// An agent that stays here is only counted: no recent travel to keep
    /// (avoid_short_stints off), no sink draw. Only here do resting agents
    /// skip days (`wake`).
    pub(super) quiet: bool,
    /// What a wake draw needs of `go`.
    pub(super) wake: wake::Chance,
    /// A camp above its capacity buffer at the start of the day.
    zone: bool,
}

/// The bound of [`Place::go`] for a move chance.
fn draw_bound(chance: f64) -> u64 {
    const ONE: f64 = (1u64 << 53) as f64;
    let x = (chance * ONE).ceil();
    // NaN and chances at or below 0 never move (the cast gives 0).
    if x >= ONE {
        1 << 53
    } else {
        x as u64
    }
}

/// Which counts a decision sees (serial Flee updates them agent by agent;
/// see the module comment).
pub(super) enum Caps<'a> {
    /// The start of the day (camp residents' decisions).
    Start,
    /// The start of the day less the departures from camps (everyone
    /// else's first decision of the day).
    AfterCamps,
    /// Running counts of the serial pass over the day's arrivals.
    Running(&'a mut [i64]),
    /// The serial pass run ahead in parallel: only what no arrival or
    /// departure of the pass can change is read (`ahead`).
    Ahead(&'a mut Log),
}
impl Day<'_> {
    #[inline(always)]
    pub(super) fn cap_of(&self, loc: u32, caps: &Caps) -> f64 {
        match caps {
            Caps::Start => self.cap[loc as usize],
            Caps::AfterCamps => self.cap_b[loc as usize],
            Caps::Running(c) => cap_multiplier(
                c[loc as usize] as f64,
                self.capacity[loc as usize],
                self.s.capacity_buffer,
            ),
            Caps::Ahead(log) => self.ahead.weight(loc, log),
        }
    }

    /// Whether camp `dest` is too full to head for (multiplier below 0.5).
    fn full(&self, dest: u32, caps: &Caps) -> bool {
        match caps {
            Caps::Ahead(log) => self.ahead.full(dest, log),
            _ => self.cap_of(dest, caps) < 0.5,
        }
    }

    /// Flee's `Person.evolve`: maybe plan a route and step onto a link.
    /// (The move-chance draw is all most agents do on most days: it stays
    /// inline, the rest does not.)
    #[inline(always)]
    pub(super) fn evolve(&self, me: &mut Me, force_town: bool, r: &mut Light, fold: &mut Fold, caps: &mut Caps) {
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
    /// (Inlined into each of its few callers: the calls' prologues and
    /// spills were a sixth of a mover's day.)
    #[inline(always)]
    pub(super) fn set_out(&self, me: &mut Me, r: &mut Light, fold: &mut Fold, caps: &mut Caps) {
        let loc = *me.loc as usize;
        if *me.left == 0 {
            self.select(me, r, caps);
        }
        if *me.left == 0 {
            return;
        }
        let Some(link) = self.next_link(loc as u32, *me.route) else {
            *me.left = 0;
            return;
        };
        let dest = self.arena[(*me.route + *me.left as u32 - 1) as usize];
        if self.camp[dest as usize] && self.full(dest, caps) {
            *me.left = 0;
            return;
        }
        *me.route += 1;
        *me.left -= 1;
        *me.loc = link;
        *me.flags |= TRAVELLING;
        *me.dist = 0.0;
        *me.wake = ACTIVE;
        match caps {
            Caps::Running(c) => {
                c[loc] -= 1;
                fold.entries[link as usize] += 1;
            }
            Caps::Ahead(log) => log.set_out(loc as u32, link),
            _ => {
                fold.left[loc] += 1;
                fold.entries[link as usize] += 1;
            }
        }
    }

    /// The first open link from `loc` to the route's next hop (Flee
    /// searches the place's links for it).
    #[inline(always)]
    fn next_link(&self, loc: u32, route: u32) -> Option<u32> {
        let first = self.hop_link[route as usize];
        if let Some(l) = self.links.get(first as usize) {
            if l.from == loc && self.link_open[first as usize] {
                return Some(first);
            }
        }
        let next = self.arena[route as usize];
        self.out[loc as usize]
            .iter()
            .copied()
            .find(|&l| self.links[l as usize].to == next)
    }

    /// Flee's `selectRoute`.
    #[inline(always)]
    pub(super) fn select(&self, me: &mut Me, r: &mut Light, caps: &Caps) {
        let loc = *me.loc as usize;
        let cands = &self.cands[loc];
        if cands.is_empty() {
            return;
        }
        let u = r.uniform();
        let home = self.home_weights;
        let k = match caps {
            Caps::Start if !home => pick(&self.cum[loc], u),
            Caps::AfterCamps if !home => pick(&self.cum_b[loc], u),
            // No candidate can change its multiplier today: the table holds.
            Caps::Running(_) | Caps::Ahead(_) if !home && !self.risky[loc] => pick(&self.cum_b[loc], u),
            _ => self.weighed(me.home, loc, u, caps),
        };
        let c = cands[k];
        *me.route = c.off;
        *me.left = c.len;
    }

    /// The route `selectRoute` draws with `u` from `loc` where the day's
    /// tables do not hold: weights from the running counts, or from an
    /// agent's own home (`home`).
    #[inline(never)]
    fn weighed(&self, home: u32, loc: usize, u: f64, caps: &Caps) -> usize {
        let cands = &self.cands[loc];
        let n = cands.len();
        // Each weight computed once (a handful of candidates: on the stack).
        let (mut buf, mut heap) = ([0.0; 32], Vec::new());
        let ws = if n <= buf.len() {
            &mut buf[..n]
        } else {
            heap.resize(n, 0.0);
            &mut heap[..]
        };
        for ((w, c), p) in ws.iter_mut().zip(cands).zip(&self.parts[loc]) {
            *w = self.weight(home, c, p, caps);
        }
        let total: f64 = ws.iter().sum();
        if total.is_nan() || total <= 0.0 {
            return ((u * n as f64) as usize).min(n - 1);
        }
        let x = u * total;
        let mut acc = 0.0;
        for (i, &w) in ws.iter().enumerate() {
            acc += w;
            if x < acc {
                return i;
            }
        }
        n - 1
    }

    /// The weight of candidate `c` (with its day's `parts`) for an agent
    /// from `home`, with the multipliers `caps` gives.
    #[inline(always)]
    fn weight(&self, home: u32, c: &Cand, &(score, d, home_f): &(f64, f64, f64), caps: &Caps) -> f64 {
        let f = if self.home_weights {
            let (hl, ho) = self.coords[home as usize];
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
    }

    /// Moves an agent along its link for what is left of its day; true when
    /// it reaches the end (the arrival itself is `arrive`).
    #[inline(always)]
    pub(super) fn advance(&self, me: &mut Me, r: &mut Light, trip: &mut Trip) -> bool {
        let link = &self.links[*me.loc as usize];
        let mut speed = link.max_move_speed.unwrap_or(self.s.max_move_speed);
        if *me.flags & MOVED == 0 && self.s.start_on_foot {
            speed = self.s.max_walk_speed;
        }
        if link.walk_probability > 0.0 && r.uniform() < link.walk_probability {
            speed = self.s.max_walk_speed;
        }
        let before = *me.dist as f64;
        let advance = if self.q.full_speed_every_hop {
            speed
        } else {
            speed * trip.day_left
        };
        let now = before + advance;
        trip.moved += advance;
        let arrived = if self.q.arrives_strictly_past_the_end {
            now > link.km
        } else {
            now >= link.km
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
    #[inline(always)]
    pub(super) fn arrive(&self, me: &mut Me, trip: &Trip, caps: &mut Caps) -> bool {
        let link_ix = *me.loc as usize;
        let link = &self.links[link_ix];
        *me.flags |= MOVED;
        *me.flags &= !TRAVELLING;
        *me.dist = 0.0;
        let open = self.link_open[link_ix];
        *me.loc = if open { link.to } else { link.from };
        match caps {
            Caps::Running(c) => c[*me.loc as usize] += 1,
            Caps::Ahead(log) => log.moves.push((*me.loc, 1)),
            _ => {}
        }
        open && if self.q.moves_on_by_distance {
            trip.moved < trip.speed
        } else {
            trip.day_left > 1e-9
        }
    }

    /// Flee's `finish_travel`, with onward hops the same day (the serial
    /// pass; the parallel pass stops at a first arrival: `travel_first`).
    pub(super) fn travel(&self, me: &mut Me, r: &mut Light, fold: &mut Fold, trip: &mut Trip, caps: &mut Caps) {
        while *me.flags & TRAVELLING != 0 {
            if !self.advance(me, r, trip) {
                break;
            }
            if !self.arrive(me, trip, caps) {
                break;
            }
            let force =
                self.s.avoid_short_stints && (*me.recent as f64 + trip.moved / self.s.max_move_speed) / 2.0 < 0.5;
            self.evolve(me, force, r, fold, caps);
        }
    }

    /// The end of an agent's day: recent travel, camps as sinks, counts,
    /// and when it next leaves (from its next draw `r`).
    #[inline(always)]
    pub(super) fn settle(&self, me: &mut Me, r: &mut Light, trip: &Trip, fold: &mut Fold) {
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
            *me.wake = NEVER;
            fold.gone += 1;
            return;
        }
        fold.at[at] += 1;
        *me.wake = self.wake_after(at, r);
    }

    /// The wake day of an agent resting at `at` from tomorrow on, from
    /// its next draw of today.
    #[inline(always)]
    fn wake_after(&self, at: usize, r: &mut Light) -> u32 {
        wake::wake_day(self.t + 1, &self.place[at], || r.next_word())
    }

    /// The first sweep over a chunk of agents (`base` the id of its
    /// first): every decision that reads no count after the camps'
    /// departures, for the agents due today. Most agents rest on most days
    /// (camps' move chance is 0.001) and are not due: a scan of the wake
    /// column skips them, and their counts stand. Residents of camps above
    /// the buffer decide (Flee's pass 1 for them) with the start-of-day
    /// multipliers, so that everyone else's route choice sees their
    /// departures; everyone else draws whether to move, or leaves on its
    /// wake day. Everyone who moves or travels is left in `later`, in
    /// agent order, for the second sweep.
    pub(super) fn first_sweep(&self, base: u32, mut c: Cols, fold: &mut Fold, later: &mut Vec<Later>) {
        let n = c.loc.len();
        let mut due = [0u32; BLOCK];
        for start in (0..n).step_by(BLOCK) {
            let wake = &c.wake[start..n.min(start + BLOCK)];
            // Without a branch per agent: written always, kept if due.
            // (AVX-512's compare into a mask, sixteen agents at a time,
            // was no faster: the agents due, not the scan, take the time.)
            let mut k = 0;
            for (j, &w) in wake.iter().enumerate() {
                due[k] = j as u32;
                k += (w <= self.t) as usize;
            }
            for &j in &due[..k] {
                self.due_agent(base, start + j as usize, &mut c, fold, later);
            }
        }
    }

    /// Agent `i` of the chunk, due today: travelling, active (it draws
    /// whether to move) or woken (it leaves without a draw).
    fn due_agent(&self, base: u32, i: usize, c: &mut Cols, fold: &mut Fold, later: &mut Vec<Later>) {
        let f = c.flags[i];
        debug_assert!(f & GONE == 0, "deactivated agents never wake");
        if f & TRAVELLING != 0 {
            later.push(Later { i: i as u32, go: false });
            return;
        }
        let id = base + i as u32;
        let loc = c.loc[i] as usize;
        fold.base[loc] += 1;
        let place = self.place[loc];
        let woken = c.wake[i] != ACTIVE;
        debug_assert!(!woken || c.wake[i] == self.t, "a wake day is never passed");
        if place.zone {
            // A resident of a camp above the buffer: its first draw, and
            // its route if it leaves, under `camp_key`.
            // A woken agent skips the draw an active one takes.
            let mut r = self.camp_key.light_after(id, self.t, woken as u64);
            if woken || r.next_word() >> 11 < place.go {
                self.set_out(&mut c.me(i), &mut r, fold, &mut Caps::Start);
            }
            if c.flags[i] & TRAVELLING == 0 && place.quiet {
                fold.at[loc] += 1;
                c.wake[i] = self.wake_after(loc, &mut r);
            } else {
                // It finishes its day in the second sweep.
                later.push(Later { i: i as u32, go: false });
            }
            return;
        }
        if woken || self.key.light(id, self.t).next_word() >> 11 < place.go {
            // `evolve` without forcing, as an integer comparison
            // (`Place::go`).
            later.push(Later { i: i as u32, go: true });
            return;
        }
        let mut r = self.key.light_after(id, self.t, 1);
        if place.quiet {
            // `settle` of an agent that stays, where it is only counted.
            fold.at[loc] += 1;
            c.wake[i] = self.wake_after(loc, &mut r);
        } else {
            self.settle(&mut c.me(i), &mut r, &self.rest, fold);
        }
    }

    /// The second sweep over a chunk: route choice (seeing the camps'
    /// departures) and travel up to a first arrival of everyone the first
    /// sweep left.
    pub(super) fn second_sweep(&self, base: u32, mut c: Cols, fold: &mut Fold, later: &mut Vec<Later>) {
        // Each makes at most one first arrival and one pending move: room
        // made once instead of growing the lists.
        fold.arrivals.reserve(later.len());
        fold.pending.reserve(later.len());
        for l in later.drain(..) {
            let id = base + l.i;
            let me = &mut c.me(l.i as usize);
            if l.go {
                self.agent_sets_out(id, me, fold, self.key.light_after(id, self.t, 1));
            } else {
                self.travel_first(id, me, fold, self.key.light(id, self.t));
            }
        }
    }

    /// A resting agent whose move-chance draw says go.
    #[inline(never)]
    fn agent_sets_out(&self, id: u32, me: &mut Me, fold: &mut Fold, mut r: Light) {
        self.set_out(me, &mut r, fold, &mut Caps::AfterCamps);
        self.travel_first(id, me, fold, r);
    }

    /// Pass 2 of the parallel pass: travel up to a first arrival.
    fn travel_first(&self, id: u32, me: &mut Me, fold: &mut Fold, mut r: Light) {
        let mut trip = self.rest;
        // `travel` up to a first arrival.
        if *me.flags & TRAVELLING != 0 && self.advance(me, &mut r, &mut trip) {
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
                self.settle(me, &mut r, &trip, fold);
            }
            fold.arrivals.push(arrival);
            return;
        }
        self.settle(me, &mut r, &trip, fold);
    }

    /// The day of an agent that arrived and moves on, from there, in the
    /// serial pass: it sees the arrivals and departures before it.
    pub(super) fn resume(&self, p: &Pending, me: &mut Me, fold: &mut Fold, running: &mut [i64]) {
        let mut caps = Caps::Running(running);
        let mut r = self.serial_key.light(p.id, self.t);
        let mut trip = p.trip;
        self.set_out(me, &mut r, fold, &mut caps);
        self.travel(me, &mut r, fold, &mut trip, &mut caps);
        self.settle(me, &mut r, &trip, fold);
    }
}
/// Cumulative route weights per location for capacity multipliers `cap`.
pub(super) fn cumulate(
    cands: &[Vec<Cand>],
    parts: &[Vec<(f64, f64, f64)>],
    cap: &[f64],
    s: &Settings,
) -> Vec<Vec<f64>> {
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
/// Index drawn from a cumulative table of weights for a uniform `u`;
/// uniform when the weights are all 0 (as Flee does).
pub(super) fn pick(cum: &[f64], u: f64) -> usize {
    let n = cum.len();
    let total = cum[n - 1];
    if total.is_nan() || total <= 0.0 {
        return ((u * n as f64) as usize).min(n - 1);
    }
    cum.partition_point(|&c| c <= u * total).min(n - 1)
}

pub(super) fn cap_multiplier(count: f64, capacity: f64, buffer: f64) -> f64 {
    if capacity < 1.0 || count <= buffer * capacity {
        1.0
    } else if count >= capacity {
        0.0
    } else {
        1.0 - (count - buffer * capacity) / (capacity * (1.0 - buffer))
    }
}

impl Run<'_> {
    /// Steps 4 and 5: the day's tables, then every agent's day; checks
    /// that every agent is counted once.
    pub(super) fn agents_day(&mut self, t: u32) -> Result<(), SimError> {
        let Run {
            p,
            routes,
            states,
            agents,
            count,
            keys,
            later,
            places,
            ..
        } = self;
        let nl = states.len();
        let buffer = p.sc.settings.capacity_buffer;
        let mut day = tables(p, routes, states, count, t, *keys);
        // Where a resting agent's chance changed today, its wake day is
        // drawn again (none rest on day 0).
        if t > 0 {
            let moved: Vec<bool> = (places.iter().zip(&day.place))
                .map(|(was, now)| wake::changed(was, now))
                .collect();
            if moved.contains(&true) {
                wake::redraw(agents, &moved, &day.place, keys.wake, t);
            }
        }
        places.clone_from(&day.place);
        let nlinks = routes.links.len();
        later.resize_with(agents.len().div_ceil(CHUNK), Vec::new);
        let (first, lists) = parallel(agents, nl, nlinks, std::mem::take(later), &|base, cols, f, l| {
            day.first_sweep(base, cols, f, l)
        });
        after_camps(&mut day, &first.left, count, states, routes);
        let (second, lists) = parallel(agents, nl, nlinks, lists, &|base, cols, f, l| {
            day.second_sweep(base, cols, f, l)
        });
        *later = lists;
        // Only the first sweep's departures (from camps) are in its `left`.
        let mut fold = second.add(first);
        let mut running: Vec<i64> = (0..nl).map(|l| count[l] as i64 - fold.left[l]).collect();
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
        day.risky = (routes.cands.iter())
            .map(|cs| cs.iter().any(|c| may_change[c.end as usize]))
            .collect();
        // With more than one thread the pass runs ahead in parallel and
        // only the agents that read a count it could change stay serial
        // (`ahead`); one thread runs it serially (the same results).
        let (serial, moves) = if rayon::current_num_threads() > 1 {
            let hi: Vec<i64> = reach.iter().map(|&x| x + pending.len() as i64).collect();
            day.ahead = Stable::new(&running, &hi, &day.capacity, buffer);
            let a = run_ahead(&day, agents, &pending, nl, routes.links.len());
            fold = fold.add(a.fold);
            (a.rest, a.moves)
        } else {
            (pending, Vec::new())
        };
        let (mut next, mut moved) = (0, 0);
        for p in &serial {
            // Everyone who arrived before this agent in Flee's order, and the
            // agent itself, is at its arrival place by now, and everyone run
            // ahead before it has made its moves.
            while next < arrivals.len() && arrivals[next].id <= p.id {
                running[arrivals[next].loc as usize] += 1;
                next += 1;
            }
            while moved < moves.len() && moves[moved].0 < p.id {
                running[moves[moved].1 as usize] += moves[moved].2 as i64;
                moved += 1;
            }
            let mut me = agents.me(p.id as usize);
            day.resume(p, &mut me, &mut fold, &mut running);
        }
        // The agents the day did not visit rest where they were counted.
        for ((c, &at), &was) in count.iter_mut().zip(&fold.at).zip(&fold.base) {
            *c = *c - was + at;
        }
        self.gone += fold.gone;
        let placed: u64 = count.iter().map(|&x| x as u64).sum();
        let expected = agents.len() as u64;
        if placed + fold.travelling + self.gone != expected {
            return Err(SimError::Conservation {
                day: t,
                counted: placed + fold.travelling + self.gone,
                expected,
            });
        }
        // The counts kept against a count of every agent: every day in
        // debug builds, every 32nd day and the last otherwise (a count is
        // a pass over all agents, which the day otherwise skips).
        if cfg!(debug_assertions) || t % 32 == 31 || t + 1 == p.sc.days {
            if let Some((l, kept, counted)) = miscounted(agents, count) {
                return Err(SimError::Recount {
                    day: t,
                    place: p.sc.locations[l].name.clone(),
                    kept,
                    counted,
                });
            }
        }
        for (e, x) in self.out.link_entries.iter_mut().zip(&fold.entries) {
            *e += x;
        }
        self.out.counts.push(self.count.clone());
        self.out.agents.push(expected - self.gone);
        self.out.travelling.push(fold.travelling);
        self.out.debt.push(self.debt.max(0) as u64);
        Ok(())
    }
}

/// The first place whose count in `count` is not the number of agents
/// there (not travelling, not deactivated), with both: a check of the
/// counts a day keeps without visiting resting agents.
fn miscounted(agents: &super::agents::Agents, count: &[u32]) -> Option<(usize, u32, u32)> {
    let mut at = vec![0u32; count.len()];
    for (&l, &f) in agents.loc.iter().zip(&agents.flags) {
        if f & (GONE | TRAVELLING) == 0 {
            at[l as usize] += 1;
        }
    }
    (at.iter().zip(count).enumerate()).find_map(|(l, (&a, &c))| (a != c).then_some((l, c, a)))
}

/// Step 4: the day's tables, capacity multipliers from yesterday's
/// counts, location scores, and the route weights of every candidate.
fn tables<'w>(p: &'w Prepared, routes: &'w Routes, states: &[LocState], count: &[u32], t: u32, keys: Keys) -> Day<'w> {
    let (sc, q) = (p.sc, p.q);
    let s = &sc.settings;
    let nl = states.len();
    let buffer = s.capacity_buffer;
    let cap: Vec<f64> = (0..nl)
        .map(|l| cap_multiplier(count[l] as f64, states[l].capacity, buffer))
        .collect();
    let score: Vec<f64> = (0..nl)
        .map(|l| {
            let st = &states[l];
            let mut x = 1.0;
            if sc.locations[l].foreign {
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
            routes.cands[o]
                .iter()
                .map(|cd| {
                    let e = cd.end as usize;
                    let mut base = score[e];
                    if !states[e].camp && s.use_pop_for_loc_weight {
                        let pop = if q.pop_weight_capped_at_one {
                            states[e].pop.min(1.0)
                        } else {
                            states[e].pop.max(1.0)
                        };
                        base *= pop.powf(s.pop_power_for_loc_weight);
                    }
                    let d = (s.softening + cd.km).powf(s.distance_power);
                    let mut home = 1.0;
                    if s.stay_close_to_home && q.home_distance_from_current_place {
                        let (a, b) = p.coords[o];
                        let (x, y) = p.coords[e];
                        home = 1.0 / haversine(a, b, x, y).max(1.0).powf(s.home_distance_power);
                    }
                    (base, d, home)
                })
                .collect()
        })
        .collect();
    let cum = cumulate(&routes.cands, &parts, &cap, s);
    let movechance: Vec<f64> = (states.iter())
        .map(|st| {
            let m = st.pop.max(st.capacity) / s.movechance_pop_base;
            st.movechance * m.powf(s.movechance_pop_scale_factor)
        })
        .collect();
    let place: Vec<Place> = (0..nl)
        .map(|l| Place {
            go: draw_bound(movechance[l]),
            wake: wake::Chance::of(draw_bound(movechance[l])),
            quiet: !(s.avoid_short_stints || (s.camps_are_sinks && states[l].camp && p.deactivate[l] > 0.0)),
            zone: states[l].camp && states[l].capacity >= 1.0 && count[l] as f64 > buffer * states[l].capacity,
        })
        .collect();
    Day {
        t,
        s,
        q,
        links: &routes.links,
        link_open: &routes.open,
        out: &routes.out,
        arena: &routes.arena,
        hop_link: &routes.hop_link,
        cands: &routes.cands,
        cum: cum.clone(),
        parts,
        town: states.iter().map(|st| st.town).collect(),
        camp: states.iter().map(|st| st.camp).collect(),
        deactivate: &p.deactivate,
        coords: &p.coords,
        cap_b: cap.clone(),
        cum_b: cum,
        capacity: states.iter().map(|st| st.capacity).collect(),
        risky: Vec::new(),
        cap,
        key: keys.decide,
        camp_key: keys.camp,
        serial_key: keys.serial,
        rest: Trip {
            moved: 0.0,
            day_left: 1.0,
            speed: s.max_move_speed,
        },
        ahead: Stable::default(),
        home_weights: s.stay_close_to_home && !q.home_distance_from_current_place,
        place,
        movechance,
    }
}

/// Only residents of camps above the capacity buffer can change a
/// multiplier by leaving (first sweep): everyone else's route choice (second
/// sweep) sees the multipliers after their departures, `left`.
fn after_camps(day: &mut Day, left: &[i64], count: &[u32], states: &[LocState], routes: &Routes) {
    if left.iter().any(|&x| x > 0) {
        let buffer = day.s.capacity_buffer;
        let after: Vec<f64> = (0..states.len())
            .map(|l| cap_multiplier((count[l] as i64 - left[l]) as f64, states[l].capacity, buffer))
            .collect();
        day.cum_b = cumulate(&routes.cands, &day.parts, &after, day.s);
        day.cap_b = after;
    }
}

#[cfg(test)]
mod tests {
    use super::draw_bound;
    use crate::rng::{Key, Stream};

    #[test]
    fn a_count_kept_that_is_not_the_agents_there_is_found_with_both_numbers() {
        let mut agents = super::super::agents::Agents::default();
        for l in [0, 2, 2, 1, 2] {
            agents.push(l);
        }
        // The fourth is on a link, the fifth deactivated: neither is counted.
        agents.flags[3] |= super::TRAVELLING;
        agents.flags[4] |= super::GONE;
        assert_eq!(super::miscounted(&agents, &[1, 0, 2]), None);
        assert_eq!(super::miscounted(&agents, &[1, 0, 3]), Some((2, 3, 2)));
        assert_eq!(super::miscounted(&agents, &[1, 1, 2]), Some((1, 1, 0)));
    }

    #[test]
    fn a_move_chance_bound_decides_as_the_uniform_draw_does() {
        let chances = [
            0.0,
            -0.5,
            f64::NAN,
            1e-300,
            0.001,
            0.1,
            0.3,
            0.5,
            0.999_999,
            1.0,
            1.5,
            f64::INFINITY,
        ];
        let k = Key::new(5, Stream::Decide);
        for c in chances {
            for agent in 0..20_000 {
                // The model's generator: `Light`.
                let w = k.light(agent, 3).next_word();
                let u = k.light(agent, 3).uniform();
                assert_eq!(w >> 11 < draw_bound(c), u < c, "chance {c}, agent {agent}");
            }
        }
        // At the edges: the uniform of bits k is k·2⁻⁵³.
        let one = (1u64 << 53) as f64;
        for k in [0u64, 1, 2, 1 << 20, (1 << 53) - 1] {
            for c in [k as f64 / one, (k as f64 + 0.5) / one, (k as f64 + 1.0) / one] {
                assert_eq!(k < draw_bound(c), (k as f64) / one < c, "bits {k}, chance {c}");
            }
        }
    }
}
