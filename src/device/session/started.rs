//! A script the harness talks to while it runs on the board — a multi-instance test's
//! instance: started after the usual reset, fed input, followed until the board is back
//! at its prompt, or stopped by the recovery ladder.

use std::time::{Duration, Instant};

use super::{BoardSession, UPLOAD_TIMEOUT};
use crate::device::error::BoardError;
use crate::device::raw_repl::RunOutput;
use crate::device::recover::{self, Recovered};

impl BoardSession {
    /// Starts `script` after the usual reset and returns once it runs: a multi-instance
    /// test's instance, which reads input while it runs ([`BoardSession::send`]) and is
    /// followed with [`BoardSession::follow`]. True when it went through shared RAM.
    pub fn start_script(&mut self, script: &[u8]) -> Result<bool, BoardError> {
        self.prepare()?;
        // Until it ends, the board is in the script's hands.
        self.dirty = true;
        self.repl.start(script, Instant::now() + UPLOAD_TIMEOUT)
    }

    /// A started script's end (the board back at its prompt), or `None` after `wait`;
    /// its output so far is [`BoardSession::partial_stdout`].
    pub fn follow(&mut self, wait: Duration) -> Result<Option<RunOutput>, BoardError> {
        let done = self.repl.step(wait)?;
        if done.is_some() {
            // Input the script left unread (the `\n` of a `\r\n` its readline stopped
            // short of) would start the next command and spoil its raw-paste request:
            // `^C` at the raw prompt clears it, silently.
            self.repl.send(crate::device::raw_repl::CTRL_C)?;
            self.dirty = false;
        }
        Ok(done)
    }

    pub fn partial_stdout(&self) -> &[u8] {
        &self.repl.partial_output().stdout
    }

    /// Writes to a started script's input.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        self.repl.send(bytes)
    }

    /// Stops a started script by the recovery ladder: `^C` first (as upstream stops an
    /// instance), then resets (a port that polls its UART, as the qemu port, takes no
    /// `^C` while the script waits in `readline`).
    pub fn stop_script(&mut self) -> Result<Recovered, BoardError> {
        let r = recover::recover(&mut self.repl, self.ladder, true, false)?;
        self.dirty = false;
        Ok(r)
    }
}
