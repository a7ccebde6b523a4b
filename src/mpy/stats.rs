//! Size and opcode statistics of a decoded file, as data (Serialize) and as text.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::arch::NativeArch;
use super::model::{Body, CodeKind, MpyFile};

/// Statistics of one `.mpy` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub source_file: String,
    pub file_size: usize,
    /// `None` for bytecode-only files, which do not record it.
    pub sub_version: Option<u8>,
    pub arch: NativeArch,
    pub qstrs: QstrStats,
    /// Top-level constant-table entries by kind (tuple items are not counted).
    pub constants: BTreeMap<&'static str, usize>,
    pub constant_count: usize,
    /// Code blocks by kind.
    pub code_blocks: BTreeMap<&'static str, usize>,
    /// Instructions by opcode family (MULTI opcodes count under their family).
    pub opcodes: BTreeMap<&'static str, usize>,
    pub instruction_count: usize,
    /// Sum of `bytecode_size` over bytecode blocks.
    pub bytecode_bytes: usize,
    pub functions: Vec<FunctionStats>,
}

/// The qstr table by storage form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QstrStats {
    pub total: usize,
    pub static_count: usize,
    pub inline_count: usize,
    /// Bytes of inline qstr text (without length or terminator).
    pub inline_bytes: usize,
}

/// One code block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionStats {
    /// Dotted path of simple names from the module, e.g. `<module>.C.f`.
    pub path: String,
    pub kind: CodeKind,
    /// Size of `fun_data` in bytes.
    pub size: usize,
    /// Prelude bytes (bytecode: before the first opcode; native: after the machine code).
    pub prelude_size: usize,
    /// Bytecode bytes after the prelude, or machine-code bytes for native kinds.
    pub code_size: usize,
    pub instructions: usize,
    pub n_state: Option<u32>,
    pub children: usize,
}

/// Computes the statistics of `file`.
pub fn stats(file: &MpyFile) -> Stats {
    let static_count = file.qstrs.iter().filter(|q| q.static_id.is_some()).count();
    let inline_bytes = file
        .qstrs
        .iter()
        .filter(|q| q.static_id.is_none())
        .map(|q| q.text.len())
        .sum();
    let mut constants = BTreeMap::new();
    for c in &file.constants {
        *constants.entry(c.kind_name()).or_insert(0) += 1;
    }
    let mut code_blocks = BTreeMap::new();
    let mut opcodes = BTreeMap::new();
    let mut functions = Vec::new();
    let (mut instruction_count, mut bytecode_bytes) = (0, 0);
    for (path, code) in file.code_blocks() {
        *code_blocks.entry(code.kind().name()).or_insert(0) += 1;
        let size = code.fun_data_len;
        let (prelude_size, code_size, instructions) = match &code.body {
            Body::Bytecode(bc) => {
                for ins in &bc.instructions {
                    *opcodes.entry(ins.family()).or_insert(0) += 1;
                }
                instruction_count += bc.instructions.len();
                bytecode_bytes += size - bc.prelude.end;
                (bc.prelude.end, size - bc.prelude.end, bc.instructions.len())
            }
            Body::Native(n) => (size - n.prelude_offset, n.prelude_offset, 0),
            Body::Viper(_) | Body::Asm(_) => (0, size, 0),
        };
        functions.push(FunctionStats {
            path,
            kind: code.kind(),
            size,
            prelude_size,
            code_size,
            instructions,
            n_state: code.prelude().map(|p| p.n_state),
            children: code.children.len(),
        });
    }
    Stats {
        source_file: file.source_file().to_string(),
        file_size: file.size,
        sub_version: file.header.sub_version,
        arch: file.header.arch,
        qstrs: QstrStats {
            total: file.qstrs.len(),
            static_count,
            inline_count: file.qstrs.len() - static_count,
            inline_bytes,
        },
        constant_count: file.constants.len(),
        constants,
        code_blocks,
        opcodes,
        instruction_count,
        bytecode_bytes,
        functions,
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sub = self
            .sub_version
            .map_or("not recorded".to_string(), |s| format!("6.{s}"));
        writeln!(f, "source file: {}", self.source_file)?;
        writeln!(
            f,
            "file size: {} bytes, sub-version: {sub}, arch: {}",
            self.file_size,
            self.arch.name()
        )?;
        let q = &self.qstrs;
        writeln!(
            f,
            "qstrs: {} ({} static, {} inline, {} inline bytes)",
            q.total, q.static_count, q.inline_count, q.inline_bytes
        )?;
        writeln!(
            f,
            "constants: {}{}",
            self.constant_count,
            counts(&self.constants)
        )?;
        writeln!(
            f,
            "code blocks: {}{}",
            self.functions.len(),
            counts(&self.code_blocks)
        )?;
        writeln!(
            f,
            "instructions: {}, bytecode bytes: {}",
            self.instruction_count, self.bytecode_bytes
        )?;
        writeln!(f, "functions:")?;
        writeln!(
            f,
            "  {:<9} {:>6} {:>7} {:>6} {:>6} {:>7}  path",
            "kind", "size", "prelude", "code", "instrs", "n_state"
        )?;
        for func in &self.functions {
            let n_state = func.n_state.map_or("-".to_string(), |n| n.to_string());
            writeln!(
                f,
                "  {:<9} {:>6} {:>7} {:>6} {:>6} {:>7}  {}",
                func.kind.name(),
                func.size,
                func.prelude_size,
                func.code_size,
                func.instructions,
                n_state,
                func.path
            )?;
        }
        writeln!(f, "opcodes:")?;
        let mut by_count: Vec<_> = self.opcodes.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (name, n) in by_count {
            writeln!(f, "  {n:>6} {name}")?;
        }
        Ok(())
    }
}

fn counts(map: &BTreeMap<&'static str, usize>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!(" ({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::reader::read;
    use super::super::testdata::TINY;
    use super::*;

    #[test]
    fn tiny_counts() {
        let s = stats(&read(&TINY).unwrap());
        assert_eq!(
            s.qstrs,
            QstrStats {
                total: 3,
                static_count: 1,
                inline_count: 2,
                inline_bytes: 8
            }
        );
        assert_eq!(
            (s.instruction_count, s.bytecode_bytes, s.constant_count),
            (4, 5, 0)
        );
        assert_eq!(s.opcodes.get("LOAD_CONST_SMALL_INT"), Some(&1));
        assert_eq!(s.functions[0].path, "<module>");
        assert_eq!(s.functions[0].prelude_size, 3);
        assert!(
            s.to_string()
                .contains("qstrs: 3 (1 static, 2 inline, 8 inline bytes)")
        );
    }
}
