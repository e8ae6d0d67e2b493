//! The flee model: importing Flee's folders, each of Flee's rules on a tiny
//! graph with a known answer, closures, and both shipped scenarios end to
//! end at reduced scale.

mod common;

use northbound::flee::model::*;
use northbound::flee::settings::{Settings, SpawnMode};
use northbound::flee::{self, import, scenario, sim, Compat};
use std::path::{Path, PathBuf};

fn peer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/peers/flee")
        .join(name)
}

fn names(sc: &FleeScenario, ix: &[u32]) -> Vec<String> {
    ix.iter().map(|&i| sc.locations[i as usize].name.clone()).collect()
}

#[test]
fn importing_burundi_gives_the_hand_counted_places_routes_camps_and_closures() {
    let sc = import::import(&peer("burundi")).expect("burundi imports");
    // locations.csv: 31 lines, one header; routes.csv: 42 lines, one header.
    assert_eq!(sc.locations.len(), 30);
    assert_eq!(sc.routes.len(), 41);
    assert_eq!(
        names(&sc, &sc.camps()),
        ["Mahama", "Nduta", "Nyarugusu", "Nakivale", "Lusenda"]
    );
    assert_eq!(sc.start.to_string(), "2015-05-01");
    assert_eq!(sc.days, 396);
    // 32 names in conflicts.csv's header, two of which (Isale, Gitega-Ruyigi)
    // are not locations: Flee ignores them, with a warning here.
    assert_eq!(sc.conflicts.len(), 30);
    assert!(sc.warnings.iter().any(|w| w.contains("`Isale`")));
    // closures.csv: two camp closures; remove_forced_redirection is inert.
    assert_eq!(sc.closures.len(), 2);
    let nduta = sc.loc("Nduta").expect("Nduta");
    assert_eq!(
        sc.closures[0],
        Closure {
            kind: ClosureKind::Camp { loc: nduta, idp: false },
            start: 0,
            end: Some(101)
        }
    );
    // A conflict_zone whose conflict_date is after day 0 starts as a town.
    let kabarore = &sc.locations[sc.loc("Kabarore").expect("Kabarore") as usize];
    assert_eq!(
        (kabarore.kind, kabarore.conflict_date, kabarore.population),
        (LocKind::Town, Some(71), 62303)
    );
    assert_eq!(
        sc.locations[sc.loc("Bujumbura").expect("B") as usize].kind,
        LocKind::Conflict
    );
    assert_eq!(
        sc.locations[sc.loc("Kagunga").expect("K") as usize].kind,
        LocKind::Forward
    );
    assert!(sc.locations[nduta as usize].foreign && !kabarore.foreign);
    assert_eq!(sc.locations[nduta as usize].capacity, 55320);
    assert_eq!(sc.settings.max_move_speed, 200.0);
    assert_eq!(sc.settings.conflict_weight, 0.25);
    assert_eq!(sc.settings.conflict_spawn_decay, [1.0, 1.0, 1.0, 0.5, 0.1]);
    // The total drives spawning: refugees.csv, 224 observations.
    assert_eq!(sc.totals.len(), 224);
    assert_eq!(sc.totals.last().map(|x| x.1), Some(269375.0));
}

#[test]
fn importing_mali_reads_quoted_names_extra_columns_and_country_closures() {
    let sc = import::import(&peer("mali2012")).expect("mali2012 imports");
    assert_eq!(sc.locations.len(), 23);
    assert_eq!(sc.routes.len(), 35);
    assert_eq!(
        names(&sc, &sc.camps()),
        [
            "Fassala-Mbera",
            "Mentao",
            "Bobo-Dioulasso",
            "Abala",
            "Mangaize",
            "Niamey",
            "Tabareybarey"
        ]
    );
    assert_eq!(sc.settings.hasten, 10);
    assert_eq!(sc.settings.camp_weight, 5.0);
    assert_eq!(sc.settings.capacity_buffer, 0.75);
    assert_eq!(
        sc.closures
            .iter()
            .map(|c| (c.kind.clone(), c.start, c.end))
            .collect::<Vec<_>>(),
        [
            (ClosureKind::Country("Mali".into(), "Burkina_Faso".into()), 0, Some(22)),
            (ClosureKind::Country("Mali".into(), "Niger".into()), 0, Some(33)),
        ]
    );
    let kidal = &sc.locations[sc.loc("Kidal").expect("Kidal") as usize];
    assert_eq!(kidal.attributes, [("IPC".to_string(), "3".to_string())]);
    // insert_day0: Fassala-Mbera's first observation after the registration
    // correction of 2012-12-31 (ratio of the level-2 count to the last level-1 one).
    let fm = &sc.locations[sc.loc("Fassala-Mbera").expect("FM") as usize];
    assert!(
        fm.initial_people > 5000 && fm.initial_people < 20000,
        "{}",
        fm.initial_people
    );
    assert_eq!(sc.totals.first(), Some(&(0, 20075.0)));
}

#[test]
fn an_imported_scenario_written_as_toml_reads_back_the_same() {
    for name in ["burundi", "mali2012"] {
        let a = import::import(&peer(name)).expect("imports");
        let text = scenario::to_toml(&a, "x");
        let b = scenario::load_str(&text, Path::new("x.toml")).unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(a.locations, b.locations);
        assert_eq!(a.routes, b.routes);
        assert_eq!(a.conflicts, b.conflicts);
        assert_eq!(a.closures, b.closures);
        assert_eq!(a.totals, b.totals);
        assert_eq!(a.settings, b.settings);
        assert_eq!((a.start, a.days), (b.start, b.days));
    }
}

/// A scenario on a tiny graph: `locs` (name, kind, population or capacity),
/// routes (a, b, km), `n` agents spawned on day 1 at the conflict zones.
fn tiny(locs: &[(&str, LocKind, u64)], routes: &[(&str, &str, f64)], n: u64, days: u32) -> FleeScenario {
    let locations: Vec<Location> = locs
        .iter()
        .map(|&(name, kind, x)| Location {
            name: name.into(),
            region: String::new(),
            country: if kind.is_camp() { "B".into() } else { "A".into() },
            lat: 0.0,
            lon: 0.0,
            kind,
            conflict_date: None,
            population: if kind.is_camp() { 0 } else { x },
            capacity: if kind.is_camp() { x } else { 0 },
            conflict_intensity: 1.0,
            initial_people: 0,
            deactivation_probability: 0.0,
            foreign: kind.is_camp(),
            attributes: Vec::new(),
        })
        .collect();
    let ix = |s: &str| locations.iter().position(|l| l.name == s).expect("known") as u32;
    let routes = routes
        .iter()
        .map(|&(a, b, km)| Route {
            a: ix(a),
            b: ix(b),
            km,
            forced_redirection: 0,
            max_move_speed: None,
            walk_probability: 0.0,
        })
        .collect();
    let settings = Settings {
        insert_day0: false,
        ..Settings::default()
    };
    FleeScenario {
        about: northbound::scenario::About {
            name: "tiny".into(),
            file: PathBuf::from("tiny"),
            ..Default::default()
        },
        start: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
        days,
        seed: 7,
        compat: Compat::Intended,
        settings,
        locations,
        routes,
        conflicts: Vec::new(),
        closures: Vec::new(),
        totals: vec![(0, 0.0), (1, n as f64)],
        warnings: Vec::new(),
    }
}

fn run(sc: &FleeScenario) -> sim::FleeRun {
    sim::run(sc, sc.seed, &mut |_| {}).expect("runs")
}

fn at(sc: &FleeScenario, r: &sim::FleeRun, day: usize, name: &str) -> u32 {
    r.counts[day][sc.loc(name).expect("known") as usize]
}

fn within_4_sd(count: u32, n: u64, p: f64) -> bool {
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    (count as f64 - n as f64 * p).abs() <= 4.0 * sd
}

#[test]
fn agents_leave_a_place_with_its_move_chance_each_day() {
    let mut sc = tiny(
        &[("war", LocKind::Conflict, 1000), ("far", LocKind::Camp, 0)],
        &[("war", "far", 5000.0)],
        20_000,
        3,
    );
    sc.settings.conflict_movechance = 0.3;
    let r = run(&sc);
    // Spawned on day 1, 30 % step onto the (long) link that day.
    let stayed = at(&sc, &r, 1, "war");
    assert!(within_4_sd(20_000 - stayed, 20_000, 0.3), "{stayed} stayed");
    // And 30 % of those left on day 2.
    let left2 = stayed - at(&sc, &r, 2, "war");
    assert!(within_4_sd(left2, stayed as u64, 0.3), "{left2} of {stayed}");
}

/// A resting agent draws the day it next leaves once per stay, not once a
/// day: the share of those still there that leave is the move chance on
/// every day of a stay, not only on its first.
#[test]
fn resting_agents_leave_with_the_move_chance_on_every_day_of_their_stay() {
    let mut sc = tiny(
        &[("war", LocKind::Conflict, 1000), ("far", LocKind::Camp, 0)],
        &[("war", "far", 50_000.0)],
        40_000,
        10,
    );
    sc.settings.conflict_movechance = 0.2;
    let r = run(&sc);
    for day in 2..10 {
        let (before, now) = (at(&sc, &r, day - 1, "war"), at(&sc, &r, day, "war"));
        assert!(
            within_4_sd(before - now, before as u64, 0.2),
            "day {day}: {} of {before} left",
            before - now
        );
    }
    assert!(at(&sc, &r, 9, "war") > 4_000, "enough stayed to tell");
}

/// Agents resting where they cannot leave (move chance 0) all leave on the
/// day a conflict starts there (chance 1): a change of a place's chance
/// draws again when its residents next leave.
#[test]
fn a_conflict_starting_where_agents_rest_sends_them_all_off_that_day() {
    let mut sc = tiny(
        &[
            ("war", LocKind::Conflict, 1000),
            ("town", LocKind::Town, 1000),
            ("camp", LocKind::Camp, 0),
        ],
        &[("war", "town", 100.0), ("town", "camp", 500.0)],
        10_000,
        6,
    );
    sc.settings.default_movechance = 0.0;
    let town = sc.loc("town").expect("town");
    sc.conflicts = vec![ConflictSeries {
        loc: town,
        changes: vec![(0, 0.0), (5, 1.0)],
    }];
    let r = run(&sc);
    // Everyone went from the war zone to the town on day 1 and stayed.
    for day in 1..5 {
        assert_eq!(at(&sc, &r, day, "town"), 10_000, "day {day}");
    }
    // On day 5 every one of them stepped onto a link out of the town.
    let out_of_town: u64 = (r.links.iter().zip(&r.link_entries))
        .filter(|((from, _, _), _)| *from == town)
        .map(|(_, &n)| n)
        .sum();
    assert!(out_of_town >= 10_000, "{out_of_town} left the town");
}

/// Agents resting in a camp they never leave (move chance 0) leave with a
/// town's chance from the day the camp closes: a camp closure, too, draws
/// again when its residents next leave.
#[test]
fn a_camp_closing_under_resting_agents_sends_them_off_with_a_towns_chance() {
    let mut sc = tiny(
        &[
            ("war", LocKind::Conflict, 1000),
            ("camp", LocKind::Camp, 0),
            ("far", LocKind::Camp, 0),
        ],
        // 300 km: one hop a day at 360 km/day, so that no one who leaves
        // can be back by the end of the day.
        &[("war", "camp", 300.0), ("camp", "far", 50_000.0)],
        10_000,
        6,
    );
    sc.settings.camp_movechance = 0.0;
    let camp = sc.loc("camp").expect("camp");
    sc.closures = vec![Closure {
        kind: ClosureKind::Camp { loc: camp, idp: false },
        start: 5,
        end: None,
    }];
    let r = run(&sc);
    for day in 1..5 {
        assert_eq!(at(&sc, &r, day, "camp"), 10_000, "day {day}");
    }
    // A closed camp is a town: default_movechance, 0.3.
    let left = 10_000 - at(&sc, &r, 5, "camp");
    assert!(within_4_sd(left, 10_000, 0.3), "{left} left the closed camp");
}

#[test]
fn route_choice_weights_camps_by_score_over_softened_distance() {
    let sc = tiny(
        &[
            ("war", LocKind::Conflict, 1000),
            ("near", LocKind::Camp, 0),
            ("far", LocKind::Camp, 0),
        ],
        &[("war", "near", 100.0), ("war", "far", 300.0)],
        20_000,
        4,
    );
    let r = run(&sc);
    // w = 1 / (10 + km): 1/110 against 1/310.
    let p = (1.0 / 110.0) / (1.0 / 110.0 + 1.0 / 310.0);
    let near = at(&sc, &r, 3, "near");
    assert!(
        within_4_sd(near, 20_000, p),
        "{near} at near, expected {}",
        20_000.0 * p
    );
    // Everyone has arrived by day 3 (a few have left a camp again at 0.001 a day).
    assert!(near + at(&sc, &r, 3, "far") >= 19_900);
}

#[test]
fn awareness_two_weights_every_loop_free_path_by_cumulative_distance() {
    let locs = [
        ("war", LocKind::Conflict, 1000),
        ("town", LocKind::Town, 1000),
        ("x", LocKind::Camp, 0),
        ("y", LocKind::Camp, 0),
        ("z", LocKind::Camp, 0),
    ];
    let routes = [
        ("war", "town", 50.0),
        ("town", "x", 100.0),
        ("town", "y", 500.0),
        ("war", "z", 200.0),
    ];
    let first_hop_to_z = |awareness: u32| {
        let mut sc = tiny(&locs, &routes, 20_000, 2);
        sc.settings.awareness_level = awareness;
        // Slow enough that nobody arrives anywhere: the link entries of day 1
        // are the first hops chosen.
        sc.settings.max_move_speed = 1.0;
        let r = run(&sc);
        let z = sc.loc("z").expect("z");
        let k = r
            .links
            .iter()
            .position(|&(a, b, _)| b == z && a == sc.loc("war").expect("war"))
            .expect("link");
        r.link_entries[k] as u32
    };
    // Awareness 1: town (1/60) against z (1/210).
    let p1 = (1.0 / 210.0) / (1.0 / 60.0 + 1.0 / 210.0);
    // Awareness 2 adds town→x (1/160) and town→y (1/560), which start on the town link.
    let p2 = (1.0 / 210.0) / (1.0 / 60.0 + 1.0 / 160.0 + 1.0 / 560.0 + 1.0 / 210.0);
    let (a1, a2) = (first_hop_to_z(1), first_hop_to_z(2));
    assert!(
        within_4_sd(a1, 20_000, p1),
        "awareness 1: {a1}, expected {}",
        20_000.0 * p1
    );
    assert!(
        within_4_sd(a2, 20_000, p2),
        "awareness 2: {a2}, expected {}",
        20_000.0 * p2
    );
}

#[test]
fn an_onward_hop_gets_the_rest_of_the_day_as_intended_and_a_full_day_in_3_1() {
    let locs = [
        ("a", LocKind::Conflict, 1000),
        ("b", LocKind::Forward, 1),
        ("c", LocKind::Camp, 0),
    ];
    let routes = [("a", "b", 300.0), ("b", "c", 700.0)];
    let mut sc = tiny(&locs, &routes, 100, 5);
    sc.settings.max_move_speed = 360.0;
    // Nobody turns back towards the conflict zone from the hub.
    sc.settings.conflict_weight = 0.0;
    // Intended: day 1 covers 300 + 60, day 2 reaches 420, day 3 arrives.
    let r = run(&sc);
    assert_eq!((at(&sc, &r, 2, "c"), at(&sc, &r, 3, "c")), (0, 100));
    // 3.1: the onward hop gets 360 more on day 1 (660 km in a day), and
    // 720 > 700 arrives on day 2.
    sc.compat = Compat::V31;
    let r = run(&sc);
    assert_eq!((at(&sc, &r, 1, "c"), at(&sc, &r, 2, "c")), (0, 100));
}

#[test]
fn arrival_at_exactly_the_link_length_counts_as_intended_but_not_in_3_1() {
    let mut sc = tiny(
        &[("a", LocKind::Conflict, 1000), ("c", LocKind::Camp, 0)],
        &[("a", "c", 360.0)],
        50,
        4,
    );
    sc.settings.max_move_speed = 360.0;
    assert_eq!(at(&sc, &run(&sc), 1, "c"), 50);
    sc.compat = Compat::V31;
    let r = run(&sc);
    assert_eq!((at(&sc, &r, 1, "c"), at(&sc, &r, 2, "c")), (0, 50));
}

#[test]
fn a_full_camp_attracts_nobody_and_a_nearly_full_one_less() {
    let locs = [
        ("war", LocKind::Conflict, 1000),
        ("full", LocKind::Camp, 100),
        ("open", LocKind::Camp, 0),
    ];
    let routes = [("war", "full", 100.0), ("war", "open", 100.0)];
    let mut sc = tiny(&locs, &routes, 4000, 4);
    sc.settings.insert_day0 = true;
    // Residents stay, so the counts below are arrivals only.
    sc.settings.camp_movechance = 0.0;
    sc.locations[1].initial_people = 100;
    let r = run(&sc);
    assert_eq!(at(&sc, &r, 3, "full"), 100, "nobody goes to a camp at capacity");
    assert_eq!(at(&sc, &r, 3, "open"), 4000);
    // At 94 % of capacity the multiplier is 1 − (0.94 − 0.9)/0.1 = 0.6:
    // 0.6 / 1.6 of the choices. (At 95 % it is 0.4999…, below the 0.5 at
    // which routes to a camp are abandoned, in Flee's arithmetic as here.)
    sc.locations[1].initial_people = 94;
    let r = run(&sc);
    let went = at(&sc, &r, 3, "full") - 94;
    assert!(within_4_sd(went, 4000, 0.375), "{went} went to the nearly full camp");
    sc.locations[1].initial_people = 95;
    assert_eq!(at(&sc, &run(&sc), 3, "full"), 95);
}

#[test]
fn conflict_zones_spawn_in_proportion_to_population_intensity_and_decay() {
    let mut sc = tiny(
        &[("old", LocKind::Town, 1000), ("new", LocKind::Town, 1000)],
        &[],
        0,
        132,
    );
    sc.settings.conflict_spawn_decay = vec![1.0, 1.0, 1.0, 0.5, 0.1];
    // "old" is at war from day 0, "new" from day 100; on day 130 their
    // decays are 0.1 (bucket 4) and 1.0 (bucket 1).
    sc.conflicts = vec![
        ConflictSeries {
            loc: 0,
            changes: vec![(0, 1.0)],
        },
        ConflictSeries {
            loc: 1,
            changes: vec![(0, 0.0), (100, 1.0)],
        },
    ];
    sc.totals = vec![(0, 0.0), (130, 0.0), (131, 22_000.0)];
    let r = run(&sc);
    assert_eq!(r.spawned[131], 22_000);
    // Spawn weights are those of the previous day (130): 0.1 against 1.0.
    let old = at(&sc, &r, 131, "old");
    assert!(within_4_sd(old, 22_000, 0.1 / 1.1), "{old} spawned in the old zone");
}

#[test]
fn insert_day0_fills_camps_with_their_day_0_counts_divided_by_hasten() {
    let mut sc = tiny(
        &[("war", LocKind::Conflict, 1000), ("camp", LocKind::Camp, 0)],
        &[],
        0,
        2,
    );
    sc.settings.insert_day0 = true;
    sc.settings.hasten = 10;
    sc.locations[1].initial_people = 1239;
    assert_eq!(at(&sc, &run(&sc), 0, "camp"), 123);
}

#[test]
fn conflict_driven_spawning_adds_displaced_per_conflict_day_times_intensity() {
    let mut sc = tiny(&[("war", LocKind::Conflict, 1000)], &[], 0, 3);
    sc.settings.spawn = SpawnMode::Constant(500.0);
    sc.locations[0].conflict_intensity = 0.5;
    let r = run(&sc);
    assert_eq!(r.spawned, [250, 250, 250]);
}

fn closed_link_scenario(a: &str, b: &str, compat: Compat) -> (FleeScenario, sim::FleeRun) {
    // Agents spawn at both ends; the only route between them is closed for
    // the whole run.
    let mut sc = tiny(
        &[(a, LocKind::Conflict, 1000), (b, LocKind::Conflict, 1000)],
        &[(a, b, 10.0)],
        1000,
        3,
    );
    sc.closures = vec![Closure {
        kind: ClosureKind::Link(0, 1),
        start: 0,
        end: None,
    }];
    sc.compat = compat;
    let r = run(&sc);
    (sc, r)
}

#[test]
fn a_link_closure_with_multi_letter_names_closes_both_directions() {
    let (sc, r) = closed_link_scenario("Bujumbura", "Kigali", Compat::Intended);
    assert_eq!(r.link_entries, [0, 0], "nobody crosses either way");
    assert_eq!(at(&sc, &r, 2, "Bujumbura") + at(&sc, &r, 2, "Kigali"), 1000);
    assert!(r.warnings.is_empty());
}

#[test]
fn flee_3_1_link_closures_fail_for_multi_letter_names_and_close_one_way_for_one_letter_names() {
    // 3.1 compares names by identity: with names read from files nothing
    // matches, so the link stays open both ways, with a warning.
    let (_, r) = closed_link_scenario("Bujumbura", "Kigali", Compat::V31);
    assert!(r.link_entries[0] > 0 && r.link_entries[1] > 0, "{:?}", r.link_entries);
    assert!(r.warnings.iter().any(|w| w.contains("does nothing")));
    // One-letter names are interned: only name2 → name1 closes.
    let (_, r) = closed_link_scenario("A", "B", Compat::V31);
    assert!(r.link_entries[0] > 0, "A → B stays open");
    assert_eq!(r.link_entries[1], 0, "B → A is closed");
}

#[test]
fn a_country_closure_stops_crossings_until_it_is_lifted() {
    let mut sc = tiny(
        &[("war", LocKind::Conflict, 1000), ("camp", LocKind::Camp, 0)],
        &[("war", "camp", 100.0)],
        500,
        8,
    );
    sc.closures = vec![Closure {
        kind: ClosureKind::Country("A".into(), "B".into()),
        start: 0,
        end: Some(5),
    }];
    let r = run(&sc);
    assert_eq!(at(&sc, &r, 4, "camp"), 0);
    assert_eq!(at(&sc, &r, 7, "camp"), 500, "everyone crosses once it reopens on day 5");
}

#[test]
fn a_closed_camp_is_a_town_its_residents_leave() {
    let mut sc = tiny(
        &[("camp", LocKind::Camp, 0), ("town", LocKind::Town, 10)],
        &[("camp", "town", 5000.0)],
        0,
        3,
    );
    sc.settings.insert_day0 = true;
    sc.locations[0].initial_people = 20_000;
    sc.closures = vec![Closure {
        kind: ClosureKind::Camp { loc: 0, idp: false },
        start: 0,
        end: None,
    }];
    let r = run(&sc);
    let left = 20_000 - at(&sc, &r, 0, "camp");
    assert!(within_4_sd(left, 20_000, 0.3), "{left} left a closed camp on day 0");
}

#[test]
fn a_flee_run_is_identical_with_one_and_two_threads() {
    let mut sc = import::import(&peer("burundi")).expect("imports");
    sc.settings.hasten = 20;
    sc.days = 120;
    let go = |t| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().expect("pool");
        pool.install(|| run(&sc))
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a.counts, b.counts);
    assert_eq!(a.link_entries, b.link_entries);
    assert!(a.agents.last().copied().unwrap_or(0) > 5000);
}

/// The pass over arrivals that move on runs ahead in parallel with two
/// threads and serially with one; camps crossing their capacity buffer are
/// what make agents of the pass read running counts, so the camps here are
/// small enough to fill and empty around it.
#[test]
fn arrivals_moving_on_past_full_camps_give_the_serial_results_on_two_threads() {
    let mut sc = import::import(&peer("burundi")).expect("imports");
    sc.compat = Compat::V31;
    sc.settings.hasten = 20;
    sc.days = 160;
    for l in &mut sc.locations {
        l.capacity /= 8;
    }
    let go = |t| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build().expect("pool");
        pool.install(|| run(&sc))
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a.counts, b.counts);
    assert_eq!(a.link_entries, b.link_entries);
    assert_eq!(a.travelling, b.travelling);
    // Some camp went past its buffer (0.9 of its capacity, in agents).
    let over = (sc.locations.iter().enumerate())
        .filter(|(_, l)| l.capacity > 0)
        .any(|(i, l)| {
            let cap = (l.capacity / 20) as f64;
            a.counts.iter().any(|day| day[i] as f64 > 0.9 * cap)
        });
    assert!(over, "no camp reached its capacity buffer");
}

#[test]
fn both_shipped_flee_scenarios_run_and_validate_end_to_end_at_reduced_scale() {
    for name in ["burundi", "mali2012"] {
        let dir = tempfile::tempdir().expect("tmp");
        let toml = common::scenario(&format!("flee-{name}.toml"));
        common::run(&toml, &dir.path().join("run"), &["--scale", "0.1", "--threads", "2"]);
        let places = std::fs::read_to_string(dir.path().join("run/places.csv")).expect("places.csv");
        assert!(places.starts_with("day,date,place,kind,agents,people\n"));
        // A plain-language summary, as every run folder has.
        let md = std::fs::read_to_string(dir.path().join("run/summary.md")).expect("summary.md");
        assert!(
            md.contains("were in camps, most in") && md.contains("one draw of chance"),
            "{md}"
        );
        let o = common::bin()
            .args(["validate"])
            .arg(&toml)
            .arg("--targets")
            .arg(peer(name).join("source_data"))
            .args(["--replicates", "2", "--scale", "0.1", "--flee-compat", "3.1", "--out"])
            .arg(dir.path().join("val"))
            .output()
            .expect("runs");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let first = out.lines().next().unwrap_or("");
        let ard: f64 = first
            .strip_prefix("averaged relative difference: ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("first line: {first}"));
        // Flee 3.1 scores 0.436 (Burundi) and 0.344 (Mali) at full scale (docs/flee.md).
        assert!(ard > 0.2 && ard < 0.6, "{name}: {ard}");
        let table = std::fs::read_to_string(dir.path().join("val/out.csv")).expect("out.csv");
        let head = table.lines().next().unwrap_or("");
        assert!(
            head.starts_with("Day,Date,") && head.contains(" sim,") && head.ends_with("refugee_debt"),
            "{head}"
        );
        assert_eq!(table.lines().count() as u32, flee::load(&toml).expect("loads").days + 1);
        let report = std::fs::read_to_string(dir.path().join("val/report.html")).expect("report.html");
        assert!(report.matches("<svg").count() >= 5, "one chart per camp");
        assert!(
            !report.contains("<script") && !report.contains("src=") && !report.contains("<link"),
            "self-contained"
        );
    }
}

fn write_folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(d.path().join("input_csv")).expect("mkdir");
    for (name, text) in files {
        std::fs::write(d.path().join("input_csv").join(name), text).expect("write");
    }
    d
}

#[test]
fn a_bad_flee_folder_is_refused_with_file_line_and_column() {
    let d = write_folder(&[
        ("sim_period.csv", "StartDate,2020-01-01\nLength,10\n"),
        ("locations.csv", "#name,region,country,lat,lon,location_type,conflict_date,pop\n\"War Town\",r,A,0,0,conflict_zone,0,100\nCamp,r,B,0,0,camp,,50\n"),
        ("routes.csv", "#name1,name2,distance\n\"War Town\",Camq,10\nCamp,\"War Town\",-5,0\n"),
        ("closures.csv", "#closure_type,name1,name2,closure_start,closure_end\nlink,\"War Town\",Camp,5,2\n"),
    ]);
    let o = common::bin().arg("check").arg(d.path()).output().expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("routes.csv:2:12"), "{err}");
    assert!(
        err.contains("no location `Camq`") && err.contains("did you mean `Camp`?"),
        "{err}"
    );
    assert!(err.contains("negative distance"), "{err}");
}

#[test]
fn a_closure_lifted_before_it_starts_is_refused() {
    let d = write_folder(&[
        ("sim_period.csv", "StartDate,2020-01-01\nLength,10\n"),
        ("locations.csv", "#name,region,country,lat,lon,location_type,conflict_date,pop\nWar,r,A,0,0,conflict_zone,0,100\nCamp,r,B,0,0,camp,,50\n"),
        ("routes.csv", "#name1,name2,distance\nWar,Camp,10\n"),
        ("closures.csv", "#closure_type,name1,name2,closure_start,closure_end\ncountry,A,B,5,2\n"),
    ]);
    let e = import::import(d.path()).expect_err("refused").render();
    assert!(
        e.contains("closures.csv:2:") && e.contains("closure_end 2 is not after closure_start 5"),
        "{e}"
    );
}

#[test]
fn routes_with_and_without_forced_redirection_and_conflict_period_csv_are_read() {
    let d = write_folder(&[
        ("conflict_period.csv", "StartDate,2020-01-01\nLength,3\n"),
        ("locations.csv", "#name,region,country,lat,lon,location_type,conflict_date,pop\nWar,r,A,0,0,conflict_zone,0,100\nCamp,r,B,0,0,camp,,50\nHub,r,A,0,0,town,,5\n"),
        ("routes.csv", "#name1,name2,distance,forced_redirection\nWar,Hub,10\nHub,Camp,20,1\n"),
    ]);
    std::fs::write(
        d.path().join("simsetting.yml"),
        "spawn_rules:\n  conflict_driven_spawning:\n    spawn_mode: constant\n    displaced_per_conflict_day: 10\nmove_rules:\n  capacity_scaling: 1.0\n",
    )
    .expect("write");
    let sc = import::import(d.path()).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(
        sc.routes.iter().map(|r| r.forced_redirection).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(sc.days, 3);
    assert!(
        sc.warnings.iter().any(|w| w.contains("move_rules.capacity_scaling")),
        "{:?}",
        sc.warnings
    );
    // forced_redirection = 1 creates the link twice in 3.1 only.
    assert_eq!(run(&sc).links.len(), 4);
    let mut v31 = sc.clone();
    v31.compat = Compat::V31;
    assert_eq!(run(&v31).links.len(), 6);
}

/// First hops chosen on day 0 by agents placed in camp `x`, which can go
/// to a conflict zone `z` or a camp `c`, both 100 km away.
fn share_to_conflict_zone(conflict: &[(u32, f64)], decay: Vec<f64>) -> f64 {
    let locs = [
        ("x", LocKind::Camp, 0),
        ("z", LocKind::Town, 1000),
        ("c", LocKind::Camp, 0),
    ];
    let mut sc = tiny(&locs, &[("x", "z", 100.0), ("x", "c", 100.0)], 0, 1);
    sc.settings.insert_day0 = true;
    sc.settings.camp_movechance = 1.0;
    sc.settings.max_move_speed = 1.0;
    sc.settings.conflict_spawn_decay = decay;
    sc.locations[0].initial_people = 20_000;
    sc.conflicts = vec![ConflictSeries {
        loc: 1,
        changes: conflict.to_vec(),
    }];
    // No spawning: the observed total stays flat.
    sc.totals = vec![(0, 0.0)];
    let r = run(&sc);
    let to_z = r.links.iter().position(|&(a, b, _)| a == 0 && b == 1).expect("x→z");
    r.link_entries[to_z] as f64 / 20_000.0
}

#[test]
fn conflict_zones_repel_by_conflict_weight_raised_to_decay_times_intensity() {
    let close = |got: f64, p: f64| (got - p).abs() <= 4.0 * (p * (1.0 - p) / 20_000.0).sqrt();
    // Score 0.316 (1/√10) against a camp's 1.
    let w = 1.0 / 3.16227766017;
    let got = share_to_conflict_zone(&[(0, 1.0)], Vec::new());
    assert!(close(got, w / (1.0 + w)), "{got}");
    // Intensity 0.5 halves the exponent; a decay of 0.5 does the same.
    let half = w.sqrt() / (1.0 + w.sqrt());
    let got = share_to_conflict_zone(&[(0, 0.5)], Vec::new());
    assert!(close(got, half), "{got}");
    let got = share_to_conflict_zone(&[(0, 1.0)], vec![0.5]);
    assert!(close(got, half), "{got}");
}

#[test]
fn conflict_intensity_changes_apply_as_intended_but_only_0_to_non_zero_in_3_1() {
    let mut sc = tiny(&[("war", LocKind::Town, 1000)], &[], 0, 6);
    sc.settings.spawn = SpawnMode::Constant(500.0);
    sc.conflicts = vec![ConflictSeries {
        loc: 0,
        changes: vec![(0, 1.0), (2, 0.5), (4, 0.0)],
    }];
    assert_eq!(run(&sc).spawned, [500, 500, 250, 250, 0, 0]);
    // 3.1 ignores 1 → 0.5, and 0.5 → 0 does not end the zone (the day
    // before is not exactly 1).
    sc.compat = Compat::V31;
    assert_eq!(run(&sc).spawned, [500; 6]);
}

#[test]
fn camps_as_sinks_deactivate_residents_with_the_camps_probability() {
    let mut sc = tiny(&[("camp", LocKind::Camp, 0)], &[], 0, 1);
    sc.settings.insert_day0 = true;
    sc.settings.camps_are_sinks = true;
    sc.locations[0].initial_people = 20_000;
    sc.locations[0].deactivation_probability = 0.25;
    let r = run(&sc);
    let gone = 20_000 - at(&sc, &r, 0, "camp");
    assert!(within_4_sd(gone, 20_000, 0.25), "{gone}");
    assert_eq!(r.agents[0], 20_000 - gone as u64);
}

#[test]
fn a_location_closure_closes_every_link_in_and_out() {
    let locs = [
        ("war", LocKind::Conflict, 1000),
        ("hub", LocKind::Town, 10),
        ("camp", LocKind::Camp, 0),
    ];
    let mut sc = tiny(&locs, &[("war", "hub", 10.0), ("hub", "camp", 10.0)], 300, 4);
    sc.closures = vec![Closure {
        kind: ClosureKind::Location(1),
        start: 0,
        end: None,
    }];
    let r = run(&sc);
    assert_eq!(r.link_entries.iter().sum::<u64>(), 0);
    assert_eq!(at(&sc, &r, 3, "war"), 300);
}

#[test]
fn a_flee_scenario_too_big_for_memory_is_refused_before_it_runs() {
    let o = common::bin()
        .arg("run")
        .arg(common::scenario("flee-burundi.toml"))
        .args(["--quiet", "--out"])
        .arg(tempfile::tempdir().expect("tmp").path().join("x"))
        .env("NORTHBOUND_MEMORY_BYTES", "1000000")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("raise optimisations.hasten"), "{err}");
}

#[test]
fn a_bad_setting_is_refused_at_its_value_with_what_would_be_valid() {
    let d = write_folder(&[("locations.csv", "War,r,A,0,0,conflict_zone,0,100\n")]);
    std::fs::write(
        d.path().join("simsetting.yml"),
        "move_rules:\n  camp_weight: lots\n  awareness_level: 0\n",
    )
    .expect("write");
    let e = import::import(d.path()).expect_err("refused").render();
    assert!(
        e.contains("simsetting.yml:2:16") && e.contains("invalid value `lots`"),
        "{e}"
    );
    assert!(
        e.contains("simsetting.yml:3:20") && e.contains("0 freezes every agent"),
        "{e}"
    );
}

#[test]
fn agents_moving_on_within_a_day_see_a_camp_fill_in_agent_order() {
    // 50 agents reach a hub on day 1 and move on at once; the only way on is
    // a camp 6 agents below the point where routes to it are abandoned
    // (capacity 100, buffer 0.9: 94 is still fine, 95 is not). In agent
    // order, the first to decide fills it; the others find it full, as in
    // serial Flee.
    let locs = [
        ("war", LocKind::Conflict, 1000),
        ("hub", LocKind::Forward, 1),
        ("camp", LocKind::Camp, 100),
    ];
    let mut sc = tiny(&locs, &[("war", "hub", 10.0), ("hub", "camp", 10.0)], 50, 3);
    sc.settings.insert_day0 = true;
    sc.settings.camp_movechance = 0.0;
    sc.settings.conflict_weight = 0.0;
    sc.locations[2].initial_people = 94;
    let r = run(&sc);
    assert_eq!(at(&sc, &r, 1, "camp"), 95);
    assert_eq!(at(&sc, &r, 2, "camp"), 95, "and it stays full");
}

#[test]
fn flee_compare_pairs_each_variant_with_the_base_on_the_same_seeds() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("cmp");
    let o = common::bin()
        .arg("compare")
        .arg(common::scenario("flee-mali2012.toml"))
        .args("--replicates 2 --scale 0.1 --threads 2 --quiet --out".split(' '))
        .arg(&out)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("comparison.csv")).expect("comparison.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("variant,metric,place,base_mean,variant_mean,diff_mean,diff_lo95,diff_hi95")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    for v in ["camp_weight_default", "awareness_two_steps"] {
        let total = rows
            .iter()
            .find(|r| r[0] == v && r[1] == "all_agents_people_last_day")
            .unwrap_or_else(|| panic!("{v}: no total row in {csv}"));
        // Spawning follows the observed total, not the settings: with common
        // random numbers the variants move people between places, never add any.
        assert_eq!(total[3], total[4], "{v}: {total:?}");
        assert_eq!((total[5], total[6], total[7]), ("0.000", "0.000", "0.000"));
        let camps = rows.iter().filter(|r| r[0] == v && r[1] == "people_last_day").count();
        assert_eq!(camps, 7, "{v}: one row per camp of mali2012");
    }
    // Replicate k of the base and of a variant share the seed.
    let seed = |p: &str| {
        let s = std::fs::read_to_string(out.join(p)).expect("summary.json");
        let v: serde_json::Value = serde_json::from_str(&s).expect("json");
        v["seed"].as_u64()
    };
    assert_eq!(
        seed("base/replicate-1/summary.json"),
        seed("camp_weight_default/replicate-1/summary.json")
    );
    assert_ne!(
        seed("base/replicate-0/summary.json"),
        seed("base/replicate-1/summary.json")
    );
    // Two steps of awareness let people find camps beyond the nearest: the
    // camps hold more of them at the end.
    let in_camps = rows
        .iter()
        .find(|r| r[0] == "awareness_two_steps" && r[1] == "in_camps_last_day")
        .expect("in_camps row");
    assert!(in_camps[5].parse::<f64>().expect("diff") > 0.0, "{in_camps:?}");
}

#[test]
fn flee_compare_refuses_an_unknown_variant_and_a_bad_variant_table() {
    let o = common::bin()
        .arg("compare")
        .arg(common::scenario("flee-mali2012.toml"))
        .args(["--variants", "camp_wieght_default", "--out", "/nonexistent/never"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("declared: camp_weight_default, awareness_two_steps"));
    let dir = tempfile::tempdir().expect("tmp");
    let text = std::fs::read_to_string(common::scenario("flee-mali2012.toml")).expect("read")
        + "\n[[variant]]\nid = \"slow\"\nsource = \"assumption\"\n[variant.set]\n\"flee.camp_wieght\" = 2.0\n";
    let bad = common::write(dir.path(), "bad.toml", &text);
    let o = common::bin().arg("check").arg(&bad).output().expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("did you mean `flee.camp_weight`?") && err.contains("line"),
        "{err}"
    );
}

#[test]
fn flee_calibrate_lowers_the_averaged_relative_difference_and_writes_its_toml() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("cal.toml");
    let calibrate = |extra: &str| {
        common::bin()
            .arg("calibrate")
            .arg(common::scenario("flee-mali2012.toml"))
            .arg("--targets")
            .arg(peer("mali2012").join("source_data"))
            .args(["--params", "flee.camp_weight=1:10", "--out"])
            .arg(&out)
            .args(extra.split_whitespace())
            .output()
            .expect("runs")
    };
    let o = calibrate("--budget 4 --replicates 1 --threads 2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).expect("cal.toml");
    assert!(text.starts_with("# northbound calibrate "), "{text}");
    let line = text.lines().nth(1).unwrap_or("");
    let nums: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|x| x.parse().ok())
        .collect();
    // "# averaged relative difference (flee model): BEST (start: START); …"
    assert!(
        line.contains("averaged relative difference") && nums[0] <= nums[1],
        "{line}"
    );
    let doc: toml::Table = text.parse().expect("valid TOML");
    let p = &doc["param"].as_array().expect("params")[0];
    assert_eq!(p["path"].as_str(), Some("flee.camp_weight"));
    let v = p["value"].as_float().expect("value");
    assert!((1.0..=10.0).contains(&v), "{v}");
    // A second run does not replace a file northbound did not write.
    std::fs::write(&out, "mine\n").expect("write");
    let o = calibrate("");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "mine\n");
}
