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
    /// The first board's place (`microbit-1`).
    pub place: String,
    /// Every board's place, `microbit-<n>` (one board unless started as a pool).
    pub places: Vec<String>,
    pub bin: PathBuf,
    /// The first board's power switch.
    pub relay: Relay,
    /// Holds the configs and the parts' logs while the farm runs.
    _dir: tempfile::TempDir,
    /// Owned by the relays too; kept so the boards outlive every part that reaches them.
    boards: Vec<Arc<Board>>,
    // Dropped in this order: exporter before coordinator.
    _exporter: Proc,
    _ser2net: Proc,
    _coordinator: Proc,
}

/// The relays' threads hold the boards for good, so their emulators would outlive the
/// farm (and the test binary): switch them off with the farm.
impl Drop for Farm {
    fn drop(&mut self) {
        for b in &self.boards {
            b.power(false);
        }
    }
}

impl Farm {
    /// A farm of `n` identical QEMU micro:bits, each in a place of its own
    /// (`microbit-1` … `microbit-<n>`), each with its own UART, ser2net port and relay.
    pub fn start_pool(bin: &Path, n: usize) -> Farm {
        let firmware = microbit_firmware();
        mpcheck::tools::toolchain::ensure_debian_packages(
            &["ser2net".to_string()],
            "the labgrid tests",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let boards: Vec<Arc<Board>> = (0..n).map(|_| Board::start(&firmware)).collect();
        let mut relays: Vec<Relay> = boards.iter().map(|b| Relay::start(b.clone())).collect();
        let ser2net_ports: Vec<u16> = boards.iter().map(|_| free_port()).collect();
        let s2n = dir.path().join("ser2net.yaml");
        let connections: String = boards
            .iter()
            .zip(&ser2net_ports)
            .enumerate()
            .map(|(i, (b, port))| format!(
                "connection: &board{i}\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n  connector: tcp,127.0.0.1,{}\n  options:\n    kickolduser: true\n",
                b.uart_port
            ))
            .collect();
        std::fs::write(&s2n, connections).unwrap();
        let ser2net = spawn(
            Command::new("ser2net").args(["-n", "-c"]).arg(&s2n),
            dir.path(),
            "ser2net",
        );
        for port in &ser2net_ports {
            wait_listening(*port, "ser2net");
        }

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

        // Group `microbit` for the first board (as before pools), `microbit<n>` after.
        let group = |i: usize| match i {
            0 => "microbit".to_string(),
            i => format!("microbit{}", i + 1),
        };
        let exporter_yaml = dir.path().join("exporter.yaml");
        let groups: String = relays
            .iter()
            .zip(&ser2net_ports)
            .enumerate()
            .map(|(i, (relay, port))| format!(
                "{}:\n  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {port}\n    protocol: rfc2217\n    speed: 115200\n  NetworkPowerPort:\n    model: simplerest\n    host: 'http://127.0.0.1:{}/relay/{{index}}/{{value}}'\n    index: 0\n",
                group(i),
                relay.port
            ))
            .collect();
        std::fs::write(&exporter_yaml, groups).unwrap();
        let exporter = spawn(
            Command::new(bin.join("labgrid-exporter"))
                .args(["--coordinator", &coordinator, "--name", "bench"])
                .arg(&exporter_yaml)
                .current_dir(dir.path()),
            dir.path(),
            "exporter",
        );
        let places: Vec<String> = (1..=n).map(|i| format!("microbit-{i}")).collect();
        let farm = Farm {
            coordinator,
            place: places[0].clone(),
            places,
            bin: bin.to_path_buf(),
            relay: relays.remove(0),
            _dir: dir,
            boards,
            _exporter: exporter,
            _ser2net: ser2net,
            _coordinator: coord,
        };
        let until = Instant::now() + UP;
        let exported = |i: usize| format!("bench/{}/NetworkSerialPort", group(i));
        while {
            let resources = farm.client(&["resources"]);
            !(0..n).all(|i| resources.contains(&exported(i)))
        } {
            assert!(
                Instant::now() < until,
                "the exporter's resources never appeared"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        for (i, place) in farm.places.iter().enumerate() {
            farm.client_ok(&["-p", place, "create"]);
            farm.client_ok(&["-p", place, "add-match", &format!("bench/{}/*", group(i))]);
        }
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
        self.holder_of(&self.place)
    }

    /// Who holds `place` (`host/user`), or `None`.
    pub fn holder_of(&self, place: &str) -> Option<String> {
        let show = self.client(&["-p", place, "show"]);
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
