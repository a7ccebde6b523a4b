//! Every board × case × mode as a libtest-mimic trial named `<board>::<group>/<name>[.mpy]`,
//! so `cargo test -- unix::` filters, `--exact NAME` runs one trial, and `cargo nextest
//! run` (one process per trial) works, with partitions.
//!
//! The boards are the default ones plus every QEMU board (an emulator runs here, so its
//! trials are real tests on every machine) and every board built from a tree (`unix-src`):
//! a board that is unavailable here (e.g. `mps2-an385-qemu` or `unix-src` without
//! `MICROPY_SRC`) has its trials reported *ignored* with the reason, never passed. Boards in labgrid places are trials too (the place is acquired
//! by the process that runs one of their trials, and only by it). Other serial boards
//! need hardware on this machine and are left to `mpcheck run`.
//!
//! `MPCHECK_ROOT` names another project (cases/, boards/, golden/) than this repository:
//! a test archive (`cargo nextest archive`) runs a farm's own project that way.
//!
//! `MPCHECK_TRIAL_RESULTS=DIR` records every trial that runs in `DIR/results.json`,
//! whichever process runs it (`report::incremental`): the directories of `cargo nextest
//! run --partition count:K/N` runners go to `mpcheck merge` like `mpcheck run`'s.
//!
//! Listing needs only the board files and cases. The toolchain is provisioned (or found
//! provisioned) the first time a trial runs, and only the boards with a trial to run are
//! opened: `cargo test -- unix::` does not build or boot a firmware.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mpcheck::analysis::history::Location;
use mpcheck::boardfile::BoardSpec;
use mpcheck::model::verdict::Verdict;
use mpcheck::pipeline::{Judgement, Options, TrialResult};
use mpcheck::plan::config::{Overrides, Project};
use mpcheck::report::{Provenance, incremental};
use mpcheck::run::selection::Selection;
use mpcheck::run::suite::{Cases, Suite};
use mpcheck::run::{HistoryPolicy, Runner, Scope};
use mpcheck::tools::toolchain::ToolInfo;
use mpcheck::util::error::Error;

fn main() {
    let mut args = Arguments::from_args();
    let root = std::env::var_os("MPCHECK_ROOT")
        .filter(|r| !r.is_empty())
        .map_or_else(
            || env!("CARGO_MANIFEST_DIR").into(),
            std::path::PathBuf::from,
        );
    let project = Project::new(&root);
    // MPCHECK_TESTS=DIR: a MicroPython tests/ directory instead of cases/ (its trials
    // depend on each board's feature checks, so the boards are opened to list them).
    if let Some(dir) = std::env::var_os("MPCHECK_TESTS").filter(|d| !d.is_empty()) {
        return upstream_main(args, &project, Path::new(&dir));
    }
    let mut selection =
        match Selection::load(&project, &[], &Overrides::from_args_and_env(None, None)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mpcheck trials: {e}");
                std::process::exit(2);
            }
        };
    selection.boards = selection
        .all_boards
        .iter()
        .filter(|b| {
            b.default
                || b.kind() == "qemu"
                || b.build().is_some()
                || b.unavailable().is_some()
                || in_labgrid_place(b)
        })
        .cloned()
        .collect();
    let mut planned = Cases.plan(None, &selection, &Scope::default());
    // Open only the boards that have a trial this invocation runs (filters, --skip,
    // --ignored), decided with libtest-mimic's own rules on name-only trials.
    let runs: Vec<mpcheck::plan::Trial> = planned
        .iter()
        .filter(|t| {
            let probe = Trial::test(t.name(), || Ok(())).with_ignored_flag(ignored(t));
            !args.list && !args.is_filtered_out(&probe) && !args.is_ignored(&probe)
        })
        .cloned()
        .collect();
    let recorder = Recorder::from_env(&project, suite_trials(&planned));
    // A multi-instance trial's partners too (`cargo test -- mps2-an385-qemu::` runs its
    // instances/ trials with the unix port as the other instance).
    let needed: BTreeSet<&str> = runs.iter().flat_map(|t| t.boards()).collect();
    selection
        .boards
        .retain(|b| needed.contains(b.name.as_str()));
    if !args.list {
        // As `mpcheck run` runs them: every board's lanes busy at once, not two threads
        // on one board's trials at a time (libtest-mimic runs trials in the given order).
        args.test_threads = args.test_threads.or(Some(lanes(&selection.boards)));
        planned = interleaved(planned);
    }
    // One frozen firmware per board, with every frozen trial this invocation runs.
    let frozen = Arc::new(mpcheck::run::setup::frozen_cases(&selection, &runs));
    let selection = Arc::new(selection);
    let runner: Arc<OnceLock<Result<Runner, Error>>> = Arc::default();
    let trials = planned
        .into_iter()
        .map(|trial| {
            let (runner, project, selection, frozen, recorder) = (
                runner.clone(),
                project.clone(),
                selection.clone(),
                frozen.clone(),
                recorder.clone(),
            );
            let unavailable = trial.board.unavailable().map(str::to_string);
            let is_ignored = ignored(&trial);
            Trial::ignorable_test(trial.name(), move || {
                if let Some(skip) = decided_skip(&trial) {
                    return record_decided(recorder.as_ref(), &trial, skip);
                }
                if let Some(why) = &unavailable {
                    // Recorded as the skip `mpcheck run` reports, so a merge of the
                    // partitions does not count the trial missing.
                    let reason = format!("board unavailable: {why}");
                    if let Some(r) = &recorder {
                        let skip = Judgement::decided(Verdict::Skip {
                            reason: reason.clone(),
                        });
                        r.record(&[], &mut trial.result(skip, Duration::ZERO));
                    }
                    return Ok(Completion::ignored_with(reason));
                }
                let runner = runner
                    .get_or_init(|| {
                        Runner::open(&project, &selection, &frozen, Options::new(1), &mut |_| {})
                    })
                    .as_ref()
                    .map_err(|e| Failed::from(e.to_string()))?;
                let mut result = runner.run_trial(&trial);
                if let Some(r) = &recorder {
                    r.record(&runner.pipeline.tools(), &mut result);
                }
                completion(&result)
            })
            .with_ignored_flag(is_ignored)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // `exit` skips destructors: drop the runner first so board sessions stop their QEMUs.
    drop(runner);
    conclusion.exit();
}

/// Where trials' results are recorded, when `MPCHECK_TRIAL_RESULTS` says, and the
/// history they are marked against (new failure, fixed, known flaky) as `mpcheck run`
/// marks them: `MPCHECK_HISTORY`, else the project's. A process runs only some trials
/// of the run, so none records the run in the history: `mpcheck merge` of the
/// directories gives the night's reports.
#[derive(Clone)]
struct Recorder {
    dir: std::path::PathBuf,
    provenance: Arc<Provenance>,
    history: Arc<HistoryPolicy>,
    suite: Arc<mpcheck::analysis::history::Suite>,
}

impl Recorder {
    fn from_env(project: &Project, suite_trials: Vec<String>) -> Option<Recorder> {
        let dir = std::env::var_os(incremental::ENV).filter(|d| !d.is_empty())?;
        let history = std::env::var("MPCHECK_HISTORY")
            .ok()
            .filter(|h| !h.is_empty());
        Some(Recorder {
            suite: Arc::new(mpcheck::analysis::history::Suite::cases(&project.root)),
            history: Arc::new(HistoryPolicy::Record {
                location: Location::or_default(history.as_deref(), &project.root),
                timeout: mpcheck::analysis::history::DEFAULT_TIMEOUT,
                required: false,
            }),
            dir: dir.into(),
            provenance: Arc::new(Provenance {
                host: mpcheck::util::host::hostname(),
                partition: None,
                run_id: Some(incremental::run_id()),
                suite_trials,
            }),
        })
    }

    /// A result that cannot be recorded is said on stderr and leaves the verdict as it
    /// is (a sink fails alone); `mpcheck merge` then names the trial as missing.
    fn record(&self, tools: &[ToolInfo], result: &mut TrialResult) {
        self.history
            .mark_only(&self.suite, std::slice::from_mut(result));
        if let Err(e) = incremental::append(&self.dir, &self.provenance, tools, result) {
            eprintln!(
                "mpcheck trials: the result of {} was not recorded: {e}",
                result.name
            );
        }
    }
}

/// A trial the plan decided to skip (the case's header, the board's modes) is an
/// *ignored* test, so nextest and `cargo test` show it skipped rather than passed, and no
/// process runs it unless asked (`--ignored`: then it is recorded as the skip).
fn ignored(trial: &mpcheck::plan::Trial) -> bool {
    decided_skip(trial).is_some()
}

/// The suite a recorded run is checked against by `mpcheck merge`: every trial some
/// process runs. The plan's decided skips run in none, so they are left out: a merge of
/// the partitions has every trial `mpcheck run` runs, without the skips it decides
/// before running anything.
fn suite_trials(planned: &[mpcheck::plan::Trial]) -> Vec<String> {
    planned
        .iter()
        .filter(|t| !ignored(t))
        .map(|t| t.name())
        .collect()
}

/// A skip the plan decided: no board is opened for it, and it is reported ignored with
/// its reason, as `mpcheck run` reports it.
fn decided_skip(trial: &mpcheck::plan::Trial) -> Option<Verdict> {
    trial
        .decided
        .clone()
        .filter(|v| matches!(v, Verdict::Skip { .. }))
}

fn record_decided(
    recorder: Option<&Recorder>,
    trial: &mpcheck::plan::Trial,
    skip: Verdict,
) -> Result<Completion, Failed> {
    let mut result = trial.result(Judgement::decided(skip), Duration::ZERO);
    if let Some(r) = recorder {
        r.record(&[], &mut result);
    }
    completion(&result)
}

/// How many trials run at once, as `mpcheck run` runs them: each device board's
/// instances, beside one host-VM trial per core (the executor's pool). Trials mostly wait
/// on an emulator or a VM process, so the harness's default of one thread per core left
/// boards idle (trial harness on 2 cores: 384 s with 2 threads, against 175 s for
/// `mpcheck run` of the same boards).
fn lanes(boards: &[Arc<mpcheck::boardfile::Board>]) -> usize {
    let devices: usize = boards
        .iter()
        .map(|b| match &b.spec {
            BoardSpec::Device(d) => d.instances.max(1),
            _ => 0,
        })
        .sum();
    devices + mpcheck::pipeline::default_threads()
}

/// The trials taken from each board in turn, each board's in their own order, so the
/// threads spread over the boards instead of queueing on the first board's instances.
fn interleaved(trials: Vec<mpcheck::plan::Trial>) -> Vec<mpcheck::plan::Trial> {
    let mut by_board: Vec<(String, std::collections::VecDeque<mpcheck::plan::Trial>)> = Vec::new();
    for t in trials {
        match by_board.iter_mut().find(|(b, _)| *b == t.board.name) {
            Some((_, q)) => q.push_back(t),
            None => by_board.push((t.board.name.clone(), [t].into())),
        }
    }
    let mut out = Vec::new();
    while by_board.iter().any(|(_, q)| !q.is_empty()) {
        for (_, q) in &mut by_board {
            out.extend(q.pop_front());
        }
    }
    out
}

fn in_labgrid_place(board: &mpcheck::boardfile::Board) -> bool {
    matches!(&board.spec, BoardSpec::Device(d) if d.labgrid.is_some())
}

/// A pass, or the failure text of any other verdict; a failure within its case's
/// quarantine is ignored with why, as it does not fail `mpcheck run`.
fn completion(result: &mpcheck::pipeline::TrialResult) -> Result<Completion, Failed> {
    if let Some(why) = &result.quarantined {
        return Ok(Completion::ignored_with(format!(
            "quarantined {}: {why}",
            result.verdict.name()
        )));
    }
    match &result.verdict {
        Verdict::Pass => Ok(Completion::Completed),
        Verdict::Skip { reason } => Ok(Completion::ignored_with(reason)),
        v => Err(Failed::from(format!(
            "{}: {}",
            v.name(),
            mpcheck::report::explanation(result, mpcheck::util::diff::CONSOLE_LINES)
        ))),
    }
}

fn upstream_main(args: Arguments, project: &Project, dir: &Path) {
    let overrides = Overrides::from_args_and_env(None, None);
    let names: Vec<String> = std::env::var("MPCHECK_BOARDS")
        .map(|b| b.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let fail = |e: &dyn std::fmt::Display| -> ! {
        eprintln!("mpcheck trials: {e}");
        std::process::exit(2);
    };
    let selection = Selection::load_tests(project, dir, Default::default(), &names, &overrides)
        .unwrap_or_else(|e| fail(&e));
    let mut runner = Runner::open(
        project,
        &selection,
        &Default::default(),
        Options::new(1),
        &mut |_| {},
    )
    .unwrap_or_else(|e| fail(&e));
    let planned = runner.plan(&selection, &Scope::default());
    let runner = Arc::new(runner);
    let recorder = Recorder::from_env(project, suite_trials(&planned));
    let trials = planned
        .into_iter()
        .map(|trial| {
            let (runner, recorder) = (runner.clone(), recorder.clone());
            let is_ignored = ignored(&trial);
            Trial::ignorable_test(trial.name(), move || {
                if let Some(skip) = decided_skip(&trial) {
                    return record_decided(recorder.as_ref(), &trial, skip);
                }
                let mut result = runner.run_trial(&trial);
                if let Some(r) = &recorder {
                    r.record(&runner.pipeline.tools(), &mut result);
                }
                completion(&result)
            })
            .with_ignored_flag(is_ignored)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(runner);
    conclusion.exit();
}
