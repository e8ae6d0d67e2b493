//! The model's mechanics on toy graphs whose answers are known.

mod common;
use common::*;

/// A graph o → {t1, t2} with two claim points at different distances.
fn two_targets(km1: f64, km2: f64, w_dist: f64, people: u64) -> String {
    format!(
        r#"[scenario]
name = "logit"
start = 2025-01-01
end = 2025-03-31
seed = 5

[behaviour]
w_dist = {w_dist}
news_delay_days = {{ mean = 0, max = 0 }}

[[place]]
id = "o"
country = "MX"
kind = "city"
lat = 15
lon = -92

[[place]]
id = "t1"
country = "US"
kind = "crossing"
lat = 27
lon = -99

[[place]]
id = "t2"
country = "US"
kind = "crossing"
lat = 31
lon = -106

[[route]]
from = "o"
to = "t1"
km = {km1}
mode = "bus"

[[route]]
from = "o"
to = "t2"
km = {km2}
mode = "bus"

[[population]]
id = "p"
origin = "o"
nationality = "HN"
people = {people}
destinations = {{ US = 1 }}
depart = 2025-01-01
"#
    )
}

fn claims_at(out: &std::path::Path, place: &str) -> u64 {
    places(out).iter().filter(|r| r.place == place).map(|r| r.claims).sum()
}

#[test]
fn logit_shares_over_two_targets_match_the_formula_within_sampling_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let n = 40_000u64;
    for (km1, km2, w) in [(500.0, 1500.0, 1.0), (800.0, 800.0, 1.0), (300.0, 1300.0, 2.5)] {
        let p = write(tmp.path(), "logit.toml", &two_targets(km1, km2, w, n));
        let out = tmp.path().join(format!("o{km1}{km2}{w}"));
        run(&p, &out, &[]);
        let c1 = claims_at(&out, "t1") as f64;
        let c2 = claims_at(&out, "t2") as f64;
        assert_eq!((c1 + c2) as u64, n, "everyone claims at one of the two");
        // U = −w_dist · km / 1000, so P(t1) = 1 / (1 + exp(−w (km2 − km1) / 1000))
        let expect = 1.0 / (1.0 + (-w * (km2 - km1) / 1000.0).exp());
        let share = c1 / n as f64;
        let sd = (expect * (1.0 - expect) / n as f64).sqrt();
        assert!(
            (share - expect).abs() < 4.0 * sd,
            "km {km1}/{km2}, w_dist {w}: share {share:.4}, formula {expect:.4} (sd {sd:.4})"
        );
    }
}

#[test]
fn walking_agents_cover_a_route_in_the_days_its_km_and_mode_imply() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // 100 km on foot at 20 km/day: 5 days of travel, days 1–5, arrival on day 5.
    let text = BASE.replacen(
        "[[place]]",
        "[behaviour]\nspeed_km_per_day = { walk = 20 }\n\n[[place]]",
        1,
    );
    let p = write(tmp.path(), "walk.toml", &text);
    let out = tmp.path().join("walk");
    run(&p, &out, &[]);
    let rows = places(&out);
    let arrivals: Vec<(u32, u64)> = rows
        .iter()
        .filter(|r| r.place == "port" && r.arrived > 0)
        .map(|r| (r.day, r.arrived))
        .collect();
    assert_eq!(arrivals, vec![(5, 100)], "all 100 arrive on day 5 (departed day 1)");
    let departed: Vec<(u32, u64)> = rows
        .iter()
        .filter(|r| r.place == "home" && r.departed > 0)
        .map(|r| (r.day, r.departed))
        .collect();
    assert_eq!(departed, vec![(1, 100)]);
    // with a route written in days, the days rule
    let days = text.replace("mode = \"walk\"", "mode = \"walk\"\ndays = 2.5");
    let p = write(tmp.path(), "days.toml", &days);
    let out = tmp.path().join("days");
    run(&p, &out, &[]);
    let first: Vec<u32> = places(&out)
        .iter()
        .filter(|r| r.place == "port" && r.arrived > 0)
        .map(|r| r.day)
        .collect();
    assert_eq!(first, vec![3], "2.5 days from day 1: arrival during day 3");
}

/// o → b → d and o → c → d; b is reached only over o–b.
const DIAMOND: &str = r#"[scenario]
name = "diamond"
start = 2025-01-01
end = 2025-02-28
seed = 9

[behaviour]
news_delay_days = { mean = 0, max = 0 }
w_dist = 0.5

[[place]]
id = "o"
country = "MX"
kind = "city"
lat = 15
lon = -92

[[place]]
id = "b"
country = "MX"
kind = "town"
lat = 16
lon = -93

[[place]]
id = "c"
country = "MX"
kind = "shelter"
capacity = CAPACITY
lat = 16
lon = -91

[[place]]
id = "d"
country = "US"
kind = "crossing"
lat = 27
lon = -99

[[route]]
from = "o"
to = "b"
km = 100
mode = "bus"

[[route]]
from = "b"
to = "d"
km = 900
mode = "bus"

[[route]]
from = "o"
to = "c"
km = 150
mode = "bus"

[[route]]
from = "c"
to = "d"
km = 900
mode = "bus"

[[population]]
id = "p"
origin = "o"
nationality = "GT"
people = 30000
destinations = { US = 1 }
depart_from = 2025-01-01
depart_until = 2025-02-20
POLICY
"#;

#[test]
fn a_closed_route_carries_no_flow_while_closed_and_does_in_the_control_run() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let control = DIAMOND.replace("CAPACITY", "1000000").replace("POLICY", "");
    let closed = DIAMOND.replace("CAPACITY", "1000000").replace(
        "POLICY",
        "\n[[policy]]\nid = \"shut\"\nkind = \"closure\"\nfrom = 2025-01-10\nuntil = 2025-01-31\nroutes = [[\"o\", \"b\"]]\n",
    );
    let (pc, px) = (
        write(tmp.path(), "control.toml", &control),
        write(tmp.path(), "closed.toml", &closed),
    );
    let (oc, ox) = (tmp.path().join("control"), tmp.path().join("closed"));
    run(&pc, &oc, &[]);
    run(&px, &ox, &[]);
    // days 9..=30 are the closure window (day 0 = 1 January)
    let in_window = |r: &Row| r.place == "b" && (9..=30).contains(&r.day);
    let control_flow: u64 = places(&oc).iter().filter(|r| in_window(r)).map(|r| r.arrived).sum();
    let closed_flow: u64 = places(&ox).iter().filter(|r| in_window(r)).map(|r| r.arrived).sum();
    assert!(
        control_flow > 1000,
        "the route carries flow in the control run: {control_flow}"
    );
    assert_eq!(closed_flow, 0, "no one reaches b over the closed route");
    let after: u64 = places(&ox)
        .iter()
        .filter(|r| r.place == "b" && r.day > 31)
        .map(|r| r.arrived)
        .sum();
    assert!(after > 0, "flow returns when the window ends");
}

#[test]
fn a_shelter_whose_capacity_binds_never_holds_more_than_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // Close o–b so that everyone goes through the shelter c (capacity 400).
    let text = DIAMOND.replace("CAPACITY", "400").replace(
        "POLICY",
        "\n[[policy]]\nid = \"shut\"\nkind = \"closure\"\nroutes = [[\"o\", \"b\"]]\n",
    );
    let p = write(tmp.path(), "shelter.toml", &text);
    let out = tmp.path().join("shelter");
    run(&p, &out, &[]);
    let rows = places(&out);
    let max = rows
        .iter()
        .filter(|r| r.place == "c")
        .map(|r| r.present)
        .max()
        .unwrap_or(0);
    assert!(max <= 400, "shelter held {max} > 400");
    assert!(max >= 380, "the capacity binds: max {max}");
    let waiting_at_o = rows
        .iter()
        .filter(|r| r.place == "o")
        .map(|r| r.present)
        .max()
        .unwrap_or(0);
    assert!(waiting_at_o > 0, "people wait at o for room");
}

#[test]
fn the_example_in_the_scenario_format_doc_loads_and_runs() {
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario-format.md"))
        .expect("the doc exists");
    let example = doc.find("## Example").expect("the doc has an example section");
    let start = example + doc[example..].find("```toml\n").expect("the doc has a TOML example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the example ends");
    let tmp = tempfile::tempdir().expect("temp dir");
    let p = write(tmp.path(), "example.toml", &doc[start..end]);
    let out = tmp.path().join("example");
    run(&p, &out, &[]);
    let rows = places(&out);
    // the capacity of the shelter (500) holds, and the closure of laredo stops claims in its window
    assert!(rows.iter().filter(|r| r.place == "shelter").all(|r| r.present <= 500));
    let closed: u64 = rows
        .iter()
        .filter(|r| r.place == "laredo" && (31..=44).contains(&r.day))
        .map(|r| r.claims)
        .sum();
    assert_eq!(closed, 0);
    assert!(
        rows.iter()
            .filter(|r| r.place == "laredo")
            .map(|r| r.claims)
            .sum::<u64>()
            > 0
    );
}

/// The rows of a side table (`caravan.csv`, `offers.csv`, `papers.csv`) as
/// maps from column to cell.
fn side_rows(out: &std::path::Path, name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let head = r.headers().expect("header").clone();
    r.records()
        .map(|x| {
            let x = x.expect("row");
            head.iter().map(String::from).zip(x.iter().map(String::from)).collect()
        })
        .collect()
}

fn num(row: &std::collections::HashMap<String, String>, col: &str) -> u64 {
    row[col].parse().unwrap_or_else(|_| panic!("{col}: {}", row[col]))
}

/// The caravan of 6 August 2025 (facts §6b, data/caravans_2023_2025.csv):
/// it walked together, the INM's offers of papers and buses took it apart
/// within days in Chiapas, and some holders of papers were still detained
/// at checkpoints. The shipped scenario must show that story.
#[test]
fn the_caravan_of_august_2025_dissolves_in_chiapas_and_some_holders_of_papers_are_still_stopped() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("caravan");
    run(&scenario("caravan-2025.toml"), &out, &[]);
    let o = outcomes(&out);
    let total = |state: &str| o.iter().filter(|r| r.1 == state).map(|r| r.2).sum::<u64>();
    assert_eq!(o.iter().map(|r| r.2).sum::<u64>(), 300);
    assert!(
        total("claimed_mx") >= 240,
        "most claim in Mexico: {}",
        total("claimed_mx")
    );
    assert_eq!(total("claimed_us"), 0, "the US ports are closed");
    assert_eq!(
        total("claimed_ca"),
        0,
        "the flight to Canada needs a visa they do not have"
    );

    // It sets out whole and dissolves within days, in Chiapas (the caravan
    // of 6 August 2025 dissolved on its 8th day).
    const CHIAPAS: [&str; 6] = [
        "tapachula",
        "huixtla",
        "escuintla",
        "mapastepec",
        "pijijiapan",
        "arriaga",
    ];
    let caravan = side_rows(&out, "caravan.csv");
    let start = num(&caravan[0], "people");
    assert!(start >= 250, "the caravan sets out together: {start}");
    let walking: Vec<_> = caravan.iter().filter(|r| num(r, "people") > 0).collect();
    let last = walking.last().expect("the caravan walks");
    assert!(
        num(last, "day") <= 12,
        "dissolved within days, not on day {}",
        num(last, "day")
    );
    assert!(
        walking.iter().all(|r| CHIAPAS.contains(&r["place"].as_str())),
        "it never walks out of Chiapas"
    );
    // The offers take it apart: both are taken, the first by a quarter at least.
    let offers = side_rows(&out, "offers.csv");
    let took = |id: &str| {
        offers
            .iter()
            .filter(|r| r["offer"] == id)
            .map(|r| num(r, "accepted"))
            .sum::<u64>()
    };
    assert!(
        took("offer_escuintla") * 4 >= start,
        "Escuintla: {}",
        took("offer_escuintla")
    );
    assert!(took("offer_pijijiapan") > 0);
    // Some holders of papers are still stopped at a checkpoint.
    let papers = side_rows(&out, "papers.csv");
    let not_honoured: u64 = papers.iter().map(|r| num(r, "not_honoured")).sum();
    assert!(not_honoured > 0, "papers are not always honoured");
    let intercepted: u64 = places(&out)
        .iter()
        .filter(|r| r.place == "oaxaca" || r.place == "puebla")
        .map(|r| r.intercepted)
        .sum();
    assert!(
        intercepted > 0,
        "holders of papers are still intercepted at the checkpoints"
    );

    // Without the offers (nobody takes them), nothing takes the caravan
    // apart on the way: it reaches Arriaga whole; with them, at most half
    // of it does.
    let at_arriaga = |out: &std::path::Path| {
        side_rows(out, "caravan.csv")
            .iter()
            .filter(|r| r["place"] == "arriaga")
            .map(|r| num(r, "people"))
            .max()
            .unwrap_or(0)
    };
    assert!(
        at_arriaga(&out) * 2 <= start,
        "the offers split it: {} reach Arriaga",
        at_arriaga(&out)
    );
    let text = std::fs::read_to_string(scenario("caravan-2025.toml")).expect("caravan");
    let uptake = "uptake = { value = 0.4, range = [0.25, 0.75], input = \"offer_uptake\" }";
    assert_eq!(text.matches(uptake).count(), 2, "the two offers' uptake");
    let p = write(tmp.path(), "no_offers.toml", &text.replace(uptake, "uptake = 0"));
    let out2 = tmp.path().join("no_offers");
    run(&p, &out2, &[]);
    let at_arriaga = at_arriaga(&out2);
    assert!(
        at_arriaga * 10 >= start * 9,
        "without offers the caravan stays whole: {at_arriaga} of {start}"
    );
}
