//! `report.html` of a `flee` run or validation: each camp's simulated
//! population against the observed one, day by day.
//!
//! Owns what the page says: the averaged relative difference per camp and
//! one chart per camp. The page is the one skeleton of `report::page` and
//! the charts are `report::chart`'s line charts (drawn for a desktop and a
//! phone), so a flee report looks and reads like every other. Everything it
//! shows is in the `out.csv` tables beside it. Must not run or score
//! anything.

use super::data::Scored;
use crate::output::{OutDir, OutputError};
use crate::report::chart::{Header, LineChart, Series, XAxis};
use crate::report::page::{figure, table_html, Page, NARROW, WIDE};
use std::io::Write as _;

/// One camp's chart: the mean of the replicates, their range as a band,
/// and the observations, in people.
fn camp_chart(context: &str, name: &str, c: usize, runs: &[Scored], per: f64) -> String {
    let days = runs[0].sim.len();
    let simulated = (0..days)
        .map(|t| {
            let v: Vec<f64> = runs.iter().map(|r| r.sim[t][c] * per).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            (t as f64, mean, (runs.len() > 1).then_some((lo, hi)))
        })
        .collect();
    let observed = (0..days).map(|t| (t as f64, runs[0].data[t][c] * per, None)).collect();
    let band = if runs.len() > 1 {
        format!("mean of {} replicates; band: lowest to highest of them", runs.len())
    } else {
        "one run".to_string()
    };
    let chart = LineChart {
        header: Header {
            title: name.to_string(),
            lines: vec![
                context.to_string(),
                format!("People in the camp at the end of each day. Simulated: {band}. Observed: UNHCR counts, interpolated between dates."),
            ],
        },
        x: XAxis::Numbers {
            label: "day of the run".into(),
        },
        series: vec![
            Series {
                name: "simulated".into(),
                color: 0,
                dashed: false,
                points: simulated,
            },
            Series {
                name: "observed".into(),
                color: 1,
                dashed: false,
                points: observed,
            },
        ],
        marks: vec![],
        shade: None,
        notes: vec![],
    };
    figure(chart.svg(WIDE), chart.svg(NARROW))
}

/// The averaged relative difference per camp and in total, means over the
/// replicates.
fn ard_table(runs: &[Scored]) -> String {
    let ards: Vec<_> = runs.iter().map(|r| r.ard()).collect();
    let n = ards.len() as f64;
    let mean = |f: &dyn Fn(&super::data::Ard) -> f64| format!("{:.3}", ards.iter().map(f).sum::<f64>() / n);
    let mut rows: Vec<Vec<String>> = runs[0]
        .camps
        .iter()
        .enumerate()
        .map(|(c, name)| vec![name.clone(), mean(&|a| a.camps[c]), mean(&|a| a.camps_rescaled[c])])
        .collect();
    rows.push(vec!["total".into(), mean(&|a| a.total), mean(&|a| a.rescaled)]);
    table_html(&["camp", "plain", "rescaled"], &rows)
}

/// Writes `report.html` for the scored replicates `runs` (at least one).
pub fn write(out: &mut OutDir, title: &str, subtitle: &str, runs: &[Scored], per: f64) -> Result<(), OutputError> {
    let n = runs.len();
    let context = format!("{title} · {n} replicate{}", if n == 1 { "" } else { "s" });
    let mut body = String::from("<h2>Averaged relative difference</h2>\n");
    body += &ard_table(runs);
    body += "<h2>Camps</h2>\n";
    for (c, name) in runs[0].camps.iter().enumerate() {
        body += &camp_chart(&context, name, c, runs, per);
    }
    let about = format!(
        "Made by northbound from the same numbers as <code>out.csv</code> beside this page, which holds them in \
         Flee's units (agents; each stands for {per} people); {n} replicate(s). Every chart is drawn for a wide \
         screen and for a phone."
    );
    let html = Page {
        title,
        sub: subtitle,
        body: &body,
        about: &about,
    }
    .html();
    super::output::table(out, "report.html", |f| f.write_all(html.as_bytes()))
}
