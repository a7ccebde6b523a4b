//! mpcheck against a checkout's own run-tests.py on its tests/ directory.

use std::time::Instant;

use super::{BenchArgs, open_runner};
use crate::boardfile::BoardSpec;
use crate::cli::SelectArgs;
use crate::model::case::Mode;
use crate::plan::config::Project;
use crate::util::error::{Result, exit};

/// mpcheck and run-tests.py on the same tests/ directory, plain (`--mode source`), both
/// cold: mpcheck gets a fresh state dir (the provisioned toolchain linked in), so its
/// CPython reference cache is empty, as run-tests.py's always is. On a QEMU board both
/// drive one emulator: run-tests.py through `execpty:` (pyboard.py over a pty, as
/// upstream runs the qemu port), mpcheck with `instances` set to 1.
pub fn bench_tests(project: &Project, dir: &std::path::Path, args: &BenchArgs) -> Result<i32> {
    use crate::util::error::Error;
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
    let toolchain =
        crate::tools::toolchain::Toolchain::ensure(&project.state_dir.join("toolchain"))?;
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
    // run-tests.py applies `--emit` to a board's tests only through `--via-mpy`'s
    // mpy-cross: without it, it fails with nothing on stderr (1.28.0, 1.29-dev).
    if matches!(selection.boards[0].spec, BoardSpec::Device(_))
        && args.emit == crate::suite::upstream::Emit::Native
        && args.mode != Mode::Mpy
    {
        return Err(Error::Usage(format!(
            "bench --tests: --emit native on board `{}` needs --mode mpy (run-tests.py's --emit reaches a board's tests only through --via-mpy)",
            selection.boards[0].name
        )));
    }
    selection.boards = crate::run::setup::built(&cold, &selection.boards, &mut |_| {})?;
    let board = (*selection.boards[0]).clone();
    let suite = selection
        .upstream
        .clone()
        .expect("a --tests selection has a suite");
    let python =
        crate::tools::toolchain::find_on_path("python3").unwrap_or(toolchain.python.clone());
    // The interpreter behind `python3` (a pyenv shim is a shell script that costs about
    // 60-160 ms a start), as the toolchain resolved it for mpcheck's reference:
    // run-tests.py gets it first on PATH and as its CPython, so neither runner pays a
    // shim per reference run.
    let real_python = toolchain.python.clone();
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
        .env("MICROPY_CPYTHON3", &real_python)
        .env("PATH", path_with(&real_python))
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
            toolchain.python_package(crate::tools::toolchain::PYSERIAL_PIN)?,
        );
    }
    if args.mode == Mode::Mpy {
        upstream.arg("--via-mpy");
    }
    if args.emit == crate::suite::upstream::Emit::Native {
        upstream.args(["--emit", "native"]);
    }
    // As `make test` runs it on a board built from a tree: with the board's own
    // `RUN_TESTS_ARGS` excludes (mpcheck skips those, naming them).
    if let BoardSpec::Device(d) = &board.spec
        && let Some(b) = &d.build
    {
        for e in crate::suite::upstream::board_args::excludes(&b.source, &b.port, &b.board).0 {
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
        "tests: {} ({}; run-tests.py's CPython {}, mpcheck's {}; {})",
        suite.tests_dir.display(),
        python.display(),
        real_python.display(),
        toolchain.python.display(),
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
    let theirs = crate::suite::upstream::agreement::read_run_tests(
        &tmp.path().join("run-tests-results"),
        &upstream_stdout,
    )
    .map_err(Error::Toolchain)?;
    let ours = results
        .iter()
        .map(|r| {
            let (verdict, _) = crate::suite::upstream::results::upstream_verdict(&r.verdict);
            let reason = match &r.verdict {
                crate::model::verdict::Verdict::Skip { reason } => reason.clone(),
                _ => String::new(),
            };
            (format!("{}.py", r.case), (verdict.to_string(), reason))
        })
        .collect();
    print!(
        "{}",
        crate::suite::upstream::agreement::Agreement::of(&theirs, &ours)
    );
    Ok(exit::OK)
}

/// `tests` copied to `<into>/tests`, beside links to the checkout's other directories
/// (run-tests.py reads `../tools`, `../lib` and the like, and writes only in tests/,
/// with -B): the copy is where it runs.
fn tests_copy(tests: &std::path::Path, into: &std::path::Path) -> Result<std::path::PathBuf> {
    use crate::util::error::Error;
    let copy = into.join("tests");
    for entry in walkdir::WalkDir::new(tests) {
        let entry = entry.map_err(|e| crate::util::fsutil::walk_error(e, tests))?;
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
fn execpty(name: &str, d: &crate::boardfile::file::DeviceSpec) -> Result<String> {
    let q = d
        .config
        .qemu
        .as_ref()
        .filter(|q| q.firmware.ends_with(".elf"));
    let Some(q) = q else {
        return Err(crate::util::error::Error::Usage(format!(
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

/// PATH with the interpreter's directory first.
fn path_with(interpreter: &std::path::Path) -> std::ffi::OsString {
    let mut dirs: Vec<std::path::PathBuf> = interpreter
        .parent()
        .map(|d| d.to_path_buf())
        .into_iter()
        .collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap_or_default()
}
