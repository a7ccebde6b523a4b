//! One run, from a validated request to results and sinks. `mpcheck run`, `bless`,
//! `list`, `compare`, `bench` and tests/trials.rs come here; none wires a run of its own.
//!
//! ```text
//! Request ─ selection: the boards and the cases or a checkout's tests  (selection.rs)
//!         ─ suite: cases/ or a checkout's tests/, behind one interface      (suite.rs)
//!         ─ select: the suite's plan (offline, or once the boards are probed),
//!           --rerun-failed, --partition                                   (select.rs)
//!         ─ open: toolchain, boards, frozen firmware, flash, reference    (runner.rs)
//!         ─ execute: attempts, quarantine, the suite's reclassification   (runner.rs)
//!         ─ sinks: history marks and record (history_sink.rs), the reference matrix,
//!           reports (report::*), the suite's own (a checkout's _results.json)
//! ```

pub mod frozen;
mod history_sink;
mod runner;
mod select;
pub mod selection;
pub mod setup;
pub mod suite;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use history_sink::HistoryPolicy;
pub use runner::Runner;
pub use select::Scope;

use crate::pipeline::{Options, TrialResult};
use crate::plan::Trial;
use crate::plan::config::Project;
use crate::report::console::Console;
use crate::report::{RunReport, write_files};
use crate::run::selection::Selection;
use crate::util::error::{Error, Result};

/// What a run is asked to do. Made by `cli` from the command line (or by a test
/// harness); [`Request::validate`] checks what can be checked before anything runs.
pub struct Request {
    pub selection: Selection,
    pub scope: Scope,
    /// Where junit.xml, results.json, summary.md and index.html go.
    pub report_dir: PathBuf,
    pub options: Options,
    /// Only the trials that failed in the last run (its results.json in `report_dir`).
    pub rerun_failed: bool,
    pub partition: Option<crate::plan::partition::Partition>,
    /// Show every board's agreement with this board's output (it is in the selection).
    pub reference: Option<String>,
    pub history: HistoryPolicy,
}

impl Request {
    /// A request for `selection` with every option at its default: all trials, one
    /// attempt, reports in the project's reports/, no history.
    pub fn new(project: &Project, selection: Selection) -> Request {
        Request {
            selection,
            scope: Scope::default(),
            report_dir: project.default_report_dir(),
            options: Options::new(crate::pipeline::default_threads()),
            rerun_failed: false,
            partition: None,
            reference: None,
            history: HistoryPolicy::Off,
        }
    }

    /// What must hold before a board boots: the report directory can be written.
    pub fn validate(&self, project: &Project) -> Result<()> {
        crate::report::check_dir(&self.report_dir, project)
    }
}

/// What a run produced.
pub struct RunOutput {
    pub runner: Runner,
    pub selection: Selection,
    pub results: Vec<TrialResult>,
    pub duration: Duration,
}

impl RunOutput {
    pub fn pipeline(&self) -> &crate::pipeline::Pipeline {
        &self.runner.pipeline
    }
}

/// The trials a run of `request` would make (a checkout's suite opens the boards to
/// probe them; the project's cases need nothing opened).
pub fn list(project: &Project, request: &Request) -> Result<Vec<Trial>> {
    let selection = &request.selection;
    let suite = suite::open(project, selection)?;
    // Ok: the boards opened to plan (a checkout's tests); Err: a suite that plans offline.
    let mut planner = match suite.plans_offline() {
        true => Err(suite),
        false => Ok(Runner::open_with(
            project,
            selection,
            suite,
            &Default::default(),
            request.options,
            &mut |_| {},
        )?),
    };
    let mut plan = |scope: &Scope| match &mut planner {
        Ok(runner) => runner.plan(selection, scope),
        Err(suite) => suite.plan(None, selection, scope),
    };
    let trials = plan(&request.scope);
    request.scope.check_not_empty(
        &trials,
        &mut || plan(&Scope::default()),
        &select::suite_dir(selection, project),
    )?;
    Ok(trials)
}

/// Runs the request with console output and writes the file reports. A selection
/// without trials, or a report directory that cannot be written, is an error before
/// anything runs. Interrupted (Ctrl-C, SIGTERM): the reports of the trials that finished
/// are written, marked interrupted, and the result is `Error::Interrupted` (so bless
/// writes no golden from a partial run).
pub fn run(project: &Project, request: Request) -> Result<RunOutput> {
    request.validate(project)?;
    // Read before any board boots: a known difference without its reason is an error
    // that should not cost a whole run to find.
    let known = match &request.reference {
        Some(_) => Some(crate::expect::known::KnownDifferences::load(&project.root)?),
        None => None,
    };
    let selection = &request.selection;
    let mut suite = suite::open(project, selection)?;
    // A suite that plans offline (cases/) knows its trials before anything is opened, so
    // an empty plan is an error before any board boots; a checkout's needs each board's
    // features.
    let early = match suite.plans_offline() {
        true => Some(select::narrow(
            &request,
            project,
            suite.plan(None, selection, &request.scope),
            &mut || suite.plan(None, selection, &Scope::default()),
        )?),
        false => None,
    };
    let mut console = Console::default();
    let frozen = crate::run::setup::frozen_cases(
        selection,
        early
            .as_ref()
            .map(|(share, _)| share.as_slice())
            .unwrap_or_default(),
    );
    let mut runner = Runner::open_with(
        project,
        selection,
        suite,
        &frozen,
        request.options,
        &mut |e| console.event(e),
    )?;
    let start = Instant::now();
    let (trials, suite_trials) = match early {
        Some(narrowed) => narrowed,
        None => {
            let trials = runner.plan(selection, &request.scope);
            select::narrow(&request, project, trials, &mut || {
                runner.plan(selection, &Scope::default())
            })?
        }
    };
    runner.past_durations = request.history.durations(
        &runner.suite.history(project),
        trials
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    let mut results = runner.execute(&trials, &mut |e| console.event(e));
    let duration = start.elapsed();
    let interrupted = crate::util::interrupt::requested();
    let tools = runner.pipeline.tools();
    // The marks (new failure, fixed) go into the reports, so the history is read first;
    // a history that fails is said after the reports are written, never instead of them.
    let suite = runner.suite.history(project);
    // Read before this run is recorded: its past, then this run's figure.
    let target_trends = request.history.target_trends(&suite, &results);
    let unrecorded = request.history.mark_and_record(
        project,
        &suite,
        &mut results,
        &tools,
        &runner.flashes,
        duration,
    );
    console.summary(&results, duration.as_secs_f64());
    let members = runner.pipeline.targets().members();
    for line in crate::report::pools::lines(&crate::report::pools::rows(&members, &results)) {
        console.note(&line);
    }
    let matrix = match (&request.reference, &known) {
        (Some(reference), Some(known)) => {
            Some(reference_matrix(selection, &results, reference, known))
        }
        _ => None,
    };
    let suite_dir = select::suite_dir(selection, project);
    let report = RunReport {
        toolchain: &tools,
        flashes: &runner.flashes,
        results: &results,
        members: &members,
        duration,
        interrupted: interrupted.then_some(trials.len()),
        matrix: matrix.as_ref(),
        provenance: &crate::report::Provenance {
            host: crate::util::host::hostname(),
            partition: request.partition,
            run_id: None,
            suite_trials,
        },
        merge: None,
        suite_dir: Some(&suite_dir),
        target_trends: Some(&target_trends),
    };
    let mut written = write_files(&request.report_dir, &report)?;
    written.extend(runner.suite.write_reports(&request.report_dir, &results)?);
    if let Some(unrecorded) = unrecorded {
        unrecorded.keep(&request.report_dir);
        if request.history.required() {
            return Err(unrecorded.error.into());
        }
    }
    if interrupted {
        let written: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Interrupted(format!(
            "interrupted: {}{}; reports marked interrupted: {}",
            crate::report::interrupted_line(&results, trials.len()),
            crate::report::short_repeats(&results, request.options.attempts.repeat)
                .map(|s| format!("; {s}"))
                .unwrap_or_default(),
            written.join(", ")
        )));
    }
    console.reports_written(&written);
    Ok(RunOutput {
        runner,
        selection: request.selection,
        results,
        duration,
    })
}

/// Every board's agreement with the reference board, case by case.
fn reference_matrix(
    selection: &Selection,
    results: &[TrialResult],
    reference: &str,
    known: &crate::expect::known::KnownDifferences,
) -> crate::analysis::differential::Matrix {
    let kind = |name: &str| {
        selection
            .boards
            .iter()
            .find(|b| b.name == name)
            .map_or(String::new(), |b| b.port().to_string())
    };
    crate::analysis::differential::Matrix::build(results, reference, &kind, known)
}

/// The exit code of a run: 1 when any verdict fails it (flaky ones only unless allowed;
/// a quarantined failure never).
pub fn exit_code(results: &[TrialResult], allow_flaky: bool) -> i32 {
    let fails = |r: &&TrialResult| match r.verdict {
        _ if r.quarantined.is_some() => false,
        crate::model::verdict::Verdict::Flaky { .. } => !allow_flaky,
        ref v => v.is_failure(),
    };
    if results.iter().any(|r| fails(&r)) {
        crate::util::error::exit::FAILURES
    } else {
        crate::util::error::exit::OK
    }
}
