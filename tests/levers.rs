//! Each policy lever against the same agents without it (same seed): the
//! quantity it moves, the direction, and a tolerance.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// The corridor fixture with `rest` (cohorts and policies) and extra
/// behaviour keys.
fn corridor(behaviour: &str, rest: &str) -> String {
    std::fs::read_to_string(fixture("corridor.toml"))
        .expect("fixture")
        .replace("BEHAVIOUR", behaviour)
        .replace("REST", rest)
}

/// Runs a scenario text; returns its output folder.
fn go(dir: &Path, name: &str, text: &str, extra: &[&str]) -> PathBuf {
    let p = write(dir, &format!("{name}.toml"), text);
    let out = dir.join(name);
    run(&p, &out, extra);
    out
}

fn sum(out: &Path, place: &str, f: impl Fn(&Row) -> u64, days: std::ops::RangeInclusive<u32>) -> u64 {
    places(out)
        .iter()
        .filter(|r| r.place == place && days.contains(&r.day))
        .map(f)
        .sum()
}

fn all_days() -> std::ops::RangeInclusive<u32> {
    0..=u32::MAX
}

fn outcome(out: &Path, state: &str) -> u64 {
    outcomes(out).iter().filter(|r| r.1 == state).map(|r| r.2).sum()
}

/// (count, people) of an event over all cohorts.
fn event(out: &Path, e: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(out.join("events.csv")).expect("events.csv");
    text.lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some(e))
        .fold((0, 0), |(c, p), l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                c + f[3].parse::<u64>().unwrap_or(0),
                p + f[4].parse::<u64>().unwrap_or(0),
            )
        })
}

/// Claims at `place` by one cohort, from cohort_places.csv.
fn cohort_claims(out: &Path, place: &str, cohort: &str) -> u64 {
    let text = std::fs::read_to_string(out.join("cohort_places.csv")).expect("cohort_places.csv");
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[2] == cohort && f[4] == place)
        .map(|f| f[8].parse::<u64>().unwrap_or(0))
        .sum()
}

fn turned_back(out: &Path, place: &str) -> u64 {
    sum(out, place, |r| r.turned_back, all_days())
}

/// People in New York who want Canada; some have relatives there (exempt).
const TRANSIT: &str = r#"
[[population]]
id = "transit"
origin = "new_york"
nationality = "HT"
people = 20000
destinations = { CA = 1.0, US = 0.05 }
knows = KNOWS
informed_share = 0.7
depart_from = 2025-01-01
depart_until = 2025-03-31

[[population]]
id = "relatives"
origin = "new_york"
nationality = "HT"
people = 4000
relatives = { CA = 1.0 }
destinations = { CA = 1.0, US = 0.05 }
knows = ["lacolle", "roxham_road", "new_york"]
depart_from = 2025-01-01
depart_until = 2025-03-31
"#;

const STCA_PORTS: &str =
    "\n[[policy]]\nid = \"stca\"\nkind = \"stca\"\nborder = \"US-CA\"\nscope = \"ports\"\nfrom = 2004-12-29\n";
const STCA_WHOLE: &str =
    "\n[[policy]]\nid = \"stca\"\nkind = \"stca\"\nborder = \"US-CA\"\nscope = \"whole_border\"\nfrom = 2004-12-29\n";
const RCMP: &str =
    "\n[[policy]]\nid = \"rcmp\"\nkind = \"enforcement\"\nplaces = [\"roxham_road\"]\ndetection_rate = 0.95\n";

/// No learning of the rules on the way: the levers alone.
const NO_LEARNING: &str = "learn_at_door = 0\nlearn_per_return = 0";

#[test]
fn stca_at_ports_turns_back_uninformed_port_claimants_while_the_informed_cross_between_ports() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let transit = TRANSIT.replace("KNOWS", "[\"lacolle\", \"roxham_road\", \"new_york\"]");
    let none = go(tmp.path(), "none", &corridor(NO_LEARNING, &transit), &["--by-cohort"]);
    let stca = go(
        tmp.path(),
        "stca",
        &corridor(NO_LEARNING, &format!("{transit}{STCA_PORTS}")),
        &["--by-cohort"],
    );
    // Claims at the official port by non-exempt people fall (to nothing).
    let (before, after) = (
        cohort_claims(&none, "lacolle", "transit"),
        cohort_claims(&stca, "lacolle", "transit"),
    );
    assert!(before > 5000, "without the STCA many claim at Lacolle: {before}");
    assert_eq!(after, 0, "with it, no non-exempt claim at Lacolle");
    // The exempt (relatives in Canada) still claim there, about as before.
    let (rb, ra) = (
        cohort_claims(&none, "lacolle", "relatives"),
        cohort_claims(&stca, "lacolle", "relatives"),
    );
    assert!(ra as f64 > 0.9 * rb as f64, "exempt claims at Lacolle: {rb} → {ra}");
    // Turnbacks rise: the uninformed (30 %) try the port, where nobody
    // crosses beside an open port, and are sent back.
    let tb = turned_back(&stca, "lacolle");
    assert_eq!(turned_back(&none, "lacolle"), 0);
    // 30 % of 20,000 people are uninformed; about 6,000, all at the port.
    assert!((5000..=7000).contains(&tb), "turned back at Lacolle: {tb}");
    // The informed cross between ports instead: without the STCA nobody
    // crosses beside the open port.
    let (ra0, ra1) = (
        sum(&none, "roxham_road", |r| r.arrived, all_days()),
        sum(&stca, "roxham_road", |r| r.arrived, all_days()),
    );
    assert_eq!(ra0, 0, "without the STCA everyone uses the port");
    assert!(ra1 > 10_000, "Roxham arrivals with the STCA: {ra1}");
    assert_eq!(
        outcome(&stca, "claimed_ca")
            + outcome(&stca, "claimed_us")
            + outcome(&stca, "settled_irregular")
            + outcome(&stca, "waiting")
            + outcome(&stca, "travelling")
            + outcome(&stca, "not_departed"),
        24000
    );
}

#[test]
fn stca_on_the_whole_border_cuts_arrivals_between_ports_against_ports_only() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // Staying in the US is a real option (weight 0.3), and most know the rules.
    let transit = TRANSIT
        .replace("KNOWS", "[\"lacolle\", \"roxham_road\", \"montreal\", \"new_york\"]")
        .replace("destinations = { CA = 1.0, US = 0.05 }\nknows = [\"lacolle\", \"roxham_road\", \"montreal\", \"new_york\"]\ninformed_share = 0.7", "destinations = { CA = 1.0, US = 0.3 }\nknows = [\"lacolle\", \"roxham_road\", \"montreal\", \"new_york\"]\ninformed_share = 0.9");
    // Failure costs nothing here (w_fail = 0), so that some informed
    // groups still take the small chance of crossing unseen.
    let b = "w_fail = 0";
    let ports = go(
        tmp.path(),
        "ports",
        &corridor(b, &format!("{transit}{STCA_PORTS}{RCMP}")),
        &[],
    );
    let whole = go(
        tmp.path(),
        "whole",
        &corridor(b, &format!("{transit}{STCA_WHOLE}{RCMP}")),
        &[],
    );
    let a0 = sum(&ports, "roxham_road", |r| r.arrived, all_days());
    let a1 = sum(&whole, "roxham_road", |r| r.arrived, all_days());
    assert!(a0 > 10_000, "ports only: Roxham is the way in: {a0}");
    assert!(
        (a1 as f64) < 0.6 * a0 as f64,
        "whole border: Roxham arrivals {a0} → {a1}"
    );
    // Those detected are returned; those who evade wait 14 days and claim inland.
    assert!(turned_back(&whole, "roxham_road") > 0, "detected crossers are returned");
    assert!(
        sum(&whole, "montreal", |r| r.claims, all_days()) > 0,
        "some claim inland after 14 days"
    );
    assert!(
        outcome(&whole, "claimed_us") > outcome(&ports, "claimed_us"),
        "more stay and claim in the US"
    );
}

#[test]
fn whole_border_claims_inland_wait_out_fourteen_days_after_crossing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // No enforcement: everyone crosses unseen; Montreal is the only door.
    let text = corridor(
        "",
        &format!(
            "{}{STCA_WHOLE}",
            TRANSIT
                .replace("KNOWS", "[\"montreal\"]")
                .replace("informed_share = 0.7", "informed_share = 1.0")
                .replace(
                    "depart_from = 2025-01-01\ndepart_until = 2025-03-31",
                    "depart = 2025-01-01"
                )
        ),
    );
    let out = go(tmp.path(), "inland", &text, &[]);
    let rows = places(&out);
    let crossed: Vec<u32> = rows
        .iter()
        .filter(|r| r.place == "roxham_road" && r.arrived > 0)
        .map(|r| r.day)
        .collect();
    let first_cross = *crossed.first().expect("people cross at Roxham");
    let first_claim = rows
        .iter()
        .filter(|r| r.place == "montreal" && r.claims > 0)
        .map(|r| r.day)
        .min()
        .expect("claims in Montreal");
    assert!(
        first_claim >= first_cross + 14,
        "crossed day {first_cross}, first claim day {first_claim}"
    );
    assert!(first_claim <= first_cross + 16);
}

/// Mexicans in Mexico City flying to Montreal; half hold US visas.
const FLYERS: &str = r#"
[[population]]
id = "mx_us_visa"
origin = "mexico_city"
nationality = "MX"
people = 5000
visa = { US = 1.0 }
destinations = { CA = 1.0 }
knows = ["yul", "lacolle", "roxham_road"]
depart = 2025-01-01

[[population]]
id = "mx_no_visa"
origin = "mexico_city"
nationality = "MX"
people = 5000
destinations = { CA = 1.0 }
knows = ["yul", "lacolle", "roxham_road"]
depart = 2025-01-01
"#;

#[test]
fn visa_closes_flights_to_listed_nationals_without_a_visa_and_spares_holders_of_exempting_ones() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let visa = "\n[[policy]]\nid = \"ca_visa_mx\"\nkind = \"visa\"\ncountry = \"CA\"\nnationalities = [\"MX\"]\nexempt_visas = [\"US\"]\n";
    let none = go(tmp.path(), "none", &corridor("", FLYERS), &["--by-cohort"]);
    let with = go(
        tmp.path(),
        "visa",
        &corridor("", &format!("{FLYERS}{visa}")),
        &["--by-cohort"],
    );
    assert!(
        cohort_claims(&none, "yul", "mx_no_visa") > 2000,
        "without the visa they fly: {}",
        cohort_claims(&none, "yul", "mx_no_visa")
    );
    assert_eq!(
        cohort_claims(&with, "yul", "mx_no_visa"),
        0,
        "with it, no air claims without a visa"
    );
    assert_eq!(
        cohort_claims(&with, "yul", "mx_us_visa"),
        cohort_claims(&none, "yul", "mx_us_visa"),
        "US-visa holders are unaffected"
    );
}

/// Hondurans in Monterrey aiming for the US.
const SOUTH: &str = r#"
[[population]]
id = "hondurans"
origin = "monterrey"
nationality = "HN"
people = 20000
destinations = { US = 1.0, MX = 0.02 }
knows = ["laredo", "rgv_between_ports", "mexico_city"]
depart_from = 2025-01-01
depart_until = 2025-01-31
"#;

#[test]
fn title42_cuts_us_claims_at_the_border_and_counts_repeat_expulsions() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let t42 = "\n[[policy]]\nid = \"t42\"\nkind = \"title42\"\nborder = \"MX-US\"\nexpulsion_rate = 0.7\nfrom = 2025-01-10\nuntil = 2025-03-31\n";
    // Claiming in Mexico is a real option for them.
    let south = SOUTH.replace(
        "destinations = { US = 1.0, MX = 0.02 }",
        "destinations = { US = 1.0, MX = 0.6 }",
    );
    let none = go(tmp.path(), "none", &corridor("", &south), &[]);
    let with = go(tmp.path(), "t42", &corridor("", &format!("{south}{t42}")), &[]);
    let window = 9..=89;
    let claims = |out: &Path| {
        sum(out, "laredo", |r| r.claims, window.clone()) + sum(out, "rgv_between_ports", |r| r.claims, window.clone())
    };
    let (c0, c1) = (claims(&none), claims(&with));
    assert!(
        (c1 as f64) < 0.8 * c0 as f64,
        "US claims at the border in the window: {c0} → {c1}"
    );
    let (count, people) = event(&with, "expelled");
    assert_eq!(event(&none, "expelled"), (0, 0));
    assert!(people > 2000, "expelled people: {people}");
    assert!(count > people, "repeat attempts: {count} expulsions of {people} people");
}

/// People walking from Tapachula to Mexico City, past the Oaxaca checkpoint.
const WALKERS: &str = r#"
[[population]]
id = "walkers"
origin = "tapachula"
nationality = "GT"
people = 10000
destinations = { MX = 1.0 }
knows = ["mexico_city"]
depart_from = 2025-01-01
depart_until = 2025-02-28
"#;

#[test]
fn checkpoint_cuts_passages_and_papers_restore_them() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cp = "\n[[policy]]\nid = \"inm\"\nkind = \"checkpoint\"\nplace = \"oaxaca\"\ninterception_rate = 0.5\nsend_to = \"tapachula\"\nfrom = 2025-02-01\nuntil = 2025-05-31\nEXEMPT\n";
    let docs = "\n[[policy]]\nid = \"transit_docs\"\nkind = \"documents\"\nplace = \"tapanatepec\"\nwait_days = 3\npapers = \"INM transit document\"\n";
    // They walk the 665 km to Oaxaca (about six weeks), so an interception
    // costs weeks.
    let walk = |t: String| {
        t.replace("km = 290\nmode = \"bus\"", "km = 290\nmode = \"walk\"")
            .replace("km = 375\nmode = \"bus\"", "km = 375\nmode = \"walk\"")
    };
    let none = go(tmp.path(), "none", &walk(corridor("", WALKERS)), &[]);
    let with = go(
        tmp.path(),
        "cp",
        &walk(corridor("", &format!("{WALKERS}{}", cp.replace("EXEMPT", "")))),
        &[],
    );
    let papers = go(
        tmp.path(),
        "papers",
        &walk(corridor(
            "",
            &format!(
                "{WALKERS}{docs}{}",
                cp.replace("EXEMPT", "exempt = [\"papers:transit_docs\"]")
            ),
        )),
        &[],
    );
    // Passages: people who reach Mexico City (the next place) in the window.
    let window = 31..=90;
    let pass = |out: &Path| sum(out, "mexico_city", |r| r.arrived, window.clone());
    let (p0, p1, p2) = (pass(&none), pass(&with), pass(&papers));
    assert!((p1 as f64) < 0.8 * p0 as f64, "passages in the window: {p0} → {p1}");
    assert!(sum(&with, "oaxaca", |r| r.intercepted, all_days()) > 1000);
    assert_eq!(
        sum(&papers, "oaxaca", |r| r.intercepted, all_days()),
        0,
        "papers exempt from the checkpoint"
    );
    assert!(p2 as f64 > 0.9 * p0 as f64, "papers restore passages: {p0} → {p2}");
}

#[test]
fn enforcement_cuts_undetected_crossings_between_ports() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let south = SOUTH.replace(
        "knows = [\"laredo\", \"rgv_between_ports\", \"mexico_city\"]",
        "knows = [\"new_york\"]",
    );
    let closed = "\n[[policy]]\nid = \"port_closed\"\nkind = \"closure\"\nplaces = [\"laredo\"]\n";
    let usbp =
        "\n[[policy]]\nid = \"usbp\"\nkind = \"enforcement\"\nplaces = [\"rgv_between_ports\"]\ndetection_rate = 0.7\n";
    // No learning, so that the detected, who claim at the crossing, do not
    // teach the others to aim for it.
    let b = "learn_per_user = 0";
    let none = go(tmp.path(), "none", &corridor(b, &format!("{south}{closed}")), &[]);
    let with = go(tmp.path(), "usbp", &corridor(b, &format!("{south}{closed}{usbp}")), &[]);
    let undetected = |out: &Path| {
        sum(out, "rgv_between_ports", |r| r.arrived, all_days())
            - places(out)
                .iter()
                .filter(|r| r.place == "rgv_between_ports")
                .map(|r| r.claims)
                .sum::<u64>()
    };
    let (u0, u1) = (undetected(&none), undetected(&with));
    assert!(u0 > 15_000, "without enforcement they cross unseen: {u0}");
    assert!((u1 as f64) < 0.4 * u0 as f64, "undetected crossings {u0} → {u1}");
    assert!(event(&with, "detected").1 > 10_000);
}

#[test]
fn pathway_raises_lawful_entries_without_raising_irregular_crossings() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = r#"
[[population]]
id = "at_home"
origin = "tapachula"
nationality = "HN"
people = 20000
destinations = { US = 1.0 }
knows = ["laredo", "rgv_between_ports"]
daily_depart_share = 0.01
"#;
    let pathway = "\n[[policy]]\nid = \"cam\"\nkind = \"pathway\"\ncountry = \"US\"\nnationalities = [\"HN\"]\nquota_per_year = 7300\napply_at = [\"tapachula\"]\n";
    let none = go(tmp.path(), "none", &corridor("", home), &[]);
    let with = go(tmp.path(), "path", &corridor("", &format!("{home}{pathway}")), &[]);
    let lawful = outcome(&with, "entered_lawfully");
    // 7,300 a year is 20 a day for 180 days: 3,600.
    assert_eq!(outcome(&none, "entered_lawfully"), 0);
    assert!((3400..=3600).contains(&lawful), "entered lawfully: {lawful}");
    let irregular = |out: &Path| {
        sum(out, "laredo", |r| r.arrived, all_days()) + sum(out, "rgv_between_ports", |r| r.arrived, all_days())
    };
    assert!(
        irregular(&with) <= irregular(&none),
        "irregular crossings {} → {}",
        irregular(&none),
        irregular(&with)
    );
}

#[test]
fn appointments_make_port_claims_follow_the_daily_slots() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let south = SOUTH.replace(
        "knows = [\"laredo\", \"rgv_between_ports\", \"mexico_city\"]",
        "knows = [\"laredo\"]",
    );
    let cbp_one = "\n[[policy]]\nid = \"cbp_one\"\nkind = \"appointments\"\nports = [\"laredo\"]\nslots_per_day = 80\nrequest_from = [\"monterrey\", \"nuevo_laredo\"]\nlead_days = 7\n";
    let with = go(tmp.path(), "appt", &corridor("", &format!("{south}{cbp_one}")), &[]);
    let rows: Vec<u64> = places(&with)
        .iter()
        .filter(|r| r.place == "laredo")
        .map(|r| r.claims)
        .collect();
    assert!(
        rows.iter().all(|&c| c <= 80),
        "never more than the slots: max {:?}",
        rows.iter().max()
    );
    // once the first appointments fall due, claims run at the slots
    let busy: Vec<u64> = rows[20..120].to_vec();
    let mean = busy.iter().sum::<u64>() as f64 / busy.len() as f64;
    assert!(mean > 70.0, "claims follow the 80 daily slots: mean {mean}");
}

#[test]
fn pressure_raises_departures_of_residents() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let residents = r#"
[[population]]
id = "residents"
origin = "new_york"
nationality = "HT"
people = 30000
resident_of = "US"
destinations = { CA = 1.0 }
knows = ["lacolle", "roxham_road"]
daily_depart_share = 0.002
"#;
    let pressure =
        "\n[[policy]]\nid = \"tps_end\"\nkind = \"pressure\"\ncountry = \"US\"\nfactor = 4\nfrom = 2025-03-01\n";
    let none = go(tmp.path(), "none", &corridor("", residents), &[]);
    let with = go(
        tmp.path(),
        "pressure",
        &corridor("", &format!("{residents}{pressure}")),
        &[],
    );
    let before = 0..=58;
    let after = 59..=179;
    let dep = |out: &Path, d: std::ops::RangeInclusive<u32>| sum(out, "new_york", |r| r.departed, d);
    assert_eq!(
        dep(&none, before.clone()),
        dep(&with, before),
        "same departures before the window"
    );
    let (d0, d1) = (dep(&none, after.clone()), dep(&with, after));
    assert!(d1 as f64 > 2.5 * d0 as f64, "departures in the window {d0} → {d1}");
}

#[test]
fn harm_outcome_sends_some_to_died_or_missing_only_when_switched_on() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = corridor("", WALKERS).replace("km = 375\nmode = \"bus\"", "km = 375\nmode = \"bus\"\nrisk = 0.02");
    let off = go(tmp.path(), "off", &text, &[]);
    let on = go(
        tmp.path(),
        "on",
        &text.replacen("replan_days = 7", "replan_days = 7\nharm_outcome = true", 1),
        &[],
    );
    assert_eq!(outcome(&off, "died_or_missing"), 0);
    let dead = outcome(&on, "died_or_missing");
    assert!((120..=290).contains(&dead), "2 % of 10,000 over one risky leg: {dead}");
}

#[test]
fn every_lever_at_once_is_deterministic_across_threads_and_conserves_people() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(fixture("all_levers.toml")).expect("fixture");
    let p = write(tmp.path(), "all.toml", &text);
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    run(&p, &one, &["--threads", "1", "--by-cohort"]);
    run(&p, &two, &["--threads", "2", "--by-cohort"]);
    for f in ["places.csv", "outcomes.csv", "events.csv", "cohort_places.csv"] {
        assert!(
            std::fs::read(one.join(f)).ok() == std::fs::read(two.join(f)).ok(),
            "{f} differs between 1 and 2 threads"
        );
    }
    let total: u64 = outcomes(&one).iter().map(|r| r.2).sum();
    let sc = northbound::scenario::load(&p).expect("loads");
    assert_eq!(total, sc.people());
    for e in ["turned_back", "expelled", "intercepted", "detected", "removed"] {
        assert!(event(&one, e).0 > 0, "{e} happens");
    }
    assert!(outcome(&one, "entered_lawfully") > 0);
}
