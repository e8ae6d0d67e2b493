//! One-at-a-time sensitivity: how much each uncertain input of a scenario
//! moves its headline figure, each input set to the low and to the high end
//! of its range with every other at its value.
//!
//! Owns the headline's reading from a replicate, the design of the runs
//! and `sensitivity.csv`. Runs replicates through `ensemble` (the same
//! seeds at every point: common random numbers, so the swing is paired);
//! must not change how anything simulates.

use crate::agents::{Event, State};
use crate::engine::{self, Col};
use crate::ensemble::{self, EnsembleError, Extra, Inputs, Replicate};
use crate::output::{OutDir, OutputError};
use crate::scenario::uncertain::{self, Uncertain};
use crate::scenario::{Headline, Scenario};
use crate::stats::{half_width, stats, Stats};
use crate::table::table_err;

/// The headline figure of one replicate: a places.csv column summed over
/// its places and the run (`present`: averaged over the days), people in a
/// state at the end, or person-events over the run.
pub fn headline_value(h: &Headline, r: &Replicate) -> f64 {
    if let Some(c) = Col::ALL.iter().find(|c| c.name() == h.metric) {
        let sum: u64 = h.places.iter().map(|&p| r.total(p as usize, *c)).sum();
        return if *c == Col::Present {
            sum as f64 / r.daily.len().max(1) as f64
        } else {
            sum as f64
        };
    }
    if let Some(s) = State::ALL.iter().find(|s| s.name() == h.metric) {
        return r.result.states[*s as usize] as f64;
    }
    if let Some(e) = Event::ALL.iter().find(|e| e.name() == h.metric) {
        return r.result.events.iter().map(|c| c[*e as usize][0]).sum::<u64>() as f64;
    }
    f64::NAN
}

/// One input's line of the table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The input.
    pub input: Uncertain,
    /// The headline with the input at the low end of its range.
    pub at_low: Stats,
    /// … at the high end.
    pub at_high: Stats,
    /// Mean paired difference, high − low.
    pub swing: f64,
    /// 95 % interval of the swing (t, paired over replicates).
    pub swing_lo: f64,
    /// Upper end.
    pub swing_hi: f64,
}

/// A one-at-a-time sensitivity analysis.
#[derive(Clone, Debug)]
pub struct Sensitivity {
    /// The headline, as written.
    pub headline: String,
    /// The headline with every input at its value.
    pub base: Stats,
    /// One row per input, largest |swing| first.
    pub rows: Vec<Row>,
    /// Replicates at each point.
    pub replicates: usize,
}

/// Runs the analysis: `n` replicates with every input at its value, then,
/// for each input, `n` at the low and `n` at the high end of its range;
/// replicate k uses the same seed at every point. `on_done` is called per
/// replicate run ((2 × inputs + 1) × n in all).
pub fn run(
    sc: &Scenario,
    headline: &Headline,
    n: usize,
    threads: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Sensitivity, EnsembleError> {
    let extra = Extra {
        inputs: Inputs::Fixed,
        ..Extra::default()
    };
    let values = |s: &Scenario| -> Result<Vec<f64>, EnsembleError> {
        let reps = ensemble::replicates_with(s, n, threads, None, on_done, &engine::Local, &extra)?;
        Ok(reps.iter().map(|r| headline_value(headline, r)).collect())
    };
    let base = values(sc)?;
    let mut rows = Vec::new();
    for (i, u) in uncertain::inputs(sc).iter().enumerate() {
        let lo = values(&uncertain::one_at(sc, i, u.low)?)?;
        let hi = values(&uncertain::one_at(sc, i, u.high)?)?;
        let d: Vec<f64> = hi.iter().zip(&lo).map(|(h, l)| h - l).collect();
        let sd = stats(&d);
        let half = half_width(sd.sd, n);
        rows.push(Row {
            input: u.clone(),
            at_low: stats(&lo),
            at_high: stats(&hi),
            swing: sd.mean,
            swing_lo: sd.mean - half,
            swing_hi: sd.mean + half,
        });
    }
    rows.sort_by(|a, b| b.swing.abs().total_cmp(&a.swing.abs()));
    Ok(Sensitivity {
        headline: headline.text.clone(),
        base: stats(&base),
        rows,
        replicates: n,
    })
}

/// Writes `sensitivity.csv`: one row per input, largest swing first.
pub fn write(out: &mut OutDir, s: &Sensitivity) -> Result<(), OutputError> {
    let e = table_err("sensitivity.csv");
    let mut t = out.table(
        "sensitivity.csv",
        [
            "input",
            "line",
            "dist",
            "low",
            "value",
            "high",
            "headline",
            "headline_at_low",
            "headline_at_value",
            "headline_at_high",
            "swing",
            "swing_lo95",
            "swing_hi95",
        ],
    )?;
    for r in &s.rows {
        let u = &r.input;
        t.cell(&u.path)
            .cell(u.line)
            .cell(u.dist.name())
            .cell(u.low)
            .cell(u.value)
            .cell(u.high)
            .cell(&s.headline);
        for x in [
            r.at_low.mean,
            s.base.mean,
            r.at_high.mean,
            r.swing,
            r.swing_lo,
            r.swing_hi,
        ] {
            t.cell(format_args!("{x:.3}"));
        }
        t.end_row().map_err(&e)?;
    }
    out.finish_table(t)
}

/// The table as Markdown (what `northbound sensitivity` prints, and what
/// docs/scenarios.md shows).
pub fn render(s: &Sensitivity) -> String {
    let mut o = format!(
        "headline `{}`: {:.1} with every input at its value (mean of {} replicates)\n\n",
        s.headline, s.base.mean, s.replicates
    );
    o += "| uncertain input | range | at low | at high | swing (high − low) | 95 % interval |\n";
    o += "|---|---|---:|---:|---:|---|\n";
    for r in &s.rows {
        o += &format!(
            "| `{}` (line {}) | {} | {:.1} | {:.1} | {:+.1} | [{:+.1}, {:+.1}] |\n",
            r.input.path,
            r.input.line,
            r.input.describe(),
            r.at_low.mean,
            r.at_high.mean,
            r.swing,
            r.swing_lo,
            r.swing_hi
        );
    }
    if s.rows.is_empty() {
        o += "| (the scenario has no uncertain inputs) | | | | | |\n";
    }
    o
}
