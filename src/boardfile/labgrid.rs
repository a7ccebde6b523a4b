//! The `labgrid:` section of a board file: which place, on which coordinator, and how
//! long to wait for it.

use std::time::Duration;

use serde::Deserialize;

use crate::boardfile::config::{ResetMethod, SerialConfig};

/// Why 10 minutes: a nightly run on a shared board takes minutes; waiting for one other
/// run to finish is normal, waiting much longer means a place someone forgot to release.
const DEFAULT_ACQUIRE_TIMEOUT_SECS: u64 = 600;

/// As written in the board file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLabgrid {
    /// The board's place; or `places`: a pool of identical boards, one place each.
    pub place: Option<String>,
    pub places: Option<Vec<String>>,
    /// `host:port` of the labgrid coordinator; `LG_COORDINATOR` when absent.
    pub coordinator: Option<String>,
    /// Seconds to wait while someone else holds the place.
    pub acquire_timeout: Option<u64>,
}

/// A checked `labgrid:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabgridSpec {
    /// The place this spec reaches (a pool's first member until [`LabgridSpec::member`]).
    pub place: String,
    /// Every place of the board: one, or a pool's members (identical boards, one family),
    /// `place` among them.
    pub places: Vec<String>,
    /// Where the coordinator listens; `None`: labgrid's own default (`LG_COORDINATOR`,
    /// else 127.0.0.1:20408), decided by `labgrid-client` itself.
    pub coordinator: Option<String>,
    pub acquire_timeout: Duration,
}

impl LabgridSpec {
    /// Checks the raw section; the error is the message for the board file's line.
    pub fn check(raw: RawLabgrid) -> Result<Self, String> {
        let places = match (raw.place, raw.places) {
            (Some(p), None) => vec![p],
            (None, Some(ps)) if !ps.is_empty() => ps,
            (None, _) => {
                return Err(
                    "labgrid: name the board's `place`, or its pool's `places: [a, b, …]`".into(),
                );
            }
            (Some(_), Some(_)) => {
                return Err("labgrid: `place` or `places`, not both".into());
            }
        };
        for (i, p) in places.iter().enumerate() {
            if p.is_empty() || p.contains(char::is_whitespace) {
                return Err(format!(
                    "labgrid.place: `{p}` is not a place name (no spaces, not empty)"
                ));
            }
            if places[..i].contains(p) {
                return Err(format!("labgrid.places: `{p}` is named twice"));
            }
        }
        if let Some(c) = &raw.coordinator
            && (c.is_empty() || c.contains(char::is_whitespace) || c.contains('/'))
        {
            return Err(format!(
                "labgrid.coordinator: `{c}` is not `host:port` (or leave it out and set LG_COORDINATOR)"
            ));
        }
        Ok(Self {
            place: places[0].clone(),
            places,
            coordinator: raw.coordinator,
            acquire_timeout: Duration::from_secs(
                raw.acquire_timeout.unwrap_or(DEFAULT_ACQUIRE_TIMEOUT_SECS),
            ),
        })
    }

    /// A pool of several places (identical boards, one family).
    pub fn is_pool(&self) -> bool {
        self.places.len() > 1
    }

    /// The spec of one member of the pool: `place` reached, on the same coordinator.
    pub fn member(&self, place: &str) -> LabgridSpec {
        LabgridSpec {
            place: place.to_string(),
            ..self.clone()
        }
    }

    /// The coordinator as messages name it.
    pub fn coordinator_name(&self) -> String {
        match &self.coordinator {
            Some(c) => c.clone(),
            None => match std::env::var("LG_COORDINATOR") {
                Ok(c) if !c.is_empty() => c,
                _ => "127.0.0.1:20408, labgrid's default".to_string(),
            },
        }
    }
}

/// A key of the board file and what is wrong with it.
pub type BadKey = (&'static str, String);

/// A board file's `labgrid:` section against the rest of it: only serial boards live in
/// places, and their `serial:` section names no console (the place has it) and may be
/// left out; they have no `probe:` here. The error is the key whose line it is about, and the message.
pub fn board_section(
    raw: Option<RawLabgrid>,
    serial: Option<SerialConfig>,
    serial_kind: bool,
    has_probe: bool,
) -> Result<(Option<LabgridSpec>, Option<SerialConfig>), BadKey> {
    let Some(raw) = raw else {
        return Ok((None, serial));
    };
    if !serial_kind {
        return Err((
            "labgrid",
            "labgrid: only serial boards live in labgrid places".into(),
        ));
    }
    if has_probe {
        // The probe hangs off the exporter's host, out of this machine's reach.
        return Err((
            "probe",
            "probe: a board in a labgrid place is reset by the place's power switch; flash it on its own host".into(),
        ));
    }
    let spec = LabgridSpec::check(raw).map_err(|m| ("labgrid", m))?;
    let serial = serial.unwrap_or(SerialConfig {
        console: None,
        usb_serial: None,
        baud: 115_200,
        reset: ResetMethod::None,
        consoles: Vec::new(),
    });
    if serial.console.is_some() || serial.usb_serial.is_some() || !serial.consoles.is_empty() {
        return Err((
            "serial",
            "serial: a labgrid board's console comes from its place (its NetworkSerialPort): remove `console`, `consoles` and `usb_serial`".into(),
        ));
    }
    Ok((Some(spec), Some(serial)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(place: &str, coordinator: Option<&str>) -> RawLabgrid {
        RawLabgrid {
            place: Some(place.into()),
            places: None,
            coordinator: coordinator.map(str::to_string),
            acquire_timeout: None,
        }
    }

    #[test]
    fn checks_place_and_coordinator() {
        let s = LabgridSpec::check(raw("rack3-pico", Some("farm:20408"))).unwrap();
        assert_eq!(s.acquire_timeout, Duration::from_secs(600));
        assert_eq!(s.coordinator_name(), "farm:20408");
        assert!(
            LabgridSpec::check(raw("a b", None))
                .unwrap_err()
                .contains("labgrid.place")
        );
        assert!(
            LabgridSpec::check(raw("p", Some("grpc://x")))
                .unwrap_err()
                .contains("labgrid.coordinator")
        );
    }

    #[test]
    fn a_pool_names_its_places_once_each() {
        let pool = |places: &[&str]| RawLabgrid {
            place: None,
            places: Some(places.iter().map(|p| p.to_string()).collect()),
            coordinator: None,
            acquire_timeout: None,
        };
        let s = LabgridSpec::check(pool(&["mb1", "mb2"])).unwrap();
        assert!(s.is_pool());
        assert_eq!((s.place.as_str(), s.places.len()), ("mb1", 2));
        assert_eq!(s.member("mb2").place, "mb2");
        assert!(!LabgridSpec::check(raw("one", None)).unwrap().is_pool());
        let twice = LabgridSpec::check(pool(&["mb1", "mb1"])).unwrap_err();
        assert!(twice.contains("named twice"), "{twice}");
        assert!(
            LabgridSpec::check(pool(&[]))
                .unwrap_err()
                .contains("places")
        );
        let both = RawLabgrid {
            place: Some("a".into()),
            ..pool(&["b"])
        };
        assert!(LabgridSpec::check(both).unwrap_err().contains("not both"));
    }
}
