//! What happened when a case ran: its output, how it ended, how long it took and, where
//! measured, its heap figures and its own time on the target's clock.

use std::time::Duration;

/// What happened when a case ran.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// stdout and stderr, merged in order, up to the capture cap.
    pub output: Vec<u8>,
    /// Output went past the cap and the rest was discarded.
    pub truncated: bool,
    pub status: Status,
    pub duration: Duration,
    /// The last line of the last uncaught-exception traceback in the output.
    pub exception: Option<String>,
    /// What else happened worth reporting (e.g. how a hung board was recovered).
    pub note: Option<String>,
    /// The board hung or lost its link and was brought back: how (told as an event).
    pub recovered: Option<String>,
    /// Where the time went, for boards: reset, upload, run, read.
    pub phases: Vec<(&'static str, Duration)>,
    /// Heap figures, when measured (raw: the wrapper's own cost not yet subtracted).
    pub heap: Option<crate::model::heap::HeapFigures>,
    /// The case's own time measured by the target's clock (microseconds), where it has one.
    pub target_us: Option<u64>,
    /// The member of a pool of identical boards that ran it (`None`: not a pool).
    pub member: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Exited(i32),
    Signalled(i32),
    TimedOut(Duration),
    /// The VM could not be started (missing binary, no pipe, …): a harness problem.
    NotStarted(String),
    /// The target declined the case before it started (e.g. too large for its heap).
    Skipped(String),
    /// The compiler rejected the case (its message).
    Rejected(String),
    /// The board went away mid-case (its QEMU died, its link broke) and was brought back.
    BoardLost(String),
}

/// How a status reads in messages (never Rust's debug text).
impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exit status {code}"),
            Status::Signalled(sig) => write!(f, "killed by signal {sig}"),
            Status::TimedOut(after) => write!(f, "no result within {:.1} s", after.as_secs_f64()),
            Status::NotStarted(why) => write!(f, "not started: {why}"),
            Status::Skipped(why) => write!(f, "declined: {why}"),
            Status::Rejected(message) => write!(f, "rejected by mpy-cross: {message}"),
            Status::BoardLost(detail) => write!(f, "board lost: {detail}"),
        }
    }
}

impl Outcome {
    pub fn new(output: Vec<u8>, truncated: bool, status: Status, duration: Duration) -> Outcome {
        let exception = uncaught_exception(&output);
        Outcome {
            output,
            truncated,
            status,
            duration,
            exception,
            note: None,
            recovered: None,
            phases: Vec::new(),
            heap: None,
            target_us: None,
            member: None,
        }
    }

    pub fn not_started(why: String, duration: Duration) -> Outcome {
        Outcome::new(Vec::new(), false, Status::NotStarted(why), duration)
    }
}

/// Finds `Traceback (most recent call last):` and returns the exception line after it
/// (the first line that is not indented), for the last traceback in the output.
pub fn uncaught_exception(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let start = text.rfind("Traceback (most recent call last):")?;
    text[start..]
        .lines()
        .skip(1)
        .find(|l| !l.starts_with(' ') && !l.is_empty())
        .map(|l| l.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_words() {
        assert_eq!(Status::Exited(3).to_string(), "exit status 3");
        assert_eq!(
            Status::TimedOut(Duration::from_secs(30)).to_string(),
            "no result within 30.0 s"
        );
        assert_eq!(Status::Signalled(9).to_string(), "killed by signal 9");
    }

    #[test]
    fn exception_line_is_found() {
        let out = b"1\nTraceback (most recent call last):\n  File \"x.py\", line 2, in <module>\nValueError: x\n";
        assert_eq!(uncaught_exception(out).as_deref(), Some("ValueError: x"));
        assert_eq!(uncaught_exception(b"all fine\n"), None);
    }
}
