//! `compare --tests DIR`: both sides on a checkout's tests/, planned as `run --tests`
//! plans them once the boards are open (each probed), perf_bench/ when named.

use std::path::Path;
use std::sync::Arc;

use crate::plan::Trial;
use crate::plan::config::Project;
use crate::run::selection::Selection;
use crate::run::suite::Suite;
use crate::run::{Runner, Scope};
use crate::util::error::{Error, Result};

/// The checkout as the comparison's suite, for both sides' boards; N and M as given.
pub(super) fn select(
    project: &Project,
    selection: &mut Selection,
    dir: &Path,
    (n, m): (Option<u32>, Option<u32>),
) -> Result<Box<dyn Suite>> {
    let mut suite = crate::suite::upstream::Suite::load(dir, Default::default())?;
    suite.load_perf(&selection.boards, None);
    selection.cases = suite.cases.clone();
    selection.upstream = Some(Arc::new(suite));
    selection.perf_params(n, m);
    crate::run::suite::open(project, selection)
}

/// The trials of both sides; none is a usage error naming the filters.
pub(super) fn plan(
    suite: &mut dyn Suite,
    runner: &Runner,
    selection: &Selection,
    scope: &Scope,
) -> Result<Vec<Trial>> {
    let trials = suite.plan(Some(&runner.pipeline), selection, scope);
    if trials.is_empty() {
        return Err(Error::Usage(format!(
            "--tests: no test of the checkout matches {:?}",
            scope.filters
        )));
    }
    Ok(trials)
}

/// A benchmark's output without its time (`<norm> <result>`): the time is compared as
/// time, not as output.
pub(super) fn untimed(results: &mut [crate::pipeline::TrialResult]) {
    use crate::suite::upstream::perfbench::{DIR, judge};
    for r in results.iter_mut().filter(|r| r.case.starts_with(DIR)) {
        if let Some(out) = &r.output
            && let Ok(reading) = judge::parse(out)
        {
            r.output = Some(format!("{} {}\n", reading.norm, reading.result).into_bytes());
        }
    }
}
