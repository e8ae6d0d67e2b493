//! SVG written directly: elements, text metrics and label placement.
//!
//! Owns the markup and the geometry of text: every chart places its labels
//! with [`text_width`] (DejaVu Sans advance widths, the font the page asks
//! for first; Verdana, its fallback, is as wide) and checks them against
//! each other with [`Boxes`], so that no two labels overlap. Must not know
//! what a chart shows.

use std::fmt::Write as _;

/// The page's font stack: wide fonts first, so that estimated widths hold.
pub const FONT: &str = "DejaVu Sans, Verdana, Geneva, sans-serif";

/// Advance widths of DejaVu Sans for ASCII 32–126, in hundredths of an em.
const WIDTHS: [f32; 95] = [
    31.8, 40.1, 46.0, 83.8, 63.6, 95.0, 78.0, 27.5, 39.0, 39.0, 50.0, 83.8, 31.8, 36.1, 31.8, 33.7, 63.6, 63.6, 63.6,
    63.6, 63.6, 63.6, 63.6, 63.6, 63.6, 63.6, 33.7, 33.7, 83.8, 83.8, 83.8, 53.1, 100.0, 68.4, 68.6, 69.8, 77.0, 63.2,
    57.5, 77.5, 75.2, 29.5, 29.5, 65.6, 55.7, 86.3, 74.8, 78.7, 60.3, 78.7, 69.5, 63.5, 61.1, 73.2, 68.4, 98.9, 68.5,
    61.1, 68.5, 39.0, 33.7, 39.0, 83.8, 50.0, 50.0, 61.3, 63.5, 55.0, 63.5, 61.5, 35.2, 63.5, 63.4, 27.8, 27.8, 57.9,
    27.8, 97.4, 63.4, 61.2, 63.5, 63.5, 41.1, 52.1, 39.2, 63.4, 59.2, 81.8, 59.2, 59.2, 52.5, 63.6, 33.7, 63.6, 83.8,
];

/// Estimated width of `s` at `size` px (regular weight; bold is about 10 %
/// wider, see [`text_width_bold`]).
pub fn text_width(s: &str, size: f64) -> f64 {
    let em: f64 = s
        .chars()
        .map(|c| {
            let i = c as u32;
            if (32..127).contains(&i) {
                WIDTHS[(i - 32) as usize] as f64
            } else {
                match c {
                    '–' | '°' | '§' => 50.0,
                    '—' | '…' => 100.0,
                    '−' | '×' | '≈' | '±' | '→' => 83.8,
                    '·' | '’' => 31.8,
                    'é' | 'è' | 'ê' | 'à' | 'á' | 'ó' | 'ò' | 'ñ' | 'ü' | 'ö' | 'ç' | 'ô' => 63.5,
                    'í' | 'ì' | 'ï' => 27.8,
                    'É' | 'Á' | 'Ó' => 78.0,
                    _ => 100.0,
                }
            }
        })
        .sum();
    em / 100.0 * size
}

/// Estimated width of bold text.
pub fn text_width_bold(s: &str, size: f64) -> f64 {
    text_width(s, size) * 1.12
}

/// Escapes text for XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A coordinate with at most one decimal.
pub fn n(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The `d` of an SVG path through points: `M x,y L x,y …`.
pub fn path_d(pts: impl Iterator<Item = (f64, f64)>) -> String {
    let mut d = String::new();
    for (i, p) in pts.enumerate() {
        let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { "L" }, n(p.0), n(p.1));
    }
    d
}

/// A rectangle in SVG units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left.
    pub x0: f64,
    /// Top.
    pub y0: f64,
    /// Right.
    pub x1: f64,
    /// Bottom.
    pub y1: f64,
}

impl Rect {
    /// Whether two rectangles overlap (touching is not overlapping).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    /// The rectangle grown by `m` on every side.
    pub fn grow(&self, m: f64) -> Rect {
        Rect {
            x0: self.x0 - m,
            y0: self.y0 - m,
            x1: self.x1 + m,
            y1: self.y1 + m,
        }
    }
    /// Whether `self` lies inside `o`.
    pub fn inside(&self, o: &Rect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
}

/// Where text is anchored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// At its start.
    Start,
    /// At its middle.
    Middle,
    /// At its end.
    End,
}

/// The box a line of text occupies, its vertical middle at `cy`.
pub fn text_box(s: &str, x: f64, cy: f64, size: f64, anchor: Anchor, bold: bool) -> Rect {
    let w = if bold {
        text_width_bold(s, size)
    } else {
        text_width(s, size)
    };
    let x0 = match anchor {
        Anchor::Start => x,
        Anchor::Middle => x - w / 2.0,
        Anchor::End => x - w,
    };
    Rect {
        x0,
        y0: cy - 0.62 * size,
        x1: x0 + w,
        y1: cy + 0.62 * size,
    }
}

/// Boxes already taken, to place labels without overlap.
#[derive(Default)]
pub struct Boxes(pub Vec<Rect>);

impl Boxes {
    /// Whether `r` (grown by a margin) is clear of every box.
    pub fn clear(&self, r: &Rect) -> bool {
        let g = r.grow(1.5);
        !self.0.iter().any(|b| b.overlaps(&g))
    }
    /// Takes a box.
    pub fn add(&mut self, r: Rect) {
        self.0.push(r);
    }
}

/// Splits `s` into lines no wider than `max` px at `size`.
pub fn wrap(s: &str, size: f64, max: f64, bold: bool) -> Vec<String> {
    let width = |t: &str| {
        if bold {
            text_width_bold(t, size)
        } else {
            text_width(t, size)
        }
    };
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let cand = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if width(&cand) <= max || cur.is_empty() {
            cur = cand;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    // A single word wider than the line is cut with an ellipsis.
    lines.into_iter().map(|l| fit(&l, size, max, bold)).collect()
}

/// `s`, cut with an ellipsis to fit `max` px.
pub fn fit(s: &str, size: f64, max: f64, bold: bool) -> String {
    let width = |t: &str| {
        if bold {
            text_width_bold(t, size)
        } else {
            text_width(t, size)
        }
    };
    if width(s) <= max {
        return s.to_string();
    }
    let mut out: String = s.to_string();
    while !out.is_empty() && width(&format!("{out}…")) > max {
        out.pop();
    }
    format!("{}…", out.trim_end())
}

/// Style of a line of text.
#[derive(Clone, Debug)]
pub struct Text<'a> {
    /// Size in px.
    pub size: f64,
    /// Anchor.
    pub anchor: Anchor,
    /// Bold.
    pub bold: bool,
    /// Fill colour.
    pub fill: &'a str,
    /// `class` attribute.
    pub class: &'a str,
    /// Extra attributes, written as they are (`data-row="3"`).
    pub attrs: String,
}

impl Default for Text<'_> {
    fn default() -> Self {
        Text {
            size: 12.0,
            anchor: Anchor::Start,
            bold: false,
            fill: "#222",
            class: "",
            attrs: String::new(),
        }
    }
}

/// An SVG being written.
pub struct Svg {
    w: f64,
    h: f64,
    body: String,
    defs: String,
    attrs: String,
    label: String,
}

impl Svg {
    /// A new drawing `w` wide; its height is set at the end.
    pub fn new(w: f64, label: &str, attrs: &str) -> Svg {
        Svg {
            w,
            h: 0.0,
            body: String::with_capacity(16 * 1024),
            defs: String::new(),
            attrs: attrs.to_string(),
            label: label.to_string(),
        }
    }

    /// Its width.
    pub fn width(&self) -> f64 {
        self.w
    }

    /// Writes a line of text with its vertical middle at `cy`; returns its box.
    pub fn text(&mut self, x: f64, cy: f64, s: &str, t: &Text<'_>) -> Rect {
        let anchor = match t.anchor {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
            Anchor::End => " text-anchor=\"end\"",
        };
        // The baseline sits 0.35 em below the middle of the glyphs' box.
        let _ = write!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\"{anchor}{}{}{} fill=\"{}\">{}</text>",
            n(x),
            n(cy + 0.35 * t.size),
            n(t.size),
            if t.bold { " font-weight=\"bold\"" } else { "" },
            if t.class.is_empty() {
                String::new()
            } else {
                format!(" class=\"{}\"", t.class)
            },
            if t.attrs.is_empty() {
                String::new()
            } else {
                format!(" {}", t.attrs)
            },
            t.fill,
            esc(s)
        );
        text_box(s, x, cy, t.size, t.anchor, t.bold)
    }

    /// Writes raw markup into the body.
    pub fn raw(&mut self, s: &str) {
        self.body.push_str(s);
    }

    /// Writes raw markup into `<defs>`.
    pub fn def(&mut self, s: &str) {
        self.defs.push_str(s);
    }

    /// A line.
    pub fn line(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, style: &str) {
        let _ = write!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {style}/>",
            n(x0),
            n(y0),
            n(x1),
            n(y1)
        );
    }

    /// A rectangle.
    pub fn rect(&mut self, r: Rect, style: &str) {
        let _ = write!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {style}/>",
            n(r.x0),
            n(r.y0),
            n((r.x1 - r.x0).max(0.0)),
            n((r.y1 - r.y0).max(0.0))
        );
    }

    /// Finishes the drawing at height `h`.
    pub fn finish(self, h: f64) -> String {
        let mut s = String::with_capacity(self.body.len() + 512);
        let _ = write!(
            s,
            "<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"{}\" font-family=\"{FONT}\"{}>",
            n(self.w),
            n(h.max(self.h)),
            esc(&self.label),
            if self.attrs.is_empty() {
                String::new()
            } else {
                format!(" {}", self.attrs)
            }
        );
        if !self.defs.is_empty() {
            let _ = write!(s, "<defs>{}</defs>", self.defs);
        }
        let _ = write!(
            s,
            "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>",
            n(self.w),
            n(h)
        );
        s.push_str(&self.body);
        s.push_str("</svg>");
        s
    }
}

/// Tick values for an axis from `lo` to `hi` (1, 2, 2.5 or 5 × 10ᵏ apart),
/// at most `max` intervals between them.
pub fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-9);
    let raw = span / max.max(2) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= max as f64)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut out = Vec::new();
    let mut x = first;
    while x <= hi + step * 1e-9 {
        out.push(if x.abs() < step * 1e-9 { 0.0 } else { x });
        x += step;
    }
    out
}

/// A tick label: whole numbers with separators, else up to 3 decimals.
pub fn tick_label(x: f64) -> String {
    if x.fract().abs() < 1e-9 {
        crate::publish::words::thousands(x.round() as i64)
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').replace('-', "−")
    }
}

/// Colour-blind-safe colours (Okabe and Ito), for series.
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#444444",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_and_labels_wrap_inside_their_width() {
        assert_eq!(
            nice_ticks(0.0, 1000.0, 5),
            vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]
        );
        assert_eq!(nice_ticks(0.0, 1000.0, 4), vec![0.0, 250.0, 500.0, 750.0, 1000.0]);
        assert_eq!(nice_ticks(0.0, 37.0, 4), vec![0.0, 10.0, 20.0, 30.0]);
        assert_eq!(tick_label(12000.0), "12,000");
        assert_eq!(tick_label(0.25), "0.25");
        for l in wrap(
            "People arriving per week at the five busiest crossings of the border",
            14.0,
            200.0,
            true,
        ) {
            assert!(text_width_bold(&l, 14.0) <= 200.0, "{l}");
        }
        assert!(text_width("Roxham Road", 12.0) > 70.0 && text_width("Roxham Road", 12.0) < 90.0);
    }
}
