//! The command line of the `flee` model: `import-flee`, and `run`, `check`
//! and `validate` when the scenario is a Flee folder or a `flee` TOML file.
//!
//! Owns what those commands print and their exit codes (0, 1 for a failure
//! of northbound's own, 2 for bad input). Must not simulate or parse files
//! itself: it calls `crate::flee`.

use super::{bar, claim_out, failed_if, out_options, say, Input, RunArgs, ValidateArgs};
use crate::flee::{self, data, output as fout, sim, Compat, FleeScenario};
use crate::output::OutDir;
use crate::rng::replicate_seed;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

pub(super) fn load(
    input: &Input,
    compat: Option<&str>,
    scale: Option<f64>,
    quiet: bool,
) -> Result<FleeScenario, ExitCode> {
    let loaded = match input {
        Input::Folder(dir) => flee::import::import(dir),
        Input::File { path, bytes } => match std::str::from_utf8(bytes) {
            Ok(text) => flee::scenario::load_str(text, path),
            Err(e) => Err(crate::scenario::LoadError::NotUtf8 {
                path: path.clone(),
                offset: e.valid_up_to(),
            }),
        },
    };
    let mut sc = loaded.map_err(|e| {
        eprint!("{}", e.render());
        ExitCode::from(2)
    })?;
    if let Err(e) = flee::configure(&mut sc, compat, scale) {
        eprintln!("error: {e}");
        return Err(ExitCode::from(2));
    }
    if !quiet && super::root() {
        for w in &sc.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(sc)
}

/// `northbound import-flee DIR [-o FILE]`.
pub fn import(dir: &Path, out: Option<&Path>, compat: Option<&str>) -> ExitCode {
    if !flee::import::is_flee_folder(dir) {
        eprintln!(
            "error: {} is not a Flee scenario folder: it needs input_csv/locations.csv (or locations.csv)",
            dir.display()
        );
        return ExitCode::from(2);
    }
    let opts = out_options(false, "import-flee", &[dir.to_path_buf()]);
    if let Some(p) = out {
        if let Err(e) = crate::outdir::check_file(p, flee::scenario::IMPORT_MARKER, &opts) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let sc = match load(&Input::Folder(dir.to_path_buf()), compat, None, false) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let text = flee::scenario::to_toml(&sc, &dir.display().to_string());
    match out {
        None => {
            say(&mut std::io::stdout().lock(), &text);
            ExitCode::SUCCESS
        }
        Some(p) => {
            if let Err(e) = crate::outdir::write_file(p, flee::scenario::IMPORT_MARKER, text.as_bytes(), &opts) {
                eprintln!("error: {e}");
                return ExitCode::from(if e.is_refusal() { 2 } else { 1 });
            }
            say(
                &mut std::io::stdout().lock(),
                &format!(
                    "wrote {}: {} places ({} camps), {} routes, {} conflict series, {} closures, {} days from {}\n",
                    p.display(),
                    sc.locations.len(),
                    sc.camps().len(),
                    sc.routes.len(),
                    sc.conflicts.len(),
                    sc.closures.len(),
                    sc.days,
                    sc.start
                ),
            );
            ExitCode::SUCCESS
        }
    }
}

/// `northbound check` on a flee scenario.
pub fn check(input: &Input) -> ExitCode {
    let path = input.path();
    let sc = match load(input, None, None, false) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut s = format!("{}: ok (flee model)\n", path.display());
    s += &format!(
        "scenario  {} ({} to {}, {} days, seed {}, {})\n",
        sc.name,
        sc.start,
        sc.date_of(sc.days - 1),
        sc.days,
        sc.seed,
        match sc.compat {
            Compat::V31 => "flee_compat 3.1",
            Compat::Intended => "Flee's intended rules",
        }
    );
    let camps = sc.camps();
    s += &format!("places    {} ({} camps)\n", sc.locations.len(), camps.len());
    for &c in &camps {
        let l = &sc.locations[c as usize];
        s += &format!(
            "  {:<24} {:<12} capacity {:>8}  day 0 {:>7}\n",
            l.name, l.country, l.capacity, l.initial_people
        );
    }
    s += &format!("routes    {}\n", sc.routes.len());
    s += &format!("conflicts {} locations with a series\n", sc.conflicts.len());
    s += &format!("closures  {}\n", sc.closures.len());
    s += &format!(
        "spawning  {:?}, {}, observed total {} → {}\n",
        sc.settings.spawn,
        per_agent(sc.settings.hasten),
        sc.totals.first().map(|x| x.1 as u64).unwrap_or(0),
        sc.totals.last().map(|x| x.1 as u64).unwrap_or(0)
    );
    say(&mut std::io::stdout().lock(), &s);
    ExitCode::SUCCESS
}

/// Runs `n` replicates with a progress bar over all their days. Under
/// `mpirun` (feature `mpi`) replicate k runs on rank k mod P and rank 0
/// gathers them in replicate order; the other ranks get `None` and write
/// nothing. Replicate k's seed depends on k only, so the tables are the same
/// for any number of processes.
fn simulate(
    sc: &FleeScenario,
    seed: u64,
    n: usize,
    threads: Option<u64>,
    quiet: bool,
) -> Result<Option<Vec<(u64, sim::FleeRun)>>, String> {
    let ranks = super::ranks();
    let (rank, size) = (ranks.rank(), ranks.size());
    let mine: Vec<usize> = (0..n).filter(|k| k % size == rank).collect();
    let pool = crate::engine::pool(threads.map(|t| t as usize)).map_err(|e| e.to_string())?;
    let b = bar(sc.days as u64 * mine.len() as u64, &sc.name, quiet);
    let mut local = Vec::with_capacity(mine.len());
    for (i, &k) in mine.iter().enumerate() {
        let s = replicate_seed(seed, k as u64);
        let base = i as u64 * sc.days as u64;
        let r = pool
            .install(|| sim::run(sc, s, &mut |t| b.set_position(base + t as u64 + 1)))
            .map_err(|e| e.to_string())?;
        local.push((s, r));
    }
    b.finish_and_clear();
    if size == 1 {
        return Ok(Some(local));
    }
    let bytes = serde_json::to_vec(&local).map_err(|e| e.to_string())?;
    let gathered = ranks.gather_to_root(&bytes);
    if rank != 0 {
        return Ok(None);
    }
    let mut by_rank = Vec::with_capacity(size);
    for g in &gathered {
        let v: Vec<(u64, sim::FleeRun)> = serde_json::from_slice(g).map_err(|e| e.to_string())?;
        by_rank.push(v.into_iter());
    }
    // Replicate k came from rank k mod P, in order within each rank.
    let mut all = Vec::with_capacity(n);
    for k in 0..n {
        match by_rank[k % size].next() {
            Some(r) => all.push(r),
            None => return Err(format!("replicate {k} is missing from rank {}", k % size)),
        }
    }
    Ok(Some(all))
}

/// The `source_data/` of a Flee folder scenario, if it has one.
fn folder_data(sc: &FleeScenario) -> Option<PathBuf> {
    let d = sc.file.join("source_data");
    d.join("data_layout.csv").is_file().then_some(d)
}

fn read_data(dir: &Path, sc: &FleeScenario) -> Result<data::SourceData, ExitCode> {
    let corrections = dir
        .parent()
        .map(|p| p.join("input_csv").join("registration_corrections.csv"));
    let mut hash = sha2::Sha256::default();
    data::read_source_data(dir, sc.start, corrections.as_deref(), &mut hash).map_err(|e| {
        eprint!("{}", e.render());
        ExitCode::from(2)
    })
}

fn scored(
    sc: &FleeScenario,
    runs: &[(u64, sim::FleeRun)],
    d: &data::SourceData,
) -> Result<Vec<data::Scored>, ExitCode> {
    runs.iter()
        .map(|(_, r)| fout::score(sc, r, d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|missing| {
            eprintln!(
                "error: {}: camp(s) {} have no series in data_layout.csv; every camp of the scenario needs one",
                d.dir.display(),
                missing.join(", ")
            );
            ExitCode::from(2)
        })
}

/// `northbound run` on a flee scenario.
pub fn run(args: RunArgs, input: &Input) -> ExitCode {
    let t0 = Instant::now();
    if args.trace.is_some() || args.by_cohort || args.partition {
        eprintln!("error: --trace, --by-cohort and --partition are not available for the flee model");
        return ExitCode::from(2);
    }
    let sc = match load(input, args.flee_compat.as_deref(), args.scale, args.quiet) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let out_path = match args.out.clone() {
        Some(p) => p,
        None => match default_out(&sc, "") {
            Ok(p) => p,
            Err(c) => return c,
        },
    };
    let claim = match claim_out(&out_path, &out_options(args.force, "run", &[args.path().to_path_buf()])) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let d = match folder_data(&sc) {
        Some(dir) => match read_data(&dir, &sc) {
            Ok(d) => Some(d),
            Err(c) => return c,
        },
        None => None,
    };
    let n = args.replicates.unwrap_or(1) as usize;
    let runs = match simulate(&sc, args.seed.unwrap_or(sc.seed), n, args.threads, args.quiet) {
        Ok(Some(r)) => r,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let scores = match &d {
        Some(d) => match scored(&sc, &runs, d) {
            Ok(s) => Some(s),
            Err(c) => return c,
        },
        None => None,
    };
    let Some(claim) = claim else {
        return ExitCode::SUCCESS;
    };
    let written = (|| -> Result<PathBuf, crate::output::OutputError> {
        let mut out = OutDir::start(claim)?;
        for (k, (seed, r)) in runs.iter().enumerate() {
            let prefix = if n > 1 {
                format!("replicate-{k}/")
            } else {
                String::new()
            };
            fout::write_run(&mut out, &prefix, &sc, r, *seed)?;
            if let Some(s) = &scores {
                fout::write_out(&mut out, &format!("{prefix}out.csv"), &sc, r, &s[k])?;
            }
        }
        if let Some(s) = &scores {
            let sub = format!("flee model, {} days from {}, {n} replicate(s)", sc.days, sc.start);
            flee::report::write(&mut out, &sc.name, &sub, s, sc.settings.hasten as f64)?;
        }
        fout::write_summary_md(&mut out, &sc, &runs, scores.as_deref())?;
        out.commit()
    })();
    let dest = match written {
        Ok(p) => p,
        Err(e) => return failed_if::<()>(Err(e.into())),
    };
    if args.quiet {
        return ExitCode::SUCCESS;
    }
    let per = sc.settings.hasten as f64;
    let mut s = format!(
        "{}: {} days from {}, flee model{}, {} replicate{}, {:.2} s\n",
        sc.name,
        sc.days,
        sc.start,
        if sc.compat == Compat::V31 {
            " (flee_compat 3.1)"
        } else {
            ""
        },
        n,
        if n == 1 { "" } else { "s" },
        t0.elapsed().as_secs_f64()
    );
    s += &format!("{:<24} {:>12}\n", "camp (last day)", "people");
    let last = |c: u32| {
        runs.iter()
            .map(|(_, r)| r.counts[r.counts.len() - 1][c as usize] as f64 * per)
            .sum::<f64>()
            / n as f64
    };
    for &c in &runs[0].1.camps {
        s += &format!("{:<24} {:>12.0}\n", sc.locations[c as usize].name, last(c));
    }
    let total = runs
        .iter()
        .map(|(_, r)| r.agents[r.agents.len() - 1] as f64 * per)
        .sum::<f64>()
        / n as f64;
    s += &format!("{:<24} {:>12.0}\n", "all agents × people each", total);
    if let Some(sc_list) = &scores {
        let a: Vec<f64> = sc_list.iter().map(|x| x.ard().total).collect();
        s += &format!(
            "averaged relative difference against {}: {:.3}\n",
            d.as_ref().map(|d| d.dir.display().to_string()).unwrap_or_default(),
            a.iter().sum::<f64>() / a.len() as f64
        );
    }
    for w in runs
        .iter()
        .flat_map(|(_, r)| &r.warnings)
        .collect::<std::collections::BTreeSet<_>>()
    {
        eprintln!("warning: {w}");
    }
    s += &format!("wrote {}\n", dest.display());
    say(&mut std::io::stdout().lock(), &s);
    ExitCode::SUCCESS
}

/// `northbound validate` on a flee scenario against a `source_data/` folder.
pub fn validate(args: ValidateArgs, input: &Input) -> ExitCode {
    if !args.targets.join("data_layout.csv").is_file() {
        eprintln!(
            "error: {}: a flee-model scenario is validated against a Flee source_data/ folder (with data_layout.csv)",
            args.targets.display()
        );
        return ExitCode::from(2);
    }
    let sc = match load(input, args.flee_compat.as_deref(), args.scale, false) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let out_path = match args.out.clone() {
        Some(p) => p,
        None => match default_out(&sc, "-validation") {
            Ok(p) => p,
            Err(c) => return c,
        },
    };
    let claim = match claim_out(
        &out_path,
        &out_options(args.force, "validate", &[args.scenario.clone(), args.targets.clone()]),
    ) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let d = match read_data(&args.targets, &sc) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let n = args.replicates as usize;
    let t0 = Instant::now();
    let runs = match simulate(&sc, sc.seed, n, args.threads, false) {
        Ok(Some(r)) => r,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    let scores = match scored(&sc, &runs, &d) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let ards: Vec<data::Ard> = scores.iter().map(|s| s.ard()).collect();
    let mean = |f: &dyn Fn(&data::Ard) -> f64| ards.iter().map(f).sum::<f64>() / n as f64;
    let range = |f: &dyn Fn(&data::Ard) -> f64| {
        let v: Vec<f64> = ards.iter().map(f).collect();
        (
            v.iter().cloned().fold(f64::INFINITY, f64::min),
            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let (lo, hi) = range(&|a| a.total);
    let (rlo, rhi) = range(&|a| a.rescaled);
    let mut s = format!(
        "averaged relative difference: {:.3} (plain, mean of {n} replicate{}; range {lo:.3}–{hi:.3})\n",
        mean(&|a| a.total),
        if n == 1 { "" } else { "s" }
    );
    s += &format!(
        "averaged relative difference (rescaled): {:.3} (range {rlo:.3}–{rhi:.3})\n",
        mean(&|a| a.rescaled)
    );
    s += &format!(
        "{} against {} ({} days, flee model{}, {}, {:.2} s)\n",
        sc.name,
        args.targets.display(),
        sc.days,
        if sc.compat == Compat::V31 {
            ", flee_compat 3.1"
        } else {
            ""
        },
        per_agent(sc.settings.hasten),
        wall
    );
    s += &format!(
        "{:<20} {:>8} {:>9} {:>14} {:>14}\n",
        "camp", "plain", "rescaled", "sim last day", "data last day"
    );
    let per = sc.settings.hasten as f64;
    for (c, name) in scores[0].camps.iter().enumerate() {
        let last_sim = scores.iter().map(|x| x.sim[x.sim.len() - 1][c]).sum::<f64>() / n as f64 * per;
        let last_obs = scores[0].data[scores[0].data.len() - 1][c] * per;
        s += &format!(
            "{:<20} {:>8.3} {:>9.3} {:>14.0} {:>14.0}\n",
            name,
            mean(&|a| a.camps[c]),
            mean(&|a| a.camps_rescaled[c]),
            last_sim,
            last_obs
        );
    }
    s += &format!(
        "{:<20} {:>8.3} {:>9.3}\n",
        "total",
        mean(&|a| a.total),
        mean(&|a| a.rescaled)
    );
    let Some(claim) = claim else {
        return ExitCode::SUCCESS;
    };
    let written = (|| -> Result<PathBuf, crate::output::OutputError> {
        let mut out = OutDir::start(claim)?;
        for (k, ((_, r), sco)) in runs.iter().zip(&scores).enumerate() {
            let name = if k == 0 {
                "out.csv".to_string()
            } else {
                format!("replicate-{k}/out.csv")
            };
            if k > 0 {
                let dir = out.tmp_path().join(format!("replicate-{k}"));
                std::fs::create_dir_all(&dir).map_err(|source| crate::output::OutputError::Io {
                    path: dir.clone(),
                    source,
                })?;
            }
            fout::write_out(&mut out, &name, &sc, r, sco)?;
        }
        let sub = format!(
            "against {}, flee model{}, {n} replicate(s)",
            args.targets.display(),
            if sc.compat == Compat::V31 {
                " (flee_compat 3.1)"
            } else {
                ""
            }
        );
        flee::report::write(&mut out, &sc.name, &sub, &scores, sc.settings.hasten as f64)?;
        out.commit()
    })();
    match written {
        Ok(p) => {
            s += &format!(
                "out.csv (Flee's layout, agents of {} people): {}\n",
                sc.settings.hasten,
                p.join("out.csv").display()
            )
        }
        Err(e) => return failed_if::<()>(Err(e.into())),
    }
    say(&mut std::io::stdout().lock(), &s);
    ExitCode::SUCCESS
}

/// `out/<scenario name><suffix>`: the name was checked when the scenario
/// was read (`flee::scenario`), and is checked again here.
fn default_out(sc: &FleeScenario, suffix: &str) -> Result<PathBuf, ExitCode> {
    if !crate::outdir::safe_name(&sc.name) {
        eprintln!(
            "error: the scenario name `{}` cannot name an output folder (letters, digits, `_`, `-` and `.`); pass --out",
            sc.name
        );
        return Err(ExitCode::from(2));
    }
    Ok(fout::default_out(sc, suffix))
}

fn per_agent(hasten: u32) -> String {
    if hasten == 1 {
        "1 person per agent".into()
    } else {
        format!("{hasten} people per agent")
    }
}
