//! The terminal sink: one line per non-passing trial with its diff or reason, a progress
//! bar on an interactive terminal (none when stderr is not a terminal, or in CI, so logs
//! stay clean), and a summary at the end. Quiet about passes so a nightly log shows what
//! matters.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Counts, explanation};
use crate::execute::{Event, TrialResult};

pub struct Console {
    total: usize,
    done: usize,
    bar: Option<ProgressBar>,
}

impl Default for Console {
    fn default() -> Console {
        Console::new(
            std::io::stderr().is_terminal() && std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        )
    }
}

impl Console {
    pub fn new(progress: bool) -> Console {
        Console {
            total: 0,
            done: 0,
            bar: progress.then(ProgressBar::hidden),
        }
    }

    pub fn event(&mut self, event: Event) {
        match event {
            Event::Started { trials } => {
                self.total = trials;
                if let Some(bar) = &self.bar {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    bar.set_length(trials as u64);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{bar:40} {pos}/{len} trials, {elapsed} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                } else {
                    let _ = writeln!(std::io::stderr(), "running {trials} trials");
                }
            }
            Event::Finished(r) => {
                self.done += 1;
                if r.verdict.is_failure() {
                    let mut text = format!(
                        "{} {} [{}/{}]",
                        r.verdict.name().to_uppercase(),
                        r.name,
                        self.done,
                        self.total
                    );
                    for line in explanation(r).lines() {
                        text.push_str("\n    ");
                        text.push_str(line);
                    }
                    match &self.bar {
                        Some(bar) => bar.println(text),
                        None => {
                            let _ = writeln!(std::io::stderr(), "{text}");
                        }
                    }
                }
                if let Some(bar) = &self.bar {
                    bar.set_message(r.name.clone());
                    bar.inc(1);
                }
            }
        }
    }

    pub fn summary(&self, results: &[TrialResult], seconds: f64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let counts = Counts::of(results);
        let _ = writeln!(std::io::stderr(), "{counts} in {seconds:.1} s");
    }
}
