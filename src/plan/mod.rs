//! board × case × mode → trials, with the skips and errors that the settings alone
//! decide made up front. Pure: no I/O. Beside it, what a plan is made from and makes:
//! the project and its selection (`config`), finding cases (`discover`), partitions of a
//! night (`partition`).

pub mod config;
pub mod discover;
mod kind;
pub mod partition;

use std::sync::Arc;

pub use kind::TrialKind;

use crate::boardfile::Board;
use crate::model::case::{Case, Mode};
use crate::model::result::{Judgement, TrialResult};
use crate::model::verdict::Verdict;

#[derive(Debug, Clone)]
pub struct Trial {
    pub board: Arc<Board>,
    pub case: Arc<Case>,
    pub mode: Mode,
    /// A verdict known without running (excluded by settings, settings invalid).
    pub decided: Option<Verdict>,
    /// A trial its suite runs its own way (several instances, a native module); `None`:
    /// one request to its board.
    pub kind: Option<Arc<dyn TrialKind>>,
}

impl Trial {
    /// `<board>::<group>/<name>`, with `.mpy` or `.frozen` appended in those modes: the
    /// name cargo test, nextest and the reports use.
    pub fn name(&self) -> String {
        format!(
            "{}::{}{}",
            self.board.name,
            self.case.id,
            self.mode.suffix()
        )
    }

    /// Every board this trial runs on: its own, then any other its kind needs.
    pub fn boards(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.board.name.as_str()).chain(
            self.kind
                .iter()
                .flat_map(|k| k.other_boards().iter().map(String::as_str)),
        )
    }

    /// This trial's result from its judgement.
    pub fn result(&self, judgement: Judgement, duration: std::time::Duration) -> TrialResult {
        TrialResult::new(
            self.name(),
            (&self.board.name, &self.board.family),
            &self.case.id,
            self.mode,
            judgement,
            duration,
        )
    }
}

/// Every trial for the boards and cases, in board order then case order.
pub fn plan(boards: &[Arc<Board>], cases: &[Arc<Case>]) -> Vec<Trial> {
    let mut trials = Vec::new();
    for board in boards {
        for case in cases {
            trials.extend(trials_for(board, case));
        }
    }
    trials
}

/// The trials of an A/B put side by side: each case's base and head trials next to each
/// other (stable, so each pair keeps the order the sides were given in). Why: the trials
/// start in this order, and the sides run one after the other (all the base's trials,
/// then the head's) let a change in the host's load between the halves shift one side's
/// wall time: unix against itself under load, `-j 1`, had the head's fastest sample
/// slower on 22 of 24 benchmarks (+1 to +10 %). Side by side, both see the same load.
pub fn side_by_side(trials: &mut [Trial]) {
    trials.sort_by(|a, b| (&a.case.id, a.mode).cmp(&(&b.case.id, b.mode)));
}

fn trials_for(board: &Arc<Board>, case: &Arc<Case>) -> Vec<Trial> {
    // A board made for some cases (its file's `cases:`) plans no other.
    if !board.runs_case(&case.id.to_string()) {
        return Vec::new();
    }
    let make = |mode, decided| Trial {
        board: board.clone(),
        case: case.clone(),
        mode,
        decided,
        kind: None,
    };
    let settings = match &case.settings {
        Ok(s) => s,
        // One error trial per board: the case cannot say which modes it wanted.
        Err(message) => {
            return vec![make(
                Mode::Source,
                Some(Verdict::Error {
                    message: message.clone(),
                }),
            )];
        }
    };
    let excluded = settings.excluded_reason(&[&board.name, &board.family, board.kind()]);
    board
        .modes
        .iter()
        .filter(|m| settings.modes.as_ref().is_none_or(|ms| ms.contains(m)))
        .map(|&mode| {
            make(
                mode,
                excluded.clone().map(|reason| Verdict::Skip { reason }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(group: &str, name: &str) -> Arc<Case> {
        Arc::new(Case {
            id: crate::model::case::CaseId {
                group: group.into(),
                name: name.into(),
            },
            path: format!("cases/{group}/{name}.py").into(),
            source: Vec::new(),
            settings: Err("not read".into()),
            import_name: name.into(),
        })
    }

    #[test]
    fn an_ab_runs_each_cases_base_and_head_side_by_side() {
        let board = |name: &str| -> Arc<Board> {
            let text = "kind: unix\nmodes: [source, mpy]\n";
            let path = std::path::PathBuf::from(format!("boards/{name}.yaml"));
            Arc::new(crate::boardfile::parse::parse_board(&path, text).expect("board"))
        };
        let cases = [case("b", "two"), case("a", "one")];
        let mut trials: Vec<Trial> = [board("x@base"), board("x@head")]
            .iter()
            .flat_map(|b| {
                cases.iter().flat_map(|c| {
                    [Mode::Source, Mode::Mpy].map(|mode| Trial {
                        board: b.clone(),
                        case: c.clone(),
                        mode,
                        decided: None,
                        kind: None,
                    })
                })
            })
            .collect();
        assert!(trials[0].name().starts_with("x@base::b/two"));
        side_by_side(&mut trials);
        let names: Vec<String> = trials.iter().map(Trial::name).collect();
        assert_eq!(
            names,
            [
                "x@base::a/one",
                "x@head::a/one",
                "x@base::a/one.mpy",
                "x@head::a/one.mpy",
                "x@base::b/two",
                "x@head::b/two",
                "x@base::b/two.mpy",
                "x@head::b/two.mpy",
            ]
        );
    }
}
