//! Caravans: groups that set out together walk together at the pace of the
//! slowest; offers take a share of them elsewhere with papers; checkpoints
//! that do not always honour papers intercept some of their holders.

mod common;
use common::*;
use std::path::Path;

/// A walking chain a → b → c → d (claims at d), 20 km a leg; lone walkers
/// make 20 km a day, families half that. `{COHORTS}` and `{POLICIES}` are
/// replaced by each test.
const CHAIN: &str = r#"
[scenario]
name = "caravan-chain"
start = 2025-01-01
end = 2025-02-28
seed = 11

[behaviour]
news_delay_days = { mean = 0, max = 0 }
speed_km_per_day = { walk = 20 }
family_pace = 0.5

[[place]]
id = "a"
country = "MX"
kind = "city"
lat = 15.0
lon = -92.0

[[place]]
id = "b"
country = "MX"
kind = "town"
lat = 15.2
lon = -92.2

[[place]]
id = "c"
country = "MX"
kind = "town"
lat = 15.4
lon = -92.4

[[place]]
id = "d"
country = "MX"
kind = "city"
lat = 15.6
lon = -92.6
claims = true

[[route]]
from = "a"
to = "b"
km = 20
mode = "walk"

[[route]]
from = "b"
to = "c"
km = 20
mode = "walk"

[[route]]
from = "c"
to = "d"
km = 20
mode = "walk"

{COHORTS}
{POLICIES}
"#;

fn cohorts(caravan: bool) -> String {
    let c = if caravan { "caravan = \"together\"\n" } else { "" };
    format!(
        "[[population]]\nid = \"alone\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 200\nfamily_share = 0.0\n\
         destinations = {{ MX = 1.0 }}\ndepart = 2025-01-02\n{c}\n\
         [[population]]\nid = \"families\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 200\nfamily_share = 1.0\n\
         household_size = {{ 4 = 1.0 }}\ndestinations = {{ MX = 1.0 }}\ndepart = 2025-01-02\n{c}\n"
    )
}

fn scenario(dir: &Path, name: &str, cohorts: &str, policies: &str) -> std::path::PathBuf {
    write(
        dir,
        name,
        &CHAIN.replace("{COHORTS}", cohorts).replace("{POLICIES}", policies),
    )
}

/// Days on which claims were made at `place`, with the people claiming.
fn claim_days(out: &Path, place: &str) -> Vec<(u32, u64)> {
    places(out)
        .into_iter()
        .filter(|r| r.place == place && r.claims > 0)
        .map(|r| (r.day, r.claims))
        .collect()
}

/// A table's rows as fields.
fn rows(out: &Path, table: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(out.join(table))
        .unwrap_or_else(|_| panic!("{table} written"))
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn groups_of_a_caravan_walk_together_at_the_pace_of_the_slowest() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let apart = scenario(tmp.path(), "apart.toml", &cohorts(false), "");
    let together = scenario(tmp.path(), "together.toml", &cohorts(true), "");
    run(&apart, &tmp.path().join("apart"), &[]);
    run(&together, &tmp.path().join("together"), &[]);
    // Apart: lone walkers make the 60 km in 3 days (days 1–3), families in
    // 6 (days 1–6).
    let apart_days = claim_days(&tmp.path().join("apart"), "d");
    assert_eq!(apart_days, vec![(3, 200), (6, 200)]);
    let families_day = 6;
    // Together: everyone arrives on the families' day, all 400 at once.
    let together_days = claim_days(&tmp.path().join("together"), "d");
    assert_eq!(together_days, vec![(families_day, 400)]);
    // The caravan table: every group walks in it, at the families' pace,
    // until they arrive.
    let c = rows(&tmp.path().join("together"), "caravan.csv");
    let day1 = c.iter().find(|r| r[0] == "1").expect("day 1");
    assert_eq!(day1[2], "together");
    assert_eq!(day1[4], "400", "{day1:?}");
    assert_eq!(day1[5], "50", "50 families of 4: {day1:?}");
    assert_eq!(day1[7], "10.00");
    let last = c
        .iter()
        .find(|r| r[0] == families_day.to_string())
        .expect("arrival day");
    assert_eq!(last[4], "0", "nobody walks in it once it has arrived: {last:?}");
    assert!(!tmp.path().join("apart").join("caravan.csv").exists());
}

#[test]
fn without_families_a_caravan_walks_at_a_lone_walkers_pace() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let only_alone = "[[population]]\nid = \"alone\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 100\n\
                      family_share = 0.0\ndestinations = { MX = 1.0 }\ndepart = 2025-01-02\ncaravan = \"c\"\n";
    let s = scenario(tmp.path(), "s.toml", only_alone, "");
    run(&s, &tmp.path().join("o"), &[]);
    // 60 km at 20 km a day, walking days 1, 2 and 3: claims on day 3.
    assert_eq!(claim_days(&tmp.path().join("o"), "d"), vec![(3, 100)]);
}

const OFFER: &str = r#"
[[policy]]
id = "offer_b"
kind = "offer"
place = "b"
uptake = 0.4
send_to = "a"
papers = "visitor card"
"#;

#[test]
fn a_share_of_the_caravan_takes_an_offer_and_leaves_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let many = "[[population]]\nid = \"alone\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 3000\n\
                family_share = 0.0\ndestinations = { MX = 1.0 }\ndepart = 2025-01-02\ncaravan = \"c\"\n";
    let s = scenario(tmp.path(), "s.toml", many, OFFER);
    let out = tmp.path().join("o");
    run(&s, &out, &[]);
    let offers = rows(&out, "offers.csv");
    let offered: u64 = offers.iter().map(|r| r[4].parse::<u64>().expect("count")).sum();
    let accepted: u64 = offers.iter().map(|r| r[5].parse::<u64>().expect("count")).sum();
    // Everyone in the caravan is offered once (groups of one here).
    assert_eq!(offered, 3000);
    let share = accepted as f64 / offered as f64;
    // 0.4 ± 4 standard deviations of a binomial share over 3,000 groups.
    assert!(
        (share - 0.4).abs() < 4.0 * (0.4f64 * 0.6 / 3000.0).sqrt(),
        "share {share}"
    );
    // Those who took it left the caravan (taken back to a, out of it)…
    let c = rows(&out, "caravan.csv");
    let after = c.iter().find(|r| r[0] == "2").expect("day 2");
    assert_eq!(after[4].parse::<u64>().expect("people"), 3000 - accepted);
    // … and nobody ends lost: those who took it claim at d later, on their own.
    let total: u64 = outcomes(&out).iter().map(|r| r.2).sum();
    assert_eq!(total, 3000);
    let claimed: u64 = claim_days(&out, "d").iter().map(|x| x.1).sum();
    assert_eq!(claimed, 3000);
}

#[test]
fn an_offer_is_made_only_to_groups_walking_in_a_caravan() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let s = scenario(tmp.path(), "s.toml", &cohorts(false), OFFER);
    run(&s, &tmp.path().join("o"), &[]);
    let offers = rows(&tmp.path().join("o"), "offers.csv");
    assert!(offers.iter().all(|r| r[4] == "0" && r[5] == "0"));
}

/// Everyone takes papers at b (and stays there); a checkpoint at c
/// intercepts everyone without papers, sending them back to a.
fn papers_and_checkpoint(honour_rate: f64) -> String {
    format!(
        "[[policy]]\nid = \"papers_at_b\"\nkind = \"offer\"\nplace = \"b\"\nuptake = 1.0\nsend_to = \"b\"\n\
         papers = \"humanitarian visa\"\n\n\
         [[policy]]\nid = \"checkpoint_c\"\nkind = \"checkpoint\"\nplace = \"c\"\ninterception_rate = 1.0\n\
         send_to = \"a\"\nexempt = [\"papers:papers_at_b\"]\nhonour_rate = {honour_rate}\n"
    )
}

#[test]
fn a_checkpoint_that_does_not_always_honour_papers_intercepts_some_holders() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let many = "[[population]]\nid = \"alone\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 3000\n\
                family_share = 0.0\ndestinations = { MX = 1.0 }\ndepart = 2025-01-02\ncaravan = \"c\"\n";
    // Honoured always: every holder passes and claims at d.
    let s = scenario(tmp.path(), "always.toml", many, &papers_and_checkpoint(1.0));
    let out = tmp.path().join("always");
    run(&s, &out, &[]);
    assert!(!out.join("papers.csv").exists());
    let intercepted: u64 = places(&out).iter().map(|r| r.intercepted).sum();
    assert_eq!(intercepted, 0);
    assert_eq!(claim_days(&out, "d").iter().map(|x| x.1).sum::<u64>(), 3000);
    // Honoured seven times in ten: about three holders in ten are
    // intercepted despite their papers, and lose them.
    let s = scenario(tmp.path(), "often.toml", many, &papers_and_checkpoint(0.7));
    let out = tmp.path().join("often");
    run(&s, &out, &[]);
    let p = rows(&out, "papers.csv");
    let holders: u64 = p.iter().map(|r| r[4].parse::<u64>().expect("count")).sum();
    let not_honoured: u64 = p.iter().map(|r| r[5].parse::<u64>().expect("count")).sum();
    assert_eq!(holders, 3000, "each holder reaches the checkpoint once with its papers");
    let share = not_honoured as f64 / holders as f64;
    assert!((share - 0.3).abs() < 4.0 * (0.21f64 / 3000.0).sqrt(), "share {share}");
    let first_day: u64 = places(&out)
        .iter()
        .filter(|r| r.place == "c")
        .map(|r| r.intercepted)
        .find(|&x| x > 0)
        .expect("interceptions");
    assert_eq!(first_day, not_honoured);
}

#[test]
fn a_caravan_run_is_the_same_with_one_or_two_threads() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let many = "[[population]]\nid = \"alone\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 20000\n\
                family_share = 0.5\nhousehold_size = { 3 = 1.0 }\ndestinations = { MX = 1.0 }\n\
                depart = 2025-01-02\ncaravan = \"c\"\n";
    let checkpoint = "\n[[policy]]\nid = \"checkpoint_c\"\nkind = \"checkpoint\"\nplace = \"c\"\n\
                      interception_rate = 0.5\nsend_to = \"a\"\nexempt = [\"papers:offer_b\"]\nhonour_rate = 0.6\n";
    let s = scenario(tmp.path(), "s.toml", many, &format!("{OFFER}{checkpoint}"));
    run(&s, &tmp.path().join("one"), &["--threads", "1"]);
    run(&s, &tmp.path().join("two"), &["--threads", "2"]);
    for t in [
        "places.csv",
        "outcomes.csv",
        "events.csv",
        "caravan.csv",
        "offers.csv",
        "papers.csv",
    ] {
        assert_eq!(
            std::fs::read(tmp.path().join("one").join(t)).ok(),
            std::fs::read(tmp.path().join("two").join(t)).ok(),
            "{t}"
        );
    }
}

/// Offers at b (uptake 0.4) and at c (uptake 0.4), to a caravan of 3,000
/// lone walkers; `breakup` set in `[behaviour]` (0: not written).
fn two_offers(tmp: &Path, name: &str, breakup: f64) -> std::path::PathBuf {
    let many = "[[population]]\nid = \"alone\"\norigin = \"a\"\nnationality = \"HN\"\npeople = 3000\n\
                family_share = 0.0\ndestinations = { MX = 1.0 }\ndepart = 2025-01-02\ncaravan = \"c\"\n";
    let offer_c = OFFER
        .replace("offer_b", "offer_c")
        .replace("place = \"b\"", "place = \"c\"");
    let text = CHAIN
        .replace("{COHORTS}", many)
        .replace("{POLICIES}", &format!("{OFFER}{offer_c}"));
    let text = if breakup > 0.0 {
        text.replace(
            "family_pace = 0.5\n",
            &format!("family_pace = 0.5\ncaravan_breakup = {breakup}\n"),
        )
    } else {
        text
    };
    write(tmp, name, &text)
}

#[test]
fn a_caravan_shrunk_below_its_breakup_share_breaks_up_at_the_next_offer() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let accepted = |out: &Path, id: &str| -> (u64, u64) {
        rows(out, "offers.csv")
            .iter()
            .filter(|r| r[2] == id)
            .fold((0, 0), |(o, a), r| {
                (
                    o + r[4].parse::<u64>().expect("count"),
                    a + r[5].parse::<u64>().expect("count"),
                )
            })
    };
    // Without it: each offer takes about four in ten of those it meets, and
    // the rest walk on to d in the caravan.
    let out = tmp.path().join("never");
    run(&two_offers(tmp.path(), "never.toml", 0.0), &out, &[]);
    let (met_c, took_c) = accepted(&out, "offer_c");
    assert!(met_c > 1500 && took_c < met_c * 6 / 10, "{took_c} of {met_c}");
    // At 0.7: the first offer leaves about 0.6 of it, below 0.7, so at the
    // second every group still walking in it takes it, and nobody walks on.
    let out = tmp.path().join("breaks");
    run(&two_offers(tmp.path(), "breaks.toml", 0.7), &out, &[]);
    let (met_b, took_b) = accepted(&out, "offer_b");
    assert_eq!(met_b, 3000);
    assert!((took_b as f64 / 3000.0 - 0.4).abs() < 0.04, "{took_b}");
    let (met_c, took_c) = accepted(&out, "offer_c");
    assert_eq!(
        (met_c, took_c),
        (3000 - took_b, 3000 - took_b),
        "the rest all take the second offer"
    );
    let c = rows(&out, "caravan.csv");
    let walking_after_c = c
        .iter()
        .filter(|r| r[0].parse::<u32>().expect("day") > 2)
        .map(|r| r[4].parse::<u64>().expect("people"))
        .max();
    assert_eq!(walking_after_c, Some(0), "the caravan has broken up");
    // At 0.5 it does not shrink enough at b to break up at c.
    let out = tmp.path().join("holds");
    run(&two_offers(tmp.path(), "holds.toml", 0.5), &out, &[]);
    let (met_c, took_c) = accepted(&out, "offer_c");
    assert!(took_c < met_c * 6 / 10, "{took_c} of {met_c}");
}

/// The shipped caravan with one more population appended.
fn shipped_with(dir: &Path, name: &str, extra: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(common::scenario("caravan-2025.toml")).expect("reads");
    write(dir, name, &format!("{text}\n{extra}"))
}

#[test]
fn a_cohort_split_over_origins_never_gains_or_loses_a_person() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = shipped_with(
        dir.path(),
        "tiny.toml",
        "[[population]]\nid = \"tiny\"\norigin = { tapachula = 0.98, huixtla = 0.01, escuintla = 0.01 }\n\
         nationality = \"VE\"\npeople = 2\ndestinations = { MX = 1.0 }\ndepart = 2025-08-10\n",
    );
    let sc = northbound::scenario::load(&path).expect("loads");
    let tiny: Vec<u64> = sc
        .cohorts
        .iter()
        .filter(|c| c.id.starts_with("tiny"))
        .map(|c| c.people)
        .collect();
    assert_eq!(tiny.iter().sum::<u64>(), 2, "two people, whatever the shares: {tiny:?}");
    assert!(
        tiny.iter().all(|&n| n > 0),
        "an origin with nobody is no cohort: {tiny:?}"
    );
}

#[test]
fn a_caravan_whose_cohorts_start_in_different_places_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = shipped_with(
        dir.path(),
        "apart.toml",
        "[[population]]\nid = \"mo\"\norigin = \"mapastepec\"\nnationality = \"VE\"\npeople = 100\n\
         destinations = { MX = 1.0 }\ndepart = 2025-08-06\ncaravan = \"exodo_2025\"\n",
    );
    let o = bin().arg("check").arg(&path).output().expect("starts");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("do not all set out from one place"), "{err}");
}
