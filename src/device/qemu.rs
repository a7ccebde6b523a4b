//! A board emulated by a QEMU child process: spawned in its own process group, console on
//! its stdio or on a loopback TCP port, killed on drop; "hard reset" restarts it.

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::shared_ram::SharedRam;
use super::tcp::TcpTransport;
use super::transport::Transport;
use crate::boardfile::config::{QemuConsole, SharedRamConfig};
use crate::boardfile::icount::Icount;

/// Everything needed to start (and restart) one emulated board.
#[derive(Debug, Clone)]
pub struct QemuSpec {
    pub binary: String,
    pub machine: String,
    pub firmware: PathBuf,
    pub extra_args: Vec<String>,
    pub console: QemuConsole,
    /// The machine's RAM to share with the harness (see [`super::shared_ram`]).
    pub shared_ram: Option<SharedRamConfig>,
    /// Exact virtual time (see [`Icount`]).
    pub icount: Option<Icount>,
}

enum Link {
    Stdio {
        stdin: ChildStdin,
        stdout: ChildStdout,
    },
    Socket(TcpTransport),
}

pub struct QemuTransport {
    spec: QemuSpec,
    child: Child,
    link: Link,
    /// Tail of QEMU's stderr, for messages when it dies.
    stderr: StderrTail,
    /// The machine's RAM, also mapped here; kept across restarts.
    shared_ram: Option<SharedRam>,
}

/// Enough stderr to show QEMU's last complaint without growing without bound.
const STDERR_KEEP: usize = 4096;
/// QEMU on this machine boots to its UART in under 0.1 s; 10 s covers a loaded host.
const START_TIMEOUT: Duration = Duration::from_secs(10);

impl QemuTransport {
    pub fn spawn(spec: QemuSpec) -> io::Result<Self> {
        if !spec.firmware.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("firmware {} not found", spec.firmware.display()),
            ));
        }
        let shared_ram = spec.shared_ram.map(SharedRam::create).transpose()?;
        let (child, link, stderr) = start(&spec, shared_ram.as_ref())?;
        Ok(Self {
            spec,
            child,
            link,
            stderr,
            shared_ram,
        })
    }

    pub fn spec(&self) -> &QemuSpec {
        &self.spec
    }

    fn kill(&mut self) {
        // The child leads its own process group; signal the group so helpers die too.
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals a process group; no memory involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
        crate::util::interrupt::untrack(self.child.id());
    }

    fn exit_error(&mut self, what: &str) -> io::Error {
        // The pipe closes a moment before the process can be reaped; 200 ms is plenty
        // for the status to appear after a kill.
        let until = Instant::now() + Duration::from_millis(200);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        let status = match self.child.try_wait() {
            Ok(Some(s)) => format!("exited ({s})"),
            Ok(None) => "still running".to_string(),
            Err(e) => format!("status unknown ({e})"),
        };
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr);
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{what}: qemu {status}; stderr: {:?}", stderr.trim()),
        )
    }
}

/// QEMU's stderr tail, filled by a reader thread.
type StderrTail = Arc<Mutex<Vec<u8>>>;

fn start(spec: &QemuSpec, ram: Option<&SharedRam>) -> io::Result<(Child, Link, StderrTail)> {
    let mut cmd = Command::new(&spec.binary);
    cmd.arg("-M").arg(&spec.machine);
    let fw = spec.firmware.display().to_string();
    if fw.ends_with(".elf") {
        cmd.arg("-kernel").arg(&spec.firmware);
    } else {
        cmd.arg("-device").arg(format!("loader,file={fw}"));
    }
    cmd.args(["-nographic", "-monitor", "none"]);
    let port = match spec.console {
        QemuConsole::Stdio => {
            cmd.args(["-serial", "stdio"]);
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
            None
        }
        QemuConsole::Socket => {
            let port = free_loopback_port()?;
            cmd.arg("-serial")
                .arg(format!("tcp:127.0.0.1:{port},server=on,wait=off"));
            cmd.stdin(Stdio::null()).stdout(Stdio::null());
            Some(port)
        }
    };
    cmd.args(&spec.extra_args);
    if let Some(icount) = spec.icount {
        cmd.args(icount.qemu_args());
    }
    if let Some(ram) = ram {
        cmd.args(ram.qemu_args());
        let fd = ram.fd();
        // SAFETY: runs in the forked child before exec; fcntl(2) is async-signal-safe.
        // Only the child's copy of the descriptor loses close-on-exec, so no other
        // child this process spawns inherits it.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd.stderr(Stdio::piped()).process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start {}: {e}", spec.binary)))?;
    // Ctrl-C / SIGTERM kill the emulator's group (see `interrupt`).
    crate::util::interrupt::track(child.id());
    let stderr = Arc::new(Mutex::new(Vec::new()));
    if let Some(mut pipe) = child.stderr.take() {
        let keep = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut k) = keep.lock() {
                    k.extend_from_slice(&buf[..n]);
                    let excess = k.len().saturating_sub(STDERR_KEEP);
                    k.drain(..excess);
                }
            }
        });
    }
    let link = match port {
        None => Link::Stdio {
            stdin: child.stdin.take().expect("stdin piped"),
            stdout: child.stdout.take().expect("stdout piped"),
        },
        Some(port) => {
            let addr = format!("127.0.0.1:{port}");
            match TcpTransport::connect_until(&addr, Instant::now() + START_TIMEOUT) {
                Ok(t) => Link::Socket(t),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    crate::util::interrupt::untrack(child.id());
                    return Err(io::Error::new(
                        e.kind(),
                        format!("qemu console {addr}: {e}"),
                    ));
                }
            }
        }
    };
    Ok((child, link, stderr))
}

/// Ask the OS for a free loopback port. Another process could take it before QEMU binds
/// it; QEMU then fails to start and the error says so.
fn free_loopback_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Wait until `fd` is readable or `timeout` passes.
fn poll_readable(fd: i32, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd, count 1.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(r > 0)
}

impl Transport for QemuTransport {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let r = match &mut self.link {
            Link::Stdio { stdin, .. } => stdin.write_all(bytes).and_then(|_| stdin.flush()),
            Link::Socket(t) => t.write(bytes),
        };
        r.map_err(|e| self.exit_error(&format!("write failed ({e})")))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let r = match &mut self.link {
            Link::Stdio { stdout, .. } => {
                if !poll_readable(stdout.as_raw_fd(), timeout)? {
                    return Ok(0);
                }
                match stdout.read(buf) {
                    Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof")),
                    other => other,
                }
            }
            Link::Socket(t) => t.read(buf, timeout),
        };
        r.map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                self.exit_error("console closed")
            } else {
                e
            }
        })
    }

    fn describe(&self) -> String {
        let console = match &self.link {
            Link::Stdio { .. } => "stdio".to_string(),
            Link::Socket(t) => t.describe(),
        };
        format!(
            "qemu -M {} ({}, {console})",
            self.spec.machine,
            self.spec.firmware.display()
        )
    }

    fn can_hard_reset(&self) -> bool {
        true
    }

    /// Kill QEMU and start it again: the board boots from scratch (flash filesystem too).
    fn hard_reset(&mut self) -> io::Result<()> {
        self.kill();
        let (child, link, stderr) = start(&self.spec, self.shared_ram.as_ref())?;
        self.child = child;
        self.link = link;
        self.stderr = stderr;
        Ok(())
    }

    fn process_id(&self) -> Option<u32> {
        Some(self.child.id())
    }

    fn shared_ram(&mut self) -> Option<&mut SharedRam> {
        self.shared_ram.as_mut()
    }
}

impl Drop for QemuTransport {
    fn drop(&mut self) {
        self.kill();
    }
}
