//! The `mpcheck` command end to end, on small projects made in temp dirs and run on the
//! real VMs (the toolchain is shared with the repository's `.mpcheck`).

use std::path::Path;
use std::process::{Command, Output};

mod support;
use support::{Fixture, state_dir, stderr};

impl Fixture {
    /// The unix port, and CPython as the reference (not a default board).
    fn new() -> Fixture {
        let f = Fixture::empty();
        f.write("boards/unix.yaml", "kind: unix\ntimeout: 10\n");
        f.write("boards/cpython.yaml", "kind: cpython\ndefault: false\n");
        f
    }
}

const MP_ONLY: &str = "# ---\n# exclude: {cpython: MicroPython-only}\n# ---\nimport micropython\nprint('a')\nprint('b')\nprint('c')\n";

#[test]
fn a_header_naming_an_unknown_board_is_an_error_at_its_line() {
    // #24: `exclude:` and `boards:` name board files, families or kinds; a typo would
    // otherwise be a condition that never matches.
    let f = Fixture::new();
    f.write(
        "cases/g/typo.py",
        "# ---\n# exclude:\n#   cpython: MicroPython-only\n#   unx: not here\n# ---\nprint(1)\n",
    );
    // A board file that does not load is still a board: naming it is no mistake.
    f.write("boards/half.yaml", "kind: nope\n");
    f.write(
        "cases/g/fine.py",
        "# ---\n# boards: [unix, qemu, half]\n# ---\nprint(1)\n",
    );
    f.write("golden/g/fine.out", "1\n");
    f.write("golden/g/typo.out", "1\n");
    let run = f.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let typo = f.result("unix::g/typo");
    assert_eq!(typo["verdict"], "error");
    let message = typo["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cases/g/typo.py:4: `unx` names no board file or family"),
        "{typo}"
    );
    assert_eq!(f.result("unix::g/fine")["verdict"], "pass");
}

#[test]
fn edited_golden_fails_with_diff_and_bless_restores_it() {
    let f = Fixture::new();
    f.write("cases/g/mp.py", MP_ONLY);
    let bless = f.mpcheck(&["bless"]);
    assert_eq!(bless.status.code(), Some(0), "{}", stderr(&bless));
    let golden = f.read("golden/g/mp.out");
    assert_eq!(golden, "a\nb\nc\n");

    f.write("golden/g/mp.out", "a\nB\nc\n");
    let run = f.mpcheck(&["run"]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(err.contains("FAIL unix::g/mp "), "{err}");
    assert!(err.contains("-B\n") || err.contains("    -B"), "{err}");
    assert!(err.contains("+b"), "{err}");
    assert!(
        f.read("reports/summary.md")
            .contains("### unix::g/mp — fail")
    );

    let bless = f.mpcheck(&["bless"]);
    assert_eq!(bless.status.code(), Some(0), "{}", stderr(&bless));
    assert_eq!(f.read("golden/g/mp.out"), golden);
    assert!(
        !f.root().join("golden/g/mp.unix.out").exists(),
        "no needless board override"
    );
    assert_eq!(f.mpcheck(&["run"]).status.code(), Some(0));
}

#[test]
fn bless_refuses_in_ci() {
    let f = Fixture::new();
    f.write("cases/g/mp.py", MP_ONLY);
    let out = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .arg("--root")
        .arg(f.root())
        .arg("bless")
        .env("MPCHECK_HOME", state_dir())
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refusing to bless in CI"),
        "{}",
        stderr(&out)
    );
    assert!(!f.root().join("golden/g/mp.out").exists());
}

#[test]
fn hanging_case_times_out_and_others_still_pass() {
    let f = Fixture::new();
    f.write(
        "cases/g/hang.py",
        "# ---\n# timeout: 1\n# ---\nwhile True:\n    pass\n",
    );
    f.write("cases/g/ok.py", "print(1 + 1)\n");
    let run = f.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    for mode in ["", ".mpy"] {
        let hang = f.result(&format!("unix::g/hang{mode}"));
        assert_eq!(hang["verdict"], "timeout");
        assert_eq!(hang["after_ms"], 1000);
        assert_eq!(f.result(&format!("unix::g/ok{mode}"))["verdict"], "pass");
    }
    // Temp files (the .mpy) never land beside the cases.
    let mut files: Vec<String> = std::fs::read_dir(f.root().join("cases/g"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["hang.py", "ok.py"]);
}

#[test]
fn huge_output_is_truncated_and_fails() {
    let f = Fixture::new();
    // 200 MB of output: the capture keeps the first MiB and marks the rest as dropped.
    f.write(
        "cases/g/flood.py",
        "# ---\n# modes: [source]\n# timeout: 60\n# ---\nline = 'x' * 1023\nfor i in range(200 * 1024):\n    print(line)\n",
    );
    f.write("golden/g/flood.out", "x\n");
    let run = f.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let r = f.result("unix::g/flood");
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["truncated"], true);
    assert_eq!(r["actual"].as_str().unwrap().len(), 1 << 20);
}

#[test]
fn broken_board_file_exits_2_naming_file_line_and_key() {
    let f = Fixture::new();
    f.write(
        "boards/bad.yaml",
        "kind: unix\ntimeout: 5\nexecutabel: /x\n",
    );
    f.write("cases/g/ok.py", "print(1)\n");
    let run = f.mpcheck(&["run"]);
    assert_eq!(run.status.code(), Some(2));
    let err = stderr(&run);
    assert!(
        err.contains("boards/bad.yaml:3: unknown field `executabel`"),
        "{err}"
    );
}

#[test]
fn broken_case_settings_error_that_case_only() {
    let f = Fixture::new();
    f.write(
        "cases/g/bad.py",
        "# ---\n# timeout: 5\n# bords: [unix]\n# ---\nprint(1)\n",
    );
    f.write("cases/g/ok.py", "print(2)\n");
    let run = f.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let bad = f.result("unix::g/bad");
    assert_eq!(bad["verdict"], "error");
    let msg = bad["message"].as_str().unwrap();
    assert!(
        msg.contains("cases/g/bad.py:3: unknown field `bords`"),
        "{msg}"
    );
    assert_eq!(f.result("unix::g/ok")["verdict"], "pass");
    assert_eq!(f.result("unix::g/ok.mpy")["verdict"], "pass");
    // The totals word one error as one ("1 errors" was printed).
    let one = f.mpcheck(&["run", "--board", "unix", "--mode", "source", "g/bad"]);
    let err = stderr(&one);
    assert!(err.contains("0 crashed, 1 error in "), "{err}");
    assert!(
        f.read("reports/summary.md").contains("0 crashed, 1 error"),
        "{}",
        f.read("reports/summary.md")
    );
}

/// summary.md says a skip reason once, with its count and names, however many trials
/// share it (a board without its firmware skipped 56 trials in 56 identical lines).
#[test]
fn summary_lists_skips_once_per_reason() {
    let f = Fixture::new();
    let skip = |reason: &str| format!("# ---\n# skip_reason: {reason}\n# ---\nprint('SKIP')\n");
    f.write("cases/g/s1.py", &skip("no socket here"));
    f.write("cases/g/s2.py", &skip("no socket here"));
    f.write("cases/g/s3.py", &skip("no float here"));
    let run = f.mpcheck(&["run", "--board", "unix", "--mode", "source"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let md = f.read("reports/summary.md");
    assert!(
        md.contains("- no socket here: 2 trials: unix::g/s1, unix::g/s2\n"),
        "{md}"
    );
    assert!(md.contains("- unix::g/s3: no float here\n"), "{md}");
    assert_eq!(md.matches("no socket here").count(), 1, "{md}");
}

/// junit.xml as two real consumers read it: Jenkins' xunit schema (vendored in
/// tests/junit/, checked by xmllint) and PyPI's junitparser. A case printing XML and
/// control characters stays inside its own `system-out`.
#[test]
fn junit_passes_the_jenkins_schema_and_junitparser_reads_it() {
    let f = Fixture::new();
    f.write("cases/g/ok.py", "print(2)\n");
    f.write("cases/g/bad.py", "print('<&>')\n");
    f.write("golden/g/bad.out", "other\n");
    f.write(
        "cases/g/hostile.py",
        "print('</system-out></testcase><testcase name=\"forged\">\\x1b[31m\\x00')\n",
    );
    f.write(
        "cases/g/skipped.py",
        "# ---\n# exclude: {unix: not on this port}\n# ---\nprint(1)\n",
    );
    let run = f.mpcheck(&["run", "--board", "unix", "--mode", "source"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let junit = f.root().join("reports/junit.xml");

    mpcheck::tools::toolchain::ensure_debian_packages(&["libxml2-utils".into()], "the junit test")
        .unwrap();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/junit/junit-10.xsd");
    let lint = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(&junit)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}\n{}",
        stderr(&lint),
        f.read("reports/junit.xml")
    );

    let tools =
        mpcheck::tools::toolchain::Toolchain::ensure(&state_dir().join("toolchain")).unwrap();
    let junitparser = tools.python_package("junitparser==3.2.0").unwrap();
    let read = Command::new(&tools.python)
        .env("PYTHONPATH", junitparser)
        .args([
            "-c",
            "import sys, junitparser\n\
             x = junitparser.JUnitXml.fromfile(sys.argv[1])\n\
             for s in x:\n\
             \x20 for c in s:\n\
             \x20   r = [type(x).__name__ + '=' + (x.message or '') for x in c.result]\n\
             \x20   print(s.name, c.name, c.time > 0 or c.time == 0, r, repr(c.system_out))\n",
        ])
        .arg(&junit)
        .output()
        .unwrap();
    let seen = stdout(&read);
    assert!(read.status.success(), "{}", stderr(&read));
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "one test case per trial, none forged:\n{seen}"
    );
    let line = |name: &str| *lines.iter().find(|l| l.contains(name)).unwrap();
    assert!(
        line("g/bad").contains("['Failure=output differs from ")
            && line("g/bad").contains("golden/g/bad.out (1 line changed)']"),
        "{seen}"
    );
    assert!(line("g/bad").contains("'<&>\\n'"), "system-out: {seen}");
    assert!(line("g/ok").contains("[] '2\\n'"), "{seen}");
    assert!(
        line("g/skipped").contains("['Skipped=not on this port']"),
        "{seen}"
    );
    assert!(line("g/hostile").contains("\\\\x1b[31m"), "{seen}");
}

/// The run ends with its failures, one line each; verdicts are coloured only when the
/// terminal rule says so (CLICOLOR_FORCE here, as stderr is a pipe), never with NO_COLOR.
#[test]
fn a_run_ends_with_its_failures_coloured_unless_no_color() {
    let f = Fixture::new();
    f.write("cases/g/ok.py", "print(2)\n");
    f.write("cases/g/bad.py", "print(1)\n");
    f.write("golden/g/bad.out", "other\n");
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mpcheck"));
        cmd.arg("--root").arg(f.root());
        cmd.args(["run", "--board", "unix", "--mode", "source", "--no-history"]);
        cmd.env("MPCHECK_HOME", state_dir()).env_remove("CI");
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        cmd.envs(vars.iter().copied());
        stderr(&cmd.output().unwrap())
    };
    let plain = run(&[]);
    let tail = plain.rsplit("failures (1):\n").next().unwrap();
    assert!(
        tail.starts_with("  FAIL          unix::g/bad: output differs from "),
        "{plain}"
    );
    assert!(!plain.contains('\x1b'), "no colour on a pipe: {plain}");
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b[1m\x1b[31mFAIL"), "{forced:?}");
    let refused = run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!refused.contains('\x1b'), "{refused:?}");
}

/// index.html as a browser shows it: real headless Chromium (a Debian package the test
/// installs) renders the page; the DOM after render holds the matrix cells and the
/// failure's side-by-side diff, and the screenshot shows the failing cell's red.
#[test]
fn the_html_report_renders_in_chromium_with_the_failure_in_red() {
    let f = Fixture::new();
    f.write("cases/g/ok.py", "print(2)\n");
    f.write("cases/g/bad.py", "print('head line')\n");
    f.write("golden/g/bad.out", "golden line\n");
    // A long output with one changed line: the diff shows that hunk, not 40 rows.
    f.write(
        "cases/h/long.py",
        "for i in range(40):\n    print('line', 20 if i == 0 else i)\n",
    );
    let golden: String = (0..40).map(|i| format!("line {i}\n")).collect();
    f.write("golden/h/long.out", &golden);
    f.write(
        "cases/h/skipped.py",
        "# ---\n# exclude: {unix: not on unix}\n# ---\nprint(1)\n",
    );
    let run = f.mpcheck(&["run", "--board", "unix", "--mode", "source", "--no-history"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    // A failure links to its case and to the golden it was compared with.
    let html = f.read("reports/index.html");
    assert!(
        html.contains("case <a href=\"file:///") && html.contains("/cases/g/bad.py\">"),
        "{html}"
    );
    assert!(
        html.contains("expected <a href=\"file:///") && html.contains("/golden/g/bad.out\">"),
        "{html}"
    );
    mpcheck::tools::toolchain::ensure_debian_packages(&["chromium".into()], "the html report test")
        .unwrap();
    let page = f.root().join("reports/index.html");
    let profile = tempfile::tempdir().unwrap();
    let shot = f.root().join("shot.png");
    let chromium = |extra: &[&str]| {
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=900,600",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    };
    let dom = chromium(&["--dump-dom"]);
    let dom = stdout(&dom);
    assert!(dom.contains("<table id=\"matrix\">"), "{dom}");
    // A row per board and mode; a failing cell links to its first failure.
    assert!(dom.contains("<th>unix (source)</th>"), "{dom}");
    assert!(
        dom.contains("<td class=\"fail\">1 ✓ <a href=\"#failure-unix::g/bad\">1 ✗ </a></td>"),
        "{dom}"
    );
    assert!(dom.contains("<td class=\"del\">golden line</td>"), "{dom}");
    assert!(dom.contains("<td class=\"ins\">head line</td>"), "{dom}");
    // The long output's diff: its changed first line and 3 lines of context, then the
    // rest of the 40 lines left out.
    assert!(dom.contains("<td class=\"del\">line 0</td>"), "{dom}");
    assert!(dom.contains("<td class=\"ins\">line 20</td>"), "{dom}");
    assert!(
        dom.contains(">line 3</td>") && !dom.contains(">line 5</td>"),
        "{dom}"
    );
    assert!(dom.contains("<tr class=\"gap\">"), "{dom}");
    // Skips are listed by reason, and the filter box is there.
    assert!(dom.contains("<h2>Skipped (1)</h2>"), "{dom}");
    assert!(dom.contains("1 trial: unix::h/skipped"), "{dom}");
    assert!(dom.contains("id=\"only-changes\""), "{dom}");
    let out = chromium(&[&format!("--screenshot={}", shot.display())]);
    assert!(shot.exists(), "no screenshot: {}", stderr(&out));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let red = buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[0] > 190 && p[1] < 70 && p[2] < 70)
        .count();
    // The failing cell (td.fail, #d62020) is some hundreds of pixels; nothing else is red.
    assert!(
        red > 200,
        "{red} red pixels in {}x{}",
        info.width,
        info.height
    );
}

#[test]
fn missing_host_tool_says_what_to_install() {
    let f = Fixture::new();
    f.write("cases/g/ok.py", "print(2)\n");
    let out = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .arg("--root")
        .arg(f.root())
        .arg("run")
        .env("MPCHECK_HOME", f.root().join("state"))
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`python3` is not on PATH"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn own_vm_override_is_used_and_reported() {
    let f = Fixture::new();
    f.write("cases/g/ok.py", "print(2)\n");
    let own = f.root().join("my-micropython");
    std::os::unix::fs::symlink(state_dir().join("toolchain/venv/bin/micropython"), &own).unwrap();
    let run = f.mpcheck(&[
        "run",
        "--board",
        "unix",
        "--micropython",
        own.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let tools = f.results()["toolchain"].clone();
    let unix = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == "unix")
        .unwrap()
        .clone();
    assert_eq!(unix["path"], own.to_str().unwrap());
    assert_eq!(unix["pinned"], false);
    assert!(
        unix["version"]
            .as_str()
            .unwrap()
            .starts_with("MicroPython 1."),
        "{unix}"
    );
}

#[test]
fn list_shows_trials_and_decided_skips() {
    let f = Fixture::new();
    f.write("cases/g/mp.py", MP_ONLY);
    let out = f.mpcheck(&["list", "--board", "unix", "--board", "cpython"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "unix::g/mp\nunix::g/mp.mpy\ncpython::g/mp  (skip: MicroPython-only)\n"
    );
}

// ---- boards: MicroPython 1.9.2 for the micro:bit, in QEMU ----

const MICROBIT_HEX: &str = "/usr/share/firmware-microbit-micropython/firmware.hex";

fn microbit_board(firmware: &Path, console: &str) -> String {
    format!(
        "kind: qemu\nmodes: [source]\ninstances: 1\npackages: [qemu-system-arm, firmware-microbit-micropython]\n\
         qemu:\n  machine: microbit\n  firmware: {}\n  console: {console}\npacing: {{chunk_bytes: 32, pause_ms: 10}}\n",
        firmware.display()
    )
}

/// The board files the repository's cases name in their headers (a case naming a board
/// its project lacks is an error): copied with its cases.
const NAMED_BY_CASES: &[&str] = &["unix-coverage-src", "mps2-an385-qemu-smallheap"];

/// The repository's `dirs` (cases/, golden/) copied into the fixture's project.
fn copy_from_repo(f: &Fixture, dirs: &[&str]) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if dirs.iter().any(|d| d.starts_with("cases")) {
        copy_named_boards(f);
    }
    for dir in dirs {
        let status = Command::new("cp")
            .arg("-r")
            .arg(repo.join(dir))
            .arg(f.root())
            .status()
            .unwrap();
        assert!(status.success(), "cp -r {dir}");
    }
}

fn copy_named_boards(f: &Fixture) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(f.root().join("boards")).unwrap();
    for b in NAMED_BY_CASES {
        let file = format!("boards/{b}.yaml");
        std::fs::copy(repo.join(&file), f.root().join(&file)).unwrap();
    }
}

#[test]
fn a_pool_of_two_consoles_spreads_the_trials_over_both_boards() {
    // #24: `serial: {consoles: [...]}` names identical boards, one console each (here two
    // QEMU micro:bits whose UARTs are TCP servers); the trials are one queue over both.
    mpcheck::tools::toolchain::ensure_debian_packages(
        &[
            "qemu-system-arm".into(),
            "firmware-microbit-micropython".into(),
        ],
        "the console pool test",
    )
    .unwrap();
    struct Qemu(std::process::Child);
    impl Drop for Qemu {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let _qemus: Vec<Qemu> = ports
        .iter()
        .map(|port| {
            let child = Command::new("qemu-system-arm")
                .args(["-M", "microbit", "-display", "none", "-monitor", "none"])
                .arg("-device")
                .arg(format!("loader,file={MICROBIT_HEX}"))
                .arg("-serial")
                .arg(format!("tcp:127.0.0.1:{port},server=on,wait=off"))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
                assert!(std::time::Instant::now() < until, "qemu never listened");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Qemu(child)
        })
        .collect();
    let f = Fixture::new();
    let consoles: Vec<String> = ports
        .iter()
        .map(|p| format!("\"socket://127.0.0.1:{p}\""))
        .collect();
    f.write(
        "boards/pool.yaml",
        &format!(
            "kind: serial\nmodes: [source]\ntimeout: 10\nserial: {{consoles: [{}]}}\npacing: {{chunk_bytes: 32, pause_ms: 10}}\nlossy_link: true\n",
            consoles.join(", ")
        ),
    );
    for i in 0..24 {
        f.write(&format!("cases/g/c{i:02}.py"), &format!("print({i} * 3)\n"));
        f.write(&format!("golden/g/c{i:02}.out"), &format!("{}\n", i * 3));
    }
    let run = f.mpcheck(&["run", "--board", "pool"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    let mut per_member = std::collections::BTreeMap::<String, usize>::new();
    for r in f.results()["results"].as_array().unwrap() {
        *per_member
            .entry(r["member"].as_str().unwrap_or("none").to_string())
            .or_default() += 1;
    }
    eprintln!("{per_member:?}");
    assert_eq!(per_member.len(), 2, "{per_member:?}");
    assert!(per_member.values().all(|&n| n > 0), "{per_member:?}");
    // One line for the pool, each member with its count (members in name order).
    let line = err
        .lines()
        .find(|l| l.starts_with("pool pool: "))
        .unwrap_or_default();
    for p in &ports {
        let n = per_member[&format!("socket://127.0.0.1:{p}")];
        let ran = format!(
            "socket://127.0.0.1:{p} ran {n} {}",
            if n == 1 { "trial" } else { "trials" }
        );
        assert!(line.contains(&ran), "{ran}: {err}");
    }
}

#[test]
fn hung_board_is_recovered_and_the_next_case_passes() {
    let f = Fixture::new();
    f.write(
        "boards/mb.yaml",
        &microbit_board(Path::new(MICROBIT_HEX), "stdio"),
    );
    // One instance, cases in name order: each hang is followed by a case that must pass.
    f.write(
        "cases/g/a_hang.py",
        "# ---\n# timeout: 1\n# ---\nwhile True:\n    pass\n",
    );
    f.write("cases/g/b_ok.py", "print(1 + 1)\n");
    f.write(
        "cases/g/c_no_ctrl_c.py",
        "# ---\n# timeout: 1\n# exclude: {cpython: kbd_intr is MicroPython-only}\n# ---\nimport micropython\nmicropython.kbd_intr(-1)\nwhile True:\n    pass\n",
    );
    f.write("cases/g/d_ok.py", "print(3 * 3)\n");
    let run = f.mpcheck(&["run", "--board", "mb"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let hang = f.result("mb::g/a_hang");
    assert_eq!(hang["verdict"], "timeout");
    assert_eq!(hang["note"], "board recovered by Ctrl-C");
    assert_eq!(f.result("mb::g/b_ok")["verdict"], "pass");
    let stuck = f.result("mb::g/c_no_ctrl_c");
    assert_eq!(stuck["verdict"], "timeout");
    assert_eq!(stuck["note"], "board recovered by a hard reset");
    assert_eq!(f.result("mb::g/d_ok")["verdict"], "pass");
    // Each recovery is an event the console shows as it happens.
    let err = stderr(&run);
    for line in [
        "RECOVERED mb::g/a_hang: the board was brought back by Ctrl-C",
        "RECOVERED mb::g/c_no_ctrl_c: the board was brought back by a hard reset",
    ] {
        assert!(err.contains(line), "{err}");
    }
}

#[test]
fn killed_qemu_is_restarted_and_every_case_gets_a_verdict() {
    let f = Fixture::new();
    // A private copy of the firmware: its path identifies this test's QEMU to pkill.
    let fw = f.root().join("fw-kill-test.hex");
    std::fs::copy(MICROBIT_HEX, &fw).unwrap();
    f.write("boards/mb.yaml", &microbit_board(&fw, "stdio"));
    f.write(
        "cases/g/a_long.py",
        "# ---\n# timeout: 20\n# ---\nwhile True:\n    pass\n",
    );
    f.write("cases/g/b_ok.py", "print(1 + 1)\n");
    f.write("cases/g/c_ok.py", "print(2 + 2)\n");
    let child = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .arg("--root")
        .arg(f.root())
        .args(["run", "--board", "mb"])
        .env("MPCHECK_HOME", state_dir())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        Command::new("pgrep")
            .arg("-f")
            .arg(&fw)
            .output()
            .unwrap()
            .status
            .success()
    });
    assert!(started, "QEMU never appeared");
    // Past connecting and probing (about half a second): the endless case is running.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        Command::new("pkill")
            .args(["-9", "-f"])
            .arg(&fw)
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let long = f.result("mb::g/a_long");
    assert_eq!(long["verdict"], "crash", "{long}");
    assert!(
        long["detail"]
            .as_str()
            .unwrap()
            .contains("link to the board lost"),
        "{long}"
    );
    assert_eq!(f.result("mb::g/b_ok")["verdict"], "pass");
    assert_eq!(f.result("mb::g/c_ok")["verdict"], "pass");
}

#[test]
fn the_suite_over_socket_gives_the_same_verdicts_as_over_stdio() {
    // The same board (its goldens and exclusions are the micro:bit's) over either console,
    // each in its own project and at the same time: the two runs are this binary's
    // longest test, and the edit → test loop waits for it.
    let verdicts = |console: &str| -> Vec<(String, String)> {
        let f = Fixture::new();
        copy_from_repo(&f, &["cases", "golden"]);
        // Of the micro:bit's family, as the repository's microbit-qemu.yaml.
        f.write(
            "boards/microbit-qemu.yaml",
            &(microbit_board(Path::new(MICROBIT_HEX), console) + "family: microbit\n"),
        );
        let run = f.mpcheck(&["run", "--board", "microbit-qemu"]);
        assert_eq!(run.status.code(), Some(0), "{console}: {}", stderr(&run));
        f.results()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["case"].as_str().unwrap().to_string(),
                    r["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (stdio, socket) = std::thread::scope(|s| {
        let socket = s.spawn(|| verdicts("socket"));
        (verdicts("stdio"), socket.join().unwrap())
    });
    assert!(stdio.len() > 40);
    assert_eq!(stdio, socket);
}

#[test]
fn a_board_of_the_micro_bits_family_under_another_name_gets_its_goldens_and_exclusions() {
    // #24: the same firmware under another board name (a labgrid place, another port) is
    // known by its `family:`: the micro:bit's goldens (`const_fold.microbit.out`),
    // its case exclusions (async_basic) and known differences apply to it.
    let f = Fixture::new();
    copy_from_repo(&f, &["cases", "golden"]);
    let board = microbit_board(Path::new(MICROBIT_HEX), "stdio");
    // As the repository's microbit-qemu.yaml says it.
    f.write(
        "boards/microbit-qemu.yaml",
        &format!("{board}family: microbit\n"),
    );
    f.write(
        "boards/microbit-place.yaml",
        &format!("{board}family: microbit\n"),
    );
    let cases = ["memory/const_fold", "memory/const_global", "async_basic"];
    let verdicts = |board: &str| -> Vec<(String, String)> {
        let mut args = vec!["run", "--board", board];
        args.extend(cases);
        let run = f.mpcheck(&args);
        assert_eq!(run.status.code(), Some(0), "{board}: {}", stderr(&run));
        let results = f.results();
        let mut v: Vec<(String, String)> = results["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r["family"], "microbit", "{r}");
                (
                    r["case"].as_str().unwrap().to_string(),
                    r["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    // `boards check` lists files by family: the place beside the board it is.
    let check = f.mpcheck(&["boards", "check"]);
    let out = String::from_utf8_lossy(&check.stdout).into_owned();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..2], ["board", "family"], "{out}");
    let place = rows.iter().position(|r| r[0] == "microbit-place").unwrap();
    assert_eq!(rows[place][1], "microbit", "{out}");
    assert_eq!(rows[place + 1][0], "microbit-qemu", "{out}");
    let own = verdicts("microbit-qemu");
    assert_eq!(own.len(), 3, "{own:?}");
    assert_eq!(verdicts("microbit-place"), own);
    // Without the family, the same board is a stranger: the shared goldens fail it.
    f.write("boards/microbit-place.yaml", &board);
    let run = f.mpcheck(&["run", "--board", "microbit-place", "memory/const_fold"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
}

// ---- bytecode goldens ----

#[test]
fn const_losing_its_underscore_fails_the_bytecode_golden_showing_the_new_global() {
    let f = Fixture::new();
    f.write("boards/bytecode.yaml", "kind: bytecode\n");
    let case = "from micropython import const\nX = const(1)\n_Y = const(2)\nprint(X + _Y)\n";
    f.write("cases/g/c.py", case);
    let bless = f.mpcheck(&["bless", "--board", "bytecode"]);
    assert_eq!(bless.status.code(), Some(0), "{}", stderr(&bless));
    let golden = f.read("golden/g/c.bytecode");
    assert!(golden.starts_with("# MicroPython v1.28.0"), "{golden}");
    assert!(!golden.contains("STORE_NAME _Y"), "{golden}");

    f.write("cases/g/c.py", &case.replace("_Y", "Y"));
    let run = f.mpcheck(&["run", "--board", "bytecode"]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(err.contains("FAIL bytecode::g/c"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.trim_start().starts_with('+') && l.contains("STORE_NAME Y")),
        "{err}"
    );
}

#[test]
fn a_case_the_compiler_rejects_gets_a_compile_error_with_its_message() {
    let f = Fixture::new();
    f.write("boards/bytecode.yaml", "kind: bytecode\n");
    f.write("cases/g/bad.py", "def f(:\n    pass\n");
    f.write("cases/g/ok.py", "print(1)\n");
    let run = f.mpcheck(&["bless", "--board", "bytecode"]);
    assert_eq!(run.status.code(), Some(1));
    let bad = f.result("bytecode::g/bad");
    assert_eq!(bad["verdict"], "compile-error");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("mpy-cross (MicroPython v1.28.0"),
        "{bad}"
    );
    assert!(
        bad["message"].as_str().unwrap().contains("SyntaxError"),
        "{bad}"
    );
    assert!(f.root().join("golden/g/ok.bytecode").exists());
}

// ---- board files with probes (probe-rs chip database, offline), flashing ----

#[test]
fn boards_check_passes_for_every_shipped_board_file() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
        .arg("--root")
        .arg(repo)
        .args(["boards", "check"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}");
    let microbit = table
        .lines()
        .find(|l| l.starts_with("microbit-v1 "))
        .unwrap();
    assert!(
        microbit.contains("nRF51822_xxAA") && microbit.contains("243852 / 262144 bytes (93.0%)"),
        "{microbit}"
    );
    assert_eq!(
        table.lines().count(),
        1 + std::fs::read_dir(repo.join("boards")).unwrap().count()
    );
}

fn probe_board(chip: &str, firmware: &str) -> String {
    format!(
        "kind: serial\nserial: {{console: /dev/ttyACM0}}\nprobe:\n  chip: {chip}\n  firmware:\n    path: {firmware}\n    base_address: 0\n"
    )
}

#[test]
fn oversize_image_and_misspelt_chip_fail_validation() {
    let f = Fixture::new();
    // 1 MiB more than the nRF51822's 256 KiB of flash.
    std::fs::create_dir_all(f.root().join("boards")).unwrap();
    std::fs::write(
        f.root().join("boards/big.bin"),
        vec![0xa5u8; (256 + 1024) * 1024],
    )
    .unwrap();
    f.write("boards/big.yaml", &probe_board("nRF51822_xxAA", "big.bin")); // relative to the board file
    f.write("boards/typo.yaml", &probe_board("nRF52840_xxA", "big.bin"));
    let out = f.mpcheck(&["boards", "check", "big", "typo"]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    let big = table.lines().find(|l| l.starts_with("big ")).unwrap();
    assert!(
        big.contains("overflows flash region `nvm@0x00000000`") && big.contains("by 1048576 bytes"),
        "{big}"
    );
    let typo = table.lines().find(|l| l.starts_with("typo ")).unwrap();
    assert!(
        typo.contains("unknown chip `nRF52840_xxA`; did you mean nRF52840_xxAA"),
        "{typo}"
    );
}

#[test]
fn probes_and_flash_without_a_probe() {
    let f = Fixture::new();
    let out = f.mpcheck(&["probes"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no debug probes attached"));
    f.write(
        "boards/mb.yaml",
        "kind: serial\nserial: {console: /dev/ttyACM0}\nprobe:\n  chip: nRF51822_xxAA\n  probe: \"0d28:0204\"\n  firmware:\n    path: /usr/share/firmware-microbit-micropython/firmware.hex\n    exclude: [\"0x10001000..0x10001100\"]\n",
    );
    let out = f.mpcheck(&["flash", "mb"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "boards/mb.yaml: no debug probe attached (wanted 0d28:0204 for nRF51822_xxAA)"
        ),
        "{err}"
    );
}

#[test]
fn a_qemu_board_is_reflashed_only_when_its_firmware_changes() {
    let f = Fixture::new();
    let a = f.root().join("fw-a.hex");
    std::fs::copy(MICROBIT_HEX, &a).unwrap();
    f.write("cases/g/ok.py", "print(1)\n");
    let run = |firmware: &Path| {
        f.write("boards/mb.yaml", &microbit_board(firmware, "stdio"));
        let out = Command::new(env!("CARGO_BIN_EXE_mpcheck"))
            .arg("--root")
            .arg(f.root())
            .args(["run", "--board", "mb"])
            .env("MPCHECK_HOME", state_dir())
            .env_remove("CI")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stderr(&out)
            .lines()
            .filter(|l| l.contains("flash") || l.contains("image"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The flash record lives in the shared state dir: start this board name afresh.
    let _ = std::fs::remove_file(state_dir().join("flashed/mb.sha256"));
    assert!(run(&a).contains("never flashed here: flashing"));
    let again = run(&a);
    assert!(
        again.contains("unchanged since the last flash") && !again.contains("flashed "),
        "{again}"
    );
    let b = f.root().join("fw-b.hex");
    std::fs::copy(MICROBIT_HEX, &b).unwrap();
    let moved = run(&b);
    assert!(
        moved.contains("firmware path changed")
            && moved.contains(
                "qemu -M microbit boots the new image (243880 bytes) from its next start"
            )
            && !moved.contains(" in 0.0"),
        "{moved}"
    );
}

// ---- heap goldens ----

#[test]
fn one_more_list_fails_the_heap_golden_with_a_table_and_bless_restores_it() {
    let f = Fixture::new();
    f.write("boards/webassembly.yaml", "kind: webassembly\n");
    let case = "# ---\n# exclude: {cpython: heap figures}\n# heap: {}\n# ---\ny = [1, 2, 3]\nprint(len(y))\n";
    f.write("cases/g/h.py", case);
    assert_eq!(f.mpcheck(&["bless"]).status.code(), Some(0));
    let golden = f.read("golden/g/h.heap.yaml");
    assert_eq!(f.mpcheck(&["run"]).status.code(), Some(0));

    f.write(
        "cases/g/h.py",
        &case.replace("print(len(y))", "x = [0] * 10\nprint(len(y))"),
    );
    let run = f.mpcheck(&["run", "--board", "unix", "g/h"]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(err.contains("FAIL unix::g/h "), "{err}");
    assert!(
        err.contains("heap figures differ from")
            && err.contains("metric")
            && err.contains("golden")
            && err.contains("delta"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("live_bytes") && l.contains("beyond tolerance")),
        "{err}"
    );

    f.write("cases/g/h.py", case);
    assert_eq!(f.mpcheck(&["bless"]).status.code(), Some(0));
    assert_eq!(f.read("golden/g/h.heap.yaml"), golden);
}

#[test]
fn a_zero_allocation_case_that_allocates_fails_naming_the_line() {
    let f = Fixture::new();
    f.write(
        "cases/g/z.py",
        "# ---\n# exclude: {cpython: heap_lock}\n# modes: [source]\n# heap:\n#   zero_alloc: work\n# ---\ndef work():\n    n = 1 + 2\n    return [n]\n\nprint('ran')\n",
    );
    f.write("golden/g/z.out", "ran\n");
    let run = f.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let r = f.result("unix::g/z");
    assert_eq!(r["verdict"], "fail");
    let note = r["note"].as_str().unwrap();
    assert!(
        note.contains("allocated with the heap locked (zero_alloc function `work`)"),
        "{note}"
    );
    assert!(note.contains("line 9"), "{note}");
}

/// The heap case that runs only on the small-heap board (`boards:`), skipped on the VMs.
const SMALL_HEAP_ONLY: &str = "buffer_after_import.py";
const SMALL_HEAP_ONLY_CASE: &str = "heap/buffer_after_import";

#[test]
fn heap_figures_do_not_depend_on_where_the_checkout_is() {
    // The repository's heap goldens, checked from a temp dir with a different path.
    let f = Fixture::new();
    f.write("boards/webassembly.yaml", "kind: webassembly\n");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(f.root().join("cases")).unwrap();
    std::fs::create_dir_all(f.root().join("golden")).unwrap();
    copy_named_boards(&f);
    for (from, to) in [("cases/heap", "cases"), ("golden/heap", "golden")] {
        let status = Command::new("cp")
            .arg("-r")
            .arg(repo.join(from))
            .arg(f.root().join(to))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let run = f.mpcheck(&["run", "--board", "unix", "--board", "webassembly"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let heap_trials = f.results()["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["heap"]["live_bytes"].is_null())
        .count();
    // Every heap case (not the `_` helpers) measured on both VMs in both modes.
    let cases = std::fs::read_dir(repo.join("cases/heap"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.ends_with(".py") && !name.starts_with('_') && name != SMALL_HEAP_ONLY
        })
        .count();
    // heap/largest_buffer excludes webassembly, whose heap grows on demand.
    assert_eq!(heap_trials, cases * 4 - 2);
    // The free heap's shape too (from its own run), checked against the goldens above:
    // both VMs print mem_info(1)'s map, in 16- (webassembly) and 32-byte (unix) blocks.
    for r in f.results()["results"].as_array().unwrap() {
        if r["verdict"] == "skip" {
            let case = r["case"].as_str().unwrap_or_default();
            assert!(
                case == "heap/largest_buffer" || case == SMALL_HEAP_ONLY_CASE,
                "{r}"
            );
            continue;
        }
        let h = &r["heap"];
        let (free, largest) = (h["free_bytes"].as_i64(), h["largest_free_bytes"].as_i64());
        assert!(
            free.zip(largest).is_some_and(|(f, l)| 0 < l && l <= f),
            "{r}"
        );
        let block = if r["board"] == "unix" { 32 } else { 16 };
        assert_eq!(h["block_bytes"], block, "{r}");
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The changed lines of the unified diffs in a review's output.
fn changed_lines(review: &str) -> usize {
    review
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .count()
}

#[test]
fn a_run_stages_a_changed_golden_and_review_rejects_or_accepts_it() {
    let f = Fixture::new();
    f.write("cases/g/mp.py", MP_ONLY);
    assert_eq!(f.mpcheck(&["bless"]).status.code(), Some(0));
    f.write("golden/g/mp.out", "a\nB\nc\n");

    let run = f.mpcheck(&["run"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("1 golden change pending"),
        "{}",
        stderr(&run)
    );
    // Not a terminal and no flag: shows the diff, changes nothing.
    let show = f.mpcheck(&["review"]);
    assert_eq!(show.status.code(), Some(1));
    let text = stdout(&show);
    assert!(text.contains("changed golden golden/g/mp.out"), "{text}");
    assert!(text.contains("-B\n+b\n"), "{text}");
    assert_eq!(f.read("golden/g/mp.out"), "a\nB\nc\n");

    let reject = f.mpcheck(&["review", "--reject"]);
    assert_eq!(reject.status.code(), Some(0), "{}", stderr(&reject));
    assert_eq!(f.read("golden/g/mp.out"), "a\nB\nc\n");
    assert!(stderr(&f.mpcheck(&["review"])).contains("no pending"));

    assert_eq!(f.mpcheck(&["run"]).status.code(), Some(1));
    let accept = f.mpcheck(&["review", "--accept"]);
    assert_eq!(accept.status.code(), Some(0), "{}", stderr(&accept));
    assert_eq!(f.read("golden/g/mp.out"), "a\nb\nc\n");
    assert_eq!(f.mpcheck(&["run"]).status.code(), Some(0));
    assert!(stderr(&f.mpcheck(&["review"])).contains("no pending"));
}

#[test]
fn a_passing_multi_instance_case_with_no_golden_stages_none() {
    // Its trials are judged by the case on CPython instances; bless weighed the output
    // against one CPython run of the file instead (no instance runs there), so every
    // default run said "1 golden change pending" for instances/broadcast, which passed.
    let f = Fixture::new();
    let case = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/instances/broadcast.py"),
    )
    .unwrap();
    f.write("cases/instances/broadcast.py", &case);
    let run = f.mpcheck(&["run", "--board", "unix"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(!stderr(&run).contains("pending"), "{}", stderr(&run));
    assert!(stderr(&f.mpcheck(&["review"])).contains("no pending"));
}

#[test]
fn review_names_each_entrys_run_counts_what_a_filter_misses_and_drops_gone_cases() {
    // #39: review offered entries of deleted cases, did not say where an entry came
    // from, and a filter matching nothing said "no pending golden changes".
    let f = Fixture::new();
    f.write("cases/g/mp.py", MP_ONLY);
    f.write("cases/g/other.py", MP_ONLY);
    f.write("golden/g/mp.out", "wrong\n");
    f.write("golden/g/other.out", "wrong\n");
    assert_eq!(f.mpcheck(&["run"]).status.code(), Some(1));

    let show = f.mpcheck(&["review"]);
    let text = stdout(&show);
    assert!(
        text.contains("(case g/mp, staged by unix in run "),
        "{text}"
    );
    assert!(text.contains(" UTC):"), "{text}");

    let none = f.mpcheck(&["review", "nothing-matches"]);
    assert_eq!(none.status.code(), Some(0));
    assert!(
        stderr(&none)
            .contains("no pending golden change matches `nothing-matches` (2 pending in all)"),
        "{}",
        stderr(&none)
    );

    std::fs::remove_file(f.root().join("cases/g/other.py")).unwrap();
    let accept = f.mpcheck(&["review", "--accept"]);
    assert_eq!(accept.status.code(), Some(0), "{}", stderr(&accept));
    assert!(
        stderr(&accept).contains(
            "dropped the pending change to golden/g/other.out: case g/other no longer exists"
        ),
        "{}",
        stderr(&accept)
    );
    assert_eq!(f.read("golden/g/other.out"), "wrong\n");
    assert_eq!(f.read("golden/g/mp.out"), "a\nb\nc\n");
    assert!(stderr(&f.mpcheck(&["review"])).contains("no pending"));
}

#[test]
fn a_one_instruction_bytecode_change_reviews_in_a_few_lines() {
    let f = Fixture::new();
    f.write("boards/bytecode.yaml", "kind: bytecode\n");
    let case = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/basics/int_small.py"),
    )
    .unwrap();
    f.write("cases/basics/int_small.py", &case);
    assert_eq!(
        f.mpcheck(&["bless", "--board", "bytecode"]).status.code(),
        Some(0)
    );
    f.write(
        "cases/basics/int_small.py",
        &case.replacen("print(a + b", "print(a + b + 1", 1),
    );
    assert_eq!(
        f.mpcheck(&["run", "--board", "bytecode"]).status.code(),
        Some(1)
    );
    let review = stdout(&f.mpcheck(&["review", ".bytecode"]));
    assert!(
        review.contains("changed golden golden/basics/int_small.bytecode"),
        "{review}"
    );
    let n = changed_lines(&review);
    assert!((1..=15).contains(&n), "{n} changed lines:\n{review}");
}

#[test]
fn bless_on_one_board_keeps_the_shared_golden_other_boards_rely_on() {
    let f = Fixture::new();
    f.write("boards/unix2.yaml", "kind: unix\ntimeout: 10\n");
    let case = "# ---\n# exclude: {cpython: MicroPython-only}\n# ---\nprint('x')\n";
    f.write("cases/g/c.py", case);
    assert_eq!(f.mpcheck(&["bless"]).status.code(), Some(0));
    assert_eq!(f.read("golden/g/c.out"), "x\n");

    f.write("cases/g/c.py", &case.replace("'x'", "'y'"));
    let bless = f.mpcheck(&["bless", "--board", "unix"]);
    assert_eq!(bless.status.code(), Some(0), "{}", stderr(&bless));
    // unix2 was not blessed: its expectation (the shared golden) stays, and bless says so.
    assert!(
        stderr(&bless).contains("unix2 uses it and gave no output to bless"),
        "{}",
        stderr(&bless)
    );
    assert_eq!(f.read("golden/g/c.out"), "x\n");
    assert_eq!(f.read("golden/g/c.unix.out"), "y\n");
    // Both blessed: the shared golden follows and the override goes.
    assert_eq!(f.mpcheck(&["bless"]).status.code(), Some(0));
    assert_eq!(f.read("golden/g/c.out"), "y\n");
    assert!(!f.root().join("golden/g/c.unix.out").exists());
}

#[test]
fn a_wrong_shared_golden_is_fixed_when_its_only_runner_blesses_it() {
    // #39: a board that never runs by default (hardware) must not pin a wrong shared
    // golden; bless used to write c.unix.out beside it without a word.
    let f = Fixture::new();
    f.write(
        "boards/hw.yaml",
        "kind: unix\ntimeout: 10\ndefault: false\n",
    );
    let case = "# ---\n# exclude: {cpython: MicroPython-only}\n# ---\nprint('x')\n";
    f.write("cases/g/c.py", case);
    f.write("golden/g/c.out", "broken\n");
    let bless = f.mpcheck(&["bless", "g/c"]);
    assert_eq!(bless.status.code(), Some(0), "{}", stderr(&bless));
    assert_eq!(f.read("golden/g/c.out"), "x\n");
    assert!(!f.root().join("golden/g/c.unix.out").exists());
    assert!(
        stderr(&bless).contains("every board that uses it agrees (unix)"),
        "{}",
        stderr(&bless)
    );
}

#[test]
fn a_heap_golden_with_a_bad_value_is_an_error_and_is_not_rewritten() {
    let f = Fixture::new();
    let case = "# ---\n# exclude: {cpython: heap figures}\n# heap: {}\n# ---\ny = [1, 2, 3]\nprint(len(y))\n";
    f.write("cases/g/h.py", case);
    let bad = "# figures\nunix:\n  source:\n    live_bytes: lots\nother-board:\n  source:\n    live_bytes: 7\n";
    f.write("golden/g/h.heap.yaml", bad);
    f.write("golden/g/h.out", "3\n");
    let run = f.mpcheck(&["run", "g/h"]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(err.contains("ERROR unix::g/h "), "{err}");
    assert!(err.contains("h.heap.yaml:4:"), "{err}");
    let bless = f.mpcheck(&["bless", "g/h"]);
    assert_eq!(bless.status.code(), Some(1));
    assert!(
        stderr(&bless).contains("not rewriting"),
        "{}",
        stderr(&bless)
    );
    assert_eq!(
        f.read("golden/g/h.heap.yaml"),
        bad,
        "other boards' figures kept"
    );
    let stray: Vec<_> = std::fs::read_dir(f.root().join("golden/g"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty());
}

const COIN: &str = "# ---\n# exclude: {cpython: random}\n# modes: [source]\n# ---\nimport random\nprint(random.getrandbits(1))\n";

#[test]
fn a_random_bit_is_flaky_under_repeat_and_never_pass_after_a_failed_retry() {
    let f = Fixture::new();
    f.write("cases/g/coin.py", COIN);
    f.write("golden/g/coin.out", "0\n");
    // 20 fair coin flips all alike: 2 in a million.
    let run = f.mpcheck(&["run", "--repeat", "20", "--no-history"]);
    assert_eq!(run.status.code(), Some(1));
    let r = f.result("unix::g/coin");
    assert_eq!(r["verdict"], "flaky", "{r}");
    let detail = r["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("verdicts differ over 20 attempts: "),
        "{detail}"
    );
    assert_eq!(r["attempts"].as_array().unwrap().len(), 20);
    // --allow-flaky lets the run pass.
    let allowed = f.mpcheck(&["run", "--repeat", "20", "--no-history", "--allow-flaky"]);
    assert_eq!(allowed.status.code(), Some(0));

    for _ in 0..8 {
        assert!(
            f.mpcheck(&["run", "--retries", "3", "--no-history"])
                .status
                .code()
                .is_some()
        );
        let r = f.result("unix::g/coin");
        let attempts = r["attempts"].as_array().map_or(1, Vec::len);
        match r["verdict"].as_str().unwrap() {
            // A pass on the first attempt, never a pass after a failure.
            "pass" => assert_eq!(attempts, 1, "{r}"),
            "flaky" => assert!(attempts >= 2, "{r}"),
            "fail" => assert_eq!(attempts, 4, "{r}"),
            other => panic!("unexpected verdict {other}: {r}"),
        }
    }
}

#[test]
fn ten_runs_are_recorded_and_concurrent_runs_keep_every_row() {
    let f = Fixture::new();
    f.write("cases/g/coin.py", COIN);
    f.write("golden/g/coin.out", "0\n");
    f.write("cases/g/mp.py", MP_ONLY);
    f.write("golden/g/mp.out", "a\nb\nc\n");
    let db = f.root().join("shared-history.sqlite");
    let db_arg = db.to_str().unwrap();
    for _ in 0..8 {
        f.mpcheck(&["run", "--history", db_arg]);
    }
    // Two runs at once into one file (their own report dirs).
    let spawn = |dir: &str| {
        Command::new(env!("CARGO_BIN_EXE_mpcheck"))
            .arg("--root")
            .arg(f.root())
            .args(["run", "--history", db_arg, "--report-dir", dir])
            .env("MPCHECK_HOME", state_dir())
            .env_remove("CI")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (r1, r2) = (f.root().join("r1"), f.root().join("r2"));
    let mut a = spawn(r1.to_str().unwrap());
    let mut b = spawn(r2.to_str().unwrap());
    a.wait().unwrap();
    b.wait().unwrap();
    let shown = f.mpcheck(&["history", "--history", db_arg]);
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let text = stdout(&shown);
    assert!(text.contains(": 10 runs, 30 trial results"), "{text}");
    let coin = text
        .lines()
        .find(|l| l.starts_with("unix::g/coin"))
        .unwrap();
    assert!(coin.contains('%'), "{coin}");
    let mp = text.lines().find(|l| l.starts_with("unix::g/mp")).unwrap();
    assert!(
        mp.contains(".......... ") && mp.contains(" 0%"),
        "ten passes: {mp}"
    );
}

#[test]
fn a_quarantined_case_fails_the_run_again_after_its_expiry() {
    let f = Fixture::new();
    let case = |until: &str| {
        format!(
            "# ---\n# exclude: {{cpython: MicroPython-only}}\n# flaky: {{reason: drops a byte, until: {until}}}\n# ---\nprint('b')\n"
        )
    };
    f.write("golden/g/q.out", "a\n");
    f.write("cases/g/q.py", &case("2999-12-31"));
    let run = f.mpcheck(&["run", "--no-history"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let r = f.result("unix::g/q");
    assert!(
        r["quarantined"].as_str().unwrap().contains("drops a byte"),
        "{r}"
    );
    f.write("cases/g/q.py", &case("2000-01-01"));
    let run = f.mpcheck(&["run", "--no-history"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("quarantine expired on 2000-01-01"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn rerun_failed_runs_only_the_failures_and_fail_fast_stops_early() {
    let f = Fixture::new();
    f.write("cases/g/mp.py", MP_ONLY);
    f.write("golden/g/mp.out", "a\nb\nc\n");
    f.write(
        "cases/g/bad.py",
        "# ---\n# exclude: {cpython: MicroPython-only}\n# ---\nprint(1)\n",
    );
    f.write("golden/g/bad.out", "2\n");
    assert_eq!(f.mpcheck(&["run", "--no-history"]).status.code(), Some(1));
    let again = f.mpcheck(&["run", "--rerun-failed", "--no-history"]);
    assert_eq!(again.status.code(), Some(1));
    let names: Vec<String> = f.results()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["unix::g/bad", "unix::g/bad.mpy"]);
    let fast = f.mpcheck(&["run", "--fail-fast", "-j", "1", "--no-history"]);
    assert_eq!(fast.status.code(), Some(1));
    let skipped = f.results()["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["reason"]
                .as_str()
                .is_some_and(|x| x.contains("--fail-fast"))
        })
        .count();
    assert!(skipped >= 1, "{}", f.read("reports/results.json"));
}

// ---- boards built from a MicroPython source tree (the builds: tests/firmware_build.rs) ----

/// Named on the command line, a board that cannot run here stops the run: a nightly job
/// that lost its tree is red, not green on skips.
fn assert_refused_as_named(out: &std::process::Output, board: &str, why: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "board `{board}` is named on the command line but cannot run here: {why}"
        )),
        "{err}"
    );
}

#[test]
fn without_micropy_src_the_shipped_board_is_unavailable_and_says_what_to_set() {
    let f = Fixture::new();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("boards/mps2-an385-qemu.yaml");
    f.write(
        "boards/mps2-an385-qemu.yaml",
        &std::fs::read_to_string(&shipped).unwrap(),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mpcheck"))
            .arg("--root")
            .arg(f.root())
            .args(args)
            .env("MPCHECK_HOME", state_dir())
            .env_remove("MICROPY_SRC")
            .env_remove("MPCHECK_MPS2_AN385_FIRMWARE")
            .output()
            .unwrap()
    };
    let out = run(&["run", "--board", "mps2-an385-qemu"]);
    const WHY: &str = "set MICROPY_SRC to a MicroPython checkout, or MPCHECK_MPS2_AN385_FIRMWARE to a prebuilt image";
    assert_refused_as_named(&out, "mps2-an385-qemu", WHY);
    // A default board that cannot run here is skipped with the reason.
    f.write("golden/g/add.out", "3\n");
    f.write(
        "boards/mps2-an385-qemu.yaml",
        &std::fs::read_to_string(shipped)
            .unwrap()
            .replace("default: false", "default: true"),
    );
    let out = run(&["run"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(WHY), "{err}");
    for name in ["mps2-an385-qemu::g/add", "mps2-an385-qemu::g/add.mpy"] {
        let r = f.result(name);
        assert_eq!(r["verdict"], "skip", "{r}");
        assert_eq!(r["reason"], format!("board unavailable: {WHY}"), "{r}");
    }
}

#[test]
fn without_micropy_src_the_shipped_unix_src_board_is_unavailable_and_says_what_to_set() {
    let f = Fixture::new();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("boards/unix-src.yaml");
    f.write(
        "boards/unix-src.yaml",
        &std::fs::read_to_string(shipped).unwrap(),
    );
    f.write("cases/g/add.py", "print(1 + 2)\n");
    const WHY: &str = "set MICROPY_SRC to a MicroPython checkout";
    let out = f
        .command(&["run", "--board", "unix-src"])
        .env_remove("MICROPY_SRC")
        .output()
        .unwrap();
    assert_refused_as_named(&out, "unix-src", WHY);
    // It is a default board: unnamed, it is skipped with the reason.
    f.write("golden/g/add.out", "3\n");
    let out = f
        .command(&["run"])
        .env_remove("MICROPY_SRC")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(WHY), "{err}");
    for name in ["unix-src::g/add", "unix-src::g/add.mpy"] {
        let r = f.result(name);
        assert_eq!(r["verdict"], "skip", "{r}");
        assert_eq!(r["reason"], format!("board unavailable: {WHY}"), "{r}");
    }
    let list = f
        .command(&["list", "--board", "unix-src"])
        .env_remove("MICROPY_SRC")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout).contains(&format!(
            "unix-src::g/add  (skip: board unavailable: {WHY})"
        )),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );
}

/// The shipped default boards plan the unix port's frozen trials on `unix-src` alone: the
/// pinned `unix` board (a prebuilt VM) has none, and says where they are when asked for;
/// with MICROPY_SRC set no unix frozen trial is skipped, without it `unix-src`'s are, with
/// the variable to set.
#[test]
fn the_default_boards_run_unix_frozen_trials_on_unix_src_only() {
    let f = Fixture::empty();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("boards");
    for board in ["unix", "unix-src"] {
        let file = format!("{board}.yaml");
        f.write(
            &format!("boards/{file}"),
            &std::fs::read_to_string(shipped.join(&file)).unwrap(),
        );
    }
    f.write("cases/g/add.py", "print(1 + 2)\n");
    let list = |src: Option<&Path>| {
        let mut c = f.command(&["list"]);
        match src {
            Some(src) => c.env("MICROPY_SRC", src),
            None => c.env_remove("MICROPY_SRC"),
        };
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("ports/unix")).unwrap();
    std::fs::write(tree.path().join("ports/unix/Makefile"), "").unwrap();
    assert_eq!(
        list(Some(tree.path())),
        "unix-src::g/add\nunix-src::g/add.mpy\nunix-src::g/add.frozen\nunix::g/add\nunix::g/add.mpy\n"
    );
    let without = list(None);
    assert!(!without.contains("unix::g/add.frozen"), "{without}");
    assert!(
        without.contains(
            "unix-src::g/add.frozen  (skip: board unavailable: set MICROPY_SRC to a MicroPython checkout)"
        ),
        "{without}"
    );
    let out = f
        .command(&["list", "--board", "unix", "--mode", "frozen"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .ends_with("(unix: mpy, source); frozen: on unix-src, built from MICROPY_SRC\n"),
        "{}",
        stderr(&out)
    );
}

/// A case measured in two modes gets one row of the heap-by-mode table, in summary.md
/// and index.html alike: both figures per mode and what `.mpy` saves against source.
#[test]
fn heap_by_mode_is_in_the_markdown_and_the_html_report() {
    let f = Fixture::new();
    f.write(
        "cases/heap/mod.py",
        "# ---\n# exclude: {cpython: heap figures are MicroPython's}\n# heap: {}\n# ---\nclass P:\n    def f(self):\n        return [1, 2]\nT = tuple(range(40))\n",
    );
    f.write(
        "cases/heap/empty.py",
        "# ---\n# exclude: {cpython: heap}\n# heap: {}\n# ---\n",
    );
    let run = f.mpcheck(&["bless", "--board", "unix", "--no-history"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    // A heap trial's own runs are phases of it: the empty case's and the fragmentation run.
    let phases = &f.result("unix::heap/mod")["phases_ms"];
    assert!(
        phases["frag"].as_f64().is_some_and(|ms| ms > 0.0),
        "{phases}"
    );
    assert!(phases["calibrate"].as_f64().is_some(), "{phases}");
    let md = f.read("reports/summary.md");
    let section = md.split("## Heap by mode").nth(1).unwrap_or_default();
    let row = section
        .lines()
        .find(|l| l.starts_with("| heap/mod | unix | "))
        .unwrap_or_else(|| panic!("no heap-by-mode row:\n{md}"));
    let cells: Vec<&str> = row.split(" | ").collect();
    // source and mpy measured (live / allocated), no frozen on the unix port here
    assert!(
        cells[2].contains(" / ") && cells[3].contains(" / "),
        "{row}"
    );
    assert_eq!(cells[4], "–", "{row}");
    assert!(cells[5].ends_with('%'), "{row}");
    // Each mode's largest free block after the case and the index: `2061568 (0.0027)`.
    for free in &cells[7..9] {
        let (bytes, index) = free.split_once(" (").unwrap_or_else(|| panic!("{row}"));
        assert!(bytes.parse::<i64>().is_ok_and(|b| b > 0), "{row}");
        assert!(index.starts_with("0.") && index.ends_with(')'), "{row}");
    }
    assert_eq!(cells[9].trim_end_matches(" |"), "–", "{row}");
    let html = f.read("reports/index.html");
    assert!(html.contains("<table id=\"heap-by-mode\">"), "{html}");
    for cell in &cells[1..9] {
        assert!(
            html.contains(&format!("<td>{cell}</td>")),
            "{cell} not in the HTML"
        );
    }
}

/// What a run would skip for reasons its board files and the environment already give is
/// listed with the reason, not as if it would run: a board whose firmware variable is
/// unset, and the unix port's frozen mode without a checkout to build it from.
#[test]
fn list_shows_the_skips_board_files_and_environment_decide() {
    let f = Fixture::new();
    f.write("cases/g/add.py", "print(1 + 2)\n");
    f.write("boards/ux.yaml", "kind: unix\nmodes: [source, frozen]\n");
    f.write(
        "boards/q.yaml",
        "kind: qemu\nmodes: [source]\nqemu:\n  machine: mps2-an385\n  firmware: ${MPCHECK_SURELY_UNSET_FW}\n",
    );
    let out = f
        .command(&["list", "--board", "ux", "--board", "q"])
        .env_remove("MICROPY_SRC")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "ux::g/add", "{text}");
    assert_eq!(
        lines[1],
        "ux::g/add.frozen  (skip: frozen mode on the unix port needs a MicroPython checkout with ports/unix: set MICROPY_SRC)",
        "{text}"
    );
    assert!(
        lines[2].starts_with("q::g/add  (skip: board unavailable: ")
            && lines[2].contains("MPCHECK_SURELY_UNSET_FW"),
        "{text}"
    );
}

/// An interrupted run says how far it got: the trial Ctrl-C cut short is not counted as
/// finished ("2 of 2 trials finished" was said of a run that finished one).
#[test]
fn an_interrupted_run_counts_the_trial_cut_short_apart() {
    let f = Fixture::new();
    f.write("cases/g/quick.py", "print(1)\n");
    f.write("cases/g/slow.py", "import time\ntime.sleep(20)\nprint(2)\n");
    f.write("golden/g/slow.out", "2\n");
    let child = f
        .command(&[
            "run",
            "--board",
            "unix",
            "--mode",
            "source",
            "--no-history",
            "-j",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The quick case is done well within this; the slow one is still sleeping.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let line = "1 of 2 trials finished, 1 cut short, 0 not started";
    assert!(
        err.contains(&format!("interrupted: {line}; reports")),
        "{err}"
    );
    let md = f.read("reports/summary.md");
    assert!(md.contains(line), "{md}");
}
