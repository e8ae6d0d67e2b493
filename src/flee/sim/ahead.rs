//! The serial pass over the day's arrivals that move on, run ahead in
//! parallel with the same results.
//!
//! Serial Flee updates counts agent by agent, so an agent of the pass
//! (step 3 of the day, see `sim`) sees the counts after every arrival and
//! departure before it. A count changes a decision only through a camp's
//! capacity multiplier, and over the pass a place's count stays between
//! its count after the parallel pass (every departure in the pass follows
//! an arrival at the same place) and that plus all of the day's first
//! arrivals there and every agent of the pass. Where the multiplier, or
//! "below 0.5" for a destination, is the same at both ends, no order of
//! the pass can change what is read. So every agent of the pass runs ahead
//! in parallel reading only such values; one that would read anything else
//! is set aside untouched and runs afterwards in agent order on the running
//! counts, which then hold the arrivals and departures of every agent run
//! ahead before it. Each agent reads exactly what it reads in the serial
//! order: the outputs are byte-identical (docs/flee.md).
//!
//! Owns the bounds, the log of an agent run ahead and the pass over the
//! pending agents. Must not decide what an agent does (`step` does).

use super::agents::{Agents, Fold, One};
use super::step::{cap_multiplier, Caps, Day, Pending};
use rayon::prelude::*;
use std::cell::Cell;

/// Pending agents per parallel chunk (fixed: chunking never depends on
/// threads, and only sums and agent-ordered lists leave a chunk).
const CHUNK: usize = 256;

/// What no order of the pass can change, per place: the multiplier
/// (weights) and whether it is below 0.5 (destinations); `None` where the
/// pass could change it.
#[derive(Default)]
pub(crate) struct Stable {
    weight: Vec<Option<f64>>,
    full: Vec<Option<bool>>,
}

impl Stable {
    /// From the lowest and highest counts each place can hold in the pass.
    pub(super) fn new(lo: &[i64], hi: &[i64], capacity: &[f64], buffer: f64) -> Stable {
        let (mut weight, mut full) = (Vec::new(), Vec::new());
        for ((&lo, &hi), &cap) in lo.iter().zip(hi).zip(capacity) {
            // The multiplier does not rise with the count: equal at both
            // ends means constant between them.
            let (a, b) = (
                cap_multiplier(lo as f64, cap, buffer),
                cap_multiplier(hi as f64, cap, buffer),
            );
            weight.push((a == b).then_some(a));
            full.push(((a < 0.5) == (b < 0.5)).then_some(a < 0.5));
        }
        Stable { weight, full }
    }

    pub(super) fn weight(&self, loc: u32, log: &Log) -> f64 {
        self.weight[loc as usize].unwrap_or_else(|| {
            log.touched.set(true);
            1.0
        })
    }

    pub(super) fn full(&self, loc: u32, log: &Log) -> bool {
        self.full[loc as usize].unwrap_or_else(|| {
            log.touched.set(true);
            false
        })
    }
}

/// What an agent run ahead did: whether it read a value the pass could
/// change (then nothing else counts), its departures and arrivals (place,
/// ±1) and the links it stepped onto, in order.
#[derive(Default)]
pub(crate) struct Log {
    touched: Cell<bool>,
    pub(super) moves: Vec<(u32, i32)>,
    links: Vec<u32>,
}

impl Log {
    pub(super) fn set_out(&mut self, loc: u32, link: u32) {
        self.moves.push((loc, -1));
        self.links.push(link);
    }
}

/// The pass run ahead: the counts of the agents that ran, their moves
/// (agent, place, ±1) in agent order, and the agents set aside, in agent
/// order, for the serial pass.
pub(super) struct Ahead {
    pub(super) fold: Fold,
    pub(super) moves: Vec<(u32, u32, i32)>,
    pub(super) rest: Vec<Pending>,
}

/// Runs every agent of `pending` (in agent order) ahead; the columns of
/// the agents that ran are updated, those of the agents set aside are not.
pub(super) fn run_ahead(day: &Day, agents: &mut Agents, pending: &[Pending], nl: usize, nlinks: usize) -> Ahead {
    let mut states: Vec<One> = pending.iter().map(|p| agents.one(p.id as usize)).collect();
    let parts: Vec<Ahead> = (pending.par_chunks(CHUNK))
        .zip(states.par_chunks_mut(CHUNK))
        .map(|(ps, ss)| {
            let mut part = Ahead {
                fold: Fold::new(nl, nlinks),
                moves: Vec::new(),
                rest: Vec::new(),
            };
            let mut log = Log::default();
            for (p, st) in ps.iter().zip(ss) {
                let mut s = *st;
                if one(day, p, &mut s, &mut part.fold, &mut log) {
                    *st = s;
                    part.moves.extend(log.moves.iter().map(|&(l, d)| (p.id, l, d)));
                } else {
                    part.rest.push(*p);
                }
            }
            part
        })
        .collect();
    let mut all = Ahead {
        fold: Fold::new(nl, nlinks),
        moves: Vec::new(),
        rest: Vec::new(),
    };
    for part in parts {
        all.fold = all.fold.add(part.fold);
        all.moves.extend_from_slice(&part.moves);
        all.rest.extend_from_slice(&part.rest);
    }
    let mut aside = all.rest.iter().peekable();
    for (p, s) in pending.iter().zip(&states) {
        if aside.peek().is_some_and(|q| q.id == p.id) {
            aside.next();
        } else {
            agents.put(p.id as usize, s);
        }
    }
    all
}

/// One agent's day from its arrival on (as `Day::resume`), ahead: false,
/// with nothing counted, if it read what the pass could change.
fn one(day: &Day, p: &Pending, s: &mut One, fold: &mut Fold, log: &mut Log) -> bool {
    log.touched.set(false);
    log.moves.clear();
    log.links.clear();
    let mut me = s.me();
    let mut r = day.serial_key.light(p.id, day.t);
    let mut trip = p.trip;
    let mut caps = Caps::Ahead(log);
    day.set_out(&mut me, &mut r, fold, &mut caps);
    day.travel(&mut me, &mut r, fold, &mut trip, &mut caps);
    if log.touched.get() {
        return false;
    }
    for &l in &log.links {
        fold.entries[l as usize] += 1;
    }
    day.settle(&mut me, &mut r, &trip, fold);
    true
}
