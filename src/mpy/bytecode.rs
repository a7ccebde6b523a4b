//! Decodes and checks the instruction stream of a bytecode function.

use super::cursor::Cursor;
use super::error::MpyError;
use super::opcodes::{self, Instruction, Operand};

/// Table sizes that operands index into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub n_qstr: usize,
    pub n_const: usize,
    pub n_children: usize,
}

/// Decodes instructions from `code_start` to `code_end` (file offsets). The last one must
/// end exactly at `code_end`, every index must be in range and every jump must land on
/// an instruction start.
pub(crate) fn decode(
    data: &[u8],
    code_start: usize,
    code_end: usize,
    bounds: &Bounds,
) -> Result<Vec<Instruction>, MpyError> {
    let mut cur = Cursor::window(data, code_start, code_end);
    let mut out = Vec::new();
    while !cur.is_empty() {
        let ins = opcodes::decode(&mut cur, code_start)?;
        check_indices(&ins, code_start, bounds)?;
        out.push(ins);
    }
    check_jumps(&out, code_start)?;
    Ok(out)
}

fn check_indices(ins: &Instruction, code_start: usize, b: &Bounds) -> Result<(), MpyError> {
    let (what, index, len) = match ins.operand {
        Operand::Qstr { index } => ("qstr", index, b.n_qstr),
        Operand::Const { index } => ("constant", index, b.n_const),
        Operand::Child { index, .. } => ("child", index, b.n_children),
        _ => return Ok(()),
    };
    if index as usize >= len {
        return Err(MpyError::IndexOutOfRange {
            offset: code_start + ins.offset,
            what,
            index: u64::from(index),
            len,
        });
    }
    Ok(())
}

fn check_jumps(code: &[Instruction], code_start: usize) -> Result<(), MpyError> {
    for ins in code {
        if let Operand::Jump { target, .. } = ins.operand {
            let lands = usize::try_from(target)
                .ok()
                .is_some_and(|t| code.binary_search_by_key(&t, |i| i.offset).is_ok());
            if !lands {
                return Err(MpyError::BadJumpTarget {
                    offset: code_start + ins.offset,
                    target,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        n_qstr: 3,
        n_const: 1,
        n_children: 1,
    };

    #[test]
    fn decodes_a_small_function() {
        // LOAD_CONST_SMALL_INT 1; STORE_NAME 2; LOAD_CONST_NONE; RETURN_VALUE
        let data = [0x81, 0x16, 0x02, 0x51, 0x63];
        let code = decode(&data, 0, data.len(), &BOUNDS).unwrap();
        assert_eq!(code.len(), 4);
        assert_eq!(code[1].offset, 1);
        assert_eq!(code[1].operand, Operand::Qstr { index: 2 });
    }

    #[test]
    fn rejects_out_of_range_and_bad_jumps() {
        let data = [0x16, 0x07];
        assert!(matches!(
            decode(&data, 0, 2, &BOUNDS),
            Err(MpyError::IndexOutOfRange { .. })
        ));
        // JUMP +1 lands inside the next 2-byte instruction.
        let data = [0x42, 0x41, 0x16, 0x00];
        assert!(matches!(
            decode(&data, 0, 4, &BOUNDS),
            Err(MpyError::BadJumpTarget { .. })
        ));
        // JUMP to itself (-2) is fine.
        let data = [0x42, 0x3e];
        assert!(decode(&data, 0, 2, &BOUNDS).is_ok());
    }
}
