//! What people publish and plan with: the report of a run, of replicates,
//! of a comparison and of a sweep as headless Chromium lays them out (no
//! two labels overlap, bars sit on their labels, every time axis is dated,
//! nothing spills off a phone screen), GeoJSON against RFC 7946, the
//! calendar periods against a hand computation, the folder's datapackage
//! against its tables, and the plain-language summary.
//!
//! Under CI (the `CI` variable set, as `.ci/run` does) a missing Chromium
//! fails the screenshot tests; elsewhere they are skipped with a message.
//! With `NB_SCREENSHOTS=DIR` the screenshots are kept in DIR (that is how
//! docs/img/ is made).

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn csv_rows(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let h = r.headers().expect("header").iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.expect("record").iter().map(String::from).collect())
        .collect();
    (h, rows)
}

// ------------------------------------------------------------ Chromium

/// The Chromium binary, or `None` (then the caller skips) — except under
/// CI, where a missing Chromium fails the test.
fn chromium() -> Option<&'static str> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and no Chromium is installed: .ci/run installs Debian's chromium");
        }
        eprintln!("skipped: no Chromium on this machine (.ci/run installs Debian's chromium)");
    }
    found
}

fn chromium_cmd(bin: &str, profile: &Path, width: u32, height: u32) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    // Headless windows are at least 500 px wide: a phone is an iframe in one.
    .arg(format!("--window-size={},{height}", width.max(500)));
    c
}

/// A copy of the report in a page `width` wide (an iframe for widths under
/// 500 px), in a fresh folder; with `measuring`, the copy measures itself.
fn instrumented(report: &Path, width: u32, height: u32, measuring: bool) -> (tempfile::TempDir, PathBuf) {
    let html = read(report);
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"),
        "the page forbids every request"
    );
    let copy = if measuring {
        // The measuring script needs the policy lifted in the copy.
        let start = html.find("<meta http-equiv=\"Content-Security-Policy\"").expect("csp");
        let end = start + html[start..].find('>').expect("end of meta") + 1;
        let js = read(&fixture("measure.js"));
        format!("{}{}", &html[..start], &html[end..]).replace("</body>", &format!("<script>{js}</script></body>"))
    } else {
        html
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("report.html"), copy).expect("copy");
    let page = if width < 500 {
        let p = dir.path().join("phone.html");
        std::fs::write(
            &p,
            format!(
                "<!DOCTYPE html><html><body style=\"margin:0;background:#ccc\"><iframe src=\"report.html\" \
                 style=\"width:{width}px;height:{height}px;border:0;background:#fff\"></iframe></body></html>"
            ),
        )
        .expect("phone page");
        p
    } else {
        dir.path().join("report.html")
    };
    (dir, page)
}

/// What Chromium measured of a report `width` px wide.
struct Measured {
    width: f64,
    height: f64,
    svgs: Vec<Value>,
}

fn measure(bin: &str, report: &Path, width: u32) -> Measured {
    let (dir, page) = instrumented(report, width, 900, true);
    let profile = dir.path().join("profile");
    let o = chromium_cmd(bin, &profile, width, 900)
        .arg("--virtual-time-budget=5000")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    let dom = String::from_utf8_lossy(&o.stdout);
    let at = dom
        .rfind("<pre id=\"nb-measure\">")
        .unwrap_or_else(|| panic!("no measurement in the page: {}", String::from_utf8_lossy(&o.stderr)));
    let body = &dom[at + "<pre id=\"nb-measure\">".len()..];
    let body = &body[..body.find("</pre>").expect("end of pre")];
    let text = body
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: Value = serde_json::from_str(&text).expect("measurement is JSON");
    Measured {
        width: v["width"].as_f64().expect("width"),
        height: v["height"].as_f64().expect("height"),
        svgs: v["svgs"].as_array().expect("svgs").clone(),
    }
}

fn screenshot(bin: &str, report: &Path, width: u32, height: u32, png: &Path) {
    let (dir, page) = instrumented(report, width, height, false);
    let profile = dir.path().join("profile");
    let o = chromium_cmd(bin, &profile, width, height)
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(png.exists(), "no screenshot: {}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(png).expect("png");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 30_000,
        "a real page was drawn ({} bytes)",
        bytes.len()
    );
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Everything a reader of a chart relies on, as laid out at `width`.
fn check_layout(m: &Measured, width: u32, scenario: &str, what: &str) {
    assert!(!m.svgs.is_empty(), "{what} at {width} px: no chart is shown");
    assert!(
        m.width <= width as f64 + 0.5,
        "{what} at {width} px: the page is {} px wide and scrolls sideways",
        m.width
    );
    let mut time_axes = 0;
    for s in &m.svgs {
        let title = s["title"].as_str().unwrap_or("");
        let texts = s["texts"].as_array().expect("texts");
        // No two labels' boxes overlap, and none spills out of its chart.
        for (i, a) in texts.iter().enumerate() {
            assert!(
                f(a, "x0") >= f(s, "x0") - 0.5 && f(a, "x1") <= f(s, "x1") + 0.5,
                "{what} at {width} px, chart '{title}': '{}' spills out of the chart",
                a["text"]
            );
            for b in &texts[i + 1..] {
                let overlap = f(a, "x0") < f(b, "x1") - 0.5
                    && f(b, "x0") < f(a, "x1") - 0.5
                    && f(a, "y0") < f(b, "y1") - 0.5
                    && f(b, "y0") < f(a, "y1") - 0.5;
                assert!(
                    !overlap,
                    "{what} at {width} px, chart '{title}': '{}' overlaps '{}'",
                    a["text"], b["text"]
                );
            }
        }
        // Every bar sits on its row's label.
        for bar in s["bars"].as_array().expect("bars") {
            let row = bar["row"].as_str().expect("a bar names its row");
            let label = texts
                .iter()
                .find(|t| t["cls"] == "rowlabel" && t["row"].as_str() == Some(row))
                .unwrap_or_else(|| panic!("{what}, chart '{title}': bar {row} has no label"));
            let (cb, cl) = (
                (f(bar, "y0") + f(bar, "y1")) / 2.0,
                (f(label, "y0") + f(label, "y1")) / 2.0,
            );
            assert!(
                (cb - cl).abs() <= 1.5,
                "{what} at {width} px, chart '{title}': bar {row} is centred at {cb:.1}, its label '{}' at {cl:.1}",
                label["text"]
            );
        }
        // Every time axis carries calendar dates, its year included.
        if s["axis"] == "time" {
            time_axes += 1;
            let ticks: Vec<&Value> = texts.iter().filter(|t| t["cls"] == "xtick").collect();
            assert!(ticks.len() >= 2, "{what}, chart '{title}': {} dated ticks", ticks.len());
            for t in &ticks {
                let date = t["date"]
                    .as_str()
                    .unwrap_or_else(|| panic!("tick {} has no date", t["text"]));
                let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("an ISO date");
                let label = t["text"].as_str().expect("text");
                let month = MONTHS[chrono::Datelike::month0(&d) as usize];
                assert!(
                    label.contains(month) || label == chrono::Datelike::year(&d).to_string(),
                    "{what}, chart '{title}': tick '{label}' does not show {date}"
                );
            }
            assert!(
                ticks.iter().any(|t| t["text"].as_str().unwrap_or("").contains("20")),
                "{what}, chart '{title}': no tick says the year"
            );
        }
        // Its title and subtitle say what it is and from which runs.
        let words: String = texts
            .iter()
            .filter(|t| t["cls"] == "title" || t["cls"] == "subtitle")
            .map(|t| t["text"].as_str().unwrap_or("").to_string() + " ")
            .collect();
        assert!(
            words.contains(scenario)
                && (words.contains("replicate") || words.contains("one run"))
                && words.contains("scale"),
            "{what}, chart '{title}': the subtitle does not name the scenario, runs and scale: {words}"
        );
    }
    let _ = time_axes;
}

/// Lays out a report on a desktop and a phone, checks both, and keeps the
/// screenshots when asked (`NB_SCREENSHOTS`).
fn look_at(report: &Path, scenario: &str, name: &str, min_time_axes: usize) {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let keep = std::env::var_os("NB_SCREENSHOTS").map(PathBuf::from);
    for width in [1000u32, 400] {
        let m = measure(bin, report, width);
        check_layout(&m, width, scenario, name);
        let time = m.svgs.iter().filter(|s| s["axis"] == "time").count();
        assert!(time >= min_time_axes, "{name} at {width} px: {time} time charts");
        let png = tmp.path().join(format!("{name}-{width}.png"));
        screenshot(bin, report, width, (m.height.ceil() as u32 + 20).min(16_000), &png);
        if let Some(dir) = &keep {
            std::fs::create_dir_all(dir).expect("screenshot folder");
            std::fs::copy(
                &png,
                dir.join(format!(
                    "report-{name}-{}.png",
                    if width < 500 { "phone" } else { "desktop" }
                )),
            )
            .expect("kept");
        }
    }
}

fn northbound(args: &[&str], out: &Path) {
    let o = bin()
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_single_runs_report_reads_on_a_desktop_and_a_phone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    northbound(&["run", scenario("protocol-2023.toml").to_str().expect("path")], &out);
    look_at(&out.join("report.html"), "protocol-2023", "run", 2);
}

#[test]
fn a_replicates_report_reads_on_a_desktop_and_a_phone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("reps");
    northbound(
        &[
            "run",
            scenario("protocol-2023.toml").to_str().expect("path"),
            "--replicates",
            "5",
        ],
        &out,
    );
    look_at(&out.join("report.html"), "protocol-2023", "replicates", 2);
}

#[test]
fn a_comparisons_report_reads_on_a_desktop_and_a_phone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("cmp");
    northbound(
        &[
            "compare",
            scenario("protocol-2023.toml").to_str().expect("path"),
            "--replicates",
            "4",
            "--window",
            "2023-04-01..2023-06-30",
        ],
        &out,
    );
    let html = read(&out.join("report.html"));
    assert!(
        html.contains("<title>protocol-2023 — northbound</title>"),
        "titled with the scenario"
    );
    assert!(html.contains("data-chart=\"bars\"") && html.contains("data-chart=\"map\""));
    look_at(&out.join("report.html"), "protocol-2023", "compare", 1);
}

#[test]
fn a_sweeps_report_reads_on_a_desktop_and_a_phone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("sweep");
    northbound(
        &[
            "sweep",
            scenario("protocol-2023.toml").to_str().expect("path"),
            "--param",
            "policy.rcmp_between_ports.detection_rate=0.5:0.9:0.2",
            "--param",
            "population.roxham_flow.informed_share=0.5:0.9:0.4",
            "--replicates",
            "2",
            "--scale",
            "0.3",
        ],
        &out,
    );
    let html = read(&out.join("report.html"));
    assert_eq!(
        html.matches("data-chart=\"line\" data-axis=\"number\"").count(),
        2 * 2,
        "one chart per swept parameter, drawn wide and narrow"
    );
    look_at(&out.join("report.html"), "protocol-2023", "sweep", 0);
}

// ------------------------------------------------------------ Self-contained

#[test]
fn reports_are_one_file_that_fetches_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("run");
    northbound(
        &[
            "run",
            scenario("caravan-2025.toml").to_str().expect("path"),
            "--replicates",
            "2",
        ],
        &out,
    );
    let html = read(&out.join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "no scripts");
    // No address anywhere: nothing can be fetched, and the page's policy forbids it anyway.
    for bad in ["http:", "https:", "//cdn", "@import", "<link", "<img", "<iframe"] {
        assert!(!html.contains(bad), "found {bad}");
    }
    assert_eq!(
        html.matches("url(").count(),
        html.matches("url(#").count(),
        "url() only for the page's own clip paths"
    );
    assert!(html.contains("default-src 'none'"));
    // The map is drawn on land and borders (paths of the basemap), with its attribution.
    assert!(html.contains("Natural Earth") && html.contains("Lambert conformal conic"));
    assert!(html.contains("fill=\"#f5f2ea\""), "land is drawn");
}

// ------------------------------------------------------------ GeoJSON

/// Checks a GeoJSON text against the structure RFC 7946 sets: a
/// FeatureCollection of Features, no `crs`, geometries of the seven types
/// with positions of longitude then latitude, lines of two positions or
/// more, closed rings of four or more with exterior rings counterclockwise
/// and holes clockwise (the right-hand rule), and a well-formed `bbox`.
fn check_rfc7946(text: &str, what: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    text.parse::<geojson::GeoJson>()
        .unwrap_or_else(|e| panic!("{what}: the geojson crate refuses it: {e}"));
    assert_eq!(v["type"], "FeatureCollection", "{what}");
    fn no_crs(v: &Value, what: &str) {
        match v {
            Value::Object(m) => {
                assert!(!m.contains_key("crs"), "{what}: RFC 7946 removed `crs`");
                m.values().for_each(|x| no_crs(x, what));
            }
            Value::Array(a) => a.iter().for_each(|x| no_crs(x, what)),
            _ => {}
        }
    }
    no_crs(&v, what);
    fn position(p: &Value, what: &str) -> (f64, f64) {
        let a = p.as_array().unwrap_or_else(|| panic!("{what}: a position is an array"));
        assert!(a.len() == 2 || a.len() == 3, "{what}: position {p}");
        let (lon, lat) = (a[0].as_f64().expect("number"), a[1].as_f64().expect("number"));
        assert!(
            (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat),
            "{what}: {p} is not lon, lat"
        );
        (lon, lat)
    }
    fn ring(r: &Value, exterior: bool, what: &str) {
        let pts: Vec<(f64, f64)> = r.as_array().expect("ring").iter().map(|p| position(p, what)).collect();
        assert!(pts.len() >= 4, "{what}: a ring has at least four positions");
        assert_eq!(pts.first(), pts.last(), "{what}: a ring is closed");
        let area: f64 = pts.windows(2).map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1).sum::<f64>() / 2.0;
        assert!(
            (area > 0.0) == exterior,
            "{what}: {} ring is {} (right-hand rule)",
            if exterior { "an exterior" } else { "a hole" },
            if area > 0.0 { "counterclockwise" } else { "clockwise" }
        );
    }
    fn geometry(g: &Value, what: &str) {
        let c = &g["coordinates"];
        match g["type"].as_str().expect("a geometry type") {
            "Point" => {
                position(c, what);
            }
            "MultiPoint" => c.as_array().expect("points").iter().for_each(|p| {
                position(p, what);
            }),
            "LineString" => {
                assert!(
                    c.as_array().expect("line").len() >= 2,
                    "{what}: a line has two positions"
                );
                c.as_array().expect("line").iter().for_each(|p| {
                    position(p, what);
                });
            }
            "MultiLineString" => c.as_array().expect("lines").iter().for_each(|l| {
                assert!(
                    l.as_array().expect("line").len() >= 2,
                    "{what}: a line has two positions"
                );
                l.as_array().expect("line").iter().for_each(|p| {
                    position(p, what);
                });
            }),
            "Polygon" => c
                .as_array()
                .expect("rings")
                .iter()
                .enumerate()
                .for_each(|(i, r)| ring(r, i == 0, what)),
            "MultiPolygon" => c.as_array().expect("polygons").iter().for_each(|p| {
                p.as_array()
                    .expect("rings")
                    .iter()
                    .enumerate()
                    .for_each(|(i, r)| ring(r, i == 0, what))
            }),
            "GeometryCollection" => g["geometries"]
                .as_array()
                .expect("geometries")
                .iter()
                .for_each(|x| geometry(x, what)),
            t => panic!("{what}: {t} is not a GeoJSON geometry"),
        }
        if let Some(b) = g.get("bbox") {
            assert!(
                b.as_array().map(|a| a.len() % 2 == 0 && a.len() >= 4).unwrap_or(false),
                "{what}: bbox"
            );
        }
    }
    let features = v["features"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: features"))
        .clone();
    for ft in &features {
        assert_eq!(ft["type"], "Feature", "{what}");
        assert!(
            ft["properties"].is_object() || ft["properties"].is_null(),
            "{what}: properties"
        );
        if let Some(id) = ft.get("id") {
            assert!(id.is_string() || id.is_number(), "{what}: id");
        }
        if !ft["geometry"].is_null() {
            geometry(&ft["geometry"], what);
        }
    }
    features
}

#[test]
fn places_and_flows_are_rfc_7946_geojson_in_longitude_latitude_order() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("reps");
    northbound(
        &[
            "run",
            scenario("protocol-2023.toml").to_str().expect("path"),
            "--replicates",
            "3",
            "--scale",
            "0.3",
        ],
        &out,
    );
    let places = check_rfc7946(&read(&out.join("places.geojson")), "places.geojson");
    assert_eq!(places.len(), 19, "one point per place");
    let roxham = places
        .iter()
        .find(|p| p["properties"]["id"] == "roxham_road")
        .expect("Roxham Road");
    // places.csv of the shared data: 45.011 N, 73.474 W — longitude first.
    assert_eq!(roxham["geometry"]["coordinates"], serde_json::json!([-73.474, 45.011]));
    let p = &roxham["properties"];
    for k in ["arrived", "claims", "turned_back", "detected", "present_peak"] {
        let (m, lo, hi) = (f(p, k), f(p, &format!("{k}_lo95")), f(p, &format!("{k}_hi95")));
        assert!(lo <= m + 1e-9 && m <= hi + 1e-9, "{k}: {lo} ≤ {m} ≤ {hi}");
    }
    assert!(f(p, "claims") > 0.0 && p["kind"] == "crossing" && p["claim_point"] == true);
    // The claims in places.geojson are the claims of the replicates' places.csv.
    let mut sums = Vec::new();
    for k in 0..3 {
        let (h, rows) = csv_rows(&out.join(format!("replicate-{k}/places.csv")));
        let (pi, ci) = (
            h.iter().position(|c| c == "place").expect("place"),
            h.iter().position(|c| c == "claims").expect("claims"),
        );
        sums.push(
            rows.iter()
                .filter(|r| r[pi] == "roxham_road")
                .map(|r| r[ci].parse::<f64>().expect("count"))
                .sum::<f64>(),
        );
    }
    assert!((f(p, "claims") - sums.iter().sum::<f64>() / 3.0).abs() < 1e-3);
    let flows = check_rfc7946(&read(&out.join("flows.geojson")), "flows.geojson");
    let v: Value = serde_json::from_str(&read(&out.join("flows.geojson"))).expect("json");
    let windows = v["windows"].as_array().expect("the policy windows are described");
    assert_eq!(windows.len(), 2, "before and after the protocol of 25 March 2023");
    assert_eq!(windows[1]["from"], "2023-03-25");
    let r = flows
        .iter()
        .find(|f| f["properties"]["from"] == "plattsburgh" && f["properties"]["to"] == "roxham_road")
        .expect("the taxi to Roxham Road");
    let q = &r["properties"];
    assert_eq!(q["mode"], "car");
    assert!((f(q, "people") - f(q, "people_fwd") - f(q, "people_back")).abs() < 0.01);
    assert!(
        (f(q, "people") - f(q, "w1_people") - f(q, "w2_people")).abs() < 0.01,
        "windows add up"
    );
    assert!(
        f(q, "w1_people") > f(q, "w2_people"),
        "Roxham Road emptied after the protocol"
    );
    // Comparisons: per variant, with the paired difference and its interval.
    let cmp = tmp.path().join("cmp");
    northbound(
        &[
            "compare",
            scenario("protocol-2023.toml").to_str().expect("path"),
            "--replicates",
            "3",
            "--scale",
            "0.3",
        ],
        &cmp,
    );
    let flows = check_rfc7946(&read(&cmp.join("flows.geojson")), "compare flows.geojson");
    let q = &flows
        .iter()
        .find(|f| f["properties"]["from"] == "plattsburgh" && f["properties"]["to"] == "lacolle")
        .expect("the taxi to Lacolle")["properties"];
    let d = f(q, "stca_suspended_diff");
    assert!((f(q, "stca_suspended_people") - f(q, "people") - d).abs() < 0.01);
    assert!(f(q, "stca_suspended_diff_lo95") <= d && d <= f(q, "stca_suspended_diff_hi95"));
    assert!(d > 0.0, "without the STCA more people take the taxi to the port");
    check_rfc7946(&read(&cmp.join("places.geojson")), "compare places.geojson");
    // The basemap the maps are drawn on is valid GeoJSON too.
    check_rfc7946(
        &read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report/basemap/north-america.geojson")),
        "basemap",
    );
}

// ------------------------------------------------------------ Periods

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let x = q * (v.len() - 1) as f64;
    let (i, fr) = (x.floor() as usize, x - x.floor());
    v[i] * (1.0 - fr) + v[(i + 1).min(v.len() - 1)] * fr
}

#[test]
fn period_bands_are_percentiles_of_each_replicates_weekly_and_monthly_totals() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for period in ["week", "month"] {
        let out = tmp.path().join(period);
        northbound(
            &[
                "run",
                fixture("periods.toml").to_str().expect("path"),
                "--replicates",
                "4",
                "--period",
                period,
            ],
            &out,
        );
        // By hand: each replicate's daily arrivals at the port, summed by
        // calendar period (weeks from Monday; months), then percentiles.
        let mut by_rep: Vec<std::collections::BTreeMap<String, f64>> = Vec::new();
        for k in 0..4 {
            let (h, rows) = csv_rows(&out.join(format!("replicate-{k}/places.csv")));
            let at = |c: &str| h.iter().position(|x| x == c).expect("column");
            let mut m = std::collections::BTreeMap::new();
            for r in rows.iter().filter(|r| r[at("place")] == "port") {
                let d = chrono::NaiveDate::parse_from_str(&r[at("date")], "%Y-%m-%d").expect("date");
                let key = if period == "week" {
                    let monday = d - chrono::Days::new(chrono::Datelike::weekday(&d).num_days_from_monday() as u64);
                    monday.to_string()
                } else {
                    d.format("%Y-%m").to_string()
                };
                *m.entry(key).or_insert(0.0) += r[at("arrived")].parse::<f64>().expect("count");
            }
            by_rep.push(m);
        }
        let (h, rows) = csv_rows(&out.join("periods.csv"));
        assert_eq!(
            h,
            ["period", "from", "until", "days", "complete", "place", "metric", "mean", "sd", "lo95", "hi95"]
        );
        let mine: Vec<&Vec<String>> = rows.iter().filter(|r| r[5] == "port" && r[6] == "arrived").collect();
        assert_eq!(mine.len(), by_rep[0].len(), "{period}: one row per period");
        for (r, key) in mine.iter().zip(by_rep[0].keys()) {
            let mut v: Vec<f64> = by_rep.iter().map(|m| m[key]).collect();
            let mean = v.iter().sum::<f64>() / 4.0;
            let (lo, hi) = (percentile(&mut v, 0.025), percentile(&mut v, 0.975));
            let got: Vec<f64> = r[7..].iter().map(|x| x.parse().expect("number")).collect();
            assert!(
                (got[0] - mean).abs() < 1e-3 && (got[2] - lo).abs() < 1e-3 && (got[3] - hi).abs() < 1e-3,
                "{period} {}: table {got:?}, by hand mean {mean} band {lo}–{hi}",
                r[0]
            );
        }
        if period == "week" {
            // Wednesday 1 January to Sunday 5 January: a partial first week.
            assert_eq!(&mine[0][..5], ["2025-W01", "2025-01-01", "2025-01-05", "5", "false"]);
            assert_eq!(&mine[1][..5], ["2025-W02", "2025-01-06", "2025-01-12", "7", "true"]);
            let last = mine.last().expect("a week");
            assert_eq!(&last[1..5], ["2025-02-10", "2025-02-15", "6", "false"]);
        } else {
            assert_eq!(&mine[1][..5], ["2025-02", "2025-02-01", "2025-02-15", "15", "false"]);
        }
    }
}

// ------------------------------------------------------------ Datapackage

const TYPES: [&str; 5] = ["string", "integer", "number", "date", "boolean"];

/// Every table in the folder is described with every column, and every
/// value reads as its declared type.
fn check_datapackage(dir: &Path, kind: &str) {
    let dp: Value = serde_json::from_str(&read(&dir.join("datapackage.json"))).expect("json");
    assert_eq!(dp["profile"], "data-package");
    assert_eq!(dp["northbound"]["kind"], kind);
    let resources = dp["resources"].as_array().expect("resources");
    let mut csvs = Vec::new();
    let mut walk = vec![dir.to_path_buf()];
    while let Some(d) = walk.pop() {
        for e in std::fs::read_dir(&d).expect("folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk.push(p);
            } else if p.extension().map(|x| x == "csv").unwrap_or(false) {
                csvs.push(p.strip_prefix(dir).expect("inside").to_string_lossy().into_owned());
            }
        }
    }
    assert!(!csvs.is_empty());
    for file in &csvs {
        let r = resources
            .iter()
            .find(|r| r["path"] == file.as_str())
            .unwrap_or_else(|| panic!("{kind}: {file} is not in datapackage.json"));
        assert_eq!(r["profile"], "tabular-data-resource");
        let fields = r["schema"]["fields"].as_array().expect("fields");
        let (h, rows) = csv_rows(&dir.join(file));
        let names: Vec<&str> = fields.iter().map(|x| x["name"].as_str().expect("name")).collect();
        assert_eq!(names, h, "{file}: the schema lists the columns in order");
        for (i, fd) in fields.iter().enumerate() {
            let ty = fd["type"].as_str().expect("type");
            let desc = fd["description"].as_str().expect("description");
            assert!(TYPES.contains(&ty), "{file}: {}: type {ty}", fd["name"]);
            assert!(
                desc.len() > 10 && desc != "undocumented",
                "{file}: {} is not described",
                fd["name"]
            );
            if ty == "integer" || ty == "number" {
                let unit_ok = fd.get("unit").map(|u| u.is_string()).unwrap_or(true);
                assert!(unit_ok, "{file}: unit");
            }
            for row in rows.iter().take(5000) {
                let x = &row[i];
                if x.is_empty() {
                    continue;
                }
                let ok = match ty {
                    "integer" => x.parse::<i64>().is_ok(),
                    "number" => x.parse::<f64>().map(f64::is_finite).unwrap_or(false),
                    "date" => chrono::NaiveDate::parse_from_str(x, "%Y-%m-%d").is_ok(),
                    "boolean" => x == "true" || x == "false",
                    _ => true,
                };
                assert!(ok, "{file}: {} = {x} is not a {ty}", fd["name"]);
            }
        }
    }
    for g in ["places.geojson", "flows.geojson"] {
        if dir.join(g).exists() {
            assert!(resources
                .iter()
                .any(|r| r["path"] == g && r["mediatype"] == "application/geo+json"));
        }
    }
}

#[test]
fn every_folder_describes_its_tables_in_a_datapackage() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = scenario("protocol-2023.toml");
    let sc = sc.to_str().expect("path");
    let run = tmp.path().join("run");
    northbound(&["run", sc, "--scale", "0.2", "--trace", "5", "--by-cohort"], &run);
    check_datapackage(&run, "run");
    let reps = tmp.path().join("reps");
    northbound(
        &["run", sc, "--scale", "0.2", "--replicates", "2", "--period", "month"],
        &reps,
    );
    check_datapackage(&reps, "replicates");
    let cmp = tmp.path().join("cmp");
    northbound(&["compare", sc, "--scale", "0.2", "--replicates", "2"], &cmp);
    check_datapackage(&cmp, "compare");
    let sweep = tmp.path().join("sweep");
    northbound(
        &[
            "sweep",
            sc,
            "--scale",
            "0.2",
            "--replicates",
            "2",
            "--param",
            "policy.rcmp_between_ports.detection_rate=0.5:0.9:0.4",
        ],
        &sweep,
    );
    check_datapackage(&sweep, "sweep");
    // The sweep's long table: one row per point × (state, event or place × flow).
    let (h, rows) = csv_rows(&sweep.join("sweep_long.csv"));
    assert_eq!(h[..2], ["point", "policy.rcmp_between_ports.detection_rate"]);
    // 10 final states, 5 events, 19 places × 7 flows (removed included).
    let per_point = 10 + 5 + 19 * 7;
    assert_eq!(rows.len(), 2 * per_point);
    assert!(rows.iter().any(|r| r[2] == "roxham_road" && r[3] == "claims"));
}

// ------------------------------------------------------------ Summary

#[test]
fn summary_md_says_what_happened_what_the_range_covers_and_where_inputs_come_from() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("reps");
    let o = bin()
        .args(["run"])
        .arg(scenario("protocol-2023.toml"))
        .args(["--replicates", "3", "--scale", "0.3", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(o.status.success());
    let md = read(&out.join("summary.md"));
    assert!(md.starts_with("**protocol-2023**"), "{md}");
    assert!(
        md.contains("they cover chance and inputs: each replicate drew its"),
        "says which uncertainty the ranges cover: protocol-2023 has uncertain inputs, drawn by default: {md}"
    );
    assert!(md.contains("3 replicates"));
    assert!(md.contains("the last full month simulated"), "a planner's figure: {md}");
    assert!(md.contains("Between 1 and 30 September 2023"), "{md}");
    // Sourced since issue 15: the group traits mix assumptions and sources,
    // and the inputs no source gives are uncertain, drawn by each replicate.
    assert!(md.contains("group traits and budgets mix"), "{md}");
    assert!(
        md.contains("16 of them are written with a range (sourced or assumed as marked): 16 uncertain inputs,")
            && md.contains("drawn anew by each replicate"),
        "{md}"
    );
    // The failure keys of issue 14 are marked beside their values: assumptions,
    // one calibrated, the rest northbound's defaults.
    assert!(
        md.contains("behaviour weights mix") && md.contains("1 calibrated") && md.contains("defaults"),
        "{md}"
    );
    // The headline figure is the tables' own: claims in the US, replicates' mean.
    let mut us = 0.0;
    for k in 0..3 {
        let (_, rows) = csv_rows(&out.join(format!("replicate-{k}/outcomes.csv")));
        us += rows
            .iter()
            .filter(|r| r[2] == "claimed_us")
            .map(|r| r[3].parse::<f64>().expect("n"))
            .sum::<f64>();
    }
    let us = us / 3.0;
    // "By 30 September 2023, …, 3,959 (range 3,953–3,967; 29 %) had claimed
    // asylum in Canada and 586 (range 576–603; 4.3 %) had claimed asylum in
    // the United States."
    let at = md
        .find("had claimed asylum in the United States")
        .expect("the US claims are named");
    let before = &md[..at];
    let seg = before[..before.rfind('(').expect("its range")].trim_end();
    let shown: f64 = seg
        .rsplit(' ')
        .next()
        .expect("a number")
        .replace(',', "")
        .parse()
        .expect("a number");
    assert!(
        (shown - us).abs() <= (0.01 * us).max(10.0),
        "the summary says {shown}, the tables' mean is {us}: {md}"
    );
    // The report shows the same text at the top.
    let html = read(&out.join("report.html"));
    assert!(html.contains("<section class=\"summary\">") && html.contains("cover chance and inputs"));
    // The terminal prints numbers people read, and says what the range is.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("2.5th to the 97.5th percentile") && stdout.contains("cover chance and inputs"),
        "{stdout}"
    );
    for l in stdout.lines().filter(|l| l.contains("claimed_")) {
        assert!(!l.chars().any(|c| c == '.'), "no false decimals: {l}");
    }
    // Under --fixed-inputs the same folder says its ranges are chance alone,
    // in summary.md, the report's captions and the data package.
    let fixed = tmp.path().join("fixed");
    let o = bin()
        .args(["run"])
        .arg(scenario("protocol-2023.toml"))
        .args(["--replicates", "2", "--scale", "0.1", "--fixed-inputs", "--out"])
        .arg(&fixed)
        .output()
        .expect("runs");
    assert!(o.status.success());
    let md = read(&fixed.join("summary.md"));
    assert!(
        md.contains("they cover chance only: the 16 uncertain inputs fixed"),
        "{md}"
    );
    let html = read(&fixed.join("report.html"));
    assert!(html.contains("(chance only)") && !html.contains("chance and inputs"));
    let package = read(&fixed.join("datapackage.json"));
    assert!(package.contains("(chance only)") && !package.contains("chance and inputs"));
    assert!(!fixed.join("inputs.csv").exists());
    // A calibrated scenario says so.
    let cal = tmp.path().join("roxham");
    northbound(
        &[
            "run",
            scenario("roxham-2017-2020.toml").to_str().expect("path"),
            "--scale",
            "0.05",
        ],
        &cal,
    );
    let md = read(&cal.join("summary.md"));
    assert!(md.contains("calibrated"), "{md}");
    assert!(
        md.contains("one run: one draw of chance") || md.contains("one draw of chance"),
        "{md}"
    );
}

// ------------------------------------------------------------ Compare

#[test]
fn compare_writes_per_variant_weeks_and_place_differences_over_a_window() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = scenario("protocol-2023.toml");
    let sc = sc.to_str().expect("path");
    let whole = tmp.path().join("whole");
    northbound(&["compare", sc, "--replicates", "3", "--scale", "0.3"], &whole);
    // Over the whole run, place differences are comparison.csv's place rows.
    let (_, cmp) = csv_rows(&whole.join("comparison.csv"));
    let (h, pd) = csv_rows(&whole.join("place_differences.csv"));
    assert_eq!(
        h,
        [
            "variant",
            "place",
            "metric",
            "from",
            "until",
            "base",
            "mean",
            "diff",
            "diff_lo95",
            "diff_hi95"
        ]
    );
    let cmp_places: Vec<&Vec<String>> = cmp.iter().filter(|r| !r[2].is_empty()).collect();
    assert_eq!(pd.len(), cmp_places.len());
    for (a, b) in pd.iter().zip(cmp_places) {
        assert_eq!((&a[0], &a[1], &a[2]), (&b[0], &b[2], &b[1]));
        assert_eq!(&a[5..], &b[3..], "{a:?} vs {b:?}");
        assert_eq!((a[3].as_str(), a[4].as_str()), ("2023-01-01", "2023-09-30"));
    }
    // A window of whole weeks: the base's and each variant's means are the
    // sums of their weekly means in periods.csv (means add up).
    let win = tmp.path().join("win");
    northbound(
        &[
            "compare",
            sc,
            "--replicates",
            "3",
            "--scale",
            "0.3",
            "--window",
            "2023-04-03..2023-07-02",
        ],
        &win,
    );
    let (_, pd) = csv_rows(&win.join("place_differences.csv"));
    let (ph, periods) = csv_rows(&win.join("periods.csv"));
    assert_eq!(ph[0], "variant");
    let weekly = |variant: &str, place: &str, metric: &str| -> f64 {
        periods
            .iter()
            .filter(|r| r[0] == variant && r[6] == place && r[7] == metric)
            .filter(|r| r[2].as_str() >= "2023-04-03" && r[3].as_str() <= "2023-07-02")
            .map(|r| r[8].parse::<f64>().expect("mean"))
            .sum()
    };
    let row = pd
        .iter()
        .find(|r| r[0] == "stca_suspended" && r[1] == "lacolle" && r[2] == "claims")
        .expect("claims at Lacolle");
    assert_eq!((row[3].as_str(), row[4].as_str()), ("2023-04-03", "2023-07-02"));
    let (base, var): (f64, f64) = (row[5].parse().expect("n"), row[6].parse().expect("n"));
    assert!((base - weekly("base", "lacolle", "claims")).abs() < 0.01, "{base}");
    assert!(
        (var - weekly("stca_suspended", "lacolle", "claims")).abs() < 0.01,
        "{var}"
    );
    assert!(var > base);
    let md = read(&win.join("summary.md"));
    assert!(md.contains("between 3 April and 2 July 2023"), "{md}");
    let dp: Value = serde_json::from_str(&read(&win.join("datapackage.json"))).expect("json");
    assert_eq!(
        dp["northbound"]["window"],
        serde_json::json!(["2023-04-03", "2023-07-02"])
    );
    // A window outside the run is bad input.
    for bad in ["2022-12-01..2023-01-10", "2023-05-01..2023-04-01", "april..may"] {
        let o = bin()
            .args(["compare", sc, "--replicates", "1", "--window", bad])
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--window"), "{bad}");
    }
}
