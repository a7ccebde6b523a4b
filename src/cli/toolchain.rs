//! `mpcheck toolchain`: provision if needed, then each tool, its path and the version it
//! reports itself.

use crate::config::{Overrides, Project, Selection};
use crate::error::{Result, exit};
use crate::execute::Runner;

pub fn toolchain(project: &Project) -> Result<i32> {
    let selection = Selection::load(project, &[], &Overrides::from_args_and_env(None, None))?;
    let runner = Runner::open(project, &selection)?;
    let tools = runner.tools();
    let width = tools.iter().map(|t| t.tool.len()).max().unwrap_or(4);
    for t in tools {
        println!(
            "{:width$}  {}  {}{}",
            t.tool,
            t.version,
            t.path.display(),
            if t.pinned { "  (pinned)" } else { "" }
        );
    }
    Ok(exit::OK)
}
