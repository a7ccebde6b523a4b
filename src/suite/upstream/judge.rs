//! An upstream test's output judged as run-tests.py judges it: the output as upstream
//! sees it (`CRASH`/`TIMEOUT` appended, newlines normalised, the regex `.exp` dialect
//! applied), then `SKIP`, the unittest summary, or the expected output.

use regex::bytes::Regex;

use super::UpstreamCase;
use super::exp_rule::ExpRule;
use crate::expect::golden::Judged;
use crate::expect::golden::output::ExpectedOutput;
use crate::model::outcome::{Outcome, Status};
use crate::model::verdict::Verdict;

/// The output run-tests.py would compare, or a verdict decided by the status alone.
pub(crate) fn mupy_output(u: &UpstreamCase, o: &Outcome) -> Result<Vec<u8>, Verdict> {
    let (crashed, suffix): (bool, &[u8]) = match &o.status {
        Status::NotStarted(why) => {
            return Err(Verdict::Error {
                message: why.clone(),
            });
        }
        Status::Rejected(message) => {
            return Err(Verdict::CompileError {
                message: message.clone(),
            });
        }
        Status::Skipped(reason) => {
            return Err(Verdict::Skip {
                reason: reason.clone(),
            });
        }
        Status::BoardLost(detail) => {
            return Err(Verdict::Crash {
                detail: detail.clone(),
            });
        }
        Status::Exited(0) => (false, b""),
        Status::TimedOut(_) => (true, b"TIMEOUT"),
        Status::Exited(_) | Status::Signalled(_) => (true, b"CRASH"),
    };
    let mut out = if crashed && u.special && !matches!(o.status, Status::TimedOut(_)) {
        // check_output raised: upstream keeps no output at all.
        b"CRASH".to_vec()
    } else {
        let mut v = o.output.clone();
        v.extend_from_slice(suffix);
        v
    };
    out = normalize_newlines(&out);
    if (crashed && !u.special)
        || [&b"SKIP\n"[..], b"SKIP-TOO-LARGE\n", b"CRASH"].contains(&out.as_slice())
    {
        return Ok(out);
    }
    if u.special && contains(&out, b"\nSKIP\n") {
        return Ok(b"SKIP\n".to_vec());
    }
    if u.regex
        && let Ok(exp) = crate::util::input::read(
            &regex_exp_file(u),
            crate::util::input::cap::GOLDEN,
            ".exp file",
        )
    {
        out = apply_regex_exp(&u.exp_rule, &exp, &out);
    }
    Ok(out)
}

/// The `.exp` the checkout's regex conversion opens: the emitter's own first where its
/// rule says so (v1.29), else always `<test>.py.exp`.
fn regex_exp_file(u: &UpstreamCase) -> std::path::PathBuf {
    let own = u
        .tests_dir
        .join(format!("{}.{}.exp", u.rel, u.emit.as_str()));
    if u.exp_rule.emit_first && own.is_file() {
        own
    } else {
        u.tests_dir.join(format!("{}.exp", u.rel))
    }
}

/// `\r\r\n` (a pty) and `\r\n` → `\n`; a lone `\r` is content.
pub(crate) fn normalize_newlines(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"\r\r\n") {
            out.push(b'\n');
            i += 3;
        } else if b[i..].starts_with(b"\r\n") {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

enum ExpLine {
    /// `########`: any number of whole lines.
    Any,
    /// The line as written, and its regex (None: a pattern Rust's regex rejects, which
    /// then matches nothing).
    Line(Vec<u8>, Option<Regex>),
}

impl ExpLine {
    fn matches(&self, line: &[u8]) -> bool {
        match self {
            ExpLine::Any => false,
            ExpLine::Line(_, re) => re.as_ref().is_some_and(|r| r.is_match(line)),
        }
    }
}

/// Replaces each output line that matches its `.exp` line by the `.exp` line (and runs
/// matched by `########` by that line), exactly as run-tests.py's loop does, so that a
/// plain comparison with the `.exp` decides.
pub(crate) fn apply_regex_exp(rule: &ExpRule, exp: &[u8], output: &[u8]) -> Vec<u8> {
    let lines_exp: Vec<ExpLine> = exp
        .split_inclusive(|&b| b == b'\n')
        .map(|l| {
            if l == rule.wildcard.as_slice() {
                ExpLine::Any
            } else {
                ExpLine::Line(l.to_vec(), rule.line_regex(l))
            }
        })
        .collect();
    let mut mupy: Vec<Vec<u8>> = output
        .split(|&b| b == b'\n')
        .map(|l| {
            let mut v = l.to_vec();
            v.push(b'\n');
            v
        })
        .collect();
    if output.ends_with(b"\n") {
        mupy.pop();
    }
    let mut i_mupy = 0;
    for i in 0..lines_exp.len() {
        match &lines_exp[i] {
            ExpLine::Any => {
                let next = lines_exp.get(i + 1);
                let mut skip = 0;
                while i_mupy + skip < mupy.len()
                    && !next.is_some_and(|n| n.matches(&mupy[i_mupy + skip]))
                {
                    skip += 1;
                }
                if i_mupy + skip >= mupy.len() {
                    let fail = b"######## FAIL\n".to_vec();
                    match mupy.get_mut(i_mupy) {
                        Some(l) => *l = fail,
                        None => mupy.push(fail),
                    }
                    break;
                }
                mupy.drain(i_mupy..i_mupy + skip);
                mupy.insert(i_mupy, rule.wildcard.clone());
                i_mupy += 1;
            }
            line @ ExpLine::Line(text, _) => {
                if mupy.get(i_mupy).is_some_and(|l| line.matches(l)) {
                    mupy[i_mupy] = text.clone();
                }
                i_mupy += 1;
            }
        }
        if i_mupy >= mupy.len() {
            break;
        }
    }
    mupy.concat()
}

/// The unittest summary at the end of an output, as run-tests.py reads it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unittest {
    pub ok: bool,
    pub ran: u64,
    pub skipped: u64,
    pub failures: u64,
    pub errors: u64,
}

/// Python's `bytes.splitlines()`: `\n`, `\r\n` and `\r` end lines.
fn splitlines(b: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            lines.push(&b[start..i]);
            i += if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            start = i;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        lines.push(&b[start..]);
    }
    lines
}

pub(crate) fn unittest_summary(output: &[u8]) -> Option<Unittest> {
    let lines = splitlines(output);
    let n = lines.len();
    if n <= 4 || lines[n - 4] != [b'-'; 70] || !lines[n - 2].is_empty() {
        return None;
    }
    let ran = Regex::new(r"^Ran (\d+) tests$").ok()?;
    let result =
        Regex::new(r"^(?:(OK)(?: \(skipped=(\d+)\))?|(FAILED) \(failures=(\d+), errors=(\d+)\))$")
            .ok()?;
    let ran = ran.captures(lines[n - 3])?;
    let r = result.captures(lines[n - 1])?;
    let num = |m: Option<regex::bytes::Match>| {
        m.and_then(|m| std::str::from_utf8(m.as_bytes()).ok()?.parse().ok())
            .unwrap_or(0)
    };
    Some(Unittest {
        ok: r.get(1).is_some(),
        ran: num(ran.get(1)),
        skipped: num(r.get(2)),
        failures: num(r.get(4)),
        errors: num(r.get(5)),
    })
}

/// The verdict of an upstream test's run; `expect` is asked only when an expected
/// output is compared (not for `SKIP` or a unittest summary).
pub(crate) fn judge(
    u: &UpstreamCase,
    outcome: &Outcome,
    expect: impl FnOnce() -> Result<ExpectedOutput, String>,
) -> (Option<ExpectedOutput>, Judged) {
    let out = match mupy_output(u, outcome) {
        Ok(out) => out,
        Err(v) => return (None, Judged::verdict(v)),
    };
    if out == b"SKIP\n" {
        return (
            None,
            Judged::verdict(Verdict::Skip {
                reason: "the test printed SKIP".into(),
            }),
        );
    }
    if out == b"SKIP-TOO-LARGE\n" {
        return (
            None,
            Judged::verdict(Verdict::Skip {
                reason: "too large".into(),
            }),
        );
    }
    let tail = splitlines(&out);
    if tail
        .iter()
        .rev()
        .take(3)
        .any(|l| *l == b"ImportError: no module named 'unittest'")
    {
        return (
            None,
            Judged::verdict(Verdict::Error {
                message: format!(
                    "{} requires unittest: micropython-lib's unittest is not at {}",
                    u.rel,
                    u.tests_dir
                        .join("../lib/micropython-lib/python-stdlib/unittest")
                        .display()
                ),
            }),
        );
    }
    if let Some(t) = unittest_summary(&out) {
        let note = if t.ok {
            format!("unittest: {} ran, {} skipped", t.ran, t.skipped)
        } else {
            format!(
                "unittest: {} ran, {}, {}",
                t.ran,
                crate::util::words::count(t.failures as usize, "failure", "failures"),
                crate::util::words::count(t.errors as usize, "error", "errors")
            )
        };
        let mut j = Judged::verdict(if t.ok { Verdict::Pass } else { Verdict::Fail });
        j.note = Some(note);
        return (None, j);
    }
    let expected = match expect() {
        Ok(e) => e,
        Err(message) => return (None, Judged::verdict(Verdict::Error { message })),
    };
    let verdict = if expected.bytes == out {
        Verdict::Pass
    } else {
        match &outcome.status {
            Status::TimedOut(after) => Verdict::timeout(*after),
            Status::Signalled(sig) => Verdict::Crash {
                detail: format!("VM killed by signal {sig}"),
            },
            _ => Verdict::Fail,
        }
    };
    (Some(expected), Judged::verdict(verdict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_exp_lines_and_wildcards() {
        let rule = ExpRule::default();
        let exp = b"mem: \\\\d\\+\n########\nend\n";
        let out = b"mem: 1234\nnoise 1\nnoise 2\nend\n";
        assert_eq!(
            apply_regex_exp(&rule, exp, out),
            b"mem: \\\\d\\+\n########\nend\n"
        );
        // A line that does not match is kept, so the comparison fails.
        let bad = b"mem: lots\nend\n";
        assert_ne!(apply_regex_exp(&rule, exp, bad), exp.to_vec());
        // A wildcard whose next line never comes marks the failure.
        let missing = b"mem: 1\nx\n";
        assert!(apply_regex_exp(&rule, exp, missing).ends_with(b"######## FAIL\n"));
    }

    #[test]
    fn a_line_end_marker_keeps_trailing_spaces_exact() {
        // v1.29's cmdline/repl_*.py.exp: `\$` ends a line whose trailing spaces count.
        let rule = ExpRule::default();
        let exp = b"MicroPython \\.\\+\n>>> a = 1  \\$\n>>> \n";
        let out = b"MicroPython v1.29\n>>> a = 1  \n>>> \n";
        assert_eq!(apply_regex_exp(&rule, exp, out), exp.to_vec());
        let fewer = b"MicroPython v1.29\n>>> a = 1 \n>>> \n";
        assert_ne!(apply_regex_exp(&rule, exp, fewer), exp.to_vec());
    }

    #[test]
    fn unittest_summaries() {
        let dash = "-".repeat(70);
        let ok = format!("test_a (T) ... ok\n{dash}\nRan 3 tests\n\nOK (skipped=1)\n");
        assert_eq!(
            unittest_summary(ok.as_bytes()),
            Some(Unittest {
                ok: true,
                ran: 3,
                skipped: 1,
                failures: 0,
                errors: 0
            })
        );
        let failed = format!("x\n{dash}\nRan 2 tests\n\nFAILED (failures=1, errors=0)\n");
        assert!(!unittest_summary(failed.as_bytes()).unwrap().ok);
        let short = format!("{dash}\nRan 2 tests\n\nOK\n");
        assert_eq!(unittest_summary(short.as_bytes()), None);
        assert_eq!(unittest_summary(b"a\nb\nc\nd\nOK\n"), None);
    }

    #[test]
    fn pty_newlines() {
        assert_eq!(normalize_newlines(b"a\r\r\nb\r\nc\rd\n"), b"a\nb\nc\rd\n");
    }
}
