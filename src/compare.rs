//! (outcome, expected output) → verdict. Pure: no I/O, no formatting of diffs.

use std::time::Duration;

use serde::Serialize;

use crate::target::{Outcome, Status};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// Output differs from the expectation; the evidence is in the trial result.
    Fail,
    Skip {
        reason: String,
    },
    Timeout {
        after_ms: u128,
    },
    /// The VM died abnormally (signal, or an exit status a VM does not give for a case).
    Crash {
        detail: String,
    },
    /// mpy-cross rejected the case (e.g. syntax an old compiler lacks): its message.
    #[serde(rename = "compile-error")]
    CompileError {
        message: String,
    },
    /// A harness or configuration problem: the case could not be judged.
    Error {
        message: String,
    },
}

impl Verdict {
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip { .. } => "skip",
            Verdict::Timeout { .. } => "timeout",
            Verdict::Crash { .. } => "crash",
            Verdict::CompileError { .. } => "compile-error",
            Verdict::Error { .. } => "error",
        }
    }

    /// Whether this verdict makes the run exit 1.
    pub fn is_failure(&self) -> bool {
        match self {
            Verdict::Pass | Verdict::Skip { .. } => false,
            Verdict::Fail
            | Verdict::Timeout { .. }
            | Verdict::Crash { .. }
            | Verdict::CompileError { .. }
            | Verdict::Error { .. } => true,
        }
    }

    pub fn timeout(after: Duration) -> Verdict {
        Verdict::Timeout {
            after_ms: after.as_millis(),
        }
    }

    /// The one-line reason shown beside the verdict, if it has one.
    pub fn reason(&self) -> Option<String> {
        match self {
            Verdict::Pass | Verdict::Fail => None,
            Verdict::Skip { reason } => Some(reason.clone()),
            Verdict::Timeout { after_ms } => Some(format!(
                "no result within {:.1} s",
                *after_ms as f64 / 1000.0
            )),
            Verdict::Crash { detail } => Some(detail.clone()),
            Verdict::CompileError { message } | Verdict::Error { message } => Some(message.clone()),
        }
    }
}

/// `\r\n` → `\n`, as upstream compares (boards print `\r\n`).
pub fn normalise(output: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(output.len());
    let mut i = 0;
    while i < output.len() {
        if output[i] == b'\r' && output.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(output[i]);
        i += 1;
    }
    out
}

/// What the case printed exactly `SKIP` means, as upstream: the case skipped itself.
pub fn printed_skip(output: &[u8]) -> bool {
    normalise(output) == b"SKIP\n"
}

/// Judges one run. `expected` is the expected output (already normalised) or why there is
/// none; `skip_reason` is the case's stated reason for printing `SKIP`.
pub fn judge(
    outcome: &Outcome,
    expected: Result<&[u8], &str>,
    skip_reason: Option<&str>,
) -> Verdict {
    match &outcome.status {
        Status::Rejected(message) => {
            return Verdict::CompileError {
                message: message.clone(),
            };
        }
        Status::Skipped(reason) => {
            return Verdict::Skip {
                reason: reason.clone(),
            };
        }
        Status::BoardLost(detail) => {
            return Verdict::Crash {
                detail: detail.clone(),
            };
        }
        Status::NotStarted(why) => {
            return Verdict::Error {
                message: why.clone(),
            };
        }
        Status::TimedOut(after) => return Verdict::timeout(*after),
        Status::Signalled(sig) => {
            return Verdict::Crash {
                detail: format!("VM killed by signal {sig}"),
            };
        }
        // 0: ran to the end; 1: uncaught exception (its traceback is part of the output).
        Status::Exited(0 | 1) => {}
        Status::Exited(code) => {
            return Verdict::Crash {
                detail: format!("VM exited with status {code}"),
            };
        }
    }
    if printed_skip(&outcome.output) {
        return Verdict::Skip {
            reason: skip_reason.unwrap_or("case printed SKIP").to_string(),
        };
    }
    let expected = match expected {
        Ok(e) => e,
        Err(why) => {
            return Verdict::Error {
                message: why.to_string(),
            };
        }
    };
    if outcome.truncated {
        return Verdict::Fail;
    }
    if normalise(&outcome.output) == expected {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

/// A failure on a lossy link, run again with a slow upload (`second`): which run to
/// report (true: the second), its verdict, and a note. Same output twice: a genuine
/// failure. A pass the second time: the first upload lost input. Different failing
/// output: the link loses input, so no verdict about the case can be trusted.
pub fn recheck(
    first_output: &[u8],
    second_output: &[u8],
    second: Verdict,
) -> (bool, Verdict, Option<String>) {
    match second {
        Verdict::Pass => (
            true,
            Verdict::Pass,
            Some("the first upload's output differed; it passed re-uploaded slowly (the link lost input)".into()),
        ),
        _ if normalise(first_output) == normalise(second_output) => (false, Verdict::Fail, None),
        _ => (
            true,
            Verdict::Error {
                message: "the board gave different output when the case was re-uploaded slowly: the link is losing input; lower `pacing.chunk_bytes` or raise `pacing.pause_ms`".into(),
            },
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(out: &[u8], status: Status) -> Outcome {
        Outcome::new(out.to_vec(), false, status, Duration::ZERO)
    }

    #[test]
    fn pass_and_fail_after_crlf_normalisation() {
        let o = outcome(b"1\r\n2\r\n", Status::Exited(0));
        assert_eq!(judge(&o, Ok(b"1\n2\n"), None), Verdict::Pass);
        assert_eq!(judge(&o, Ok(b"1\n3\n"), None), Verdict::Fail);
    }

    #[test]
    fn skip_timeout_crash_error() {
        let skip = outcome(b"SKIP\r\n", Status::Exited(0));
        assert_eq!(
            judge(&skip, Err("no golden"), Some("no float")),
            Verdict::Skip {
                reason: "no float".into()
            }
        );
        let t = outcome(b"", Status::TimedOut(Duration::from_secs(2)));
        assert_eq!(
            judge(&t, Ok(b""), None),
            Verdict::Timeout { after_ms: 2000 }
        );
        let c = outcome(b"", Status::Signalled(11));
        assert!(matches!(judge(&c, Ok(b""), None), Verdict::Crash { .. }));
        let c = outcome(b"", Status::Exited(134));
        assert!(
            matches!(judge(&c, Ok(b""), None), Verdict::Crash { ref detail } if detail.contains("134"))
        );
        let e = outcome(b"x\n", Status::Exited(0));
        assert_eq!(
            judge(&e, Err("no golden"), None),
            Verdict::Error {
                message: "no golden".into()
            }
        );
    }

    #[test]
    fn uncaught_exception_is_compared_not_crashed() {
        let o = outcome(
            b"Traceback (most recent call last):\nValueError: x\n",
            Status::Exited(1),
        );
        assert_eq!(
            judge(
                &o,
                Ok(b"Traceback (most recent call last):\nValueError: x\n"),
                None
            ),
            Verdict::Pass
        );
    }

    #[test]
    fn a_failure_on_a_lossy_link_is_rechecked() {
        // Same wrong output twice: the case really fails.
        assert_eq!(
            recheck(b"1\r\n", b"1\n", Verdict::Fail),
            (false, Verdict::Fail, None)
        );
        // Passed re-uploaded slowly: the first run lost input.
        let (second, v, note) = recheck(b"NameError\n", b"ok\n", Verdict::Pass);
        assert!(second && v == Verdict::Pass && note.unwrap().contains("lost input"));
        // Different failures: nothing about the case can be trusted.
        let (second, v, _) = recheck(b"NameError: c\n", b"NameError: d\n", Verdict::Fail);
        assert!(
            second
                && matches!(v, Verdict::Error { ref message } if message.contains("losing input"))
        );
    }

    #[test]
    fn truncated_output_never_passes() {
        let mut o = outcome(b"a\n", Status::Exited(0));
        o.truncated = true;
        assert_eq!(judge(&o, Ok(b"a\n"), None), Verdict::Fail);
    }
}
