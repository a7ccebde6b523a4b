//! Boards: the files in `boards/` that say what each target is and how to reach it.

pub mod file;

pub use file::{Board, BoardSpec, HostKind, HostSpec, load_boards};
