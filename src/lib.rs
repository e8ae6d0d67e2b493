//! northbound: an agent-based simulator of migration routes from southern
//! Mexico through the United States to Canada.
//!
//! The pipeline: [`scenario`] loads and validates a TOML file into a
//! [`scenario::Scenario`]; [`graph`] and [`policy`] turn it into routing and
//! policy tables; [`agents`] builds the population; [`engine`] steps it day
//! by day with [`behaviour`]'s decisions; [`output`] writes the tables;
//! [`cli`] is the command line. See `ARCHITECTURE.md`.

#![warn(missing_docs)]

pub mod agents;
pub mod behaviour;
pub mod bench;
pub mod calibrate;
pub mod cli;
#[cfg(feature = "mpi")]
pub mod cluster;
pub mod engine;
pub mod ensemble;
pub mod experiment;
pub mod flee;
pub mod forecast;
pub mod graph;
pub mod limits;
mod named;
pub mod outdir;
pub mod output;
pub mod policy;
pub mod publish;
pub mod report;
pub mod results;
pub mod rng;
pub mod scenario;
pub mod sensitivity;
pub mod state;
pub mod stats;
pub mod study;
pub mod table;
pub mod time;
pub mod validation;
pub mod wire;
