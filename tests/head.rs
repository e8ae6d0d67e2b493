//! One `[scenario]` head for both models: the same mistake gets the same
//! message whichever model the file is for.

use northbound::scenario::LoadError;
use std::path::Path;

fn default_model(head: &str) -> LoadError {
    let text = format!("{head}\n");
    northbound::scenario::load_bytes(text.as_bytes(), Path::new("d.toml")).expect_err("the head is wrong")
}

fn flee_model(head: &str) -> LoadError {
    let text = format!("{head}\n[behaviour]\nmodel = \"flee\"\n");
    northbound::flee::scenario::load_str(&text, Path::new("f.toml")).expect_err("the head is wrong")
}

/// The problems about `[scenario]`, as (field, message, help).
fn head_problems(e: &LoadError) -> Vec<(String, String, Option<String>)> {
    let LoadError::Invalid { problems, .. } = e else {
        panic!("expected problems, got {e:?}");
    };
    problems
        .iter()
        .filter(|p| p.field.starts_with("scenario"))
        .map(|p| (p.field.clone(), p.message.clone(), p.help.clone()))
        .collect()
}

#[test]
fn the_same_head_mistakes_read_the_same_in_both_models() {
    for head in [
        "[scenario]\nname = \"x\"\nstart = 2024-02-01\nend = 2024-01-01",
        "[scenario]\nname = \"x\"\nstart = 2024-01-01\nend = 2024-01-31\nseed = -3",
        "[scenario]\nstart = 2024-01-01\nend = 2024-01-31",
        "[scenario]\nname = \"x\"\nstart = 2024-01-01\nend = 2224-01-31",
        "[scenario]\nname = \"x\"\nstart = 2024-01-01\nend = 2024-01-31\nseed = { value = 1, range = [0, 2] }",
        "[other]\nx = 1",
    ] {
        let (d, f) = (head_problems(&default_model(head)), head_problems(&flee_model(head)));
        assert!(!d.is_empty(), "no problem found in {head:?}");
        assert_eq!(d, f, "{head:?}");
    }
}

#[test]
fn a_headline_is_the_default_models_only() {
    let head = "[scenario]\nname = \"x\"\nstart = 2024-01-01\nend = 2024-01-31\nheadline = \"claims@a\"";
    let f = head_problems(&flee_model(head));
    assert!(
        f.iter().any(|(field, _, _)| field.contains("headline")),
        "flee accepted a headline: {f:?}"
    );
    assert!(!head_problems(&default_model(head))
        .iter()
        .any(|(field, m, _)| field == "scenario.headline" && m.contains("unknown")));
}
