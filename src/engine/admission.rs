//! Shared resources and who gets them: request buckets (room at places
//! with a capacity, daily claim slots, appointments, pathway places), the
//! requests of the parallel pass, and admission in order of per-agent keys.
//!
//! Owns granting. Must not move agents: pass B of the step acts on the
//! granted requests.

use crate::policy::Queue;
use crate::scenario::Scenario;

/// Room at a place with a capacity (blocking).
pub(super) const REQ_ADMIT: u8 = 0;
/// A claim slot at a place with `claims_per_day` (blocking).
pub(super) const REQ_CLAIM: u8 = 1;
/// An appointment (blocking: the group waits where it asks).
pub(super) const REQ_APPT: u8 = 2;
/// A place on a lawful pathway (not blocking: the group goes on meanwhile).
pub(super) const REQ_PATHWAY: u8 = 3;

/// A request for a shared resource (crosses processes by `wire`).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Request {
    pub(super) kind: u8,
    pub(super) resource: u32,
    pub(super) key: u64,
    pub(super) agent: u32,
    pub(super) size: u8,
    /// Travel left today, days.
    pub(super) budget: f32,
}

/// The shared resources requests can be for: every place with a capacity,
/// every claim point with `claims_per_day`, every appointments and every
/// pathway policy. Buckets are in that order, so pathway selections are
/// settled after the day's moves.
#[derive(Clone, Debug)]
pub(super) struct Buckets {
    pub(super) places: usize,
    pub(super) of_place: Vec<u32>,
    pub(super) of_policy: Vec<u32>,
    pub(super) list: Vec<(u8, u32)>,
    /// Per bucket, the policy's queue (appointments, pathway places).
    pub(super) queue: Vec<Option<Queue>>,
}

impl Buckets {
    pub(super) fn new(sc: &Scenario, queues: &[Queue]) -> Buckets {
        let places = sc.places.len();
        let mut of_place = vec![u32::MAX; 2 * places];
        let mut of_policy = vec![u32::MAX; sc.policies.len()];
        let mut list = Vec::new();
        let mut queue = Vec::new();
        for (i, p) in sc.places.iter().enumerate() {
            if p.capacity.is_some() {
                of_place[i] = list.len() as u32;
                list.push((REQ_ADMIT, i as u32));
                queue.push(None);
            }
        }
        for (i, p) in sc.places.iter().enumerate() {
            if p.claims && p.claims_per_day.is_some() {
                of_place[places + i] = list.len() as u32;
                list.push((REQ_CLAIM, i as u32));
                queue.push(None);
            }
        }
        for kind in [REQ_APPT, REQ_PATHWAY] {
            for q in queues.iter().filter(|q| q.appointments == (kind == REQ_APPT)) {
                of_policy[q.policy as usize] = list.len() as u32;
                list.push((kind, q.policy as u32));
                queue.push(Some(*q));
            }
        }
        Buckets {
            places,
            of_place,
            of_policy,
            list,
            queue,
        }
    }

    #[inline(always)]
    pub(super) fn of(&self, kind: u8, resource: u32) -> u32 {
        match kind {
            REQ_ADMIT | REQ_CLAIM => self.of_place[kind as usize * self.places + resource as usize],
            _ => self.of_policy[resource as usize],
        }
    }
}

/// Whole units of a daily `rate` that fall on day `d` of a window, so that
/// fractional rates add up exactly over days.
pub(super) fn daily_units(rate: f64, d: u32) -> u64 {
    ((rate * (d as f64 + 1.0)).floor() - (rate * d as f64).floor()).max(0.0) as u64
}

/// Decides which requests are granted: per resource, requests are taken in
/// order of (per-agent random key, agent id), and a group is admitted if it
/// fits in the room left; one that does not is skipped. Only the smallest
/// keys that could possibly be admitted are sorted (a group has at least
/// one person, so at most `room` groups fit), which keeps a queue of a
/// million requests for a few hundred places cheap. The result does not
/// depend on how requests were gathered: keys are unique and totally ordered.
///
/// Pathway places are drawn without skipping: the draw stops at the first
/// group that does not fit, and the places it leaves are carried to the
/// next day. So only the `room` smallest keys can win, and each fold of the
/// parallel pass keeps only those (see [`Acc::push`]): a million groups at
/// home applying every day cost a partial selection, not a million
/// requests. Returns the granted requests and, per bucket, the room carried.
pub(super) fn admit(
    per: Vec<Vec<Vec<Request>>>,
    buckets: &Buckets,
    room_of: impl Fn(usize) -> u64,
) -> (Vec<Request>, Vec<u64>) {
    let mut out = Vec::new();
    let mut carry = vec![0u64; buckets.list.len()];
    for (b, pieces) in per.into_iter().enumerate() {
        let total: usize = pieces.iter().map(Vec::len).sum();
        if total == 0 {
            continue;
        }
        let mut reqs = Vec::with_capacity(total);
        for p in pieces {
            reqs.extend(p);
        }
        let kind = buckets.list[b].0;
        let mut room = room_of(b);
        let order = |r: &Request| (r.key, r.agent);
        let mut start = 0;
        'scan: while room > 0 && start < reqs.len() {
            let rest = &mut reqs[start..];
            let k = (room.min(rest.len() as u64)) as usize;
            if k < rest.len() {
                rest.select_nth_unstable_by_key(k - 1, order);
            }
            rest[..k].sort_unstable_by_key(order);
            for r in &rest[..k] {
                if r.size as u64 <= room {
                    room -= r.size as u64;
                    out.push(*r);
                } else if kind == REQ_PATHWAY {
                    carry[b] = room;
                    break 'scan;
                }
            }
            start += k;
        }
    }
    (out, carry)
}

#[cfg(test)]
mod tests {
    use super::super::tallies::{Acc, Extras};
    use super::*;
    use crate::rng::{Key, Stream};

    /// One pathway policy and nothing else.
    fn one_pathway() -> Buckets {
        Buckets {
            places: 0,
            of_place: Vec::new(),
            of_policy: vec![0],
            list: vec![(REQ_PATHWAY, 0)],
            queue: vec![None],
        }
    }

    fn applications(n: u32) -> Vec<Request> {
        let keys = Key::new(7, Stream::Queue);
        (0..n)
            .map(|id| Request {
                kind: REQ_PATHWAY,
                resource: 0,
                key: keys.word(id, 3),
                agent: id,
                size: 1 + (id % 4) as u8,
                budget: 0.0,
            })
            .collect()
    }

    #[test]
    fn pathway_applications_filed_through_the_cut_are_granted_as_if_all_were_drawn() {
        let buckets = one_pathway();
        let none = Extras {
            caravans: 0,
            policies: 0,
        };
        for room in [1u64, 7, 40, 5_000, 50_000] {
            let all = applications(20_000);
            // Three folds, as the parallel pass files them.
            let mut folds: Vec<Acc> = (0..3).map(|_| Acc::new(0, 0, 0, 1, false, none)).collect();
            for (k, r) in all.iter().enumerate() {
                folds[k % 3].push(&buckets, &[room], *r);
            }
            let merged = folds.into_iter().reduce(Acc::merge).unwrap();
            let filed: usize = merged.requests[0].iter().map(Vec::len).sum();
            let (granted, carry) = admit(merged.requests, &buckets, |_| room);
            let (want, want_carry) = admit(vec![vec![all]], &buckets, |_| room);
            let ids = |g: &[Request]| g.iter().map(|r| r.agent).collect::<Vec<_>>();
            assert_eq!(ids(&granted), ids(&want), "room {room}");
            assert_eq!(carry, want_carry, "room {room}");
            if room > 5_000 {
                assert_eq!(filed, 20_000, "room {room}: nothing to cut");
            }
        }
    }

    #[test]
    fn a_pathway_application_above_the_cut_is_not_filed() {
        let buckets = one_pathway();
        let mut acc = Acc::new(
            0,
            0,
            0,
            1,
            false,
            Extras {
                caravans: 0,
                policies: 0,
            },
        );
        let mut all = applications(5_000);
        // The smallest keys first: after the first cut to the room, every
        // later application is above it.
        all.sort_by_key(|r| (r.key, r.agent));
        for r in &all {
            acc.push(&buckets, &[7], *r);
        }
        let mut filed: Vec<u32> = acc.requests[0].iter().flatten().map(|r| r.agent).collect();
        let mut smallest: Vec<u32> = all[..7].iter().map(|r| r.agent).collect();
        filed.sort_unstable();
        smallest.sort_unstable();
        assert_eq!(filed, smallest);
    }
}
