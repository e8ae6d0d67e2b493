//! Flee's loose CSV and YAML, read with byte positions so that every problem
//! can name its file, line and column.
//!
//! Owns tokenising only: quoted fields, `#` header and comment rows, rows of
//! any length, and the small YAML subset `simsetting.yml` files use. What the
//! fields mean belongs to `import`.

use crate::scenario::{LoadError, Problem};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One field of a CSV row: its text (quotes removed) and where it was.
#[derive(Clone, Debug)]
pub struct Field {
    /// The text, unquoted and trimmed of surrounding spaces.
    pub text: String,
    /// Byte range in the file.
    pub span: Range<usize>,
}

/// One row: its fields and the span of the whole line.
#[derive(Clone, Debug)]
pub struct Row {
    /// Fields in order.
    pub fields: Vec<Field>,
    /// The line.
    pub span: Range<usize>,
}

impl Row {
    /// Whether the row is a header or comment (`#` first, quoted or not).
    pub fn is_comment(&self) -> bool {
        self.fields.first().is_some_and(|f| f.text.starts_with('#'))
    }

    /// Field `i`, if the row has it.
    pub fn get(&self, i: usize) -> Option<&Field> {
        self.fields.get(i)
    }

    /// Field `i`'s text, or "" if the row is shorter.
    pub fn text(&self, i: usize) -> &str {
        self.fields.get(i).map(|f| f.text.as_str()).unwrap_or("")
    }

    /// Where field `i` is, or the end of the line if the row is shorter.
    pub fn span_of(&self, i: usize) -> Range<usize> {
        match self.fields.get(i) {
            Some(f) => f.span.clone(),
            None => self.span.end..self.span.end,
        }
    }
}

/// A text file being read, with the problems found in it.
pub struct Source {
    /// Where it came from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Problems found so far.
    pub problems: Vec<Problem>,
}

impl Source {
    /// Reads `path` as UTF-8 text.
    pub fn read(path: &Path) -> Result<Source, LoadError> {
        Ok(Source {
            path: path.to_path_buf(),
            text: crate::scenario::read::read_text(path)?,
            problems: Vec::new(),
        })
    }

    /// Reads `path`, which must lie inside `folder` once symbolic links are
    /// resolved: a scenario folder never makes northbound read (and quote
    /// in its messages) a file outside it.
    pub fn read_inside(path: &Path, folder: &Path) -> Result<Source, LoadError> {
        if !inside(path, folder) {
            return Err(LoadError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "it leads outside {} (a symbolic link?); northbound reads only files inside a \
                         scenario's folder: copy the file there",
                        folder.display()
                    ),
                ),
            });
        }
        Source::read(path)
    }

    /// Notes a problem at `span`.
    pub fn err(&mut self, span: Range<usize>, field: &str, msg: impl Into<String>, help: impl Into<String>) {
        let help = help.into();
        let mut p = Problem::new(Some(span), field, msg);
        if !help.is_empty() {
            p = p.help(help);
        }
        self.problems.push(p);
    }

    /// Notes a problem of the file as a whole (at its start), unless one
    /// was found already: "nothing here" is only news in an otherwise good file.
    pub fn missing(&mut self, field: &str, msg: &str, help: &str) {
        if self.problems.is_empty() {
            let n = self.text.len().min(1);
            self.err(0..n, field, msg, help);
        }
    }

    /// Whether `row` has fewer than `min` fields, noting the problem if so;
    /// `layout` shows the expected columns.
    pub fn too_short(&mut self, row: &Row, min: usize, field: &str, what: &str, layout: &str) -> bool {
        if row.fields.len() >= min {
            return false;
        }
        let msg = format!("{} fields; {what} needs at least {min}", row.fields.len());
        self.err(row.span.clone(), field, msg, layout);
        true
    }

    /// The file's error, if any problem was found.
    pub fn check(&mut self) -> Result<(), LoadError> {
        if self.problems.is_empty() {
            return Ok(());
        }
        self.problems
            .sort_by_key(|p| p.span.as_ref().map(|s| s.start).unwrap_or(usize::MAX));
        Err(LoadError::Invalid {
            path: self.path.clone(),
            text: self.text.clone(),
            problems: std::mem::take(&mut self.problems),
        })
    }

    /// The rows of the file as CSV (RFC 4180 quoting, as Python's `csv`
    /// module reads it); empty lines are dropped.
    pub fn rows(&self) -> Vec<Row> {
        let t = self.text.as_bytes();
        let mut rows = Vec::new();
        let mut i = 0;
        while i < t.len() {
            let line_start = i;
            let mut fields = Vec::new();
            loop {
                // One field starting at i.
                let mut text = Vec::new();
                let start = i;
                while i < t.len() && (t[i] == b' ' || t[i] == b'\t') {
                    i += 1;
                }
                if i < t.len() && t[i] == b'"' {
                    i += 1;
                    while i < t.len() {
                        if t[i] == b'"' {
                            if i + 1 < t.len() && t[i + 1] == b'"' {
                                text.push(b'"');
                                i += 2;
                                continue;
                            }
                            i += 1;
                            break;
                        }
                        text.push(t[i]);
                        i += 1;
                    }
                    while i < t.len() && t[i] != b',' && t[i] != b'\n' && t[i] != b'\r' {
                        text.push(t[i]);
                        i += 1;
                    }
                } else {
                    while i < t.len() && t[i] != b',' && t[i] != b'\n' && t[i] != b'\r' {
                        text.push(t[i]);
                        i += 1;
                    }
                }
                let s = String::from_utf8_lossy(&text).trim().to_string();
                fields.push(Field {
                    text: s,
                    span: start..i,
                });
                if i < t.len() && t[i] == b',' {
                    i += 1;
                    continue;
                }
                break;
            }
            let line_end = i;
            while i < t.len() && (t[i] == b'\r' || t[i] == b'\n') {
                if t[i] == b'\n' {
                    i += 1;
                    break;
                }
                i += 1;
            }
            let empty = fields.len() == 1 && fields[0].text.is_empty();
            if !empty {
                rows.push(Row {
                    fields,
                    span: line_start..line_end,
                });
            }
        }
        rows
    }
}

/// Whether `path` (which may not exist yet) lies inside `folder`, with
/// symbolic links resolved.
pub fn inside(path: &Path, folder: &Path) -> bool {
    match (path.canonicalize(), folder.canonicalize()) {
        (Ok(p), Ok(f)) => p.starts_with(f),
        // A file that cannot be resolved is reported as missing by its reader.
        _ => true,
    }
}

/// A YAML value of the subset Flee's settings use.
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    /// A scalar (`True`, `200.0`, `location`).
    Scalar(String),
    /// A flow list (`[1.0, 0.5]`).
    List(Vec<String>),
    /// A mapping, in file order.
    Map(Vec<YamlEntry>),
}

/// One `key: value` of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlEntry {
    /// The key.
    pub key: String,
    /// Where the key is.
    pub span: Range<usize>,
    /// Where the value is (the key, for a nested mapping).
    pub value_span: Range<usize>,
    /// The value.
    pub value: Yaml,
}

impl Source {
    /// Reads the file as an indented YAML mapping of scalars, flow lists and
    /// nested mappings: the shape of every `simsetting.yml`. Anything else
    /// is a problem of the file.
    pub fn yaml(&mut self) -> Yaml {
        struct Line {
            indent: usize,
            key: String,
            key_span: Range<usize>,
            value: String,
            value_span: Range<usize>,
        }
        let mut lines = Vec::new();
        let mut off = 0;
        let text = self.text.clone();
        for raw in text.split_inclusive('\n') {
            let start = off;
            off += raw.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            let content = match line.find(" #") {
                Some(k) => &line[..k],
                None => line,
            };
            if content.trim().is_empty() || content.trim_start().starts_with('#') || content.trim() == "---" {
                continue;
            }
            let indent = content.len() - content.trim_start().len();
            let Some(colon) = content.find(':') else {
                self.err(
                    start + indent..start + content.len(),
                    "simsetting.yml",
                    "expected `key: value`",
                    "Flee settings are a mapping of sections (move_rules, spawn_rules, …) to `key: value` lines",
                );
                continue;
            };
            let key = content[indent..colon].trim().to_string();
            let v = &content[colon + 1..];
            let vstart = start + colon + 1 + (v.len() - v.trim_start().len());
            let value = v.trim().to_string();
            lines.push(Line {
                indent,
                key,
                key_span: start + indent..start + colon,
                value_span: vstart..vstart + value.len(),
                value,
            });
        }
        fn block(lines: &[Line], i: &mut usize, indent: usize, src: &mut Source) -> Vec<YamlEntry> {
            let mut out = Vec::new();
            while *i < lines.len() && lines[*i].indent >= indent {
                let l = &lines[*i];
                if l.indent > indent {
                    src.err(
                        l.key_span.clone(),
                        "simsetting.yml",
                        "unexpected indentation",
                        "indent the keys of one section by the same amount",
                    );
                    *i += 1;
                    continue;
                }
                let key = l.key.clone();
                let span = l.key_span.clone();
                let value = l.value.clone();
                let vspan = l.value_span.clone();
                *i += 1;
                let v = if value.is_empty() {
                    let child = lines.get(*i).map(|n| n.indent).filter(|&n| n > indent);
                    match child {
                        Some(n) => Yaml::Map(block(lines, i, n, src)),
                        None => Yaml::Map(Vec::new()),
                    }
                } else if value.starts_with('[') {
                    if !value.ends_with(']') {
                        src.err(
                            vspan.clone(),
                            "simsetting.yml",
                            "unclosed list",
                            "write the list on one line: [1.0, 0.5]",
                        );
                        Yaml::List(Vec::new())
                    } else {
                        let inner = &value[1..value.len() - 1];
                        Yaml::List(
                            inner
                                .split(',')
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty())
                                .collect(),
                        )
                    }
                } else {
                    Yaml::Scalar(value.trim_matches(['"', '\'']).to_string())
                };
                let value_span = if vspan.is_empty() { span.clone() } else { vspan };
                out.push(YamlEntry {
                    key,
                    span,
                    value_span,
                    value: v,
                });
            }
            out
        }
        let mut i = 0;
        let top = lines.first().map(|l| l.indent).unwrap_or(0);
        let entries = block(&lines, &mut i, top, self);
        Yaml::Map(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source {
            path: "t.csv".into(),
            text: text.into(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn quoted_names_with_commas_and_spaces_are_one_field() {
        let rows = src("\"#name\",x\n\"Commune of, Mabanda\", 12 ,\n\nA,B").rows();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].is_comment());
        assert_eq!(rows[1].text(0), "Commune of, Mabanda");
        assert_eq!(rows[1].text(1), "12");
        assert_eq!(rows[1].fields.len(), 3);
        assert_eq!(rows[2].text(1), "B");
    }

    #[test]
    fn yaml_sections_scalars_and_lists() {
        let mut s = src("log_levels:\n  agent: 0\nspawn_rules:\n  conflict_spawn_decay: [1.0,0.5] # c\n  insert_day0: True\nmove_rules:\n  max_move_speed: 200.0\noptimisations: \n  hasten: 10 \n");
        let Yaml::Map(top) = s.yaml() else { panic!() };
        assert!(s.problems.is_empty());
        assert_eq!(top.len(), 4);
        let Yaml::Map(spawn) = &top[1].value else { panic!() };
        assert_eq!(spawn[0].value, Yaml::List(vec!["1.0".into(), "0.5".into()]));
        let Yaml::Map(opt) = &top[3].value else { panic!() };
        assert_eq!(opt[0].value, Yaml::Scalar("10".into()));
    }
}
