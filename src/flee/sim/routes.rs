//! The flee model's routes: the links made from the scenario's routes,
//! the candidate paths from each location (loop-free, up to the awareness
//! level, markers passed through), and [`Prepared`], everything of a run
//! that depends on the scenario alone.
//!
//! Owns the route tables and what is prepared once. Must not hold
//! anything a seed or a day changes (a closure changes a run's own copy of
//! the tables).

use super::spawn::LocState;
use super::{Quirks, SimError, NONE};
use crate::flee::model::{FleeScenario, Link};
use crate::flee::settings::SpawnMode;

/// A candidate path from a location.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cand {
    /// Offset of its first hop in the arena.
    pub(super) off: u32,
    /// Hops.
    pub(super) len: u8,
    /// Its end.
    pub(super) end: u32,
    /// Cumulative km.
    pub(super) km: f64,
}

/// The links and the route tables over the open ones: loop-free paths
/// up to the awareness level from every location, rebuilt only when a
/// closure opens or ends.
#[derive(Clone, Debug)]
pub(super) struct Routes {
    pub(super) links: Vec<Link>,
    /// Open out-links per location (link indices, file order).
    pub(super) out: Vec<Vec<u32>>,
    pub(super) open: Vec<bool>,
    /// Every out-link per location, open or not (file order).
    pub(super) all_out: Vec<Vec<u32>>,
    /// The hops of every candidate path ever built (offsets stay valid
    /// after a rebuild: agents keep the routes they chose).
    pub(super) arena: Vec<u32>,
    /// Per arena entry: the first link in file order from the hop before
    /// to this one. The link an agent takes is the first *open* one from
    /// where it is, so this one is used only while it is open and starts
    /// there (else the out-links are searched): a table lookup in place of
    /// a search on every step onto a link.
    pub(super) hop_link: Vec<u32>,
    pub(super) cands: Vec<Vec<Cand>>,
}

impl Routes {
    /// The route tables over the open links, with the markers of `states`
    /// (a marker is a hop, not a destination), to `awareness` hops.
    pub(super) fn rebuild(&mut self, states: &[LocState], awareness: i64) {
        let n = states.len();
        self.out = vec![Vec::new(); n];
        for (i, l) in self.links.iter().enumerate() {
            if self.open[i] {
                self.out[l.from as usize].push(i as u32);
            }
        }
        let mut cands = vec![Vec::new(); n];
        for (o, c) in cands.iter_mut().enumerate() {
            let mut path = vec![o as u32];
            let first: Vec<u32> = self.out[o].clone();
            for l in first {
                self.walk(l, 0.0, &mut path, 1, awareness, states, c);
            }
        }
        self.cands = cands;
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn walk(
        &mut self,
        link: u32,
        prior: f64,
        path: &mut Vec<u32>,
        mut step: i64,
        awareness: i64,
        states: &[LocState],
        out: &mut Vec<Cand>,
    ) {
        let l = self.links[link as usize].clone();
        if !states[l.to as usize].marker {
            let off = self.arena.len() as u32;
            self.arena.extend_from_slice(&path[1..]);
            self.arena.push(l.to);
            for (k, &to) in path[1..].iter().chain([&l.to]).enumerate() {
                let first = self.first_link(path[k], to);
                self.hop_link.push(first);
            }
            out.push(Cand {
                off,
                len: path.len() as u8,
                end: l.to,
                km: prior + l.km,
            });
        } else {
            step -= 1;
        }
        if awareness > step {
            let next: Vec<u32> = self.out[l.to as usize].clone();
            for l2 in next {
                let to = self.links[l2 as usize].to;
                if path.contains(&to) {
                    continue;
                }
                path.push(l.to);
                self.walk(l2, prior + l.km, path, step + 1, awareness, states, out);
                path.pop();
            }
        }
    }
}

impl Routes {
    /// The first link in file order from `from` to `to`, open or not.
    fn first_link(&self, from: u32, to: u32) -> u32 {
        let all = &self.all_out[from as usize];
        (all.iter().copied())
            .find(|&l| self.links[l as usize].to == to)
            .unwrap_or(NONE)
    }
}

pub(super) fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6373.0 * 2.0 * a.sqrt().atan2((1.0 - a).sqrt())
}

/// What every run of a Flee scenario shares, whatever its seed: the
/// links, the route tables and location states of day 0, the camps and the
/// coordinates. Built once by [`Prepared::new`]; replicates on one rayon
/// pool share one `&Prepared` ([`super::run_prepared`]).
#[derive(Clone, Debug)]
pub struct Prepared<'a> {
    pub(super) sc: &'a FleeScenario,
    /// Flee 3.1's quirks, on or off as the scenario's `flee_compat` says.
    pub(super) q: Quirks,
    /// Location states before day 0's conflicts.
    pub(super) states: Vec<LocState>,
    /// Route tables before day 0's closures.
    pub(super) routes: Routes,
    /// Camps of day 0.
    pub(super) camps: Vec<u32>,
    /// Coordinates for the home-distance weights, as the haversine reads them.
    pub(super) coords: Vec<(f64, f64)>,
    /// Per location: the daily chance that an agent in it, a camp, leaves
    /// the simulation (`camps_are_sinks`).
    pub(super) deactivate: Vec<f64>,
}

impl<'a> Prepared<'a> {
    /// Prepares a Flee scenario's runs; an error if it asks for what its
    /// `flee_compat` cannot run.
    pub fn new(sc: &'a FleeScenario) -> Result<Prepared<'a>, SimError> {
        let s = &sc.settings;
        let q = Quirks::of(sc.compat);
        if q.poisson_spawning_fails {
            if let SpawnMode::Poisson(_) = s.spawn {
                return Err(SimError::Unsupported(
                    "spawn_mode poisson cannot run as Flee 3.1 does: 3.1 compares \"poisson\" with \"Poisson\" \
                     and stops with UnboundLocalError; drop flee_compat = \"3.1\" to draw Poisson numbers"
                        .into(),
                ));
            }
        }
        // Links, in route order (each both ways).
        let mut links = Vec::new();
        for r in &sc.routes {
            let copies = if q.forced_redirection_links_twice && r.forced_redirection == 1 {
                2
            } else {
                1
            };
            for _ in 0..copies {
                for (from, to) in [(r.a, r.b), (r.b, r.a)] {
                    links.push(Link {
                        from,
                        to,
                        km: r.km,
                        max_move_speed: r.max_move_speed,
                        walk_probability: r.walk_probability,
                    });
                }
            }
        }
        let states = LocState::initial(sc);
        let mut all_out = vec![Vec::new(); sc.locations.len()];
        for (i, l) in links.iter().enumerate() {
            all_out[l.from as usize].push(i as u32);
        }
        let mut routes = Routes {
            open: vec![true; links.len()],
            links,
            out: Vec::new(),
            all_out,
            arena: Vec::new(),
            hop_link: Vec::new(),
            cands: Vec::new(),
        };
        routes.rebuild(&states, s.awareness_level as i64);
        let coords = sc
            .locations
            .iter()
            .map(|l| {
                if q.haversine_lat_lon_swapped {
                    (l.lon, l.lat)
                } else {
                    (l.lat, l.lon)
                }
            })
            .collect();
        Ok(Prepared {
            sc,
            q,
            states,
            routes,
            camps: sc.camps(),
            coords,
            deactivate: sc.locations.iter().map(|l| l.deactivation_probability).collect(),
        })
    }
}
