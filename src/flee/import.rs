//! Reading a Flee scenario folder (`input_csv/`, `source_data/`,
//! `simsetting.yml`) into a [`FleeScenario`], the way Flee 3.1 reads it.
//!
//! Owns Flee's file formats and their quirks (FLEE_MODEL.md §3): header rows
//! that name extra columns, quoted names, `routes.csv` rows with or without
//! `forced_redirection`, the extra column of `registration_corrections.csv`,
//! `sim_period.csv` or `conflict_period.csv`. Every problem names the file,
//! line and column. Must not know how the model runs.

use super::csvin::{Row, Source, Yaml, YamlEntry};
use super::model::*;
use super::settings::{self, Compat, Settings, SpawnMode, Value};
use crate::scenario::diag::closest;
use crate::scenario::LoadError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Whether `dir` looks like a Flee scenario folder.
pub fn is_flee_folder(dir: &Path) -> bool {
    dir.is_dir() && (dir.join("input_csv").join("locations.csv").is_file() || dir.join("locations.csv").is_file())
}

/// A folder's name as a scenario name: characters outside letters, digits,
/// `_`, `-` and `.` become `_` (see `outdir::safe_name`).
fn safe_folder_name(n: &str) -> String {
    let mut s: String = n
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        s.insert(0, 'f');
        s.truncate(100);
    }
    s
}

/// Where the CSV inputs are: `DIR/input_csv`, or `DIR` itself.
fn input_dir(dir: &Path) -> PathBuf {
    let sub = dir.join("input_csv");
    if sub.is_dir() {
        sub
    } else {
        dir.to_path_buf()
    }
}

/// Keeps a value, or the error for the report of every file's problems.
fn keep<T>(errs: &mut Vec<LoadError>, r: Result<T, LoadError>) -> Option<T> {
    r.map_err(|e| errs.push(e)).ok()
}

/// The locations by name; `declared` also holds the names of rows that had
/// an error (a route to one of them is not reported again), and `all` says
/// that locations.csv could not be read at all (no name is reported).
struct Names {
    index: HashMap<String, u32>,
    declared: std::collections::HashSet<String>,
    all: bool,
}

impl Names {
    fn find(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// Whether a name that is not found should be reported.
    fn unknown(&self, name: &str) -> bool {
        !self.all && !self.declared.contains(name)
    }
}

/// Reads a Flee folder. Every file is read and the problems of all of them
/// are reported together.
pub fn import(dir: &Path) -> Result<FleeScenario, LoadError> {
    crate::scenario::diag::reset_suggestions();
    let inp = input_dir(dir);
    let mut hash = Sha256::new();
    let mut warnings = Vec::new();
    let mut errs: Vec<LoadError> = Vec::new();

    // Settings first: hasten scales the populations below.
    let yml = dir.join("simsetting.yml");
    let mut settings = Settings::default();
    if yml.is_file() {
        if let Some(mut src) = keep(&mut errs, Source::read_inside(&yml, dir)) {
            hash.update(src.text.as_bytes());
            read_settings(&mut src, &mut settings, &mut warnings);
            keep(&mut errs, src.check());
        }
    } else {
        warnings.push(format!(
            "{} not found: Flee 3.1's defaults are used for every setting",
            yml.display()
        ));
    }

    let period = keep(&mut errs, read_period(dir, &inp, &mut hash));

    let mut names = Names {
        index: HashMap::new(),
        declared: Default::default(),
        all: false,
    };
    let mut locations = match keep(&mut errs, Source::read_inside(&inp.join("locations.csv"), dir)) {
        Some(mut src) => {
            hash.update(src.text.as_bytes());
            names.declared = src
                .rows()
                .iter()
                .filter(|r| !r.is_comment())
                .map(|r| r.text(0).to_string())
                .collect();
            let l = read_locations(&mut src);
            keep(&mut errs, src.check());
            l
        }
        None => {
            names.all = true;
            Vec::new()
        }
    };
    names.index = locations
        .iter()
        .enumerate()
        .map(|(i, l)| (l.name.clone(), i as u32))
        .collect();

    let mut routes = Vec::new();
    if let Some(mut src) = keep(&mut errs, Source::read_inside(&inp.join("routes.csv"), dir)) {
        hash.update(src.text.as_bytes());
        let (r, forced) = read_routes(&mut src, &locations, &names);
        keep(&mut errs, src.check());
        routes = r;
        if forced > 0 {
            warnings.push(format!(
                "{forced} route(s) have forced_redirection = 1: the flag does nothing in Flee 3.1, \
                 which also creates such a link twice (flee_compat = \"3.1\" does the same)"
            ));
        }
    }

    let closures_path = inp.join("closures.csv");
    let mut closures = Vec::new();
    if closures_path.is_file() {
        if let Some(mut src) = keep(&mut errs, Source::read_inside(&closures_path, dir)) {
            hash.update(src.text.as_bytes());
            closures = read_closures(&mut src, &locations, &names, &mut warnings);
            keep(&mut errs, src.check());
        }
    }

    let conflicts_path = inp.join("conflicts.csv");
    let mut conflicts = Vec::new();
    if conflicts_path.is_file() {
        if let Some(mut src) = keep(&mut errs, Source::read_inside(&conflicts_path, dir)) {
            hash.update(src.text.as_bytes());
            conflicts = read_conflicts(&mut src, &locations, &names, period.map(|p| p.1), &mut warnings);
            keep(&mut errs, src.check());
        }
    } else {
        warnings.push(
            "no conflicts.csv: only the conflict zones of day 0 exist (as in Flee 3.1, whose \
             fallback reads the wrong columns)"
                .into(),
        );
    }

    // Observed series: the total drives spawning, the camps' day-0 counts
    // fill the camps. (Without a valid period, the series are still checked,
    // against a stand-in start date.)
    let start = period.map(|p| p.0).unwrap_or_default();
    let totals = observed(dir, &inp, start, &settings, &mut locations, &mut hash, &mut errs);
    if let Some(e) = LoadError::combine(errs) {
        return Err(e);
    }
    let (start, days) = period.unwrap_or((start, 1));

    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|n| safe_folder_name(&n))
        .unwrap_or_else(|| "flee".into());
    Ok(FleeScenario {
        about: crate::scenario::About {
            description: format!("Flee scenario imported from {}", dir.display()),
            name,
            file: dir.to_path_buf(),
            sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        },
        start,
        days,
        seed: 1,
        compat: Compat::Intended,
        settings,
        locations,
        routes,
        conflicts,
        closures,
        totals,
        warnings,
    })
}

/// The observed series of `source_data/`: the total drives spawning, and
/// with `insert_day0` each camp's day-0 count fills it. Problems go to
/// `errs`.
fn observed(
    dir: &Path,
    inp: &Path,
    start: chrono::NaiveDate,
    settings: &Settings,
    locations: &mut [Location],
    hash: &mut Sha256,
    errs: &mut Vec<LoadError>,
) -> Vec<(i64, f64)> {
    let mut totals = Vec::new();
    let data_dir = dir.join("source_data");
    let corrections = inp.join("registration_corrections.csv");
    if data_dir.join("data_layout.csv").is_file() {
        if let Some(data) = keep(
            errs,
            super::data::read_source_data(&data_dir, start, Some(&corrections), hash),
        ) {
            totals = data.total.clone();
            if settings.insert_day0 {
                let mut missing = Vec::new();
                for l in locations.iter_mut().filter(|l| l.kind.is_camp()) {
                    match data.camp(&l.name) {
                        Some(series) => l.initial_people = interpolate(series, 0, 1.0) as u64,
                        None => missing.push(l.name.clone()),
                    }
                }
                if !missing.is_empty() {
                    errs.push(super::data::layout_error(
                        &data_dir,
                        format!(
                            "camp(s) {} have no series in data_layout.csv; insert_day0 needs each camp's \
                             day-0 count (Flee 3.1 stops here too)",
                            missing.join(", ")
                        ),
                    ));
                }
            }
        }
    } else if settings.spawn == SpawnMode::Data {
        errs.push(LoadError::Io {
            path: data_dir.join("data_layout.csv"),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "data-driven spawning (Flee's default) needs source_data/data_layout.csv and the \
                 series it names; or set spawn_rules.conflict_driven_spawning in simsetting.yml",
            ),
        });
    }
    totals
}

fn read_period(dir: &Path, inp: &Path, hash: &mut Sha256) -> Result<(chrono::NaiveDate, u32), LoadError> {
    let path = ["sim_period.csv", "conflict_period.csv"]
        .iter()
        .map(|n| inp.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| LoadError::Io {
            path: inp.join("sim_period.csv"),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "neither sim_period.csv nor conflict_period.csv is here; one of them gives \
                 `StartDate,YYYY-MM-DD` and `Length,<days>`",
            ),
        })?;
    let mut src = Source::read_inside(&path, dir)?;
    hash.update(src.text.as_bytes());
    let mut start = None;
    let mut days = None;
    for row in src.rows() {
        match row.text(0).to_lowercase().as_str() {
            "startdate" => match crate::time::parse_date(row.text(1)) {
                Some(d) => start = Some(d),
                None => src.err(row.span_of(1), "StartDate", "not a date", "write StartDate,YYYY-MM-DD"),
            },
            "length" => match row.text(1).parse::<u32>() {
                Ok(n) if (1..=crate::scenario::MAX_DAYS).contains(&n) => days = Some(n),
                _ => src.err(
                    row.span_of(1),
                    "Length",
                    "not a number of days",
                    format!("write Length,<days> with 1 to {} days", crate::scenario::MAX_DAYS),
                ),
            },
            _ => {}
        }
    }
    if start.is_none() {
        src.missing("StartDate", "no StartDate row", "add a row StartDate,YYYY-MM-DD");
    }
    if days.is_none() {
        src.missing("Length", "no Length row", "add a row Length,<days>");
    }
    src.check()?;
    Ok((start.unwrap_or_default(), days.unwrap_or(1)))
}

/// Header names of the extra columns, from the last `#` row with more than
/// `base` fields.
fn extra_columns(rows: &[Row], base: usize) -> Vec<String> {
    rows.iter()
        .rfind(|r| r.is_comment() && r.fields.len() > base)
        .map(|r| r.fields[base..].iter().map(|f| f.text.clone()).collect())
        .unwrap_or_default()
}

fn read_locations(src: &mut Source) -> Vec<Location> {
    let rows = src.rows();
    let extra = extra_columns(&rows, 8);
    let mut out: Vec<Location> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut home: Option<String> = None;
    for row in rows.iter().filter(|r| !r.is_comment()) {
        let line_no = out.len();
        let field = |c: &str| format!("locations.csv row {} {c}", line_no + 1);
        let layout = "#name,region,country,lat,lon,location_type,conflict_date,pop/cap[,extra columns]";
        if src.too_short(row, 6, &field("row"), "a location", layout) {
            continue;
        }
        let name = row.text(0).to_string();
        if let Some(&first) = seen.get(&name) {
            src.err(
                row.span_of(0),
                &field("name"),
                format!("location `{name}` is declared twice"),
                format!("the first is location {} of the file; names must be unique", first + 1),
            );
            continue;
        }
        let country = if row.text(2).is_empty() { "unknown" } else { row.text(2) }.to_string();
        let home_country = home.get_or_insert_with(|| country.clone()).clone();
        let coord = |i: usize, src: &mut Source| -> f64 {
            let t = row.text(i);
            if t.is_empty() {
                return 0.0;
            }
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() => x,
                _ => {
                    src.err(
                        row.span_of(i),
                        &field("coordinate"),
                        format!("`{t}` is not a number"),
                        "",
                    );
                    0.0
                }
            }
        };
        let lat = coord(3, src);
        let lon = coord(4, src);
        let Some(mut kind) = LocKind::from_flee(row.text(5)) else {
            src.err(
                row.span_of(5),
                &field("location_type"),
                format!("unknown location type `{}`", row.text(5)),
                "Flee recognises types containing camp, idpcamp, conflict, forward, marker, town or default",
            );
            continue;
        };
        let mut conflict_date = None;
        if kind == LocKind::Conflict {
            match row.text(6).parse::<i64>() {
                Ok(d) => {
                    conflict_date = Some(d);
                    if d > 0 {
                        // Flee creates it as a town; conflicts.csv makes it a
                        // conflict zone later.
                        kind = LocKind::Town;
                    }
                }
                Err(_) => src.err(
                    row.span_of(6),
                    &field("conflict_date"),
                    format!("`{}` is not a whole number of days", row.text(6)),
                    "a conflict zone needs conflict_date: 0 if it is one from the start",
                ),
            }
        }
        let popcap = row.text(7);
        let popcap = if popcap.is_empty() {
            0
        } else {
            match popcap.parse::<i64>() {
                Ok(x) if x >= 0 => x as u64,
                _ => {
                    src.err(
                        row.span_of(7),
                        &field("pop/cap"),
                        format!("`{popcap}` is not a whole number ≥ 0"),
                        "population (or a camp's capacity) in people; empty means 0",
                    );
                    0
                }
            }
        };
        let mut attributes = Vec::new();
        for (k, f) in row.fields.iter().enumerate().skip(8) {
            let key = extra.get(k - 8).cloned().unwrap_or_else(|| format!("column{}", k + 1));
            attributes.push((key, f.text.clone()));
        }
        let attr_num = |key: &str, default: f64, src: &mut Source| -> f64 {
            match attributes.iter().position(|(k, _)| k == key) {
                Some(i) if !attributes[i].1.is_empty() => match attributes[i].1.parse::<f64>() {
                    Ok(x) if (0.0..=1.0).contains(&x) => x,
                    _ => {
                        src.err(
                            row.span_of(8 + i),
                            &field(key),
                            format!("`{}` is not a number in [0, 1]", attributes[i].1),
                            "",
                        );
                        default
                    }
                },
                _ => default,
            }
        };
        let conflict_intensity = attr_num("conflict_intensity", 1.0, src);
        let deactivation_probability = attr_num("deactivation_probability", 0.0, src);
        seen.insert(name.clone(), out.len());
        let camp = kind.is_camp();
        out.push(Location {
            name,
            region: row.text(1).to_string(),
            foreign: country != home_country,
            country,
            lat,
            lon,
            kind,
            conflict_date,
            population: if camp { 0 } else { popcap },
            capacity: if camp { popcap } else { 0 },
            conflict_intensity,
            initial_people: 0,
            deactivation_probability,
            attributes,
        });
    }
    if out.is_empty() {
        src.missing(
            "locations.csv",
            "no locations",
            "a Flee scenario needs at least one location row",
        );
    }
    out
}

fn name_help(name: &str, locations: &[Location]) -> String {
    // (`closest` stops suggesting once this folder's budget is spent.)
    match closest(name, locations.iter().map(|l| l.name.as_str())) {
        Some(c) => format!("did you mean `{c}`? names must match locations.csv exactly"),
        None => "names must match a location of locations.csv exactly".into(),
    }
}

/// Routes as link pairs, and how many have `forced_redirection = 1`.
fn read_routes(src: &mut Source, locations: &[Location], names: &Names) -> (Vec<Route>, usize) {
    let rows = src.rows();
    let extra = extra_columns(&rows, 4);
    let mut out = Vec::new();
    let mut forced = 0;
    for (n, row) in rows.iter().filter(|r| !r.is_comment()).enumerate() {
        let field = |c: &str| format!("routes.csv row {} {c}", n + 1);
        let layout = "#name1,name2,distance[,forced_redirection[,extra columns]]";
        if src.too_short(row, 3, &field("row"), "a route", layout) {
            continue;
        }
        let mut ends = [0u32; 2];
        let mut ok = true;
        for (k, end) in ends.iter_mut().enumerate() {
            match names.find(row.text(k)) {
                Some(i) => *end = i,
                None => {
                    if names.unknown(row.text(k)) {
                        src.err(
                            row.span_of(k),
                            &field(if k == 0 { "name1" } else { "name2" }),
                            format!("no location `{}`", row.text(k)),
                            name_help(row.text(k), locations),
                        );
                    }
                    ok = false;
                }
            }
        }
        let km = match row.text(2).parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => x,
            Ok(x) if x < 0.0 => {
                src.err(
                    row.span_of(2),
                    &field("distance"),
                    "negative distance",
                    "a length in km ≥ 0",
                );
                continue;
            }
            _ => {
                src.err(
                    row.span_of(2),
                    &field("distance"),
                    format!("`{}` is not a distance", row.text(2)),
                    "a length in km ≥ 0",
                );
                continue;
            }
        };
        if ok && ends[0] == ends[1] {
            src.err(row.span.clone(), &field("row"), "a route from a location to itself", "");
            continue;
        }
        let fr = row.text(3);
        let forced_redirection = if fr.is_empty() {
            0
        } else {
            match fr.parse::<u8>() {
                Ok(x @ 0..=2) => x,
                _ => {
                    src.err(
                        row.span_of(3),
                        &field("forced_redirection"),
                        format!("`{fr}` is not 0, 1 or 2"),
                        "",
                    );
                    0
                }
            }
        };
        forced += (forced_redirection == 1) as usize;
        let mut max_move_speed = None;
        let mut walk_probability = 0.0;
        for (k, f) in row.fields.iter().enumerate().skip(4) {
            let key = extra.get(k - 4).map(String::as_str).unwrap_or("");
            if f.text.is_empty() {
                continue;
            }
            let x = f.text.parse::<f64>().ok().filter(|x| x.is_finite());
            match (key, x) {
                ("max_move_speed", Some(x)) if x > 0.0 => max_move_speed = Some(x),
                ("walk_probability", Some(x)) if (0.0..=1.0).contains(&x) => walk_probability = x,
                ("max_move_speed", _) => src.err(f.span.clone(), &field(key), "not a speed > 0 km/day", ""),
                ("walk_probability", _) => src.err(f.span.clone(), &field(key), "not a chance in [0, 1]", ""),
                _ => {}
            }
        }
        if ok {
            out.push(Route {
                a: ends[0],
                b: ends[1],
                km,
                forced_redirection,
                max_move_speed,
                walk_probability,
            });
        }
    }
    (out, forced)
}

fn read_closures(src: &mut Source, locations: &[Location], names: &Names, warnings: &mut Vec<String>) -> Vec<Closure> {
    let rows = src.rows();
    let mut out = Vec::new();
    let countries: Vec<&str> = locations.iter().map(|l| l.country.as_str()).collect();
    for (n, row) in rows.iter().filter(|r| !r.is_comment()).enumerate() {
        let field = |c: &str| format!("closures.csv row {} {c}", n + 1);
        let layout = "#closure_type,name1,name2,closure_start,closure_end";
        if src.too_short(row, 5, &field("row"), "a closure", layout) {
            continue;
        }
        let day = |i: usize, src: &mut Source| -> Option<i64> {
            match row.text(i).parse::<i64>() {
                Ok(d) if (-1..=crate::scenario::MAX_DAYS as i64).contains(&d) => Some(d),
                _ => {
                    src.err(
                        row.span_of(i),
                        &field(if i == 3 { "closure_start" } else { "closure_end" }),
                        format!("`{}` is not a day number", row.text(i)),
                        format!(
                            "a simulation day from 0 to {}, or -1 for never",
                            crate::scenario::MAX_DAYS
                        ),
                    );
                    None
                }
            }
        };
        let (Some(start), Some(end)) = (day(3, src), day(4, src)) else {
            continue;
        };
        let loc = |i: usize, src: &mut Source| -> Option<u32> {
            let r = names.find(row.text(i));
            if r.is_none() && names.unknown(row.text(i)) {
                src.err(
                    row.span_of(i),
                    &field(if i == 1 { "name1" } else { "name2" }),
                    format!("no location `{}`", row.text(i)),
                    name_help(row.text(i), locations),
                );
            }
            r
        };
        let kind = match row.text(0) {
            "country" => {
                for i in [1, 2] {
                    if !countries.contains(&row.text(i)) {
                        let mut help = format!("countries in locations.csv: {}", {
                            let mut c = countries.clone();
                            c.sort();
                            c.dedup();
                            c.join(", ")
                        });
                        if let Some(c) = closest(row.text(i), countries.iter().copied()) {
                            help = format!("did you mean `{c}`? {help}");
                        }
                        src.err(
                            row.span_of(i),
                            &field("country"),
                            format!("no location is in `{}`", row.text(i)),
                            help,
                        );
                    }
                }
                ClosureKind::Country(row.text(1).to_string(), row.text(2).to_string())
            }
            "location" => match loc(1, src) {
                Some(i) => ClosureKind::Location(i),
                None => continue,
            },
            "link" => match (loc(1, src), loc(2, src)) {
                (Some(a), Some(b)) => ClosureKind::Link(a, b),
                _ => continue,
            },
            t @ ("camp" | "idpcamp") => match loc(1, src) {
                Some(i) => {
                    if !locations[i as usize].kind.is_camp() {
                        src.err(
                            row.span_of(1),
                            &field("name1"),
                            format!("`{}` is not a camp", row.text(1)),
                            "camp closures turn a camp into a town while closed",
                        );
                        continue;
                    }
                    ClosureKind::Camp {
                        loc: i,
                        idp: t == "idpcamp",
                    }
                }
                None => continue,
            },
            "remove_forced_redirection" => {
                warnings.push(format!(
                    "closures.csv row {}: remove_forced_redirection is ignored (forced redirection has \
                     no effect on movement in Flee 3.1)",
                    n + 1
                ));
                continue;
            }
            other => {
                let valid = [
                    "country",
                    "location",
                    "link",
                    "camp",
                    "idpcamp",
                    "remove_forced_redirection",
                ];
                let mut help = format!("valid types: {}", valid.join(", "));
                if let Some(c) = closest(other, valid) {
                    help = format!("did you mean `{c}`? {help}");
                }
                src.err(
                    row.span_of(0),
                    &field("closure_type"),
                    format!("unknown closure type `{other}`"),
                    help,
                );
                continue;
            }
        };
        if start < 0 {
            warnings.push(format!(
                "closures.csv row {}: closure_start -1, so it never takes effect",
                n + 1
            ));
            continue;
        }
        if end != -1 && end <= start {
            src.err(
                row.span_of(4),
                &field("closure_end"),
                format!("closure_end {end} is not after closure_start {start}"),
                "the day it is lifted must come after the day it starts, or -1 for never",
            );
            continue;
        }
        out.push(Closure {
            kind,
            start,
            end: (end >= 0).then_some(end),
        });
    }
    out
}

fn read_conflicts(
    src: &mut Source,
    locations: &[Location],
    names: &Names,
    period: Option<u32>,
    warnings: &mut Vec<String>,
) -> Vec<ConflictSeries> {
    // Without a valid period every row is checked, and their number is not.
    let days = period.unwrap_or(u32::MAX);
    let rows = src.rows();
    let Some(header) = rows.first() else {
        src.err(
            0..0,
            "conflicts.csv",
            "empty file",
            "#Day,<location>,… then one row per day",
        );
        return Vec::new();
    };
    let mut cols: Vec<(usize, u32)> = Vec::new();
    for (k, f) in header.fields.iter().enumerate().skip(1) {
        if f.text.is_empty() {
            continue;
        }
        match names.find(&f.text) {
            Some(i) => cols.push((k, i)),
            // Flee reports the name and carries on; so do we, loudly.
            None => warnings.push(format!(
                "conflicts.csv: column `{}` names no location of locations.csv and is ignored, as Flee 3.1 \
                 ignores it ({})",
                f.text,
                name_help(&f.text, locations)
            )),
        }
    }
    let mut series: Vec<ConflictSeries> = cols
        .iter()
        .map(|&(_, loc)| ConflictSeries {
            loc,
            changes: Vec::new(),
        })
        .collect();
    let data: Vec<&Row> = rows.iter().skip(1).filter(|r| !r.is_comment()).collect();
    if period.is_some() && data.len() < days as usize && src.problems.is_empty() {
        let end = src.text.len();
        src.err(
            end.saturating_sub(1)..end,
            "conflicts.csv",
            format!("{} day rows for a {days}-day run", data.len()),
            "Flee reads one row per simulated day: add rows up to the last day",
        );
    }
    for (day, row) in data.iter().enumerate().take(days as usize) {
        for (s, &(k, _)) in series.iter_mut().zip(&cols) {
            let t = row.text(k);
            let x = match t.parse::<f64>() {
                Ok(x) if (0.0..=1.0).contains(&x) => x,
                _ => {
                    src.err(
                        row.span_of(k),
                        &format!("conflicts.csv day {day}"),
                        format!("`{t}` is not an intensity"),
                        "an intensity in [0, 1] for every location of the header",
                    );
                    continue;
                }
            };
            if s.changes.last().map(|c| c.1) != Some(x) {
                s.changes.push((day as u32, x));
            }
        }
    }
    series
}

fn read_settings(src: &mut Source, s: &mut Settings, warnings: &mut Vec<String>) {
    let Yaml::Map(top) = src.yaml() else { return };
    let mut v1 = false;
    let mut spawn = None;
    let ignored = |path: &str, warnings: &mut Vec<String>| {
        warnings.push(format!("simsetting.yml: Flee 3.1 ignores `{path}`; so does northbound"));
    };
    for sec in &top {
        let entries = match &sec.value {
            Yaml::Map(m) => m,
            _ => {
                match sec.key.as_str() {
                    "number_of_steps" | "conflict_input_file" => {}
                    other => ignored(other, warnings),
                }
                continue;
            }
        };
        match sec.key.as_str() {
            "log_levels" => {
                for e in entries {
                    if !["agent", "link", "camp", "init", "conflict", "idp_totals"].contains(&e.key.as_str()) {
                        ignored(&format!("log_levels.{}", e.key), warnings);
                    }
                }
            }
            "spawn_rules" => {
                for e in entries {
                    match e.key.as_str() {
                        "take_from_population"
                        | "insert_day0"
                        | "conflict_zone_spawning_only"
                        | "conflict_spawn_decay" => set(src, s, "spawn_rules", e, &e.key),
                        "camps_are_sicks" => set(src, s, "spawn_rules", e, "camps_are_sinks"),
                        "camps_are_sinks" => {
                            warnings.push(
                                "simsetting.yml: Flee 3.1 only reads the misspelt `camps_are_sicks`, so it \
                                 ignores `camps_are_sinks`; northbound honours it (and flee_compat = \"3.1\" \
                                 does not change that)"
                                    .into(),
                            );
                            set(src, s, "spawn_rules", e, "camps_are_sinks")
                        }
                        "conflict_driven_spawning" => {
                            if let Some(m) = conflict_spawn(src, e) {
                                spawn = Some(m);
                            }
                        }
                        "read_from_agents_csv_file" | "flood_zone_spawning_only" => {
                            if matches!(&e.value, Yaml::Scalar(x) if x.eq_ignore_ascii_case("true")) {
                                src.err(
                                    e.span.clone(),
                                    &format!("spawn_rules.{}", e.key),
                                    "not supported by northbound",
                                    "set it to False (agents.csv and flood rules are not part of the flee model)",
                                );
                            }
                        }
                        other => ignored(&format!("spawn_rules.{other}"), warnings),
                    }
                }
            }
            "move_rules" => {
                for e in entries {
                    let k = e.key.as_str();
                    if settings::KEYS.iter().any(|x| x.0 == k) {
                        set(src, s, "move_rules", e, k);
                    } else if k == "use_v1_rules" {
                        v1 = matches!(&e.value, Yaml::Scalar(x) if x.eq_ignore_ascii_case("true"));
                    } else if let Some((_, why)) = settings::INERT.iter().find(|x| x.0 == k) {
                        let on = matches!(&e.value, Yaml::Scalar(x) if x.eq_ignore_ascii_case("true"));
                        if on && k != "max_crossing_speed" {
                            src.err(
                                e.span.clone(),
                                &format!("move_rules.{k}"),
                                "not supported by northbound",
                                *why,
                            );
                        }
                    } else {
                        ignored(&format!("move_rules.{k}"), warnings);
                    }
                }
            }
            "optimisations" => {
                for e in entries {
                    if e.key == "hasten" {
                        set(src, s, "optimisations", e, "hasten");
                    } else {
                        ignored(&format!("optimisations.{}", e.key), warnings);
                    }
                }
            }
            "flood_rules" => {
                src.err(
                    sec.span.clone(),
                    "flood_rules",
                    "not supported by northbound",
                    "flood rules are a prototype in Flee 3.1 (enabling them raises KeyError there)",
                );
            }
            other => ignored(other, warnings),
        }
    }
    if let Some(m) = spawn {
        s.spawn = m;
    }
    if v1 {
        s.apply_v1_rules();
    }
}

/// Sets Flee setting `key` from the YAML entry `e` of `section`, or
/// records a problem with what would be valid.
fn set(src: &mut Source, s: &mut Settings, section: &str, e: &YamlEntry, key: &str) {
    let kind = settings::KEYS.iter().find(|k| k.0 == key).map(|k| k.1);
    let value = match (&e.value, kind) {
        (Yaml::List(xs), Some(settings::Kind::List)) => {
            let parsed: Option<Vec<f64>> = xs.iter().map(|x| x.parse().ok()).collect();
            parsed.map(Value::List)
        }
        (Yaml::Scalar(x), Some(settings::Kind::Bool)) => match x.to_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(Value::Bool(true)),
            "false" | "no" | "off" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        (Yaml::Scalar(x), _) => x.parse::<f64>().ok().map(Value::Num),
        _ => None,
    };
    let res = match value {
        Some(v) => s.set(key, &v),
        None => Err(match kind {
            Some(settings::Kind::Bool) => "True or False".to_string(),
            Some(settings::Kind::List) => "a list of numbers, e.g. [1.0, 1.0, 1.0, 0.5, 0.1]".into(),
            _ => "a number".into(),
        }),
    };
    if let Err(valid) = res {
        src.err(
            e.value_span.clone(),
            &format!("{section}.{}", e.key),
            format!("invalid value `{}`", yaml_text(&e.value)),
            format!("expected {valid}"),
        );
    }
}

/// `spawn_rules.conflict_driven_spawning`: the spawn mode and its rate.
fn conflict_spawn(src: &mut Source, e: &YamlEntry) -> Option<SpawnMode> {
    let Yaml::Map(m) = &e.value else { return None };
    let mode = m.iter().find(|x| x.key == "spawn_mode");
    let mode_s = match mode.map(|x| &x.value) {
        Some(Yaml::Scalar(x)) => x.clone(),
        _ => "constant".into(),
    };
    let n = m
        .iter()
        .find(|x| x.key == "displaced_per_conflict_day")
        .and_then(|x| match &x.value {
            Yaml::Scalar(v) => v.parse::<f64>().ok(),
            _ => None,
        });
    Some(match mode_s.to_lowercase().as_str() {
        "constant" => SpawnMode::Constant(n.unwrap_or(500.0)),
        "pop_ratio" => SpawnMode::PopRatio(n.unwrap_or(0.01)),
        "poisson" => SpawnMode::Poisson(n.unwrap_or(500.0)),
        _ => {
            let span = mode.map(|x| x.span.clone()).unwrap_or(e.span.clone());
            src.err(
                span,
                "spawn_rules.conflict_driven_spawning.spawn_mode",
                format!("unknown spawn mode `{mode_s}`"),
                "constant, pop_ratio or poisson",
            );
            SpawnMode::Data
        }
    })
}

fn yaml_text(v: &Yaml) -> String {
    match v {
        Yaml::Scalar(s) => s.clone(),
        Yaml::List(xs) => format!("[{}]", xs.join(", ")),
        Yaml::Map(_) => "a mapping".into(),
    }
}
