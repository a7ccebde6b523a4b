//! A debug probe as the serial console's hard reset: the last rung of the recovery ladder
//! for a serial board whose file says `reset: hook` and has a `probe:` section.
//! Hardware only: there is no probe on CI machines, so this adapter is not run there.

use std::io;

use super::flasher::Flasher;
use super::probe_rs_flasher::ProbeRsFlasher;
use super::probe_section::ProbeBoard;
use crate::device::transport::ResetHook;

pub struct ProbeResetHook {
    flasher: ProbeRsFlasher,
}

impl ProbeResetHook {
    pub fn new(board: ProbeBoard) -> ProbeResetHook {
        ProbeResetHook {
            flasher: ProbeRsFlasher::new(board),
        }
    }
}

impl ResetHook for ProbeResetHook {
    fn reset(&mut self) -> io::Result<()> {
        self.flasher.reset().map_err(io::Error::other)
    }

    fn describe(&self) -> String {
        self.flasher.describe()
    }
}
