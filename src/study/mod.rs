//! Studies: a model run at the points of an experimental design, with
//! replicates at every point, rows kept as points finish so that an
//! interrupted study resumes, and the tables a sensitivity analysis reads.
//!
//! Owns `northbound sweep`'s whole path for both models: the designs
//! (`design`), the named outputs (`metric`), the runner abstraction over a
//! model (`runner`), the tables (`runs`), the resumable loop ([`run`]) over
//! the store that `outdir` keeps, `journal` (the same store for searches
//! such as calibration, step by step), and `analyze` (Sobol' and Morris
//! indices from a study's folder). Must not change how a model simulates: it runs
//! models through `ensemble` and `flee::sim`, and must not know the
//! command line: the CLI parses, claims the folder and prints.

pub mod analyze;
pub mod design;
pub mod folder;
pub mod journal;
pub mod metric;
pub mod runner;
pub mod runs;

use crate::engine::Exchange;
use crate::experiment::{agree, Kind};
use crate::outdir::{Claim, OutputError, Store};
use design::Design;
use runner::{PointRunner, RepResult};
use serde_json::json;
use std::path::Path;

/// Why a study failed.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A design, parameter, metric or file the user gave is not valid (exit 2).
    #[error("{0}")]
    Spec(String),
    /// A run failed.
    #[error("{0}")]
    Ensemble(#[from] crate::ensemble::EnsembleError),
    /// Writing, or the destination refused (exit 2 if refused).
    #[error("{0}")]
    Output(#[from] OutputError),
    /// The folder's tables could not be written.
    #[error("{0}")]
    Results(#[from] crate::results::ResultsError),
    /// A failure of northbound's own (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Another process failed (or, on a rank other than 0, the failure
    /// rank 0 reports).
    #[error("{0}")]
    Rank(#[from] crate::experiment::RankError),
}

impl StudyError {
    /// Whether the user's input caused it (exit 2) rather than northbound (exit 1).
    pub fn is_bad_input(&self) -> bool {
        use crate::ensemble::EnsembleError as E;
        match self {
            StudyError::Spec(_) => true,
            StudyError::Output(o) => o.is_refusal(),
            StudyError::Ensemble(E::Output(o)) => o.is_refusal(),
            StudyError::Ensemble(E::Engine(_)) => false,
            StudyError::Ensemble(E::Rank(r)) => r.kind == Kind::BadInput,
            StudyError::Ensemble(_) => true,
            StudyError::Rank(r) => r.kind == Kind::BadInput,
            StudyError::Results(_) | StudyError::Failed(_) => false,
        }
    }
}

impl crate::experiment::JobError for StudyError {
    fn kind(&self) -> Kind {
        if self.is_bad_input() {
            Kind::BadInput
        } else {
            Kind::Failure
        }
    }
}

/// `; did you mean a, b or c?` for the valid names nearest to `wrong`
/// (`scenario::params::nearest`), or nothing if none is close.
pub fn nearest<'a>(wrong: &str, valid: impl Iterator<Item = &'a str>) -> String {
    let near = crate::scenario::params::nearest(wrong, valid);
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", crate::scenario::params::or_list(&near))
    }
}

/// What a user should know about a design before it runs: a Sobol' design
/// whose N is not a power of two (the sequence is balanced only over 2^k
/// points; SALib warns alike), or whose N is small (the bootstrap
/// intervals of the indices are then wide).
pub fn warnings(method: &design::Method) -> Vec<String> {
    let design::Method::Sobol(n) = *method else {
        return Vec::new();
    };
    let mut w = Vec::new();
    if !n.is_power_of_two() {
        let below = 1usize << (usize::BITS - 1 - n.leading_zeros());
        w.push(format!(
            "--design sobol:{n}: N is not a power of two, over which Sobol' points are balanced; \
             sobol:{below} or sobol:{} estimate the indices better",
            below * 2
        ));
    }
    if n < 16 {
        w.push(format!(
            "--design sobol:{n}: with fewer than 16 base points the indices' intervals are wide; \
             64 or more is usual"
        ));
    }
    w
}

/// What identifies a study: the same fingerprint resumes a store, another
/// is refused. Everything the rows depend on is in it.
#[derive(Clone, Debug)]
pub struct Fingerprint {
    /// SHA-256 of the scenario's bytes (or of a Flee folder's inputs).
    pub scenario_sha256: String,
    /// `--design` as given (or the design file's SHA-256).
    pub design: String,
    /// `--param`s as given.
    pub params: Vec<String>,
    /// Replicates per point.
    pub replicates: usize,
    /// `--metric`s as given.
    pub metrics: Vec<String>,
    /// Anything else that changes the runs (`--scale`, `--fixed-inputs`, …).
    pub options: serde_json::Value,
    /// The scenario's seed.
    pub seed: u64,
}

impl Fingerprint {
    fn json(&self) -> serde_json::Value {
        json!({
            "scenario_sha256": self.scenario_sha256,
            "design": self.design,
            "params": self.params,
            "replicates": self.replicates,
            "metrics": self.metrics,
            "options": self.options,
            "seed": self.seed,
            "version": env!("CARGO_PKG_VERSION"),
        })
    }
}

/// How a study reports progress: `start(done, total)` once (points already
/// in the store count as done), then `point()` as each point finishes.
pub struct Progress<'a> {
    /// Called once with the points done and the points in all.
    pub start: &'a dyn Fn(u64, u64),
    /// Called after each point.
    pub point: &'a dyn Fn(),
}

/// A finished study: the rows of every point (on rank 0; empty on the
/// others) and the store to remove once the folder is in place.
pub struct Finished {
    /// Each point's replicates, in point order.
    pub rows: Vec<Vec<RepResult>>,
    /// The store (rank 0 only).
    pub store: Option<Store>,
    /// Points that were already in the store when the study started.
    pub resumed: usize,
}

/// One stored line: a point and its replicates.
#[derive(serde::Serialize, serde::Deserialize)]
struct Line {
    point: usize,
    reps: Vec<RepResult>,
}

/// Runs every point of `design` not yet in the store of `dest`, appending
/// each point's rows to it as the point finishes. Rank 0 holds `claim`
/// (the destination checked and locked), opens and writes the store, and
/// tells the other ranks which points it holds. `fresh` (`--force`) starts afresh; a store of another
/// command is refused. The points are checked beforehand
/// (`PointRunner::prepare`, as `folder::Study` does). Without `dest` (a library caller keeping the study
/// in memory) there is no store.
#[allow(clippy::too_many_arguments)]
pub fn run(
    runner: &dyn PointRunner,
    design: &Design,
    replicates: usize,
    fingerprint: &Fingerprint,
    dest: Option<&Path>,
    claim: Option<&Claim>,
    fresh: bool,
    ranks: &dyn Exchange,
    progress: &Progress<'_>,
) -> Result<Finished, StudyError> {
    let paths = design.header();
    let fp = fingerprint.json();
    let (mut store, lines) = stored_points(claim, dest, &fp, fresh, ranks)?;
    let total = design.points.len();
    let mut done: Vec<Option<Vec<RepResult>>> = vec![None; total];
    for l in &lines {
        let line: Line = serde_json::from_str(l)
            .map_err(|e| StudyError::Failed(format!("the study's store has a line that is not a point: {e}")))?;
        if line.point >= total || line.reps.len() != replicates {
            return Err(StudyError::Failed(format!(
                "the study's store holds point {} with {} replicates, not of this design",
                line.point,
                line.reps.len()
            )));
        }
        done[line.point] = Some(line.reps);
    }
    let resumed = done.iter().filter(|d| d.is_some()).count();
    (progress.start)(resumed as u64, total as u64);
    // Points run a few at a time (`PointRunner::points_at_once`: enough
    // replicates to keep every thread busy), stored in point order.
    let todo: Vec<usize> = (0..total).filter(|&i| done[i].is_none()).collect();
    for batch in todo.chunks(runner.points_at_once(replicates)) {
        let values: Vec<&[f64]> = batch.iter().map(|&i| design.points[i].as_slice()).collect();
        let ran = runner.run_points(&paths, &values, replicates, ranks);
        // Rank 0 alone keeps the rows; every rank learns whether it could
        // (or whether the points failed anywhere) before the next points'
        // collectives, so that none goes on while another has stopped.
        let kept = ran.and_then(|ran| keep_points(batch, ran, &mut done, store.as_mut(), progress));
        agree(kept, ranks)?;
    }
    let rows = if ranks.rank() == 0 {
        done.into_iter()
            .map(|d| d.ok_or_else(|| StudyError::Failed("a point was not run".into())))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    Ok(Finished { rows, store, resumed })
}

/// Keeps the rows of the points of `batch` that `ran` (on rank 0; `None`
/// elsewhere) in `done` and appends them to the store.
fn keep_points(
    batch: &[usize],
    ran: Option<Vec<Vec<RepResult>>>,
    done: &mut [Option<Vec<RepResult>>],
    mut store: Option<&mut Store>,
    progress: &Progress<'_>,
) -> Result<(), StudyError> {
    let mut ran = ran.map(Vec::into_iter);
    for &i in batch {
        if let Some(reps) = ran.as_mut().and_then(Iterator::next) {
            let line =
                serde_json::to_string(&Line { point: i, reps }).map_err(|e| StudyError::Failed(e.to_string()))?;
            if let Some(s) = store.as_mut() {
                s.append(&line)?;
            }
            // The rows as a resumed study reads them back: the same numbers
            // whether or not the study was interrupted.
            done[i] = serde_json::from_str::<Line>(&line).ok().map(|l| l.reps);
        }
        (progress.point)();
    }
    Ok(())
}

/// The store (on rank 0) and the lines of the points it holds, on every
/// rank. Only rank 0 opens the store: it may be creating it or starting it
/// afresh at that moment, so another rank reading the folder could find it
/// half made. Every rank learns whether rank 0 could open it (failing
/// with rank 0's error if not: [`agree`]), then rank 0 sends the lines,
/// so that no rank waits for another that stopped.
fn stored_points(
    claim: Option<&Claim>,
    dest: Option<&Path>,
    fp: &serde_json::Value,
    fresh: bool,
    ranks: &dyn Exchange,
) -> Result<(Option<Store>, Vec<String>), StudyError> {
    let opened = if ranks.rank() != 0 {
        Ok((None, Vec::new()))
    } else if let Some(c) = claim {
        c.study_store(fp, fresh)
            .map(|(s, l)| (Some(s), l))
            .map_err(StudyError::from)
    } else {
        // A library caller with a folder but no claim: the store as it is
        // (an error is kept, not returned: the other ranks wait for word).
        match dest.map(crate::outdir::read_store).transpose() {
            Err(e) => Err(StudyError::from(e)),
            Ok(found) => match found.flatten() {
                Some((old, l)) if !fresh && &old == fp => Ok((None, l)),
                Some(_) if !fresh => Err(StudyError::Spec("the store holds another command's study".into())),
                _ => Ok((None, Vec::new())),
            },
        }
    };
    if ranks.size() <= 1 {
        return opened;
    }
    let (store, lines) = agree(opened, ranks)?;
    // Encoding lines of text cannot fail; were it to, the empty message
    // fails every rank alike below.
    let bytes = crate::wire::encode(&lines).unwrap_or_default();
    let from_root = ranks.all_gather(if ranks.rank() == 0 { &bytes } else { &[] });
    let lines: Vec<String> = from_root
        .first()
        .map(|b| crate::wire::decode(b))
        .transpose()
        .map_err(|e| StudyError::Failed(e.to_string()))?
        .unwrap_or_default();
    Ok((store, lines))
}

#[cfg(test)]
mod tests {
    use super::design::{Factor, Method};
    use super::*;
    use crate::experiment::meeting::Meeting;
    use crate::experiment::RankError;

    /// Points of one factor, each replicate's output its point's value.
    /// Each batch meets every rank once (as `experiment::batch` does);
    /// rank 0 then fails alone at point `fail_at` (what a rank 0 that
    /// cannot read the gathered runs, or keep them, does).
    struct Points {
        fail_at: usize,
    }

    impl PointRunner for Points {
        fn outputs(&self) -> Vec<String> {
            vec!["x".into()]
        }
        fn check(&self, _path: &str, _value: f64) -> Result<(), String> {
            Ok(())
        }
        fn seed(&self) -> u64 {
            1
        }
        fn prepare(&self, _paths: &[String], _points: &[Vec<f64>], _n: usize) -> Result<(), StudyError> {
            Ok(())
        }
        fn run_points(
            &self,
            _paths: &[String],
            points: &[&[f64]],
            n: usize,
            ranks: &dyn Exchange,
        ) -> runner::PointRows {
            ranks.sum_u64(&mut [1]);
            if ranks.rank() != 0 {
                return Ok(None);
            }
            if points[0][0] as usize == self.fail_at {
                return Err(StudyError::Failed("point 1's runs could not be read".into()));
            }
            let rows = points
                .iter()
                .map(|p| {
                    (0..n)
                        .map(|k| RepResult {
                            replicate: k,
                            seed: k as u64,
                            outputs: vec![p[0]],
                            flows: Vec::new(),
                        })
                        .collect()
                })
                .collect();
            Ok(Some(rows))
        }
        fn points_at_once(&self, _replicates: usize) -> usize {
            1
        }
    }

    #[test]
    fn a_point_rank_0_fails_alone_stops_every_rank_before_the_next_point() {
        let design = Design {
            method: Method::Grid,
            factors: vec![Factor {
                path: "x".into(),
                lo: 0.0,
                hi: 3.0,
            }],
            points: (0..4).map(|i| vec![i as f64]).collect(),
        };
        let fp = Fingerprint {
            scenario_sha256: String::new(),
            design: "grid".into(),
            params: vec!["x=0:3:1".into()],
            replicates: 2,
            metrics: Vec::new(),
            options: serde_json::Value::Null,
            seed: 1,
        };
        let study = |fail_at: usize| {
            Meeting::new(2).run(|me| {
                let progress = Progress {
                    start: &|_, _| {},
                    point: &|| {},
                };
                run(&Points { fail_at }, &design, 2, &fp, None, None, false, me, &progress)
                    .map(|f| f.rows.len())
                    .map_err(|e| (e.to_string(), e.is_bad_input(), RankError::is_quiet(&e)))
            })
        };
        let said = "point 1's runs could not be read".to_string();
        let outcomes = study(1);
        assert_eq!(
            outcomes[0],
            Err((said.clone(), false, false)),
            "rank 0 reports its error"
        );
        assert_eq!(outcomes[1], Err((said, false, true)), "rank 1 stops with it, silently");
        assert_eq!(study(9), [Ok(4), Ok(0)], "every point's rows on rank 0");
    }
}
