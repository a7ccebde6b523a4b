//! The sink for notices from setup code that runs before (or beside) a run's event
//! stream: installing tools, a cache that cannot be written, an interrupt. One line each,
//! on stderr, prefixed `mpcheck:`; nothing else outside `cli` and `report` writes to the
//! terminal.

use std::io::Write;

/// Writes `mpcheck: <text>` on stderr (a closed stderr is ignored: a notice never fails
/// a run).
pub fn notice(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "mpcheck: {text}");
}
