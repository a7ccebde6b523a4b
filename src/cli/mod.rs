//! The command line: one file per subcommand; this file holds the argument types and
//! the run path that `run`, `bless` and `bench` share.

pub mod bench;
pub mod bless;
pub mod boards;
pub mod compare_compilers;
pub mod disasm;
pub mod flash;
pub mod list;
pub mod probes;
pub mod run;
pub mod toolchain;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::config::{Overrides, Project, Selection};
use crate::error::{Error, Result};
use crate::execute::{Runner, TrialResult, default_threads, execute};
use crate::report::console::Console;
use crate::report::{RunReport, write_files};

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
    /// Run, then write golden files from the results.
    Bless(bless::BlessArgs),
    /// List the trials a run would make.
    List(SelectArgs),
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
    /// Bytecode size and instruction deltas of every case between two mpy-cross versions.
    CompareCompilers(compare_compilers::CompareArgs),
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
    /// Only trials whose name (`board::group/name[.mpy]`) contains this.
    pub filter: Option<String>,
}

pub fn dispatch(cli: Cli) -> Result<i32> {
    let project = Project::new(&cli.root);
    match cli.command {
        Command::Run(args) => run::run(&project, &args),
        Command::Bless(args) => bless::bless(&project, &args),
        Command::List(args) => list::list(&project, &args),
        Command::Toolchain => toolchain::toolchain(&project),
        Command::Bench(args) => bench::bench(&project, &args),
        Command::Disasm(args) => disasm::disasm(&project, &args),
        Command::Boards(command) => boards::boards(&project, &command),
        Command::Probes => probes::probes(),
        Command::Flash(args) => flash::flash(&project, &args),
        Command::CompareCompilers(args) => compare_compilers::compare_compilers(&project, &args),
    }
}

/// What a run produced.
pub struct RunOutput {
    pub runner: Runner,
    pub cases: Vec<std::sync::Arc<crate::case::Case>>,
    pub results: Vec<TrialResult>,
    pub duration: Duration,
}

/// Loads the selection, opens the targets, runs every trial with console output, and
/// writes the file reports. A selection without trials, or a report directory that
/// cannot be written, is an error before anything runs. Interrupted (Ctrl-C, SIGTERM):
/// the reports of the trials that finished are written, marked interrupted, and the
/// result is `Error::Interrupted` (so bless writes no golden from a partial run).
pub fn run_selection(project: &Project, args: &SelectArgs) -> Result<RunOutput> {
    let overrides = Overrides::from_args_and_env(args.micropython.clone(), args.mpy_cross.clone());
    let selection = Selection::load(project, &args.boards, &overrides)?;
    let trials = crate::plan::plan(&selection.boards, &selection.cases, args.filter.as_deref());
    check_not_empty(&trials, args.filter.as_deref(), project)?;
    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| project.default_report_dir());
    crate::report::check_dir(&report_dir)?;
    let runner = Runner::open(project, &selection)?;
    let start = Instant::now();
    let mut console = Console::default();
    let results = execute(
        &runner,
        &trials,
        args.jobs.unwrap_or_else(default_threads),
        &mut |e| console.event(e),
    );
    let duration = start.elapsed();
    let interrupted = crate::interrupt::requested();
    console.summary(&results, duration.as_secs_f64());
    let tools = runner.tools();
    let report = RunReport {
        toolchain: &tools,
        flashes: runner.flashes(),
        results: &results,
        duration,
        interrupted: interrupted.then_some(trials.len()),
    };
    let written = write_files(&report_dir, &report)?;
    let written = written
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if interrupted {
        return Err(Error::Interrupted(format!(
            "interrupted after {} of {} trials; reports marked interrupted: {written}",
            results.len(),
            trials.len()
        )));
    }
    eprintln!("reports: {written}");
    Ok(RunOutput {
        runner,
        cases: selection.cases,
        results,
        duration,
    })
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
