//! Flee compatibility: Flee's scenario folders, its behaviour model, and
//! its way of scoring a run against UNHCR camp counts.
//!
//! Owns everything that speaks Flee: `import` reads a Flee folder, `scenario`
//! writes and reads the native northbound TOML of a `flee` scenario, `sim`
//! runs the model, `data` reads `source_data/` and computes the averaged
//! relative difference. Must not touch the default model's engine or
//! scenario types: the two models share the CLI, the RNG and the output
//! folder, nothing else.

pub mod csvin;
pub mod data;
pub mod import;
pub mod model;
pub mod output;
pub mod params;
pub mod report;
pub mod scenario;
pub mod settings;
pub mod sim;
pub mod variants;

pub use model::FleeScenario;
pub use settings::Compat;

use std::path::Path;

/// Whether `path` is a Flee scenario: a Flee folder, or a TOML file whose
/// `[behaviour] model` is `"flee"`.
pub fn is_flee(path: &Path) -> bool {
    if import::is_flee_folder(path) {
        return true;
    }
    std::fs::read(path).is_ok_and(|b| is_flee_text(&b))
}

/// Whether the text of a scenario file says `[behaviour] model = "flee"`.
pub fn is_flee_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return false;
    };
    doc.get("behaviour")
        .and_then(|b| b.get("model"))
        .and_then(|m| m.as_str())
        == Some("flee")
}

/// Loads a Flee folder (importing it in memory) or a `flee` TOML scenario.
pub fn load(path: &Path) -> Result<FleeScenario, crate::scenario::LoadError> {
    if import::is_flee_folder(path) {
        import::import(path)
    } else {
        scenario::load(path)
    }
}

/// Sets up a loaded flee scenario as `--flee-compat` and `--scale` ask
/// (`compat`: "3.1" or "intended"; `scale` in (0, 1] multiplies people per
/// agent by 1/scale, Flee's own `hasten`), and refuses a run too big for
/// memory. The error says what would be valid.
pub fn configure(sc: &mut FleeScenario, compat: Option<&str>, scale: Option<f64>) -> Result<(), String> {
    match compat {
        None => {}
        Some("3.1") => sc.compat = Compat::V31,
        Some("intended") => sc.compat = Compat::Intended,
        Some(other) => return Err(format!("--flee-compat {other}: valid values are 3.1 and intended")),
    }
    match scale {
        None => {}
        Some(f) if f.is_finite() && f > 0.0 && f <= 1.0 => {
            // Fewer agents for the same people: Flee's own `hasten`.
            sc.settings.hasten = ((sc.settings.hasten as f64 / f).round() as u32).max(1);
        }
        Some(f) => {
            return Err(format!(
                "--scale for the flee model must be in (0, 1] (it multiplies people per agent by 1/FACTOR), got {f}"
            ))
        }
    }
    let agents = sc.max_agents();
    let need = agents * sim::BYTES_PER_AGENT as u128;
    let avail = crate::scenario::available_memory();
    if agents >= u32::MAX as u128 || avail.is_some_and(|a| need > a as u128) {
        return Err(format!(
            "{}: up to {agents} agents ({} of agent memory{}); raise optimisations.hasten \
             (people per agent) or use --scale",
            sc.about.file.display(),
            crate::scenario::human_bytes(need),
            match avail {
                Some(a) => format!(", {} available", crate::scenario::human_bytes(a as u128)),
                None => String::new(),
            }
        ));
    }
    Ok(())
}
