//! A trial its suite runs its own way, not as one request to its board: a
//! multi-instance test on several boards, a native-module test with its module built
//! for the board. The suite that plans such a trial supplies its kind; the pipeline
//! asks the kind and never names a suite.

use std::time::Duration;

use super::Trial;
use crate::expect::golden::output::ExpectedOutput;
use crate::expect::reference::Reference;
use crate::model::outcome::Outcome;
use crate::targets::open::Targets;

pub trait TrialKind: Send + Sync + std::fmt::Debug {
    /// Runs the trial on the run's opened targets. Never fails: what cannot run is an
    /// outcome.
    fn run(&self, targets: &Targets, trial: &Trial, timeout: Duration) -> Outcome;

    /// The expected output where the user's goldens have none (the suite's `.exp`, or
    /// its truth on CPython).
    fn expected(&self, trial: &Trial, reference: &Reference) -> Result<ExpectedOutput, String>;

    /// The boards it runs on besides its own (a multi-instance test's partners): a run
    /// that opens only the boards its trials need opens these too.
    fn other_boards(&self) -> &[String] {
        &[]
    }
}
