//! Reads MicroPython `.mpy` files (version 6, mpy-cross 1.19–1.29) and prints them.
//!
//! ```text
//!   bytes ──read()──▶ MpyFile ──┬─ disassemble()   showbc-style listing
//!                    (checked)  ├─ mpy_tool_dump()  `mpy-tool.py -d` text, byte for byte
//!                               └─ stats()          sizes and opcode counts (Serialize)
//! ```
//!
//! `read` checks everything it can without running code: header, tables, every
//! instruction and index, and that every byte of the file is accounted for. Native,
//! viper and inline-asm blocks are summarised (kind, size, arch), not decoded.

mod arch;
mod bytecode;
mod constants;
mod cursor;
mod disasm;
mod error;
mod model;
mod mpy_tool;
mod opcodes;
mod prelude;
mod pyrepr;
mod reader;
mod static_qstr;
mod stats;
#[cfg(test)]
mod testdata;

pub use arch::NativeArch;
pub use disasm::{disassemble, disassemble_with_source};
pub use error::MpyError;
pub use model::{
    Asm, Body, Bytecode, CodeKind, Constant, Header, LineEntry, MpyFile, Native, Prelude, Qstr,
    RawCode, Viper, sub_version_releases,
};
pub use mpy_tool::mpy_tool_dump;
pub use opcodes::{
    BINARY_OP_NAMES, Instruction, Operand, UNARY_OP_NAMES, family, is_assigned, mnemonic,
};
pub use reader::read;
pub use stats::{FunctionStats, QstrStats, Stats, stats};
