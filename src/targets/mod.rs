//! Targets: something that runs a case and returns what happened. Host VMs run one
//! process per case; boards (raw REPL) slot in behind the same trait.

pub mod board;
mod board_instance;
pub mod bytecode;
pub mod host;
pub mod instance;
pub mod open;
pub mod process;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::case::{Case, Mode};
use crate::compile::Compiler;
use crate::features::Features;
use crate::toolchain::ToolInfo;

/// One run of one case on a target.
pub struct RunRequest<'a> {
    pub case: &'a Case,
    pub mode: Mode,
    /// The compiled case, for `Mode::Mpy`.
    pub mpy: Option<&'a [u8]>,
    pub timeout: Duration,
    /// Measure the heap around the case (host MicroPython VMs); `Some(how)`.
    pub heap: Option<crate::heap::Wrap<'a>>,
    /// Upload slowly (boards): re-checking a failure that a lossy link may have caused.
    pub slow: bool,
    /// How the case's suite runs it where that is not the target's own way (a checkout's
    /// test, run as run-tests.py runs it); `None` for the project's own cases.
    pub suite: Option<&'a dyn SuiteRun>,
}

/// A host VM as a suite's own runner sees it.
pub struct HostVm<'a> {
    pub kind: crate::board::HostKind,
    pub path: &'a Path,
    /// The board file's arguments for the VM.
    pub args: &'a [String],
}

/// A suite that runs its tests its own way (command line, working directory, a REPL on a
/// pseudo-terminal; on a board, exec'd without `__file__`): implemented by a checkout's
/// tests (upstream::exec). Targets call it; they never name a suite.
pub trait SuiteRun: Send + Sync {
    /// Runs the request on a host VM; `None`: the target runs it its usual way.
    fn run_on_host(&self, vm: &HostVm, request: &RunRequest, scratch: &Path) -> Option<Outcome>;
    /// The plain command for the request (a benchmark's floor); `None` as above.
    fn host_command(&self, vm: &HostVm, request: &RunRequest, scratch: &Path) -> Option<Command>;
}

pub trait Target: Send + Sync {
    /// The tools this target runs (VM, compiler), with the versions they reported.
    fn tools(&self) -> Vec<ToolInfo>;
    /// What the target is known to have; cases requiring a missing feature are skipped.
    fn features(&self) -> &Features;
    /// The compiler whose `.mpy` files this target loads (None: no `.mpy` mode).
    fn compiler(&self) -> Option<&Arc<Compiler>>;
    /// The `-march` mpy-cross is given for cases that require `native` (None: the
    /// target loads no native code).
    fn native_arch(&self) -> Option<String> {
        None
    }
    /// Runs a case. Never fails: a VM that cannot start is an outcome too.
    fn run(&self, request: &RunRequest) -> Outcome;
    /// The plain command a host VM runs for this request, with files it needs written
    /// into `scratch`; for measuring the bare VM (benchmarks). Boards have none.
    fn bare_command(&self, _request: &RunRequest, _scratch: &Path) -> Option<Command> {
        None
    }
    /// What this target produces and can do, fixed when it is opened: the pipeline asks
    /// this, never the board's kind.
    fn capabilities(&self) -> Capabilities;
    /// The command one instance of a multi-instance test runs, `-c <script>` to be
    /// appended (run-multitests.py's subprocess instance). None: the target cannot host
    /// one (boards, for now; the webassembly port, as upstream).
    fn instance_command(&self) -> Option<Command> {
        None
    }
    /// Whether it can host an instance of a multi-instance test.
    fn hosts_instances(&self) -> bool {
        self.instance_command().is_some()
    }
    /// Starts `script` (the test with upstream's appended code) as instance `instance`
    /// of a multi-instance test on a target that hosts one in place (a board's raw
    /// REPL). None: it cannot.
    fn start_instance(
        &self,
        _script: Vec<u8>,
        _instance: usize,
        _events: instance::Events,
    ) -> Option<Result<Box<dyn instance::RunningInstance + '_>, String>> {
        None
    }
}

/// What a target does, fixed when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub produces: Produces,
    /// It measures the heap around a case (the heap wrapper runs there).
    pub measures_heap: bool,
    /// Uploads can lose input (a console without flow control): a failing result is
    /// re-checked with a slow upload before it counts.
    pub lossy_link: bool,
}

/// What a target's output is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Produces {
    /// What the program printed: output goldens, or CPython's output.
    ProgramOutput,
    /// The case's disassembly: bytecode goldens.
    Disassembly,
}

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
    pub heap: Option<crate::heap::HeapFigures>,
    /// The case's own time measured by the target's clock (microseconds), where it has one.
    pub target_us: Option<u64>,
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
