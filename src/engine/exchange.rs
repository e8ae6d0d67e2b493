//! The processes of one run: the [`Exchange`] trait (MPI or [`Local`]),
//! and the partitioned gather of a day — every process's requests, and the
//! sum of the day's counts — so that results do not depend on how many
//! processes there are.
//!
//! Owns the wire between processes. Must not decide or count anything
//! itself.

use super::admission::Request;
use super::tallies::Acc;

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
pub(super) fn exchange_requests(ex: &dyn Exchange, local: Vec<Vec<Vec<Request>>>) -> Vec<Vec<Vec<Request>>> {
    let mut words: Vec<u64> = Vec::new();
    for (b, pieces) in local.iter().enumerate() {
        for r in pieces.iter().flatten() {
            words.push(b as u64);
            words.push(r.key);
            words.push((r.agent as u64) << 32 | r.resource as u64);
            words.push((r.kind as u64) << 40 | (r.size as u64) << 32 | r.budget.to_bits() as u64);
        }
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut out: Vec<Vec<Vec<Request>>> = vec![vec![Vec::new()]; local.len()];
    for part in ex.all_gather(&bytes) {
        let w: Vec<u64> = part
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        for q in w.chunks_exact(4) {
            let r = Request {
                kind: (q[3] >> 40) as u8,
                resource: q[2] as u32,
                key: q[1],
                agent: (q[2] >> 32) as u32,
                size: (q[3] >> 32) as u8,
                budget: f32::from_bits(q[3] as u32),
            };
            if let Some(piece) = out.get_mut(q[0] as usize).and_then(|p| p.first_mut()) {
                piece.push(r);
            }
        }
    }
    out
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
