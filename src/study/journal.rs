//! A journal of evaluations that survives an interruption, for searches
//! whose next step depends on the last (calibration's Nelder–Mead): the
//! k-th evaluation of a rerun of the same command is answered from the
//! store if it was made before, and computed and appended otherwise.
//!
//! Owns the line format of such a journal (`{"at": k, "key": …, "value":
//! …}`) over `outdir::Store`, which keeps the file (fingerprint, append
//! and flush, kept on a signal, removed once the result is in place). Must
//! not know what is evaluated: a deterministic search asks for the same
//! keys in the same order, and a key that differs from the stored one at
//! the same step means the journal is not this search's (an error, never
//! a silent reuse).

use super::StudyError;
use crate::outdir::{Claim, Store};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Entry {
    at: usize,
    key: serde_json::Value,
    value: serde_json::Value,
}

/// Evaluations made so far and the store that keeps them.
pub struct Journal {
    store: Store,
    kept: Vec<Entry>,
    next: usize,
}

impl Journal {
    /// Opens the journal of the command `fingerprint` beside the claimed
    /// destination (`fresh`: `--force`, start afresh); a journal of another
    /// command is refused (exit 2).
    pub fn open(claim: &Claim, fingerprint: &serde_json::Value, fresh: bool) -> Result<Journal, StudyError> {
        let (store, lines) = claim.study_store(fingerprint, fresh)?;
        let kept = lines
            .iter()
            .map(|l| serde_json::from_str::<Entry>(l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StudyError::Failed(format!("the journal has a line that is not an evaluation: {e}")))?;
        Ok(Journal { store, kept, next: 0 })
    }

    /// Evaluations answered from the journal so far (for the progress line).
    pub fn replayed(&self) -> usize {
        self.next.min(self.kept.len())
    }

    /// The value for `key`: from the journal if this step was made before
    /// with the same key, else `f()`, appended and flushed before it is
    /// returned.
    pub fn eval<K: Serialize, V: Serialize + DeserializeOwned>(
        &mut self,
        key: &K,
        f: impl FnOnce() -> Result<V, StudyError>,
    ) -> Result<V, StudyError> {
        let at = self.next;
        self.next += 1;
        let key = serde_json::to_value(key).map_err(|e| StudyError::Failed(e.to_string()))?;
        if let Some(e) = self.kept.get(at) {
            if e.key != key {
                return Err(StudyError::Failed(format!(
                    "evaluation {at} of the journal was made at {} and is now asked at {key}: not this search's journal",
                    e.key
                )));
            }
            return serde_json::from_value(e.value.clone()).map_err(|e| StudyError::Failed(e.to_string()));
        }
        let v = f()?;
        let value = serde_json::to_value(&v).map_err(|e| StudyError::Failed(e.to_string()))?;
        let line = serde_json::to_string(&Entry { at, key, value }).map_err(|e| StudyError::Failed(e.to_string()))?;
        self.store.append(&line)?;
        // The value as a resumed search reads it back: the same numbers
        // whether or not it was interrupted.
        let e: Entry = serde_json::from_str(&line).map_err(|e| StudyError::Failed(e.to_string()))?;
        serde_json::from_value(e.value).map_err(|e| StudyError::Failed(e.to_string()))
    }

    /// Removes the journal: call once the result is in place.
    pub fn remove(self) {
        self.store.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outdir::{claim, Options};

    #[test]
    fn a_rerun_answers_the_steps_it_made_and_refuses_another_search() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dest = tmp.path().join("cal.toml");
        let fp = serde_json::json!({ "command": "calibrate", "budget": 3 });
        let calls = std::cell::Cell::new(0);
        let f = |x: f64| {
            calls.set(calls.get() + 1);
            Ok::<f64, StudyError>(x * x + 0.1)
        };
        {
            let c = claim(&dest, &Options::default()).expect("claim");
            let mut j = Journal::open(&c, &fp, false).expect("open");
            assert_eq!(j.eval(&[1.0], || f(1.0)).expect("eval"), 1.1);
            assert_eq!(j.eval(&[2.0], || f(2.0)).expect("eval"), 4.1);
            // Interrupted here: the journal stays.
        }
        let c = claim(&dest, &Options::default()).expect("claim");
        let mut j = Journal::open(&c, &fp, false).expect("reopen");
        assert_eq!(j.eval(&[1.0], || f(1.0)).expect("replayed"), 1.1);
        assert_eq!(j.eval(&[2.0], || f(2.0)).expect("replayed"), 4.1);
        assert_eq!(j.replayed(), 2);
        assert_eq!(j.eval(&[3.0], || f(3.0)).expect("new"), 9.1);
        assert_eq!(calls.get(), 3, "each step evaluated once over both runs");
        drop(j);
        let mut j = Journal::open(&c, &fp, false).expect("reopen");
        assert!(j.eval(&[5.0], || f(5.0)).is_err(), "another search's step is refused");
        let other = serde_json::json!({ "command": "calibrate", "budget": 4 });
        assert!(
            Journal::open(&c, &other, false).is_err(),
            "another command's journal is refused"
        );
        Journal::open(&c, &other, true).expect("--force starts afresh").remove();
        assert!(!tmp.path().join(".cal.toml.study").exists());
    }
}
