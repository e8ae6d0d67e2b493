//! `datapackage.json`: the folder described for pandas, R and frictionless
//! tooling (Frictionless Data Package with Table Schema): every table with
//! every column's name, type, unit and meaning, and the other files.
//!
//! Owns the dictionary of columns. Lists the files actually in the folder
//! (read from disk, headers included), so the description cannot drift from
//! the tables; a column it does not know is described as such, which the
//! tests refuse. `unit` is a field property of northbound's own (Table
//! Schema allows extra properties).

use super::Meta;
use crate::output::{OutDir, OutputError};
use serde_json::{json, Value};
use std::path::Path;

/// Type, unit and meaning of a column.
struct Col {
    ty: &'static str,
    unit: &'static str,
    text: String,
}

fn c(ty: &'static str, unit: &'static str, text: impl Into<String>) -> Option<Col> {
    Some(Col {
        ty,
        unit,
        text: text.into(),
    })
}

const PLACE_COLS: &str = "present arrived departed claims turned_back expelled intercepted detected removed";

/// What a place column counts (places.csv, cohort_places.csv, and the
/// `metric` values of the summaries).
pub(crate) fn place_col_meaning(col: &str) -> &'static str {
    match col {
        "present" => {
            "people waiting at the place at the end of the day (people at home who have not set out are not counted)"
        }
        "arrived" => "people who reached the place that day, passing or stopping (forced moves not counted)",
        "departed" => "people who set out from the place that day",
        "claims" => "people whose asylum claim was taken at the place that day",
        "turned_back" => "people turned back at the place under the Safe Third Country Agreement",
        "expelled" => "people expelled at the place under Title 42",
        "intercepted" => "people intercepted at the place by a checkpoint",
        "detected" => "people detected crossing between ports at the place",
        "removed" => {
            "people removed at the place (a removal policy: Title 8 expedited removal, the returns of March 2020)"
        }
        "present_peak" => "the most people present at the place at the end of any day of the period",
        _ => "",
    }
}

fn state_list() -> &'static str {
    "not_departed, travelling, waiting, claimed_mx, claimed_us, claimed_ca, entered_lawfully, settled_irregular, \
     returned_home, died_or_missing"
}

/// Type, unit and meaning of the columns every table can hold: (table —
/// its file name, `*_summary.csv` for every summary, empty for any table —,
/// column, Table Schema type, unit, meaning). A column of a table is looked
/// up by its table first, then by the pattern, then in any table; the few
/// whose meaning depends on more than their name are in `patterned`.
#[rustfmt::skip]
const COLUMNS: &[(&str, &str, &str, &str, &str)] = &[
    ("", "day", "integer", "days", "day of the run (0 is the scenario's start date)"),
    ("", "date", "date", "", "calendar date of the day"),
    ("trace.csv", "place", "string", "", "place where the group is (empty while travelling or once absorbed)"),
    ("trace.csv", "agent", "integer", "", "agent (group) id, stable for a scenario and seed"),
    ("trace.csv", "target", "string", "", "claim point the group is making for (empty once its journey has ended)"),
    ("trace.csv", "informed", "integer", "", "whether the group knows the eligibility rules in force: 1 or 0"),
    ("trace.csv", "failed", "string", "", "claim point the group was making for when it was last sent back (empty: never)"),
    ("trace.csv", "failed_day", "integer", "days", "day of the run of that failure (empty: never)"),
    ("trace.csv", "barred", "string", "", "countries that bar the group from claiming that day, joined by + (e.g. US+CA; empty: none)"),
    ("trace.csv", "route", "string", "", "route id (as declared in the scenario)"),
    ("routes.csv", "route", "string", "", "route id (as declared in the scenario)"),
    ("", "cohort", "string", "", "cohort id (a [[population]] of the scenario)"),
    ("", "nationality", "string", "", "ISO 3166-1 alpha-2 nationality of the cohort"),
    ("", "event", "string", "", "event: turned_back (STCA), expelled (Title 42), intercepted (checkpoint), detected (between ports), removed (removal)"),
    ("outcomes.csv", "people", "integer", "people", "people of the cohort in that final state at the end of the run"),
    ("events.csv", "count", "integer", "person-events", "person-events: a family of 4 intercepted twice is 8"),
    ("events.csv", "people", "integer", "people", "distinct people the event happened to"),
    ("routes.csv", "from", "string", "", "place id where the leg starts"),
    ("routes.csv", "to", "string", "", "place id where the leg ends"),
    ("routes.csv", "mode", "string", "", "mode of travel: walk, bus, car, train, air, boat or smuggled"),
    ("routes.csv", "km", "number", "km", "length of the route"),
    ("routes.csv", "from_lat", "number", "degrees", "latitude (WGS 84) of the leg's start or end"),
    ("routes.csv", "to_lat", "number", "degrees", "latitude (WGS 84) of the leg's start or end"),
    ("routes.csv", "from_lon", "number", "degrees", "longitude (WGS 84) of the leg's start or end"),
    ("routes.csv", "to_lon", "number", "degrees", "longitude (WGS 84) of the leg's start or end"),
    ("routes.csv", "people", "integer", "people", "people who set out on this leg (one direction of the route) over the run"),
    ("periods.csv", "period", "string", "", "calendar period: ISO week of its Monday (2023-W13) or month (2023-03)"),
    ("periods.csv", "from", "date", "", "first day of the period inside the run"),
    ("periods.csv", "until", "date", "", "last day of the period inside the run"),
    ("periods.csv", "days", "integer", "days", "days of the period inside the run (fewer than its length at the run's ends)"),
    ("periods.csv", "complete", "boolean", "", "whether the whole period is inside the run (false for a partial first or last period)"),
    ("periods.csv", "metric", "string", "", "figure of the place over the period: arrived, departed, claims, turned_back, expelled, intercepted, detected, removed (people, summed over its days) or present_peak (the most present at once)"),
    ("periods.csv", "mean", "number", "people", "mean over replicates of the figure's value in the period"),
    ("periods.csv", "sd", "number", "people", "sample standard deviation over replicates (0 with one)"),
    ("periods.csv", "lo95", "number", "people", "2.5th percentile over replicates of the figure's value in the period (chance only)"),
    ("periods.csv", "hi95", "number", "people", "97.5th percentile over replicates of the figure's value in the period (chance only)"),
    ("", "variant", "string", "", "variant id (`base` for the scenario as written)"),
    ("policies.csv", "policy", "string", "", "policy id, as declared in the scenario"),
    ("policies.csv", "kind", "string", "", "policy kind (stca, visa, title42, checkpoint, closure, enforcement, pathway, appointments, documents, pressure, removal)"),
    ("policies.csv", "from", "date", "", "first day in force (clipped to the run)"),
    ("policies.csv", "until", "date", "", "last day in force (clipped to the run)"),
    ("policies.csv", "nationalities", "string", "", "nationalities it applies to, space-separated (empty: everyone)"),
    ("policies.csv", "what", "string", "", "what it does, in words"),
    ("place_differences.csv", "metric", "string", "", "a final state (with an empty place) or a place's flow summed over the window: arrived, claims, turned_back, expelled, intercepted, detected, removed"),
    ("comparison.csv", "metric", "string", "", "a final state (with an empty place) or a place's flow summed over the window: arrived, claims, turned_back, expelled, intercepted, detected, removed"),
    ("place_differences.csv", "from", "date", "", "first day of the window the flows are summed over"),
    ("place_differences.csv", "until", "date", "", "last day of the window"),
    ("", "base", "number", "people", "mean over replicates of the base"),
    ("place_differences.csv", "mean", "number", "people", "mean over replicates of the variant"),
    ("comparison.csv", "mean", "number", "people", "mean over replicates of the variant"),
    ("", "diff", "number", "people", "mean paired difference, variant − base (replicate k of each with the same seed)"),
    ("", "diff_lo95", "number", "people", "lower end of the 95 % confidence interval of the mean paired difference (Student's t; chance only)"),
    ("", "diff_hi95", "number", "people", "upper end of that interval"),
    ("sweep_long.csv", "point", "integer", "", "grid point (row of the design), from 0"),
    ("sweep_long.csv", "metric", "string", "", "a final state or an event (person-events) with an empty place, or a place's flow over the run: arrived, claims, turned_back, expelled, intercepted, detected, removed"),
    ("sweep_long.csv", "replicates", "integer", "", "replicates run at the point"),
    ("sweep_long.csv", "mean", "number", "people", "mean over the point's replicates"),
    ("sweep_long.csv", "sd", "number", "people", "sample standard deviation over the point's replicates"),
    ("sweep_long.csv", "lo95", "number", "people", "2.5th percentile over the point's replicates (chance only)"),
    ("sweep_long.csv", "hi95", "number", "people", "97.5th percentile over the point's replicates (chance only)"),
    ("inputs.csv", "replicate", "integer", "", "replicate number (its folder is replicate-K/)"),
    ("inputs.csv", "path", "string", "", "the uncertain input: the dotted path of the scenario field, or input.<name> for one input written in several places"),
    ("inputs.csv", "value", "number", "", "the value this replicate drew (Latin hypercube over the replicates)"),
    ("inputs.csv", "low", "number", "", "low end of the input's range in the scenario file"),
    ("sensitivity.csv", "low", "number", "", "low end of the input's range in the scenario file"),
    ("inputs.csv", "high", "number", "", "high end of the input's range in the scenario file"),
    ("sensitivity.csv", "high", "number", "", "high end of the input's range in the scenario file"),
    ("inputs.csv", "dist", "string", "", "how the input is drawn over its range: uniform, triangular (mode at its value) or loguniform"),
    ("sensitivity.csv", "dist", "string", "", "how the input is drawn over its range: uniform, triangular (mode at its value) or loguniform"),
    ("caravan.csv", "caravan", "string", "", "the caravan's name (cohorts naming it set out together)"),
    ("caravan.csv", "groups", "integer", "groups", "travelling groups still walking in the caravan at the end of the day"),
    ("caravan.csv", "people", "integer", "people", "people still walking in the caravan"),
    ("caravan.csv", "families", "integer", "groups", "groups with children still in the caravan"),
    ("caravan.csv", "place", "string", "", "the place the caravan is at or last left (empty once nobody walks in it)"),
    ("caravan.csv", "pace_km_per_day", "number", "km/day", "the caravan's pace: that of its slowest group"),
    ("offers.csv", "offer", "string", "", "the offer policy's id"),
    ("offers.csv", "offered", "integer", "people", "people in the caravan groups at the place to whom the offer was made that day"),
    ("offers.csv", "accepted", "integer", "people", "people whose groups took the offer (and its papers and transport)"),
    ("papers.csv", "checkpoint", "string", "", "the checkpoint policy's id"),
    ("papers.csv", "holders", "integer", "people", "passes that day by people holding papers that exempt them (a holder sent back and passing again counts again)"),
    ("papers.csv", "not_honoured", "integer", "people", "holders whose papers the checkpoint did not honour: intercepted as if they had none, and their papers lost"),
    ("sensitivity.csv", "input", "string", "", "the uncertain input (dotted path, or input.<name>)"),
    ("sensitivity.csv", "line", "integer", "", "line of the scenario file where it is written"),
    ("sensitivity.csv", "value", "number", "", "the input's value in the scenario file"),
    ("sensitivity.csv", "headline", "string", "", "the headline figure (METRIC@PLACE,… or a state or event)"),
    ("sensitivity.csv", "swing", "number", "people", "mean paired difference of the headline, high end − low end"),
    ("sensitivity.csv", "swing_lo95", "number", "people", "95 % confidence interval of the swing over the replicate pairs (Student's t)"),
    ("sensitivity.csv", "swing_hi95", "number", "people", "95 % confidence interval of the swing over the replicate pairs (Student's t)"),
    ("*_summary.csv", "mean", "number", "people", "mean over replicates"),
    ("*_summary.csv", "sd", "number", "people", "sample standard deviation over replicates (0 with one)"),
    ("*_summary.csv", "lo95", "number", "people", "2.5th percentile over replicates (chance only)"),
    ("*_summary.csv", "hi95", "number", "people", "97.5th percentile over replicates (chance only)"),
];

/// The description of column `col` of table `file` (a path relative to the
/// folder, e.g. `replicate-0/places.csv`).
fn column(file: &str, col: &str) -> Option<Col> {
    let base = Path::new(file).file_name().and_then(|f| f.to_str()).unwrap_or(file);
    if let Some(d) = forecast_column(base, col) {
        return d;
    }
    if let Some((ty, unit, text)) = crate::study::runs::describe(base, col) {
        return c(ty, unit, text);
    }
    let of = |table: &dyn Fn(&str) -> bool| COLUMNS.iter().find(|e| table(e.0) && e.1 == col);
    let listed = of(&|t| t == base)
        .or_else(|| of(&|t| t.strip_prefix('*').is_some_and(|end| base.ends_with(end))))
        .or_else(|| of(&|t| t.is_empty()));
    match listed {
        Some(&(_, _, ty, unit, text)) => c(ty, unit, text),
        None => patterned(base, col),
    }
}

/// The columns whose meaning depends on their table or on a pattern of
/// their name.
fn patterned(base: &str, col: &str) -> Option<Col> {
    let summary = base.ends_with("_summary.csv");
    let counts_of_one_run = matches!(base, "places.csv" | "cohort_places.csv");
    match (base, col) {
        (_, "place") if base != "trace.csv" && base != "caravan.csv" => c(
            "string",
            "",
            if base == "comparison.csv" {
                "place id (empty for a final state, which belongs to no place)"
            } else if base == "sweep_long.csv" {
                "place id (empty for final states and events)"
            } else {
                "place id (see places.geojson for its name, kind and coordinates)"
            },
        ),
        ("trace.csv", "state") => c("string", "", format!("state of the group: one of {}", state_list())),
        (_, "outcome") => c("string", "", format!("final state: one of {}", state_list())),
        (_, col) if counts_of_one_run && PLACE_COLS.split(' ').any(|x| x == col) => {
            c("integer", "people", place_col_meaning(col))
        }
        (_, "metric") if summary => c("string", "", format!("place column: {}", PLACE_COLS.replace(' ', ", "))),
        ("events_summary.csv", col) if col.starts_with("count_") || col.starts_with("people_") => {
            let (what, unit) = if col.starts_with("count_") {
                ("person-events", "person-events")
            } else {
                ("distinct people", "people")
            };
            let stat = match col.rsplit('_').next().unwrap_or("") {
                "mean" => "mean over replicates",
                "sd" => "standard deviation over replicates",
                "lo95" => "2.5th percentile over replicates",
                _ => "97.5th percentile over replicates",
            };
            c("number", unit, format!("{what}: {stat}"))
        }
        ("sensitivity.csv", col) if col.starts_with("headline_at_") => c(
            "number",
            "people",
            "mean over replicates of the headline with this input at the low end, its value or the high end (every other input at its value)",
        ),
        ("sweep.csv", col) | ("sweep_long.csv", col) if col.contains('.') => {
            c("number", "", format!("value of the scenario field `{col}` at this point"))
        }
        ("sweep.csv", col) => sweep_column(col),
        _ => None,
    }
}

/// A column of `sweep.csv` named `<state or event>_<statistic>`.
fn sweep_column(col: &str) -> Option<Col> {
    let (m, stat) = col.rsplit_once('_')?;
    let stat = match stat {
        "mean" => "mean over the point's replicates",
        "lo95" => "2.5th percentile over the point's replicates",
        "hi95" => "97.5th percentile over the point's replicates",
        _ => return None,
    };
    let (what, unit) = if crate::agents::Event::ALL.iter().any(|e| e.name() == m) {
        (format!("person-events {m}"), "person-events")
    } else {
        (format!("people in final state {m}"), "people")
    };
    c("number", unit, format!("{what}: {stat}"))
}

/// The columns of a forecast's and a backtest's tables (`forecast::output`):
/// `Some(description)` for those tables, `None` for the others.
fn forecast_column(base: &str, col: &str) -> Option<Option<Col>> {
    const TABLES: [&str; 7] = [
        "forecast.csv",
        "fitted.csv",
        "observed.csv",
        "weights.csv",
        "filter.csv",
        "backtest.csv",
        "scores.csv",
    ];
    if !TABLES.contains(&base) {
        return None;
    }
    let count = "the count of the series over the period (people; `present`: people on an average day)";
    Some(match (base, col) {
        (_, "place") => c("string", "", "the series: a place id, or place ids joined by + and summed"),
        (_, "name") => c("string", "", "the series' place names, joined by \" + \""),
        (_, "metric") => c("string", "", format!("the column of places.csv counted: {}", PLACE_COLS.replace(' ', ", "))),
        ("forecast.csv", "period") => c("string", "", "week k of the horizon (week 1 starts on the forecast's first day), a calendar month (2025-09), or total"),
        ("observed.csv" | "fitted.csv" | "backtest.csv", "date") => c("string", "", "the counted period as written in the counts file: a day, an ISO week (2025-W31), a month (2025-08) or an interval of days"),
        (_, "from") => c("date", "", "first day of the period"),
        (_, "until") => c("date", "", "last day of the period"),
        ("fitted.csv", "observed") => c(
            "number",
            "people",
            format!("observed: {count}; empty for the weeks of the window, which show the members' fit between the counts"),
        ),
        ("observed.csv", "value") | ("backtest.csv", "observed") => c("number", "people", format!("observed: {count}")),
        ("observed.csv", "assimilated") => c("boolean", "", "whether the forecast weighed its members on this count"),
        (_, "mean") => c("number", "people", format!("predictive mean of {count}")),
        (_, "median") => c("number", "people", "predictive median (50th percentile)"),
        (_, "p05") => c("number", "people", "5th percentile: the 90 % interval runs from p05 to p95"),
        (_, "p25") => c("number", "people", "25th percentile: the 50 % interval runs from p25 to p75"),
        (_, "p75") => c("number", "people", "75th percentile"),
        (_, "p95") => c("number", "people", "95th percentile"),
        ("weights.csv", "member") => c("integer", "", "member of the ensemble at the end, from 0"),
        ("weights.csv", "draw") => c("integer", "", "input draw the member runs (0: the scenario as written)"),
        ("weights.csv", "seed") => c("integer", "", "seed of the member's days since it last branched"),
        ("weights.csv", "ancestor") => c("integer", "", "member of the starting ensemble it descends from"),
        ("weights.csv", "weight") => c("number", "", "normalised weight (the weights sum to 1)"),
        ("weights.csv", "log_likelihood") => c("number", "", "natural log of the likelihood of every count assimilated, along the member's lineage"),
        ("filter.csv", "date") => c("date", "", "a day on which counted periods ended and were assimilated"),
        ("filter.csv", "counts") => c("integer", "", "counts assimilated that day"),
        ("filter.csv", "ess") => c("number", "members", "effective sample size after weighing, 1/Σw²"),
        ("filter.csv", "resampled") => c("boolean", "", "whether the members were resampled (effective sample size below the threshold)"),
        ("backtest.csv", "origin") => c("date", "", "the forecast's first day: only counts of periods ending before it were used"),
        ("backtest.csv", "lead_days") => c("integer", "days", "days from the origin to the end of the counted period"),
        ("backtest.csv", "crps") => c("number", "people", "continuous ranked probability score of the forecast against the count (lower is better)"),
        ("backtest.csv", "persistence") => c("number", "people", "persistence baseline: the last count of the series before the origin, scaled to the period's days (empty: none)"),
        ("backtest.csv", "seasonal_naive") => c("number", "people", "seasonal naive baseline: the count of the same period a year before, if known before the origin (empty: none)"),
        ("scores.csv", "group") => c("string", "", "targets scored: all, or those whose period ends in a year"),
        ("scores.csv", "method") => c("string", "", "model, a baseline, or the model on the same targets as the baseline before it"),
        ("scores.csv", "targets") => c("integer", "", "counts scored"),
        ("scores.csv", "mae") => c("number", "people", "mean absolute error (of the median for the model)"),
        ("scores.csv", "crps") => c("number", "people", "mean continuous ranked probability score (a point forecast's is its absolute error)"),
        ("scores.csv", "coverage_50") => c("number", "", "share of counts inside the model's 50 % interval (empty for baselines)"),
        ("scores.csv", "coverage_90") => c("number", "", "share of counts inside the model's 90 % interval (empty for baselines)"),
        _ => None,
    })
}

fn describe_table(file: &str) -> String {
    let base = Path::new(file).file_name().and_then(|f| f.to_str()).unwrap_or(file);
    let rep = file.starts_with("replicate-");
    let d = match base {
        "places.csv" => "people per place and day",
        "cohort_places.csv" => "people per cohort, place and day",
        "outcomes.csv" => "people per cohort by final state",
        "events.csv" => "person-events and distinct people per cohort and event",
        "routes.csv" => "people per leg over the run, with the ends' coordinates",
        "trace.csv" => "the day-by-day state and place of sampled groups",
        "places_summary.csv" => "people per place, day and column over replicates: mean, sd and 2.5th–97.5th percentiles",
        "outcomes_summary.csv" => "final states per cohort over replicates",
        "events_summary.csv" => "events per cohort over replicates",
        "comparison.csv" => "each variant against the base over the run: final states and place flows, paired differences with 95 % intervals",
        "place_differences.csv" => "each variant against the base: every place's flows over the window, paired differences with 95 % intervals",
        "periods.csv" => "per calendar period and place: arrivals, departures, claims, events (turned back, expelled, intercepted, detected, removed) and the most present at once, with the mean and 2.5th–97.5th percentiles over replicates of each period's value",
        "policies.csv" => "the policies and their windows",
        "sweep.csv" => "one row per sweep point: final states and events, mean and 2.5th–97.5th percentiles",
        "sweep_long.csv" => "one row per sweep point, place and figure (long format)",
        "forecast.csv" => "the forecast: per series and period of the horizon, the predictive mean, median, 50 % and 90 % intervals of the count",
        "fitted.csv" => "the counts the members were weighed on, beside the weighted members' predictive distribution over the same periods; then each week of the window before the forecast",
        "observed.csv" => "every count of the counts file, and whether the forecast assimilated it",
        "weights.csv" => "the members of the ensemble at the end: input draw, seed, ancestor, weight and log-likelihood",
        "filter.csv" => "the days counts were assimilated: counts, effective sample size, resampling",
        "backtest.csv" => "every count scored: the forecast made at an origin before it, its score, and the baselines",
        "scores.csv" => "mean absolute error, CRPS and interval coverage of the model and the baselines, over all targets and by year",
        "inputs.csv" => "the values each replicate drew for the scenario's uncertain inputs",
        "caravan.csv" => "each caravan per day: groups and people still walking together, where, at what pace",
        "offers.csv" => "each offer (papers and transport) per day: people offered it and people who took it",
        "papers.csv" => "each checkpoint that does not always honour papers, per day: holders met and papers not honoured",
        "sensitivity.csv" => "one-at-a-time sensitivity: the headline with each uncertain input at the ends of its range",
        "runs.csv" => "one row per design point and replicate: its seed, the inputs and every output (long format)",
        "design.csv" => "the design's points, one row per point, in SALib's layout (see problem.json)",
        _ => "",
    };
    if rep {
        format!("{d} (this replicate)")
    } else {
        d.to_string()
    }
}

fn other_file(file: &str) -> Option<Value> {
    let base = Path::new(file).file_name().and_then(|f| f.to_str()).unwrap_or(file);
    let (format, mediatype, description) = match base {
        "summary.json" => (
            "json",
            "application/json",
            "the run: scenario file and SHA-256, seed, version, days, groups, people, threads, people per final state, events, wall time and the SHA-256 of each table",
        ),
        "places.geojson" => (
            "geojson",
            "application/geo+json",
            "RFC 7946 Points, one per place: id, name, country, kind, claim_point, capacity; arrived, claims, turned_back, expelled, intercepted, detected, removed and present_peak in people (with _lo95/_hi95 percentiles over replicates), capacity_use (present_peak / capacity); for a comparison, <variant>_<figure> with _diff, _diff_lo95, _diff_hi95",
        ),
        "flows.geojson" => (
            "geojson",
            "application/geo+json",
            "RFC 7946 LineStrings, one per route: route, from, to, mode, km; people, people_fwd (from → to), people_back, in people over the run (with _lo95/_hi95 over replicates); w<k>_people… per policy window (see the collection's `windows`); for a comparison, <variant>_people and <variant>_diff with its 95 % interval",
        ),
        "summary.md" => ("md", "text/markdown", "what the folder shows, in plain language"),
        _ => return None,
    };
    Some(json!({
        "name": resource_name(file),
        "path": file,
        "profile": "data-resource",
        "format": format,
        "mediatype": mediatype,
        "encoding": "utf-8",
        "description": description,
    }))
}

fn resource_name(file: &str) -> String {
    file.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .replace('/', "-")
}

/// The schema of one CSV table read from disk.
fn table_resource(dir: &Path, file: &str, covers: &str) -> Result<Value, OutputError> {
    let path = dir.join(file);
    let err = |e: csv::Error| OutputError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    };
    let mut r = csv::Reader::from_path(&path).map_err(err)?;
    let header = r.headers().map_err(err)?.clone();
    let fields: Vec<Value> = header
        .iter()
        .map(|h| {
            let col = column(file, h).unwrap_or(Col {
                ty: "string",
                unit: "",
                text: "undocumented".into(),
            });
            // Intervals over replicates cover what the folder's replicates
            // varied: chance, or chance and the drawn inputs.
            let text = col.text.replace("chance only", covers);
            let mut f = json!({ "name": h, "type": col.ty, "description": text });
            if !col.unit.is_empty() {
                f["unit"] = json!(col.unit);
            }
            if col.ty == "boolean" {
                f["trueValues"] = json!(["true"]);
                f["falseValues"] = json!(["false"]);
            }
            f
        })
        .collect();
    Ok(json!({
        "name": resource_name(file),
        "path": file,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": describe_table(file),
        "schema": { "fields": fields, "missingValues": [""] },
    }))
}

/// The files of the folder being written, sorted: its own and those of its
/// `replicate-K/` folders.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let list = |d: &Path, prefix: &str, out: &mut Vec<String>| {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_file() && !name.ends_with(".tmp") && !name.starts_with('.') {
                    out.push(format!("{prefix}{name}"));
                }
            }
        }
    };
    list(dir, "", &mut out);
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut reps: Vec<(usize, String)> = rd
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                let k = n.strip_prefix("replicate-")?.parse::<usize>().ok()?;
                e.path().is_dir().then_some((k, n))
            })
            .collect();
        reps.sort();
        for (_, n) in reps {
            let mut mine = Vec::new();
            list(&dir.join(&n), &format!("{n}/"), &mut mine);
            mine.sort();
            out.extend(mine);
        }
    }
    out.sort_by_key(|f| (f.contains('/'), f.clone()));
    out
}

/// Writes `datapackage.json` for the folder being written in `out` (after
/// every table, before the report).
pub(crate) fn write(out: &mut OutDir, meta: &Meta) -> Result<(), OutputError> {
    let dir = out.tmp_path().to_path_buf();
    let mut resources = Vec::new();
    for f in files(&dir) {
        if f.ends_with(".csv") {
            resources.push(table_resource(&dir, &f, meta.covers_short())?);
        } else if let Some(r) = other_file(&f) {
            resources.push(r);
        }
    }
    let title = match meta.kind.as_str() {
        "compare" => format!("{}: the base against its variants", meta.scenario),
        "forecast" => format!("{}: a forecast from observed counts", meta.scenario),
        "backtest" => format!("{}: forecasts scored against what followed", meta.scenario),
        "sweep" => format!("{}: a parameter sweep", meta.scenario),
        "replicates" => format!("{}: {} replicates", meta.scenario, meta.replicates),
        _ => format!("{}: one run", meta.scenario),
    };
    let package = json!({
        "profile": "data-package",
        "name": resource_name(&format!("{}-{}", meta.scenario, meta.kind)),
        "title": title,
        "description": meta.description,
        "version": meta.version,
        "sources": [{ "title": meta.file, "sha256": meta.sha256 }],
        "resources": resources,
        "northbound": meta,
    });
    let text = serde_json::to_string_pretty(&package).map_err(|e| OutputError::Io {
        path: "datapackage.json".into(),
        source: std::io::Error::other(e),
    })?;
    super::text_file(out, "datapackage.json", &(text + "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_northbound_writes_is_described() {
        let tables: [(&str, &str); 27] = [
            ("places.csv", "day,date,place,present,arrived,departed,claims,turned_back,expelled,intercepted,detected,removed"),
            (
                "cohort_places.csv",
                "day,date,cohort,nationality,place,present,arrived,departed,claims,turned_back,expelled,intercepted,detected,removed",
            ),
            ("outcomes.csv", "cohort,nationality,outcome,people"),
            ("events.csv", "cohort,nationality,event,count,people"),
            ("routes.csv", "route,from,to,mode,km,from_lat,from_lon,to_lat,to_lon,people"),
            ("trace.csv", "day,agent,cohort,state,place,route,target,informed,failed,failed_day,barred"),
            ("places_summary.csv", "day,date,place,metric,mean,sd,lo95,hi95"),
            ("outcomes_summary.csv", "cohort,nationality,outcome,mean,sd,lo95,hi95"),
            (
                "events_summary.csv",
                "cohort,nationality,event,count_mean,count_sd,count_lo95,count_hi95,people_mean,people_sd,people_lo95,people_hi95",
            ),
            ("comparison.csv", "variant,metric,place,base,mean,diff,diff_lo95,diff_hi95"),
            ("periods.csv", "variant,period,from,until,days,complete,place,metric,mean,sd,lo95,hi95"),
            ("policies.csv", "variant,policy,kind,from,until,nationalities,what"),
            ("place_differences.csv", "variant,place,metric,from,until,base,mean,diff,diff_lo95,diff_hi95"),
            ("sweep.csv", "policy.x.rate,claimed_ca_mean,claimed_ca_lo95,detected_hi95,removed_mean"),
            ("sweep_long.csv", "point,policy.x.rate,place,metric,replicates,mean,sd,lo95,hi95"),
            ("forecast.csv", "place,name,metric,period,from,until,mean,median,p05,p25,p75,p95"),
            ("fitted.csv", "place,metric,date,from,until,observed,mean,median,p05,p25,p75,p95"),
            ("observed.csv", "date,place,metric,from,until,value,assimilated"),
            ("weights.csv", "member,draw,seed,ancestor,weight,log_likelihood"),
            ("filter.csv", "date,counts,ess,resampled"),
            (
                "backtest.csv",
                "origin,place,name,metric,date,from,until,lead_days,observed,mean,median,p05,p25,p75,p95,crps,persistence,seasonal_naive",
            ),
            ("scores.csv", "group,method,targets,mae,crps,coverage_50,coverage_90"),
            ("inputs.csv", "replicate,path,value,low,high,dist"),
            ("caravan.csv", "day,date,caravan,groups,people,families,place,pace_km_per_day"),
            ("offers.csv", "day,date,offer,place,offered,accepted"),
            ("papers.csv", "day,date,checkpoint,place,holders,not_honoured"),
            (
                "sensitivity.csv",
                "input,line,dist,low,value,high,headline,headline_at_low,headline_at_value,headline_at_high,swing,swing_lo95,swing_hi95",
            ),
        ];
        for (file, header) in tables {
            for col in header.split(',') {
                let d = column(file, col).unwrap_or_else(|| panic!("{file}: {col} is not described"));
                assert!(!d.text.is_empty(), "{file}: {col}");
            }
        }
        assert_eq!(column("places.csv", "claims").map(|c| c.ty), Some("integer"));
        assert_eq!(
            column("replicate-3/places.csv", "present").map(|c| c.unit),
            Some("people")
        );
        assert!(column("places.csv", "nonsense").is_none());
    }
}
