//! One case's result on a board: what it printed, how it ended, where its time went, and
//! the hint the board target turns into a status.

use std::time::Duration;

use serde::Serialize;

use super::driver::{self, Driver};
use super::raw_repl::RunOutput;
use super::rung::Rung;

/// What the harness should make of a run (the harness decides the verdict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum VerdictHint {
    /// The program ran to its end (normally or with an exception).
    Completed,
    /// The test printed `SKIP`.
    Skip { reason: String },
    /// `MemoryError` before the case started: the test does not fit the board.
    TooLarge,
    /// The deadline passed; the board was brought back by `recovered_by`.
    TimedOut { recovered_by: Rung },
    /// The link broke mid-case (e.g. QEMU died); the board was brought back.
    LinkLost { cause: String, recovered_by: Rung },
}

/// Where a case's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    pub reset: Duration,
    pub upload: Duration,
    pub run: Duration,
    pub read: Duration,
}

/// One case's result on the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRun {
    /// Stdout with `\r\n` → `\n`: the case's own bytes only (the driver's nonces and
    /// status word removed).
    pub stdout: Vec<u8>,
    /// Traceback text (`\r\n` → `\n`), if the program raised, naming the case's file
    /// and lines (the driver's frame removed).
    pub exception: Option<String>,
    pub truncated: bool,
    /// The driver printed its opening nonce: the board compiled it and began running the
    /// case (upstream's `START TEST` marker, without a line of its own in the case).
    pub started: bool,
    /// The case raised `SystemExit` with this exit status (the driver caught it, so the
    /// board did not soft-reset); `None`: it ended normally or with a traceback.
    pub exit_code: Option<i32>,
    pub verdict_hint: VerdictHint,
    pub timings: Timings,
    /// The case's own time as the target's clock measured it (microseconds).
    pub target_us: Option<u64>,
}

/// Normalise a finished run and decide the hint from its shape; `driver`: the run was
/// framed by it (its frame is taken out of the traceback).
pub(crate) fn finish(out: RunOutput, driver: Option<&Driver>, timings: Timings) -> CaseRun {
    let started = out.started;
    let stdout = crlf_to_lf(&out.stdout);
    let exception = (!out.exception.is_empty()).then(|| {
        let text = String::from_utf8_lossy(&crlf_to_lf(&out.exception)).into_owned();
        match driver {
            Some(d) => d.case_traceback(&text),
            None => text,
        }
    });
    let exit_code = out.status.as_deref().and_then(driver::exit_code);
    let target_us = out
        .status
        .as_deref()
        .and_then(|s| driver::target_us(s, driver.and_then(|d| d.clock)));
    let too_large = exception.as_deref().is_some_and(driver::compile_ran_out)
        || !started
            && exception
                .as_deref()
                .is_some_and(|e| e.contains("MemoryError"));
    let verdict_hint = if too_large {
        VerdictHint::TooLarge
    } else if stdout == b"SKIP\n" {
        VerdictHint::Skip {
            reason: "test printed SKIP".into(),
        }
    } else {
        VerdictHint::Completed
    };
    CaseRun {
        stdout,
        exception,
        truncated: out.truncated,
        started,
        exit_code,
        verdict_hint,
        timings,
        target_us,
    }
}

/// A SyntaxError before the driver ran (it is always valid Python), or, for a case
/// mpy-cross compiles (`known_good`), a SyntaxError compiling it with nothing printed: the
/// upload may have been corrupted on the link. `known_good` is asked only in that last
/// case: compiling every case to have the answer ready cost a board run a process start
/// per case on a cold `.mpy` cache (1.24.0 basics/ on mps2-an385: ~7 ms a case, while the
/// emulator spun on its console).
pub(crate) fn looks_corrupted(run: &CaseRun, known_good: &dyn Fn() -> bool) -> bool {
    run.verdict_hint == VerdictHint::Completed
        && run
            .exception
            .as_deref()
            .is_some_and(|e| e.contains("SyntaxError"))
        && (!run.started || run.stdout.is_empty() && known_good())
}

pub(crate) fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}
