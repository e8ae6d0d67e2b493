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
pub mod report;
pub mod scenario;
pub mod settings;
pub mod sim;

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
