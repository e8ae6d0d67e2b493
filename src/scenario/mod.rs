//! Scenario files: the only module that knows TOML.
//!
//! Owns the scenario format, its validation and its error messages. Loading
//! has two stages: `toml`'s spanned document (`DeTable`, read through
//! `read`), then `load`, which checks every rule and resolves ids to indices
//! into the types of `model`. Must not know how the engine runs.

pub mod diag;
pub(crate) mod head;
mod load;
pub mod model;
pub mod params;
pub mod provenance;
pub mod read;
pub mod uncertain;

pub use diag::{LoadError, Problem};
pub use load::{available_memory, human_bytes, load, load_bytes, parse_headline, MAX_DAYS};
pub use model::*;
