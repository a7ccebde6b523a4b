//! A case's bytecode under two compilers: size, instruction count and the opcode
//! families whose counts changed (what `compare` reports when the two sides' compilers differ).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::case::Case;
use crate::mpy::{read, stats};
use crate::tools::compile::Compiler;

/// Base → head figures of one case's bytecode (or of several cases summed).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct BytecodeDelta {
    pub base_bytes: i64,
    pub head_bytes: i64,
    pub base_instructions: i64,
    pub head_instructions: i64,
    /// Opcode family → head count minus base count, only those that changed.
    pub opcode_deltas: BTreeMap<String, i64>,
}

impl BytecodeDelta {
    /// `base → head (±d)` bytes, as every report shows it.
    pub fn bytes(&self) -> String {
        arrow(self.base_bytes, self.head_bytes)
    }

    /// `base → head (±d)` instructions.
    pub fn instructions(&self) -> String {
        arrow(self.base_instructions, self.head_instructions)
    }

    /// The opcode families that changed, `UNARY_OP -2`, in name order.
    pub fn opcode_changes(&self) -> Vec<String> {
        self.opcode_deltas
            .iter()
            .map(|(k, v)| format!("{k} {v:+}"))
            .collect()
    }
}

fn arrow(base: i64, head: i64) -> String {
    format!("{base} → {head} ({:+})", head - base)
}

/// What one compiler makes of a case: bytecode bytes, instructions, opcode families.
struct Figures {
    bytes: i64,
    instructions: i64,
    opcodes: BTreeMap<&'static str, usize>,
}

fn figures(c: &Compiler, case: &Case) -> Result<Figures, String> {
    let bytes = c.compile(case).map_err(|e| e.to_string())??;
    let s = stats(&read(&bytes).map_err(|e| e.to_string())?);
    Ok(Figures {
        bytes: s.bytecode_bytes as i64,
        instructions: s.instruction_count as i64,
        opcodes: s.opcodes,
    })
}

/// The case compiled by both; `Err` says why it could not be compared (e.g. a
/// compiler rejected it).
pub fn delta(base: &Compiler, head: &Compiler, case: &Case) -> Result<BytecodeDelta, String> {
    let (b, h) = (figures(base, case)?, figures(head, case)?);
    let mut opcode_deltas = BTreeMap::new();
    for family in b.opcodes.keys().chain(h.opcodes.keys()) {
        let count = |f: &Figures| *f.opcodes.get(family).unwrap_or(&0) as i64;
        let d = count(&h) - count(&b);
        if d != 0 {
            opcode_deltas.insert(family.to_string(), d);
        }
    }
    Ok(BytecodeDelta {
        base_bytes: b.bytes,
        head_bytes: h.bytes,
        base_instructions: b.instructions,
        head_instructions: h.instructions,
        opcode_deltas,
    })
}
