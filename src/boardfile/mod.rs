//! The board files in `boards/`, read into a checked [`Board`]: its kind, console and
//! QEMU or serial settings, build section, probe section, modes and cases. Data only: the
//! board behind the console is `device`'s.

pub mod build_section;
pub mod config;
pub mod file;
pub mod icount;
pub mod labgrid;
mod lines;
pub mod parse;
pub mod paths;
pub mod probe_spec;
mod raw;

pub use config::{BoardConfig, Pacing};
pub use file::{Board, BoardSpec, BytecodeSpec, HostKind, HostSpec};
pub use parse::{BoardFiles, load_board, load_board_files, load_boards, parse_board};
