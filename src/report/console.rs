//! The terminal sink: one line per non-passing trial with its diff or reason, a progress
//! bar on an interactive terminal (none when stderr is not a terminal, or in CI, so logs
//! stay clean), and a summary at the end. Quiet about passes so a nightly log shows what
//! matters. Verdicts are coloured when anstream says stderr takes colour (a terminal,
//! no `NO_COLOR`; `CLICOLOR_FORCE` forces it), and the run ends with the list of its
//! failures, one line each, so the end of a long log says what to look at.

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressStyle};

use super::{Counts, explanation, headline};
use crate::model::verdict::Verdict;
use crate::pipeline::{Event, TrialResult};

pub struct Console {
    total: usize,
    done: usize,
    bar: Option<ProgressBar>,
    colour: bool,
}

impl Default for Console {
    fn default() -> Console {
        Console::new(
            std::io::stderr().is_terminal() && std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        )
    }
}

/// Whether stderr takes colour: anstream's rule (tty, `NO_COLOR`, `CLICOLOR_FORCE`).
pub fn stderr_colour() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// `text` in `style` when `on`, else as is.
pub fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// The colour a verdict is shown in: red for what fails a run, yellow for flaky, dim
/// for a skip.
fn verdict_style(v: &Verdict) -> Style {
    let red = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    match v {
        Verdict::Pass => Style::new().fg_color(Some(AnsiColor::Green.into())),
        Verdict::Skip { .. } => Style::new().dimmed(),
        Verdict::Flaky { .. } => Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
        Verdict::Fail
        | Verdict::Timeout { .. }
        | Verdict::Crash { .. }
        | Verdict::CompileError { .. }
        | Verdict::Error { .. } => red,
    }
}

impl Console {
    pub fn new(progress: bool) -> Console {
        Console {
            total: 0,
            done: 0,
            bar: progress.then(ProgressBar::hidden),
            colour: stderr_colour(),
        }
    }

    /// A console with colour decided by the caller (tests of the rendering).
    pub fn with_colour(mut self, colour: bool) -> Console {
        self.colour = colour;
        self
    }

    pub fn event(&mut self, event: Event) {
        match event {
            Event::BoardUnavailable { board, why } => self.line(&format!(
                "mpcheck: board `{board}` is unavailable: {}",
                crate::util::escape::controls(why)
            )),
            Event::Firmware { line, .. } => {
                self.line(&format!("mpcheck: {}", crate::util::escape::controls(line)))
            }
            Event::Retried { trial, why } => {
                let word = paint(
                    self.colour,
                    Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                    "RETRY",
                );
                self.line(&format!(
                    "{word} {trial}: {}",
                    crate::util::escape::controls(why)
                ))
            }
            Event::Recovered { trial, how } => {
                let word = paint(
                    self.colour,
                    Style::new().fg_color(Some(AnsiColor::Cyan.into())),
                    "RECOVERED",
                );
                self.line(&format!(
                    "{word} {trial}: the board was brought back by {how}"
                ))
            }
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
                    let _ = writeln!(
                        std::io::stderr(),
                        "running {}",
                        crate::util::words::count(trials, "trial", "trials")
                    );
                }
            }
            Event::Finished(r) => {
                self.done += 1;
                if r.verdict.is_failure() {
                    let mut text = format!(
                        "{} {} [{}/{}]",
                        paint(
                            self.colour,
                            verdict_style(&r.verdict),
                            &r.verdict.name().to_uppercase()
                        ),
                        crate::util::escape::controls(&r.name),
                        self.done,
                        self.total
                    );
                    if let Some(member) = &r.member {
                        text.push_str(&format!(" on {}", crate::util::escape::controls(member)));
                    }
                    for line in explanation(r, crate::util::diff::CONSOLE_LINES).lines() {
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
                    let on = r
                        .member
                        .as_ref()
                        .map(|m| format!(" on {m}"))
                        .unwrap_or_default();
                    bar.set_message(
                        crate::util::escape::controls(&format!("{}{on}", r.name)).into_owned(),
                    );
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

    /// A line of its own after the summary (e.g. what each pool member ran).
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    pub fn reports_written(&self, paths: &[std::path::PathBuf]) {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let _ = writeln!(std::io::stderr(), "reports: {}", shown.join(", "));
    }

    pub fn summary(&self, results: &[TrialResult], seconds: f64) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let _ = write!(std::io::stderr(), "{}", self.summary_text(results, seconds));
    }

    /// The end of a run: every failure in one line (verdict, trial, why), then the counts
    /// (green when nothing failed, red otherwise).
    pub fn summary_text(&self, results: &[TrialResult], seconds: f64) -> String {
        let failures: Vec<&TrialResult> =
            results.iter().filter(|r| r.verdict.is_failure()).collect();
        let mut text = String::new();
        if !failures.is_empty() {
            text.push_str(&format!("failures ({}):\n", failures.len()));
            for r in &failures {
                let word = r.verdict.name().to_uppercase();
                text.push_str(&format!(
                    "  {} {}: {}\n",
                    paint(
                        self.colour,
                        verdict_style(&r.verdict),
                        &format!("{word:<13}")
                    ),
                    crate::util::escape::controls(&r.name),
                    headline(r)
                ));
            }
        }
        let counts = Counts::of(results);
        let style = if failures.is_empty() {
            verdict_style(&Verdict::Pass)
        } else {
            verdict_style(&Verdict::Fail)
        };
        text.push_str(&paint(
            self.colour,
            style,
            &format!("{counts} in {seconds:.1} s"),
        ));
        text.push('\n');
        text
    }
}

/// After a run: golden changes wait for `mpcheck review`.
pub fn staged(count: usize) {
    let _ = writeln!(
        std::io::stderr(),
        "{} pending: `mpcheck review` to see and accept or reject {}",
        crate::util::words::count(count, "golden change", "golden changes"),
        if count == 1 { "it" } else { "them" }
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
        "bless: {} written or removed; {} could not be blessed",
        crate::util::words::count(written, "golden file", "golden files"),
        crate::util::words::count(refused.len(), "result", "results")
    );
}
