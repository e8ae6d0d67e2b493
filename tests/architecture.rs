//! ARCHITECTURE.md's invariants that a test can check, checked: each rule
//! reads the sources under `src/` as text and fails with the offending file
//! and line. The rules are the ones the map states ("the only module that
//! knows TOML", "the engine does no I/O", "cli/ holds parsing and printing
//! only", one CSV writer, one page skeleton, one exit-code mapper, one
//! progress-bar builder, no function over 150 lines, every module says what
//! it owns).

use std::fs;
use std::path::{Path, PathBuf};

/// One source file: its path relative to the crate and its lines, with the
/// lines of `#[cfg(test)]` modules blanked (tests may read fixtures).
struct Source {
    path: String,
    lines: Vec<String>,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = fs::read_to_string(&f).unwrap();
            let path = f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            Source {
                path,
                lines: without_tests(&text),
            }
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's lines, those from a `#[cfg(test)]` line to the end of the
/// item after it blanked (test modules close at the indentation they open).
fn without_tests(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip: Option<usize> = None;
    let mut armed = false;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(i) = skip {
            out.push(String::new());
            if indent == i && line.trim_start().starts_with('}') {
                skip = None;
            }
            continue;
        }
        if line.trim_start().starts_with("#[cfg(test)]") {
            armed = true;
            out.push(String::new());
            continue;
        }
        if armed {
            armed = false;
            if line.trim_end().ends_with(';') {
                out.push(String::new());
                continue;
            }
            skip = Some(indent);
            out.push(String::new());
            continue;
        }
        out.push(line.to_string());
    }
    out
}

/// Code of a line: what is left of it before a `//` comment.
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) if !line[..i].contains('"') => &line[..i],
        _ => line,
    }
}

/// Every (file:line, text) where `pattern` occurs in code of files `inside`
/// selects and `allowed` does not.
fn occurrences(
    srcs: &[Source],
    pattern: &str,
    inside: impl Fn(&str) -> bool,
    allowed: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut found = Vec::new();
    for s in srcs.iter().filter(|s| inside(&s.path) && !allowed(&s.path)) {
        for (i, l) in s.lines.iter().enumerate() {
            if code(l).contains(pattern) {
                found.push(format!("{}:{}: {}", s.path, i + 1, l.trim()));
            }
        }
    }
    found
}

fn fail_on(rule: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{rule}:\n  {}", found.join("\n  "));
}

fn any(_: &str) -> bool {
    true
}

#[test]
fn only_the_scenario_readers_name_toml() {
    let srcs = sources();
    let readers = |p: &str| {
        p.starts_with("src/scenario/")
            || p.starts_with("src/flee/scenario")
            || p.starts_with("src/flee/variants")
            || p == "src/flee/mod.rs"
    };
    let mut found = occurrences(&srcs, "toml::", any, readers);
    found.extend(occurrences(&srcs, "use toml", any, readers));
    fail_on(
        "only scenario/ and flee's scenario readers may use the toml crate",
        found,
    );
}

#[test]
fn the_engine_does_no_io() {
    let srcs = sources();
    let engine = |p: &str| {
        p.starts_with("src/engine")
            || p.starts_with("src/flee/sim")
            || [
                "src/policy.rs",
                "src/agents.rs",
                "src/behaviour.rs",
                "src/graph.rs",
                "src/rng.rs",
            ]
            .contains(&p)
    };
    let mut found = Vec::new();
    // The engine hands days to `Recorder`s, whose errors are `std::io`
    // errors; it opens, reads and writes nothing itself.
    for pat in [
        "std::fs",
        "std::io::Write",
        "std::io::Read",
        "stdout",
        "stderr",
        "BufWriter",
        "File::",
        "println!",
        "eprintln!",
        "print!(",
        "std::env",
        "indicatif",
        "csv::",
    ] {
        found.extend(occurrences(&srcs, pat, engine, |_| false));
    }
    fail_on(
        "the engine and the models' steps do no I/O (files, terminal, environment)",
        found,
    );
}

#[test]
fn cli_holds_parsing_and_printing_only() {
    let srcs = sources();
    let cli = |p: &str| p.starts_with("src/cli");
    let mut found = Vec::new();
    for pat in [
        "Engine::",
        "engine::run",
        "flee::sim::",
        "PolicyBook",
        "Chooser",
        "rayon::",
        "csv::",
        "Table::",
        "postcard",
    ] {
        found.extend(occurrences(&srcs, pat, cli, |_| false));
    }
    fail_on(
        "cli/ parses and prints; model code, tables and wire formats live in the library",
        found,
    );
}

#[test]
fn one_csv_writer() {
    let srcs = sources();
    let mut found = occurrences(&srcs, "csv::Writer", any, |p| p == "src/table.rs");
    found.extend(occurrences(&srcs, "WriterBuilder", any, |p| p == "src/table.rs"));
    fail_on("every table goes through table::Table", found);
}

/// The files where `pattern` occurs in code.
fn files_with(srcs: &[Source], pattern: &str) -> Vec<String> {
    let mut files: Vec<String> = occurrences(srcs, pattern, any, |_| false)
        .into_iter()
        .map(|o| o.split(':').next().unwrap().to_string())
        .collect();
    files.dedup();
    files
}

#[test]
fn one_html_page_skeleton() {
    let srcs = sources();
    let found = occurrences(&srcs, "<!DOCTYPE html>", any, |_| false);
    assert!(
        found.len() <= 1,
        "one HTML page skeleton, found:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn one_exit_code_mapper_and_one_progress_bar_builder() {
    let srcs = sources();
    for (pat, what) in [
        ("ExitCode::from", "exit codes are chosen in one place"),
        ("ProgressStyle", "progress bars are built in one place"),
    ] {
        let files = files_with(&srcs, pat);
        assert!(
            files.len() <= 1,
            "{what}; `{pat}` is in:\n  {}",
            occurrences(&srcs, pat, any, |_| false).join("\n  ")
        );
    }
}

#[test]
fn only_cluster_speaks_mpi() {
    let srcs = sources();
    fail_on(
        "the MPI world is cluster.rs's",
        occurrences(&srcs, "mpi::", any, |p| p == "src/cluster.rs"),
    );
}

#[test]
fn every_module_says_what_it_owns() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|s| s.path != "src/main.rs")
        .filter(|s| !s.lines.iter().any(|l| l.starts_with("//!")))
        .map(|s| format!("{}:1: no `//!` comment on what the module owns", s.path))
        .collect();
    fail_on("every module starts by saying what it owns and must not touch", missing);
}

/// Functions longer than `max` lines: (file:line, name, lines). A function
/// runs from its `fn` line to the `}` at the indentation it opened with.
fn long_functions(srcs: &[Source], max: usize) -> Vec<String> {
    let mut found = Vec::new();
    for s in srcs {
        let l = &s.lines;
        let mut i = 0;
        while i < l.len() {
            let t = l[i].trim_start();
            let indent = l[i].len() - t.len();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "const fn ",
                "pub const fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if is_fn {
                let mut j = i;
                while j < l.len() && !l[j].trim_end().ends_with('{') && !l[j].trim_end().ends_with(';') {
                    j += 1;
                }
                if j < l.len() && l[j].trim_end().ends_with('{') {
                    let mut k = j + 1;
                    while k < l.len()
                        && !(l[k].len() - l[k].trim_start().len() == indent && l[k].trim_start().starts_with('}'))
                    {
                        k += 1;
                    }
                    let n = k - i + 1;
                    if n > max {
                        let name = t
                            .split("fn ")
                            .nth(1)
                            .unwrap_or("")
                            .split(['(', '<'])
                            .next()
                            .unwrap_or("");
                        found.push(format!("{}:{}: fn {name} is {n} lines", s.path, i + 1));
                    }
                }
            }
            i += 1;
        }
    }
    found
}

#[test]
fn no_function_over_150_lines() {
    fail_on(
        "no function over 150 lines (split it along what it does)",
        long_functions(&sources(), 150),
    );
}

#[test]
fn the_length_rule_finds_a_long_function() {
    // The rule above must be able to fail: a made-up source with one
    // function of 152 lines is caught, one of 150 is not.
    let body = |n: usize| {
        let mut v = vec!["fn long() {".to_string()];
        v.extend((0..n - 2).map(|i| format!("    let _x{i} = {i};")));
        v.push("}".to_string());
        v
    };
    let at = |n| Source {
        path: "src/x.rs".into(),
        lines: body(n),
    };
    assert_eq!(long_functions(&[at(152)], 150).len(), 1);
    assert!(long_functions(&[at(150)], 150).is_empty());
    // And test modules are not counted against the engine's I/O rule.
    let t = without_tests("fn a() {}\n#[cfg(test)]\nmod tests {\n    fn b() { println!(); }\n}\nfn c() {}\n");
    assert_eq!(t, vec!["fn a() {}", "", "", "", "", "fn c() {}"]);
}
