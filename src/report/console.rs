//! The terminal sink: one line per non-passing trial with its diff or reason, a progress
//! bar on an interactive terminal (none when stderr is not a terminal, or in CI, so logs
//! stay clean), and a summary at the end. Quiet about passes so a nightly log shows what
//! matters.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Counts, explanation};
use crate::pipeline::{Event, TrialResult};

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
            Event::BoardUnavailable { board, why } => {
                self.line(&format!("mpcheck: board `{board}` is unavailable: {why}"))
            }
            Event::Firmware { line, .. } => self.line(&format!("mpcheck: {line}")),
            Event::Retried { trial, why } => self.line(&format!("RETRY {trial}: {why}")),
            Event::Recovered { trial, how } => self.line(&format!(
                "RECOVERED {trial}: the board was brought back by {how}"
            )),
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

    /// A line above the progress bar (or on stderr without one).
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }

    pub fn reports_written(&self, paths: &[std::path::PathBuf]) {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let _ = writeln!(std::io::stderr(), "reports: {}", shown.join(", "));
    }

    pub fn summary(&self, results: &[TrialResult], seconds: f64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let counts = Counts::of(results);
        let _ = writeln!(std::io::stderr(), "{counts} in {seconds:.1} s");
    }
}

/// After a run: golden changes wait for `mpcheck review`.
pub fn staged(count: usize) {
    let _ = writeln!(
        std::io::stderr(),
        "{count} golden changes pending: `mpcheck review` to see and accept or reject them"
    );
}

/// A golden file bless wrote or removed.
pub fn blessed(path: &std::path::Path, removed: bool) {
    let verb = if removed { "removed" } else { "blessed" };
    let _ = writeln!(std::io::stderr(), "{verb} {}", path.display());
}

/// Bless's closing lines: what was written, and what could not be blessed.
pub fn bless_summary(written: usize, refused: &[String]) {
    let mut err = std::io::stderr();
    for r in refused {
        let _ = writeln!(err, "not blessing {r}");
    }
    let _ = writeln!(
        err,
        "bless: {written} golden files written or removed; {} results could not be blessed",
        refused.len()
    );
}
