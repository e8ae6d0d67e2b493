//! Problems found in a scenario file, and their rendering for people.
//!
//! Owns the error type of loading. Rendering (codespan-reporting) lives here
//! so that the library hands the binary one value that knows how to show
//! itself; the binary chooses colour and the exit code.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One thing wrong with a scenario: where, which field, what, and what
/// would be valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Byte range in the file; `None` for problems of the file as a whole.
    pub span: Option<Range<usize>>,
    /// The field, as a path (`place[3].lat`, `population[caravan].people`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What would be valid.
    pub help: Option<String>,
}

impl Problem {
    /// A problem at `span` in `field`.
    pub fn new(span: Option<Range<usize>>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            span,
            field: field.into(),
            message: message.into(),
            help: None,
        }
    }

    /// Adds what would be valid.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{path}: not UTF-8 text (invalid byte at offset {offset}); save the scenario as UTF-8")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// First invalid byte.
        offset: usize,
    },
    /// Problems in several files of one scenario (a Flee folder), each
    /// reported whole.
    #[error("{} files of the scenario have problems", .0.len())]
    Several(Vec<LoadError>),
    /// The file was read but is not a valid scenario.
    #[error("{path}: {} problem{} in the file", problems.len(), if problems.len() == 1 { "" } else { "s" })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Its text, for rendering the problems in place.
        text: String,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

impl LoadError {
    /// Problems, if the file was read (empty otherwise; the first file's
    /// for several).
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Invalid { problems, .. } => problems,
            LoadError::Several(v) => v.first().map(|e| e.problems()).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// One error for the errors of several files (`None` if there are none).
    pub fn combine(errors: Vec<LoadError>) -> Option<LoadError> {
        let mut flat = Vec::new();
        for e in errors {
            match e {
                LoadError::Several(v) => flat.extend(v),
                e => flat.push(e),
            }
        }
        match flat.len() {
            0 => None,
            1 => flat.pop(),
            _ => Some(LoadError::Several(flat)),
        }
    }

    /// The file the error is about (the first file's for several).
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Io { path, .. } | LoadError::NotUtf8 { path, .. } | LoadError::Invalid { path, .. } => path,
            LoadError::Several(v) => v.first().map(|e| e.path()).unwrap_or(Path::new("")),
        }
    }

    /// Every problem of every file, placed and rendered one by one (for an
    /// embedder that lists them, as the Python package's
    /// `ScenarioError.problems`), in linear time. A file that could not be
    /// read is, among several, one problem of the file as a whole; alone,
    /// it has no problems.
    pub fn located(&self) -> Vec<Located> {
        let mut out = Vec::new();
        match self {
            LoadError::Several(v) => {
                for e in v {
                    match e {
                        LoadError::Invalid { .. } | LoadError::Several(_) => out.extend(e.located()),
                        e => out.push(Located {
                            file: e.path().to_path_buf(),
                            line: None,
                            column: None,
                            field: String::new(),
                            message: e.to_string(),
                            help: None,
                            rendered: e.render(),
                        }),
                    }
                }
            }
            LoadError::Invalid { path, text, problems } => {
                let r = Renderer::new(path, text);
                out.extend(problems.iter().map(|p| {
                    let (at, rendered) = r.render(p);
                    Located {
                        file: path.clone(),
                        line: at.map(|x| x.0),
                        column: at.map(|x| x.1),
                        field: p.field.clone(),
                        message: p.message.clone(),
                        help: p.help.clone(),
                        rendered,
                    }
                }));
            }
            LoadError::Io { .. } | LoadError::NotUtf8 { .. } => {}
        }
        out
    }

    /// Renders the error for a person: each problem with file, line and
    /// column, the offending text, and what would be valid.
    pub fn render(&self) -> String {
        if let LoadError::Several(v) = self {
            let mut out: String = v.iter().map(|e| e.render()).collect();
            out.push_str(&format!("error: {self}\n"));
            return out;
        }
        let LoadError::Invalid { path, text, problems } = self else {
            return format!("error: {self}\n");
        };
        let r = Renderer::new(path, text);
        let mut out: String = problems.iter().map(|p| r.render(p).1).collect();
        out.push_str(&format!("error: {self}\n"));
        out
    }
}

/// One problem of a scenario's file, with its place in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, if the problem has a place in the file.
    pub line: Option<usize>,
    /// 1-based column, in characters.
    pub column: Option<usize>,
    /// The field (empty for a file that could not be read).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// What would be valid.
    pub help: Option<String>,
    /// The problem as [`LoadError::render`] shows it.
    pub rendered: String,
}

/// Renders the problems of one file, its line starts indexed once so that
/// problems in their thousands render in linear time.
struct Renderer<'a> {
    path: &'a Path,
    text: &'a str,
    file: SimpleFile<String, &'a str>,
    lines: LineIndex,
    config: term::Config,
}

impl<'a> Renderer<'a> {
    fn new(path: &'a Path, text: &'a str) -> Renderer<'a> {
        Renderer {
            path,
            text,
            file: SimpleFile::new(path.display().to_string(), text),
            lines: LineIndex::new(text),
            config: term::Config::default(),
        }
    }

    /// The problem's line and column, and the problem rendered.
    fn render(&self, p: &Problem) -> (Option<(usize, usize)>, String) {
        let mut d = Diagnostic::error().with_message(format!("{}: {}", p.field, p.message));
        let at = p.span.as_ref().map(|span| self.lines.line_col(self.text, span.start));
        match (&p.span, at) {
            (Some(span), Some((line, col))) => {
                d = d.with_labels(vec![
                    Label::primary((), span.clone()).with_message(format!("line {line}, column {col}"))
                ]);
            }
            _ => d = d.with_notes(vec![format!("in {}", self.path.display())]),
        }
        if let Some(h) = &p.help {
            d = d.with_notes(vec![format!("help: {h}")]);
        }
        // Rendering into memory cannot fail for a span inside the text;
        // fall back to a plain line if it ever does.
        let s = term::emit_into_string(&self.config, &self.file, &d).unwrap_or_else(|_| plain(self.path, self.text, p));
        (at, s)
    }
}

fn plain(path: &Path, text: &str, p: &Problem) -> String {
    let (line, col) = p.span.as_ref().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
    format!("error: {}:{line}:{col}: {}: {}\n", path.display(), p.field, p.message)
}

/// Where each line of a text starts, for line and column of many offsets.
#[derive(Clone, Debug, Default)]
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex(starts)
    }

    /// 1-based line and column (in characters) of a byte offset in the
    /// text it indexed.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.0.partition_point(|&s| s <= offset).max(1);
        let start = self.0[line - 1].min(offset);
        (line, text[start..offset].chars().count() + 1)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

thread_local! {
    /// Candidates `closest` may still compare in this load: suggestions
    /// for thousands of unknown ids among thousands of declared ones would
    /// otherwise take time quadratic in the file's size.
    static SUGGESTIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(SUGGESTION_BUDGET) };
}

/// Candidate comparisons allowed per file read (a few seconds at most).
const SUGGESTION_BUDGET: u64 = 2_000_000;

/// Starts a new budget of "did you mean" comparisons: called when a file's
/// reading starts.
pub fn reset_suggestions() {
    SUGGESTIONS.with(|b| b.set(SUGGESTION_BUDGET));
}

/// The closest of `candidates` to `word`, if it is close enough to be a
/// likely typo. Gives `None` once this file's budget of comparisons is
/// spent (the problem is still reported, without the suggestion).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wlen = word.chars().count();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let left = SUGGESTIONS.with(|b| {
            let v = b.get();
            b.set(v.saturating_sub(1));
            v
        });
        if left == 0 {
            return None;
        }
        let clen = c.chars().count();
        let limit = (clen.max(wlen) / 3).max(1);
        // The edit distance is at least the difference in length.
        if clen.abs_diff(wlen) > limit || wlen > 200 || clen > 200 {
            continue;
        }
        let d = levenshtein(word, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbouring letters as one edit
/// (optimal string alignment), since `prot` for `port` is one typo.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 11), (2, 6));
    }

    #[test]
    fn every_problem_of_several_files_is_placed_in_its_own_file() {
        let a = LoadError::Invalid {
            path: "a.csv".into(),
            text: "name,lat\nx,abc\n".into(),
            problems: vec![Problem::new(Some(11..14), "lat", "`abc` is not a number").help("a number")],
        };
        let b = LoadError::Io {
            path: "b.csv".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        let c = LoadError::Invalid {
            path: "c.csv".into(),
            text: "é,1\n2,ü\n".into(),
            problems: vec![
                Problem::new(Some(7..9), "v", "not a number"),
                Problem::new(None, "file", "empty"),
            ],
        };
        let e = LoadError::combine(vec![a, LoadError::combine(vec![b, c]).expect("two")]).expect("three");
        assert!(matches!(&e, LoadError::Several(v) if v.len() == 3));
        assert_eq!(e.path(), Path::new("a.csv"));
        let l = e.located();
        let at: Vec<(&str, Option<usize>, Option<usize>, &str)> = l
            .iter()
            .map(|p| (p.file.to_str().unwrap_or(""), p.line, p.column, p.field.as_str()))
            .collect();
        assert_eq!(
            at,
            [
                ("a.csv", Some(2), Some(3), "lat"),
                ("b.csv", None, None, ""),
                ("c.csv", Some(2), Some(3), "v"),
                ("c.csv", None, None, "file"),
            ]
        );
        assert_eq!(l[0].help.as_deref(), Some("a number"));
        assert!(l[1].message.contains("cannot read b.csv"));
        let whole = e.render();
        for p in &l {
            assert!(!p.rendered.is_empty() && whole.contains(&p.rendered), "{}", p.rendered);
        }
    }

    #[test]
    fn a_file_that_could_not_be_read_alone_has_no_problems_to_place() {
        let e = LoadError::Io {
            path: "gone.toml".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert!(e.located().is_empty());
        assert_eq!(e.path(), Path::new("gone.toml"));
    }

    #[test]
    fn typos_find_their_key() {
        assert_eq!(closest("capacty", ["capacity", "claims"]), Some("capacity"));
        assert_eq!(closest("zzz", ["capacity", "claims"]), None);
    }
}
