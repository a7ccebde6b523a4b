//! `mpcheck toolchain`: provision if needed, then each tool, its path and the version it
//! reports itself.

use crate::plan::config::{Overrides, Project};

use crate::run::selection::Selection;
use crate::util::error::{Result, exit};

pub fn toolchain(project: &Project) -> Result<i32> {
    let mut selection = Selection::load(project, &[], &Overrides::from_args_and_env(None, None))?;
    // Boards built from source are built by a run that needs them, never here.
    selection.boards.retain(
        |b| !matches!(&b.spec, crate::boardfile::BoardSpec::Device(d) if d.build.is_some()),
    );
    // Asks each tool its version; flashes nothing.
    let opened = crate::run::setup::open(
        project,
        &selection,
        crate::run::setup::Firmware::Leave,
        &Default::default(),
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
