//! Failure and its consequences (docs/behaviour.md): bars, the memory of
//! the door that failed, news from a return, word of mouth, deterrence at
//! departure and visitors' claims — each against the same agents without
//! the mechanism (same seed), with analytic bounds where there are some.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// The corridor fixture with extra behaviour keys and `rest` (cohorts and
/// policies).
fn corridor(behaviour: &str, rest: &str) -> String {
    std::fs::read_to_string(fixture("corridor.toml"))
        .expect("fixture")
        .replace("BEHAVIOUR", behaviour)
        .replace("REST", rest)
}

/// Runs a scenario text with `--by-cohort`; returns its output folder.
fn go(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = write(dir, &format!("{name}.toml"), text);
    let out = dir.join(name);
    run(&p, &out, &["--by-cohort"]);
    out
}

/// `(day, cohort, place, column)` rows of cohort_places.csv summed over
/// the rows that `keep` accepts.
fn cohort_sum(out: &Path, col: &str, keep: impl Fn(u32, &str, &str) -> bool) -> u64 {
    let text = std::fs::read_to_string(out.join("cohort_places.csv")).expect("cohort_places.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let at = |n: &str| header.iter().position(|h| *h == n).expect("column");
    let (d, c, p, x) = (at("day"), at("cohort"), at("place"), at(col));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| keep(f[d].parse().expect("day"), f[c], f[p]))
        .map(|f| f[x].parse::<u64>().expect("count"))
        .sum()
}

/// A column of places.csv summed over a place and days.
fn place_sum(out: &Path, place: &str, col: &str, days: std::ops::RangeInclusive<u32>) -> u64 {
    let text = std::fs::read_to_string(out.join("places.csv")).expect("places.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let x = header.iter().position(|h| *h == col).expect("column");
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[2] == place && days.contains(&f[0].parse().expect("day")))
        .map(|f| f[x].parse::<u64>().expect("count"))
        .sum()
}

/// (person-events, distinct people) of an event over all cohorts.
fn event(out: &Path, e: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(out.join("events.csv")).expect("events.csv");
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[2] == e)
        .fold((0, 0), |(c, p), f| {
            (
                c + f[3].parse::<u64>().unwrap_or(0),
                p + f[4].parse::<u64>().unwrap_or(0),
            )
        })
}

fn outcome(out: &Path, cohort: &str, state: &str) -> u64 {
    outcomes(out)
        .iter()
        .filter(|r| r.0 == cohort && r.1 == state)
        .map(|r| r.2)
        .sum()
}

/// No learning of the rules on the way, no cost of failure: each test
/// switches on what it is about.
const PLAIN: &str = "learn_at_door = 0\nlearn_per_return = 0\nw_fail = 0";

const STCA_PORTS: &str =
    "\n[[policy]]\nid = \"stca\"\nkind = \"stca\"\nborder = \"US-CA\"\nscope = \"ports\"\nfrom = 2004-12-29\n";

/// People in New York who do not know the STCA and head for Canada,
/// claiming in the US only as a last resort.
const UNINFORMED: &str = r#"
[[population]]
id = "uninformed"
origin = "new_york"
nationality = "HT"
people = 8000
destinations = { CA = 1.0, US = 0.05 }
knows = ["lacolle", "roxham_road", "montreal", "new_york"]
informed_share = 0.0
depart_from = 2025-01-01
depart_until = 2025-03-31
"#;

#[test]
fn stca_turnback_bars_later_claims_in_canada() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let barred = go(
        tmp.path(),
        "barred",
        &corridor(PLAIN, &format!("{UNINFORMED}{STCA_PORTS}")),
    );
    let unbarred = go(
        tmp.path(),
        "unbarred",
        &corridor(PLAIN, &format!("{UNINFORMED}{STCA_PORTS}bar_days = 0\n")),
    );
    // Nobody knows the rules: everyone tries the port and is turned back.
    // (The few whose best option is to claim at home in New York stay there.)
    let left = place_sum(&barred, "new_york", "departed", 0..=u32::MAX);
    assert!(left > 7000, "set out: {left}");
    let (tb, people) = event(&barred, "turned_back");
    assert_eq!(people, left, "everyone who sets out is turned back");
    assert_eq!(tb, left, "and only once: a second claim in Canada would be ineligible");
    // IRPA s. 101(1)(c): none of them claims in Canada afterwards…
    assert_eq!(outcome(&barred, "uninformed", "claimed_ca"), 0);
    assert_eq!(place_sum(&barred, "roxham_road", "arrived", 0..=u32::MAX), 0);
    // … and, barred from Canada, they claim in the US (their other destination).
    assert!(outcome(&barred, "uninformed", "claimed_us") > 7000);
    // Without the bar the same groups, now knowing the rules, cross between
    // ports and claim in Canada.
    assert!(
        outcome(&unbarred, "uninformed", "claimed_ca") > 7000,
        "without the bar: {} claim in Canada",
        outcome(&unbarred, "uninformed", "claimed_ca")
    );
}

/// Hondurans in Monterrey aiming for the US, with Mexico (COMAR) a real
/// fallback.
const SOUTH: &str = r#"
[[population]]
id = "hondurans"
origin = "monterrey"
nationality = "HN"
people = 20000
destinations = { US = 1.0, MX = 0.3 }
knows = ["laredo", "rgv_between_ports", "mexico_city"]
depart_from = 2025-01-01
depart_until = 2025-01-31
"#;

#[test]
fn a_removal_bars_reentry_for_bar_days_while_title42_expulsions_carry_no_bar() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let removal = |bar: u32| {
        format!(
            "\n[[policy]]\nid = \"title8\"\nkind = \"removal\"\nborder = \"MX-US\"\nremoval_rate = 0.6\nbar_days = {bar}\n"
        )
    };
    let t42 = "\n[[policy]]\nid = \"t42\"\nkind = \"title42\"\nborder = \"MX-US\"\nexpulsion_rate = 0.6\n";
    let barred = go(
        tmp.path(),
        "barred",
        &corridor(PLAIN, &format!("{SOUTH}{}", removal(1825))),
    );
    let unbarred = go(
        tmp.path(),
        "unbarred",
        &corridor(PLAIN, &format!("{SOUTH}{}", removal(0))),
    );
    let expelled = go(tmp.path(), "t42", &corridor(PLAIN, &format!("{SOUTH}{t42}")));
    // INA 212(a)(9)(A): a removed group is barred for five years — longer
    // than the run — so nobody is removed twice and nobody removed claims
    // in the US; the removed claim in Mexico instead.
    let (count, people) = event(&barred, "removed");
    assert!(people > 5000, "removed people: {people}");
    assert_eq!(count, people, "no one is removed twice");
    let claims_us = |out: &Path| outcome(out, "hondurans", "claimed_us");
    let claims_mx = outcome(&barred, "hondurans", "claimed_mx");
    assert_eq!(
        claims_us(&barred) + claims_mx,
        20_000,
        "everyone ends claiming somewhere"
    );
    assert!(
        claims_mx >= people,
        "the removed claim in Mexico: {claims_mx} of {people}"
    );
    // The same removals without a bar: the removed try again.
    let (count_free, people_free) = event(&unbarred, "removed");
    assert!(
        count_free as f64 > 1.3 * people_free as f64,
        "without the bar they try again: {count_free} removals of {people_free} people"
    );
    assert!(claims_us(&unbarred) > claims_us(&barred));
    // Title 42 carried no bar: expelled groups try again at once.
    let (ce, pe) = event(&expelled, "expelled");
    assert!(ce as f64 > 1.3 * pe as f64, "repeat expulsions: {ce} of {pe} people");
    assert!(claims_us(&expelled) > claims_us(&barred));
}

/// New Yorkers heading for Canada with a news delay of 20 days.
const LATE_NEWS: &str = r#"
[[population]]
id = "late"
origin = "new_york"
nationality = "HT"
people = 6000
destinations = { CA = 1.0 }
knows = ["roxham_road", "montreal"]
depart_from = 2025-01-01
depart_until = 2025-03-31
"#;

#[test]
fn a_return_is_news_the_group_perceives_the_rules_from_the_next_day() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // News comes up to 20 days late; from 1 February every crosser is
    // returned to the US, with no bar (as in March 2020). Montreal is reached
    // only by Roxham Road, the port is closed.
    let text = corridor(
        PLAIN,
        &format!(
        "{LATE_NEWS}\n[[policy]]\nid = \"returns\"\nkind = \"removal\"\nplaces = [\"roxham_road\"]\nfrom = 2025-02-01\n\
         \n[[policy]]\nid = \"rcmp\"\nkind = \"enforcement\"\nplaces = [\"roxham_road\"]\n\
         \n[[policy]]\nid = \"port\"\nkind = \"closure\"\nplaces = [\"lacolle\"]\n"
    ),
    )
    .replacen(
        "news_delay_days = { mean = 0, max = 0 }",
        "news_delay_days = { mean = 20, max = 20 }",
        1,
    );
    let out = go(tmp.path(), "late", &text);
    // Groups that set out in the 20 days after the change still believe
    // Roxham Road is open and are returned — once each: the next day they
    // know the rules, and with every crosser returned there is nothing
    // left to make for.
    let (count, people) = event(&out, "removed");
    assert!(people > 500, "returned people: {people}");
    assert_eq!(count, people, "each group is returned at most once");
    // After the news delay nobody new arrives.
    assert_eq!(place_sum(&out, "roxham_road", "arrived", 52..=u32::MAX), 0);
}

#[test]
fn groups_that_do_not_know_the_rules_learn_them_at_the_border_near_side() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let rest = format!("{UNINFORMED}{STCA_PORTS}");
    let never = go(tmp.path(), "never", &corridor(PLAIN, &rest));
    let always = go(
        tmp.path(),
        "always",
        &corridor(&PLAIN.replace("learn_at_door = 0", "learn_at_door = 1"), &rest),
    );
    let half = go(
        tmp.path(),
        "half",
        &corridor(&PLAIN.replace("learn_at_door = 0", "learn_at_door = 0.5"), &rest),
    );
    let tb = |out: &Path| event(out, "turned_back").1;
    let left = place_sum(&never, "new_york", "departed", 0..=u32::MAX);
    assert!(left > 7000, "set out: {left}");
    assert_eq!(
        tb(&never),
        left,
        "without learning at Plattsburgh everyone who sets out is turned back"
    );
    assert_eq!(tb(&always), 0, "learning there, nobody tries the port");
    // Half learn: about half are turned back (binomial over groups of one:
    // sd about 45).
    let h = tb(&half) as f64;
    assert!(
        (h - left as f64 / 2.0).abs() < 200.0,
        "turned back with learn_at_door = 0.5: {h} of {left}"
    );
    // Those who learn cross between ports and claim in Canada.
    assert_eq!(outcome(&always, "uninformed", "claimed_ca"), left);
}

#[test]
fn word_of_mouth_of_returns_teaches_the_rest_of_the_cohort() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let rest = format!("{UNINFORMED}{STCA_PORTS}");
    let deaf = go(tmp.path(), "deaf", &corridor(PLAIN, &rest));
    let told = go(
        tmp.path(),
        "told",
        &corridor(
            &PLAIN.replace("learn_per_return = 0", "learn_per_return = 0.001"),
            &rest,
        ),
    );
    let tb = |out: &Path, days: std::ops::RangeInclusive<u32>| place_sum(out, "lacolle", "turned_back", days);
    // The first day's turnbacks are the same agents' (nobody was returned
    // before); by the last month almost nobody of the cohort still tries
    // the port.
    assert_eq!(tb(&deaf, 0..=0), tb(&told, 0..=0));
    let (late_deaf, late_told) = (tb(&deaf, 59..=89), tb(&told, 59..=89));
    assert!(late_deaf > 2000, "without word of mouth: {late_deaf}");
    assert!(
        (late_told as f64) < 0.1 * late_deaf as f64,
        "March turnbacks: {late_deaf} → {late_told}"
    );
}

/// People in New York with Canada the aim and the US a fallback, under the
/// whole-border STCA with 80 % detection between ports.
const WHOLE: &str = r#"
[[population]]
id = "movers"
origin = "new_york"
nationality = "HT"
people = 12000
destinations = { CA = 1.0, US = 0.2 }
knows = ["lacolle", "roxham_road", "montreal", "new_york"]
informed_share = 0.8
depart_from = 2025-01-01
depart_until = 2025-02-28

[[policy]]
id = "stca"
kind = "stca"
border = "US-CA"
scope = "whole_border"

[[policy]]
id = "rcmp"
kind = "enforcement"
places = ["roxham_road"]
detection_rate = 0.8
"#;

#[test]
fn raising_w_fail_never_raises_attempts() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // Three doors that send people back: the whole-border STCA (with its
    // bar), Title 42 (none) and a removal (five years); attempts are
    // arrivals at the doors where people can be sent back.
    let t42 = "\n[[policy]]\nid = \"t42\"\nkind = \"title42\"\nborder = \"MX-US\"\nexpulsion_rate = 0.5\n\
               \n[[policy]]\nid = \"usbp\"\nkind = \"enforcement\"\nplaces = [\"rgv_between_ports\"]\ndetection_rate = 0.7\n";
    let removal = "\n[[policy]]\nid = \"title8\"\nkind = \"removal\"\nborder = \"MX-US\"\nremoval_rate = 0.4\nbar_days = 1825\n\
                   \n[[policy]]\nid = \"usbp\"\nkind = \"enforcement\"\nplaces = [\"rgv_between_ports\"]\ndetection_rate = 0.7\n";
    let cases: [(&str, String, &[&str]); 3] = [
        ("stca", WHOLE.to_string(), &["lacolle", "roxham_road"]),
        ("t42", format!("{SOUTH}{t42}"), &["laredo", "rgv_between_ports"]),
        ("removal", format!("{SOUTH}{removal}"), &["laredo", "rgv_between_ports"]),
    ];
    for (name, rest, doors) in cases {
        let mut last = u64::MAX;
        for w in [0.0, 0.5, 1.0, 2.25, 5.0, 12.0] {
            let out = go(
                tmp.path(),
                &format!("{name}-{w}"),
                &corridor(&format!("learn_at_door = 0\nlearn_per_return = 0\nw_fail = {w}"), &rest),
            );
            let attempts: u64 = doors.iter().map(|d| place_sum(&out, d, "arrived", 0..=u32::MAX)).sum();
            assert!(
                attempts <= last,
                "{name}: raising w_fail to {w} raised attempts from {last} to {attempts}"
            );
            last = attempts;
        }
        assert!(last < u64::MAX);
    }
}

#[test]
fn closing_every_door_of_a_cohorts_preferred_country_drives_its_departures_to_zero_within_the_news_delay() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let residents = r#"
[[population]]
id = "residents"
origin = "new_york"
nationality = "HT"
people = 200000
resident_of = "US"
destinations = { CA = 1.0 }
knows = ["lacolle", "roxham_road", "montreal"]
daily_depart_share = 0.002
"#;
    // Canada's every claim point closes on 1 March (day 59).
    let closed = "\n[[policy]]\nid = \"shut\"\nkind = \"closure\"\nplaces = [\"lacolle\", \"roxham_road\", \"montreal\", \"yul\"]\nfrom = 2025-03-01\n";
    for (elasticity, max_delay) in [(0.0, 0), (0.0, 10), (0.5, 5), (1.0, 10), (3.0, 20)] {
        let b = format!(
            "news_delay_days = {{ mean = {}, max = {max_delay} }}\ndepart_elasticity = {elasticity}",
            max_delay as f64 / 2.0
        );
        let out = go(
            tmp.path(),
            &format!("shut-{elasticity}-{max_delay}"),
            &corridor("", &format!("{residents}{closed}")).replacen("news_delay_days = { mean = 0, max = 0 }", &b, 1),
        );
        let departed = |days: std::ops::RangeInclusive<u32>| place_sum(&out, "new_york", "departed", days);
        assert!(departed(0..=58) > 15_000, "they leave before the closure");
        assert_eq!(
            departed(59 + max_delay..=u32::MAX),
            0,
            "ε = {elasticity}, news delay ≤ {max_delay}: nobody sets out once the news has reached everyone"
        );
        // Those still at home stay there; only groups already on the way
        // when the doors closed are left with nowhere to go.
        assert!(outcome(&out, "residents", "not_departed") > 150_000);
    }
}

#[test]
fn deterrence_scales_departures_by_how_the_doors_look_and_not_before_the_change() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let residents = r#"
[[population]]
id = "residents"
origin = "new_york"
nationality = "HT"
people = 200000
resident_of = "US"
destinations = { CA = 1.0 }
knows = ["lacolle", "roxham_road", "montreal"]
daily_depart_share = 0.002

[[policy]]
id = "stca"
kind = "stca"
border = "US-CA"
scope = "whole_border"
from = 2025-03-01

[[policy]]
id = "rcmp"
kind = "enforcement"
places = ["roxham_road"]
detection_rate = 0.8
"#;
    let run_with = |e: f64| {
        go(
            tmp.path(),
            &format!("e{e}"),
            &corridor(&format!("depart_elasticity = {e}"), residents),
        )
    };
    let (flat, elastic) = (run_with(0.0), run_with(1.0));
    let departed = |out: &Path, days: std::ops::RangeInclusive<u32>| place_sum(out, "new_york", "departed", days);
    assert_eq!(
        departed(&flat, 0..=58),
        departed(&elastic, 0..=58),
        "same departures before the change"
    );
    let (d0, d1) = (departed(&flat, 60..=u32::MAX), departed(&elastic, 60..=u32::MAX));
    assert!(d0 > 1000, "with ε = 0 they still leave: {d0}");
    // Openness of Montreal falls to 0.2 (and failure now costs a bar): the
    // value of the options falls by more than ln 5, so ε = 1 cuts
    // departures by more than 5×.
    assert!(
        (d1 as f64) < 0.2 * d0 as f64,
        "departures after the change: {d0} → {d1}"
    );
}

#[test]
fn a_group_whose_best_option_is_its_home_city_does_not_set_out() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let homebodies = r#"
[[population]]
id = "homebodies"
origin = "new_york"
nationality = "HT"
people = 5000
destinations = { US = 1.0, CA = 0.01 }
knows = ["new_york", "montreal", "roxham_road", "lacolle"]
depart = 2025-01-10
"#;
    let out = go(tmp.path(), "home", &corridor("", homebodies));
    // Claiming at home is nearly everyone's best option: those groups stay
    // `not_departed` instead of "departing" and claiming at home that day.
    assert_eq!(place_sum(&out, "new_york", "claims", 0..=u32::MAX), 0);
    assert!(outcome(&out, "homebodies", "not_departed") > 4500);
    let departed = place_sum(&out, "new_york", "departed", 0..=u32::MAX);
    assert_eq!(departed + outcome(&out, "homebodies", "not_departed"), 5000);
    assert!(departed > 0, "the few who prefer Canada go");
}

/// Mexicans flying from Mexico City to Montréal-Trudeau: some claim at the
/// airport, others enter as visitors and claim in Montreal.
const FLYERS: &str = r#"
[[population]]
id = "flyers"
origin = "mexico_city"
nationality = "MX"
people = 6000
destinations = { CA = 1.0 }
knows = ["yul", "montreal"]
claim_delay_days = 30
depart_from = 2025-01-01
per_day = 100
"#;

#[test]
fn visitors_claim_inland_after_claim_delay_days_and_a_visa_cuts_airport_claims_first() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // Montreal one leg from the airport; the land route through the US
    // closed, so that flying is the only way.
    let text = |policy: &str| {
        corridor(
            PLAIN,
            &format!("{FLYERS}{policy}\n[[policy]]\nid = \"us_border\"\nkind = \"closure\"\nplaces = [\"laredo\", \"rgv_between_ports\"]\n"),
        ) + "\n[[route]]\nfrom = \"yul\"\nto = \"montreal\"\nkm = 20\nmode = \"car\"\n"
    };
    let free = go(tmp.path(), "free", &text(""));
    let claims = |out: &Path, p: &str, days: std::ops::RangeInclusive<u32>| place_sum(out, p, "claims", days);
    // The first visitors land on day 0 or 1: nobody claims in Montreal
    // before day 30; airport claims start at once.
    assert_eq!(claims(&free, "montreal", 0..=29), 0);
    assert!(claims(&free, "montreal", 30..=45) > 0);
    assert!(claims(&free, "yul", 0..=5) > 0);
    // A visa from day 40 (no flights without one): airport claims stop at
    // once, inland claims go on for the 30 days of the visitors already in.
    let visa =
        "\n[[policy]]\nid = \"visa\"\nkind = \"visa\"\ncountry = \"CA\"\nnationalities = [\"MX\"]\nfrom = 2025-02-10\n";
    let with = go(tmp.path(), "visa", &text(visa));
    assert_eq!(
        claims(&with, "yul", 41..=u32::MAX),
        0,
        "no airport claims after the visa"
    );
    let inland_after = claims(&with, "montreal", 41..=70);
    assert!(
        inland_after > 500,
        "inland claims of visitors already in: {inland_after}"
    );
    assert_eq!(
        claims(&with, "montreal", 72..=u32::MAX),
        0,
        "and none once they are done"
    );
}

#[test]
fn a_group_waiting_out_fourteen_days_inland_keeps_its_claim() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // Whole-border STCA, half detected between ports; those who cross
    // unseen wait in Montreal for 14 days. They replan every 3 days, but
    // have nothing left to decide: each claims in Montreal.
    let movers = r#"
[[population]]
id = "movers"
origin = "new_york"
nationality = "HT"
people = 4000
destinations = { CA = 1.0, US = 0.5 }
knows = ["montreal", "new_york"]
depart = 2025-01-02

[[policy]]
id = "stca"
kind = "stca"
border = "US-CA"
scope = "whole_border"

[[policy]]
id = "rcmp"
kind = "enforcement"
places = ["roxham_road"]
detection_rate = 0.5

[[policy]]
id = "port"
kind = "closure"
places = ["lacolle"]
"#;
    let text = corridor(PLAIN, movers).replacen("replan_days = 7", "replan_days = 3", 1);
    let out = go(tmp.path(), "wait", &text);
    let crossed = place_sum(&out, "roxham_road", "arrived", 0..=u32::MAX);
    let detected = place_sum(&out, "roxham_road", "detected", 0..=u32::MAX);
    assert!(crossed > detected && detected > 0);
    assert_eq!(
        place_sum(&out, "montreal", "claims", 0..=u32::MAX),
        crossed - detected,
        "everyone who crossed unseen claims in Montreal"
    );
}

#[test]
fn crossings_act_only_on_people_entering_their_country() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // People in Montreal going south to claim in New York pass Lacolle,
    // where the STCA turns back claimants entering Canada — not them.
    let southbound = r#"
[[population]]
id = "south"
origin = "montreal"
nationality = "HT"
people = 3000
destinations = { US = 1.0 }
knows = ["new_york"]
depart = 2025-01-02
"#;
    let out = go(
        tmp.path(),
        "south",
        &corridor(PLAIN, &format!("{southbound}{STCA_PORTS}")),
    );
    assert_eq!(place_sum(&out, "lacolle", "turned_back", 0..=u32::MAX), 0);
    assert_eq!(outcome(&out, "south", "claimed_us"), 3000);
}

#[test]
fn border_claim_points_are_not_targets_from_their_own_side() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // People who flew to Montréal-Trudeau know Roxham Road and Lacolle, but
    // do not travel back to the border to claim there.
    let flown = r#"
[[population]]
id = "flown"
origin = "yul"
nationality = "HT"
people = 3000
destinations = { CA = 1.0 }
knows = ["roxham_road", "lacolle", "montreal"]
depart = 2025-01-02
"#;
    let text = corridor(PLAIN, flown) + "\n[[route]]\nfrom = \"yul\"\nto = \"montreal\"\nkm = 20\nmode = \"car\"\n";
    let out = go(tmp.path(), "flown", &text);
    assert_eq!(place_sum(&out, "roxham_road", "arrived", 0..=u32::MAX), 0);
    assert_eq!(place_sum(&out, "lacolle", "arrived", 0..=u32::MAX), 0);
    assert_eq!(place_sum(&out, "montreal", "claims", 0..=u32::MAX), 3000);
}

#[test]
fn exempt_groups_claim_at_the_official_port_not_between_ports() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let relatives = r#"
[[population]]
id = "relatives"
origin = "new_york"
nationality = "HT"
people = 4000
relatives = { CA = 1.0 }
destinations = { CA = 1.0 }
knows = ["lacolle", "roxham_road", "montreal"]
depart_from = 2025-01-01
depart_until = 2025-01-31
"#;
    let rcmp = "\n[[policy]]\nid = \"rcmp\"\nkind = \"enforcement\"\nplaces = [\"roxham_road\"]\n";
    let out = go(
        tmp.path(),
        "rel",
        &corridor(PLAIN, &format!("{relatives}{STCA_PORTS}{rcmp}")),
    );
    // The STCA exempts people with relatives in Canada: the port is open
    // to them, so they do not cross beside it.
    assert_eq!(
        cohort_sum(&out, "arrived", |_, c, p| c == "relatives" && p == "roxham_road"),
        0
    );
    assert_eq!(
        cohort_sum(&out, "claims", |_, c, p| c == "relatives" && p == "lacolle")
            + cohort_sum(&out, "claims", |_, c, p| c == "relatives" && p == "montreal"),
        4000
    );
    assert_eq!(place_sum(&out, "lacolle", "turned_back", 0..=u32::MAX), 0);
}

#[test]
fn a_failed_door_is_remembered_and_weighed_down_in_the_next_choice() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // One US door under Title 42, Mexico a fallback. A group that weighs
    // its own expulsions (few prior trials) finds the port less open each
    // time and turns to Mexico sooner than one that trusts the published
    // odds: fewer repeat expulsions per expelled person.
    let one_port = r#"
[[population]]
id = "hondurans"
origin = "monterrey"
nationality = "HN"
people = 20000
destinations = { US = 1.0, MX = 0.3 }
knows = ["laredo", "mexico_city"]
depart_from = 2025-01-01
depart_until = 2025-01-31

[[policy]]
id = "t42"
kind = "title42"
border = "MX-US"
expulsion_rate = 0.6
"#;
    let with = |k: f64| {
        go(
            tmp.path(),
            &format!("k{k}"),
            &corridor(&format!("{PLAIN}\nmemory_trials = {k}"), one_port),
        )
    };
    let (trusting, remembering) = (with(1e6), with(0.5));
    let per_person = |out: &Path| {
        let (c, p) = event(out, "expelled");
        c as f64 / p as f64
    };
    let (r0, r1) = (per_person(&trusting), per_person(&remembering));
    // Trusting the odds, a group retries until it passes (nearly 1/(1 − 0.6)
    // attempts, less those who turn to Mexico): well above 1.5.
    assert!(r0 > 1.5, "expulsions per expelled person without memory: {r0:.2}");
    assert!(r1 < r0 - 0.2, "with memory: {r0:.2} → {r1:.2}");
    // The first expulsions happen to the same agents either way.
    assert_eq!(
        place_sum(&trusting, "laredo", "expelled", 0..=0),
        place_sum(&remembering, "laredo", "expelled", 0..=0)
    );
}

#[test]
fn the_trace_shows_the_door_that_failed_the_day_and_the_bar() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let p = write(
        tmp.path(),
        "t.toml",
        &corridor(PLAIN, &format!("{UNINFORMED}{STCA_PORTS}")),
    );
    let out = tmp.path().join("t");
    run(&p, &out, &["--trace", "50"]);
    let text = std::fs::read_to_string(out.join("trace.csv")).expect("trace.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("day,agent,cohort,state,place,route,target,informed,failed,failed_day,barred")
    );
    // An uninformed group turned back at Lacolle on day d: from then on its
    // rows name the claim point it was making for, the day, and Canada's
    // bar, and it knows the rules.
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let failed: Vec<&Vec<&str>> = rows.iter().filter(|r| !r[8].is_empty()).collect();
    assert!(!failed.is_empty(), "someone is turned back");
    for r in &failed {
        // The claim point it was making for: the port, or Montreal beyond it.
        assert!(["lacolle", "montreal"].contains(&r[8]), "the door: {r:?}");
        assert_eq!(r[10], "CA", "barred from Canada: {r:?}");
        assert_eq!(r[7], "1", "it knows the rules now: {r:?}");
        assert!(r[9].parse::<u32>().expect("a day") <= r[0].parse::<u32>().expect("a day"));
    }
    // Before its failure, the same group's rows are blank there.
    let agent = failed[0][1];
    let day: u32 = failed[0][9].parse().expect("day");
    assert!(rows
        .iter()
        .filter(|r| r[1] == agent && r[0].parse::<u32>().expect("day") < day)
        .all(|r| r[8].is_empty() && r[10].is_empty()));
}
