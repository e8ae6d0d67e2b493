//! The library's results as plain column tables (the columns of each CSV
//! file, in its order, typed), and a scenario as plain JSON.
//!
//! Owns the column types Python sees: counts as integers, dates as days
//! since 1970-01-01, ids as categories (in scenario order, so a place with
//! no rows keeps its category), measures as floats. Must not compute a
//! figure the library does not: every value is read from a kept run, a
//! replicate, a comparison row or a validation row.

use northbound::agents::{Event, State};
use northbound::engine::{Col, N_COLS};
use northbound::ensemble::{self, Axis, CompareRow, Replicate, SweepRow};
use northbound::output;
use northbound::publish::{self, tables::PlaceDiff, Period, PlaceMetric};
use northbound::results::Trace;
use northbound::scenario::{
    Bar, Budget, Departure, Mode, NoTarget, Policy, PolicyKind, Scenario, SendBack, SendTo, StcaScope, Trait, NONE,
};
use northbound::study::design::Design;
use northbound::study::runner::RepResult;
use northbound::validation::{Metric, Target, Validation};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A column's values.
pub enum Data {
    /// Integers (counts, days, ids of agents).
    Int(Vec<i64>),
    /// Measures.
    Float(Vec<f64>),
    /// Categories: codes into the names (-1: missing).
    Cat(Vec<i32>, Vec<String>),
    /// Dates, as days since 1970-01-01.
    Date(Vec<i64>),
    /// Yes or no (`complete` of a calendar period).
    Bool(Vec<bool>),
}

/// A named column.
pub struct Column {
    /// Its name (the CSV header).
    pub name: String,
    /// Its values.
    pub data: Data,
}

/// Columns in table order.
pub struct Table(pub Vec<Column>);

impl Table {
    fn push(&mut self, name: impl Into<String>, data: Data) {
        self.0.push(Column {
            name: name.into(),
            data,
        });
    }
}

/// Categories in first-seen order.
#[derive(Default)]
struct Cats {
    names: Vec<String>,
    index: HashMap<String, i32>,
    codes: Vec<i32>,
}

impl Cats {
    fn code_of(&mut self, name: &str) -> i32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as i32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    /// Adds a row: empty text is missing.
    fn push(&mut self, name: &str) {
        let c = if name.is_empty() { -1 } else { self.code_of(name) };
        self.codes.push(c);
    }

    fn data(self) -> Data {
        Data::Cat(self.codes, self.names)
    }
}

/// Codes into a fixed list of names.
fn fixed(codes: Vec<i32>, names: impl IntoIterator<Item = impl Into<String>>) -> Data {
    Data::Cat(codes, names.into_iter().map(Into::into).collect())
}

fn place_ids(sc: &Scenario) -> Vec<String> {
    sc.places.iter().map(|p| p.id.clone()).collect()
}

fn cohort_ids(sc: &Scenario) -> Vec<String> {
    sc.cohorts.iter().map(|c| c.id.clone()).collect()
}

fn state_names() -> Vec<&'static str> {
    State::ALL.iter().map(|s| s.name()).collect()
}

fn epoch_day(sc: &Scenario) -> i64 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (sc.calendar.start - epoch).num_days()
}

/// The value a CSV file shows for an `f32`: its shortest decimal form.
fn as_written(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(x as f64)
}

/// `places.csv`: day, date, place, then the eight columns.
pub fn places(sc: &Scenario, reps: &[&Replicate], many: bool) -> Table {
    let n = sc.places.len();
    let rows: usize = reps.iter().map(|r| r.daily.len() * n).sum();
    let (mut rep, mut day, mut date, mut place) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    let mut cols: Vec<Vec<i64>> = (0..N_COLS).map(|_| Vec::with_capacity(rows)).collect();
    let e0 = epoch_day(sc);
    for (k, r) in reps.iter().enumerate() {
        for (d, counts) in r.daily.iter().enumerate() {
            for (p, c) in counts.iter().enumerate() {
                rep.push(k as i64);
                day.push(d as i64);
                date.push(e0 + d as i64);
                place.push(p as i32);
                for (col, x) in cols.iter_mut().zip(c) {
                    col.push(*x as i64);
                }
            }
        }
    }
    let mut t = Table(Vec::new());
    if many {
        t.push("replicate", Data::Int(rep));
    }
    t.push("day", Data::Int(day));
    t.push("date", Data::Date(date));
    t.push("place", fixed(place, place_ids(sc)));
    for (c, v) in Col::ALL.iter().zip(cols) {
        t.push(c.name(), Data::Int(v));
    }
    t
}

/// Cohort and nationality columns, one row per (cohort, item) in order.
fn per_cohort(sc: &Scenario, reps: usize, items: usize) -> (Data, Data) {
    let mut cohort = Vec::new();
    let mut nat = Cats::default();
    for _ in 0..reps {
        for (ci, c) in sc.cohorts.iter().enumerate() {
            for _ in 0..items {
                cohort.push(ci as i32);
                nat.push(c.nationality.as_str());
            }
        }
    }
    (fixed(cohort, cohort_ids(sc)), nat.data())
}

fn replicate_column(t: &mut Table, many: bool, reps: usize, per_rep: usize) {
    if many {
        t.push(
            "replicate",
            Data::Int((0..reps).flat_map(|k| std::iter::repeat_n(k as i64, per_rep)).collect()),
        );
    }
}

/// `outcomes.csv`: cohort, nationality, outcome, people.
pub fn outcomes(sc: &Scenario, reps: &[&Replicate], many: bool) -> Table {
    let mut t = Table(Vec::new());
    replicate_column(&mut t, many, reps.len(), sc.cohorts.len() * State::ALL.len());
    let (cohort, nat) = per_cohort(sc, reps.len(), State::ALL.len());
    let (mut outcome, mut people) = (Vec::new(), Vec::new());
    for r in reps {
        for o in &r.result.outcomes {
            for s in State::ALL {
                outcome.push(s as i32);
                people.push(o[s as usize] as i64);
            }
        }
    }
    t.push("cohort", cohort);
    t.push("nationality", nat);
    t.push("outcome", fixed(outcome, state_names()));
    t.push("people", Data::Int(people));
    t
}

/// `events.csv`: cohort, nationality, event, count, people.
pub fn events(sc: &Scenario, reps: &[&Replicate], many: bool) -> Table {
    let mut t = Table(Vec::new());
    replicate_column(&mut t, many, reps.len(), sc.cohorts.len() * Event::ALL.len());
    let (cohort, nat) = per_cohort(sc, reps.len(), Event::ALL.len());
    let (mut event, mut count, mut people) = (Vec::new(), Vec::new(), Vec::new());
    for r in reps {
        for ev in &r.result.events {
            for e in Event::ALL {
                event.push(e as i32);
                count.push(ev[e as usize][0] as i64);
                people.push(ev[e as usize][1] as i64);
            }
        }
    }
    t.push("cohort", cohort);
    t.push("nationality", nat);
    t.push("event", fixed(event, Event::ALL.iter().map(|e| e.name())));
    t.push("count", Data::Int(count));
    t.push("people", Data::Int(people));
    t
}

/// `routes.csv`: route, from, to, mode, km, the ends' coordinates, people.
pub fn routes(sc: &Scenario, reps: &[&Replicate], many: bool) -> Table {
    let mut t = Table(Vec::new());
    replicate_column(&mut t, many, reps.len(), sc.legs.len());
    let (mut route, mut from, mut to, mut mode, mut km) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut coords: [Vec<f64>; 4] = Default::default();
    let mut people = Vec::new();
    for r in reps {
        for (i, l) in sc.legs.iter().enumerate() {
            let (a, b) = (&sc.places[l.from as usize], &sc.places[l.to as usize]);
            route.push(l.route as i32);
            from.push(l.from as i32);
            to.push(l.to as i32);
            mode.push(l.mode as i32);
            km.push(as_written(l.km));
            for (c, v) in coords.iter_mut().zip([a.lat, a.lon, b.lat, b.lon]) {
                c.push(v);
            }
            people.push(r.legs.get(i).copied().unwrap_or(0) as i64);
        }
    }
    let [from_lat, from_lon, to_lat, to_lon] = coords;
    t.push("route", fixed(route, sc.routes.iter().map(|r| r.id.clone())));
    t.push("from", fixed(from, place_ids(sc)));
    t.push("to", fixed(to, place_ids(sc)));
    t.push("mode", fixed(mode, Mode::NAMES.iter().map(|m| m.0)));
    t.push("km", Data::Float(km));
    t.push("from_lat", Data::Float(from_lat));
    t.push("from_lon", Data::Float(from_lon));
    t.push("to_lat", Data::Float(to_lat));
    t.push("to_lon", Data::Float(to_lon));
    t.push("people", Data::Int(people));
    t
}

/// `cohort_places.csv`: day, date, cohort, nationality, place, the eight columns.
pub fn cohort_places(sc: &Scenario, by_cohort: &[Vec<[u64; N_COLS]>]) -> Table {
    let (n, e0) = (sc.places.len(), epoch_day(sc));
    let (mut day, mut date, mut cohort, mut place) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut nat = Cats::default();
    let mut cols: Vec<Vec<i64>> = (0..N_COLS).map(|_| Vec::new()).collect();
    for (d, counts) in by_cohort.iter().enumerate() {
        for (ci, c) in sc.cohorts.iter().enumerate() {
            for p in 0..n {
                let Some(x) = counts.get(ci * n + p) else { continue };
                day.push(d as i64);
                date.push(e0 + d as i64);
                cohort.push(ci as i32);
                nat.push(c.nationality.as_str());
                place.push(p as i32);
                for (col, v) in cols.iter_mut().zip(x) {
                    col.push(*v as i64);
                }
            }
        }
    }
    let mut t = Table(Vec::new());
    t.push("day", Data::Int(day));
    t.push("date", Data::Date(date));
    t.push("cohort", fixed(cohort, cohort_ids(sc)));
    t.push("nationality", nat.data());
    t.push("place", fixed(place, place_ids(sc)));
    for (c, v) in Col::ALL.iter().zip(cols) {
        t.push(c.name(), Data::Int(v));
    }
    t
}

/// `trace.csv`: day, agent, cohort, state, place, route, target,
/// informed, failed, failed_day, barred.
pub fn trace(sc: &Scenario, tr: &Trace) -> Table {
    let n = tr.agents.len();
    let claim_points = sc.claim_points();
    let rows = tr.state.len();
    let (mut day, mut agent, mut cohort, mut state, mut place, mut route) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut target, mut informed, mut failed, mut failed_day, mut barred) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Cats::default(),
    );
    let code = |p: Option<usize>| p.map(|p| p as i32).unwrap_or(-1);
    for row in 0..rows {
        let s = State::from_u8(tr.state[row]);
        let d = (row / n.max(1)) as u32;
        let (p, r) = output::trace_where(sc, s, tr.place[row], tr.leg[row]);
        let m = output::trace_memory(
            sc,
            &claim_points,
            s,
            output::TraceMemory {
                target: tr.target[row],
                flags: tr.flags[row],
                failed: tr.failed[row],
                failed_day: tr.failed_day[row],
                barred: tr.barred[row],
                bar_until: tr.bar_until[row],
            },
            d,
        );
        day.push(d as i64);
        agent.push(tr.agents[row % n.max(1)] as i64);
        cohort.push(tr.cohort[row] as i32);
        state.push(s as i32);
        place.push(code(p));
        route.push(r.map(|r| r as i32).unwrap_or(-1));
        target.push(code(m.target));
        informed.push(m.informed as i64);
        failed.push(code(m.failed));
        // No failure yet: missing, as an empty cell reads in pandas.
        failed_day.push(m.failed_day.map(f64::from).unwrap_or(f64::NAN));
        barred.push(m.barred);
    }
    let mut t = Table(Vec::new());
    t.push("day", Data::Int(day));
    t.push("agent", Data::Int(agent));
    t.push("cohort", fixed(cohort, cohort_ids(sc)));
    t.push("state", fixed(state, state_names()));
    t.push("place", fixed(place, place_ids(sc)));
    t.push("route", fixed(route, sc.routes.iter().map(|r| r.id.clone())));
    t.push("target", fixed(target, place_ids(sc)));
    t.push("informed", Data::Int(informed));
    t.push("failed", fixed(failed, place_ids(sc)));
    t.push("failed_day", Data::Float(failed_day));
    t.push("barred", barred.data());
    t
}

/// Named outputs, one row per replicate: each state at the end, each
/// event's person-events, and `metric@place` flows over the run (the
/// figures `compare` compares).
pub fn outputs(sc: &Scenario, reps: &[&Replicate]) -> Table {
    let names = output_names(sc);
    let mut cols: Vec<Vec<i64>> = vec![Vec::with_capacity(reps.len()); names.len()];
    for r in reps {
        for (c, (_, v)) in cols.iter_mut().zip(output_row(sc, r)) {
            c.push(v);
        }
    }
    let mut t = Table(Vec::new());
    t.push("replicate", Data::Int((0..reps.len() as i64).collect()));
    for (n, c) in names.into_iter().zip(cols) {
        t.push(n, Data::Int(c));
    }
    t
}

/// The names of [`outputs`], known before a run.
pub fn output_names(sc: &Scenario) -> Vec<String> {
    output_row(sc, &Replicate::default()).into_iter().map(|x| x.0).collect()
}

fn output_row(sc: &Scenario, r: &Replicate) -> Vec<(String, i64)> {
    let mut row: Vec<(String, i64)> = Vec::new();
    let figures = ensemble::figures(sc, r);
    let (states, places) = figures.split_at(State::ALL.len());
    for (m, _, v) in states {
        row.push((m.clone(), *v as i64));
    }
    for e in Event::ALL {
        let n: u64 = r.result.events.iter().map(|c| c[e as usize][0]).sum();
        row.push((e.name().to_string(), n as i64));
    }
    for (m, p, v) in places {
        row.push((format!("{m}@{p}"), *v as i64));
    }
    row
}

/// `comparison.csv`, unrounded.
pub fn comparison(rows: &[CompareRow]) -> Table {
    let (mut variant, mut metric, mut place) = (Cats::default(), Cats::default(), Cats::default());
    let mut f: [Vec<f64>; 5] = Default::default();
    for r in rows {
        variant.push(&r.variant);
        metric.push(&r.metric);
        place.push(&r.place);
        for (c, v) in f.iter_mut().zip([r.base, r.mean, r.diff, r.lo, r.hi]) {
            c.push(v);
        }
    }
    let mut t = Table(Vec::new());
    t.push("variant", variant.data());
    t.push("metric", metric.data());
    t.push("place", place.data());
    for (n, c) in ["base", "mean", "diff", "diff_lo95", "diff_hi95"].iter().zip(f) {
        t.push(*n, Data::Float(c));
    }
    t
}

/// `periods.csv`, unrounded: per series (a `variant` column when `names`
/// are given: the base and each variant of a comparison), calendar period,
/// place and figure, the mean, sd and 2.5th–97.5th percentiles over
/// replicates of each replicate's value in the period.
pub fn periods(sc: &Scenario, period: Period, series: &[&[Replicate]], names: Option<&[String]>) -> Table {
    let (spans, figures) = publish::tables::period_figures(sc, period, series);
    let e0 = epoch_day(sc);
    let n = figures.len();
    let (mut variant, mut span, mut from, mut until, mut days, mut complete) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut place, mut metric) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut f: [Vec<f64>; 4] = Default::default();
    for x in &figures {
        let s = &spans[x.span];
        variant.push(x.series as i32);
        span.push(x.span as i32);
        from.push(e0 + s.from as i64);
        until.push(e0 + s.until as i64);
        days.push(s.days() as i64);
        complete.push(s.complete());
        place.push(x.place as i32);
        metric.push(PlaceMetric::ALL.iter().position(|m| *m == x.metric).unwrap_or(0) as i32);
        for (c, v) in f.iter_mut().zip([x.stats.mean, x.stats.sd, x.stats.lo, x.stats.hi]) {
            c.push(v);
        }
    }
    let mut t = Table(Vec::new());
    if let Some(names) = names {
        t.push("variant", fixed(variant, names.iter().cloned()));
    }
    t.push("period", fixed(span, spans.iter().map(|s| s.label.clone())));
    t.push("from", Data::Date(from));
    t.push("until", Data::Date(until));
    t.push("days", Data::Int(days));
    t.push("complete", Data::Bool(complete));
    t.push("place", fixed(place, place_ids(sc)));
    t.push("metric", fixed(metric, PlaceMetric::ALL.iter().map(|m| m.name())));
    for (n, c) in ["mean", "sd", "lo95", "hi95"].iter().zip(f) {
        t.push(*n, Data::Float(c));
    }
    t
}

/// `place_differences.csv`, unrounded: each variant against the base, every
/// place's flows over `window` (inclusive day numbers) with the paired
/// difference and its 95 % interval.
pub fn place_differences(sc: &Scenario, diffs: &[PlaceDiff], variants: &[String], window: (u32, u32)) -> Table {
    let e0 = epoch_day(sc);
    let mut metric = Cats::default();
    let (mut variant, mut place) = (Vec::new(), Vec::new());
    let mut f: [Vec<f64>; 5] = Default::default();
    for d in diffs {
        variant.push(variants.iter().position(|v| *v == d.variant).map_or(-1, |i| i as i32));
        place.push(d.place as i32);
        metric.push(d.metric);
        let p = &d.paired;
        for (c, v) in f.iter_mut().zip([p.base, p.variant, p.diff, p.lo, p.hi]) {
            c.push(v);
        }
    }
    let n = diffs.len();
    let mut t = Table(Vec::new());
    t.push("variant", fixed(variant, variants.iter().cloned()));
    t.push("place", fixed(place, place_ids(sc)));
    t.push("metric", metric.data());
    t.push("from", Data::Date(vec![e0 + window.0 as i64; n]));
    t.push("until", Data::Date(vec![e0 + window.1 as i64; n]));
    for (name, c) in ["base", "mean", "diff", "diff_lo95", "diff_hi95"].iter().zip(f) {
        t.push(*name, Data::Float(c));
    }
    t
}

/// `sweep.csv`, unrounded.
pub fn sweep(axes: &[Axis], rows: &[SweepRow]) -> Table {
    let mut t = Table(Vec::new());
    for (i, a) in axes.iter().enumerate() {
        t.push(a.path.clone(), Data::Float(rows.iter().map(|r| r.point[i]).collect()));
    }
    for (j, (m, _)) in ensemble::headline(&[]).iter().enumerate() {
        let stat = |f: &dyn Fn(&ensemble::Stats) -> f64| rows.iter().map(|r| f(&r.outcomes[j].1)).collect();
        t.push(format!("{m}_mean"), Data::Float(stat(&|s| s.mean)));
        t.push(format!("{m}_lo95"), Data::Float(stat(&|s| s.lo)));
        t.push(format!("{m}_hi95"), Data::Float(stat(&|s| s.hi)));
    }
    t
}

/// `runs.csv`: one row per point and replicate (point, replicate, seed,
/// the parameters, the outputs).
pub fn runs(design: &Design, outputs: &[String], rows: &[Vec<RepResult>]) -> Table {
    let all = || {
        rows.iter()
            .enumerate()
            .flat_map(|(p, reps)| reps.iter().map(move |r| (p, r)))
    };
    let mut t = Table(Vec::new());
    t.push("point", Data::Int(all().map(|(p, _)| p as i64).collect()));
    t.push("replicate", Data::Int(all().map(|(_, r)| r.replicate as i64).collect()));
    // Seeds are unsigned 64-bit (beyond i64): one category per replicate's seed.
    let mut seeds: Vec<String> = Vec::new();
    let codes = all()
        .map(|(_, r)| {
            let s = r.seed.to_string();
            let at = seeds.iter().position(|x| *x == s).unwrap_or_else(|| {
                seeds.push(s);
                seeds.len() - 1
            });
            at as i32
        })
        .collect();
    t.push("seed", Data::Cat(codes, seeds));
    for (j, f) in design.factors.iter().enumerate() {
        t.push(
            f.path.clone(),
            Data::Float(all().map(|(p, _)| design.points[p][j]).collect()),
        );
    }
    for (k, o) in outputs.iter().enumerate() {
        t.push(o.clone(), Data::Float(all().map(|(_, r)| r.outputs[k]).collect()));
    }
    t
}

fn metric_name(m: Metric) -> &'static str {
    match m {
        Metric::Col(c) => c.name(),
        Metric::State(s) => s.name(),
        Metric::Event(e) => e.name(),
    }
}

/// One row per target: what it counts, the observed value, the simulated
/// mean and 95 % range over replicates, the relative error.
pub fn validation(sc: &Scenario, targets: &[Target], v: &Validation) -> Table {
    let (mut id, mut metric, mut places, mut nat, mut source) = (
        Cats::default(),
        Cats::default(),
        Cats::default(),
        Cats::default(),
        Cats::default(),
    );
    let (mut from, mut until) = (Vec::new(), Vec::new());
    let mut f: [Vec<f64>; 6] = Default::default();
    let e0 = epoch_day(sc);
    for (t, r) in targets.iter().zip(&v.rows) {
        id.push(&t.id);
        metric.push(metric_name(t.metric));
        let names: Vec<&str> = t.places.iter().map(|&p| sc.places[p as usize].id.as_str()).collect();
        places.push(&names.join("+"));
        nat.push(t.nationality.as_ref().map(|c| c.as_str()).unwrap_or(""));
        source.push(&t.source);
        from.push(e0 + t.from as i64);
        until.push(e0 + t.until as i64);
        for (c, x) in f.iter_mut().zip([r.observed, r.mean, r.lo, r.hi, r.sd, r.rel_error]) {
            c.push(x);
        }
    }
    let mut t = Table(Vec::new());
    t.push("target", id.data());
    t.push("metric", metric.data());
    t.push("places", places.data());
    t.push("nationality", nat.data());
    t.push("from", Data::Date(from));
    t.push("until", Data::Date(until));
    for (n, c) in ["observed", "mean", "lo95", "hi95", "sd", "rel_error"].iter().zip(f) {
        t.push(*n, Data::Float(c));
    }
    t.push("source", source.data());
    t
}

/// Per destination country (MX, US, CA).
fn per_country(v: &[f64; 3]) -> Value {
    json!({"MX": v[0], "US": v[1], "CA": v[2]})
}

fn trait_name(sc: &Scenario, t: &Trait) -> String {
    match t {
        Trait::Minor => "minor".into(),
        Trait::Family => "family".into(),
        Trait::Relatives(d) => format!("relatives:{}", d.country()),
        Trait::Visa(d) => format!("visa:{}", d.country()),
        // The p-th policy that gives papers (documents, offers with papers).
        Trait::Papers(p) => format!(
            "papers:{}",
            sc.policies
                .iter()
                .filter(|x| x.kind.issues_papers())
                .nth(*p as usize)
                .map(|x| x.id.as_str())
                .unwrap_or("?")
        ),
    }
}

/// A bar in days: 0 for none, `null` (JSON has no infinity) for a bar for good.
fn bar_days(b: &Bar) -> Value {
    match b {
        Bar::None => json!(0),
        Bar::Days(d) => json!(d),
        Bar::Forever => Value::Null,
    }
}

fn policy(sc: &Scenario, p: &Policy) -> Value {
    let ids = |v: &[u32]| -> Vec<String> { v.iter().map(|&i| sc.places[i as usize].id.clone()).collect() };
    let settings = match &p.kind {
        PolicyKind::Stca {
            border,
            scope,
            claim_within_days,
            bar,
        } => json!({
            "border": border.to_string(),
            "scope": match scope { StcaScope::Ports => "ports", StcaScope::WholeBorder => "whole_border" },
            "claim_within_days": claim_within_days,
            "bar_days": bar_days(bar),
        }),
        PolicyKind::Visa { country, exempt_visas } => json!({
            "country": country.as_str(),
            "exempt_visas": exempt_visas.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        }),
        PolicyKind::Title42 { border, expulsion_rate } => {
            json!({"border": border.to_string(), "expulsion_rate": expulsion_rate})
        }
        PolicyKind::Checkpoint {
            place,
            interception_rate,
            send_to,
            honour_rate,
        } => json!({
            "place": sc.places[*place as usize].id,
            "interception_rate": interception_rate,
            "send_to": match send_to { SendTo::Place(x) => sc.places[*x as usize].id.as_str(), SendTo::Origin => "origin" },
            "honour_rate": honour_rate,
        }),
        PolicyKind::Offer {
            place,
            uptake,
            send_to,
            papers,
        } => json!({
            "place": sc.places[*place as usize].id,
            "uptake": uptake,
            "send_to": match send_to { SendTo::Place(x) => sc.places[*x as usize].id.as_str(), SendTo::Origin => "origin" },
            "papers": papers,
        }),
        PolicyKind::Closure { places, legs } => json!({
            "places": ids(places),
            "legs": legs.iter().map(|&l| {
                let leg = &sc.legs[l as usize];
                json!({"route": sc.routes[leg.route as usize].id, "from": sc.places[leg.from as usize].id, "to": sc.places[leg.to as usize].id})
            }).collect::<Vec<_>>(),
        }),
        PolicyKind::Enforcement { places, detection_rate } => {
            json!({"places": ids(places), "detection_rate": detection_rate})
        }
        PolicyKind::Pathway {
            country,
            quota_per_year,
            apply_at,
        } => json!({"country": country.as_str(), "quota_per_year": quota_per_year, "apply_at": ids(apply_at)}),
        PolicyKind::Appointments {
            ports,
            slots_per_day,
            request_from,
            lead_days,
        } => json!({
            "ports": ids(ports),
            "slots_per_day": slots_per_day,
            "request_from": ids(request_from),
            "lead_days": lead_days,
        }),
        PolicyKind::Documents {
            place,
            wait_days,
            papers,
        } => json!({"place": sc.places[*place as usize].id, "wait_days": wait_days, "papers": papers}),
        PolicyKind::Pressure { country, factor } => json!({"country": country.as_str(), "factor": factor}),
        PolicyKind::Removal {
            places,
            removal_rate,
            bar,
            send_to,
        } => json!({
            "places": ids(places),
            "removal_rate": removal_rate,
            "bar_days": bar_days(bar),
            "send_to": match send_to {
                SendBack::NearSide => "near_side",
                SendBack::To(SendTo::Origin) => "origin",
                SendBack::To(SendTo::Place(x)) => sc.places[*x as usize].id.as_str(),
            },
        }),
    };
    json!({
        "id": p.id,
        "kind": p.kind.name(),
        "start": sc.calendar.date_of(p.from).to_string(),
        "end": sc.calendar.date_of(p.until).to_string(),
        "nationalities": p.nationalities.as_ref().map(|n| n.iter().map(|c| c.as_str().to_string()).collect::<Vec<_>>()),
        "exempt": p.exempt.iter().map(|t| trait_name(sc, t)).collect::<Vec<_>>(),
        "settings": settings,
    })
}

/// The whole scenario as plain JSON: what `northbound check` summarises,
/// with ids in place of indices and dates in place of day numbers.
pub fn describe(sc: &Scenario) -> Value {
    let cal = sc.calendar;
    let date = |d: u32| cal.date_of(d).to_string();
    let b = &sc.behaviour;
    let place_id = |i: u32| {
        if i == NONE {
            None
        } else {
            Some(sc.places[i as usize].id.clone())
        }
    };
    json!({
        "name": sc.about.name,
        "description": sc.about.description,
        "file": sc.about.file.display().to_string(),
        "sha256": sc.about.sha256,
        "start": cal.start.to_string(),
        "end": cal.end().to_string(),
        "days": cal.days,
        "seed": sc.seed,
        "behaviour": {
            "model": "default",
            "w_open": b.w_open, "w_dist": b.w_dist, "w_cost": b.w_cost, "w_risk": b.w_risk,
            "replan_days": b.replan_days,
            "news_delay_mean": b.news_delay_mean, "news_delay_max": b.news_delay_max,
            "learn_per_user": b.learn_per_user, "learn_window_days": b.learn_window_days,
            "speed_km_per_day": Mode::NAMES.iter().map(|(n, m)| (n.to_string(), json!(b.speed_km_per_day[*m as usize]))).collect::<serde_json::Map<_, _>>(),
            "harm_outcome": b.harm_outcome,
            "no_target": match b.no_target { NoTarget::Settle => "settle", NoTarget::ReturnHome => "return_home" },
            "w_fail": b.w_fail, "w_bar": b.w_bar, "memory_trials": b.memory_trials,
            "learn_at_door": b.learn_at_door, "learn_per_return": b.learn_per_return,
            "depart_elasticity": b.depart_elasticity,
            "family_pace": b.family_pace,
            "caravan_breakup": b.caravan_breakup,
            "fare_usd_per_km": Mode::NAMES.iter().map(|(n, m)| (n.to_string(), json!(b.fare_usd_per_km[*m as usize]))).collect::<serde_json::Map<_, _>>(),
        },
        "headline": sc.headline.as_ref().map(|h| h.text.clone()),
        "caravans": sc.caravans,
        "uncertain": sc.uncertain.iter().map(|u| json!({
            "path": u.path, "value": u.value, "low": u.low, "high": u.high,
            "dist": u.dist.name(), "whole": u.whole, "line": u.line,
        })).collect::<Vec<_>>(),
        "places": sc.places.iter().map(|p| json!({
            "id": p.id, "name": p.name, "country": p.country.as_str(), "kind": p.kind.name(),
            "lat": p.lat, "lon": p.lon, "capacity": p.capacity, "claims": p.claims,
            "claims_per_day": p.claims_per_day,
            "border": p.border.map(|b| b.to_string()),
            "official": p.official,
            "near_side": p.near_side.and_then(place_id),
        })).collect::<Vec<_>>(),
        "routes": sc.routes.iter().map(|r| json!({
            "id": r.id, "from": sc.places[r.from as usize].id, "to": sc.places[r.to as usize].id,
            "km": r.km, "mode": r.mode.name(), "days": r.days, "cost_usd": r.cost_usd, "risk": r.risk,
            "both_ways": r.both_ways,
        })).collect::<Vec<_>>(),
        "cohorts": sc.cohorts.iter().map(|c| {
            let departure = match c.departure {
                Departure::On(d) => json!({"depart_on": date(d)}),
                Departure::Spread { from, until } => json!({"depart_from": date(from), "depart_until": date(until)}),
                Departure::PerDay { from, per_day } => json!({"depart_from": date(from), "per_day": per_day}),
                Departure::Share(s) => json!({"daily_depart_share": s}),
            };
            json!({
                "id": c.id, "origin": sc.places[c.origin as usize].id, "nationality": c.nationality.as_str(),
                "people": c.people,
                "household_size": c.household_size.iter().map(|(s, w)| (s.to_string(), json!(w))).collect::<serde_json::Map<_, _>>(),
                "family_share": c.family_share, "minor_share": c.minor_share,
                "destinations": per_country(&c.destinations),
                "knows": c.knows.as_ref().map(|k| k.iter().map(|&p| sc.places[p as usize].id.clone()).collect::<Vec<_>>()),
                "relatives": per_country(&c.relatives),
                "visa": per_country(&c.visa),
                "resident_of": c.resident_of.map(|r| r.as_str().to_string()),
                "budget_usd": match c.budget {
                    None => Value::Null,
                    Some(Budget::Fixed(x)) => json!(x),
                    Some(Budget::LogNormal { median, p90 }) => json!({"median": median, "p90": p90}),
                },
                "informed_share": c.informed_share,
                "claim_delay_days": c.claim_delay_days,
                "departure": departure,
                "caravan": c.caravan.map(|k| sc.caravans[k as usize].clone()),
            })
        }).collect::<Vec<_>>(),
        "policies": sc.policies.iter().map(|p| policy(sc, p)).collect::<Vec<_>>(),
        "variants": sc.variants.iter().map(|v| json!({
            "id": v.id, "description": v.description, "remove": v.remove,
            "policies": v.policies.iter().map(|p| policy(sc, p)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "notes": sc.notes,
    })
}
