//! The run history as a maintainer reads it after a day's work: a run stopped by Ctrl-C
//! leaves no verdict for what it cut short, and a golden edited and reverted between runs
//! is not flakiness.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

mod support;
use support::{Fixture, stderr};

/// `g/slow` sleeps long enough to be cut short; `g/quick` finishes at once.
fn slow_and_quick() -> Fixture {
    let f = Fixture::empty();
    f.write("boards/unix.yaml", "kind: unix\ntimeout: 30\n");
    f.write(
        "cases/g/slow.py",
        "# ---\n# modes: [source]\n# ---\nimport time\ntime.sleep(20)\nprint(1)\n",
    );
    f.write("golden/g/slow.out", "1\n");
    f.write(
        "cases/g/quick.py",
        "# ---\n# modes: [source]\n# ---\nprint(2)\n",
    );
    f.write("golden/g/quick.out", "2\n");
    f
}

/// `mpcheck history FILTER` of the history at `db`.
fn history(f: &Fixture, db: &Path, filter: &str) -> String {
    let out = f.mpcheck(&["history", filter, "--history", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The row of `name` in a `history` table.
fn row<'a>(table: &'a str, name: &str) -> Option<&'a str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
}

#[test]
fn a_run_stopped_by_ctrl_c_records_no_verdict_for_the_trial_it_cut_short() {
    let f = slow_and_quick();
    let db = f.root().join("h.sqlite");
    for _ in 0..2 {
        let mut child = f
            .command(&["run", "-j", "2", "--history", db.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Once the trials are running, a second is plenty for g/quick and far short of
        // g/slow's sleep.
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut said = String::new();
        while !said.contains("running 2 trials") {
            if err.read_line(&mut said).unwrap() == 0 {
                panic!("the run ended before its trials ran: {said}");
            }
        }
        std::thread::sleep(Duration::from_secs(1));
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        err.read_to_string(&mut said).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{said}");
        assert!(said.contains("interrupted"), "{said}");
    }
    let table = history(&f, &db, "");
    assert!(table.contains(": 2 runs, 2 trial results"), "{table}");
    assert!(row(&table, "unix::g/slow").is_none(), "{table}");
    assert!(
        row(&table, "unix::g/quick").is_some_and(|r| r.contains(" ..  ")),
        "{table}"
    );
}

#[test]
fn golden_edits_between_runs_are_not_flakiness() {
    let f = slow_and_quick();
    let db = f.root().join("h.sqlite");
    let run = || {
        let out = f.mpcheck(&["run", "g/quick", "--history", db.to_str().unwrap()]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    };
    // `.....FF.FF`: five passes, the golden edited for two runs, reverted for one,
    // edited again for two.
    for golden in [
        "2\n", "2\n", "2\n", "2\n", "2\n", "3\n", "3\n", "2\n", "4\n", "4\n",
    ] {
        f.write("golden/g/quick.out", golden);
        run();
    }
    let table = history(&f, &db, "quick");
    let quick = row(&table, "unix::g/quick").unwrap_or_default();
    assert!(quick.contains(".....FF.FF"), "{table}");
    assert!(quick.contains(" 0%"), "{table}");
}

#[test]
fn history_read_by_a_reader_that_stops_early_ends_quietly() {
    let f = slow_and_quick();
    let db = f.root().join("h.sqlite");
    let run = f.mpcheck(&["run", "g/quick", "--history", db.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let mut child = f
        .command(&["history", "--history", db.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -0`: the reader is gone before mpcheck has opened the history.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn the_history_shows_each_runs_largest_free_block_and_fragmentation_index() {
    let f = Fixture::empty();
    f.write("boards/unix.yaml", "kind: unix\ntimeout: 30\n");
    let db = f.root().join("h.sqlite");
    // The case keeps a buffer alive; the second run's is 100 times larger, so the
    // largest free block after the case shrinks.
    let mut figures = Vec::new();
    for n in [1000, 100_000] {
        f.write(
            "cases/g/keep.py",
            &format!("# ---\n# modes: [source]\n# heap: {{}}\n# ---\nkeep = bytearray({n})\n"),
        );
        let out = f.mpcheck(&["run", "g/keep", "--history", db.to_str().unwrap()]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let heap = &f.result("unix::g/keep")["heap"];
        let (free, largest) = (
            heap["free_bytes"].as_i64(),
            heap["largest_free_bytes"].as_i64(),
        );
        figures.push((
            free.expect("free_bytes"),
            largest.expect("largest_free_bytes"),
        ));
    }
    let [(free_a, a), (free_b, b)] = figures[..] else {
        unreachable!()
    };
    assert!(b < a, "{figures:?}");
    let index = |free: i64, largest: i64| 1.0 - largest as f64 / free as f64;
    let (i_a, i_b) = (index(free_a, a), index(free_b, b));
    let table = history(&f, &db, "keep");
    let keep = row(&table, "unix::g/keep").unwrap_or_default();
    assert!(
        keep.contains(&format!("{a} → {b} ({:+})", b - a)),
        "{table}"
    );
    assert!(
        keep.contains(&format!("{i_a:.4} → {i_b:.4} ({:+.4})", i_b - i_a)),
        "{table}"
    );
    assert!(table.contains("largest free (first→last)"), "{table}");
}
