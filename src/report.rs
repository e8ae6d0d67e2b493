//! `report.html`: one self-contained page with charts a person can read,
//! rendered from the tables in a run folder.
//!
//! Owns the page and its charts (plotters, SVG inlined: no scripts, no
//! fonts or styles fetched). Reads only the tables a run, an ensemble or a
//! comparison wrote, so `northbound report DIR` re-renders any of them.
//! Must not simulate.

use crate::output::{OutDir, OutputError};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A table could not be read.
    #[error("{path}: {reason}")]
    Table {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The folder holds no tables to report on.
    #[error("{0}: no places.csv, places_summary.csv or comparison.csv; is it a northbound output folder?")]
    Empty(PathBuf),
    /// Writing failed.
    #[error("{0}")]
    Output(#[from] OutputError),
    /// A chart failed to render.
    #[error("chart: {0}")]
    Chart(String),
}

fn table(path: &Path) -> Result<Option<Vec<BTreeMap<String, String>>>, ReportError> {
    if !path.exists() {
        return Ok(None);
    }
    let err = |e: csv::Error| ReportError::Table {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    let headers = r.headers().map_err(err)?.clone();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(err)?;
        rows.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(Some(rows))
}

fn num(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row.get(key).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
}

/// A daily series with an optional band.
struct Series {
    name: String,
    /// (day, mean, lo, hi)
    points: Vec<(u32, f64, f64, f64)>,
}

/// One leg on the map: its ends (lon, lat), its flow and its ends' ids.
struct RouteLine {
    from: (f64, f64),
    to: (f64, f64),
    people: f64,
    from_id: String,
    to_id: String,
}

/// Everything the page shows, read from tables.
#[derive(Default)]
struct Data {
    title: String,
    subtitle: String,
    headline: Vec<(String, f64)>,
    arrivals: Vec<Series>,
    first_date: String,
    outcomes: Vec<(String, Vec<(String, f64)>)>,
    routes: Vec<RouteLine>,
    comparison: Vec<BTreeMap<String, String>>,
    notes: Vec<String>,
}

const STATES: [&str; 10] = [
    "not_departed",
    "travelling",
    "waiting",
    "claimed_mx",
    "claimed_us",
    "claimed_ca",
    "entered_lawfully",
    "settled_irregular",
    "returned_home",
    "died_or_missing",
];

fn read(dir: &Path) -> Result<Data, ReportError> {
    // A folder still being written is `.<name>.partial-<pid>`: title it <name>.
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match name.strip_prefix('.').and_then(|n| n.rsplit_once(".partial-")) {
        Some((base, _)) => base.to_string(),
        None => name,
    };
    let mut d = Data {
        title: name,
        ..Data::default()
    };
    if let Ok(text) = std::fs::read_to_string(dir.join("summary.json")) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            d.title = v["scenario"]["name"].as_str().unwrap_or(&d.title).to_string();
            d.subtitle = format!(
                "{} people in {} groups over {} days, seed {}",
                v["people"], v["agents"], v["days"], v["seed"]
            );
        }
    }
    // Places over time: the summary of replicates, or one run.
    let summary = table(&dir.join("places_summary.csv"))?;
    let single = if summary.is_none() {
        table(&dir.join("places.csv"))?
    } else {
        None
    };
    let mut by_place: BTreeMap<String, Vec<(u32, f64, f64, f64)>> = BTreeMap::new();
    let mut kinds: BTreeMap<String, f64> = BTreeMap::new();
    if let Some(rows) = &summary {
        for r in rows
            .iter()
            .filter(|r| r.get("metric").map(String::as_str) == Some("arrived"))
        {
            let p = r.get("place").cloned().unwrap_or_default();
            if d.first_date.is_empty() {
                d.first_date = r.get("date").cloned().unwrap_or_default();
            }
            by_place.entry(p.clone()).or_default().push((
                num(r, "day") as u32,
                num(r, "mean"),
                num(r, "lo95"),
                num(r, "hi95"),
            ));
            *kinds.entry(p).or_default() += num(r, "mean");
        }
        d.notes.push("Bands: 2.5th–97.5th percentiles over replicates.".into());
    } else if let Some(rows) = &single {
        for r in rows {
            let p = r.get("place").cloned().unwrap_or_default();
            if d.first_date.is_empty() {
                d.first_date = r.get("date").cloned().unwrap_or_default();
            }
            let x = num(r, "arrived");
            by_place
                .entry(p.clone())
                .or_default()
                .push((num(r, "day") as u32, x, x, x));
            *kinds.entry(p).or_default() += x;
        }
    }
    let mut ranked: Vec<(String, f64)> = kinds.into_iter().filter(|(_, v)| *v > 0.0).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (p, _) in ranked.into_iter().take(6) {
        let pts = weekly(by_place.remove(&p).unwrap_or_default());
        d.arrivals.push(Series { name: p, points: pts });
    }
    // Outcomes by cohort.
    let outcomes = match table(&dir.join("outcomes_summary.csv"))? {
        Some(rows) => Some((rows, "mean")),
        None => table(&dir.join("outcomes.csv"))?.map(|r| (r, "people")),
    };
    if let Some((rows, col)) = outcomes {
        let mut by: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
        let mut order = Vec::new();
        let mut totals: BTreeMap<String, f64> = BTreeMap::new();
        for r in &rows {
            let c = r.get("cohort").cloned().unwrap_or_default();
            if !by.contains_key(&c) {
                order.push(c.clone());
            }
            let st = r.get("outcome").cloned().unwrap_or_default();
            let x = num(r, col);
            *totals.entry(st.clone()).or_default() += x;
            by.entry(c).or_default().push((st, x));
        }
        for c in order {
            let v = by.remove(&c).unwrap_or_default();
            d.outcomes.push((c, v));
        }
        for s in STATES {
            let x = totals.get(s).copied().unwrap_or(0.0);
            if x > 0.0 {
                d.headline.push((s.to_string(), x));
            }
        }
    }
    // The map: this folder's routes, or the first replicate's.
    let routes = match table(&dir.join("routes.csv"))? {
        Some(r) => Some(r),
        None => table(&dir.join("replicate-0").join("routes.csv"))?,
    };
    if let Some(rows) = routes {
        for r in rows {
            d.routes.push(RouteLine {
                from: (num(&r, "from_lon"), num(&r, "from_lat")),
                to: (num(&r, "to_lon"), num(&r, "to_lat")),
                people: num(&r, "people"),
                from_id: r.get("from").cloned().unwrap_or_default(),
                to_id: r.get("to").cloned().unwrap_or_default(),
            });
        }
    }
    if let Some(rows) = table(&dir.join("comparison.csv"))? {
        d.comparison = rows;
        d.notes.push("Differences: mean of paired differences (variant − base) over replicates with the same seeds, with a 95 % confidence interval (t).".into());
    }
    // A run where nobody reached anywhere is still a run: only a folder
    // without any of the tables is refused.
    if summary.is_none() && single.is_none() && d.comparison.is_empty() {
        return Err(ReportError::Empty(dir.to_path_buf()));
    }
    Ok(d)
}

/// Daily points summed into weeks (bands summed too: a rough band for the week).
fn weekly(mut pts: Vec<(u32, f64, f64, f64)>) -> Vec<(u32, f64, f64, f64)> {
    pts.sort_by_key(|p| p.0);
    let mut out: Vec<(u32, f64, f64, f64)> = Vec::new();
    for (day, m, lo, hi) in pts {
        let w = day / 7 * 7;
        match out.last_mut() {
            Some(last) if last.0 == w => {
                last.1 += m;
                last.2 += lo;
                last.3 += hi;
            }
            _ => out.push((w, m, lo, hi)),
        }
    }
    out
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn chart_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Chart(e.to_string())
}

fn arrivals_svg(d: &Data) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let max_x = d
            .arrivals
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .max()
            .unwrap_or(7)
            + 7;
        let max_y = d
            .arrivals
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.3.max(p.1)))
            .fold(1.0, f64::max)
            * 1.05;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("People arriving per week (from {})", d.first_date),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0u32..max_x, 0f64..max_y)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("day of the run")
            .y_desc("people per week")
            .draw()
            .map_err(chart_err)?;
        for (i, s) in d.arrivals.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let band: Vec<(u32, f64)> = s
                .points
                .iter()
                .map(|p| (p.0, p.3))
                .chain(s.points.iter().rev().map(|p| (p.0, p.2)))
                .collect();
            if s.points.iter().any(|p| p.3 > p.2) {
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(0.2))))
                    .map_err(chart_err)?;
            }
            chart
                .draw_series(LineSeries::new(s.points.iter().map(|p| (p.0, p.1)), c.stroke_width(2)))
                .map_err(chart_err)?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

fn outcomes_svg(d: &Data) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let n = d.outcomes.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (900, 120 + 34 * n)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let max_x = d
            .outcomes
            .iter()
            .map(|(_, v)| v.iter().map(|x| x.1).sum::<f64>())
            .fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(&root)
            .caption("Where each cohort ended (people)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(140)
            .build_cartesian_2d(0f64..max_x * 1.02, 0u32..n)
            .map_err(chart_err)?;
        let names: Vec<String> = d.outcomes.iter().map(|(c, _)| c.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize + 1)
            .y_label_formatter(&|y| names.get(*y as usize).cloned().unwrap_or_default())
            .draw()
            .map_err(chart_err)?;
        for (si, st) in STATES.iter().enumerate() {
            let c = PALETTE[si % PALETTE.len()];
            let mut bars = Vec::new();
            for (ci, (_, v)) in d.outcomes.iter().enumerate() {
                let before: f64 = v.iter().take_while(|x| x.0 != *st).map(|x| x.1).sum();
                let w = v.iter().find(|x| x.0 == *st).map(|x| x.1).unwrap_or(0.0);
                if w > 0.0 {
                    bars.push(Rectangle::new(
                        [(before, ci as u32), (before + w, ci as u32 + 1)],
                        c.mix(0.85).filled(),
                    ));
                }
            }
            if !bars.is_empty() {
                chart
                    .draw_series(bars)
                    .map_err(chart_err)?
                    .label(st.to_string())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

fn map_svg(d: &Data) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let xs = d.routes.iter().flat_map(|r| [r.from.0, r.to.0]);
        let ys = d.routes.iter().flat_map(|r| [r.from.1, r.to.1]);
        let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let (y0, y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
        let pad = |a: f64, b: f64| ((b - a) * 0.08).max(0.5);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "The graph: places by longitude and latitude; line width ∝ people who travelled the route",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d(
                (x0 - pad(x0, x1))..(x1 + pad(x0, x1)),
                (y0 - pad(y0, y1))..(y1 + pad(y0, y1)),
            )
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .x_desc("longitude")
            .y_desc("latitude")
            .light_line_style(WHITE)
            .draw()
            .map_err(chart_err)?;
        let max_flow = d.routes.iter().map(|r| r.people).fold(1.0, f64::max);
        for r in &d.routes {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![r.from, r.to],
                    RGBColor(200, 200, 200).stroke_width(1),
                )))
                .map_err(chart_err)?;
        }
        for r in d.routes.iter().filter(|r| r.people > 0.0) {
            let w = (1.0 + 11.0 * (r.people / max_flow).sqrt()).round() as u32;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![r.from, r.to],
                    PALETTE[0].mix(0.7).stroke_width(w),
                )))
                .map_err(chart_err)?;
        }
        let mut places: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for r in &d.routes {
            places.insert(r.from_id.clone(), r.from);
            places.insert(r.to_id.clone(), r.to);
        }
        for (name, p) in &places {
            chart
                .draw_series(std::iter::once(Circle::new(*p, 4, BLACK.filled())))
                .map_err(chart_err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    name.clone(),
                    (p.0, p.1),
                    ("sans-serif", 11).into_font(),
                )))
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

fn comparison_svg(d: &Data) -> Result<String, ReportError> {
    let rows: Vec<&BTreeMap<String, String>> = d
        .comparison
        .iter()
        .filter(|r| r.get("place").map(|p| p.is_empty()).unwrap_or(true))
        .filter(|r| num(r, "base") != 0.0 || num(r, "mean") != 0.0)
        .collect();
    let mut svg = String::new();
    {
        let n = rows.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (900, 100 + 26 * n)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let lo = rows
            .iter()
            .map(|r| num(r, "diff_lo95").min(num(r, "diff")))
            .fold(0.0, f64::min);
        let hi = rows
            .iter()
            .map(|r| num(r, "diff_hi95").max(num(r, "diff")))
            .fold(0.0, f64::max);
        let span = (hi - lo).max(1.0) * 0.08;
        let labels: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{}: {}",
                    r.get("variant").cloned().unwrap_or_default(),
                    r.get("metric").cloned().unwrap_or_default()
                )
            })
            .collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Variant − base: people per final state (mean and 95% interval)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(240)
            .build_cartesian_2d((lo - span)..(hi + span), 0u32..n)
            .map_err(chart_err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize + 1)
            .y_label_formatter(&|y| labels.get(*y as usize).cloned().unwrap_or_default())
            .draw()
            .map_err(chart_err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0), (0.0, n)],
                BLACK.stroke_width(1),
            )))
            .map_err(chart_err)?;
        for (i, r) in rows.iter().enumerate() {
            let y = i as u32;
            let c = if num(r, "diff") < 0.0 { PALETTE[3] } else { PALETTE[2] };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y), (num(r, "diff"), y + 1)],
                    c.mix(0.5).filled(),
                )))
                .map_err(chart_err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(num(r, "diff_lo95"), y), (num(r, "diff_hi95"), y)],
                    BLACK.stroke_width(2),
                )))
                .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn page(d: &Data) -> Result<String, ReportError> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} — northbound</title>\n<style>body{{font-family:sans-serif;max-width:960px;margin:24px auto;color:#222}}h1{{margin-bottom:0}}.sub{{color:#666}}table{{border-collapse:collapse;margin:12px 0}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}}td:first-child,th:first-child{{text-align:left}}figure{{margin:18px 0}}.note{{color:#666;font-size:90%}}</style></head><body>\n<h1>{t}</h1><p class=\"sub\">{s}</p>\n",
        t = esc(&d.title),
        s = esc(&d.subtitle)
    );
    if !d.headline.is_empty() {
        h += "<h2>Where people ended</h2><table><tr><th>state</th><th>people</th></tr>";
        for (name, x) in &d.headline {
            let _ = write!(h, "<tr><td>{}</td><td>{:.0}</td></tr>", esc(name), x);
        }
        h += "</table>\n";
    }
    if !d.arrivals.is_empty() {
        let _ = writeln!(h, "<figure>{}</figure>", arrivals_svg(d)?);
    }
    if !d.outcomes.is_empty() {
        let _ = writeln!(h, "<figure>{}</figure>", outcomes_svg(d)?);
    }
    if !d.routes.is_empty() {
        let _ = writeln!(h, "<figure>{}</figure>", map_svg(d)?);
    }
    if !d.comparison.is_empty() {
        h += "<h2>Comparison with the base</h2>";
        let _ = writeln!(h, "<figure>{}</figure>", comparison_svg(d)?);
        h += "<table><tr><th>variant</th><th>metric</th><th>place</th><th>base</th><th>variant</th><th>difference</th><th>95% interval</th></tr>";
        for r in d
            .comparison
            .iter()
            .filter(|r| r.get("place").map(|p| p.is_empty()).unwrap_or(true))
        {
            let g = |k: &str| r.get(k).cloned().unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:+.1}</td><td>[{:+.1}, {:+.1}]</td></tr>",
                esc(&g("variant")),
                esc(&g("metric")),
                esc(&g("place")),
                num(r, "base"),
                num(r, "mean"),
                num(r, "diff"),
                num(r, "diff_lo95"),
                num(r, "diff_hi95")
            );
        }
        h += "</table>\n";
    }
    for n in &d.notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    h += "<p class=\"note\">Made by northbound from the tables in this folder; <code>northbound report DIR</code> renders it again.</p>\n</body></html>\n";
    Ok(h)
}

/// Renders `report.html` from the tables in `dir` into `out` (which may be
/// the same folder, still being written).
pub fn render_into(dir: &Path, out: &mut OutDir) -> Result<(), ReportError> {
    let html = page(&read(dir)?)?;
    let mut f = out.file("report.html")?;
    f.write_all(html.as_bytes()).map_err(|e| OutputError::Io {
        path: "report.html".into(),
        source: e,
    })?;
    out.finish(f)?;
    Ok(())
}

/// Re-renders `DIR/report.html` from the tables in `DIR`.
pub fn render_dir(dir: &Path) -> Result<PathBuf, ReportError> {
    let html = page(&read(dir)?)?;
    let path = dir.join("report.html");
    let tmp = dir.join(format!(".report.html.tmp-{}", std::process::id()));
    let io = |e: std::io::Error| {
        ReportError::Output(OutputError::Io {
            path: path.clone(),
            source: e,
        })
    };
    std::fs::write(&tmp, html).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(path)
}
