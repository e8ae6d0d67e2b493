//! The location state of a day and what changes it before agents move:
//! conflicts starting and ending (1), new agents spawned (2), closures of
//! camps, countries, locations and links opening or ending (3).
//!
//! Owns `LocState` and the first three steps of a day. Must not move
//! agents that are already in the simulation (`step` does).

use super::step::pick;
use super::{Run, SimError};
use crate::flee::model::{interpolate, ClosureKind, FleeScenario, LocKind};
use crate::flee::settings::SpawnMode;
use rand_distr::{Distribution, Poisson};

/// A location's state on one day.
#[derive(Clone, Debug)]
pub(super) struct LocState {
    pub(super) movechance: f64,
    pub(super) conflict: f64,
    pub(super) time_of_conflict: i64,
    pub(super) camp: bool,
    pub(super) town: bool,
    pub(super) marker: bool,
    pub(super) pop: f64,
    pub(super) capacity: f64,
}

impl LocState {
    /// Every location's state before the first day.
    pub(super) fn initial(sc: &FleeScenario) -> Vec<LocState> {
        let s = &sc.settings;
        sc.locations
            .iter()
            .map(|l| {
                let (movechance, camp, town) = match l.kind {
                    LocKind::Camp => (s.camp_movechance, true, false),
                    LocKind::IdpCamp => (s.idpcamp_movechance, true, false),
                    LocKind::Conflict => (s.conflict_movechance, false, false),
                    LocKind::Forward | LocKind::Marker => (1.0, false, false),
                    LocKind::Town => (s.default_movechance, false, true),
                };
                // Flee turns any place with a tiny move chance into a camp.
                let tiny = movechance < 0.005 && !camp;
                LocState {
                    movechance,
                    conflict: if l.kind == LocKind::Conflict {
                        l.conflict_intensity
                    } else {
                        -1.0
                    },
                    time_of_conflict: -1,
                    camp: camp || tiny,
                    town: town && !tiny,
                    marker: l.kind == LocKind::Marker,
                    pop: (l.population / s.hasten as u64) as f64,
                    capacity: if l.kind.is_camp() {
                        (l.capacity / s.hasten as u64) as f64
                    } else {
                        -1.0
                    },
                }
            })
            .collect()
    }
}

impl Run<'_> {
    /// Step 1: conflicts that start, end or change today; true if a
    /// conflict zone started or ended.
    pub(super) fn conflicts(&mut self, t: u32) -> bool {
        let (sc, q) = (self.p.sc, self.p.q);
        let s = &sc.settings;
        let mut zone_changed = false;
        for series in &sc.conflicts {
            let l = series.loc as usize;
            let v = series.at(t);
            let prev = if t > 0 { series.at(t - 1) } else { 0.0 };
            let st = &mut self.states[l];
            if v > 1e-6 && (t == 0 || prev < 1e-6) {
                st.movechance = s.conflict_movechance;
                st.conflict = v;
                st.town = false;
                st.time_of_conflict = t as i64;
                zone_changed = true;
            } else if v < 1e-6 && t > 0 {
                let ends = if q.conflict_ends_only_from_intensity_one {
                    prev == 1.0
                } else {
                    prev > 1e-6
                };
                if ends {
                    st.movechance = s.default_movechance;
                    st.conflict = -1.0;
                    st.town = true;
                    zone_changed = true;
                }
            } else if v > 1e-6 && !q.conflict_intensity_fixed_at_start && v != prev {
                st.conflict = v;
            }
        }
        zone_changed
    }

    /// Step 2: the day's new agents, at their conflict zones.
    pub(super) fn spawn(&mut self, t: u32, zone_changed: bool) -> Result<(), SimError> {
        let sc = self.p.sc;
        let s = &sc.settings;
        let new = match s.spawn {
            SpawnMode::Data => self.spawn_from_data(t, zone_changed)?,
            SpawnMode::Constant(x) | SpawnMode::PopRatio(x) | SpawnMode::Poisson(x) => {
                let mut new = Vec::new();
                for (l, st) in self.states.iter().enumerate() {
                    if st.conflict <= 0.0 {
                        continue;
                    }
                    let n = match s.spawn {
                        SpawnMode::Constant(_) => (x * st.conflict) as u64,
                        SpawnMode::PopRatio(_) => (x * st.pop * st.conflict) as u64,
                        _ => {
                            let mean = x * st.conflict;
                            let mut r = self.keys.event.draws(l as u32, t);
                            Poisson::new(mean).map(|p| p.sample(&mut r) as u64).unwrap_or(0)
                        }
                    };
                    new.extend(std::iter::repeat_n(l as u32, n as usize));
                }
                new
            }
        };
        for &l in &new {
            let st = &mut self.states[l as usize];
            if s.take_from_population && st.conflict > 0.0 {
                if st.pop > 0.0 {
                    st.pop -= 1.0;
                } else {
                    return Err(SimError::PopulationExhausted {
                        day: t,
                        place: sc.locations[l as usize].name.clone(),
                    });
                }
            }
            self.agents.push(l);
            self.count[l as usize] += 1;
        }
        self.out.spawned.push(new.len() as u64);
        Ok(())
    }

    /// Data-driven spawning: the day's increase in the observed total, less
    /// the debt of days it fell, drawn over conflict zones by population ×
    /// intensity × the decay since the conflict began.
    fn spawn_from_data(&mut self, t: u32, zone_changed: bool) -> Result<Vec<u32>, SimError> {
        let sc = self.p.sc;
        let s = &sc.settings;
        let per = s.hasten as f64;
        let weight_day = if zone_changed || t == 0 { t as i64 } else { t as i64 - 1 };
        let now = interpolate(&sc.totals, t as i64, per) as i64;
        let diff = if t == 0 {
            now
        } else {
            now - interpolate(&sc.totals, t as i64 - 1, per) as i64
        };
        let mut n = diff - self.debt;
        if s.insert_day0 && t == 0 {
            n = 0;
        }
        if n < 0 {
            self.debt = -n;
            n = 0;
        } else if self.debt > 0 {
            self.debt = 0;
        }
        let mut new = Vec::new();
        if n > 0 {
            let mut cum = Vec::with_capacity(self.states.len());
            let mut acc = 0.0;
            for st in &self.states {
                acc += if st.conflict > 0.0 {
                    st.pop * st.conflict * s.decay(weight_day - st.time_of_conflict)
                } else {
                    0.0
                };
                cum.push(acc);
            }
            if acc.is_nan() || acc <= 0.0 {
                return Err(SimError::NoSpawnOrigin { day: t, n: n as u64 });
            }
            let first = self.agents.len() as u32;
            for k in 0..n as u32 {
                let u = self.keys.spawn.uniform(first + k, t);
                new.push(pick(&cum, u) as u32);
            }
        }
        Ok(new)
    }

    /// Step 3: closures that begin or end today; the route tables are
    /// rebuilt if a link opened or closed.
    pub(super) fn closures(&mut self, t: u32) {
        let sc = self.p.sc;
        let s = &sc.settings;
        let mut links_changed = false;
        for c in &sc.closures {
            let close = t as i64 == c.start;
            let reopen = c.end == Some(t as i64);
            for (closing, on) in [(close, true), (reopen, false)] {
                if !closing {
                    continue;
                }
                match &c.kind {
                    ClosureKind::Camp { loc, idp } => {
                        let st = &mut self.states[*loc as usize];
                        st.conflict = -1.0;
                        st.marker = false;
                        if on {
                            st.movechance = s.default_movechance;
                            st.camp = false;
                            st.town = true;
                        } else {
                            st.movechance = if *idp { s.idpcamp_movechance } else { s.camp_movechance };
                            st.camp = true;
                            st.town = false;
                        }
                    }
                    kind => links_changed |= self.close_links(kind, on),
                }
            }
        }
        if links_changed {
            let awareness = s.awareness_level as i64;
            self.routes.to_mut().rebuild(&self.states, awareness);
        }
    }

    /// Closes (`on`) or reopens the links a closure names; true if one
    /// changed.
    fn close_links(&mut self, kind: &ClosureKind, on: bool) -> bool {
        let (sc, q) = (self.p.sc, self.p.q);
        let name_len = |x: u32| sc.locations[x as usize].name.chars().count();
        let hits: Vec<usize> = (self.routes.links.iter().enumerate())
            .filter(|(_, l)| match kind {
                ClosureKind::Country(a, b) => {
                    let (ca, cb) = (
                        &sc.locations[l.from as usize].country,
                        &sc.locations[l.to as usize].country,
                    );
                    (ca == a && cb == b) || (ca == b && cb == a)
                }
                ClosureKind::Location(x) => l.from == *x || l.to == *x,
                // 3.1 compares names by identity: only a one-character
                // name1 matches, and only name2→name1 is touched.
                ClosureKind::Link(a, b) if q.link_closure_by_name_identity => {
                    l.from == *b && l.to == *a && name_len(*a) == 1
                }
                ClosureKind::Link(a, b) => (l.from == *a && l.to == *b) || (l.from == *b && l.to == *a),
                ClosureKind::Camp { .. } => false,
            })
            .map(|(i, _)| i)
            .collect();
        let mut changed = false;
        for i in hits {
            if self.routes.open[i] == on {
                self.routes.to_mut().open[i] = !on;
                changed = true;
            }
        }
        if let ClosureKind::Link(a, b) = kind {
            if q.link_closure_by_name_identity && on && name_len(*a) != 1 {
                let msg = format!(
                    "flee_compat 3.1: the link closure {}–{} does nothing, as in Flee 3.1 \
                     (names longer than one character never match)",
                    sc.locations[*a as usize].name, sc.locations[*b as usize].name
                );
                if !self.warnings.contains(&msg) {
                    self.warnings.push(msg);
                }
            }
        }
        changed
    }
}
