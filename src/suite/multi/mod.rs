//! Multi-instance tests (a checkout's `multi_*/`), run as run-multitests.py runs them
//! but without ever running or importing it:
//!
//! ```text
//! protocol    the checkout's run-multitests.py read: the `multitest` helper appended
//!             to each instance, ignored lines, the read timeout, MICROPYPATH
//! controller  sans I/O: NEXT / SET globals / BROADCAST relay / SKIP / TIMEOUT, and the
//!             `--- instanceN ---` output
//! instance    one instance as a process (`<vm> -c <script>`)
//! drive       the controller driven against real instances
//! plan        which trials: one per test, its instances on the run's boards
//! own         a project's own multi-instance cases: mpcheck's own rules, one trial per
//!             board, the other instances on the case's partners
//! ```
//!
//! A test is one trial, on instance 0's board; its output is the assembled blocks,
//! judged against the `.exp` or, where there is none, against the same test run on
//! CPython instances (upstream's truth).

mod controller;
mod drive;
mod instance;
pub mod own;
pub mod plan;
mod protocol;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

pub use protocol::ProtocolError;

use crate::expect::golden::output::ExpectedOutput;
use crate::expect::reference::Reference;
use crate::model::case::Case;
use crate::model::outcome::{Outcome, Status};
use crate::plan::{Trial, TrialKind};
use crate::targets::open::Targets;

/// One multi-instance test at a time, as upstream runs them: tests bind fixed ports
/// (`multi_net/` uses 8000), so two at once would see each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Where a multi-instance test's instances run: instance `i` on `boards[i]`, by the
/// `rules` of the suite it comes from.
#[derive(Debug, Clone)]
pub struct Instances {
    pub boards: Vec<String>,
    pub rules: Rules,
}

/// Whose multi-instance rules a test follows.
#[derive(Debug, Clone)]
pub enum Rules {
    /// A checkout's tests/ (beside its run-multitests.py): process instances run in the
    /// test's directory of the run's copy of it.
    Checkout(PathBuf),
    /// mpcheck's own (a project's case): process instances run in a scratch directory.
    Own,
}

impl TrialKind for Instances {
    /// The test on its boards' instances (upstream's per-instance timeouts are the
    /// protocol's, not the board's).
    fn run(&self, targets: &Targets, trial: &Trial, _timeout: std::time::Duration) -> Outcome {
        run(targets, &trial.case, self)
    }

    fn expected(&self, trial: &Trial, reference: &Reference) -> Result<ExpectedOutput, String> {
        expected(&trial.case, self.boards.len(), &self.rules, reference)
    }

    fn other_boards(&self) -> &[String] {
        // Instance 0 is on the trial's own board.
        self.boards.get(1..).unwrap_or_default()
    }
}

/// A test's expected output: its `.exp`, else the test on `instances` CPython instances
/// (upstream's truth).
fn expected(
    case: &Case,
    instances: usize,
    rules: &Rules,
    reference: &Reference,
) -> Result<ExpectedOutput, String> {
    super::exp_beside(case).unwrap_or_else(|| {
        truth(reference.python(), case, instances, rules).map(|b| reference.expected(b))
    })
}

/// Runs a multi-instance trial's test on its boards' instances. Never fails: what
/// cannot start is an outcome.
fn run(targets: &Targets, case: &Case, instances: &Instances) -> Outcome {
    let start = Instant::now();
    let not_started = |why: String| Outcome::not_started(why, start.elapsed());
    let boards = &instances.boards;
    let mut launchers = Vec::new();
    for board in boards {
        let launcher = targets
            .get(board)
            .map_err(|v| {
                format!(
                    "board `{board}`: {}",
                    v.reason().unwrap_or_else(|| v.name().into())
                )
            })
            .map(|t| match t.instance_command() {
                Some(c) => drive::Launcher::Process(c),
                None => drive::Launcher::Target(t),
            });
        match launcher {
            Ok(l) => launchers.push(l),
            Err(why) => return not_started(why),
        }
    }
    let ran = match on(case, &instances.rules, &launchers) {
        Ok(ran) => ran,
        Err(why) => return not_started(why),
    };
    let status = if crate::util::interrupt::requested() {
        Status::NotStarted(crate::targets::process::INTERRUPTED.into())
    } else if ran.skip {
        Status::Skipped("an instance printed SKIP".into())
    } else {
        Status::Exited(0)
    };
    let mut outcome = Outcome::new(
        ran.output.into_bytes(),
        ran.truncated,
        status,
        start.elapsed(),
    );
    // Which board each instance ran on; upstream prints the metrics after the verdict.
    let mut note: Vec<String> = boards
        .iter()
        .enumerate()
        .map(|(i, b)| format!("instance{i} on {b}"))
        .collect();
    if !ran.metrics.is_empty() {
        note.push(format!("output metrics: {}", ran.metrics.join("; ")));
    }
    outcome.note = Some(note.join(", "));
    outcome
}

/// The expected output of a multi-instance test without a `.exp`: the test on as many
/// CPython instances (`python`), as upstream's truth.
fn truth(python: &Path, case: &Case, instances: usize, rules: &Rules) -> Result<Vec<u8>, String> {
    let launchers: Vec<drive::Launcher> = (0..instances)
        .map(|_| drive::Launcher::Process(Command::new(python)))
        .collect();
    Ok(crate::model::verdict::normalise(
        on(case, rules, &launchers)?.output.as_bytes(),
    ))
}

/// The test on one instance per launcher, one test at a time.
fn on(case: &Case, rules: &Rules, launchers: &[drive::Launcher]) -> Result<drive::Ran, String> {
    let scratch;
    let (protocol, cwd) = match rules {
        Rules::Checkout(tests_dir) => {
            let protocol = protocol::Protocol::read(tests_dir).map_err(|e| e.to_string())?;
            let dir = case.path.parent().unwrap_or(tests_dir);
            (protocol, crate::suite::workdir::in_copy(tests_dir, dir)?)
        }
        Rules::Own => {
            scratch = tempfile::tempdir()
                .map_err(|e| format!("could not make a scratch directory: {e}"))?;
            (
                protocol::Protocol::own().clone(),
                scratch.path().to_path_buf(),
            )
        }
    };
    let globals = host_ip(&case.source);
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    Ok(drive::run(
        &protocol,
        &cwd,
        &case.source,
        launchers,
        globals,
    ))
}

/// `HOST_IP = '…'`, injected (as upstream does) only into a test that calls
/// `get_network_ip()`: the address of the host's route out, else loopback.
fn host_ip(source: &[u8]) -> String {
    if !source.windows(14).any(|w| w == b"get_network_ip") {
        return String::new();
    }
    let routed = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            // As upstream: a UDP "connect" sends nothing, it only picks the route.
            s.connect("8.8.8.8:80")?;
            s.local_addr()
        })
        .map(|a| a.ip().to_string());
    format!(
        "HOST_IP = '{}'\n",
        routed.unwrap_or_else(|_| "127.0.0.1".into())
    )
}
