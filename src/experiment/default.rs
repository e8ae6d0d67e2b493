//! The default model (the engine of `engine`) as an experiment [`Model`].
//!
//! Owns how one replicate of the default model is run and kept
//! (`ensemble::Replicate`, through `ensemble::one`'s recorders). Must not
//! change how the engine simulates.

use super::{Model, Replicate};
use crate::ensemble::{self, EnsembleError, Extra};
use crate::scenario::Scenario;

/// The default model, with what each replicate keeps beyond its counts.
#[derive(Clone, Debug, Default)]
pub struct DefaultModel {
    /// Extra tables, the stop flag, drawn or fixed inputs.
    pub extra: Extra,
}

/// What every replicate of one scenario shares. Today each replicate's
/// engine builds its own tables from the scenario, so nothing is held.
// coordinator: swap in engine::Prepared (engine::Prepared::new(sc), and
// Engine::from_prepared / engine::run_prepared in `ensemble::one`).
#[derive(Debug)]
pub struct Prepared(());

impl Model for DefaultModel {
    type Scenario = Scenario;
    type Prepared = Prepared;
    type Run = ensemble::Replicate;
    type Error = EnsembleError;

    fn with_inputs(&self, sc: &Scenario, values: &[f64]) -> Result<Scenario, EnsembleError> {
        Ok(crate::scenario::uncertain::with_values(sc, values)?)
    }

    fn prepare(&self, _sc: &Scenario) -> Result<Prepared, EnsembleError> {
        Ok(Prepared(()))
    }

    fn run(&self, _p: &Prepared, sc: &Scenario, rep: &Replicate) -> Result<ensemble::Replicate, EnsembleError> {
        let mut r = ensemble::one(sc, rep.seed, &self.extra)?;
        r.inputs = rep.inputs.clone();
        Ok(r)
    }

    fn pool(&self, threads: Option<usize>) -> Result<rayon::ThreadPool, EnsembleError> {
        Ok(crate::engine::pool(threads)?)
    }
}
