//! What happens during a run, as the report sinks see it.

use super::TrialResult;

pub enum Event<'a> {
    /// A selected board cannot be used here; its trials are skipped with this reason.
    BoardUnavailable { board: &'a str, why: &'a str },
    /// What was decided about a board's firmware before the run (flash or not, and why).
    Firmware { board: &'a str, line: &'a str },
    /// The run starts.
    Started { trials: usize },
    /// A trial is being run again, and why.
    Retried { trial: &'a str, why: &'a str },
    /// A trial's result.
    Finished(&'a TrialResult),
}
