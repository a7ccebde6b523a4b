//! What a board file says about a board's console: serde types the harness embeds in its
//! board YAML, plus `${ENV}` expansion of paths.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A board file's console settings that do not hold together (said as the key's rule).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where QEMU puts the board's UART.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QemuConsole {
    /// `-serial stdio`: the UART is the child's stdin/stdout.
    #[default]
    Stdio,
    /// `-serial tcp:127.0.0.1:PORT,server=on,wait=off` on a free loopback port, reached as
    /// `socket://`.
    Socket,
}

/// Where the shared RAM sits, from the board file: `qemu.shared_ram`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SharedRamConfig {
    /// The guest address of the machine's main RAM (mps2: 0x21000000, its PSRAM).
    pub address: u64,
    /// Its size in bytes: QEMU insists on the machine's own RAM size (mps2: 16 MiB).
    pub size: u64,
}

/// How code is written to a board whose UART loses bytes when they arrive too fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pacing {
    /// Bytes per write.
    pub chunk_bytes: usize,
    /// Pause after each write, in milliseconds.
    pub pause_ms: u64,
}

impl Default for Pacing {
    /// Upstream pyboard.py's pacing: 256-byte chunks, 10 ms apart, sized for a pyboard's
    /// USB receive buffer. Slow UARTs (the micro:bit: 32 bytes) need their own.
    fn default() -> Self {
        Self {
            chunk_bytes: 256,
            pause_ms: 10,
        }
    }
}

impl Pacing {
    /// The gentler pacing used to retry an upload that arrived corrupted.
    pub fn slower(self) -> Self {
        Self {
            chunk_bytes: (self.chunk_bytes / 2).max(1),
            pause_ms: self.pause_ms.max(1) * 2,
        }
    }
}

/// How to reset a serial board's hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetMethod {
    /// No hardware reset: a board that ignores Ctrl-C and soft reset is dead.
    #[default]
    None,
    /// Pulse RTS (wired to EN/RESET on many USB-serial boards) with DTR released.
    DtrRts,
    /// A reset hook supplied by the harness (e.g. a debug probe).
    Hook,
}

/// A QEMU-emulated board.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QemuConfig {
    /// `-M` machine, e.g. `microbit`, `mps2-an385`.
    pub machine: String,
    /// Firmware image (`.hex`/`.bin` via `-device loader`, `.elf` via `-kernel`);
    /// `${VAR}` is replaced from the environment. Empty when the board file has a
    /// `build:` section instead (the built image is filled in before the run).
    #[serde(default)]
    pub firmware: String,
    /// Extra QEMU arguments (e.g. `-semihosting`).
    #[serde(default)]
    pub args: Vec<String>,
    /// UART on QEMU's stdio (default) or on a loopback TCP port.
    #[serde(default)]
    pub console: QemuConsole,
    /// QEMU binary; `qemu-system-arm` by default.
    #[serde(default = "default_qemu_binary")]
    pub binary: String,
    /// The machine's main RAM, unused by the firmware, shared with the harness: code
    /// reaches the board through it instead of the UART (see [`crate::device::shared_ram`]).
    #[serde(default)]
    pub shared_ram: Option<SharedRamConfig>,
    /// Exact time: the virtual clock counts instructions (see [`super::icount::Icount`]).
    #[serde(default)]
    pub icount: Option<super::icount::Icount>,
}

fn default_qemu_binary() -> String {
    "qemu-system-arm".to_string()
}

/// A board on a serial console (local port or network serial).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SerialConfig {
    /// Device path, `socket://host:port` or `rfc2217://host:port`.
    #[serde(default)]
    pub console: Option<String>,
    /// Find the local port by USB serial number instead of a path.
    #[serde(default)]
    pub usb_serial: Option<String>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default)]
    pub reset: ResetMethod,
    /// A pool of identical boards, one console each (instead of `console`): the board's
    /// trials are spread over them (see [`BoardConfig::members`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consoles: Vec<String>,
}

fn default_baud() -> u32 {
    115_200
}

/// The board-side part of a board file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BoardConfig {
    #[serde(default)]
    pub qemu: Option<QemuConfig>,
    #[serde(default)]
    pub serial: Option<SerialConfig>,
    #[serde(default)]
    pub pacing: Pacing,
    /// Try raw-paste uploads (falls back to classic by itself; `false` skips the try).
    #[serde(default = "yes")]
    pub raw_paste: bool,
    /// Soft-reset the board before every case (upstream does).
    #[serde(default = "yes")]
    pub soft_reset_between_cases: bool,
    /// Ctrl-C attempts before escalating to a soft reset.
    #[serde(default = "default_interrupts")]
    pub interrupts: u8,
    /// The console can lose input (a UART without flow control): a failing case is
    /// re-uploaded slowly once before its verdict counts, and a result that changes is
    /// `flaky`, blaming the link. Boards with flow control (raw-paste) leave it off.
    #[serde(default)]
    pub lossy_link: bool,
}

fn yes() -> bool {
    true
}

fn default_interrupts() -> u8 {
    // Two ^C usually suffice (one may land between bytecodes of a tight loop); a third
    // costs little before escalating.
    3
}

/// The console part of a checked config.
#[derive(Debug, Clone, PartialEq)]
pub enum Console<'a> {
    Qemu(&'a QemuConfig),
    Serial(&'a SerialConfig),
}

impl BoardConfig {
    /// A QEMU board with defaults for everything else.
    pub fn qemu(machine: &str, firmware: &str) -> Self {
        Self {
            qemu: Some(QemuConfig {
                machine: machine.to_string(),
                firmware: firmware.to_string(),
                args: Vec::new(),
                console: QemuConsole::Stdio,
                binary: default_qemu_binary(),
                shared_ram: None,
                icount: None,
            }),
            serial: None,
            lossy_link: false,
            pacing: Pacing::default(),
            raw_paste: true,
            soft_reset_between_cases: true,
            interrupts: default_interrupts(),
        }
    }

    /// Exactly one of `qemu` and `serial`, with sane values.
    /// The boards of a pool of serial consoles (`serial.consoles`), each named by its
    /// console with its config; empty for any other board.
    pub fn members(&self) -> Vec<(String, BoardConfig)> {
        let Some(serial) = &self.serial else {
            return Vec::new();
        };
        serial
            .consoles
            .iter()
            .map(|c| {
                let mut config = self.clone();
                if let Some(s) = config.serial.as_mut() {
                    s.console = Some(c.clone());
                    s.consoles.clear();
                }
                (c.clone(), config)
            })
            .collect()
    }

    pub fn console(&self) -> Result<Console<'_>, ConfigError> {
        if self.pacing.chunk_bytes == 0 {
            return Err(ConfigError("pacing.chunk_bytes must be at least 1".into()));
        }
        match (&self.qemu, &self.serial) {
            (Some(q), None) => Ok(Console::Qemu(q)),
            (None, Some(s)) => match (&s.console, &s.usb_serial, s.consoles.as_slice()) {
                (Some(_), None, []) | (None, Some(_), []) => Ok(Console::Serial(s)),
                (None, None, [_, ..]) => {
                    let twice = s
                        .consoles
                        .iter()
                        .enumerate()
                        .find(|(i, c)| c.is_empty() || s.consoles[..*i].contains(c));
                    match twice {
                        Some((_, c)) => Err(ConfigError(format!(
                            "serial.consoles: `{c}` is empty or named twice"
                        ))),
                        None => Ok(Console::Serial(s)),
                    }
                }
                _ => Err(ConfigError(
                    "serial board needs exactly one of `console`, `consoles` and `usb_serial`"
                        .into(),
                )),
            },
            _ => Err(ConfigError(
                "board needs exactly one of `qemu` and `serial`".into(),
            )),
        }
    }
}

/// A firmware path with `${ENV}` expanded from the process environment.
pub fn firmware_path(q: &QemuConfig) -> Result<PathBuf, ConfigError> {
    crate::util::env::expand_env(&q.firmware, &crate::util::env::process_env)
        .map(PathBuf::from)
        .map_err(|e| ConfigError(format!("qemu.firmware `{}`: {e}", q.firmware)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_board_with_defaults() {
        let c: BoardConfig = yaml_serde::from_str(
            r#"{"qemu": {"machine": "microbit", "firmware": "${FW}/firmware.hex"},
                "pacing": {"chunk_bytes": 32, "pause_ms": 10}}"#,
        )
        .unwrap();
        assert!(matches!(c.console().unwrap(), Console::Qemu(q) if q.binary == "qemu-system-arm"));
        assert_eq!(
            c.pacing,
            Pacing {
                chunk_bytes: 32,
                pause_ms: 10
            }
        );
        assert!(c.soft_reset_between_cases && c.raw_paste);
    }

    #[test]
    fn unknown_fields_are_rejected_at_every_level() {
        for bad in [
            r#"{"qemu": {"machine": "m", "firmware": "f", "firmwre": "x"}}"#,
            r#"{"qemu": {"machine": "m", "firmware": "f"}, "pacing": {"chunk": 1, "pause_ms": 1}}"#,
            r#"{"serial": {"console": "/dev/x", "bauds": 9600}}"#,
            r#"{"seriall": {}}"#,
        ] {
            let err = yaml_serde::from_str::<BoardConfig>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains("unknown field"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_pool_of_consoles_is_one_member_per_console() {
        let c: BoardConfig = yaml_serde::from_str(
            r#"{"serial": {"consoles": ["socket://h:1", "socket://h:2"], "baud": 9600}}"#,
        )
        .unwrap();
        assert!(c.console().is_ok());
        let members = c.members();
        assert_eq!(members.len(), 2);
        let (name, second) = &members[1];
        let serial = second.serial.as_ref().unwrap();
        assert_eq!(
            (name.as_str(), serial.console.as_deref(), serial.baud),
            ("socket://h:2", Some("socket://h:2"), 9600)
        );
        assert!(serial.consoles.is_empty() && second.console().is_ok());
        let twice: BoardConfig =
            yaml_serde::from_str(r#"{"serial": {"consoles": ["/dev/a", "/dev/a"]}}"#).unwrap();
        assert!(
            twice
                .console()
                .unwrap_err()
                .to_string()
                .contains("named twice")
        );
        let both: BoardConfig =
            yaml_serde::from_str(r#"{"serial": {"console": "/dev/a", "consoles": ["/dev/b"]}}"#)
                .unwrap();
        assert!(
            both.console()
                .unwrap_err()
                .to_string()
                .contains("`consoles`")
        );
    }

    #[test]
    fn console_must_be_exactly_one() {
        let c: BoardConfig = yaml_serde::from_str(r#"{}"#).unwrap();
        assert!(
            c.console()
                .unwrap_err()
                .to_string()
                .contains("exactly one of `qemu` and `serial`")
        );
        let c: BoardConfig =
            yaml_serde::from_str(r#"{"serial": {"console": "/dev/x", "usb_serial": "123"}}"#)
                .unwrap();
        assert!(
            c.console()
                .unwrap_err()
                .to_string()
                .contains("exactly one of `console`, `consoles` and `usb_serial`")
        );
        let c: BoardConfig =
            yaml_serde::from_str(r#"{"serial": {"usb_serial": "123", "reset": "dtr_rts"}}"#)
                .unwrap();
        assert!(
            matches!(c.console().unwrap(), Console::Serial(s) if s.reset == ResetMethod::DtrRts && s.baud == 115_200)
        );
    }
}
