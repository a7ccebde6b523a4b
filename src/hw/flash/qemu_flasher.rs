//! The QEMU implementation of [`Flasher`]: "flashing" an emulated board means restarting
//! its emulators with the image, and "reset" a restart too. It lets the run-level logic
//! (flash only if changed, reset, recover) run for real on the QEMU boards in CI.

use std::sync::Arc;
use std::time::Instant;

use super::flasher::{FlashError, FlashEvent, FlashTimings, Flasher};
use super::image::Image;

/// Stops a board's running emulators, so the next case starts fresh ones with the board's
/// current image (the board target's `restart_all`).
pub type Restart = Arc<dyn Fn() + Send + Sync>;

pub struct QemuFlasher {
    machine: String,
    restart: Restart,
}

impl QemuFlasher {
    pub fn new(machine: &str, restart: Restart) -> QemuFlasher {
        QemuFlasher {
            machine: machine.to_string(),
            restart,
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
        (self.restart)();
        Ok(FlashTimings {
            total: start.elapsed(),
            bytes_programmed: image.total_bytes(),
            ..FlashTimings::default()
        })
    }

    fn reset(&mut self) -> Result<(), FlashError> {
        (self.restart)();
        Ok(())
    }
}
