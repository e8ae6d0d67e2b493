//! Criterion benches of what a replicate of a big era costs besides its
//! days (BENCHMARKS.md, "2026-11-30 — ensembles of the big eras"), on
//! title42-2020-2023 at full size:
//! - `load_title42`: reading and validating the scenario file;
//! - `inputs_title42`: the scenario of a replicate that draws its uncertain
//!   inputs (`uncertain::with_values`: the file's text read again with them);
//! - `build_title42`: the engine set up from prepared tables, its
//!   population built (`Engine::from_prepared`);
//! - `replicate_files_title42`: one replicate's `replicate-K/` folder
//!   (`places.csv`, `outcomes.csv`, `events.csv`, `routes.csv`,
//!   `summary.json`);
//! - `summaries_title42_x10`: `places_summary.csv` and the other summaries
//!   over ten replicates;
//! - `report_title42_x10`: `report.html` of a ten-replicate folder;
//! - `folder_title42_x10`: the whole folder of `run --replicates 10` once
//!   the runs are done (the ten `replicate-K/`, summaries, published
//!   outputs, report).
//!
//! The replicates are copies of one run (the figures do not depend on the
//! numbers), made once before the benches.

use criterion::{criterion_group, criterion_main, Criterion};
use northbound::ensemble::{self, Extra, Inputs};
use northbound::outdir::OutDir;
use std::path::Path;

fn ensemble(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/title42-2020-2023.toml");
    let load = || northbound::scenario::load(&path).unwrap_or_else(|e| panic!("{}", e.render()));
    let sc = load();
    let mut g = c.benchmark_group("ensemble");
    g.sample_size(10);
    g.bench_function("load_title42", |b| b.iter(|| load().places.len()));
    let row = northbound::scenario::uncertain::design(&sc, 10).swap_remove(1);
    g.bench_function("inputs_title42", |b| {
        b.iter(|| {
            northbound::scenario::uncertain::with_values(&sc, &row)
                .map(|s| s.places.len())
                .ok()
        })
    });
    let prepared = northbound::engine::Prepared::new(&sc);
    g.bench_function("build_title42", |b| {
        b.iter(|| northbound::engine::Engine::from_prepared(&prepared, &sc, sc.seed, false).day())
    });
    let fixed = Extra {
        inputs: Inputs::Fixed,
        ..Extra::default()
    };
    let one = ensemble::replicates_with(&sc, 1, None, None, &|| {}, &northbound::engine::Local, &fixed)
        .expect("runs")
        .remove(0);
    let reps = vec![one; 10];
    let tmp = std::env::temp_dir().join(format!("northbound-bench-ensemble-{}", std::process::id()));
    let fresh = |name: &str| {
        let dest = tmp.join(name);
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::create_dir_all(&tmp).expect("temp dir");
        OutDir::create(&dest).expect("claims")
    };
    g.bench_function("replicate_files_title42", |b| {
        b.iter(|| {
            let out = fresh("outer");
            ensemble::write_replicate(&sc, &reps[0], &out.tmp_path().join("replicate-0")).expect("writes");
            out.commit().expect("commits")
        })
    });
    g.bench_function("summaries_title42_x10", |b| {
        b.iter(|| {
            let mut out = fresh("summaries");
            ensemble::write_summaries(&mut out, &sc, &reps).expect("writes");
            out.commit().expect("commits")
        })
    });
    let publish = northbound::results::Publish::default();
    g.bench_function("folder_title42_x10", |b| {
        b.iter(|| {
            let mut out = fresh("folder");
            northbound::results::write_replicates(&mut out, &sc, &reps, &publish).expect("writes");
            out.commit().expect("commits")
        })
    });
    let folder = tmp.join("folder");
    g.bench_function("report_title42_x10", |b| {
        b.iter(|| northbound::report::html(&folder).map(|h| h.len()).ok())
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&tmp);
}

criterion_group!(benches, ensemble);
criterion_main!(benches);
