//! A benchmark's output judged as run-perfbench.py judges it: `<µs> <norm> <result>` from
//! benchrun's `bm_run`; `SKIP` (and `-1 -1 SKIP: ...`) a skip; anything else a crash; the
//! result the same on every repeat ("FAIL self") and, unless it is `None`, the same as the
//! `.exp` beside the benchmark or CPython's run of the same script ("FAIL truth").

use crate::expect::golden::Judged;
use crate::expect::golden::output::{ExpectedFrom, ExpectedOutput};
use crate::model::outcome::{Outcome, Status};
use crate::model::verdict::Verdict;
use crate::pipeline::Expect;

/// One run's line: time on the target (µs), the benchmark's norm, its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub us: i64,
    pub norm: i64,
    pub result: String,
}

/// run-perfbench.py's `output.split(None, 2)` and `int()`s; `Err`: its `CRASH: ...`.
pub fn parse(output: &[u8]) -> Result<Reading, String> {
    let text = String::from_utf8_lossy(output);
    let text = text.trim();
    let crash = || format!("CRASH: {text:?}");
    let mut parts = text.splitn(3, char::is_whitespace);
    let (Some(us), Some(norm), Some(result)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(crash());
    };
    Ok(Reading {
        us: us.parse().map_err(|_| crash())?,
        norm: norm.parse().map_err(|_| crash())?,
        result: result.trim_start().to_string(),
    })
}

/// The target's time of a run that printed a reading.
pub fn target_us(output: &[u8]) -> Option<u64> {
    parse(output).ok().and_then(|r| u64::try_from(r.us).ok())
}

/// What the truth is: an `.exp` file's text, or the result CPython's run printed.
fn truth(expected: &ExpectedOutput) -> String {
    let text = String::from_utf8_lossy(&expected.bytes).trim().to_string();
    match expected.from {
        ExpectedFrom::Cpython(_) => parse(&expected.bytes).map_or(text, |r| r.result),
        _ => text,
    }
}

/// Judges one run. `first(result)`: the result this trial's first run printed (recorded
/// by the first call), for the self-check.
pub fn judge(
    outcome: &Outcome,
    first: &dyn Fn(&str) -> String,
    expect: &mut Expect,
) -> (Option<ExpectedOutput>, Judged) {
    let verdict = |v| (None, Judged::verdict(v));
    match &outcome.status {
        Status::Exited(0) => {}
        Status::NotStarted(why) => {
            return verdict(Verdict::Error {
                message: why.clone(),
            });
        }
        Status::Rejected(message) => {
            return verdict(Verdict::CompileError {
                message: message.clone(),
            });
        }
        Status::Skipped(reason) => {
            return verdict(Verdict::Skip {
                reason: reason.clone(),
            });
        }
        Status::TimedOut(d) => {
            return verdict(Verdict::Timeout {
                after_ms: d.as_millis(),
            });
        }
        Status::BoardLost(detail) => {
            return verdict(Verdict::Crash {
                detail: detail.clone(),
            });
        }
        Status::Exited(_) | Status::Signalled(_) => {
            let text = String::from_utf8_lossy(&outcome.output);
            return verdict(Verdict::Crash {
                detail: format!("CRASH: {:?}", text.trim()),
            });
        }
    }
    if String::from_utf8_lossy(&outcome.output).trim() == "SKIP" {
        return verdict(Verdict::Skip {
            reason: "SKIP".into(),
        });
    }
    let reading = match parse(&outcome.output) {
        Ok(r) => r,
        Err(crash) => return verdict(Verdict::Crash { detail: crash }),
    };
    if reading.us < 0 || reading.norm < 0 {
        return if reading.result.starts_with("SKIP") {
            verdict(Verdict::Skip {
                reason: format!("benchrun: {}", reading.result),
            })
        } else {
            failed(None, format!("{} (time or norm below 0)", reading.result))
        };
    }
    let first = first(&reading.result);
    if first != reading.result {
        return failed(
            None,
            format!(
                "FAIL self: this run's result {:?}, the first run's {first:?}",
                reading.result
            ),
        );
    }
    let mut shown = None;
    if reading.result != "None" {
        let expected = match expect() {
            Ok(e) => e,
            Err(message) => return verdict(Verdict::Error { message }),
        };
        let want = truth(&expected);
        if want != reading.result {
            return failed(
                Some(expected),
                format!("FAIL truth: result {:?}, expected {want:?}", reading.result),
            );
        }
        shown = Some(expected);
    }
    let score = 1e6 * reading.norm as f64 / reading.us.max(1) as f64;
    (
        shown,
        Judged {
            verdict: Verdict::Pass,
            note: Some(format!("{} µs, score {score:.2}", reading.us)),
            table: None,
        },
    )
}

fn failed(expected: Option<ExpectedOutput>, note: String) -> (Option<ExpectedOutput>, Judged) {
    (
        expected,
        Judged {
            verdict: Verdict::Fail,
            note: Some(note),
            table: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(out: &str) -> Outcome {
        Outcome {
            output: out.as_bytes().to_vec(),
            status: Status::Exited(0),
            ..Outcome::not_started(String::new(), Duration::ZERO)
        }
    }

    fn cpython(out: &str) -> Result<ExpectedOutput, String> {
        Ok(ExpectedOutput {
            bytes: out.as_bytes().to_vec(),
            from: ExpectedFrom::Cpython("3".into()),
        })
    }

    #[test]
    fn judges_as_run_perfbench_does() {
        let first = |r: &str| r.to_string();
        let other = |_: &str| "[1, 2]".to_string();
        let v = |o: &str, f: &dyn Fn(&str) -> String, e: &str| {
            let e = e.to_string();
            judge(&outcome(o), f, &mut || cpython(&e)).1.verdict
        };
        assert_eq!(
            v("9479 120 [1, 2]\n", &first, "5 120 [1, 2]"),
            Verdict::Pass
        );
        assert_eq!(
            v("9479 120 [1, 3]\n", &first, "5 120 [1, 2]"),
            Verdict::Fail
        );
        assert_eq!(
            v("9479 120 [1, 3]\n", &other, "5 120 [1, 3]"),
            Verdict::Fail
        );
        // A `None` result is not checked against the truth.
        assert_eq!(v("9479 120 None\n", &first, "5 120 x"), Verdict::Pass);
        assert!(matches!(
            v("-1 -1 SKIP: no matching params\n", &first, ""),
            Verdict::Skip { .. }
        ));
        assert!(matches!(v("SKIP\n", &first, ""), Verdict::Skip { .. }));
        assert!(matches!(
            v("Traceback\nMemoryError:\n", &first, ""),
            Verdict::Crash { .. }
        ));
        let exp = ExpectedOutput {
            bytes: b"123\n".to_vec(),
            from: ExpectedFrom::Golden("x.py.exp".into()),
        };
        let j = judge(&outcome("10 1 123"), &first, &mut || Ok(exp.clone()));
        assert_eq!(j.1.verdict, Verdict::Pass);
        assert_eq!(j.1.note.as_deref(), Some("10 µs, score 100000.00"));
        assert_eq!(target_us(b"9479 120 x\n"), Some(9479));
        assert_eq!(target_us(b"-1 -1 SKIP"), None);
    }
}
