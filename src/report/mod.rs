//! Report sinks: the console as results land, and the files written at the end of a run
//! (`junit.xml`, `results.json`, `summary.md`, `index.html`).

pub mod compare;
pub mod console;
pub mod heap_modes;
pub mod html;
pub mod incremental;
pub mod json;
pub mod junit;
pub mod links;
pub mod markdown;
pub mod pools;
pub mod time_chart;

use std::path::Path;
use std::time::Duration;

use crate::pipeline::TrialResult;
use crate::tools::toolchain::ToolInfo;
use crate::util::error::{Error, Result};

/// Everything the file reports are made from.
pub struct RunReport<'a> {
    pub toolchain: &'a [ToolInfo],
    /// What was done about each device board's firmware before the run.
    pub flashes: &'a [crate::hw::flash::record::FlashReport],
    pub results: &'a [TrialResult],
    /// The members of the run's pools of identical boards, and what became of each.
    pub members: &'a [crate::targets::members::MemberState],
    pub duration: Duration,
    /// Ctrl-C or SIGTERM stopped the run: how many trials were planned (the results hold
    /// only those that finished).
    pub interrupted: Option<usize>,
    /// `--reference BOARD`: every board's agreement with the reference.
    pub matrix: Option<&'a crate::analysis::differential::Matrix>,
    /// Which run this is, for `mpcheck merge`.
    pub provenance: &'a Provenance,
    /// A merged report: its inputs and what the merge found.
    pub merge: Option<&'a crate::analysis::merge::Notes>,
    /// Where the cases were read (cases/ or a checkout's tests/): index.html links each
    /// failure to its case. `None` in a merged report.
    pub suite_dir: Option<&'a Path>,
    /// Each timed trial's time on the target over its last recorded runs and this one
    /// (µs, oldest first), by name: index.html's trend. `None` without a history.
    pub target_trends: Option<&'a TargetTrends>,
}

/// Trial name → time on the target per run, oldest first (`None`: that run had none).
pub type TargetTrends = std::collections::BTreeMap<String, Vec<Option<i64>>>;

/// What `mpcheck merge` needs to know of a run beside its results: the host it ran on,
/// its partition, and every trial of the suite (so that a missing share is seen).
pub struct Provenance {
    pub host: String,
    pub partition: Option<crate::plan::partition::Partition>,
    /// A results.json written one trial at a time by many processes names its run
    /// ([`incremental`]); a run's own results.json needs none.
    pub run_id: Option<String>,
    /// The suite's trials before partitioning (after filters), in order.
    pub suite_trials: Vec<String>,
}

/// The report files, in the order they are written.
const FILES: [&str; 4] = ["junit.xml", "results.json", "summary.md", "index.html"];

/// Finds report-directory problems before a run rather than after it: the directory is
/// created, each report's path must not be a directory, and a file must be creatable in
/// it (a read-only mount, a file where the directory should be).
pub fn check_dir(dir: &Path, project: &crate::plan::config::Project) -> Result<()> {
    check_outside_project_data(dir, project)?;
    let problem = |e: std::io::Error| {
        Error::Usage(format!(
            "report directory {} cannot be written: {} (choose another with --report-dir)",
            dir.display(),
            crate::util::error::io_text(&e)
        ))
    };
    std::fs::create_dir_all(dir).map_err(problem)?;
    for name in FILES {
        let path = dir.join(name);
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "report file {} is a directory (remove it or choose another --report-dir)",
                path.display()
            )));
        }
    }
    tempfile::NamedTempFile::new_in(dir).map_err(problem)?;
    Ok(())
}

/// The folders whose files are the project's data or mpcheck's own state: reports
/// written there would be taken for cases, goldens, boards or pending changes.
const PROJECT_DATA: [&str; 5] = ["cases", "golden", "boards", "known-differences", ".mpcheck"];

/// Refuses a report directory inside one of [`PROJECT_DATA`] (after resolving symbolic
/// links of the part that exists).
fn check_outside_project_data(dir: &Path, project: &crate::plan::config::Project) -> Result<()> {
    let dir_real = crate::util::fsutil::resolved(dir);
    for name in PROJECT_DATA {
        let data = crate::util::fsutil::resolved(&project.root.join(name));
        if dir_real.starts_with(&data) {
            return Err(Error::Usage(format!(
                "report directory {} is inside the project's {name}/: reports there would be \
                 taken for project files (choose another with --report-dir)",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Writes every file report into `dir` (created if missing); returns the paths written.
/// Each report is a sink of its own: one that cannot be written does not cost the
/// others (they are written, then the first failure is returned).
pub fn write_files(dir: &Path, report: &RunReport) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let files = FILES.map(|name| {
        let text = match name {
            "junit.xml" => junit::render(report),
            "results.json" => json::render(report),
            "index.html" => html::run_page(report),
            _ => markdown::render(report),
        };
        (name, text)
    });
    let mut written = Vec::new();
    let mut failed = None;
    for (name, text) in files {
        let path = dir.join(name);
        match crate::util::fsutil::write_atomic(&path, text.as_bytes()) {
            Ok(()) => written.push(path),
            Err(e) => {
                crate::util::notice::notice(format!("report {} not written: {e}", path.display()));
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

/// Counts of each verdict, in a fixed order.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub timeout: usize,
    pub crash: usize,
    pub error: usize,
    pub flaky: usize,
}

impl Counts {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a TrialResult>) -> Counts {
        let mut c = Counts::default();
        for r in results {
            use crate::model::verdict::Verdict::*;
            match r.verdict {
                Pass => c.pass += 1,
                Fail => c.fail += 1,
                Skip { .. } => c.skip += 1,
                Timeout { .. } => c.timeout += 1,
                Crash { .. } => c.crash += 1,
                CompileError { .. } | Error { .. } => c.error += 1,
                Flaky { .. } => c.flaky += 1,
            }
        }
        c
    }

    pub fn failures(&self) -> usize {
        self.fail + self.timeout + self.crash + self.error + self.flaky
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped, {} timed out, {} crashed, {}",
            self.pass,
            self.fail,
            self.skip,
            self.timeout,
            self.crash,
            crate::util::words::count(self.error, "error", "errors")
        )?;
        if self.flaky > 0 {
            write!(f, ", {} flaky", self.flaky)?;
        }
        Ok(())
    }
}

/// What an interrupted run got through: the trials that finished, those Ctrl-C cut short
/// (their VM killed: an `error` that says so) and those never started. The cut-short
/// ones are results too, so "2 of 2 trials finished" was said of a run that finished one.
pub fn interrupted_line(results: &[TrialResult], planned: usize) -> String {
    let cut = results
        .iter()
        .filter(|r| {
            matches!(&r.verdict, crate::model::verdict::Verdict::Error { message }
                if message == crate::targets::process::INTERRUPTED)
        })
        .count();
    format!(
        "{} of {} finished, {cut} cut short, {} not started",
        results.len() - cut,
        crate::util::words::count(planned, "trial", "trials"),
        planned.saturating_sub(results.len())
    )
}

/// Of an interrupted `--repeat N` run, the trials that ran fewer than N attempts (their
/// finished attempts make the verdict), said so that `1 passed` is not read as N passes.
pub fn short_repeats(results: &[TrialResult], repeat: usize) -> Option<String> {
    let short = results
        .iter()
        .filter(|r| !r.attempts.is_empty() && r.attempts.len() < repeat)
        .count();
    (repeat > 1 && short > 0).then(|| {
        format!(
            "{} ran fewer than the {repeat} repeats (the verdict is of the attempts that finished)",
            crate::util::words::count(short, "trial", "trials")
        )
    })
}

/// One line saying why a result did not pass (a CI system's failure message; the list
/// at the end of a run): what differed and from what, or the verdict's reason. Control
/// characters from the target are escaped.
pub fn headline(r: &TrialResult) -> String {
    let from = r.expected_from.as_deref();
    let line = match (&r.verdict, &r.heap_table, &r.expected, &r.actual) {
        (crate::model::verdict::Verdict::Fail, Some(_), _, _) => format!(
            "heap figures differ from {}",
            from.unwrap_or("the heap golden")
        ),
        (crate::model::verdict::Verdict::Fail, None, Some(e), Some(a)) => {
            let changed = crate::util::diff::changed_lines(e, a);
            format!(
                "output differs from {} ({} changed)",
                from.unwrap_or("the expected output"),
                crate::util::words::count(changed, "line", "lines")
            )
        }
        (v, ..) => v
            .reason()
            .or_else(|| r.note.clone())
            .unwrap_or_else(|| v.name().to_string()),
    };
    crate::util::escape::controls(line.lines().next().unwrap_or_default()).into_owned()
}

/// The text explaining a non-passing result: the diff for a failed output (at most
/// `max_lines`, then a pointer to the full outputs), the heap table for failed heap
/// figures, the note, or the verdict's reason. Control characters from the target are
/// escaped.
pub fn explanation(r: &TrialResult, max_lines: usize) -> String {
    let mut text = String::new();
    if let (crate::model::verdict::Verdict::Fail, Some(expected), Some(actual)) =
        (&r.verdict, &r.expected, &r.actual)
        && expected != actual
    {
        let from = r.expected_from.as_deref().unwrap_or("expected");
        text += &crate::util::diff::unified(
            expected,
            actual,
            from,
            &format!("actual ({})", r.name),
            max_lines,
            Some("results.json, this trial"),
        );
        if r.truncated {
            text.push_str("(output truncated at the capture limit)\n");
        }
    }
    if let Some(table) = &r.heap_table {
        text += &format!(
            "heap figures differ from {}:\n{table}",
            r.expected_from.as_deref().unwrap_or("the heap golden")
        );
    }
    if let Some(reason) = r.verdict.reason() {
        text += &reason;
        text.push('\n');
    }
    if let Some(note) = &r.note {
        text += note;
        text.push('\n');
    }
    if let Some(q) = &r.quarantined {
        text += &format!("known flaky, not failing the run: {q}\n");
    }
    if let Some(h) = &r.history {
        text += &format!("history: {h}\n");
    }
    if let Some(o) = &r.origin {
        text += &format!("ran on {o}\n");
    }
    // A reason or note can be long too (a traceback of a flood): the whole text is cut.
    let limit = max_lines + 20;
    let total = text.lines().count();
    if total > limit {
        let kept: Vec<&str> = text.lines().take(limit).collect();
        text = format!(
            "{}\n… {} more lines not shown (results.json has them all)\n",
            kept.join("\n"),
            total - limit
        );
    }
    crate::util::escape::controls(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_that_cannot_be_written_does_not_cost_the_others() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where junit.xml should go: the first report fails.
        std::fs::create_dir(dir.path().join("junit.xml")).unwrap();
        let provenance = Provenance {
            host: "h".into(),
            partition: None,
            run_id: None,
            suite_trials: Vec::new(),
        };
        let report = RunReport {
            toolchain: &[],
            flashes: &[],
            results: &[],
            members: &[],
            duration: Duration::ZERO,
            interrupted: None,
            matrix: None,
            provenance: &provenance,
            merge: None,
            suite_dir: None,
            target_trends: None,
        };
        let err = write_files(dir.path(), &report).unwrap_err();
        assert!(err.to_string().contains("junit.xml"), "{err}");
        for name in ["results.json", "summary.md", "index.html"] {
            assert!(dir.path().join(name).is_file(), "{name}");
        }
    }
}
