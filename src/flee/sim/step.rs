//! The agents' day (steps 4 and 5 of a day): the day's tables (capacity
//! multipliers, location scores, route weights), then every agent's day —
//! a parallel sweep over fixed chunks taking the decisions that read no
//! count (camp residents above the buffer, everyone's move-chance draw),
//! a second up to a first arrival of those who move, and the serial pass
//! over the arrivals that move on (see the module comment of `sim`).
//!
//! Owns the daily rules of one agent (`Day`) and the order of the passes.
//! Must not change location states or route tables (`spawn` does).

use super::agents::{parallel, Cols, Fold, Me};
use super::ahead::{run_ahead, Log, Stable};
use super::routes::{haversine, Cand, Prepared, Routes};
use super::spawn::LocState;
use super::{Keys, Quirks, Run, SimError, CHUNK, GONE, MOVED, TRAVELLING};
use crate::flee::model::Link;
use crate::flee::settings::Settings;
use crate::rng::Key;

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
    /// Per place, for camp residents above the buffer: [`Place::go`]
    /// where one that does not move is only counted, `u64::MAX` elsewhere.
    pub(super) camp_stay: Vec<u64>,
    /// Route weights from each agent's home (`stay_close_to_home` as
    /// intended), not the day's tables.
    pub(super) home_weights: bool,
    /// Per place, what the first sweep reads.
    pub(super) place: Vec<Place>,
    /// Per place, for the first sweep's quick loop: [`Place::go`] where an
    /// agent that does not move is only counted and the place is not a
    /// camp above its buffer ([`ZONE`] there), `u64::MAX` (which no draw
    /// reaches) elsewhere.
    pub(super) stay: Vec<u64>,
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

/// Agents whose first draws are computed together in the first sweep.
const BLOCK: usize = 256;

/// [`Day::stay`] of a camp above its capacity buffer: its residents decide
/// under their own key (no draw's 53 bits reach it, nor `u64::MAX`).
const ZONE: u64 = u64::MAX - 1;

/// Counts per place in the first sweep's quick loop ([`quick`]).
const STRIPES: usize = 4;

/// The first sweep's quick loop over a block: each agent's first word
/// `words[j]`, flags and place. Most agents on most days rest where they
/// are only counted: one comparison with `stay` (`Day::stay`) and a count
/// in `striped` (place · [`STRIPES`] + j % STRIPES). The others go to
/// `zone` (residents of camps above the buffer) or `slow`, by index in
/// the block, in order; returns how many of each. Without branches on
/// the agent: which of the three an agent is follows no pattern (a
/// fifth of Burundi's agent-days are camp residents above the buffer, a
/// tenth move), so a branch on it was mispredicted for a large share of
/// agents.
#[inline(always)]
fn quick(
    words: &[u64],
    flags: &[u8],
    locs: &[u32],
    stay: &[u64],
    striped: &mut [u32],
    zone: &mut [u32; BLOCK],
    slow: &mut [u32; BLOCK],
) -> (usize, usize) {
    let (mut z, mut k) = (0, 0);
    let len = words.len().min(flags.len()).min(locs.len()).min(BLOCK);
    assert!(striped.len() >= STRIPES * stay.len(), "four counts per place");
    if stay.is_empty() {
        // No place to rest at (every `l < stay.len()` fails).
        for (j, s) in slow[..len].iter_mut().enumerate() {
            *s = j as u32;
        }
        return (0, len);
    }
    for j in 0..len {
        let (w, f, l) = (words[j], flags[j], locs[j] as usize);
        let live = (f & (GONE | TRAVELLING) == 0) & (l < stay.len());
        // A place every agent may read; counted only when resting.
        let at = if live { l } else { 0 };
        let st = stay[at];
        // No draw's 53 bits reach ZONE: a resident of such a camp never rests here.
        let rests = live & (w >> 11 >= st);
        let zoned = live & (st == ZONE);
        striped[at * STRIPES + j % STRIPES] += rests as u32;
        // Written always, kept only if counted: z and k are at most j.
        zone[z] = j as u32;
        z += zoned as usize;
        slow[k] = j as u32;
        k += !(rests | zoned) as usize;
    }
    (z, k)
}

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
    go: u64,
    /// An agent that stays here is only counted: no recent travel to keep
    /// (avoid_short_stints off), no sink draw.
    quiet: bool,
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
    pub(super) fn evolve(
        &self,
        me: &mut Me,
        force_town: bool,
        r: &mut crate::rng::Draws,
        fold: &mut Fold,
        caps: &mut Caps,
    ) {
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
    pub(super) fn set_out(&self, me: &mut Me, r: &mut crate::rng::Draws, fold: &mut Fold, caps: &mut Caps) {
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
    pub(super) fn select(&self, me: &mut Me, r: &mut crate::rng::Draws, caps: &Caps) {
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
    pub(super) fn advance(&self, me: &mut Me, r: &mut crate::rng::Draws, trip: &mut Trip) -> bool {
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
    pub(super) fn travel(
        &self,
        me: &mut Me,
        r: &mut crate::rng::Draws,
        fold: &mut Fold,
        trip: &mut Trip,
        caps: &mut Caps,
    ) {
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

    /// The end of an agent's day: recent travel, camps as sinks, counts.
    #[inline(always)]
    pub(super) fn settle(&self, me: &mut Me, r: &mut crate::rng::Draws, trip: &Trip, fold: &mut Fold) {
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
    }

    /// The first sweep over a chunk of agents (`base` the id of its
    /// first): every decision that reads no count after the camps'
    /// departures. Residents of camps above the buffer decide (Flee's pass
    /// 1 for them) with the start-of-day multipliers, so that everyone
    /// else's route choice sees their departures; everyone else draws
    /// whether to move. Most agents rest on most days (camps' move chance
    /// is 0.001): their day is one draw and a count, done here with no
    /// per-agent references. Everyone who moves or travels is left in
    /// `later`, in agent order, for the second sweep.
    pub(super) fn first_sweep(&self, base: u32, mut c: Cols, fold: &mut Fold, later: &mut Vec<Later>) {
        let n = c.loc.len();
        assert_eq!(c.flags.len(), n);
        let nl = self.stay.len();
        // The move-chance draw is each agent's first word under `key`:
        // computed a block at a time (vectorised where the CPU can).
        let mut words = [0u64; BLOCK];
        // The block's agents the quick loop leaves, by index in the block:
        // residents of camps above the buffer, and the others.
        let (mut zone, mut slow) = ([0u32; BLOCK], [0u32; BLOCK]);
        // The resting agents' counts, four per place (agent j in stripe
        // j % 4), added to the fold's at the end: consecutive agents in one
        // camp would otherwise each wait for the last one's increment.
        let mut striped = vec![0u32; STRIPES * nl];
        for start in (0..n).step_by(BLOCK) {
            let end = n.min(start + BLOCK);
            let block = &mut words[..end - start];
            self.key.words(base + start as u32, self.t, block);
            let len = block.len();
            let (flags, locs) = (&c.flags[start..start + len], &c.loc[start..start + len]);
            let (z, k) = quick(block, flags, locs, &self.stay[..nl], &mut striped, &mut zone, &mut slow);
            let kept = self.camp_residents(base, start, &mut zone[..z], &mut c, fold);
            let mut kept = kept.iter().peekable();
            for &j in &slow[..k] {
                // Camp residents that finish their day in the second sweep
                // go to its list in agent order with everyone else.
                while let Some(&q) = kept.next_if(|&&q| q < j) {
                    later.push(Later {
                        i: (start + q as usize) as u32,
                        go: false,
                    });
                }
                let i = start + j as usize;
                self.slow_agent(base, i, block[j as usize], &mut c, fold, later);
            }
            for &q in kept {
                later.push(Later {
                    i: (start + q as usize) as u32,
                    go: false,
                });
            }
        }
        for (a, s) in fold.at[..nl].iter_mut().zip(striped.chunks_exact(STRIPES)) {
            *a += s.iter().sum::<u32>();
        }
    }

    /// An agent of the first sweep that does not simply rest and is not a
    /// camp resident above the buffer: travelling, gone, moving (its first
    /// word `w` says go) or resting where more than a count is kept.
    fn slow_agent(&self, base: u32, i: usize, w: u64, c: &mut Cols, fold: &mut Fold, later: &mut Vec<Later>) {
        let f = c.flags[i];
        if f & (GONE | TRAVELLING) != 0 {
            if f & GONE != 0 {
                fold.gone += 1;
            } else {
                later.push(Later { i: i as u32, go: false });
            }
            return;
        }
        let loc = c.loc[i] as usize;
        let place = self.place[loc];
        debug_assert!(
            !place.zone,
            "camp residents above the buffer are the quick loop's `zone`"
        );
        if w >> 11 < place.go {
            // `evolve` without forcing, as an integer comparison
            // (`Place::go`).
            later.push(Later { i: i as u32, go: true });
        } else if place.quiet {
            // `settle` of an agent that stays, where it is only counted.
            fold.at[loc] += 1;
        } else {
            let mut r = self.key.draws_after(base + i as u32, self.t, 1);
            self.settle(&mut c.me(i), &mut r, &self.rest, fold);
        }
    }

    /// The first decision of the day of the agents `zone` of a block (from
    /// agent `start` of the chunk, indices in the block), residents of
    /// camps above their capacity buffer, under `camp_key` (their first
    /// words computed together, as the block's are). Returns, in order,
    /// those that finish their day in the second sweep: whoever leaves,
    /// or stays where more than a count is kept (a prefix of `zone`,
    /// rewritten).
    fn camp_residents<'z>(
        &self,
        base: u32,
        start: usize,
        zone: &'z mut [u32],
        c: &mut Cols,
        fold: &mut Fold,
    ) -> &'z [u32] {
        let first = base + start as u32;
        let mut ids = [0u32; BLOCK];
        for (id, &j) in ids.iter_mut().zip(zone.iter()) {
            *id = first + j;
        }
        let mut words = [0u64; BLOCK];
        let z = zone.len();
        self.camp_key.words_of(&ids[..z], self.t, &mut words[..z]);
        let nl = self.camp_stay.len();
        let mut kept = 0;
        for q in 0..z {
            let i = start + zone[q] as usize;
            let l = c.loc[i] as usize;
            // Most stay where they are only counted (`Day::camp_stay`).
            if l < nl && words[q] >> 11 >= self.camp_stay[l] {
                fold.at[l] += 1;
                continue;
            }
            let place = self.place[l];
            // `evolve` without forcing (`Place::go`).
            if words[q] >> 11 < place.go {
                let mut r = self.camp_key.draws_after(ids[q], self.t, 1);
                self.set_out(&mut c.me(i), &mut r, fold, &mut Caps::Start);
            }
            if c.flags[i] & TRAVELLING == 0 && place.quiet {
                fold.at[c.loc[i] as usize] += 1;
            } else {
                zone[kept] = zone[q];
                kept += 1;
            }
        }
        &zone[..kept]
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
                self.agent_sets_out(id, me, fold, self.key.draws_after(id, self.t, 1));
            } else {
                self.travel_first(id, me, fold, self.key.draws(id, self.t));
            }
        }
    }

    /// A resting agent whose move-chance draw says go.
    #[inline(never)]
    fn agent_sets_out(&self, id: u32, me: &mut Me, fold: &mut Fold, mut r: crate::rng::Draws) {
        self.set_out(me, &mut r, fold, &mut Caps::AfterCamps);
        self.travel_first(id, me, fold, r);
    }

    /// Pass 2 of the parallel pass: travel up to a first arrival.
    fn travel_first(&self, id: u32, me: &mut Me, fold: &mut Fold, mut r: crate::rng::Draws) {
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
        let mut r = self.serial_key.draws(p.id, self.t);
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
            ..
        } = self;
        let nl = states.len();
        let buffer = p.sc.settings.capacity_buffer;
        let mut day = tables(p, routes, states, count, t, *keys);
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
        let placed: u64 = fold.at.iter().map(|&x| x as u64).sum();
        let expected = agents.len() as u64;
        if placed + fold.travelling + fold.gone != expected {
            return Err(SimError::Conservation {
                day: t,
                counted: placed + fold.travelling + fold.gone,
                expected,
            });
        }
        for (e, x) in self.out.link_entries.iter_mut().zip(&fold.entries) {
            *e += x;
        }
        self.count = fold.at;
        self.out.counts.push(self.count.clone());
        self.out.agents.push(expected - fold.gone);
        self.out.travelling.push(fold.travelling);
        self.out.debt.push(self.debt.max(0) as u64);
        Ok(())
    }
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
        camp_stay: place.iter().map(|p| if p.quiet { p.go } else { u64::MAX }).collect(),
        home_weights: s.stay_close_to_home && !q.home_distance_from_current_place,
        stay: (place.iter())
            .map(|p| match (p.zone, p.quiet) {
                (true, _) => ZONE,
                (false, true) => p.go,
                (false, false) => u64::MAX,
            })
            .collect(),
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
    use super::{draw_bound, quick, BLOCK, GONE, MOVED, STRIPES, TRAVELLING, ZONE};
    use crate::rng::{Key, Stream};

    /// The quick loop as first written, with a branch per kind of agent:
    /// the specification [`quick`] must follow.
    fn quick_by_branches(words: &[u64], flags: &[u8], locs: &[u32], stay: &[u64]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
        let (mut at, mut zone, mut slow) = (vec![0u32; stay.len()], Vec::new(), Vec::new());
        for j in 0..words.len() {
            let (w, f, l) = (words[j], flags[j], locs[j] as usize);
            if f & (GONE | TRAVELLING) == 0 && l < stay.len() {
                if w >> 11 >= stay[l] {
                    at[l] += 1;
                    continue;
                }
                if stay[l] == ZONE {
                    zone.push(j as u32);
                    continue;
                }
            }
            slow.push(j as u32);
        }
        (at, zone, slow)
    }

    #[test]
    fn the_quick_loop_without_branches_sorts_agents_as_the_branches_did() {
        let key = Key::new(3, Stream::Decide);
        let kinds = [0, TRAVELLING, GONE, MOVED, MOVED | TRAVELLING, GONE | MOVED];
        for trial in 0..400u32 {
            let mut r = key.draws(trial, 0);
            let nl = (r.next_word() % 9) as usize;
            // Places that only count, camps above the buffer, places that
            // keep more than a count; bounds from never to always.
            let stay: Vec<u64> = (0..nl)
                .map(|_| match r.next_word() % 5 {
                    0 => u64::MAX,
                    1 => ZONE,
                    2 => 0,
                    3 => 1 << 53,
                    _ => r.next_word() >> 11,
                })
                .collect();
            let len = 1 + (r.next_word() % BLOCK as u64) as usize;
            let words: Vec<u64> = (0..len).map(|_| r.next_word()).collect();
            let flags: Vec<u8> = (0..len).map(|_| kinds[(r.next_word() % 6) as usize]).collect();
            // Some agents on links: their `loc` is a link index, often past the places.
            let locs: Vec<u32> = (0..len).map(|_| (r.next_word() % (nl as u64 + 4)) as u32).collect();
            let (at, zone_want, slow_want) = quick_by_branches(&words, &flags, &locs, &stay);
            let mut striped = vec![0u32; STRIPES * nl];
            let (mut zone, mut slow) = ([0u32; BLOCK], [0u32; BLOCK]);
            let (z, k) = quick(&words, &flags, &locs, &stay, &mut striped, &mut zone, &mut slow);
            let counted: Vec<u32> = striped.chunks_exact(STRIPES).map(|s| s.iter().sum()).collect();
            assert_eq!(counted, at, "trial {trial}: counts");
            assert_eq!(
                zone[..z],
                zone_want[..],
                "trial {trial}: camp residents above the buffer"
            );
            assert_eq!(slow[..k], slow_want[..], "trial {trial}: the others");
        }
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
                let w = k.word(agent, 3);
                let u = k.draws(agent, 3).uniform();
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
