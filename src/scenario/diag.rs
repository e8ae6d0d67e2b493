//! Problems found in a scenario file, and their rendering for people.
//!
//! Owns the error type of loading. Rendering (codespan-reporting) lives here
//! so that the library hands the binary one value that knows how to show
//! itself; the binary chooses colour and the exit code.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use std::ops::Range;
use std::path::PathBuf;

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
    /// The file was read but is not a valid scenario.
    #[error("{path}: {} problem{} in the scenario", problems.len(), if problems.len() == 1 { "" } else { "s" })]
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
    /// Problems, if the file was read (empty otherwise).
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LoadError::Io { path, .. } | LoadError::NotUtf8 { path, .. } | LoadError::Invalid { path, .. } => path,
        }
    }

    /// 1-based line and column of a problem's start, if it has a place in
    /// the file.
    pub fn line_col(&self, p: &Problem) -> Option<(usize, usize)> {
        match (self, &p.span) {
            (LoadError::Invalid { text, .. }, Some(span)) => Some(line_col(text, span.start)),
            _ => None,
        }
    }

    /// Renders the error for a person: each problem with file, line and
    /// column, the offending text, and what would be valid.
    pub fn render(&self) -> String {
        let LoadError::Invalid { problems, .. } = self else {
            return format!("error: {self}\n");
        };
        let mut out: String = problems.iter().map(|p| self.render_problem(p)).collect();
        out.push_str(&format!("error: {self}\n"));
        out
    }

    /// Renders one problem as [`LoadError::render`] shows it.
    pub fn render_problem(&self, p: &Problem) -> String {
        let LoadError::Invalid { path, text, .. } = self else {
            return String::new();
        };
        let file = SimpleFile::new(path.display().to_string(), text.as_str());
        let config = term::Config::default();
        let mut d = Diagnostic::error().with_message(format!("{}: {}", p.field, p.message));
        match &p.span {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                d = d.with_labels(vec![
                    Label::primary((), span.clone()).with_message(format!("line {line}, column {col}"))
                ]);
            }
            None => d = d.with_notes(vec![format!("in {}", path.display())]),
        }
        if let Some(h) = &p.help {
            d = d.with_notes(vec![format!("help: {h}")]);
        }
        // Rendering into memory cannot fail for a span inside the text;
        // fall back to a plain line if it ever does.
        term::emit_into_string(&config, &file, &d).unwrap_or_else(|_| plain(path, text, p))
    }
}

fn plain(path: &std::path::Path, text: &str, p: &Problem) -> String {
    let (line, col) = p.span.as_ref().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
    format!("error: {}:{line}:{col}: {}: {}\n", path.display(), p.field, p.message)
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

/// The closest of `candidates` to `word`, if it is close enough to be a
/// likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
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
    fn typos_find_their_key() {
        assert_eq!(closest("capacty", ["capacity", "claims"]), Some("capacity"));
        assert_eq!(closest("zzz", ["capacity", "claims"]), None);
    }
}
