//! `mpcheck run`: run, compare, report; stage what bless would change for `mpcheck
//! review` (never in CI); exit 1 on any failing verdict.

use super::{SelectArgs, run_exit_code, run_selection};
use crate::config::Project;
use crate::error::Result;

pub fn run(project: &Project, args: &SelectArgs) -> Result<i32> {
    let out = run_selection(project, args)?;
    // An upstream suite's expectations are the checkout's: nothing to stage (bless).
    if out.selection.upstream.is_none()
        && !crate::golden::in_ci(std::env::var("CI").ok().as_deref())
    {
        let staged = super::bless::stage(project, &out)?;
        if staged > 0 {
            crate::report::console::staged(staged);
        }
    }
    Ok(run_exit_code(&out.results, args.allow_flaky))
}
