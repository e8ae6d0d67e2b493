//! The world as the daily step sees it, and what one group does in a day:
//! set out, travel, arrive at a place and meet its rules (checkpoints, the
//! STCA, Title 42, removals, enforcement, offers, papers), fail, claim.
//!
//! Owns the per-agent rules of a day. Reads only prepared tables and the
//! day's context; must not touch shared state: shared resources are
//! requested (`admission`), counts go to the accumulator (`tallies`).

use super::admission::{Request, REQ_ADMIT, REQ_APPT, REQ_CLAIM, REQ_PATHWAY};
use super::prepared::Prepared;
use super::tallies::{Acc, Col};
use super::EPS;
use crate::agents::{
    Agent, ChunkMut, Event, State, BARRED, BAR_TEMPORARY, DEPART_DAILY, DEPART_NEVER, FAIL_COUNT, F_CARAVAN, F_DECIDE,
    F_HEARD, F_INFORMED, F_PAPERS, F_VISITOR, NO_DAY, NO_DOOR,
};
use crate::behaviour::Chooser;
use crate::policy::{OfferRule, Return, Rule};
use crate::rng::{Key, Stream};
use crate::scenario::{Bar, Dest, Leg, Mode, NoTarget, PlaceIx, PlaceKind, Scenario, SendBack, SendTo, Trait, NONE};

/// Read-only facts for the daily step: the scenario's prepared tables
/// (reached through `Deref`) and the keys of this run's draws.
pub(super) struct World<'a> {
    pub(super) p: &'a Prepared,
    pub(super) sc: &'a Scenario,
    pub(super) legs: &'a [Leg],
    pub(super) chooser: Chooser<'a>,
    pub(super) by_cohort: bool,
    pub(super) depart: Key,
    pub(super) queue: Key,
    pub(super) claim: Key,
    pub(super) event: Key,
    pub(super) event_b: Key,
    pub(super) harm: Key,
    pub(super) word: Key,
    pub(super) offer: Key,
}

impl std::ops::Deref for World<'_> {
    type Target = Prepared;
    fn deref(&self) -> &Prepared {
        self.p
    }
}

impl<'a> World<'a> {
    /// The world of a run whose population is `identity`'s (its groups'
    /// thresholds of learning) and whose days are drawn from `dynamics`.
    pub(super) fn new(p: &'a Prepared, sc: &'a Scenario, identity: u64, dynamics: u64, by_cohort: bool) -> World<'a> {
        World {
            p,
            sc,
            legs: &sc.legs,
            chooser: Chooser::new(&p.choice, identity, dynamics),
            by_cohort,
            harm: Key::new(dynamics, Stream::Harm),
            word: Key::new(dynamics, Stream::Word),
            depart: Key::new(dynamics, Stream::Depart),
            queue: Key::new(dynamics, Stream::Queue),
            claim: Key::new(dynamics, Stream::Claim),
            event: Key::new(dynamics, Stream::Event),
            event_b: Key::new(dynamics ^ 0xb5ad_4ece_da1c_e2a9, Stream::Event),
            offer: Key::new(dynamics, Stream::Offer),
        }
    }
}

/// One day's context.
pub(super) struct DayCtx<'a> {
    pub(super) day: u32,
    pub(super) epoch: u16,
    pub(super) hazard: &'a [f64],
    /// Per cohort: the cumulative hazard of hearing of its returns.
    pub(super) heard: &'a [f64],
    /// Per request bucket, the most requests worth keeping (`u64::MAX`: all).
    pub(super) caps: &'a [u64],
    /// Per caravan: today's pace as a share of a lone walker's (that of
    /// the slowest group walking in it at the end of yesterday).
    pub(super) pace: &'a [f32],
    /// Per caravan: whether, walking at the end of yesterday, it had shrunk
    /// below `caravan_breakup` of its cohorts' people: it breaks up at the
    /// next offer.
    pub(super) breaking: &'a [bool],
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// The parallel pass: shared resources are requested, not taken.
    A,
    /// Admitted requests continue; new requests wait for tomorrow.
    B,
}

/// What happens after a group reaches a place.
pub(super) enum Arrival {
    /// It may go on today.
    Go,
    /// Its day ends here (or it was moved, or it left the graph).
    Stop,
}

impl World<'_> {
    #[inline(always)]
    pub(super) fn informed(a: &Agent) -> bool {
        a.flags & F_INFORMED != 0
    }

    /// A group just copied out of the columns for a day's work: its policy
    /// class set from its cohort and traits (the class is not a column:
    /// `agents::BYTES_PER_AGENT`), and, on a leg, its `timer` back to the
    /// 0 that the rules see (the column holds the day it next acts: see
    /// [`World::park`]).
    #[inline(always)]
    pub(super) fn taken_out(&self, a: &mut Agent) {
        a.class = self.book.classes.class_of(self.nat[a.cohort as usize], a.traits);
        if a.state == State::Travelling {
            a.timer = 0;
        }
    }

    /// A group about to go back into the columns after its day `day`: on a
    /// leg, it is given in `timer` the day on which it next acts (the first
    /// on which it has at most `1 + EPS` days left; until then each day
    /// only takes one day off), and `left` as it will be on that day. The
    /// same subtractions as one a day, in the same order, give the same
    /// bits; the step's fast path then reads `state` and `timer` and
    /// writes nothing for a group in the middle of its leg.
    #[inline(always)]
    pub(super) fn park(day: u32, a: &mut Agent) {
        if a.state != State::Travelling {
            return;
        }
        let (left, days) = days_off(a.left);
        a.left = left;
        a.timer = (day + 1 + days).min(u16::MAX as u32) as u16;
    }

    /// One agent's day, in pass A.
    #[inline]
    pub(super) fn advance(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc) {
        match a.state {
            State::NotDeparted => {
                self.apply_pathway(d, a, acc);
                // Deterrence: the chance of setting out scales with how
                // the group's options look to it against the start of the
                // run. Word of mouth is heard when the group is about to
                // act on it: a daily draw that could not lead to a departure
                // whatever the group heard costs no more than before.
                let go = match a.timer {
                    DEPART_DAILY => {
                        let share = self.book.depart_share(d.epoch, a.cohort);
                        if share <= 0.0 {
                            return;
                        }
                        let u = self.depart.uniform(a.id, d.day);
                        if u >= share * self.chooser.max_depart_factor(a.cohort) {
                            return;
                        }
                        let unheard = a.flags & F_HEARD == 0 && d.heard[a.cohort as usize] > 0.0;
                        let mut bound = self.chooser.depart_factor(a, self.perceived(d, a));
                        if unheard {
                            let mut told = *a;
                            told.flags |= F_INFORMED;
                            bound = bound.max(self.chooser.depart_factor(&told, d.epoch));
                        }
                        if u >= share * bound {
                            return;
                        }
                        self.hear(d, a);
                        u < share * self.chooser.depart_factor(a, self.perceived(d, a))
                    }
                    t if t as u32 == d.day => {
                        self.hear(d, a);
                        let f = self.chooser.depart_factor(a, self.perceived(d, a));
                        f >= 1.0 || self.depart.uniform(a.id, d.day) < f
                    }
                    _ => false,
                };
                if !go {
                    return;
                }
                let perceived = self.perceived(d, a);
                // It decides at home: a group whose best option is to claim
                // where it lives, or that has none, stays at home.
                let t = self.chooser.choose(a, d.day, &self.book, perceived, d.hazard);
                if t == NONE || t == a.place {
                    if a.timer != DEPART_DAILY {
                        a.timer = DEPART_NEVER;
                    }
                    return;
                }
                acc.set_state(a, State::Waiting);
                a.target = t;
                a.epoch_seen = perceived;
                a.flags &= !F_DECIDE;
                a.timer = 0;
                if self.caravan_of[a.cohort as usize] != u16::MAX {
                    // Sets out with its caravan.
                    a.flags |= F_CARAVAN;
                }
            }
            State::Waiting => {
                a.timer = a.timer.saturating_add(1);
                self.apply_pathway(d, a, acc);
                if a.flags & F_PAPERS != 0 && !self.wait_for_papers(d, a) {
                    return;
                }
                if a.appt != NO_DAY && d.day < a.appt as u32 && a.place != a.target {
                    // An appointment holder waits where it is for its date.
                    return;
                }
            }
            State::Travelling => {}
            _ => return,
        }
        self.travel(d, a, 1.0, acc, Phase::A);
    }

    /// The epoch whose rules a group perceives today: the one in force
    /// `delay` days ago, or, from the day after it was sent back, the one in
    /// force then (being sent back is news).
    #[inline(always)]
    pub(super) fn perceived(&self, d: &DayCtx, a: &Agent) -> u16 {
        let mut seen = d.day as i64 - a.delay as i64;
        if a.failed_day != NO_DAY {
            seen = seen.max((a.failed_day as u32 + 1).min(d.day) as i64);
        }
        self.book.epoch(seen)
    }

    /// Word of mouth: a group that has not yet heard of its cohort's
    /// returns hears of them once the cohort's cumulative hazard passes its
    /// own threshold, and then knows the rules in force that day.
    #[inline(always)]
    pub(super) fn hear(&self, d: &DayCtx, a: &mut Agent) {
        if a.flags & F_HEARD != 0 {
            return;
        }
        let h = d.heard[a.cohort as usize];
        if h > 0.0 && self.chooser.heard(a.id, h) {
            a.flags |= F_HEARD;
            self.learn_rules(a);
        }
    }

    /// The group learns the rules in force today, and keeps up with them
    /// from then on (its news delay falls to 0: it is at the border, or in
    /// touch with those who were).
    #[inline]
    pub(super) fn learn_rules(&self, a: &mut Agent) {
        if a.flags & F_INFORMED == 0 {
            // It now decides by other rules (a change of the epoch it
            // perceives is a trigger of its own).
            a.flags |= F_INFORMED | F_DECIDE;
        }
        a.delay = 0;
    }

    /// A group at home or waiting at a place where a lawful pathway is
    /// applied for applies each day; the draw is settled after the moves.
    #[inline]
    pub(super) fn apply_pathway(&self, d: &DayCtx, a: &Agent, acc: &mut Acc) {
        self.apply_pathway_of(d, a.id, a.place, a.class, a.size, acc);
    }

    /// [`World::apply_pathway`] of a group at home that does nothing else
    /// today, read from its columns: pathways are applied for from home by
    /// whole populations every day, and copying each group out and back
    /// only to file one request (which almost never wins) cost most of
    /// such a run.
    #[inline]
    pub(super) fn apply_pathway_at_home(&self, d: &DayCtx, id: u32, ch: &ChunkMut, i: usize, acc: &mut Acc) {
        let class = self
            .book
            .classes
            .class_of(self.nat[ch.cohort[i] as usize], ch.traits[i]);
        self.apply_pathway_of(d, id, ch.place[i] as PlaceIx, class, ch.size[i], acc);
    }

    #[inline(always)]
    fn apply_pathway_of(&self, d: &DayCtx, id: u32, place: PlaceIx, class: u16, size: u8, acc: &mut Acc) {
        if let Some(p) = self.book.acting(self.book.rules(d.epoch, place).pathway, class) {
            acc.push(
                &self.buckets,
                d.caps,
                self.request_of(REQ_PATHWAY, p.policy as u32, d, id, size, 0.0),
            );
        }
    }

    /// Papers: true once they are issued (or the office closed).
    pub(super) fn wait_for_papers(&self, d: &DayCtx, a: &mut Agent) -> bool {
        let Some(p) = self.book.acting(self.book.rules(d.epoch, a.place).documents, a.class) else {
            a.flags &= !F_PAPERS;
            return true;
        };
        if (a.timer as u32) < p.wait_days {
            return false;
        }
        a.traits |= p.papers;
        a.class = self.book.classes.class_of(self.nat[a.cohort as usize], a.traits);
        a.flags &= !F_PAPERS;
        a.timer = 0;
        true
    }

    /// Moves an agent for `budget` days of travel, acting at every place
    /// reached, until the budget is used, it reaches its target, or a place
    /// acts on it.
    pub(super) fn travel(&self, d: &DayCtx, a: &mut Agent, mut budget: f32, acc: &mut Acc, phase: Phase) {
        let mut decided = false;
        let mut events = if phase == Phase::A { self.event } else { self.event_b }.draws(a.id, d.day);
        loop {
            if a.leg != NONE {
                if a.left > budget + EPS {
                    a.left -= budget;
                    acc.set_state(a, State::Travelling);
                    return;
                }
                budget -= a.left;
                match self.arrive(d, a, acc, &mut events) {
                    Arrival::Go => continue,
                    Arrival::Stop => return,
                }
            }
            // At a place.
            acc.set_state(a, State::Waiting);
            let mut perceived = self.perceived(d, a);
            let committed = a.appt != NO_DAY;
            // A group that is in the country of its claim and only waiting
            // out the days before it may claim there (having crossed unseen
            // under the whole-border STCA, or entered as a visitor) keeps its
            // claim: it has nothing left to decide.
            let waiting_out = a.mark != NO_DAY && a.place == a.target;
            let trigger = a.flags & F_DECIDE != 0
                || a.target == NONE
                || (perceived != a.epoch_seen && !waiting_out)
                || (a.timer >= self.replan_days && !committed && !waiting_out);
            if trigger {
                if decided {
                    return;
                }
                decided = true;
                // What the cohort says of its returns is taken in when the
                // group decides.
                if a.flags & F_HEARD == 0 {
                    self.hear(d, a);
                    perceived = self.perceived(d, a);
                }
                self.decide(d, a, perceived, acc);
                if a.state.absorbing() {
                    return;
                }
            }
            if a.place == a.target {
                // At its journey's end: it leaves its caravan.
                a.flags &= !F_CARAVAN;
                if self.claims_per_day[a.place as usize] != u64::MAX {
                    if phase == Phase::A {
                        acc.push(&self.buckets, d.caps, self.request(REQ_CLAIM, a.place, d, a, budget));
                    }
                    return;
                }
                self.claim(d, a, acc);
                return;
            }
            if budget <= EPS {
                return;
            }
            // A group aiming for a port that takes claims by appointment asks
            // for one where it can, and waits there until it has one.
            if a.appt == NO_DAY {
                let rules = self.book.rules(d.epoch, a.place);
                if let Some(p) = self.book.acting(rules.appt_from, a.class) {
                    if self.book.rules(d.epoch, a.target).appt_port.map(|r| r.policy) == Some(p.policy) {
                        a.flags &= !F_CARAVAN;
                        if phase == Phase::A {
                            acc.push(
                                &self.buckets,
                                d.caps,
                                self.request(REQ_APPT, p.policy as u32, d, a, budget),
                            );
                        }
                        return;
                    }
                }
            }
            let next = self.next_hop(d, a, perceived);
            if next == NONE {
                // The target cannot be reached any more (a route or place
                // closed): decide again, at most once a day.
                a.flags |= F_DECIDE;
                if decided {
                    return;
                }
                continue;
            }
            let to = self.legs[next as usize].to;
            if self.capacity[to as usize] != u64::MAX {
                // Held by room at the next place, apart from its caravan.
                a.flags &= !F_CARAVAN;
                if phase == Phase::A {
                    acc.push(&self.buckets, d.caps, self.request(REQ_ADMIT, to, d, a, budget));
                }
                return;
            }
            if !self.set_out(d, a, next, acc) {
                return;
            }
        }
    }

    /// The next leg towards the group's target by the routes it plans with
    /// (those of the rules it perceives), if it can set out on it in the
    /// world as it is today; `NONE` otherwise.
    #[inline]
    pub(super) fn next_hop(&self, d: &DayCtx, a: &Agent, perceived: u16) -> u32 {
        let slot = self.book.slot_of[a.target as usize] as usize;
        let next = self
            .book
            .routing(perceived, a.class, Self::informed(a))
            .next(slot, a.place);
        if next != NONE && !self.book.usable(d.epoch, a.class, next) {
            return NONE;
        }
        next
    }

    /// The end of a leg: the place acts on the group.
    pub(super) fn arrive(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc, events: &mut crate::rng::Draws) -> Arrival {
        let l = &self.legs[a.leg as usize];
        let x = l.to;
        // Only people entering the crossing's country meet its rules.
        let entering = self.book.into_country[a.leg as usize];
        a.left = 0.0;
        a.leg = NONE;
        a.place = x;
        acc.set_state(a, State::Waiting);
        if self.harm_outcome && l.risk > 0.0 && self.harm.draws(a.id, d.day ^ (x << 16)).uniform() < l.risk as f64 {
            acc.set_state(a, State::DiedOrMissing);
            return Arrival::Stop;
        }
        acc.add(a, x, Col::Arrived);
        if let Some(cp) = self.book.checkpoint(d.epoch, a.class, x) {
            if cp.papers {
                acc.policy[cp.policy as usize][0] += a.size as u64;
            }
            if events.uniform() < cp.rate {
                if cp.papers {
                    // Papers not honoured: taken, and the holder sent back.
                    acc.policy[cp.policy as usize][1] += a.size as u64;
                    a.traits &= !cp.exempting;
                    a.class = self.book.classes.class_of(self.nat[a.cohort as usize], a.traits);
                }
                let ret = Return {
                    send: SendBack::To(cp.send_to),
                    bar: Bar::None,
                };
                self.fail(d, a, x, Col::Intercepted, Event::Intercepted, ret, acc);
                return Arrival::Stop;
            }
        }
        if a.flags & F_CARAVAN != 0 {
            if let Some(p) = self.book.acting(self.book.rules(d.epoch, x).offer, a.class) {
                let breaking = d.breaking[self.caravan_of[a.cohort as usize] as usize];
                if self.take_offer(a, p, breaking, acc) {
                    return Arrival::Stop;
                }
            }
        }
        let place = &self.sc.places[x as usize];
        if entering {
            // A new country by land: no longer a visitor, and a new day of entry.
            a.flags &= !F_VISITOR;
            a.mark = NO_DAY;
        } else if l.mode == Mode::Air && self.sc.places[l.from as usize].country != place.country {
            // Flown in: a lawful visitor, who may claim at the airport on
            // arrival or inland after `claim_delay_days`.
            a.flags |= F_VISITOR;
            a.mark = d.day.min(NO_DAY as u32 - 1) as u16;
        }
        if self.at_door[x as usize] && self.learn_at_door > 0.0 {
            let stale = a.flags & F_INFORMED == 0 || self.perceived(d, a) != d.epoch;
            if stale && self.word.uniform(a.id, d.day ^ (x << 16)) < self.learn_at_door {
                self.learn_rules(a);
            }
        }
        if place.kind == PlaceKind::Crossing && x != a.target && entering {
            let rules = self.book.rules(d.epoch, x);
            let mut detected = false;
            if !place.official {
                if let Some(p) = self.book.acting(rules.enforcement, a.class) {
                    if events.uniform() < p.detection_rate {
                        detected = true;
                        acc.add(a, x, Col::Detected);
                        acc.event(a, Event::Detected);
                        a.flags |= F_INFORMED;
                    }
                }
            }
            if place.official || detected {
                // Met by border officers: the rules of the crossing apply.
                if let Some(p) = self.book.acting(rules.stca, a.class) {
                    self.fail_by(d, a, x, p, Col::TurnedBack, Event::TurnedBack, acc);
                    return Arrival::Stop;
                }
                if let Some(p) = self.book.acting(rules.title42, a.class) {
                    if events.uniform() < p.expulsion_rate {
                        self.fail_by(d, a, x, p, Col::Expelled, Event::Expelled, acc);
                        return Arrival::Stop;
                    }
                }
                if let Some(p) = self.book.acting(rules.removal, a.class) {
                    if events.uniform() < p.removal_rate {
                        self.fail_by(d, a, x, p, Col::Removed, Event::Removed, acc);
                        return Arrival::Stop;
                    }
                }
                if detected && place.claims {
                    // Apprehended between ports: the claim is made here.
                    self.claim(d, a, acc);
                    return Arrival::Stop;
                }
            } else if self.book.acting(rules.stca, a.class).is_some() {
                // Crossed between ports unseen under a whole-border STCA: a
                // claim inland must wait out `claim_within_days`.
                a.mark = d.day.min(NO_DAY as u32 - 1) as u16;
            }
        }
        if let Some(p) = self.book.acting(self.book.rules(d.epoch, x).documents, a.class) {
            if a.traits & p.papers == 0 {
                a.flags |= F_PAPERS;
                a.flags &= !F_CARAVAN;
                a.timer = 0;
                return Arrival::Stop;
            }
        }
        if x == a.target {
            return Arrival::Go;
        }
        if self.capacity[x as usize] != u64::MAX {
            // A place with a capacity holds the group for the night.
            return Arrival::Stop;
        }
        Arrival::Go
    }

    /// An offer made to a group walking in a caravan: it takes it with the
    /// offer's `uptake` (one draw per group and offer: a group that
    /// declined declines again), or surely if its caravan is breaking up
    /// (`caravan_breakup`), and then has its papers and is taken where the
    /// offer says, out of its caravan. True if it took it.
    pub(super) fn take_offer(&self, a: &mut Agent, offer: OfferRule, breaking: bool, acc: &mut Acc) -> bool {
        let p = offer.policy;
        if offer.papers.is_some_and(|bit| a.traits & bit != 0) {
            return false;
        }
        acc.policy[p as usize][0] += a.size as u64;
        if !breaking && self.offer.uniform(a.id, p as u32) >= offer.uptake {
            return false;
        }
        acc.policy[p as usize][1] += a.size as u64;
        if let Some(bit) = offer.papers {
            a.traits |= bit;
            a.class = self.book.classes.class_of(self.nat[a.cohort as usize], a.traits);
        }
        let to = match offer.send_to {
            SendTo::Place(q) => q,
            SendTo::Origin => self.origin[a.cohort as usize],
        };
        self.moved(a, to);
        true
    }

    /// A forced move: the group waits where it was sent and decides again.
    pub(super) fn moved(&self, a: &mut Agent, to: PlaceIx) {
        a.place = to;
        a.leg = NONE;
        a.flags |= F_DECIDE | F_INFORMED;
        a.flags &= !F_CARAVAN;
        a.timer = 0;
    }

    /// Sent back from `x` by rule `p` (the STCA, Title 42, a removal).
    /// Where the group goes and its bar are those of the first of the
    /// STCA, Title 42 and a removal acting at `x` (`PolicyBook::return_at`,
    /// the order in which a crossing applies them), which is also what a
    /// group weighs when it chooses: with Title 42 and a removal at one
    /// crossing, a removed group goes where Title 42 sends people.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fail_by(
        &self,
        d: &DayCtx,
        a: &mut Agent,
        x: PlaceIx,
        p: impl Rule,
        col: Col,
        e: Event,
        acc: &mut Acc,
    ) {
        let ret = self.book.return_at(d.epoch, a.class, x).unwrap_or(Return {
            send: SendBack::NearSide,
            bar: Bar::None,
        });
        debug_assert!(self.book.acting(Some(p), a.class).is_some());
        self.fail(d, a, x, col, e, ret, acc);
    }

    /// A failure at `x` (turned back, expelled, removed, intercepted): the
    /// group is counted, remembers the door it was making for and the day,
    /// perceives the rules in force from the next day, takes the bar the
    /// failure brings, and waits where it is sent.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fail(&self, d: &DayCtx, a: &mut Agent, x: PlaceIx, col: Col, e: Event, ret: Return, acc: &mut Acc) {
        acc.add(a, x, col);
        acc.event(a, e);
        let slot_of = |p: u32| {
            if p == NONE {
                u32::MAX
            } else {
                self.book.slot_of[p as usize]
            }
        };
        let slot = match slot_of(a.target) {
            u32::MAX => slot_of(x),
            s => s,
        };
        let door = if slot < NO_DOOR as u32 { slot as u16 } else { NO_DOOR };
        let count = (a.barred & FAIL_COUNT) >> 6;
        let count = if door == a.failed && door != NO_DOOR {
            (count + 1).min(3)
        } else {
            1
        };
        a.failed = door;
        a.barred = (a.barred & !FAIL_COUNT) | (count << 6);
        a.failed_day = d.day.min(NO_DAY as u32 - 2) as u16;
        if let Some(dest) = Dest::of(self.sc.places[x as usize].country) {
            let bit = 1u8 << dest as u8;
            let forever = a.barred & bit != 0 && a.barred & (bit << 3) == 0;
            match ret.bar {
                Bar::None => {}
                Bar::Forever => {
                    a.barred = (a.barred | bit) & !(bit << 3);
                }
                Bar::Days(n) if !forever => {
                    let until = (d.day + n).min(NO_DAY as u32 - 1) as u16;
                    let active = a.barred & BAR_TEMPORARY != 0 && (d.day as u16) < a.bar_until;
                    a.bar_until = if active { a.bar_until.max(until) } else { until };
                    a.barred |= bit | (bit << 3);
                }
                Bar::Days(_) => {}
            }
            debug_assert!(a.barred & BARRED != 0 || ret.bar == Bar::None);
        }
        a.mark = NO_DAY;
        a.appt = NO_DAY;
        a.flags &= !F_VISITOR;
        let to = match ret.send {
            SendBack::NearSide => match self.near_side[x as usize] {
                NONE => x,
                n => n,
            },
            SendBack::To(SendTo::Origin) => self.origin[a.cohort as usize],
            SendBack::To(SendTo::Place(p)) => p,
        };
        self.moved(a, to);
    }

    pub(super) fn request(&self, kind: u8, resource: u32, d: &DayCtx, a: &Agent, budget: f32) -> Request {
        self.request_of(kind, resource, d, a.id, a.size, budget)
    }

    #[inline(always)]
    fn request_of(&self, kind: u8, resource: u32, d: &DayCtx, id: u32, size: u8, budget: f32) -> Request {
        Request {
            kind,
            resource,
            key: self.queue.word(id, d.day ^ ((kind as u32) << 28)),
            agent: id,
            size,
            budget,
        }
    }

    /// Sets out on a leg, paying its cost. False if the group cannot pay.
    /// On foot, a group walks at its own pace (a family at `family_pace`),
    /// or, in a caravan, at the caravan's; other transport takes it out of
    /// its caravan.
    #[inline]
    pub(super) fn set_out(&self, d: &DayCtx, a: &mut Agent, leg: u32, acc: &mut Acc) -> bool {
        let l = &self.legs[leg as usize];
        if l.cost_usd > a.budget {
            a.flags |= F_DECIDE;
            return false;
        }
        a.budget -= l.cost_usd;
        acc.add(a, a.place, Col::Departed);
        acc.legs[leg as usize] += a.size as u64;
        a.leg = leg;
        a.left = l.days;
        if l.mode == Mode::Walk {
            let pace = if a.flags & F_CARAVAN != 0 {
                d.pace[self.caravan_of[a.cohort as usize] as usize]
            } else if a.traits & Trait::Family.bit() != 0 {
                self.family_pace
            } else {
                1.0
            };
            if pace != 1.0 {
                a.left = l.days / pace;
            }
        } else {
            a.flags &= !F_CARAVAN;
        }
        a.timer = 0;
        acc.set_state(a, State::Travelling);
        true
    }

    pub(super) fn decide(&self, d: &DayCtx, a: &mut Agent, perceived: u16, acc: &mut Acc) {
        let t = self.chooser.choose(a, d.day, &self.book, perceived, d.hazard);
        a.epoch_seen = perceived;
        a.timer = 0;
        a.flags &= !F_DECIDE;
        if t != a.target {
            a.appt = NO_DAY;
        }
        a.target = t;
        if t == NONE {
            let s = match self.no_target {
                NoTarget::Settle => State::SettledIrregular,
                NoTarget::ReturnHome => State::ReturnedHome,
            };
            acc.set_state(a, s);
        }
    }

    /// A claim at the place the group is at, under the rules in force.
    pub(super) fn claim(&self, d: &DayCtx, a: &mut Agent, acc: &mut Acc) {
        let x = a.place;
        let rules = self.book.rules(d.epoch, x);
        let holder = a.appt != NO_DAY;
        if self.book.acting(rules.appt_port, a.class).is_some() {
            if !holder {
                // Turned away without an appointment.
                a.flags |= F_DECIDE | F_INFORMED;
                return;
            }
            if d.day < a.appt as u32 {
                return;
            }
        }
        if let Some(p) = self.book.acting(rules.stca, a.class) {
            self.fail_by(d, a, x, p, Col::TurnedBack, Event::TurnedBack, acc);
            return;
        }
        if let Some(p) = self
            .book
            .acting(self.book.epochs[d.epoch as usize].stca_inland, a.class)
        {
            let place = &self.sc.places[x as usize];
            if place.country == p.border.north
                && place.kind != PlaceKind::Crossing
                && a.mark != NO_DAY
                && a.flags & F_VISITOR == 0
                && d.day < a.mark as u32 + p.claim_within_days
            {
                // Waits out the days since crossing before claiming.
                return;
            }
        }
        if a.flags & F_VISITOR != 0 && a.mark != NO_DAY {
            let kind = self.sc.places[x as usize].kind;
            if kind != PlaceKind::Airport
                && kind != PlaceKind::Crossing
                && d.day < a.mark as u32 + self.claim_delay[a.cohort as usize]
            {
                // A visitor claims inland after `claim_delay_days`.
                return;
            }
        }
        if !holder {
            let mut draws = self.claim.draws(a.id, d.day);
            let u = draws.uniform();
            if let Some(p) = self.book.acting(rules.title42, a.class) {
                if u < p.expulsion_rate {
                    self.fail_by(d, a, x, p, Col::Expelled, Event::Expelled, acc);
                    return;
                }
            }
            if let Some(p) = self.book.acting(rules.removal, a.class) {
                if draws.uniform() < p.removal_rate {
                    self.fail_by(d, a, x, p, Col::Removed, Event::Removed, acc);
                    return;
                }
            }
        }
        let slot = self.book.slot_of[x as usize] as usize;
        if slot != u32::MAX as usize && self.book.openness(d.epoch, a.class, false, slot) > 0.0 {
            let s = match self.chooser.target_dest[slot] {
                crate::scenario::Dest::MX => State::ClaimedMx,
                crate::scenario::Dest::US => State::ClaimedUs,
                crate::scenario::Dest::CA => State::ClaimedCa,
            };
            acc.add(a, x, Col::Claims);
            acc.set_state(a, s);
        } else {
            a.flags |= F_DECIDE | F_INFORMED;
        }
    }
}

/// The days a group on a leg with `left` days left travels before the day
/// it arrives (those on which more than `1 + EPS` days are left), and what
/// is left on that day: the bits of taking 1.0 off once a day.
fn days_off(mut left: f32) -> (f32, u32) {
    let mut days = 0;
    // Whole days off at once while more than two are left: from an f32 of
    // at least 1 (and below 2^24) subtracting 1.0 is exact, so `left - k`
    // is the bits of k subtractions of 1.0.
    let bulk = (left as f64 - 2.0).floor();
    if bulk >= 1.0 && left < (1 << 24) as f32 {
        left -= bulk as f32;
        days += bulk as u32;
    }
    while left > 1.0 + EPS {
        left -= 1.0;
        days += 1;
    }
    (left, days)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the daily step did before `World::park`: one day off a day.
    fn one_a_day(mut left: f32) -> (f32, u32) {
        let mut days = 0;
        while left > 1.0 + EPS {
            left -= 1.0;
            days += 1;
        }
        (left, days)
    }

    #[test]
    fn days_off_at_once_give_the_bits_of_one_a_day() {
        let draws = Key::new(20, Stream::Build);
        let mut lefts: Vec<f32> = vec![0.0, EPS, 1.0, 1.0 + EPS, 2.0, 2.0 + EPS, 3.0 + EPS, 1000.25, 65_535.9];
        for k in 0..20_000u32 {
            let mut d = draws.draws(k, 0);
            // Leg days over a pace, as `World::set_out` makes them, and
            // what a part-used day leaves.
            let days = (d.uniform() * 60.0) as f32;
            let pace = [1.0f32, 0.7, 0.55, 0.9][k as usize % 4];
            lefts.push(days / pace);
            lefts.push(days / pace - d.uniform() as f32);
            let near = (k % 50) as f32 + 1.0 + EPS;
            lefts.extend([
                near,
                f32::from_bits(near.to_bits() + 1),
                f32::from_bits(near.to_bits() - 1),
            ]);
        }
        for left in lefts {
            let (a, b) = (days_off(left), one_a_day(left));
            assert_eq!((a.0.to_bits(), a.1), (b.0.to_bits(), b.1), "left = {left}");
        }
    }
}
