//! The validated scenario: ids resolved to indices, dates to day numbers,
//! units checked. This is all the engine ever sees of a scenario file.

use crate::named::named_enum;
use crate::time::Calendar;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use super::uncertain::{Dist, Uncertain};

/// Index of a place in [`Scenario::places`] (and the petgraph node index).
pub type PlaceIx = u32;
/// Index of a directed leg in [`Scenario::legs`] (and the petgraph edge index).
pub type LegIx = u32;
/// Index of a declared route in [`Scenario::routes`].
pub type RouteIx = u32;
/// Index of a cohort in [`Scenario::cohorts`].
pub type CohortIx = u16;
/// Index of a policy in [`Scenario::policies`].
pub type PolicyIx = u16;

/// "No place / no leg" in u32 columns.
pub const NONE: u32 = u32::MAX;

/// An ISO 3166-1 alpha-2 country code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country(pub [u8; 2]);

impl Country {
    /// Parses a two-letter upper-case code.
    pub fn parse(s: &str) -> Option<Country> {
        let b = s.as_bytes();
        (b.len() == 2 && b.iter().all(|c| c.is_ascii_uppercase())).then(|| Country([b[0], b[1]]))
    }
    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three countries where a claim can end a journey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dest {
    /// Mexico (COMAR).
    MX = 0,
    /// The United States.
    US = 1,
    /// Canada.
    CA = 2,
}

impl Dest {
    /// All three, in index order.
    pub const ALL: [Dest; 3] = [Dest::MX, Dest::US, Dest::CA];
    /// The destination a country is, if it is one.
    pub fn of(c: Country) -> Option<Dest> {
        match c.as_str() {
            "MX" => Some(Dest::MX),
            "US" => Some(Dest::US),
            "CA" => Some(Dest::CA),
            _ => None,
        }
    }
    /// The country code.
    pub fn country(self) -> Country {
        Country(match self {
            Dest::MX => *b"MX",
            Dest::US => *b"US",
            Dest::CA => *b"CA",
        })
    }
}

named_enum! {
    /// What a place is. Kinds can grow (Flee's camps and conflict zones are
    /// here for the Flee-compatible model).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum PlaceKind {
        /// A city.
        City => "city",
        /// A town.
        Town => "town",
        /// A shelter (usually with a capacity).
        Shelter => "shelter",
        /// A road checkpoint.
        Checkpoint => "checkpoint",
        /// A border crossing, official port or between ports.
        Crossing => "crossing",
        /// An airport.
        Airport => "airport",
        /// A refugee camp (Flee).
        Camp => "camp",
        /// A conflict zone (Flee).
        Conflict => "conflict",
    }
}

/// A land border between two countries, written `"MX-US"` (south first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Border {
    /// The country people leave when travelling north.
    pub south: Country,
    /// The country people enter when travelling north.
    pub north: Country,
}

impl fmt::Display for Border {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.south, self.north)
    }
}

/// A place in the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// Short id (`tapachula`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Country the place is in (for a crossing: the country entered northbound).
    pub country: Country,
    /// Kind.
    pub kind: PlaceKind,
    /// Latitude, decimal degrees.
    pub lat: f64,
    /// Longitude, decimal degrees.
    pub lon: f64,
    /// Most people present at once, if limited.
    pub capacity: Option<u64>,
    /// Whether asylum claims are taken here.
    pub claims: bool,
    /// For crossings: the border.
    pub border: Option<Border>,
    /// For crossings: an official port of entry (false: between ports).
    pub official: bool,
    /// For crossings: where people sent back go.
    pub near_side: Option<PlaceIx>,
    /// People whose claims are taken per day, if limited.
    pub claims_per_day: Option<u64>,
}

named_enum! {
    /// How people travel a route.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Mode {
        /// On foot.
        Walk = 0 => "walk",
        /// Intercity bus.
        Bus = 1 => "bus",
        /// Car or taxi.
        Car = 2 => "car",
        /// Train, including freight rail.
        Train = 3 => "train",
        /// Flight.
        Air = 4 => "air",
        /// Boat.
        Boat = 5 => "boat",
        /// With a smuggler.
        Smuggled = 6 => "smuggled",
    }
}

/// A route as declared (one or both directions).
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Id, if given; otherwise `from-to`.
    pub id: String,
    /// Start.
    pub from: PlaceIx,
    /// End.
    pub to: PlaceIx,
    /// Length in km.
    pub km: f64,
    /// Mode of travel.
    pub mode: Mode,
    /// Days to travel it (given, or km / speed of the mode).
    pub days: f64,
    /// Cost per person, USD.
    pub cost_usd: f64,
    /// Probability of serious harm per traversal.
    pub risk: f64,
    /// Whether it can be travelled in both directions.
    pub both_ways: bool,
}

/// One direction of a route: the unit the engine moves people along.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leg {
    /// The declared route.
    pub route: RouteIx,
    /// Start.
    pub from: PlaceIx,
    /// End.
    pub to: PlaceIx,
    /// Days to travel.
    pub days: f32,
    /// Length, km.
    pub km: f32,
    /// Cost per person, USD.
    pub cost_usd: f32,
    /// Harm probability per traversal.
    pub risk: f32,
    /// Mode.
    pub mode: Mode,
}

/// A trait of a group that a policy can exempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trait {
    /// An unaccompanied minor.
    Minor,
    /// A family group.
    Family,
    /// Relatives in a country.
    Relatives(Dest),
    /// A visa for a country.
    Visa(Dest),
    /// Papers issued by a `documents` policy or an `offer` with papers
    /// (the index among those policies, in file order).
    Papers(PolicyIx),
}

impl Trait {
    /// The bit of this trait in an agent's trait word.
    pub fn bit(self) -> u16 {
        match self {
            Trait::Minor => 1 << 0,
            Trait::Family => 1 << 1,
            Trait::Relatives(d) => 1 << (2 + d as u16),
            Trait::Visa(d) => 1 << (5 + d as u16),
            // Papers bits are assigned per documents policy by the engine.
            Trait::Papers(_) => 0,
        }
    }
}

/// How a budget is drawn per group (USD per person).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// Everyone has the same budget.
    Fixed(f64),
    /// Log-normal with this median and 90th percentile.
    LogNormal {
        /// Median.
        median: f64,
        /// 90th percentile.
        p90: f64,
    },
}

/// When the groups of a cohort set out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Departure {
    /// Everyone on this day.
    On(u32),
    /// Spread as evenly as whole groups allow over these days (inclusive).
    Spread {
        /// First day.
        from: u32,
        /// Last day.
        until: u32,
    },
    /// This many people a day from `from` until everyone has left.
    PerDay {
        /// First day.
        from: u32,
        /// People per day.
        per_day: f64,
    },
    /// Each group still at home sets out with this chance a day.
    Share(f64),
}

/// A cohort: one `[[population]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cohort {
    /// Id (the `cohort` column of every table).
    pub id: String,
    /// Where its groups start.
    pub origin: PlaceIx,
    /// Nationality.
    pub nationality: Country,
    /// People in it.
    pub people: u64,
    /// Family sizes and their weights (weights sum to 1).
    pub household_size: Vec<(u8, f64)>,
    /// Share of groups that are families.
    pub family_share: f64,
    /// Share of people alone who are unaccompanied minors.
    pub minor_share: f64,
    /// Preference weight per destination country (0: not a destination).
    pub destinations: [f64; 3],
    /// Claim points known at the start (`None`: all).
    pub knows: Option<Vec<PlaceIx>>,
    /// Share of groups with relatives in each country.
    pub relatives: [f64; 3],
    /// Share of groups holding a visa for each country.
    pub visa: [f64; 3],
    /// Country of residence, if the cohort lives on the route.
    pub resident_of: Option<Country>,
    /// Budget per person.
    pub budget: Option<Budget>,
    /// Share of groups that know the eligibility rules in force when they
    /// set out; the others learn them from an event or a refusal.
    pub informed_share: f64,
    /// Days a group that entered a country lawfully as a visitor (by air)
    /// waits before claiming inland there (airport claims are made on
    /// arrival).
    pub claim_delay_days: u32,
    /// Departure form (`Departure::On(0)` for a stock: its groups have
    /// set out already).
    pub departure: Departure,
    /// The caravan its groups set out in (an index into
    /// [`Scenario::caravans`]), if any: groups of the caravan's cohorts
    /// walk together at the pace of the slowest.
    pub caravan: Option<u16>,
    /// For a `[[stock]]`: where its groups are on the start date (they
    /// start on the road, not at home); `None` for a `[[population]]`.
    pub stock: Option<Stock>,
}

/// Where the groups of a `[[stock]]` are on the scenario's start date.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stock {
    /// The place they wait at, or the start of the leg they travel.
    pub place: PlaceIx,
    /// The leg they travel (`None`: waiting at `place`).
    pub leg: Option<LegIx>,
    /// Days left on the leg (0 while waiting).
    pub days_left: f64,
}

/// Where a checkpoint sends the people it intercepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendTo {
    /// A place.
    Place(PlaceIx),
    /// The cohort's origin.
    Origin,
}

/// Where a removal sends the people it removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendBack {
    /// The crossing's near side.
    NearSide,
    /// A place, or the cohort's origin.
    To(SendTo),
}

/// What a return does to a group's right to claim in the country that
/// returned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    /// Nothing (Title 42; Canada's returns of March 2020).
    None,
    /// Barred for this many days (a removal: INA 212(a)(9)(A), five years).
    Days(u32),
    /// Barred for good (an STCA turnback: IRPA s. 101(1)(c)).
    Forever,
}

impl Bar {
    /// A bar of `days` days (0: none).
    pub fn days(days: u32) -> Bar {
        if days == 0 {
            Bar::None
        } else {
            Bar::Days(days)
        }
    }
}

/// Scope of the Safe Third Country Agreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StcaScope {
    /// Official ports of entry only (2004 – 24 March 2023).
    Ports,
    /// The whole land border (from 25 March 2023).
    WholeBorder,
}

/// A policy kind and its own fields.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyKind {
    /// Safe Third Country Agreement.
    Stca {
        /// The border (US-CA).
        border: Border,
        /// Ports only, or the whole border.
        scope: StcaScope,
        /// Claims within this many days of crossing are returned (whole border).
        claim_within_days: u32,
        /// What a turnback does to later claims in the country (default: barred for good).
        bar: Bar,
    },
    /// A visa requirement on air routes into a country.
    Visa {
        /// The country.
        country: Country,
        /// Visas that exempt.
        exempt_visas: Vec<Country>,
    },
    /// Title 42 expulsions.
    Title42 {
        /// The border (MX-US).
        border: Border,
        /// Chance of expulsion per attempt.
        expulsion_rate: f64,
    },
    /// A checkpoint that intercepts people.
    Checkpoint {
        /// Where.
        place: PlaceIx,
        /// Chance of interception per passage.
        interception_rate: f64,
        /// Where the intercepted are sent.
        send_to: SendTo,
        /// Chance that the checkpoint honours the papers that exempt a
        /// group from it (`exempt = ["papers:…"]`); a holder whose papers
        /// are not honoured is intercepted as if it had none, and loses them.
        honour_rate: f64,
    },
    /// Closed places and routes.
    Closure {
        /// Closed places.
        places: Vec<PlaceIx>,
        /// Closed legs (one or both directions of the named routes).
        legs: Vec<LegIx>,
    },
    /// Detection of people crossing between ports.
    Enforcement {
        /// Where.
        places: Vec<PlaceIx>,
        /// Chance of detection.
        detection_rate: f64,
    },
    /// A lawful pathway with a yearly quota.
    Pathway {
        /// Country of entry.
        country: Country,
        /// Entries per year.
        quota_per_year: f64,
        /// Where people apply.
        apply_at: Vec<PlaceIx>,
    },
    /// Appointments at ports (CBP One).
    Appointments {
        /// Ports.
        ports: Vec<PlaceIx>,
        /// Slots per day over all ports.
        slots_per_day: f64,
        /// Where the request can be made.
        request_from: Vec<PlaceIx>,
        /// Days from the grant of an appointment to its date.
        lead_days: u32,
    },
    /// Papers issued after a wait.
    Documents {
        /// Where.
        place: PlaceIx,
        /// Days of waiting.
        wait_days: u32,
        /// Name of the papers.
        papers: String,
    },
    /// An offer made to groups reaching a place (INM's offers to
    /// caravans): a share takes it, and is given papers (if the offer has
    /// them) and taken elsewhere (or back).
    Offer {
        /// Where it is made.
        place: PlaceIx,
        /// Share of groups offered that take it.
        uptake: f64,
        /// Where those who take it are taken.
        send_to: SendTo,
        /// The papers given (`None`: transport only).
        papers: Option<String>,
    },
    /// Pressure to leave on residents of a country.
    Pressure {
        /// The country of residence.
        country: Country,
        /// Multiplier of `daily_depart_share`.
        factor: f64,
    },
    /// Removal of people met at crossings (Title 8 expedited removal; the
    /// returns of March 2020): sent back, possibly barred from the country.
    Removal {
        /// The crossings where it acts (every crossing of `border`, or the
        /// listed places).
        places: Vec<PlaceIx>,
        /// Chance that a group met by officers is removed.
        removal_rate: f64,
        /// What the removal does to later claims in the crossing's country.
        bar: Bar,
        /// Where the removed are sent.
        send_to: SendBack,
    },
}

impl PolicyKind {
    /// Whether it gives papers that exempt (`papers:<id>`): a `documents`
    /// policy, or an `offer` with papers.
    pub fn issues_papers(&self) -> bool {
        matches!(
            self,
            PolicyKind::Documents { .. } | PolicyKind::Offer { papers: Some(_), .. }
        )
    }

    /// The kind's name in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyKind::Stca { .. } => "stca",
            PolicyKind::Visa { .. } => "visa",
            PolicyKind::Title42 { .. } => "title42",
            PolicyKind::Checkpoint { .. } => "checkpoint",
            PolicyKind::Closure { .. } => "closure",
            PolicyKind::Enforcement { .. } => "enforcement",
            PolicyKind::Pathway { .. } => "pathway",
            PolicyKind::Appointments { .. } => "appointments",
            PolicyKind::Documents { .. } => "documents",
            PolicyKind::Offer { .. } => "offer",
            PolicyKind::Pressure { .. } => "pressure",
            PolicyKind::Removal { .. } => "removal",
        }
    }
}

/// A dated policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Id (stable across variants).
    pub id: String,
    /// First day in force (clipped to the run).
    pub from: u32,
    /// Last day in force (clipped to the run).
    pub until: u32,
    /// Nationalities it applies to (`None`: all).
    pub nationalities: Option<Vec<Country>>,
    /// Traits that exempt.
    pub exempt: Vec<Trait>,
    /// What it does.
    pub kind: PolicyKind,
}

impl Policy {
    /// Whether it is in force on `day`.
    pub fn active(&self, day: u32) -> bool {
        self.from <= day && day <= self.until
    }
}

/// A named set of policy changes to the base scenario.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Id.
    pub id: String,
    /// What it asks.
    pub description: String,
    /// Policies removed.
    pub remove: Vec<String>,
    /// Policies added or replacing one with the same id.
    pub policies: Vec<Policy>,
}

/// What an agent does when no claim point is a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTarget {
    /// Stay where it is without claiming (`settled_irregular`).
    Settle,
    /// Go home (`returned_home`).
    ReturnHome,
}

/// The behaviour model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// The brief's model.
    Default,
}

/// Behaviour parameters (see `docs/scenario-format.md` for the reasons
/// behind each default).
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// Which model.
    pub model: Model,
    /// Weight of ln(perceived openness).
    pub w_open: f64,
    /// Weight per 1,000 km.
    pub w_dist: f64,
    /// Weight per US$1,000.
    pub w_cost: f64,
    /// Weight per unit of harm probability.
    pub w_risk: f64,
    /// Days of waiting before deciding again.
    pub replan_days: u32,
    /// Mean news delay, days.
    pub news_delay_mean: f64,
    /// Longest news delay, days.
    pub news_delay_max: u32,
    /// Daily chance of learning a claim point per recent successful user.
    pub learn_per_user: f64,
    /// Days over which successful users count.
    pub learn_window_days: u32,
    /// Speed per mode, km/day, indexed by [`Mode`].
    pub speed_km_per_day: [f64; 7],
    /// Fare per person and km by mode, USD, indexed by [`Mode`]: the cost
    /// of a route that does not give its own `cost_usd`.
    pub fare_usd_per_km: [f64; 7],
    /// Whether route risk can end in `died_or_missing`.
    pub harm_outcome: bool,
    /// What to do with no candidate.
    pub no_target: NoTarget,
    /// Weight of the cost of failure, `− w_fail · (1 − p) · consequence`
    /// (loss aversion).
    pub w_fail: f64,
    /// Utility lost to a bar of a year or more from claiming in a country
    /// (shorter bars in proportion).
    pub w_bar: f64,
    /// How many attempts the perceived rules count for against a group's
    /// own failures at a door (the strength of the prior).
    pub memory_trials: f64,
    /// Chance that a group that does not know the rules in force learns
    /// them on reaching a border's near side.
    pub learn_at_door: f64,
    /// Daily chance of learning the rules per recent return of a group of
    /// one's own cohort.
    pub learn_per_return: f64,
    /// Elasticity of departures to the perceived value of the best options.
    pub depart_elasticity: f64,
    /// A family's walking speed as a share of a lone walker's
    /// (`speed_km_per_day.walk`): the slowest groups of a caravan.
    pub family_pace: f64,
    /// A caravan on its way reduced below this share of its cohorts' people
    /// breaks up at the next offer it is made: every group still walking in
    /// it takes it (0: never; the offer's `uptake` alone decides).
    pub caravan_breakup: f64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            model: Model::Default,
            w_open: 1.0,
            w_dist: 1.0,
            w_cost: 1.0,
            w_risk: 5.0,
            replan_days: 7,
            news_delay_mean: 3.0,
            news_delay_max: 21,
            learn_per_user: 0.0005,
            learn_window_days: 30,
            // facts.md §8b; see docs/scenario-format.md for the derivations
            speed_km_per_day: [16.0, 1300.0, 1000.0, 150.0, 5000.0, 150.0, 300.0],
            fare_usd_per_km: [0.0; 7],
            harm_outcome: false,
            no_target: NoTarget::Settle,
            // docs/behaviour.md gives the source of each of these
            w_fail: 2.25,
            w_bar: 3.0,
            memory_trials: 3.0,
            learn_at_door: 0.11,
            learn_per_return: 0.000065,
            depart_elasticity: 1.0,
            family_pace: 1.0,
            caravan_breakup: 0.0,
        }
    }
}

/// What a scenario of either model is and where it came from: what its
/// `[scenario]` table names it and the file (or folder) with the SHA-256
/// of its inputs. Outputs record it whatever the model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct About {
    /// Name.
    pub name: String,
    /// Description (empty if none).
    pub description: String,
    /// The file or folder it came from.
    pub file: PathBuf,
    /// SHA-256 of its inputs (a scenario file's bytes; a Flee folder's
    /// files).
    pub sha256: String,
}

/// A loaded, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name, description, file and the file's SHA-256.
    pub about: About,
    /// Day 0 and the number of days.
    pub calendar: Calendar,
    /// Seed.
    pub seed: u64,
    /// Behaviour parameters.
    pub behaviour: Behaviour,
    /// Places, in file order.
    pub places: Vec<Place>,
    /// Routes, in file order.
    pub routes: Vec<Route>,
    /// Directed legs, in route order: each route's from→to leg, then its
    /// to→from leg if it goes both ways (`Leg::route` names the route).
    pub legs: Vec<Leg>,
    /// Cohorts, in file order.
    pub cohorts: Vec<Cohort>,
    /// Policies, in file order.
    pub policies: Vec<Policy>,
    /// Variants.
    pub variants: Vec<Variant>,
    /// Things `check` should tell (windows clipped to the run, …).
    pub notes: Vec<String>,
    /// Place id → index.
    pub place_index: HashMap<String, PlaceIx>,
    /// Caravans, by name: the cohorts naming one set out together (see
    /// [`Cohort::caravan`]).
    pub caravans: Vec<String>,
    /// The figure the scenario's question is about (`sensitivity` reports
    /// how much each uncertain input moves it).
    pub headline: Option<Headline>,
    /// Inputs the file marks as uncertain, in the order read
    /// (`scenario::uncertain`).
    pub uncertain: Vec<Uncertain>,
    /// The file's text, read again to give uncertain inputs other values
    /// (`None` for a scenario not loaded from a file).
    pub source: Option<Arc<Source>>,
    /// Changes made since loading, made again after uncertain inputs are
    /// given other values.
    pub edits: Vec<Edit>,
    /// Where each number of the file says it comes from (the comment
    /// beside it), read at load: words for `summary.md`, never an input.
    pub marks: std::sync::Arc<Vec<super::provenance::Field>>,
}

/// A scenario file's text and where it came from.
#[derive(Debug)]
pub struct Source {
    /// The path named in messages.
    pub path: PathBuf,
    /// The text.
    pub text: String,
}

/// A change made to a loaded scenario: `params::set`, `Scenario::scaled`,
/// a variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// A field set by path.
    Set {
        /// Its path.
        path: String,
        /// Its value.
        value: f64,
    },
    /// The system at another size.
    Scale(f64),
    /// The run ended after this many days.
    Days(u32),
    /// A variant applied.
    Variant(String),
}

/// The figure a scenario's question is about: a places.csv column summed
/// over places and the run (`present`: averaged over the run), or, with no
/// place, people in a state at the end or person-events over the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Headline {
    /// As written: `claims@lacolle,roxham_road`, `claimed_ca`.
    pub text: String,
    /// The column, state or event name.
    pub metric: String,
    /// The places summed (empty: a whole-run figure).
    pub places: Vec<PlaceIx>,
}

impl Scenario {
    /// The scenario under a variant: its removed policies gone, its
    /// policies replacing those with the same id or added. Cohorts are
    /// untouched, so the same agents with the same ids and random streams
    /// run under every variant.
    pub fn under_variant(&self, v: &Variant) -> Scenario {
        let mut s = self.clone();
        s.policies.retain(|p| !v.remove.contains(&p.id));
        for p in &v.policies {
            match s.policies.iter_mut().find(|q| q.id == p.id) {
                Some(q) => *q = p.clone(),
                None => s.policies.push(p.clone()),
            }
        }
        s.about.name = format!("{} [{}]", self.about.name, v.id);
        s.edits.push(Edit::Variant(v.id.clone()));
        s
    }

    /// The same scenario simulated only for its first `days` days (at least
    /// one, at most its own): a calibration on an early window need not run
    /// the years after it. Policy windows are clipped to the shorter run;
    /// policies and departures that would begin after it never act.
    pub fn first_days(&self, days: u32) -> Scenario {
        let mut s = self.clone();
        let days = days.clamp(1, self.calendar.days);
        s.calendar.days = days;
        let clip = |p: &mut Policy| p.until = p.until.min(days - 1).max(p.from.min(days - 1));
        s.policies.iter_mut().for_each(clip);
        for v in &mut s.variants {
            v.policies.iter_mut().for_each(clip);
        }
        s.edits.push(Edit::Days(days));
        s
    }

    /// Total people over all cohorts.
    pub fn people(&self) -> u64 {
        self.cohorts.iter().map(|c| c.people).sum()
    }

    /// Indices of the places that take claims.
    pub fn claim_points(&self) -> Vec<PlaceIx> {
        (0..self.places.len() as PlaceIx)
            .filter(|&p| self.places[p as usize].claims)
            .collect()
    }
}

impl Scenario {
    /// The same system at another size: every cohort's people, `per_day`
    /// departures, capacities, daily claim limits, appointment slots and
    /// pathway quotas multiplied by `factor` (each count kept at least 1), so
    /// that a scaled-down run keeps the proportions of the full one.
    pub fn scaled(&self, factor: f64) -> Scenario {
        let mut s = self.clone();
        s.edits.push(Edit::Scale(factor));
        let count = |x: u64| ((x as f64 * factor).round() as u64).max(1);
        for c in &mut s.cohorts {
            c.people = count(c.people);
            if let Departure::PerDay { per_day, .. } = &mut c.departure {
                *per_day *= factor;
            }
        }
        for p in &mut s.places {
            p.capacity = p.capacity.map(count);
            p.claims_per_day = p.claims_per_day.map(count);
        }
        let scale_kind = |k: &mut PolicyKind| match k {
            PolicyKind::Appointments { slots_per_day, .. } => *slots_per_day *= factor,
            PolicyKind::Pathway { quota_per_year, .. } => *quota_per_year *= factor,
            _ => {}
        };
        for p in &mut s.policies {
            scale_kind(&mut p.kind);
        }
        for v in &mut s.variants {
            for p in &mut v.policies {
                scale_kind(&mut p.kind);
            }
        }
        s
    }
}
