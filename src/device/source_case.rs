//! What the board runs a case's source as: its name, its text, and the globals it sees.

/// A case's source as [`super::BoardSession::run_source`] runs it.
#[derive(Debug, Clone, Copy)]
pub struct SourceCase<'a> {
    /// Its module name: the file tracebacks name is `<module>.py`.
    pub module: &'a str,
    pub source: &'a [u8],
    /// It sees `__file__` (see [`super::driver::Load::Source`]).
    pub defines_file: bool,
}

impl<'a> SourceCase<'a> {
    /// One of mpcheck's cases: compared with unix goldens, where it runs from a file
    /// and has `__file__`.
    pub fn own(module: &'a str, source: &'a [u8]) -> SourceCase<'a> {
        SourceCase {
            module,
            source,
            defines_file: true,
        }
    }

    /// A test of a MicroPython tests/ directory: run as run-tests.py runs it on a board
    /// (raw-REPL exec, so no `__file__`).
    pub fn upstream(module: &'a str, source: &'a [u8]) -> SourceCase<'a> {
        SourceCase {
            module,
            source,
            defines_file: false,
        }
    }
}
