//! A checkout's tests planned per board: each board probed once (its feature checks),
//! then its trials in the wanted modes, with run-tests.py's skips and the board's own
//! `make test` exclusions decided up front.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::facts::Facts;
use super::{Suite, board_args, versions};
use crate::boardfile::Board;
use crate::model::case::{Case, Mode};
use crate::model::verdict::Verdict;
use crate::pipeline::Pipeline;
use crate::plan::Trial;

/// What was found about each board, kept for the reports.
#[derive(Default)]
pub struct Session {
    /// board → facts (absent: the board was unavailable).
    facts: BTreeMap<String, Facts>,
    notes: Vec<String>,
}

impl Session {
    pub fn describe(&self) -> Vec<String> {
        self.facts
            .iter()
            .map(|(b, f)| format!("{b}: {}", f.describe()))
            .chain(self.notes.iter().cloned())
            .collect()
    }

    pub(crate) fn facts(&self, board: &str) -> Option<&Facts> {
        self.facts.get(board)
    }

    pub(crate) fn platform(&self, board: &str) -> Option<&str> {
        self.facts.get(board).map(|f| f.platform.as_str())
    }

    /// The board's native arch as its probe printed it (`None`: not probed).
    pub(crate) fn arch(&self, board: &str) -> Option<Option<String>> {
        self.facts
            .get(board)
            .map(|f| f.arch.clone().filter(|a| a != "None"))
    }
}

/// Probes each board once and makes its trials in the `wanted` modes (empty: every mode of the
/// board): the tests of its directories, with run-tests.py's skips decided up front.
/// Filtering by name is the caller's (`run::Scope`).
pub fn plan_trials(
    pipeline: &Pipeline,
    suite: &Suite,
    boards: &[Arc<Board>],
    wanted: &[Mode],
) -> (Vec<Trial>, Session) {
    let mut session = Session::default();
    let mut trials = Vec::new();
    for board in boards {
        let modes: Vec<Mode> = board
            .modes
            .iter()
            .copied()
            // Upstream's tests run as run-tests.py runs them: from source or via .mpy.
            .filter(|m| *m != Mode::Frozen)
            .filter(|m| wanted.is_empty() || wanted.contains(m))
            .collect();
        let target = match pipeline.targets().get(&board.name) {
            Ok(t) => t,
            Err(verdict) => {
                // Unavailable: the default directories, each with the board's verdict.
                for case in suite.cases.iter().filter(|c| {
                    ["basics", "micropython", "misc", "extmod", "stress"]
                        .contains(&c.id.group.as_str())
                }) {
                    for &mode in &modes {
                        trials.push(Trial {
                            board: board.clone(),
                            case: case.clone(),
                            mode,
                            decided: Some(verdict.clone()),
                            kind: None,
                        });
                    }
                }
                continue;
            }
        };
        let lanes = pipeline.targets().lanes(&board.name).is_some();
        if let Some(vm) = target.tools().first()
            && let Some(note) = versions::note(&board.name, &vm.version, &suite.version)
        {
            session.notes.push(note);
        }
        let facts = suite.probe(pipeline, target, lanes);
        let (dirs, dir_notes) = facts.test_dirs(suite.lists.names());
        for d in &dirs {
            if !suite.cases.iter().any(|c| c.id.group == *d) {
                session.notes.push(format!(
                    "{}: run-tests.py would run {d}/, which has no tests here",
                    board.name
                ));
            }
        }
        session.notes.extend(
            facts
                .notices
                .iter()
                .chain(&dir_notes)
                .map(|n| format!("{}: {n}", board.name)),
        );
        let flags = facts
            .arch
            .iter()
            .map(|a| format!("-march={a}"))
            .chain(["-X".to_string(), format!("emit={}", suite.emit.as_str())])
            .collect::<Vec<_>>();
        suite
            .mpy_flags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(board.name.clone(), flags);
        let cases: Vec<Arc<Case>> = suite
            .cases
            .iter()
            .filter(|c| dirs.contains(&c.id.group))
            .cloned()
            .collect();
        let paths: Vec<String> = cases.iter().map(|c| format!("{}.py", c.id)).collect();
        // What the board's own make fragment has `make test` leave out on it.
        let build = match &board.spec {
            crate::boardfile::BoardSpec::Device(d) => d.build.as_ref(),
            _ => None,
        };
        let excludes = match build {
            Some(b) => {
                let (ex, notices) = board_args::excludes(&b.source, &b.port, &b.board);
                session
                    .notes
                    .extend(notices.into_iter().map(|n| format!("{}: {n}", board.name)));
                ex
            }
            None => Vec::new(),
        };
        let excluded = |rel: &str| {
            excludes.iter().find(|e| e.pattern.is_match(rel)).map(|e| {
                format!(
                    "excluded on this board by its RUN_TESTS_ARGS (--exclude '{}', {})",
                    e.pattern, e.origin
                )
            })
        };
        for &mode in &modes {
            let skipped =
                suite
                    .lists
                    .skipped(&facts, mode == Mode::Mpy, suite.emit.as_str(), &paths);
            for (case, rel) in cases.iter().zip(&paths) {
                let reason = excluded(rel)
                    .or_else(|| skipped.get(rel).cloned())
                    .or_else(|| facts.name_skip(&case.id.name, suite.lists.names()));
                let unreadable = case.settings.as_ref().err().map(|message| Verdict::Error {
                    message: message.clone(),
                });
                let trial = Trial {
                    board: board.clone(),
                    case: case.clone(),
                    mode,
                    decided: unreadable.or(reason.map(|reason| Verdict::Skip { reason })),
                    kind: None,
                };
                trials.push(trial);
            }
        }
        let unknown = suite.lists.unknown_conditions(&facts);
        session.notes.push(if unknown.is_empty() {
            format!(
                "{}: {} skip-list entries read from run-tests.py, every condition evaluated",
                board.name,
                suite.lists.size()
            )
        } else {
            format!(
                "{}: {} skip-list entries read from run-tests.py; {} not evaluated (skips under them not applied): {}",
                board.name,
                suite.lists.size(),
                crate::util::words::count(unknown.len(), "condition", "conditions"),
                unknown.join(" | ")
            )
        });
        session.facts.insert(board.name.clone(), facts);
    }
    (trials, session)
}
