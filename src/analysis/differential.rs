//! The differential matrix: every case × mode on every board against a reference
//! board's output (`mpcheck run --reference BOARD`). A difference listed in the
//! project's known differences (crate::expect::known) is shown as known, with its reason, so a
//! new port's report lists only what nobody has explained yet. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::expect::known::KnownDifferences;
use crate::model::case::Mode;
use crate::pipeline::TrialResult;

/// One board's agreement with the reference on one case and mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "agreement", rename_all = "kebab-case")]
pub enum Agreement {
    Same,
    /// Differs, for a reason someone wrote down.
    Known {
        reason: String,
    },
    Unexplained {
        diff: String,
    },
    /// One side has no output (skipped, crashed, unavailable).
    NotCompared {
        why: String,
    },
}

/// The matrix: rows are case × mode, columns the boards (the reference first).
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub reference: String,
    pub boards: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub case: String,
    pub mode: Mode,
    /// Board → agreement (the reference's own column is left out).
    pub cells: BTreeMap<String, Agreement>,
}

impl Matrix {
    /// `kind` gives a board's port kind (for per-port known differences).
    pub fn build(
        results: &[TrialResult],
        reference: &str,
        kind: &dyn Fn(&str) -> String,
        known: &KnownDifferences,
    ) -> Matrix {
        let refs: BTreeMap<(&str, Mode), &TrialResult> = results
            .iter()
            .filter(|r| r.board == reference)
            .map(|r| ((r.case.as_str(), r.mode), r))
            .collect();
        let boards: Vec<String> = results
            .iter()
            .map(|r| r.board.clone())
            .filter(|b| b != reference)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut rows: BTreeMap<(String, Mode), Row> = BTreeMap::new();
        for r in results.iter().filter(|r| r.board != reference) {
            let cell = match (refs.get(&(r.case.as_str(), r.mode)), &r.output) {
                (None, _) => Agreement::NotCompared {
                    why: format!("{reference} has no such trial"),
                },
                (Some(x), _) if x.output.is_none() => Agreement::NotCompared {
                    why: format!("{reference}: {}", x.verdict.name()),
                },
                (_, None) => Agreement::NotCompared {
                    why: r
                        .verdict
                        .reason()
                        .unwrap_or_else(|| r.verdict.name().into()),
                },
                (Some(x), Some(out)) if x.output.as_ref() == Some(out) => Agreement::Same,
                (Some(x), Some(out)) => {
                    match known.reason(&[&r.board, r.family(), &kind(&r.board)], &r.case, r.mode) {
                        Some(reason) => Agreement::Known {
                            reason: reason.to_string(),
                        },
                        None => Agreement::Unexplained {
                            diff: crate::util::escape::controls(&crate::util::diff::unified(
                                &String::from_utf8_lossy(x.output.as_deref().unwrap_or_default()),
                                &String::from_utf8_lossy(out),
                                &format!("reference ({reference})"),
                                &r.board,
                                crate::util::diff::REPORT_LINES,
                                None,
                            ))
                            .into_owned(),
                        },
                    }
                }
            };
            rows.entry((r.case.clone(), r.mode))
                .or_insert_with(|| Row {
                    case: r.case.clone(),
                    mode: r.mode,
                    cells: BTreeMap::new(),
                })
                .cells
                .insert(r.board.clone(), cell);
        }
        Matrix {
            reference: reference.to_string(),
            boards,
            rows: rows.into_values().collect(),
        }
    }

    /// Per board: (same, known, unexplained, not compared).
    pub fn counts(&self, board: &str) -> [usize; 4] {
        let mut c = [0; 4];
        for cell in self.rows.iter().filter_map(|r| r.cells.get(board)) {
            c[match cell {
                Agreement::Same => 0,
                Agreement::Known { .. } => 1,
                Agreement::Unexplained { .. } => 2,
                Agreement::NotCompared { .. } => 3,
            }] += 1;
        }
        c
    }
}
