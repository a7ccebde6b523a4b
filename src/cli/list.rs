//! `mpcheck list`: the trials a run would make, one per line, with decided skips/errors.

use std::io::Write;

use super::SelectArgs;
use crate::config::{Overrides, Project, Selection};
use crate::error::{Result, exit};

pub fn list(project: &Project, args: &SelectArgs) -> Result<i32> {
    let overrides = Overrides::from_args_and_env(args.micropython.clone(), args.mpy_cross.clone());
    let selection = Selection::load(project, &args.boards, &overrides)?;
    let trials = crate::plan::plan(&selection.boards, &selection.cases, args.filter.as_deref());
    super::check_not_empty(&trials, args.filter.as_deref(), project)?;
    let mut out = std::io::stdout().lock();
    for trial in trials {
        let line = match &trial.decided {
            None => trial.name(),
            Some(v) => format!(
                "{}  ({}: {})",
                trial.name(),
                v.name(),
                v.reason().unwrap_or_default()
            ),
        };
        if let Err(e) = writeln!(out, "{line}") {
            return super::stdout_closed(e);
        }
    }
    Ok(exit::OK)
}
