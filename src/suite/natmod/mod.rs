//! Native `.mpy` modules (a checkout's `examples/natmod/`), tested as
//! tests/run-natmodtests.py tests them but without ever running or importing it:
//!
//! ```text
//! rules   the checkout's run-natmodtests.py read: which test uses which module, the
//!         import hook that mounts the module from RAM, the START TEST marker
//! build   the module built for the board's arch with the tree's own mpy_ld.py, cached
//! plan    which trials: `natmod/<test>` on each board, when a filter names natmod
//! ```
//!
//! A trial runs the test with the module embedded as `__buf` and imported through the
//! hook's RAM filesystem: a host VM reads the script on stdin (as upstream's subprocess),
//! a board runs it at its raw REPL (as pyboard's exec). A module that does not build is
//! a compile-error with make's and the linker's message. The expected output is the
//! test's `.exp`, else CPython's output of the test alone (upstream's truth).

mod arches;
mod build;
pub mod plan;
mod rules;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use build::{AR_PIN, Builder, Built, PYELFTOOLS_PIN};
pub use rules::Rules;

use crate::expect::golden::output::ExpectedOutput;
use crate::expect::reference::Reference;
use crate::model::case::Case;
use crate::model::outcome::{Outcome, Status};
use crate::plan::{Trial, TrialKind};
use crate::targets::Target;
use crate::targets::instance::InstanceEvent;
use crate::targets::open::Targets;

/// What a natmod trial needs besides its case (the test).
#[derive(Debug)]
pub struct Test {
    pub rules: Arc<Rules>,
    pub builder: Builder,
    /// The arch of the modules it runs with: the board's own (its `sys.implementation._mpy`,
    /// mapped as upstream) or another its firmware loads (armv6m on an armv7m board).
    pub arch: String,
}

/// The marker the test prints first (v1.25 and later), removed before judging.
const MARKER: &[u8] = b"START TEST\n";

/// Upstream's limit for the CPython truth run (`MICROPY_TEST_TIMEOUT`'s default).
const TRUTH_TIMEOUT: Duration = Duration::from_secs(30);

impl TrialKind for Test {
    fn run(&self, targets: &Targets, trial: &Trial, timeout: Duration) -> Outcome {
        run(targets, &trial.board.name, &trial.case, self, timeout)
    }

    fn expected(&self, trial: &Trial, reference: &Reference) -> Result<ExpectedOutput, String> {
        super::exp_beside(&trial.case).unwrap_or_else(|| {
            truth(&trial.case, reference.python()).map(|b| reference.expected(b))
        })
    }
}

/// Runs a natmod trial: builds (or finds) the module, then the test with it on `board`.
/// Never fails: what cannot run is an outcome.
fn run(targets: &Targets, board: &str, case: &Case, test: &Test, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let end = |status: Status| Outcome::new(Vec::new(), false, status, start.elapsed());
    let name = case.path.file_name().unwrap_or_default().to_string_lossy();
    let Some((module, mpy)) = test.rules.module_of(&name, &test.arch) else {
        return end(Status::Skipped(format!("no natmod module for {name}")));
    };
    let bytes = match test.builder.module(&test.rules.root, &mpy, &test.arch) {
        Built::Module(b) => b,
        Built::NoToolchain(why) => return end(Status::Skipped(why)),
        Built::Failed(message) => return end(Status::Rejected(message)),
    };
    let target = match targets.get(board) {
        Ok(t) => t,
        Err(v) => {
            let why = v.reason().unwrap_or_else(|| v.name().into());
            return end(Status::NotStarted(format!("board `{board}`: {why}")));
        }
    };
    let script = test.rules.script(&module, &bytes, &case.source);
    let built = start.elapsed();
    let tests_dir = test.rules.root.join("tests");
    let mut outcome = match target.instance_command() {
        Some(cmd) => match crate::suite::workdir::tests_copy(&tests_dir) {
            Ok(tests) => on_host(cmd, &script, &tests, timeout),
            Err(e) => Outcome::not_started(e, Duration::ZERO),
        },
        None => on_board(target, script, timeout, test.rules.marker),
    };
    if test.rules.marker && outcome.output.starts_with(MARKER) {
        outcome.output.drain(..MARKER.len());
    }
    if outcome.output == b"SKIP\n" && matches!(outcome.status, Status::Exited(_)) {
        outcome.status = Status::Skipped("the test printed SKIP".into());
    }
    outcome.duration = start.elapsed();
    outcome.note = Some(format!(
        "module examples/natmod/{mpy} ({} bytes, arch {}, ready in {} ms)",
        bytes.len(),
        test.arch,
        built.as_millis()
    ));
    outcome
}

/// The test's truth on CPython: its output alone, run from the run's copy of tests/ (the
/// test's `.exp` comes first, see [`TrialKind::expected`]).
fn truth(case: &Case, python: &Path) -> Result<Vec<u8>, String> {
    let dir = case
        .path
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    let mut cmd = Command::new(python);
    cmd.current_dir(crate::suite::workdir::tests_copy(dir)?);
    let out = on_stdin(cmd, &case.source, TRUTH_TIMEOUT);
    match out.status {
        Status::Exited(_) => Ok(crate::model::verdict::normalise(&out.output)),
        other => Err(format!("CPython's run of {}: {other}", case.path.display())),
    }
}

/// A host VM reads the script on stdin in the run's copy of tests/ (upstream's subprocess).
fn on_host(mut cmd: Command, script: &[u8], tests_dir: &Path, timeout: Duration) -> Outcome {
    cmd.current_dir(tests_dir);
    on_stdin(cmd, script, timeout)
}

fn on_stdin(cmd: Command, input: &[u8], timeout: Duration) -> Outcome {
    let file = tempfile::tempfile().and_then(|mut f| {
        use std::io::{Seek, Write};
        f.write_all(input)?;
        f.rewind()?;
        Ok(f)
    });
    match file {
        Ok(f) => crate::targets::process::run_with_stdin(cmd, timeout, Stdio::from(f)),
        Err(e) => Outcome::not_started(format!("could not write the script: {e}"), Duration::ZERO),
    }
}

/// A board runs the script at its raw REPL (as pyboard's exec: the script compiled as
/// it arrives): its stdout, then the exception's text. A MemoryError before the marker
/// is upstream's "too large".
fn on_board(target: &dyn Target, script: Vec<u8>, timeout: Duration, marker: bool) -> Outcome {
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    let mut running = match target.start_instance(script, 0, tx) {
        Some(Ok(r)) => r,
        Some(Err(why)) => return Outcome::not_started(why, start.elapsed()),
        None => {
            return Outcome::not_started("the board cannot run a script".into(), start.elapsed());
        }
    };
    let (mut lines, mut stdout, mut error) = (Vec::new(), None, None::<String>);
    let status = loop {
        match rx.recv_timeout(timeout.saturating_sub(start.elapsed())) {
            Ok((_, InstanceEvent::Line(l))) => {
                lines.extend_from_slice(l.as_bytes());
                lines.push(b'\n');
            }
            Ok((_, InstanceEvent::Stdout(bytes))) => stdout = Some(bytes),
            Ok((_, InstanceEvent::Error(e))) => error = Some(e),
            Ok((_, InstanceEvent::Ended)) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Status::Exited(i32::from(error.is_some()));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break Status::TimedOut(timeout),
        }
    };
    running.stop();
    // The exact bytes where the board gave them (lines are right-stripped).
    let mut output = stdout.map_or(lines, |b| crlf_to_lf(&b));
    if let Some(e) = &error {
        if marker && !output.starts_with(MARKER) && e.contains("MemoryError") {
            return Outcome::new(
                output,
                false,
                Status::Skipped("too large".into()),
                start.elapsed(),
            );
        }
        output.extend_from_slice(e.as_bytes());
        if !e.ends_with('\n') {
            output.push(b'\n');
        }
    }
    Outcome::new(output, false, status, start.elapsed())
}

/// `\r\n` as `\n` (pyboard's exec output as run-natmodtests.py reads it).
fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_crlf_pairs_lose_their_cr() {
        assert_eq!(super::crlf_to_lf(b"a \r\n\rb\r\n\xff"), b"a \n\rb\n\xff");
    }
}
