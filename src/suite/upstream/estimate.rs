//! How long a test will wait, read from its source before it runs: the seconds its
//! `sleep`/`sleep_ms`/`sleep_us` calls ask for (a call inside a loop taken as many times
//! as a literal `range(N)` says, else ten), and for a REPL test the terminal's quiet time
//! after each line it feeds. Not a prediction of compute time: an order for the run, so
//! that the tests that sit waiting for seconds (`time_res`, `vfs_*_mtime`, asyncio) start
//! first when no past run has timed them; those that sleep need no CPU meanwhile (a
//! REPL test's echo is timed against its quiet time: it keeps a CPU).

use std::path::Path;
use std::time::Duration;

use super::pylex::{LogicalLine, Tok, logical_lines};
use crate::model::case::Case;
use crate::pipeline::schedule::Estimate;

/// How many times a loop whose count cannot be read is taken to run.
const LOOP_GUESS: f64 = 10.0;
/// A literal loop count is believed up to this many.
const LOOP_CAP: f64 = 1000.0;

impl super::Suite {
    /// The wait `case` is read to have (see the module), `None` for a case not of this
    /// checkout or whose source does not tokenise.
    pub fn estimate(&self, case: &Case) -> Option<Estimate> {
        let test = self.tests.get(&case.id)?;
        let source = String::from_utf8_lossy(&case.source);
        let sleeps = sleeps(&case.path, &source)?;
        let repl = match test.repl {
            // The banner, each line, then Ctrl-D: each answered after a quiet time.
            true => super::exec::REPL_QUIET.as_secs_f64() * (source.lines().count() + 2) as f64,
            false => 0.0,
        };
        Some(Estimate {
            duration: Duration::from_secs_f64(sleeps + repl),
            asleep: Duration::from_secs_f64(sleeps),
        })
    }
}

/// The seconds the sleep calls in `source` ask for, each times the loops around it.
fn sleeps(file: &Path, source: &str) -> Option<f64> {
    let lines = logical_lines(file, source).ok()?;
    // The loops the current line is in: (indent of the header, times it runs).
    let mut loops: Vec<(usize, f64)> = Vec::new();
    let mut total = 0.0;
    for line in &lines {
        while loops
            .last()
            .is_some_and(|&(indent, _)| indent >= line.indent)
        {
            loops.pop();
        }
        let times: f64 = loops.iter().map(|&(_, n)| n).product();
        total += times * asked(&line.toks);
        if let Some(n) = loop_count(line) {
            loops.push((line.indent, n));
        }
    }
    Some(total)
}

/// A loop header's count: `for … in range(N)` with a literal N, else [`LOOP_GUESS`].
fn loop_count(line: &LogicalLine) -> Option<f64> {
    let words: Vec<&Tok> = line.toks.iter().map(|(t, _)| t).collect();
    let name = |t: &Tok, n: &str| matches!(t, Tok::Name(w) if w == n);
    let start = match words.as_slice() {
        [first, second, ..] if name(first, "async") && name(second, "for") => 1,
        [first, ..] if name(first, "for") || name(first, "while") => 0,
        _ => return None,
    };
    if !line.text.ends_with(':') {
        return None;
    }
    let body = &words[start..];
    let range = body.windows(5).find_map(|w| match w {
        [
            Tok::Name(r),
            Tok::Op(open),
            Tok::Int(n),
            Tok::Op(close),
            Tok::Op(colon),
        ] if r == "range" && open == "(" && close == ")" && colon == ":" => Some(*n as f64),
        _ => None,
    });
    Some(range.map_or(LOOP_GUESS, |n| n.clamp(0.0, LOOP_CAP)))
}

/// The seconds the `sleep(…)`, `sleep_ms(…)` and `sleep_us(…)` calls of one line ask
/// for with a literal argument.
fn asked(toks: &[(Tok, usize)]) -> f64 {
    toks.windows(4)
        .filter_map(|w| match w {
            [
                (Tok::Name(f), _),
                (Tok::Op(open), _),
                (n, _),
                (Tok::Op(close), _),
            ] if open == "(" && close == ")" => {
                let unit = match f.as_str() {
                    "sleep" => 1.0,
                    "sleep_ms" => 1e-3,
                    "sleep_us" => 1e-6,
                    _ => return None,
                };
                let n = match n {
                    Tok::Int(i) => *i as f64,
                    Tok::Name(text) => text.parse::<f64>().ok()?,
                    _ => return None,
                };
                Some(n.max(0.0) * unit)
            }
            _ => None,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(src: &str) -> f64 {
        sleeps(Path::new("t.py"), src).unwrap()
    }

    #[test]
    fn literal_sleeps_add_up_in_their_units() {
        let src = "import time\ntime.sleep(2)\ntime.sleep_ms(250)\ntime.sleep_us(5_000)\nx = 1\n";
        assert!((secs(src) - 2.255).abs() < 1e-9, "{}", secs(src));
    }

    #[test]
    fn a_sleep_in_a_loop_counts_as_often_as_the_loop_runs() {
        let src = "for _ in range(10):\n    time.sleep_us(100_000)\nprint(1)\ntime.sleep(0.5)\n";
        assert!((secs(src) - 1.5).abs() < 1e-9, "{}", secs(src));
        // A count that cannot be read: ten times.
        let src = "while t < end:\n    time.sleep_ms(100)\n";
        assert!((secs(src) - 1.0).abs() < 1e-9, "{}", secs(src));
        // Nested loops multiply; leaving a loop stops counting it.
        let src = "for a in range(2):\n    for b in range(3):\n        sleep(1)\n    sleep(1)\nsleep(1)\n";
        assert!((secs(src) - 9.0).abs() < 1e-9, "{}", secs(src));
    }

    #[test]
    fn no_sleep_or_no_literal_is_no_wait() {
        assert_eq!(secs("print(1)\n"), 0.0);
        assert_eq!(secs("time.sleep(t)\nasyncio.sleep\n"), 0.0);
    }

    #[test]
    fn a_source_that_does_not_tokenise_has_no_estimate() {
        assert_eq!(sleeps(Path::new("t.py"), "s = '''never closed\n"), None);
    }
}
