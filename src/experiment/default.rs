//! The default model (the engine of `engine`) as an experiment [`Model`].
//!
//! Owns how one replicate of the default model is run and kept
//! (`ensemble::Replicate`, through `ensemble::one`'s recorders) on the
//! engine's tables prepared once per scenario (`engine::Prepared`). Must not
//! change how the engine simulates.

use super::{Model, Replicate};
use crate::engine;
use crate::ensemble::{self, EnsembleError, Extra};
use crate::scenario::Scenario;

/// The default model, with what each replicate keeps beyond its counts.
#[derive(Clone, Debug, Default)]
pub struct DefaultModel {
    /// Extra tables, the stop flag, drawn or fixed inputs.
    pub extra: Extra,
}

impl Model for DefaultModel {
    type Scenario = Scenario;
    /// The engine's seed-independent tables (policy book, routing and
    /// reach tables, decision tables), built once per scenario or variant.
    type Prepared<'s> = engine::Prepared;
    type Run = ensemble::Replicate;
    type Error = EnsembleError;

    fn with_inputs(&self, sc: &Scenario, values: &[f64]) -> Result<Scenario, EnsembleError> {
        Ok(crate::scenario::uncertain::with_values(sc, values)?)
    }

    fn prepare<'s>(&'s self, sc: &'s Scenario) -> Result<engine::Prepared, EnsembleError> {
        Ok(engine::Prepared::new(sc))
    }

    fn run(&self, p: &engine::Prepared, sc: &Scenario, rep: &Replicate) -> Result<ensemble::Replicate, EnsembleError> {
        let mut r = ensemble::one(p, sc, rep.seed, &self.extra)?;
        r.inputs = rep.inputs.clone();
        Ok(r)
    }

    fn pool(&self, threads: Option<usize>) -> Result<rayon::ThreadPool, EnsembleError> {
        Ok(crate::engine::pool(threads)?)
    }
}
