//! Criterion benches of the engine: a whole run of the queues fixture
//! (160,000 people in ~123,000 groups, 90 days, binding capacities and
//! claim queues) and the population build of the caravan scaled to one
//! million people.

use criterion::{criterion_group, criterion_main, Criterion};
use northbound::engine::{self, RunConfig};
use std::path::Path;

fn load(rel: &str) -> northbound::scenario::Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    match northbound::scenario::load(&p) {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render()),
    }
}

fn bench(c: &mut Criterion) {
    let queues = load("tests/fixtures/queues.toml");
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.bench_function("queues_160k_people_90_days", |b| {
        b.iter(|| engine::run(&queues, &RunConfig::default(), &mut []).map(|r| r.states))
    });
    let caravan = load("scenarios/caravan-2025.toml").scaled(3334.0);
    g.bench_function("build_caravan_1m_people", |b| {
        b.iter(|| northbound::agents::build(&caravan, caravan.seed).0.len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
