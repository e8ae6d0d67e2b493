//! How agents choose: the multinomial logit over known, affordable claim
//! points — with the cost of failure and the memory of doors that failed —
//! the knowledge of claim points, and the prospects that scale departures.
//!
//! Owns the decision rule of the default model (`[behaviour] model =
//! "default"`; docs/behaviour.md). Reads the policy tables and the agent;
//! must not move agents or touch shared counts.

use crate::agents::{is_barred, Agent, FAIL_COUNT, F_INFORMED};
use crate::graph::PathSums;
use crate::policy::{bar_weight, PolicyBook};
use crate::rng::{Key, Stream};
use crate::scenario::{Behaviour, Country, Dest, PlaceIx, PlaceKind, Scenario, SendBack, SendTo, NONE};
use std::sync::OnceLock;

/// What a group knows and where it stands when it decides: the fields of
/// an [`Agent`] the decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Situation {
    /// Agent id (its draws and learning thresholds).
    pub id: u32,
    /// Where it is.
    pub place: PlaceIx,
    /// Its cohort.
    pub cohort: u16,
    /// Its policy class.
    pub class: u16,
    /// Whether it knows the eligibility rules.
    pub informed: bool,
    /// Budget per person left, USD.
    pub budget: f32,
    /// The door that failed it last (a target slot, `u16::MAX`: none), and
    /// how often it failed there.
    pub failed: u16,
    /// Failures at `failed` (0–3).
    pub fails: u8,
    /// Countries that bar it (see `agents::barred`).
    pub barred: u8,
    /// Last day of its temporary bars.
    pub bar_until: u16,
    /// Whether it may know claim points learned from others' use (false:
    /// only those its cohort knows from the start).
    pub learned: bool,
}

impl Situation {
    /// The situation of an agent.
    #[inline]
    pub fn of(a: &Agent) -> Situation {
        Situation {
            id: a.id,
            place: a.place,
            cohort: a.cohort,
            class: a.class,
            informed: a.flags & F_INFORMED != 0,
            budget: a.budget,
            failed: a.failed,
            fails: (a.barred & FAIL_COUNT) >> 6,
            barred: a.barred,
            bar_until: a.bar_until,
            learned: true,
        }
    }
}

/// Per-scenario constants the decision needs, precomputed once and shared
/// by every run of the scenario whatever its seed (see `engine::Prepared`),
/// and the rows of targets per (view, place), filled as runs first need
/// them: their contents depend on the scenario and its policy book alone,
/// so which run fills one does not matter. A `Chooser` over these tables
/// must be given the book they were made from.
#[derive(Clone, Debug)]
pub struct ChoiceTables {
    /// `[cohort * targets + t]`: known from the start.
    knows: Vec<bool>,
    /// `[cohort * 3 + dest]`: ln of the destination weight (−∞: not a destination).
    ln_pref: Vec<f64>,
    /// Destination country of each target slot.
    pub target_dest: Vec<Dest>,
    /// Country of each target slot that is a border crossing: groups
    /// already in that country do not make for it.
    border_country: Vec<Option<Country>>,
    /// Country of each place.
    place_country: Vec<Country>,
    /// Where people sent back from each place (a crossing) go (`NONE`: none set).
    near_side: Vec<u32>,
    /// Origin of each cohort.
    origin: Vec<PlaceIx>,
    n_targets: usize,
    w_open: f64,
    w_dist: f64,
    w_cost: f64,
    w_risk: f64,
    w_fail: f64,
    w_bar: f64,
    memory_trials: f64,
    depart_elasticity: f64,
    /// The consequence of failing at each target's own door, per (epoch,
    /// class, view) as `PolicyBook::openness` (NaN: computed when needed —
    /// a removal to the origin depends on the cohort).
    door_cost: Vec<f64>,
    /// Departure factors (see [`Chooser::depart_factor`]):
    /// `[((epoch * cohorts + cohort) << trait_bits | local class) * 2 + informed]`.
    factor: Vec<f64>,
    /// Per cohort: the largest departure factor over epochs, classes and
    /// views (a bound that lets a daily draw that cannot succeed stop early).
    max_factor: Vec<f64>,
    cohorts: usize,
    trait_bits: usize,
    /// Per (view, place), the targets as seen from there (see [`Seen`]),
    /// made the first time a group decides there in that view and then
    /// shared by every group, run and thread.
    rows: Vec<OnceLock<Box<[Seen]>>>,
}

/// One target slot as seen from one place in one view (epoch, class,
/// informed): the part of its utility that no group's own state changes.
#[derive(Clone, Copy, Debug)]
enum Seen {
    /// Not a candidate from there in that view, whoever decides (a border
    /// claim point on this side, perceived closed, unreachable).
    Out,
    /// Worked out per group: failing there removes it to its cohort's
    /// origin.
    Own,
    /// A candidate: `base` = w_open·ln p − cost of the path, `fail` =
    /// w_fail·(1 − p)·consequence (0 when there is none), and the path's
    /// price per person (checked against the group's budget).
    In { base: f64, fail: f64, cost_usd: f32 },
}

/// The decision of one run: the scenario's [`ChoiceTables`] with the keys
/// of the run's draws of choices and thresholds of learning.
#[derive(Clone, Copy, Debug)]
pub struct Chooser<'t> {
    tables: &'t ChoiceTables,
    decide: Key,
    learn: Key,
}

impl std::ops::Deref for Chooser<'_> {
    type Target = ChoiceTables;
    fn deref(&self) -> &ChoiceTables {
        self.tables
    }
}

impl ChoiceTables {
    /// Precomputes the decision constants and the departure prospects of
    /// every cohort in every policy epoch.
    pub fn new(sc: &Scenario, book: &PolicyBook) -> ChoiceTables {
        let n_targets = book.targets.len();
        let mut knows = Vec::with_capacity(sc.cohorts.len() * n_targets);
        let mut ln_pref = Vec::with_capacity(sc.cohorts.len() * 3);
        for c in &sc.cohorts {
            for &t in &book.targets {
                knows.push(c.knows.as_ref().map(|k| k.contains(&t)).unwrap_or(true));
            }
            for d in Dest::ALL {
                let w = c.destinations[d as usize];
                ln_pref.push(if w > 0.0 { w.ln() } else { f64::NEG_INFINITY });
            }
        }
        // Claim points are only in MX, US or CA (checked at load).
        let target_dest = book
            .targets
            .iter()
            .map(|&t| Dest::of(sc.places[t as usize].country).unwrap_or(Dest::MX))
            .collect();
        let border_country = book
            .targets
            .iter()
            .map(|&t| {
                let p = &sc.places[t as usize];
                (p.kind == PlaceKind::Crossing).then_some(p.country)
            })
            .collect();
        let b: &Behaviour = &sc.behaviour;
        let mut ch = ChoiceTables {
            knows,
            ln_pref,
            target_dest,
            border_country,
            place_country: sc.places.iter().map(|p| p.country).collect(),
            near_side: sc.places.iter().map(|p| p.near_side.unwrap_or(NONE)).collect(),
            origin: sc.cohorts.iter().map(|c| c.origin).collect(),
            n_targets,
            w_open: b.w_open,
            w_dist: b.w_dist,
            w_cost: b.w_cost,
            w_risk: b.w_risk,
            w_fail: b.w_fail,
            w_bar: b.w_bar,
            memory_trials: b.memory_trials,
            depart_elasticity: b.depart_elasticity,
            factor: Vec::new(),
            max_factor: Vec::new(),
            door_cost: Vec::new(),
            cohorts: sc.cohorts.len(),
            trait_bits: book.classes.trait_bits(),
            rows: (0..book.epochs.len() * book.classes.count * 2 * sc.places.len())
                .map(|_| OnceLock::new())
                .collect(),
        };
        // The door costs and prospects draw nothing (no learning from
        // others' use at the start, `Situation::learned` false): any keys do.
        let door_cost = Chooser::new(&ch, 0, 0).door_costs(book);
        ch.door_cost = door_cost;
        let value = Chooser::new(&ch, 0, 0).prospects(sc, book);
        let per_epoch = sc.cohorts.len() << ch.trait_bits << 1;
        ch.factor = value
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let v0 = value[i % per_epoch.max(1)];
                if v == f64::NEG_INFINITY {
                    0.0
                } else if v0 == f64::NEG_INFINITY || ch.depart_elasticity == 0.0 {
                    1.0
                } else {
                    (ch.depart_elasticity * (v - v0)).exp()
                }
            })
            .collect();
        let per_cohort = 1usize << ch.trait_bits << 1;
        ch.max_factor = (0..sc.cohorts.len())
            .map(|c| {
                ch.factor
                    .chunks(per_cohort.max(1))
                    .skip(c)
                    .step_by(sc.cohorts.len().max(1))
                    .flat_map(|x| x.iter().copied())
                    .fold(0.0f64, f64::max)
            })
            .collect();
        ch
    }
}

impl<'t> Chooser<'t> {
    /// Keys the draws of choices by `dynamics` and the thresholds of
    /// learning (a group's own, part of who it is) by `identity`: a run
    /// continued with fresh draws keeps what its groups know.
    pub fn new(tables: &'t ChoiceTables, identity: u64, dynamics: u64) -> Chooser<'t> {
        Chooser {
            tables,
            decide: Key::new(dynamics, Stream::Decide),
            learn: Key::new(identity, Stream::Learn),
        }
    }

    /// The largest departure factor a group of `cohort` can have.
    #[inline(always)]
    pub fn max_depart_factor(&self, cohort: u16) -> f64 {
        self.max_factor[cohort as usize]
    }

    /// The consequence of failing at each claim point's own door, for every
    /// view of every epoch and class (the common case of a choice: a port
    /// under Title 42 or a removal), so that a decision reads it.
    fn door_costs(&self, book: &PolicyBook) -> Vec<f64> {
        let mut out = vec![f64::NAN; book.epochs.len() * book.classes.count * 2 * self.n_targets];
        for e in 0..book.epochs.len() as u16 {
            for class in 0..book.classes.count as u16 {
                for informed in [false, true] {
                    let base = book.view(e, class, informed) * self.n_targets;
                    for t in 0..self.n_targets {
                        let door = book.targets[t];
                        match book.return_at(e, class, door).map(|r| r.send) {
                            None | Some(SendBack::To(SendTo::Origin)) => {}
                            Some(_) => {
                                let s = Situation {
                                    id: 0,
                                    place: door,
                                    cohort: 0,
                                    class,
                                    informed,
                                    budget: f32::INFINITY,
                                    failed: u16::MAX,
                                    fails: 0,
                                    barred: 0,
                                    bar_until: 0,
                                    learned: false,
                                };
                                out[base + t] = self.consequence(&s, t, door, book, e);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The log-sum of exp(utility) over each cohort's candidates at its
    /// origin, for every epoch, trait class of the cohort's nationality and
    /// view (the expected value of its best option, up to a constant): no
    /// memory, no bars, the claim points the cohort knows from the start,
    /// budget not counted.
    fn prospects(&self, sc: &Scenario, book: &PolicyBook) -> Vec<f64> {
        let local = 1usize << self.trait_bits;
        let mut out = Vec::with_capacity(book.epochs.len() * self.cohorts * local * 2);
        for e in 0..book.epochs.len() as u16 {
            for (ci, c) in sc.cohorts.iter().enumerate() {
                let nat = book.classes.nat_group(c.nationality) as usize;
                for k in 0..local {
                    for informed in [false, true] {
                        let class = ((nat << self.trait_bits) | k) as u16;
                        out.push(self.prospect(sc, book, e, ci as u16, class, informed));
                    }
                }
            }
        }
        out
    }

    /// The factor on a group's chance of setting out: exp(ε · (V − V₀)),
    /// where V is the value of its options in the epoch it perceives and V₀
    /// at the start of the run, in the same view (0 when nothing is left to
    /// make for; 1 when nothing was there at the start). A table lookup.
    #[inline(always)]
    pub fn depart_factor(&self, a: &Agent, perceived: u16) -> f64 {
        let local = (a.class as usize) & ((1usize << self.trait_bits) - 1);
        self.factor[((perceived as usize * self.cohorts + a.cohort as usize) << self.trait_bits | local) * 2
            + (a.flags & F_INFORMED != 0) as usize]
    }

    /// The value of a cohort's options at its origin (log-sum of
    /// exp(utility)) in an epoch, for a class and view: what the departure
    /// factor compares.
    pub fn prospect(
        &self,
        sc: &Scenario,
        book: &PolicyBook,
        epoch: u16,
        cohort: u16,
        class: u16,
        informed: bool,
    ) -> f64 {
        let c = &sc.cohorts[cohort as usize];
        let s = Situation {
            id: 0,
            place: c.origin,
            cohort,
            class,
            informed,
            budget: f32::INFINITY,
            failed: u16::MAX,
            fails: 0,
            barred: 0,
            bar_until: 0,
            learned: false,
        };
        (0..self.n_targets)
            .filter_map(|t| self.utility(&s, t, book, epoch, &[], 0))
            .map(f64::exp)
            .sum::<f64>()
            .ln()
    }

    /// Whether the agent knows target slot `t`: from the start, or learned
    /// from other people's use. Learning is a hazard process: the agent
    /// knows `t` once the cumulative hazard of learning it exceeds its own
    /// exponential threshold, which gives the same law as a daily learning
    /// draw without storing anything per agent.
    #[inline]
    pub fn knows(&self, s: &Situation, t: usize, hazard: &[f64]) -> bool {
        if self.knows[s.cohort as usize * self.n_targets + t] {
            return true;
        }
        let h = if s.learned { hazard[t] } else { 0.0 };
        if h <= 0.0 {
            return false;
        }
        let u = self.learn.uniform(s.id, t as u32);
        -(1.0 - u).ln() < h
    }

    /// Whether a group with cumulative word-of-mouth hazard `h` has heard
    /// of its cohort's returns (the same hazard law, on its own threshold).
    #[inline]
    pub fn heard(&self, id: u32, h: f64) -> bool {
        h > 0.0 && -(1.0 - self.learn.uniform(id, u32::MAX)).ln() < h
    }

    #[inline(always)]
    fn cost(&self, p: &PathSums) -> f64 {
        self.w_dist * p.km as f64 / 1000.0 + self.w_cost * p.cost_usd as f64 / 1000.0 + self.w_risk * p.risk as f64
    }

    /// The utility of target slot `t` for a group in situation `s`, or
    /// `None` if `t` is not a candidate (not a destination, barred, a border
    /// claim point on the group's own side, perceived closed, unreachable,
    /// unaffordable, or unknown):
    ///
    /// `U = w_open·ln p − w_dist·km/1000 − w_cost·usd/1000 − w_risk·risk
    ///      + ln pref − w_fail·(1 − p)·consequence`,
    ///
    /// where p is the perceived chance of getting in (openness at the door
    /// × the chance of passing the crossings on the way, lowered by the
    /// group's own failures at that door), and the consequence of failing
    /// is the cost of the trip back from where failure sends the group plus
    /// `w_bar` × the bar it brings.
    ///
    /// `perceived` is the epoch whose rules the group believes in (news
    /// delay): it plans its routes by them too.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn utility(
        &self,
        s: &Situation,
        t: usize,
        book: &PolicyBook,
        perceived: u16,
        hazard: &[f64],
        day: u32,
    ) -> Option<f64> {
        let ln_pref = self.pref(s, t, day)?;
        let (open, pass, door) = self.odds(book, perceived, s, t)?;
        let place = book.targets[t];
        let mut p = open as f64 * pass as f64;
        if t as u16 == s.failed && s.fails > 0 {
            // The group's own failures at this door against what it
            // perceives of the rules (a beta-binomial posterior mean).
            let k = self.memory_trials;
            p *= k / (k + s.fails as f64);
        }
        if p <= 0.0 {
            return None;
        }
        let path = book.routing(perceived, s.class, s.informed).path(t, s.place)?;
        if path.cost_usd > s.budget || !self.knows(s, t, hazard) {
            return None;
        }
        let mut u = self.w_open * p.ln() - self.cost(&path) + ln_pref;
        if self.w_fail > 0.0 && p < 1.0 {
            let c = if pass < 1.0 {
                self.consequence(s, t, door, book, perceived)
            } else {
                match self.door_cost[book.view(perceived, s.class, s.informed) * self.n_targets + t] {
                    c if c.is_nan() => self.consequence(s, t, place, book, perceived),
                    c => c,
                }
            };
            u -= self.w_fail * (1.0 - p) * c;
        }
        Some(u)
    }

    /// [`Chooser::utility`] of target slot `t`, read from the group's row
    /// of [`Seen`] where it can be.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn candidate(
        &self,
        row: &[Seen],
        s: &Situation,
        t: usize,
        book: &PolicyBook,
        perceived: u16,
        hazard: &[f64],
        day: u32,
    ) -> Option<f64> {
        match row[t] {
            Seen::Out => None,
            Seen::In { base, fail, cost_usd } if t as u16 != s.failed || s.fails == 0 => {
                self.own_utility(s, t, base, fail, cost_usd, hazard, day)
            }
            // Its own failures at this door, or a removal to its origin:
            // the whole computation.
            _ => self.utility(s, t, book, perceived, hazard, day),
        }
    }

    /// The ln of the group's weight for target slot `t`'s destination, or
    /// `None` if it is not one of its destinations or it is barred there.
    #[inline(always)]
    fn pref(&self, s: &Situation, t: usize, day: u32) -> Option<f64> {
        let dest = self.target_dest[t];
        let ln_pref = self.ln_pref[s.cohort as usize * 3 + dest as usize];
        if ln_pref == f64::NEG_INFINITY || is_barred(s.barred, s.bar_until, dest, day) {
            return None;
        }
        Some(ln_pref)
    }

    /// Target slot `t`'s openness, the chance of passing the crossings on
    /// the way from `s.place` and the door that may fail the group, in
    /// `s`'s view; `None` for a border claim point on the group's own side
    /// or one perceived closed.
    #[inline(always)]
    fn odds(&self, book: &PolicyBook, perceived: u16, s: &Situation, t: usize) -> Option<(f32, f32, PlaceIx)> {
        let place = book.targets[t];
        if self.border_country[t] == Some(self.place_country[s.place as usize]) && place != s.place {
            return None;
        }
        let open = book.openness(perceived, s.class, s.informed, t);
        if open <= 0.0 {
            return None;
        }
        let (pass, door) = book.reach(perceived, s.class, s.informed, t, s.place);
        Some((open, pass, door))
    }

    /// The utility of target slot `t` from its [`Seen::In`] parts: the
    /// checks of the group's own (destination, bars, budget, knowledge)
    /// and `U = base + ln pref − fail`, the same operations in the same
    /// order as [`Chooser::utility`], so the same bits.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn own_utility(
        &self,
        s: &Situation,
        t: usize,
        base: f64,
        fail: f64,
        cost_usd: f32,
        hazard: &[f64],
        day: u32,
    ) -> Option<f64> {
        let ln_pref = self.pref(s, t, day)?;
        if cost_usd > s.budget || !self.knows(s, t, hazard) {
            return None;
        }
        Some(base + ln_pref - fail)
    }

    /// The targets as seen from the group's place in the view it
    /// perceives.
    #[inline]
    fn row(&self, book: &PolicyBook, perceived: u16, s: &Situation) -> &[Seen] {
        // The rows hold the book these tables were made from: a decision
        // must be given that book (the engine's `Prepared` holds both).
        debug_assert_eq!(
            self.rows.len(),
            book.epochs.len() * book.classes.count * 2 * self.place_country.len()
        );
        debug_assert_eq!(self.n_targets, book.targets.len());
        let places = self.place_country.len();
        let cell = &self.rows[book.view(perceived, s.class, s.informed) * places + s.place as usize];
        cell.get_or_init(|| (0..self.n_targets).map(|t| self.seen(book, perceived, s, t)).collect())
    }

    /// Target slot `t` from `s.place` in `s`'s view: [`Chooser::utility`]
    /// without the group's own checks and without the memory of failure.
    fn seen(&self, book: &PolicyBook, perceived: u16, s: &Situation, t: usize) -> Seen {
        let Some((open, pass, door)) = self.odds(book, perceived, s, t) else {
            return Seen::Out;
        };
        let place = book.targets[t];
        let p = open as f64 * pass as f64;
        if p <= 0.0 {
            return Seen::Out;
        }
        let Some(path) = book.routing(perceived, s.class, s.informed).path(t, s.place) else {
            return Seen::Out;
        };
        let base = self.w_open * p.ln() - self.cost(&path);
        let mut fail = 0.0;
        if self.w_fail > 0.0 && p < 1.0 {
            let at = if pass < 1.0 { door } else { place };
            let to_origin = matches!(
                book.return_at(perceived, s.class, at).map(|r| r.send),
                Some(SendBack::To(SendTo::Origin))
            );
            if to_origin {
                return Seen::Own;
            }
            let c = if pass < 1.0 {
                self.consequence(s, t, door, book, perceived)
            } else {
                match self.door_cost[book.view(perceived, s.class, s.informed) * self.n_targets + t] {
                    c if c.is_nan() => self.consequence(s, t, place, book, perceived),
                    c => c,
                }
            };
            fail = self.w_fail * (1.0 - p) * c;
        }
        Seen::In {
            base,
            fail,
            cost_usd: path.cost_usd,
        }
    }

    /// What failing at `door` on the way to target slot `t` costs: the trip
    /// from where the failure sends the group back to `t`, plus `w_bar` ×
    /// the weight of the bar it brings.
    fn consequence(&self, s: &Situation, t: usize, door: PlaceIx, book: &PolicyBook, epoch: u16) -> f64 {
        let ret = book.return_at(epoch, s.class, door);
        let to = match ret.map(|r| r.send) {
            Some(SendBack::NearSide) => match self.near_side[door as usize] {
                NONE => door,
                n => n,
            },
            Some(SendBack::To(SendTo::Origin)) => self.origin[s.cohort as usize],
            Some(SendBack::To(SendTo::Place(q))) => q,
            // No rule sends people back from there (a door the group's own
            // memory doubts): the trip from here is what it would lose.
            None => s.place,
        };
        let trip = book
            .routing(epoch, s.class, s.informed)
            .path(t, to)
            .map(|p| self.cost(&p))
            .unwrap_or(0.0);
        trip + self.w_bar * ret.map(|r| bar_weight(r.bar)).unwrap_or(0.0)
    }

    /// Chooses a target by the logit over candidates (Gumbel-max: the
    /// argmax of utility plus a standard Gumbel draw has exactly the logit
    /// shares). Returns the target's place, or `NONE` with no candidate.
    pub fn choose(&self, a: &Agent, day: u32, book: &PolicyBook, perceived: u16, hazard: &[f64]) -> u32 {
        let s = Situation::of(a);
        let mut draws = self.decide.draws(a.id, day);
        let mut best = (f64::NEG_INFINITY, NONE);
        let row = self.row(book, perceived, &s);
        for t in 0..self.n_targets {
            if let Some(u) = self.candidate(row, &s, t, book, perceived, hazard, day) {
                let x = draws.uniform();
                // A candidate that could not win even with the largest
                // Gumbel draw of its bin is passed over without the two
                // logarithms (most are, once a good one has been seen):
                // `u + gumbel(x) <= u + gumbel_bound(x)`, so the choice
                // is the one the full comparison makes.
                if u + gumbel_bound(x) <= best.0 {
                    continue;
                }
                let g = gumbel(x);
                if u + g > best.0 {
                    best = (u + g, book.targets[t]);
                }
            }
        }
        best.1
    }
}

/// A standard Gumbel draw from a uniform `x` in [0, 1).
#[inline(always)]
fn gumbel(x: f64) -> f64 {
    -(-(x.max(f64::MIN_POSITIVE)).ln()).ln()
}

/// Bins of the uniform draw for [`gumbel_bound`].
const GUMBEL_BINS: usize = 1024;

/// An upper bound of `gumbel(x)`, from a table: the draw at the top of
/// `x`'s bin (`gumbel` increases with `x`), plus a margin far above the
/// rounding of the logarithms, so that the bound holds for the computed
/// values, not only for the exact ones. The top bin's bound is infinite.
#[inline(always)]
fn gumbel_bound(x: f64) -> f64 {
    static BOUND: std::sync::LazyLock<Vec<f64>> = std::sync::LazyLock::new(|| {
        (1..=GUMBEL_BINS)
            .map(|k| gumbel(k as f64 / GUMBEL_BINS as f64) + 1e-9)
            .collect()
    });
    // x < 1, so the bin is below GUMBEL_BINS; `min` keeps the index in
    // range whatever the caller passes.
    BOUND[((x * GUMBEL_BINS as f64) as usize).min(GUMBEL_BINS - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target of five shipped scenarios, from every place, in every
    /// epoch, class and view, read from a row another group filled (other
    /// cohorts, with and without memory of failure, bars and a budget):
    /// the row gives the bits the whole computation gives.
    #[test]
    fn a_target_read_from_its_row_has_the_utility_computed_in_full() {
        let mut checked = 0;
        for name in [
            "title42-2020-2023",
            "roxham-2017-2020",
            "caravan-2025",
            "pathways-2021",
            "protocol-2023",
        ] {
            let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
            let sc = crate::scenario::load(std::path::Path::new(&path)).expect("a shipped scenario loads");
            let book = PolicyBook::new(&sc, &Graph::new(&sc));
            let tables = ChoiceTables::new(&sc, &book);
            let ch = Chooser::new(&tables, 1, 1);
            let hazard = vec![0.5; tables.n_targets];
            for e in 0..book.epochs.len() as u16 {
                for class in 0..book.classes.count as u16 {
                    for (k, place) in (0..sc.places.len() as u32).enumerate() {
                        // Both views; in each, the first group fills the row
                        // and three others with other cohorts, memories,
                        // bars and budgets read it.
                        for (v, informed) in (0..8).map(|v| (v, v >= 4)) {
                            let mut s = Situation {
                                id: (k * 8 + v) as u32,
                                place,
                                cohort: ((k + v) % sc.cohorts.len()) as u16,
                                class,
                                informed,
                                budget: [f32::INFINITY, 900.0][v / 2 % 2],
                                failed: u16::MAX,
                                fails: 0,
                                barred: 0,
                                bar_until: 0,
                                learned: true,
                            };
                            if (k + v) % 3 == 0 {
                                (s.failed, s.fails) = (((k + v) % tables.n_targets) as u16, 2);
                            }
                            if (k + v) % 5 == 0 {
                                (s.barred, s.bar_until) = (0b0000_1010, 40);
                            }
                            let row = ch.row(&book, e, &s);
                            for t in 0..tables.n_targets {
                                let full = ch.utility(&s, t, &book, e, &hazard, 30);
                                let read = ch.candidate(row, &s, t, &book, e, &hazard, 30);
                                assert_eq!(
                                    full.map(f64::to_bits),
                                    read.map(f64::to_bits),
                                    "{name} e{e} c{class} p{place} v{v} t{t}"
                                );
                                checked += full.is_some() as usize;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "too few candidates compared: {checked}");
    }

    #[test]
    fn the_gumbel_bound_is_at_least_every_draw_of_its_bin() {
        // Each bin's edges and a spread of draws inside it, as
        // `Draws::uniform` makes them (multiples of 2^-53).
        let ulp = 1.0 / (1u64 << 53) as f64;
        for k in 0..GUMBEL_BINS {
            let lo = k as f64 / GUMBEL_BINS as f64;
            let hi = (k + 1) as f64 / GUMBEL_BINS as f64 - ulp;
            for i in 0..=64 {
                let x = lo + (hi - lo) * i as f64 / 64.0;
                let x = (x / ulp).floor() * ulp;
                assert!(gumbel(x) <= gumbel_bound(x), "x = {x}");
            }
            assert!(gumbel(hi) <= gumbel_bound(hi) && gumbel(lo) <= gumbel_bound(lo));
        }
        assert_eq!(gumbel_bound(1.0 - ulp), f64::INFINITY);
        // The bound is tight enough to pass over candidates: within 0.01
        // of the draw everywhere but the top bins.
        assert!(gumbel_bound(0.5) - gumbel(0.5) < 0.01);
    }
    use crate::graph::Graph;
    use crate::scenario::load_bytes;

    /// The corridor fixture with Hondurans in Monterrey and Title 42 at
    /// `rate`, with `w_fail`.
    fn book_for(w_fail: f64, rate: f64) -> (Scenario, PolicyBook) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/corridor.toml"))
            .expect("fixture")
            .replace("BEHAVIOUR", &format!("w_fail = {w_fail}"))
            .replace(
                "REST",
                &format!(
                    "[[population]]\nid = \"h\"\norigin = \"monterrey\"\nnationality = \"HN\"\npeople = 10\n\
                     destinations = {{ US = 1.0 }}\ndepart = 2025-01-01\n\
                     \n[[policy]]\nid = \"t42\"\nkind = \"title42\"\nborder = \"MX-US\"\nexpulsion_rate = {rate}\n"
                ),
            );
        let sc = load_bytes(text.as_bytes(), std::path::Path::new("c.toml")).expect("loads");
        let book = PolicyBook::new(&sc, &Graph::new(&sc));
        (sc, book)
    }

    fn at_monterrey(sc: &Scenario, failed: u16, fails: u8) -> Situation {
        Situation {
            id: 1,
            place: sc.place_index["monterrey"],
            cohort: 0,
            class: 0,
            informed: true,
            budget: f32::INFINITY,
            failed,
            fails,
            barred: 0,
            bar_until: 0,
            learned: false,
        }
    }

    #[test]
    fn the_cost_of_failure_is_w_fail_times_the_chance_of_failing_times_the_trip_back() {
        let (sc, book) = book_for(2.0, 0.4);
        let (_, book0) = book_for(0.0, 0.4);
        let t = ChoiceTables::new(&sc, &book);
        let ch = Chooser::new(&t, 1, 1);
        let (sc0, _) = book_for(0.0, 0.4);
        let t0 = ChoiceTables::new(&sc0, &book0);
        let ch0 = Chooser::new(&t0, 1, 1);
        let laredo = book.slot_of[sc.place_index["laredo"] as usize] as usize;
        let s = at_monterrey(&sc, u16::MAX, 0);
        let u = ch.utility(&s, laredo, &book, 0, &[], 0).expect("a candidate");
        let u0 = ch0.utility(&s, laredo, &book0, 0, &[], 0).expect("a candidate");
        // Expelled at Laredo, the group is sent to Nuevo Laredo: the trip
        // back is Nuevo Laredo → Laredo, in the same units as the path.
        let back = book
            .routing(0, 0, true)
            .path(laredo, sc.place_index["nuevo_laredo"])
            .expect("a path");
        let trip = back.km as f64 / 1000.0 + back.cost_usd as f64 / 1000.0 + 5.0 * back.risk as f64;
        // Without it, the utility is ln(1 − rate) less the path's cost.
        let there = book.routing(0, 0, true).path(laredo, s.place).expect("a path");
        let cost = there.km as f64 / 1000.0 + there.cost_usd as f64 / 1000.0 + 5.0 * there.risk as f64;
        // (Openness is kept in f32: 1e-6 is its precision.)
        assert!(
            (u0 - (0.6f64.ln() - cost)).abs() < 1e-6,
            "U = {u0}, cost {cost}, {there:?}"
        );
        assert!(
            ((u0 - u) - 2.0 * 0.4 * trip).abs() < 1e-6,
            "U(w_fail = 0) − U(w_fail = 2) = {} = 2 × 0.4 × {trip}",
            u0 - u
        );
        // Title 42 carried no bar: no w_bar term.
        assert_eq!(
            book.return_at(0, 0, sc.place_index["laredo"]).map(|r| r.bar),
            Some(crate::scenario::Bar::None)
        );
    }

    #[test]
    fn failures_at_a_door_lower_its_perceived_chance_as_a_beta_posterior() {
        let (sc, book) = book_for(0.0, 0.4);
        let t = ChoiceTables::new(&sc, &book);
        let ch = Chooser::new(&t, 1, 1);
        let laredo = book.slot_of[sc.place_index["laredo"] as usize] as usize;
        let fresh = ch
            .utility(&at_monterrey(&sc, u16::MAX, 0), laredo, &book, 0, &[], 0)
            .expect("candidate");
        for n in 1..=3u8 {
            let u = ch
                .utility(&at_monterrey(&sc, laredo as u16, n), laredo, &book, 0, &[], 0)
                .expect("candidate");
            // p × k/(k + n), k = memory_trials = 3: ln of it, times w_open = 1.
            let expect = (3.0 / (3.0 + n as f64)).ln();
            assert!((u - fresh - expect).abs() < 1e-9, "n = {n}: {} vs {expect}", u - fresh);
        }
        // A failure remembered at another door leaves this one alone.
        let other = at_monterrey(&sc, (laredo as u16) + 1, 3);
        assert_eq!(ch.utility(&other, laredo, &book, 0, &[], 0), Some(fresh));
    }
}
