//! The files around a run are untrusted input too: the pending store (plausibly copied
//! from a CI artefact), case headers and board files, special files in the project, and
//! whatever a case prints. One test per class of hole, each with its hostile input,
//! asserting the exact refusal, bound or escape; run on the real unix VM.
//!
//! Where a test guards against a hang it runs the command under a deadline and fails
//! when the deadline passes: a guard, not a speed target (those are `mpcheck bench`).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{Fixture as Project, stderr};

impl Project {
    fn unix() -> Project {
        let p = Project::empty();
        p.write("boards/unix.yaml", "kind: unix\ntimeout: 20\n");
        p
    }

    /// Every file under the project except reports and mpcheck's state, with content.
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = walk(self.root())
            .into_iter()
            .filter(|(rel, _)| !rel.starts_with("reports/") && !rel.starts_with(".mpcheck/"))
            .collect();
        out.sort();
        out
    }
}

fn walk(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                found.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    found
}

/// Runs `cmd` and kills it when `limit` passes: `None` then (a hang).
fn within(mut cmd: Command, limit: Duration) -> Option<(Output, Duration)> {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut b).ok();
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut b).ok();
        b
    });
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = Output {
                status,
                stdout: out_t.join().unwrap(),
                stderr: err_t.join().unwrap(),
            };
            return Some((output, start.elapsed()));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo takes a NUL-terminated path and a mode.
    assert_eq!(
        unsafe { libc_mkfifo(c.as_ptr(), 0o600) },
        0,
        "{}",
        path.display()
    );
}

unsafe extern "C" {
    #[link_name = "mkfifo"]
    fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

fn sha256_hex(bytes: &[u8]) -> String {
    // The store's own hash, computed here by the same rule (`base` is its SHA-256).
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

// ---- 1. stored state never names where to write ----

#[test]
fn review_accept_writes_only_the_golden_an_entry_is_stored_for() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    let hello = "print('hello')\n";
    // (where the entry is stored under .mpcheck/pending, the golden it names, base)
    let hostile: Vec<(String, String, Option<String>)> = vec![
        ("x.json".into(), victim.display().to_string(), None),
        ("y.json".into(), "../../elsewhere/new.txt".into(), None),
        (
            "cases/g/hello.py.json".into(),
            "cases/g/hello.py".into(),
            Some(sha256_hex(hello.as_bytes())),
        ),
        // Stored as a golden, but naming a case: the content does not get to say.
        (
            "golden/g/hello.out.json".into(),
            "cases/g/hello.py".into(),
            Some(sha256_hex(hello.as_bytes())),
        ),
        (
            "golden/g/../../cases/g/hello.py.json".into(),
            "golden/g/../../cases/g/hello.py".into(),
            Some(sha256_hex(hello.as_bytes())),
        ),
    ];
    for (stored, golden, base) in hostile {
        let p = Project::unix();
        p.write("cases/g/hello.py", hello);
        let entry = serde_json::json!({
            "case": "g/hello", "golden": golden, "base": base, "new_hex": "70776e65640a",
        });
        let file = p.root().join(".mpcheck/pending").join(&stored);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, entry.to_string()).unwrap();
        let before = p.files();
        let out = p.mpcheck(&["review", "--accept"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{stored}: {err}");
        assert!(err.contains("pending entry refused"), "{stored}: {err}");
        assert!(
            err.contains(file.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
        assert_eq!(p.files(), before, "{stored}: the project changed");
        assert!(!victim.exists(), "{stored}: wrote outside the project");
        assert!(
            !p.root().join("../elsewhere").exists() && !outside.path().join("new.txt").exists()
        );
    }

    // golden/g is a symbolic link out of the project: refused, nothing written there.
    let p = Project::unix();
    std::fs::create_dir_all(p.root().join("golden")).unwrap();
    std::os::unix::fs::symlink(outside.path(), p.root().join("golden/g")).unwrap();
    let entry = serde_json::json!({
        "case": "g/a", "golden": "golden/g/a.out", "base": null, "new_hex": "6f6b0a",
    });
    p.write(".mpcheck/pending/golden/g/a.out.json", &entry.to_string());
    let out = p.mpcheck(&["review", "--accept"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("leads outside golden/"), "{err}");
    assert!(!outside.path().join("a.out").exists());

    // The honest entry of a real run is still accepted.
    let p = Project::unix();
    p.write("cases/g/hello.py", hello);
    p.write("golden/g/hello.out", "old\n");
    let run = p.mpcheck(&["run", "--board", "unix", "--no-history"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let out = p.mpcheck(&["review", "--accept"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(p.read("golden/g/hello.out"), "hello\n");
}

// ---- 2. input that would cost quadratic time ----

#[test]
fn deeply_nested_yaml_and_json_fail_fast_naming_file_and_line() {
    let p = Project::unix();
    let deep = "[".repeat(30_000); // under the header's size cap: the depth check acts
    p.write(
        "cases/g/nest.py",
        &format!("# ---\n# timeout: 5\n# boards: {deep}\n# ---\nprint(1)\n"),
    );
    p.write(
        "cases/g/long.py",
        &format!(
            "# ---\n# boards: {}\n# ---\nprint(1)\n",
            "[".repeat(200_000)
        ),
    );
    p.write("cases/g/ok.py", "print(2)\n");
    let (out, _) = within(
        p.command(&["list", "--board", "unix"]),
        Duration::from_secs(20),
    )
    .expect("list hung on a nested header");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cases/g/nest.py:3: nested more than 64 levels deep"),
        "{text}"
    );
    assert!(
        text.contains("cases/g/long.py:2: settings header longer than 65536 bytes"),
        "{text}"
    );
    assert!(text.contains("unix::g/ok\n"), "{text}");

    // A board file, a heap golden and a known-differences file: the same refusal.
    let p = Project::unix();
    p.write("cases/g/ok.py", "print(2)\n");
    p.write(
        "boards/deep.yaml",
        &format!("kind: unix\nmodes: {}\n", "[".repeat(50_000)),
    );
    // Every run that could select it stops, naming it (with no --board, any file could
    // be a default); a run that names another board only warns about it.
    let (out, _) = within(p.command(&["list"]), Duration::from_secs(20))
        .expect("list hung on a nested board file");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("boards/deep.yaml:2: nested more than 64 levels deep"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(p.root().join("boards/deep.yaml")).unwrap();
    p.write("cases/g/ok.py", "# ---\n# heap: {}\n# ---\nprint(2)\n");
    p.write(
        "golden/g/ok.heap.yaml",
        &format!("unix: {}\n", "{a: ".repeat(50_000)),
    );
    let (out, _) = within(
        p.command(&["run", "--board", "unix", "--no-history"]),
        Duration::from_secs(60),
    )
    .expect("run hung on a nested heap golden");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = p.result("unix::g/ok");
    assert!(
        r["message"]
            .as_str()
            .is_some_and(|m| m.contains("golden/g/ok.heap.yaml:1: nested more than 64 levels")),
        "{r}"
    );
    p.write(
        "known-differences/unix.yaml",
        &format!("g/ok: {}\n", "[".repeat(50_000)),
    );
    let (out, _) = within(
        p.command(&[
            "run",
            "--board",
            "unix",
            "--reference",
            "unix",
            "--no-history",
        ]),
        Duration::from_secs(20),
    )
    .expect("run hung on nested known differences");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("known-differences/unix.yaml:1: nested more than 64 levels"),
        "{}",
        stderr(&out)
    );
}

// ---- 3. output that wedges the run ----

const FLOOD: &str = "for i in range(1000000):\n    print(i)\n";

#[test]
fn a_million_line_failure_costs_a_screenful_and_reports_stay_small() {
    let p = Project::unix();
    p.write("cases/g/flood.py", FLOOD);
    p.write("golden/g/flood.out", "0\n");
    let (out, took) = within(
        p.command(&["run", "--board", "unix", "--no-history", "--mode", "source"]),
        Duration::from_secs(60),
    )
    .expect("the run did not finish");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines = err.lines().count();
    assert!(lines < 80, "{lines} console lines");
    assert!(err.contains("more diff lines not shown"), "{err}");
    assert!(err.contains("results.json, this trial"), "{err}");
    for (file, cap) in [
        ("summary.md", 64 * 1024),
        ("junit.xml", 200 * 1024),
        ("index.html", 200 * 1024),
    ] {
        let size = std::fs::metadata(p.root().join("reports").join(file))
            .unwrap()
            .len();
        assert!(size < cap, "{file}: {size} bytes");
    }
    // The raw artefact keeps the whole captured output.
    let actual = p.result("unix::g/flood")["actual"].as_str().unwrap().len();
    assert!(actual > 1_000_000, "{actual}");
    eprintln!("10^6-line failing case: {took:?} wall");
}

#[test]
fn sigterm_during_floods_still_writes_the_reports() {
    let p = Project::unix();
    // Enough floods that the run is still going when the signal comes, on a quiet
    // machine too (6 of them finished in 3.4 s, before it).
    for i in 0..24 {
        p.write(&format!("cases/g/flood{i}.py"), FLOOD);
        p.write(&format!("golden/g/flood{i}.out"), "0\n");
    }
    let mut child = p
        .command(&["run", "--board", "unix", "--no-history", "-j", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stderr is not read until the run has ended, like a CI log that drains slowly: a
    // console that printed whole diffs would fill the pipe, block, and the run would be
    // ended by the grace timer with no reports. Once the first floods failed, stop it.
    let results = p.root().join("reports/results.json");
    std::thread::sleep(Duration::from_secs(6));
    // SAFETY: kill sends a signal to our own child.
    unsafe {
        libc_kill(child.id() as i32, 15);
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).ok();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(!err.contains("did not wind down"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert_eq!(json["interrupted"], true, "{json}");
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

// ---- 4. case output never reaches the terminal raw ----

#[test]
fn control_characters_a_case_prints_are_escaped_in_every_report() {
    let p = Project::unix();
    p.write(
        "cases/g/spoof.py",
        "print('\\x1b]0;all green\\x07\\x1b[2J\\x1b[32mPASS\\x1b[0m\\r\\u202eok')\n",
    );
    p.write("golden/g/spoof.out", "expected\n");
    let out = p.mpcheck(&["run", "--board", "unix", "--no-history"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // stderr is a pipe here, so mpcheck paints nothing: every ESC would be the case's.
    assert!(
        !err.contains('\x1b') && !err.contains('\r') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(err.contains("\\x1b]0;all green\\x07\\x1b[2J"), "{err}");
    for file in ["summary.md", "junit.xml", "index.html"] {
        let text = p.read(&format!("reports/{file}"));
        assert!(
            !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'),
            "{file}: {text:?}"
        );
        assert!(text.contains("\\x1b[32mPASS"), "{file}");
    }
    // The raw artefact keeps what was printed.
    assert!(
        p.result("unix::g/spoof")["actual"]
            .as_str()
            .unwrap()
            .contains("\x1b[32mPASS")
    );
    // Review shows a pending golden with the same escapes.
    let review = p
        .command(&["review"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&review.stdout);
    assert!(
        !shown.contains('\x1b') && shown.contains("\\x1b[2J"),
        "{shown:?}"
    );
}

// ---- 5. special files in the project ----

#[test]
fn special_files_are_named_not_read() {
    // A board file that is /dev/zero or a FIFO: every command that could select it
    // stops at once, naming it.
    for (name, make) in [
        (
            "zero",
            Box::new(|p: &Path| std::os::unix::fs::symlink("/dev/zero", p).unwrap())
                as Box<dyn Fn(&Path)>,
        ),
        ("fifo", Box::new(|p: &Path| mkfifo(p))),
    ] {
        let p = Project::unix();
        p.write("cases/g/ok.py", "print(1)\n");
        make(&p.root().join(format!("boards/{name}.yaml")));
        let (out, _) = within(p.command(&["list"]), Duration::from_secs(20))
            .unwrap_or_else(|| panic!("list hung on boards/{name}.yaml"));
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("boards/{name}.yaml: not a regular file")),
            "{err}"
        );
    }
    // A case, a helper module and a golden that are FIFOs: those trials are errors
    // naming the file, the others run.
    let p = Project::unix();
    p.write("cases/g/ok.py", "print(1)\n");
    mkfifo(&p.root().join("cases/g/fifo.py"));
    p.write("cases/h/user.py", "import _helper\n");
    mkfifo(&p.root().join("cases/h/_helper.py"));
    p.write("cases/k/judged.py", "print(3)\n");
    mkfifo(&p.root().join("golden/k/judged.out"));
    let (out, _) = within(
        p.command(&["run", "--board", "unix", "--no-history", "--mode", "source"]),
        Duration::from_secs(60),
    )
    .expect("run hung on a FIFO");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(p.result("unix::g/ok")["verdict"], "pass");
    for (trial, file) in [
        ("unix::g/fifo", "cases/g/fifo.py"),
        ("unix::h/user", "cases/h/_helper.py"),
        ("unix::k/judged", "golden/k/judged.out"),
    ] {
        let r = p.result(trial);
        assert_eq!(r["verdict"], "error", "{r}");
        let msg = r["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(&format!("{file}: not a regular file (it is a FIFO)")),
            "{trial}: {msg}"
        );
    }
}

// ---- 6. small ones ----

/// `mpcheck review` (not interactive) with `entry` stored for the golden `golden`.
fn review_with(p: &Project, golden: &str, entry: &serde_json::Value) -> Output {
    p.write(
        &format!(".mpcheck/pending/{golden}.json"),
        &entry.to_string(),
    );
    p.command(&["review"])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn absurd_numbers_and_paths_get_their_own_message() {
    let p = Project::unix();
    p.write(
        "cases/g/tiny.py",
        "# ---\n# timeout: 1e-300\n# ---\nprint(1)\n",
    );
    p.write(
        "cases/g/huge.py",
        "# ---\n# timeout: 1e309\n# ---\nprint(1)\n",
    );
    let out = p.mpcheck(&["list", "--board", "unix"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cases/g/tiny.py:2: timeout: at least 0.1 seconds, got 1e-300"),
        "{text}"
    );
    assert!(
        text.contains("cases/g/huge.py:2: timeout: 1e309 is out of range: at most 86400 seconds"),
        "{text}"
    );
    p.write("boards/unix.yaml", "kind: unix\ntimeout: 1e309\n");
    let out = p.mpcheck(&["list", "--board", "unix"]);
    assert!(
        stderr(&out).contains("boards/unix.yaml:2: timeout: 1e309 is out of range"),
        "{}",
        stderr(&out)
    );

    // --history in a directory that does not exist: an error, nothing created.
    let p = Project::unix();
    p.write("cases/g/ok.py", "print(1)\n");
    let missing = p.root().join("missing/dir/h.sqlite");
    let out = p.mpcheck(&[
        "run",
        "--board",
        "unix",
        "--history",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!p.root().join("missing").exists());

    // Review of a new golden that ends in a newline says nothing about newlines (its
    // case exists: review drops the entries of cases that are gone).
    p.write("cases/g/new.py", "print('new')\n");
    let entry = serde_json::json!({
        "case": "g/new", "golden": "golden/g/new.out", "base": null, "new_hex": "6e65770a",
    });
    let review = review_with(&p, "golden/g/new.out", &entry);
    let shown = String::from_utf8_lossy(&review.stdout);
    assert!(shown.contains("new golden golden/g/new.out"), "{shown}");
    assert!(!shown.contains("final newline"), "{shown}");
    std::fs::remove_file(p.root().join(".mpcheck/pending/golden/g/new.out.json")).unwrap();

    // A pending entry whose content is not hex is refused, not shown as a deletion.
    let entry = serde_json::json!({
        "case": "g/ok", "golden": "golden/g/ok.out", "base": null, "new_hex": "zz",
    });
    let review = review_with(&p, "golden/g/ok.out", &entry);
    let shown = String::from_utf8_lossy(&review.stdout);
    assert!(!shown.contains("remove golden"), "{shown}");
    assert_eq!(review.status.code(), Some(2));
    assert!(
        stderr(&review).contains("ok.out.json:1: pending entry refused: new_hex is not hex"),
        "{}",
        stderr(&review)
    );
}

// ---- the surfaces around a run not probed before ----

#[test]
fn report_dirs_and_huge_cases_around_a_run() {
    let p = Project::unix();
    p.write("cases/g/ok.py", "print(1)\n");
    p.write("golden/g/ok.out", "1\n");
    // Reports inside the project's data would be taken for it: refused before the run.
    for dir in [
        "golden",
        "golden/g",
        "cases/g",
        "boards",
        ".mpcheck/pending",
        "new/../golden/x",
    ] {
        let before = p.files();
        let dir = p.root().join(dir);
        let dir = dir.to_str().unwrap();
        let out = p.mpcheck(&[
            "run",
            "--board",
            "unix",
            "--no-history",
            "--report-dir",
            dir,
        ]);
        assert_eq!(out.status.code(), Some(2), "{dir}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is inside the project's"),
            "{}",
            stderr(&out)
        );
        assert_eq!(p.files(), before, "{dir}");
    }
    // compare into a run's report dir leaves the run's reports as they were.
    let run = p.mpcheck(&["run", "--board", "unix", "--no-history"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let reports = |p: &Project| -> Vec<(String, Vec<u8>)> {
        ["junit.xml", "results.json", "summary.md", "index.html"]
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    std::fs::read(p.root().join("reports").join(f)).unwrap(),
                )
            })
            .collect()
    };
    let before = reports(&p);
    let cmp = p.mpcheck(&["compare", "--base", "unix", "--head", "unix"]);
    assert_eq!(cmp.status.code(), Some(0), "{}", stderr(&cmp));
    assert!(p.root().join("reports/compare.json").exists());
    assert_eq!(reports(&p), before);

    // A 50 MB case: an error verdict naming the file and the cap, read no further; the
    // other cases run.
    let big = std::fs::File::create(p.root().join("cases/g/big.py")).unwrap();
    big.set_len(50 << 20).unwrap();
    let (out, _) = within(
        p.command(&["run", "--board", "unix", "--no-history"]),
        Duration::from_secs(60),
    )
    .expect("run hung on a 50 MB case");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let msg = p.result("unix::g/big")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains(
            "cases/g/big.py: 52428800 bytes, more than the 8388608 bytes a case file may have"
        ),
        "{msg}"
    );
    assert_eq!(p.result("unix::g/ok")["verdict"], "pass");
}

#[test]
fn a_hostile_run_tests_py_is_an_error_naming_it() {
    // Only run-tests.py is needed: each of these fails where it is read, before any
    // feature check runs.
    let nested = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let cases: [(&str, Vec<u8>); 4] = [
        (
            "run-tests.py:1: brackets nested more than 64 levels deep",
            nested.into_bytes(),
        ),
        (
            "run-tests.py:1: not UTF-8 (at byte offset 0)",
            vec![0xff; 4096],
        ),
        (
            "more than the 4194304 bytes a run-tests.py may have",
            vec![b'#'; 5 << 20],
        ),
        (
            "run-tests.py: not a regular file (it is a FIFO)",
            Vec::new(),
        ),
    ];
    for (expected, bytes) in cases {
        let p = Project::unix();
        let tests = p.root().join("mp/tests");
        if bytes.is_empty() {
            mkfifo(&tests.join("run-tests.py"));
        } else {
            std::fs::create_dir_all(&tests).unwrap();
            std::fs::write(tests.join("run-tests.py"), bytes).unwrap();
        }
        let (out, _) = within(
            p.command(&[
                "list",
                "--tests",
                tests.to_str().unwrap(),
                "--board",
                "unix",
            ]),
            Duration::from_secs(20),
        )
        .unwrap_or_else(|| panic!("hung: {expected}"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(
            !err.contains("overflow") && !err.contains("panicked"),
            "{err}"
        );
    }
}
