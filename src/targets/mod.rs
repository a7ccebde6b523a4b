//! Targets: something that runs a case and returns what happened. Host VMs run one
//! process per case; boards (raw REPL) slot in behind the same trait.

pub mod board;
mod board_instance;
pub mod bytecode;
pub mod frozen;
pub mod host;
pub mod instance;
pub mod members;
pub mod open;
pub mod pool;
pub mod process;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::model::case::{Case, Mode};
use crate::model::features::Features;
use crate::model::outcome::Outcome;
use crate::tools::compile::Compiler;
use crate::tools::toolchain::ToolInfo;

/// One run of one case on a target.
pub struct RunRequest<'a> {
    pub case: &'a Case,
    pub mode: Mode,
    /// The compiled case, for `Mode::Mpy`.
    pub mpy: Option<&'a [u8]>,
    pub timeout: Duration,
    /// Measure the heap around the case (host MicroPython VMs); `Some(how)`.
    pub heap: Option<crate::model::heap::Wrap<'a>>,
    /// Upload slowly (boards): re-checking a failure that a lossy link may have caused.
    pub slow: bool,
    /// How the case's suite runs it where that is not the target's own way (a checkout's
    /// test, run as run-tests.py runs it); `None` for the project's own cases.
    pub suite: Option<&'a dyn SuiteRun>,
}

/// A host VM as a suite's own runner sees it.
pub struct HostVm<'a> {
    pub kind: crate::boardfile::HostKind,
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
    /// Whether a board with exact time boots afresh before it (a benchmark whose time
    /// must not depend on what ran before on the same instance).
    fn fresh_boot(&self) -> bool {
        false
    }
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
