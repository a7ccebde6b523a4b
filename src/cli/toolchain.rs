//! `mpcheck toolchain`: provision if needed, then each tool, its path and the version it
//! reports itself.

use crate::config::{Overrides, Project, Selection};
use crate::error::{Result, exit};

pub fn toolchain(project: &Project) -> Result<i32> {
    let selection = Selection::load(project, &[], &Overrides::from_args_and_env(None, None))?;
    // Asks each tool its version; flashes nothing.
    let opened = crate::setup::open(
        project,
        &selection,
        crate::setup::Firmware::Leave,
        &mut |_| {},
    )?;
    let tools = opened.pipeline.tools();
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
