//! `mpcheck merge DIR...`: the report directories of one night's runs (CI runners,
//! `--partition` shares, labgrid hosts) → one set of reports, each result naming the
//! run it came from; what does not fit (a missing partition, a duplicate or conflicting
//! trial) is said on the terminal and in the reports, and fails the merge (exit 1).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::analysis::merge::{Input, merge as merge_runs, merge_upstream};
use crate::plan::config::Project;
use crate::report::console::Console;
use crate::report::{Provenance, RunReport, write_files};
use crate::util::error::{Error, Result, exit};
use crate::util::notice::notice;

#[derive(Args)]
pub struct MergeArgs {
    /// The runs' report directories (each with its results.json).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged reports (default: the project's reports/).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Flaky results (here: runs that disagree) do not fail the merge.
    #[arg(long)]
    pub allow_flaky: bool,
}

pub fn merge(project: &Project, args: &MergeArgs) -> Result<i32> {
    let out = args
        .report_dir
        .clone()
        .unwrap_or_else(|| project.default_report_dir());
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize())
    {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if let Some(d) = args.dirs.iter().find(|d| same(d, &out)) {
        return Err(Error::Usage(format!(
            "merge: {} is both an input and the output: choose another --report-dir",
            d.display()
        )));
    }
    crate::report::check_dir(&out, project)?;
    let inputs = args
        .dirs
        .iter()
        .map(|d| Input::read(d))
        .collect::<Result<Vec<_>>>()?;
    let merged = merge_runs(inputs);
    let provenance = Provenance {
        host: crate::util::host::hostname(),
        partition: None,
        run_id: None,
        suite_trials: merged.suite_trials.clone(),
    };
    let report = RunReport {
        toolchain: &merged.toolchain,
        flashes: &[],
        results: &merged.results,
        members: &[],
        duration: Duration::from_millis(merged.duration_ms),
        interrupted: None,
        matrix: None,
        provenance: &provenance,
        merge: Some(&merged.notes),
        suite_dir: None,
        target_trends: None,
    };
    let console = Console::default();
    console.summary(&merged.results, report.duration.as_secs_f64());
    let mut written = write_files(&out, &report)?;
    written.extend(merge_upstream(&args.dirs, &out)?);
    console.reports_written(&written);
    notice(format!(
        "merged {}: {}",
        crate::util::words::count(merged.notes.inputs.len(), "run", "runs"),
        crate::util::words::count(merged.results.len(), "result", "results")
    ));
    for line in merged.notes.problems() {
        notice(format!("merge: {line}"));
    }
    let verdicts = crate::run::exit_code(&merged.results, args.allow_flaky);
    Ok(if merged.notes.incomplete() {
        exit::FAILURES.max(verdicts)
    } else {
        verdicts
    })
}
