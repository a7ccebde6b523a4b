//! A fork server for the pinned unix port. The pinned build (a PyPI wheel) is a Python
//! entry-point script that imports the VM as an extension module (`micropython_run`)
//! and calls its `main`; starting CPython and loading the module costs more than most
//! tests take. A zygote loads it once and forks a child per test, which sets up cwd,
//! environment and fds as the plain process would have them and calls the same
//! `run_main(argv)`: the same VM code on a fresh, never-used copy of its state.
//!
//! Used only when the VM is that wrapper script; any problem falls back to a plain
//! process. `MPCHECK_NO_ZYGOTE=1` turns it off (to measure without it).

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::outcome::{Outcome, Status};

/// The loop both servers share: a JSON request per line, a forked child per request
/// with its own process group, output file, stdin and cwd (the rest is each server's);
/// the parent answers the child's pid, then its wait status.
macro_rules! fork_child {
    () => {
        r#"for line in sys.stdin.buffer:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 98
        try:
            os.setpgid(0, 0)
            fd = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
            os.chdir(req["cwd"])
"#
    };
}

macro_rules! answer_pid_and_status {
    () => {
        r#"    sys.stdout.write("%d\n" % pid)
    sys.stdout.flush()
    _, status = os.waitpid(pid, 0)
    sys.stdout.write("%d\n" % status)
    sys.stdout.flush()
"#
    };
}

const SERVER: &str = concat!(
    r#"
import os, sys, json, ctypes
import micropython_run
libc = ctypes.CDLL(None)
"#,
    fork_child!(),
    r#"            os.environ.pop("MICROPYPATH", None)
            for k, v in req["env"].items():
                os.environ[k] = v
            code = micropython_run.run_main(req["argv"])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            code = 97
        libc.fflush(None)
        os._exit(code if isinstance(code, int) else 1)
"#,
    answer_pid_and_status!()
);

/// The CPython reference's server: each child runs a test file as `python3 -B -S
/// FILE` would (its directory first on `sys.path`, `__main__`, an uncaught exception's
/// traceback without the server's own frames, printed before stdout is flushed).
const CPYTHON_SERVER: &str = concat!(
    r#"
import os, sys, json, runpy, traceback, gc
# run_path imports pkgutil (and re, typing, enum, ...) on first use: once here rather
# than in every child (10 ms a test down to 3.5 ms, measured); a test sees the same
# modules either way, as they are imported before its code runs. Frozen: the children
# do not copy the server's pages to collect them.
runpy.run_path(os.devnull, run_name="__main__")
gc.freeze()
"#,
    fork_child!(),
    r#"            for k, v in req["env"].items():
                os.environ[k] = v
            path = req["argv"][-1]
            sys.argv = [path]
            sys.path[0] = os.path.dirname(path)
            try:
                runpy.run_path(path, run_name="__main__")
                code = 0
            except SystemExit as e:
                c = e.code
                if c is None:
                    code = 0
                elif isinstance(c, int):
                    code = c
                else:
                    print(c, file=sys.stderr)
                    code = 1
            except BaseException as e:
                tb = e.__traceback__
                while tb is not None and tb.tb_frame.f_code.co_filename != path:
                    tb = tb.tb_next
                traceback.print_exception(type(e), e, tb)
                code = 1
        except BaseException:
            code = 97
        try:
            sys.stderr.flush()
            sys.stdout.flush()
        except BaseException:
            pass
        os._exit(code)
"#,
    answer_pid_and_status!()
);

struct Zygote {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Zygote {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Idle zygotes per VM wrapper (one per worker that has used one).
static POOL: Mutex<Vec<((PathBuf, bool), Zygote)>> = Mutex::new(Vec::new());

fn disabled() -> bool {
    std::env::var_os("MPCHECK_NO_ZYGOTE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The interpreter of the pinned wrapper script, if `vm` is one.
fn wrapper_python(vm: &Path) -> Option<PathBuf> {
    if disabled() {
        return None;
    }
    let text = std::fs::read(vm).ok()?;
    let text = String::from_utf8(text).ok()?;
    if !text.contains("from micropython_unix import main") {
        return None;
    }
    let python = text.lines().next()?.strip_prefix("#!")?.trim();
    Some(PathBuf::from(python))
}

fn spawn(python: &Path, cpython: bool) -> Option<Zygote> {
    let mut c = Command::new(python);
    if cpython {
        // As the reference runs: no .pyc files, no site packages, UTF-8 output.
        c.args(["-B", "-S", "-c", CPYTHON_SERVER])
            .env("PYTHONIOENCODING", "utf-8");
    } else {
        c.arg("-c").arg(SERVER);
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let stdin = child.stdin.take()?;
    let stdout = BufReader::new(child.stdout.take()?);
    Some(Zygote {
        child,
        stdin,
        stdout,
    })
}

/// Runs `cmd` (a command line for the wrapper `vm`) in a zygote; `None` when the VM is
/// not the wrapper or the zygote failed (then the caller runs a plain process).
pub(crate) fn run(vm: &Path, cmd: &Command, timeout: Duration) -> Option<Outcome> {
    let python = wrapper_python(vm)?;
    run_in(python, false, vm, cmd, timeout)
}

/// Runs `cmd` (`python3 -B -S [args] FILE`) in a CPython zygote.
pub(crate) fn run_cpython(python: &Path, cmd: &Command, timeout: Duration) -> Option<Outcome> {
    if disabled() {
        return None;
    }
    run_in(python.to_path_buf(), true, python, cmd, timeout)
}

fn run_in(
    python: PathBuf,
    cpython: bool,
    vm: &Path,
    cmd: &Command,
    timeout: Duration,
) -> Option<Outcome> {
    let key = (python, cpython);
    let mut z = {
        let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
        match pool.iter().position(|(k, _)| *k == key) {
            Some(i) => pool.swap_remove(i).1,
            None => {
                drop(pool);
                spawn(&key.0, cpython)?
            }
        }
    };
    let out = tempfile::NamedTempFile::new().ok()?;
    let mut argv = vec![vm.to_string_lossy().into_owned()];
    argv.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    let env: serde_json::Map<String, serde_json::Value> = cmd
        .get_envs()
        .filter_map(|(k, v)| {
            Some((
                k.to_string_lossy().into_owned(),
                v?.to_string_lossy().into(),
            ))
        })
        .collect();
    let req = serde_json::json!({
        "argv": argv,
        "cwd": cmd.get_current_dir().unwrap_or(Path::new(".")),
        "env": env,
        "out": out.path(),
    });
    let start = Instant::now();
    writeln!(z.stdin, "{req}").ok()?;
    z.stdin.flush().ok()?;
    let mut line = String::new();
    z.stdout.read_line(&mut line).ok()?;
    let pid: i32 = line.trim().parse().ok()?;
    line.clear();
    let status = match wait_line(&mut z.stdout, start + timeout, &mut line) {
        true => decode(line.trim().parse().ok()?),
        false => {
            // SAFETY: the test's child leads its own process group.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
            line.clear();
            z.stdout.read_line(&mut line).ok()?;
            Status::TimedOut(timeout)
        }
    };
    let duration = start.elapsed();
    let (output, truncated) = read_capped(out.path());
    POOL.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((key, z));
    Some(Outcome::new(output, truncated, status, duration))
}

/// Reads a line, waiting at most until `deadline`; false on timeout.
fn wait_line(r: &mut BufReader<ChildStdout>, deadline: Instant, line: &mut String) -> bool {
    if r.buffer().contains(&b'\n') {
        return r.read_line(line).is_ok();
    }
    let mut pfd = libc::pollfd {
        fd: r.get_ref().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let left = deadline.saturating_duration_since(Instant::now());
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
    ready > 0 && r.read_line(line).is_ok()
}

fn decode(status: i32) -> Status {
    if libc::WIFEXITED(status) {
        Status::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Status::Signalled(libc::WTERMSIG(status))
    } else {
        Status::Exited(-1)
    }
}

fn read_capped(path: &Path) -> (Vec<u8>, bool) {
    use std::io::Read;
    let cap = crate::targets::process::OUTPUT_CAP;
    let mut v = Vec::new();
    let Ok(f) = std::fs::File::open(path) else {
        return (v, false);
    };
    let _ = f.take(cap as u64 + 1).read_to_end(&mut v);
    let truncated = v.len() > cap;
    v.truncate(cap);
    (v, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_decode() {
        assert_eq!(decode(3 << 8), Status::Exited(3));
        assert_eq!(decode(9), Status::Signalled(9));
    }

    #[test]
    fn a_plain_binary_is_not_a_wrapper() {
        assert_eq!(wrapper_python(Path::new("/bin/sh")), None);
    }
}
