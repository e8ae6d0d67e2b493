//! Bad input gets a clear error, never a panic: each message names the
//! file, line and column, the field, and what would be valid.

mod common;
use common::*;
use northbound::scenario::{load_bytes, LoadError};
use std::path::Path;

/// Loads `text` and returns its rendered problems, or panics if it loads.
fn errors(text: &str) -> String {
    match load_bytes(text.as_bytes(), Path::new("s.toml")) {
        Ok(_) => panic!("scenario loaded but should not have:\n{text}"),
        Err(e) => e.render(),
    }
}

/// Asserts that one problem names `field`, sits at `line` (1-based) and
/// says `says`, with help that says `help`.
#[track_caller]
fn check(text: &str, field: &str, line: usize, says: &str, help: &str) {
    let out = errors(text);
    let block = out
        .split("\nerror: ")
        .map(|b| b.trim_start_matches("error: "))
        .find(|b| b.starts_with(&format!("{field}: ")) && b.contains(says))
        .unwrap_or_else(|| panic!("no problem for `{field}` saying `{says}` in:\n{out}"));
    assert!(
        block.contains(&format!("s.toml:{line}:")),
        "expected line {line} for {field}:\n{block}"
    );
    assert!(block.contains(help), "expected help `{help}` for {field}:\n{block}");
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
}

#[test]
fn the_base_scenario_is_valid() {
    load_bytes(BASE.as_bytes(), Path::new("s.toml")).expect("BASE loads");
}

#[test]
fn toml_syntax_error_stops_parsing_with_its_place() {
    let text = BASE.replace("km = 100", "km = = 100");
    check(
        &text,
        "TOML syntax",
        line_of(&text, "km = = 100"),
        "",
        "parsing stops at the first syntax error",
    );
}

#[test]
fn unknown_key_suggests_the_closest_valid_one() {
    let text = BASE.replace("km = 100", "km = 100\nrisc = 0.1");
    check(
        &text,
        "route[home-port].risc",
        line_of(&text, "risc"),
        "unknown key",
        "did you mean `risk`?",
    );
    let text = BASE.replace("[[route]]", "[[routes]]");
    check(
        &text,
        "routes",
        line_of(&text, "[[routes]]"),
        "unknown key",
        "did you mean `route`?",
    );
}

#[test]
fn missing_required_field_names_the_table() {
    let text = BASE.replace("km = 100\n", "");
    check(
        &text,
        "route[home-port].km",
        line_of(&text, "[[route]]"),
        "required field is missing",
        "road distance in km",
    );
    let text = BASE.replace("nationality = \"HN\"\n", "");
    check(
        &text,
        "population[people].nationality",
        line_of(&text, "[[population]]"),
        "required field is missing",
        "ISO 3166-1",
    );
}

#[test]
fn wrong_type_says_what_was_expected() {
    let text = BASE.replace("km = 100", "km = \"100\"");
    check(
        &text,
        "route[home-port].km",
        line_of(&text, "km = "),
        "expected a number, found a string",
        "km",
    );
    let text = BASE.replace("people = 100", "people = 10.5");
    check(
        &text,
        "population[people].people",
        line_of(&text, "people = 10.5"),
        "expected a whole number",
        "whole number",
    );
}

#[test]
fn duplicate_ids_point_at_the_first() {
    let text =
        format!("{BASE}\n[[place]]\nid = \"port\"\ncountry = \"US\"\nkind = \"crossing\"\nlat = 30\nlon = -100\n");
    let out = errors(&text);
    assert!(out.contains("duplicate place id `port`"), "{out}");
    assert!(
        out.contains(&format!("the first is on line {}", line_of(&text, "id = \"port\""))),
        "{out}"
    );
    let text = format!("{BASE}\n[[population]]\nid = \"people\"\norigin = \"home\"\nnationality = \"HN\"\npeople = 5\ndestinations = {{ US = 1 }}\ndepart = 2025-01-02\n");
    check(
        &text,
        "population[people].id",
        text.lines()
            .collect::<Vec<_>>()
            .iter()
            .rposition(|l| l.contains("id = \"people\""))
            .unwrap_or(0)
            + 1,
        "duplicate population id",
        "unique",
    );
}

#[test]
fn dangling_place_ids_suggest_the_closest() {
    let text = BASE.replace("to = \"port\"", "to = \"prot\"");
    check(
        &text,
        "route[home-prot].to",
        line_of(&text, "to = \"prot\""),
        "no place has id \"prot\"",
        "did you mean \"port\"?",
    );
    let text = BASE.replace("origin = \"home\"", "origin = \"hom\"");
    check(
        &text,
        "population[people].origin",
        line_of(&text, "origin = \"hom\""),
        "no place has id \"hom\"",
        "did you mean \"home\"?",
    );
    let text = format!("{BASE}\n[[policy]]\nid = \"cp\"\nkind = \"checkpoint\"\nplace = \"nowhere\"\ninterception_rate = 0.2\nsend_to = \"origin\"\n");
    check(
        &text,
        "policy[cp].place",
        line_of(&text, "nowhere"),
        "no place has id \"nowhere\"",
        "[[place]]",
    );
}

#[test]
fn end_before_start_is_refused() {
    let text = BASE.replace("end = 2025-01-31", "end = 2024-12-31");
    check(
        &text,
        "scenario.end",
        line_of(&text, "end = "),
        "before start",
        "on or after start",
    );
}

#[test]
fn a_policy_window_outside_the_run_is_refused_and_one_overlapping_it_is_clipped() {
    let outside = format!("{BASE}\n[[policy]]\nid = \"late\"\nkind = \"closure\"\nfrom = 2026-01-01\nuntil = 2026-02-01\nplaces = [\"port\"]\n");
    check(
        &outside,
        "policy[late].from",
        line_of(&outside, "until = 2026"),
        "does not overlap the run",
        "move the window into the run",
    );
    let overlapping =
        format!("{BASE}\n[[policy]]\nid = \"stca\"\nkind = \"closure\"\nfrom = 2004-12-29\nplaces = [\"port\"]\n");
    let sc = load_bytes(overlapping.as_bytes(), Path::new("s.toml")).expect("an overlapping window loads");
    assert_eq!((sc.policies[0].from, sc.policies[0].until), (0, 30));
    assert!(
        sc.notes.iter().any(|n| n.contains("clipped")),
        "check says the window was clipped: {:?}",
        sc.notes
    );
    let backwards = format!("{BASE}\n[[policy]]\nid = \"b\"\nkind = \"closure\"\nfrom = 2025-01-20\nuntil = 2025-01-10\nplaces = [\"port\"]\n");
    check(
        &backwards,
        "policy[b].until",
        line_of(&backwards, "until = 2025-01-10"),
        "before from",
        "inclusive",
    );
}

#[test]
fn rates_and_shares_outside_zero_one_are_refused() {
    let text = BASE.replace("people = 100", "people = 100\nfamily_share = 1.2");
    check(
        &text,
        "population[people].family_share",
        line_of(&text, "family_share"),
        "outside [0, 1]",
        "probabilities between 0 and 1",
    );
    let text = BASE.replace("km = 100", "km = 100\nrisk = -0.1");
    check(
        &text,
        "route[home-port].risk",
        line_of(&text, "risk"),
        "outside [0, 1]",
        "probabilities",
    );
    let text = format!("{BASE}\n[[policy]]\nid = \"cp\"\nkind = \"checkpoint\"\nplace = \"home\"\ninterception_rate = 1.5\nsend_to = \"origin\"\n");
    check(
        &text,
        "policy[cp].interception_rate",
        line_of(&text, "interception_rate"),
        "outside [0, 1]",
        "probabilities",
    );
}

#[test]
fn zero_or_negative_distances_days_speeds_and_capacities_are_refused() {
    let text = BASE.replace("km = 100", "km = -5");
    check(
        &text,
        "route[home-port].km",
        line_of(&text, "km = -5"),
        "must be greater than 0",
        "km",
    );
    let text = BASE.replace("km = 100", "km = 0");
    check(
        &text,
        "route[home-port].km",
        line_of(&text, "km = 0"),
        "must be greater than 0",
        "km",
    );
    let text = BASE.replace("km = 100", "km = 100\ndays = 0");
    check(
        &text,
        "route[home-port].days",
        line_of(&text, "days = 0"),
        "must be greater than 0",
        "days",
    );
    let text = BASE.replacen(
        "[[place]]",
        "[behaviour]\nspeed_km_per_day = { walk = 0 }\n\n[[place]]",
        1,
    );
    check(
        &text,
        "behaviour.speed_km_per_day.walk",
        line_of(&text, "walk = 0"),
        "must be greater than 0",
        "km per day",
    );
    let text = BASE.replace("lon = -99.5", "lon = -99.5\ncapacity = 0");
    check(
        &text,
        "place[port].capacity",
        line_of(&text, "capacity = 0"),
        "less than 1",
        "whole number ≥ 1",
    );
}

#[test]
fn people_and_group_sizes_must_be_positive() {
    let text = BASE.replace("people = 100", "people = 0");
    check(
        &text,
        "population[people].people",
        line_of(&text, "people = 0"),
        "at least 1",
        "≥ 1",
    );
    let text = BASE.replace("people = 100", "people = -4");
    check(
        &text,
        "population[people].people",
        line_of(&text, "people = -4"),
        "at least 1",
        "≥ 1",
    );
    let text = BASE.replace(
        "people = 100",
        "people = 100\nfamily_share = 0.5\nhousehold_size = { 0 = 1.0 }",
    );
    check(
        &text,
        "population[people].household_size.0",
        line_of(&text, "household_size"),
        "not a group size",
        "from 1 to 255",
    );
}

#[test]
fn coordinates_out_of_range_and_non_finite_numbers_are_refused() {
    let text = BASE.replace("lat = 15.5", "lat = 95");
    check(
        &text,
        "place[home].lat",
        line_of(&text, "lat = 95"),
        "outside [−90, 90]",
        "latitude",
    );
    let text = BASE.replace("lon = -88.0", "lon = -190");
    check(
        &text,
        "place[home].lon",
        line_of(&text, "lon = -190"),
        "outside [−180, 180]",
        "longitude",
    );
    let text = BASE.replace("km = 100", "km = nan");
    check(
        &text,
        "route[home-port].km",
        line_of(&text, "km = nan"),
        "not a finite number",
        "not nan or inf",
    );
    let text = BASE.replace("km = 100", "km = inf");
    check(
        &text,
        "route[home-port].km",
        line_of(&text, "km = inf"),
        "not a finite number",
        "not nan or inf",
    );
}

#[test]
fn a_population_with_no_reachable_claim_point_is_refused() {
    let text = BASE.replace("destinations = { US = 1 }", "destinations = { CA = 1 }");
    check(
        &text,
        "population[people]",
        line_of(&text, "[[population]]"),
        "no claim point in a destination country is reachable",
        "add routes",
    );
    let text = BASE
        .replace("from = \"home\"\nto = \"port\"", "from = \"port\"\nto = \"home\"")
        .replace("mode = \"walk\"", "mode = \"walk\"\nboth_ways = false");
    check(
        &text,
        "population[people]",
        line_of(&text, "[[population]]"),
        "reachable from home",
        "claim point",
    );
}

#[test]
fn an_empty_or_non_utf8_file_is_refused() {
    let e = load_bytes(b"  \n", Path::new("s.toml")).expect_err("empty file");
    assert!(e.render().contains("the scenario file is empty"), "{}", e.render());
    let e = load_bytes(b"name = \"\xff\"", Path::new("s.toml")).expect_err("not UTF-8");
    assert!(matches!(e, LoadError::NotUtf8 { offset: 8, .. }), "{e:?}");
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = BASE
        .replace("lat = 15.5", "lat = 95")
        .replace("km = 100", "km = -1")
        .replace("people = 100", "people = 0")
        .replace("seed = 3", "seed = 3\ncolour = \"red\"");
    let out = errors(&text);
    for needle in [
        "place[home].lat",
        "route[home-port].km",
        "population[people].people",
        "scenario.colour",
    ] {
        assert!(out.contains(needle), "missing {needle} in:\n{out}");
    }
    assert!(out.contains("4 problems"), "{out}");
}

#[test]
fn a_population_too_large_for_memory_says_how_much_it_would_need() {
    // The memory check reads this variable before /proc/meminfo, so the
    // test does not depend on the machine.
    let tmp = tempfile::tempdir().expect("temp dir");
    let p = write(
        tmp.path(),
        "big.toml",
        &BASE.replace("people = 100", "people = 2000000000"),
    );
    let o = bin()
        .arg("check")
        .arg(&p)
        .env("NORTHBOUND_MEMORY_BYTES", "1000000000")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let need = northbound::scenario::human_bytes(2_000_000_000u128 * northbound::agents::BYTES_PER_AGENT as u128);
    assert!(need.ends_with("GiB"), "{need}");
    assert!(
        err.contains(&format!("2000000000 people would need up to {need}")),
        "{err}"
    );
    assert!(err.contains("this machine has 953.7 MiB available"), "{err}");
}

#[test]
fn the_cli_exits_2_for_bad_input_and_0_for_a_good_scenario() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bad = write(tmp.path(), "bad.toml", &BASE.replace("km = 100", "km = -1"));
    let o = bin().arg("check").arg(&bad).output().expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.toml:") && !err.contains("panicked"), "{err}");
    let o = bin()
        .arg("run")
        .arg(&bad)
        .arg("--out")
        .arg(tmp.path().join("x"))
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(!tmp.path().join("x").exists(), "no output for bad input");
    let empty = write(tmp.path(), "empty.toml", "");
    assert_eq!(
        bin().arg("check").arg(&empty).output().expect("runs").status.code(),
        Some(2)
    );
    assert_eq!(
        bin()
            .arg("check")
            .arg(tmp.path().join("missing.toml"))
            .output()
            .expect("runs")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        bin()
            .arg("run")
            .arg("--threads")
            .arg("0")
            .arg(&bad)
            .output()
            .expect("runs")
            .status
            .code(),
        Some(2)
    );
    let good = write(tmp.path(), "good.toml", BASE);
    let o = bin().arg("check").arg(&good).output().expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("cohorts   1 (100 people)"));
}

#[test]
fn a_synthetic_ten_thousand_place_scenario_loads() {
    let text = northbound::bench::synthetic_scenario(10_000, 50_000, 20);
    let sc = load_bytes(text.as_bytes(), Path::new("synthetic.toml")).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(
        (sc.places.len(), sc.routes.len(), sc.claim_points().len()),
        (10_000, 50_000, 20)
    );
}

#[test]
fn a_removal_needs_crossings_to_act_at_and_checks_its_rate_bar_and_destination() {
    // Neither border nor places.
    let text = format!("{BASE}\n[[policy]]\nid = \"t8\"\nkind = \"removal\"\nbar_days = 1825\n");
    check(
        &text,
        "policy[t8].border",
        line_of(&text, "[[policy]]"),
        "needs either border or places",
        "border = \"MX-US\"",
    );
    // A place that is not a crossing.
    let text = format!("{BASE}\n[[policy]]\nid = \"t8\"\nkind = \"removal\"\nplaces = [\"home\"]\n");
    check(
        &text,
        "policy[t8].places",
        line_of(&text, "places = [\"home\"]"),
        "\"home\" is a city, not a crossing",
        "kind = \"crossing\"",
    );
    // A border without crossings.
    let text = format!("{BASE}\n[[policy]]\nid = \"t8\"\nkind = \"removal\"\nborder = \"MX-US\"\n");
    check(
        &text,
        "policy[t8].border",
        line_of(&text, "border = \"MX-US\""),
        "no crossing has border = \"MX-US\"",
        "give the border's crossings `border`",
    );
    // Rate outside [0, 1], negative bar, unknown destination.
    let port = BASE.replace(
        "kind = \"crossing\"",
        "kind = \"crossing\"\nborder = \"MX-US\"\nnear_side = \"home\"",
    );
    let text = format!(
        "{port}\n[[policy]]\nid = \"t8\"\nkind = \"removal\"\nborder = \"MX-US\"\nremoval_rate = 1.5\nbar_days = -5\nsend_to = \"hmoe\"\n"
    );
    check(
        &text,
        "policy[t8].removal_rate",
        line_of(&text, "removal_rate"),
        "outside [0, 1]",
        "probabilities",
    );
    check(
        &text,
        "policy[t8].bar_days",
        line_of(&text, "bar_days"),
        "less than 0",
        "INA 212(a)(9)(A)",
    );
    check(&text, "policy[t8].send_to", line_of(&text, "send_to"), "hmoe", "home");
    // A good one loads, with its bar.
    let good = format!("{port}\n[[policy]]\nid = \"t8\"\nkind = \"removal\"\nborder = \"MX-US\"\nremoval_rate = 0.5\nbar_days = 1825\nsend_to = \"origin\"\n");
    let sc = load_bytes(good.as_bytes(), Path::new("s.toml")).expect("loads");
    assert!(matches!(
        sc.policies[0].kind,
        northbound::scenario::PolicyKind::Removal {
            bar: northbound::scenario::Bar::Days(1825),
            ..
        }
    ));
}

#[test]
fn the_failure_keys_of_behaviour_are_checked() {
    let with = |k: &str| BASE.replacen("[[place]]", &format!("[behaviour]\n{k}\n\n[[place]]"), 1);
    let text = with("learn_at_door = 2");
    check(
        &text,
        "behaviour.learn_at_door",
        line_of(&text, "learn_at_door"),
        "outside [0, 1]",
        "probabilities",
    );
    let text = with("learn_per_return = 1");
    check(
        &text,
        "behaviour.learn_per_return",
        line_of(&text, "learn_per_return"),
        "outside [0, 1)",
        "below 1",
    );
    let text = with("w_fail = -1");
    check(
        &text,
        "behaviour.w_fail",
        line_of(&text, "w_fail"),
        "negative",
        "a weight ≥ 0",
    );
    let text = with("depart_elasticity = -0.5");
    check(
        &text,
        "behaviour.depart_elasticity",
        line_of(&text, "depart_elasticity"),
        "negative",
        "elasticity",
    );
    let text = BASE.replace("people = 100", "people = 100\nclaim_delay_days = -3");
    check(
        &text,
        "population[people].claim_delay_days",
        line_of(&text, "claim_delay_days"),
        "less than 0",
        "visitor",
    );
    let text = with("w_fial = 2");
    check(
        &text,
        "behaviour.w_fial",
        line_of(&text, "w_fial"),
        "unknown key",
        "w_fail",
    );
}
