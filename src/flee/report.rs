//! `report.html` of a `flee` run or validation: each camp's simulated
//! population against the observed one, day by day.
//!
//! Owns the page and its charts (plotters SVG, inlined: no scripts, no
//! fetches). Everything it shows is in the `out.csv` tables beside it. Must
//! not run or score anything.

use super::data::Scored;
use crate::output::{OutDir, OutputError};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::io::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn chart_err<E: std::fmt::Display>(e: E) -> OutputError {
    OutputError::Io {
        path: "report.html".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// One camp's chart: the mean of the replicates, their range as a band,
/// and the observations, in people.
fn camp_svg(name: &str, c: usize, runs: &[Scored], per: f64) -> Result<String, OutputError> {
    let days = runs[0].sim.len() as u32;
    let stat = |t: usize| {
        let v: Vec<f64> = runs.iter().map(|r| r.sim[t][c] * per).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        (mean, lo, hi)
    };
    let pts: Vec<(u32, (f64, f64, f64), f64)> = (0..days as usize)
        .map(|t| (t as u32, stat(t), runs[0].data[t][c] * per))
        .collect();
    let max_y = pts.iter().map(|p| p.1 .2.max(p.2)).fold(1.0, f64::max) * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (460, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(name, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0u32..days.max(2), 0f64..max_y)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("day")
            .y_labels(5)
            .x_labels(6)
            .draw()
            .map_err(chart_err)?;
        let sim = RGBColor(31, 119, 180);
        let obs = RGBColor(214, 39, 40);
        if runs.len() > 1 {
            let band: Vec<(u32, f64)> = pts
                .iter()
                .map(|p| (p.0, p.1 .2))
                .chain(pts.iter().rev().map(|p| (p.0, p.1 .1)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, sim.mix(0.25))))
                .map_err(chart_err)?;
        }
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1 .0)), sim.stroke_width(2)))
            .map_err(chart_err)?;
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.2)), obs.stroke_width(2)))
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Writes `report.html` for the scored replicates `runs` (at least one).
pub fn write(out: &mut OutDir, title: &str, subtitle: &str, runs: &[Scored], per: f64) -> Result<(), OutputError> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} — northbound</title>\n<style>body{{font-family:sans-serif;max-width:980px;margin:24px auto;color:#222}}.sub,.note{{color:#666}}table{{border-collapse:collapse;margin:12px 0}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}}td:first-child,th:first-child{{text-align:left}}figure{{display:inline-block;margin:4px}}</style></head><body>\n<h1>{t}</h1><p class=\"sub\">{s}</p>\n",
        t = esc(title),
        s = esc(subtitle)
    );
    let ards: Vec<_> = runs.iter().map(|r| r.ard()).collect();
    let n = ards.len() as f64;
    h += "<h2>Averaged relative difference</h2><table><tr><th>camp</th><th>plain</th><th>rescaled</th></tr>";
    for (c, name) in runs[0].camps.iter().enumerate() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            esc(name),
            ards.iter().map(|a| a.camps[c]).sum::<f64>() / n,
            ards.iter().map(|a| a.camps_rescaled[c]).sum::<f64>() / n
        );
    }
    let _ = write!(
        h,
        "<tr><th>total</th><th>{:.3}</th><th>{:.3}</th></tr></table>\n<h2>Camps</h2>\n<p><span style=\"color:#1f77b4\">&#9644; simulated</span> (mean of the replicates, their range shaded) &nbsp; <span style=\"color:#d62728\">&#9644; observed</span> (UNHCR, interpolated), people at the end of each day</p>\n",
        ards.iter().map(|a| a.total).sum::<f64>() / n,
        ards.iter().map(|a| a.rescaled).sum::<f64>() / n
    );
    for (c, name) in runs[0].camps.iter().enumerate() {
        let _ = writeln!(h, "<figure>{}</figure>", camp_svg(name, c, runs, per)?);
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">{} replicate(s). The numbers are in out.csv beside this page, in Flee's units (agents; \
         each stands for {per} people).</p>\n</body></html>",
        runs.len()
    );
    super::output::table(out, "report.html", |f| f.write_all(h.as_bytes()))
}
