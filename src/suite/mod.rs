//! Where trials come from besides mpcheck's own `cases/`: a MicroPython checkout's
//! `tests/` run by run-tests.py's rules (`upstream`, with perf_bench), its multi-instance
//! tests (`multi`) and its native-module tests (`natmod`).

pub mod multi;
pub mod natmod;
pub mod upstream;
pub(crate) mod workdir;

use std::path::PathBuf;

use crate::expect::golden::output::ExpectedOutput;
use crate::model::case::Case;

/// The test's `.exp` beside it (`<test>.py.exp`), as run-multitests.py and
/// run-natmodtests.py take it: `None` where there is none.
fn exp_beside(case: &Case) -> Option<Result<ExpectedOutput, String>> {
    let mut exp = case.path.clone().into_os_string();
    exp.push(".exp");
    let exp = PathBuf::from(exp);
    exp.is_file().then(|| ExpectedOutput::from_exp(&exp))
}
