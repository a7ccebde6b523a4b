//! The guardian: a small process that releases a place when mpcheck is gone, however it
//! went (normal end, Ctrl-C, panic, SIGKILL). It reads a pipe whose only writer is
//! mpcheck; end-of-file (mpcheck closed it, or the kernel did because mpcheck died) runs
//! `labgrid-client release-from HOST/USER`, which releases the place only while it is
//! still ours. A normal end goes the same way (mpcheck closes the pipe and waits), so
//! the crash path is the path every run takes. Only a run that never acquired the
//! place says so first (`none`), and the guardian ends without a call.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::client::Client;

/// `sh` ignores the signals that end a run (a Ctrl-C at the terminal reaches the whole
/// foreground process group; a CI runner's SIGTERM too), waits for a line or
/// end-of-file, then (unless the line is `none`) becomes labgrid-client (which keeps the
/// ignored SIGINT: Python leaves an ignored signal ignored).
const SCRIPT: &str =
    r#"trap "" INT TERM HUP; IFS= read -r line; [ "$line" = none ] && exit 0; exec "$@""#;

/// A release call's own hang limit plus start-up: how long a normal end waits for it.
const RELEASE_WAIT: Duration = Duration::from_secs(75);

pub struct Guardian {
    child: Child,
    pipe: Option<ChildStdin>,
}

impl Guardian {
    /// Starts the guardian for `client`'s place, its output appended to `log`.
    pub fn spawn(client: &Client, log: &Path) -> std::io::Result<Guardian> {
        let release = client.command(&["release-from", &client.identity.to_string()]);
        let log_file = File::options().create(true).append(true).open(log)?;
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(SCRIPT)
            .arg("mpcheck-labgrid-guardian")
            .arg(release.get_program())
            .args(release.get_args())
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            // Its own process group: not killed with the run's children.
            .process_group(0);
        for (k, v) in release.get_envs() {
            if let Some(v) = v {
                sh.env(k, v);
            }
        }
        let mut child = sh.spawn()?;
        let pipe = child.stdin.take();
        Ok(Guardian { child, pipe })
    }

    /// Releases the place now (`acquired`; else the guardian just ends): closes the
    /// pipe, waits for the release to finish. `Err`: what went wrong, for a notice (the
    /// place may stay held).
    pub fn release(mut self, acquired: bool) -> Result<(), String> {
        if let (false, Some(pipe)) = (acquired, &mut self.pipe) {
            let _ = std::io::Write::write_all(pipe, b"none\n");
        }
        drop(self.pipe.take());
        let until = Instant::now() + RELEASE_WAIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) if s.success() => return Ok(()),
                Ok(Some(s)) => return Err(format!("labgrid-client release-from exited {s}")),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    return Err(format!(
                        "labgrid-client release-from did not finish in {} s",
                        RELEASE_WAIT.as_secs()
                    ));
                }
                Err(e) => return Err(format!("could not wait for the release: {e}")),
            }
        }
    }
}
