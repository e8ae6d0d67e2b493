//! The day's tallies: the place columns ([`Col`]) and the accumulator of
//! the parallel pass ([`Acc`]): counts per place, cohort, state, event,
//! leg, caravan and policy, the day's requests, and their exact (integer)
//! merge across folds.
//!
//! Owns counting only. Must not decide anything about an agent: `world`
//! decides, this module adds up what it did.

use super::admission::{Buckets, Request};
use crate::agents::{Agent, Event, State, F_CARAVAN, N_EVENTS, N_STATES};
use crate::named::named_enum;
use crate::scenario::{Leg, Trait};

named_enum! {
    /// Columns of the places table, in order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Col {
        /// People waiting at the place at the end of the day.
        Present = 0 => "present",
        /// People who reached the place (passing or stopping).
        Arrived = 1 => "arrived",
        /// People who set out from the place.
        Departed = 2 => "departed",
        /// People whose claim was taken there.
        Claims = 3 => "claims",
        /// People turned back there (STCA).
        TurnedBack = 4 => "turned_back",
        /// People expelled there (Title 42).
        Expelled = 5 => "expelled",
        /// People intercepted there (checkpoint).
        Intercepted = 6 => "intercepted",
        /// People detected there (enforcement).
        Detected = 7 => "detected",
        /// People removed there (removal).
        Removed = 8 => "removed",
    }
}

/// Number of place columns.
pub const N_COLS: usize = Col::ALL.len();

/// Per-split accumulator of the parallel pass.
pub(super) struct Acc {
    pub(super) cols: Vec<[u64; N_COLS]>,
    /// `[cohort * places + place]`, with `--by-cohort`.
    pub(super) by_cohort: Vec<[u64; N_COLS]>,
    pub(super) places: usize,
    pub(super) incoming: Vec<u64>,
    pub(super) census: [u64; N_STATES],
    pub(super) delta: [i64; N_STATES],
    /// `[cohort * N_EVENTS + e]` = (count, new distinct people).
    pub(super) events: Vec<[u64; 2]>,
    /// `[bucket]`: pieces of requests, one per fold; merging moves pieces,
    /// not requests.
    pub(super) requests: Vec<Vec<Vec<Request>>>,
    /// `[bucket]`: the largest (key, agent) kept at the first piece's last
    /// cut to its cap (see [`Acc::push`]); a request above it cannot win.
    cut: Vec<(u64, u32)>,
    /// People setting out on each leg.
    pub(super) legs: Vec<u64>,
    /// Per caravan: groups, people and families walking in it (empty
    /// without caravans).
    pub(super) caravan: Vec<[u64; 3]>,
    /// `[caravan * places + place]`: people of the caravan at (or last
    /// leaving) each place.
    pub(super) caravan_at: Vec<u64>,
    /// Per policy: the two counts of [`DayView::policies`] (empty if no
    /// policy counts).
    pub(super) policy: Vec<[u64; 2]>,
}

/// What the daily accumulator counts beyond places and states.
#[derive(Clone, Copy, Debug)]
pub(super) struct Extras {
    /// Caravans.
    pub(super) caravans: usize,
    /// Policies counted (all of them, or none).
    pub(super) policies: usize,
}

impl Acc {
    pub(super) fn new(places: usize, legs: usize, cohorts: usize, buckets: usize, by_cohort: bool, x: Extras) -> Acc {
        Acc {
            caravan: vec![[0; 3]; x.caravans],
            caravan_at: vec![0; x.caravans * places],
            policy: vec![[0; 2]; x.policies],
            cols: vec![[0; N_COLS]; places],
            by_cohort: if by_cohort {
                vec![[0; N_COLS]; places * cohorts]
            } else {
                Vec::new()
            },
            places,
            incoming: vec![0; places],
            census: [0; N_STATES],
            delta: [0; N_STATES],
            events: vec![[0; 2]; cohorts * N_EVENTS],
            requests: vec![vec![Vec::new()]; buckets],
            cut: vec![(u64::MAX, u32::MAX); buckets],
            legs: vec![0; legs],
        }
    }

    pub(super) fn merge(mut self, o: Acc) -> Acc {
        for (a, b) in self
            .cols
            .iter_mut()
            .zip(&o.cols)
            .chain(self.by_cohort.iter_mut().zip(&o.by_cohort))
        {
            for c in 0..N_COLS {
                a[c] += b[c];
            }
        }
        for (a, b) in self.incoming.iter_mut().zip(&o.incoming) {
            *a += b;
        }
        for s in 0..N_STATES {
            self.census[s] += o.census[s];
            self.delta[s] += o.delta[s];
        }
        for (a, b) in self.events.iter_mut().zip(&o.events) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for (a, b) in self.requests.iter_mut().zip(o.requests) {
            a.extend(b);
        }
        for (a, b) in self.legs.iter_mut().zip(&o.legs) {
            *a += b;
        }
        for (a, b) in self.caravan.iter_mut().zip(&o.caravan) {
            for i in 0..3 {
                a[i] += b[i];
            }
        }
        for (a, b) in self.caravan_at.iter_mut().zip(&o.caravan_at) {
            *a += b;
        }
        for (a, b) in self.policy.iter_mut().zip(&o.policy) {
            a[0] += b[0];
            a[1] += b[1];
        }
        self
    }

    /// Counts a group walking in caravan `k`, or takes it back.
    #[inline]
    pub(super) fn caravan_member(&mut self, k: u16, size: u8, family: bool, place: u32, take_back: bool) {
        let k = k as usize;
        let (g, p, f) = (1u64, size as u64, family as u64);
        let at = k * self.places + place as usize;
        if take_back {
            self.caravan[k][0] -= g;
            self.caravan[k][1] -= p;
            self.caravan[k][2] -= f;
            self.caravan_at[at] -= p;
        } else {
            self.caravan[k][0] += g;
            self.caravan[k][1] += p;
            self.caravan[k][2] += f;
            self.caravan_at[at] += p;
        }
    }

    /// Adds the group's people to a place column (and its cohort's).
    #[inline(always)]
    pub(super) fn add(&mut self, a: &Agent, place: u32, col: Col) {
        self.cols[place as usize][col as usize] += a.size as u64;
        if !self.by_cohort.is_empty() {
            self.by_cohort[a.cohort as usize * self.places + place as usize][col as usize] += a.size as u64;
        }
    }

    #[inline(always)]
    pub(super) fn sub_present(&mut self, a: &Agent) {
        self.cols[a.place as usize][Col::Present as usize] -= a.size as u64;
        if !self.by_cohort.is_empty() {
            self.by_cohort[a.cohort as usize * self.places + a.place as usize][Col::Present as usize] -= a.size as u64;
        }
    }

    #[inline(always)]
    pub(super) fn set_state(&mut self, a: &mut Agent, s: State) {
        if a.state != s {
            self.delta[a.state as usize] -= a.size as i64;
            self.delta[s as usize] += a.size as i64;
            a.state = s;
        }
    }

    #[inline(always)]
    pub(super) fn event(&mut self, a: &mut Agent, e: Event) {
        let i = a.cohort as usize * N_EVENTS + e as usize;
        self.events[i][0] += a.size as u64;
        let bit = 1u8 << e as u8;
        if a.seen & bit == 0 {
            a.seen |= bit;
            self.events[i][1] += a.size as u64;
        }
    }

    #[inline(always)]
    pub(super) fn census(&mut self, a: &Agent, legs: &[Leg], caravan_of: &[u16]) {
        self.census[a.state as usize] += a.size as u64;
        match a.state {
            State::Waiting => self.add(a, a.place, Col::Present),
            State::Travelling => self.incoming[legs[a.leg as usize].to as usize] += a.size as u64,
            _ => {}
        }
        if a.flags & F_CARAVAN != 0 && !a.state.absorbing() {
            let family = a.traits & Trait::Family.bit() != 0;
            self.caravan_member(caravan_of[a.cohort as usize], a.size, family, a.place, false);
        }
    }

    /// Takes back [`Acc::census`] of a group that pass B will count again.
    #[inline(always)]
    pub(super) fn uncensus(&mut self, a: &Agent, legs: &[Leg], caravan_of: &[u16]) {
        self.census[a.state as usize] -= a.size as u64;
        match a.state {
            State::Waiting => self.sub_present(a),
            State::Travelling => self.incoming[legs[a.leg as usize].to as usize] -= a.size as u64,
            _ => {}
        }
        if a.flags & F_CARAVAN != 0 && !a.state.absorbing() {
            let family = a.traits & Trait::Family.bit() != 0;
            self.caravan_member(caravan_of[a.cohort as usize], a.size, family, a.place, true);
        }
    }

    /// Files a request. A bucket with a cap (pathways) keeps only its
    /// `cap` smallest keys: no other can be drawn (see [`admit`]). Once the
    /// first piece has been cut to its cap, a request above the largest
    /// kept is not filed at all: `cap` smaller ones are already there, so
    /// it could never be among the `cap` smallest of the day.
    #[inline(always)]
    pub(super) fn push(&mut self, buckets: &Buckets, caps: &[u64], r: Request) {
        let b = buckets.of(r.kind, r.resource) as usize;
        let cap = caps.get(b).copied().unwrap_or(u64::MAX);
        if cap == 0 || self.cut.get(b).is_some_and(|&cut| (r.key, r.agent) > cut) {
            return;
        }
        if let Some(piece) = self.requests.get_mut(b).and_then(|p| p.first_mut()) {
            piece.push(r);
            if cap != u64::MAX && piece.len() as u64 >= 2 * cap + 1024 {
                let keep = cap as usize;
                let (_, last, _) = piece.select_nth_unstable_by_key(keep - 1, |r| (r.key, r.agent));
                self.cut[b] = (last.key, last.agent);
                piece.truncate(keep);
            }
        }
    }
}
