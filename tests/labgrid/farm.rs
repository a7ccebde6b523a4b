//! A labgrid farm on loopback, all real parts: labgrid's coordinator and exporter (from
//! PyPI, in the tool directory), ser2net exporting a QEMU micro:bit's UART as RFC 2217,
//! and a place matching the exporter's resources. Only the place's power switch is test
//! code: [`Relay`], a tiny HTTP server in labgrid's `simplerest` power protocol that
//! stands in for a network PDU (no PDU exists here) and switches the QEMU board off and
//! on. Every process is killed on drop; ports and directories are unique per farm, so
//! farms run in parallel with each other and the rest of the suite.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generous hang limit for a farm part to come up (each takes ~1–2 s).
const UP: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, what: &str) {
    let until = Instant::now() + UP;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "{what} never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A killed-on-drop child.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The project's tool directory, where mpcheck itself installs labgrid.
pub fn state_dir() -> PathBuf {
    mpcheck::plan::config::Project::new(Path::new(env!("CARGO_MANIFEST_DIR"))).state_dir
}

/// labgrid's binaries, installed as mpcheck installs them; `Err`: why not (the tests are
/// then ignored with that reason).
pub fn labgrid_bin() -> Result<PathBuf, String> {
    let tc = mpcheck::tools::toolchain::Toolchain::ensure(&state_dir().join("toolchain"))
        .map_err(|e| e.to_string())?;
    let client = tc.labgrid_client().map_err(|e| e.to_string())?;
    Ok(client.parent().unwrap().to_path_buf())
}

/// The QEMU micro:bit, restartable by the relay: its UART is a TCP server that ser2net
/// connects to for each client.
pub struct Board {
    pub uart_port: u16,
    qemu: Mutex<Option<Proc>>,
    firmware: String,
}

impl Board {
    fn start(firmware: &str) -> Arc<Board> {
        let b = Arc::new(Board {
            uart_port: free_port(),
            qemu: Mutex::new(None),
            firmware: firmware.to_string(),
        });
        b.power(true);
        b
    }

    /// Off kills the emulator; on starts it if it is not running and waits for its UART.
    pub fn power(&self, on: bool) {
        let mut q = self.qemu.lock().unwrap();
        if !on {
            *q = None;
            return;
        }
        if q.is_none() {
            let child = Command::new("qemu-system-arm")
                .args(["-M", "microbit", "-display", "none", "-monitor", "none"])
                .arg("-device")
                .arg(format!("loader,file={}", self.firmware))
                .arg("-serial")
                .arg(format!(
                    "tcp:127.0.0.1:{},server=on,wait=off",
                    self.uart_port
                ))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("qemu-system-arm");
            *q = Some(Proc(child));
            drop(q);
            wait_listening(self.uart_port, "qemu's uart");
        }
    }

    fn is_on(&self) -> bool {
        self.qemu.lock().unwrap().is_some()
    }
}

/// Stand-in for a network PDU: answers labgrid's `simplerest` model
/// (`GET /relay/{index}/{value}`: 1 on, 0 off; `GET /relay/{index}`: the state), switching
/// [`Board`]. Records every switch, so a test can see that a power cycle happened.
pub struct Relay {
    pub port: u16,
    pub switched: Arc<Mutex<Vec<bool>>>,
}

impl Relay {
    fn start(board: Arc<Board>) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let switched: Arc<Mutex<Vec<bool>>> = Arc::default();
        let log = switched.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let mut reader = BufReader::new(&stream);
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Read the rest of the request head.
                let mut h = String::new();
                while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or("");
                let body = match path.trim_end_matches('/').rsplit('/').next() {
                    Some("1") if path.matches('/').count() >= 3 => {
                        board.power(true);
                        log.lock().unwrap().push(true);
                        "1"
                    }
                    Some("0") if path.matches('/').count() >= 3 => {
                        board.power(false);
                        log.lock().unwrap().push(false);
                        "0"
                    }
                    _ if board.is_on() => "1",
                    _ => "0",
                };
                let _ = (&stream).write_all(
                    format!(
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
        });
        Relay { port, switched }
    }
}

pub struct Farm {
    pub coordinator: String,
    pub place: String,
    pub bin: PathBuf,
    pub relay: Relay,
    /// Holds the configs and the parts' logs while the farm runs.
    _dir: tempfile::TempDir,
    /// Owned by the relay too; kept so the board outlives every part that reaches it.
    _board: Arc<Board>,
    // Dropped in this order: exporter before coordinator.
    _exporter: Proc,
    _ser2net: Proc,
    _coordinator: Proc,
}

/// The relay's thread holds the board for good, so its emulator would outlive the farm
/// (and the test binary): switch it off with the farm.
impl Drop for Farm {
    fn drop(&mut self) {
        self._board.power(false);
    }
}

impl Farm {
    pub fn start(bin: &Path) -> Farm {
        let firmware = microbit_firmware();
        mpcheck::tools::toolchain::ensure_debian_packages(
            &["ser2net".to_string()],
            "the labgrid tests",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let board = Board::start(&firmware);
        let relay = Relay::start(board.clone());

        let ser2net_port = free_port();
        let s2n = dir.path().join("ser2net.yaml");
        std::fs::write(
            &s2n,
            format!(
                "connection: &board\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{ser2net_port}\n  connector: tcp,127.0.0.1,{}\n  options:\n    kickolduser: true\n",
                board.uart_port
            ),
        )
        .unwrap();
        let ser2net = spawn(
            Command::new("ser2net").args(["-n", "-c"]).arg(&s2n),
            dir.path(),
            "ser2net",
        );
        wait_listening(ser2net_port, "ser2net");

        let coordinator_port = free_port();
        let coordinator = format!("127.0.0.1:{coordinator_port}");
        let coord = spawn(
            Command::new(bin.join("labgrid-coordinator"))
                .args(["--listen", &coordinator])
                .current_dir(dir.path()),
            dir.path(),
            "coordinator",
        );
        wait_listening(coordinator_port, "labgrid-coordinator");

        let exporter_yaml = dir.path().join("exporter.yaml");
        std::fs::write(
            &exporter_yaml,
            format!(
                "microbit:\n  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {ser2net_port}\n    protocol: rfc2217\n    speed: 115200\n  NetworkPowerPort:\n    model: simplerest\n    host: 'http://127.0.0.1:{}/relay/{{index}}/{{value}}'\n    index: 0\n",
                relay.port
            ),
        )
        .unwrap();
        let exporter = spawn(
            Command::new(bin.join("labgrid-exporter"))
                .args(["--coordinator", &coordinator, "--name", "bench"])
                .arg(&exporter_yaml)
                .current_dir(dir.path()),
            dir.path(),
            "exporter",
        );
        let farm = Farm {
            coordinator,
            place: "microbit-1".into(),
            bin: bin.to_path_buf(),
            relay,
            _dir: dir,
            _board: board,
            _exporter: exporter,
            _ser2net: ser2net,
            _coordinator: coord,
        };
        let until = Instant::now() + UP;
        while !farm
            .client(&["resources"])
            .contains("bench/microbit/NetworkSerialPort")
        {
            assert!(
                Instant::now() < until,
                "the exporter's resources never appeared"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        farm.client_ok(&["-p", &farm.place, "create"]);
        farm.client_ok(&["-p", &farm.place, "add-match", "bench/microbit/*"]);
        farm
    }

    /// labgrid-client as a person at the farm (not as mpcheck), its stdout and stderr.
    pub fn client(&self, args: &[&str]) -> String {
        let out = Command::new(self.bin.join("labgrid-client"))
            .args(["-x", &self.coordinator])
            .args(args)
            .env("LG_USERNAME", "farm-admin")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    }

    fn client_ok(&self, args: &[&str]) {
        let out = self.client(args);
        assert!(!out.contains("Error"), "labgrid-client {args:?}: {out}");
    }

    /// Who holds the place (`host/user`), or `None`.
    pub fn holder(&self) -> Option<String> {
        let show = self.client(&["-p", &self.place, "show"]);
        let line = show
            .lines()
            .find(|l| l.trim_start().starts_with("acquired:"))?;
        let who = line.split_once(':')?.1.trim();
        (who != "None").then(|| who.to_string())
    }

    /// Waits (hang limit `UP`) until `pred(holder)`.
    pub fn wait_holder(
        &self,
        what: &str,
        pred: impl Fn(&Option<String>) -> bool,
    ) -> Option<String> {
        let until = Instant::now() + UP;
        loop {
            let h = self.holder();
            if pred(&h) {
                return h;
            }
            assert!(Instant::now() < until, "place never {what}; holder: {h:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn spawn(cmd: &mut Command, dir: &Path, name: &str) -> Proc {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    Proc(
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}

/// Debian's micro:bit MicroPython 1.9.2 (installed with QEMU if missing).
pub fn microbit_firmware() -> String {
    let packages = [
        "qemu-system-arm".to_string(),
        "firmware-microbit-micropython".to_string(),
    ];
    mpcheck::tools::toolchain::ensure_debian_packages(&packages, "the labgrid tests").unwrap();
    "/usr/share/firmware-microbit-micropython/firmware.hex".to_string()
}
