//! The typed rules the engine applies at places. `PolicyBook` resolves
//! each dated policy once into the rules it makes at each place, and each
//! rule carries the parameters the daily step needs (rates, waits, where
//! people go, papers bits), so the step reads them from the rule it was
//! handed, never by going back to the scenario's policy list through an
//! index (where a kind that did not match would be a silent no-op). The
//! policy's index stays in every rule for the tables that count or print
//! it, and for whether the rule applies to a class.
//!
//! Owns what one policy kind becomes at a place ([`place_rules`]). Must
//! not decide who a rule applies to (`PolicyBook::applies`) nor act on a
//! group (`engine`).

use super::{Return, MAX_PAPERS, PAPERS_BIT0};
use crate::scenario::{Bar, Border, PlaceKind, Policy, PolicyKind, Scenario, SendBack, SendTo, StcaScope};

/// A rule made by one policy.
pub trait Rule: Copy {
    /// The index of the policy in the scenario.
    fn policy(&self) -> u16;
}

/// A rule that sends back some of the groups it meets at a crossing.
pub trait SendsBack: Rule {
    /// The chance that a group met by officers is sent back.
    fn rate(&self) -> f64;
    /// Where it goes and what bar it takes.
    fn ret(&self) -> Return;
}

macro_rules! rule {
    ($($t:ident),*) => {$(
        impl Rule for $t {
            #[inline(always)]
            fn policy(&self) -> u16 {
                self.policy
            }
        }
    )*};
}

rule!(
    CheckpointRule,
    StcaRule,
    Title42Rule,
    EnforcementRule,
    AppointmentsRule,
    DocumentsRule,
    PathwayRule,
    RemovalRule,
    OfferRule
);

/// A checkpoint that intercepts people passing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckpointRule {
    /// The policy.
    pub policy: u16,
    /// Chance of interception per passage.
    pub interception_rate: f64,
    /// Where the intercepted are sent.
    pub send_to: SendTo,
    /// Chance that the papers exempting a group are honoured.
    pub honour_rate: f64,
    /// The trait bits of the papers that exempt, if they are not always
    /// honoured (0 otherwise).
    pub papers: u16,
}

/// The Safe Third Country Agreement at a crossing (or, whole-border,
/// inland).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StcaRule {
    /// The policy.
    pub policy: u16,
    /// Its border.
    pub border: Border,
    /// Claims inland within this many days of crossing are returned.
    pub claim_within_days: u32,
    /// What a turnback does to later claims.
    pub bar: Bar,
}

/// Title 42 expulsions at a crossing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Title42Rule {
    /// The policy.
    pub policy: u16,
    /// Chance of expulsion per attempt.
    pub expulsion_rate: f64,
}

/// Detection of people crossing between ports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnforcementRule {
    /// The policy.
    pub policy: u16,
    /// Chance of detection.
    pub detection_rate: f64,
}

/// Appointments: at a port taking claims by appointment, or at a place
/// where they are asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppointmentsRule {
    /// The policy.
    pub policy: u16,
    /// Days from the grant of an appointment to its date.
    pub lead_days: u32,
}

/// A place issuing papers after a wait.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DocumentsRule {
    /// The policy.
    pub policy: u16,
    /// Days of waiting.
    pub wait_days: u32,
    /// The trait bit of its papers.
    pub papers: u16,
}

/// A place where a lawful pathway is applied for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathwayRule {
    /// The policy.
    pub policy: u16,
}

/// Removal of people met at a crossing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RemovalRule {
    /// The policy.
    pub policy: u16,
    /// Chance that a group met by officers is removed.
    pub removal_rate: f64,
    /// What the removal does to later claims.
    pub bar: Bar,
    /// Where the removed are sent.
    pub send_to: SendBack,
}

/// An offer made to groups of a caravan reaching a place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OfferRule {
    /// The policy.
    pub policy: u16,
    /// Share of groups offered that take it.
    pub uptake: f64,
    /// Where those who take it are taken.
    pub send_to: SendTo,
    /// The trait bit of the papers it gives (`None`: transport only).
    pub papers: Option<u16>,
}

impl SendsBack for StcaRule {
    fn rate(&self) -> f64 {
        1.0
    }
    fn ret(&self) -> Return {
        Return {
            send: SendBack::NearSide,
            bar: self.bar,
        }
    }
}

impl SendsBack for Title42Rule {
    fn rate(&self) -> f64 {
        self.expulsion_rate
    }
    fn ret(&self) -> Return {
        Return {
            send: SendBack::NearSide,
            bar: Bar::None,
        }
    }
}

impl SendsBack for RemovalRule {
    fn rate(&self) -> f64 {
        self.removal_rate
    }
    fn ret(&self) -> Return {
        Return {
            send: self.send_to,
            bar: self.bar,
        }
    }
}

/// The rules acting at one place in one epoch (whether one applies to a
/// group is [`super::PolicyBook::acting`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct PlaceRules {
    /// A checkpoint.
    pub checkpoint: Option<CheckpointRule>,
    /// The STCA, where it returns claimants (official ports of its border;
    /// with the whole-border scope also the crossings between ports).
    pub stca: Option<StcaRule>,
    /// Title 42 (crossings of its border).
    pub title42: Option<Title42Rule>,
    /// Detection of people crossing between ports.
    pub enforcement: Option<EnforcementRule>,
    /// A port taking claims by appointment.
    pub appt_port: Option<AppointmentsRule>,
    /// A place where appointments are requested.
    pub appt_from: Option<AppointmentsRule>,
    /// A place issuing papers.
    pub documents: Option<DocumentsRule>,
    /// A place where a lawful pathway is applied for.
    pub pathway: Option<PathwayRule>,
    /// A removal (crossings).
    pub removal: Option<RemovalRule>,
    /// An offer (papers, transport elsewhere or back).
    pub offer: Option<OfferRule>,
}

/// A queue of a policy that grants places by the day (appointments,
/// pathway places), for the engine's request buckets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Queue {
    /// The policy.
    pub policy: u16,
    /// Its first day (the daily units are counted from it).
    pub from: u32,
    /// Places granted per day (fractional rates add up over days).
    pub per_day: f64,
    /// Appointments (the group waits for its date) or a pathway.
    pub appointments: bool,
    /// Days from the grant of an appointment to its date (0 for a pathway).
    pub lead_days: u32,
}

/// The queues of the scenario's policies, in policy order.
pub(super) fn queues(sc: &Scenario) -> Vec<Queue> {
    let queue = |i: usize, p: &Policy, per_day: f64, lead_days: Option<u32>| Queue {
        policy: i as u16,
        from: p.from,
        per_day,
        appointments: lead_days.is_some(),
        lead_days: lead_days.unwrap_or(0),
    };
    sc.policies
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p.kind {
            PolicyKind::Appointments {
                slots_per_day,
                lead_days,
                ..
            } => Some(queue(i, p, slots_per_day, Some(lead_days))),
            PolicyKind::Pathway { quota_per_year, .. } => Some(queue(i, p, quota_per_year / 365.0, None)),
            _ => None,
        })
        .collect()
}

/// The trait bit of the papers of the `k`th policy that issues papers.
fn papers_bit(k: u16) -> u16 {
    1 << (PAPERS_BIT0 + k.min(MAX_PAPERS as u16 - 1))
}

/// The rules at each place, from the active policies (later policies in the
/// file win where two of a kind act at one place), and the whole-border
/// STCA acting inland. `papers_of` is each policy's index among those that
/// issue papers.
pub(super) fn place_rules(
    sc: &Scenario,
    active: &[(usize, &Policy)],
    papers_of: &[u16],
) -> (Vec<PlaceRules>, Option<StcaRule>) {
    let mut rules = vec![PlaceRules::default(); sc.places.len()];
    let mut inland = None;
    for &(i, p) in active {
        let policy = i as u16;
        match &p.kind {
            PolicyKind::Checkpoint {
                place,
                interception_rate,
                send_to,
                honour_rate,
            } => {
                rules[*place as usize].checkpoint = Some(CheckpointRule {
                    policy,
                    interception_rate: *interception_rate,
                    send_to: *send_to,
                    honour_rate: *honour_rate,
                    papers: super::papers_mask(p),
                })
            }
            PolicyKind::Stca {
                border,
                scope,
                claim_within_days,
                bar,
            } => {
                let r = StcaRule {
                    policy,
                    border: *border,
                    claim_within_days: *claim_within_days,
                    bar: *bar,
                };
                for (pi, pl) in sc.places.iter().enumerate() {
                    if pl.kind == PlaceKind::Crossing
                        && pl.border == Some(*border)
                        && (pl.official || *scope == StcaScope::WholeBorder)
                    {
                        rules[pi].stca = Some(r);
                    }
                }
                if *scope == StcaScope::WholeBorder {
                    inland = Some(r);
                }
            }
            PolicyKind::Title42 { border, expulsion_rate } => {
                let r = Title42Rule {
                    policy,
                    expulsion_rate: *expulsion_rate,
                };
                for (pi, pl) in sc.places.iter().enumerate() {
                    if pl.kind == PlaceKind::Crossing && pl.border == Some(*border) {
                        rules[pi].title42 = Some(r);
                    }
                }
            }
            PolicyKind::Enforcement { places, detection_rate } => {
                let r = EnforcementRule {
                    policy,
                    detection_rate: *detection_rate,
                };
                for &pl in places {
                    rules[pl as usize].enforcement = Some(r);
                }
            }
            PolicyKind::Appointments {
                ports,
                request_from,
                lead_days,
                ..
            } => {
                let r = AppointmentsRule {
                    policy,
                    lead_days: *lead_days,
                };
                for &pl in ports {
                    rules[pl as usize].appt_port = Some(r);
                }
                for &pl in request_from {
                    rules[pl as usize].appt_from = Some(r);
                }
            }
            PolicyKind::Documents { place, wait_days, .. } => {
                rules[*place as usize].documents = Some(DocumentsRule {
                    policy,
                    wait_days: *wait_days,
                    papers: papers_bit(papers_of[i]),
                })
            }
            PolicyKind::Offer {
                place,
                uptake,
                send_to,
                papers,
            } => {
                rules[*place as usize].offer = Some(OfferRule {
                    policy,
                    uptake: *uptake,
                    send_to: *send_to,
                    papers: papers.as_ref().map(|_| papers_bit(papers_of[i])),
                })
            }
            PolicyKind::Pathway { apply_at, .. } => {
                for &pl in apply_at {
                    rules[pl as usize].pathway = Some(PathwayRule { policy });
                }
            }
            PolicyKind::Removal {
                places,
                removal_rate,
                bar,
                send_to,
            } => {
                let r = RemovalRule {
                    policy,
                    removal_rate: *removal_rate,
                    bar: *bar,
                    send_to: *send_to,
                };
                for &pl in places {
                    rules[pl as usize].removal = Some(r);
                }
            }
            PolicyKind::Closure { .. } | PolicyKind::Visa { .. } | PolicyKind::Pressure { .. } => {}
        }
    }
    (rules, inland)
}
