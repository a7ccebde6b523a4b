//! The terminal sink: one line per non-passing trial with its diff or reason, and a
//! summary at the end. Quiet about passes so a nightly log shows what matters.

use std::io::Write;

use super::{Counts, explanation};
use crate::execute::{Event, TrialResult};

#[derive(Default)]
pub struct Console {
    total: usize,
    done: usize,
}

impl Console {
    pub fn event(&mut self, event: Event) {
        let mut err = std::io::stderr().lock();
        match event {
            Event::Started { trials } => {
                self.total = trials;
                let _ = writeln!(err, "running {trials} trials");
            }
            Event::Finished(r) => {
                self.done += 1;
                if r.verdict.is_failure() {
                    let _ = writeln!(
                        err,
                        "{} {} [{}/{}]",
                        r.verdict.name().to_uppercase(),
                        r.name,
                        self.done,
                        self.total
                    );
                    for line in explanation(r).lines() {
                        let _ = writeln!(err, "    {line}");
                    }
                }
            }
        }
    }

    pub fn summary(&self, results: &[TrialResult], seconds: f64) {
        let counts = Counts::of(results);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{counts} in {seconds:.1} s");
    }
}
