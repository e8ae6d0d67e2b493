//! The native northbound form of a `flee` scenario: a TOML file with
//! `[behaviour] model = "flee"`, written by `import-flee` and read back
//! with the same positioned errors as every scenario.
//!
//! Owns the TOML layout of `flee` scenarios (documented in `docs/flee.md`).
//! Must not know Flee's CSV formats (that is `import`) or run anything.

use super::model::*;
use super::settings::{self, Compat, Settings, SpawnMode, Value};
use crate::scenario::diag::closest;
use crate::scenario::read::{self, Reader, Tbl};
use crate::scenario::LoadError;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::Path;

/// The first line of every scenario `import-flee` writes: `import-flee -o`
/// replaces an existing file only if it starts so.
pub const IMPORT_MARKER: &str = "# Imported from the Flee scenario folder ";

fn q(s: &str) -> String {
    // TOML basic strings: escape backslash and quote.
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// Writes `sc` as a self-contained northbound scenario. `origin` is said in
/// the header comment.
pub fn to_toml(sc: &FleeScenario, origin: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{IMPORT_MARKER}{origin} by `northbound import-flee`.");
    let _ = writeln!(o, "# Run it with `northbound run FILE`; score it with");
    let _ = writeln!(o, "# `northbound validate FILE --targets {origin}/source_data`.");
    let _ = writeln!(o, "# Format: docs/flee.md. Inputs' SHA-256: {}", sc.about.sha256);
    o.push('\n');
    let _ = writeln!(o, "[scenario]");
    let _ = writeln!(o, "name = {}", q(&sc.about.name));
    let _ = writeln!(o, "description = {}", q(&sc.about.description));
    let _ = writeln!(o, "start = {}  # sim_period.csv StartDate", sc.start);
    let _ = writeln!(
        o,
        "end = {}  # StartDate + Length - 1 ({} days)",
        sc.date_of(sc.days - 1),
        sc.days
    );
    let _ = writeln!(o, "seed = {}", sc.seed);
    o.push('\n');
    let _ = writeln!(o, "[behaviour]");
    let _ = writeln!(o, "model = \"flee\"");
    let _ = writeln!(
        o,
        "# flee_compat = \"3.1\"  # reproduce Flee 3.1's bugs where they change results (docs/flee.md)"
    );
    if sc.compat == Compat::V31 {
        let _ = writeln!(o, "flee_compat = \"3.1\"");
    }
    o.push('\n');
    let _ = writeln!(
        o,
        "# simsetting.yml, resolved: every setting the model uses, Flee 3.1's names."
    );
    let _ = writeln!(o, "[flee]");
    for (k, _) in settings::KEYS {
        let v = sc.settings.get(k);
        let text = match v {
            Some(Value::Num(x)) if *k == "awareness_level" || *k == "hasten" => format!("{}", x as u64),
            Some(Value::Num(x)) => num(x),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::List(xs)) => format!("[{}]", xs.iter().map(|x| num(*x)).collect::<Vec<_>>().join(", ")),
            None => continue,
        };
        let _ = writeln!(o, "{k} = {text}");
    }
    let (mode, n) = match sc.settings.spawn {
        SpawnMode::Data => ("data", None),
        SpawnMode::Constant(x) => ("constant", Some(x)),
        SpawnMode::PopRatio(x) => ("pop_ratio", Some(x)),
        SpawnMode::Poisson(x) => ("poisson", Some(x)),
    };
    let _ = writeln!(o, "spawn_mode = {}", q(mode));
    if let Some(n) = n {
        let _ = writeln!(o, "displaced_per_conflict_day = {}", num(n));
    }
    o.push('\n');
    let _ = writeln!(
        o,
        "# The observed refugee total (source_data, first row of data_layout.csv): each day's increase\n\
         # spawns that many agents. This is the one place where observed counts feed a run (docs/flee.md).\n\
         # [day relative to start, people]"
    );
    let _ = writeln!(o, "[spawn]");
    let _ = write!(o, "totals = [");
    for (i, (d, v)) in sc.totals.iter().enumerate() {
        if i % 6 == 0 {
            o.push_str("\n  ");
        } else {
            o.push(' ');
        }
        let _ = write!(o, "[{d}, {}],", *v as u64);
    }
    o.push_str("\n]\n\n");
    for l in &sc.locations {
        write_place(&mut o, l);
    }
    for r in &sc.routes {
        let _ = writeln!(o, "[[route]]");
        let _ = writeln!(o, "from = {}", q(&sc.locations[r.a as usize].name));
        let _ = writeln!(o, "to = {}", q(&sc.locations[r.b as usize].name));
        let _ = writeln!(o, "km = {}", num(r.km));
        if r.forced_redirection != 0 {
            let _ = writeln!(o, "forced_redirection = {}", r.forced_redirection);
        }
        if let Some(v) = r.max_move_speed {
            let _ = writeln!(o, "max_move_speed = {}", num(v));
        }
        if r.walk_probability > 0.0 {
            let _ = writeln!(o, "walk_probability = {}", r.walk_probability);
        }
        o.push('\n');
    }
    if !sc.conflicts.is_empty() {
        let _ = writeln!(o, "# conflicts.csv as changes: intensity[i] from day[i] on.");
    }
    for c in &sc.conflicts {
        let _ = writeln!(o, "[[conflict]]");
        let _ = writeln!(o, "place = {}", q(&sc.locations[c.loc as usize].name));
        let days: Vec<String> = c.changes.iter().map(|x| x.0.to_string()).collect();
        let vals: Vec<String> = c.changes.iter().map(|x| num(x.1)).collect();
        let _ = writeln!(o, "day = [{}]", days.join(", "));
        let _ = writeln!(o, "intensity = [{}]", vals.join(", "));
        o.push('\n');
    }
    for c in &sc.closures {
        write_closure(&mut o, sc, c);
    }
    o
}

/// One `[[place]]` table.
fn write_place(o: &mut String, l: &Location) {
    let _ = writeln!(o, "[[place]]");
    let _ = writeln!(o, "id = {}", q(&l.name));
    let _ = writeln!(o, "region = {}", q(&l.region));
    let _ = writeln!(o, "country = {}", q(&l.country));
    let _ = writeln!(o, "kind = {}", q(l.kind.name()));
    let _ = writeln!(o, "lat = {}", l.lat);
    let _ = writeln!(o, "lon = {}", l.lon);
    if let Some(d) = l.conflict_date {
        let _ = writeln!(o, "conflict_date = {d}");
    }
    if l.kind.is_camp() {
        let _ = writeln!(o, "capacity = {}", l.capacity);
        if l.initial_people > 0 {
            let _ = writeln!(
                o,
                "initial_people = {}  # source_data at start (insert_day0)",
                l.initial_people
            );
        }
    } else {
        let _ = writeln!(o, "population = {}", l.population);
    }
    if l.kind == LocKind::Conflict && l.conflict_intensity != 1.0 {
        let _ = writeln!(o, "conflict_intensity = {}", l.conflict_intensity);
    }
    if l.deactivation_probability > 0.0 {
        let _ = writeln!(o, "deactivation_probability = {}", l.deactivation_probability);
    }
    let attrs: Vec<_> = l
        .attributes
        .iter()
        .filter(|(k, _)| k != "conflict_intensity" && k != "deactivation_probability")
        .collect();
    if !attrs.is_empty() {
        let body: Vec<String> = attrs.iter().map(|(k, v)| format!("{} = {}", q(k), q(v))).collect();
        let _ = writeln!(o, "attributes = {{ {} }}", body.join(", "));
    }
    o.push('\n');
}

/// One closure as a `[[policy]]` table.
fn write_closure(o: &mut String, sc: &FleeScenario, c: &Closure) {
    let _ = writeln!(o, "[[policy]]");
    let _ = writeln!(o, "kind = \"closure\"");
    match &c.kind {
        ClosureKind::Country(a, b) => {
            let _ = writeln!(o, "countries = [{}, {}]", q(a), q(b));
        }
        ClosureKind::Location(l) => {
            let _ = writeln!(o, "place = {}", q(&sc.locations[*l as usize].name));
        }
        ClosureKind::Link(a, b) => {
            let _ = writeln!(
                o,
                "link = [{}, {}]",
                q(&sc.locations[*a as usize].name),
                q(&sc.locations[*b as usize].name)
            );
        }
        ClosureKind::Camp { loc, idp } => {
            let _ = writeln!(o, "camp = {}", q(&sc.locations[*loc as usize].name));
            if *idp {
                let _ = writeln!(o, "idp = true");
            }
        }
    }
    let _ = writeln!(o, "from = {}  # day {}", sc.date_of(c.start as u32), c.start);
    if let Some(e) = c.end {
        let _ = writeln!(o, "until = {}  # lifted on day {e}", sc.date_of((e - 1) as u32));
    }
    o.push('\n');
}

const ROOT: &[&str] = &[
    "scenario",
    "behaviour",
    "flee",
    "spawn",
    "place",
    "route",
    "conflict",
    "policy",
];
const PLACE: &[&str] = &[
    "id",
    "region",
    "country",
    "kind",
    "lat",
    "lon",
    "conflict_date",
    "population",
    "capacity",
    "initial_people",
    "conflict_intensity",
    "deactivation_probability",
    "attributes",
];
const ROUTE: &[&str] = &[
    "from",
    "to",
    "km",
    "forced_redirection",
    "max_move_speed",
    "walk_probability",
];
const POLICY: &[&str] = &["kind", "countries", "place", "link", "camp", "idp", "from", "until"];

/// Reads a `flee` scenario file.
pub fn load(path: &Path) -> Result<FleeScenario, LoadError> {
    load_str(&read::read_text(path)?, path)
}

/// Reads a `flee` scenario from text, naming `path` in messages.
pub fn load_str(text: &str, path: &Path) -> Result<FleeScenario, LoadError> {
    read::read_toml(text, path, ROOT, |r, root| read_all(r, root, path, text))
}

fn read_all(r: &mut Reader, root: &mut Tbl, path: &Path, text: &str) -> Option<FleeScenario> {
    let head_span = r.head(&root.span);
    let head = crate::scenario::head::parse(r, root, false);
    // The name is the default output folder: out/<name>/.
    let head = head.filter(|h| {
        let safe = crate::outdir::safe_name(&h.name.v);
        if !safe {
            r.err(
                h.name.span.clone(),
                "scenario.name",
                format!("`{}` cannot name an output folder", h.name.v),
                "the name becomes out/<name>/: use letters, digits, `_`, `-` and `.`, starting with a letter or \
                 digit, at most 100 characters (e.g. \"mali2012\")",
            );
        }
        safe
    });
    let compat = read_compat(r, root);
    let s = read_settings(r, root);
    let totals = read_totals(r, root, &s, &head_span);
    let places = read_places(r, root, &head_span);
    let routes = read_routes(r, root, &places);
    let conflicts = read_conflicts(r, root, &places);
    let closures = read_closures(r, root, &places, head.as_ref().map(|h| h.cal.start));
    super::variants::check(r, root, &s);
    let head = head?;
    let mut hash = Sha256::new();
    hash.update(text.as_bytes());
    Some(FleeScenario {
        about: crate::scenario::About {
            name: head.name.v,
            description: head.description,
            file: path.to_path_buf(),
            sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        },
        start: head.cal.start,
        days: head.cal.days,
        seed: head.seed,
        compat,
        settings: s,
        locations: places.locations,
        routes,
        conflicts,
        closures,
        totals,
        warnings: Vec::new(),
    })
}

/// `[behaviour]`: `model = "flee"` and `flee_compat`.
fn read_compat(r: &mut Reader, root: &mut Tbl) -> Compat {
    let mut compat = Compat::Intended;
    if let Some(mut b) = root.sub(r, "behaviour") {
        if let Some(m) = b.str(r, "model", true, "model = \"flee\"") {
            if m.v != "flee" {
                r.err(m.span, "behaviour.model", "this reader is for model = \"flee\"", "");
            }
        }
        if let Some(c) = b.str(r, "flee_compat", false, "") {
            match c.v.as_str() {
                "3.1" => compat = Compat::V31,
                _ => r.err(
                    c.span,
                    "behaviour.flee_compat",
                    format!("unknown Flee version `{}`", c.v),
                    "\"3.1\" (or leave it out for Flee's intended behaviour)",
                ),
            }
        }
        b.finish(r, &["model", "flee_compat"]);
    }
    compat
}

/// `[flee]`: Flee's simulation settings.
fn read_settings(r: &mut Reader, root: &mut Tbl) -> Settings {
    let mut s = Settings::default();
    if let Some(mut f) = root.sub(r, "flee") {
        let entries: Vec<_> = f.entries().map(|(k, v)| (k.v.to_string(), k.span.clone(), v)).collect();
        let mut spawn_mode: Option<(String, std::ops::Range<usize>)> = None;
        let mut displaced = None;
        for (k, kspan, v) in entries {
            let field = format!("flee.{k}");
            if k == "spawn_mode" {
                if let Some(m) = f.str(r, "spawn_mode", false, "") {
                    spawn_mode = Some((m.v, m.span));
                }
                continue;
            }
            if k == "displaced_per_conflict_day" {
                displaced = f.num(r, &k, false, "a number ≥ 0").map(|x| x.v);
                continue;
            }
            let Some(&(_, kind)) = settings::KEYS.iter().find(|x| x.0 == k) else {
                continue;
            };
            f.get(&k);
            let value = match (kind, v.get_ref()) {
                (settings::Kind::Bool, toml::de::DeValue::Boolean(b)) => Some(Value::Bool(*b)),
                (settings::Kind::List, toml::de::DeValue::Array(a)) => {
                    let xs: Vec<Option<f64>> = a
                        .iter()
                        .map(|x| read::number(r, x, &field, "a number").map(|n| n.v))
                        .collect();
                    xs.into_iter().collect::<Option<Vec<f64>>>().map(Value::List)
                }
                (settings::Kind::Num | settings::Kind::Count, _) => {
                    read::number(r, v, &field, "a number").map(|n| Value::Num(n.v))
                }
                _ => None,
            };
            let res = match value {
                Some(v) => s.set(&k, &v),
                None => Err(match kind {
                    settings::Kind::Bool => "true or false".into(),
                    settings::Kind::List => "a list of numbers".into(),
                    _ => "a number".into(),
                }),
            };
            if let Err(valid) = res {
                r.err(kspan, &field, "invalid value", format!("expected {valid}"));
            }
        }
        if let Some((m, span)) = spawn_mode {
            s.spawn = match m.as_str() {
                "data" => SpawnMode::Data,
                "constant" => SpawnMode::Constant(displaced.unwrap_or(500.0)),
                "pop_ratio" => SpawnMode::PopRatio(displaced.unwrap_or(0.01)),
                "poisson" => SpawnMode::Poisson(displaced.unwrap_or(500.0)),
                other => {
                    r.err(
                        span,
                        "flee.spawn_mode",
                        format!("unknown spawn mode `{other}`"),
                        "data, constant, pop_ratio or poisson",
                    );
                    SpawnMode::Data
                }
            };
        }
        let mut valid: Vec<&str> = settings::KEYS.iter().map(|k| k.0).collect();
        valid.extend(["spawn_mode", "displaced_per_conflict_day"]);
        f.finish(r, &valid);
    }
    s
}

/// `[spawn] totals`: the observed refugee totals data-driven spawning follows.
fn read_totals(r: &mut Reader, root: &mut Tbl, s: &Settings, head_span: &std::ops::Range<usize>) -> Vec<(i64, f64)> {
    let mut totals = Vec::new();
    if let Some(mut sp) = root.sub(r, "spawn") {
        if let Some(arr) = sp.array(r, "totals", "[[day, people], …]") {
            for (i, e) in arr.iter().enumerate() {
                let field = format!("spawn.totals[{i}]");
                match e.get_ref() {
                    toml::de::DeValue::Array(p) if p.len() == 2 => {
                        let d = read::integer(r, &p[0], &field, "a day relative to start");
                        let v = read::number(r, &p[1], &field, "people ≥ 0");
                        if let (Some(d), Some(v)) = (d, v) {
                            if v.v < 0.0 {
                                r.err(v.span, &field, "negative count", "people ≥ 0");
                            } else if totals.last().is_some_and(|&(l, _)| d.v <= l) {
                                r.err(d.span, &field, "days out of order", "each day after the previous one");
                            } else {
                                totals.push((d.v, v.v));
                            }
                        }
                    }
                    _ => r.err(e.span(), &field, "expected [day, people]", ""),
                }
            }
        }
        sp.finish(r, &["totals"]);
    }
    if s.spawn == SpawnMode::Data && totals.is_empty() {
        r.err(
            head_span.clone(),
            "spawn.totals",
            "data-driven spawning needs [spawn] totals",
            "import a Flee folder with source_data, or set flee.spawn_mode",
        );
    }
    totals
}

/// The locations read, with an index of their names (so that many places
/// and routes take linear time).
struct Places {
    locations: Vec<Location>,
    index: std::collections::HashMap<String, u32>,
}

impl Places {
    /// The index of the place `name` names, or a problem.
    fn find(&self, r: &mut Reader, name: &Option<read::Sp<String>>, field: &str) -> Option<u32> {
        let n = name.as_ref()?;
        match self.index.get(&n.v) {
            Some(&i) => Some(i),
            None => {
                let mut help = "a place id of this file".to_string();
                if let Some(c) = closest(&n.v, self.locations.iter().map(|l| l.name.as_str())) {
                    help = format!("did you mean `{c}`?");
                }
                r.err(n.span.clone(), field, format!("no place `{}`", n.v), help);
                None
            }
        }
    }
}

/// `[[place]]`: Flee's locations.
fn read_places(r: &mut Reader, root: &mut Tbl, head_span: &std::ops::Range<usize>) -> Places {
    // Places.
    let mut locations: Vec<Location> = Vec::new();
    // Names to indices, so that many places and routes take linear time.
    let mut index: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut home: Option<String> = None;
    for mut t in root.tables(r, "place") {
        let id = t.str(r, "id", true, "the Flee name");
        let region = t.str(r, "region", false, "").map(|x| x.v).unwrap_or_default();
        let country = t
            .str(r, "country", false, "")
            .map(|x| x.v)
            .unwrap_or_else(|| "unknown".into());
        let kind = t.str(r, "kind", true, "conflict, town, camp, idpcamp, forward or marker");
        let lat = t.num(r, "lat", false, "").map(|x| x.v).unwrap_or(0.0);
        let lon = t.num(r, "lon", false, "").map(|x| x.v).unwrap_or(0.0);
        let conflict_date = t.int(r, "conflict_date", false, "").map(|x| x.v);
        let count = |key: &str, t: &mut Tbl, r: &mut Reader| -> u64 {
            match t.int(r, key, false, "a whole number ≥ 0") {
                Some(x) if x.v >= 0 => x.v as u64,
                Some(x) => {
                    r.err(x.span, &t.field(key), "negative", "a whole number ≥ 0");
                    0
                }
                None => 0,
            }
        };
        let population = count("population", &mut t, r);
        let capacity = count("capacity", &mut t, r);
        let initial_people = count("initial_people", &mut t, r);
        let chance = |key: &str, d: f64, t: &mut Tbl, r: &mut Reader| -> f64 {
            match t.num(r, key, false, "in [0, 1]") {
                Some(x) if (0.0..=1.0).contains(&x.v) => x.v,
                Some(x) => {
                    r.err(x.span, &t.field(key), "outside [0, 1]", "a number in [0, 1]");
                    d
                }
                None => d,
            }
        };
        let conflict_intensity = chance("conflict_intensity", 1.0, &mut t, r);
        let deactivation_probability = chance("deactivation_probability", 0.0, &mut t, r);
        let mut attributes = Vec::new();
        if let Some(a) = t.sub(r, "attributes") {
            for (k, v) in a.entries() {
                let text = match v.get_ref() {
                    toml::de::DeValue::String(s) => s.to_string(),
                    _ => String::new(),
                };
                attributes.push((k.v.to_string(), text));
            }
        }
        let tpath = t.path.clone();
        let fld = |k: &str| format!("{tpath}.{k}");
        t.finish(r, PLACE);
        let (Some(id), Some(kind)) = (id, kind) else { continue };
        let Some(k) = LocKind::NAMES.iter().find(|x| x.0 == kind.v).map(|x| x.1) else {
            let names: Vec<&str> = LocKind::NAMES.iter().map(|x| x.0).collect();
            let mut help = format!("one of {}", names.join(", "));
            if let Some(c) = closest(&kind.v, names.iter().copied()) {
                help = format!("did you mean `{c}`? {help}");
            }
            r.err(kind.span, &fld("kind"), format!("unknown kind `{}`", kind.v), help);
            continue;
        };
        if index.contains_key(&id.v) {
            r.err(
                id.span,
                &fld("id"),
                format!("duplicate place id `{}`", id.v),
                "ids must be unique",
            );
            continue;
        }
        let home_country = home.get_or_insert_with(|| country.clone()).clone();
        index.insert(id.v.clone(), locations.len() as u32);
        locations.push(Location {
            name: id.v,
            region,
            foreign: country != home_country,
            country,
            lat,
            lon,
            kind: k,
            conflict_date,
            population,
            capacity,
            conflict_intensity,
            initial_people,
            deactivation_probability,
            attributes,
        });
    }
    if locations.is_empty() {
        r.err(
            head_span.clone(),
            "place",
            "no [[place]] in the scenario",
            "add the Flee locations as [[place]] tables",
        );
    }
    Places { locations, index }
}

/// `[[route]]`: Flee's routes.
fn read_routes(r: &mut Reader, root: &mut Tbl, places: &Places) -> Vec<Route> {
    let mut routes = Vec::new();
    for mut t in root.tables(r, "route") {
        let from = t.str(r, "from", true, "a place id");
        let to = t.str(r, "to", true, "a place id");
        let km = t.num(r, "km", true, "length in km ≥ 0");
        let fr = t.int(r, "forced_redirection", false, "0, 1 or 2");
        let speed = t.num(r, "max_move_speed", false, "km/day > 0");
        let walk = t.num(r, "walk_probability", false, "in [0, 1]");
        let a = places.find(r, &from, &t.field("from"));
        let b = places.find(r, &to, &t.field("to"));
        let tpath = t.path.clone();
        let fld = |k: &str| format!("{tpath}.{k}");
        t.finish(r, ROUTE);
        let km = match km {
            Some(k) if k.v < 0.0 => {
                r.err(k.span, &fld("km"), "negative distance", "a length in km ≥ 0");
                continue;
            }
            Some(k) => k.v,
            None => continue,
        };
        if let Some(w) = &walk {
            if !(0.0..=1.0).contains(&w.v) {
                r.err(
                    w.span.clone(),
                    &fld("walk_probability"),
                    "outside [0, 1]",
                    "a chance in [0, 1]",
                );
            }
        }
        if let Some(v) = &speed {
            if v.v <= 0.0 {
                r.err(
                    v.span.clone(),
                    &fld("max_move_speed"),
                    "not > 0",
                    "a speed in km/day > 0",
                );
            }
        }
        let (Some(a), Some(b)) = (a, b) else { continue };
        routes.push(Route {
            a,
            b,
            km,
            forced_redirection: fr.map(|x| x.v.clamp(0, 2) as u8).unwrap_or(0),
            max_move_speed: speed.map(|x| x.v),
            walk_probability: walk.map(|x| x.v).unwrap_or(0.0),
        });
    }
    routes
}

/// `[[conflict]]`: each conflict zone's intensity over time.
fn read_conflicts(r: &mut Reader, root: &mut Tbl, places: &Places) -> Vec<ConflictSeries> {
    let mut conflicts = Vec::new();
    for mut t in root.tables(r, "conflict") {
        let place = t.str(r, "place", true, "a place id");
        let loc = places.find(r, &place, &t.field("place"));
        let day = t.array(r, "day", "days of each change");
        let inten = t.array(r, "intensity", "intensities in [0, 1]");
        let field = t.field("day");
        let tspan = t.span.clone();
        t.finish(r, &["place", "day", "intensity"]);
        let (Some(loc), Some(day), Some(inten)) = (loc, day, inten) else {
            continue;
        };
        if day.len() != inten.len() {
            r.err(
                tspan.clone(),
                &field,
                "day and intensity differ in length",
                "one intensity per day",
            );
            continue;
        }
        let mut changes: Vec<(u32, f64)> = Vec::new();
        for (d, v) in day.iter().zip(&inten) {
            let (Some(d), Some(v)) = (
                read::integer(r, d, &field, "a day ≥ 0"),
                read::number(r, v, &field, "in [0, 1]"),
            ) else {
                continue;
            };
            if d.v < 0 || changes.last().is_some_and(|&(l, _)| d.v as u32 <= l) {
                r.err(d.span, &field, "days must be ≥ 0 and increasing", "");
            } else if !(0.0..=1.0).contains(&v.v) {
                r.err(v.span, &field, "intensity outside [0, 1]", "");
            } else {
                changes.push((d.v as u32, v.v));
            }
        }
        conflicts.push(ConflictSeries { loc, changes });
    }
    conflicts
}

/// `[[policy]]`: closures (countries, a place, a link or a camp), dated
/// from the scenario's `start`.
fn read_closures(r: &mut Reader, root: &mut Tbl, places: &Places, start: Option<chrono::NaiveDate>) -> Vec<Closure> {
    let mut closures = Vec::new();
    for mut t in root.tables(r, "policy") {
        let kind = t.str(r, "kind", true, "closure");
        let countries = t.strs(r, "countries", false, "two countries");
        let place = t.str(r, "place", false, "a place id");
        let link = t.strs(r, "link", false, "two place ids");
        let camp = t.str(r, "camp", false, "a camp's id");
        let idp = t.bool(r, "idp", "").map(|x| x.v).unwrap_or(false);
        let from = t.date(r, "from", true);
        let until = t.date(r, "until", false);
        let (tpath, tspan) = (t.path.clone(), t.span.clone());
        let fld = |k: &str| format!("{tpath}.{k}");
        t.finish(r, POLICY);
        if let Some(k) = &kind {
            if k.v != "closure" {
                r.err(
                    k.span.clone(),
                    &fld("kind"),
                    "flee scenarios have closure policies only",
                    "kind = \"closure\"",
                );
                continue;
            }
        }
        let ck = if let Some(c) = countries {
            if c.len() != 2 {
                r.err(tspan.clone(), &fld("countries"), "expected two countries", "");
                continue;
            }
            ClosureKind::Country(c[0].v.clone(), c[1].v.clone())
        } else if place.is_some() {
            match places.find(r, &place, &fld("place")) {
                Some(l) => ClosureKind::Location(l),
                None => continue,
            }
        } else if let Some(l) = link {
            if l.len() != 2 {
                r.err(tspan.clone(), &fld("link"), "expected two place ids", "");
                continue;
            }
            match (
                places.find(r, &Some(l[0].clone()), &fld("link")),
                places.find(r, &Some(l[1].clone()), &fld("link")),
            ) {
                (Some(a), Some(b)) => ClosureKind::Link(a, b),
                _ => continue,
            }
        } else if camp.is_some() {
            match places.find(r, &camp, &fld("camp")) {
                Some(l) => ClosureKind::Camp { loc: l, idp },
                None => continue,
            }
        } else {
            let span = r.head(&tspan);
            r.err(span, &tpath, "a closure needs countries, place, link or camp", "");
            continue;
        };
        let (Some(from), Some(st)) = (from, start) else {
            continue;
        };
        let s0 = (from.v - st).num_days();
        let end = match until {
            Some(u) if u.v < from.v => {
                r.err(
                    u.span,
                    &fld("until"),
                    "until is before from",
                    "until is the last day closed",
                );
                continue;
            }
            Some(u) => Some((u.v - st).num_days() + 1),
            None => None,
        };
        if s0 < 0 {
            r.err(from.span, &fld("from"), "before the scenario's start", "");
            continue;
        }
        closures.push(Closure {
            kind: ck,
            start: s0,
            end,
        });
    }
    closures
}
