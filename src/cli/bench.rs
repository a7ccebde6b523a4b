//! `mpcheck bench`: the harness's wall time for the suite against the floor (the bare VM
//! run time of the same trials, one after another, divided by the worker count),
//! measured in one run.

use std::time::{Duration, Instant};

use clap::Args;

use super::SelectArgs;
use crate::board::BoardSpec;
use crate::case::Mode;
use crate::config::{Overrides, Project, Selection};
use crate::error::{Result, exit};
use crate::pipeline::{Options, default_threads};
use crate::run::Runner;

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
    pub emit: crate::upstream::Emit,
}

pub fn bench(project: &Project, args: &BenchArgs) -> Result<i32> {
    if let Some(dir) = &args.mpy_corpus {
        return bench_decode(dir, args.repeat);
    }
    if let Some(dir) = &args.tests {
        return bench_tests(project, dir, args);
    }
    let select = SelectArgs {
        boards: vec![args.board.clone()],
        ..SelectArgs::default()
    };
    let overrides = Overrides::from_args_and_env(None, None);
    let selection = Selection::load(project, &select.boards, &overrides)?;
    if matches!(selection.boards[0].spec, BoardSpec::Device(_)) {
        return bench_board(project, selection);
    }
    let trials = crate::plan::plan(&selection.boards, &selection.cases, None);
    let threads = default_threads();
    let runner = open_runner(project, &selection, threads)?;
    // Warm-up: fills the mpy-cross and CPython caches so both sides measure VM runs.
    runner.execute(&trials, &mut |_| {});

    let runnable: Vec<_> = trials.iter().filter(|t| t.decided.is_none()).collect();
    let mut best_harness = Duration::MAX;
    let mut best_floor = Duration::MAX;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        runner.execute(&trials, &mut |_| {});
        best_harness = best_harness.min(start.elapsed());

        let mut bare = Duration::ZERO;
        for t in &runnable {
            bare += runner.pipeline.bare_run(t).unwrap_or_default();
        }
        best_floor = best_floor.min(bare / threads as u32);
    }
    // Heap measurement on every case (the wrapper, calibration and parsing) against the
    // same suite without it, measured in the same process.
    let mut heap_runner = open_runner(project, &selection, threads)?;
    heap_runner.pipeline.heap_all = true;
    heap_runner.execute(&trials, &mut |_| {});
    let mut best_heap = Duration::MAX;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        heap_runner.execute(&trials, &mut |_| {});
        best_heap = best_heap.min(start.elapsed());
    }
    let ratio = best_harness.as_secs_f64() / best_floor.as_secs_f64();
    let mpy = runnable.iter().filter(|t| t.mode == Mode::Mpy).count();
    println!(
        "board: {} ({} trials: {} source, {mpy} mpy; {threads} workers)",
        args.board,
        runnable.len(),
        runnable.len() - mpy
    );
    println!(
        "floor (bare VM runs / workers): {:.3} s",
        best_floor.as_secs_f64()
    );
    println!(
        "harness wall time:              {:.3} s",
        best_harness.as_secs_f64()
    );
    println!("harness / floor:                {ratio:.3}x (target <= 1.10x)");
    println!(
        "with heap measured on every case: {:.3} s = {:.3}x the suite without (target <= 1.10x)",
        best_heap.as_secs_f64(),
        best_heap.as_secs_f64() / best_harness.as_secs_f64()
    );
    Ok(exit::OK)
}

/// A board: mpcheck's own suite (every trial the plan runs, both modes) with one instance
/// and with two, measured in one run and printed side by side: the median wall time per
/// case, throughput, where a case's time goes (reset, upload, run, read, and the rest),
/// and the CPU time of the harness and of the emulators, which share the cores.
fn bench_board(project: &Project, selection: Selection) -> Result<i32> {
    if let BoardSpec::Device(d) = &selection.boards[0].spec
        && let Some(why) = &d.unavailable
    {
        return Err(crate::error::Error::Usage(format!(
            "bench: board `{}` is unavailable: {why}",
            selection.boards[0].name
        )));
    }
    let mut columns = Vec::new();
    for instances in [1, 2] {
        let mut board = (*selection.boards[0]).clone();
        if let BoardSpec::Device(d) = &mut board.spec {
            d.instances = instances;
        }
        let boards = vec![std::sync::Arc::new(board)];
        let trials: Vec<_> = crate::plan::plan(&boards, &selection.cases, None)
            .into_iter()
            .filter(|t| t.decided.is_none())
            .collect();
        let sel = Selection {
            boards,
            cases: selection.cases.clone(),
            all_boards: selection.all_boards.clone(),
            upstream: None,
        };
        let before = CpuTimes::now();
        let start = Instant::now();
        let runner = open_runner(project, &sel, default_threads())?;
        let results = runner.execute(&trials, &mut |_| {});
        let wall = start.elapsed().as_secs_f64();
        // Dropping the runner stops the emulators and reaps them: their CPU time is then
        // in the children's usage.
        drop(runner);
        columns.push(Column::of(&results, wall, CpuTimes::now().since(&before)));
    }
    let (one, two) = (&columns[0], &columns[1]);
    let name = &selection.boards[0].name;
    println!(
        "{name}: {} trials per run (mpcheck's own suite), 1 and 2 instances in one run",
        one.cases
    );
    println!("{:<34} {:>12} {:>12}", "", "1 instance", "2 instances");
    let row = |label: &str, a: String, b: String| println!("{label:<34} {a:>12} {b:>12}");
    row(
        "median wall time per case",
        format!("{:.1} ms", one.median_ms),
        format!("{:.1} ms", two.median_ms),
    );
    row(
        "suite wall time (connect included)",
        format!("{:.2} s", one.wall),
        format!("{:.2} s", two.wall),
    );
    row(
        "throughput",
        format!("{:.1} /s", one.rate()),
        format!("{:.1} /s", two.rate()),
    );
    for (i, phase) in PHASES.iter().enumerate() {
        row(
            &format!("  per case: {phase}"),
            format!("{:.1} ms", one.phase_ms[i]),
            format!("{:.1} ms", two.phase_ms[i]),
        );
    }
    row(
        "harness CPU",
        format!("{:.2} s", one.cpu.harness),
        format!("{:.2} s", two.cpu.harness),
    );
    row(
        "emulator CPU (all instances)",
        format!("{:.2} s", one.cpu.children),
        format!("{:.2} s", two.cpu.children),
    );
    // What one instance keeps busy bounds what two can gain: an emulated board whose
    // firmware polls its UART keeps a core busy even while it waits.
    let cores = default_threads();
    let busy = (one.cpu.children + one.cpu.harness) / one.wall;
    println!(
        "cores: {cores}; 1 instance kept {busy:.2} of them busy, so 2 instances can gain at most {:.2}x",
        (cores as f64 / busy).min(2.0)
    );
    println!(
        "median per case with 1 instance: {:.1} ms (target <= 10 ms); throughput 2 instances / 1: {:.2}x (target >= 1.8x)",
        one.median_ms,
        two.rate() / one.rate()
    );
    Ok(exit::OK)
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

/// The phases a board case reports, then what the phases do not cover (checkout, the
/// driver built, the outcome read).
const PHASES: [&str; 5] = ["reset", "upload", "run", "read", "other"];

/// One instance count's measurements.
struct Column {
    cases: usize,
    wall: f64,
    median_ms: f64,
    /// Mean per case, in [`PHASES`] order.
    phase_ms: [f64; 5],
    cpu: CpuTimes,
}

impl Column {
    fn of(results: &[crate::result::TrialResult], wall: f64, cpu: CpuTimes) -> Column {
        let mut walls: Vec<f64> = results.iter().map(|r| r.duration_ms as f64).collect();
        walls.sort_by(f64::total_cmp);
        let median_ms = walls.get(walls.len() / 2).copied().unwrap_or(0.0);
        let n = results.len().max(1) as f64;
        let mut phase_ms = [0.0; 5];
        for r in results {
            let mut covered = 0.0;
            for (i, phase) in PHASES[..4].iter().enumerate() {
                let v = r.phases_ms.get(*phase).copied().unwrap_or(0.0);
                phase_ms[i] += v / n;
                covered += v;
            }
            phase_ms[4] += (r.duration_ms as f64 - covered).max(0.0) / n;
        }
        Column {
            cases: results.len(),
            wall,
            median_ms,
            phase_ms,
            cpu,
        }
    }

    fn rate(&self) -> f64 {
        self.cases as f64 / self.wall
    }
}

/// CPU seconds (user + system) of this process and of its reaped children (the QEMU
/// emulators).
struct CpuTimes {
    harness: f64,
    children: f64,
}

impl CpuTimes {
    fn now() -> CpuTimes {
        let usage = |who| {
            // SAFETY: getrusage only writes the struct it is given.
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            unsafe { libc::getrusage(who, &mut u) };
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            secs(u.ru_utime) + secs(u.ru_stime)
        };
        CpuTimes {
            harness: usage(libc::RUSAGE_SELF),
            children: usage(libc::RUSAGE_CHILDREN),
        }
    }

    fn since(&self, before: &CpuTimes) -> CpuTimes {
        CpuTimes {
            harness: self.harness - before.harness,
            children: self.children - before.children,
        }
    }
}

/// The .mpy reader's speed: decode + disassemble every version-6 file under `dir`.
fn bench_decode(dir: &std::path::Path, repeat: usize) -> Result<i32> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry
            .map_err(|e| crate::error::Error::io(dir, std::io::Error::other(e.to_string())))?;
        let p = entry.path();
        if entry.file_type().is_file() && p.extension().is_some_and(|e| e == "mpy") {
            let bytes = std::fs::read(p).map_err(|e| crate::error::Error::io(p, e))?;
            // Only files the reader accepts (the corpus also holds a v5 file).
            if crate::mpy::read(&bytes).is_ok() {
                files.push(bytes);
            }
        }
    }
    // Enough rounds for a stable figure: at least ~20,000 files decoded per repetition.
    let rounds = (20_000 / files.len().max(1)).max(1);
    let mut best = f64::MAX;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let mut out = 0usize;
        for _ in 0..rounds {
            for f in &files {
                if let Ok(file) = crate::mpy::read(f) {
                    out += crate::mpy::disassemble(&file).len();
                }
            }
        }
        std::hint::black_box(out);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let n = (files.len() * rounds) as f64;
    println!(
        "decode + disassemble: {} files x {rounds} rounds in {best:.3} s on one thread = {:.0} files/s (target >= 5000)",
        files.len(),
        n / best
    );
    Ok(exit::OK)
}

/// mpcheck and run-tests.py on the same tests/ directory, plain (`--mode source`), both
/// cold: mpcheck gets a fresh state dir (the provisioned toolchain linked in), so its
/// CPython reference cache is empty, as run-tests.py's always is. On a QEMU board both
/// drive one emulator: run-tests.py through `execpty:` (pyboard.py over a pty, as
/// upstream runs the qemu port), mpcheck with `instances` set to 1.
fn bench_tests(project: &Project, dir: &std::path::Path, args: &BenchArgs) -> Result<i32> {
    use crate::error::Error;
    if args.mode == Mode::Frozen {
        return Err(Error::Usage(
            "bench --tests: --mode is source or mpy (run-tests.py's plain run or --via-mpy)".into(),
        ));
    }
    let select = SelectArgs {
        boards: vec![args.board.clone()],
        tests: Some(dir.to_path_buf()),
        modes: vec![args.mode],
        emit: args.emit,
        ..SelectArgs::default()
    };
    let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    // Provision (or find) the pinned tools first, outside the measurement.
    let toolchain = crate::toolchain::Toolchain::ensure(&project.state_dir.join("toolchain"))?;
    let cold = Project {
        root: project.root.clone(),
        state_dir: tmp.path().join("state"),
    };
    std::fs::create_dir_all(&cold.state_dir).map_err(|e| Error::io(&cold.state_dir, e))?;
    std::os::unix::fs::symlink(&toolchain.dir, cold.state_dir.join("toolchain"))
        .map_err(|e| Error::io(&cold.state_dir, e))?;
    // A board's firmware is built (or found in the project's build cache) before either
    // runner starts; the cold state dir shares that cache.
    std::os::unix::fs::symlink(
        project.state_dir.join("build"),
        cold.state_dir.join("build"),
    )
    .map_err(|e| Error::io(&cold.state_dir, e))?;

    let mut selection = select.selection(&cold)?;
    selection.boards = crate::setup::built(&cold, &selection.boards, &mut |_| {})?;
    let board = (*selection.boards[0]).clone();
    let suite = selection
        .upstream
        .clone()
        .expect("a --tests selection has a suite");
    let python = crate::toolchain::find_on_path("python3").unwrap_or(toolchain.python.clone());
    // Both runners compile `--via-mpy` with the board's own mpy-cross (a board built
    // from a tree has the one built beside its firmware).
    let (micropython, mpy_cross, instance, jobs) = match &board.spec {
        BoardSpec::Host(h) => (
            h.executable
                .clone()
                .unwrap_or(toolchain.micropython.clone()),
            h.mpy_cross.clone().unwrap_or(toolchain.mpy_cross.clone()),
            None,
            args.jobs,
        ),
        BoardSpec::Device(d) => (
            toolchain.micropython.clone(),
            d.mpy_cross.clone().unwrap_or(toolchain.mpy_cross.clone()),
            Some(execpty(&board.name, d)?),
            1,
        ),
        _ => {
            return Err(Error::Usage(format!(
                "bench --tests: board `{}` is neither a host VM nor a QEMU board",
                board.name
            )));
        }
    };
    // One emulator, as run-tests.py drives one.
    let mut one = board.clone();
    if let BoardSpec::Device(d) = &mut one.spec {
        d.instances = 1;
    }
    selection.boards = vec![std::sync::Arc::new(one)];

    // run-tests.py first: its own runner, results into a temp dir, and in a copy of the
    // checkout's tests/, as `--via-mpy` writes its temp scripts into the current
    // directory (and leaves them there when mpy-cross rejects one).
    let copy = tests_copy(&suite.tests_dir, &tmp.path().join("checkout"))?;
    let mut upstream = std::process::Command::new(&python);
    upstream
        .arg("-B")
        .arg("run-tests.py")
        .arg(format!("-j{jobs}"))
        .arg("-r")
        .arg(tmp.path().join("run-tests-results"))
        .current_dir(&copy)
        .env("MICROPY_MICROPYTHON", &micropython)
        .env("MICROPY_MPYCROSS", &mpy_cross)
        .stdin(std::process::Stdio::null());
    if let Some(instance) = &instance {
        // How this checkout's run-tests.py is told the instance, read from its own
        // argument parser: `-t/--test-instance` (v1.25 on), else `--target <port>
        // --device` (v1.24, whose qemu target is the port's name).
        let script = suite.tests_dir.join("run-tests.py");
        let source = std::fs::read_to_string(&script).map_err(|e| Error::io(&script, e))?;
        if source.contains("\"--test-instance\"") {
            upstream.arg("-t").arg(instance);
        } else if source.contains("\"--device\"") {
            let port = match &board.spec {
                BoardSpec::Device(d) => d.build.as_ref().map_or("qemu", |b| b.port.as_str()),
                _ => "qemu",
            };
            upstream.args(["--target", port, "--device"]).arg(instance);
        } else {
            return Err(Error::Usage(format!(
                "bench --tests: {} declares neither --test-instance nor --device: cannot point it at board `{}`",
                script.display(),
                board.name
            )));
        }
        upstream.env(
            "PYTHONPATH",
            toolchain.python_package(crate::toolchain::PYSERIAL_PIN)?,
        );
    }
    if args.mode == Mode::Mpy {
        upstream.arg("--via-mpy");
    }
    if args.emit == crate::upstream::Emit::Native {
        upstream.args(["--emit", "native"]);
    }
    // As `make test` runs it on a board built from a tree: with the board's own
    // `RUN_TESTS_ARGS` excludes (mpcheck skips those, naming them).
    if let BoardSpec::Device(d) = &board.spec
        && let Some(b) = &d.build
    {
        for e in crate::upstream::board_args::excludes(&b.source, &b.port, &b.board).0 {
            upstream.arg("--exclude").arg(e.pattern.as_str());
        }
    }
    if !args.dirs.is_empty() {
        upstream.arg("-d").args(&args.dirs);
    }
    let start = Instant::now();
    let upstream = upstream
        .output()
        .map_err(|e| Error::Toolchain(format!("could not run {}: {e}", python.display())))?;
    let upstream_wall = start.elapsed();
    let upstream_stdout = String::from_utf8_lossy(&upstream.stdout).into_owned();
    let summary = upstream_stdout
        .lines()
        .filter(|l| l.contains("tests performed") || l.contains("tests passed"))
        .map(str::to_string)
        .collect::<Vec<_>>()
        .join("; ");

    let start = Instant::now();
    let mut runner = open_runner(&cold, &selection, jobs)?;
    let mut trials = runner.plan(&selection, &select.scope());
    if !args.dirs.is_empty() {
        trials.retain(|t| args.dirs.contains(&t.case.id.group));
    }
    let results = runner.execute(&trials, &mut |_| {});
    let mpcheck_wall = start.elapsed();
    let counts = crate::report::Counts::of(&results);
    println!(
        "tests: {} ({} python3, {})",
        suite.tests_dir.display(),
        python.display(),
        micropython.display()
    );
    if !upstream.status.success() && summary.is_empty() {
        return Err(Error::Toolchain(format!(
            "run-tests.py failed: {}",
            String::from_utf8_lossy(&upstream.stderr).trim()
        )));
    }
    let on = if instance.is_some() {
        format!("{}, 1 instance", board.name)
    } else {
        format!("{}, -j{jobs}", board.name)
    };
    println!(
        "run-tests.py ({on}): {:.2} s ({summary})",
        upstream_wall.as_secs_f64()
    );
    println!(
        "mpcheck      ({on}): {:.2} s ({counts})",
        mpcheck_wall.as_secs_f64()
    );
    println!(
        "mpcheck / run-tests.py: {:.3}x (target <= {})",
        mpcheck_wall.as_secs_f64() / upstream_wall.as_secs_f64(),
        // #21's targets: a QEMU board's basics/ at a quarter, the unix default set at half.
        if instance.is_some() { "0.25x" } else { "0.5x" }
    );
    // The same tests' verdicts, side by side.
    let theirs = crate::upstream::agreement::read_run_tests(
        &tmp.path().join("run-tests-results"),
        &upstream_stdout,
    )
    .map_err(Error::Toolchain)?;
    let ours = results
        .iter()
        .map(|r| {
            let (verdict, _) = crate::upstream::results::upstream_verdict(&r.verdict);
            let reason = match &r.verdict {
                crate::compare::Verdict::Skip { reason } => reason.clone(),
                _ => String::new(),
            };
            (format!("{}.py", r.case), (verdict.to_string(), reason))
        })
        .collect();
    print!(
        "{}",
        crate::upstream::agreement::Agreement::of(&theirs, &ours)
    );
    Ok(exit::OK)
}

/// `tests` copied to `<into>/tests`, beside links to the checkout's other directories
/// (run-tests.py reads `../tools`, `../lib` and the like, and writes only in tests/,
/// with -B): the copy is where it runs.
fn tests_copy(tests: &std::path::Path, into: &std::path::Path) -> Result<std::path::PathBuf> {
    use crate::error::Error;
    let copy = into.join("tests");
    for entry in walkdir::WalkDir::new(tests) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(tests).to_path_buf();
            let source = e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("a loop of links"));
            Error::io(path, source)
        })?;
        let Ok(rel) = entry.path().strip_prefix(tests) else {
            continue;
        };
        let to = copy.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).map_err(|e| Error::io(&to, e))?;
        } else {
            std::fs::copy(entry.path(), &to).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    // Writable, whatever the checkout's modes (a read-only tree copies read-only).
    for entry in walkdir::WalkDir::new(&copy).into_iter().flatten() {
        let mut perm = entry
            .metadata()
            .map_err(|e| Error::io(entry.path(), e.into()))?
            .permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(entry.path(), perm).map_err(|e| Error::io(entry.path(), e))?;
    }
    let parent = tests.parent().unwrap_or(tests);
    for sibling in std::fs::read_dir(parent)
        .map_err(|e| Error::io(parent, e))?
        .flatten()
    {
        if sibling.file_name() != "tests" {
            let link = into.join(sibling.file_name());
            std::os::unix::fs::symlink(sibling.path(), &link).map_err(|e| Error::io(&link, e))?;
        }
    }
    Ok(copy)
}

/// run-tests.py's `-t execpty:<command>` for a QEMU board: its emulator with the UART on a
/// pty, as upstream runs the qemu port.
fn execpty(name: &str, d: &crate::board::file::DeviceSpec) -> Result<String> {
    let q = d
        .config
        .qemu
        .as_ref()
        .filter(|q| q.firmware.ends_with(".elf"));
    let Some(q) = q else {
        return Err(crate::error::Error::Usage(format!(
            "bench --tests: board `{name}` is not a QEMU board booting an .elf image"
        )));
    };
    Ok(format!(
        "execpty:{} -machine {} -nographic -monitor null -serial pty {} -kernel {}",
        q.binary,
        q.machine,
        q.args.join(" "),
        q.firmware
    ))
}
