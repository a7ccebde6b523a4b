//! `mpcheck run`: run, compare, report; exit 1 on any failing verdict.

use super::{SelectArgs, run_selection};
use crate::config::Project;
use crate::error::{Result, exit};

pub fn run(project: &Project, args: &SelectArgs) -> Result<i32> {
    let out = run_selection(project, args)?;
    Ok(if out.results.iter().any(|r| r.verdict.is_failure()) {
        exit::FAILURES
    } else {
        exit::OK
    })
}
