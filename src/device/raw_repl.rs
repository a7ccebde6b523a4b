//! Sans-I/O raw REPL protocol: told what the host just sent, fed the bytes the board
//! answers (in any chunking), it reports protocol events. No I/O, no clocks.

use std::collections::VecDeque;

/// Printed by the board on entering raw mode and after every soft reset in raw mode.
pub const RAW_BANNER: &[u8] = b"raw REPL; CTRL-B to exit\r\n";

/// Bytes that interrupt whatever runs and then enter raw mode. Two ^C because one may be
/// eaten by a program that was between bytecodes when it arrived (upstream sends
/// `\r\x03` twice as well).
pub const ENTER_RAW: &[u8] = b"\r\x03\x03\r\x01";
/// Ends the input of a raw command; on an empty buffer it soft-resets the board.
pub const CTRL_D: &[u8] = b"\x04";
/// Interrupt (KeyboardInterrupt), or clear the raw input buffer.
pub const CTRL_C: &[u8] = b"\x03";
/// Request raw-paste mode (MicroPython >= 1.14).
pub const RAW_PASTE_REQUEST: &[u8] = b"\x05A\x01";

/// What the board printed for one execution, framed as `stdout \x04 exception \x04 >`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunOutput {
    /// Raw stdout bytes (still `\r\n`), capped at the output limit.
    pub stdout: Vec<u8>,
    /// Traceback text; empty when the program ended normally.
    pub exception: Vec<u8>,
    /// True when stdout or the exception exceeded the output limit and was cut.
    pub truncated: bool,
    /// True when the board soft-reset after the run (uncaught `SystemExit` on
    /// MicroPython >= 1.10; 1.9.2 just shows the prompt again).
    pub soft_rebooted: bool,
    /// Framed runs: the driver printed the nonce before the case ran (the case compiled
    /// and started). Unframed runs: always false.
    pub started: bool,
    /// Framed runs: what the driver printed after the closing nonce (its status word),
    /// `None` when the closing nonce never came.
    pub status: Option<Vec<u8>>,
}

/// Something the board did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The raw banner and its `>` prompt arrived.
    RawPrompt,
    /// A soft reset in raw mode completed; the board is at `>`.
    SoftRebooted,
    /// The board accepted the command (`OK` in classic mode, `\x04` after raw-paste).
    Accepted,
    /// The program's stdout ended (first framing `\x04`).
    StdoutDone,
    /// The run ended and the board is back at `>`.
    Finished(RunOutput),
    /// Raw-paste accepted with this window increment.
    PasteAccepted { window: u16 },
    /// Raw-paste known but refused (`R\x00`); the board waits for classic input.
    PasteRefused,
    /// Old firmware: `\x05A` became text and `\x01` re-entered raw mode; at `>` again.
    PasteUnsupported,
    /// Raw-paste: the board granted one more window.
    PasteCredit,
    /// Raw-paste: the board aborted the upload; answer with `\x04`, then output follows.
    PasteAborted,
}

/// What the state machine waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    RawBanner,
    SoftResetOk,
    SoftResetBanner,
    RunOk,
    Stdout,
    Exception,
    AfterRun,
    AfterRunReboot,
    PasteReply,
    PasteWindow,
    PasteUnsupported,
    PasteFlow,
    PasteEnd,
    /// The board aborted the paste; it waits for the host's `\x04`.
    PasteAbortedWait,
    /// Framed run: is the stdout's start the opening nonce?
    FramedStart,
    /// Framed run: the case's own bytes, until the closing nonce.
    FramedCase,
    /// Framed run: the driver's status word after the closing nonce, until `\x04`.
    FramedStatus,
}

/// The raw REPL protocol state machine.
#[derive(Debug)]
pub struct RawRepl {
    phase: Phase,
    pending: Vec<u8>,
    events: VecDeque<Event>,
    run: RunOutput,
    output_limit: usize,
    /// The per-run secret that frames the case's output (see [`RawRepl::frame_with`]).
    nonce: Option<Vec<u8>>,
}

impl RawRepl {
    /// `output_limit` caps stdout and exception text each (bytes beyond are dropped).
    pub fn new(output_limit: usize) -> Self {
        Self {
            phase: Phase::Idle,
            pending: Vec::new(),
            events: VecDeque::new(),
            run: RunOutput::default(),
            output_limit,
            nonce: None,
        }
    }

    /// Frame the next run's stdout with `nonce`: the driver prints it before the case
    /// runs and again after it, followed by a status word. Until the closing nonce every
    /// byte (`\x04` included) is the case's output, so a case cannot end its run early
    /// or forge the exception section. If the stdout does not start with the nonce, the
    /// driver never ran (the board could not compile it) and the plain framing applies.
    /// `None`: plain framing (helper scripts).
    pub fn frame_with(&mut self, nonce: Option<Vec<u8>>) {
        self.nonce = nonce.filter(|n| !n.is_empty());
    }

    /// The host sent [`ENTER_RAW`]: wait for the banner and `>`. Drops buffered input.
    pub fn sent_enter_raw(&mut self) {
        self.reset_to(Phase::RawBanner);
    }

    /// The host sent `\x04` at an empty raw prompt: wait for `OK`, the reboot, the banner.
    pub fn sent_soft_reset(&mut self) {
        self.reset_to(Phase::SoftResetOk);
    }

    /// The host sent a whole classic command ending in `\x04`.
    pub fn sent_command(&mut self) {
        self.phase = Phase::RunOk;
        self.run = RunOutput::default();
        self.step();
    }

    /// Where a run's stdout starts: the framed or the plain reading.
    fn stdout_phase(&self) -> Phase {
        if self.nonce.is_some() {
            Phase::FramedStart
        } else {
            Phase::Stdout
        }
    }

    /// The host sent [`RAW_PASTE_REQUEST`].
    pub fn sent_paste_request(&mut self) {
        self.phase = Phase::PasteReply;
        self.step();
    }

    /// The host finished a raw-paste upload with `\x04` (also after [`Event::PasteAborted`]).
    pub fn sent_paste_end(&mut self) {
        self.run = RunOutput::default();
        match self.phase {
            Phase::PasteFlow => self.phase = Phase::PasteEnd,
            // The board stopped reading (its compiler failed): our `\x04` releases it,
            // and the output of the failed run follows.
            Phase::PasteAbortedWait => {
                let next = self.stdout_phase();
                self.emit(Event::Accepted, next);
            }
            _ => {}
        }
        self.step();
    }

    /// Bytes from the board.
    pub fn feed(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        self.step();
    }

    /// The next event, if one is complete.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Output gathered so far by an unfinished run (for a timeout report).
    pub fn partial_output(&self) -> &RunOutput {
        &self.run
    }

    /// Bytes received that no phase has consumed (for error messages).
    pub fn unconsumed(&self) -> &[u8] {
        &self.pending
    }

    fn reset_to(&mut self, phase: Phase) {
        self.pending.clear();
        self.events.clear();
        self.phase = phase;
    }

    fn emit(&mut self, event: Event, next: Phase) {
        self.events.push_back(event);
        self.phase = next;
    }

    /// Consume as much of `pending` as the current phase can.
    fn step(&mut self) {
        loop {
            let progressed = match self.phase {
                Phase::Idle => false,
                Phase::RawBanner => self.await_banner(Event::RawPrompt),
                Phase::SoftResetOk => self.await_ok(Phase::SoftResetBanner, None),
                Phase::SoftResetBanner => self.await_banner(Event::SoftRebooted),
                Phase::RunOk => self.await_ok(self.stdout_phase(), Some(Event::Accepted)),
                Phase::Stdout => self.take_framed(false),
                Phase::Exception => self.take_framed(true),
                Phase::AfterRun => self.after_run(),
                Phase::AfterRunReboot => self.after_run_reboot(),
                Phase::PasteReply => self.paste_reply(),
                Phase::PasteWindow => self.paste_window(),
                Phase::PasteUnsupported => self.await_banner(Event::PasteUnsupported),
                Phase::PasteFlow => self.paste_flow(),
                Phase::PasteEnd => self.paste_end(),
                Phase::PasteAbortedWait => false,
                Phase::FramedStart => self.framed_start(),
                Phase::FramedCase => self.framed_case(),
                Phase::FramedStatus => self.framed_status(),
            };
            if !progressed {
                return;
            }
        }
    }

    /// Wait for `RAW_BANNER` followed by `>`; everything before it is dropped.
    fn await_banner(&mut self, event: Event) -> bool {
        let Some(at) = find(&self.pending, RAW_BANNER) else {
            return false;
        };
        let prompt = at + RAW_BANNER.len();
        if self.pending.len() <= prompt {
            return false;
        }
        if self.pending[prompt] != b'>' {
            // A banner without prompt (e.g. printed by a program): keep looking after it.
            self.pending.drain(..prompt);
            return true;
        }
        self.pending.drain(..=prompt);
        self.emit(event, Phase::Idle);
        true
    }

    fn await_ok(&mut self, next: Phase, event: Option<Event>) -> bool {
        let Some(at) = find(&self.pending, b"OK") else {
            return false;
        };
        self.pending.drain(..at + 2);
        self.phase = next;
        if let Some(event) = event {
            self.events.push_back(event);
        }
        true
    }

    /// Move bytes up to the next `\x04` into stdout or the exception text.
    fn take_framed(&mut self, exception: bool) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        let end = self.pending.iter().position(|&b| b == 0x04);
        let take = end.unwrap_or(self.pending.len());
        let target = if exception {
            &mut self.run.exception
        } else {
            &mut self.run.stdout
        };
        let room = self.output_limit.saturating_sub(target.len());
        target.extend_from_slice(&self.pending[..take.min(room)]);
        if take > room {
            self.run.truncated = true;
        }
        match end {
            Some(at) => {
                self.pending.drain(..=at);
                if exception {
                    self.phase = Phase::AfterRun;
                } else {
                    self.emit(Event::StdoutDone, Phase::Exception);
                }
            }
            None => self.pending.clear(),
        }
        true
    }

    fn after_run(&mut self) -> bool {
        let Some(&first) = self.pending.first() else {
            return false;
        };
        if first == b'>' {
            self.pending.remove(0);
            let run = std::mem::take(&mut self.run);
            self.emit(Event::Finished(run), Phase::Idle);
        } else {
            // Newer firmware soft-resets after an uncaught SystemExit: reboot text, then
            // the banner and `>`.
            self.phase = Phase::AfterRunReboot;
        }
        true
    }

    fn after_run_reboot(&mut self) -> bool {
        let Some(at) = find(&self.pending, RAW_BANNER) else {
            return false;
        };
        let prompt = at + RAW_BANNER.len();
        if self.pending.len() <= prompt {
            return false;
        }
        self.pending.drain(..=prompt);
        let mut run = std::mem::take(&mut self.run);
        run.soft_rebooted = true;
        self.emit(Event::Finished(run), Phase::Idle);
        true
    }

    fn paste_reply(&mut self) -> bool {
        if self.pending.len() < 2 {
            return false;
        }
        match &self.pending[..2] {
            b"R\x01" => {
                self.pending.drain(..2);
                self.phase = Phase::PasteWindow;
            }
            b"R\x00" => {
                self.pending.drain(..2);
                self.emit(Event::PasteRefused, Phase::Idle);
            }
            // Old firmware: the banner (starting `ra`) is coming; leave it in place.
            _ => self.phase = Phase::PasteUnsupported,
        }
        true
    }

    fn paste_window(&mut self) -> bool {
        if self.pending.len() < 2 {
            return false;
        }
        let window = u16::from_le_bytes([self.pending[0], self.pending[1]]);
        self.pending.drain(..2);
        self.emit(Event::PasteAccepted { window }, Phase::PasteFlow);
        true
    }

    fn paste_flow(&mut self) -> bool {
        let Some(&byte) = self.pending.first() else {
            return false;
        };
        self.pending.remove(0);
        match byte {
            0x01 => self.events.push_back(Event::PasteCredit),
            0x04 => self.emit(Event::PasteAborted, Phase::PasteAbortedWait),
            _ => {} // nothing else is defined during upload; ignore noise
        }
        true
    }

    fn paste_end(&mut self) -> bool {
        let Some(&byte) = self.pending.first() else {
            return false;
        };
        self.pending.remove(0);
        if byte == 0x04 {
            let next = self.stdout_phase();
            self.emit(Event::Accepted, next);
        }
        true
    }

    fn framed_start(&mut self) -> bool {
        let nonce = self.nonce.as_deref().unwrap_or_default();
        let n = self.pending.len().min(nonce.len());
        if self.pending[..n] != nonce[..n] {
            // Not the driver: it never ran, so the board's own framing follows.
            self.phase = Phase::Stdout;
            return true;
        }
        if n < nonce.len() {
            return false;
        }
        self.pending.drain(..n);
        self.run.started = true;
        self.phase = Phase::FramedCase;
        true
    }

    fn framed_case(&mut self) -> bool {
        let nonce = self.nonce.clone().unwrap_or_default();
        let (take, found) = match find(&self.pending, &nonce) {
            Some(at) => (at, true),
            // Keep back only a tail that may be the start of a nonce split across reads.
            None => {
                let keep = (1..nonce.len())
                    .rev()
                    .find(|&k| self.pending.ends_with(&nonce[..k]))
                    .unwrap_or(0);
                (self.pending.len() - keep, false)
            }
        };
        if take == 0 && !found {
            return false;
        }
        let room = self.output_limit.saturating_sub(self.run.stdout.len());
        self.run
            .stdout
            .extend_from_slice(&self.pending[..take.min(room)]);
        if take > room {
            self.run.truncated = true;
        }
        if found {
            self.pending.drain(..take + nonce.len());
            self.run.status = Some(Vec::new());
            self.phase = Phase::FramedStatus;
        } else {
            self.pending.drain(..take);
        }
        true
    }

    fn framed_status(&mut self) -> bool {
        let Some(end) = self.pending.iter().position(|&b| b == 0x04) else {
            // A status word is a few bytes; anything longer is not the driver's.
            return false;
        };
        let word: Vec<u8> = self.pending.drain(..=end).take(end).collect();
        self.run.status = Some(word);
        self.emit(Event::StdoutDone, Phase::Exception);
        true
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Host actions interleaved with board bytes, as recorded from a session.
    enum Step<'a> {
        EnterRaw,
        SoftReset,
        Command,
        PasteRequest,
        PasteEnd,
        Board(&'a [u8]),
    }

    /// Feeds each `Board` step split at the given cut points (offsets within that step).
    fn replay(
        steps: &[Step],
        split: &mut dyn FnMut(usize) -> Vec<usize>,
        limit: usize,
    ) -> Vec<Event> {
        let mut repl = RawRepl::new(limit);
        let mut events = Vec::new();
        for step in steps {
            match step {
                Step::EnterRaw => repl.sent_enter_raw(),
                Step::SoftReset => repl.sent_soft_reset(),
                Step::Command => repl.sent_command(),
                Step::PasteRequest => repl.sent_paste_request(),
                Step::PasteEnd => repl.sent_paste_end(),
                Step::Board(bytes) => {
                    let mut start = 0;
                    for cut in split(bytes.len()).into_iter().chain([bytes.len()]) {
                        repl.feed(&bytes[start..cut]);
                        start = cut;
                        while let Some(e) = repl.next_event() {
                            events.push(e);
                        }
                    }
                }
            }
            while let Some(e) = repl.next_event() {
                events.push(e);
            }
        }
        events
    }

    /// Every chunking: whole, one byte at a time, every single split point, random splits.
    fn assert_all_chunkings(steps: &[Step], limit: usize, expected: &[Event]) {
        assert_eq!(
            replay(steps, &mut |_| vec![], limit),
            expected,
            "all at once"
        );
        assert_eq!(
            replay(steps, &mut |n| (1..n).collect(), limit),
            expected,
            "bytewise"
        );
        let longest = steps
            .iter()
            .map(|s| if let Step::Board(b) = s { b.len() } else { 0 })
            .max()
            .unwrap_or(0);
        for at in 1..longest {
            let got = replay(
                steps,
                &mut |n| if at < n { vec![at] } else { vec![] },
                limit,
            );
            assert_eq!(got, expected, "split at {at}");
        }
        // xorshift: deterministic pseudo-random cut points, no extra dependency.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..200 {
            let mut split = |n: usize| {
                let mut cuts: Vec<usize> = (0..n / 3 + 1)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed % (n.max(1) as u64)) as usize
                    })
                    .filter(|&c| c > 0)
                    .collect();
                cuts.sort_unstable();
                cuts.dedup();
                cuts
            };
            assert_eq!(
                replay(steps, &mut split, limit),
                expected,
                "random round {round}"
            );
        }
    }

    fn finished(stdout: &[u8], exception: &[u8]) -> Event {
        Event::Finished(RunOutput {
            stdout: stdout.to_vec(),
            exception: exception.to_vec(),
            ..RunOutput::default()
        })
    }

    // Recorded from MicroPython v1.9.2 micro:bit firmware in QEMU.
    const BOOT: &[u8] = b"\x00MicroPython v1.9.2-34-gd64154c73 on 2017-09-01; micro:bit v1.0.1 with nRF51822\r\nType \"help()\" for more information.\r\n>>> ";
    const ENTER: &[u8] = b"\r\n>>> \r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>";
    const SOFT: &[u8] = b"OK\r\nsoft reboot\r\nraw REPL; CTRL-B to exit\r\n>";

    #[test]
    fn enter_soft_reset_and_run_on_1_9_2() {
        let steps = [
            Step::Board(BOOT),
            Step::EnterRaw,
            Step::Board(ENTER),
            Step::SoftReset,
            Step::Board(SOFT),
            Step::Command,
            Step::Board(b"OK2\r\n\x04\x04>"),
        ];
        let expected = [
            Event::RawPrompt,
            Event::SoftRebooted,
            Event::Accepted,
            Event::StdoutDone,
            finished(b"2\r\n", b""),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    /// The host sent the command right behind the reset's `^D` (shared RAM: the
    /// emulator's console holds it while the board reboots): its `OK` and output may
    /// come with the new prompt, and wait there for the host to say it sent one.
    #[test]
    fn a_command_sent_behind_a_soft_reset_is_read_after_the_prompt() {
        let reply = [SOFT, b"OK2\r\n\x04\x04>"].concat();
        let steps = [Step::SoftReset, Step::Board(&reply), Step::Command];
        let expected = [
            Event::SoftRebooted,
            Event::Accepted,
            Event::StdoutDone,
            finished(b"2\r\n", b""),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn exception_is_framed_separately() {
        let board: &[u8] = b"OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nZeroDivisionError: division by zero\r\n\x04>";
        let steps = [Step::Command, Step::Board(board)];
        let expected = [
            Event::Accepted,
            Event::StdoutDone,
            finished(
                b"",
                b"Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nZeroDivisionError: division by zero\r\n",
            ),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn system_exit_on_1_9_2_returns_straight_to_prompt() {
        let steps = [Step::Command, Step::Board(b"OKSKIP\r\n\x04\x04>")];
        let expected = [
            Event::Accepted,
            Event::StdoutDone,
            finished(b"SKIP\r\n", b""),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn system_exit_on_newer_firmware_soft_resets_after_framing() {
        let steps = [
            Step::Command,
            Step::Board(b"OKSKIP\r\n\x04\x04MPY: soft reboot\r\nboot > output\r\nraw REPL; CTRL-B to exit\r\n>"),
        ];
        let mut run = RunOutput {
            stdout: b"SKIP\r\n".to_vec(),
            ..RunOutput::default()
        };
        run.soft_rebooted = true;
        let expected = [Event::Accepted, Event::StdoutDone, Event::Finished(run)];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn output_beyond_the_limit_is_cut_and_marked() {
        let steps = [Step::Command, Step::Board(b"OK0123456789\x04abcdef\x04>")];
        let run = RunOutput {
            stdout: b"0123".to_vec(),
            exception: b"abcd".to_vec(),
            truncated: true,
            ..RunOutput::default()
        };
        let expected = [Event::Accepted, Event::StdoutDone, Event::Finished(run)];
        assert_all_chunkings(&steps, 4, &expected);
    }

    #[test]
    fn ctrl_c_ends_a_hung_run_with_keyboard_interrupt() {
        let steps = [
            Step::Command,
            Step::Board(b"OK"),
            Step::Board(b"\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nKeyboardInterrupt: \r\n\x04>"),
        ];
        let expected = [
            Event::Accepted,
            Event::StdoutDone,
            finished(
                b"",
                b"Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nKeyboardInterrupt: \r\n",
            ),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn raw_paste_unsupported_on_1_9_2() {
        // Recorded: `\x05A\x01` answered by the raw banner again.
        let steps = [
            Step::PasteRequest,
            Step::Board(b"raw REPL; CTRL-B to exit\r\n>"),
            Step::Command,
            Step::Board(b"OK1\r\n\x04\x04>"),
        ];
        let expected = [
            Event::PasteUnsupported,
            Event::Accepted,
            Event::StdoutDone,
            finished(b"1\r\n", b""),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn raw_paste_refused() {
        let steps = [Step::PasteRequest, Step::Board(b"R\x00")];
        assert_all_chunkings(&steps, 1 << 20, &[Event::PasteRefused]);
    }

    #[test]
    fn raw_paste_worked_example_from_the_docs() {
        // Host `\x05A\x01print(123)\x04`; device `R\x01\x80\x00\x01\x04123\r\n\x04\x04>`.
        let steps = [
            Step::PasteRequest,
            Step::Board(b"R\x01\x80\x00\x01"),
            Step::PasteEnd,
            Step::Board(b"\x01\x04123\r\n\x04\x04>"),
        ];
        let expected = [
            Event::PasteAccepted { window: 128 },
            Event::PasteCredit,
            Event::Accepted,
            Event::StdoutDone,
            finished(b"123\r\n", b""),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn raw_paste_abort_then_framed_error() {
        let steps = [
            Step::PasteRequest,
            Step::Board(b"R\x01\x20\x00\x01\x01\x04"),
            Step::PasteEnd,
            Step::Board(b"\x04KeyboardInterrupt: \r\n\x04>"),
        ];
        let expected = [
            Event::PasteAccepted { window: 32 },
            Event::PasteCredit,
            Event::PasteCredit,
            Event::PasteAborted,
            Event::Accepted,
            Event::StdoutDone,
            finished(b"", b"KeyboardInterrupt: \r\n"),
        ];
        assert_all_chunkings(&steps, 1 << 20, &expected);
    }

    #[test]
    fn banner_text_printed_by_a_program_is_not_a_prompt() {
        let steps = [
            Step::EnterRaw,
            Step::Board(b"raw REPL; CTRL-B to exit\r\nX\r\nraw REPL; CTRL-B to exit\r\n>"),
        ];
        assert_all_chunkings(&steps, 1 << 20, &[Event::RawPrompt]);
    }

    fn framed(stdout: &[u8], status: &[u8], exception: &[u8]) -> Event {
        Event::Finished(RunOutput {
            stdout: stdout.to_vec(),
            exception: exception.to_vec(),
            started: true,
            status: Some(status.to_vec()),
            ..RunOutput::default()
        })
    }

    /// Feeds a framed run through every chunking.
    fn assert_framed(board: &[u8], expected: Event) {
        for paste in [false, true] {
            let frame = |repl: &mut RawRepl| repl.frame_with(Some(b"N0NCE".to_vec()));
            // The nonce is set before the command is sent, as Repl::exec does.
            let mut all = Vec::new();
            for split in [0usize, 1, 2, 3, 5, 7] {
                let mut repl = RawRepl::new(1 << 20);
                frame(&mut repl);
                let bytes: Vec<u8> = if paste {
                    repl.sent_paste_request();
                    repl.feed(b"R\x01\x80\x00\x01");
                    repl.sent_paste_end();
                    [b"\x04".as_slice(), board].concat()
                } else {
                    repl.sent_command();
                    [b"OK".as_slice(), board].concat()
                };
                let mut events = Vec::new();
                let step = split.max(1);
                let mut i = 0;
                while i < bytes.len() {
                    let j = if split == 0 {
                        bytes.len()
                    } else {
                        (i + step).min(bytes.len())
                    };
                    repl.feed(&bytes[i..j]);
                    i = j;
                    while let Some(e) = repl.next_event() {
                        events.push(e);
                    }
                }
                all.push(events.last().cloned());
            }
            for got in all {
                assert_eq!(got.as_ref(), Some(&expected), "paste {paste}");
            }
        }
    }

    #[test]
    fn framed_output_cannot_end_the_run_or_forge_the_exception() {
        // The case printed `forged`, then the bytes that end a plain run, then raised.
        assert_framed(
            b"N0NCEforged\x04\x04>N0NCE\x04Traceback\r\nValueError: \r\n\x04>",
            framed(b"forged\x04\x04>", b"", b"Traceback\r\nValueError: \r\n"),
        );
        // Legitimate \x04 in the output, and a partial nonce inside it.
        assert_framed(
            b"N0NCEa\x04bN0NCN0NCEx3\x04\x04>",
            framed(b"a\x04bN0NC", b"x3", b""),
        );
    }

    #[test]
    fn framed_run_whose_driver_never_ran_reads_plainly() {
        // MemoryError compiling the driver: no nonce, the board's framing straight away.
        let expected = Event::Finished(RunOutput {
            exception: b"MemoryError: \r\n".to_vec(),
            ..RunOutput::default()
        });
        assert_framed(b"\x04MemoryError: \r\n\x04>", expected);
    }

    #[test]
    fn paste_aborted_then_released_by_the_host() {
        let mut repl = RawRepl::new(1 << 20);
        repl.frame_with(Some(b"N0NCE".to_vec()));
        repl.sent_paste_request();
        repl.feed(b"R\x01\x80\x00\x01\x04");
        let mut events: Vec<Event> = std::iter::from_fn(|| repl.next_event()).collect();
        assert_eq!(
            events,
            [
                Event::PasteAccepted { window: 128 },
                Event::PasteCredit,
                Event::PasteAborted
            ]
        );
        repl.sent_paste_end();
        repl.feed(b"\x04Traceback\r\nSyntaxError: invalid syntax\r\n\x04>");
        events = std::iter::from_fn(|| repl.next_event()).collect();
        assert_eq!(
            events,
            [
                Event::Accepted,
                Event::StdoutDone,
                Event::Finished(RunOutput {
                    exception: b"Traceback\r\nSyntaxError: invalid syntax\r\n".to_vec(),
                    ..RunOutput::default()
                })
            ]
        );
    }
}
