//! The [`Flasher`] seam: put an [`Image`] on a board, reset it, halt it, let it run.
//! Backends (probe-rs here; QEMU elsewhere) implement it; nothing in this file knows about
//! probe-rs, so a remote or emulated backend slots in without it.

use std::fmt;
use std::time::{Duration, Instant};

use super::image::Image;

/// A step of a flash operation, in the order a backend does them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlashPhase {
    /// Reading back flash that an erase will destroy but the image does not rewrite.
    Fill,
    Erase,
    Program,
    Verify,
}

impl FlashPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            FlashPhase::Fill => "fill",
            FlashPhase::Erase => "erase",
            FlashPhase::Program => "program",
            FlashPhase::Verify => "verify",
        }
    }
}

impl fmt::Display for FlashPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a backend reports while it flashes; a reporter turns these into a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashEvent {
    /// The backend knows what it will do: `total_bytes` in `sectors` sectors.
    Planned {
        sectors: usize,
        total_bytes: u64,
    },
    /// A phase will run over `total` bytes (if known).
    PhaseAdded {
        phase: FlashPhase,
        total: Option<u64>,
    },
    Started(FlashPhase),
    /// `bytes` more bytes of `phase` done, which took `took`.
    Progress {
        phase: FlashPhase,
        bytes: u64,
        took: Duration,
    },
    Finished(FlashPhase),
    Failed(FlashPhase),
    /// Text from the backend (e.g. a flash algorithm's diagnostic output).
    Message(String),
}

/// How long each phase took; `None` for a phase that did not run (e.g. no erase because
/// pre-verify found the flash up to date).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlashTimings {
    pub fill: Option<Duration>,
    pub erase: Option<Duration>,
    pub program: Option<Duration>,
    pub verify: Option<Duration>,
    /// Wall time of the whole flash call, attach excluded.
    pub total: Duration,
    /// Bytes the program phase reported written (0 when everything was up to date).
    pub bytes_programmed: u64,
}

impl FlashTimings {
    fn slot(&mut self, phase: FlashPhase) -> &mut Option<Duration> {
        match phase {
            FlashPhase::Fill => &mut self.fill,
            FlashPhase::Erase => &mut self.erase,
            FlashPhase::Program => &mut self.program,
            FlashPhase::Verify => &mut self.verify,
        }
    }
}

/// Builds [`FlashTimings`] from the event stream: each phase's time is wall time from
/// `Started` to `Finished`/`Failed`, added up if a phase runs more than once (one run
/// per flash region).
#[derive(Debug)]
pub struct TimingRecorder {
    began: Instant,
    running: Vec<(FlashPhase, Instant)>,
    timings: FlashTimings,
}

impl TimingRecorder {
    pub fn new(began: Instant) -> Self {
        TimingRecorder {
            began,
            running: Vec::new(),
            timings: FlashTimings::default(),
        }
    }

    /// Feeds one event seen at `now`.
    pub fn record(&mut self, event: &FlashEvent, now: Instant) {
        match event {
            FlashEvent::Started(phase) => self.running.push((*phase, now)),
            FlashEvent::Finished(phase) | FlashEvent::Failed(phase) => {
                if let Some(i) = self.running.iter().position(|(p, _)| p == phase) {
                    let (_, start) = self.running.remove(i);
                    let slot = self.timings.slot(*phase);
                    *slot = Some(slot.unwrap_or_default() + now.saturating_duration_since(start));
                }
            }
            FlashEvent::Progress { phase, bytes, .. } => {
                if *phase == FlashPhase::Program {
                    self.timings.bytes_programmed += bytes;
                }
            }
            FlashEvent::Planned { .. } | FlashEvent::PhaseAdded { .. } | FlashEvent::Message(_) => {
            }
        }
    }

    pub fn finish(mut self, now: Instant) -> FlashTimings {
        self.timings.total = now.saturating_duration_since(self.began);
        self.timings
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum FlashError {
    /// The backend cannot do this at all (e.g. halt on a board reset by power cycling).
    #[error("{backend} cannot {capability}")]
    NotAvailable {
        backend: String,
        capability: &'static str,
    },
    /// No probe could be chosen; the source names the board file, the selector it
    /// wanted and what is attached.
    #[error(transparent)]
    NoProbe(BoxError),
    #[error("{backend}: cannot open the debug probe: {source}")]
    Open { backend: String, source: BoxError },
    #[error("{backend}: cannot attach to {chip}: {source}")]
    Attach {
        backend: String,
        chip: String,
        source: BoxError,
    },
    #[error("{backend}: flashing failed: {source}")]
    Flash { backend: String, source: BoxError },
    #[error("{backend}: {operation} failed: {source}")]
    Control {
        backend: String,
        operation: &'static str,
        source: BoxError,
    },
}

/// A way to put firmware on a board and control its core.
///
/// `flash` and `reset` are required; the rest default to [`FlashError::NotAvailable`],
/// so a backend only writes what it can do.
pub trait Flasher: Send {
    /// Names the backend and the board for messages, e.g. `probe-rs nRF51822_xxAA via
    /// 0d28:0204:990000`.
    fn describe(&self) -> String;

    /// Writes `image`, verifying it; skips what is already up to date where the backend
    /// can tell. `progress` sees every event as it happens.
    fn flash(
        &mut self,
        image: &Image,
        progress: &mut dyn FnMut(FlashEvent),
    ) -> Result<FlashTimings, FlashError>;

    /// Resets the board and lets it run from its reset vector.
    fn reset(&mut self) -> Result<(), FlashError>;

    /// Resets the board and stops the core before the first instruction.
    fn reset_and_halt(&mut self) -> Result<(), FlashError> {
        Err(self.not_available("reset and halt"))
    }

    /// Lets a halted core run.
    fn run(&mut self) -> Result<(), FlashError> {
        Err(self.not_available("resume a halted core"))
    }

    /// Reads target memory (e.g. MicroPython's heap state through ELF symbols).
    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), FlashError> {
        let _ = (address, buf);
        Err(self.not_available("read target memory"))
    }

    /// The error a default method returns.
    fn not_available(&self, capability: &'static str) -> FlashError {
        FlashError::NotAvailable {
            backend: self.describe(),
            capability,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flasher that can only flash and reset: shows the defaults.
    struct Minimal;

    impl Flasher for Minimal {
        fn describe(&self) -> String {
            "minimal test backend".into()
        }
        fn flash(
            &mut self,
            image: &Image,
            progress: &mut dyn FnMut(FlashEvent),
        ) -> Result<FlashTimings, FlashError> {
            progress(FlashEvent::Started(FlashPhase::Program));
            progress(FlashEvent::Finished(FlashPhase::Program));
            Ok(FlashTimings {
                bytes_programmed: image.total_bytes(),
                ..FlashTimings::default()
            })
        }
        fn reset(&mut self) -> Result<(), FlashError> {
            Ok(())
        }
    }

    #[test]
    fn optional_capabilities_default_to_not_available() {
        let mut f = Minimal;
        assert!(f.reset().is_ok());
        assert_eq!(
            f.reset_and_halt().unwrap_err().to_string(),
            "minimal test backend cannot reset and halt"
        );
        assert_eq!(
            f.run().unwrap_err().to_string(),
            "minimal test backend cannot resume a halted core"
        );
        let mut buf = [0u8; 4];
        assert!(matches!(
            f.read_memory(0x2000_0000, &mut buf),
            Err(FlashError::NotAvailable { .. })
        ));
        let image = Image::parse(
            &[1, 2, 3],
            crate::boardfile::probe_spec::ImageFormat::Bin,
            Some(0),
        )
        .unwrap();
        let mut events = Vec::new();
        let timings = f.flash(&image, &mut |e| events.push(e)).unwrap();
        assert_eq!(timings.bytes_programmed, 3);
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn timings_from_events() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut rec = TimingRecorder::new(t0);
        let script = [
            (
                0,
                FlashEvent::Planned {
                    sectors: 4,
                    total_bytes: 4096,
                },
            ),
            (1, FlashEvent::Started(FlashPhase::Erase)),
            (101, FlashEvent::Finished(FlashPhase::Erase)),
            (101, FlashEvent::Started(FlashPhase::Program)),
            (
                150,
                FlashEvent::Progress {
                    phase: FlashPhase::Program,
                    bytes: 1024,
                    took: Duration::from_millis(49),
                },
            ),
            (
                201,
                FlashEvent::Progress {
                    phase: FlashPhase::Program,
                    bytes: 1024,
                    took: Duration::from_millis(51),
                },
            ),
            (301, FlashEvent::Finished(FlashPhase::Program)),
            // a second region: program runs again
            (301, FlashEvent::Started(FlashPhase::Program)),
            (311, FlashEvent::Finished(FlashPhase::Program)),
            (311, FlashEvent::Started(FlashPhase::Verify)),
            (331, FlashEvent::Failed(FlashPhase::Verify)),
        ];
        for (at, event) in &script {
            rec.record(event, ms(*at));
        }
        let timings = rec.finish(ms(340));
        assert_eq!(timings.erase, Some(Duration::from_millis(100)));
        assert_eq!(timings.program, Some(Duration::from_millis(210)));
        assert_eq!(timings.verify, Some(Duration::from_millis(20)));
        assert_eq!(timings.fill, None);
        assert_eq!(timings.total, Duration::from_millis(340));
        assert_eq!(timings.bytes_programmed, 2048);
    }
}
