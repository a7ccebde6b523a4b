//! The QEMU implementation of [`Flasher`]: "flashing" an emulated board means restarting
//! its emulators with the image, and "reset" a restart too. It lets the run-level logic
//! (flash only if changed, reset, recover) run for real on the QEMU boards in CI.

use std::sync::Arc;
use std::time::Instant;

use super::flasher::{FlashError, FlashEvent, FlashTimings, Flasher};
use super::image::Image;
use crate::target::board::BoardTarget;

pub struct QemuFlasher {
    machine: String,
    target: Arc<BoardTarget>,
}

impl QemuFlasher {
    pub fn new(machine: &str, target: Arc<BoardTarget>) -> QemuFlasher {
        QemuFlasher {
            machine: machine.to_string(),
            target,
        }
    }
}

impl Flasher for QemuFlasher {
    fn describe(&self) -> String {
        format!("qemu -M {}", self.machine)
    }

    /// The image is the one QEMU loads at start: stopping the running emulators makes
    /// the next case start fresh ones with it.
    fn flash(
        &mut self,
        image: &Image,
        _progress: &mut dyn FnMut(FlashEvent),
    ) -> Result<FlashTimings, FlashError> {
        let start = Instant::now();
        self.target.restart_all();
        Ok(FlashTimings {
            total: start.elapsed(),
            bytes_programmed: image.total_bytes(),
            ..FlashTimings::default()
        })
    }

    fn reset(&mut self) -> Result<(), FlashError> {
        self.target.restart_all();
        Ok(())
    }
}
