//! `mpcheck run --tests DIR` end to end on the pinned unix port, on a small tests/
//! directory made here: the checkout's own run-tests.py (its skip lists) and
//! feature_check/, and tests written to exercise each of run-tests.py's rules. The
//! directory is read-only while mpcheck runs: nothing may be written into it.
//!
//! The checkouts are the MicroPython trees in `MPCHECK_SHARED` (default: `../shared`
//! beside the repository, CI's layout). A test whose tree is absent (a user's machine) is
//! reported *ignored* with the path it looked for, never passed and never a panic (hence
//! libtest-mimic rather than `#[test]`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Completion, Trial};

/// A test given the checkout's `tests/` it needs.
type CheckoutTest = fn(&Path);

/// The tree a test needs (`None`: none), or why it is absent.
type Tree<'a> = Option<&'a Result<PathBuf, String>>;

fn main() {
    let args = Arguments::from_args();
    let v128 = checkout_tests("micropython-1.28.0");
    let v124 = checkout_tests("micropython-1.24.0");
    let v129 = checkout_tests("micropython-1.29-dev");
    // A board built from a tree: the v1.28.0 tests and a `MICROPY_SRC` to build it from.
    let v128_board = board_tree(&v128);
    let v124_board = board_tree(&v124);
    let full = full_matrix(&v128, &v124_board);
    let tests: [(&str, Tree, CheckoutTest); 21] = [
        (
            "v1_28_0_unix_micropython_verdicts_agree_with_run_tests_py",
            Some(&v128),
            |t| agree(t, "unix", "source", &["micropython"]),
        ),
        (
            "v1_24_0_unix_micropython_verdicts_agree_with_run_tests_py",
            Some(&v124),
            |t| agree(t, "unix", "source", &["micropython"]),
        ),
        (
            "every_mode_and_qemu_board_of_both_trees_agrees_with_run_tests_py",
            Some(&full),
            |_| agree_everywhere(),
        ),
        (
            "unittest_tests_run_their_tests_on_a_board",
            Some(&v128_board),
            unittest_tests_run_their_tests_on_a_board,
        ),
        (
            "the_same_test_in_two_checkouts_has_two_references",
            Some(&v128),
            the_same_test_in_two_checkouts_has_two_references,
        ),
        (
            "v1_28_0_tree_facts_dirs_and_special_tests",
            Some(&v128),
            a_real_tree_is_read_as_its_run_tests_reads_it,
        ),
        (
            "v1_24_0_tree_facts_dirs_and_special_tests",
            Some(&v124),
            a_real_tree_is_read_as_its_run_tests_reads_it,
        ),
        (
            "v1_29_dev_tree_facts_dirs_and_special_tests",
            Some(&v129),
            a_real_tree_is_read_as_its_run_tests_reads_it,
        ),
        (
            "v1_29_dev_regex_exp_line_ends_and_repl_keys_pass_as_upstream",
            Some(&v129),
            regex_exp_files_pass_as_upstream,
        ),
        (
            "upstream_rules_on_the_unix_port",
            Some(&v128),
            upstream_rules_on_the_unix_port,
        ),
        (
            "mpy_mode_follows_via_mpy",
            Some(&v128),
            mpy_mode_follows_via_mpy,
        ),
        (
            "v1_28_0_multi_instance_tests_as_run_multitests_py",
            Some(&v128),
            multi_instance_tests_as_run_multitests_py,
        ),
        (
            "v1_24_0_multi_instance_tests_as_run_multitests_py",
            Some(&v124),
            multi_instance_tests_as_run_multitests_py,
        ),
        (
            "a_multi_instance_test_on_a_qemu_board_and_unix",
            Some(&v128_board),
            a_multi_instance_test_on_a_qemu_board_and_unix,
        ),
        (
            "perf_bench_runs_and_is_judged_as_run_perfbench_py",
            Some(&v128),
            perf_bench_runs_and_is_judged_as_run_perfbench_py,
        ),
        (
            "compare_tests_perf_bench_compares_target_time_not_output",
            Some(&v128),
            compare_tests_perf_bench_compares_target_time_not_output,
        ),
        (
            "a_benchmarks_target_time_trend_is_in_the_history_and_index_html",
            Some(&v128),
            a_benchmarks_target_time_trend_is_in_the_history_and_index_html,
        ),
        (
            "perf_bench_on_a_qemu_board_with_exact_time_boots_afresh_each_run",
            Some(&v128_board),
            perf_bench_on_a_qemu_board_with_exact_time_boots_afresh_each_run,
        ),
        (
            "v1_28_0_natmod_tests_on_unix_with_modules_built_here",
            Some(&v128),
            |t| natmod_tests_with_modules_built_here(t, "unix", "x64"),
        ),
        (
            "v1_28_0_natmod_tests_on_a_qemu_board_with_modules_built_here",
            Some(&v128_board),
            |t| natmod_tests_with_modules_built_here(t, "mps2-an385-qemu", "armv7m"),
        ),
        (
            "a_directory_without_run_tests_is_a_clear_error",
            None,
            |_| a_directory_without_run_tests_is_a_clear_error(),
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, tree, test)| {
            let tree = tree.cloned();
            Trial::ignorable_test(name, move || match tree {
                None => {
                    test(Path::new(""));
                    Ok(Completion::Completed)
                }
                Some(Ok(tests)) => {
                    test(&tests);
                    Ok(Completion::Completed)
                }
                Some(Err(why)) => Ok(Completion::ignored_with(why)),
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// A tree's tests/ where a QEMU board can be built too (CI sets `MICROPY_SRC`; the board
/// is then built from the tree under test), or why not.
fn board_tree(tests: &Result<PathBuf, String>) -> Result<PathBuf, String> {
    tests.clone().and_then(|tests| {
        match std::env::var_os("MICROPY_SRC").filter(|v| !v.is_empty()) {
            Some(_) => Ok(tests),
            None => Err(
                "needs MICROPY_SRC (as CI sets it: QEMU boards are built from a MicroPython tree)"
                    .into(),
            ),
        }
    })
}

/// The whole agreement matrix (#21's measurement, longer than CI's budget): asked for
/// with `MPCHECK_AGREEMENT=full`, with both trees buildable.
fn full_matrix(
    v128: &Result<PathBuf, String>,
    v124: &Result<PathBuf, String>,
) -> Result<PathBuf, String> {
    if std::env::var("MPCHECK_AGREEMENT").as_deref() != Ok("full") {
        return Err(
            "every mode and QEMU board of both trees against run-tests.py takes about half an hour: MPCHECK_AGREEMENT=full runs it"
                .into(),
        );
    }
    board_tree(v128).and(v124.clone())
}

/// `mpcheck bench --tests` on `board`: run-tests.py and mpcheck side by side on the same
/// tests; the percentage of the same verdicts and the report. A QEMU board is built from
/// the tree under test.
fn agreement(tests: &Path, board: &str, mode: &str, dirs: &[&str]) -> (f64, String) {
    let project = tempfile::tempdir().unwrap();
    if board != "unix" {
        add_board(project.path(), board);
    }
    let mut args = vec![
        "bench",
        "--tests",
        tests.to_str().unwrap(),
        "--board",
        board,
        "--repeat",
        "1",
    ];
    match mode {
        "source" => {}
        "mpy" => args.extend(["--mode", "mpy"]),
        "native" => args.extend(["--mode", "mpy", "--emit", "native"]),
        other => panic!("mode {other}"),
    }
    for d in dirs {
        args.extend(["--dir", d]);
    }
    let before = listing(tests);
    let out = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .arg("--root")
        .arg(project.path())
        .args(&args)
        .env(
            "MPCHECK_HOME",
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".mpcheck"),
        )
        .env("MICROPY_SRC", tests.parent().unwrap())
        .env_remove("CI")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = format!(
        "{} {board} {mode} {dirs:?}:\n{stdout}",
        tests.parent().unwrap().display()
    );
    if out.status.code() != Some(0) {
        return (0.0, format!("{report}\n{stderr}"));
    }
    // Neither runner writes into the checkout (run-tests.py runs in a copy).
    let after = listing(tests);
    if after != before {
        let new: Vec<_> = after.iter().filter(|e| !before.contains(e)).collect();
        return (0.0, format!("wrote into the checkout: {new:?}\n{report}"));
    }
    let percent = stdout
        .lines()
        .find_map(|l| l.strip_prefix("verdicts: "))
        .and_then(|l| l.split(" = ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok());
    match percent {
        Some(p) => (p, report),
        None => (0.0, format!("no verdict line: {report}\n{stderr}")),
    }
}

/// [`agreement`] at #21's bar: at least 99.5 % the same.
fn agree(tests: &Path, board: &str, mode: &str, dirs: &[&str]) {
    let (percent, report) = agreement(tests, board, mode, dirs);
    eprintln!("{report}");
    assert!(percent >= 99.5, "{report}");
}

/// Every mode on the unix port's default set, and every QEMU board's `basics/`
/// `micropython/` and Thumb inline-assembler tests, of both trees (a board whose make
/// fragment excludes some skips them where run-tests.py omits them: listed "not run").
/// Every configuration runs before the verdict, so one run gives the whole table.
fn agree_everywhere() {
    let shared = shared_dir();
    let mut table = Vec::new();
    for tree in ["micropython-1.28.0", "micropython-1.24.0"] {
        let tests = shared.join(tree).join("tests");
        // v1.24 keeps the Thumb tests in inlineasm/ itself.
        let asm = if tests.join("inlineasm/thumb").is_dir() {
            "inlineasm/thumb"
        } else {
            "inlineasm"
        };
        for mode in ["source", "mpy", "native"] {
            let mut measure = |board: &str, dirs: &[&str]| {
                let (percent, report) = agreement(&tests, board, mode, dirs);
                // As it comes: the whole matrix takes a while.
                eprintln!("{report}");
                table.push((percent, report));
            };
            measure("unix", &[]);
            for (board, id) in [
                ("mps2-an385-qemu", "MPS2_AN385"),
                ("mps2-an500-qemu", "MPS2_AN500"),
                ("sabrelite-qemu", "SABRELITE"),
            ] {
                // A board the tree does not have (v1.24 has no MPS2_AN500) is not built.
                let boards = shared.join(tree).join("ports/qemu/boards");
                if boards.join(id).is_dir() || boards.join(format!("{id}.mk")).is_file() {
                    measure(board, &["basics", "micropython", asm]);
                } else {
                    eprintln!("{tree}: no qemu board {id}: {board} not compared");
                }
            }
        }
    }
    let below: Vec<&String> = table
        .iter()
        .filter(|(p, _)| *p < 99.5)
        .map(|(_, r)| r)
        .collect();
    assert!(below.is_empty(), "below 99.5 %:\n{below:#?}");
}

/// This project's board file `board` in the temp project `project`.
fn add_board(project: &Path, board: &str) {
    std::fs::create_dir_all(project.join("boards")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("boards/{board}.yaml")),
        project.join(format!("boards/{board}.yaml")),
    )
    .unwrap();
}

/// Where the shared MicroPython trees are: `MPCHECK_SHARED`, else `../shared`.
fn shared_dir() -> PathBuf {
    std::env::var_os("MPCHECK_SHARED")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A tree's `tests/`, or why it is not here (the ignore reason).
fn checkout_tests(tree: &str) -> Result<PathBuf, String> {
    let p = shared_dir().join(tree).join("tests");
    if p.join("run-tests.py").is_file() {
        Ok(p)
    } else {
        Err(format!(
            "needs the MicroPython checkout {} (set MPCHECK_SHARED to the directory holding {tree}/)",
            p.display()
        ))
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

/// A checkout-shaped tree: `<tmp>/mp/tests` with the real run-tests.py and
/// feature_check/, micropython-lib's unittest, and the tests below.
/// [`make_checkout`] with the checkout's run-multitests.py, whose rules the
/// multi-instance tests follow.
fn make_multi_checkout(src: &Path, tmp: &Path) -> PathBuf {
    let tests = make_checkout(src, tmp);
    std::fs::copy(
        src.join("run-multitests.py"),
        tests.join("run-multitests.py"),
    )
    .unwrap();
    tests
}

fn make_checkout(src: &Path, tmp: &Path) -> PathBuf {
    let tests = tmp.join("mp/tests");
    std::fs::create_dir_all(&tests).unwrap();
    std::fs::copy(src.join("run-tests.py"), tests.join("run-tests.py")).unwrap();
    copy_dir(&src.join("feature_check"), &tests.join("feature_check"));
    copy_dir(
        &src.join("../lib/micropython-lib/python-stdlib/unittest"),
        &tmp.join("mp/lib/micropython-lib/python-stdlib/unittest"),
    );
    // Judged against CPython's output.
    write(&tests, "basics/cpy_pass.py", "print(sum(range(10)))\n");
    // Against its .exp; and one whose .exp is wrong.
    write(
        &tests,
        "basics/exp_pass.py",
        "import sys\nprint(sys.implementation.name)\n",
    );
    write(&tests, "basics/exp_pass.py.exp", "micropython\n");
    write(&tests, "basics/exp_fail.py", "print('actual')\n");
    write(&tests, "basics/exp_fail.py.exp", "expected\n");
    // Skips itself.
    write(
        &tests,
        "basics/self_skip.py",
        "print('SKIP')\nraise SystemExit\n",
    );
    // An uncaught exception: upstream appends CRASH, so it fails against CPython's output.
    write(&tests, "basics/raises.py", "print(1)\nraise ValueError\n");
    // Imports a helper from a package directory beside it (not a test itself).
    write(&tests, "basics/helperpkg/__init__.py", "");
    write(
        &tests,
        "basics/helperpkg/mod.py",
        "print('this helper is not a test')\nX = 42\n",
    );
    write(
        &tests,
        "basics/uses_helper.py",
        "from helperpkg.mod import X\nprint(X)\n",
    );
    // unittest-based: judged by the summary, no expected output needed.
    write(
        &tests,
        "basics/ut_ok.py",
        "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(1, 1)\n    @unittest.skip('no')\n    def test_b(self):\n        pass\nif __name__ == '__main__':\n    unittest.main()\n",
    );
    write(
        &tests,
        "basics/ut_fail.py",
        "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(1, 2)\nif __name__ == '__main__':\n    unittest.main()\n",
    );
    // In run-tests.py's tests_with_regex_output: the regex .exp dialect.
    write(
        &tests,
        "micropython/meminfo.py",
        "import gc\nprint('mem:', gc.mem_free() > 0, 12345)\nfor i in range(3):\n    print('noise', i)\nprint('end')\n",
    );
    write(
        &tests,
        "micropython/meminfo.py.exp",
        "mem: True \\\\d\\+\n########\nend\n",
    );
    // Feature pattern: t-strings are absent on the pinned port → skipped by name.
    write(&tests, "basics/string_tstring_x.py", "print(1)\n");
    // via_mpy_tests_to_skip has io/argv.py: runs plain, skipped in .mpy mode.
    write(&tests, "io/argv.py", "import sys\nprint(len(sys.argv))\n");
    write(&tests, "io/argv.py.exp", "1\n");
    // Reads beside it and writes where it runs, as io/open_append does: the write lands in
    // the run's copy of tests/, never in the checkout (checked by its listing below).
    write(&tests, "io/data/file1", "data\n");
    write(
        &tests,
        "io/leaves_file.py",
        "print(open('data/file1').read())\nf = open('testfile', 'w')\nf.write('x')\nf.close()\nprint(open('testfile').read())\n",
    );
    write(&tests, "io/leaves_file.py.exp", "data\n\nx\n");
    // cmdline/: a `# cmdline:` header, regex .exp; a REPL test on a pty.
    write(
        &tests,
        "cmdline/cmd_opt.py",
        "# cmdline: -O2\nprint(__debug__)\n",
    );
    write(&tests, "cmdline/cmd_opt.py.exp", "False\n");
    write(&tests, "cmdline/repl_sum.py", "1 + 2\n");
    write(
        &tests,
        "cmdline/repl_sum.py.exp",
        "MicroPython \\.\\+ version\nType \"help()\" for more information.\n>>> 1 + 2\n3\n>>> \n",
    );
    // A known-flaky test (flaky_tests_to_ignore) that fails: "ignored".
    write(&tests, "thread/thread_gc1.py", "print('flaky')\n");
    write(&tests, "thread/thread_gc1.py.exp", "not this\n");
    tests
}

fn mpcheck(root: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .arg("--root")
        .arg(root)
        .args(args)
        // The provisioned tools of this work tree: the temp project has none.
        .env(
            "MPCHECK_HOME",
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".mpcheck"),
        )
        .env_remove("CI")
        .output()
        .unwrap()
}

fn results(dir: &Path) -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(dir.join("_results.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                (
                    r[1].as_str().unwrap().to_string(),
                    r[2].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out: Vec<(PathBuf, u64)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e.path().to_path_buf(),
                e.metadata().map(|m| m.len()).unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

fn set_readonly(dir: &Path, ro: bool) {
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        let mut perm = e.metadata().unwrap().permissions();
        perm.set_readonly(ro);
        std::fs::set_permissions(e.path(), perm).unwrap();
    }
}

fn upstream_rules_on_the_unix_port(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_checkout(src, tmp.path());
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let reports = tmp.path().join("reports");
    let before = listing(&tmp.path().join("mp"));
    // Read-only as /work/shared is (root ignores the bits; the listing check does not).
    set_readonly(&tmp.path().join("mp"), true);
    let t = tests.to_str().unwrap();
    let r = reports.to_str().unwrap();
    let out = mpcheck(
        &project,
        &["run", "--tests", t, "--mode", "source", "--report-dir", r],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let got = results(&reports);
    let verdict = |t: &str| got.get(t).map(|v| v.0.as_str()).unwrap_or("absent");
    let expect = [
        ("basics/cpy_pass.py", "pass"),
        ("basics/exp_pass.py", "pass"),
        ("basics/exp_fail.py", "fail"),
        ("basics/self_skip.py", "skip"),
        ("basics/raises.py", "fail"),
        ("basics/uses_helper.py", "pass"),
        ("basics/ut_ok.py", "pass"),
        ("basics/ut_fail.py", "fail"),
        ("micropython/meminfo.py", "pass"),
        ("basics/string_tstring_x.py", "skip"),
        ("io/argv.py", "pass"),
        ("io/leaves_file.py", "pass"),
        ("cmdline/cmd_opt.py", "pass"),
        ("cmdline/repl_sum.py", "pass"),
        ("thread/thread_gc1.py", "ignored"),
    ];
    for (test, want) in expect {
        assert_eq!(verdict(test), want, "{test}: {got:?}\n{stdout}\n{stderr}");
    }
    assert_eq!(got.len(), expect.len(), "helpers are not tests: {got:?}");
    assert_eq!(got["thread/thread_gc1.py"].1, "flaky: GC race condition");
    // The failures' .exp/.out pairs, as run-tests.py names them.
    let exp = std::fs::read_to_string(reports.join("basics_exp_fail.py.exp")).unwrap();
    let actual = std::fs::read_to_string(reports.join("basics_exp_fail.py.out")).unwrap();
    assert_eq!((exp.as_str(), actual.as_str()), ("expected\n", "actual\n"));
    let raised = std::fs::read_to_string(reports.join("basics_raises.py.out")).unwrap();
    assert!(raised.ends_with("CRASH"), "{raised}");
    assert!(!reports.join("basics_cpy_pass.py.out").exists());

    // Nothing was written into the checkout.
    set_readonly(&tmp.path().join("mp"), false);
    assert_eq!(listing(&tmp.path().join("mp")), before);

    // --run-failures: only the failed ones run again; a user's golden override and a
    // known difference (both in the user's project, not the checkout) now apply.
    write(&project, "golden/basics/exp_fail.unix.out", "actual\n");
    write(
        &project,
        "known-differences/unix.yaml",
        "basics/raises.py: micropython prints a shorter traceback\n",
    );
    let out = mpcheck(
        &project,
        &[
            "run",
            "--tests",
            t,
            "--mode",
            "source",
            "--report-dir",
            r,
            "--run-failures",
        ],
    );
    let got = results(&reports);
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "basics/exp_fail.py",
            "basics/raises.py",
            "basics/ut_fail.py"
        ],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(got["basics/exp_fail.py"].0, "pass");
    assert_eq!(got["basics/raises.py"].0, "skip");
    assert_eq!(got["basics/ut_fail.py"].0, "fail");
}

/// On a board, as at the REPL run-tests.py uses, `unittest.main()` finds the test's
/// classes in `__main__` and `import __main__` is the test's module, in both modes (it ran 0 tests and failed when the case ran in a
/// dict of its own). The board is built from `MICROPY_SRC`: without it, ignored.
fn unittest_tests_run_their_tests_on_a_board(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_checkout(src, tmp.path());
    // `import __main__` is the case's own module (judged against CPython's output).
    write(
        &tests,
        "basics/ut_main.py",
        "import __main__\nX = 5\nprint(repr(__main__).startswith(\"<module '__main__'\"), __main__.X)\n",
    );
    let project = tmp.path().join("project");
    add_board(&project, "mps2-an385-qemu");
    for mode in ["source", "mpy"] {
        let reports = tmp.path().join(format!("reports-{mode}"));
        let out = mpcheck(
            &project,
            &[
                "run",
                "--tests",
                tests.to_str().unwrap(),
                "--board",
                "mps2-an385-qemu",
                "--mode",
                mode,
                "--report-dir",
                reports.to_str().unwrap(),
                "basics/ut_",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let got = results(&reports);
        assert_eq!(got["basics/ut_ok.py"].0, "pass", "{mode}: {got:?} {stderr}");
        assert_eq!(got["basics/ut_fail.py"].0, "fail", "{mode}: {got:?}");
        assert_eq!(got["basics/ut_main.py"].0, "pass", "{mode}: {got:?}");
        let json = std::fs::read_to_string(reports.join("results.json")).unwrap();
        assert!(
            json.contains("unittest: 2 ran, 1 skipped"),
            "{mode}: {json}"
        );
    }
}

fn mpy_mode_follows_via_mpy(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_checkout(src, tmp.path());
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let reports = tmp.path().join("reports");
    let before = listing(&tmp.path().join("mp"));
    let out = mpcheck(
        &project,
        &[
            "run",
            "--tests",
            tests.to_str().unwrap(),
            "--mode",
            "mpy",
            "--report-dir",
            reports.to_str().unwrap(),
            "basics/",
        ],
    );
    let got = results(&reports);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(got["basics/cpy_pass.py"].0, "pass", "{got:?} {stderr}");
    assert_eq!(got["basics/uses_helper.py"].0, "pass", "{got:?}");
    assert_eq!(got["basics/ut_ok.py"].0, "pass", "{got:?}");
    assert!(got.keys().all(|k| k.starts_with("basics/")), "{got:?}");
    let out = mpcheck(
        &project,
        &["list", "--tests", tests.to_str().unwrap(), "--mode", "mpy"],
    );
    let list = String::from_utf8_lossy(&out.stdout);
    // Read by name, or from its keyed update (`.get(args.via_mpy, ())`, cited by line).
    assert!(
        list.lines()
            .any(|l| l.starts_with("unix::io/argv.mpy  (skip: run-tests.py")
                && l.contains("via_mpy_tests_to_skip")),
        "{list}"
    );
    assert!(
        !list.contains("unix::basics/cpy_pass\n"),
        "only mpy trials: {list}"
    );
    // Frozen is mpcheck's own: asked for a tests/ directory, it says so, not "no trial".
    let out = mpcheck(
        &project,
        &[
            "list",
            "--tests",
            tests.to_str().unwrap(),
            "--mode",
            "frozen",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--mode frozen: a tests/ directory runs as run-tests.py"),
        "{err}"
    );
    assert_eq!(listing(&tmp.path().join("mp")), before);
}

fn a_directory_without_run_tests_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = mpcheck(
        tmp.path(),
        &["list", "--tests", tmp.path().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a MicroPython tests/ directory"), "{err}");
}

/// The directories run-tests.py (both v1.24.0, by `--target unix`, and v1.28.0, by the
/// target's facts) runs on the unix port by default.
const UNIX_DEFAULT_DIRS: [&str; 11] = [
    "basics",
    "micropython",
    "misc",
    "extmod",
    "stress",
    "float",
    "unicode",
    "import",
    "cmdline",
    "io",
    "ports/unix",
];

/// A whole real tree, read-only, on the pinned unix port: the facts are printed before
/// the trials, every directory run-tests.py runs is planned with every test in it, and
/// the tests the checkout runs as special or with a regex `.exp` (in one release a
/// `special_tests` list, in the next `tests_with_regex_output`) pass as they do there.
/// The same assertions for every tree: what differs between releases is read from them.
fn a_real_tree_is_read_as_its_run_tests_reads_it(tests: &Path) {
    let project = tempfile::tempdir().unwrap();
    let t = tests.to_str().unwrap();
    let before = listing(tests);
    let out = mpcheck(
        project.path(),
        &["list", "--tests", t, "--board", "unix", "--mode", "source"],
    );
    let (list, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
    let facts = err
        .lines()
        .find(|l| l.starts_with("mpcheck: unix: platform="))
        .unwrap_or_else(|| panic!("no facts line: {err}"));
    assert!(
        facts.contains("platform=linux")
            && facts.contains("arch=x64")
            && facts.contains("float=64-bit"),
        "{facts}"
    );
    assert!(
        !err.contains("`test_dirs"),
        "a test_dirs statement was dropped: {err}"
    );
    // The tests' version against the VM's, each read independently here.
    let header = std::fs::read_to_string(tests.join("../py/mpconfig.h")).unwrap();
    let define = |name: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .map(str::trim)
            .unwrap_or("0")
            .to_string()
    };
    let tree = format!(
        "{}.{}.{}{}",
        define("MICROPY_VERSION_MAJOR"),
        define("MICROPY_VERSION_MINOR"),
        define("MICROPY_VERSION_MICRO"),
        if define("MICROPY_VERSION_PRERELEASE") == "1" {
            "-preview"
        } else {
            ""
        }
    );
    let toolchain = mpcheck(Path::new(env!("CARGO_MANIFEST_DIR")), &["toolchain"]);
    let vm = String::from_utf8_lossy(&toolchain.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("unix "))
        .and_then(|l| l.split("MicroPython ").nth(1))
        .and_then(|l| l.split(';').next())
        .unwrap_or_else(|| panic!("no unix line: {toolchain:?}"))
        .to_string();
    let note = err.lines().find(|l| l.contains("and the tests are"));
    if vm == tree {
        assert_eq!(note, None, "the same release: {err}");
    } else {
        assert_eq!(
            note,
            Some(format!("mpcheck: unix: the VM is MicroPython {vm} and the tests are {tree}'s (py/mpconfig.h): a test of what changed between them fails for that alone").as_str()),
            "{err}"
        );
    }
    for dir in UNIX_DEFAULT_DIRS {
        let files = std::fs::read_dir(tests.join(dir))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "py"))
            .count();
        let planned = list
            .lines()
            .filter(|l| {
                l.strip_prefix("unix::")
                    .and_then(|n| n.rsplit_once('/'))
                    .is_some_and(|(d, _)| d == dir)
            })
            .count();
        assert_eq!(
            planned, files,
            "{dir}/: {files} tests, {planned} planned\n{err}"
        );
    }
    // A test's file is that test: basics/int_big.py is none of the int_big* tests (it
    // kept 46), the nearest are named, and the facts are said once though the selection
    // is planned again to say why it is empty.
    let none = mpcheck(
        project.path(),
        &["list", "--tests", t, "--board", "unix", "basics/int_big.py"],
    );
    let err = String::from_utf8_lossy(&none.stderr);
    assert_eq!(none.status.code(), Some(2), "{err}");
    assert!(String::from_utf8_lossy(&none.stdout).is_empty(), "{err}");
    assert!(
        err.contains(
            "no trial matches the filter `basics/int_big.py`; did you mean `basics/int_big"
        ),
        "{err}"
    );
    assert_eq!(err.matches("mpcheck: unix: platform=").count(), 1, "{err}");
    passes_as_upstream(tests, &["micropython/meminfo", "basics/builtin_help"]);
    assert_eq!(
        listing(tests),
        before,
        "nothing is written into the checkout"
    );
}

/// v1.29's regex `.exp` files end lines with `\$` (trailing spaces kept), its REPL tests
/// type `{\x20}` (hex), its `.native.exp` files hold regexes, a `# sigint:` test gets its
/// Ctrl-C as a signal through its terminal: each test run-tests.py
/// passes on the pinned unix port passes here too.
fn regex_exp_files_pass_as_upstream(tests: &Path) {
    passes_as_upstream(
        tests,
        &[
            "cmdline/repl_basic",
            "cmdline/repl_words_move",
            "cmdline/cmd_showbc_const",
            "thread/thread_exc2",
            "cmdline/repl_ctrl_c_interrupt_execution",
        ],
    );
}

/// Each of `tests` (paths under the checkout's tests/, without `.py`), run together
/// from source on the pinned unix port, passes.
fn passes_as_upstream(tests_dir: &Path, tests: &[&str]) {
    let project = tempfile::tempdir().unwrap();
    let reports = project.path().join("reports");
    let mut args = vec![
        "run",
        "--tests",
        tests_dir.to_str().unwrap(),
        "--board",
        "unix",
        "--mode",
        "source",
        "--no-history",
        "--report-dir",
        reports.to_str().unwrap(),
    ];
    args.extend(tests);
    let out = mpcheck(project.path(), &args);
    let got = results(&reports);
    for test in tests {
        assert_eq!(
            got.get(&format!("{test}.py")).map(|v| v.0.as_str()),
            Some("pass"),
            "{test}: {got:?}\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// CPython's cached output is per checkout: a test that prints its own path (as
/// `io/argv.py` does) is judged against its own reference, not another tree's.
fn the_same_test_in_two_checkouts_has_two_references(src: &Path) {
    let project = tempfile::tempdir().unwrap();
    for tree in ["a", "b"] {
        let tmp = tempfile::tempdir().unwrap();
        let tests = make_checkout(src, &tmp.path().join(tree));
        write(
            &tests,
            "basics/own_path.py",
            "import sys\nprint(sys.argv)\n",
        );
        let reports = tmp.path().join("reports");
        let out = mpcheck(
            project.path(),
            &[
                "run",
                "--tests",
                tests.to_str().unwrap(),
                "--mode",
                "source",
                "--no-history",
                "--report-dir",
                reports.to_str().unwrap(),
                "basics/own_path",
            ],
        );
        let got = results(&reports);
        assert_eq!(
            got.get("basics/own_path.py").map(|v| v.0.as_str()),
            Some("pass"),
            "checkout {tree}: {got:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Multi-instance tests on two unix instances, under the checkout's own
/// run-multitests.py rules: globals, `NEXT`, broadcast/wait, skip, output metrics, the
/// `.exp` or the same test on CPython instances, and the per-instance output of a
/// failure in its `.out` and in the report's diff. Planned only when named.
fn multi_instance_tests_as_run_multitests_py(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_multi_checkout(src, tmp.path());
    let sync = "def instance0():\n    multitest.globals(VALUE=42)\n    multitest.next()\n    multitest.wait(\"ready\")\n    print(\"instance0 got ready\")\n    multitest.output_metric(\"speed=1\")\n    multitest.broadcast(\"done\")\n\ndef instance1():\n    print(\"VALUE\", VALUE)\n    multitest.next()\n    multitest.broadcast(\"ready\")\n    multitest.wait(\"done\")\n    print(\"instance1 got done\")\n";
    let exp =
        "--- instance0 ---\ninstance0 got ready\n--- instance1 ---\nVALUE 42\ninstance1 got done\n";
    write(&tests, "multi_own/sync.py", sync);
    write(&tests, "multi_own/sync.py.exp", exp);
    // No .exp: judged against the same test on two CPython instances.
    write(&tests, "multi_own/truth.py", sync);
    write(&tests, "multi_own/wrong.py", sync);
    write(
        &tests,
        "multi_own/wrong.py.exp",
        &exp.replace("VALUE 42", "VALUE 43"),
    );
    write(
        &tests,
        "multi_own/skips.py",
        "def instance0():\n    multitest.skip()\n\ndef instance1():\n    print(1)\n",
    );
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let reports = tmp.path().join("reports");
    let (t, r) = (tests.to_str().unwrap(), reports.to_str().unwrap());
    // Not named: not planned (run-tests.py never runs them).
    let out = mpcheck(&project, &["list", "--tests", t, "basics/"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("multi_"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = mpcheck(
        &project,
        &["run", "--tests", t, "--report-dir", r, "multi_own/"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let got = results(&reports);
    let verdicts: Vec<(&str, &str)> = got
        .iter()
        .map(|(k, v)| (k.as_str(), v.0.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("multi_own/skips.py", "skip"),
            ("multi_own/sync.py", "pass"),
            ("multi_own/truth.py", "pass"),
            ("multi_own/wrong.py", "fail"),
        ],
        "{stdout}\n{stderr}"
    );
    let actual = std::fs::read_to_string(reports.join("multi_own_wrong.py.out")).unwrap();
    assert_eq!(actual, exp);
    let summary = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    assert!(
        summary.contains("-VALUE 43") && summary.contains("+VALUE 42"),
        "{summary}"
    );
    let json = std::fs::read_to_string(reports.join("results.json")).unwrap();
    assert!(json.contains("\"expected_from\": \"CPython"), "{json}");
    // Upstream prints the metrics after the verdict; here they are the trial's note.
    assert!(
        json.contains("instance0 on unix, instance1 on unix, output metrics: speed=1"),
        "{json}"
    );
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(junit.contains("multi_own/sync"), "{junit}");
}

/// One instance on the mps2-an385 QEMU board (at its raw REPL, input through its UART),
/// one on the unix port: broadcasts each way, each instance where it should be. The
/// board is built from `MICROPY_SRC`: without it, ignored.
fn a_multi_instance_test_on_a_qemu_board_and_unix(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_multi_checkout(src, tmp.path());
    write(
        &tests,
        "multi_own/both.py",
        "import sys\n\ndef instance0():\n    print(\"instance0 on\", sys.platform)\n    multitest.next()\n    multitest.broadcast(\"from0\")\n    multitest.wait(\"from1\")\n    print(\"instance0 heard instance1\")\n\ndef instance1():\n    print(\"instance1 on\", sys.platform)\n    multitest.next()\n    multitest.wait(\"from0\")\n    print(\"instance1 heard instance0\")\n    multitest.broadcast(\"from1\")\n",
    );
    write(
        &tests,
        "multi_own/both.py.exp",
        "--- instance0 ---\ninstance0 on qemu\ninstance0 heard instance1\n--- instance1 ---\ninstance1 on linux\ninstance1 heard instance0\n",
    );
    let project = tmp.path().join("project");
    add_board(&project, "mps2-an385-qemu");
    add_board(&project, "unix");
    let reports = tmp.path().join("reports");
    let out = mpcheck(
        &project,
        &[
            "run",
            "--tests",
            tests.to_str().unwrap(),
            "--board",
            "mps2-an385-qemu",
            "--board",
            "unix",
            "--report-dir",
            reports.to_str().unwrap(),
            "multi_own/",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let got = results(&reports);
    assert_eq!(got["multi_own/both.py"].0, "pass", "{got:?} {stderr}");
    let json = std::fs::read_to_string(reports.join("results.json")).unwrap();
    assert!(
        json.contains("\"mps2-an385-qemu::multi_own/both\"")
            && json.contains("instance0 on mps2-an385-qemu, instance1 on unix"),
        "{json}"
    );
}

/// A checkout-shaped tree for perf_bench: the real run-tests.py, run-perfbench.py,
/// feature_check/, benchrun.py and two real benchmarks (one judged by CPython, one by
/// its `.exp`), and two made here: one whose `.exp` is wrong, one whose parameters fit
/// no N/M.
fn make_perf_checkout(src: &Path, tmp: &Path) -> PathBuf {
    let tests = tmp.join("mp/tests");
    std::fs::create_dir_all(tests.join("perf_bench")).unwrap();
    for f in ["run-tests.py", "run-perfbench.py"] {
        std::fs::copy(src.join(f), tests.join(f)).unwrap();
    }
    copy_dir(&src.join("feature_check"), &tests.join("feature_check"));
    for f in [
        "benchrun.py",
        "misc_mandel.py",
        "bm_pidigits.py",
        "core_import_mpy_single.py",
        "core_import_mpy_single.py.exp",
    ] {
        let (from, to) = (
            src.join("perf_bench").join(f),
            tests.join("perf_bench").join(f),
        );
        std::fs::copy(from, to).unwrap();
    }
    let bench = |params: &str| {
        format!(
            "def bm_setup(p):\n    return (lambda: None), (lambda: (p, 42))\nbm_params = {{{params}: 7}}\n"
        )
    };
    write(&tests, "perf_bench/wrong.py", &bench("(1, 1)"));
    write(&tests, "perf_bench/wrong.py.exp", "41\n");
    write(&tests, "perf_bench/huge.py", &bench("(100000, 100000)"));
    tests
}

/// perf_bench's N and M for the tests: small, so a benchmark takes milliseconds.
const SMALL_PERF: [&str; 4] = ["--perf-n", "100", "--perf-m", "100"];

/// `mpcheck run` of a checkout's perf_bench on unix with [`SMALL_PERF`], each benchmark
/// `repeat` times, then `tail` (reports, history, filter).
fn perf_run(project: &Path, tests: &str, repeat: &str, tail: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--tests", tests, "--board", "unix"];
    args.extend(SMALL_PERF);
    args.extend(["--repeat", repeat]);
    args.extend(tail);
    mpcheck(project, &args)
}

/// `run --tests DIR perf_bench/` on unix at N=M=100, 2 runs: times from benchrun's
/// ticks_us, truth from CPython or the `.exp`, a wrong result a failure, parameters that
/// fit nothing a skip with benchrun's reason; perf_bench.json per benchmark.
fn perf_bench_runs_and_is_judged_as_run_perfbench_py(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_perf_checkout(src, tmp.path());
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let reports = tmp.path().join("reports");
    let (t, r) = (tests.to_str().unwrap(), reports.to_str().unwrap());
    let out = perf_run(
        &project,
        t,
        "2",
        &["--no-history", "--report-dir", r, "perf_bench/"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("{stdout}\n{stderr}");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(stderr.contains("perf_bench: N=100 M=100"), "{all}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("perf_bench.json")).unwrap())
            .unwrap();
    let rows: BTreeMap<String, &serde_json::Value> = doc["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["benchmark"].as_str().unwrap().to_string(), b))
        .collect();
    let verdicts: BTreeMap<&str, &str> = rows
        .iter()
        .map(|(k, v)| (k.as_str(), v["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        BTreeMap::from([
            ("perf_bench/bm_pidigits", "pass"),
            ("perf_bench/core_import_mpy_single", "pass"),
            ("perf_bench/huge", "skip"),
            ("perf_bench/misc_mandel", "pass"),
            ("perf_bench/wrong", "fail"),
        ]),
        "{all}"
    );
    let mandel = rows["perf_bench/misc_mandel"];
    assert_eq!(mandel["us"].as_array().unwrap().len(), 2, "{mandel}");
    assert!(mandel["stats"]["min_us"].as_u64().unwrap() > 0, "{mandel}");
    assert!(mandel["stats"]["score"].as_f64().unwrap() > 0.0, "{mandel}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("results.json")).unwrap())
            .unwrap();
    let by_case = |case: &str| {
        results["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case"] == case)
            .unwrap()
            .clone()
    };
    let wrong = by_case("perf_bench/wrong");
    assert!(wrong.to_string().contains("FAIL truth"), "{wrong}");
    let huge = by_case("perf_bench/huge");
    assert!(
        huge["reason"]
            .as_str()
            .unwrap()
            .contains("no matching params"),
        "{huge}"
    );
    // A `None` result has no truth to check; another's is CPython's run of the script.
    let mandel = by_case("perf_bench/misc_mandel");
    assert!(mandel.get("expected_from").is_none(), "{mandel}");
    assert!(mandel["target_us"].as_u64().unwrap() > 0, "{mandel}");
    let pidigits = by_case("perf_bench/bm_pidigits");
    let from = pidigits["expected_from"].as_str().unwrap_or_default();
    assert!(from.contains("CPython"), "{pidigits}");
    let exp = by_case("perf_bench/core_import_mpy_single");
    let from = exp["expected_from"].as_str().unwrap_or_default();
    assert!(from.ends_with("core_import_mpy_single.py.exp"), "{exp}");
}

/// Two runs of a benchmark with a history: each run's time on the target (the median of
/// its repeats) is kept, `mpcheck history` shows it first → last, and the second run's
/// index.html draws it beside the benchmark.
fn a_benchmarks_target_time_trend_is_in_the_history_and_index_html(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_perf_checkout(src, tmp.path());
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let (reports, db) = (tmp.path().join("reports"), tmp.path().join("h.sqlite"));
    let (t, r, h) = (
        tests.to_str().unwrap(),
        reports.to_str().unwrap(),
        db.to_str().unwrap(),
    );
    let mut medians = Vec::new();
    for _ in 0..2 {
        let out = perf_run(
            &project,
            t,
            "3",
            &["--history", h, "--report-dir", r, "perf_bench/misc_mandel"],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let results: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(reports.join("results.json")).unwrap())
                .unwrap();
        let mut us: Vec<u64> = results["results"][0]["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["target_us"].as_u64().unwrap())
            .collect();
        us.sort_unstable();
        medians.push(us[1] as i64);
    }
    let [a, b] = medians[..] else { unreachable!() };
    let shown = if a == b {
        format!("{a} (steady)")
    } else {
        format!("{a} → {b} ({:+})", b - a)
    };
    let out = mpcheck(&project, &["history", "--history", h, "misc_mandel"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("target µs (first→last)"), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with("unix::perf_bench/misc_mandel"))
        .unwrap_or_default();
    assert!(row.ends_with(&format!(" {shown}")), "{table}");
    let html = std::fs::read_to_string(reports.join("index.html")).unwrap();
    assert!(html.contains("last runs (µs)"), "{html}");
    assert!(
        html.contains(&shown) && html.contains("<polyline"),
        "{html}"
    );
}

/// `compare --tests DIR perf_bench/` of unix against itself: the time is the target's
/// (benchrun's ticks_us), and the outputs, which print it, compare the same; without
/// `--repeat`, run-perfbench.py's `-a` default (8) runs a side.
fn compare_tests_perf_bench_compares_target_time_not_output(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_perf_checkout(src, tmp.path());
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("cases")).unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("boards"),
        &project.join("boards"),
    );
    let reports = tmp.path().join("reports");
    let (t, r) = (tests.to_str().unwrap(), reports.to_str().unwrap());
    let mut args = vec!["compare", "--base", "unix", "--head", "unix", "--tests", t];
    args.extend(SMALL_PERF);
    args.extend([
        "--fail-on",
        "output",
        "--report-dir",
        r,
        "perf_bench/misc_mandel",
    ]);
    let out = mpcheck(&project, &args);
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    let cmp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("compare.json")).unwrap())
            .unwrap();
    let deltas = cmp["deltas"].as_array().unwrap();
    assert_eq!(deltas.len(), 1, "{cmp}");
    let d = &deltas[0];
    assert_eq!(d["case"], "perf_bench/misc_mandel", "{d}");
    assert_eq!(d["output"], "same", "{d}");
    assert_eq!(d["time"]["on_target"], true, "{d}");
    assert_eq!(d["time"]["base"]["samples"], 8, "{d}");
    assert_eq!(cmp["repeats"], 8, "{cmp}");
}

/// On mps2-an385 (exact time) each run of a benchmark is a fresh boot: state a soft
/// reset leaves behind (here a byte of RAM outside the firmware; in the VM, e.g. its map
/// lookup cache, which made misc_pystone 9266 or 9358 µs by what ran before it) does not
/// reach the next run. `fresh` reads the byte and sets it: 3 runs on 2 instances, one
/// after another, so without a fresh boot one run reads 1 and fails the self-check and
/// the `.exp`. The board is built from `MICROPY_SRC`: without it, ignored.
fn perf_bench_on_a_qemu_board_with_exact_time_boots_afresh_each_run(src: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let tests = make_perf_checkout(src, tmp.path());
    write(
        &tests,
        "perf_bench/fresh.py",
        "import uctypes\n\ndef bm_setup(p):\n    b = uctypes.bytearray_at(0x200000, 1)\n    seen = b[0]\n    b[0] = 1\n    return (lambda: None), (lambda: (p, seen))\n\nbm_params = {(1, 1): 7}\n",
    );
    write(&tests, "perf_bench/fresh.py.exp", "0\n");
    let project = tmp.path().join("project");
    add_board(&project, "mps2-an385-qemu");
    let reports = tmp.path().join("reports");
    let out = mpcheck(
        &project,
        &[
            "run",
            "--tests",
            tests.to_str().unwrap(),
            "--board",
            "mps2-an385-qemu",
            "-j1",
            "--repeat",
            "3",
            "--no-history",
            "--report-dir",
            reports.to_str().unwrap(),
            "perf_bench/fresh",
        ],
    );
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("perf_bench.json")).unwrap())
            .unwrap();
    let fresh = &doc["benchmarks"][0];
    assert_eq!(fresh["benchmark"], "perf_bench/fresh", "{all}");
    assert_eq!(fresh["us"].as_array().unwrap().len(), 3, "{fresh}\n{all}");
    assert_eq!(fresh["verdict"], "pass", "{fresh}\n{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");
}

/// Native-module tests (run-natmodtests.py's), named by a filter: each test's module
/// built from the tree's examples/natmod/ for the board's arch with the tree's own
/// mpy_ld.py, imported from RAM, judged on the `.exp` or CPython's output of the test;
/// a module that does not build is a compile-error (btree, where the tree lacks its
/// berkeley-db submodule). The tree is read-only: modules are built in the cache.
fn natmod_tests_with_modules_built_here(tests: &Path, board: &str, arch: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    add_board(&project, board);
    let reports = tmp.path().join("reports");
    let t = tests.to_str().unwrap();
    let out = mpcheck(
        &project,
        &["list", "--tests", t, "--board", board, "extmod/heapq"],
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("natmod/"),
        "not named, not planned: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (r, b) = (reports.to_str().unwrap(), board);
    let args = ["run", "--tests", t, "--board", b, "--report-dir", r];
    let out = mpcheck(
        &project,
        &[&args[..], &["natmod/heapq1", "natmod/btree1"]].concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let got = results(&reports);
    assert_eq!(got["natmod/heapq1.py"].0, "pass", "{got:?} {stderr}");
    let btree_builds = tests.join("../lib/berkeley-db-1.xx/btree").is_dir();
    let json = std::fs::read_to_string(reports.join("results.json")).unwrap();
    assert!(
        json.contains(&format!("\"{board}::natmod/heapq1\""))
            && json.contains(&format!("examples/natmod/heapq/heapq_{arch}.mpy")),
        "{json}"
    );
    // An armv7m firmware loads armv6m modules too (its persistentcode.h's arch test):
    // the test runs with those as well, as upstream's CI runs AN385 with both.
    if arch == "armv7m" {
        assert_eq!(got["natmod/heapq1.armv6m.py"].0, "pass", "{got:?} {stderr}");
        assert!(
            json.contains(&format!("\"{board}::natmod/heapq1.armv6m\""))
                && json.contains("examples/natmod/heapq/heapq_armv6m.mpy"),
            "{json}"
        );
    } else {
        assert!(!json.contains("natmod/heapq1."), "{json}");
    }
    if !btree_builds {
        assert_eq!(got["natmod/btree1.py"].0, "fail", "{got:?}");
        assert!(
            json.contains("compile-error") && json.contains("bt_close.c"),
            "the linker's message: {json}"
        );
    }
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    assert!(junit.contains("natmod/heapq1"), "{junit}");
    // Nothing was written into the tree.
    assert!(!tests.join("../examples/natmod/heapq/build").exists());
}
