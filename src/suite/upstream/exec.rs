//! How a host VM runs an upstream test, as run-tests.py runs it on a PC, without writing
//! into the checkout: "tests" below is the run's copy of the checkout's `tests/`
//! ([`crate::suite::workdir`]), where the tests' own writes land.
//!
//! ```text
//! plain       micropython [board args] -X emit=<emit>   /tests/dir/test.py  cwd = test dir
//! via .mpy    micropython [board args] -X emit=<emit>   -m <module>         cwd = test dir,
//!             the .mpy in a scratch dir first on MICROPYPATH (upstream writes it beside the test)
//! special     micropython [# cmdline: args] cmdline/test.py                 cwd = tests
//! repl_*      the same on a pseudo-terminal, the file fed line by line
//! CPython     python3 -B -S /tests/dir/test.py                              cwd = test dir
//! ```
//!
//! MICROPYPATH is upstream's: `.frozen`, the checkout's `extmod/`, and micropython-lib's
//! `unittest` (so unittest-based tests import it).

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::UpstreamCase;
use super::exp_rule::ControlCodes;
use crate::boardfile::HostKind;
use crate::model::case::Mode;
use crate::model::outcome::{Outcome, Status};
use crate::targets::{HostVm, RunRequest, SuiteRun};

/// How quiet the terminal must stay before a REPL line's output is taken as complete
/// (run-tests.py's `select` timeout).
pub(crate) const REPL_QUIET: Duration = Duration::from_millis(20);

/// The module name a test's `.mpy` is imported as: not the test's own name, or the
/// `.py` beside it in the test dir (cwd, first on `sys.path`) would be found first.
pub(crate) fn mpy_module(case_name: &str) -> String {
    format!("mpcheck_mpy_{case_name}")
}

fn micropypath(u: &UpstreamCase, first: Option<&Path>) -> std::ffi::OsString {
    let mut p = std::ffi::OsString::new();
    if let Some(f) = first {
        p.push(f);
        p.push(":");
    }
    p.push(".frozen:");
    p.push(u.tests_dir.join("../extmod"));
    p.push(":");
    p.push(
        u.tests_dir
            .join("../lib/micropython-lib/python-stdlib/unittest"),
    );
    p
}

impl SuiteRun for UpstreamCase {
    fn run_on_host(&self, vm: &HostVm, request: &RunRequest, scratch: &Path) -> Option<Outcome> {
        run(vm.kind, vm.path, vm.args, self, request, scratch)
            .map(|ran| crate::suite::workdir::as_in_checkout(&self.tests_dir, ran))
    }

    fn host_command(&self, vm: &HostVm, request: &RunRequest, scratch: &Path) -> Option<Command> {
        command(vm.kind, vm.path, vm.args, self, request, scratch)
    }
}

/// The command for a test on a host VM; `None` where it is not a plain command (a REPL
/// test needs a terminal) or not a kind this module knows (webassembly runs as usual).
fn command(
    kind: HostKind,
    vm: &Path,
    board_args: &[String],
    u: &UpstreamCase,
    request: &RunRequest,
    scratch: &Path,
) -> Option<Command> {
    let tests = crate::suite::workdir::tests_copy(&u.tests_dir).ok()?;
    let path = tests.join(&u.rel);
    let dir = path.parent()?.to_path_buf();
    let mut c = Command::new(vm);
    match kind {
        HostKind::Cpython => {
            c.args(["-B", "-S"])
                .args(board_args)
                .arg(&path)
                .current_dir(&dir);
            c.env("PYTHONIOENCODING", "utf-8");
        }
        HostKind::Unix if u.special => {
            if u.repl {
                return None;
            }
            c.args(&u.cmdline)
                .arg(&u.rel)
                .current_dir(&tests)
                .env("MICROPYPATH", micropypath(u, None));
        }
        HostKind::Unix => {
            c.args(board_args)
                .arg("-X")
                .arg(format!("emit={}", u.emit.as_str()));
            match request.mode {
                Mode::Source => {
                    c.arg(&path).env("MICROPYPATH", micropypath(u, None));
                }
                // Upstream suites are planned in source and mpy modes only.
                Mode::Frozen => return None,
                Mode::Mpy => {
                    let module = mpy_module(&request.case.id.name);
                    std::fs::write(scratch.join(format!("{module}.mpy")), request.mpy?).ok()?;
                    c.arg("-m")
                        .arg(module)
                        .env("MICROPYPATH", micropypath(u, Some(scratch)));
                }
            }
            c.current_dir(&dir);
        }
        HostKind::Webassembly => return None,
    }
    Some(c)
}

/// Runs a test on a host VM; `None` when the host target should run it its usual way.
fn run(
    kind: HostKind,
    vm: &Path,
    board_args: &[String],
    u: &UpstreamCase,
    request: &RunRequest,
    scratch: &Path,
) -> Option<Outcome> {
    let tests = match crate::suite::workdir::tests_copy(&u.tests_dir) {
        Ok(t) => t,
        Err(e) => return Some(Outcome::not_started(e, Duration::ZERO)),
    };
    if kind == HostKind::Unix && u.special && u.repl {
        let mut c = Command::new(vm);
        c.args(&u.cmdline)
            .current_dir(&tests)
            .env("MICROPYPATH", micropypath(u, None));
        let sigint = u.exp_rule.sigint.as_ref();
        let ctrl_c = sigint
            .filter(|s| s.wanted(&request.case.source))
            .map(|s| s.key.as_slice());
        return Some(run_repl(
            c,
            &request.case.source,
            u.exp_rule.control.as_ref(),
            ctrl_c,
            request.timeout,
        ));
    }
    let cmd = command(kind, vm, board_args, u, request, scratch)?;
    // A test that binds a fixed port has it to itself, and one that writes files where
    // it runs has its directory (ports first, in order, then the directory: one order
    // for every test, so none waits on another that waits on it).
    let source = String::from_utf8_lossy(&request.case.source);
    let mut locks: Vec<_> = super::shared_use::fixed_ports(&source)
        .into_iter()
        .map(super::shared_use::TestLock::port)
        .collect();
    if super::shared_use::writes_files(&source) {
        locks.extend(cmd.get_current_dir().map(super::shared_use::TestLock::dir));
    }
    let _held: Vec<_> = locks.iter().map(|l| l.hold()).collect();
    // Threaded tests run as plain processes: thread/stress_recurse overflowed its
    // thread's stack in 2 of 6 forked runs and in none of the plain ones (measured).
    let threaded = source.contains("_thread");
    let forked = match kind {
        HostKind::Unix if threaded => None,
        HostKind::Unix => super::zygote::run(vm, &cmd, request.timeout),
        HostKind::Cpython => super::zygote::run_cpython(vm, &cmd, request.timeout),
        HostKind::Webassembly => None,
    };
    if forked.is_some() {
        return forked;
    }
    Some(crate::targets::process::run(cmd, request.timeout))
}

/// Feeds a script to the VM's REPL on a pseudo-terminal, line by line, as run-tests.py
/// does: the banner, then each line's echo and output once the terminal is quiet; a
/// `{\xNN}` in a line is a control byte as the checkout's rule says (`control`; `None`:
/// sent as written); Ctrl-D at the end. With `ctrl_c` (a `# sigint:` test) the VM gets
/// the pty as its controlling terminal, so a Ctrl-C is a SIGINT to it, and a line holding
/// that key is sent as a lone `\x03`, waiting for the VM's answer.
pub(crate) fn run_repl(
    mut cmd: Command,
    script: &[u8],
    control: Option<&ControlCodes>,
    ctrl_c: Option<&[u8]>,
    timeout: Duration,
) -> Outcome {
    let start = Instant::now();
    let (mut master, slave) = match open_pty() {
        Ok(p) => p,
        Err(e) => {
            return Outcome::not_started(format!("could not open a pty: {e}"), start.elapsed());
        }
    };
    let stdio = |fd: &OwnedFd| fd.try_clone().map(Stdio::from);
    match (stdio(&slave), stdio(&slave), stdio(&slave)) {
        (Ok(i), Ok(o), Ok(e)) => {
            cmd.stdin(i).stdout(o).stderr(e);
            if ctrl_c.is_some() {
                controlling_terminal(&mut cmd);
            } else {
                cmd.process_group(0);
            }
        }
        _ => return Outcome::not_started("could not share the pty".into(), start.elapsed()),
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome::not_started(format!("could not start the VM: {e}"), start.elapsed());
        }
    };
    drop(cmd);
    let deadline = start + timeout;
    let mut out = read_banner(&mut master, deadline);
    for line in script.split_inclusive(|&b| b == b'\n') {
        if Instant::now() >= deadline {
            break;
        }
        if let Some(key) = ctrl_c
            && line.windows(key.len()).any(|w| w == key)
        {
            let _ = master.write_all(b"\x03");
            out.extend(read_quiet(&mut master, true, deadline));
            continue;
        }
        let line = control.map_or_else(|| line.to_vec(), |c| c.apply(line));
        let _ = master.write_all(&line);
        out.extend(read_answer(&mut master, deadline));
    }
    let _ = master.write_all(b"\x04");
    read_quiet(&mut master, false, deadline);
    let timed_out = Instant::now() >= deadline;
    // SAFETY: killpg only sends a signal to the VM's own process group.
    unsafe {
        libc::killpg(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    drop(slave);
    let status = if timed_out {
        Status::TimedOut(timeout)
    } else {
        Status::Exited(0)
    };
    Outcome::new(out, false, status, start.elapsed())
}

/// The VM in a session of its own with the pty (its stdin) as controlling terminal and
/// itself in the foreground, as run-tests.py's `preexec_fn` for `# sigint:` tests: the
/// terminal driver then turns a typed Ctrl-C into SIGINT. Its process group is its pid,
/// as with `process_group(0)`. SIGINT is set back to its default: a process started
/// from a script's background job (a CI step, `cmd &`) inherits it ignored, and a VM or
/// shell that finds it ignored may keep it so.
fn controlling_terminal(cmd: &mut Command) {
    // SAFETY: signal, setsid, ioctl and tcsetpgrp are async-signal-safe and touch only
    // the child.
    unsafe {
        cmd.pre_exec(|| {
            if libc::signal(libc::SIGINT, libc::SIG_DFL) == libc::SIG_ERR
                || libc::setsid() < 0
                || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0
                || libc::tcsetpgrp(0, libc::getpid()) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// How long the banner may take to end in the REPL's prompt once output has begun.
const BANNER_WAIT: Duration = Duration::from_secs(2);

/// The VM's first output, read until it ends in the REPL's prompt (`>>> `; at most
/// [`BANNER_WAIT`] after it began), not only until a quiet time: a VM slowed by a loaded
/// machine that prints `-c`'s output, pauses, then sets up its terminal discards what
/// was typed before (the line run-tests.py would lose to that race, mpcheck keeps).
fn read_banner(master: &mut std::fs::File, deadline: Instant) -> Vec<u8> {
    let mut out = read_quiet(master, true, deadline);
    let until = (Instant::now() + BANNER_WAIT).min(deadline);
    while !out.ends_with(b">>> ") && Instant::now() < until {
        out.extend(read_quiet(master, false, until));
    }
    out
}

/// How long a typed line's echo may take to begin.
const ECHO_WAIT: Duration = Duration::from_secs(1);

/// A typed line's answer: its echo (waited for up to [`ECHO_WAIT`]: a REPL echoes every
/// line) and what follows until a quiet time. Without the wait a VM slowed by a loaded
/// machine is sent the next line before it has read this one, and a REPL that edits
/// as it reads (autoindent, emacs keys) answers typed-ahead keys otherwise.
fn read_answer(master: &mut std::fs::File, deadline: Instant) -> Vec<u8> {
    let until = (Instant::now() + ECHO_WAIT).min(deadline);
    let mut out = Vec::new();
    while out.is_empty() && Instant::now() < until {
        out = read_quiet(master, false, until);
    }
    out
}

/// Reads until the terminal has been quiet for [`REPL_QUIET`]; with `required`, first
/// waits for at least some output.
fn read_quiet(master: &mut std::fs::File, required: bool, deadline: Instant) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let mut pfd = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, a bounded timeout.
        let ready = unsafe { libc::poll(&mut pfd, 1, REPL_QUIET.as_millis() as i32) };
        if ready > 0 && pfd.revents & libc::POLLIN != 0 {
            match master.read(&mut buf) {
                Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => return got,
            }
        } else if !required || !got.is_empty() || Instant::now() >= deadline {
            return got;
        }
    }
}

fn open_pty() -> std::io::Result<(std::fs::File, OwnedFd)> {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two fds; the name/termios/winsize pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just opened and are owned here alone.
    unsafe {
        Ok((
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repl_on_a_pty_echoes_and_answers() {
        // `cat` on a terminal echoes what is typed and prints each line back.
        let mut c = Command::new("sh");
        c.args(["-c", "echo banner; exec cat"]);
        let o = run_repl(c, b"hello\n", None, None, Duration::from_secs(10));
        let text = String::from_utf8_lossy(&o.output);
        assert!(text.starts_with("banner"), "{text:?}");
        assert!(text.matches("hello").count() >= 2, "{text:?}");
        assert_eq!(o.status, Status::Exited(0));
    }

    #[test]
    fn the_first_line_waits_for_the_prompt_a_slow_banner_ends_in() {
        // Prints, pauses, discards what was typed meanwhile (as a REPL setting up its
        // terminal does), then prompts: a line sent after the first quiet time is lost.
        let script = "import sys, termios, time\n\
            print('test', flush=True)\n\
            time.sleep(0.3)\n\
            termios.tcflush(0, termios.TCIFLUSH)\n\
            sys.stdout.write('>>> '); sys.stdout.flush()\n\
            print('got', sys.stdin.readline().strip(), flush=True)\n";
        let mut c = Command::new("python3");
        c.args(["-c", script]);
        let o = run_repl(c, b"hello\n", None, None, Duration::from_secs(10));
        let text = String::from_utf8_lossy(&o.output);
        assert!(text.contains("got hello"), "{text:?}");
    }

    #[test]
    fn a_line_waits_for_a_slow_answer_to_the_line_before() {
        // Echoes itself (the terminal's echo off, as a REPL's raw mode), answers the first
        // line late, then discards what was typed meanwhile: a second line sent after the
        // first quiet time is lost.
        let script = "import sys, termios, time\n\
            a = termios.tcgetattr(0); a[3] &= ~termios.ECHO\n\
            termios.tcsetattr(0, termios.TCSANOW, a)\n\
            sys.stdout.write('>>> '); sys.stdout.flush()\n\
            one = sys.stdin.readline().strip(); time.sleep(0.3)\n\
            print('got', one, flush=True)\n\
            termios.tcflush(0, termios.TCIFLUSH)\n\
            sys.stdout.write('>>> '); sys.stdout.flush()\n\
            print('got', sys.stdin.readline().strip(), flush=True)\n";
        let mut c = Command::new("python3");
        c.args(["-c", script]);
        let o = run_repl(c, b"a\nb\n", None, None, Duration::from_secs(10));
        let text = String::from_utf8_lossy(&o.output);
        assert!(text.contains("got a") && text.contains("got b"), "{text:?}");
    }

    #[test]
    fn a_sigint_line_interrupts_the_vm_through_its_terminal() {
        // A shell that traps SIGINT answers only if Ctrl-C reached it as a signal. The
        // terminal echoes nothing (`stty -echo`; a VM's REPL answers Ctrl-C itself): the
        // line's answer is then the trap's, waited for, not the terminal's echo followed
        // by a quiet time. Run from a background job (SIGINT ignored, as .ci/run was
        // started here), it failed until the VM's SIGINT was set back to its default.
        let script =
            "stty -echo; trap 'echo got-sigint' INT; echo banner; while true; do sleep 0.05; done";
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        let o = run_repl(
            c,
            b"{\\x03}\n",
            None,
            Some(b"{\\x03}"),
            Duration::from_secs(10),
        );
        let text = String::from_utf8_lossy(&o.output);
        assert!(text.contains("got-sigint"), "{text:?}");
    }
}
