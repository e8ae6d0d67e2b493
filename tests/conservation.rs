//! Nothing is lost: every day, people in all states add up to the people
//! of all cohorts, and every cohort's outcomes add up to its people.

mod common;
use common::*;
use northbound::engine::{self, DayView, Recorder, RunConfig};

struct Ledger {
    people: u64,
    days: u32,
}

impl Recorder for Ledger {
    fn day(&mut self, v: &DayView<'_>) -> std::io::Result<()> {
        let total: u64 = v.states.iter().sum();
        assert_eq!(total, self.people, "day {}: {total} people in all states", v.day);
        let present: u64 = v.places.iter().map(|c| c[0]).sum();
        assert_eq!(
            present,
            v.states[northbound::agents::State::Waiting as usize],
            "day {}: present = waiting",
            v.day
        );
        self.days += 1;
        Ok(())
    }
}

#[test]
fn people_in_all_states_equal_the_people_of_all_cohorts_every_day() {
    let sc = northbound::scenario::load(&fixture("queues.toml"))
        .expect("fixture loads")
        .scaled(0.25);
    let mut ledger = Ledger {
        people: sc.people(),
        days: 0,
    };
    let r = engine::run(&sc, &RunConfig::default(), &mut [&mut ledger]).expect("run conserves people");
    assert_eq!(ledger.days, sc.calendar.days);
    for (c, o) in sc.cohorts.iter().zip(&r.outcomes) {
        assert_eq!(o.iter().sum::<u64>(), c.people, "cohort {}", c.id);
    }
}

#[test]
fn outcomes_table_has_every_state_for_every_cohort_and_adds_up() {
    let tmp = tempfile::tempdir().expect("temp dir");
    run(&scenario("caravan-2025.toml"), tmp.path(), &[]);
    let rows = outcomes(tmp.path());
    let sc = northbound::scenario::load(&scenario("caravan-2025.toml")).expect("caravan loads");
    assert_eq!(rows.len(), sc.cohorts.len() * northbound::agents::N_STATES);
    for c in &sc.cohorts {
        let sum: u64 = rows.iter().filter(|r| r.0 == c.id).map(|r| r.2).sum();
        assert_eq!(sum, c.people, "cohort {}", c.id);
    }
}
