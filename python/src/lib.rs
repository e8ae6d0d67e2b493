//! `northbound._northbound`: the native half of the Python package.
//!
//! Owns the Python-facing shapes of the library's handles (classes,
//! functions, exceptions, NumPy columns). The Pythonic API (`load`, `run`,
//! `Scenario`, `Run`, pandas) is in `northbound/__init__.py` on top of
//! this. Must not call the northbound library itself: every call goes
//! through `api`; long calls run through `interrupt`.

mod api;
mod interrupt;

use api::{AxisSpec, Data, Table};
use numpy::PyArray1;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;

/// The Python exception for an error of the library.
pub(crate) fn error(py: Python<'_>, e: api::Error) -> PyErr {
    let errors = match py.import("northbound._errors") {
        Ok(m) => m,
        Err(e) => return e,
    };
    let raise = |class: &str, args: Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>| -> PyErr {
        match errors.getattr(class).and_then(|c| c.call(args, kwargs)) {
            Ok(v) => PyErr::from_value(v),
            Err(e) => e,
        }
    };
    let one = |s: String| PyTuple::new(py, [s]).expect("a tuple of one string");
    match e {
        api::Error::Load(f) => {
            let make = || -> PyResult<Bound<'_, PyDict>> {
                let problem = errors.getattr("Problem")?;
                let list = PyList::empty(py);
                for p in f.problems {
                    let kw = PyDict::new(py);
                    kw.set_item("file", p.file.display().to_string())?;
                    kw.set_item("line", p.line)?;
                    kw.set_item("column", p.column)?;
                    kw.set_item("field", p.field)?;
                    kw.set_item("message", p.message)?;
                    kw.set_item("help", p.help)?;
                    kw.set_item("rendered", p.rendered)?;
                    list.append(problem.call((), Some(&kw))?)?;
                }
                let kw = PyDict::new(py);
                kw.set_item("path", f.path)?;
                kw.set_item("problems", list)?;
                kw.set_item("rendered", f.rendered)?;
                Ok(kw)
            };
            match make() {
                Ok(kw) => raise("ScenarioError", one(f.message), Some(&kw)),
                Err(e) => e,
            }
        }
        api::Error::Param(s) => raise("ParameterError", one(s), None),
        api::Error::Value(s) => PyValueError::new_err(s),
        api::Error::Run(s) => raise("RunError", one(s), None),
        api::Error::Stopped => PyKeyboardInterrupt::new_err("the run was stopped"),
        api::Error::Output(s) => raise("OutputError", one(s), None),
    }
}

fn ok<T>(py: Python<'_>, r: api::Res<T>) -> PyResult<T> {
    r.map_err(|e| error(py, e))
}

/// A table as `[(name, kind, values)]`: kind "int", "float", "bool" or
/// "date" (days since 1970-01-01) with a NumPy array, or "cat" with
/// `(codes, categories)`.
fn columns<'py>(py: Python<'py>, t: Table) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for c in t.0 {
        let item = match c.data {
            Data::Int(v) => (c.name, "int", PyArray1::from_vec(py, v).into_any()).into_pyobject(py)?,
            Data::Float(v) => (c.name, "float", PyArray1::from_vec(py, v).into_any()).into_pyobject(py)?,
            Data::Date(v) => (c.name, "date", PyArray1::from_vec(py, v).into_any()).into_pyobject(py)?,
            Data::Bool(v) => (c.name, "bool", PyArray1::from_vec(py, v).into_any()).into_pyobject(py)?,
            Data::Cat(codes, names) => {
                let payload = (PyArray1::from_vec(py, codes), PyList::new(py, names)?).into_pyobject(py)?;
                (c.name, "cat", payload.into_any()).into_pyobject(py)?
            }
        };
        out.append(item)?;
    }
    Ok(out)
}

/// A scenario of the default model, loaded and validated.
#[pyclass(module = "northbound._northbound", frozen)]
struct ScenarioHandle(api::ScenarioHandle);

#[pymethods]
impl ScenarioHandle {
    /// The scenario's name.
    #[getter]
    fn name(&self) -> &str {
        self.0.name()
    }

    /// The file it was loaded from.
    #[getter]
    fn file(&self) -> String {
        self.0.file()
    }

    /// Everything in the scenario, as JSON text.
    fn describe(&self) -> String {
        self.0.describe()
    }

    /// Every settable parameter: `(path, value, min, max, min_exclusive, integer)`.
    fn parameters(&self) -> Vec<(String, f64, f64, f64, bool, bool)> {
        self.0
            .parameters()
            .into_iter()
            .map(|p| (p.path, p.value, p.min, p.max, p.min_exclusive, p.integer))
            .collect()
    }

    /// A copy with parameters set by path.
    fn with_values(&self, py: Python<'_>, values: Vec<(String, f64)>) -> PyResult<ScenarioHandle> {
        ok(py, self.0.with_values(&values)).map(ScenarioHandle)
    }

    /// A copy under a declared variant.
    fn variant(&self, py: Python<'_>, id: &str) -> PyResult<ScenarioHandle> {
        ok(py, self.0.variant(id)).map(ScenarioHandle)
    }

    /// The same system at another size.
    fn scaled(&self, py: Python<'_>, factor: f64) -> PyResult<ScenarioHandle> {
        ok(py, self.0.scaled(factor)).map(ScenarioHandle)
    }

    /// The ids of the declared variants.
    fn variant_ids(&self) -> Vec<String> {
        self.0.variant_ids()
    }

    /// The names of the outputs a run has.
    fn output_names(&self) -> Vec<String> {
        self.0.output_names()
    }

    /// The scenario's seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.0.seed()
    }
}

/// A finished run, or replicates of one, kept in memory.
#[pyclass(module = "northbound._northbound", frozen)]
struct RunHandle(Arc<api::RunHandle>);

#[pymethods]
impl RunHandle {
    /// The names of the tables this run has.
    fn table_names(&self) -> Vec<&'static str> {
        self.0.table_names()
    }

    /// A table's columns, or `None` if this run does not have it.
    fn table<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyList>>> {
        let h = self.0.clone();
        let name = name.to_string();
        match py.detach(move || h.table(&name)) {
            Some(t) => columns(py, t).map(Some),
            None => Ok(None),
        }
    }

    /// Named outputs, one row per replicate.
    fn outputs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        columns(py, self.0.outputs())
    }

    /// `summary.json` as JSON text (a list of them for replicates).
    fn summary_json(&self) -> String {
        self.0.summary_json()
    }

    /// The seed of each replicate.
    fn seeds(&self) -> Vec<u64> {
        self.0.seeds()
    }

    /// Whether tables have a `replicate` column.
    #[getter]
    fn has_replicates(&self) -> bool {
        self.0.has_replicates()
    }

    /// Writes the run folder (replacing only a folder northbound wrote;
    /// `force` as `--force`); returns where.
    #[pyo3(signature = (dir, *, force=false))]
    fn write(&self, py: Python<'_>, dir: PathBuf, force: bool) -> PyResult<PathBuf> {
        let h = self.0.clone();
        interrupt::run(py, None, move |_| h.write(&dir, force))
    }
}

/// Variants compared with the base.
#[pyclass(module = "northbound._northbound", frozen)]
struct CompareHandle(Arc<api::CompareHandle>);

#[pymethods]
impl CompareHandle {
    /// `comparison.csv`'s columns.
    fn table<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        columns(py, self.0.table())
    }

    /// `periods.csv`'s columns: the base's and each variant's periods.
    fn periods<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let h = self.0.clone();
        let t = py.detach(move || h.periods());
        columns(py, t)
    }

    /// `place_differences.csv`'s columns.
    fn place_differences<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let h = self.0.clone();
        let t = py.detach(move || h.place_differences());
        columns(py, t)
    }

    /// The first and last date (`YYYY-MM-DD`) of the place-level differences.
    #[getter]
    fn window(&self) -> (String, String) {
        self.0.window_dates()
    }

    /// What `northbound compare` prints.
    fn render(&self) -> String {
        self.0.render()
    }

    /// The compared variants.
    fn variant_ids(&self) -> Vec<String> {
        self.0.variant_ids()
    }

    /// The base's (`None`) or a variant's replicates.
    #[pyo3(signature = (variant=None))]
    fn run(&self, variant: Option<&str>) -> Option<RunHandle> {
        self.0.run(variant).map(|r| RunHandle(Arc::new(r)))
    }

    /// Writes the comparison folder (replacing only a folder northbound
    /// wrote; `force` as `--force`); returns where.
    #[pyo3(signature = (dir, *, force=false))]
    fn write(&self, py: Python<'_>, dir: PathBuf, force: bool) -> PyResult<PathBuf> {
        let h = self.0.clone();
        interrupt::run(py, None, move |_| h.write(&dir, force))
    }
}

/// A parameter sweep.
#[pyclass(module = "northbound._northbound", frozen)]
struct SweepHandle(Arc<api::SweepHandle>);

#[pymethods]
impl SweepHandle {
    /// The sweep's columns, unrounded.
    fn table<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        columns(py, self.0.table())
    }

    /// `sweep.csv` as the command line writes it.
    fn csv(&self, py: Python<'_>) -> PyResult<String> {
        ok(py, self.0.csv())
    }

    /// `runs.csv`'s columns: one row per point and replicate.
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        columns(py, self.0.runs())
    }

    /// What `northbound sweep` prints.
    fn render(&self, py: Python<'_>) -> PyResult<String> {
        ok(py, self.0.render())
    }

    /// Writes the sweep folder (replacing only a folder northbound
    /// wrote; `force` as `--force`); returns where.
    #[pyo3(signature = (dir, *, force=false))]
    fn write(&self, py: Python<'_>, dir: PathBuf, force: bool) -> PyResult<PathBuf> {
        let h = self.0.clone();
        interrupt::run(py, None, move |_| h.write(&dir, force))
    }
}

/// A validation against counted targets.
#[pyclass(module = "northbound._northbound", frozen)]
struct ValidationHandle(api::ValidationHandle);

#[pymethods]
impl ValidationHandle {
    /// One row per target.
    fn table<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        columns(py, self.0.table())
    }

    /// Mean absolute relative error over targets.
    #[getter]
    fn mare(&self) -> f64 {
        self.0.mare()
    }

    /// `(persistence error, model error on the same targets, targets)`, if any target allows it.
    #[getter]
    fn persistence(&self) -> Option<(f64, f64, usize)> {
        self.0.persistence()
    }

    /// What `northbound validate` prints.
    fn render(&self) -> String {
        self.0.render()
    }
}

/// `--fixed-inputs` as the ensemble's choice.
fn inputs_of(fixed: bool) -> northbound::ensemble::Inputs {
    if fixed {
        northbound::ensemble::Inputs::Fixed
    } else {
        northbound::ensemble::Inputs::Drawn
    }
}

/// Loads a scenario file of the default model.
#[pyfunction]
fn load(py: Python<'_>, path: PathBuf) -> PyResult<ScenarioHandle> {
    ok(py, api::ScenarioHandle::load(&path)).map(ScenarioHandle)
}

/// Runs a scenario (replicates with `replicates > 1`).
#[pyfunction]
#[pyo3(signature = (scenario, *, seed=None, replicates=1, threads=None, trace=0, by_cohort=false, period="week", fixed_inputs=false, progress=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    scenario: &ScenarioHandle,
    seed: Option<u64>,
    replicates: usize,
    threads: Option<usize>,
    trace: usize,
    by_cohort: bool,
    period: &str,
    fixed_inputs: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<RunHandle> {
    let sc = scenario.0.clone();
    let o = api::RunOptions {
        seed,
        replicates,
        threads,
        trace,
        by_cohort,
        period: ok(py, api::parse_period(period))?,
        inputs: inputs_of(fixed_inputs),
    };
    interrupt::run(py, progress, move |ctl| api::RunHandle::start(&sc, &o, ctl)).map(|r| RunHandle(Arc::new(r)))
}

/// Compares variants with the base.
#[pyfunction]
#[pyo3(signature = (scenario, *, variants=Vec::new(), replicates=10, threads=None, period="week", window=None, fixed_inputs=false, progress=None))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    scenario: &ScenarioHandle,
    variants: Vec<String>,
    replicates: usize,
    threads: Option<usize>,
    period: &str,
    window: Option<String>,
    fixed_inputs: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<CompareHandle> {
    let sc = scenario.0.clone();
    let o = api::CompareOptions {
        period: ok(py, api::parse_period(period))?,
        window,
        inputs: inputs_of(fixed_inputs),
    };
    interrupt::run(py, progress, move |ctl| {
        api::CompareHandle::start(&sc, &variants, replicates, threads, &o, ctl)
    })
    .map(|c| CompareHandle(Arc::new(c)))
}

/// Sweeps parameters over a design: a grid (each axis `(path,
/// "FROM:TO:STEP")` or `(path, [values])`), or `lhs:N`, `sobol:N`,
/// `morris:R[:P]` over `(path, "LO:HI")`; `metrics` as `--metric`.
#[pyfunction]
#[pyo3(signature = (scenario, axes, *, design="grid".to_string(), metrics=Vec::new(), replicates=5, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    scenario: &ScenarioHandle,
    axes: Vec<(String, Bound<'_, PyAny>)>,
    design: String,
    metrics: Vec<String>,
    replicates: usize,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<SweepHandle> {
    let axes = axes
        .into_iter()
        .map(|(path, spec)| {
            if let Ok(s) = spec.cast::<PyString>() {
                Ok((path, AxisSpec::Range(s.to_string())))
            } else {
                let values: Vec<f64> = spec.extract().map_err(|_| {
                    PyValueError::new_err(format!(
                        "sweep values of `{path}`: give \"FROM:TO:STEP\" or a sequence of numbers"
                    ))
                })?;
                Ok((path, AxisSpec::Values(values)))
            }
        })
        .collect::<PyResult<Vec<_>>>()?;
    let sc = scenario.0.clone();
    interrupt::run(py, progress, move |ctl| {
        api::SweepHandle::start(&sc, &axes, &design, &metrics, replicates, threads, ctl)
    })
    .map(|s| SweepHandle(Arc::new(s)))
}

/// Validates a scenario against a targets file.
#[pyfunction]
#[pyo3(signature = (scenario, targets, *, replicates=5, threads=None, progress=None))]
fn validate(
    py: Python<'_>,
    scenario: &ScenarioHandle,
    targets: PathBuf,
    replicates: usize,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<ValidationHandle> {
    let sc = scenario.0.clone();
    interrupt::run(py, progress, move |ctl| {
        api::ValidationHandle::start(&sc, &targets, replicates, threads, ctl)
    })
    .map(ValidationHandle)
}

/// A Flee scenario folder as northbound scenario TOML (written to `out` if
/// given), with the warnings of the import.
#[pyfunction]
#[pyo3(signature = (dir, *, flee_compat=None, out=None))]
fn import_flee(
    py: Python<'_>,
    dir: PathBuf,
    flee_compat: Option<String>,
    out: Option<PathBuf>,
) -> PyResult<(String, Vec<String>)> {
    interrupt::run(py, None, move |_| {
        api::import_flee(&dir, flee_compat.as_deref(), out.as_deref())
    })
}

/// The seed of replicate `k` of a run with `seed` (replicate 0 is the run itself).
#[pyfunction]
fn replicate_seed(seed: u64, k: u64) -> u64 {
    api::seed_of_replicate(seed, k)
}

/// What a sweep over `design` warns of before it runs.
#[pyfunction]
fn design_warnings(design: &str) -> Vec<String> {
    api::design_warnings(design)
}

/// The native module.
#[pymodule]
mod _northbound {
    #[pymodule_export]
    use super::{
        compare, design_warnings, import_flee, load, replicate_seed, run, sweep, validate, CompareHandle, RunHandle,
        ScenarioHandle, SweepHandle, ValidationHandle,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", super::api::version())
    }
}
