//! Stocks: people already on the road on a scenario's start date, waiting
//! at a place or part-way along a route, each stock a cohort of its own
//! with the traits it carries; conserved like every other person, and
//! refused with located errors when they do not make sense.

mod common;
use common::*;
use northbound::scenario::{load_bytes, Stock};
use std::path::Path;

/// The chain a → b → c (claim point c, in the US) with a border crossing
/// c' (Canada) beyond it under the STCA at ports, and the stocks given.
fn chain_with(stocks: &str) -> String {
    format!(
        r#"[scenario]
name = "stocks"
start = 2025-01-01
end = 2025-01-30
seed = 7

[behaviour]
news_delay_days = {{ mean = 0, max = 0 }}
speed_km_per_day = {{ walk = 20 }}

[[place]]
id = "a"
country = "MX"
kind = "city"
lat = 15.0
lon = -92.0

[[place]]
id = "b"
country = "US"
kind = "town"
lat = 16.0
lon = -93.0
capacity = 50

[[place]]
id = "port_ca"
country = "CA"
kind = "crossing"
border = "US-CA"
official = true
near_side = "b"
lat = 45.0
lon = -73.4

[[route]]
from = "a"
to = "b"
km = 40
mode = "walk"

[[route]]
id = "b_to_port"
from = "b"
to = "port_ca"
km = 30
mode = "walk"
both_ways = false

[[population]]
id = "walkers"
origin = "a"
nationality = "HN"
people = 100
destinations = {{ CA = 1.0 }}
depart = 2025-01-02

[[policy]]
id = "stca"
kind = "stca"
border = "US-CA"
scope = "ports"

{stocks}"#
    )
}

const WAITING: &str = r#"[[stock]]
id = "at_b"
state = "waiting"
place = "b"
origin = "a"
people = 300
nationality = "HT"
family_share = 0.5
household_size = { 3 = 1.0 }
relatives = { CA = 1.0 }
destinations = { CA = 1.0 }
"#;

const TRAVELLING: &str = r#"[[stock]]
id = "on_the_way"
state = "travelling"
route = "b_to_port"
to = "port_ca"
days_left = 1.25
people = 40
nationality = "VE"
destinations = { CA = 1.0 }
"#;

fn outcome_sum(rows: &[(String, String, u64)], cohort: &str) -> u64 {
    rows.iter().filter(|r| r.0 == cohort).map(|r| r.2).sum()
}

#[test]
fn a_stock_is_a_cohort_of_its_own_after_the_populations_and_keeps_their_agent_ids() {
    let plain = load_bytes(chain_with("").as_bytes(), Path::new("s.toml")).expect("loads");
    let with = load_bytes(
        chain_with(&format!("{WAITING}\n{TRAVELLING}")).as_bytes(),
        Path::new("s.toml"),
    )
    .expect("stocks load");
    assert_eq!(with.cohorts.len(), 3);
    assert_eq!(with.cohorts[0], plain.cohorts[0], "the population is unchanged");
    assert_eq!(with.cohorts[1].id, "at_b");
    assert_eq!(
        with.cohorts[1].stock,
        Some(Stock {
            place: 1,
            leg: None,
            days_left: 0.0
        })
    );
    let leg = with.cohorts[2]
        .stock
        .and_then(|s| s.leg)
        .expect("a travelling stock has a leg");
    assert_eq!(with.legs[leg as usize].to, 2);
    assert_eq!(with.people(), 100 + 300 + 40);
    // Agents of the population come first, with the same draws.
    let a = northbound::agents::build(&plain, 7);
    let b = northbound::agents::build(&with, 7);
    assert_eq!(a.size[..], b.size[..a.len()]);
    assert_eq!(a.traits[..], b.traits[..a.len()]);
}

#[test]
fn stocks_start_where_they_are_carry_their_traits_and_are_conserved() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sc = write(tmp.path(), "s.toml", &chain_with(&format!("{WAITING}\n{TRAVELLING}")));
    let out = tmp.path().join("out");
    run(&sc, &out, &[]);
    let o = outcomes(&out);
    // Every person of every cohort is somewhere at the end: the tables add up.
    assert_eq!(outcome_sum(&o, "walkers"), 100);
    assert_eq!(outcome_sum(&o, "at_b"), 300);
    assert_eq!(outcome_sum(&o, "on_the_way"), 40);
    let rows = places(&out);
    let at = |day: u32, place: &str| {
        rows.iter()
            .find(|r| r.day == day && r.place == place)
            .expect("row")
            .clone()
    };
    // The waiting stock is at b on day 0 and sets out for the port: the
    // first groups leave b that day (they wait there, then decide).
    assert!(at(0, "b").departed > 0, "the stock at b sets out on day 0");
    // The travelling stock, 1.25 days from the port, arrives on day 1.
    assert_eq!(at(0, "port_ca").arrived, 0);
    assert!(at(1, "port_ca").arrived >= 40, "{:?}", at(1, "port_ca"));
    // Traits: the waiting stock all have relatives in Canada (exempt from
    // the STCA) and claim at the port; the travelling stock have none and
    // are turned back under the STCA at the port.
    let claimed = |c: &str| {
        o.iter()
            .find(|r| r.0 == c && r.1 == "claimed_ca")
            .map(|r| r.2)
            .unwrap_or(0)
    };
    assert_eq!(claimed("at_b"), 300, "{o:?}");
    assert_eq!(claimed("on_the_way"), 0, "{o:?}");
    let events = std::fs::read_to_string(out.join("events.csv")).expect("events.csv");
    assert!(
        events.contains("on_the_way,VE,turned_back,"),
        "the travelling stock is turned back:\n{events}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary")).expect("json");
    // Half the waiting stock's groups are families of three, the others
    // people alone: about 150 groups for 300 people, beside the 100
    // walkers and the 40 travellers (people alone).
    let agents = summary["agents"].as_u64().unwrap_or(0);
    assert!((260..=320).contains(&agents), "agents {agents}");
    let cohorts = summary["cohorts"].as_array().expect("cohorts");
    assert_eq!(cohorts[1]["stock"]["state"], "waiting");
    assert_eq!(cohorts[1]["stock"]["place"], "b");
    assert_eq!(cohorts[2]["stock"]["route"], "b_to_port");
    assert_eq!(cohorts[2]["stock"]["days_left"], 1.25);
    assert!(cohorts[0].get("stock").is_none(), "a population has no stock entry");
    let people: u64 = cohorts.iter().map(|c| c["people"].as_u64().unwrap_or(0)).sum();
    assert_eq!(people, summary["people"].as_u64().unwrap_or(0));
}

#[test]
fn a_stock_above_a_place_capacity_is_noted_by_the_loader() {
    let sc = load_bytes(chain_with(WAITING).as_bytes(), Path::new("s.toml")).expect("loads");
    assert!(
        sc.notes.iter().any(|n| n.contains("above its capacity of 50")),
        "{:?}",
        sc.notes
    );
}

#[test]
fn stocks_scale_with_the_run() {
    let sc = load_bytes(chain_with(WAITING).as_bytes(), Path::new("s.toml")).expect("loads");
    assert_eq!(sc.scaled(0.1).cohorts[1].people, 30);
}

fn errors(text: &str) -> String {
    match load_bytes(text.as_bytes(), Path::new("s.toml")) {
        Ok(_) => panic!("loaded but should not have"),
        Err(e) => e.render(),
    }
}

#[test]
fn bad_stocks_are_located_errors_all_at_once() {
    let bad = r#"[[stock]]
id = "walkers"
state = "travelling"
place = "b"
route = "b_to_prot"
days_left = 1
people = 10
nationality = "HT"
destinations = { CA = 1.0 }

[[stock]]
id = "x"
state = "waiting"
place = "bb"
days_left = 2
people = 0
nationality = "HT"
destinations = { CA = 1.0 }
depart = 2025-01-02

[[stock]]
id = "back"
state = "travelling"
route = "b_to_port"
to = "b"
days_left = 1
people = 5
nationality = "HT"
destinations = { CA = 1.0 }

[[stock]]
id = "far"
state = "travelling"
route = "a-b"
to = "a"
days_left = 9
people = 5
nationality = "HT"
destinations = { CA = 1.0 }

[[stock]]
id = "lost"
state = "sleeping"
people = 5
nationality = "HT"
destinations = { CA = 1.0 }
"#;
    let text = chain_with(bad);
    let out = errors(&text);
    let line = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .expect("needle")
    };
    for says in [
        "duplicate stock id `walkers`",
        "a travelling stock is on a route, not at a place",
        "no route has id \"b_to_prot\"",
        "did you mean \"b_to_port\"",
        "no place has id \"bb\"",
        "`days_left` is for a travelling stock",
        "0 people: a cohort needs at least 1",
        "unknown key",
        "route b_to_port goes one way, from b to port_ca",
        "9 days left on a route of 2.00 days",
        "unknown stock state \"sleeping\"",
    ] {
        assert!(out.contains(says), "no `{says}` in:\n{out}");
    }
    // Each is placed on its own line of the file.
    assert!(
        out.contains(&format!("s.toml:{}:", line("route = \"b_to_prot\""))),
        "{out}"
    );
    assert!(out.contains(&format!("s.toml:{}:", line("days_left = 9"))), "{out}");
    assert!(
        out.contains(&format!("s.toml:{}:", line("state = \"sleeping\""))),
        "{out}"
    );
}

#[test]
fn a_scenario_of_stocks_alone_runs() {
    let text = chain_with(WAITING).replace(
        "[[population]]\nid = \"walkers\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 100\ndestinations = { CA = 1.0 }\ndepart = 2025-01-02\n",
        "",
    );
    let sc = load_bytes(text.as_bytes(), Path::new("s.toml")).expect("a scenario of stocks alone loads");
    assert_eq!(sc.cohorts.len(), 1);
    let mut e = northbound::engine::Engine::new(&sc, sc.seed);
    while !e.done() {
        e.step().expect("conserves people");
    }
    let r = e.result(0.0).expect("conserved at the end");
    assert_eq!(r.outcomes[0].iter().sum::<u64>(), 300);
}
