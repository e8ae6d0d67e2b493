//! Runs over MPI (feature `mpi`): the [`Exchange`] of the engine and the
//! ensembles carried by MPI collectives among the ranks of `mpirun` or
//! `srun`.
//!
//! Owns the MPI environment. Everything else sees only `engine::Exchange`;
//! a binary built with the feature but started without `mpirun` is one
//! process of one rank and writes what the plain binary writes.

use crate::engine::Exchange;
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// The MPI world of this process.
pub struct Mpi {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
}

/// MPI itself: dropping it finalises MPI, so the caller keeps it until the
/// end of `main`.
pub struct Universe(#[allow(dead_code)] mpi::environment::Universe);

// MPI is initialised with MPI_THREAD_SERIALIZED, and the engine calls the
// collectives from one thread at a time (the one stepping the day), so
// sharing the communicator's handle between threads is sound.
unsafe impl Sync for Mpi {}
unsafe impl Send for Mpi {}

impl Mpi {
    /// Initialises MPI; `None` if it cannot be.
    pub fn init() -> Option<(Mpi, Universe)> {
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Serialized)?;
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        Some((Mpi { world, rank, size }, Universe(universe)))
    }

    fn counts(&self, len: usize) -> (Vec<i32>, Vec<i32>) {
        let mut counts = vec![0i32; self.size];
        self.world.all_gather_into(&(len as i32), &mut counts[..]);
        let displs = counts
            .iter()
            .scan(0i32, |acc, &c| {
                let d = *acc;
                *acc += c;
                Some(d)
            })
            .collect();
        (counts, displs)
    }
}

fn split(buf: Vec<u8>, counts: &[i32]) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(counts.len());
    let mut at = 0usize;
    for &c in counts {
        out.push(buf[at..at + c as usize].to_vec());
        at += c as usize;
    }
    out
}

impl Exchange for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn sum_u64(&self, buf: &mut [u64]) {
        if self.size == 1 {
            return;
        }
        let send = buf.to_vec();
        self.world
            .all_reduce_into(&send[..], buf, mpi::collective::SystemOperation::sum());
    }

    fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let (counts, displs) = self.counts(local.len());
        let total: i32 = counts.iter().sum();
        if total == 0 {
            // Nothing to send anywhere (Open MPI refuses empty buffers here).
            return vec![Vec::new(); self.size];
        }
        let mut buf = vec![0u8; total as usize];
        {
            let mut part = PartitionMut::new(&mut buf[..], &counts[..], &displs[..]);
            self.world.all_gather_varcount_into(local, &mut part);
        }
        split(buf, &counts)
    }

    fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let root = self.world.process_at_rank(0);
        if self.rank == 0 {
            let mut counts = vec![0i32; self.size];
            root.gather_into_root(&(local.len() as i32), &mut counts[..]);
            let displs: Vec<i32> = counts
                .iter()
                .scan(0i32, |acc, &c| {
                    let d = *acc;
                    *acc += c;
                    Some(d)
                })
                .collect();
            let total: i32 = counts.iter().sum();
            // Every rank knows whether all counts are zero only after a
            // broadcast; a one-byte pad keeps every buffer non-empty instead.
            let mut buf = vec![0u8; total as usize + self.size];
            let padded: Vec<i32> = counts.iter().map(|c| c + 1).collect();
            let pdispls: Vec<i32> = displs.iter().enumerate().map(|(i, d)| d + i as i32).collect();
            let mut mine = local.to_vec();
            mine.push(0);
            {
                let mut part = PartitionMut::new(&mut buf[..], &padded[..], &pdispls[..]);
                root.gather_varcount_into_root(&mine[..], &mut part);
            }
            counts
                .iter()
                .zip(&pdispls)
                .map(|(&c, &d)| buf[d as usize..(d + c) as usize].to_vec())
                .collect()
        } else {
            root.gather_into(&(local.len() as i32));
            let mut mine = local.to_vec();
            mine.push(0);
            root.gather_varcount_into(&mine[..]);
            Vec::new()
        }
    }
}
