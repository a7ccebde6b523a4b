//! The trial pipeline: what happens to one trial, and running many of them.
//!
//! ```text
//! Trial ─ gate ─ prepare ─ attempt(s) ─ expect ─ judge ──▶ Judgement ──▶ TrialResult
//!           │ (stages.rs)                   goldens: output, bytecode, heap (golden/)
//!           └─ a verdict decided without running
//! executor: host-VM trials on a CPU pool, each board on its own lanes; events to sinks
//! ```
//!
//! The pipeline opens nothing and prints nothing: targets come opened (`setup`), and what
//! happens is told as [`Event`]s to the report sinks.

mod calibrate;
mod event;
mod executor;
mod frag;
mod policy;
mod rules;
pub mod schedule;
mod stages;

use std::time::{Duration, Instant};

pub use crate::model::result::{Attempt, Judgement, TrialResult};
pub use event::{Event, Notice};
pub use executor::{Options, default_threads, execute, execute_in};
pub use policy::{Attempts, Quarantine, quarantine};
pub use rules::{Expect, OwnCases, SuiteRules};

use crate::expect::golden::Goldens;
use crate::expect::reference::Reference;
use crate::plan::Trial;
use crate::targets::RunRequest;
use crate::targets::open::Targets;

/// The opened targets and the expectations a run judges against.
pub struct Pipeline {
    targets: Targets,
    goldens: Goldens,
    reference: Reference,
    /// Boards whose output is a disassembly (judged and blessed as bytecode goldens).
    bytecode_boards: Vec<String>,
    /// Measure the heap of every case, not only those with `heap:` settings (benchmark).
    pub heap_all: bool,
    calibration: calibrate::Calibration,
    /// How the suite of the run compiles, runs and judges its tests.
    rules: std::sync::Arc<dyn SuiteRules>,
}

impl Pipeline {
    pub fn new(
        targets: Targets,
        goldens: Goldens,
        reference: Reference,
        rules: std::sync::Arc<dyn SuiteRules>,
    ) -> Pipeline {
        Pipeline {
            rules,
            bytecode_boards: targets.disassembling(),
            targets,
            goldens,
            reference,
            heap_all: false,
            calibration: calibrate::Calibration::new(),
        }
    }

    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    pub fn goldens(&self) -> &Goldens {
        &self.goldens
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    pub fn rules(&self) -> &dyn SuiteRules {
        &*self.rules
    }

    /// CPython's output for the case, run as its suite runs it.
    pub fn reference_output(&self, case: &crate::model::case::Case) -> Result<Vec<u8>, String> {
        self.reference.output(case, self.rules.runner(case))
    }

    pub fn bytecode_boards(&self) -> &[String] {
        &self.bytecode_boards
    }

    /// Runs one trial through every stage. Never fails: problems become verdicts.
    pub fn run(&self, trial: &Trial) -> TrialResult {
        self.run_telling(trial, &|_| {})
    }

    /// [`Pipeline::run`], telling `tell` what happens (a re-run and why, a recovery).
    pub fn run_telling(&self, trial: &Trial, tell: &dyn Fn(Notice)) -> TrialResult {
        let start = Instant::now();
        let judgement = match self
            .gate(trial)
            .and_then(|go| self.prepare(trial, &go).map(|p| (go, p)))
        {
            Err(verdict) => Judgement::decided(verdict),
            Ok((go, prepared)) => self.judge_run(trial, &go, &prepared, tell),
        };
        trial.result(judgement, start.elapsed())
    }

    /// Times the bare VM command for a trial (no capture, no comparison): the benchmark's
    /// floor. None for trials that do not run a host process.
    pub fn bare_run(&self, trial: &Trial) -> Option<Duration> {
        let go = self.gate(trial).ok()?;
        let p = self.prepare(trial, &go).ok()?;
        let scratch = tempfile::tempdir().ok()?;
        let request = RunRequest {
            case: &trial.case,
            mode: trial.mode,
            mpy: p.mpy.as_deref(),
            timeout: p.timeout,
            heap: p.heap,
            slow: false,
            suite: self.rules.runner(&trial.case),
        };
        let mut cmd = go.target.bare_command(&request, scratch.path())?;
        let start = Instant::now();
        cmd.stdin(std::process::Stdio::null()).output().ok()?;
        Some(start.elapsed())
    }

    /// Every tool the selected targets use, with the versions they reported, and the
    /// CPython reference.
    pub fn tools(&self) -> Vec<crate::tools::toolchain::ToolInfo> {
        let mut tools = self.targets.tools();
        tools.push(crate::tools::toolchain::ToolInfo {
            tool: "cpython-reference".into(),
            path: self.reference.python().to_path_buf(),
            version: self.reference.version().to_string(),
            pinned: false,
        });
        let mut seen = std::collections::BTreeSet::new();
        tools.retain(|t| seen.insert((t.tool.clone(), t.path.clone())));
        // A tool from a PyPI wheel names the wheel too: its version is not always the
        // one the tool reports (the pinned unix port's wheel 1.28.0.2 is a 1.29 VM).
        for t in &mut tools {
            if let Some(wheel) = crate::tools::toolchain::wheel_of(&t.path) {
                t.version = format!("{} (PyPI {wheel})", t.version);
            }
        }
        tools
    }
}

/// Why the case does not run on CPython, if it does not (then it has no reference).
pub fn runs_on_cpython(case: &crate::model::case::Case) -> Option<String> {
    match &case.settings {
        Ok(s) => s.excluded_reason(&["cpython"]),
        Err(m) => Some(m.clone()),
    }
}
