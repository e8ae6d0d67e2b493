//! The report's charts: lines with bands over dates or over a parameter,
//! horizontal bars with intervals, and stacked bars.
//!
//! Owns their layout: a title that says what is shown, a subtitle with the
//! scenario, runs, scale and units, a legend above the data (never on it),
//! labels placed without overlap, and every time axis in calendar dates
//! with lettered marks where policies open and close. Each chart is drawn
//! for a width (the page draws a wide and a narrow one) in SVG units that
//! scale with the page (`viewBox`). Bars and their labels share one row
//! centre, and carry `data-row` so tests can check it. Must not read files.

use super::svg::{
    fit, nice_ticks, path_d, text_box, text_width, tick_label, wrap, Anchor, Boxes, Rect, Svg, Text, PALETTE,
};
use crate::publish::words;
use chrono::{Datelike, NaiveDate};
use std::fmt::Write as _;

const PAD: f64 = 12.0;

/// A chart's title and the lines under it.
#[derive(Clone, Debug, Default)]
pub struct Header {
    /// What the chart shows.
    pub title: String,
    /// Scenario, runs, scale, units, what the band is.
    pub lines: Vec<String>,
}

pub(super) fn draw_header(svg: &mut Svg, boxes: &mut Boxes, h: &Header, y: f64) -> f64 {
    let w = svg.width();
    let mut y = y;
    for l in wrap(&h.title, 15.0, w - 2.0 * PAD, true) {
        y += 10.0;
        let b = svg.text(
            PAD,
            y,
            &l,
            &Text {
                size: 15.0,
                bold: true,
                class: "title",
                ..Text::default()
            },
        );
        boxes.add(b);
        y += 10.0;
    }
    y += 2.0;
    let y = grey_lines(svg, boxes, &h.lines, y, 11.5, 8.0, "subtitle");
    y + 4.0
}

/// A legend entry: a name and how its series is drawn.
pub struct Key {
    /// Its name.
    pub name: String,
    /// Its colour.
    pub color: String,
    /// `line`, `dash`, `box` or `band`.
    pub swatch: &'static str,
}

/// Draws legend entries in rows from the left; returns the y below them.
fn draw_legend(svg: &mut Svg, boxes: &mut Boxes, keys: &[Key], y: f64) -> f64 {
    if keys.is_empty() {
        return y;
    }
    let w = svg.width();
    let (size, sw, gap) = (12.0, 20.0, 16.0);
    let mut x = PAD;
    let mut cy = y + 9.0;
    for k in keys {
        let name = fit(&k.name, size, w - 2.0 * PAD - sw - 6.0, false);
        let need = sw + 6.0 + text_width(&name, size);
        if x > PAD && x + need > w - PAD {
            x = PAD;
            cy += 18.0;
        }
        match k.swatch {
            "box" => {
                svg.rect(
                    Rect {
                        x0: x + 3.0,
                        y0: cy - 6.0,
                        x1: x + sw - 3.0,
                        y1: cy + 6.0,
                    },
                    &format!("fill=\"{}\"", k.color),
                );
            }
            "band" => {
                svg.rect(
                    Rect {
                        x0: x,
                        y0: cy - 6.0,
                        x1: x + sw,
                        y1: cy + 6.0,
                    },
                    &format!("fill=\"{}\" fill-opacity=\"0.18\"", k.color),
                );
                svg.line(
                    x,
                    cy,
                    x + sw,
                    cy,
                    &format!("stroke=\"{}\" stroke-width=\"2.5\"", k.color),
                );
            }
            "dash" => svg.line(
                x,
                cy,
                x + sw,
                cy,
                &format!("stroke=\"{}\" stroke-width=\"2.5\" stroke-dasharray=\"5 3\"", k.color),
            ),
            _ => svg.line(
                x,
                cy,
                x + sw,
                cy,
                &format!("stroke=\"{}\" stroke-width=\"2.5\"", k.color),
            ),
        };
        let b = svg.text(
            x + sw + 6.0,
            cy,
            &name,
            &Text {
                size,
                class: "legend",
                ..Text::default()
            },
        );
        boxes.add(b);
        x += need + gap;
    }
    cy + 12.0
}

/// A chart's start: its SVG `w` units wide (`attrs` on the root), the
/// header and the legend; returns the y below them.
pub(super) fn begin(w: f64, header: &Header, attrs: &str, keys: &[Key]) -> (Svg, Boxes, f64) {
    let mut svg = Svg::new(w, &header.title, attrs);
    let mut boxes = Boxes::default();
    let y = draw_header(&mut svg, &mut boxes, header, PAD - 4.0);
    let y = draw_legend(&mut svg, &mut boxes, keys, y);
    (svg, boxes, y)
}

/// Lines of small grey text (notes, keys); returns the y below them.
pub(super) fn draw_notes(svg: &mut Svg, boxes: &mut Boxes, notes: &[String], y: f64, class: &str) -> f64 {
    grey_lines(svg, boxes, notes, y, 11.0, 7.5, class)
}

/// Texts in grey, each wrapped to the chart's width, lines `2 × half`
/// apart; returns the y below them.
fn grey_lines(svg: &mut Svg, boxes: &mut Boxes, texts: &[String], y: f64, size: f64, half: f64, class: &str) -> f64 {
    let w = svg.width();
    let mut y = y;
    for text in texts {
        for l in wrap(text, size, w - 2.0 * PAD, false) {
            y += half;
            let b = svg.text(
                PAD,
                y,
                &l,
                &Text {
                    size,
                    fill: "#555",
                    class,
                    ..Text::default()
                },
            );
            boxes.add(b);
            y += half;
        }
    }
    y
}

/// What the x axis of a line chart is.
#[derive(Clone, Debug)]
pub enum XAxis {
    /// Calendar days: x is days since `start` (day 0 starts at 0, ends at 1).
    Dates {
        /// Day 0.
        start: NaiveDate,
        /// Days in the run.
        days: u32,
    },
    /// A number, with its name under the axis.
    Numbers {
        /// Its name.
        label: String,
    },
}

/// A point of a series: x, the mean, and the band around it.
pub type Point = (f64, f64, Option<(f64, f64)>);

/// One series of a line chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// Colour index into the palette.
    pub color: usize,
    /// Dashed line.
    pub dashed: bool,
    /// (x, mean, band).
    pub points: Vec<Point>,
}

/// A dated mark on a time axis.
#[derive(Clone, Debug)]
pub struct Mark {
    /// Days since the start.
    pub day: u32,
    /// What happens then.
    pub text: String,
}

/// A line chart.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Title and subtitle.
    pub header: Header,
    /// The x axis.
    pub x: XAxis,
    /// The series (a handful).
    pub series: Vec<Series>,
    /// Marks (time axes only).
    pub marks: Vec<Mark>,
    /// A shaded span of x (from, to) and what it is.
    pub shade: Option<(f64, f64, String)>,
    /// Notes under the chart.
    pub notes: Vec<String>,
}

/// Letters for marks: A…Z, then AA, AB, …
fn letter(i: usize) -> String {
    let a = (b'A' + (i % 26) as u8) as char;
    if i < 26 {
        a.to_string()
    } else {
        format!("{}{a}", (b'A' + (i / 26 - 1) as u8) as char)
    }
}

/// Date ticks that fit: (x in days, label, date).
fn date_ticks(start: NaiveDate, days: u32, px_per_day: f64, size: f64) -> Vec<(f64, String, NaiveDate)> {
    let end = start + chrono::Days::new(days as u64);
    // (kind, step): kind 0 = weeks of Mondays, 1 = months, 2 = years.
    let candidates: [(u8, u32); 9] = [(0, 1), (0, 2), (1, 1), (1, 2), (1, 3), (1, 6), (2, 1), (2, 2), (2, 5)];
    let mut last = Vec::new();
    for (kind, step) in candidates {
        let mut dates = Vec::new();
        match kind {
            0 => {
                let mut d = start + chrono::Days::new(((7 - start.weekday().num_days_from_monday()) % 7) as u64);
                while d <= end {
                    dates.push(d);
                    d = d + chrono::Days::new(7 * step as u64);
                }
            }
            1 => {
                let mut d = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
                if d < start {
                    d = d.checked_add_months(chrono::Months::new(1)).unwrap_or(d);
                }
                while d <= end {
                    if d.month0().is_multiple_of(step) {
                        dates.push(d);
                    }
                    d = match d.checked_add_months(chrono::Months::new(1)) {
                        Some(x) => x,
                        None => break,
                    };
                }
            }
            _ => {
                let mut y = start.year();
                while let Some(d) = NaiveDate::from_ymd_opt(y, 1, 1) {
                    if d > end {
                        break;
                    }
                    if d >= start && y % step as i32 == 0 {
                        dates.push(d);
                    }
                    y += 1;
                }
            }
        }
        let labels: Vec<(f64, String, NaiveDate)> = dates
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let x = (*d - start).num_days() as f64;
                let year_change = i == 0 || dates[i - 1].year() != d.year();
                let label = match kind {
                    0 if year_change => format!("{} {} {}", d.day(), words::month_abbr(*d), d.year()),
                    0 => format!("{} {}", d.day(), words::month_abbr(*d)),
                    1 if year_change => format!("{} {}", words::month_abbr(*d), d.year()),
                    1 => words::month_abbr(*d).to_string(),
                    _ => d.year().to_string(),
                };
                (x, label, *d)
            })
            .collect();
        let fits = labels.windows(2).all(|w| {
            let a = text_width(&w[0].1, size) / 2.0;
            let b = text_width(&w[1].1, size) / 2.0;
            (w[1].0 - w[0].0) * px_per_day >= a + b + 10.0
        });
        if labels.len() >= 2 && fits {
            return labels;
        }
        if !labels.is_empty() {
            last = labels;
        }
    }
    last
}

/// Puts lettered labels over x positions in as few rows as keep them apart;
/// returns (row, x) per label and the number of rows.
fn stack_labels(xs: &[(f64, String)], size: f64) -> (Vec<usize>, usize) {
    let mut rows: Vec<Vec<Rect>> = Vec::new();
    let mut out = Vec::new();
    for (x, s) in xs {
        let b = text_box(s, *x, 0.0, size, Anchor::Middle, true).grow(3.0);
        let r = rows.iter().position(|row| !row.iter().any(|o| o.overlaps(&b)));
        let r = match r {
            Some(r) => r,
            None => {
                rows.push(Vec::new());
                rows.len() - 1
            }
        };
        rows[r].push(b);
        out.push(r);
    }
    (out, rows.len())
}

/// Where a line chart's plot sits and how values map into it.
struct Frame {
    /// Left and right edges of the plot.
    pl: f64,
    pr: f64,
    /// Top, height and bottom of the plot (`pb` is `pt + ph`; the height is
    /// kept as given so that positions do not pick up rounding).
    pt: f64,
    ph: f64,
    pb: f64,
    /// The x range shown.
    x_lo: f64,
    x_hi: f64,
    /// The value at the top of the y axis (the bottom is 0).
    ytop: f64,
}

impl Frame {
    fn sx(&self, x: f64) -> f64 {
        self.pl + (x - self.x_lo) / (self.x_hi - self.x_lo) * (self.pr - self.pl)
    }

    fn sy(&self, v: f64) -> f64 {
        self.pb - v / self.ytop * self.ph
    }
}

/// A tick under an axis at `y` and, if it fits inside the chart and clear
/// of every label drawn, its label; returns whether the label was drawn.
fn x_tick(svg: &mut Svg, boxes: &mut Boxes, px: f64, y: f64, cy: f64, label: &str, attrs: String) -> bool {
    svg.line(px, y, px, y + 4.0, "stroke=\"#333\" stroke-width=\"1\"");
    let bx = text_box(label, px, cy, 11.0, Anchor::Middle, false);
    if bx.x0 < 0.0 || bx.x1 > svg.width() || !boxes.clear(&bx) {
        return false;
    }
    let b = svg.text(
        px,
        cy,
        label,
        &Text {
            size: 11.0,
            anchor: Anchor::Middle,
            fill: "#444",
            class: "xtick",
            attrs,
            ..Text::default()
        },
    );
    boxes.add(b);
    true
}

impl LineChart {
    /// The chart drawn `w` units wide.
    pub fn svg(&self, w: f64) -> String {
        let narrow = w < 500.0;
        let time = matches!(self.x, XAxis::Dates { .. });
        let attrs = format!(
            "data-chart=\"line\" data-axis=\"{}\"",
            if time { "time" } else { "number" }
        );
        let (mut svg, mut boxes, mut y) = begin(w, &self.header, &attrs, &self.keys());
        let (ticks, ytop) = self.y_ticks(narrow);
        let ylab: Vec<String> = ticks.iter().map(|t| tick_label(*t)).collect();
        let lw = ylab.iter().map(|l| text_width(l, 11.0)).fold(0.0, f64::max);
        let (x_lo, x_hi) = self.x_range();
        let mut fr = Frame {
            pl: PAD + lw + 8.0,
            pr: w - PAD - 10.0,
            pt: 0.0,
            ph: 0.0,
            pb: 0.0,
            x_lo,
            x_hi,
            ytop,
        };
        // Marks' letters above the plot, in as few rows as keep them apart.
        let mark_xs: Vec<(f64, String)> = self
            .marks
            .iter()
            .enumerate()
            .map(|(i, m)| (fr.sx(m.day as f64), letter(i)))
            .collect();
        let (mark_rows, n_rows) = stack_labels(&mark_xs, 11.0);
        let marks_top = y;
        if n_rows > 0 {
            y += n_rows as f64 * 15.0 + 2.0;
        }
        fr.pt = y + 8.0;
        fr.ph = if narrow { 190.0 } else { 240.0 };
        fr.pb = fr.pt + fr.ph;
        for (t, l) in ticks.iter().zip(&ylab) {
            Self::y_grid_line(&mut svg, &mut boxes, &fr, *t, l);
        }
        if let Some((a, b, _)) = &self.shade {
            let r = Rect {
                x0: fr.sx(*a),
                y0: fr.pt,
                x1: fr.sx(*b),
                y1: fr.pb,
            };
            svg.rect(r, "fill=\"#f2efe6\"");
        }
        self.draw_bands(&mut svg, &fr);
        self.draw_lines(&mut svg, &fr);
        for ((x, l), row) in mark_xs.iter().zip(&mark_rows) {
            Self::draw_mark(&mut svg, &mut boxes, &fr, *x, l, marks_top + 8.0 + *row as f64 * 15.0);
        }
        svg.line(fr.pl, fr.pb, fr.pr, fr.pb, "stroke=\"#333\" stroke-width=\"1\"");
        y = match &self.x {
            XAxis::Dates { start, days } => Self::date_axis(&mut svg, &mut boxes, &fr, *start, *days),
            XAxis::Numbers { label } => self.number_axis(&mut svg, &mut boxes, &fr, label, narrow),
        };
        y = self.draw_key_and_notes(&mut svg, &mut boxes, y);
        svg.finish(y + PAD)
    }

    /// Legend entries; a series without a name continues one before it (a
    /// line broken at a gap) and has no entry of its own.
    fn keys(&self) -> Vec<Key> {
        let banded = self.series.iter().any(|s| s.points.iter().any(|p| p.2.is_some()));
        self.series
            .iter()
            .filter(|s| !s.name.is_empty())
            .map(|s| Key {
                name: s.name.clone(),
                color: PALETTE[s.color % PALETTE.len()].into(),
                swatch: if s.dashed {
                    "dash"
                } else if banded && s.points.iter().any(|p| p.2.is_some()) {
                    "band"
                } else {
                    "line"
                },
            })
            .collect()
    }

    /// Round y ticks from 0 over every line and band, one more above the
    /// highest if it would stand below the data; and the top of the axis.
    fn y_ticks(&self, narrow: bool) -> (Vec<f64>, f64) {
        let ymax = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.2.map(|b| b.1).unwrap_or(p.1).max(p.1)))
            .fold(0.0, f64::max);
        let ymax = if ymax > 0.0 { ymax } else { 1.0 };
        let mut ticks = nice_ticks(0.0, ymax, if narrow { 4 } else { 5 });
        if let (Some(&l), true) = (ticks.last(), ticks.len() >= 2) {
            if l < ymax {
                let step = ticks[1] - ticks[0];
                ticks.push(l + step);
            }
        }
        let ytop = ticks.last().copied().unwrap_or(ymax).max(ymax);
        (ticks, ytop)
    }

    /// The x range: the run's days, or the parameter's values with a margin.
    fn x_range(&self) -> (f64, f64) {
        match &self.x {
            XAxis::Dates { days, .. } => (0.0, *days as f64),
            XAxis::Numbers { .. } => {
                let xs = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
                let (a, b) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
                if a.is_finite() && b > a {
                    let m = (b - a) * 0.04;
                    (a - m, b + m)
                } else {
                    (a - 1.0, a + 1.0)
                }
            }
        }
    }

    /// A grid line across the plot at `t` and its label on the left.
    fn y_grid_line(svg: &mut Svg, boxes: &mut Boxes, fr: &Frame, t: f64, label: &str) {
        let yy = fr.sy(t);
        svg.line(fr.pl, yy, fr.pr, yy, "stroke=\"#e5e5e5\" stroke-width=\"1\"");
        let b = svg.text(
            fr.pl - 6.0,
            yy,
            label,
            &Text {
                size: 11.0,
                anchor: Anchor::End,
                fill: "#444",
                class: "ytick",
                ..Text::default()
            },
        );
        boxes.add(b);
    }

    /// Each series' band, under every line.
    fn draw_bands(&self, svg: &mut Svg, fr: &Frame) {
        for s in &self.series {
            let c = PALETTE[s.color % PALETTE.len()];
            let pts: Vec<(f64, f64, f64)> = s
                .points
                .iter()
                .filter_map(|p| p.2.map(|(lo, hi)| (fr.sx(p.0), fr.sy(lo), fr.sy(hi))))
                .collect();
            if pts.len() >= 2 && pts.iter().any(|p| p.2 < p.1) {
                let mut d = path_d(pts.iter().map(|p| (p.0, p.2)));
                for p in pts.iter().rev() {
                    let _ = write!(d, "L{},{}", n1(p.0), n1(p.1));
                }
                d.push('Z');
                svg.raw(&format!(
                    "<path d=\"{d}\" fill=\"{c}\" fill-opacity=\"0.16\" stroke=\"none\"/>"
                ));
            }
        }
    }

    /// Each series' line, and its points where there are few.
    fn draw_lines(&self, svg: &mut Svg, fr: &Frame) {
        for s in &self.series {
            let c = PALETTE[s.color % PALETTE.len()];
            let pts: Vec<(f64, f64)> = s.points.iter().map(|p| (fr.sx(p.0), fr.sy(p.1))).collect();
            if pts.len() >= 2 {
                let d = path_d(pts.iter().copied());
                svg.raw(&format!(
                    "<path d=\"{d}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" stroke-linejoin=\"round\"{}/>",
                    if s.dashed { " stroke-dasharray=\"5 3\"" } else { "" }
                ));
            }
            if pts.len() < 40 {
                for p in &pts {
                    svg.raw(&format!(
                        "<circle cx=\"{}\" cy=\"{}\" r=\"2.6\" fill=\"{c}\"/>",
                        n1(p.0),
                        n1(p.1)
                    ));
                }
            }
        }
    }

    /// A policy mark: a dashed line over the plot and its letter at `cy`.
    fn draw_mark(svg: &mut Svg, boxes: &mut Boxes, fr: &Frame, x: f64, letter: &str, cy: f64) {
        svg.line(
            x,
            fr.pt,
            x,
            fr.pb,
            "stroke=\"#777\" stroke-width=\"1\" stroke-dasharray=\"3 3\"",
        );
        svg.line(x, cy + 7.0, x, fr.pt, "stroke=\"#bbb\" stroke-width=\"1\"");
        let b = svg.text(
            x,
            cy,
            letter,
            &Text {
                size: 11.0,
                anchor: Anchor::Middle,
                bold: true,
                fill: "#333",
                class: "mark",
                ..Text::default()
            },
        );
        boxes.add(b);
    }

    /// Date ticks under the plot, the year on the first label shown and
    /// wherever it changes; returns the y below them.
    fn date_axis(svg: &mut Svg, boxes: &mut Boxes, fr: &Frame, start: NaiveDate, days: u32) -> f64 {
        let cy = fr.pb + 16.0;
        let ppd = (fr.pr - fr.pl) / days.max(1) as f64;
        let mut year_shown: Option<i32> = None;
        for (x, label, date) in date_ticks(start, days, ppd, 11.0) {
            let label = if year_shown != Some(date.year()) && !label.contains(&date.year().to_string()) {
                format!("{label} {}", date.year())
            } else {
                label
            };
            if x_tick(svg, boxes, fr.sx(x), fr.pb, cy, &label, format!("data-date=\"{date}\"")) {
                year_shown = Some(date.year());
            }
        }
        cy + 10.0
    }

    /// Number ticks (every value where there are few) and the axis' name;
    /// returns the y below them.
    fn number_axis(&self, svg: &mut Svg, boxes: &mut Boxes, fr: &Frame, label: &str, narrow: bool) -> f64 {
        let cy = fr.pb + 16.0;
        let xs: Vec<f64> = {
            let mut v: Vec<f64> = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let ticks = if xs.len() <= if narrow { 5 } else { 9 } {
            xs
        } else {
            nice_ticks(fr.x_lo, fr.x_hi, if narrow { 4 } else { 7 })
        };
        for t in ticks {
            x_tick(svg, boxes, fr.sx(t), fr.pb, cy, &tick_label(t), String::new());
        }
        let l = fit(label, 11.5, svg.width() - 2.0 * PAD, false);
        let b = svg.text(
            (fr.pl + fr.pr) / 2.0,
            cy + 17.0,
            &l,
            &Text {
                size: 11.5,
                anchor: Anchor::Middle,
                class: "xlabel",
                ..Text::default()
            },
        );
        boxes.add(b);
        cy + 27.0
    }

    /// The key of the marks (letter, date, what happens), then the notes;
    /// returns the y below them.
    fn draw_key_and_notes(&self, svg: &mut Svg, boxes: &mut Boxes, y: f64) -> f64 {
        let keys: Vec<String> = self
            .marks
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let date = match &self.x {
                    XAxis::Dates { start, .. } => words::date_short(*start + chrono::Days::new(m.day as u64)),
                    XAxis::Numbers { .. } => String::new(),
                };
                format!("{}  {date}: {}", letter(i), m.text)
            })
            .collect();
        let y = draw_notes(svg, boxes, &keys, y, "markkey");
        let mut notes = self.notes.clone();
        if let Some((_, _, what)) = &self.shade {
            notes.insert(0, format!("Shaded: {what}."));
        }
        draw_notes(svg, boxes, &notes, y + 2.0, "note")
    }
}

fn n1(x: f64) -> String {
    super::svg::n(x)
}

/// One row of a bar chart.
#[derive(Clone, Debug)]
pub struct BarRow {
    /// Its label.
    pub label: String,
    /// Its value.
    pub value: f64,
    /// An interval around it.
    pub ci: Option<(f64, f64)>,
    /// Bar colour.
    pub color: String,
    /// The value as printed at the bar's end.
    pub value_text: String,
}

/// Horizontal bars, one per row, from zero, with optional intervals.
#[derive(Clone, Debug)]
pub struct BarChart {
    /// Title and subtitle.
    pub header: Header,
    /// Legend entries (colours).
    pub keys: Vec<Key>,
    /// The rows, top to bottom.
    pub rows: Vec<BarRow>,
    /// Notes under the chart.
    pub notes: Vec<String>,
}

impl Clone for Key {
    fn clone(&self) -> Self {
        Key {
            name: self.name.clone(),
            color: self.color.clone(),
            swatch: self.swatch,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.name)
    }
}

fn row_label(svg: &mut Svg, boxes: &mut Boxes, x: f64, cy: f64, s: &str, i: usize) {
    let b = svg.text(
        x,
        cy,
        s,
        &Text {
            size: 12.0,
            anchor: Anchor::End,
            class: "rowlabel",
            attrs: format!("data-row=\"{i}\""),
            ..Text::default()
        },
    );
    boxes.add(b);
}

/// x ticks of a value axis under bars, dropping labels that would touch.
fn value_axis(svg: &mut Svg, boxes: &mut Boxes, sx: &dyn Fn(f64) -> f64, lo: f64, hi: f64, y: f64, narrow: bool) {
    for t in nice_ticks(lo, hi, if narrow { 3 } else { 6 }) {
        x_tick(svg, boxes, sx(t), y, y + 13.0, &tick_label(t), String::new());
    }
}

impl BarChart {
    /// The chart drawn `w` units wide.
    pub fn svg(&self, w: f64) -> String {
        let narrow = w < 500.0;
        let (mut svg, mut boxes, mut y) = begin(w, &self.header, "data-chart=\"bars\"", &self.keys);
        let max_label = w * if narrow { 0.46 } else { 0.34 };
        let labels: Vec<String> = self
            .rows
            .iter()
            .map(|r| fit(&r.label, 12.0, max_label, false))
            .collect();
        let lw = labels.iter().map(|l| text_width(l, 12.0)).fold(0.0, f64::max);
        let pl = PAD + lw + 8.0;
        let pr = w - PAD;
        let lo = self
            .rows
            .iter()
            .map(|r| r.ci.map(|c| c.0).unwrap_or(r.value).min(r.value))
            .fold(0.0, f64::min);
        let hi = self
            .rows
            .iter()
            .map(|r| r.ci.map(|c| c.1).unwrap_or(r.value).max(r.value))
            .fold(0.0, f64::max);
        let hi = if hi <= lo { lo + 1.0 } else { hi };
        let vw = |neg: bool| {
            self.rows
                .iter()
                .filter(|r| (r.value < 0.0) == neg)
                .map(|r| text_width(&r.value_text, 11.0) + 8.0)
                .fold(0.0, f64::max)
        };
        let (a, b) = (pl + vw(true), pr - vw(false));
        let sx = move |v: f64| a + (v - lo) / (hi - lo) * (b - a);
        let row_h = 26.0;
        let top = y + 6.0;
        for (i, (r, l)) in self.rows.iter().zip(&labels).enumerate() {
            let cy = top + row_h * (i as f64 + 0.5);
            if i % 2 == 0 {
                svg.rect(
                    Rect {
                        x0: pl,
                        y0: cy - row_h / 2.0,
                        x1: pr,
                        y1: cy + row_h / 2.0,
                    },
                    "fill=\"#f7f7f7\"",
                );
            }
            row_label(&mut svg, &mut boxes, pl - 8.0, cy, l, i);
            let (x0, x1) = (sx(0.0).min(sx(r.value)), sx(0.0).max(sx(r.value)));
            svg.rect(
                Rect {
                    x0,
                    y0: cy - 7.0,
                    x1: x1.max(x0 + 0.5),
                    y1: cy + 7.0,
                },
                &format!("fill=\"{}\" class=\"bar\" data-row=\"{i}\"", r.color),
            );
            let mut end = if r.value < 0.0 { x0 } else { x1 };
            if let Some((clo, chi)) = r.ci {
                let (p, q) = (sx(clo), sx(chi));
                svg.line(p, cy, q, cy, "stroke=\"#111\" stroke-width=\"1.5\"");
                svg.line(p, cy - 5.0, p, cy + 5.0, "stroke=\"#111\" stroke-width=\"1.5\"");
                svg.line(q, cy - 5.0, q, cy + 5.0, "stroke=\"#111\" stroke-width=\"1.5\"");
                end = if r.value < 0.0 { end.min(p) } else { end.max(q) };
            }
            let (vx, anchor) = if r.value < 0.0 {
                (end - 4.0, Anchor::End)
            } else {
                (end + 4.0, Anchor::Start)
            };
            let bx = svg.text(
                vx,
                cy,
                &r.value_text,
                &Text {
                    size: 11.0,
                    anchor,
                    fill: "#222",
                    class: "value",
                    attrs: format!("data-row=\"{i}\""),
                    ..Text::default()
                },
            );
            boxes.add(bx);
        }
        let bottom = top + row_h * self.rows.len() as f64;
        if lo < 0.0 {
            svg.line(sx(0.0), top, sx(0.0), bottom, "stroke=\"#333\" stroke-width=\"1\"");
        }
        svg.line(pl, bottom, pr, bottom, "stroke=\"#333\" stroke-width=\"1\"");
        value_axis(&mut svg, &mut boxes, &sx, lo, hi, bottom, narrow);
        y = draw_notes(&mut svg, &mut boxes, &self.notes, bottom + 24.0, "note");
        svg.finish(y + PAD)
    }
}

/// Stacked horizontal bars: one row per group, one segment per key.
#[derive(Clone, Debug)]
pub struct StackChart {
    /// Title and subtitle.
    pub header: Header,
    /// The segments' names and colours.
    pub keys: Vec<Key>,
    /// (label, value per key, total as printed).
    pub rows: Vec<(String, Vec<f64>, String)>,
    /// Notes under the chart.
    pub notes: Vec<String>,
}

impl StackChart {
    /// The chart drawn `w` units wide.
    pub fn svg(&self, w: f64) -> String {
        let narrow = w < 500.0;
        let (mut svg, mut boxes, mut y) = begin(w, &self.header, "data-chart=\"stack\"", &self.keys);
        let max_label = w * if narrow { 0.38 } else { 0.3 };
        let labels: Vec<String> = self.rows.iter().map(|r| fit(&r.0, 12.0, max_label, false)).collect();
        let lw = labels.iter().map(|l| text_width(l, 12.0)).fold(0.0, f64::max);
        let tw = self.rows.iter().map(|r| text_width(&r.2, 11.0)).fold(0.0, f64::max);
        let pl = PAD + lw + 8.0;
        let pr = w - PAD - tw - 8.0;
        let max: f64 = self
            .rows
            .iter()
            .map(|r| r.1.iter().sum::<f64>())
            .fold(0.0, f64::max)
            .max(1.0);
        let sx = move |v: f64| pl + v / max * (pr - pl);
        let row_h = 26.0;
        let top = y + 6.0;
        for (i, ((_, vals, total), l)) in self.rows.iter().zip(&labels).enumerate() {
            let cy = top + row_h * (i as f64 + 0.5);
            row_label(&mut svg, &mut boxes, pl - 8.0, cy, l, i);
            let mut acc = 0.0;
            for (k, v) in vals.iter().enumerate() {
                if *v <= 0.0 {
                    continue;
                }
                let color = self.keys.get(k).map(|k| k.color.as_str()).unwrap_or("#999");
                svg.rect(
                    Rect {
                        x0: sx(acc),
                        y0: cy - 8.0,
                        x1: sx(acc + v),
                        y1: cy + 8.0,
                    },
                    &format!("fill=\"{color}\" class=\"bar\" data-row=\"{i}\""),
                );
                acc += v;
            }
            let b = svg.text(
                sx(acc) + 5.0,
                cy,
                total,
                &Text {
                    size: 11.0,
                    class: "value",
                    attrs: format!("data-row=\"{i}\""),
                    ..Text::default()
                },
            );
            boxes.add(b);
        }
        let bottom = top + row_h * self.rows.len() as f64;
        svg.line(pl, bottom, pr, bottom, "stroke=\"#333\" stroke-width=\"1\"");
        value_axis(&mut svg, &mut boxes, &sx, 0.0, max, bottom, narrow);
        y = draw_notes(&mut svg, &mut boxes, &self.notes, bottom + 24.0, "note");
        svg.finish(y + PAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_ticks_are_calendar_dates_that_do_not_touch() {
        let start = crate::time::parse_date("2023-01-01").expect("date");
        let t = date_ticks(start, 273, 2.5, 11.0);
        assert!(t.len() >= 4, "{t:?}");
        assert_eq!(t[0].1, "Jan 2023");
        assert_eq!(t[1].1, "Feb");
        for w in t.windows(2) {
            let gap = (w[1].0 - w[0].0) * 2.5;
            assert!(gap >= (text_width(&w[0].1, 11.0) + text_width(&w[1].1, 11.0)) / 2.0 + 10.0);
        }
        // A short run gets weeks of Mondays: 2 January 2023 is one.
        let t = date_ticks(start, 30, 25.0, 11.0);
        assert_eq!(t[0].1, "2 Jan 2023");
    }

    #[test]
    fn bars_and_their_labels_share_a_row_centre() {
        let c = BarChart {
            header: Header {
                title: "t".into(),
                lines: vec![],
            },
            keys: vec![],
            rows: (0..3)
                .map(|i| BarRow {
                    label: format!("row {i}"),
                    value: i as f64 - 1.0,
                    ci: None,
                    color: "#000".into(),
                    value_text: "x".into(),
                })
                .collect(),
            notes: vec![],
        };
        let s = c.svg(400.0);
        for i in 0..3 {
            let bar = s.split(&format!("class=\"bar\" data-row=\"{i}\"")).next().expect("bar");
            let rect = &bar[bar.rfind("<rect").expect("rect")..];
            let num = |k: &str| -> f64 {
                let at = rect.find(&format!("{k}=\"")).expect(k) + k.len() + 2;
                rect[at..].split('"').next().expect("value").parse().expect("number")
            };
            let centre = num("y") + num("height") / 2.0;
            let text_at = s.find(&format!("class=\"rowlabel\" data-row=\"{i}\"")).expect("label");
            let head = &s[..text_at];
            let t = &head[head.rfind("<text").expect("text")..];
            let y: f64 = t
                .split("y=\"")
                .nth(1)
                .expect("y")
                .split('"')
                .next()
                .expect("v")
                .parse()
                .expect("n");
            assert!(
                (y - 0.35 * 12.0 - centre).abs() < 0.11,
                "row {i}: label {y}, bar centre {centre}"
            );
        }
    }
}
