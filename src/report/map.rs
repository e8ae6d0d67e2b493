//! The report's maps: land, lakes and borders of North and Central America
//! (Natural Earth, public domain, embedded) in a Lambert conformal conic
//! projection fitted to the scenario's places, routes drawn with widths
//! proportional to people (or, for a comparison, to the change, in two
//! colours), places marked by kind, and labels placed without overlap.
//!
//! Owns the projection and the map's layout. Must not read files.

use super::chart::Header;
use super::svg::{fit, path_d, text_box, text_width, tick_label, Anchor, Boxes, Rect, Svg, Text};
use geojson::{FeatureCollection, GeometryValue};
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
use std::sync::OnceLock;

const PAD: f64 = 12.0;
const MORE: &str = "#D55E00";
const FEWER: &str = "#0072B2";
const FLOW: &str = "#0072B2";

/// Natural Earth land, lakes and borders (see `basemap/README.md`).
const BASEMAP: &str = include_str!("basemap/north-america.geojson");

/// The basemap's layers as rings and lines of (lon, lat).
struct Basemap {
    land: Vec<Vec<(f64, f64)>>,
    lakes: Vec<Vec<(f64, f64)>>,
    borders: Vec<Vec<(f64, f64)>>,
}

fn basemap() -> &'static Basemap {
    static MAP: OnceLock<Basemap> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = Basemap {
            land: Vec::new(),
            lakes: Vec::new(),
            borders: Vec::new(),
        };
        let Ok(fc) = BASEMAP
            .parse::<geojson::GeoJson>()
            .and_then(FeatureCollection::try_from)
        else {
            return m;
        };
        let ring = |r: &Vec<geojson::Position>| r.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>();
        for f in fc.features {
            let layer = f
                .properties
                .as_ref()
                .and_then(|p| p.get("layer"))
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let Some(g) = f.geometry else { continue };
            let target = match layer.as_str() {
                "land" => &mut m.land,
                "lake" => &mut m.lakes,
                "border" => &mut m.borders,
                _ => continue,
            };
            match g.value {
                GeometryValue::Polygon { coordinates } => target.extend(coordinates.iter().map(ring)),
                GeometryValue::MultiPolygon { coordinates } => {
                    target.extend(coordinates.iter().flat_map(|p| p.iter().map(ring)))
                }
                GeometryValue::MultiLineString { coordinates } => target.extend(coordinates.iter().map(ring)),
                GeometryValue::LineString { coordinates } => target.push(ring(&coordinates)),
                _ => {}
            }
        }
        m
    })
}

/// Lambert conformal conic on the sphere (Snyder, Map Projections — A
/// Working Manual, 1987, eq. 15-1 to 15-4), in earth radii.
#[derive(Clone, Copy, Debug)]
pub struct Lambert {
    n: f64,
    f: f64,
    rho0: f64,
    lon0: f64,
    /// Standard parallels, degrees.
    pub parallels: (f64, f64),
    /// Central meridian, degrees.
    pub meridian: f64,
}

impl Lambert {
    /// The projection for latitudes `lat_lo..lat_hi` around meridian `lon0`
    /// (standard parallels one sixth inside each end).
    pub fn fitted(lat_lo: f64, lat_hi: f64, lon0: f64) -> Lambert {
        let span = (lat_hi - lat_lo).max(0.0);
        let (mut p1, mut p2) = (lat_lo + span / 6.0, lat_hi - span / 6.0);
        if (p2 - p1).abs() < 0.5 {
            p1 = (lat_lo + lat_hi) / 2.0 - 0.25;
            p2 = p1 + 0.5;
        }
        // Near the equator a conic degenerates: keep the parallels north of it.
        if p1 + p2 < 2.0 {
            p1 = p1.max(1.0);
            p2 = p2.max(p1 + 0.5);
        }
        let (f1, f2) = (p1.to_radians(), p2.to_radians());
        let t = |f: f64| (FRAC_PI_4 + f / 2.0).tan();
        let n = (f1.cos() / f2.cos()).ln() / (t(f2) / t(f1)).ln();
        let f = f1.cos() * t(f1).powf(n) / n;
        let lat0 = ((lat_lo + lat_hi) / 2.0).to_radians();
        let rho0 = f / t(lat0).powf(n);
        Lambert {
            n,
            f,
            rho0,
            lon0: lon0.to_radians(),
            parallels: (p1, p2),
            meridian: lon0,
        }
    }

    /// (x, y) of a point, y north.
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let lat = lat.to_radians().clamp(-FRAC_PI_2 + 1e-6, FRAC_PI_2 - 1e-6);
        let rho = self.f / (FRAC_PI_4 + lat / 2.0).tan().powf(self.n);
        use std::f64::consts::PI;
        // Into [-π, π) in one step, whatever the longitude.
        let dl = (lon.to_radians() - self.lon0 + PI).rem_euclid(2.0 * PI) - PI;
        let th = self.n * dl;
        (rho * th.sin(), self.rho0 - rho * th.cos())
    }
}

/// A place on a map.
#[derive(Clone, Debug)]
pub struct MapPlace {
    /// Its label.
    pub label: String,
    /// Its kind (`city`, `crossing`, …).
    pub kind: String,
    /// Whether it takes asylum claims.
    pub claim_point: bool,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Label priority (larger first).
    pub priority: f64,
}

/// A route on a map.
#[derive(Clone, Debug)]
pub struct MapRoute {
    /// One end (lon, lat).
    pub a: (f64, f64),
    /// The other.
    pub b: (f64, f64),
    /// People (or the change in people).
    pub value: f64,
    /// The 95 % interval of a change, when there is one.
    pub ci: Option<(f64, f64)>,
}

/// What route widths show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// People per route.
    Flows,
    /// The change in people per route, more in one colour, fewer in another.
    Difference,
}

/// A map.
#[derive(Clone, Debug)]
pub struct MapChart {
    /// Title and subtitle.
    pub header: Header,
    /// Places.
    pub places: Vec<MapPlace>,
    /// Routes.
    pub routes: Vec<MapRoute>,
    /// What widths show.
    pub style: Style,
    /// Notes under the map.
    pub notes: Vec<String>,
    /// An id unique in the page (for the clip path).
    pub id: String,
}

/// A round number near `x` (one or two significant digits).
fn round_nice(x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let m = 10f64.powf(x.log10().floor());
    let f = x / m;
    let r = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .rev()
        .find(|c| **c <= f)
        .copied()
        .unwrap_or(1.0);
    r * m
}

fn marker(svg: &mut Svg, kind: &str, claim: bool, x: f64, y: f64) -> Rect {
    let fill = if claim { "#222" } else { "#fff" };
    let style = format!("fill=\"{fill}\" stroke=\"#222\" stroke-width=\"1.3\"");
    let r = match kind {
        "crossing" => {
            let s = 5.0;
            let d = path_d([(x, y - s), (x + s, y), (x, y + s), (x - s, y)].into_iter());
            svg.raw(&format!("<path d=\"{d}Z\" {style}/>"));
            s
        }
        "airport" => {
            let s = 5.0;
            let d = path_d([(x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8)].into_iter());
            svg.raw(&format!("<path d=\"{d}Z\" {style}/>"));
            s
        }
        "checkpoint" | "shelter" => {
            let s = 3.8;
            svg.rect(
                Rect {
                    x0: x - s,
                    y0: y - s,
                    x1: x + s,
                    y1: y + s,
                },
                &style,
            );
            s
        }
        "town" => {
            svg.raw(&format!("<circle cx=\"{}\" cy=\"{}\" r=\"3.2\" {style}/>", n(x), n(y)));
            3.2
        }
        _ => {
            svg.raw(&format!("<circle cx=\"{}\" cy=\"{}\" r=\"4.2\" {style}/>", n(x), n(y)));
            4.2
        }
    };
    Rect {
        x0: x - r - 1.0,
        y0: y - r - 1.0,
        x1: x + r + 1.0,
        y1: y + r + 1.0,
    }
}

fn n(x: f64) -> String {
    super::svg::n(x)
}

/// The name of a kind for the legend.
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "crossing" => "border crossing",
        "airport" => "airport",
        "checkpoint" => "checkpoint",
        "shelter" => "shelter",
        "town" => "town",
        _ => "city",
    }
}

/// Where the map sits on the page and how a longitude and latitude land
/// in it.
struct View {
    lam: Lambert,
    /// The map's frame on the chart.
    frame: Rect,
    /// Projected x at the frame's left edge, y at its top, and units of
    /// the chart per projected unit.
    x0: f64,
    y1: f64,
    s: f64,
    /// The frame's width and height, as computed (not from its corners, so
    /// that nothing picks up rounding).
    fw: f64,
    fh: f64,
}

impl View {
    /// A projection fitted to `pts` (lon, lat) and a frame `w` units wide
    /// with its top at `y`, between a minimum and maximum height.
    fn fitted(pts: &[(f64, f64)], w: f64, narrow: bool, y: f64) -> View {
        let (lat_lo, lat_hi) = pts
            .iter()
            .fold((90.0f64, -90.0f64), |(a, b), p| (a.min(p.1), b.max(p.1)));
        let (lon_lo, lon_hi) = pts
            .iter()
            .fold((180.0f64, -180.0f64), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let lam = Lambert::fitted(lat_lo, lat_hi, (lon_lo + lon_hi) / 2.0);
        let proj: Vec<(f64, f64)> = pts.iter().map(|p| lam.project(p.0, p.1)).collect();
        let (mut x0, mut x1, mut y0, mut y1) = proj.iter().fold(
            (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY),
            |(a, b, c, d), p| (a.min(p.0), b.max(p.0), c.min(p.1), d.max(p.1)),
        );
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (-0.1, 0.1, -0.1, 0.1);
        }
        let m = ((x1 - x0).max(y1 - y0) * 0.1).max(0.012);
        let (mut x0, x1, y0, mut y1) = (x0 - m, x1 + m, y0 - m, y1 + m);
        let fw = w - 2.0 * PAD;
        let (min_h, max_h) = (
            fw * if narrow { 0.6 } else { 0.45 },
            fw * if narrow { 1.1 } else { 0.8 },
        );
        let mut s = fw / (x1 - x0);
        let mut fh = (y1 - y0) * s;
        if fh > max_h {
            s = max_h / (y1 - y0);
            fh = max_h;
            let extra = (fw / s - (x1 - x0)) / 2.0;
            x0 -= extra;
        } else if fh < min_h {
            // Taller than the places need: centre them (only the top edge
            // is used below).
            y1 += (min_h / s - (y1 - y0)) / 2.0;
            fh = min_h;
        }
        let frame = Rect {
            x0: PAD,
            y0: y,
            x1: PAD + fw,
            y1: y + fh,
        };
        View {
            lam,
            frame,
            x0,
            y1,
            s,
            fw,
            fh,
        }
    }

    fn to_px(&self, lon: f64, lat: f64) -> (f64, f64) {
        let p = self.lam.project(lon, lat);
        (
            self.frame.x0 + (p.0 - self.x0) * self.s,
            self.frame.y0 + (self.y1 - p.1) * self.s,
        )
    }

    /// A path of the rings (or lines) that reach the frame, points closer
    /// than about a unit merged.
    fn path_of(&self, rings: &[Vec<(f64, f64)>], close: bool) -> String {
        let mut d = String::new();
        for r in rings {
            let mut kept: Vec<(f64, f64)> = Vec::with_capacity(r.len());
            let (mut bx0, mut bx1, mut by0, mut by1) =
                (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
            for &(lon, lat) in r {
                let q = self.to_px(lon, lat);
                bx0 = bx0.min(q.0);
                bx1 = bx1.max(q.0);
                by0 = by0.min(q.1);
                by1 = by1.max(q.1);
                match kept.last() {
                    Some(l) if (l.0 - q.0).abs() + (l.1 - q.1).abs() < 0.9 => {}
                    _ => kept.push(q),
                }
            }
            let bb = Rect {
                x0: bx0,
                y0: by0,
                x1: bx1,
                y1: by1,
            };
            if kept.len() < 2 || !bb.overlaps(&self.frame.grow(2.0)) {
                continue;
            }
            d += &path_d(kept.iter().copied());
            if close {
                d.push('Z');
            }
        }
        d
    }
}

/// Where a place's label may go around its marker at `q`: close by, then
/// farther out (with a leader line back to the marker).
fn label_spots(q: (f64, f64)) -> [[(f64, f64, Anchor); 8]; 2] {
    [
        [
            (q.0 + 8.0, q.1, Anchor::Start),
            (q.0 - 8.0, q.1, Anchor::End),
            (q.0, q.1 - 12.0, Anchor::Middle),
            (q.0, q.1 + 12.0, Anchor::Middle),
            (q.0 + 7.0, q.1 - 10.0, Anchor::Start),
            (q.0 + 7.0, q.1 + 10.0, Anchor::Start),
            (q.0 - 7.0, q.1 - 10.0, Anchor::End),
            (q.0 - 7.0, q.1 + 10.0, Anchor::End),
        ],
        [
            (q.0 + 26.0, q.1 - 14.0, Anchor::Start),
            (q.0 + 26.0, q.1 + 14.0, Anchor::Start),
            (q.0 - 26.0, q.1 - 14.0, Anchor::End),
            (q.0 - 26.0, q.1 + 14.0, Anchor::End),
            (q.0 + 30.0, q.1, Anchor::Start),
            (q.0 - 30.0, q.1, Anchor::End),
            (q.0, q.1 - 26.0, Anchor::Middle),
            (q.0, q.1 + 26.0, Anchor::Middle),
        ],
    ]
}

/// Draws a place's label at the first spot inside `inner` clear of every
/// label and marker drawn; returns false if there is none.
fn place_label(svg: &mut Svg, boxes: &mut Boxes, q: (f64, f64), label: &str, size: f64, inner: &Rect) -> bool {
    let [near, far] = label_spots(q);
    let free = |(x, y, a): &&(f64, f64, Anchor)| {
        let b = text_box(label, *x, *y, size, *a, false);
        b.inside(inner) && boxes.clear(&b)
    };
    let (spot, leader) = match near.iter().find(free) {
        Some(s) => (Some(s), false),
        None => (far.iter().find(free), true),
    };
    let Some(&(x, y, a)) = spot else {
        return false;
    };
    if leader {
        let (lx, ly) = match a {
            Anchor::Start => (x - 2.0, y),
            Anchor::End => (x + 2.0, y),
            Anchor::Middle if y < q.1 => (x, y + 0.6 * size),
            Anchor::Middle => (x, y - 0.6 * size),
        };
        svg.line(q.0, q.1, lx, ly, "stroke=\"#555\" stroke-width=\"0.8\"");
    }
    let b = svg.text(
        x,
        y,
        label,
        &Text {
            size,
            anchor: a,
            class: "maplabel",
            attrs: "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\" stroke-linejoin=\"round\"".into(),
            ..Text::default()
        },
    );
    boxes.add(b);
    true
}

/// The legend's running position: entries go left to right and wrap.
struct Cursor {
    x: f64,
    cy: f64,
    /// The chart's width.
    w: f64,
}

impl Cursor {
    /// An entry `need` wide: its swatch drawn at (x, cy) by `swatch`, then
    /// its label `text_at` to the right of x.
    fn entry(
        &mut self,
        svg: &mut Svg,
        boxes: &mut Boxes,
        need: f64,
        text_at: f64,
        label: &str,
        swatch: impl FnOnce(&mut Svg, f64, f64),
    ) {
        if self.x > PAD && self.x + need > self.w - PAD {
            self.x = PAD;
            self.cy += 20.0;
        }
        swatch(svg, self.x, self.cy);
        let b = svg.text(
            self.x + text_at,
            self.cy,
            label,
            &Text {
                size: LEGEND_SIZE,
                class: "legend",
                ..Text::default()
            },
        );
        boxes.add(b);
        self.x += need + 14.0;
    }
}

const LEGEND_SIZE: f64 = 11.0;

impl MapChart {
    /// The map drawn `w` units wide.
    pub fn svg(&self, w: f64) -> String {
        let narrow = w < 500.0;
        let (mut svg, mut boxes, y) = super::chart::begin(w, &self.header, "data-chart=\"map\"", &[]);
        let pts: Vec<(f64, f64)> = self
            .places
            .iter()
            .map(|p| (p.lon, p.lat))
            .chain(self.routes.iter().flat_map(|r| [r.a, r.b]))
            .collect();
        let view = View::fitted(&pts, w, narrow, y);
        let clip = format!("clip-{}-{}", self.id, w as i64);
        Self::draw_basemap(&mut svg, &view, &clip);
        let max = self.routes.iter().map(|r| r.value.abs()).fold(0.0, f64::max);
        let maxw = if narrow { 9.0 } else { 14.0 };
        self.draw_routes(&mut svg, &view, max, maxw);
        svg.raw("</g>");
        svg.rect(view.frame, "fill=\"none\" stroke=\"#999\" stroke-width=\"1\"");
        let dropped = self.draw_places(&mut svg, &mut boxes, &view, narrow);
        let mut y = self.legend(&mut svg, &mut boxes, view.frame.y1 + 10.0, max, maxw);
        let notes = self.notes_under(dropped, &view.lam);
        y = super::chart::draw_notes(&mut svg, &mut boxes, &notes, y, "note");
        svg.finish(y + PAD)
    }

    /// Sea, land, lakes and borders, clipped to the frame; leaves the
    /// clipping group open for the routes.
    fn draw_basemap(svg: &mut Svg, view: &View, clip: &str) {
        let frame = view.frame;
        svg.def(&format!(
            "<clipPath id=\"{clip}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>",
            n(frame.x0),
            n(frame.y0),
            n(view.fw),
            n(view.fh)
        ));
        svg.rect(frame, "fill=\"#dde8f0\"");
        let bm = basemap();
        svg.raw(&format!("<g clip-path=\"url(#{clip})\">"));
        let land = view.path_of(&bm.land, true);
        if !land.is_empty() {
            svg.raw(&format!(
                "<path d=\"{land}\" fill=\"#f5f2ea\" stroke=\"#93a9bc\" stroke-width=\"0.7\" fill-rule=\"evenodd\"/>"
            ));
        }
        let lakes = view.path_of(&bm.lakes, true);
        if !lakes.is_empty() {
            svg.raw(&format!(
                "<path d=\"{lakes}\" fill=\"#dde8f0\" stroke=\"#93a9bc\" stroke-width=\"0.6\"/>"
            ));
        }
        let borders = view.path_of(&bm.borders, false);
        if !borders.is_empty() {
            svg.raw(&format!(
                "<path d=\"{borders}\" fill=\"none\" stroke=\"#7d7d7d\" stroke-width=\"1\" stroke-dasharray=\"4 2\"/>"
            ));
        }
    }

    /// Routes, the widest first so narrow ones stay visible on top; width
    /// proportional to the value (`maxw` at `max`), faint and dashed where
    /// an interval includes zero, grey dashes where no one went.
    fn draw_routes(&self, svg: &mut Svg, view: &View, max: f64, maxw: f64) {
        let width = |v: f64| if max > 0.0 { maxw * v.abs() / max } else { 0.0 };
        let mut order: Vec<usize> = (0..self.routes.len()).collect();
        order.sort_by(|a, b| self.routes[*b].value.abs().total_cmp(&self.routes[*a].value.abs()));
        for &i in &order {
            let r = &self.routes[i];
            let (a, b) = (view.to_px(r.a.0, r.a.1), view.to_px(r.b.0, r.b.1));
            let seg = format!(
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke-linecap=\"round\" ",
                n(a.0),
                n(a.1),
                n(b.0),
                n(b.1)
            );
            if r.value == 0.0 {
                svg.raw(&format!(
                    "{seg}stroke=\"#9a9a9a\" stroke-width=\"0.8\" stroke-dasharray=\"2 2\"/>"
                ));
                continue;
            }
            let color = match self.style {
                Style::Flows => FLOW,
                Style::Difference if r.value > 0.0 => MORE,
                Style::Difference => FEWER,
            };
            let unsure = r.ci.map(|(lo, hi)| lo <= 0.0 && hi >= 0.0).unwrap_or(false);
            svg.raw(&format!(
                "{seg}stroke=\"{color}\" stroke-width=\"{}\" stroke-opacity=\"{}\"{}/>",
                n(width(r.value).max(0.8)),
                if unsure { "0.35" } else { "0.75" },
                if unsure { " stroke-dasharray=\"4 3\"" } else { "" }
            ));
        }
    }

    /// Markers of the places inside the frame, then their labels where
    /// they fit, claim points and the busiest first; returns how many
    /// labels were left out.
    fn draw_places(&self, svg: &mut Svg, boxes: &mut Boxes, view: &View, narrow: bool) -> usize {
        let frame = view.frame;
        let mut marks: Vec<(usize, (f64, f64))> = Vec::new();
        for (i, p) in self.places.iter().enumerate() {
            let q = view.to_px(p.lon, p.lat);
            let b = Rect {
                x0: q.0 - 6.0,
                y0: q.1 - 6.0,
                x1: q.0 + 6.0,
                y1: q.1 + 6.0,
            };
            if !b.inside(&frame) {
                continue;
            }
            let r = marker(svg, &p.kind, p.claim_point, q.0, q.1);
            boxes.add(r);
            marks.push((i, q));
        }
        marks.sort_by(|a, b| {
            let (pa, pb) = (&self.places[a.0], &self.places[b.0]);
            (pb.claim_point, pb.priority)
                .partial_cmp(&(pa.claim_point, pa.priority))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let size = if narrow { 10.5 } else { 11.5 };
        let inner = frame.grow(-2.0);
        let fw = view.fw;
        let mut dropped = 0;
        for (i, q) in marks {
            let label = fit(&self.places[i].label, size, fw * 0.4, false);
            if !place_label(svg, boxes, q, &label, size, &inner) {
                dropped += 1;
            }
        }
        dropped
    }

    /// The notes under the map: labels left out, then the projection and
    /// the basemap's source.
    fn notes_under(&self, dropped: usize, lam: &Lambert) -> Vec<String> {
        let mut notes = self.notes.clone();
        if dropped > 0 {
            notes.push(format!(
                "{dropped} place label{} left out where {} would overlap; every place is in the table below.",
                if dropped == 1 { "" } else { "s" },
                if dropped == 1 { "it" } else { "they" }
            ));
        }
        notes.push(format!(
            "Lambert conformal conic projection, standard parallels {:.1}° and {:.1}° N, central meridian {:.1}° {}. \
             Land, lakes and borders: Natural Earth (public domain).",
            lam.parallels.0,
            lam.parallels.1,
            lam.meridian.abs(),
            if lam.meridian < 0.0 { "W" } else { "E" }
        ));
        notes
    }

    /// The legend under the map: line widths, colours of a difference,
    /// kinds of place, what a filled marker means; returns the y below.
    fn legend(&self, svg: &mut Svg, boxes: &mut Boxes, y: f64, max: f64, maxw: f64) -> f64 {
        let mut cur = Cursor {
            x: PAD,
            cy: y + 8.0,
            w: svg.width(),
        };
        self.legend_widths(svg, boxes, &mut cur, max, maxw);
        if self.style == Style::Difference {
            let keys = [
                ("more in the variant", MORE, ""),
                ("fewer", FEWER, ""),
                ("interval includes 0", "#999", " stroke-dasharray=\"4 3\""),
            ];
            for (name, color, dash) in keys {
                let need = 30.0 + text_width(name, LEGEND_SIZE);
                cur.entry(svg, boxes, need, 30.0, name, |svg, x, cy| {
                    let style = format!("stroke=\"{color}\" stroke-width=\"4\" stroke-opacity=\"0.75\"{dash}");
                    svg.line(x, cy, x + 24.0, cy, &style);
                });
            }
        }
        self.legend_kinds(svg, boxes, &mut cur);
        cur.cy + 14.0
    }

    /// Sample line widths: a round number near the largest value, a
    /// quarter and a sixteenth of it.
    fn legend_widths(&self, svg: &mut Svg, boxes: &mut Boxes, cur: &mut Cursor, max: f64, maxw: f64) {
        let big = round_nice(max);
        let samples: Vec<f64> = [big, round_nice(big / 4.0), round_nice(big / 16.0)]
            .into_iter()
            .filter(|v| *v > 0.0)
            .fold(Vec::new(), |mut v, x| {
                if v.last() != Some(&x) {
                    v.push(x);
                }
                v
            });
        let unit = match self.style {
            Style::Flows => "people",
            Style::Difference => "people more or fewer",
        };
        let color = if self.style == Style::Flows { FLOW } else { "#666" };
        for (k, v) in samples.iter().enumerate() {
            let label = if k == 0 {
                format!("{} {unit}", tick_label(*v))
            } else {
                tick_label(*v)
            };
            let need = 42.0 + text_width(&label, LEGEND_SIZE);
            let sw = (maxw * v / max.max(1e-9)).max(0.8);
            cur.entry(svg, boxes, need, 42.0, &label, |svg, x, cy| {
                let style = format!("stroke=\"{color}\" stroke-width=\"{}\" stroke-opacity=\"0.75\"", n(sw));
                svg.line(x, cy, x + 36.0, cy, &style);
            });
        }
    }

    /// The kinds of place on the map, then what a filled marker means.
    fn legend_kinds(&self, svg: &mut Svg, boxes: &mut Boxes, cur: &mut Cursor) {
        let mut kinds: Vec<&str> = Vec::new();
        for p in &self.places {
            let k = kind_name(&p.kind);
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        kinds.sort_by_key(|k| {
            ["city", "town", "border crossing", "airport", "checkpoint", "shelter"]
                .iter()
                .position(|x| x == k)
        });
        for k in kinds {
            let kind = match k {
                "border crossing" => "crossing",
                other => other,
            };
            let need = 16.0 + text_width(k, LEGEND_SIZE);
            cur.entry(svg, boxes, need, 14.0, k, |svg, x, cy| {
                marker(svg, kind, false, x + 5.0, cy);
            });
        }
        if self.places.iter().any(|p| p.claim_point) {
            let label = "filled: takes asylum claims";
            let need = 16.0 + text_width(label, LEGEND_SIZE);
            cur.entry(svg, boxes, need, 14.0, label, |svg, x, cy| {
                marker(svg, "city", true, x + 5.0, cy);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projection_keeps_north_up_and_east_right_and_the_basemap_loads() {
        let l = Lambert::fitted(40.0, 50.0, -95.0);
        let (xw, _) = l.project(-120.0, 45.0);
        let (xe, _) = l.project(-75.0, 45.0);
        let (_, ys) = l.project(-95.0, 40.0);
        let (_, yn) = l.project(-95.0, 50.0);
        assert!(xw < xe && ys < yn);
        // Parallels are arcs around the pole: at the same latitude the map's
        // edges sit higher than its middle.
        let (_, y_mid) = l.project(-95.0, 45.0);
        let (_, y_edge) = l.project(-120.0, 45.0);
        assert!(y_edge > y_mid);
        let b = basemap();
        assert!(b.land.len() > 20 && b.lakes.len() >= 10 && !b.borders.is_empty());
    }
}
