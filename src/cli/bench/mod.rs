//! `mpcheck bench`: measurements printed side by side in one run, one file a bench:
//! the harness against the bare VM floor on a host VM (`host.rs`), a board's throughput
//! with one and two instances (`board.rs`), the `.mpy` reader's speed (`decode.rs`), and
//! a checkout's tests/ run by mpcheck and by its own run-tests.py (`tests.rs`).

mod board;
mod decode;
mod host;
mod tests;

use clap::Args;

use crate::model::case::Mode;
use crate::pipeline::Options;
use crate::plan::config::Project;
use crate::run::Runner;
use crate::run::selection::Selection;
use crate::util::error::Result;

#[derive(Args)]
pub struct BenchArgs {
    /// The board to measure.
    #[arg(long, default_value = "unix")]
    pub board: String,
    /// Repetitions of each measurement (the best is kept).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Instead: decode and disassemble every `.mpy` under this directory, on one thread,
    /// and print files per second (e.g. tests/mpy/corpus).
    #[arg(long, value_name = "DIR")]
    pub mpy_corpus: Option<std::path::PathBuf>,
    /// Instead: a MicroPython tests/ directory, run by mpcheck and by its own
    /// run-tests.py (as the yardstick, in a temp result dir) side by side, both with
    /// `--jobs` workers and a cold CPython reference cache; prints the wall-time ratio.
    #[arg(long, value_name = "DIR")]
    pub tests: Option<std::path::PathBuf>,
    /// Workers for both runners (with --tests on a host VM; a board runs one instance).
    #[arg(long, short = 'j', default_value_t = 2)]
    pub jobs: usize,
    /// With --tests: only these test directories (repeatable, e.g. `--dir basics`), as
    /// run-tests.py's `-d`; default: run-tests.py's default set.
    #[arg(long = "dir", value_name = "DIR", requires = "tests")]
    pub dirs: Vec<String>,
    /// With --tests: `mpy` runs both as run-tests.py's `--via-mpy`.
    #[arg(long, value_name = "MODE", value_parser = super::parse_mode, default_value = "source", requires = "tests")]
    pub mode: Mode,
    /// With --tests: the emitter, as run-tests.py's `--emit` (native needs `--mode mpy`).
    #[arg(long, value_enum, default_value_t, requires = "tests")]
    pub emit: crate::suite::upstream::Emit,
}

pub fn bench(project: &Project, args: &BenchArgs) -> Result<i32> {
    if let Some(dir) = &args.mpy_corpus {
        return decode::bench_decode(dir, args.repeat);
    }
    if let Some(dir) = &args.tests {
        return tests::bench_tests(project, dir, args);
    }
    host::bench_host(project, args)
}

/// The boards of `selection` opened for a benchmark, `threads` trials at once: flashed
/// where needed, no frozen variants, progress not shown.
fn open_runner(project: &Project, selection: &Selection, threads: usize) -> Result<Runner> {
    Runner::open(
        project,
        selection,
        &Default::default(),
        Options::new(threads),
        &mut |_| {},
    )
}
