//! `northbound forecast`: a forecast from observed counts, or a backtest
//! of forecasts against what followed.
//!
//! Owns the command line of forecasts: its arguments, the checks made
//! before any work, the terminal's table and the plain-language line. The
//! method is `forecast`'s; the folder is written through `OutDir`.

use super::*;
use crate::forecast::output::{self as fout, Cut, Periods};
use crate::forecast::{self, filter, observed, Forecast, Plan};
use crate::output::OutDir;
use crate::publish::narrative;
use crate::scenario::Scenario;
use chrono::NaiveDate;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// The periods of `forecast.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PeriodArg {
    /// Weeks from --from.
    Week,
    /// Calendar months.
    Month,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ForecastArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Observed counts: a CSV with columns date,place,metric,value (docs/forecasting.md).
    #[arg(long, value_name = "COUNTS.csv")]
    observed: PathBuf,
    /// The first day forecast (YYYY-MM-DD); counts of periods ending before it weigh the members.
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg, required_unless_present = "backtest", conflicts_with = "backtest")]
    from: Option<NaiveDate>,
    /// Weeks forecast from --from (or from each backtest origin).
    #[arg(long, value_name = "WEEKS", value_parser = clap::value_parser!(u32).range(1..=520))]
    horizon: u32,
    /// Members of the ensemble.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    members: u64,
    /// Draws of the scenario's uncertain inputs (a Latin hypercube, as
    /// replicates draw them); members are spread over the draws and the
    /// counts weigh draws as they weigh seeds. One draw with --fixed-inputs
    /// or when the scenario has no uncertain input.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    draws: u64,
    /// Every member keeps the scenario's inputs at their values (the
    /// intervals then cover chance only).
    #[arg(long)]
    fixed_inputs: bool,
    /// Weeks before the origin whose counts weigh the members (periods lying within them).
    #[arg(long, value_name = "WEEKS", default_value_t = forecast::WINDOW_DAYS / 7, value_parser = clap::value_parser!(u32).range(1..=5200))]
    assimilate: u32,
    /// Size k of the negative binomial of a count given a member (variance μ + μ²/k; `inf`: Poisson).
    #[arg(long, value_name = "K", default_value_t = filter::DISPERSION)]
    dispersion: f64,
    /// Resample the members when their effective sample size falls below this share of them.
    #[arg(long, value_name = "SHARE", default_value_t = 0.5)]
    resample_below: f64,
    /// Periods of forecast.csv.
    #[arg(long, value_enum, default_value_t = PeriodArg::Week)]
    period: PeriodArg,
    /// Forecasts at origins from FROM to UNTIL (YYYY-MM-DD..YYYY-MM-DD), each using only the
    /// counts before it, scored against the counts that followed.
    #[arg(long, value_name = "FROM..UNTIL")]
    backtest: Option<String>,
    /// Weeks between backtest origins.
    #[arg(long, value_name = "WEEKS", requires = "backtest", value_parser = clap::value_parser!(u32).range(1..=520))]
    every: Option<u32>,
    /// Output folder (default: out/<scenario stem>-forecast/ or -backtest/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the output folder even if files were added to it since northbound wrote it.
    #[arg(long)]
    force: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// No progress bar and no table on the terminal.
    #[arg(long, short)]
    quiet: bool,
}

pub(super) fn refuse(msg: impl std::fmt::Display) -> Kind {
    eprintln!("error: {msg}");
    Kind::BadInput
}

/// The input draws of a forecast's members: `n` Latin hypercube draws of
/// the scenario's uncertain inputs (never more than the members), or the
/// scenario itself with `fixed` or without uncertain inputs.
pub(super) fn draws(
    sc: &Scenario,
    n: usize,
    fixed: bool,
) -> Result<Vec<Scenario>, crate::scenario::uncertain::InputsError> {
    if fixed || n <= 1 || crate::scenario::uncertain::inputs(sc).is_empty() {
        return Ok(vec![sc.clone()]);
    }
    (0..n)
        .map(|k| crate::scenario::uncertain::draw(sc, k, n).map(|(s, _)| s))
        .collect()
}

/// The forecast origins as day numbers: `--from`, or every `--every` weeks
/// over `--backtest FROM..UNTIL`; each must leave `--horizon` weeks inside
/// the scenario. `Err` printed.
fn origins(args: &ForecastArgs, sc: &Scenario) -> Result<Vec<u32>, Kind> {
    let cal = sc.calendar;
    let horizon = args.horizon * 7;
    let fits = |origin: NaiveDate| -> Result<u32, String> {
        let day = cal.day_of(origin);
        if day < 0 || day + horizon as i64 > cal.days as i64 {
            return Err(format!(
                "a forecast from {origin} over {} weeks needs the days {origin} to {}, and the scenario runs from {} to {}{}",
                args.horizon,
                origin + chrono::Days::new(horizon as u64 - 1),
                cal.start,
                cal.end(),
                if day >= 0 { "; set its `end` later, or forecast fewer weeks" } else { "" }
            ));
        }
        Ok(day as u32)
    };
    let origins: Vec<u32> = match (&args.backtest, args.from) {
        (Some(range), _) => {
            let Some(every) = args.every else {
                return Err(refuse(
                    "--backtest needs --every WEEKS: the weeks between forecast origins",
                ));
            };
            let parsed = range
                .split_once("..")
                .and_then(|(a, b)| Some((crate::time::parse_date(a)?, crate::time::parse_date(b)?)));
            let Some((a, b)) = parsed.filter(|(a, b)| a <= b) else {
                return Err(refuse(format!(
                    "--backtest {range}: write FROM..UNTIL as two dates, the first on or before the second (e.g. 2017-04-01..2019-12-31)"
                )));
            };
            let mut v = Vec::new();
            let mut d = a;
            while d <= b {
                match fits(d) {
                    Ok(day) => v.push(day),
                    Err(e) => return Err(refuse(format!("--backtest origin {d}: {e}"))),
                }
                d = d + chrono::Days::new(7 * every as u64);
            }
            v
        }
        (None, Some(from)) => match fits(from) {
            Ok(day) => vec![day],
            Err(e) => return Err(refuse(format!("--from {from}: {e}"))),
        },
        (None, None) => {
            return Err(refuse(
                "give --from DATE (a forecast) or --backtest FROM..UNTIL (a backtest)",
            ))
        }
    };
    Ok(origins)
}

/// `northbound forecast`.
pub(super) fn run(args: ForecastArgs) -> Outcome {
    let t0 = Instant::now();
    let input = Input::read(&args.scenario)?;
    let sc = load(&input)?;
    let observed = match observed::load(&args.observed, &sc) {
        Ok(o) => o,
        Err(e) => {
            eprint!("{}", e.render());
            return Err(Kind::BadInput);
        }
    };
    if args.dispersion.is_nan() || args.dispersion <= 0.0 {
        return Err(refuse(format!(
            "--dispersion must be greater than 0 (or inf), got {}",
            args.dispersion
        )));
    }
    if !(0.0..=1.0).contains(&args.resample_below) {
        return Err(refuse(format!(
            "--resample-below is a share of the members, between 0 and 1, got {}",
            args.resample_below
        )));
    }
    let cal = sc.calendar;
    let horizon = args.horizon * 7;
    let origins = origins(&args, &sc)?;
    let draws = match draws(&sc, (args.draws.min(args.members)) as usize, args.fixed_inputs) {
        Ok(d) => d,
        Err(e) => {
            return Err(refuse(format!(
                "{}: drawing the uncertain inputs: {e}",
                args.scenario.display()
            )))
        }
    };
    let members = args.members as usize;
    let need = crate::limits::forecast(&sc, members, draws.len());
    if let Err(e) = crate::limits::check(&args.scenario.display().to_string(), need) {
        return Err(refuse(e));
    }
    let backtest = args.backtest.is_some();
    let out_path = out_or_default(
        &args.out,
        &args.scenario,
        if backtest { "-backtest" } else { "-forecast" },
    )?;
    let opts = out_options(args.force, "forecast", &[args.scenario.clone(), args.observed.clone()]);
    let Ok(Some(claim)) = claim_out(&out_path, &opts) else {
        return Err(Kind::BadInput);
    };
    let plan = Plan {
        origin: origins[0],
        horizon,
        window: args.assimilate * 7,
        filter: filter::Settings {
            members,
            dispersion: args.dispersion,
            resample_below: args.resample_below,
        },
    };
    let threads = args.threads.map(|t| t as usize);
    let used_threads = crate::limits::workers(threads);
    failed_if((|| -> Result<(), Box<dyn std::error::Error>> {
        let pool = crate::engine::pool(threads)?;
        let mut out = OutDir::start(claim)?;
        let text = if backtest {
            let b = bar(origins.len() as u64, "forecasts", args.quiet);
            let rows = pool.install(|| forecast::backtest(&draws, &observed, &origins, &plan, &|| b.inc(1)))?;
            b.finish_and_clear();
            let scores = forecast::summarise(&rows, &observed, cal);
            fout::write_backtest(&mut out, &rows, &observed, cal)?;
            fout::write_scores(&mut out, &scores)?;
            let wall = t0.elapsed().as_secs_f64();
            write_json(
                &mut out,
                &Settings::new(&sc, &args, &plan, (origins.len(), draws.len()), used_threads, wall),
            )?;
            let last = *origins.last().unwrap_or(&origins[0]);
            let text = narrative::backtest(
                &sc,
                (cal.date_of(origins[0]), cal.date_of(last), origins.len()),
                args.every.unwrap_or(0),
                args.horizon,
                members,
                &scores,
            );
            crate::publish::text_file(&mut out, "summary.md", &text)?;
            publish_folder(&mut out, &sc, "backtest", members)?;
            let mut s = format!(
                "{}: {} forecasts from {} to {}, every {} weeks, {} weeks ahead, {} members; {} targets scored ({:.1} s)\n\n",
                sc.about.name,
                origins.len(),
                cal.date_of(origins[0]),
                cal.date_of(*origins.last().unwrap_or(&origins[0])),
                args.every.unwrap_or(0),
                args.horizon,
                members,
                rows.len(),
                wall
            );
            s += &fout::scores_markdown(&scores);
            s
        } else {
            let b = bar(1, "forecast", args.quiet);
            let mut spin = forecast::SpinUp::new(&draws);
            let f = pool.install(|| forecast::forecast(&draws, &observed, &plan, &mut spin))?;
            b.finish_and_clear();
            let periods = match args.period {
                PeriodArg::Week => Periods::Weeks,
                PeriodArg::Month => Periods::Months,
            };
            let cuts = fout::cuts(plan.origin, plan.horizon, periods, cal);
            fout::write_forecast(&mut out, &f, &observed, &cuts, cal)?;
            fout::write_fitted(&mut out, &f, &observed, cal)?;
            fout::write_observed(&mut out, &observed, &f.used, cal)?;
            fout::write_weights(&mut out, &f)?;
            fout::write_filter(&mut out, &f, cal)?;
            let wall = t0.elapsed().as_secs_f64();
            let (figures, how) = in_words(&sc, &f, &observed, &cuts, draws.len());
            let lines: Vec<String> = figures.iter().map(|x| narrative::forecast_line(&sc, x, &how)).collect();
            crate::publish::text_file(&mut out, "summary.md", &narrative::forecast(&sc, &figures, &how))?;
            write_json(
                &mut out,
                &Settings::new(&sc, &args, &plan, (1, draws.len()), used_threads, wall),
            )?;
            publish_folder(&mut out, &sc, "forecast", members)?;
            let warnings: Vec<String> = figures.iter().filter_map(narrative::misfit_sentence).collect();
            terminal(&sc, &f, &observed, &cuts, &lines, &warnings, wall)
        };
        let dest = out.commit()?;
        if !args.quiet && root() {
            say(
                &mut std::io::stdout().lock(),
                &format!("{text}\nTables in {}/\n", dest.display()),
            );
        }
        Ok(())
    })())
}

/// `summary.json`: what was asked and how long it took.
#[derive(Serialize)]
pub(super) struct Settings {
    scenario: String,
    scenario_sha256: String,
    observed: String,
    origins: usize,
    from: String,
    horizon_weeks: u32,
    members: usize,
    /// Draws of the uncertain inputs the members were spread over (1: the
    /// inputs at their values, with `--fixed-inputs` or none uncertain).
    input_draws: usize,
    fixed_inputs: bool,
    assimilate_weeks: u32,
    dispersion: String,
    resample_below: f64,
    seed: u64,
    version: &'static str,
    threads: usize,
    wall_s: f64,
}

impl Settings {
    fn new(
        sc: &Scenario,
        args: &ForecastArgs,
        plan: &Plan,
        (origins, draws): (usize, usize),
        threads: usize,
        wall: f64,
    ) -> Settings {
        Settings {
            scenario: args.scenario.display().to_string(),
            scenario_sha256: sc.about.sha256.clone(),
            observed: args.observed.display().to_string(),
            origins,
            from: sc.calendar.date_of(plan.origin).to_string(),
            horizon_weeks: args.horizon,
            members: plan.filter.members,
            input_draws: draws,
            fixed_inputs: args.fixed_inputs,
            assimilate_weeks: args.assimilate,
            dispersion: plan.filter.dispersion.to_string(),
            resample_below: plan.filter.resample_below,
            seed: sc.seed,
            version: env!("CARGO_PKG_VERSION"),
            threads,
            wall_s: (wall * 1000.0).round() / 1000.0,
        }
    }
}

pub(super) fn write_json(out: &mut OutDir, s: &Settings) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let mut f = out.file("summary.json")?;
    serde_json::to_writer_pretty(&mut f, s)?;
    writeln!(f)?;
    out.finish(f)?;
    Ok(())
}

/// `datapackage.json` (every table described), then `report.html`.
pub(super) fn publish_folder(
    out: &mut OutDir,
    sc: &Scenario,
    kind: &str,
    members: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let meta = crate::publish::Meta::new(kind, sc, sc.seed, members, None, crate::publish::Period::Week);
    crate::publish::datapackage::write(out, &meta)?;
    let tmp = out.tmp_path().to_path_buf();
    crate::report::render_into(&tmp, out)?;
    Ok(())
}

/// The figures of the plain-language lines: each series' `total` row of
/// `forecast.csv`, and how the forecast was made.
pub(super) fn in_words(
    sc: &Scenario,
    f: &Forecast,
    observed: &observed::Observed,
    cuts: &[Cut],
    draws: usize,
) -> (Vec<narrative::ForecastFigures>, narrative::ForecastHow) {
    let cal = sc.calendar;
    let how = narrative::ForecastHow {
        members: f.members.len(),
        draws,
        counts: f.used.len(),
        last_count: f
            .used
            .iter()
            .map(|&i| observed.obs[i].period.until)
            .max()
            .map(|d| cal.date_of(d)),
        branch: cal.date_of(f.branch),
        origin: cal.date_of(f.plan.origin),
        window_weeks: f.plan.window / 7,
        horizon_weeks: f.plan.horizon / 7,
        dispersion: f.plan.filter.dispersion,
        resample_below: f.plan.filter.resample_below,
    };
    let Some(total) = cuts.last() else {
        return (Vec::new(), how);
    };
    let figures = observed
        .series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let d = f.dist(observed, k, total.from, total.until);
            let counted: Vec<usize> = f
                .used
                .iter()
                .copied()
                .filter(|&i| observed.obs[i].series == k)
                .collect();
            let misses = counted
                .iter()
                .filter_map(|&i| {
                    let o = &observed.obs[i];
                    let fit = f.dist(observed, k, o.period.from, o.period.until);
                    let (lo, hi) = (fit.quantile(0.05), fit.quantile(0.95));
                    (o.value < lo || o.value > hi).then(|| (fout::period_label(&o.period, cal), o.value, lo, hi))
                })
                .collect();
            narrative::ForecastFigures {
                counted: counted.len(),
                misses,
                places: s.places.iter().map(|&p| sc.places[p as usize].id.clone()).collect(),
                metric: s.metric,
                from: cal.date_of(total.from),
                until: cal.date_of(total.until),
                q: forecast::QUANTILES.map(|q| d.quantile(q)),
            }
        })
        .collect();
    (figures, how)
}

pub(super) fn terminal(
    sc: &Scenario,
    f: &Forecast,
    observed: &observed::Observed,
    cuts: &[Cut],
    lines: &[String],
    warnings: &[String],
    wall: f64,
) -> String {
    let cal = sc.calendar;
    let w = f.weights();
    let mut s = format!(
        "{}: forecast from {} over {} weeks, {} members, {} counts assimilated from {} (effective members at the end: {:.1}), {:.1} s\n\n",
        sc.about.name,
        cal.date_of(f.plan.origin),
        f.plan.horizon / 7,
        f.members.len(),
        f.used.len(),
        cal.date_of(f.branch),
        filter::ess(&w),
        wall
    );
    for (k, series) in observed.series.iter().enumerate() {
        s += &format!("{} {}\n", series.label, series.metric.name());
        s += &format!(
            "  {:<10} {:>10} {:>10} {:>10}  {:>21}  {:>21}\n",
            "period", "from", "until", "median", "50% interval", "90% interval"
        );
        for c in cuts {
            let d = f.dist(observed, k, c.from, c.until);
            s += &format!(
                "  {:<10} {:>10} {:>10} {:>10}  {:>21}  {:>21}\n",
                c.label,
                cal.date_of(c.from).to_string(),
                cal.date_of(c.until).to_string(),
                d.quantile(0.5),
                format!("[{}, {}]", d.quantile(0.25), d.quantile(0.75)),
                format!("[{}, {}]", d.quantile(0.05), d.quantile(0.95))
            );
        }
        s.push('\n');
    }
    for l in lines {
        s += &format!("{l}\n");
    }
    for w in warnings {
        s += &format!("{}\n", w.replace("**", ""));
    }
    s
}
