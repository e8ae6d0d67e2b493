//! Long work without the GIL, stoppable with Ctrl-C, with progress.
//!
//! Owns the worker thread of each long call: the work runs there with a
//! [`Control`] whose stop flag its recorders check every simulated day,
//! while the calling thread waits with the GIL released, in short slices,
//! between which it asks Python whether a signal arrived (`check_signals`)
//! and reports progress to an optional callback. On Ctrl-C (a kernel
//! interrupt in a notebook), or if the callback raises, the flag is set, the
//! worker ends at the end of its day, and the exception goes up to the
//! caller: nothing keeps running behind the user's back. Must not know what
//! the work is.

use crate::api::{self, Control};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How long the caller waits between two looks for a signal.
const SLICE: Duration = Duration::from_millis(50);

/// Runs `work` on a worker thread with the GIL released, until it ends or a
/// signal handler (Ctrl-C) or `progress(done, total)` raises, in which case
/// the work is stopped and joined before the exception is returned.
pub fn run<T, F>(py: Python<'_>, progress: Option<Py<PyAny>>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Control) -> api::Res<T> + Send + 'static,
{
    let ctl = Control::default();
    let worker = ctl.clone();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("northbound".into())
        .spawn(move || {
            // The receiver is gone only if the caller was interrupted; the
            // result is then not wanted.
            let _ = tx.send(work(&worker));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    let report = move |py: Python<'_>, ctl: &Control| -> PyResult<()> {
        match &progress {
            Some(f) => f.bind(py).call1(ctl.progress()).map(|_| ()),
            None => Ok(()),
        }
    };
    let outcome: Result<api::Res<T>, PyErr> = py.detach(move || loop {
        match rx.recv_timeout(SLICE) {
            Ok(r) => {
                let _ = handle.join();
                if r.is_ok() {
                    Python::attach(|py| report(py, &ctl))?;
                }
                return Ok(r);
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = Python::attach(|py| py.check_signals().and_then(|_| report(py, &ctl))) {
                    ctl.stop();
                    let _ = handle.join();
                    return Err(e);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                return Err(PyRuntimeError::new_err(
                    "northbound's worker thread stopped without a result (a panic, printed above); \
                     this is a bug in northbound, please report it",
                ));
            }
        }
    });
    outcome?.map_err(|e| crate::error(py, e))
}
