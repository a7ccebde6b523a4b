//! `labgrid-client` as a subprocess: one call per command, as one identity
//! (`host/user`), with a hang timeout. labgrid's CLI is its public interface; its
//! output is parsed only where a decision depends on it (who holds a place).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::error::LabgridError;
use crate::boardfile::labgrid::LabgridSpec;

/// A labgrid-client call talks to the coordinator once (well under a second on a LAN);
/// a minute means the coordinator or the network hangs, not a slow answer. A power cycle
/// includes the driver's off-time (2 s by default), still far below this.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How this process talks to one place's coordinator.
#[derive(Debug, Clone)]
pub struct Client {
    pub binary: PathBuf,
    pub spec: LabgridSpec,
    /// Who we are to the coordinator, `host/user` (see [`identity`]).
    pub identity: Identity,
}

/// The coordinator knows an acquirer as `host/user`. mpcheck makes the user part unique
/// to this process (`<user>.mpcheck<pid>`) so that two runs on one machine contend for a
/// place like two people would, and so that releasing only ever releases our own hold
/// (`release-from host/user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub host: String,
    pub user: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.host, self.user)
    }
}

/// This process's identity: `LG_HOSTNAME`/`LG_USERNAME` as labgrid reads them, else the
/// host name and login name (as Python's `getpass.getuser`: `LOGNAME`, `USER`, then
/// the uid), with `.mpcheck<pid>` appended to the user.
pub fn identity() -> Identity {
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty() && !v.contains('/'))
    };
    let host = env("LG_HOSTNAME").unwrap_or_else(crate::util::host::hostname);
    let user = env("LG_USERNAME")
        .or_else(|| env("LOGNAME"))
        .or_else(|| env("USER"))
        .unwrap_or_else(login_name);
    Identity {
        host,
        user: format!("{user}.mpcheck{}", std::process::id()),
    }
}

/// The password database's name for our uid (`uid<N>` when it has none).
fn login_name() -> String {
    // SAFETY: getuid has no preconditions; getpwuid_r writes only into `pwd` and `buf`
    // (their sizes given) and sets `result` to `&pwd` or null; `pw_name` points into
    // `buf`, read before either goes out of scope.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = [0 as libc::c_char; 1024];
        let mut result = std::ptr::null_mut();
        libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if result.is_null() || pwd.pw_name.is_null() {
            return format!("uid{uid}");
        }
        std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

/// What a finished call printed.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Client {
    pub fn new(binary: PathBuf, spec: LabgridSpec) -> Self {
        Self {
            binary,
            spec,
            identity: identity(),
        }
    }

    /// The command line for `args` on this place, as this identity. Used for the
    /// guardian too, so every call is made the same way.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.binary);
        if let Some(c) = &self.spec.coordinator {
            cmd.args(["--coordinator", c]);
        }
        cmd.args(["--place", &self.spec.place])
            .args(args)
            .env("LG_HOSTNAME", &self.identity.host)
            .env("LG_USERNAME", &self.identity.user)
            // Python buffers a pipe's output; a killed call would lose it.
            .env("PYTHONUNBUFFERED", "1");
        cmd
    }

    /// Runs one call to its end (or [`CALL_TIMEOUT`]). The call runs in its own process
    /// group: a Ctrl-C at the terminal must not kill an acquire or a release halfway.
    pub fn call(&self, args: &[&str]) -> Result<Output, LabgridError> {
        use std::os::unix::process::CommandExt;
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|source| LabgridError::Spawn {
                client: self.binary.display().to_string(),
                source,
            })?;
        let drain = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_string(&mut s);
                }
                s
            })
        };
        let out = drain(child.stdout.take().map(|r| Box::new(r) as _));
        let err = drain(child.stderr.take().map(|r| Box::new(r) as _));
        let until = Instant::now() + CALL_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(LabgridError::Hung {
                        place: self.spec.place.clone(),
                        coordinator: self.spec.coordinator_name(),
                        command: args.join(" "),
                        after: CALL_TIMEOUT,
                    });
                }
            }
        };
        Ok(Output {
            success: status.success(),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        })
    }

    /// As [`Client::call`], a failure being an error carrying what labgrid said.
    pub fn call_ok(&self, args: &[&str]) -> Result<Output, LabgridError> {
        let out = self.call(args)?;
        if out.success {
            return Ok(out);
        }
        Err(self.failed(args, &out))
    }

    pub fn failed(&self, args: &[&str], out: &Output) -> LabgridError {
        LabgridError::Client {
            place: self.spec.place.clone(),
            coordinator: self.spec.coordinator_name(),
            command: args.join(" "),
            said: said(out),
        }
    }
}

/// labgrid-client's own error lines (it prints `labgrid-client: Error: ...` on stderr),
/// or everything it printed when there are none.
fn said(out: &Output) -> String {
    let text = format!("{}{}", out.stderr, out.stdout);
    let errors: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| l.to_ascii_lowercase().contains("error"))
        .collect();
    if errors.is_empty() {
        text.trim().to_string()
    } else {
        errors.join("; ")
    }
}

/// Who holds the place, from a failed acquire's message; `None`: it failed for another
/// reason. labgrid 24–26 say `Place NAME is already acquired by HOST/USER.` when the
/// client saw the holder, and `Place NAME is already acquired` when the coordinator
/// refused a place another client took a moment before.
pub fn holder(acquire_stderr: &str) -> Option<String> {
    if let Some(rest) = acquire_stderr.split("is already acquired by ").nth(1) {
        let holder = rest
            .split(|c: char| c.is_whitespace())
            .next()?
            .trim_end_matches(['.', ',']);
        return holder.contains('/').then(|| holder.to_string());
    }
    acquire_stderr
        .contains("is already acquired")
        .then(|| "another client".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_is_read_from_labgrids_message() {
        let msg = "labgrid-client: Error: Place pl is already acquired by vm/alice. To work simultaneously, alice can execute 'labgrid-client -p pl allow vm/bob' on vm.\n";
        assert_eq!(holder(msg).as_deref(), Some("vm/alice"));
        assert_eq!(
            holder("labgrid-client: Error: place pattern nope matches nothing"),
            None
        );
        assert_eq!(holder("is already acquired by nobody"), None);
        // The race: free when the client looked, taken when the coordinator answered.
        assert_eq!(
            holder("labgrid-client: Server error: Error: Place microbit-1 is already acquired\n")
                .as_deref(),
            Some("another client")
        );
    }

    #[test]
    fn said_keeps_the_error_lines() {
        let out = Output {
            success: false,
            stdout: String::new(),
            stderr: "ERROR          root: coordinator is unavailable: refused\nServer error: Error: Could not connect to coordinator\n".into(),
        };
        assert_eq!(
            said(&out),
            "ERROR root: coordinator is unavailable: refused; Server error: Error: Could not connect to coordinator"
        );
    }

    #[test]
    fn identity_is_unique_to_this_process() {
        let id = identity();
        assert!(
            id.user
                .ends_with(&format!(".mpcheck{}", std::process::id())),
            "{id}"
        );
        assert!(!id.host.is_empty() && !id.host.contains('/'));
    }
}
