//! `mpcheck run`: run, compare, report; stage what bless would change for `mpcheck
//! review` (never in CI); exit 1 on any failing verdict.

use super::RunArgs;
use crate::plan::config::Project;
use crate::util::error::Result;

pub fn run(project: &Project, args: &RunArgs) -> Result<i32> {
    let out = crate::run::run(project, args.request(project)?)?;
    // An upstream suite's expectations are the checkout's: nothing to stage (bless).
    if out.selection.upstream.is_none()
        && !crate::expect::golden::in_ci(std::env::var("CI").ok().as_deref())
    {
        // Staging is a sink like the reports: one that fails costs only itself.
        match super::bless::stage(project, &out) {
            Ok(0) => {}
            Ok(staged) => crate::report::console::staged(staged),
            Err(e) => crate::util::notice::notice(format!(
                "warning: this run's golden changes are not staged for `mpcheck review`: {e} (`mpcheck bless` still writes them)"
            )),
        }
    }
    Ok(crate::run::exit_code(&out.results, args.allow_flaky))
}
