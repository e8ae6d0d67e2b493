//! Limits checked before work starts: agent ids fit in 32 bits and the
//! memory a run or an ensemble needs is available — after `--scale`, at
//! every sweep point, for every calibration evaluation and for `bench`.
//!
//! Owns the estimates (upper bounds: a group holds at least one person, so
//! a cohort has at most as many agents as people). Must not simulate or
//! allocate what it estimates.

use crate::agents::BYTES_PER_AGENT;
use crate::engine::N_COLS;
use crate::scenario::{available_memory, human_bytes, Scenario};

/// Most agents a run can hold: agent ids are 32-bit.
pub const MAX_AGENTS: u128 = u32::MAX as u128 - 1;

/// A run or an ensemble that would not fit.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{what}: {problem}; {help}")]
pub struct LimitError {
    /// What was being checked (`--scale 1e9`, `sweep point x=…`).
    pub what: String,
    /// The figure.
    pub problem: String,
    /// What to do.
    pub help: String,
}

/// What one run or an ensemble of runs needs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Need {
    /// Most agents of one run.
    pub agents: u128,
    /// Bytes held at once.
    pub bytes: u128,
}

/// People of a scenario, summed without overflow.
pub fn people(sc: &Scenario) -> u128 {
    sc.cohorts.iter().map(|c| c.people as u128).sum()
}

/// One run: the agent columns, and the by-cohort counts if asked for.
pub fn run(sc: &Scenario, by_cohort: bool) -> Need {
    let agents = people(sc);
    let places = sc.places.len() as u128;
    let mut bytes = agents * BYTES_PER_AGENT as u128 + places * N_COLS as u128 * 8 * 4;
    if by_cohort {
        bytes += sc.cohorts.len() as u128 * places * N_COLS as u128 * 8 * 2;
    }
    Need { agents, bytes }
}

/// What a run keeps for its published outputs (`periods.csv`, GeoJSON,
/// `summary.md`): every day's place counts and the people on each leg, over
/// the run and per policy window (at most two windows a policy, and one).
pub fn kept_counts(sc: &Scenario) -> u128 {
    let days = sc.calendar.days as u128;
    let windows = 2 * sc.policies.len() as u128 + 1;
    days * sc.places.len() as u128 * N_COLS as u128 * 8 + sc.legs.len() as u128 * 8 * (windows + 1)
}

/// `replicates` runs, `concurrent` of them at once, each keeping its daily
/// counts (and, with `tables`, its by-cohort and trace tables, about
/// `tables` bytes each) until all are written.
pub fn ensemble(sc: &Scenario, replicates: usize, concurrent: usize, by_cohort: bool, tables: u128) -> Need {
    let one = run(sc, by_cohort);
    let kept = kept_counts(sc) + tables;
    Need {
        agents: one.agents,
        bytes: one.bytes * concurrent.clamp(1, replicates.max(1)) as u128 + kept * replicates as u128,
    }
}

/// Bytes of a replicate's `cohort_places.csv` and `trace.csv` kept in
/// memory until written (about 16 bytes a number).
pub fn replicate_tables(sc: &Scenario, by_cohort: bool, trace: usize) -> u128 {
    let days = sc.calendar.days as u128;
    let mut b = 0;
    if by_cohort {
        b += days * sc.cohorts.len() as u128 * sc.places.len() as u128 * (N_COLS as u128 + 5) * 16;
    }
    b + days * trace as u128 * 64
}

/// What `run` needs: one run keeping its counts for the published outputs,
/// or with `replicates` > 1 an ensemble of them, `threads` at once, each
/// keeping its `by_cohort` and `trace` tables until written (the command
/// line and the Python package alike).
pub fn run_command(sc: &Scenario, replicates: usize, threads: usize, by_cohort: bool, trace: usize) -> Need {
    if replicates > 1 {
        ensemble(
            sc,
            replicates,
            threads,
            by_cohort,
            replicate_tables(sc, by_cohort, trace),
        )
    } else {
        let one = run(sc, by_cohort);
        Need {
            bytes: one.bytes + kept_counts(sc),
            ..one
        }
    }
}

/// What `compare` needs: the base's and every variant's replicates, kept
/// until compared.
pub fn compare(sc: &Scenario, replicates: usize, variants: usize, threads: usize) -> Need {
    ensemble(sc, replicates * (variants + 1), threads, false, 0)
}

/// What `forecast` needs: every member's state (twice over while members
/// are resampled) and each input draw's shared past.
pub fn forecast(sc: &Scenario, members: usize, draws: usize) -> Need {
    let one = run(sc, false);
    Need {
        agents: one.agents,
        bytes: one.bytes * (2 * members.max(1) + draws.max(1)) as u128,
    }
}

/// Refuses `need` if its agents overflow the ids or its memory is more
/// than this machine has available (`NORTHBOUND_MEMORY_BYTES` overrides
/// the figure read from `/proc/meminfo`).
pub fn check(what: &str, need: Need) -> Result<(), LimitError> {
    if need.agents > MAX_AGENTS {
        return Err(LimitError {
            what: what.to_string(),
            problem: format!(
                "{} people would make up to {} agents, more than the engine's {MAX_AGENTS}",
                need.agents, need.agents
            ),
            help: "use a smaller --scale or fewer people, or split the study into several runs".into(),
        });
    }
    if let Some(avail) = available_memory() {
        if need.bytes > avail as u128 {
            return Err(LimitError {
                what: what.to_string(),
                problem: format!(
                    "it would need up to {} of memory and {} is available",
                    human_bytes(need.bytes),
                    human_bytes(avail as u128)
                ),
                help: "use a smaller --scale, fewer people or replicates (or --threads to run fewer at once), \
                       or a machine with more memory"
                    .into(),
            });
        }
    }
    Ok(())
}

/// The worker threads a run uses: those asked for, or all cores.
pub fn workers(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(rayon::current_num_threads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_bytes;

    fn fixture() -> Scenario {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/chain.toml"))
            .expect("fixture");
        load_bytes(text.as_bytes(), std::path::Path::new("chain.toml")).expect("loads")
    }

    #[test]
    fn a_run_scaled_past_the_agent_ids_is_refused_with_the_figure() {
        let sc = fixture().scaled(1e12);
        let e = check("--scale 1e12", run(&sc, false)).unwrap_err();
        assert!(e.problem.contains("more than the engine's 4294967294"), "{e}");
    }

    #[test]
    fn each_command_needs_what_it_keeps() {
        let sc = fixture();
        assert_eq!(
            run_command(&sc, 1, 4, true, 10).bytes,
            run(&sc, true).bytes + kept_counts(&sc)
        );
        assert_eq!(
            run_command(&sc, 3, 2, true, 10),
            ensemble(&sc, 3, 2, true, replicate_tables(&sc, true, 10))
        );
        // The base and two variants: three ensembles' replicates kept at once.
        assert_eq!(compare(&sc, 5, 2, 2), ensemble(&sc, 15, 2, false, 0));
    }

    #[test]
    fn ensembles_need_memory_for_every_replicate_they_keep() {
        let sc = fixture();
        let one = ensemble(&sc, 1, 1, false, 0);
        let many = ensemble(&sc, 100, 2, false, 0);
        assert!(many.bytes > 2 * one.bytes);
        assert_eq!(many.agents, one.agents);
    }
}
