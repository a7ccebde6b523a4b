//! A case starts on a fresh board: the soft reset before it (carried by its command where
//! the link allows, see [`crate::device::repl::Repl::owe_soft_reset`]), and the recovery
//! ladder when a reset or the board fails.

use std::time::{Duration, Instant};

use super::{BoardSession, RESET_TIMEOUT};
use crate::device::driver::Driver;
use crate::device::error::BoardError;
use crate::device::raw_repl::RunOutput;
use crate::device::recover::{self, Recovered};
use crate::device::repl::{ExecTimings, Repl};

impl BoardSession {
    /// Climb the recovery ladder now (e.g. when the harness suspects the board).
    pub fn recover(&mut self) -> Result<Recovered, BoardError> {
        let r = recover::recover(&mut self.repl, self.ladder, false, false)?;
        self.dirty = false;
        Ok(r)
    }

    /// Hard reset (QEMU restart) and back to a raw prompt.
    pub fn restart(&mut self) -> Result<(), BoardError> {
        self.repl.hard_reset()?;
        self.repl.enter_raw(RESET_TIMEOUT)?;
        self.repl.soft_reset(RESET_TIMEOUT)?;
        self.dirty = false;
        Ok(())
    }

    /// Soft reset (if configured or needed) so the case starts on a fresh heap.
    pub(super) fn prepare(&mut self) -> Result<Duration, BoardError> {
        self.reset_before_case(false)
    }

    /// As [`BoardSession::prepare`]; `owed`: the next command may carry the reset
    /// (see [`Repl::owe_soft_reset`]).
    pub(super) fn reset_before_case(&mut self, owed: bool) -> Result<Duration, BoardError> {
        let start = Instant::now();
        if self.config.soft_reset_between_cases || self.dirty {
            let reset = if owed {
                self.repl.owe_soft_reset(RESET_TIMEOUT)
            } else {
                self.repl.soft_reset(RESET_TIMEOUT)
            };
            if let Err(e) = reset {
                self.reset_failed(e)?;
            }
            self.dirty = false;
        }
        Ok(start.elapsed())
    }

    /// A soft reset before a case failed: up the recovery ladder.
    fn reset_failed(&mut self, e: BoardError) -> Result<(), BoardError> {
        let broken = matches!(e, BoardError::Io { .. });
        recover::recover(&mut self.repl, self.ladder, false, broken).map(drop)
    }

    /// The driver's run, carrying the reset it is owed; a reset that failed before the
    /// case started is recovered from as [`BoardSession::prepare`] does, then the
    /// driver runs once more.
    pub(super) fn exec_driver(
        &mut self,
        driver: &Driver,
        timeout: Duration,
    ) -> Result<(RunOutput, ExecTimings), BoardError> {
        let exec = |repl: &mut Repl| {
            repl.exec_framed(
                &driver.script,
                Some(&driver.nonce),
                Instant::now() + timeout,
            )
        };
        match exec(&mut self.repl) {
            Err(e) if self.repl.take_owed_reset() => {
                self.reset_failed(e)?;
                exec(&mut self.repl)
            }
            run => run,
        }
    }
}
