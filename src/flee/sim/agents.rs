//! The flee model's agent columns (struct of arrays) and the parallel
//! pass over them in fixed chunks, with the counts each chunk folds.
//!
//! Owns the columns and the fold. Must not decide what an agent does
//! (`step` does).

use super::step::{Arrival, Pending};
use super::{CHUNK, NONE};
use rayon::prelude::*;

/// Agent columns (struct of arrays, 22 bytes an agent).
#[derive(Default, Clone)]
pub(super) struct Agents {
    pub(super) loc: Vec<u32>,
    pub(super) dist: Vec<f32>,
    pub(super) route: Vec<u32>,
    pub(super) left: Vec<u8>,
    pub(super) flags: Vec<u8>,
    pub(super) home: Vec<u32>,
    pub(super) recent: Vec<f32>,
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
    }
    pub(super) fn len(&self) -> usize {
        self.loc.len()
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
        }
    }
}
/// Counts folded over a chunk of agents.
#[derive(Clone)]
pub(super) struct Fold {
    pub(super) at: Vec<u32>,
    pub(super) entries: Vec<u64>,
    /// Departures by location in the parallel passes.
    pub(super) left: Vec<i64>,
    /// Agents that arrived and move on: the serial pass, in agent order.
    pub(super) pending: Vec<Pending>,
    /// Every first arrival of the parallel pass, in agent order.
    pub(super) arrivals: Vec<Arrival>,
    /// Agents ending the day in camps above their capacity buffer (any order).
    pub(super) zone_ids: Vec<u32>,
    pub(super) travelling: u64,
    pub(super) gone: u64,
}

impl Fold {
    pub(super) fn new(locs: usize, links: usize) -> Fold {
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
    pub(super) fn add(mut self, o: Fold) -> Fold {
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
pub(super) struct Me<'c> {
    pub(super) loc: &'c mut u32,
    pub(super) dist: &'c mut f32,
    pub(super) route: &'c mut u32,
    pub(super) left: &'c mut u8,
    pub(super) flags: &'c mut u8,
    pub(super) home: u32,
    pub(super) recent: &'c mut f32,
}
/// Runs `f` on every agent over fixed chunks in parallel and sums the
/// chunks' counts (integers: the same in any order).
pub(super) fn parallel<F: Fn(u32, &mut Me, &mut Fold) + Sync>(
    agents: &mut Agents,
    nl: usize,
    nlinks: usize,
    f: &F,
) -> Fold {
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
