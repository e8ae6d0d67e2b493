//! The `flee` model as an experiment [`Model`], and what the experiment
//! layer makes of it: replicates (over MPI processes too), their run
//! folder, scoring against `source_data/`, variants compared with common
//! random numbers (`comparison.csv`), and calibration of `flee.<setting>`
//! paths on Flee's averaged relative difference.
//!
//! Owns the assembly of flee folders and the flee comparison's and
//! calibration's statistics. Must not simulate (`flee::sim`) or parse files
//! (`flee::scenario`, `flee::variants`, `flee::data`).

use super::search::{self, Calibration, OptimiserError, ParamSpec, SpecError};
use super::{Kind, Model, Replicate};
use crate::engine::Exchange;
use crate::flee::data::{self, Scored, SourceData};
use crate::flee::sim::{self, FleeRun, SimError};
use crate::flee::variants::{self, FleeVariant};
use crate::flee::{output as fout, Compat, FleeScenario};
use crate::output::{OutDir, OutputError};
use crate::scenario::LoadError;
use crate::stats;
use crate::wire::WireError;
use std::path::{Path, PathBuf};

/// Why a flee experiment failed.
#[derive(Debug, thiserror::Error)]
pub enum FleeError {
    /// A run failed.
    #[error("{0}")]
    Sim(#[from] SimError),
    /// Runs could not be gathered from the other processes.
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The worker threads could not be started (the engine's pool, which
    /// says how many and why).
    #[error("{0}")]
    Pool(#[from] crate::engine::EngineError),
    /// A parameter path or value, a variant or a bounds list is wrong.
    #[error("{0}")]
    Param(String),
    /// Camps of the scenario have no observed series.
    #[error("{dir}: camp(s) {camps} have no series in data_layout.csv; every camp of the scenario needs one")]
    MissingCamps {
        /// The `source_data/` folder.
        dir: PathBuf,
        /// The camps, comma-separated.
        camps: String,
    },
    /// Writing failed or was refused.
    #[error("{0}")]
    Output(#[from] OutputError),
    /// The optimiser failed.
    #[error("the optimiser failed: {0}")]
    Optimiser(String),
    /// Calibration's journal of evaluations could not be read or written.
    #[error("{0}")]
    Journal(#[from] crate::study::StudyError),
    /// Another process's run failed (or, on a rank other than 0, the
    /// failure rank 0 reports).
    #[error("{0}")]
    Rank(#[from] super::RankError),
}

impl FleeError {
    /// Whether the user can fix it (exit 2) or it is northbound's (exit 1).
    pub fn kind(&self) -> Kind {
        match self {
            FleeError::Param(_) | FleeError::MissingCamps { .. } => Kind::BadInput,
            FleeError::Output(o) => Kind::of_output(o),
            FleeError::Rank(r) => r.kind,
            _ => Kind::Failure,
        }
    }
}

impl super::JobError for FleeError {
    fn kind(&self) -> Kind {
        FleeError::kind(self)
    }
}

impl From<SpecError> for FleeError {
    fn from(e: SpecError) -> Self {
        FleeError::Param(format!("--params: {}", e.0))
    }
}

impl From<OptimiserError> for FleeError {
    fn from(e: OptimiserError) -> Self {
        FleeError::Optimiser(e.0)
    }
}

/// The flee model; `on_day` is called after every simulated day of every
/// replicate (a progress bar over days × replicates).
pub struct FleeModel<'a> {
    /// Called after each day.
    pub on_day: &'a (dyn Fn() + Sync),
}

impl Model for FleeModel<'_> {
    type Scenario = FleeScenario;
    /// Route tables and the day-0 states, built once per scenario.
    type Prepared<'s>
        = sim::Prepared<'s>
    where
        Self: 's;
    type Run = FleeRun;
    type Error = FleeError;

    fn with_inputs(&self, sc: &FleeScenario, _values: &[f64]) -> Result<FleeScenario, FleeError> {
        // A flee scenario has no uncertain inputs: plans never draw any.
        Ok(sc.clone())
    }

    fn prepare<'s>(&'s self, sc: &'s FleeScenario) -> Result<sim::Prepared<'s>, FleeError> {
        Ok(sim::Prepared::new(sc)?)
    }

    fn run(&self, p: &sim::Prepared<'_>, _sc: &FleeScenario, rep: &Replicate) -> Result<FleeRun, FleeError> {
        Ok(sim::run_prepared(p, rep.seed, &mut |_| (self.on_day)())?)
    }

    fn pool(&self, threads: Option<usize>) -> Result<rayon::ThreadPool, FleeError> {
        Ok(crate::engine::pool(threads)?)
    }
}

/// Runs replicates 0..n of `sc` (replicate k with `replicate_seed(seed, k)`)
/// side by side, spread over `ranks`; every run with its seed on rank 0, in
/// replicate order, nothing on the others. The same for any number of
/// threads or processes.
pub fn replicates(
    sc: &FleeScenario,
    seed: u64,
    n: usize,
    threads: Option<usize>,
    ranks: &dyn Exchange,
    on_day: &(dyn Fn() + Sync),
) -> Result<Runs, FleeError> {
    let plan = super::plan(seed, n, &[]);
    let runs = super::replicates(&FleeModel { on_day }, sc, &plan, threads, ranks, &|| {})?;
    Ok(plan.iter().map(|r| r.seed).zip(runs).collect())
}

/// The `source_data/` of a Flee folder scenario, if it has one.
pub fn folder_data(sc: &FleeScenario) -> Option<PathBuf> {
    let d = sc.about.file.join("source_data");
    d.join("data_layout.csv").is_file().then_some(d)
}

/// Reads a `source_data/` folder for `sc` (with the registration
/// corrections of the Flee folder beside it).
pub fn read_data(dir: &Path, sc: &FleeScenario) -> Result<SourceData, LoadError> {
    let corrections = dir
        .parent()
        .map(|p| p.join("input_csv").join("registration_corrections.csv"));
    let mut hash = sha2::Sha256::default();
    data::read_source_data(dir, sc.start, corrections.as_deref(), &mut hash)
}

/// Each run's camps next to the observations.
pub fn score(sc: &FleeScenario, runs: &[(u64, FleeRun)], d: &SourceData) -> Result<Vec<Scored>, FleeError> {
    runs.iter()
        .map(|(_, r)| fout::score(sc, r, d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|missing| FleeError::MissingCamps {
            dir: d.dir.clone(),
            camps: missing.join(", "),
        })
}

/// The averaged relative difference over replicates: the mean of each
/// figure, the range of the totals, and each camp's last day simulated
/// (mean) and observed, in agents.
pub struct ArdSummary {
    /// Mean over replicates of every figure of [`data::Ard`].
    pub mean: data::Ard,
    /// Smallest and largest plain total.
    pub total: (f64, f64),
    /// Smallest and largest rescaled total.
    pub rescaled: (f64, f64),
    /// Each camp's simulated count on the last day, mean over replicates.
    pub last_sim: Vec<f64>,
    /// Each camp's observed count on the last day.
    pub last_obs: Vec<f64>,
}

impl ArdSummary {
    /// The summary of scored replicates (at least one).
    pub fn of(scores: &[Scored]) -> ArdSummary {
        let ards: Vec<data::Ard> = scores.iter().map(|s| s.ard()).collect();
        let n = ards.len().max(1) as f64;
        let mean = |f: &dyn Fn(&data::Ard) -> f64| ards.iter().map(f).sum::<f64>() / n;
        let range = |f: &dyn Fn(&data::Ard) -> f64| stats::range(&ards.iter().map(f).collect::<Vec<_>>());
        let camps = scores.first().map(|s| s.camps.len()).unwrap_or(0);
        let last = |rows: &[Vec<f64>], c: usize| rows.last().map(|r| r[c]).unwrap_or(0.0);
        ArdSummary {
            mean: data::Ard {
                total: mean(&|a| a.total),
                rescaled: mean(&|a| a.rescaled),
                camps: (0..camps).map(|c| mean(&|a| a.camps[c])).collect(),
                camps_rescaled: (0..camps).map(|c| mean(&|a| a.camps_rescaled[c])).collect(),
            },
            total: range(&|a| a.total),
            rescaled: range(&|a| a.rescaled),
            last_sim: (0..camps)
                .map(|c| scores.iter().map(|x| last(&x.sim, c)).sum::<f64>() / n)
                .collect(),
            last_obs: (0..camps).map(|c| last(&scores[0].data, c)).collect(),
        }
    }
}

/// The run folder of `run`: each replicate's tables (in `replicate-K/`
/// when there are several), `out.csv` and `report.html` against the
/// observations if scored, and `summary.md`.
pub fn write_runs(
    out: &mut OutDir,
    sc: &FleeScenario,
    runs: &[(u64, FleeRun)],
    scores: Option<&[Scored]>,
) -> Result<(), OutputError> {
    let n = runs.len();
    for (k, (seed, r)) in runs.iter().enumerate() {
        let prefix = if n > 1 {
            format!("replicate-{k}/")
        } else {
            String::new()
        };
        fout::write_run(out, &prefix, sc, r, *seed)?;
        if let Some(s) = scores {
            fout::write_out(out, &format!("{prefix}out.csv"), sc, r, &s[k])?;
        }
    }
    if let Some(s) = scores {
        let sub = format!("flee model, {} days from {}, {n} replicate(s)", sc.days, sc.start);
        crate::flee::report::write(out, &sc.about.name, &sub, s, sc.settings.hasten as f64)?;
    }
    fout::write_summary_md(out, sc, runs, scores)
}

/// The folder of `validate`: `out.csv` of replicate 0 at the top, of
/// replicate K in `replicate-K/`, and `report.html`.
pub fn write_validation(
    out: &mut OutDir,
    sc: &FleeScenario,
    runs: &[(u64, FleeRun)],
    scores: &[Scored],
    targets: &Path,
) -> Result<(), OutputError> {
    for (k, ((_, r), sco)) in runs.iter().zip(scores).enumerate() {
        let name = if k == 0 {
            "out.csv".to_string()
        } else {
            format!("replicate-{k}/out.csv")
        };
        if k > 0 {
            let dir = out.tmp_path().join(format!("replicate-{k}"));
            std::fs::create_dir_all(&dir).map_err(|source| OutputError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        fout::write_out(out, &name, sc, r, sco)?;
    }
    let sub = format!(
        "against {}, flee model{}, {} replicate(s)",
        targets.display(),
        if sc.compat == Compat::V31 {
            " (flee_compat 3.1)"
        } else {
            ""
        },
        runs.len()
    );
    crate::flee::report::write(out, &sc.about.name, &sub, scores, sc.settings.hasten as f64)
}

/// Replicates' runs with their seeds, in replicate order.
pub type Runs = Vec<(u64, FleeRun)>;

/// The variants named in `names` (all if empty), in the file's order.
pub fn pick_variants(all: &[FleeVariant], names: &[String]) -> Result<Vec<FleeVariant>, FleeError> {
    for n in names {
        if !all.iter().any(|v| &v.id == n) {
            return Err(FleeError::Param(format!(
                "no variant `{n}` in the scenario; declared: {}",
                all.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(all
        .iter()
        .filter(|v| names.is_empty() || names.contains(&v.id))
        .cloned()
        .collect())
}

/// The base's and every variant's replicates, paired: replicate k of each
/// has the same seed (common random numbers).
pub struct FleeComparison {
    /// The base's runs.
    pub base: Runs,
    /// Each variant, its scenario and its runs.
    pub variants: Vec<(FleeVariant, FleeScenario, Runs)>,
    /// Each run's score against `source_data/` (base first), if scored.
    pub scores: Option<Vec<Vec<Scored>>>,
}

/// Runs the base and each variant `n` times with the same seeds, spread
/// over `ranks` (complete on rank 0 only), scored against `d` if given.
pub fn compare(
    sc: &FleeScenario,
    variants: &[FleeVariant],
    n: usize,
    threads: Option<usize>,
    ranks: &dyn Exchange,
    d: Option<&SourceData>,
    on_day: &(dyn Fn() + Sync),
) -> Result<FleeComparison, FleeError> {
    let base = replicates(sc, sc.seed, n, threads, ranks, on_day)?;
    let mut out = Vec::new();
    for v in variants {
        let vs = variants::apply(sc, v).map_err(FleeError::Param)?;
        let runs = replicates(&vs, sc.seed, n, threads, ranks, on_day)?;
        out.push((v.clone(), vs, runs));
    }
    let scores = match d {
        Some(d) if ranks.rank() == 0 => Some(
            std::iter::once(score(sc, &base, d))
                .chain(out.iter().map(|(_, vs, runs)| score(vs, runs, d)))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        _ => None,
    };
    Ok(FleeComparison {
        base,
        variants: out,
        scores,
    })
}

/// One line of `comparison.csv`: a figure of the base and of a variant, and
/// their paired difference with its 95 % interval.
pub struct FleeCompareRow {
    /// The variant.
    pub variant: String,
    /// `people_last_day`, `in_camps_last_day`, `all_agents_people_last_day`
    /// or `ard`.
    pub metric: &'static str,
    /// The camp (empty for totals).
    pub place: String,
    /// The pair.
    pub paired: stats::Paired,
}

/// The figures of one run that a comparison pairs: each camp's people on
/// the last day, people in camps, everyone in the simulation.
fn figures(sc: &FleeScenario, r: &FleeRun) -> Vec<(&'static str, String, f64)> {
    let per = sc.settings.hasten as f64;
    let last = r.counts.last().cloned().unwrap_or_default();
    let mut f: Vec<(&'static str, String, f64)> = r
        .camps
        .iter()
        .map(|&c| {
            (
                "people_last_day",
                sc.locations[c as usize].name.clone(),
                last[c as usize] as f64 * per,
            )
        })
        .collect();
    let in_camps = r.camps.iter().map(|&c| last[c as usize] as f64 * per).sum();
    f.push(("in_camps_last_day", String::new(), in_camps));
    let all = r.agents.last().copied().unwrap_or(0) as f64 * per;
    f.push(("all_agents_people_last_day", String::new(), all));
    f
}

/// The rows of a comparison, per variant in order, per figure.
pub fn compare_rows(sc: &FleeScenario, c: &FleeComparison) -> Vec<FleeCompareRow> {
    let per_run = |s: &FleeScenario, runs: &[(u64, FleeRun)]| -> Vec<Vec<(&'static str, String, f64)>> {
        runs.iter().map(|(_, r)| figures(s, r)).collect()
    };
    let base = per_run(sc, &c.base);
    let mut rows = Vec::new();
    for (j, (v, vs, runs)) in c.variants.iter().enumerate() {
        let var = per_run(vs, runs);
        for (i, (metric, place, _)) in base.first().into_iter().flatten().enumerate() {
            let b: Vec<f64> = base.iter().map(|f| f[i].2).collect();
            let x: Vec<f64> = var.iter().map(|f| f[i].2).collect();
            rows.push(FleeCompareRow {
                variant: v.id.clone(),
                metric,
                place: place.clone(),
                paired: stats::paired(&b, &x),
            });
        }
        if let Some(s) = &c.scores {
            let ard = |k: usize| s[k].iter().map(|x| x.ard().total).collect::<Vec<_>>();
            rows.push(FleeCompareRow {
                variant: v.id.clone(),
                metric: "ard",
                place: String::new(),
                paired: stats::paired(&ard(0), &ard(j + 1)),
            });
        }
    }
    rows
}

/// Writes a comparison's folder: `comparison.csv`, and each run's tables
/// in `base/replicate-K/` and `<variant>/replicate-K/`.
pub fn write_comparison(
    out: &mut OutDir,
    sc: &FleeScenario,
    c: &FleeComparison,
    rows: &[FleeCompareRow],
) -> Result<(), OutputError> {
    let e = crate::table::table_err("comparison.csv");
    let mut t = out.table(
        "comparison.csv",
        [
            "variant",
            "metric",
            "place",
            "base_mean",
            "variant_mean",
            "diff_mean",
            "diff_lo95",
            "diff_hi95",
        ],
    )?;
    for r in rows {
        let p = &r.paired;
        t.cell(&r.variant).cell(r.metric).cell(&r.place);
        for x in [p.base, p.variant, p.diff, p.lo, p.hi] {
            t.cell(format_args!("{x:.3}"));
        }
        t.end_row().map_err(&e)?;
    }
    out.finish_table(t)?;
    let all = std::iter::once(("base", sc, &c.base)).chain(c.variants.iter().map(|(v, vs, r)| (v.id.as_str(), vs, r)));
    for (id, s, runs) in all {
        for (k, (seed, r)) in runs.iter().enumerate() {
            fout::write_run(out, &format!("{id}/replicate-{k}/"), s, r, *seed)?;
        }
    }
    Ok(())
}

/// What `compare` prints: each variant's question and its differences.
pub fn comparison_text(sc: &FleeScenario, c: &FleeComparison, rows: &[FleeCompareRow]) -> String {
    let n = c.base.len();
    let mut s = format!(
        "{}: base and {} variant(s), {n} replicate(s) each with the same seeds (flee model)\n\
         differences are variant − base, mean and 95 % interval (paired t)\n",
        sc.about.name,
        c.variants.len()
    );
    for (v, _, _) in &c.variants {
        s += &format!("\n{}: {}\n  source: {}\n", v.id, v.description, v.source);
        s += &format!(
            "  {:<28} {:<20} {:>12} {:>12} {:>24}\n",
            "metric", "camp", "base", "variant", "difference"
        );
        for r in rows.iter().filter(|r| r.variant == v.id) {
            let p = &r.paired;
            let (digits, lo, hi) = if r.metric == "ard" {
                (3, p.lo, p.hi)
            } else {
                (0, p.lo, p.hi)
            };
            s += &format!(
                "  {:<28} {:<20} {:>12.d$} {:>12.d$} {:>24}\n",
                r.metric,
                r.place,
                p.base,
                p.variant,
                format!("{:+.d$} [{lo:+.d$}, {hi:+.d$}]", p.diff, d = digits),
                d = digits
            );
        }
    }
    s
}

/// Parses `flee.<setting>=lo:hi,…` against the scenario's settings.
pub fn parse_specs(sc: &FleeScenario, list: &str) -> Result<Vec<ParamSpec>, FleeError> {
    search::parse_specs(
        list,
        &|path| variants::get(&sc.settings, path).map_err(FleeError::Param),
        &|path, v| variants::set(&mut sc.settings.clone(), path, v).map_err(FleeError::Param),
    )
}

/// Searches `flee.<setting>` values that minimise the averaged relative
/// difference against `d` (mean over `replicates` runs with the same seeds
/// for every set; its noise unit is the replicates' spread of it), its
/// evaluations kept and shown by `keep` (`search::Keep`).
pub fn calibrate(
    sc: &FleeScenario,
    d: &SourceData,
    specs: &[ParamSpec],
    budget: u64,
    replicates: usize,
    threads: Option<usize>,
    keep: search::Keep<'_>,
) -> Result<Calibration, FleeError> {
    let n = replicates.max(1);
    let score = |values: &[f64]| -> Result<(f64, f64), FleeError> {
        let mut s = sc.clone();
        for (v, p) in values.iter().zip(specs) {
            variants::set(&mut s.settings, &p.path, *v).map_err(FleeError::Param)?;
        }
        let runs = self::replicates(&s, sc.seed, n, threads, &crate::engine::Local, &|| {})?;
        let ards: Vec<f64> = score(&s, &runs, d)?.iter().map(|x| x.ard().total).collect();
        let mean = stats::mean(&ards);
        let sd = stats::sd(&ards, mean);
        Ok((mean, (sd * sd / n as f64 + sd * sd).sqrt()))
    };
    let start: Vec<f64> = specs
        .iter()
        .map(|p| variants::get(&sc.settings, &p.path).unwrap_or(p.lo))
        .collect();
    search::search(specs, &start, budget, &score, keep)
}
