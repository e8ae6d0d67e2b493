//! The default model (the engine of `engine`) as an experiment [`Model`].
//!
//! Owns how one replicate of the default model is run and kept
//! (`ensemble::Replicate`, through `ensemble::one`'s recorders; or only
//! its targets' values, `TargetsModel`, for `validate` and `calibrate`)
//! on the engine's tables prepared once per scenario (`engine::Prepared`).
//! Must not change how the engine simulates.

use super::{Model, Replicate};
use crate::engine;
use crate::ensemble::{self, EnsembleError, Extra};
use crate::scenario::Scenario;
use crate::validation::{self, Target};

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

/// The default model as validation and calibration run it: a replicate
/// gives the simulated value of every target (`validation`'s recorder),
/// nothing else; `stop` ends every replicate still running.
pub(crate) struct TargetsModel<'t> {
    /// The targets read from each run.
    pub(crate) targets: &'t [Target],
    /// Ends the replicates early (`results::Stop`).
    pub(crate) stop: Option<crate::results::Stop>,
}

impl Model for TargetsModel<'_> {
    type Scenario = Scenario;
    type Prepared<'s>
        = engine::Prepared
    where
        Self: 's;
    /// Each target's simulated value, in the targets' order.
    type Run = Vec<f64>;
    type Error = EnsembleError;

    fn with_inputs(&self, sc: &Scenario, values: &[f64]) -> Result<Scenario, EnsembleError> {
        DefaultModel::default().with_inputs(sc, values)
    }

    fn prepare<'s>(&'s self, sc: &'s Scenario) -> Result<engine::Prepared, EnsembleError> {
        Ok(engine::Prepared::new(sc))
    }

    fn run(&self, p: &engine::Prepared, sc: &Scenario, rep: &Replicate) -> Result<Vec<f64>, EnsembleError> {
        Ok(validation::simulate_prepared(
            p,
            sc,
            self.targets,
            rep.seed,
            self.stop.as_ref(),
        )?)
    }

    fn pool(&self, threads: Option<usize>) -> Result<rayon::ThreadPool, EnsembleError> {
        Ok(crate::engine::pool(threads)?)
    }
}
