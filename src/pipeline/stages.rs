//! The stages one trial walks, each with one job:
//!
//! ```text
//! gate     may it run here? (decided up front, board unavailable, settings, features,
//!          .mpy and heap capabilities)                      → a verdict, or a go-ahead
//! prepare  the .mpy (compile errors are verdicts), timeout, heap request
//! attempt  run it on the target; a failure on a lossy link is run again, slowly
//! expect   the expectation, only when an output will be compared
//! judge    status → output/bytecode golden → heap golden    → Judgement
//! ```

use std::time::Instant;

use super::Pipeline;
use crate::expect::golden::bytecode::BytecodeGoldens;
use crate::expect::golden::heap::{HeapGoldens, failed_claim};
use crate::expect::golden::output::{ExpectedFrom, ExpectedOutput, OutputGoldens};
use crate::expect::golden::{GoldenKind, Judged, Key};
use crate::model::case::{CaseSettings, Mode};
use crate::model::outcome::Outcome;
use crate::model::result::{Attempt, Judgement};
use crate::model::verdict::{Verdict, recheck, status_verdict};
use crate::plan::Trial;
use crate::targets::{Capabilities, Produces, RunRequest, Target};

/// A trial that may run: its target, settings and what the target can do.
pub(super) struct Go<'a> {
    pub target: &'a dyn Target,
    pub settings: &'a CaseSettings,
    pub caps: Capabilities,
}

/// Everything a run of the trial needs.
pub(super) struct Prepared<'a> {
    pub mpy: Option<Vec<u8>>,
    pub timeout: std::time::Duration,
    /// Measure the heap: `Some(how)`.
    pub heap: Option<crate::model::heap::Wrap<'a>>,
}

impl Pipeline {
    pub(super) fn gate<'a>(&'a self, trial: &'a Trial) -> Result<Go<'a>, Verdict> {
        if let Some(v) = &trial.decided {
            return Err(v.clone());
        }
        let target = match trial.mode {
            Mode::Frozen => self.targets.frozen(&trial.board.name)?,
            Mode::Source | Mode::Mpy => self.targets.get(&trial.board.name)?,
        };
        let settings = trial
            .case
            .settings
            .as_ref()
            .map_err(|m| Verdict::Error { message: m.clone() })?;
        let caps = target.capabilities();
        if let Some(missing) = target.features().first_missing(&settings.requires) {
            return Err(Verdict::Skip {
                reason: format!("board lacks feature `{missing}`"),
            });
        }
        if trial.mode == Mode::Mpy && target.features().has("mpy_import") == Some(false) {
            return Err(Verdict::Skip {
                reason: "the board cannot import .mpy files (probed)".into(),
            });
        }
        if settings.heap.is_some()
            && !caps.measures_heap
            && caps.produces == Produces::ProgramOutput
        {
            return Err(Verdict::Skip {
                reason: format!(
                    "a heap case: board `{}` does not measure the heap",
                    trial.board.name
                ),
            });
        }
        Ok(Go {
            target,
            settings,
            caps,
        })
    }

    pub(super) fn prepare<'a>(&self, trial: &Trial, go: &Go<'a>) -> Result<Prepared<'a>, Verdict> {
        let mpy = match trial.mode {
            // A frozen case is in the firmware: the frozen target knows its module.
            Mode::Source | Mode::Frozen => None,
            // cmdline/ tests run from source in every mode, as upstream runs them.
            Mode::Mpy if self.rules.source_only(&trial.case) => None,
            Mode::Mpy => {
                let compiler = go.target.compiler().ok_or_else(|| Verdict::Error {
                    message: format!(
                        "board `{}` has no mpy-cross for .mpy mode",
                        trial.board.name
                    ),
                })?;
                let mut flags = self.rules.mpy_flags(trial);
                flags.extend(
                    go.settings
                        .requires
                        .iter()
                        .any(|r| r == "native")
                        .then(|| go.target.native_arch())
                        .flatten()
                        .map(|arch| format!("-march={arch}")),
                );
                match compiler.compile_with(&trial.case, &flags) {
                    Ok(Ok(bytes)) => Some(bytes),
                    Ok(Err(message)) => return Err(Verdict::CompileError { message }),
                    Err(e) => {
                        return Err(Verdict::Error {
                            message: e.to_string(),
                        });
                    }
                }
            }
        };
        Ok(Prepared {
            mpy,
            timeout: go.settings.timeout().unwrap_or(trial.board.timeout),
            heap: self.heap_request(go),
        })
    }

    /// Whether and how to measure the heap: cases with `heap:` settings (or every case,
    /// for the benchmark) on targets that measure it.
    pub(super) fn heap_request<'a>(&self, go: &Go<'a>) -> Option<crate::model::heap::Wrap<'a>> {
        if !go.caps.measures_heap {
            return None;
        }
        match &go.settings.heap {
            Some(h) => Some(crate::model::heap::Wrap {
                zero_alloc: h.zero_alloc(),
                frag: false,
                settle: None,
            }),
            None if self.heap_all => Some(Default::default()),
            None => None,
        }
    }

    pub(super) fn attempt(
        &self,
        trial: &Trial,
        go: &Go,
        p: &Prepared,
        slow: bool,
        tell: &dyn Fn(super::Notice),
    ) -> Outcome {
        // A trial its suite runs its own way (several instances, a native module).
        if let Some(kind) = &trial.kind {
            return kind.run(&self.targets, trial, p.timeout);
        }
        let mut outcome = go.target.run(&RunRequest {
            case: &trial.case,
            mode: trial.mode,
            mpy: p.mpy.as_deref(),
            timeout: p.timeout,
            heap: p.heap,
            slow,
            suite: self.rules.runner(&trial.case),
        });
        if let Some(us) = self.rules.target_us(&trial.case, &outcome) {
            outcome.target_us = Some(us);
        }
        if let Some(how) = &outcome.recovered {
            tell(super::Notice::Recovered(how));
        }
        outcome
    }

    /// Runs, expects and judges a trial that passed the gate.
    pub(super) fn judge_run(
        &self,
        trial: &Trial,
        go: &Go,
        p: &Prepared,
        tell: &dyn Fn(super::Notice),
    ) -> Judgement {
        let start = Instant::now();
        // An upstream test judged against CPython: its reference runs beside the VM (it
        // is memoised, so expect() finds it), as tests that sleep would otherwise hold
        // the worker twice.
        let first = std::thread::scope(|s| {
            if self.rules.wants_reference(&trial.case) {
                s.spawn(|| drop(self.reference_output(&trial.case)));
            }
            self.attempt(trial, go, p, false, tell)
        });
        let (expected, judged) = self.judge_output(trial, go, &first);
        let first_verdict = judged.verdict.clone();
        if first_verdict != Verdict::Fail || !go.caps.lossy_link {
            return self.finish(trial, go, p, first, expected, judged, Vec::new());
        }
        // A dropped line can leave valid Python that fails differently: run it again
        // slowly before the failure counts (never a silent wrong verdict).
        let why = "failed on a link that can lose input: re-uploading slowly";
        tell(super::Notice::Retried(why));
        let first_ms = start.elapsed().as_millis();
        let again_start = Instant::now();
        let second = self.attempt(trial, go, p, true, tell);
        let (_, second_judged) = self.judge_output(trial, go, &second);
        let verdict = recheck(
            &first.output,
            &second.output,
            &second_judged.verdict,
            go.caps.lossy_link,
        );
        let attempts = vec![
            Attempt {
                verdict: first_verdict,
                why: "first".into(),
                duration_ms: first_ms,
                target_us: first.target_us,
            },
            Attempt {
                verdict: second_judged.verdict.clone(),
                why: why.into(),
                duration_ms: again_start.elapsed().as_millis(),
                target_us: second.target_us,
            },
        ];
        // The first attempt's evidence is what failed: keep it.
        let judged = Judged { verdict, ..judged };
        self.finish(trial, go, p, first, expected, judged, attempts)
    }

    /// The status, then the output (or disassembly) against its expectation.
    fn judge_output(
        &self,
        trial: &Trial,
        go: &Go,
        outcome: &Outcome,
    ) -> (Option<ExpectedOutput>, Judged) {
        // A suite with rules of its own judges its tests (a checkout: run-tests.py's CRASH,
        // regex .exp, unittest).
        if let Some(judged) = self
            .rules
            .judge(&trial.case, outcome, &mut || self.expect(trial, go))
        {
            return judged;
        }
        if let Some(v) = status_verdict(outcome, go.settings.skip_reason.as_deref()) {
            return (None, Judged::verdict(v));
        }
        match self.expect(trial, go) {
            Err(message) => (None, Judged::verdict(Verdict::Error { message })),
            Ok(expected) => {
                let judged = match go.caps.produces {
                    Produces::ProgramOutput => self.output_goldens().judge(&expected, outcome),
                    Produces::Disassembly => {
                        self.bytecode_goldens().judge(&expected.bytes, outcome)
                    }
                };
                (Some(expected), judged)
            }
        }
    }

    /// The expected output: board golden, shared golden, or CPython's output; for a
    /// disassembly, the bytecode golden.
    fn expect(&self, trial: &Trial, go: &Go) -> Result<ExpectedOutput, String> {
        let key = Key {
            case: &trial.case.id,
            board: &trial.board.family,
            mode: trial.mode,
        };
        match go.caps.produces {
            Produces::Disassembly => {
                let path = self.goldens.bytecode_path(&trial.case.id);
                match self.bytecode_goldens().load(&key) {
                    Ok(Some(bytes)) => Ok(ExpectedOutput {
                        bytes,
                        from: ExpectedFrom::Golden(path),
                    }),
                    Ok(None) => Err(format!(
                        "no bytecode golden {}: run `mpcheck bless`",
                        path.display()
                    )),
                    Err(e) => Err(e.to_string()),
                }
            }
            Produces::ProgramOutput => match self.output_goldens().load(&key) {
                Ok(Some(expected)) => Ok(expected),
                Err(e) => Err(e.to_string()),
                Ok(None) => {
                    // A trial of its suite's own kind knows its truth.
                    if let Some(kind) = &trial.kind {
                        return kind.expected(trial, &self.reference);
                    }
                    // A suite's own expected output (a .exp) comes after the user's goldens.
                    if let Some(path) = self.rules.expected_file(&trial.case) {
                        return ExpectedOutput::from_exp(&path);
                    }
                    if let Some(reason) = super::runs_on_cpython(&trial.case) {
                        return Err(format!(
                            "no golden file {} and the case does not run on CPython ({reason}): run `mpcheck bless`",
                            self.goldens.shared_path(&trial.case.id).display()
                        ));
                    }
                    self.reference_output(&trial.case)
                        .map(|bytes| self.reference.expected(bytes))
                }
            },
        }
    }

    /// The heap stage (when the output passed), then the judgement.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        trial: &Trial,
        go: &Go,
        p: &Prepared,
        mut outcome: Outcome,
        expected: Option<ExpectedOutput>,
        judged: Judged,
        attempts: Vec<Attempt>,
    ) -> Judgement {
        let mut j = Judgement::decided(judged.verdict);
        j.note = judged.note;
        j.heap_table = judged.table;
        j.expected_from = expected.as_ref().map(|e| e.from.to_string());
        j.expected = expected.map(|e| e.bytes);
        j.attempts = attempts;
        if p.heap.is_some() {
            match &outcome.heap {
                Some(raw) => {
                    // The heap's own runs are phases of the trial too: the empty case's
                    // (once per board, mode and name length) and the fragmentation run.
                    let start = Instant::now();
                    j.heap = raw.minus(&self.calibration(trial, go, p).unwrap_or_default());
                    let calibrated = Instant::now();
                    if let Some(frag) = self.frag_run(trial, go, p) {
                        j.heap.take_frag(&frag);
                    }
                    outcome.phases.extend([
                        ("calibrate", calibrated - start),
                        ("frag", calibrated.elapsed()),
                    ]);
                }
                None if j.verdict == Verdict::Pass && go.settings.heap.is_some() => {
                    j.verdict = Verdict::Error {
                        message: "the heap wrapper printed no figures".into(),
                    };
                }
                None => {}
            }
        }
        if let Some(h) = &go.settings.heap {
            if j.verdict == Verdict::Pass && outcome.heap.is_some() {
                self.judge_heap(trial, h, &mut j);
            }
            if let Some(zero) = h.zero_alloc()
                && outcome
                    .exception
                    .as_deref()
                    .is_some_and(|e| e.starts_with("MemoryError"))
            {
                j.note = Some(format!(
                    "allocated with the heap locked ({}): {}",
                    if zero.is_empty() {
                        "zero_alloc case".to_string()
                    } else {
                        format!("zero_alloc function `{zero}`")
                    },
                    allocation_site(&outcome.output)
                ));
            }
        }
        j.outcome = Some(outcome);
        j
    }

    /// Heap figures against the case's claims and its heap golden.
    fn judge_heap(
        &self,
        trial: &Trial,
        settings: &crate::model::case::HeapSettings,
        j: &mut Judgement,
    ) {
        if let Some(claim) = failed_claim(settings, &j.heap) {
            j.verdict = Verdict::Fail;
            j.note = Some(claim);
            return;
        }
        let kind = HeapGoldens {
            goldens: &self.goldens,
            settings: Some(settings),
        };
        let key = Key {
            case: &trial.case.id,
            board: &trial.board.family,
            mode: trial.mode,
        };
        let path = self.goldens.heap_path(&trial.case.id);
        match kind.load(&key) {
            Err(e) => {
                j.verdict = Verdict::Error {
                    message: e.to_string(),
                }
            }
            Ok(None) => {
                j.verdict = Verdict::Error {
                    message: format!(
                        "no heap figures for {} {} in {}: run `mpcheck bless`",
                        trial.board.name,
                        trial.mode.as_str(),
                        path.display()
                    ),
                }
            }
            Ok(Some(expected)) => {
                let judged = kind.judge(&expected, &j.heap);
                if judged.verdict != Verdict::Pass {
                    j.expected_from = Some(path.display().to_string());
                }
                j.verdict = judged.verdict;
                j.heap_table = judged.table;
            }
        }
    }

    pub(super) fn output_goldens(&self) -> OutputGoldens<'_> {
        OutputGoldens {
            goldens: &self.goldens,
            skip_boards: &self.bytecode_boards,
        }
    }

    pub(super) fn bytecode_goldens(&self) -> BytecodeGoldens<'_> {
        BytecodeGoldens {
            goldens: &self.goldens,
            boards: &self.bytecode_boards,
        }
    }
}

/// The line a locked-heap `MemoryError` was raised at: the traceback's last `File` line.
fn allocation_site(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("File "))
        .map_or("no traceback".into(), |l| l.trim().to_string())
}
