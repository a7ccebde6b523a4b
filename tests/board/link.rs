//! Consoles not owned by the session: QEMU started here with its UART on a loopback TCP
//! port or a pty, reached as a `serial` board (`socket://`, a device path), plus a lossy
//! link in front of it to exercise corruption detection.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mpcheck::boardfile::config::SerialConfig;
use mpcheck::boardfile::{BoardConfig, Pacing};
use mpcheck::device::{BoardError, BoardSession};

use super::common::{T, basic_suite, firmware, two_kb_script};

/// A QEMU micro:bit with the given `-serial` argument, killed (whole group) on drop.
pub struct Qemu(pub Child);

impl Qemu {
    pub fn start(serial: &str) -> Self {
        let child = Command::new("qemu-system-arm")
            .args(["-M", "microbit", "-device"])
            .arg(format!("loader,file={}", firmware()))
            .args(["-nographic", "-monitor", "none", "-serial", serial])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start qemu");
        Qemu(child)
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        // SAFETY: signalling the process group of our own child.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn serial_board(console: &str, pacing: Pacing) -> BoardConfig {
    let mut c = BoardConfig::qemu("unused", "unused");
    c.qemu = None;
    c.serial = Some(SerialConfig {
        console: Some(console.to_string()),
        usb_serial: None,
        baud: 115_200,
        reset: mpcheck::boardfile::config::ResetMethod::None,
        consoles: Vec::new(),
    });
    c.pacing = pacing;
    c
}

const MICROBIT: Pacing = Pacing {
    chunk_bytes: 32,
    pause_ms: 10,
};

fn connect_retrying(config: &BoardConfig) -> BoardSession {
    // QEMU needs a moment to open its listening socket.
    let mut last = None;
    for _ in 0..100 {
        match BoardSession::connect(config) {
            Ok(s) => return s,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("connect: {}", last.unwrap());
}

#[test]
fn serial_board_over_socket_without_hard_reset() {
    let port = free_port();
    let _qemu = Qemu::start(&format!("tcp:127.0.0.1:{port},server=on,wait=off"));
    let mut s = connect_retrying(&serial_board(
        &format!("socket://127.0.0.1:{port}"),
        MICROBIT,
    ));
    basic_suite(&mut s);
    // Ctrl-C disabled and no hard reset on this board: the ladder ends, the board is dead.
    let err = s
        .run_case(
            b"import micropython\nmicropython.kbd_intr(-1)\nwhile True: pass\n",
            Duration::from_secs(1),
        )
        .unwrap_err();
    assert!(
        matches!(&err, BoardError::Dead { tried, .. } if tried.len() == 4),
        "{err}"
    );
    assert!(
        err.to_string().contains("board is dead after trying"),
        "{err}"
    );
}

#[test]
fn serial_board_on_a_pty() {
    let mut qemu = Qemu::start("pty");
    // QEMU announces: "char device redirected to /dev/pts/N (label serial0)".
    let path = pty_of(&mut qemu);
    let mut s = BoardSession::connect(&serial_board(&path, MICROBIT)).unwrap();
    assert!(s.describe().contains("/dev/pts/"));
    basic_suite(&mut s);
}

/// A loopback proxy that behaves like an overrun UART while `lossy` is set: of every
/// burst it reads from the host, only the first 32 bytes reach the board.
fn lossy_proxy(upstream_port: u16, lossy: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut host, _) = listener.accept().unwrap();
        let mut board = loop {
            match TcpStream::connect(("127.0.0.1", upstream_port)) {
                Ok(s) => break s,
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        let mut host_r = host.try_clone().unwrap();
        let mut board_w = board.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = host_r.read(&mut buf) {
                let kept = if lossy.load(Ordering::SeqCst) {
                    n.min(32)
                } else {
                    n
                };
                if n == 0 || board_w.write_all(&buf[..kept]).is_err() {
                    break;
                }
            }
        });
        let mut buf = [0u8; 4096];
        while let Ok(n) = board.read(&mut buf) {
            if n == 0 || host.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    port
}

/// The micro:bit in QEMU reached through [`lossy_proxy`], sent `chunk_bytes` at a time
/// (20 ms apart); QEMU runs as long as the returned handle lives.
fn behind_lossy_proxy(chunk_bytes: usize, lossy: Arc<AtomicBool>) -> (Qemu, BoardConfig) {
    let port = free_port();
    let qemu = Qemu::start(&format!("tcp:127.0.0.1:{port},server=on,wait=off"));
    let config = serial_board(
        &format!("socket://127.0.0.1:{}", lossy_proxy(port, lossy)),
        Pacing {
            chunk_bytes,
            pause_ms: 20,
        },
    );
    (qemu, config)
}

#[test]
fn lossy_link_is_retried_slower_then_reported() {
    // 64-byte writes lose half of each chunk; the slower retry (32 bytes) gets through.
    let (_qemu, config) = behind_lossy_proxy(64, Arc::new(AtomicBool::new(true)));
    let mut s = connect_retrying(&config);
    // The probes lost input too (most are over 32 bytes): retried slower, they read the
    // same features as a link that loses nothing, where they read "lacks" or undecided.
    let direct = super::common::connect(mpcheck::boardfile::config::QemuConsole::Stdio);
    assert_eq!(s.features(), direct.features());
    let (script, expect) = two_kb_script();
    assert_eq!(s.run_case_checked(&script, T, true).unwrap().stdout, expect);
}

#[test]
fn a_case_upload_that_loses_input_after_a_clean_connect_is_retried_slower() {
    // The link loses input only once connected (the probes arrive whole at 64-byte
    // chunks): the case's upload is corrupted at 64 and retried at 32, which gets through.
    let lossy = Arc::new(AtomicBool::new(false));
    let (_qemu, config) = behind_lossy_proxy(64, lossy.clone());
    let mut s = connect_retrying(&config);
    lossy.store(true, Ordering::SeqCst);
    let (script, expect) = two_kb_script();
    assert_eq!(s.run_case_checked(&script, T, true).unwrap().stdout, expect);
}

#[test]
fn lossy_link_that_never_heals_is_a_corrupted_upload_error() {
    // 33..=64-byte chunks lose bytes, halved to 32 they pass, so start at 128: the retry
    // at 64 loses bytes too.
    let (_qemu, config) = behind_lossy_proxy(128, Arc::new(AtomicBool::new(true)));
    // The feature probes lose input at both paces: the board cannot be used, said at
    // connect (it took a minute of 5 s probe timeouts, then failed every case).
    let err = (0..100)
        .find_map(|_| match BoardSession::connect(&config) {
            Ok(_) => panic!("connected over a link that loses input at every pace"),
            Err(e @ BoardError::CorruptedUpload { .. }) => Some(e),
            // QEMU still opening its socket.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                None
            }
        })
        .expect("connect never got as far as probing");
    assert!(
        matches!(
            err,
            BoardError::CorruptedUpload {
                chunk_bytes: 128,
                slow_chunk_bytes: 64,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("input is being lost"), "{err}");
}

/// ser2net in front of a QEMU pty, reached as `rfc2217://`; killed on drop.
struct Ser2net {
    child: Child,
    /// Holds the config file while ser2net runs.
    _dir: tempfile::TempDir,
}

impl Drop for Ser2net {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_ser2net(pty: &str, port: u16) -> Ser2net {
    super::common::install(&["ser2net"]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ser2net.yaml");
    std::fs::write(
        &config,
        format!(
            "connection: &con1\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n  connector: serialdev,{pty},115200n81,local\n  options:\n    kickolduser: true\n"
        ),
    )
    .unwrap();
    let child = Command::new("ser2net")
        .args(["-n", "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ser2net not found: apt-get install ser2net");
    Ser2net { child, _dir: dir }
}

fn pty_of(qemu: &mut Qemu) -> String {
    let mut out = qemu.0.stdout.take().unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 256];
    while !text.contains("(label") {
        let n = out.read(&mut buf).unwrap_or(0);
        assert!(n > 0, "qemu said: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text.split_whitespace()
        .find(|w| w.starts_with("/dev/pts/"))
        .unwrap()
        .to_string()
}

#[test]
fn serial_board_over_rfc2217_via_ser2net() {
    let mut qemu = Qemu::start("pty");
    let pty = pty_of(&mut qemu);
    let port = free_port();
    let _ser2net = start_ser2net(&pty, port);
    let mut s = connect_retrying(&serial_board(
        &format!("rfc2217://127.0.0.1:{port}"),
        MICROBIT,
    ));
    assert_eq!(s.features().platform.as_deref(), Some("microbit"));
    basic_suite(&mut s);
    // a byte 0xFF in the data must survive telnet escaping both ways
    let run = s
        .run_case(b"print(repr(bytes([255, 1, 2])), chr(255))\n", T)
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "b'\\xff\\x01\\x02' \u{ff}\n"
    );
}
