//! [`Flasher`] over a local debug probe, through probe-rs.
//!
//! HARDWARE ONLY: everything here except [`map_event`] needs a probe and a board, so it is
//! not exercised on CI machines without one (it compiles and is type-checked; the event
//! mapping is unit-tested). Keep it thin: board checks live in `probe_section`, probe
//! choice in `probes`, image parsing in `image`, timing in `flasher`.

use std::time::{Duration, Instant};

use probe_rs::flashing::{DownloadOptions, FlashProgress, ProgressEvent, ProgressOperation};
use probe_rs::probe::WireProtocol;
use probe_rs::{MemoryInterface, Permissions, Session};

use super::flasher::{FlashError, FlashEvent, FlashPhase, FlashTimings, Flasher, TimingRecorder};
use super::image::Image;
use super::probe_section::ProbeBoard;
use super::probes::open_probe;
use crate::boardfile::probe_spec::{Protocol, ResetMethod};

/// How long a halt may take before probe-rs gives up. Why 500 ms: a Cortex-M halts within
/// microseconds; the slack covers slow probes (DAPLink v1 over HID) and USB hubs.
const HALT_TIMEOUT: Duration = Duration::from_millis(500);

pub struct ProbeRsFlasher {
    board: ProbeBoard,
    /// Attached on first use, dropped by a hardware reset (which needs the bare probe).
    session: Option<Session>,
}

impl ProbeRsFlasher {
    /// Does not touch USB: the probe is opened on the first operation.
    pub fn new(board: ProbeBoard) -> Self {
        ProbeRsFlasher {
            board,
            session: None,
        }
    }

    fn session(&mut self) -> Result<&mut Session, FlashError> {
        if self.session.is_none() {
            let backend = self.describe();
            let mut probe = open_probe(&self.board)?;
            if let Some(protocol) = self.board.protocol {
                let wire = match protocol {
                    Protocol::Swd => WireProtocol::Swd,
                    Protocol::Jtag => WireProtocol::Jtag,
                };
                probe
                    .select_protocol(wire)
                    .map_err(control(&backend, "select the wire protocol"))?;
            }
            if let Some(khz) = self.board.speed_khz {
                probe
                    .set_speed(khz)
                    .map_err(control(&backend, "set the probe speed"))?;
            }
            let chip = self.board.chip.clone();
            let attached = match self.board.reset {
                ResetMethod::Hardware => probe.attach_under_reset(&chip, Permissions::default()),
                ResetMethod::Probe | ResetMethod::None => {
                    probe.attach(&chip, Permissions::default())
                }
            };
            let session = attached.map_err(|e| FlashError::Attach {
                backend: backend.clone(),
                chip,
                source: Box::new(e),
            })?;
            self.session = Some(session);
        }
        Ok(self.session.as_mut().expect("attached above"))
    }
}

fn control<E: std::error::Error + Send + Sync + 'static>(
    backend: &str,
    operation: &'static str,
) -> impl FnOnce(E) -> FlashError {
    let backend = backend.to_string();
    move |e| FlashError::Control {
        backend,
        operation,
        source: Box::new(e),
    }
}

impl Flasher for ProbeRsFlasher {
    fn describe(&self) -> String {
        let via = self
            .board
            .selector
            .as_ref()
            .map_or_else(|| "the only attached probe".to_string(), |s| s.to_string());
        format!("probe-rs {} via {via}", self.board.chip)
    }

    fn flash(
        &mut self,
        image: &Image,
        progress: &mut dyn FnMut(FlashEvent),
    ) -> Result<FlashTimings, FlashError> {
        let backend = self.describe();
        let flash_err = |e: probe_rs::flashing::FlashError| FlashError::Flash {
            backend: backend.clone(),
            source: Box::new(e),
        };
        let began = Instant::now();
        let session = self.session()?;
        let mut loader = session.target().flash_loader();
        for segment in &image.segments {
            loader
                .add_data(segment.address, &segment.data)
                .map_err(flash_err)?;
        }
        let mut recorder = TimingRecorder::new(began);
        let result = {
            let mut options = DownloadOptions::default();
            // Read back what was written; and before writing, skip sectors already
            // holding the image (a nightly re-flash of unchanged firmware only reads).
            options.verify = true;
            options.preverify = true;
            options.progress = FlashProgress::new(|event| {
                let event = map_event(event);
                recorder.record(&event, Instant::now());
                progress(event);
            });
            loader.commit(session, options)
        };
        result.map_err(flash_err)?;
        Ok(recorder.finish(Instant::now()))
    }

    fn reset(&mut self) -> Result<(), FlashError> {
        let backend = self.describe();
        match self.board.reset {
            ResetMethod::Probe => self
                .session()?
                .core(0)
                .and_then(|mut core| core.reset())
                .map_err(control(&backend, "reset")),
            ResetMethod::Hardware => {
                // The session owns the probe and 0.32 has no way to borrow it back:
                // detach, pulse nRESET on the bare probe, attach again on next use.
                self.session = None;
                let mut probe = open_probe(&self.board)?;
                probe
                    .target_reset()
                    .map_err(control(&backend, "pulse the reset line"))
            }
            ResetMethod::None => Err(self.not_available("reset (board file says `reset: none`)")),
        }
    }

    fn reset_and_halt(&mut self) -> Result<(), FlashError> {
        let backend = self.describe();
        self.session()?
            .core(0)
            .and_then(|mut core| core.reset_and_halt(HALT_TIMEOUT))
            .map(|_| ())
            .map_err(control(&backend, "reset and halt"))
    }

    fn run(&mut self) -> Result<(), FlashError> {
        let backend = self.describe();
        self.session()?
            .core(0)
            .and_then(|mut core| core.run())
            .map_err(control(&backend, "run"))
    }

    fn read_memory(&mut self, address: u64, buf: &mut [u8]) -> Result<(), FlashError> {
        let backend = self.describe();
        self.session()?
            .core(0)
            .and_then(|mut core| core.read(address, buf))
            .map_err(control(&backend, "read memory"))
    }
}

fn phase(operation: ProgressOperation) -> FlashPhase {
    match operation {
        ProgressOperation::Fill => FlashPhase::Fill,
        ProgressOperation::Erase => FlashPhase::Erase,
        ProgressOperation::Program => FlashPhase::Program,
        ProgressOperation::Verify => FlashPhase::Verify,
    }
}

/// probe-rs's progress event as ours. Offline-testable.
pub fn map_event(event: ProgressEvent) -> FlashEvent {
    match event {
        ProgressEvent::FlashLayoutReady { flash_layout } => FlashEvent::Planned {
            sectors: flash_layout.iter().map(|l| l.sectors().len()).sum(),
            total_bytes: flash_layout
                .iter()
                .flat_map(|l| l.data_blocks())
                .map(|b| b.size())
                .sum(),
        },
        ProgressEvent::AddProgressBar { operation, total } => FlashEvent::PhaseAdded {
            phase: phase(operation),
            total,
        },
        ProgressEvent::Started(op) => FlashEvent::Started(phase(op)),
        ProgressEvent::Progress {
            operation,
            size,
            time,
        } => FlashEvent::Progress {
            phase: phase(operation),
            bytes: size,
            took: time,
        },
        ProgressEvent::Failed(op) => FlashEvent::Failed(phase(op)),
        ProgressEvent::Finished(op) => FlashEvent::Finished(phase(op)),
        ProgressEvent::DiagnosticMessage { message } => FlashEvent::Message(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use probe_rs::flashing::FlashLayout;

    #[test]
    fn events_map_one_to_one() {
        assert_eq!(
            map_event(ProgressEvent::FlashLayoutReady {
                flash_layout: vec![FlashLayout::default()]
            }),
            FlashEvent::Planned {
                sectors: 0,
                total_bytes: 0
            }
        );
        assert_eq!(
            map_event(ProgressEvent::AddProgressBar {
                operation: ProgressOperation::Erase,
                total: Some(4096)
            }),
            FlashEvent::PhaseAdded {
                phase: FlashPhase::Erase,
                total: Some(4096)
            }
        );
        assert_eq!(
            map_event(ProgressEvent::Progress {
                operation: ProgressOperation::Program,
                size: 1024,
                time: Duration::from_millis(7)
            }),
            FlashEvent::Progress {
                phase: FlashPhase::Program,
                bytes: 1024,
                took: Duration::from_millis(7)
            }
        );
        assert_eq!(
            map_event(ProgressEvent::Failed(ProgressOperation::Verify)),
            FlashEvent::Failed(FlashPhase::Verify)
        );
        assert_eq!(
            map_event(ProgressEvent::DiagnosticMessage {
                message: "hi".into()
            }),
            FlashEvent::Message("hi".into())
        );
    }
}
