//! The differential matrix: every case × mode on every board against a reference
//! board's output (`mpcheck run --reference BOARD`). A difference listed in
//! `known-differences/<board or port>.yaml` (case → reason, like upstream's cpydiff) is
//! shown as known, with its reason, so a new port's report lists only what nobody has
//! explained yet. Pure but for reading those files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::case::Mode;
use crate::error::{Error, Result};
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

/// Known differences: board name or port kind → case id → reason.
#[derive(Debug, Default, Clone)]
pub struct KnownDifferences {
    by_board: BTreeMap<String, BTreeMap<String, String>>,
}

impl KnownDifferences {
    /// Reads every `*.yaml` in `dir` (none there: nothing known). A file is a map of case
    /// id (`group/name`, or `group/name.mpy` for one mode) to the reason.
    pub fn load(dir: &Path) -> Result<KnownDifferences> {
        let mut known = KnownDifferences::default();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(known);
        };
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = crate::input::read_text(
                &path,
                crate::input::cap::CONFIG,
                "known-differences file",
            )?;
            let map: BTreeMap<String, String> = crate::input::yaml(&path, 1, &text)?;
            if let Some((case, _)) = map.iter().find(|(_, why)| why.trim().is_empty()) {
                let line = text.lines().position(|l| l.starts_with(case.as_str()));
                return Err(Error::config(
                    &path,
                    line.map_or(1, |l| l + 1),
                    format!("{case}: a known difference needs its reason"),
                ));
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            known.by_board.insert(name.to_string(), map);
        }
        Ok(known)
    }

    /// The reason `board` (or its port, `kind`) differs on this trial, if one is known.
    pub fn reason(&self, board: &str, kind: &str, case: &str, mode: Mode) -> Option<&str> {
        let keys = [format!("{case}.{}", mode.as_str()), case.to_string()];
        [board, kind]
            .iter()
            .filter_map(|b| self.by_board.get(*b))
            .find_map(|m| keys.iter().find_map(|k| m.get(k)))
            .map(String::as_str)
    }
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
                    match known.reason(&r.board, &kind(&r.board), &r.case, r.mode) {
                        Some(reason) => Agreement::Known {
                            reason: reason.to_string(),
                        },
                        None => Agreement::Unexplained {
                            diff: crate::report::escape::controls(&crate::report::diff::unified(
                                &String::from_utf8_lossy(x.output.as_deref().unwrap_or_default()),
                                &String::from_utf8_lossy(out),
                                &format!("reference ({reference})"),
                                &r.board,
                                crate::report::diff::REPORT_LINES,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_for_one_mode_wins_over_none_and_a_port_reason_covers_its_boards() {
        let mut known = KnownDifferences::default();
        known.by_board.insert(
            "webassembly".into(),
            [("g/a".to_string(), "port".to_string())].into(),
        );
        known.by_board.insert(
            "my-board".into(),
            [("g/b.mpy".to_string(), "board, mpy".to_string())].into(),
        );
        assert_eq!(
            known.reason("wasm-1.27", "webassembly", "g/a", Mode::Source),
            Some("port")
        );
        assert_eq!(
            known.reason("my-board", "qemu", "g/b", Mode::Mpy),
            Some("board, mpy")
        );
        assert_eq!(known.reason("my-board", "qemu", "g/b", Mode::Source), None);
    }

    #[test]
    fn a_known_difference_without_a_reason_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("unix.yaml"), "g/a: fine\ng/b: ''\n").unwrap();
        let e = KnownDifferences::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("unix.yaml:2") && e.contains("needs its reason"),
            "{e}"
        );
    }
}
