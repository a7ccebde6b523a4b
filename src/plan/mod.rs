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
