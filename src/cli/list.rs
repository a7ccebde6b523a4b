//! `mpcheck list`: the trials a run would make, one per line, with decided skips/errors.

use std::io::Write;

use super::SelectArgs;
use crate::config::Project;
use crate::error::{Result, exit};
use crate::setup::Firmware;

pub fn list(project: &Project, args: &SelectArgs) -> Result<i32> {
    let selection = args.selection(project)?;
    // An upstream suite's trials depend on each board's feature checks: open the boards.
    let trials = if selection.upstream.is_some() {
        let opened = crate::setup::open(
            project,
            &selection,
            Firmware::Flash,
            &Default::default(),
            &mut |_| {},
        )?;
        args.trials(&opened.pipeline, &selection)?.0
    } else {
        args.trials_without_targets(&selection)
    };
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
