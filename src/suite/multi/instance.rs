//! One instance as a process (a host VM or CPython), as run-multitests.py's
//! `PyInstanceSubProcess`: `<vm> -c <script>` in the test's directory, stdout and stderr
//! merged, read line by line on a thread of its own; input written for `BROADCAST`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::targets::instance::{Events, InstanceEvent, RunningInstance, decode};

/// A started instance.
pub(crate) struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Process {
    /// Starts `command -c script` in `cwd`; its lines go to `events` as `(instance, …)`.
    pub(crate) fn start(
        mut command: Command,
        script: &[u8],
        cwd: &Path,
        micropypath: Option<&str>,
        instance: usize,
        events: Events,
    ) -> Result<Process, String> {
        let program = command.get_program().to_string_lossy().to_string();
        let (reader, writer) =
            std::io::pipe().map_err(|e| format!("could not create a pipe: {e}"))?;
        let writer2 = writer
            .try_clone()
            .map_err(|e| format!("could not create a pipe: {e}"))?;
        use std::os::unix::ffi::OsStrExt;
        command
            .arg("-c")
            .arg(std::ffi::OsStr::from_bytes(script))
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(writer)
            .stderr(writer2)
            // Its own group: stopping it stops anything it started.
            .process_group(0);
        if let Some(path) = micropypath {
            command.env("MICROPYPATH", path);
        }
        let child = command.spawn();
        // Our copies of the write end must go, or the reader never sees end of file.
        drop(command);
        let mut child = child.map_err(|e| format!("could not start {program}: {e}"))?;
        crate::util::interrupt::track(child.id());
        let stdin = child.stdin.take();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(reader);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match lines.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if events
                            .send((instance, InstanceEvent::Line(decode(&buf))))
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
            let _ = events.send((instance, InstanceEvent::Ended));
        });
        Ok(Process { child, stdin })
    }
}

impl RunningInstance for Process {
    fn write_line(&mut self, line: &str) {
        if let Some(stdin) = &mut self.stdin {
            let _ = stdin
                .write_all(format!("{line}\r\n").as_bytes())
                .and_then(|()| stdin.flush());
        }
    }

    /// Stops it and everything it started (its own process group).
    fn stop(&mut self) {
        self.stdin = None;
        let pgid = self.child.id() as i32;
        // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
        crate::util::interrupt::untrack(self.child.id());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_read_and_written() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut sh = Command::new("sh");
        // `sh -c SCRIPT`: echoes, then reads one line and echoes it back.
        sh.arg("-e");
        let mut p = Process::start(
            sh,
            b"echo one >&2; read x; echo \"got $x\"",
            Path::new("/"),
            None,
            3,
            tx,
        )
        .unwrap();
        let (i, e) = rx.recv().unwrap();
        assert!(
            i == 3 && matches!(e, InstanceEvent::Line(ref l) if l == "one"),
            "{e:?}"
        );
        p.write_line("hello");
        let (_, e) = rx.recv().unwrap();
        assert!(
            matches!(e, InstanceEvent::Line(ref l) if l == "got hello"),
            "{e:?}"
        );
        let (_, e) = rx.recv().unwrap();
        assert!(matches!(e, InstanceEvent::Ended), "{e:?}");
    }
}
