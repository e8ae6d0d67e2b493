//! Forecasts from observed counts: an ensemble of members weighted by the
//! counts of the weeks before the forecast's origin (a particle filter),
//! run on to a horizon; and backtests that score such forecasts against
//! what followed, beside the persistence and seasonal naive baselines.
//!
//! Owns the plan of a forecast (which counts are assimilated, where the
//! members branch from a shared past, how far they run) and of a backtest
//! (the origins, the targets). The filter is `filter`, the counts file
//! `observed`, the statistics `score`, the tables `output`. Runs the engine
//! through its public API; must not change how it simulates.
//!
//! Members share the past: each input draw (a Latin hypercube draw of the
//! scenario's uncertain inputs, or the scenario itself) is run once, with the scenario's seed,
//! to the *branch day* — the first day of the earliest counted period
//! assimilated — and its state is the start of every member of that draw.
//! From there member m draws its days with seed `replicate_seed(seed, m)`
//! (member 0 is the scenario's own run), so only the assimilation window
//! and the horizon are run once per member.

pub mod filter;
pub mod observed;
pub mod output;
pub mod score;

use crate::engine::{Engine, EngineError, EngineState};
use crate::scenario::Scenario;
use filter::{Member, Stage};
use observed::Observed;
use score::Dist;

/// What a forecast is asked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// The first day forecast (the day after the last day whose counts may be known).
    pub origin: u32,
    /// Days forecast.
    pub horizon: u32,
    /// Counts of periods lying within this many days before the origin
    /// are assimilated.
    pub window: u32,
    /// The filter's settings.
    pub filter: filter::Settings,
}

/// The default assimilation window, days: eight weeks, enough for two
/// monthly counts or eight weekly ones, and short enough that a
/// 100-member forecast of a million people runs in under a minute.
pub const WINDOW_DAYS: u32 = 56;

/// A forecast made.
#[derive(Clone, Debug)]
pub struct Forecast {
    /// The plan.
    pub plan: Plan,
    /// The day members branched from the shared past.
    pub branch: u32,
    /// The members at the end, with their series from `branch` (their
    /// states dropped).
    pub members: Vec<Member>,
    /// The days counts were assimilated.
    pub stages: Vec<Stage>,
    /// The counts assimilated (indices of `Observed::obs`).
    pub used: Vec<usize>,
}

impl Forecast {
    /// The members' normalised weights.
    pub fn weights(&self) -> Vec<f64> {
        filter::weights(&self.members)
    }

    /// The last day run (exclusive).
    pub fn end(&self) -> u32 {
        self.plan.origin + self.plan.horizon
    }

    /// The members' simulated values of series `k` over `from..=until`
    /// with their weights.
    pub fn values(&self, observed: &Observed, k: usize, from: u32, until: u32) -> Vec<(f64, f64)> {
        let s = &observed.series[k];
        self.members
            .iter()
            .zip(self.weights())
            .map(|(m, w)| (m.value(s, k, from, until), w))
            .collect()
    }

    /// The predictive distribution of the count of series `k` over
    /// `from..=until` (which must lie within `branch..end`).
    pub fn dist(&self, observed: &Observed, k: usize, from: u32, until: u32) -> Dist {
        score::predictive(&self.values(observed, k, from, until), self.plan.filter.dispersion)
    }
}

/// The counts a forecast at `origin` assimilates: those of periods lying
/// within the `window` days before it (so members never run more than
/// the window and the horizon).
pub fn used(observed: &Observed, origin: u32, window: u32) -> Vec<usize> {
    (0..observed.obs.len())
        .filter(|&i| {
            let p = observed.obs[i].period;
            p.until < origin && p.from + window >= origin
        })
        .collect()
}

/// The shared past of each input draw, run once and handed out as states
/// on the days members branch (in increasing order, as a backtest asks).
pub struct SpinUp<'a> {
    draws: &'a [Scenario],
    states: Vec<Option<EngineState>>,
}

impl<'a> SpinUp<'a> {
    /// For these draws (each run with its own scenario's seed).
    pub fn new(draws: &'a [Scenario]) -> SpinUp<'a> {
        SpinUp {
            draws,
            states: vec![None; draws.len()],
        }
    }

    /// Every draw's state at the start of `day`.
    pub fn at(&mut self, day: u32) -> Result<Vec<EngineState>, EngineError> {
        let mut out = Vec::with_capacity(self.draws.len());
        for (d, sc) in self.draws.iter().enumerate() {
            let st = match self.states[d].take() {
                Some(s) if s.day <= day => s,
                _ => Engine::new(sc, sc.seed).take_state(),
            };
            let mut e = Engine::from_state(sc, st, false);
            while e.day() < day && !e.done() {
                e.step()?;
            }
            let st = e.take_state();
            out.push(st.clone());
            self.states[d] = Some(st);
        }
        Ok(out)
    }
}

/// Makes a forecast: the members branch from the shared past, assimilate
/// the counts of the window and run to the horizon. Runs on the current
/// rayon pool.
pub fn forecast(
    draws: &[Scenario],
    observed: &Observed,
    plan: &Plan,
    spin: &mut SpinUp,
) -> Result<Forecast, EngineError> {
    let used = used(observed, plan.origin, plan.window);
    let branch = used
        .iter()
        .map(|&i| observed.obs[i].period.from)
        .min()
        .unwrap_or(plan.origin)
        .min(plan.origin);
    let spun = spin.at(branch)?;
    let seed = draws.first().map(|s| s.seed).unwrap_or(0);
    let mut members = filter::start(&spun, plan.filter.members, seed);
    drop(spun);
    let stages = filter::assimilate(draws, &mut members, observed, &used, plan.origin, &plan.filter, seed)?;
    filter::advance(draws, &mut members, &observed.series, plan.origin + plan.horizon)?;
    for m in &mut members {
        m.state = None;
    }
    Ok(Forecast {
        plan: *plan,
        branch,
        members,
        stages,
        used,
    })
}

/// One target of a backtest: a count that followed a forecast's origin
/// within its horizon, with the forecast's and the baselines' figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// The forecast's origin.
    pub origin: u32,
    /// The count (index in `Observed::obs`).
    pub obs: usize,
    /// The count's value.
    pub observed: f64,
    /// The predictive mean.
    pub mean: f64,
    /// Its 5th, 25th, 50th, 75th and 95th percentiles.
    pub q: [f64; 5],
    /// The continuous ranked probability score.
    pub crps: f64,
    /// The persistence forecast, if the series was counted before.
    pub persistence: Option<f64>,
    /// The seasonal naive forecast, if the period was counted a year before.
    pub seasonal: Option<f64>,
}

/// The percentiles every table reports.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Makes a forecast at each origin, using only the counts before it, and
/// scores it against every count of a period within its horizon. Calls
/// `done` after each origin.
pub fn backtest(
    draws: &[Scenario],
    observed: &Observed,
    origins: &[u32],
    plan: &Plan,
    done: &dyn Fn(),
) -> Result<Vec<Scored>, EngineError> {
    let cal = draws[0].calendar;
    let mut spin = SpinUp::new(draws);
    let mut rows = Vec::new();
    for &origin in origins {
        let p = Plan { origin, ..*plan };
        let end = origin + plan.horizon;
        let targets: Vec<usize> = (0..observed.obs.len())
            .filter(|&i| {
                let o = &observed.obs[i].period;
                o.from >= origin && o.until < end
            })
            .collect();
        if targets.is_empty() {
            done();
            continue;
        }
        let f = forecast(draws, observed, &p, &mut spin)?;
        for i in targets {
            let o = &observed.obs[i];
            let d = f.dist(observed, o.series, o.period.from, o.period.until);
            rows.push(Scored {
                origin,
                obs: i,
                observed: o.value,
                mean: d.mean(),
                q: QUANTILES.map(|q| d.quantile(q)),
                crps: d.crps(o.value),
                persistence: score::persistence(observed, o, origin),
                seasonal: score::seasonal(observed, o, origin, cal),
            });
        }
        done();
    }
    Ok(rows)
}

/// The scores of one method over a group of targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The group (`all`, or the year the counted periods end).
    pub group: String,
    /// `model`, `persistence`, `seasonal naive`, or `model (same targets)`.
    pub method: String,
    /// Targets scored.
    pub n: usize,
    /// Mean absolute error (of the median for the model).
    pub mae: f64,
    /// Mean continuous ranked probability score.
    pub crps: f64,
    /// Share of targets within the 50 % interval (the model only).
    pub cover50: Option<f64>,
    /// Share of targets within the 90 % interval (the model only).
    pub cover90: Option<f64>,
}

/// Scores by method over all targets and by the year their periods end:
/// the model on every target; each baseline on the targets it can
/// forecast, beside the model on those same targets.
pub fn summarise(rows: &[Scored], observed: &Observed, cal: crate::time::Calendar) -> Vec<Summary> {
    use chrono::Datelike;
    let mut groups: Vec<(String, Vec<&Scored>)> = vec![("all".into(), rows.iter().collect())];
    let mut years: Vec<i32> = rows
        .iter()
        .map(|r| cal.date_of(observed.obs[r.obs].period.until).year())
        .collect();
    years.sort_unstable();
    years.dedup();
    if years.len() > 1 {
        for y in years {
            groups.push((
                y.to_string(),
                rows.iter()
                    .filter(|r| cal.date_of(observed.obs[r.obs].period.until).year() == y)
                    .collect(),
            ));
        }
    }
    let model = |g: &str, label: &str, v: &[&Scored]| Summary {
        group: g.to_string(),
        method: label.to_string(),
        n: v.len(),
        mae: mean(v.iter().map(|r| (r.q[2] - r.observed).abs())),
        crps: mean(v.iter().map(|r| r.crps)),
        cover50: Some(mean(
            v.iter()
                .map(|r| f64::from(u8::from(r.q[1] <= r.observed && r.observed <= r.q[3]))),
        )),
        cover90: Some(mean(
            v.iter()
                .map(|r| f64::from(u8::from(r.q[0] <= r.observed && r.observed <= r.q[4]))),
        )),
    };
    let mut out = Vec::new();
    for (g, v) in groups {
        if v.is_empty() {
            continue;
        }
        out.push(model(&g, "model", &v));
        for (name, pick) in [
            (
                "persistence",
                (|r: &Scored| r.persistence) as fn(&Scored) -> Option<f64>,
            ),
            ("seasonal naive", |r: &Scored| r.seasonal),
        ] {
            let with: Vec<&Scored> = v.iter().copied().filter(|r| pick(r).is_some()).collect();
            if with.is_empty() {
                continue;
            }
            let err = mean(with.iter().map(|r| (pick(r).unwrap_or(0.0) - r.observed).abs()));
            out.push(Summary {
                group: g.clone(),
                method: name.to_string(),
                n: with.len(),
                mae: err,
                crps: err,
                cover50: None,
                cover90: None,
            });
            out.push(model(&g, &format!("model, same {} targets", with.len()), &with));
        }
    }
    out
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}
