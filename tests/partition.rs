//! A run split over P processes gives the same tables for P = 1, 2 and 4.
//! The processes are simulated by threads that exchange through shared
//! memory, exactly as the MPI ranks do through collectives.

mod common;
use common::*;
use northbound::engine::{self, DayView, Exchange, Recorder, RunConfig, N_COLS};
use std::sync::{Barrier, Mutex};

struct Shared {
    p: usize,
    barrier: Barrier,
    slots: Mutex<Vec<Vec<u8>>>,
}

struct Rank<'a> {
    r: usize,
    s: &'a Shared,
}

impl Rank<'_> {
    fn exchange(&self, local: &[u8]) -> Vec<Vec<u8>> {
        self.s.slots.lock().expect("lock")[self.r] = local.to_vec();
        self.s.barrier.wait();
        let all = self.s.slots.lock().expect("lock").clone();
        self.s.barrier.wait();
        all
    }
}

impl Exchange for Rank<'_> {
    fn rank(&self) -> usize {
        self.r
    }
    fn size(&self) -> usize {
        self.s.p
    }
    fn sum_u64(&self, buf: &mut [u64]) {
        let bytes: Vec<u8> = buf.iter().flat_map(|x| x.to_le_bytes()).collect();
        let all = self.exchange(&bytes);
        for (i, x) in buf.iter_mut().enumerate() {
            *x = all
                .iter()
                .map(|b| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes")))
                .fold(0u64, u64::wrapping_add);
        }
    }
    fn all_gather(&self, local: &[u8]) -> Vec<Vec<u8>> {
        self.exchange(local)
    }
    fn gather_to_root(&self, local: &[u8]) -> Vec<Vec<u8>> {
        let all = self.exchange(local);
        if self.r == 0 {
            all
        } else {
            Vec::new()
        }
    }
}

#[derive(Default)]
struct Days(Vec<(Vec<[u64; N_COLS]>, Vec<u64>)>);

impl Recorder for Days {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        self.0.push((v.places.to_vec(), v.states.to_vec()));
        Ok(())
    }
}

fn split_run(sc: &northbound::scenario::Scenario, p: usize) -> (Days, engine::RunResult) {
    let shared = Shared {
        p,
        barrier: Barrier::new(p),
        slots: Mutex::new(vec![Vec::new(); p]),
    };
    let results: Vec<(Days, engine::RunResult)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..p)
            .map(|r| {
                let shared = &shared;
                s.spawn(move || {
                    let ex = Rank { r, s: shared };
                    let mut days = Days::default();
                    let cfg = RunConfig {
                        seed: None,
                        threads: Some(1),
                        by_cohort: true,
                    };
                    let res = engine::run_partitioned(sc, &cfg, &ex, &mut [&mut days]).expect("conserves");
                    (days, res)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("rank thread")).collect()
    });
    results.into_iter().next().expect("rank 0")
}

#[test]
fn a_run_split_over_one_two_and_four_processes_gives_the_same_days_and_outcomes() {
    // Every lever at once, with capacities, claim limits, appointments and a pathway.
    let sc = northbound::scenario::load(&fixture("all_levers.toml"))
        .expect("loads")
        .scaled(0.3);
    let (d1, r1) = split_run(&sc, 1);
    for p in [2, 4] {
        let (dp, rp) = split_run(&sc, p);
        assert!(d1.0 == dp.0, "daily counts differ between 1 and {p} processes");
        assert_eq!(r1.outcomes, rp.outcomes, "outcomes differ between 1 and {p} processes");
        assert_eq!(r1.events, rp.events);
        assert_eq!(r1.agents, rp.agents);
    }
    // …and the same as the ordinary, unsplit engine.
    let mut plain = Days::default();
    let r = engine::run(&sc, &RunConfig::default(), &mut [&mut plain]).expect("runs");
    assert!(plain.0 == d1.0);
    assert_eq!(r.outcomes, r1.outcomes);
}
