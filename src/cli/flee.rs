//! The command line of the `flee` model: `import-flee`, and `run`, `check`,
//! `validate`, `compare` and `calibrate` when the scenario is a Flee folder
//! or a `flee` TOML file.
//!
//! Owns what those commands print. Must not simulate, parse files or
//! assemble folders: it calls `crate::flee` and `experiment::flee`.

use super::calibrate::CalibrateArgs;
use super::compare::CompareArgs;
use super::*;
use crate::experiment::flee::{self as xf, FleeError};
use crate::flee::{self, data, sim, variants, Compat, FleeScenario};

pub(super) fn load(input: &Input, compat: Option<&str>, scale: Option<f64>, quiet: bool) -> Result<FleeScenario, Kind> {
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
        Kind::BadInput
    })?;
    if let Err(e) = flee::configure(&mut sc, compat, scale) {
        eprintln!("error: {e}");
        return Err(Kind::BadInput);
    }
    if !quiet && super::root() {
        for w in &sc.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(sc)
}

/// `northbound import-flee DIR [-o FILE]`.
pub(super) fn import(dir: &Path, out: Option<&Path>, compat: Option<&str>) -> Outcome {
    if !flee::import::is_flee_folder(dir) {
        eprintln!(
            "error: {} is not a Flee scenario folder: it needs input_csv/locations.csv (or locations.csv)",
            dir.display()
        );
        return Err(Kind::BadInput);
    }
    let opts = out_options(false, "import-flee", &[dir.to_path_buf()]);
    if let Some(p) = out {
        if let Err(e) = crate::outdir::check_file(p, flee::scenario::IMPORT_MARKER, &opts) {
            eprintln!("error: {e}");
            return Err(Kind::BadInput);
        }
    }
    let sc = load(&Input::Folder(dir.to_path_buf()), compat, None, false)?;
    let text = flee::scenario::to_toml(&sc, &dir.display().to_string());
    match out {
        None => {
            say(&mut std::io::stdout().lock(), &text);
            Ok(())
        }
        Some(p) => {
            if let Err(e) = crate::outdir::write_file(p, flee::scenario::IMPORT_MARKER, text.as_bytes(), &opts) {
                eprintln!("error: {e}");
                return Err(kind_of_output(&e));
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
            Ok(())
        }
    }
}

/// `northbound check` on a flee scenario.
pub(super) fn check(input: &Input) -> Outcome {
    let path = input.path();
    let sc = load(input, None, None, false)?;
    let mut s = format!("{}: ok (flee model)\n", path.display());
    s += &format!(
        "scenario  {} ({} to {}, {} days, seed {}, {})\n",
        sc.about.name,
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
    Ok(())
}

/// Replicates with a progress bar over all their days; `Err` printed.
fn simulate(
    sc: &FleeScenario,
    seed: u64,
    n: usize,
    threads: Option<u64>,
    quiet: bool,
) -> Result<Vec<(u64, sim::FleeRun)>, Kind> {
    let mine = n.div_ceil(ranks().size());
    let b = bar(sc.days as u64 * mine as u64, &sc.about.name, quiet);
    let runs = xf::replicates(sc, seed, n, threads.map(|t| t as usize), ranks(), &|| b.inc(1));
    b.finish_and_clear();
    runs.map_err(|e| failed(&e))
}

/// Prints a library error and gives its kind.
fn failed(e: &FleeError) -> Kind {
    print_error(e);
    e.kind()
}

/// The `source_data/` folder read for `sc`; `Err` printed.
fn read_data(dir: &Path, sc: &FleeScenario) -> Result<data::SourceData, Kind> {
    xf::read_data(dir, sc).map_err(|e| {
        eprint!("{}", e.render());
        Kind::BadInput
    })
}

/// The scenario's own `source_data/`, if it is a Flee folder with one.
fn own_data(sc: &FleeScenario) -> Result<Option<data::SourceData>, Kind> {
    xf::folder_data(sc).map(|d| read_data(&d, sc)).transpose()
}

/// `northbound run` on a flee scenario.
pub(super) fn run(args: RunArgs, input: &Input) -> Outcome {
    let t0 = Instant::now();
    if args.trace.is_some() || args.by_cohort || args.partition {
        eprintln!("error: --trace, --by-cohort and --partition are not available for the flee model");
        return Err(Kind::BadInput);
    }
    let sc = load(input, args.flee_compat.as_deref(), args.scale, args.quiet)?;
    let out_path = match args.out.clone() {
        Some(p) => p,
        None => default_out(&sc, "")?,
    };
    let claim = claim_out(&out_path, &out_options(args.force, "run", &[args.path().to_path_buf()]))?;
    let d = own_data(&sc)?;
    let n = args.replicates.unwrap_or(1) as usize;
    let runs = simulate(&sc, args.seed.unwrap_or(sc.seed), n, args.threads, args.quiet)?;
    // Only rank 0 holds the gathered runs, and only it writes.
    let Some(claim) = claim else {
        return Ok(());
    };
    let scores = d
        .as_ref()
        .map(|d| xf::score(&sc, &runs, d))
        .transpose()
        .map_err(|e| failed(&e))?;
    let written = OutDir::start(claim).and_then(|mut out| {
        xf::write_runs(&mut out, &sc, &runs, scores.as_deref())?;
        out.commit()
    });
    let dest = match written {
        Ok(p) => p,
        Err(e) => return failed_if::<()>(Err(e.into())),
    };
    if args.quiet {
        return Ok(());
    }
    let per = sc.settings.hasten as f64;
    let mut s = format!(
        "{}: {} days from {}, flee model{}, {} replicate{}, {:.2} s\n",
        sc.about.name,
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
    Ok(())
}

/// `northbound validate` on a flee scenario against a `source_data/` folder.
pub(super) fn validate(args: ValidateArgs, input: &Input) -> Outcome {
    if !args.targets.join("data_layout.csv").is_file() {
        eprintln!(
            "error: {}: a flee-model scenario is validated against a Flee source_data/ folder (with data_layout.csv)",
            args.targets.display()
        );
        return Err(Kind::BadInput);
    }
    let sc = load(input, args.flee_compat.as_deref(), args.scale, false)?;
    let out_path = match args.out.clone() {
        Some(p) => p,
        None => default_out(&sc, "-validation")?,
    };
    let claim = claim_out(
        &out_path,
        &out_options(args.force, "validate", &[args.scenario.clone(), args.targets.clone()]),
    )?;
    let d = read_data(&args.targets, &sc)?;
    let n = args.replicates as usize;
    let t0 = Instant::now();
    let runs = simulate(&sc, sc.seed, n, args.threads, false)?;
    let wall = t0.elapsed().as_secs_f64();
    let Some(claim) = claim else {
        return Ok(());
    };
    let scores = xf::score(&sc, &runs, &d).map_err(|e| failed(&e))?;
    let a = xf::ArdSummary::of(&scores);
    let (mean, (lo, hi), (rlo, rhi)) = (&a.mean, a.total, a.rescaled);
    let mut s = format!(
        "averaged relative difference: {:.3} (plain, mean of {n} replicate{}; range {lo:.3}–{hi:.3})\n",
        mean.total,
        if n == 1 { "" } else { "s" }
    );
    s += &format!(
        "averaged relative difference (rescaled): {:.3} (range {rlo:.3}–{rhi:.3})\n",
        mean.rescaled
    );
    s += &format!(
        "{} against {} ({} days, flee model{}, {}, {:.2} s)\n",
        sc.about.name,
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
        s += &format!(
            "{:<20} {:>8.3} {:>9.3} {:>14.0} {:>14.0}\n",
            name,
            mean.camps[c],
            mean.camps_rescaled[c],
            a.last_sim[c] * per,
            a.last_obs[c] * per
        );
    }
    s += &format!("{:<20} {:>8.3} {:>9.3}\n", "total", mean.total, mean.rescaled);
    let written = OutDir::start(claim).and_then(|mut out| {
        xf::write_validation(&mut out, &sc, &runs, &scores, &args.targets)?;
        out.commit()
    });
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
    Ok(())
}

/// The variants of a flee scenario file (none for a Flee folder); `Err` printed.
fn declared_variants(input: &Input, sc: &FleeScenario) -> Result<Vec<variants::FleeVariant>, Kind> {
    let Input::File { path, bytes } = input else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8_lossy(bytes);
    variants::load(&text, path, &sc.settings).map_err(|e| {
        eprint!("{}", e.render());
        Kind::BadInput
    })
}

/// `northbound compare` on a flee scenario: the base and its `[[variant]]`s
/// with the same seeds, paired differences in `comparison.csv`.
pub(super) fn compare(args: CompareArgs, input: &Input) -> Outcome {
    if args.window.is_some() || args.opts.fixed_inputs {
        eprintln!("error: --window and --fixed-inputs are not available for the flee model");
        return Err(Kind::BadInput);
    }
    let sc = load(input, None, args.opts.scale, args.opts.quiet)?;
    let declared = declared_variants(input, &sc)?;
    let picked = xf::pick_variants(&declared, &args.variants).map_err(|e| failed(&e))?;
    if picked.is_empty() {
        eprintln!("error: {} declares no [[variant]] to compare", args.scenario.display());
        return Err(Kind::BadInput);
    }
    let out_path = match args.opts.out.clone() {
        Some(p) => p,
        None => default_out(&sc, "-compare")?,
    };
    let opts = out_options(args.opts.force, "compare", std::slice::from_ref(&args.scenario));
    let claim = claim_out(&out_path, &opts)?;
    let d = own_data(&sc)?;
    let n = args.replicates as usize;
    let days = sc.days as u64 * n.div_ceil(ranks().size()) as u64 * (picked.len() as u64 + 1);
    let b = bar(days, "flee days", args.opts.quiet);
    let threads = args.opts.threads.map(|t| t as usize);
    let c = xf::compare(&sc, &picked, n, threads, ranks(), d.as_ref(), &|| b.inc(1)).map_err(|e| failed(&e));
    b.finish_and_clear();
    let c = c?;
    let Some(claim) = claim else {
        return Ok(());
    };
    let rows = xf::compare_rows(&sc, &c);
    let written = OutDir::start(claim).and_then(|mut out| {
        xf::write_comparison(&mut out, &sc, &c, &rows)?;
        out.commit()
    });
    let dest = match written {
        Ok(p) => p,
        Err(e) => return failed_if::<()>(Err(e.into())),
    };
    if !args.opts.quiet {
        let text = xf::comparison_text(&sc, &c, &rows);
        say(
            &mut std::io::stdout().lock(),
            &format!("{text}\nIn {}/: comparison.csv, base/, <variant>/\n", dest.display()),
        );
    }
    Ok(())
}

/// `northbound calibrate` on a flee scenario: `flee.<setting>` values that
/// minimise the averaged relative difference against a `source_data/` folder.
pub(super) fn calibrate(args: CalibrateArgs, input: &Input) -> Outcome {
    if args.until.is_some() {
        eprintln!("error: --until is not available for the flee model");
        return Err(Kind::BadInput);
    }
    if !args.targets.join("data_layout.csv").is_file() {
        eprintln!(
            "error: {}: a flee-model scenario is calibrated against a Flee source_data/ folder (with data_layout.csv)",
            args.targets.display()
        );
        return Err(Kind::BadInput);
    }
    let sc = load(input, None, None, false)?;
    let (out, opts) = super::calibrate::destination(&args)?;
    let d = read_data(&args.targets, &sc)?;
    let specs = xf::parse_specs(&sc, &args.params).map_err(|e| failed(&e))?;
    use super::calibrate as cli;
    let fp = cli::fingerprint(&args, "flee", &sc.about.sha256, sc.seed)?;
    let (claim, mut journal) = cli::open_journal(&out, &opts, &fp, args.force)?;
    let bar = cli::evaluations_bar(&args);
    let show = |done: usize, replayed: usize| cli::shown(&bar, done, replayed);
    let keep = crate::experiment::search::Keep {
        journal: Some(&mut journal),
        progress: &show,
    };
    let threads = args.threads.map(|t| t as usize);
    let c = xf::calibrate(&sc, &d, &specs, args.budget, args.replicates as usize, threads, keep);
    bar.finish_and_clear();
    let c = c.map_err(|e| failed(&e))?;
    let measure = "averaged relative difference (flee model)";
    let text = crate::experiment::search::render_toml(&c, &sc.about.file, &cli::arguments(&args), measure);
    cli::publish(&claim, journal, &text)
}

/// `out/<scenario name><suffix>`: the name was checked when the scenario
/// was read (`flee::scenario`), and is checked again here.
pub(super) fn default_out(sc: &FleeScenario, suffix: &str) -> Result<PathBuf, Kind> {
    if !crate::outdir::safe_name(&sc.about.name) {
        eprintln!(
            "error: the scenario name `{}` cannot name an output folder (letters, digits, `_`, `-` and `.`); pass --out",
            sc.about.name
        );
        return Err(Kind::BadInput);
    }
    Ok(flee::output::default_out(sc, suffix))
}

pub(super) fn per_agent(hasten: u32) -> String {
    if hasten == 1 {
        "1 person per agent".into()
    } else {
        format!("{hasten} people per agent")
    }
}
