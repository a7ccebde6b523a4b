//! `BoardSession`: the facade the harness calls — connect (open, raw REPL, probe), run a
//! case with a soft reset before it, turn hangs and lost links into verdict hints.

mod reset;
mod settle;
mod started;

use std::time::{Duration, Instant};

pub use super::case_run::{CaseRun, Timings, VerdictHint};
use super::case_run::{finish, looks_corrupted};
use super::console::open_transport;
use super::driver::{self, CASE_ALIAS, Driver, Load, RamFile};
use super::error::BoardError;
use super::features::{self, Features};
use super::mpy_upload;
use super::pyliteral::is_identifier;
use super::raw_repl::RunOutput;
use super::recover::{self, Ladder};
use super::repl::Repl;
pub use super::source_case::SourceCase;
use super::transport::ResetHook;
use crate::boardfile::config::BoardConfig;

/// Lets a board held halted (after flashing) run; called once its console is open.
pub type Release = Box<dyn FnOnce() -> std::io::Result<()> + Send>;

/// Stdout kept per case. Upstream tests print at most a few KB; 1 MiB stops a runaway
/// printer from eating memory while keeping every real expected output whole.
pub const OUTPUT_LIMIT: usize = 1 << 20;
/// Entering raw mode and soft reset take ~15 ms on the micro:bit in QEMU; boards with a
/// `boot.py` need longer.
const RESET_TIMEOUT: Duration = Duration::from_secs(5);
/// Uploading a script plus the file helpers for a `.mpy`: 5 s covers 10 KB at 32 bytes
/// per 10 ms.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Base64 script size per exec when writing files: well inside the micro:bit's ~10 KB heap.
const FILE_SCRIPT_BYTES: usize = 512;

pub struct BoardSession {
    repl: Repl,
    config: BoardConfig,
    features: Features,
    ladder: Ladder,
    /// Set when the last case left the board in an unknown state.
    dirty: bool,
}

impl BoardSession {
    /// Open the console, enter the raw REPL with a soft reset, probe features.
    pub fn connect(config: &BoardConfig) -> Result<Self, BoardError> {
        Self::connect_with_hook(config, None)
    }

    /// As [`BoardSession::connect`], with an external reset (e.g. a debug probe) for
    /// serial boards whose config says `reset: hook`.
    pub fn connect_with_hook(
        config: &BoardConfig,
        hook: Option<Box<dyn ResetHook>>,
    ) -> Result<Self, BoardError> {
        Self::connect_then(config, hook, None)
    }

    /// As [`BoardSession::connect_with_hook`], calling `after_open` once the console is
    /// open and before anything is sent: a board held halted after flashing is let run
    /// there, so none of its boot output is lost.
    pub fn connect_then(
        config: &BoardConfig,
        hook: Option<Box<dyn ResetHook>>,
        after_open: Option<Release>,
    ) -> Result<Self, BoardError> {
        let transport = open_transport(config, hook)?;
        if let Some(release) = after_open {
            release().map_err(|source| BoardError::Io {
                console: transport.describe(),
                doing: "letting the board run after flashing",
                source,
            })?;
        }
        let ladder = Ladder {
            interrupts: config.interrupts,
            hard_reset: transport.can_hard_reset(),
        };
        let mut repl = Repl::new(transport, config.pacing, OUTPUT_LIMIT, config.raw_paste);
        repl.enter_raw(RESET_TIMEOUT)
            .or_else(|_| recover::recover(&mut repl, ladder, false, false).map(|_| ()))?;
        repl.soft_reset(RESET_TIMEOUT)?;
        let features = features::probe(&mut repl, ladder)?;
        // Said, not silent: code then goes over the console, slower, and heap figures
        // (which depend on how the driver arrives) differ from those of shared RAM.
        if let Err(why) = repl.use_shared_ram(RESET_TIMEOUT)? {
            crate::util::notice::notice(format_args!(
                "{}: shared RAM not used, code goes over the console: {why}",
                repl.console()
            ));
        }
        Ok(Self {
            repl,
            config: config.clone(),
            features,
            ladder,
            dirty: false,
        })
    }

    /// Whether code reaches the board through shared RAM (checked at connect).
    pub fn uses_shared_ram(&self) -> bool {
        self.repl.uses_shared_ram()
    }

    pub fn features(&self) -> &Features {
        &self.features
    }

    pub fn describe(&self) -> String {
        self.repl.console().to_string()
    }

    /// The OS process behind the console (QEMU), for diagnostics and fault injection.
    pub fn process_id(&self) -> Option<u32> {
        self.repl.transport().process_id()
    }

    /// Stops (`true`) or continues the OS process behind the console (QEMU's process
    /// group) while the session waits idle in a pool: an idle emulated board's firmware
    /// busy-polls its UART and keeps a host core busy (mps2-an385: 0.7 of a core), which
    /// the busy instances of the board and of its frozen variant need. For a board whose
    /// clock counts instructions (`qemu.icount`): its guest sees no time pass while
    /// stopped. Continuing a process that was not stopped does nothing; nor does either
    /// for a console without a process.
    pub fn pause(&self, paused: bool) {
        let Some(pid) = self.process_id() else {
            return;
        };
        let signal = if paused { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: kill(2) with a negative pid signals a process group; no memory involved.
        unsafe {
            libc::kill(-(pid as libc::pid_t), signal);
        }
    }

    /// Run one case's source. A hang or lost link is a verdict hint, not an error; `Err`
    /// means the board is unusable (dead after the whole recovery ladder).
    pub fn run_case(&mut self, source: &[u8], timeout: Duration) -> Result<CaseRun, BoardError> {
        self.run_case_checked(source, timeout, false)
    }

    /// As [`BoardSession::run_case`], uploading at the board's slower retry pacing: to
    /// check a failing result that a lossy link may have caused.
    pub fn run_case_slowly(
        &mut self,
        source: &[u8],
        timeout: Duration,
    ) -> Result<CaseRun, BoardError> {
        let normal = self.repl.pacing;
        self.repl.pacing = normal.slower();
        let run = self.run_case(source, timeout);
        self.repl.pacing = normal;
        run
    }

    /// As [`BoardSession::run_case`]; `known_good`: the caller compiled `source` for this
    /// board's version, so a `SyntaxError` before the case started means the upload was
    /// corrupted on the link: retried once with slower pacing, then a typed error.
    pub fn run_case_checked(
        &mut self,
        source: &[u8],
        timeout: Duration,
        known_good: bool,
    ) -> Result<CaseRun, BoardError> {
        self.run_source(
            SourceCase::own("case", source),
            &[],
            timeout,
            &|| known_good,
            None,
        )
    }

    /// Run a case's source as file `<module>.py` (tracebacks name it, with its own line
    /// numbers), with `helpers` (`_*.py` modules it imports) beside it. `heap`: inside
    /// the heap measurement (`Some(zero_alloc)`), after a soft reset so the heap and the
    /// qstr pool are fresh; its report stays in the stdout for [`crate::model::heap::extract`].
    pub fn run_source(
        &mut self,
        case: SourceCase,
        helpers: &[RamFile],
        timeout: Duration,
        known_good: &dyn Fn() -> bool,
        heap: Option<crate::model::heap::Wrap<'_>>,
    ) -> Result<CaseRun, BoardError> {
        let name = format!("{}.py", case.module);
        let has_compile = self.features.compile == Some(true);
        // Not under the heap measurement: its figures would shift with the extra file.
        let main_module = has_compile && heap.is_none() && driver::reaches_main(case.source);
        let load = Load::Source {
            name: &name,
            source: case.source,
            has_compile,
            defines_file: case.defines_file,
            main_module,
        };
        let mut helpers = helpers.to_vec();
        if main_module {
            helpers.push(RamFile {
                name: format!("{}.py", driver::MAIN_MODULE),
                bytes: Vec::new(),
            });
        }
        let (files, written) = self.place_files(&helpers)?;
        let run = self.run_driver(load, &files, timeout, known_good, heap);
        self.remove_files(&written)?;
        run
    }

    /// Import `mpy` (the case compiled by mpy-cross) as `__main__`, with `helpers` beside
    /// it: from a RAM filesystem the driver mounts where the firmware has `vfs.mount`,
    /// else written to the board's own filesystem. Boards that cannot import `.mpy`
    /// files get a `Skip` without touching the board. `heap` as for
    /// [`BoardSession::run_source`].
    pub fn run_mpy_case(
        &mut self,
        module: &str,
        mpy: &[u8],
        helpers: &[RamFile],
        timeout: Duration,
        heap: Option<crate::model::heap::Wrap<'_>>,
    ) -> Result<CaseRun, BoardError> {
        if self.features.mpy_import != Some(true) {
            return Ok(CaseRun {
                stdout: Vec::new(),
                exception: None,
                truncated: false,
                started: false,
                exit_code: None,
                verdict_hint: VerdictHint::Skip {
                    reason: "board cannot import .mpy files (probed at connect)".into(),
                },
                timings: Timings::default(),
                target_us: None,
            });
        }
        // Under an alias, so names that are keywords or shadow modules import too (the
        // RAM filesystem also renames the module `__main__`). On a board filesystem the
        // case's own name is kept where it is a plain identifier.
        let ram = self.features.vfs_mount == Some(true);
        let alias = if ram || !is_identifier(module) {
            CASE_ALIAS
        } else {
            module
        };
        let mut all = vec![RamFile {
            name: format!("{alias}.mpy"),
            bytes: mpy.to_vec(),
        }];
        all.extend_from_slice(helpers);
        let (files, written) = self.place_files(&all)?;
        let run = self.run_driver(
            Load::Import { module: alias },
            &files,
            timeout,
            &|| false,
            heap,
        );
        self.remove_files(&written)?;
        run
    }

    /// Import `module`, frozen into the firmware under `.frozen/<dir>/` (helpers beside
    /// it): nothing to upload but the driver.
    pub fn run_frozen(
        &mut self,
        dir: &str,
        module: &str,
        timeout: Duration,
        heap: Option<crate::model::heap::Wrap<'_>>,
    ) -> Result<CaseRun, BoardError> {
        self.run_driver(Load::Frozen { dir, module }, &[], timeout, &|| false, heap)
    }

    /// The files for the driver's RAM filesystem, or, without `vfs.mount`, written to
    /// the board's filesystem (returned second, to remove afterwards).
    fn place_files(
        &mut self,
        files: &[RamFile],
    ) -> Result<(Vec<RamFile>, Vec<String>), BoardError> {
        if files.is_empty() || self.features.vfs_mount == Some(true) {
            return Ok((files.to_vec(), Vec::new()));
        }
        let mut written = Vec::new();
        for f in files {
            self.write_file(&f.name, &f.bytes)?;
            written.push(f.name.clone());
        }
        Ok((Vec::new(), written))
    }

    fn remove_files(&mut self, names: &[String]) -> Result<(), BoardError> {
        for name in names {
            self.remove_file(name)?;
        }
        Ok(())
    }

    /// Run the driver for `load`; with `known_good`, a corrupted-looking upload (a
    /// SyntaxError before the case started) is retried once with slower pacing.
    fn run_driver(
        &mut self,
        load: Load,
        files: &[RamFile],
        timeout: Duration,
        known_good: &dyn Fn() -> bool,
        heap: Option<crate::model::heap::Wrap<'_>>,
    ) -> Result<CaseRun, BoardError> {
        let base64 = self.features.binascii == Some(true);
        let clock = self.features.clock.map(|clock| driver::Timing {
            clock,
            restart: self.timer().map(crate::boardfile::icount::Timer::restart),
        });
        let heap = heap.map(|w| crate::model::heap::Wrap {
            settle: self.timer().map(super::stack_scrub::settle),
            ..w
        });
        // Each attempt has a driver of its own: a fresh nonce.
        let driver = || Driver::new(load, files, super::nonce::nonce(), base64, heap, clock);
        let first = driver();
        // Heap figures need what a fresh VM has: the last case's objects and qstrs gone.
        self.dirty |= heap.is_some();
        let run = self.run_script(&first, timeout)?;
        if !looks_corrupted(&run, known_good) {
            return Ok(run);
        }
        let normal = self.repl.pacing;
        self.repl.pacing = normal.slower();
        self.dirty |= heap.is_some();
        let retry = self.run_script(&driver(), timeout);
        self.repl.pacing = normal;
        let retry = retry?;
        // The driver is always valid Python, so a SyntaxError before it ran is the link's;
        // past that, corruption is random: the same SyntaxError at a slower pace is the
        // board's own compiler rejecting the case (e.g. syntax an old firmware lacks).
        if looks_corrupted(&retry, known_good)
            && (!retry.started && first.blames_link(retry.exception.as_deref().unwrap_or(""))
                || retry.exception != run.exception)
        {
            return Err(BoardError::CorruptedUpload {
                console: self.describe(),
                chunk_bytes: normal.chunk_bytes,
                slow_chunk_bytes: normal.slower().chunk_bytes,
                evidence: format!(
                    "the board reported a SyntaxError for code that compiles on the host: {}",
                    retry
                        .exception
                        .unwrap_or_default()
                        .lines()
                        .last()
                        .unwrap_or("")
                ),
            });
        }
        Ok(retry)
    }

    /// Write a file on the board's filesystem in compact chunks; returns the time taken.
    pub fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<Duration, BoardError> {
        let start = Instant::now();
        self.prepare()?;
        self.exec_ok(
            &mpy_upload::open_script(name),
            "opening the file on the board",
        )?;
        for script in mpy_upload::chunk_scripts(bytes, FILE_SCRIPT_BYTES) {
            self.exec_ok(&script, "writing the file on the board")?;
        }
        self.exec_ok(mpy_upload::close_script(), "closing the file on the board")?;
        Ok(start.elapsed())
    }

    /// Remove a file from the board's filesystem (no error if it is missing).
    pub fn remove_file(&mut self, name: &str) -> Result<(), BoardError> {
        self.exec_ok(
            &mpy_upload::remove_script(name),
            "removing the file on the board",
        )
        .map(|_| ())
    }

    /// Run a helper script that must succeed; its stdout is returned.
    pub fn exec_ok(&mut self, script: &str, doing: &'static str) -> Result<Vec<u8>, BoardError> {
        let (out, _) = self
            .repl
            .exec(script.as_bytes(), Instant::now() + UPLOAD_TIMEOUT)?;
        if !out.exception.is_empty() {
            return Err(BoardError::Io {
                console: self.describe(),
                doing,
                source: std::io::Error::other(
                    String::from_utf8_lossy(&out.exception).trim().to_string(),
                ),
            });
        }
        Ok(out.stdout)
    }

    /// Run `script` as it is (no driver, no framing) after the usual reset: what the
    /// board printed, and when the board accepted it. For protocol tests and tools.
    pub fn exec_plain(
        &mut self,
        script: &[u8],
        timeout: Duration,
    ) -> Result<RunOutput, BoardError> {
        self.prepare()?;
        self.repl
            .exec(script, Instant::now() + timeout)
            .map(|(out, _)| out)
    }

    fn run_script(&mut self, driver: &Driver, timeout: Duration) -> Result<CaseRun, BoardError> {
        // A board whose timer is restarted clears its stack inside the measured script.
        let scrub = if driver.measured && self.timer().is_none() {
            self.scrub_stack()?
        } else {
            Duration::ZERO
        };
        let reset = scrub + self.reset_before_case(true)?;
        match self.exec_driver(driver, timeout) {
            Ok((out, t)) => Ok(finish(
                out,
                Some(driver),
                Timings {
                    reset: reset + t.reset,
                    upload: t.upload,
                    run: t.run,
                    read: t.read,
                },
            )),
            Err(e @ (BoardError::Timeout { .. } | BoardError::Io { .. })) => {
                let partial = self.repl.partial_output().clone();
                let broken = matches!(e, BoardError::Io { .. });
                let started = Instant::now();
                let recovered = recover::recover(&mut self.repl, self.ladder, true, broken)?;
                self.dirty = true;
                let hint = if broken {
                    VerdictHint::LinkLost {
                        cause: e.to_string(),
                        recovered_by: recovered.by,
                    }
                } else {
                    VerdictHint::TimedOut {
                        recovered_by: recovered.by,
                    }
                };
                let mut run = finish(
                    partial,
                    Some(driver),
                    Timings {
                        reset,
                        run: timeout,
                        read: started.elapsed(),
                        ..Timings::default()
                    },
                );
                run.verdict_hint = hint;
                Ok(run)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stdout: &[u8], exception: &[u8]) -> RunOutput {
        RunOutput {
            stdout: stdout.to_vec(),
            exception: exception.to_vec(),
            ..RunOutput::default()
        }
    }

    fn started(stdout: &[u8], exception: &[u8]) -> RunOutput {
        RunOutput {
            started: true,
            status: Some(Vec::new()),
            ..out(stdout, exception)
        }
    }

    #[test]
    fn newlines_normalised() {
        let run = finish(started(b"2\r\n", b""), None, Timings::default());
        assert_eq!(run.stdout, b"2\n");
        assert_eq!(run.verdict_hint, VerdictHint::Completed);
        assert_eq!(run.exception, None);
    }

    #[test]
    fn skip_and_too_large() {
        let run = finish(started(b"SKIP\r\n", b""), None, Timings::default());
        assert!(matches!(run.verdict_hint, VerdictHint::Skip { .. }));
        let run = finish(
            out(
                b"",
                b"Traceback:\r\nMemoryError: memory allocation failed\r\n",
            ),
            None,
            Timings::default(),
        );
        assert_eq!(run.verdict_hint, VerdictHint::TooLarge);
        // compiling the case ran out of memory: no frame of the case
        let run = finish(
            started(
                b"",
                b"Traceback (most recent call last):\r\nMemoryError: \r\n",
            ),
            None,
            Timings::default(),
        );
        assert_eq!(run.verdict_hint, VerdictHint::TooLarge);
        // once the case runs, a MemoryError is the test's own business
        let run = finish(
            started(
                b"",
                b"Traceback (most recent call last):\r\n  File \"c.py\", line 1, in <module>\r\nMemoryError: \r\n",
            ),
            None,
            Timings::default(),
        );
        assert_eq!(run.verdict_hint, VerdictHint::Completed);
    }

    #[test]
    fn corruption_is_a_syntax_error_before_the_driver_ran() {
        let run = finish(
            out(
                b"",
                b"  File \"<stdin>\", line 3\r\nSyntaxError: invalid syntax\r\n",
            ),
            None,
            Timings::default(),
        );
        assert!(looks_corrupted(&run, &|| false));
        let run = finish(
            started(b"", b"SyntaxError: x\r\n"),
            None,
            Timings::default(),
        );
        assert!(!looks_corrupted(&run, &|| false));
        assert!(looks_corrupted(&run, &|| true));
        let run = finish(
            started(b"1\r\n", b"SyntaxError: x\r\n"),
            None,
            Timings::default(),
        );
        assert!(!looks_corrupted(&run, &|| true));
        // whether mpy-cross compiles the case is asked only of a SyntaxError's run
        let asked = |run: &CaseRun| {
            let asked = std::cell::Cell::new(false);
            looks_corrupted(run, &|| {
                asked.set(true);
                true
            });
            asked.get()
        };
        assert!(asked(&finish(
            started(b"", b"SyntaxError: x\r\n"),
            None,
            Timings::default()
        )));
        assert!(!asked(&finish(
            started(b"", b"ValueError: x\r\n"),
            None,
            Timings::default()
        )));
        assert!(!asked(&finish(
            started(b"1\r\n", b""),
            None,
            Timings::default()
        )));
    }
}
