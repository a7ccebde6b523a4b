//! Boards behind a console (QEMU or serial) as a target: a pool of connected sessions,
//! one per instance, checked out per case. Connections are made on first use; a board
//! that cannot be brought back is marked dead and its remaining cases get `error`
//! verdicts naming the cause, while the rest of the run goes on.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::members::{Member, MemberState, Sessions};
use super::{RunRequest, Target};
use crate::boardfile::BoardConfig;
use crate::device::driver::RamFile;
use crate::device::{BoardError, BoardSession, CaseRun, SourceCase, VerdictHint};
use crate::model::case::{Case, Mode};
use crate::model::features::Features;
use crate::model::outcome::{Outcome, Status};
use crate::tools::compile::Compiler;
use crate::tools::toolchain::ToolInfo;

pub struct BoardTarget {
    name: String,
    config: BoardConfig,
    compiler: Option<Arc<Compiler>>,
    /// The pool of acquiring members' threads (stopped and joined first on drop).
    acquiring: Option<super::pool::Acquiring>,
    /// Its members (one, or a pool of identical boards) and their sessions.
    sessions: Arc<Sessions>,
    features: OnceLock<Features>,
    /// The firmware has what heap measurement needs (probed with the features).
    measures_heap: OnceLock<bool>,
    /// `sys.implementation._mpy`'s native arch (probed with the features).
    mpy_arch: OnceLock<Option<String>>,
    /// A serial board's debug probe, used as the console's hard reset (`reset: hook`).
    probe: Option<crate::hw::flash::probe_section::ProbeBoard>,
    /// Lets a board held halted after flashing run; called once the console is open.
    release: Mutex<Option<crate::device::session::Release>>,
}

/// A checked-out session, and the index of the member it runs on.
pub(super) type Checkout = (usize, BoardSession);

impl BoardTarget {
    pub fn new(
        name: &str,
        config: BoardConfig,
        instances: usize,
        compiler: Option<Arc<Compiler>>,
    ) -> BoardTarget {
        let member = Member::new(name, config.clone(), None);
        BoardTarget {
            name: name.to_string(),
            config,
            compiler,
            acquiring: None,
            sessions: Arc::new(Sessions::new(name, instances, vec![member], &[])),
            features: OnceLock::new(),
            measures_heap: OnceLock::new(),
            mpy_arch: OnceLock::new(),
            probe: None,
            release: Mutex::default(),
        }
    }

    /// Holds `place` for as long as the target lives; resets through its power switch.
    pub fn with_place(mut self, place: crate::hw::labgrid::HeldPlace) -> BoardTarget {
        let member = Member::new(&self.name, self.config.clone(), Some(place));
        let instances = self.sessions.instances();
        self.sessions = Arc::new(Sessions::new(&self.name, instances, vec![member], &[]));
        self
    }

    /// Runs on these boards (a pool of consoles, each named by its console) instead of
    /// one; none: unchanged.
    pub fn with_members(mut self, members: Vec<(String, BoardConfig)>) -> BoardTarget {
        if members.is_empty() {
            return self;
        }
        let members = members
            .into_iter()
            .map(|(name, config)| Member::new(&name, config, None))
            .collect();
        let instances = self.sessions.instances();
        self.sessions = Arc::new(Sessions::new(&self.name, instances, members, &[]));
        self
    }

    /// Runs on the members of `sessions` as they join (see [`super::pool`]).
    pub(super) fn with_pool(
        mut self,
        sessions: Arc<Sessions>,
        acquiring: super::pool::Acquiring,
    ) -> BoardTarget {
        self.sessions = sessions;
        self.acquiring = Some(acquiring);
        self
    }

    /// Resets through this debug probe when Ctrl-C and soft reset fail.
    pub fn with_probe_reset(
        mut self,
        probe: crate::hw::flash::probe_section::ProbeBoard,
    ) -> BoardTarget {
        self.probe = Some(probe);
        self
    }

    /// The next connection calls `release` once its console is open (see
    /// [`BoardSession::connect_then`]).
    pub fn release_on_connect(&self, release: crate::device::session::Release) {
        *self.release.lock().unwrap_or_else(|p| p.into_inner()) = Some(release);
    }

    /// Stops every idle emulator or console session: the next case connects afresh (for
    /// QEMU, a new emulator with the board's current image).
    pub fn restart_all(&self) {
        self.sessions.restart_all();
    }

    /// The members of a pool and what became of each (empty: not a pool).
    pub fn members(&self) -> Vec<MemberState> {
        self.sessions.states()
    }

    /// A connected session (see [`Sessions::checkout`]).
    pub(super) fn checkout(&self) -> Result<Checkout, String> {
        self.sessions
            .checkout(&|member| {
                member.lock_console()?;
                let release = self
                    .release
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                BoardSession::connect_then(&member.config, self.reset_hook(member), release)
                    .map_err(|e| e.to_string())
            })
            .inspect(|(_, s)| s.pause(false))
    }

    /// Returns a session to its member, or drops it (and marks the member dead) when the
    /// session reported the board beyond recovery.
    pub(super) fn checkin(
        &self,
        member: usize,
        session: Option<BoardSession>,
        dead: Option<String>,
    ) {
        if let Some(s) = &session {
            // Idle, an exact-time board's emulator is stopped: it would busy-poll a core.
            s.pause(self.exact_time());
        }
        self.sessions.checkin(member, session, dead);
    }

    fn reset_hook(&self, member: &Member) -> Option<Box<dyn crate::device::transport::ResetHook>> {
        if let Some(place) = &member.place {
            return place
                .power_cycle()
                .map(|p| Box::new(p) as Box<dyn crate::device::transport::ResetHook>);
        }
        let probe = self.probe.clone()?;
        Some(Box::new(crate::hw::flash::reset_hook::ProbeResetHook::new(
            probe,
        )))
    }

    fn run_on(
        &self,
        session: &mut BoardSession,
        request: &RunRequest,
    ) -> Result<CaseRun, BoardError> {
        let helpers = self.helpers(request.case, request.mode)?;
        match (request.mode, request.mpy) {
            (Mode::Mpy, Some(mpy)) => session.run_mpy_case(
                request.case.module_name(),
                mpy,
                &helpers,
                request.timeout,
                request.heap,
            ),
            _ if request.slow => session.run_case_slowly(&request.case.source, request.timeout),
            _ => {
                // A case mpy-cross compiles is known-good Python: a SyntaxError from the
                // board then means the upload was corrupted, and is retried slower.
                // Asked only when the board reports a SyntaxError (see `looks_corrupted`).
                let known_good = || {
                    self.compiler
                        .as_ref()
                        .is_some_and(|c| matches!(c.compile(request.case), Ok(Ok(_))))
                };
                let (module, source) = (request.case.module_name(), &request.case.source);
                let case = if request.suite.is_some() {
                    SourceCase::upstream(module, source)
                } else {
                    SourceCase::own(module, source)
                };
                session.run_source(case, &helpers, request.timeout, &known_good, request.heap)
            }
        }
    }

    /// The helper modules (`_*.py` beside the case) the case may import: as source in
    /// source mode, compiled by this board's mpy-cross in `.mpy` mode.
    fn helpers(&self, case: &Case, mode: Mode) -> Result<Vec<RamFile>, BoardError> {
        let mut files = Vec::new();
        for (stem, path) in crate::model::case::helper_modules(case) {
            let helper = Case::load_helper(
                &path,
                crate::model::case::CaseId {
                    group: case.id.group.clone(),
                    name: stem.clone(),
                },
            )
            .map_err(|e| BoardError::Config(format!("helper module {}: {e}", path.display())))?;
            match (mode, &self.compiler) {
                (Mode::Mpy, Some(compiler)) => match compiler.compile(&helper) {
                    Ok(Ok(mpy)) => files.push(RamFile {
                        name: format!("{stem}.mpy"),
                        bytes: mpy,
                    }),
                    Ok(Err(message)) | Err(crate::util::error::Error::Toolchain(message)) => {
                        return Err(BoardError::Config(format!(
                            "helper module {}: {message}",
                            path.display()
                        )));
                    }
                    Err(e) => {
                        return Err(BoardError::Config(format!(
                            "helper module {}: {e}",
                            path.display()
                        )));
                    }
                },
                _ => files.push(RamFile {
                    name: format!("{stem}.py"),
                    bytes: helper.source,
                }),
            }
        }
        Ok(files)
    }
}

impl Target for BoardTarget {
    fn tools(&self) -> Vec<ToolInfo> {
        let version = self
            .sessions
            .version()
            .unwrap_or_else(|| "not connected".into());
        let (tool, path) = match &self.config.qemu {
            Some(q) => (
                format!("{} (qemu {})", self.name, q.machine),
                q.firmware.clone(),
            ),
            None => (
                self.name.clone(),
                self.config
                    .serial
                    .as_ref()
                    .and_then(|s| s.console.clone())
                    .unwrap_or_default(),
            ),
        };
        let mut tools = vec![ToolInfo {
            tool,
            path: path.into(),
            version: format!("MicroPython {version}"),
            pinned: false,
        }];
        tools.extend(self.compiler.as_ref().map(|c| c.tool_info()));
        tools
    }

    /// Probed on the first connection (once per connection, not per case).
    fn features(&self) -> &Features {
        self.features.get_or_init(|| match self.checkout() {
            Ok((member, session)) => {
                let probed = session.features();
                // The measured loader compiles the case under its own name: firmware
                // without `compile` (1.9-era) measures no heap rather than a wrong one.
                let _ = self
                    .measures_heap
                    .set(probed.gc_mem_alloc == Some(true) && probed.compile == Some(true));
                let _ = self.mpy_arch.set(probed.mpy_arch.clone());
                let f = probed.known();
                self.checkin(member, Some(session), None);
                f
            }
            Err(_) => Features::default(),
        })
    }

    fn compiler(&self) -> Option<&Arc<Compiler>> {
        self.compiler.as_ref()
    }

    fn native_arch(&self) -> Option<String> {
        self.features();
        self.mpy_arch.get().cloned().flatten()
    }

    fn hosts_instances(&self) -> bool {
        true
    }

    fn start_instance(
        &self,
        script: Vec<u8>,
        instance: usize,
        events: super::instance::Events,
    ) -> Option<Result<Box<dyn super::instance::RunningInstance + '_>, String>> {
        Some(self.start_on_board(script, instance, events))
    }

    fn capabilities(&self) -> super::Capabilities {
        super::Capabilities {
            produces: super::Produces::ProgramOutput,
            // The measurement needs `gc.mem_alloc()` and `compile` (probed at connect);
            // the rest of the figures are read where the firmware has them.
            measures_heap: {
                self.features();
                self.measures_heap.get() == Some(&true)
            },
            lossy_link: self.config.lossy_link,
        }
    }

    fn run(&self, request: &RunRequest) -> Outcome {
        let fresh = self.exact_time() && request.suite.is_some_and(|s| s.fresh_boot());
        self.run_with(request, |session| {
            if fresh {
                session.restart()?;
            }
            self.run_on(session, request)
        })
    }
}

impl BoardTarget {
    /// The board's clock counts instructions (`qemu.icount`): its time is exact.
    fn exact_time(&self) -> bool {
        self.config
            .qemu
            .as_ref()
            .is_some_and(|q| q.icount.is_some())
    }

    /// Imports `module` frozen into this board's firmware under `.frozen/<dir>/`
    /// (measuring its heap when `request` asks).
    pub fn run_frozen(&self, request: &RunRequest, dir: &str, module: &str) -> Outcome {
        self.run_with(request, |session| {
            session.run_frozen(dir, module, request.timeout, request.heap)
        })
    }

    /// Runs `case` on a checked-out session; the session goes back to the pool, or is
    /// dropped (the board marked dead when it is beyond recovery).
    fn run_with(
        &self,
        request: &RunRequest,
        case: impl FnOnce(&mut BoardSession) -> Result<CaseRun, BoardError>,
    ) -> Outcome {
        let start = Instant::now();
        let (member, mut session) = match self.checkout() {
            Ok(s) => s,
            Err(why) => return Outcome::not_started(why, start.elapsed()),
        };
        let result = case(&mut session);
        let duration = start.elapsed();
        let mut outcome = self.outcome(member, session, request, result, duration);
        if self.sessions.is_pool() {
            outcome.member = Some(self.sessions.member(member).name.clone());
        }
        outcome
    }

    /// The outcome of a case run on member `member`'s `session`, given back.
    fn outcome(
        &self,
        member: usize,
        session: BoardSession,
        request: &RunRequest,
        result: Result<CaseRun, BoardError>,
        duration: Duration,
    ) -> Outcome {
        match result {
            Ok(run) => {
                self.checkin(member, Some(session), None);
                let mut outcome = outcome_of(run, request.timeout, duration);
                if request.heap.is_some() {
                    let (output, figures) = crate::model::heap::extract(&outcome.output);
                    outcome.output = output;
                    outcome.heap = figures;
                }
                outcome
            }
            Err(e @ BoardError::Dead { .. }) => {
                self.checkin(member, None, Some(e.to_string()));
                Outcome::not_started(e.to_string(), duration)
            }
            // Anything else (a corrupted upload, a timeout while resetting) is this
            // case's error; the session is dropped and the next case reconnects.
            Err(e) => {
                self.checkin(member, None, None);
                Outcome::not_started(e.to_string(), duration)
            }
        }
    }
}

/// A board's case run as an outcome: stdout then the traceback, as upstream compares.
fn outcome_of(run: CaseRun, timeout: Duration, duration: Duration) -> Outcome {
    let mut output = run.stdout;
    if let Some(exc) = &run.exception {
        output.extend_from_slice(exc.as_bytes());
    }
    let raised = run.exception.is_some();
    let recovered = match &run.verdict_hint {
        VerdictHint::TimedOut { recovered_by } | VerdictHint::LinkLost { recovered_by, .. } => {
            Some(recovered_by.to_string())
        }
        _ => None,
    };
    let (status, note) = match run.verdict_hint {
        // One exit rule on every target: 0 normal end, 1 an uncaught exception (its
        // traceback is in the output), n for `sys.exit(n)`.
        VerdictHint::Completed | VerdictHint::Skip { .. } => (
            Status::Exited(run.exit_code.unwrap_or(i32::from(raised))),
            None,
        ),
        VerdictHint::TooLarge => (
            Status::Skipped("too large: MemoryError before the case started".into()),
            None,
        ),
        VerdictHint::TimedOut { recovered_by } => (
            Status::TimedOut(timeout),
            Some(format!("board recovered by {recovered_by}")),
        ),
        VerdictHint::LinkLost {
            cause,
            recovered_by,
        } => (
            Status::BoardLost(format!(
                "link to the board lost ({cause}); recovered by {recovered_by}"
            )),
            None,
        ),
    };
    let mut o = Outcome::new(output, run.truncated, status, duration);
    o.recovered = recovered;
    o.note = note;
    o.target_us = run.target_us;
    o.phases = vec![
        ("reset", run.timings.reset),
        ("upload", run.timings.upload),
        ("run", run.timings.run),
        ("read", run.timings.read),
    ];
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Timings;

    fn run(exit_code: Option<i32>, exception: Option<&str>) -> CaseRun {
        CaseRun {
            stdout: b"out\n".to_vec(),
            exception: exception.map(str::to_string),
            truncated: false,
            started: true,
            exit_code,
            verdict_hint: VerdictHint::Completed,
            timings: Timings::default(),
            target_us: None,
        }
    }

    #[test]
    fn one_exit_rule() {
        let t = Duration::from_secs(1);
        let status = |r| outcome_of(r, t, t).status;
        assert_eq!(status(run(None, None)), Status::Exited(0));
        assert_eq!(status(run(None, Some("Traceback\n"))), Status::Exited(1));
        assert_eq!(status(run(Some(3), None)), Status::Exited(3));
        assert_eq!(status(run(Some(0), None)), Status::Exited(0));
    }
}
