//! Criterion benches of the engine:
//! - `step_1m_agents`: one daily step of the benchmark population (one
//!   million people from title42-2020-2023, on foot, set out on day 0; see
//!   `northbound bench`), after a 30-day warm-up, so the steady state is
//!   measured, not set-up;
//! - `routing_10k_places`: the next-hop tables of a 10,000-place,
//!   50,000-route graph towards its 20 claim points;
//! - `load_10k_places_50k_routes`: loading and validating that file;
//! - `build_caravan_1m_people`: building one million people's groups;
//! - `build_title42`: building title42-2020-2023's population at full
//!   size, the fixed cost every replicate pays;
//! - `prepare_title42`: `engine::Prepared::new` on title42-2020-2023 (the
//!   graph, the policy book with its routing and reach tables, the
//!   decision tables): what every replicate built again before it was
//!   shared;
//! - `flee_mali2012_prepare`: `flee::sim::Prepared::new` on Mali 2012;
//! - `flee_mali2012_run`: a whole run of the flee model on Flee's Mali 2012
//!   scenario (14,805 agents × 300 days), loading included, as Flee 3.1 runs
//!   it (`flee_compat = "3.1"`).

use criterion::{criterion_group, criterion_main, Criterion};
use northbound::engine::Engine;
use northbound::graph::{Graph, Routing};
use std::path::Path;
use std::time::{Duration, Instant};

fn load(rel: &str) -> northbound::scenario::Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    match northbound::scenario::load(&p) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render()),
    }
}

fn step(c: &mut Criterion) {
    let sc = northbound::bench::population(&load("scenarios/title42-2020-2023.toml"), 1_000_000, 365);
    let warm = |e: &mut Engine| {
        for _ in 0..30 {
            e.step().expect("conserves");
        }
    };
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    g.bench_function("step_1m_agents", |b| {
        let mut eng = Engine::new(&sc, sc.seed);
        warm(&mut eng);
        b.iter_custom(|iters| {
            let mut t = Duration::ZERO;
            for _ in 0..iters {
                if eng.done() {
                    eng = Engine::new(&sc, sc.seed);
                    warm(&mut eng);
                }
                let t0 = Instant::now();
                eng.step().expect("conserves");
                t += t0.elapsed();
            }
            t
        })
    });
    let title42 = load("scenarios/title42-2020-2023.toml");
    g.bench_function("prepare_title42", |b| {
        b.iter(|| northbound::engine::Prepared::new(&title42).book().epochs.len())
    });
    g.bench_function("build_title42", |b| {
        b.iter(|| northbound::agents::build(&title42, title42.seed).len())
    });
    let caravan = load("scenarios/caravan-2025.toml").scaled(3334.0);
    g.bench_function("build_caravan_1m_people", |b| {
        b.iter(|| northbound::agents::build(&caravan, caravan.seed).len())
    });
    g.finish();
}

fn graphs(c: &mut Criterion) {
    let text = northbound::bench::synthetic_scenario(10_000, 50_000, 20);
    let mut g = c.benchmark_group("graph");
    g.sample_size(10);
    g.bench_function("load_10k_places_50k_routes", |b| {
        b.iter(|| {
            northbound::scenario::load_bytes(text.as_bytes(), Path::new("synthetic.toml"))
                .map(|s| s.legs.len())
                .ok()
        })
    });
    let sc = northbound::scenario::load_bytes(text.as_bytes(), Path::new("synthetic.toml")).expect("loads");
    let graph = Graph::new(&sc);
    let targets = sc.claim_points();
    let open = vec![true; sc.legs.len()];
    let places = vec![true; sc.places.len()];
    g.bench_function("routing_10k_places", |b| {
        b.iter(|| Routing::build(&graph, &sc.legs, &targets, &open, &places, &sc.behaviour).next(0, 0))
    });
    g.finish();
}

fn flee(c: &mut Criterion) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flee-mali2012.toml");
    let mut g = c.benchmark_group("flee");
    g.sample_size(20);
    let sc = northbound::flee::load(&p).unwrap_or_else(|e| panic!("{}", e.render()));
    g.bench_function("flee_mali2012_prepare", |b| {
        b.iter(|| northbound::flee::sim::Prepared::new(&sc).is_ok())
    });
    g.bench_function("flee_mali2012_run", |b| {
        b.iter(|| {
            let mut sc = northbound::flee::load(&p).unwrap_or_else(|e| panic!("{}", e.render()));
            sc.compat = northbound::flee::Compat::V31;
            northbound::flee::sim::run(&sc, 1, &mut |_| {}).expect("runs")
        })
    });
    g.finish();
}

criterion_group!(benches, step, graphs, flee);
criterion_main!(benches);
