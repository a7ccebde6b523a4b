//! One instance as a process (a host VM or CPython), as run-multitests.py's
//! `PyInstanceSubProcess`: `<vm> -c <script>` in the test's directory, stdout and stderr
//! merged, read line by line on a thread of its own; input written for `BROADCAST`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Sender;

/// What an instance's reader thread reports, tagged with the instance's number.
#[derive(Debug)]
pub(crate) enum Event {
    Line(String),
    Ended,
}

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
        events: Sender<(usize, Event)>,
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
        crate::interrupt::track(child.id());
        let stdin = child.stdin.take();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(reader);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match lines.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if events.send((instance, Event::Line(decode(&buf)))).is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = events.send((instance, Event::Ended));
        });
        Ok(Process { child, stdin })
    }

    /// Writes a line to its input, ended `\r\n` as upstream writes it. An instance that
    /// has ended cannot read it, which is no error.
    pub(crate) fn write_line(&mut self, line: &str) {
        if let Some(stdin) = &mut self.stdin {
            let _ = stdin
                .write_all(format!("{line}\r\n").as_bytes())
                .and_then(|()| stdin.flush());
        }
    }

    /// Stops it and everything it started.
    pub(crate) fn stop(&mut self) {
        self.stdin = None;
        let pgid = self.child.id() as i32;
        // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
        crate::interrupt::untrack(self.child.id());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A line as upstream reads it: ASCII with `\xNN` for other bytes, right-stripped.
pub(crate) fn decode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii() {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_decoded_as_upstream_decodes_them() {
        assert_eq!(decode(b"caf\xc3\xa9 \r\n"), "caf\\xc3\\xa9");
    }

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
            i == 3 && matches!(e, Event::Line(ref l) if l == "one"),
            "{e:?}"
        );
        p.write_line("hello");
        let (_, e) = rx.recv().unwrap();
        assert!(matches!(e, Event::Line(ref l) if l == "got hello"), "{e:?}");
        let (_, e) = rx.recv().unwrap();
        assert!(matches!(e, Event::Ended), "{e:?}");
    }
}
