//! The flee model's agent columns (struct of arrays) and the parallel
//! pass over them in fixed chunks, with the counts each chunk folds.
//!
//! Owns the columns and the fold. Must not decide what an agent does
//! (`step` does).

use super::step::{Arrival, Pending};
use super::wake::ACTIVE;
use super::{CHUNK, NONE};
use rayon::prelude::*;

/// Agent columns (struct of arrays, 26 bytes an agent).
#[derive(Default, Clone)]
pub(super) struct Agents {
    pub(super) loc: Vec<u32>,
    pub(super) dist: Vec<f32>,
    pub(super) route: Vec<u32>,
    pub(super) left: Vec<u8>,
    pub(super) flags: Vec<u8>,
    pub(super) home: Vec<u32>,
    pub(super) recent: Vec<f32>,
    /// The day a resting agent next leaves ([`super::wake`]).
    pub(super) wake: Vec<u32>,
}

impl Agents {
    pub(super) fn push(&mut self, loc: u32) {
        self.loc.push(loc);
        self.dist.push(0.0);
        self.route.push(NONE);
        self.left.push(0);
        self.flags.push(0);
        self.home.push(loc);
        self.recent.push(0.0);
        self.wake.push(ACTIVE);
    }
    pub(super) fn len(&self) -> usize {
        self.loc.len()
    }
    /// A copy of agent `i`'s columns.
    pub(super) fn one(&self, i: usize) -> One {
        One {
            loc: self.loc[i],
            dist: self.dist[i],
            route: self.route[i],
            left: self.left[i],
            flags: self.flags[i],
            home: self.home[i],
            recent: self.recent[i],
            wake: self.wake[i],
        }
    }
    /// Agent `i`'s columns set from a copy.
    pub(super) fn put(&mut self, i: usize, o: &One) {
        self.loc[i] = o.loc;
        self.dist[i] = o.dist;
        self.route[i] = o.route;
        self.left[i] = o.left;
        self.flags[i] = o.flags;
        self.recent[i] = o.recent;
        self.wake[i] = o.wake;
    }
    /// Agent `i`'s columns, for the serial steps.
    pub(super) fn me(&mut self, i: usize) -> Me<'_> {
        Me {
            loc: &mut self.loc[i],
            dist: &mut self.dist[i],
            route: &mut self.route[i],
            left: &mut self.left[i],
            flags: &mut self.flags[i],
            home: self.home[i],
            recent: &mut self.recent[i],
            wake: &mut self.wake[i],
        }
    }
}
/// Counts folded over a chunk of agents.
#[derive(Clone)]
pub(super) struct Fold {
    /// Agents at each place at the end of the day, of those the day's
    /// passes visited.
    pub(super) at: Vec<u32>,
    /// Agents at each place at the start of the day, of those the day's
    /// passes visited (the others rest all day: their counts stand).
    pub(super) base: Vec<u32>,
    pub(super) entries: Vec<u64>,
    /// Departures by location in the parallel passes.
    pub(super) left: Vec<i64>,
    /// Agents that arrived and move on: the serial pass, in agent order.
    pub(super) pending: Vec<Pending>,
    /// Every first arrival of the parallel pass, in agent order.
    pub(super) arrivals: Vec<Arrival>,
    pub(super) travelling: u64,
    /// Agents deactivated today.
    pub(super) gone: u64,
}

impl Fold {
    pub(super) fn new(locs: usize, links: usize) -> Fold {
        Fold {
            at: vec![0; locs],
            base: vec![0; locs],
            entries: vec![0; links],
            left: vec![0; locs],
            pending: Vec::new(),
            arrivals: Vec::new(),
            travelling: 0,
            gone: 0,
        }
    }
    pub(super) fn add(mut self, o: Fold) -> Fold {
        for (a, b) in self.at.iter_mut().zip(o.at) {
            *a += b;
        }
        for (a, b) in self.base.iter_mut().zip(o.base) {
            *a += b;
        }
        for (a, b) in self.entries.iter_mut().zip(o.entries) {
            *a += b;
        }
        for (a, b) in self.left.iter_mut().zip(o.left) {
            *a += b;
        }
        self.pending.extend_from_slice(&o.pending);
        self.arrivals.extend_from_slice(&o.arrivals);
        self.travelling += o.travelling;
        self.gone += o.gone;
        self
    }
}

/// A copy of one agent's columns (the serial pass run ahead).
#[derive(Clone, Copy)]
pub(super) struct One {
    loc: u32,
    dist: f32,
    route: u32,
    left: u8,
    flags: u8,
    home: u32,
    recent: f32,
    wake: u32,
}

impl One {
    pub(super) fn me(&mut self) -> Me<'_> {
        Me {
            loc: &mut self.loc,
            dist: &mut self.dist,
            route: &mut self.route,
            left: &mut self.left,
            flags: &mut self.flags,
            home: self.home,
            recent: &mut self.recent,
            wake: &mut self.wake,
        }
    }
}

/// One agent's columns.
pub(super) struct Me<'c> {
    pub(super) loc: &'c mut u32,
    pub(super) dist: &'c mut f32,
    pub(super) route: &'c mut u32,
    pub(super) left: &'c mut u8,
    pub(super) flags: &'c mut u8,
    pub(super) home: u32,
    pub(super) recent: &'c mut f32,
    pub(super) wake: &'c mut u32,
}
/// One chunk's columns.
pub(super) struct Cols<'c> {
    pub(super) loc: &'c mut [u32],
    pub(super) dist: &'c mut [f32],
    pub(super) route: &'c mut [u32],
    pub(super) left: &'c mut [u8],
    pub(super) flags: &'c mut [u8],
    pub(super) home: &'c [u32],
    pub(super) recent: &'c mut [f32],
    pub(super) wake: &'c mut [u32],
}

impl Cols<'_> {
    /// Agent `i` of the chunk.
    #[inline(always)]
    pub(super) fn me(&mut self, i: usize) -> Me<'_> {
        Me {
            loc: &mut self.loc[i],
            dist: &mut self.dist[i],
            route: &mut self.route[i],
            left: &mut self.left[i],
            flags: &mut self.flags[i],
            home: self.home[i],
            recent: &mut self.recent[i],
            wake: &mut self.wake[i],
        }
    }
}

/// Runs `f` on every chunk of agents (its first agent's id, its columns,
/// its fold and its own state from `states`, one per chunk) in parallel
/// and sums the chunks' counts (integers: the same in any order). The
/// chunks' lists are joined in chunk order, so they stay in agent order;
/// the states come back in chunk order.
pub(super) fn parallel<S: Send, F: Fn(u32, Cols, &mut Fold, &mut S) + Sync>(
    agents: &mut Agents,
    nl: usize,
    nlinks: usize,
    states: Vec<S>,
    f: &F,
) -> (Fold, Vec<S>) {
    let a = agents;
    assert_eq!(states.len(), a.len().div_ceil(CHUNK), "one state per chunk");
    let chunks: Vec<_> = a
        .loc
        .chunks_mut(CHUNK)
        .zip(a.dist.chunks_mut(CHUNK))
        .zip(a.route.chunks_mut(CHUNK))
        .zip(a.left.chunks_mut(CHUNK))
        .zip(a.flags.chunks_mut(CHUNK))
        .zip(a.home.chunks(CHUNK))
        .zip(a.recent.chunks_mut(CHUNK))
        .zip(a.wake.chunks_mut(CHUNK))
        .zip(states)
        .enumerate()
        .collect();
    let done: Vec<(Fold, S)> = chunks
        .into_par_iter()
        .map(
            |(k, ((((((((loc, dist), route), left), flags), home), recent), wake), mut state))| {
                let mut fold = Fold::new(nl, nlinks);
                let cols = Cols {
                    loc,
                    dist,
                    route,
                    left,
                    flags,
                    home,
                    recent,
                    wake,
                };
                f((k * CHUNK) as u32, cols, &mut fold, &mut state);
                (fold, state)
            },
        )
        .collect();
    let (folds, states): (Vec<Fold>, Vec<S>) = done.into_iter().unzip();
    (join(folds, nl, nlinks), states)
}

/// The chunks' folds summed, their lists joined in chunk order with room
/// made once.
fn join(folds: Vec<Fold>, nl: usize, nlinks: usize) -> Fold {
    let mut all = Fold::new(nl, nlinks);
    all.pending.reserve(folds.iter().map(|f| f.pending.len()).sum());
    all.arrivals.reserve(folds.iter().map(|f| f.arrivals.len()).sum());
    folds.into_iter().fold(all, Fold::add)
}
