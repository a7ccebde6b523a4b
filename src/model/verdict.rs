//! (outcome, expected output) → verdict, and the re-check rule. Pure: no I/O, no
//! formatting of diffs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::outcome::{Outcome, Status};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The result changed between attempts: never a pass (it fails the run unless the
    /// user allows flaky results).
    Flaky {
        detail: String,
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
            Verdict::Flaky { .. } => "flaky",
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
            | Verdict::Error { .. }
            | Verdict::Flaky { .. } => true,
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
            Verdict::Crash { detail } | Verdict::Flaky { detail } => Some(detail.clone()),
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

/// The verdict an outcome's status decides on its own, before any output is compared:
/// `None` when the case ran to its end (exit 0, or 1 for an uncaught exception whose
/// traceback is part of the output) and did not print `SKIP`, so its output is compared.
/// `skip_reason` is the case's stated reason for printing `SKIP`.
pub fn status_verdict(outcome: &Outcome, skip_reason: Option<&str>) -> Option<Verdict> {
    let verdict = match &outcome.status {
        Status::Rejected(message) => Verdict::CompileError {
            message: message.clone(),
        },
        Status::Skipped(reason) => Verdict::Skip {
            reason: reason.clone(),
        },
        Status::BoardLost(detail) => Verdict::Crash {
            detail: detail.clone(),
        },
        Status::NotStarted(why) => Verdict::Error {
            message: why.clone(),
        },
        Status::TimedOut(after) => Verdict::timeout(*after),
        Status::Signalled(sig) => Verdict::Crash {
            detail: format!("VM killed by signal {sig}"),
        },
        Status::Exited(0 | 1) if printed_skip(&outcome.output) => Verdict::Skip {
            reason: skip_reason.unwrap_or("case printed SKIP").to_string(),
        },
        Status::Exited(0 | 1) => return None,
        // The same rule on every target: `sys.exit(n)` with n other than 0 or 1, or a VM
        // dying with a status of its own.
        Status::Exited(code) => Verdict::Crash {
            detail: format!("exited with status {code}"),
        },
    };
    Some(verdict)
}

/// An output against its expectation: a truncated output never passes.
pub fn judge_output(expected: &[u8], output: &[u8], truncated: bool) -> Verdict {
    if !truncated && normalise(output) == expected {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

/// Judges one run against an expected output (already normalised), or why there is none.
pub fn judge(
    outcome: &Outcome,
    expected: Result<&[u8], &str>,
    skip_reason: Option<&str>,
) -> Verdict {
    if let Some(v) = status_verdict(outcome, skip_reason) {
        return v;
    }
    match expected {
        Ok(e) => judge_output(e, &outcome.output, outcome.truncated),
        Err(why) => Verdict::Error {
            message: why.to_string(),
        },
    }
}

/// A failure re-run once (on a lossy link, with a slow upload): the verdict to report.
/// The same output twice is a genuine failure; anything else means the result changed
/// between attempts, which is `flaky` — never a pass. `lossy` says whether the link is
/// known to lose input, the only case where the link is blamed.
pub fn recheck(
    first_output: &[u8],
    second_output: &[u8],
    second: &Verdict,
    lossy: bool,
) -> Verdict {
    let blame = if lossy {
        " (this link can lose input: lower `pacing.chunk_bytes` or raise `pacing.pause_ms`)"
    } else {
        ""
    };
    match second {
        Verdict::Fail if normalise(first_output) == normalise(second_output) => Verdict::Fail,
        Verdict::Pass => Verdict::Flaky {
            detail: format!("failed, then passed when run again{blame}"),
        },
        other => Verdict::Flaky {
            detail: format!(
                "failed, then gave a different result ({}) when run again{blame}",
                other.name()
            ),
        },
    }
}

/// The verdict of a trial run several times (`--repeat`) or retried after failing
/// (`--retries`): the same verdict every time stands; verdicts that differ make the
/// trial `flaky`, with the counts — never `pass`.
pub fn aggregate(verdicts: &[Verdict]) -> Verdict {
    let Some(first) = verdicts.first() else {
        return Verdict::Error {
            message: "no attempt was made".into(),
        };
    };
    if verdicts.iter().all(|v| v.name() == first.name()) {
        return first.clone();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for v in verdicts {
        match counts.iter_mut().find(|(n, _)| *n == v.name()) {
            Some((_, c)) => *c += 1,
            None => counts.push((v.name(), 1)),
        }
    }
    let shown: Vec<String> = counts.iter().map(|(n, c)| format!("{n} {c}")).collect();
    Verdict::Flaky {
        detail: format!(
            "verdicts differ over {} attempts: {}",
            verdicts.len(),
            shown.join(", ")
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
    fn a_rechecked_failure_is_fail_or_flaky_never_pass() {
        // Same wrong output twice: the case really fails.
        assert_eq!(
            recheck(b"1\r\n", b"1\n", &Verdict::Fail, true),
            Verdict::Fail
        );
        // Passed the second time: flaky, not pass; the link is blamed only when lossy.
        let v = recheck(b"NameError\n", b"ok\n", &Verdict::Pass, true);
        assert!(matches!(v, Verdict::Flaky { ref detail } if detail.contains("lose input")));
        let v = recheck(b"0\n", b"1\n", &Verdict::Pass, false);
        assert!(matches!(v, Verdict::Flaky { ref detail } if !detail.contains("lose input")));
        // Different failures: flaky.
        let v = recheck(b"NameError: c\n", b"NameError: d\n", &Verdict::Fail, true);
        assert!(matches!(v, Verdict::Flaky { .. }));
        assert!(v.is_failure());
    }

    #[test]
    fn repeated_verdicts_that_differ_are_flaky_with_counts() {
        assert_eq!(aggregate(&[Verdict::Pass, Verdict::Pass]), Verdict::Pass);
        assert_eq!(aggregate(&[Verdict::Fail, Verdict::Fail]), Verdict::Fail);
        let v = aggregate(&[Verdict::Pass, Verdict::Fail, Verdict::Pass]);
        assert_eq!(
            v,
            Verdict::Flaky {
                detail: "verdicts differ over 3 attempts: pass 2, fail 1".into()
            }
        );
        // A retry that passed after a failure is flaky, not pass.
        assert!(matches!(
            aggregate(&[Verdict::Fail, Verdict::Pass]),
            Verdict::Flaky { .. }
        ));
    }

    #[test]
    fn truncated_output_never_passes() {
        let mut o = outcome(b"a\n", Status::Exited(0));
        o.truncated = true;
        assert_eq!(judge(&o, Ok(b"a\n"), None), Verdict::Fail);
    }
}
