//! Drives the raw REPL state machine over a transport: paced writes, wall-clock
//! deadlines, raw-paste with fallback to classic mode.

use std::time::{Duration, Instant};

mod paste;

use super::error::{BoardError, tail};
use super::raw_repl::{self, Event, RawRepl, RunOutput};
use super::shared_ram;
use super::transport::Transport;
use crate::boardfile::config::Pacing;

/// Longest single wait on the transport, so deadlines are checked often enough.
const READ_SLICE: Duration = Duration::from_millis(50);
/// How long a board may take to answer the raw-paste request before we assume it
/// swallowed it; old firmware answers at once with its banner.
const PASTE_REPLY_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether this connection uses raw-paste uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PasteMode {
    /// Not tried yet.
    Unknown,
    /// Firmware answered `R\x01`; window increment in bytes.
    RawPaste { window: u16 },
    /// Firmware refused or does not know raw-paste: classic for this connection.
    Classic,
}

/// Where the time of one execution went.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ExecTimings {
    /// A soft reset sent with the command (see [`Repl::owe_soft_reset`]): first byte
    /// written until the board's new prompt.
    pub reset: Duration,
    /// First byte written (or the new prompt) until the board accepted the command.
    pub upload: Duration,
    /// Accepted until stdout ended (the program ran and printed).
    pub run: Duration,
    /// End of stdout until the prompt (exception text and framing).
    pub read: Duration,
}

/// What a [`BoardError::Timeout`] says it was doing when the board never answered a
/// whole command with `OK`: the command did not arrive whole.
pub const ACCEPTING: &str = "waiting for the board to accept the code";

pub struct Repl {
    transport: Box<dyn Transport>,
    proto: RawRepl,
    pub pacing: Pacing,
    paste: PasteMode,
    console: String,
    output_limit: usize,
    /// Code goes through the link's shared RAM (checked by [`Repl::use_shared_ram`]).
    shared_ram: bool,
    /// A soft reset owed to the next command, with its timeout (see
    /// [`Repl::owe_soft_reset`]).
    reset_owed: Option<Duration>,
}

impl Repl {
    pub fn new(
        transport: Box<dyn Transport>,
        pacing: Pacing,
        output_limit: usize,
        try_paste: bool,
    ) -> Self {
        let console = transport.describe();
        Self {
            transport,
            proto: RawRepl::new(output_limit),
            pacing,
            paste: if try_paste {
                PasteMode::Unknown
            } else {
                PasteMode::Classic
            },
            console,
            output_limit,
            shared_ram: false,
            reset_owed: None,
        }
    }

    pub fn console(&self) -> &str {
        &self.console
    }

    pub fn paste_mode(&self) -> PasteMode {
        self.paste
    }

    pub fn transport(&self) -> &dyn Transport {
        self.transport.as_ref()
    }

    /// Whether code reaches the board through shared RAM rather than the console.
    pub fn uses_shared_ram(&self) -> bool {
        self.shared_ram
    }

    /// At an empty raw prompt: check that the board reads what this process writes into
    /// the link's shared RAM (the firmware has `uctypes` and leaves that RAM alone); if
    /// it does, code goes through it from now on. `Err`: the link has shared RAM the
    /// board did not read back, with what the board printed instead.
    pub fn use_shared_ram(&mut self, timeout: Duration) -> Result<Result<(), String>, BoardError> {
        let token = super::nonce::nonce();
        let Some(ram) = self.transport.shared_ram() else {
            return Ok(Ok(()));
        };
        let address = ram
            .put_at(0, &token)
            .map_err(|e| self.io("writing shared RAM", e))?;
        let probe = format!(
            "try:\n print({}.decode())\nexcept Exception as e:\n print(repr(e))",
            shared_ram::read(address, token.len())
        );
        let (out, _) = self.exec_framed(probe.as_bytes(), None, Instant::now() + timeout)?;
        self.shared_ram = out.stdout.trim_ascii() == token.as_slice();
        if self.shared_ram {
            return Ok(Ok(()));
        }
        Ok(Err(format!(
            "the board read {:?} at {address:#x}, not what mpcheck wrote there ({:?}){}",
            String::from_utf8_lossy(out.stdout.trim_ascii()),
            String::from_utf8_lossy(&token),
            if out.exception.is_empty() {
                String::new()
            } else {
                format!(
                    "; it raised {}",
                    String::from_utf8_lossy(&out.exception).trim()
                )
            }
        )))
    }

    /// Interrupt whatever runs and enter raw mode (no soft reset).
    pub fn enter_raw(&mut self, timeout: Duration) -> Result<(), BoardError> {
        self.drain()?;
        self.proto.sent_enter_raw();
        self.write_raw(raw_repl::ENTER_RAW, "entering raw REPL")?;
        self.wait(Instant::now() + timeout, "entering raw REPL", |e| {
            (e == Event::RawPrompt).then_some(())
        })
    }

    /// Soft reset from an empty raw prompt; returns when the new prompt arrived.
    pub fn soft_reset(&mut self, timeout: Duration) -> Result<(), BoardError> {
        self.reset_owed = None;
        self.proto.sent_soft_reset();
        self.write_raw(raw_repl::CTRL_D, "soft reset")?;
        self.wait(Instant::now() + timeout, "waiting for soft reboot", |e| {
            (e == Event::SoftRebooted).then_some(())
        })
    }

    /// A soft reset the next command carries: where it goes through shared RAM, the
    /// reset's `^D` and the command's stub go in one write, which the emulator's console
    /// holds while the board reboots, so the host does not wait for the new prompt
    /// before sending (a round trip less per case). Elsewhere the reset happens now
    /// (a real board's UART may drop what arrives while it reboots).
    pub fn owe_soft_reset(&mut self, timeout: Duration) -> Result<(), BoardError> {
        if self.shared_ram {
            self.reset_owed = Some(timeout);
            Ok(())
        } else {
            self.soft_reset(timeout)
        }
    }

    /// Whether a soft reset was still owed (the command that was to carry it failed
    /// before the board rebooted); it is forgotten.
    pub fn take_owed_reset(&mut self) -> bool {
        self.reset_owed.take().is_some()
    }

    /// Send ^C, e.g. to interrupt a program that overran its deadline.
    pub fn interrupt(&mut self) -> Result<(), BoardError> {
        self.write_raw(raw_repl::CTRL_C, "interrupting")
    }

    /// Wait for the run in progress to finish (after [`Repl::interrupt`]).
    pub fn wait_finished(&mut self, timeout: Duration) -> Result<RunOutput, BoardError> {
        self.wait(
            Instant::now() + timeout,
            "waiting for the interrupted run to end",
            |e| match e {
                Event::Finished(run) => Some(run),
                _ => None,
            },
        )
    }

    /// Output of the run in progress so far (after a timeout).
    pub fn partial_output(&self) -> &RunOutput {
        self.proto.partial_output()
    }

    pub fn hard_reset(&mut self) -> Result<(), BoardError> {
        self.reset_owed = None;
        self.transport
            .hard_reset()
            .map_err(|e| self.io("hard reset", e))?;
        self.console = self.transport.describe();
        self.proto = RawRepl::new(self.output_limit);
        Ok(())
    }

    /// Execute `code` at the raw prompt; returns when the board is back at `>`.
    pub fn exec(
        &mut self,
        code: &[u8],
        deadline: Instant,
    ) -> Result<(RunOutput, ExecTimings), BoardError> {
        self.exec_framed(code, None, deadline)
    }

    /// As [`Repl::exec`], with the run's stdout framed by `nonce` (see
    /// [`RawRepl::frame_with`]): `code` is a driver that prints it around the case.
    pub fn exec_framed(
        &mut self,
        code: &[u8],
        nonce: Option<&[u8]>,
        deadline: Instant,
    ) -> Result<(RunOutput, ExecTimings), BoardError> {
        let start = Instant::now();
        self.proto.frame_with(nonce.map(<[u8]>::to_vec));
        let (via_stub, rebooted) = self.upload(code, deadline)?;
        let accepted = Instant::now();
        self.wait(deadline, "running", |e| {
            (e == Event::StdoutDone).then_some(())
        })?;
        let stdout_done = Instant::now();
        let mut run = self.wait(deadline, "reading the exception text", |e| match e {
            Event::Finished(run) => Some(run),
            _ => None,
        })?;
        if via_stub {
            run.exception = shared_ram::without_frames(&run.exception);
        }
        let timings = ExecTimings {
            reset: rebooted.map_or(Duration::ZERO, |r| r - start),
            upload: accepted - rebooted.unwrap_or(start),
            run: stdout_done - accepted,
            read: stdout_done.elapsed(),
        };
        Ok((run, timings))
    }

    /// Uploads `code` and returns once the board accepted it: whether it went through
    /// shared RAM (a stub crossed the console instead), and when the board's new prompt
    /// came where the upload carried an owed soft reset.
    fn upload(
        &mut self,
        code: &[u8],
        deadline: Instant,
    ) -> Result<(bool, Option<Instant>), BoardError> {
        // Through shared RAM only a one-line stub crosses the console, in classic mode:
        // shorter than one pacing chunk, it needs no flow control and no paste request.
        let stub = self.shared_ram_stub(code)?;
        let rebooted = match (self.reset_owed, &stub) {
            (Some(timeout), Some(stub)) => Some(self.reset_with(stub, timeout, deadline)?),
            (Some(timeout), None) => {
                self.soft_reset(timeout)?;
                None
            }
            (None, _) => None,
        };
        if rebooted.is_some() {
            // The stub went with the reset; its `OK` may have come with the prompt.
            self.proto.sent_command();
        } else {
            let (code, window) = match &stub {
                Some(stub) => (stub.as_bytes(), None),
                None => match self.paste {
                    PasteMode::Unknown | PasteMode::RawPaste { .. } => {
                        (code, self.request_paste(deadline)?)
                    }
                    PasteMode::Classic => (code, None),
                },
            };
            match window {
                Some(window) => self.upload_paste(code, window, deadline)?,
                None => {
                    self.proto.sent_command();
                    self.write_paced(code, deadline)?;
                }
            }
        }
        self.wait(deadline, ACCEPTING, |e| {
            (e == Event::Accepted).then_some(())
        })?;
        Ok((stub.is_some(), rebooted))
    }

    /// The owed soft reset with `stub` right behind it in one write; returns when the
    /// board's new prompt came (the stub's answer is left for the caller to read).
    fn reset_with(
        &mut self,
        stub: &str,
        timeout: Duration,
        deadline: Instant,
    ) -> Result<Instant, BoardError> {
        self.proto.sent_soft_reset();
        let write = [raw_repl::CTRL_D, stub.as_bytes(), raw_repl::CTRL_D].concat();
        self.write_raw(&write, "soft reset and command")?;
        let reset_by = deadline.min(Instant::now() + timeout);
        self.wait(reset_by, "waiting for soft reboot", |e| {
            (e == Event::SoftRebooted).then_some(())
        })?;
        self.reset_owed = None;
        Ok(Instant::now())
    }

    /// Starts `code` and returns once the board runs it (run-multitests.py's
    /// `exec_raw_no_follow`): follow it with [`Repl::step`], talk to it with
    /// [`Repl::send`]. True when it went through shared RAM.
    pub fn start(&mut self, code: &[u8], deadline: Instant) -> Result<bool, BoardError> {
        self.proto.frame_with(None);
        Ok(self.upload(code, deadline)?.0)
    }

    /// One read of at most `wait` of a started run: its end, or `None` (what it printed
    /// so far is [`Repl::partial_output`]).
    pub fn step(&mut self, wait: Duration) -> Result<Option<RunOutput>, BoardError> {
        self.pump(wait, "following the run")?;
        while let Some(e) = self.proto.next_event() {
            if let Event::Finished(run) = e {
                return Ok(Some(run));
            }
        }
        Ok(None)
    }

    /// Writes to the running program's input.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        self.write_raw(bytes, "writing to the running program")
    }

    /// The stub that runs `code` from shared RAM, with `code` put there; `None` where
    /// code goes over the console (no shared RAM, or code no longer than the stub).
    fn shared_ram_stub(&mut self, code: &[u8]) -> Result<Option<String>, BoardError> {
        /// About the stub's own length: shorter code is cheaper sent as it is.
        const WORTH_IT: usize = 64;
        if !self.shared_ram || code.len() <= WORTH_IT {
            return Ok(None);
        }
        let Some(ram) = self.transport.shared_ram() else {
            return Ok(None);
        };
        let stub = ram
            .deliver(code)
            .map_err(|e| self.io("writing shared RAM", e))?;
        Ok(Some(stub))
    }

    /// Classic upload, then `^D`. A command that fits one chunk with its `^D` goes as one
    /// write (the most the link takes at once, by the board's pacing). A longer one goes
    /// in chunks with a pause after each, the last too, so the `^D` never rides on a
    /// chunk the board is still taking in (a lossy UART drops what overruns it); the
    /// deadline is checked before every chunk (a slow UART must not overrun the case's
    /// limit).
    fn write_paced(&mut self, code: &[u8], deadline: Instant) -> Result<(), BoardError> {
        let chunk = self.pacing.chunk_bytes.max(1);
        if code.len() < chunk {
            let mut command = code.to_vec();
            command.extend_from_slice(raw_repl::CTRL_D);
            return self.write_raw(&command, "uploading code");
        }
        let started = Instant::now();
        for part in code.chunks(chunk) {
            if Instant::now() >= deadline {
                return Err(self.timeout("uploading code", started.elapsed()));
            }
            self.write_raw(part, "uploading code")?;
            self.pause();
        }
        self.write_raw(raw_repl::CTRL_D, "ending the upload")
    }

    fn pause(&self) {
        if self.pacing.pause_ms > 0 {
            std::thread::sleep(Duration::from_millis(self.pacing.pause_ms));
        }
    }

    fn write_raw(&mut self, bytes: &[u8], doing: &'static str) -> Result<(), BoardError> {
        self.transport.write(bytes).map_err(|e| self.io(doing, e))
    }

    /// Discard whatever the board sent that nobody waited for.
    fn drain(&mut self) -> Result<(), BoardError> {
        let mut buf = [0u8; 4096];
        while self
            .transport
            .read(&mut buf, Duration::ZERO)
            .map_err(|e| self.io("draining input", e))?
            > 0
        {}
        Ok(())
    }

    /// One read of at most `wait`, fed to the state machine.
    fn pump(&mut self, wait: Duration, doing: &'static str) -> Result<(), BoardError> {
        let mut buf = [0u8; 4096];
        let n = self
            .transport
            .read(&mut buf, wait)
            .map_err(|e| self.io(doing, e))?;
        self.proto.feed(&buf[..n]);
        Ok(())
    }

    fn wait<T>(
        &mut self,
        deadline: Instant,
        doing: &'static str,
        mut want: impl FnMut(Event) -> Option<T>,
    ) -> Result<T, BoardError> {
        let started = Instant::now();
        loop {
            while let Some(e) = self.proto.next_event() {
                if let Some(t) = want(e) {
                    return Ok(t);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.timeout(doing, started.elapsed()));
            }
            self.pump((deadline - now).min(READ_SLICE), doing)?;
        }
    }

    fn timeout(&self, doing: &'static str, waited: Duration) -> BoardError {
        let mut last = self.proto.unconsumed().to_vec();
        if last.is_empty() {
            last = self.proto.partial_output().stdout.clone();
        }
        BoardError::Timeout {
            console: self.console.clone(),
            doing,
            waited,
            last: tail(&last),
        }
    }

    fn io(&self, doing: &'static str, source: std::io::Error) -> BoardError {
        BoardError::Io {
            console: self.console.clone(),
            doing,
            source,
        }
    }
}
