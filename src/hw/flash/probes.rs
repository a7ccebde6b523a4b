//! Which debug probes are attached, and which one a board file means. The choice is a
//! pure function over the listing, so every "not found" message is tested here without a
//! probe; only [`list_probes`] and [`open_probe`] touch USB.

use std::fmt;
use std::path::{Path, PathBuf};

use probe_rs::probe::list::{Accessibility, Lister, ProbeListItem};
use probe_rs::probe::{DebugProbeSelector, Probe};

use super::flasher::FlashError;
use super::probe_section::ProbeBoard;

/// A probe seen on USB (or a serial port), as `probe-rs list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedProbe {
    /// The probe's name, e.g. `BBC micro:bit CMSIS-DAP`.
    pub identifier: String,
    pub vendor_id: u16,
    pub product_id: u16,
    pub serial_number: Option<String>,
    pub interface: Option<u8>,
    /// False when the probe is present but this user may not open it (udev rules).
    pub accessible: bool,
}

impl AttachedProbe {
    /// The selector that picks exactly this probe: `VID:PID[:SERIAL]`.
    pub fn selector(&self) -> String {
        let mut s = format!("{:04x}:{:04x}", self.vendor_id, self.product_id);
        if let Some(serial) = &self.serial_number {
            s.push(':');
            s.push_str(serial);
        }
        s
    }

    fn matches(&self, selector: &DebugProbeSelector) -> bool {
        self.vendor_id == selector.vendor_id
            && self.product_id == selector.product_id
            && selector
                .interface
                .is_none_or(|want| self.interface == Some(want))
            && match (&selector.serial_number, &self.serial_number) {
                (None, _) => true,
                // "VID:PID:" asks for a probe without a serial number.
                (Some(want), None) => want.is_empty(),
                (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
            }
    }
}

impl fmt::Display for AttachedProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.selector(), self.identifier)?;
        if !self.accessible {
            f.write_str(" [permission denied]")?;
        }
        Ok(())
    }
}

impl From<&ProbeListItem> for AttachedProbe {
    fn from(item: &ProbeListItem) -> Self {
        AttachedProbe {
            identifier: item.info.identifier.clone(),
            vendor_id: item.info.vendor_id,
            product_id: item.info.product_id,
            serial_number: item.info.serial_number.clone(),
            interface: item.info.interface,
            accessible: match item.accessibility {
                Accessibility::Accessible => true,
                Accessibility::PermissionDenied => false,
            },
        }
    }
}

/// Every probe attached, accessible or not (for `mpcheck probes`).
pub fn list_probes() -> Vec<AttachedProbe> {
    Lister::new()
        .list_all_with_access()
        .iter()
        .map(AttachedProbe::from)
        .collect()
}

/// Why no probe could be chosen for a board. Each message names the board file, what it
/// asked for and what is attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeChoiceError {
    #[error("{}: no debug probe attached (wanted {wanted} for {chip})", file.display())]
    NoneAttached {
        file: PathBuf,
        chip: String,
        wanted: String,
    },
    #[error(
        "{}: no attached debug probe matches {wanted} (for {chip}); attached: {}",
        file.display(), list(attached)
    )]
    NoMatch {
        file: PathBuf,
        chip: String,
        wanted: String,
        attached: Vec<AttachedProbe>,
    },
    #[error(
        "{}: {n} debug probes match {wanted}: {}; put the serial number in probe.probe, e.g. `{}`",
        file.display(), list(matching), matching[0].selector(), n = matching.len()
    )]
    Ambiguous {
        file: PathBuf,
        wanted: String,
        matching: Vec<AttachedProbe>,
    },
    #[error(
        "{}: debug probe {probe} is attached but this user may not open it: install probe-rs's udev rules and join the plugdev group (see WIRING.md in the mpcheck repository)",
        file.display()
    )]
    PermissionDenied { file: PathBuf, probe: AttachedProbe },
}

fn list(probes: &[AttachedProbe]) -> String {
    let items: Vec<String> = probes.iter().map(|p| p.to_string()).collect();
    items.join(", ")
}

/// Picks the probe the board means from `attached`: the one matching its selector, or the
/// only one attached when it gives none. Returns its index in `attached`.
pub fn choose_probe(
    board_file: &Path,
    chip: &str,
    selector: Option<&DebugProbeSelector>,
    attached: &[AttachedProbe],
) -> Result<usize, ProbeChoiceError> {
    let file = board_file.to_path_buf();
    let wanted = selector.map_or_else(|| "any probe".to_string(), |s| s.to_string());
    if attached.is_empty() {
        return Err(ProbeChoiceError::NoneAttached {
            file,
            chip: chip.to_string(),
            wanted,
        });
    }
    let matching: Vec<usize> = (0..attached.len())
        .filter(|&i| selector.is_none_or(|s| attached[i].matches(s)))
        .collect();
    match matching.as_slice() {
        [] => Err(ProbeChoiceError::NoMatch {
            file,
            chip: chip.to_string(),
            wanted,
            attached: attached.to_vec(),
        }),
        [only] if !attached[*only].accessible => Err(ProbeChoiceError::PermissionDenied {
            file,
            probe: attached[*only].clone(),
        }),
        [only] => Ok(*only),
        several => Err(ProbeChoiceError::Ambiguous {
            file,
            wanted,
            matching: several.iter().map(|&i| attached[i].clone()).collect(),
        }),
    }
}

/// Lists the probes, chooses the board's and opens it. Needs hardware beyond the
/// listing: only the "nothing attached" path runs on a machine without probes.
pub fn open_probe(board: &ProbeBoard) -> Result<Probe, FlashError> {
    let items = Lister::new().list_all_with_access();
    let attached: Vec<AttachedProbe> = items.iter().map(AttachedProbe::from).collect();
    let index = choose_probe(
        &board.board_file,
        &board.chip,
        board.selector.as_ref(),
        &attached,
    )
    .map_err(|e| FlashError::NoProbe(Box::new(e)))?;
    items[index].info.open().map_err(|e| FlashError::Open {
        backend: format!("probe {}", attached[index]),
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(vid: u16, pid: u16, serial: Option<&str>, accessible: bool) -> AttachedProbe {
        AttachedProbe {
            identifier: "CMSIS-DAP".into(),
            vendor_id: vid,
            product_id: pid,
            serial_number: serial.map(str::to_string),
            interface: None,
            accessible,
        }
    }

    fn sel(text: &str) -> DebugProbeSelector {
        text.parse().unwrap()
    }

    const FILE: &str = "boards/microbit.yaml";

    #[test]
    fn nothing_attached() {
        let err = choose_probe(
            Path::new(FILE),
            "nRF51822_xxAA",
            Some(&sel("0d28:0204")),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "boards/microbit.yaml: no debug probe attached (wanted 0d28:0204 for nRF51822_xxAA)"
        );
        let err = choose_probe(Path::new(FILE), "nRF51822_xxAA", None, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "boards/microbit.yaml: no debug probe attached (wanted any probe for nRF51822_xxAA)"
        );
    }

    #[test]
    fn picks_by_selector_and_serial() {
        let attached = [
            probe(0x1366, 0x1015, Some("000683"), true),
            probe(0x0d28, 0x0204, Some("9900AB"), true),
            probe(0x0d28, 0x0204, Some("9900CD"), true),
        ];
        let pick = |s: &str| choose_probe(Path::new(FILE), "c", Some(&sel(s)), &attached);
        assert_eq!(pick("1366:1015"), Ok(0));
        assert_eq!(pick("0d28:0204:9900cd"), Ok(2));
        let err = pick("0d28:0204").unwrap_err().to_string();
        assert_eq!(
            err,
            "boards/microbit.yaml: 2 debug probes match 0d28:0204: 0d28:0204:9900AB (CMSIS-DAP), \
             0d28:0204:9900CD (CMSIS-DAP); put the serial number in probe.probe, e.g. `0d28:0204:9900AB`"
        );
        let err = pick("2e8a:000c").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "boards/microbit.yaml: no attached debug probe matches 2e8a:000c (for c); attached: 1366:1015:000683"
            ),
            "{err}"
        );
        // No selector: ambiguous with three, fine with one.
        assert!(choose_probe(Path::new(FILE), "c", None, &attached).is_err());
        assert_eq!(
            choose_probe(Path::new(FILE), "c", None, &attached[..1]),
            Ok(0)
        );
    }

    #[test]
    fn permission_denied_points_at_udev() {
        let attached = [probe(0x0d28, 0x0204, None, false)];
        let err = choose_probe(Path::new(FILE), "c", Some(&sel("0d28:0204")), &attached)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("0d28:0204 (CMSIS-DAP) [permission denied] is attached"),
            "{err}"
        );
        assert!(err.contains("udev rules"), "{err}");
    }
}
