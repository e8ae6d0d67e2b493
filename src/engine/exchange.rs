//! The processes of one run: the [`Exchange`] trait (MPI or [`Local`]),
//! and the partitioned gather of a day — every process's requests, and the
//! sum of the day's counts — so that results do not depend on how many
//! processes there are.
//!
//! Owns the wire between processes. Must not decide or count anything
//! itself.

use super::admission::Request;
use super::tallies::Acc;
use super::EngineError;

/// Communication between the processes of a run spread over several (MPI);
/// [`Local`] is the single process. Every operation gives the same result
/// whatever the number of processes: sums are of integers, and gathered
/// data is in rank order.
pub trait Exchange: Sync {
    /// This process's rank.
    fn rank(&self) -> usize;
    /// Number of processes.
    fn size(&self) -> usize;
    /// Sums `buf` element-wise over all processes, in place, on every process.
    fn sum_u64(&self, buf: &mut [u64]);
    /// Every process's bytes, in rank order, on every process.
    fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>>;
    /// Every process's bytes, in rank order, on rank 0 (empty elsewhere).
    fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>>;
}

/// The single process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Local;

impl Exchange for Local {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn sum_u64(&self, _buf: &mut [u64]) {}
    fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>> {
        vec![local.to_vec()]
    }
    fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>> {
        vec![local.to_vec()]
    }
}

/// Gathers every process's requests (their order does not matter: admission
/// sorts by key and agent id).
pub(super) fn exchange_requests(
    ex: &dyn Exchange,
    local: Vec<Vec<Vec<Request>>>,
) -> Result<Vec<Vec<Vec<Request>>>, EngineError> {
    let mine: Vec<(usize, Request)> = local
        .iter()
        .enumerate()
        .flat_map(|(b, pieces)| pieces.iter().flatten().map(move |r| (b, *r)))
        .collect();
    let bytes = crate::wire::encode(&mine)?;
    let mut out: Vec<Vec<Vec<Request>>> = vec![vec![Vec::new()]; local.len()];
    for part in ex.all_gather(&bytes) {
        let theirs: Vec<(usize, Request)> = crate::wire::decode(&part)?;
        for (b, r) in theirs {
            if let Some(piece) = out.get_mut(b).and_then(|p| p.first_mut()) {
                piece.push(r);
            }
        }
    }
    Ok(out)
}

/// Sums the day's counts over all processes (two's-complement sums keep
/// the signed deltas exact).
pub(super) fn sum_over_processes(ex: &dyn Exchange, acc: &mut Acc) {
    let mut w: Vec<u64> = Vec::new();
    for c in acc.cols.iter().chain(&acc.by_cohort) {
        w.extend_from_slice(c);
    }
    w.extend_from_slice(&acc.incoming);
    w.extend_from_slice(&acc.census);
    w.extend(acc.delta.iter().map(|d| *d as u64));
    for e in &acc.events {
        w.extend_from_slice(e);
    }
    w.extend_from_slice(&acc.legs);
    for c in &acc.caravan {
        w.extend_from_slice(c);
    }
    w.extend_from_slice(&acc.caravan_at);
    for p in &acc.policy {
        w.extend_from_slice(p);
    }
    ex.sum_u64(&mut w);
    let mut it = w.into_iter();
    let mut next = || it.next().unwrap_or(0);
    for c in acc.cols.iter_mut().chain(acc.by_cohort.iter_mut()) {
        for x in c.iter_mut() {
            *x = next();
        }
    }
    for x in acc.incoming.iter_mut() {
        *x = next();
    }
    for x in acc.census.iter_mut() {
        *x = next();
    }
    for x in acc.delta.iter_mut() {
        *x = next() as i64;
    }
    for e in acc.events.iter_mut() {
        for x in e.iter_mut() {
            *x = next();
        }
    }
    for x in acc.legs.iter_mut() {
        *x = next();
    }
    for c in acc.caravan.iter_mut() {
        for x in c.iter_mut() {
            *x = next();
        }
    }
    for x in acc.caravan_at.iter_mut() {
        *x = next();
    }
    for p in acc.policy.iter_mut() {
        for x in p.iter_mut() {
            *x = next();
        }
    }
}
