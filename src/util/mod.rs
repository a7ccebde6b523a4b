//! The floor every module may use: errors and exit codes, reading input mpcheck does not
//! control, file helpers, `${NAME}` expansion, Ctrl-C, notices on stderr, diff and
//! escape rendering, wording. Imports nothing else of the crate.

pub mod diff;
pub mod env;
pub mod error;
pub mod escape;
pub mod fsutil;
pub mod host;
pub mod input;
pub mod interrupt;
pub mod notice;
pub mod suggest;
pub mod words;
