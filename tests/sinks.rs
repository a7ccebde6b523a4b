//! One night's sinks. A history that is corrupt, locked, cannot be opened or whose
//! server is down costs neither the reports nor the exit code, and the run is kept for
//! `--import`. `mpcheck merge` puts partitioned runs back together, saying what is
//! missing, duplicated or in conflict.

use std::path::{Path, PathBuf};
use std::process::Output;

mod support;
use support::{Fixture, stderr};

/// One case that passes and one that fails: a run's own exit code is 1.
fn two_cases() -> Fixture {
    let f = Fixture::empty();
    f.write("boards/unix.yaml", "kind: unix\ntimeout: 10\n");
    f.write(
        "cases/g/ok.py",
        "# ---\n# modes: [source]\n# ---\nprint(1)\n",
    );
    f.write("golden/g/ok.out", "1\n");
    f.write(
        "cases/g/bad.py",
        "# ---\n# modes: [source]\n# ---\nprint(2)\n",
    );
    f.write("golden/g/bad.out", "3\n");
    f
}

const REPORTS: [&str; 4] = ["junit.xml", "results.json", "summary.md", "index.html"];

/// The reports of the run, all written, with both results.
fn assert_reports_written(f: &Fixture, run: &Output) {
    for name in REPORTS {
        assert!(
            f.root().join("reports").join(name).is_file(),
            "{name} not written: {}",
            stderr(run)
        );
    }
    assert_eq!(f.results()["results"].as_array().unwrap().len(), 2);
}

/// The side file the run's results were kept in (named on stderr), one only.
fn kept(f: &Fixture) -> PathBuf {
    let kept: Vec<PathBuf> = std::fs::read_dir(f.root().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("unrecorded-run-")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    kept[0].clone()
}

fn run_into(f: &Fixture, history: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", "--history", history.to_str().unwrap()];
    args.extend_from_slice(extra);
    f.mpcheck(&args)
}

/// `mpcheck history` of a history: the runs and trial rows it counts.
fn history_counts(f: &Fixture, history: &str) -> String {
    let shown = f.mpcheck(&["history", "--history", history]);
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    text.lines().next().unwrap_or_default().to_string()
}

/// Importing the kept run into a working history records it whole.
fn assert_import_records_the_run(f: &Fixture, side: &Path, history: &str) {
    let import = f.mpcheck(&[
        "history",
        "--history",
        history,
        "--import",
        side.to_str().unwrap(),
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let counts = history_counts(f, history);
    assert!(counts.ends_with(": 1 run, 2 trial results"), "{counts}");
}

#[test]
fn a_corrupt_history_costs_neither_the_reports_nor_the_exit_code() {
    let f = two_cases();
    let db = f.root().join("history.sqlite");
    // 100 bytes that are not a database (a crashed disk, a half-copied file).
    let noise: Vec<u8> = (0..100u32).map(|i| (i * 97 + 13) as u8).collect();
    std::fs::write(&db, &noise).unwrap();
    let run = run_into(&f, &db, &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "the verdicts' code: {err}");
    assert_reports_written(&f, &run);
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("not a database"), "{err}");
    assert!(err.contains("move it aside"), "{err}");
    let side = kept(&f);
    assert!(err.contains(&side.display().to_string()), "{err}");
    // The corrupt file is left as it was (evidence), never overwritten.
    assert_eq!(std::fs::read(&db).unwrap(), noise);
    // Asked for: the history is required, so the run exits 2, its reports written.
    let required = run_into(&f, &db, &["--history-required"]);
    assert_eq!(required.status.code(), Some(2), "{}", stderr(&required));
    assert_reports_written(&f, &required);
    let fresh = f.root().join("fresh.sqlite");
    assert_import_records_the_run(&f, &side, fresh.to_str().unwrap());
}

#[test]
fn a_history_locked_past_its_timeout_costs_nothing_and_keeps_the_run() {
    let f = two_cases();
    let db = f.root().join("history.sqlite");
    assert_eq!(run_into(&f, &db, &[]).status.code(), Some(1));
    // Another writer holds the file's write lock for the whole run.
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let run = run_into(&f, &db, &["--history-timeout", "1"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "the verdicts' code: {err}");
    assert_reports_written(&f, &run);
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("locked"), "{err}");
    assert!(err.contains("--history-timeout"), "{err}");
    let side = kept(&f);
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let import = f.mpcheck(&[
        "history",
        "--history",
        db.to_str().unwrap(),
        "--import",
        side.to_str().unwrap(),
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let counts = history_counts(&f, db.to_str().unwrap());
    assert!(counts.ends_with(": 2 runs, 4 trial results"), "{counts}");
}

#[test]
fn a_history_that_cannot_be_opened_costs_nothing_and_keeps_the_run() {
    let f = two_cases();
    // A directory where the file should be.
    let db = f.root().join("history.sqlite");
    std::fs::create_dir(&db).unwrap();
    let run = run_into(&f, &db, &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "the verdicts' code: {err}");
    assert_reports_written(&f, &run);
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("cannot be opened"), "{err}");
    let side = kept(&f);
    let fresh = f.root().join("fresh.sqlite");
    assert_import_records_the_run(&f, &side, fresh.to_str().unwrap());
}

#[test]
fn an_import_that_is_not_a_kept_run_names_the_file_and_line() {
    let f = two_cases();
    f.write("bad.json", "{\n  \"started\": 3,\n");
    let db = f.root().join("h.sqlite");
    let import = f.mpcheck(&[
        "history",
        "--history",
        db.to_str().unwrap(),
        "--import",
        f.root().join("bad.json").to_str().unwrap(),
    ]);
    assert_eq!(import.status.code(), Some(2));
    let err = stderr(&import);
    assert!(err.contains("bad.json:"), "{err}");
}

#[test]
fn a_history_server_that_is_down_costs_nothing_and_keeps_the_run() {
    let f = two_cases();
    // Nothing listens on port 1 of the loopback address.
    let url = "postgres://mpcheck:secret@127.0.0.1:1/history";
    let run = f.mpcheck(&["run", "--history", url, "--history-timeout", "2"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "the verdicts' code: {err}");
    assert_reports_written(&f, &run);
    assert!(
        err.contains("postgres://mpcheck:***@127.0.0.1:1/history"),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "the password is never shown: {err}"
    );
    assert!(err.contains("cannot be reached"), "{err}");
    // Never a file named after the URL.
    assert!(!f.root().join("postgres:").exists());
    let side = kept(&f);
    let fresh = f.root().join("fresh.sqlite");
    assert_import_records_the_run(&f, &side, fresh.to_str().unwrap());
}

/// Five cases, one failing: enough for three partitions of unequal shares.
fn five_cases() -> Fixture {
    let f = two_cases();
    for (name, out) in [("c", "4"), ("d", "5"), ("e", "6")] {
        f.write(
            &format!("cases/g/{name}.py"),
            &format!("# ---\n# modes: [source]\n# ---\nprint({out})\n"),
        );
        f.write(&format!("golden/g/{name}.out"), &format!("{out}\n"));
    }
    f
}

fn run_share(f: &Fixture, share: Option<&str>, dir: &str) -> Output {
    let mut args = vec!["run", "--no-history", "--report-dir", dir];
    if let Some(p) = share {
        args.extend(["--partition", p]);
    }
    f.mpcheck(&args)
}

fn verdicts(results: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    v.sort();
    v
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn three_partitions_merge_into_the_whole_run_and_a_missing_one_is_said() {
    let f = five_cases();
    let dir = |d: &str| f.root().join(d).to_str().unwrap().to_string();
    assert_eq!(run_share(&f, None, &dir("whole")).status.code(), Some(1));
    for k in 1..=3 {
        let run = run_share(&f, Some(&format!("count:{k}/3")), &dir(&format!("p{k}")));
        assert!(
            run.status.code().is_some_and(|c| c <= 1),
            "{}",
            stderr(&run)
        );
    }
    let merge = f.mpcheck(&[
        "merge",
        &dir("p1"),
        &dir("p2"),
        &dir("p3"),
        "--report-dir",
        &dir("merged"),
    ]);
    let err = stderr(&merge);
    assert_eq!(merge.status.code(), Some(1), "one case fails: {err}");
    assert!(
        !err.contains("merge: "),
        "nothing to say of a whole night: {err}"
    );
    let whole = read_json(&f.root().join("whole/results.json"));
    let merged = read_json(&f.root().join("merged/results.json"));
    assert_eq!(verdicts(&merged), verdicts(&whole));
    assert_eq!(verdicts(&merged).len(), 5);
    for key in ["pass", "fail", "skip", "error", "flaky"] {
        assert_eq!(merged["summary"][key], whole["summary"][key], "{key}");
    }
    for r in merged["results"].as_array().unwrap() {
        assert!(
            r["origin"]["host"].as_str().is_some_and(|h| !h.is_empty()),
            "{r}"
        );
        assert!(
            r["origin"]["partition"].as_str().unwrap().ends_with("/3"),
            "{r}"
        );
    }
    for name in REPORTS {
        assert!(f.root().join("merged").join(name).is_file(), "{name}");
    }
    assert!(f.read("merged/summary.md").contains("Merged from 3 runs"));

    // Partition 2 missing, partition 3 given twice.
    let bad = f.mpcheck(&[
        "merge",
        &dir("p1"),
        &dir("p3"),
        &dir("p3"),
        "--report-dir",
        &dir("bad"),
    ]);
    let err = stderr(&bad);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(err.contains("partition 2/3 is missing"), "{err}");
    assert!(
        err.contains("partition 3/3 was given more than once"),
        "{err}"
    );
    // count:2/3 of five trials is the 2nd and the 5th: named as without a result.
    let p2 = read_json(&f.root().join("p2/results.json"));
    let lost: Vec<String> = verdicts(&p2).into_iter().map(|(n, _)| n).collect();
    assert_eq!(lost.len(), 2);
    assert!(
        err.contains("2 trials of the suite have no result"),
        "{err}"
    );
    for name in &lost {
        assert!(err.contains(name.as_str()), "{name}: {err}");
    }
    assert!(err.contains("duplicate: "), "{err}");
    let md = f.read("bad/summary.md");
    assert!(md.contains("partition 2/3 is missing"), "{md}");
    assert!(
        f.read("bad/index.html")
            .contains("partition 2/3 is missing")
    );
    let notes = &read_json(&f.root().join("bad/results.json"))["merge"];
    assert_eq!(notes["missing_partitions"], serde_json::json!(["2/3"]));
}

#[test]
fn runs_that_disagree_on_a_trial_are_a_conflict_kept_as_flaky() {
    let f = two_cases();
    let dir = |d: &str| f.root().join(d).to_str().unwrap().to_string();
    run_share(&f, None, &dir("a"));
    // The same trial passes on the second runner.
    f.write("golden/g/bad.out", "2\n");
    assert_eq!(run_share(&f, None, &dir("b")).status.code(), Some(0));
    let merge = f.mpcheck(&["merge", &dir("a"), &dir("b"), "--report-dir", &dir("m")]);
    let err = stderr(&merge);
    assert_eq!(merge.status.code(), Some(1), "{err}");
    assert!(
        err.contains("conflict: unix::g/bad has different verdicts: fail on"),
        "{err}"
    );
    assert!(err.contains("duplicate: unix::g/ok"), "{err}");
    let merged = read_json(&f.root().join("m/results.json"));
    let bad = merged["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "unix::g/bad")
        .unwrap();
    assert_eq!(bad["verdict"], "flaky", "{bad}");
    assert_eq!(bad["attempts"].as_array().unwrap().len(), 2, "{bad}");
    let allowed = f.mpcheck(&[
        "merge",
        &dir("a"),
        &dir("b"),
        "--report-dir",
        &dir("m"),
        "--allow-flaky",
    ]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
}

#[test]
fn golden_changes_that_cannot_be_staged_cost_neither_reports_nor_exit_code() {
    let f = two_cases();
    // A file where the pending-changes directory should be.
    f.write(".mpcheck/pending", "not a directory");
    let run = f.mpcheck(&["run", "--no-history"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "the verdicts' code: {err}");
    assert_reports_written(&f, &run);
    assert!(err.contains("not staged for `mpcheck review`"), "{err}");
    assert!(err.contains(".mpcheck/pending"), "{err}");
}
