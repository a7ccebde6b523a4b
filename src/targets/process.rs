//! Runs one VM process: merged stdout+stderr captured up to a cap, a wall-clock timeout
//! that kills the whole process group, and the exit status. Shared by every host target.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::model::outcome::{Outcome, Status};

/// Why 1 MiB: goldens are a few KB; a case printing far more is broken, and the cap keeps
/// the harness's memory per running case at about this size (a 200 MB print costs 1 MiB).
pub const OUTPUT_CAP: usize = 1 << 20;

/// After the VM has exited, how long to wait for its output pipe to close (a daemonised
/// grandchild could hold it open forever).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

pub fn run(cmd: Command, timeout: Duration) -> Outcome {
    run_with_stdin(cmd, timeout, Stdio::null())
}

/// [`run`] with `stdin` as the VM's standard input (a script it reads, as upstream's
/// natmod tests feed the unix port).
pub fn run_with_stdin(mut cmd: Command, timeout: Duration, stdin: Stdio) -> Outcome {
    let start = Instant::now();
    let not_started = |why: String| Outcome::not_started(why, start.elapsed());
    let (reader, writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return not_started(format!("could not create a pipe: {e}")),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return not_started(format!("could not create a pipe: {e}")),
    };
    // Its own process group, so a timeout kills the VM and anything it started.
    cmd.stdin(stdin)
        .stdout(writer)
        .stderr(writer2)
        .process_group(0);
    let program = cmd.get_program().to_string_lossy().to_string();
    let child = cmd.spawn();
    // Drop our copies of the pipe's write end, or the reader never sees end of file.
    drop(cmd);
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return not_started(format!("could not start {program}: {e}")),
    };
    let pgid = child.id() as i32;
    crate::util::interrupt::track(child.id());

    let (out_tx, out_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = out_tx.send(read_capped(reader, OUTPUT_CAP));
    });
    let (wait_tx, wait_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = wait_tx.send(child.wait());
    });

    let status = match wait_rx.recv_timeout(timeout) {
        Ok(Ok(s)) => match (s.code(), s.signal()) {
            (Some(code), _) => Status::Exited(code),
            (None, Some(sig)) => Status::Signalled(sig),
            (None, None) => Status::Exited(-1),
        },
        Ok(Err(e)) => Status::NotStarted(format!("could not wait for {program}: {e}")),
        Err(_) => {
            kill_group(pgid);
            let _ = wait_rx.recv();
            Status::TimedOut(timeout)
        }
    };
    // Stragglers in the group (a VM's helper processes) go too.
    kill_group(pgid);
    crate::util::interrupt::untrack(pgid as u32);
    // Killed by the interrupt, not by the case: not a verdict about the case.
    let status = if crate::util::interrupt::requested() {
        Status::NotStarted(INTERRUPTED.into())
    } else {
        status
    };
    let duration = start.elapsed();
    let (output, truncated) = out_rx
        .recv_timeout(DRAIN_GRACE)
        .unwrap_or_else(|_| (b"<output pipe held open by a stray process>".to_vec(), true));
    Outcome::new(output, truncated, status, duration)
}

/// Why a trial that Ctrl-C or SIGTERM cut short has no verdict about the case.
pub const INTERRUPTED: &str = "interrupted: the run was stopped before this trial finished";

fn kill_group(pgid: i32) {
    // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Past this much output a case is flooding: reads are batched (see [`read_capped`]).
const FLOOD_BYTES: usize = 64 * 1024;

/// Reads to end of file, keeping the first `cap` bytes and discarding the rest. A VM that
/// prints line by line makes one write per line; read as they come, a million-line flood
/// costs the harness a million reads (a second of CPU). Once the output is past
/// [`FLOOD_BYTES`], each read waits a millisecond first, so the pipe fills and one read
/// takes up to its whole buffer; ordinary outputs never wait.
fn read_capped(mut r: impl Read, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut truncated = false;
    let mut seen = 0usize;
    loop {
        if seen > FLOOD_BYTES {
            std::thread::sleep(Duration::from_millis(1));
        }
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                seen += n;
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                truncated |= n > room;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    (kept, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> Outcome {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        run(c, Duration::from_millis(timeout_ms))
    }

    #[test]
    fn captures_stdout_and_stderr_in_order() {
        let o = sh("echo one; echo two >&2; echo three", 5000);
        assert_eq!(o.output, b"one\ntwo\nthree\n");
        assert_eq!(o.status, Status::Exited(0));
    }

    #[test]
    fn exit_code_and_signal() {
        assert_eq!(sh("exit 3", 5000).status, Status::Exited(3));
        assert_eq!(
            sh("kill -SEGV $$", 5000).status,
            Status::Signalled(libc::SIGSEGV)
        );
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let start = Instant::now();
        // The background sleeper holds the pipe: only a group kill ends it.
        let o = sh("sleep 30 & sleep 30", 300);
        assert!(matches!(o.status, Status::TimedOut(_)));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn output_is_capped_and_marked() {
        let o = sh("head -c 3000000 /dev/zero", 10000);
        assert_eq!(o.output.len(), OUTPUT_CAP);
        assert!(o.truncated);
        assert_eq!(o.status, Status::Exited(0));
    }

    #[test]
    fn missing_program_is_not_started() {
        let o = run(Command::new("/nonexistent/vm"), Duration::from_secs(1));
        assert!(matches!(o.status, Status::NotStarted(ref m) if m.contains("/nonexistent/vm")));
    }
}
