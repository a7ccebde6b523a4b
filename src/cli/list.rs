//! `mpcheck list`: the trials a run would make, one per line, with decided skips/errors.

use super::SelectArgs;
use crate::config::Project;
use crate::error::{Result, exit};
use crate::setup::Firmware;

pub fn list(project: &Project, args: &SelectArgs) -> Result<i32> {
    let selection = args.selection(project)?;
    // An upstream suite's trials depend on each board's feature checks: open the boards.
    let trials = if selection.upstream.is_some() {
        let opened = crate::setup::open(project, &selection, Firmware::Flash, &mut |_| {})?;
        args.trials(project, &opened.pipeline, &selection)?.0
    } else {
        args.trials_without_targets(&selection)
    };
    for trial in trials {
        match &trial.decided {
            None => println!("{}", trial.name()),
            Some(v) => println!(
                "{}  ({}: {})",
                trial.name(),
                v.name(),
                v.reason().unwrap_or_default()
            ),
        }
    }
    Ok(exit::OK)
}
