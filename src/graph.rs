//! The place graph and its routing tables.
//!
//! Owns the petgraph graph (node i = place i, edge j = leg j) and the
//! computation of next-hop tables towards each claim point over the legs
//! open to a policy class. Must not know which policies close what: it is
//! handed the open legs and places.

use crate::scenario::{Behaviour, Leg, LegIx, PlaceIx, Scenario, NONE};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeFiltered, EdgeRef, Reversed};
use rayon::prelude::*;

/// The graph of places and legs.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Node weights are place indices; edge weights leg indices.
    pub g: DiGraph<PlaceIx, LegIx>,
    /// Out-legs of each place, sorted by leg index (for deterministic ties).
    pub out: Vec<Vec<LegIx>>,
}

impl Graph {
    /// Builds the graph of a scenario.
    pub fn new(sc: &Scenario) -> Graph {
        let mut g = DiGraph::with_capacity(sc.places.len(), sc.legs.len());
        for p in 0..sc.places.len() {
            g.add_node(p as PlaceIx);
        }
        let mut out = vec![Vec::new(); sc.places.len()];
        for (i, l) in sc.legs.iter().enumerate() {
            g.add_edge(
                NodeIndex::new(l.from as usize),
                NodeIndex::new(l.to as usize),
                i as LegIx,
            );
            out[l.from as usize].push(i as LegIx);
        }
        Graph { g, out }
    }
}

/// Cost of travelling a leg, as the logit weighs it. A tiny cost per hop
/// keeps next hops loop-free when every weight is zero.
#[inline]
pub fn leg_cost(l: &Leg, b: &Behaviour) -> f64 {
    b.w_dist * l.km as f64 / 1000.0 + b.w_cost * l.cost_usd as f64 / 1000.0 + b.w_risk * l.risk as f64 + 1e-9
}

/// Next hops and path sums towards every claim point, for one set of open
/// legs and places.
#[derive(Clone, Debug)]
pub struct Routing {
    places: usize,
    /// `[t * places + p]`: the leg to take from `p` towards target slot `t`
    /// (`NONE`: unreachable or already there).
    next: Vec<u32>,
    /// Path sums from `p` to target `t`: km, USD per person, risk.
    km: Vec<f32>,
    cost_usd: Vec<f32>,
    risk: Vec<f32>,
}

/// Path sums from a place to a target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathSums {
    /// Kilometres.
    pub km: f32,
    /// US dollars per person.
    pub cost_usd: f32,
    /// `1 − Π(1 − risk)`.
    pub risk: f32,
}

impl Routing {
    /// Computes the tables for `targets` (target slot t = `targets[t]`).
    pub fn build(
        graph: &Graph,
        legs: &[Leg],
        targets: &[PlaceIx],
        leg_open: &[bool],
        place_open: &[bool],
        b: &Behaviour,
    ) -> Routing {
        let n = graph.out.len();
        let per_target: Vec<Tables> = targets
            .par_iter()
            .map(|&t| towards(graph, legs, t, leg_open, place_open, b))
            .collect();
        let mut r = Routing {
            places: n,
            next: Vec::with_capacity(n * targets.len()),
            km: Vec::with_capacity(n * targets.len()),
            cost_usd: Vec::with_capacity(n * targets.len()),
            risk: Vec::with_capacity(n * targets.len()),
        };
        for (next, km, cost, risk) in per_target {
            r.next.extend(next);
            r.km.extend(km);
            r.cost_usd.extend(cost);
            r.risk.extend(risk);
        }
        r
    }

    /// The leg to take from `p` towards target slot `t`.
    #[inline(always)]
    pub fn next(&self, t: usize, p: PlaceIx) -> u32 {
        self.next[t * self.places + p as usize]
    }

    /// Path sums from `p` to target slot `t`, or `None` if unreachable.
    /// At the target itself the sums are zero.
    #[inline(always)]
    pub fn path(&self, t: usize, p: PlaceIx) -> Option<PathSums> {
        let i = t * self.places + p as usize;
        let km = self.km[i];
        km.is_finite().then(|| PathSums {
            km,
            cost_usd: self.cost_usd[i],
            risk: self.risk[i],
        })
    }
}

type Tables = (Vec<u32>, Vec<f32>, Vec<f32>, Vec<f32>);

fn towards(graph: &Graph, legs: &[Leg], t: PlaceIx, leg_open: &[bool], place_open: &[bool], b: &Behaviour) -> Tables {
    let n = graph.out.len();
    let usable = |li: LegIx| leg_open[li as usize] && place_open[legs[li as usize].to as usize];
    // Distances to the target: Dijkstra from it over the reversed graph of
    // usable legs.
    let filtered = EdgeFiltered::from_fn(&graph.g, |e| usable(*e.weight()));
    let dist = petgraph::algo::dijkstra(Reversed(&filtered), NodeIndex::new(t as usize), None, |e| {
        leg_cost(&legs[*e.weight() as usize], b)
    });
    let mut d = vec![f64::INFINITY; n];
    for (node, cost) in dist {
        d[node.index()] = cost;
    }
    let mut next = vec![NONE; n];
    for p in 0..n {
        if p == t as usize || !d[p].is_finite() {
            continue;
        }
        let mut best = (f64::INFINITY, NONE);
        for &li in &graph.out[p] {
            if !usable(li) {
                continue;
            }
            let l = &legs[li as usize];
            let c = leg_cost(l, b) + d[l.to as usize];
            if c < best.0 {
                best = (c, li);
            }
        }
        next[p] = best.1;
    }
    // Path sums in order of distance: each place's sums extend its next
    // hop's, which is nearer.
    let mut order: Vec<usize> = (0..n).filter(|&p| d[p].is_finite()).collect();
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]).then(a.cmp(&b)));
    let mut km = vec![f32::INFINITY; n];
    let mut cost = vec![f32::INFINITY; n];
    let mut surv = vec![0f64; n];
    km[t as usize] = 0.0;
    cost[t as usize] = 0.0;
    surv[t as usize] = 1.0;
    for p in order {
        let li = next[p];
        if li == NONE {
            continue;
        }
        let l = &legs[li as usize];
        let q = l.to as usize;
        km[p] = km[q] + l.km;
        cost[p] = cost[q] + l.cost_usd;
        surv[p] = surv[q] * (1.0 - l.risk as f64);
    }
    let risk = surv
        .iter()
        .zip(&km)
        .map(|(s, k)| if k.is_finite() { (1.0 - s) as f32 } else { 1.0 })
        .collect();
    (next, km, cost, risk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{load_bytes, Scenario};

    fn toy() -> Scenario {
        let text = r#"
[scenario]
name = "toy"
start = 2025-01-01
end = 2025-01-10
[[place]]
id = "a"
country = "MX"
kind = "city"
lat = 0
lon = 0
[[place]]
id = "b"
country = "MX"
kind = "city"
lat = 0
lon = 1
[[place]]
id = "c"
country = "US"
kind = "crossing"
lat = 0
lon = 2
[[route]]
from = "a"
to = "b"
km = 100
[[route]]
from = "b"
to = "c"
km = 100
[[route]]
from = "a"
to = "c"
km = 500
[[population]]
id = "p"
origin = "a"
nationality = "HN"
people = 1
destinations = { US = 1 }
depart = 2025-01-01
"#;
        load_bytes(text.as_bytes(), std::path::Path::new("toy.toml")).expect("toy scenario loads")
    }

    #[test]
    fn next_hop_follows_the_cheapest_path_and_avoids_closed_legs() {
        let sc = toy();
        let g = Graph::new(&sc);
        let b = &sc.behaviour;
        let open = vec![true; sc.legs.len()];
        let places = vec![true; sc.places.len()];
        let r = Routing::build(&g, &sc.legs, &[2], &open, &places, b);
        let l = r.next(0, 0);
        assert_eq!(sc.legs[l as usize].to, 1, "a→b→c (200 km) beats a→c (500 km)");
        assert_eq!(r.path(0, 0).map(|p| p.km), Some(200.0));
        // close a→b (both directions: legs 0 and 1)
        let mut closed = open.clone();
        closed[0] = false;
        let r = Routing::build(&g, &sc.legs, &[2], &closed, &places, b);
        assert_eq!(sc.legs[r.next(0, 0) as usize].to, 2);
        assert_eq!(r.path(0, 0).map(|p| p.km), Some(500.0));
        // close the target itself: unreachable
        let mut shut = places.clone();
        shut[2] = false;
        let r = Routing::build(&g, &sc.legs, &[2], &open, &shut, b);
        assert_eq!(r.next(0, 0), NONE);
        assert_eq!(r.path(0, 0), None);
    }
}
