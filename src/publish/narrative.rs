//! `summary.md`: what a run, an ensemble, a comparison or a sweep found, in
//! a few sentences of plain language with the headline numbers, which kind
//! of uncertainty their ranges cover, and where the scenario's numbers come
//! from (its provenance marks).
//!
//! Owns the wording. What the intervals cover is said in one place,
//! `covers`, so that it can say "chance and inputs" once input
//! uncertainty is sampled. Must not compute anything the tables do not
//! hold: every number here can be found again in the files beside it.

use super::tables::{policy_gist, PlaceDiff};
use super::windows::{spans, Period};
use super::words::{self, between, date_long, list, percent, range, runs_phrase, scale_phrase, with_range};
use super::{Comparison, Meta, PlaceMetric};
use crate::agents::{Event, State};
use crate::engine::Col;
use crate::ensemble::{stats, CompareRow, Replicate, Stats, SweepRow};
use crate::scenario::provenance::{self, Group, Mark};
use crate::scenario::{Dest, Scenario};

/// What the intervals cover when no uncertain input was drawn: chance
/// alone (the random draws of each replicate). Replicates that drew inputs
/// say so in [`Meta::uncertainty`] (`ensemble::interval_kind`).
pub(crate) fn covers() -> &'static str {
    "chance only: the random draws that differ from one replicate to the next, not uncertainty in the \
     scenario's inputs or in the model itself"
}

/// The sentence on what a range of replicates means.
fn ranges_sentence(meta: &Meta) -> String {
    let replicates = meta.replicates;
    if replicates <= 1 {
        "These figures are one run: one draw of chance. Run with `--replicates N` for ranges.".into()
    } else {
        format!(
            "Ranges in brackets are the 2.5th–97.5th percentiles over {replicates} replicates (with so few, close \
             to the smallest and largest); they cover {}.",
            meta.uncertainty
        )
    }
}

fn country_name(d: Dest) -> &'static str {
    match d {
        Dest::MX => "Mexico",
        Dest::US => "the United States",
        Dest::CA => "Canada",
    }
}

fn place_name(sc: &Scenario, p: usize) -> String {
    words::place_short(&sc.places[p].name)
}

fn header(meta: &Meta, sc: &Scenario, what: &str) -> String {
    let cal = sc.calendar;
    let desc = if sc.about.description.is_empty() {
        String::new()
    } else {
        format!(": {}", sc.about.description.trim_end_matches('.'))
    };
    format!(
        "**{}**{desc}. {what} {} ({} days), {} people; {}, {}.\n\n",
        sc.about.name,
        between(cal.start, cal.end()),
        cal.days,
        words::thousands(sc.people() as i64),
        runs_phrase(meta.replicates, meta.seed),
        scale_phrase(meta.scale)
    )
}

/// Policies and their windows in one sentence.
fn policies_sentence(sc: &Scenario) -> Option<String> {
    if sc.policies.is_empty() {
        return None;
    }
    let last = sc.calendar.days.saturating_sub(1);
    let parts: Vec<String> = sc
        .policies
        .iter()
        .map(|p| {
            let when = match (p.from == 0, p.until >= last) {
                (true, true) => "throughout".to_string(),
                (true, false) => format!("until {}", date_long(sc.calendar.date_of(p.until))),
                (false, true) => format!("from {}", date_long(sc.calendar.date_of(p.from))),
                (false, false) => between(sc.calendar.date_of(p.from), sc.calendar.date_of(p.until)),
            };
            format!("{} ({}) {when}", p.id, policy_gist(sc, &p.kind))
        })
        .collect();
    Some(format!("Policies: {}.", parts.join("; ")))
}

/// Where the scenario's numbers come from, by the marks read beside them
/// when the file was loaded (`Scenario::marks`); `None` without any.
pub(crate) fn provenance_sentence(sc: &Scenario) -> Option<String> {
    let fields = &sc.marks;
    if fields.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for g in Group::ALL {
        let mine: Vec<&provenance::Field> = fields.iter().filter(|f| Group::of(f) == Some(g)).collect();
        if mine.is_empty() {
            continue;
        }
        let count = |m: Mark| mine.iter().filter(|f| f.mark == m).count();
        let all = |m: Mark| count(m) == mine.len();
        let noun = g.noun();
        let s = if all(Mark::Assumption) {
            format!("the {noun} are assumptions, not fitted")
        } else if all(Mark::Provisional) {
            format!("the {noun} are provisional placeholders, not yet fitted")
        } else if all(Mark::Calibrated) {
            format!("the {noun} were calibrated on counted data")
        } else if all(Mark::Default) {
            format!("the {noun} are northbound's documented defaults, not fitted to this scenario")
        } else if all(Mark::Source) {
            format!("the {noun} come from cited sources")
        } else if all(Mark::Derived) {
            format!("the {noun} are derived from other figures")
        } else {
            let named: Vec<String> = Mark::ALL
                .iter()
                .filter(|m| count(**m) > 0)
                .map(|m| {
                    let n = count(*m);
                    let what = match m {
                        Mark::Provisional => "provisional",
                        Mark::Assumption => {
                            if n == 1 {
                                "an assumption"
                            } else {
                                "assumptions"
                            }
                        }
                        Mark::Calibrated => "calibrated",
                        Mark::Default => "defaults",
                        Mark::Derived => "derived",
                        Mark::Source => "sourced",
                        Mark::Unmarked => "unmarked",
                    };
                    if *m == Mark::Assumption && n == 1 {
                        what.to_string()
                    } else {
                        format!("{n} {what}")
                    }
                    .replace("an assumption", "1 assumption")
                })
                .collect();
            format!("the {noun} mix {}", list(&named))
        };
        parts.push(s);
    }
    let assumptions = fields.iter().filter(|f| f.mark == Mark::Assumption).count();
    let provisional = fields.iter().filter(|f| f.mark == Mark::Provisional).count();
    let calibrated = fields.iter().filter(|f| f.mark == Mark::Calibrated).count();
    let file = sc
        .about
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut s = format!(
        "Where the inputs come from (the marks beside each number in {file}): {}.",
        parts.join("; ")
    );
    let marked = if assumptions == 1 {
        "1 is marked as an assumption".to_string()
    } else {
        format!("{assumptions} are marked as assumptions")
    };
    s += &format!(
        " Of its {} numbers, {marked}, {provisional} as provisional and {calibrated} as calibrated.",
        fields.len()
    );
    let uncertain = fields.iter().filter(|f| f.uncertain).count();
    if uncertain > 0 {
        let inputs = sc.uncertain.len();
        let tied = if inputs < uncertain {
            " (numbers named alike with `input = …` are one)"
        } else {
            ""
        };
        s += &format!(
            " {uncertain} of them {} written with a range (sourced or assumed as marked): {inputs} uncertain \
             input{}{tied}, drawn anew by each replicate unless --fixed-inputs is given.",
            if uncertain == 1 { "is" } else { "are" },
            if inputs == 1 { "" } else { "s" },
        );
    }
    Some(s)
}

/// People per final state over replicates.
fn state_stats(reps: &[Replicate]) -> Vec<(State, Stats)> {
    State::ALL
        .iter()
        .map(|s| {
            let v: Vec<f64> = reps.iter().map(|r| r.result.states[*s as usize] as f64).collect();
            (*s, stats(&v))
        })
        .collect()
}

/// The last calendar period wholly inside the run: a month if there is one,
/// else a week.
fn last_full_period(sc: &Scenario) -> Option<(Period, super::windows::Span)> {
    for p in [Period::Month, Period::Week] {
        if let Some(s) = spans(&sc.calendar, p).into_iter().rev().find(|s| s.complete()) {
            return Some((p, s));
        }
    }
    None
}

/// `summary.md` of a run or of replicates of one scenario.
pub(crate) fn run(meta: &Meta, sc: &Scenario, reps: &[Replicate]) -> String {
    let mut s = header(meta, sc, "Simulated");
    s += &where_people_ended(sc, reps);
    if reps
        .iter()
        .all(|r| (0..sc.places.len()).all(|p| r.total(p, Col::Arrived) == 0))
    {
        s += "Nobody arrived anywhere during the run: no group reached a place.\n\n";
    }
    s += &where_claims_were_taken(sc, reps);
    s += &last_full_period_claims(sc, reps);
    s += &events_over_the_run(reps);
    if let Some(p) = policies_sentence(sc) {
        s += &p;
        s += "\n\n";
    }
    s += &closing(meta, sc);
    s
}

/// The final states that hold at least half a percent of the people, the
/// largest first, and what the others hold together.
fn where_people_ended(sc: &Scenario, reps: &[Replicate]) -> String {
    let total = sc.people() as f64;
    let mut st = state_stats(reps);
    st.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
    let shown: Vec<String> = st
        .iter()
        .filter(|(_, x)| x.mean >= 0.005 * total && x.mean > 0.0)
        .map(|(state, x)| {
            format!(
                "{} {}",
                figure(x, Some(percent(x.mean, total))),
                words::state_phrase(state.name())
            )
        })
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let mut s = format!("By {}, {}.", date_long(sc.calendar.end()), list(&shown));
    let rest: f64 = st
        .iter()
        .filter(|(_, x)| x.mean < 0.005 * total)
        .map(|(_, x)| x.mean)
        .sum();
    if rest > 0.0 {
        s += &format!(" The other states together hold {} people.", words::people(rest));
    }
    s += "\n\n";
    s
}

/// Claims at place `q` over days `from..=until`, over the replicates.
fn claims_at(reps: &[Replicate], q: usize, from: u32, until: u32) -> Stats {
    let v: Vec<f64> = reps
        .iter()
        .map(|r| PlaceMetric::Sum(Col::Claims).value(r, q, from, until))
        .collect();
    stats(&v)
}

/// The three places that took the most claims over the run.
fn where_claims_were_taken(sc: &Scenario, reps: &[Replicate]) -> String {
    let last = sc.calendar.days.saturating_sub(1);
    let mut by_place: Vec<(usize, Stats)> = (0..sc.places.len())
        .map(|p| (p, claims_at(reps, p, 0, last)))
        .filter(|(_, x)| x.mean > 0.0)
        .collect();
    by_place.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean).then(a.0.cmp(&b.0)));
    if by_place.is_empty() {
        return String::new();
    }
    let top: Vec<String> = by_place
        .iter()
        .take(3)
        .map(|(p, x)| format!("{} ({})", place_name(sc, *p), figure_bare(x)))
        .collect();
    format!(
        "Most claims were taken at {}{}.\n\n",
        list(&top),
        if by_place.len() > 3 {
            format!(", of {} places that took claims", by_place.len())
        } else {
            String::new()
        }
    )
}

/// The last full month (or week): claims per destination country and
/// where most were taken; what a planner reads.
fn last_full_period_claims(sc: &Scenario, reps: &[Replicate]) -> String {
    let Some((p, span)) = last_full_period(sc) else {
        return String::new();
    };
    let claims = PlaceMetric::Sum(Col::Claims);
    let mut parts = Vec::new();
    for d in Dest::ALL {
        let places: Vec<usize> = (0..sc.places.len())
            .filter(|&q| sc.places[q].claims && sc.places[q].country == d.country())
            .collect();
        let v: Vec<f64> = reps
            .iter()
            .map(|r| places.iter().map(|&q| claims.value(r, q, span.from, span.until)).sum())
            .collect();
        let x = stats(&v);
        if x.mean <= 0.0 {
            continue;
        }
        let mut best: Vec<(usize, Stats)> = places
            .iter()
            .map(|&q| (q, claims_at(reps, q, span.from, span.until)))
            .collect();
        best.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
        let most = match best.first() {
            Some((q, y)) if places.len() > 1 => format!(", most at {} ({})", place_name(sc, *q), range(y)),
            _ => String::new(),
        };
        parts.push(format!("{} in {}{most}", range(&x), country_name(d)));
    }
    if parts.is_empty() {
        return String::new();
    }
    let what = match p {
        Period::Month => "month",
        Period::Week => "week (Monday to Sunday)",
    };
    let all: Vec<f64> = reps
        .iter()
        .map(|r| {
            (0..sc.places.len())
                .filter(|&q| sc.places[q].claims)
                .map(|q| claims.value(r, q, span.from, span.until))
                .sum()
        })
        .collect();
    let when = capitalise(&between(
        sc.calendar.date_of(span.from),
        sc.calendar.date_of(span.until),
    ));
    let n = reps.len();
    if n > 1 {
        format!(
            "{when}, the last full {what} simulated, the model expects {} people to claim asylum: {} \
             ({n} replicates).\n\n",
            range(&stats(&all)),
            parts.join("; ")
        )
    } else {
        format!(
            "{when}, the last full {what} simulated, {} people claimed asylum in this run: {}.\n\n",
            range(&stats(&all)),
            parts.join("; ")
        )
    }
}

/// Person-events of each kind over the run and the distinct people they
/// happened to.
fn events_over_the_run(reps: &[Replicate]) -> String {
    let ev: Vec<String> = Event::ALL
        .iter()
        .filter_map(|e| {
            let c: Vec<f64> = reps
                .iter()
                .map(|r| r.result.events.iter().map(|x| x[*e as usize][0]).sum::<u64>() as f64)
                .collect();
            let p: Vec<f64> = reps
                .iter()
                .map(|r| r.result.events.iter().map(|x| x[*e as usize][1]).sum::<u64>() as f64)
                .collect();
            let (c, p) = (stats(&c), stats(&p));
            (c.mean > 0.0).then(|| {
                format!(
                    "{} {} of {} distinct people",
                    figure(&c, None),
                    event_noun(e.name()),
                    figure(&p, None)
                )
            })
        })
        .collect();
    if ev.is_empty() {
        return String::new();
    }
    format!("Events over the run: {}.\n\n", list(&ev))
}

/// The end of a run's or a sweep's summary: what the ranges cover, then
/// where the inputs come from.
fn closing(meta: &Meta, sc: &Scenario) -> String {
    format!("{}\n\n{}", ranges_sentence(meta), provenance_line(sc))
}

/// The sentence on where the scenario's inputs come from, as the last line
/// (empty if it has none to say).
fn provenance_line(sc: &Scenario) -> String {
    provenance_sentence(sc).map(|p| p + "\n").unwrap_or_default()
}

/// A figure with its range and an extra note: `30,430 (range 30,320–30,510;
/// 68 %)`, or `30,430 (68 %)` from one run.
fn figure(x: &Stats, extra: Option<String>) -> String {
    let step = words::step_for(x.lo, x.hi);
    let mut inner = Vec::new();
    if x.hi > x.lo {
        inner.push(format!("range {}", range(x)));
    }
    inner.extend(extra);
    if inner.is_empty() {
        words::rounded(x.mean, step)
    } else {
        format!("{} ({})", words::rounded(x.mean, step), inner.join("; "))
    }
}

/// A figure with its range, without the word: `30,430, 30,320–30,510`.
fn figure_bare(x: &Stats) -> String {
    if x.hi > x.lo {
        format!(
            "{}, range {}",
            words::rounded(x.mean, words::step_for(x.lo, x.hi)),
            range(x)
        )
    } else {
        words::people(x.mean)
    }
}

fn event_noun(e: &str) -> &'static str {
    match e {
        "turned_back" => "turnbacks under the STCA",
        "expelled" => "expulsions under Title 42",
        "intercepted" => "interceptions at checkpoints",
        "detected" => "detections between ports",
        "removed" => "removals",
        _ => "events",
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `summary.md` of a comparison.
pub(crate) fn compare(meta: &Meta, sc: &Scenario, c: &Comparison<'_>, diffs: &[PlaceDiff]) -> String {
    let (variants, rows, window) = (c.variants, c.rows, c.window);
    let n = c.base.len();
    let mut s = header(
        meta,
        sc,
        &format!(
            "The base scenario against {} variant{}, run with common random numbers (replicate k of each uses the \
             same seed)",
            variants.len(),
            if variants.len() == 1 { "" } else { "s" }
        ),
    );
    let whole = window == (0, sc.calendar.days.saturating_sub(1));
    let when = if whole {
        "over the run".to_string()
    } else {
        between(sc.calendar.date_of(window.0), sc.calendar.date_of(window.1))
    };
    for v in variants {
        let desc = sc
            .variants
            .iter()
            .find(|x| x.id == v.id)
            .map(|x| x.description.clone())
            .unwrap_or_default();
        let mut states: Vec<&CompareRow> = rows
            .iter()
            .filter(|r| r.variant == v.id && r.place.is_empty() && r.diff != 0.0)
            .collect();
        states.sort_by(|a, b| b.diff.abs().total_cmp(&a.diff.abs()));
        let st: Vec<String> = states
            .iter()
            .take(3)
            .map(|r| {
                let step = words::step_for(r.lo, r.hi).max(words::step_for(0.0, r.diff.abs() / 10.0));
                format!(
                    "{} {} people (95 % CI {} to {}; base {})",
                    state_noun(&r.metric),
                    words::signed(r.diff, step),
                    words::signed(r.lo, step),
                    words::signed(r.hi, step),
                    words::rounded(r.base, step)
                )
            })
            .collect();
        let mut places: Vec<&PlaceDiff> = diffs
            .iter()
            .filter(|d| d.variant == v.id && d.paired.diff != 0.0 && (d.metric == "claims" || d.metric == "arrived"))
            .collect();
        places.sort_by(|a, b| b.paired.diff.abs().total_cmp(&a.paired.diff.abs()));
        let pl: Vec<String> = places
            .iter()
            .take(3)
            .map(|d| {
                let p = &d.paired;
                let step = words::step_for(p.lo, p.hi).max(words::step_for(0.0, p.diff.abs() / 10.0));
                format!(
                    "{} at {} {} (95 % CI {} to {})",
                    words::metric_label(d.metric),
                    place_name(sc, d.place),
                    words::signed(p.diff, step),
                    words::signed(p.lo, step),
                    words::signed(p.hi, step)
                )
            })
            .collect();
        s += &format!("- **{}**", v.id);
        if !desc.is_empty() {
            s += &format!(" ({desc})");
        }
        if st.is_empty() && pl.is_empty() {
            s += ": no difference from the base in any figure.\n";
            continue;
        }
        if !st.is_empty() {
            s += &format!(": by the end of the run, {}.", list(&st));
        } else {
            s += ":";
        }
        if !pl.is_empty() {
            s += &format!(" Largest changes at places {when}: {}.", list(&pl));
        }
        s += "\n";
    }
    s += "\n";
    if let Some(p) = policies_sentence(sc) {
        s += &format!("Base {}", lowercase_first(&p));
        s += "\n\n";
    }
    if n > 1 {
        s += &format!(
            "Differences are means of the paired differences (variant − base) over {n} replicates, with 95 % \
             confidence intervals of that mean (Student's t); they cover {}.",
            meta.uncertainty
        );
    } else {
        s += "With one replicate, no interval of a difference can be estimated: run with `--replicates N`.";
    }
    s += "\n\n";
    s += &provenance_line(sc);
    s
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn state_noun(state: &str) -> String {
    match state {
        "claimed_mx" => "claims in Mexico".into(),
        "claimed_us" => "claims in the United States".into(),
        "claimed_ca" => "claims in Canada".into(),
        s => words::state_label(s).to_string(),
    }
}

/// `summary.md` of a sweep: for each parameter, how the final states that
/// move most change over its range (the other parameters at their first
/// value), with ranges.
pub(crate) fn sweep(meta: &Meta, sc: &Scenario, params: &[String], rows: &[SweepRow]) -> String {
    let points: Vec<&[f64]> = rows.iter().map(|r| r.point.as_slice()).collect();
    let mut s = header(
        meta,
        sc,
        &format!(
            "A sweep of {} over {} point{} with {} replicate{} each,",
            list(&params.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>()),
            points.len(),
            if points.len() == 1 { "" } else { "s" },
            meta.replicates,
            if meta.replicates == 1 { "" } else { "s" }
        ),
    );
    let grid = crate::study::design::is_grid(&points, params.len());
    if grid {
        grid_lines(&mut s, params, &points, rows);
    } else {
        // A Latin hypercube, Saltelli's or Morris's design moves every
        // parameter at once: two of its points that happen to share the
        // others' values would credit one parameter with what chance and
        // the design's pairing did.
        s += &format!(
            "- The {} points are not a grid: no parameter varies alone between them, so what each parameter does is \
             read from sensitivity indices (`northbound analyze` on this folder, for a `sobol:N` or `morris:R` design) \
             or from every run in `runs.csv`, not from pairs of points.\n",
            points.len()
        );
    }
    s += "\n";
    s += &closing(meta, sc);
    s
}

/// The lines of a grid sweep's summary: for each parameter, the slice of
/// the grid along it (the others at their first value), from its lowest
/// value to its highest, and the final states that move most.
fn grid_lines(s: &mut String, params: &[String], points: &[&[f64]], rows: &[SweepRow]) {
    for (a, name) in params.iter().enumerate() {
        // The slice of the grid along this parameter, the others at their first value.
        let slice: Vec<usize> = (0..points.len())
            .filter(|&i| (0..params.len()).all(|b| b == a || points[i][b] == points[0][b]))
            .collect();
        if slice.len() < 2 {
            continue;
        }
        // From its lowest value to its highest, whatever the order written.
        let by_value = |&i: &usize| points[i][a];
        let first = *slice
            .iter()
            .min_by(|x, y| by_value(x).total_cmp(&by_value(y)))
            .unwrap_or(&slice[0]);
        let last = *slice
            .iter()
            .max_by(|x, y| by_value(x).total_cmp(&by_value(y)))
            .unwrap_or(&slice[0]);
        let mut moves: Vec<(String, Stats, Stats)> = State::ALL
            .iter()
            .filter_map(|st| {
                let get = |i: usize| rows[i].outcomes.iter().find(|(m, _)| m == st.name()).map(|(_, x)| *x);
                Some((st.name().to_string(), get(first)?, get(last)?))
            })
            .filter(|(_, a, b)| a.mean != b.mean)
            .collect();
        moves.sort_by(|x, y| (y.2.mean - y.1.mean).abs().total_cmp(&(x.2.mean - x.1.mean).abs()));
        let parts: Vec<String> = moves
            .iter()
            .take(2)
            .map(|(m, a, b)| {
                format!(
                    "people who {} go from {} to {}",
                    words::state_phrase(m),
                    with_range(a),
                    with_range(b)
                )
            })
            .collect();
        let others = if params.len() > 1 {
            " (the other parameters at their first value)"
        } else {
            ""
        };
        if parts.is_empty() {
            *s += &format!(
                "- `{name}` from {} to {}{others}: no final state changes.\n",
                points[first][a], points[last][a]
            );
        } else {
            *s += &format!(
                "- `{name}` from {} to {}{others}: {}.\n",
                points[first][a],
                points[last][a],
                list(&parts)
            );
        }
    }
}

/// One series of a forecast, as the `total` row of `forecast.csv` holds it.
#[derive(Clone, Debug)]
pub(crate) struct ForecastFigures {
    /// The series: place ids joined by `+`.
    pub places: Vec<String>,
    /// The column of `places.csv` counted.
    pub metric: Col,
    /// First and last day of the horizon.
    pub from: chrono::NaiveDate,
    /// Last day.
    pub until: chrono::NaiveDate,
    /// The 5th, 25th, 50th, 75th and 95th percentiles of the count.
    pub q: [f64; 5],
    /// Counts of the series assimilated.
    pub counted: usize,
    /// Those outside the members' 90 % interval of the same period: the
    /// period as written, the count, and the interval.
    pub misses: Vec<(String, f64, f64, f64)>,
}

/// How a forecast was made, for its sentences.
#[derive(Clone, Debug)]
pub(crate) struct ForecastHow {
    /// Members at the end.
    pub members: usize,
    /// Draws of the scenario's uncertain inputs the members were spread
    /// over (1: the inputs at their values).
    pub draws: usize,
    /// Counts assimilated.
    pub counts: usize,
    /// The last day of the last counted period assimilated.
    pub last_count: Option<chrono::NaiveDate>,
    /// The day members branched from the shared past.
    pub branch: chrono::NaiveDate,
    /// The forecast's first day.
    pub origin: chrono::NaiveDate,
    /// Weeks of counts weighed, weeks forecast.
    pub window_weeks: u32,
    /// Weeks forecast.
    pub horizon_weeks: u32,
    /// Size of the negative binomial.
    pub dispersion: f64,
    /// The effective-sample-size share below which members are resampled.
    pub resample_below: f64,
}

/// The sentence a planner can paste: the forecast count of one series over
/// the horizon, with its 90 % and 50 % intervals, rounded as the 90 %
/// interval's width supports.
pub(crate) fn forecast_line(sc: &Scenario, f: &ForecastFigures, how: &ForecastHow) -> String {
    let what = match f.metric {
        Col::Claims => "asylum claims".to_string(),
        Col::Present => "people waiting on an average day".to_string(),
        m => words::metric_label(m.name()),
    };
    let names: Vec<String> = f
        .places
        .iter()
        .map(|id| match sc.places.iter().position(|p| p.id == *id) {
            Some(p) => place_name(sc, p),
            None => id.clone(),
        })
        .collect();
    let at = if names.len() == 1 {
        names[0].clone()
    } else {
        format!("{} together", list(&names))
    };
    let step = words::step_for(f.q[0], f.q[4]);
    let r = |x: f64| words::rounded(x, step);
    let weighed = match how.last_count {
        Some(d) if how.counts > 0 => format!(
            "weighed against {} observed count{} up to {}",
            how.counts,
            if how.counts == 1 { "" } else { "s" },
            date_long(d)
        ),
        _ => "not weighed against any count (none ended in the weeks before)".to_string(),
    };
    format!(
        "{}, northbound expects about {} {what} at {at} (90 % likely between {} and {}; as likely as not between {} \
         and {}), from {} simulated futures of {} {weighed}.",
        capitalised(&between(f.from, f.until)),
        r(f.q[2]),
        r(f.q[0]),
        r(f.q[4]),
        r(f.q[1]),
        r(f.q[3]),
        how.members,
        sc.about.name,
    )
}

/// The warning when every count of a series lies outside what the members
/// simulate: the weights then barely tell members apart, and the forecast
/// is the model's, not the counts'.
pub(crate) fn misfit_sentence(f: &ForecastFigures) -> Option<String> {
    if f.counted == 0 || f.misses.len() < f.counted {
        return None;
    }
    let (period, y, lo, hi) = f.misses.last()?;
    let step = words::step_for(*lo, *hi);
    Some(format!(
        "**Warning:** every count of {} assimilated lies outside the members' 90 % interval (the last, {period}: {} \
         observed against {} to {} simulated). The members miss them alike, so the counts hardly weigh one against \
         another: this forecast is the model's, not the counts', and the model is far from them here.",
        f.places.join(" + "),
        words::people(*y),
        words::rounded(*lo, step),
        words::rounded(*hi, step),
    ))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `summary.md` of a forecast: a line per series, then how it was made and
/// what its intervals cover.
pub(crate) fn forecast(sc: &Scenario, figures: &[ForecastFigures], how: &ForecastHow) -> String {
    let mut s = format!(
        "**{}**: a forecast of {} weeks from {}.\n\n",
        sc.about.name,
        how.horizon_weeks,
        date_long(how.origin)
    );
    for f in figures {
        s += &forecast_line(sc, f, how);
        s += "\n\n";
        if let Some(w) = misfit_sentence(f) {
            s += &w;
            s += "\n\n";
        }
    }
    s += &format!(
        "How: {} members (simulated futures) branched on {} from {}; each was weighed by the negative binomial \
         likelihood (size {}) of the counts of periods lying within the {} weeks before {}, resampled whenever the \
         effective sample size fell below {:.0} % of the members, and run on for {} weeks. The intervals cover \
         chance (the members' draws){}, the weights the counts give them, and a count's own spread around a \
         member's value; not {}the model itself, which the backtest of docs/forecasting.md measures. Tables: \
         forecast.csv, fitted.csv, observed.csv, weights.csv, filter.csv.\n\n",
        how.members,
        date_long(how.branch),
        if how.draws > 1 {
            format!(
                "{} runs of the scenario, one per draw of its uncertain inputs",
                how.draws
            )
        } else {
            "one run of the scenario".to_string()
        },
        how.dispersion,
        how.window_weeks,
        date_long(how.origin),
        100.0 * how.resample_below,
        how.horizon_weeks,
        if how.draws > 1 {
            format!(
                ", the scenario's uncertain inputs ({} Latin hypercube draws)",
                how.draws
            )
        } else {
            String::new()
        },
        if how.draws > 1 {
            ""
        } else {
            "uncertainty in the scenario's inputs (at their values here) or in "
        },
    );
    s += &provenance_line(sc);
    s
}

/// `summary.md` of a backtest: what was forecast, the model's errors beside
/// the baselines' on the same counts, and whether its intervals held what
/// they should. Every number is a row of `scores.csv` (group `all`).
pub(crate) fn backtest(
    sc: &Scenario,
    origins: (chrono::NaiveDate, chrono::NaiveDate, usize),
    every_weeks: u32,
    horizon_weeks: u32,
    members: usize,
    scores: &[crate::forecast::Summary],
) -> String {
    let (first, last, n) = origins;
    let all: Vec<&crate::forecast::Summary> = scores.iter().filter(|s| s.group == "all").collect();
    let mut s = format!(
        "**{}**: {n} forecasts, every {every_weeks} weeks from {} to {}, each {horizon_weeks} weeks ahead with \
         {members} members and only the counts known before it, scored against the counts that followed.\n\n",
        sc.about.name,
        date_long(first),
        date_long(last),
    );
    let Some(model) = all.iter().find(|r| r.method == "model") else {
        s += "No count lay within a forecast's horizon: nothing was scored.\n";
        return s;
    };
    let r = |x: f64| words::rounded(x, 1.0);
    let mut beside = Vec::new();
    for w in all.windows(2) {
        let (base, same) = (w[0], w[1]);
        if base.method == "model" || !same.method.starts_with("model, same") {
            continue;
        }
        beside.push(format!(
            "{} for {} on {} count{} (the model: {})",
            r(base.mae),
            base.method,
            base.n,
            if base.n == 1 { "" } else { "s" },
            r(same.mae)
        ));
    }
    s += &format!(
        "Over the {} counts scored, the model's median missed by {} people on average (mean absolute error; CRPS \
         {}){}.",
        model.n,
        r(model.mae),
        r(model.crps),
        if beside.is_empty() {
            String::new()
        } else {
            format!(", against {}", list(&beside))
        }
    );
    if let (Some(c90), Some(c50)) = (model.cover90, model.cover50) {
        let judged = if c90 > 0.97 {
            "wider than its errors call for"
        } else if c90 < 0.8 {
            "narrower than its errors call for: the forecast is overconfident"
        } else {
            "about as wide as its errors call for"
        };
        s += &format!(
            " Its 90 % interval held {:.0} % of the counts and its 50 % interval {:.0} %: {judged}.",
            100.0 * c90,
            100.0 * c50
        );
    }
    s += "\n\nTables: backtest.csv (every forecast of every count), scores.csv (by method, over all counts and by \
          year). docs/forecasting.md says how to read them.\n";
    s
}
