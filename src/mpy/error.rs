//! The one error type of the `.mpy` reader: what was wrong, and where in the file.

use thiserror::Error;

/// Why a byte string could not be read as a version-6 `.mpy` file.
///
/// Every variant that concerns a position carries `offset`, the byte offset in the
/// file where the problem was found, so a user can look at it with a hex dump.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MpyError {
    #[error("empty input: an .mpy file starts with the 4-byte header 4d 06 xx xx")]
    Empty,

    #[error("not an .mpy file: first byte is {found:#04x}, expected 0x4d ('M')")]
    NotMpy { found: u8 },

    #[error("{}", version_message(*.version))]
    UnsupportedVersion { version: u8 },

    #[error("reserved bit 7 of the feature byte {feature:#04x} is set")]
    ReservedFeatureBit { feature: u8 },

    #[error("unexpected end of file at offset {offset} while reading {what}")]
    Truncated { offset: usize, what: &'static str },

    #[error("{count} unexpected byte(s) after the outer code block, from offset {offset}")]
    TrailingBytes { offset: usize, count: usize },

    #[error("variable-length integer at offset {offset} does not fit in 64 bits")]
    VarIntOverflow { offset: usize },

    #[error("{what} at offset {offset} is {value}, too large for this file")]
    TooLarge {
        offset: usize,
        what: &'static str,
        value: u64,
    },

    #[error("qstr table is empty: entry 0 must be the source file name")]
    EmptyQstrTable,

    #[error("static qstr id {id} at offset {offset} is outside 1..=165")]
    BadStaticQstr { offset: usize, id: u64 },

    #[error("{what} at offset {offset} lacks its 00 terminator (found {found:#04x})")]
    MissingTerminator {
        offset: usize,
        what: &'static str,
        found: u8,
    },

    #[error("{what} at offset {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize, what: &'static str },

    #[error("unknown constant type tag {tag} at offset {offset} (valid tags are 0..=10)")]
    UnknownConstantTag { offset: usize, tag: u8 },

    #[error("{what} constant at offset {offset} has unparsable text {text:?}")]
    BadNumberText {
        offset: usize,
        what: &'static str,
        text: String,
    },

    #[error("{what} nested deeper than {limit} levels at offset {offset}")]
    TooDeep {
        offset: usize,
        what: &'static str,
        limit: usize,
    },

    #[error("prelude at offset {offset}: {problem}")]
    BadPrelude { offset: usize, problem: String },

    #[error("{what} index {index} at offset {offset} is out of range (table has {len})")]
    IndexOutOfRange {
        offset: usize,
        what: &'static str,
        index: u64,
        len: usize,
    },

    #[error("unassigned opcode {opcode:#04x} at offset {offset}")]
    UnknownOpcode { offset: usize, opcode: u8 },

    #[error("instruction {opcode:#04x} at offset {offset} runs past the end of its code block")]
    InstructionOverrun { offset: usize, opcode: u8 },

    #[error(
        "jump at offset {offset} targets bytecode offset {target}, which is not an instruction start"
    )]
    BadJumpTarget { offset: usize, target: i64 },

    #[error(
        "native prelude offset {prelude_offset} at offset {offset} is past the code size {len}"
    )]
    BadPreludeOffset {
        offset: usize,
        prelude_offset: u64,
        len: usize,
    },

    #[error("viper code at offset {offset} has both relocations and children: unsupported")]
    RelocationsWithChildren { offset: usize },
}

/// The message for a version byte other than 6, naming the releases that wrote it.
fn version_message(version: u8) -> String {
    // Release ranges from MicroPython's docs/reference/mpyfiles.rst and git tags.
    let made_by = match version {
        0 => Some("mpy-cross 1.5.1–1.8.7"),
        2 => Some("mpy-cross 1.9–1.9.2"),
        3 => Some("mpy-cross 1.9.3–1.10"),
        4 => Some("mpy-cross 1.11"),
        5 => Some("mpy-cross 1.12–1.18"),
        _ => None,
    };
    match made_by {
        Some(tool) => {
            format!("mpy version {version} ({tool}) is not supported: only version 6")
        }
        None => format!("mpy version {version} is not supported: only version 6"),
    }
}
