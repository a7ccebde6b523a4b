//! What a heap measurement needs of the board before it runs: a stack cleared of what
//! earlier cases left, and, where the board file names its timer, that timer restarted
//! (see [`crate::device::stack_scrub`]).

use std::time::{Duration, Instant};

use super::BoardSession;
use crate::device::error::BoardError;

impl BoardSession {
    /// The periodic timer mpcheck restarts before a measurement (`qemu.icount.timer`).
    pub(super) fn timer(&self) -> Option<crate::boardfile::icount::Timer> {
        self.config.qemu.as_ref()?.icount?.timer
    }

    /// Before a heap measurement: overwrite the stack earlier cases left (see
    /// [`crate::device::stack_scrub`]), then the usual reset renews the heap the scrub used.
    pub(super) fn scrub_stack(&mut self) -> Result<Duration, BoardError> {
        let start = Instant::now();
        self.prepare()?;
        self.exec_ok(
            crate::device::stack_scrub::SCRIPT,
            "clearing the stack before a heap measurement",
        )?;
        self.dirty = true;
        Ok(start.elapsed())
    }
}
