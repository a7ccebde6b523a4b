//! `mpcheck list`: the trials a run would make, one per line, with decided skips/errors.

use std::io::Write;

use super::SelectArgs;
use crate::plan::config::Project;
use crate::util::error::{Result, exit};

pub fn list(project: &Project, args: &SelectArgs) -> Result<i32> {
    let trials = crate::run::list(project, &args.listing(project)?)?;
    let mut out = std::io::stdout().lock();
    for trial in trials {
        let line = match (&trial.decided, known_skip(&trial)) {
            (Some(v), _) => format!(
                "{}  ({}: {})",
                trial.name(),
                v.name(),
                v.reason().unwrap_or_default()
            ),
            (None, Some(reason)) => format!("{}  (skip: {reason})", trial.name()),
            (None, None) => trial.name(),
        };
        if let Err(e) = writeln!(out, "{line}") {
            return super::stdout_closed(e);
        }
    }
    Ok(exit::OK)
}

/// A skip a run will give `trial` that its board file and the environment already tell
/// (the board unavailable, frozen mode unsupported), so the listing never shows as
/// runnable what a run skips.
fn known_skip(trial: &crate::plan::Trial) -> Option<String> {
    if let Some(why) = trial.board.unavailable() {
        return Some(crate::targets::open::unavailable_reason(why));
    }
    (trial.mode == crate::model::case::Mode::Frozen)
        .then(|| crate::run::frozen::unsupported(&trial.board))
        .flatten()
}
