//! The bytecode opcode table (`py/bc0.h`, identical for 6.0–6.3) and single-instruction decoding.

use serde::Serialize;

use super::cursor::Cursor;
use super::error::MpyError;

/// One decoded bytecode instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instruction {
    /// Offset from the first opcode of the function (showbc's numbering).
    pub offset: usize,
    /// Encoded size in bytes, including operand and extra byte.
    pub size: usize,
    pub opcode: u8,
    pub operand: Operand,
}

impl Instruction {
    /// The showbc/mpy-tool mnemonic, with the value appended for MULTI opcodes
    /// (`LOAD_FAST 3`, `BINARY_OP 27 __add__`).
    pub fn mnemonic(&self) -> String {
        mnemonic(self.opcode)
    }

    /// The opcode family without any MULTI value (`LOAD_FAST`, `BINARY_OP`).
    pub fn family(&self) -> &'static str {
        family(self.opcode).unwrap_or("unknown")
    }
}

/// The decoded operand of an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operand {
    /// No operand (plain and MULTI opcodes).
    None,
    /// Index into the file's qstr table.
    Qstr { index: u32 },
    /// Index into the file's constant table (`LOAD_CONST_OBJ`).
    Const { index: u32 },
    /// Unsigned value: slot, count, or packed `n_pos | n_kw << 8`.
    Uint { value: u64 },
    /// Signed value of `LOAD_CONST_SMALL_INT` (0x22).
    SmallInt { value: i64 },
    /// Child code block; `n_closed` is the extra byte of `MAKE_CLOSURE*`.
    Child { index: u32, n_closed: Option<u8> },
    /// Jump: `relative` as encoded, `target` = offset after the label + `relative`;
    /// `unwind` is the extra byte of `UNWIND_JUMP`.
    Jump {
        relative: i64,
        target: i64,
        unwind: Option<u8>,
    },
}

/// How an opcode's operand is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OperandKind {
    None,
    Qstr,
    Const,
    Uint,
    SmallInt,
    Child,
    ChildClosure,
    SignedLabel,
    UnsignedLabel,
    UnwindLabel,
}

/// Names of the UNARY_OP MULTI operators, as mpy-tool prints them.
pub const UNARY_OP_NAMES: [&str; 4] = ["__pos__", "__neg__", "__invert__", "<not>"];

/// Names of the BINARY_OP MULTI operators, as mpy-tool prints them (`<…>` are its own).
pub const BINARY_OP_NAMES: [&str; 35] = [
    "__lt__",
    "__gt__",
    "__eq__",
    "__le__",
    "__ge__",
    "__ne__",
    "<in>",
    "<is>",
    "<exception match>",
    "__ior__",
    "__ixor__",
    "__iand__",
    "__ilshift__",
    "__irshift__",
    "__iadd__",
    "__isub__",
    "__imul__",
    "__imatmul__",
    "__ifloordiv__",
    "__itruediv__",
    "__imod__",
    "__ipow__",
    "__or__",
    "__xor__",
    "__and__",
    "__lshift__",
    "__rshift__",
    "__add__",
    "__sub__",
    "__mul__",
    "__matmul__",
    "__floordiv__",
    "__truediv__",
    "__mod__",
    "__pow__",
];

// MULTI opcode ranges (py/bc0.h): the value is encoded in the opcode byte itself.
const SMALL_INT_MULTI: u8 = 0x70;
/// `LOAD_CONST_SMALL_INT` MULTI covers -16..=47, so 0x70 is -16 and 0x80 is 0.
const SMALL_INT_EXCESS: i64 = 16;
const LOAD_FAST_MULTI: u8 = 0xb0;
const STORE_FAST_MULTI: u8 = 0xc0;
const UNARY_OP_MULTI: u8 = 0xd0;
/// Only 4 unary operators reach bytecode, so 0xd4..=0xd6 are unassigned.
const UNARY_OP_LAST: u8 = 0xd3;
const BINARY_OP_MULTI: u8 = 0xd7;

/// Name and operand encoding of every non-MULTI opcode; `None` = unassigned.
fn base(op: u8) -> Option<(&'static str, OperandKind)> {
    use OperandKind as K;
    Some(match op {
        0x10 => ("LOAD_CONST_STRING", K::Qstr),
        0x11 => ("LOAD_NAME", K::Qstr),
        0x12 => ("LOAD_GLOBAL", K::Qstr),
        0x13 => ("LOAD_ATTR", K::Qstr),
        0x14 => ("LOAD_METHOD", K::Qstr),
        0x15 => ("LOAD_SUPER_METHOD", K::Qstr),
        0x16 => ("STORE_NAME", K::Qstr),
        0x17 => ("STORE_GLOBAL", K::Qstr),
        0x18 => ("STORE_ATTR", K::Qstr),
        0x19 => ("DELETE_NAME", K::Qstr),
        0x1a => ("DELETE_GLOBAL", K::Qstr),
        0x1b => ("IMPORT_NAME", K::Qstr),
        0x1c => ("IMPORT_FROM", K::Qstr),
        0x20 => ("MAKE_CLOSURE", K::ChildClosure),
        0x21 => ("MAKE_CLOSURE_DEFARGS", K::ChildClosure),
        0x22 => ("LOAD_CONST_SMALL_INT", K::SmallInt),
        0x23 => ("LOAD_CONST_OBJ", K::Const),
        0x24 => ("LOAD_FAST_N", K::Uint),
        0x25 => ("LOAD_DEREF", K::Uint),
        0x26 => ("STORE_FAST_N", K::Uint),
        0x27 => ("STORE_DEREF", K::Uint),
        0x28 => ("DELETE_FAST", K::Uint),
        0x29 => ("DELETE_DEREF", K::Uint),
        0x2a => ("BUILD_TUPLE", K::Uint),
        0x2b => ("BUILD_LIST", K::Uint),
        0x2c => ("BUILD_MAP", K::Uint),
        0x2d => ("BUILD_SET", K::Uint),
        0x2e => ("BUILD_SLICE", K::Uint),
        0x2f => ("STORE_COMP", K::Uint),
        0x30 => ("UNPACK_SEQUENCE", K::Uint),
        0x31 => ("UNPACK_EX", K::Uint),
        0x32 => ("MAKE_FUNCTION", K::Child),
        0x33 => ("MAKE_FUNCTION_DEFARGS", K::Child),
        0x34 => ("CALL_FUNCTION", K::Uint),
        0x35 => ("CALL_FUNCTION_VAR_KW", K::Uint),
        0x36 => ("CALL_METHOD", K::Uint),
        0x37 => ("CALL_METHOD_VAR_KW", K::Uint),
        0x40 => ("UNWIND_JUMP", K::UnwindLabel),
        0x42 => ("JUMP", K::SignedLabel),
        0x43 => ("POP_JUMP_IF_TRUE", K::SignedLabel),
        0x44 => ("POP_JUMP_IF_FALSE", K::SignedLabel),
        0x45 => ("JUMP_IF_TRUE_OR_POP", K::UnsignedLabel),
        0x46 => ("JUMP_IF_FALSE_OR_POP", K::UnsignedLabel),
        0x47 => ("SETUP_WITH", K::UnsignedLabel),
        0x48 => ("SETUP_EXCEPT", K::UnsignedLabel),
        0x49 => ("SETUP_FINALLY", K::UnsignedLabel),
        0x4a => ("POP_EXCEPT_JUMP", K::UnsignedLabel),
        0x4b => ("FOR_ITER", K::UnsignedLabel),
        0x50 => ("LOAD_CONST_FALSE", K::None),
        0x51 => ("LOAD_CONST_NONE", K::None),
        0x52 => ("LOAD_CONST_TRUE", K::None),
        0x53 => ("LOAD_NULL", K::None),
        0x54 => ("LOAD_BUILD_CLASS", K::None),
        0x55 => ("LOAD_SUBSCR", K::None),
        0x56 => ("STORE_SUBSCR", K::None),
        0x57 => ("DUP_TOP", K::None),
        0x58 => ("DUP_TOP_TWO", K::None),
        0x59 => ("POP_TOP", K::None),
        0x5a => ("ROT_TWO", K::None),
        0x5b => ("ROT_THREE", K::None),
        0x5c => ("WITH_CLEANUP", K::None),
        0x5d => ("END_FINALLY", K::None),
        0x5e => ("GET_ITER", K::None),
        0x5f => ("GET_ITER_STACK", K::None),
        0x62 => ("STORE_MAP", K::None),
        0x63 => ("RETURN_VALUE", K::None),
        0x64 => ("RAISE_LAST", K::None),
        0x65 => ("RAISE_OBJ", K::None),
        0x66 => ("RAISE_FROM", K::None),
        0x67 => ("YIELD_VALUE", K::None),
        0x68 => ("YIELD_FROM", K::None),
        0x69 => ("IMPORT_STAR", K::None),
        _ => return multi_family(op).map(|f| (f, K::None)),
    })
}

fn multi_family(op: u8) -> Option<&'static str> {
    match op {
        SMALL_INT_MULTI..LOAD_FAST_MULTI => Some("LOAD_CONST_SMALL_INT"),
        LOAD_FAST_MULTI..STORE_FAST_MULTI => Some("LOAD_FAST"),
        STORE_FAST_MULTI..UNARY_OP_MULTI => Some("STORE_FAST"),
        UNARY_OP_MULTI..=UNARY_OP_LAST => Some("UNARY_OP"),
        // 35 binary operators: 0xd7..=0xf9.
        BINARY_OP_MULTI..=0xf9 => Some("BINARY_OP"),
        _ => None,
    }
}

/// Whether `op` is an assigned opcode.
pub fn is_assigned(op: u8) -> bool {
    base(op).is_some()
}

/// The opcode family (the mnemonic without a MULTI value), or `None` if unassigned.
pub fn family(op: u8) -> Option<&'static str> {
    base(op).map(|(name, _)| name)
}

/// The full mnemonic as showbc and mpy-tool spell it, MULTI value included.
pub fn mnemonic(op: u8) -> String {
    let Some(name) = family(op) else {
        return "unknown".to_string();
    };
    match op {
        SMALL_INT_MULTI..LOAD_FAST_MULTI => {
            format!(
                "{name} {}",
                i64::from(op - SMALL_INT_MULTI) - SMALL_INT_EXCESS
            )
        }
        LOAD_FAST_MULTI..STORE_FAST_MULTI => format!("{name} {}", op - LOAD_FAST_MULTI),
        STORE_FAST_MULTI..UNARY_OP_MULTI => format!("{name} {}", op - STORE_FAST_MULTI),
        UNARY_OP_MULTI..=UNARY_OP_LAST => {
            let n = usize::from(op - UNARY_OP_MULTI);
            format!(
                "{name} {n} {}",
                UNARY_OP_NAMES.get(n).copied().unwrap_or("")
            )
        }
        BINARY_OP_MULTI..=0xf9 => {
            let n = usize::from(op - BINARY_OP_MULTI);
            format!(
                "{name} {n} {}",
                BINARY_OP_NAMES.get(n).copied().unwrap_or("")
            )
        }
        _ => name.to_string(),
    }
}

/// Decodes the instruction at the cursor. `code_start` is the file offset of the first
/// opcode, so that offsets and jump targets count from it.
pub(crate) fn decode(cur: &mut Cursor<'_>, code_start: usize) -> Result<Instruction, MpyError> {
    let at = cur.pos();
    let opcode = cur.u8("opcode")?;
    let Some((_, kind)) = base(opcode) else {
        return Err(MpyError::UnknownOpcode { offset: at, opcode });
    };
    let overrun = |e: MpyError| match e {
        MpyError::Truncated { .. } => MpyError::InstructionOverrun { offset: at, opcode },
        other => other,
    };
    let operand = match kind {
        OperandKind::None => Operand::None,
        OperandKind::Qstr => Operand::Qstr {
            index: cur.vuint_u32("qstr operand").map_err(overrun)?,
        },
        OperandKind::Const => Operand::Const {
            index: cur.vuint_u32("object operand").map_err(overrun)?,
        },
        OperandKind::Uint => Operand::Uint {
            value: cur.vuint("operand").map_err(overrun)?,
        },
        OperandKind::SmallInt => Operand::SmallInt {
            value: cur.svarint("small int").map_err(overrun)?,
        },
        OperandKind::Child | OperandKind::ChildClosure => {
            let index = cur.vuint_u32("child operand").map_err(overrun)?;
            let n_closed = match kind {
                OperandKind::ChildClosure => Some(cur.u8("closure count").map_err(overrun)?),
                _ => None,
            };
            Operand::Child { index, n_closed }
        }
        OperandKind::SignedLabel | OperandKind::UnsignedLabel | OperandKind::UnwindLabel => {
            let signed = kind != OperandKind::UnsignedLabel;
            let relative = label(cur, signed).map_err(overrun)?;
            // The target counts from the end of the label, before UNWIND_JUMP's extra byte.
            let target = (cur.pos() - code_start) as i64 + relative;
            let unwind = match kind {
                OperandKind::UnwindLabel => Some(cur.u8("unwind count").map_err(overrun)?),
                _ => None,
            };
            Operand::Jump {
                relative,
                target,
                unwind,
            }
        }
    };
    Ok(Instruction {
        offset: at - code_start,
        size: cur.pos() - at,
        opcode,
        operand,
    })
}

/// A 1- or 2-byte jump label (not a vuint: the 2-byte form stores its low 7 bits first).
fn label(cur: &mut Cursor<'_>, signed: bool) -> Result<i64, MpyError> {
    let b0 = cur.u8("jump label")?;
    if b0 & 0x80 == 0 {
        // 1-byte form: signed labels are biased by 0x40.
        return Ok(i64::from(b0) - if signed { 0x40 } else { 0 });
    }
    let b1 = cur.u8("jump label")?;
    let raw = i64::from(b0 & 0x7f) | (i64::from(b1) << 7);
    // 2-byte form: signed labels are biased by 0x4000.
    Ok(raw - if signed { 0x4000 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<Instruction, MpyError> {
        decode(&mut Cursor::new(bytes), 0)
    }

    #[test]
    fn assigned_opcode_count_matches_bc0_h() {
        // 207 assigned byte values, 49 unassigned (mpy-format.md §5.2).
        assert_eq!((0..=255u8).filter(|&op| is_assigned(op)).count(), 207);
    }

    #[test]
    fn multi_mnemonics() {
        assert_eq!(mnemonic(0x80), "LOAD_CONST_SMALL_INT 0");
        assert_eq!(mnemonic(0x70), "LOAD_CONST_SMALL_INT -16");
        assert_eq!(mnemonic(0xaf), "LOAD_CONST_SMALL_INT 47");
        assert_eq!(mnemonic(0xb3), "LOAD_FAST 3");
        assert_eq!(mnemonic(0xcf), "STORE_FAST 15");
        assert_eq!(mnemonic(0xd3), "UNARY_OP 3 <not>");
        assert_eq!(mnemonic(0xdf), "BINARY_OP 8 <exception match>");
        assert_eq!(mnemonic(0xf2), "BINARY_OP 27 __add__");
        assert_eq!(mnemonic(0xf9), "BINARY_OP 34 __pow__");
        assert_eq!(mnemonic(0xfa), "unknown");
    }

    #[test]
    fn jump_targets_count_from_label_end() {
        // POP_JUMP_IF_FALSE with 1-byte label 0x46: relative +6, target 2 + 6.
        let i = one(&[0x44, 0x46]).unwrap();
        assert_eq!(
            i.operand,
            Operand::Jump {
                relative: 6,
                target: 8,
                unwind: None
            }
        );
        // UNWIND_JUMP 48 01: relative 8 from offset 2, extra byte not in the base.
        let i = one(&[0x40, 0x48, 0x01]).unwrap();
        assert_eq!(i.size, 3);
        assert_eq!(
            i.operand,
            Operand::Jump {
                relative: 8,
                target: 10,
                unwind: Some(1)
            }
        );
        // 2-byte signed label: low 7 bits first, bias 0x4000.
        let i = one(&[0x42, 0x80 | 0x7d, 0x7f]).unwrap();
        assert_eq!(
            i.operand,
            Operand::Jump {
                relative: -3,
                target: 0,
                unwind: None
            }
        );
    }

    #[test]
    fn closures_carry_the_extra_byte() {
        let i = one(&[0x20, 0x00, 0x01]).unwrap();
        assert_eq!(
            i.operand,
            Operand::Child {
                index: 0,
                n_closed: Some(1)
            }
        );
        assert_eq!(i.size, 3);
    }

    #[test]
    fn bad_instructions_are_errors() {
        assert!(matches!(
            one(&[0x00]),
            Err(MpyError::UnknownOpcode { opcode: 0, .. })
        ));
        assert!(matches!(
            one(&[0x20, 0x00]),
            Err(MpyError::InstructionOverrun { .. })
        ));
        assert!(matches!(
            one(&[0x42, 0x80]),
            Err(MpyError::InstructionOverrun { .. })
        ));
    }
}
