//! Provenance marks: where each number of a scenario file says it comes
//! from, read from the comment beside it (`# assumption`, `# calibrated
//! (docs/validation.md …)`, `# facts §1b`, `# derived: …`, `# default`, or
//! `provisional`).
//!
//! Owns the reading of those comments and the grouping of fields into the
//! kinds of inputs a reader asks about ("are the departure rates fitted?").
//! Must not change how a scenario loads: marks are words for people, never
//! inputs to the model.

/// Where a number says it comes from, strongest doubt first: a comment
/// that says both `calibrated` and `provisional` is provisional; one that
/// derives a figure from an assumption is an assumption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// Marked provisional (a placeholder until it is fitted).
    Provisional,
    /// An assumption of the scenario's author.
    Assumption,
    /// Fitted by `northbound calibrate` on counted data.
    Calibrated,
    /// The documented default of northbound.
    Default,
    /// Computed from other sourced figures.
    Derived,
    /// A cited source (facts, a data file, a publication).
    Source,
    /// No comment at all.
    Unmarked,
}

impl Mark {
    /// Every mark, in order.
    pub const ALL: [Mark; 7] = [
        Mark::Provisional,
        Mark::Assumption,
        Mark::Calibrated,
        Mark::Default,
        Mark::Derived,
        Mark::Source,
        Mark::Unmarked,
    ];

    /// The mark a comment carries.
    pub fn of_comment(comment: &str) -> Mark {
        let c = comment.to_lowercase();
        if c.trim().is_empty() {
            Mark::Unmarked
        } else if c.contains("provisional") {
            Mark::Provisional
        } else if c.contains("assum") || NO_SOURCE.iter().any(|w| c.contains(w)) {
            Mark::Assumption
        } else if c.contains("calibrated") || c.contains("fitted") {
            Mark::Calibrated
        } else if c.trim_start().starts_with("default") {
            Mark::Default
        } else if c.trim_start().starts_with("derived") {
            Mark::Derived
        } else {
            Mark::Source
        }
    }
}

/// Words by which a comment says that no source gives the number: it is
/// the author's assumption (carried as an uncertain input with a range),
/// not a sourced figure.
const NO_SOURCE: &[&str] = &["no source", "no published", "unsourced", "not found", "no count"];

/// One numeric field of a scenario file with its mark.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The table it is in (`population`, `behaviour`, `variant.policy`, …).
    pub table: String,
    /// The key (`per_day`).
    pub key: String,
    /// Line in the file (1-based).
    pub line: usize,
    /// Its mark.
    pub mark: Mark,
    /// The comment, trimmed.
    pub comment: String,
    /// Whether it is an uncertain input (`{ value, range, dist }`): drawn
    /// over its range in replicates. Its mark is still the comment's; one
    /// without a comment is an assumption (no source gives it).
    pub uncertain: bool,
}

/// The numeric fields of a scenario file and their marks. Reads lines
/// (`key = value  # comment` under `[table]` or `[[table]]` headers); values
/// that hold no digit (strings, booleans, lists of ids) and dates are not
/// numbers and are left out. A comment on the line before a field that has
/// none of its own is not taken: marks sit beside the value.
pub fn scan(text: &str) -> Vec<Field> {
    let mut table = String::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let (code, comment) = split_comment(raw);
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if let Some(h) = code.strip_prefix("[[").and_then(|h| h.strip_suffix("]]")) {
            table = h.trim().to_string();
            continue;
        }
        if let Some(h) = code.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            table = h.trim().to_string();
            continue;
        }
        let Some((key, value)) = code.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if !is_number_value(value) {
            continue;
        }
        let uncertain = is_uncertain(value);
        let mark = match Mark::of_comment(comment) {
            Mark::Unmarked if uncertain => Mark::Assumption,
            m => m,
        };
        out.push(Field {
            table: table.clone(),
            key: key.trim_matches('"').to_string(),
            line: i + 1,
            mark,
            comment: comment.trim().to_string(),
            uncertain,
        });
    }
    out
}

/// The code and the comment of a line (`#` outside strings starts a comment).
fn split_comment(line: &str) -> (&str, &str) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return (&line[..i], &line[i + 1..]),
            None => {}
        }
    }
    (line, "")
}

/// Whether a TOML value is an uncertain input: an inline table with a
/// `range` (`{ value = 0.3, range = [0.1, 0.6] }`).
fn is_uncertain(v: &str) -> bool {
    let v = v.trim();
    v.starts_with('{')
        && v.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| w == "range")
}

/// Whether a TOML value is a number or a table or list of numbers (not a
/// string, a boolean or a date).
fn is_number_value(v: &str) -> bool {
    let v = v.trim();
    if v.starts_with('"') || v.starts_with('\'') || v == "true" || v == "false" {
        return false;
    }
    // A date: 2023-03-25 (four digits, a dash).
    let b = v.as_bytes();
    if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        return false;
    }
    // Inside a table or list, a number follows `=`, `[`, `,` or a space.
    let scrubbed: String = {
        let mut s = String::new();
        let mut quote = false;
        for c in v.chars() {
            if c == '"' {
                quote = !quote;
            } else if !quote {
                s.push(c);
            }
        }
        s
    };
    scrubbed
        .split(|c: char| c == '=' || c == '[' || c == ',' || c == '{' || c.is_whitespace())
        .any(|t| {
            let t = t.trim_end_matches([']', '}']);
            !t.is_empty() && t.replace('_', "").parse::<f64>().is_ok()
        })
}

/// The kinds of inputs a reader asks about, with the fields that make each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// How many people each cohort holds.
    PopulationSizes,
    /// When and how fast people set out.
    DepartureRates,
    /// Who the groups are: families, minors, relatives, visas, budgets,
    /// destinations, knowledge.
    GroupTraits,
    /// The weights and delays of choice.
    Behaviour,
    /// How strongly policies act: rates, quotas, slots, factors, waits.
    PolicyStrengths,
    /// Distances, costs, risks and travel times of routes.
    Routes,
    /// Capacities and daily claim limits of places.
    Capacities,
}

impl Group {
    /// Every group, in the order a summary names them.
    pub const ALL: [Group; 7] = [
        Group::DepartureRates,
        Group::PopulationSizes,
        Group::Behaviour,
        Group::PolicyStrengths,
        Group::GroupTraits,
        Group::Routes,
        Group::Capacities,
    ];

    /// The group's name in a sentence ("the departure rates").
    pub fn noun(self) -> &'static str {
        match self {
            Group::PopulationSizes => "population sizes",
            Group::DepartureRates => "departure rates",
            Group::GroupTraits => "group traits and budgets",
            Group::Behaviour => "behaviour weights",
            Group::PolicyStrengths => "policy strengths",
            Group::Routes => "route distances and costs",
            Group::Capacities => "capacities and claim limits",
        }
    }

    /// The group of a field, if it is in one.
    pub fn of(f: &Field) -> Option<Group> {
        let t = f.table.rsplit('.').next().unwrap_or("");
        let k = f.key.as_str();
        match t {
            "population" => Some(match k {
                "people" => Group::PopulationSizes,
                "per_day" | "daily_depart_share" => Group::DepartureRates,
                _ => Group::GroupTraits,
            }),
            "behaviour" => Some(Group::Behaviour),
            "policy" if k != "from" && k != "until" => Some(Group::PolicyStrengths),
            "route" => Some(Group::Routes),
            "place" if k == "capacity" || k == "claims_per_day" => Some(Group::Capacities),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_read_from_the_comment_beside_each_number() {
        let text = r#"
[scenario]
name = "x # not a comment"
seed = 2023                  # assumption: any fixed seed
start = 2023-01-01

[behaviour]
w_open = 1.0                  # default (docs/scenario-format.md)

[[population]]
id = "a"
people = 45000                # derived: 165 a day over the run
per_day = 165                 # facts §1b: IRCC
daily_depart_share = 0.00001  # calibrated (issue 5); provisional assumption
budget_usd = { median = 800, p90 = 3000 }  # assumption
knows = ["a", "b"]            # facts
informed_share = 0.92         # calibrated (docs/validation.md: good fits 0.83–1.0)
family_share = { value = 0.3, range = [0.1, 0.6] }  # S-IRCC-2024: 28 % of claimants
minor_share = { value = 0.02, range = [0, 0.05] }  # no source
household_size.2 = { value = 0.3, range = [0.15, 0.45], input = "size_2" }

[[variant.policy]]
detection_rate = 0.9
"#;
        let f = scan(text);
        let got: Vec<(&str, &str, Mark)> = f.iter().map(|f| (f.table.as_str(), f.key.as_str(), f.mark)).collect();
        assert_eq!(
            got,
            vec![
                ("scenario", "seed", Mark::Assumption),
                ("behaviour", "w_open", Mark::Default),
                ("population", "people", Mark::Derived),
                ("population", "per_day", Mark::Source),
                ("population", "daily_depart_share", Mark::Provisional),
                ("population", "budget_usd", Mark::Assumption),
                ("population", "informed_share", Mark::Calibrated),
                ("population", "family_share", Mark::Source),
                ("population", "minor_share", Mark::Assumption),
                ("population", "household_size.2", Mark::Assumption),
                ("variant.policy", "detection_rate", Mark::Unmarked),
            ]
        );
        let uncertain: Vec<&str> = f.iter().filter(|f| f.uncertain).map(|f| f.key.as_str()).collect();
        assert_eq!(uncertain, ["family_share", "minor_share", "household_size.2"]);
        assert_eq!(Group::of(&f[3]), Some(Group::DepartureRates));
        assert_eq!(Group::of(&f[10]), Some(Group::PolicyStrengths));
        assert_eq!(f[3].line, 13);
    }
}
