//! Every number in every shipped scenario says where it comes from: a
//! source (a section of facts.md, a source of data/sources.md, places.csv,
//! a data/ file, or a named citation after `source:`), `derived` (how),
//! `calibrated (on what)`, the model's `default` (checked to be it), or it
//! is an uncertain input written with its range. Sources cited must exist.

use northbound::scenario::Behaviour;
use std::collections::HashSet;
use std::path::Path;

/// What marks a number's provenance in its comment.
const MARKS: &[&str] = &["facts §", "places.csv", "data/", "derived", "calibrated (", "source:"];

/// The ids of data/sources.md (`**S-…**`).
fn source_ids() -> HashSet<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sources.md"))
        .expect("data/sources.md");
    let mut ids = HashSet::new();
    for part in text.split("**S-").skip(1) {
        if let Some(end) = part.find("**") {
            ids.insert(format!("S-{}", &part[..end]));
        }
    }
    ids
}

/// The `S-…` ids cited in a comment.
fn cited(comment: &str) -> Vec<String> {
    let b = comment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i] == b'S' && b[i + 1] == b'-' && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
        if starts && b[i + 2].is_ascii_uppercase() {
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit() || b[j] == b'-') {
                j += 1;
            }
            let id = comment[i..j].trim_end_matches('-');
            // `S-ROAD-*` names a family of sources.
            if !comment[j..].starts_with('*') {
                out.push(id.to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The line split at its comment (a `#` outside a string).
fn split_comment(line: &str) -> (&str, &str) {
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return (&line[..i], &line[i + 1..]),
            _ => {}
        }
    }
    (line, "")
}

/// The value part of a line with strings, dates, keys and uncertain marks
/// (inline tables with a `range`) taken out: what numbers are left need a mark.
fn bare_numbers(value: &str) -> Vec<String> {
    // Strings.
    let mut s = String::new();
    let mut in_str = false;
    for c in value.chars() {
        if c == '"' {
            in_str = !in_str;
            s.push(' ');
        } else if !in_str {
            s.push(c);
        }
    }
    // Uncertain marks: innermost `{ … range = [ … ] … }`.
    while let Some(r) = s.find("range") {
        let open = s[..r].rfind('{');
        let close = s[r..].find('}').map(|c| r + c);
        match (open, close) {
            (Some(o), Some(c)) => s.replace_range(o..=c, " "),
            _ => break,
        }
    }
    // Keys (everything up to each `=`), dates, then numbers.
    let mut words = Vec::new();
    for piece in s.split(['{', '}', ',', '[', ']']) {
        let v = match piece.rfind('=') {
            Some(e) => &piece[e + 1..],
            None => piece,
        };
        for w in v.split_whitespace() {
            let is_date = w.len() == 10 && w.as_bytes()[4] == b'-' && w.as_bytes()[7] == b'-';
            if !is_date
                && w.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
            {
                words.push(w.to_string());
            }
        }
    }
    words
}

/// Whether `key = value` on a `# default` line is the model's default.
fn is_default(key: &str, value: &str) -> bool {
    let d = Behaviour::default();
    let num = |v: &str| v.trim().parse::<f64>().ok();
    let scalar = |x: f64| num(value) == Some(x);
    match key {
        "w_open" => scalar(d.w_open),
        "w_dist" => scalar(d.w_dist),
        "w_cost" => scalar(d.w_cost),
        "w_risk" => scalar(d.w_risk),
        "replan_days" => scalar(d.replan_days as f64),
        "learn_per_user" => scalar(d.learn_per_user),
        "learn_window_days" => scalar(d.learn_window_days as f64),
        "w_fail" => scalar(d.w_fail),
        "w_bar" => scalar(d.w_bar),
        "memory_trials" => scalar(d.memory_trials),
        "learn_at_door" => scalar(d.learn_at_door),
        "learn_per_return" => scalar(d.learn_per_return),
        "depart_elasticity" => scalar(d.depart_elasticity),
        "news_delay_days" => {
            let v: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            v == format!("{{mean={},max={}}}", d.news_delay_mean, d.news_delay_max)
        }
        _ => false,
    }
}

/// Every line of `text` whose numbers carry no provenance, with the reason.
fn unmarked(name: &str, text: &str, ids: &HashSet<String>) -> Vec<String> {
    let mut bad = Vec::new();
    if text.lines().any(|l| l.trim() == "model = \"flee\"") {
        // An imported Flee scenario: every number is Flee's published
        // folder's, named with its inputs' SHA-256 in the header.
        if !(text.starts_with("# Imported from the Flee scenario folder") && text.contains("Inputs' SHA-256: ")) {
            bad.push(format!(
                "{name}: a flee scenario without the import header naming its Flee folder"
            ));
        }
        return bad;
    }
    let mut table = String::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            table = t.trim_matches(|c| c == '[' || c == ']').to_string();
            continue;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (value, comment) = split_comment(line);
        for id in cited(comment) {
            if !ids.contains(&id) {
                bad.push(format!("{name}:{}: cites {id}, not in data/sources.md", n + 1));
            }
        }
        if table == "scenario" && value.trim_start().starts_with("seed") {
            continue; // the seed of the random streams, not an input
        }
        if bare_numbers(value).is_empty() {
            continue;
        }
        if MARKS.iter().any(|m| comment.contains(m)) || !cited(comment).is_empty() {
            continue;
        }
        if comment.trim_start().starts_with("default") {
            let (key, v) = value.split_once('=').unwrap_or((value, ""));
            if table == "behaviour" && is_default(key.trim(), v) {
                continue;
            }
            bad.push(format!(
                "{name}:{}: `{}` is marked default but is not the model's default",
                n + 1,
                value.trim()
            ));
            continue;
        }
        bad.push(format!(
            "{name}:{}: `{}` has no source, derivation, calibration or range",
            n + 1,
            t
        ));
    }
    bad
}

#[test]
fn every_number_in_every_shipped_scenario_says_where_it_comes_from() {
    let ids = source_ids();
    assert!(ids.len() > 90, "data/sources.md lists {} sources", ids.len());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut bad = Vec::new();
    let mut files = 0;
    for e in std::fs::read_dir(&dir).expect("scenarios/") {
        let p = e.expect("entry").path();
        if p.extension().and_then(|x| x.to_str()) != Some("toml") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&p).expect("readable");
        bad.extend(unmarked(
            &p.file_name().unwrap_or_default().to_string_lossy(),
            &text,
            &ids,
        ));
    }
    assert!(files >= 10, "{files} scenarios");
    assert!(bad.is_empty(), "{} lines:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn the_check_catches_an_unmarked_number_and_a_false_default() {
    let ids = source_ids();
    let text = "[scenario]\nseed = 3\n[behaviour]\nw_dist = 2.0  # default\nw_open = 1.0 # default\n\
                [[population]]\npeople = 12\nfamily_share = { value = 0.3, range = [0.1, 0.5] }\n\
                household_size = { 2 = 0.5, 4 = 0.5 }  # S-NOT-A-SOURCE\nper_day = 4 # derived: 8 / 2\n\
                minor_share = 0.1 # facts §4b\ndepart = 2025-01-01\n";
    let bad = unmarked("t.toml", text, &ids);
    assert_eq!(bad.len(), 3, "{bad:#?}");
    assert!(bad[0].contains(":4:") && bad[0].contains("not the model's default"));
    assert!(bad[1].contains(":7:") && bad[1].contains("people = 12"));
    assert!(bad[2].contains(":9:") && bad[2].contains("S-NOT-A-SOURCE"));
}
