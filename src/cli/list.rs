//! `mpcheck list`: the trials a run would make, one per line, with decided skips/errors.

use super::SelectArgs;
use crate::config::{Overrides, Project, Selection};
use crate::error::{Result, exit};

pub fn list(project: &Project, args: &SelectArgs) -> Result<i32> {
    let overrides = Overrides::from_args_and_env(args.micropython.clone(), args.mpy_cross.clone());
    let selection = Selection::load(project, &args.boards, &overrides)?;
    for trial in crate::plan::plan(&selection.boards, &selection.cases, args.filter.as_deref()) {
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
