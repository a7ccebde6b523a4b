//! What happens during a run, as the report sinks see it.

use super::TrialResult;

/// What a trial's stages tell while it runs (the executor turns it into an [`Event`]).
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// Run again, and why.
    Retried(&'a str),
    /// The board was brought back, and how.
    Recovered(&'a str),
}

pub enum Event<'a> {
    /// A selected board cannot be used here; its trials are skipped with this reason.
    BoardUnavailable { board: &'a str, why: &'a str },
    /// What was decided about a board's firmware before the run (flash or not, and why).
    Firmware { board: &'a str, line: &'a str },
    /// The run starts.
    Started { trials: usize },
    /// A trial is being run again, and why.
    Retried { trial: &'a str, why: &'a str },
    /// A board hung or lost its link during a trial and was brought back: how.
    Recovered { trial: &'a str, how: &'a str },
    /// A trial's result.
    Finished(&'a TrialResult),
}
