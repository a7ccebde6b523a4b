//! Boards built from a MicroPython source tree, end to end through the `mpcheck` command
//! on small projects in temp dirs: the build, its cache, its errors, and the commands
//! that must not build. The tree is `MICROPY_SRC`, else the shared v1.28.0 subset beside
//! the repository (CI's layout); without one every test here is reported *ignored* with
//! the variable to set, never passed (hence libtest-mimic rather than `#[test]`). The
//! build cache is the repository's `.mpcheck`, shared with the trials: the firmware is
//! built once per machine (or CI run), whichever test gets there first.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Completion, Trial};

/// One test: given the tree, panics on failure.
type BuildTest = fn(&Path);

fn main() {
    let args = Arguments::from_args();
    let src = micropython_src();
    let tests: [(&str, BuildTest); 11] = [
        (
            "unix_frozen_trials_pass_and_the_heap_is_calibrated_frozen_below_mpy_below_source",
            unix_frozen_trials_pass_with_calibrated_heap,
        ),
        (
            "a_unix_board_built_from_the_tree_runs_its_cases_with_the_trees_mpy_cross_and_the_next_run_is_a_cache_hit",
            unix_builds_runs_then_hits_the_cache,
        ),
        (
            "a_unix_variant_without_fstrings_has_it_probed_and_skips_the_cases_that_require_them",
            unix_features_come_from_the_probes,
        ),
        (
            "frozen_trials_pass_and_a_case_the_freezer_rejects_is_a_compile_error",
            frozen_trials_pass_and_a_rejected_case_is_a_compile_error,
        ),
        (
            "changing_one_case_rebuilds_the_frozen_firmware_by_content",
            changing_one_case_rebuilds_the_frozen_firmware,
        ),
        (
            "a_board_built_from_source_boots_a_case_passes_and_the_next_run_is_a_cache_hit",
            builds_boots_passes_then_hits_the_cache,
        ),
        (
            "a_broken_build_reports_the_compiler_error_names_the_board_file_and_caches_nothing",
            broken_build_reports_the_compiler_error,
        ),
        (
            "a_board_the_port_does_not_have_reports_makes_own_error",
            unknown_board_reports_makes_error,
        ),
        (
            "list_and_boards_check_never_build",
            list_and_boards_check_never_build,
        ),
        (
            "a_prebuilt_firmware_wins_over_the_build",
            prebuilt_firmware_wins,
        ),
        (
            "a_full_build_writes_nothing_into_the_source_tree",
            a_full_build_writes_nothing_into_the_tree,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            let src = src.clone();
            Trial::ignorable_test(name, move || match &src {
                Ok(src) => match needs(name, src) {
                    Ok(()) => {
                        test(src);
                        Ok(Completion::Completed)
                    }
                    Err(why) => Ok(Completion::ignored_with(why)),
                },
                Err(why) => Ok(Completion::ignored_with(why)),
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// The tree to build from, or why there is none (the ignore reason).
fn micropython_src() -> Result<PathBuf, String> {
    let src = std::env::var_os("MICROPY_SRC")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/micropython-1.28.0")
        });
    if src.join("py/mpconfig.h").is_file() {
        Ok(src)
    } else {
        Err(format!(
            "set MICROPY_SRC to a MicroPython checkout ({} is not one)",
            src.display()
        ))
    }
}

mod support;
use support::{Fixture, state_dir, stderr};

impl Fixture {
    /// CPython only (not a default board): each test adds the board it builds.
    fn new() -> Fixture {
        let f = Fixture::empty();
        f.write("boards/cpython.yaml", "kind: cpython\ndefault: false\n");
        f
    }
}

fn mps2_board(build: &str) -> String {
    format!(
        "kind: qemu\nmodes: [source]\ninstances: 1\npackages: [qemu-system-arm]\n\
         qemu:\n  machine: mps2-an385\n  args: [-semihosting]\n{build}\n"
    )
}

fn mps2_build(src: &Path, args: &str) -> String {
    format!(
        "build: {{source: \"{}\", port: qemu, board: MPS2_AN385, args: [{args}]}}",
        src.display()
    )
}

/// The seconds in the build's "(checked in N s)" progress line.
fn cache_check_secs(err: &str) -> f64 {
    let line = err
        .lines()
        .find(|l| l.contains("(checked in "))
        .unwrap_or_else(|| panic!("no cache check line:\n{err}"));
    line.rsplit("(checked in ")
        .next()
        .and_then(|r| r.trim_end_matches(" s)").parse().ok())
        .unwrap_or_else(|| panic!("unreadable: {line}"))
}

fn builds_boots_passes_then_hits_the_cache(src: &Path) {
    let f = Fixture::new();
    f.write("boards/mps2.yaml", &mps2_board(&mps2_build(src, "")));
    f.write("cases/g/add.py", "print(1 + 2)\n");
    f.write(
        "cases/g/version.py",
        "# ---\n# exclude: {cpython: MicroPython's version}\n# ---\nimport sys\nprint(sys.implementation.version[:2])\n",
    );
    f.write("golden/g/version.out", "(1, 28)\n");
    // Builds unless another test (or an earlier run) already did.
    let first = f.mpcheck(&["run", "--board", "mps2"]);
    let err = stderr(&first);
    assert_eq!(first.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("board `mps2`: build from {}:", src.display())),
        "{err}"
    );
    assert_eq!(f.result("mps2::g/add")["verdict"], "pass");
    assert_eq!(
        f.result("mps2::g/version")["verdict"],
        "pass",
        "a v1.28 firmware"
    );
    // The image booted is the built one, and the board's compiler is the tree's own.
    let tools = f.results()["toolchain"].clone();
    let path_of = |tool: &str| {
        tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tool"].as_str().unwrap().starts_with(tool))
            .unwrap_or_else(|| panic!("no {tool} in {tools}"))["path"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let build_dir = state_dir().join("build");
    let firmware = path_of("mps2 ");
    assert!(
        firmware.starts_with(&build_dir.join("qemu-MPS2_AN385-").display().to_string())
            && firmware.ends_with("/firmware.elf"),
        "{tools}"
    );
    assert!(
        path_of("mpy-cross").starts_with(&build_dir.join("mpy-cross-").display().to_string()),
        "{tools}"
    );

    let second = f.mpcheck(&["run", "--board", "mps2"]);
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(0), "{err}");
    assert!(err.contains("cached: mpy-cross, firmware"), "{err}");
    assert!(
        !err.contains("building "),
        "a cache hit builds nothing: {err}"
    );
    let secs = cache_check_secs(&err);
    assert!(secs < 1.0, "the cache check took {secs} s");
}

/// A unix board built from `src`, with the args that need no submodules (as the
/// shipped boards/unix-src.yaml) and `extra` ones.
fn unix_board(src: &Path, extra: &str) -> String {
    format!(
        "kind: unix\nmodes: [source, mpy]\nbuild: {{source: \"{}\", port: unix, variant: standard, \
         args: [MICROPY_PY_BTREE=0, MICROPY_PY_SSL=0, MICROPY_SSL_MBEDTLS=0, MICROPY_PY_FFI=0{extra}]}}\n",
        src.display()
    )
}

/// The path of `tool` in a run's toolchain report.
fn tool_path(f: &Fixture, tool: &str) -> String {
    let tools = f.results()["toolchain"].clone();
    tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"].as_str().unwrap().starts_with(tool))
        .unwrap_or_else(|| panic!("no {tool} in {tools}"))["path"]
        .as_str()
        .unwrap()
        .to_string()
}

fn unix_builds_runs_then_hits_the_cache(src: &Path) {
    let f = Fixture::new();
    f.write("boards/ux.yaml", &unix_board(src, ""));
    f.write("cases/g/add.py", "print(1 + 2)\n");
    f.write(
        "cases/g/fstr.py",
        "# ---\n# requires: [fstring]\n# ---\nx = 3\nprint(f'{x}!')\n",
    );
    // The build's own manifest freezes the tree's asyncio (the standard variant's).
    f.write(
        "cases/g/aio.py",
        "# ---\n# exclude: {cpython: asyncio is frozen into MicroPython's unix port}\n# ---\nimport asyncio\nprint(asyncio.__name__)\n",
    );
    f.write("golden/g/aio.out", "asyncio\n");
    let first = f.mpcheck(&["run", "--board", "ux"]);
    let err = stderr(&first);
    assert_eq!(first.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("board `ux`: build from {}:", src.display())),
        "{err}"
    );
    for name in ["ux::g/add", "ux::g/add.mpy", "ux::g/fstr", "ux::g/aio.mpy"] {
        assert_eq!(f.result(name)["verdict"], "pass", "{name}");
    }
    // The VM that ran is the built one, the compiler the tree's own.
    let build_dir = state_dir().join("build");
    let vm = tool_path(&f, "unix");
    assert!(
        vm.starts_with(&build_dir.join("unix-standard-").display().to_string())
            && vm.ends_with("/micropython"),
        "{vm}"
    );
    assert!(
        tool_path(&f, "mpy-cross").starts_with(&build_dir.join("mpy-cross-").display().to_string())
    );

    let second = f.mpcheck(&["run", "--board", "ux"]);
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(0), "{err}");
    assert!(err.contains("cached: mpy-cross, firmware"), "{err}");
    assert!(
        !err.contains("building "),
        "a cache hit builds nothing: {err}"
    );
    let secs = cache_check_secs(&err);
    assert!(secs < 1.0, "the cache check took {secs} s");
}

/// Frozen mode on the unix port built from the tree: a case imported from the image
/// passes, the empty case measures 0 in every mode, and a module's live bytes are
/// smallest frozen, then `.mpy`, then source.
fn unix_frozen_trials_pass_with_calibrated_heap(src: &Path) {
    let f = Fixture::new();
    f.write(
        "boards/ux.yaml",
        &unix_board(src, "").replace("[source, mpy]", "[source, mpy, frozen]"),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    f.write(
        "cases/heap/empty.py",
        "# ---\n# exclude: {cpython: heap}\n# heap: {}\n# ---\n",
    );
    f.write(
        "cases/heap/mod.py",
        "# ---\n# exclude: {cpython: heap}\n# heap: {}\n# ---\nclass P:\n    def f(self):\n        return [1, 2]\nT = (1, 2, 3)\ndef g(x):\n    return x * 2\n",
    );
    let run = f.mpcheck(&["bless", "--board", "ux", "--no-history"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert_eq!(f.result("ux::g/add.frozen")["verdict"], "pass");
    let live = |name: &str| f.result(name)["heap"]["live_bytes"].as_i64().unwrap();
    for mode in ["", ".mpy", ".frozen"] {
        assert_eq!(live(&format!("ux::heap/empty{mode}")), 0, "empty{mode}");
    }
    let (source, mpy, frozen) = (
        live("ux::heap/mod"),
        live("ux::heap/mod.mpy"),
        live("ux::heap/mod.frozen"),
    );
    assert!(frozen < mpy && mpy < source, "{frozen} < {mpy} < {source}");
    // The frozen VM has its size beside the plain one's, larger by the frozen cases.
    let results: serde_json::Value =
        serde_json::from_str(&f.read("reports/results.json")).unwrap_or_default();
    let text = |board: &str| {
        results["flashes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["board"] == board)
            .and_then(|x| x["size"]["text"].as_u64())
            .unwrap_or_else(|| panic!("no size for {board}: {results}"))
    };
    assert!(text("ux (frozen)") > text("ux"), "{results}");
    assert!(
        f.read("reports/summary.md")
            .contains("board `ux (frozen)`: built with")
    );
}

/// The variant's features are probed from the built VM, not assumed: one built without
/// f-strings skips the case that requires them, and runs the rest.
fn unix_features_come_from_the_probes(src: &Path) {
    let f = Fixture::new();
    f.write(
        "boards/ux.yaml",
        &unix_board(src, ", CFLAGS_EXTRA=-DMICROPY_PY_FSTRINGS=0"),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    f.write(
        "cases/g/fstr.py",
        "# ---\n# requires: [fstring]\n# ---\nx = 3\nprint(f'{x}!')\n",
    );
    let run = f.mpcheck(&["run", "--board", "ux"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert_eq!(f.result("ux::g/add")["verdict"], "pass");
    let r = f.result("ux::g/fstr");
    assert_eq!(r["verdict"], "skip", "{r}");
    assert!(r["reason"].as_str().unwrap().contains("fstring"), "{r}");
}

/// The frozen image a run's progress line names, and whether that run built it.
fn frozen_image(err: &str) -> (String, bool) {
    let line = err
        .lines()
        .find(|l| l.contains("built frozen firmware in ") || l.contains("frozen firmware cached: "))
        .unwrap_or_else(|| panic!("no frozen firmware line:\n{err}"));
    let path = line.rsplit(": ").next().unwrap().to_string();
    (path, line.contains("built frozen firmware in "))
}

fn frozen_trials_pass_and_a_rejected_case_is_a_compile_error(src: &Path) {
    let f = Fixture::new();
    f.write(
        "boards/mps2.yaml",
        &mps2_board(&mps2_build(src, "")).replace("modes: [source]", "modes: [frozen]"),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    // A helper imported under its own name; a case of another group with the same name.
    f.write(
        "cases/g/_helper.py",
        "def value():\n    return 'from helper'\n",
    );
    f.write(
        "cases/g/uses_helper.py",
        "import _helper\nprint(_helper.value())\n",
    );
    f.write("cases/h/add.py", "print('h', 2 + 2)\n");
    // The frames keep the names `.mpy` mode shows (the golden is the board's own).
    f.write(
        "cases/g/raises.py",
        "def f():\n    raise ValueError('x')\nprint('before')\nf()\n",
    );
    f.write(
        "golden/g/raises.mps2.out",
        "before\nTraceback (most recent call last):\n  File \"raises.py\", line 4, in <module>\n  File \"raises.py\", line 2, in f\nValueError: x\n",
    );
    f.write("cases/g/broken.py", "def f(:\n    pass\n");
    let run = f.mpcheck(&["run", "--board", "mps2"]);
    let err = stderr(&run);
    assert_eq!(
        run.status.code(),
        Some(1),
        "the compile error fails the run: {err}"
    );
    frozen_image(&err);
    for name in ["g/add", "g/uses_helper", "h/add", "g/raises"] {
        let r = f.result(&format!("mps2::{name}.frozen"));
        assert_eq!(r["verdict"], "pass", "{name}: {r}");
    }
    let broken = f.result("mps2::g/broken.frozen");
    assert_eq!(broken["verdict"], "compile-error", "{broken}");
    assert!(
        broken.to_string().contains("SyntaxError"),
        "mpy-cross's own message: {broken}"
    );
}

fn changing_one_case_rebuilds_the_frozen_firmware(src: &Path) {
    let f = Fixture::new();
    f.write(
        "boards/mps2.yaml",
        &mps2_board(&mps2_build(src, "")).replace("modes: [source]", "modes: [frozen]"),
    );
    // A value no earlier run froze, so the first run builds.
    let token = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    f.write("cases/g/a.py", &format!("print('a', {token})\n"));
    f.write("cases/g/b.py", "print('b')\n");
    let first = f.mpcheck(&["run", "--board", "mps2"]);
    let err = stderr(&first);
    assert_eq!(first.status.code(), Some(0), "{err}");
    let (image, built) = frozen_image(&err);
    assert!(built, "new content is built: {err}");
    // The same cases again: the image is found by content, nothing is built.
    let again = f.mpcheck(&["run", "--board", "mps2"]);
    let err = stderr(&again);
    assert_eq!(again.status.code(), Some(0), "{err}");
    assert_eq!(frozen_image(&err), (image.clone(), false), "{err}");
    // One case changed: another image, built, and it is the one booted.
    f.write("cases/g/a.py", &format!("print('a changed', {token})\n"));
    let changed = f.mpcheck(&["run", "--board", "mps2"]);
    let err = stderr(&changed);
    assert_eq!(changed.status.code(), Some(0), "{err}");
    let (rebuilt, built) = frozen_image(&err);
    assert!(built && rebuilt != image, "{err}");
    assert_eq!(f.result("mps2::g/a.frozen")["verdict"], "pass");
    assert_eq!(f.result("mps2::g/b.frozen")["verdict"], "pass");
}

fn broken_build_reports_the_compiler_error(src: &Path) {
    let f = Fixture::new();
    // Valid make syntax, invalid C: `#if MICROPY_OPT_COMPUTED_GOTO` in py/vm.c breaks.
    f.write(
        "boards/mps2.yaml",
        &mps2_board(&mps2_build(
            src,
            "CFLAGS_EXTRA=-DMICROPY_OPT_COMPUTED_GOTO=nonsense+",
        )),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    let board_file = f.root().join("boards/mps2.yaml");
    for attempt in 0..2 {
        let run = f.mpcheck(&["run", "--board", "mps2"]);
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "mpcheck: error: {}: building firmware failed",
                board_file.display()
            )),
            "{err}"
        );
        assert!(
            err.contains("py/vm.c:") && err.contains("error: operator '+' has no right operand"),
            "the compiler's own line: {err}"
        );
        assert!(err.contains("(full log: "), "{err}");
        // The failure left no cache entry: the second attempt builds (and fails) again.
        assert!(!err.contains("cached: mpy-cross, firmware"), "{err}");
        let dir = err
            .lines()
            .find_map(|l| l.split_once("building firmware (make -j").map(|(_, r)| r))
            .and_then(|r| r.split_once(") in "))
            .map(|(_, dir)| PathBuf::from(dir))
            .unwrap_or_else(|| panic!("attempt {attempt}: no build line: {err}"));
        assert!(
            !dir.exists(),
            "a failed build is not in the cache: {}",
            dir.display()
        );
        let tmp = PathBuf::from(format!("{}.tmp", dir.display()));
        assert!(
            tmp.join("build.log").is_file(),
            "the log is kept: {}",
            tmp.display()
        );
        // What a failed build leaves is never built upon: the next attempt starts clean.
        let stale = tmp.join("stale-object.o");
        if attempt == 0 {
            std::fs::write(&stale, "left by a build that failed half-way").unwrap();
        } else {
            assert!(!stale.exists(), "the second attempt started clean");
        }
    }
}

fn unknown_board_reports_makes_error(src: &Path) {
    let f = Fixture::new();
    let build = mps2_build(src, "").replace("MPS2_AN385", "NO_SUCH_BOARD");
    f.write("boards/nope.yaml", &mps2_board(&build));
    f.write("cases/g/add.py", "print(1 + 2)\n");
    let run = f.mpcheck(&["run", "--board", "nope"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&f.root().join("boards/nope.yaml").display().to_string())
            && err.contains("*** Invalid BOARD specified: boards/NO_SUCH_BOARD"),
        "{err}"
    );
}

fn list_and_boards_check_never_build(src: &Path) {
    let f = Fixture::new();
    // A key nothing else builds, in a state dir of its own: any build would show.
    f.write(
        "boards/mps2.yaml",
        &mps2_board(&mps2_build(src, "CFLAGS_EXTRA=-DMPCHECK_LIST_TEST=1")),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    let home = tempfile::tempdir().unwrap();
    let mpcheck = |args: &[&str]| {
        let start = std::time::Instant::now();
        let out = f
            .command(args)
            .env("MPCHECK_HOME", home.path())
            .output()
            .unwrap();
        (out, start.elapsed())
    };
    let (list, took) = mpcheck(&["list", "--board", "mps2"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    assert_eq!(String::from_utf8_lossy(&list.stdout), "mps2::g/add\n");
    assert!(took.as_secs_f64() < 2.0, "list took {took:?}");
    let (check, _) = mpcheck(&["boards", "check", "mps2"]);
    let table = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(0), "{table}{}", stderr(&check));
    assert!(
        table.contains(&format!(
            "ok, built from source at {} (not built yet)",
            src.display()
        )),
        "{table}"
    );
    let left: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "list and boards check wrote {left:?}");
}

/// The shared v1.27.0 image beside the tree (CI's and this machine's layout).
fn prebuilt_image(src: &Path) -> PathBuf {
    src.join("../firmware/qemu-mps2-an385-v1.27.0.elf")
}

/// What a test needs beyond the tree, or why it is ignored: a tree given as
/// `MICROPY_SRC` on a user's machine has no shared prebuilt image beside it.
fn needs(test: &str, src: &Path) -> Result<(), String> {
    let image = prebuilt_image(src);
    if test == "a_prebuilt_firmware_wins_over_the_build" && !image.is_file() {
        return Err(format!(
            "needs the prebuilt image {} (../shared/firmware beside the tree)",
            image.display()
        ));
    }
    Ok(())
}

fn prebuilt_firmware_wins(src: &Path) {
    let prebuilt = prebuilt_image(src);
    let f = Fixture::new();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("boards/mps2-an385-qemu.yaml");
    f.write(
        "boards/mps2-an385-qemu.yaml",
        &std::fs::read_to_string(shipped)
            .unwrap()
            .replace("instances: 2", "instances: 1"),
    );
    f.write(
        "cases/g/version.py",
        "# ---\n# exclude: {cpython: MicroPython's version}\n# modes: [source]\n# ---\nimport sys\nprint(sys.implementation.version[:2])\n",
    );
    f.write("golden/g/version.out", "(1, 27)\n");
    // A MICROPY_SRC that is no checkout: a build attempt would fail the run.
    let out = f
        .command(&["run", "--board", "mps2-an385-qemu"])
        .env("MICROPY_SRC", f.root())
        .env("MPCHECK_MPS2_AN385_FIRMWARE", &prebuilt)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("build from"), "{err}");
    assert_eq!(f.result("mps2-an385-qemu::g/version")["verdict"], "pass");
}

fn a_full_build_writes_nothing_into_the_tree(src: &Path) {
    // A key no other run has (so make really runs: qstr and frozen-module scripts, the
    // compiler, the link), sharing the cached mpy-cross; removed afterwards.
    let start = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    let nonce = start
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let f = Fixture::new();
    f.write(
        "boards/mps2.yaml",
        &mps2_board(&mps2_build(
            src,
            &format!("CFLAGS_EXTRA=-DMPCHECK_WRITE_TEST={nonce}"),
        )),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    let run = f.mpcheck(&["run", "--board", "mps2"]);
    let err = stderr(&run);
    let built = err
        .lines()
        .find_map(|l| l.split_once("building firmware (make -j").map(|(_, r)| r))
        .and_then(|r| r.split_once(") in "))
        .map(|(_, dir)| PathBuf::from(dir));
    if let Some(dir) = &built {
        let _ = std::fs::remove_dir_all(dir);
        let _ = std::fs::remove_file(format!("{}.lock", dir.display()));
    }
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(built.is_some(), "the firmware was built: {err}");
    assert_eq!(f.result("mps2::g/add")["verdict"], "pass");
    // Nothing in the tree changed: no new or modified entry, no bytecode cache, no build dir.
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                meta.modified().unwrap() < start,
                "the build wrote {}",
                entry.path().display()
            );
            assert!(
                !meta.is_dir()
                    || (name != "__pycache__" && name != "build" && !name.starts_with("build-")),
                "{} in the tree",
                entry.path().display()
            );
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
}
