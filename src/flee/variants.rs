//! `[[variant]]` of a `flee` scenario file: a named change of Flee's
//! movement settings that `compare` runs beside the base with common random
//! numbers, and the `flee.<setting>` parameter paths that variants and
//! `calibrate` set.
//!
//! ```toml
//! [[variant]]
//! id = "camp_weight_default"
//! description = "What if camps pulled no harder than Flee 3.1's default?"
//! source = "Flee 3.1 default camp_weight (simsetting.yml reference)"
//! [variant.set]
//! "flee.camp_weight" = 1.0
//! ```
//!
//! Owns the variant tables' syntax and checks, and setting or getting a
//! numeric Flee setting by path. Must not run anything, and reads nothing
//! but the `variant` tables (the rest of the file is `flee::scenario`'s).

use super::settings::{Kind, Settings, Value, KEYS};
use super::FleeScenario;
use crate::scenario::read::{self, Reader, Tbl};
use crate::scenario::LoadError;
use std::path::Path;

/// One variant of a flee scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct FleeVariant {
    /// Its id (a column and a folder name of `compare`).
    pub id: String,
    /// What it asks, for people.
    pub description: String,
    /// Where its values come from, or `assumption`.
    pub source: String,
    /// `flee.<setting>` paths and the values they take, in file order.
    pub set: Vec<(String, f64)>,
}

const VARIANT: &[&str] = &["id", "description", "source", "set"];

/// The numeric settings a path may name: every number of `flee::settings`
/// but `hasten` (people per agent is a choice of resolution, not of
/// behaviour; `--scale` sets it).
pub fn paths() -> impl Iterator<Item = String> {
    KEYS.iter()
        .filter(|(k, kind)| matches!(kind, Kind::Num | Kind::Count) && *k != "hasten")
        .map(|(k, _)| format!("flee.{k}"))
}

fn key(path: &str) -> Result<&str, String> {
    match path.strip_prefix("flee.") {
        Some(k) if paths().any(|p| p == path) => Ok(k),
        _ => {
            let valid: Vec<String> = paths().collect();
            let near = crate::scenario::diag::closest(path, valid.iter().map(String::as_str))
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            Err(format!(
                "`{path}` is not a settable flee parameter; {near}valid paths: {}",
                valid.join(", ")
            ))
        }
    }
}

/// The value of a `flee.<setting>` path.
pub fn get(s: &Settings, path: &str) -> Result<f64, String> {
    match s.get(key(path)?) {
        Some(Value::Num(x)) => Ok(x),
        _ => Err(format!("`{path}` is not a number")),
    }
}

/// Sets a `flee.<setting>` path; `Err` says what is valid.
pub fn set(s: &mut Settings, path: &str, v: f64) -> Result<(), String> {
    s.set(key(path)?, &Value::Num(v))
        .map_err(|valid| format!("{path} = {v}: expected {valid}"))
}

/// The scenario under a variant: only its settings change, so the same
/// agents with the same random streams run under every variant.
pub fn apply(sc: &FleeScenario, v: &FleeVariant) -> Result<FleeScenario, String> {
    let mut out = sc.clone();
    for (path, x) in &v.set {
        set(&mut out.settings, path, *x)?;
    }
    Ok(out)
}

/// Reads and checks the `[[variant]]` tables of a flee scenario being read
/// (called by `flee::scenario`'s reader, so that `check` and every command
/// see their problems with the file's others).
pub(crate) fn check(r: &mut Reader, root: &mut Tbl, settings: &Settings) {
    parse(r, root, settings);
}

/// The `[[variant]]` tables of a flee scenario file's text (already loaded
/// without problems by `flee::scenario`, so these are valid).
pub fn load(text: &str, path: &Path, settings: &Settings) -> Result<Vec<FleeVariant>, LoadError> {
    read::read_toml(text, path, &[], |r, root| {
        // Every other table is `flee::scenario`'s: mark them read.
        let keys: Vec<String> = root.entries().map(|(k, _)| k.v.to_string()).collect();
        for k in keys.iter().filter(|k| *k != "variant") {
            root.get(k);
        }
        Some(parse(r, root, settings))
    })
}

fn parse(r: &mut Reader, root: &mut Tbl, settings: &Settings) -> Vec<FleeVariant> {
    let mut out: Vec<FleeVariant> = Vec::new();
    for mut t in root.tables(r, "variant") {
        let id = t.str(r, "id", true, "a short name, e.g. \"camp_weight_default\"");
        let description = t.str(r, "description", false, "");
        let source = t.str(r, "source", true, "where the values come from, or \"assumption\"");
        let mut set = Vec::new();
        if let Some(s) = t.sub(r, "set") {
            let field = t.field("set");
            // `"flee.camp_weight" = 1` and `flee.camp_weight = 1` (a dotted
            // key: a `flee` table) say the same.
            let mut items = Vec::new();
            for (k, v) in s.entries() {
                let nested = k.v == "flee" && matches!(v.get_ref(), toml::de::DeValue::Table(_));
                match nested.then(|| Tbl::of(r, v, format!("{field}.flee"))).flatten() {
                    Some(inner) => {
                        items.extend(inner.entries().map(|(k2, v2)| (format!("flee.{}", k2.v), k2.span, v2)))
                    }
                    None => items.push((k.v.to_string(), k.span, v)),
                }
            }
            for (path, span, v) in items {
                let f = format!("{field}.{path}");
                let Some(x) = read::number(r, v, &f, "a number") else {
                    continue;
                };
                let mut probe = settings.clone();
                match self::set(&mut probe, &path, x.v) {
                    Ok(()) => set.push((path, x.v)),
                    Err(e) => r.err(span, &f, e, "flee.<setting> = number"),
                }
            }
        }
        let head = r.head(&t.span);
        t.finish(r, VARIANT);
        let Some(id) = id else { continue };
        if !crate::outdir::safe_name(&id.v) || out.iter().any(|v| v.id == id.v) {
            r.err(
                id.span,
                "variant.id",
                format!("`{}` is a duplicate or cannot name a folder", id.v),
                "ids are unique; letters, digits, `_`, `-` and `.`",
            );
            continue;
        }
        if set.is_empty() {
            r.err(
                head,
                "variant.set",
                "a variant changes nothing",
                "add [variant.set] with flee.<setting> = number",
            );
            continue;
        }
        out.push(FleeVariant {
            id: id.v,
            description: description.map(|d| d.v).unwrap_or_default(),
            source: source.map(|s| s.v).unwrap_or_default(),
            set,
        });
    }
    out
}
