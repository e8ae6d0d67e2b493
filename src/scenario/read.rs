//! Typed, spanned access to a parsed TOML document that collects every
//! problem instead of stopping at the first.
//!
//! Owns the first stage of loading: TOML values to Rust values with their
//! byte spans, and the one reader of `[[section]]` lists (`Tbl::list`).
//! Knows nothing of what a place or a route is; the field lists and
//! meanings live in `load`.

use super::diag::{closest, LoadError, Problem};
use super::uncertain::{Dist, Uncertain};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Reads `path` as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Parses `text` (from `path`) as TOML and reads it with `f`, which gets the
/// problem collector and the root table; root keys outside `root_keys` are
/// problems too. Gives `f`'s value if nothing was wrong, else every problem
/// in file order (never a bare failure: a reader that gives up without
/// saying why gets "incomplete").
pub(crate) fn read_toml<T>(
    text: &str,
    path: &Path,
    root_keys: &[&str],
    f: impl FnOnce(&mut Reader, &mut Tbl) -> Option<T>,
) -> Result<T, LoadError> {
    read_toml_marked(text, path, root_keys, None, f).map(|(v, _)| v)
}

/// As [`read_toml`], with uncertain marks (`{ value, range, dist }` in
/// place of a number) allowed and read as `marks` says; gives back the
/// marks found.
pub(crate) fn read_toml_marked<T>(
    text: &str,
    path: &Path,
    root_keys: &[&str],
    marks: Option<Marks>,
    f: impl FnOnce(&mut Reader, &mut Tbl) -> Option<T>,
) -> Result<(T, Option<Marks>), LoadError> {
    let invalid = |problems: Vec<Problem>| LoadError::Invalid {
        path: path.to_path_buf(),
        text: text.to_string(),
        problems,
    };
    let doc = toml::de::DeTable::parse(text).map_err(|e| {
        invalid(vec![Problem::new(
            e.span(),
            "TOML syntax",
            e.message().trim().to_string(),
        )
        .help("fix this first: parsing stops at the first syntax error")])
    })?;
    super::diag::reset_suggestions();
    let mut r = Reader::new(text);
    r.marks = marks;
    let mut root = Tbl::new(doc.get_ref(), "", doc.span());
    let result = f(&mut r, &mut root);
    root.finish(&mut r, root_keys);
    let marks = r.marks.take();
    let mut problems = r.problems;
    problems.sort_by_key(|p| p.span.as_ref().map(|s| s.start).unwrap_or(usize::MAX));
    problems.dedup();
    match result {
        Some(v) if problems.is_empty() => Ok((v, marks)),
        _ => {
            if problems.is_empty() {
                problems.push(Problem::new(None, "file", "the file is incomplete"));
            }
            Err(invalid(problems))
        }
    }
}

/// A value with the byte range it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Sp<T> {
    /// The value.
    pub v: T,
    /// Where it is in the file.
    pub span: Range<usize>,
}

impl<T> Sp<T> {
    pub(crate) fn new(v: T, span: Range<usize>) -> Self {
        Sp { v, span }
    }
}

/// Collects problems while values are read.
#[derive(Default)]
pub(crate) struct Reader<'t> {
    pub problems: Vec<Problem>,
    text: &'t str,
    lines: std::cell::OnceCell<super::diag::LineIndex>,
    /// Uncertain marks, where the file may have them (scenario files);
    /// `None` elsewhere (targets files, flee scenarios).
    pub marks: Option<Marks>,
}

/// Which value of an uncertain mark a number reads as.
#[derive(Clone, Debug, Default)]
pub(crate) enum Reading {
    /// Its `value`.
    #[default]
    Central,
    /// The value given for its path (its `value` for paths not given).
    Values(HashMap<String, f64>),
    /// The low end of its range (located at that end).
    Low,
    /// The high end of its range (located at that end).
    High,
}

/// The uncertain marks of a file as it is read, and how to read them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Marks {
    /// Every mark read, in the order read.
    pub found: Vec<Uncertain>,
    /// Which value a mark reads as.
    pub reading: Reading,
}

impl<'t> Reader<'t> {
    pub fn new(text: &'t str) -> Self {
        Reader {
            problems: Vec::new(),
            text,
            lines: std::cell::OnceCell::new(),
            marks: None,
        }
    }

    /// The 1-based line of a byte offset (the text is indexed once).
    pub fn line_of(&self, offset: usize) -> usize {
        self.lines
            .get_or_init(|| super::diag::LineIndex::new(self.text))
            .line_col(self.text, offset)
            .0
    }

    pub fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    pub fn err(&mut self, span: Range<usize>, field: &str, msg: impl Into<String>, help: impl Into<String>) {
        let help: String = help.into();
        let mut p = Problem::new(Some(span), field, msg);
        if !help.is_empty() {
            p = p.help(help);
        }
        self.problems.push(p);
    }

    /// The first line of a span, so a missing-field label points at a table's
    /// header rather than underlining the whole table.
    pub fn head(&self, span: &Range<usize>) -> Range<usize> {
        let start = span.start.min(self.text.len());
        let rest = &self.text[start..span.end.min(self.text.len()).max(start)];
        let len = rest.find('\n').unwrap_or(rest.len());
        start..start + len.max(1).min(self.text.len().saturating_sub(start).max(1))
    }
}

fn kind_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A table being read: remembers which keys were used so that the rest can
/// be reported as unknown.
pub(crate) struct Tbl<'a, 'i> {
    t: &'a DeTable<'i>,
    pub path: String,
    pub span: Range<usize>,
    seen: Vec<String>,
}

impl<'a, 'i> Tbl<'a, 'i> {
    pub fn new(t: &'a DeTable<'i>, path: impl Into<String>, span: Range<usize>) -> Self {
        Tbl {
            t,
            path: path.into(),
            span,
            seen: Vec::new(),
        }
    }

    /// Reads `v` as a table, or reports that it is not one.
    pub fn of(r: &mut Reader, v: &'a Spanned<DeValue<'i>>, path: String) -> Option<Self> {
        match v.get_ref() {
            DeValue::Table(t) => Some(Tbl::new(t, path, v.span())),
            other => {
                r.err(
                    v.span(),
                    &path,
                    format!("expected a table, found {}", kind_name(other)),
                    "",
                );
                None
            }
        }
    }

    pub fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    /// The raw value of `key`, marked as used.
    pub fn get(&mut self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.seen.push(key.to_string());
        self.t.get(key)
    }

    /// The raw value of `key`, without marking it used.
    pub fn peek(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.t.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.t.get(key).is_some()
    }

    fn missing(&self, r: &mut Reader, key: &str, help: &str) {
        let span = r.head(&self.span);
        r.err(span, &self.field(key), "required field is missing", help);
    }

    pub fn str(&mut self, r: &mut Reader, key: &str, required: bool, help: &str) -> Option<Sp<String>> {
        let field = self.field(key);
        match self.get(key) {
            None => {
                if required {
                    self.missing(r, key, help);
                }
                None
            }
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Some(Sp::new(s.to_string(), v.span())),
                other => {
                    r.err(
                        v.span(),
                        &field,
                        format!("expected a string, found {}", kind_name(other)),
                        help,
                    );
                    None
                }
            },
        }
    }

    /// A finite number (integers are accepted).
    pub fn num(&mut self, r: &mut Reader, key: &str, required: bool, help: &str) -> Option<Sp<f64>> {
        let field = self.field(key);
        let v = match self.get(key) {
            None => {
                if required {
                    self.missing(r, key, help);
                }
                return None;
            }
            Some(v) => v,
        };
        number(r, v, &field, help)
    }

    /// A whole number.
    pub fn int(&mut self, r: &mut Reader, key: &str, required: bool, help: &str) -> Option<Sp<i64>> {
        let field = self.field(key);
        let v = match self.get(key) {
            None => {
                if required {
                    self.missing(r, key, help);
                }
                return None;
            }
            Some(v) => v,
        };
        integer(r, v, &field, help)
    }

    pub fn bool(&mut self, r: &mut Reader, key: &str, help: &str) -> Option<Sp<bool>> {
        let field = self.field(key);
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, v.span())),
            other => {
                r.err(
                    v.span(),
                    &field,
                    format!("expected true or false, found {}", kind_name(other)),
                    help,
                );
                None
            }
        }
    }

    /// A date, written as a TOML date (`2025-08-06`) or a string.
    pub fn date(&mut self, r: &mut Reader, key: &str, required: bool) -> Option<Sp<NaiveDate>> {
        let field = self.field(key);
        let help = "write a calendar date as YYYY-MM-DD, e.g. 2025-08-06";
        let v = match self.get(key) {
            None => {
                if required {
                    self.missing(r, key, help);
                }
                return None;
            }
            Some(v) => v,
        };
        date(r, v, &field)
    }

    /// A string or a list of strings (a lone string is a list of one).
    pub fn strs(&mut self, r: &mut Reader, key: &str, required: bool, help: &str) -> Option<Vec<Sp<String>>> {
        let field = self.field(key);
        let v = match self.get(key) {
            None => {
                if required {
                    self.missing(r, key, help);
                }
                return None;
            }
            Some(v) => v,
        };
        match v.get_ref() {
            DeValue::String(s) => Some(vec![Sp::new(s.to_string(), v.span())]),
            DeValue::Array(a) => {
                let mut out = Vec::new();
                for (i, e) in a.iter().enumerate() {
                    match e.get_ref() {
                        DeValue::String(s) => out.push(Sp::new(s.to_string(), e.span())),
                        other => r.err(
                            e.span(),
                            &format!("{field}[{i}]"),
                            format!("expected a string, found {}", kind_name(other)),
                            help,
                        ),
                    }
                }
                Some(out)
            }
            other => {
                r.err(
                    v.span(),
                    &field,
                    format!("expected a list of strings, found {}", kind_name(other)),
                    help,
                );
                None
            }
        }
    }

    /// The raw array under `key`.
    pub fn array(&mut self, r: &mut Reader, key: &str, help: &str) -> Option<Vec<&'a Spanned<DeValue<'i>>>> {
        let field = self.field(key);
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Array(a) => Some(a.iter().collect()),
            other => {
                r.err(
                    v.span(),
                    &field,
                    format!("expected an array, found {}", kind_name(other)),
                    help,
                );
                None
            }
        }
    }

    /// A sub-table.
    pub fn sub(&mut self, r: &mut Reader, key: &str) -> Option<Tbl<'a, 'i>> {
        let field = self.field(key);
        let v = self.get(key)?;
        Tbl::of(r, v, field)
    }

    /// An array of tables (`[[place]]`).
    pub fn tables(&mut self, r: &mut Reader, key: &str) -> Vec<Tbl<'a, 'i>> {
        let field = self.field(key);
        let Some(v) = self.get(key) else { return Vec::new() };
        match v.get_ref() {
            DeValue::Array(a) => a
                .iter()
                .enumerate()
                .filter_map(|(i, e)| Tbl::of(r, e, format!("{field}[{i}]")))
                .collect(),
            other => {
                r.err(
                    v.span(),
                    &field,
                    format!("expected an array of tables, found {}", kind_name(other)),
                    format!("write each entry as a [[{key}]] table"),
                );
                Vec::new()
            }
        }
    }

    /// The one reader of an array of tables (`[[place]]`, `[[policy]]`,
    /// `[[variant.policy]]`, …): each item is read by `item` (which gets
    /// the context `cx`, whose reader records problems, and the item's
    /// table, its path `key[i]` until `item` names it with
    /// [`Tbl::name_after`]), then its unread keys are reported as unknown
    /// against `keys`. Gives the items `item` accepted, in file order. A
    /// value that is not an array of tables, or an item that is not a
    /// table, is reported here too, so every list says the same.
    pub fn list<'t, C: AsMut<Reader<'t>>, T>(
        &mut self,
        cx: &mut C,
        key: &str,
        keys: Keys,
        mut item: impl FnMut(&mut C, &mut Tbl<'a, 'i>) -> Option<T>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for mut t in self.tables(cx.as_mut(), key) {
            out.extend(item(cx, &mut t));
            let valid = keys.of(&t);
            t.finish(cx.as_mut(), &valid);
        }
        out
    }

    /// Names a list item after its id (`place[3]` → `place[tapachula]`) so
    /// that every later message names the item, not its position.
    pub fn name_after(&mut self, name: &str) {
        let stem = self.path.rfind('[').map_or(self.path.as_str(), |b| &self.path[..b]);
        self.path = format!("{stem}[{name}]");
    }

    /// The items of `[[key]]` that are tables, without reading them or
    /// reporting anything: for a look ahead at what later items name.
    pub fn peek_tables(&self, key: &str) -> Vec<Tbl<'a, 'i>> {
        let Some(DeValue::Array(a)) = self.peek(key).map(|v| v.get_ref()) else {
            return Vec::new();
        };
        a.iter()
            .filter_map(|e| match e.get_ref() {
                DeValue::Table(t) => Some(Tbl::new(t, String::new(), e.span())),
                _ => None,
            })
            .collect()
    }

    /// The entries of this table, in key order, each with its key's span.
    pub fn entries(&self) -> impl Iterator<Item = (Sp<&'a str>, &'a Spanned<DeValue<'i>>)> + '_ {
        self.t.iter().map(|(k, v)| (Sp::new(k.get_ref().as_ref(), k.span()), v))
    }

    /// Reports every key that was not read as unknown, with the valid ones.
    pub fn finish(self, r: &mut Reader, valid: &[&str]) {
        for (k, _) in self.t.iter() {
            let name: &str = k.get_ref().as_ref();
            if self.seen.iter().any(|s| s == name) {
                continue;
            }
            let mut help = format!("valid keys here: {}", valid.join(", "));
            if let Some(c) = closest(name, valid.iter().copied()) {
                help = format!("did you mean `{c}`? {help}");
            }
            r.err(k.span(), &self.field(name), "unknown key", help);
        }
    }
}

/// The keys valid in each item of a [`Tbl::list`].
pub(crate) enum Keys<'k> {
    /// The same for every item.
    Fixed(&'k [&'k str]),
    /// Following what the item says (a policy's keys follow its kind).
    Of(fn(&Tbl) -> Vec<&'static str>),
}

impl Keys<'_> {
    fn of(&self, t: &Tbl) -> Vec<&str> {
        match self {
            Keys::Fixed(k) => k.to_vec(),
            Keys::Of(f) => f(t),
        }
    }
}

/// A bare reader is its own context for [`Tbl::list`].
impl<'t> AsMut<Reader<'t>> for Reader<'t> {
    fn as_mut(&mut self) -> &mut Reader<'t> {
        self
    }
}

/// A finite number from a value (or from an uncertain mark, where the
/// file may have them: the value it reads as).
pub(crate) fn number(r: &mut Reader, v: &Spanned<DeValue<'_>>, field: &str, help: &str) -> Option<Sp<f64>> {
    if let Some(x) = marked(r, v, field, help, false) {
        return x;
    }
    plain_number(r, v, field, help)
}

fn plain_number(r: &mut Reader, v: &Spanned<DeValue<'_>>, field: &str, help: &str) -> Option<Sp<f64>> {
    let parsed = match v.get_ref() {
        DeValue::Integer(i) => parse_int(i.as_str(), i.radix()).map(|x| x as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
        other => {
            r.err(
                v.span(),
                field,
                format!("expected a number, found {}", kind_name(other)),
                help,
            );
            return None;
        }
    };
    match parsed {
        Some(x) if x.is_finite() => Some(Sp::new(x, v.span())),
        Some(x) => {
            r.err(
                v.span(),
                field,
                format!("{x} is not a finite number"),
                "write a finite number (not nan or inf)",
            );
            None
        }
        None => {
            r.err(v.span(), field, "number out of range", help);
            None
        }
    }
}

/// A whole number from a value (or from an uncertain mark: the value it
/// reads as, rounded).
pub(crate) fn integer(r: &mut Reader, v: &Spanned<DeValue<'_>>, field: &str, help: &str) -> Option<Sp<i64>> {
    if let Some(x) = marked(r, v, field, help, true) {
        return x.map(|x| Sp::new(x.v.round() as i64, x.span));
    }
    plain_integer(r, v, field, help)
}

fn plain_integer(r: &mut Reader, v: &Spanned<DeValue<'_>>, field: &str, help: &str) -> Option<Sp<i64>> {
    match v.get_ref() {
        DeValue::Integer(i) => match parse_int(i.as_str(), i.radix()) {
            Some(x) => Some(Sp::new(x, v.span())),
            None => {
                r.err(v.span(), field, "integer out of range", help);
                None
            }
        },
        DeValue::Float(f) => {
            let x = f.as_str().replace('_', "").parse::<f64>().unwrap_or(f64::NAN);
            if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
                Some(Sp::new(x as i64, v.span()))
            } else {
                r.err(
                    v.span(),
                    field,
                    format!("expected a whole number, found {}", f.as_str()),
                    help,
                );
                None
            }
        }
        other => {
            r.err(
                v.span(),
                field,
                format!("expected a whole number, found {}", kind_name(other)),
                help,
            );
            None
        }
    }
}

/// A date from a value.
pub(crate) fn date(r: &mut Reader, v: &Spanned<DeValue<'_>>, field: &str) -> Option<Sp<NaiveDate>> {
    let help = "write a calendar date as YYYY-MM-DD, e.g. 2025-08-06";
    let d = match v.get_ref() {
        DeValue::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32),
            _ => {
                r.err(v.span(), field, "expected a date without a time of day", help);
                return None;
            }
        },
        DeValue::String(s) => crate::time::parse_date(s),
        other => {
            r.err(
                v.span(),
                field,
                format!("expected a date, found {}", kind_name(other)),
                help,
            );
            return None;
        }
    };
    match d {
        Some(d) => Some(Sp::new(d, v.span())),
        None => {
            r.err(v.span(), field, "not a valid calendar date", help);
            None
        }
    }
}

fn parse_int(s: &str, radix: u32) -> Option<i64> {
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let body = match radix {
        16 => body.trim_start_matches("0x").to_string(),
        8 => body.trim_start_matches("0o").to_string(),
        2 => body.trim_start_matches("0b").to_string(),
        _ => body,
    };
    let x = i64::from_str_radix(&body, radix).ok()?;
    Some(if neg { -x } else { x })
}

/// The keys of an uncertain mark.
pub const MARK_KEYS: &[&str] = &["value", "range", "dist", "input"];

/// A field's path in the dotted form of `scenario::params`
/// (`population[caravan].people` → `population.caravan.people`).
pub fn dotted(field: &str) -> String {
    field.replace('[', ".").replace(']', "")
}

/// `Some(result)` if `v` is a table where a number belongs and the file
/// may have uncertain marks: the mark read (its value as the reader's
/// [`Reading`] says), or `Some(None)` with the problems recorded. `None`
/// for anything else (the caller reads it as a plain number).
fn marked(r: &mut Reader, v: &Spanned<DeValue<'_>>, field: &str, help: &str, whole: bool) -> Option<Option<Sp<f64>>> {
    let DeValue::Table(t) = v.get_ref() else { return None };
    r.marks.as_ref()?;
    let mark_help = "an uncertain input is written { value = 0.3, range = [0.1, 0.6] }, optionally with \
                     dist = \"uniform\" (the default), \"triangular\" (its mode at value) or \"loguniform\"";
    if t.get("value").is_none() {
        r.err(
            v.span(),
            field,
            "expected a number, found a table",
            format!("{help}; or, if it is uncertain, {mark_help}"),
        );
        return Some(None);
    }
    let before = r.problems.len();
    let mut m = Tbl::new(t, field.to_string(), v.span());
    let value = m
        .get("value")
        .and_then(|x| mark_number(r, x, &m.field("value"), whole, help));
    let ends = mark_range(r, &mut m, v, whole, help);
    let dist = mark_dist(r, &mut m);
    let name = m.str(
        r,
        "input",
        false,
        "a name shared by the marks of one uncertain input written in several places",
    );
    let (value_field, range_field) = (m.field("value"), m.field("range"));
    m.finish(r, MARK_KEYS);
    let (Some(value), Some(ends), Some(dist)) = (value, ends, dist) else {
        return Some(None);
    };
    let (lo, hi) = (&ends[0], &ends[1]);
    check_mark_range(r, &value, lo, hi, dist, &value_field, &range_field);
    if r.problems.len() > before {
        return Some(None);
    }
    // A named input is one unknown written in several places: its path is
    // its name, and every mark of it says the same.
    let named = name.is_some();
    let path = match name {
        Some(n) => format!("input.{}", n.v),
        None => dotted(field),
    };
    let mark = Uncertain {
        path: path.clone(),
        value: value.v,
        low: lo.v,
        high: hi.v,
        dist,
        whole,
        line: r.line_of(v.span().start),
    };
    if !record_mark(r, v, field, named, mark) {
        return Some(None);
    }
    Some(Some(match &r.marks.as_ref()?.reading {
        Reading::Central => value,
        Reading::Values(m) => Sp::new(m.get(&path).copied().unwrap_or(value.v), value.span),
        Reading::Low => lo.clone(),
        Reading::High => hi.clone(),
    }))
}

/// What a mark's `range` means, shared by every problem with it.
const RANGE_HELP: &str = "range = [low, high]: the low and high ends of what the value may be, low < high";

/// A number inside a mark: whole where the field takes whole numbers, so
/// that a mark cannot slip a fraction into a count.
fn mark_number(r: &mut Reader, x: &Spanned<DeValue<'_>>, field: &str, whole: bool, help: &str) -> Option<Sp<f64>> {
    if whole {
        plain_integer(r, x, field, help).map(|i| Sp::new(i.v as f64, i.span))
    } else {
        plain_number(r, x, field, help)
    }
}

/// A mark's `range`: exactly two numbers. Both ends are read even if the
/// first is wrong, so that both problems are reported at once.
fn mark_range(r: &mut Reader, m: &mut Tbl, v: &Spanned<DeValue<'_>>, whole: bool, help: &str) -> Option<Vec<Sp<f64>>> {
    match m.get("range") {
        None => {
            let span = r.head(&v.span());
            r.err(span, &m.field("range"), "an uncertain input needs a range", RANGE_HELP);
            None
        }
        Some(x) => match x.get_ref() {
            DeValue::Array(a) if a.len() == 2 => {
                let f = m.field("range");
                let end_help = if whole { "a whole number" } else { help };
                let e: Vec<Option<Sp<f64>>> = a
                    .iter()
                    .enumerate()
                    .map(|(i, e)| mark_number(r, e, &format!("{f}[{i}]"), whole, end_help))
                    .collect();
                e.into_iter().collect()
            }
            _ => {
                r.err(x.span(), &m.field("range"), "expected two numbers", RANGE_HELP);
                None
            }
        },
    }
}

/// A mark's `dist`, uniform when absent: the least assumption about a
/// range whose shape the author did not state.
fn mark_dist(r: &mut Reader, m: &mut Tbl) -> Option<Dist> {
    let d = match m.str(r, "dist", false, "") {
        None => return Some(Dist::Uniform),
        Some(d) => d,
    };
    if let Some((_, k)) = Dist::NAMES.iter().find(|(n, _)| *n == d.v) {
        return Some(*k);
    }
    let names: Vec<&str> = Dist::NAMES.iter().map(|(n, _)| *n).collect();
    let dym = closest(&d.v, names.iter().copied())
        .map(|c| format!("did you mean \"{c}\"? "))
        .unwrap_or_default();
    r.err(
        d.span,
        &m.field("dist"),
        format!("unknown distribution \"{}\"", d.v),
        format!("{dym}valid: {}", names.join(", ")),
    );
    None
}

/// The checks between a mark's parts: a range that can be drawn from,
/// holding the fixed value, and (for loguniform) above zero. Only the
/// first that fails is reported: the later ones assume the earlier.
fn check_mark_range(
    r: &mut Reader,
    value: &Sp<f64>,
    lo: &Sp<f64>,
    hi: &Sp<f64>,
    dist: Dist,
    value_field: &str,
    range_field: &str,
) {
    if lo.v >= hi.v {
        r.err(
            hi.span.start.min(lo.span.start)..hi.span.end.max(lo.span.end),
            range_field,
            format!("the range [{}, {}] is empty", lo.v, hi.v),
            RANGE_HELP,
        );
    } else if value.v < lo.v || value.v > hi.v {
        r.err(
            value.span.clone(),
            value_field,
            format!("{} is outside its range [{}, {}]", value.v, lo.v, hi.v),
            "the value (used when inputs are fixed) must lie within the range",
        );
    } else if dist == Dist::LogUniform && lo.v <= 0.0 {
        r.err(
            lo.span.clone(),
            range_field,
            format!("a loguniform range must be above 0, and starts at {}", lo.v),
            "use dist = \"uniform\", or a low end > 0",
        );
    }
}

/// Records a mark under its path, once: a mark met again on its own line
/// is the same mark, not a second input, and a named input's other marks
/// must say the same. `false` with the problem reported when
/// the path is taken by a different mark.
fn record_mark(r: &mut Reader, v: &Spanned<DeValue<'_>>, field: &str, named: bool, mark: Uncertain) -> bool {
    let first = r
        .marks
        .as_ref()
        .and_then(|m| m.found.iter().find(|u| u.path == mark.path).cloned());
    let path = &mark.path;
    match first {
        Some(u) if u.line == mark.line => {}
        Some(u)
            if named
                && (u.value, u.low, u.high, u.dist, u.whole)
                    == (mark.value, mark.low, mark.high, mark.dist, mark.whole) => {}
        Some(u) if named => {
            r.err(
                v.span(),
                field,
                format!("the uncertain input `{path}` is written differently here"),
                format!(
                    "on line {} it is {{ value = {}, range = [{}, {}], dist = \"{}\" }}; the marks of one \
                     named input say the same",
                    u.line,
                    u.value,
                    u.low,
                    u.high,
                    u.dist.name()
                ),
            );
            return false;
        }
        Some(u) => {
            r.err(
                v.span(),
                field,
                format!("a second uncertain input with the path `{path}`"),
                format!(
                    "the first is on line {}; give the route (or table) an id so that each input has its own \
                     path, or name one input written in several places with input = \"…\"",
                    u.line
                ),
            );
            return false;
        }
        None => {
            if let Some(m) = r.marks.as_mut() {
                m.found.push(mark);
            }
        }
    }
    true
}
