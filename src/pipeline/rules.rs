//! What a suite decides about its own trials where its tests differ from the project's
//! cases: how they are compiled, run and judged. The project's `cases/` take every
//! default ([`OwnCases`]); a checkout's `tests/` answers as run-tests.py would
//! (`upstream::Suite`). The pipeline asks these; it never names a suite.

use std::path::PathBuf;

use crate::expect::golden::Judged;
use crate::expect::golden::output::ExpectedOutput;
use crate::model::case::Case;
use crate::model::outcome::Outcome;
use crate::plan::Trial;
use crate::targets::SuiteRun;

/// An expectation asked for only when an output is compared.
pub type Expect<'a> = dyn FnMut() -> Result<ExpectedOutput, String> + 'a;

pub trait SuiteRules: Send + Sync {
    /// How the suite runs this case where that is not the target's own way.
    fn runner(&self, _case: &Case) -> Option<&dyn SuiteRun> {
        None
    }

    /// The case runs from source in every mode (a checkout's `cmdline/` tests).
    fn source_only(&self, _case: &Case) -> bool {
        false
    }

    /// mpy-cross flags for this trial beyond the compiler's own (a board's `-march`).
    fn mpy_flags(&self, _trial: &Trial) -> Vec<String> {
        Vec::new()
    }

    /// The case is judged against CPython's output whatever the user's goldens hold
    /// (worth running the reference beside the VM).
    fn wants_reference(&self, _case: &Case) -> bool {
        false
    }

    /// The suite's own expected output (a `.exp`), consulted after the user's goldens.
    fn expected_file(&self, _case: &Case) -> Option<PathBuf> {
        None
    }

    /// The suite's verdict of an outcome; `None`: judged as the project's cases are.
    fn judge(
        &self,
        _case: &Case,
        _outcome: &Outcome,
        _expect: &mut Expect,
    ) -> Option<(Option<ExpectedOutput>, Judged)> {
        None
    }

    /// The case's time on the target as the suite reads it from the output (a
    /// benchmark's own `ticks_us`), over the target's; `None`: the target's.
    fn target_us(&self, _case: &Case, _outcome: &Outcome) -> Option<u64> {
        None
    }
}

/// The project's own cases: every rule is the pipeline's default.
pub struct OwnCases;

impl SuiteRules for OwnCases {}
