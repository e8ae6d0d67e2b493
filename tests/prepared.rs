//! Tables prepared once per scenario and shared by every run of it give
//! exactly the runs that build their own tables, for both models.

mod common;
use common::*;
use northbound::engine::{self, Engine, Prepared, RunConfig};
use northbound::scenario::{load, Scenario};

/// Every day's place counts, leg flows and states of a run, then its outcomes.
fn trajectory(mut e: Engine<'_>) -> (Vec<u64>, Vec<[u64; 2]>) {
    let mut days = Vec::new();
    while !e.done() {
        e.step().expect("the run conserves people");
        let v = e.view();
        days.extend(v.places.iter().flatten());
        days.extend(v.legs);
        days.extend(v.states);
        days.extend(v.policies.iter().flatten());
    }
    let r = e.result(0.0).expect("end-of-run census");
    days.extend(r.outcomes.iter().flatten());
    (days, r.events.iter().flatten().copied().collect())
}

fn scenario_at(path: &std::path::Path) -> Scenario {
    load(path).expect("scenario loads")
}

#[test]
fn engines_from_one_prepared_give_the_runs_of_engine_new_with_their_seeds() {
    for path in [fixture("all_levers.toml"), scenario("caravan-2025.toml")] {
        let sc = scenario_at(&path);
        let p = Prepared::new(&sc);
        for seed in [sc.seed, 99] {
            let shared = trajectory(Engine::from_prepared(&p, &sc, seed, false));
            let own = trajectory(Engine::new(&sc, seed));
            assert!(
                shared == own,
                "{}: seed {seed} differs with prepared tables",
                path.display()
            );
        }
        let a = trajectory(Engine::from_prepared(&p, &sc, sc.seed, false));
        let b = trajectory(Engine::from_prepared(&p, &sc, 99, false));
        assert!(
            a != b,
            "{}: two seeds gave one run: the test would not see a seed lost",
            path.display()
        );
    }
}

#[test]
fn run_prepared_is_run_and_prepared_tables_are_shared_across_threads() {
    fn shareable<T: Sync>(_: &T) {}
    let sc = scenario_at(&fixture("all_levers.toml"));
    let p = Prepared::new(&sc);
    shareable(&p);
    let cfg = RunConfig {
        seed: Some(7),
        threads: Some(2),
        by_cohort: true,
    };
    let a = engine::run_prepared(&p, &sc, &cfg, &mut []).expect("run");
    let b = engine::run(&sc, &cfg, &mut []).expect("run");
    assert_eq!((a.outcomes, a.events, a.states), (b.outcomes, b.events, b.states));
    // Replicates side by side on one pool, sharing one `&Prepared`.
    let seeds = [1u64, 2, 3];
    let shared: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = seeds
            .iter()
            .map(|&seed| {
                let (p, sc) = (&p, &sc);
                s.spawn(move || trajectory(Engine::from_prepared(p, sc, seed, false)))
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("replicate")).collect()
    });
    for (seed, got) in seeds.iter().zip(shared) {
        assert!(got == trajectory(Engine::new(&sc, *seed)), "seed {seed} differs");
    }
}

#[test]
#[should_panic(expected = "prepared tables of another scenario")]
fn prepared_tables_of_another_scenario_are_refused() {
    let a = scenario_at(&fixture("all_levers.toml"));
    let b = scenario_at(&fixture("chain.toml"));
    let p = Prepared::new(&a);
    let _ = Engine::from_prepared(&p, &b, 1, false);
}

/// Both compatibility modes of the flee model on Mali 2012.
fn flee_scenarios() -> Vec<northbound::flee::FleeScenario> {
    let sc = northbound::flee::load(&scenario("flee-mali2012.toml")).unwrap_or_else(|e| panic!("{}", e.render()));
    let mut v31 = sc.clone();
    v31.compat = northbound::flee::Compat::V31;
    vec![sc, v31]
}

#[test]
fn flee_runs_from_one_prepared_give_the_runs_of_run_with_their_seeds() {
    use northbound::flee::sim;
    for sc in flee_scenarios() {
        let p = sim::Prepared::new(&sc).expect("prepares");
        let key = |r: sim::FleeRun| (r.counts, r.agents, r.travelling, r.debt, r.spawned, r.link_entries);
        let mut runs = Vec::new();
        for seed in [1u64, 2] {
            let shared = key(sim::run_prepared(&p, seed, &mut |_| {}).expect("runs"));
            let own = key(sim::run(&sc, seed, &mut |_| {}).expect("runs"));
            assert!(
                shared == own,
                "{:?}: seed {seed} differs with prepared tables",
                sc.compat
            );
            runs.push(shared);
        }
        assert!(
            runs[0] != runs[1],
            "two seeds gave one run: the test would not see a seed lost"
        );
    }
}
