//! Hostile cases and hostile use, end to end: each test is one class of problem (a case
//! writing into the project, awkward names, exit statuses, absurd settings, closed pipes,
//! Ctrl-C, floods), run on the real VMs (unix, webassembly, CPython) and on the micro:bit
//! firmware in QEMU where the class applies, asserting the exact verdict, exit code or
//! message.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{Fixture as Project, state_dir, stderr};

const HOSTS: &str = "kind: unix\ntimeout: 20\n";
const MICROBIT_HEX: &str = "/usr/share/firmware-microbit-micropython/firmware.hex";

impl Project {
    fn new() -> Project {
        let p = Project::empty();
        p.write("boards/unix.yaml", HOSTS);
        p.write(
            "boards/webassembly.yaml",
            "kind: webassembly\ntimeout: 30\n",
        );
        p.write("boards/cpython.yaml", "kind: cpython\ntimeout: 20\n");
        p
    }

    fn with_microbit(self) -> Project {
        self.write(
            "boards/mb.yaml",
            &format!(
                "kind: qemu\nmodes: [source]\ninstances: 1\ndefault: false\ntimeout: 10\n\
                 packages: [qemu-system-arm, firmware-microbit-micropython]\n\
                 qemu:\n  machine: microbit\n  firmware: {MICROBIT_HEX}\n\
                 pacing: {{chunk_bytes: 32, pause_ms: 10}}\n"
            ),
        );
        self
    }

    /// Every file under `cases/`, `golden/` and `boards/` with its content.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        for top in ["cases", "golden", "boards"] {
            let mut stack = vec![self.root().join(top)];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in entries.flatten() {
                    if e.file_type().unwrap().is_dir() {
                        stack.push(e.path());
                    } else {
                        files.insert(e.path(), std::fs::read(e.path()).unwrap());
                    }
                }
            }
        }
        files
    }
}

// ---- isolation ----

/// Tries every way into the project a case has without knowing its absolute path.
const ATTACK: &str = r#"# ---
# modes: [source, mpy]
# ---
def attempt(what, path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
    except Exception:
        pass

attempt("golden", "../../golden/g/victim.out", "pwned\n")
attempt("golden from scratch", "../golden/g/victim.out", "pwned\n")
attempt("new case", "planted.py", "print('planted')\n")
attempt("new case in group", "../g/planted.py", "print('planted')\n")
attempt("board", "../../boards/evil.yaml", "kind: unix\n")
print("done")
"#;

#[test]
fn a_case_cannot_create_or_change_files_in_the_project() {
    let p = Project::new().with_microbit();
    p.write("cases/g/victim.py", "print('victim')\n");
    p.write("golden/g/victim.out", "victim\n");
    p.write("cases/h/attack.py", ATTACK);
    p.write("golden/h/attack.out", "done\n");
    // The webassembly port reaches Node's `fs` through the `js` module, with an absolute
    // path: Node's permission model stops it.
    let golden = p.root().join("golden/g/victim.out");
    p.write(
        "cases/h/node_fs.py",
        &format!(
            "# ---\n# boards: [webassembly]\n# ---\nimport js\nfs = js.process.getBuiltinModule('fs')\n\
             try:\n    fs.writeFileSync({:?}, 'pwned')\n    print('wrote')\nexcept Exception:\n    print('blocked')\n",
            golden.display().to_string()
        ),
    );
    let before = p.snapshot();
    let run = p.mpcheck(&[
        "run",
        "--board",
        "unix",
        "--board",
        "webassembly",
        "--board",
        "cpython",
        "--board",
        "mb",
    ]);
    let after = p.snapshot();
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "{}",
        stderr(&run)
    );
    assert!(before == after, "a case changed the project");
    for name in [
        "unix::h/attack",
        "unix::h/attack.mpy",
        "webassembly::h/attack",
        "webassembly::h/attack.mpy",
        "cpython::h/attack",
        "mb::h/attack",
        "unix::g/victim",
        "webassembly::g/victim.mpy",
        "mb::g/victim",
    ] {
        assert_eq!(
            p.result(name)["verdict"],
            "pass",
            "{name}: {}",
            stderr(&run)
        );
    }
    // The Node escape raised inside the VM: not a pass, and nothing written.
    assert_ne!(p.result("webassembly::h/node_fs")["verdict"], "pass");
}

#[test]
fn a_case_sees_only_scratch_paths() {
    let p = Project::new();
    p.write(
        "cases/g/where.py",
        "# ---\n# boards: [unix, cpython]\n# modes: [source]\n# ---\nimport os\nprint(os.getcwd())\nprint(__file__)\n",
    );
    let run = p.mpcheck(&["run", "--board", "unix", "--board", "cpython"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let root = p.root().display().to_string();
    for board in ["unix", "cpython"] {
        let actual = p.result(&format!("{board}::g/where"))["actual"].clone();
        let actual = actual.as_str().unwrap();
        assert!(!actual.contains(&root), "{board}: {actual}");
        assert!(actual.trim_end().ends_with("where.py"), "{board}: {actual}");
    }
}

// ---- one rule on every target ----

#[test]
fn awkward_case_names_run_in_mpy_mode_with_their_own_file_name_in_tracebacks() {
    let p = Project::new();
    for name in ["raise", "sys", "a.b"] {
        p.write(
            &format!("cases/g/{name}.py"),
            "# ---\n# exclude: {cpython: golden has a MicroPython traceback}\n# ---\nprint('ran')\nraise ValueError('x')\n",
        );
        p.write(
            &format!("golden/g/{name}.out"),
            &format!(
                "ran\nTraceback (most recent call last):\n  File \"{name}.py\", line 5, in <module>\nValueError: x\n"
            ),
        );
    }
    // A helper named like the alias would be: the alias takes another letter.
    p.write("cases/g/_qq.py", "X = 1\n");
    let run = p.mpcheck(&["run", "--board", "unix", "--board", "webassembly"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    for board in ["unix", "webassembly"] {
        for name in ["raise", "sys", "a.b"] {
            for mode in ["", ".mpy"] {
                let r = p.result(&format!("{board}::g/{name}{mode}"));
                assert_eq!(r["verdict"], "pass", "{r}");
            }
        }
    }
}

#[test]
fn sys_exit_status_is_the_same_verdict_on_every_host_vm() {
    let p = Project::new();
    p.write("cases/g/exit3.py", "import sys\nprint('x')\nsys.exit(3)\n");
    p.write("cases/g/exit0.py", "import sys\nprint('x')\nsys.exit(0)\n");
    p.write(
        "cases/g/exit_none.py",
        "import sys\nprint('x')\nsys.exit()\n",
    );
    let run = p.mpcheck(&[
        "run",
        "--board",
        "unix",
        "--board",
        "webassembly",
        "--board",
        "cpython",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(!err.contains("Exited("), "{err}");
    for name in [
        "unix::g/exit3",
        "unix::g/exit3.mpy",
        "webassembly::g/exit3",
        "webassembly::g/exit3.mpy",
        "cpython::g/exit3",
    ] {
        let r = p.result(name);
        assert_eq!(r["verdict"], "crash", "{r}");
        assert_eq!(r["exit"], "exit status 3", "{r}");
        assert_eq!(r["detail"], "exited with status 3", "{r}");
    }
    for board in ["unix", "webassembly", "cpython"] {
        for case in ["exit0", "exit_none"] {
            assert_eq!(
                p.result(&format!("{board}::g/{case}"))["verdict"],
                "pass",
                "{board} {case}"
            );
        }
    }
}

// ---- no panic on any input ----

#[test]
fn absurd_timeouts_are_errors_naming_file_and_line() {
    let p = Project::new();
    p.write(
        "cases/g/forever.py",
        "# ---\n# timeout: 1e30\n# ---\nprint(1)\n",
    );
    p.write("cases/g/ok.py", "print(2)\n");
    let run = p.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let r = p.result("unix::g/forever");
    assert_eq!(r["verdict"], "error");
    let msg = r["message"].as_str().unwrap();
    assert!(
        msg.ends_with(
            "cases/g/forever.py:2: timeout: at most 86400 seconds (one day), got 1000000000000000000000000000000"
        ),
        "{msg}"
    );
    assert_eq!(p.result("unix::g/ok")["verdict"], "pass");

    for (board, value) in [("unix", "1e30"), ("mb", "1e19")] {
        let p = Project::new().with_microbit();
        p.write("cases/g/ok.py", "print(2)\n");
        let text = p.read(&format!("boards/{board}.yaml"));
        let text = text
            .replace("timeout: 20\n", "")
            .replace("timeout: 10\n", "");
        p.write(
            &format!("boards/{board}.yaml"),
            &format!("timeout: {value}\n{text}"),
        );
        let run = p.mpcheck(&["run", "--board", board]);
        assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
        let err = stderr(&run);
        assert!(
            err.contains(&format!(
                "boards/{board}.yaml:1: timeout: at most 86400 seconds"
            )),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_case_that_is_not_utf8_is_an_error_and_the_others_run() {
    let p = Project::new();
    p.write_bytes("cases/g/latin1.py", b"print('caf\xe9')\n");
    p.write("cases/g/ok.py", "print(2)\n");
    let run = p.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    // Settings that cannot be read are one `error` trial (the modes are among them).
    let r = p.result("unix::g/latin1");
    assert_eq!(r["verdict"], "error");
    assert!(
        r["message"].as_str().unwrap().ends_with(
            "cases/g/latin1.py:1: not UTF-8 (byte 0xe9 at offset 10): Python source must be UTF-8"
        ),
        "{r}"
    );
    for mode in ["", ".mpy"] {
        assert_eq!(p.result(&format!("unix::g/ok{mode}"))["verdict"], "pass");
    }
}

#[test]
fn a_symlink_loop_under_cases_is_an_error_naming_it() {
    let p = Project::new();
    p.write("cases/g/ok.py", "print(2)\n");
    std::os::unix::fs::symlink("..", p.root().join("cases/g/loop")).unwrap();
    let run = p.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(err.contains("cases/g/loop: symbolic link loop"), "{err}");
}

/// Starts the command, closes its stdout at once, and returns how it ended.
fn with_closed_stdout(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn list_and_disasm_into_a_closed_pipe_end_quietly() {
    let p = Project::new();
    for i in 0..50 {
        p.write(&format!("cases/g/c{i}.py"), "print(1)\n");
    }
    let out = with_closed_stdout(p.command(&["list"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");

    // `mpcheck list | head -1`: one line read, then the reader goes away.
    let mut child = p
        .command(&["list", "--board", "unix"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "unix::g/c0\n");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = with_closed_stdout(
        p.command(&["disasm", p.root().join("cases/g/c1.py").to_str().unwrap()]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

// ---- arguments ----

#[test]
fn a_filter_matching_nothing_is_an_error_that_keeps_the_last_reports() {
    let p = Project::new();
    p.write("cases/g/ok.py", "print(2)\n");
    let run = p.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let reports = p.read("reports/results.json");
    for command in ["run", "list", "bless"] {
        let out = p.mpcheck(&[command, "--board", "unix", "no-such-case"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert_eq!(
            stderr(&out),
            "mpcheck: error: no trial matches the filter `no-such-case` (see `mpcheck list`)\n"
        );
    }
    assert_eq!(p.read("reports/results.json"), reports);
}

#[test]
fn an_empty_selection_says_its_real_reason_and_the_nearest_names() {
    let p = Project::new();
    p.write("cases/g/int_small.py", "print(2)\n");
    for command in ["run", "list", "bless"] {
        // The mode, not the filter, left nothing: CPython runs source only.
        let out = p.mpcheck(&[command, "--board", "cpython", "--mode", "mpy", "int_small"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert_eq!(
            stderr(&out),
            "mpcheck: error: the filter `int_small` matches 1 trial, none in mode mpy: the selected boards run these modes (cpython: source)\n",
            "{command}"
        );
        // A near miss of a case's name is suggested.
        let out = p.mpcheck(&[command, "--board", "unix", "intsmall"]);
        assert_eq!(
            stderr(&out),
            "mpcheck: error: no trial matches the filter `intsmall`; did you mean `int_small`? (see `mpcheck list`)\n",
            "{command}"
        );
    }
    let out = p.mpcheck(&["list", "--board", "cpython", "--mode", "frozen"]);
    assert_eq!(
        stderr(&out),
        "mpcheck: error: no trial in mode frozen: the selected boards run these modes (cpython: source)\n"
    );
}

#[test]
fn list_offers_only_the_options_it_uses() {
    let p = Project::new();
    let help = String::from_utf8_lossy(&p.mpcheck(&["list", "--help"]).stdout).into_owned();
    let run_help = String::from_utf8_lossy(&p.mpcheck(&["run", "--help"]).stdout).into_owned();
    for run_only in [
        "--report-dir",
        "--jobs",
        "--repeat",
        "--retries",
        "--fail-fast",
        "--history",
        "--partition",
        "--rerun-failed",
        "--allow-flaky",
    ] {
        assert!(!help.contains(run_only), "list offers {run_only}:\n{help}");
        assert!(
            run_help.contains(run_only),
            "run lacks {run_only}:\n{run_help}"
        );
    }
    for shared in [
        "--board",
        "--tests",
        "--mode",
        "--emit",
        "--reference",
        "--micropython",
        "--mpy-cross",
    ] {
        assert!(help.contains(shared), "list lacks {shared}:\n{help}");
    }
    let out = p.mpcheck(&["list", "--jobs", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_board_named_twice_runs_once() {
    let p = Project::new();
    p.write("cases/g/ok.py", "print(2)\n");
    let out = p.mpcheck(&["list", "--board", "unix", "--board", "unix"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "unix::g/ok\nunix::g/ok.mpy\n"
    );
    let run = p.mpcheck(&["run", "--board", "unix", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(p.results()["results"].as_array().unwrap().len(), 2);
}

#[test]
fn report_dir_problems_are_found_before_the_run() {
    let p = Project::new();
    p.write("cases/g/ok.py", "print(2)\n");
    p.write("in-the-way", "a file\n");
    let dir = p.root().join("in-the-way/reports");
    let out = p.mpcheck(&[
        "run",
        "--board",
        "unix",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "mpcheck: error: report directory {} cannot be written: ",
            dir.display()
        )),
        "{err}"
    );
    assert!(!err.contains("running"), "the run started: {err}");

    std::fs::create_dir_all(p.root().join("reports/results.json")).unwrap();
    let out = p.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("reports/results.json is a directory"),
        "{}",
        stderr(&out)
    );
}

/// A state directory sharing the repository's tools, with its own cache.
fn own_state_dir(root: &Path) -> PathBuf {
    let state = root.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::os::unix::fs::symlink(state_dir().join("toolchain"), state.join("toolchain")).unwrap();
    state
}

#[test]
fn a_relative_or_empty_mpcheck_home_works() {
    let p = Project::new();
    p.write("cases/g/ok.py", "print(2)\n");
    own_state_dir(p.root());
    let run = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .args(["run", "--board", "unix"])
        .current_dir(p.root())
        .env("MPCHECK_HOME", "state")
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(p.result("unix::g/ok.mpy")["verdict"], "pass");
    assert!(p.root().join("state/cache/mpy").is_dir());

    // Empty means unset: the project's own `.mpcheck`, not the current directory.
    // (The first run kept its history and pending changes in the project's .mpcheck.)
    let _ = std::fs::remove_dir_all(p.root().join(".mpcheck"));
    std::os::unix::fs::symlink(state_dir(), p.root().join(".mpcheck")).unwrap();
    let list = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .args(["run", "--board", "unix"])
        .current_dir(p.root())
        .env("MPCHECK_HOME", "")
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    assert!(!p.root().join("toolchain").exists());
}

#[test]
fn an_unwritable_cache_costs_speed_not_verdicts() {
    let p = Project::new();
    p.write("cases/g/ok.py", "print(2)\n");
    let state = own_state_dir(p.root());
    // As root, permissions do not stop writes: a file where the cache directory should
    // be does.
    std::fs::write(state.join("cache"), "not a directory\n").unwrap();
    let run = p
        .command(&["run", "--board", "unix", "--board", "webassembly"])
        .env("MPCHECK_HOME", &state)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    for name in ["unix::g/ok.mpy", "webassembly::g/ok.mpy"] {
        assert_eq!(p.result(name)["verdict"], "pass");
    }
    let err = stderr(&run);
    assert_eq!(
        err.matches("warning: compiled .mpy files are not cached")
            .count(),
        1,
        "{err}"
    );
}

// ---- Ctrl-C and SIGTERM ----

/// Processes whose environment holds `marker` (every VM, emulator and grandchild of one
/// mpcheck run inherits it).
fn processes_with(marker: &str) -> Vec<String> {
    let needle = format!("MPCHECK_TEST_MARKER={marker}");
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|&b| b == 0).any(|v| v == needle.as_bytes()) {
            let cmd = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            found.push(format!("{pid}: {}", cmd.replace('\0', " ")));
        }
    }
    found
}

/// Slow cases on every host VM and the micro:bit, one of which leaves a daemon behind
/// (`setsid`), for interrupting.
fn slow_project() -> Project {
    let p = Project::new().with_microbit();
    for i in 0..6 {
        p.write(
            &format!("cases/g/slow{i}.py"),
            "# ---\n# exclude: {cpython: MicroPython-only}\n# ---\nimport time\nfor i in range(30):\n    print(i)\n    time.sleep(0.1)\n",
        );
    }
    p.write(
        "cases/g/daemon.py",
        "# ---\n# boards: [unix]\n# ---\nimport os\nos.system('setsid sleep 600 > /dev/null 2>&1 < /dev/null &')\nprint('ok')\n",
    );
    p.write(
        "cases/g/cpy_daemon.py",
        "# ---\n# boards: [cpython]\n# ---\nimport os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\nprint('ok')\n",
    );
    p
}

/// Interrupts `mpcheck <command>` after `delay` and checks it ended cleanly: exit 130,
/// reports marked interrupted, no process left, no scratch or temp file left.
fn interrupt_once(command: &str, delay: Duration, signal: i32) -> (usize, usize) {
    let p = slow_project();
    let marker = format!("{}-{}", std::process::id(), delay.as_micros());
    let tmp = p.root().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let boards = [
        "--board",
        "unix",
        "--board",
        "webassembly",
        "--board",
        "cpython",
        "--board",
        "mb",
    ];
    let mut args = vec![command];
    args.extend(boards);
    let child = p
        .command(&args)
        .env("MPCHECK_TEST_MARKER", &marker)
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let start = Instant::now();
    let out = child.wait_with_output().unwrap();
    let took = start.elapsed();
    let err = stderr(&out);
    // A run that finished before the signal is not an interrupted one.
    let finished = !err.contains("interrupted");
    if !finished {
        assert_eq!(out.status.code(), Some(130), "{err}");
        assert!(took < Duration::from_secs(12), "took {took:?}: {err}");
        if p.root().join("reports/results.json").exists() {
            assert_eq!(p.results()["interrupted"], true);
            assert!(p.read("reports/summary.md").contains("**Interrupted**"));
        }
    }
    // Give a killed process a moment to be gone from /proc.
    std::thread::sleep(Duration::from_millis(200));
    let left = processes_with(&marker);
    let stray: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .chain(
            p.snapshot()
                .into_keys()
                .filter(|k| k.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
                .map(|k| k.display().to_string()),
        )
        .collect();
    for pid in left.iter().filter_map(|l| l.split(':').next()) {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    assert!(left.is_empty(), "left running: {left:?}\n{err}");
    assert!(stray.is_empty(), "left behind: {stray:?}\n{err}");
    if command == "bless" && !finished {
        assert!(
            !p.root().join("golden").exists(),
            "an interrupted bless wrote goldens"
        );
    }
    (left.len(), stray.len())
}

#[test]
fn ctrl_c_and_sigterm_end_run_and_bless_leaving_nothing_behind() {
    // Delays that land in start-up, in the middle of trials, and near the end.
    for (command, ms, signal) in [
        ("run", 300, libc::SIGINT),
        ("run", 1500, libc::SIGINT),
        ("run", 2500, libc::SIGTERM),
        ("bless", 1200, libc::SIGINT),
        ("bless", 2000, libc::SIGTERM),
    ] {
        assert_eq!(
            interrupt_once(command, Duration::from_millis(ms), signal),
            (0, 0)
        );
    }
}

/// Ctrl-C in the middle of `--repeat`: no attempt starts after it, and the one it cut
/// short does not make a passing case flaky (it was `pass 41, error 359`).
#[test]
fn ctrl_c_during_repeats_leaves_a_passing_case_passing() {
    let p = Project::new();
    p.write("cases/g/quick.py", "print('ok')\n");
    p.write("golden/g/quick.out", "ok\n");
    let child = p
        .command(&[
            "run",
            "--board",
            "unix",
            "--mode",
            "source",
            "--repeat",
            "100000",
            "--no-history",
            "g/quick",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let results = p.results();
    let r = &results["results"][0];
    assert_eq!(r["verdict"], "pass", "{r}\n{err}");
    let attempts = r["attempts"].as_array().map_or(0, Vec::len);
    assert!(attempts < 100000, "{attempts} attempts: {err}");
    // `1 passed` is not read as 100000 passes: the run says the repeats were cut short.
    assert!(
        err.contains("; 1 trial ran fewer than the 100000 repeats (the verdict is of the attempts that finished); reports"),
        "{err}"
    );
}

// ---- floods ----

/// Runs mpcheck, sampling its own peak resident size (VmHWM), in KiB.
fn run_measuring_rss(mut cmd: Command) -> (Output, u64) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    let out = child.wait_with_output().unwrap();
    (out, sampler.join().unwrap())
}

#[test]
fn a_200_mb_flood_is_capped_on_every_host_vm_with_the_harness_staying_small() {
    let p = Project::new();
    p.write(
        "cases/g/flood.py",
        "# ---\n# modes: [source]\n# timeout: 120\n# ---\nline = 'x' * 1023\nfor i in range(200 * 1024):\n    print(line)\n",
    );
    p.write("golden/g/flood.out", "x\n");
    for board in ["unix", "webassembly", "cpython"] {
        let (run, rss_kb) = run_measuring_rss(p.command(&["run", "--board", board]));
        assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
        let r = p.result(&format!("{board}::g/flood"));
        assert_eq!(r["verdict"], "fail", "{board}");
        assert_eq!(r["truncated"], true, "{board}");
        assert_eq!(r["actual"].as_str().unwrap().len(), 1 << 20, "{board}");
        // Why 64 MiB: the harness itself is ~15 MiB; the 1 MiB capture, its normalised
        // copy and the reports add a few. A harness buffering the flood would be >200 MiB.
        eprintln!("{board}: harness peak RSS {rss_kb} KiB");
        assert!(rss_kb < 64 * 1024, "{board}: harness RSS {rss_kb} KiB");
    }
}
