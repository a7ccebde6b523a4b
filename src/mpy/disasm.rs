//! A stable, showbc-style disassembly listing (`py/showbc.c`) with pointers replaced by
//! table indices and resolved names.

use std::fmt::Write;

use super::model::{Body, Constant, MpyFile, Prelude, RawCode};
use super::opcodes::{Instruction, Operand, family};
use super::pyrepr;

/// showbc prints the raw bytes 16 to a line.
const HEX_LINE: usize = 16;

/// A listing of the whole file: header, qstr and constant tables, then every code
/// block depth-first in file order. Jump operands are absolute targets (offsets from
/// the block's first opcode, as showbc prints them); `MAKE_*` and `LOAD_CONST_OBJ`
/// show `#index=` where showbc shows a pointer.
pub fn disassemble(file: &MpyFile) -> String {
    let mut out = String::new();
    let h = &file.header;
    let _ = writeln!(out, "mpy version {}", h.version_text());
    let _ = write!(out, "arch: {}", h.arch.name());
    if let Some(flags) = h.arch_flags {
        let _ = write!(out, " (flags {flags:#x})");
    }
    let _ = writeln!(out, ", small int bits: {}", h.small_int_bits);
    let _ = writeln!(out, "source file: {}", file.source_file());
    let _ = writeln!(out, "qstr table ({}):", file.qstrs.len());
    for (i, q) in file.qstrs.iter().enumerate() {
        let origin = match q.static_id {
            Some(id) => format!(" (static {id})"),
            None => String::new(),
        };
        let _ = writeln!(out, "  {i}: {}{origin}", pyrepr::mp_str(&q.text));
    }
    let _ = writeln!(out, "constant table ({}):", file.constants.len());
    for (i, c) in file.constants.iter().enumerate() {
        let _ = writeln!(out, "  {i}: {} ({})", mp_repr(c), c.kind_name());
    }
    for (path, code) in file.code_blocks() {
        out.push('\n');
        block(&mut out, file, &path, code);
    }
    out
}

fn block(out: &mut String, file: &MpyFile, path: &str, code: &RawCode) {
    let name = file.simple_name(code);
    let src = file.source_file();
    let len = code.fun_data_len;
    let arch = file.header.arch.name();
    match &code.body {
        Body::Bytecode(bc) => {
            let _ = writeln!(
                out,
                "File {src}, code block '{name}' ({path}, bytecode, {len} bytes)"
            );
            let p = &bc.prelude;
            let _ = writeln!(
                out,
                "Raw bytecode (code_info_size={}, bytecode_size={}):",
                p.end,
                len - p.end
            );
            for chunk in code.fun_data.chunks(HEX_LINE) {
                for &b in chunk {
                    out.push(' ');
                    push_hex(out, b);
                }
                out.push('\n');
            }
            prelude(out, file, p);
            for ins in &bc.instructions {
                let _ = write!(out, "{:02} ", ins.offset);
                instruction(out, file, code, ins);
                out.push('\n');
            }
        }
        Body::Native(n) => {
            let _ = writeln!(
                out,
                "File {src}, code block '{name}' ({path}, native {arch}, {len} bytes: \
                 {} machine code, {} prelude)",
                n.prelude_offset,
                len - n.prelude_offset
            );
            prelude(out, file, &n.prelude);
        }
        Body::Viper(v) => {
            let _ = writeln!(
                out,
                "File {src}, code block '{name}' ({path}, viper {arch}, {len} bytes)"
            );
            let _ = writeln!(out, "(SCOPE_FLAGS {:#04x})", v.scope_flags);
            if let Some(n) = v.rodata_size {
                let _ = writeln!(out, "(RODATA {n})");
            }
            if let Some(n) = v.bss_size {
                let _ = writeln!(out, "(BSS {n})");
            }
            if v.relocations > 0 {
                let _ = writeln!(out, "(RELOCATIONS {})", v.relocations);
            }
        }
        Body::Asm(a) => {
            let _ = writeln!(
                out,
                "File {src}, code block '{name}' ({path}, asm {arch}, {len} bytes)"
            );
            let _ = writeln!(out, "(SCOPE_FLAGS {:#04x})", a.scope_flags);
            let _ = writeln!(out, "(N_POS_ARGS {})", a.n_pos_args);
            let _ = writeln!(out, "(RETURN {})", a.return_type());
        }
    }
    if !code.children.is_empty() {
        let names: Vec<String> = code
            .children
            .iter()
            .enumerate()
            .map(|(i, c)| format!("#{i}={}", file.simple_name(c)))
            .collect();
        let _ = writeln!(out, "children: {}", names.join(" "));
    }
}

/// showbc's prelude lines: arg names, state sizes, cells, and the line-number table.
fn prelude(out: &mut String, file: &MpyFile, p: &Prelude) {
    let names: String = p
        .arg_names
        .iter()
        .map(|&i| format!(" {}", file.qstr(i)))
        .collect();
    let _ = writeln!(out, "arg names:{names}");
    let _ = writeln!(out, "(N_STATE {})", p.n_state);
    let _ = writeln!(out, "(N_EXC_STACK {})", p.n_exc_stack);
    if p.scope_flags != 0 {
        let _ = writeln!(
            out,
            "(SCOPE_FLAGS {:#04x}{})",
            p.scope_flags,
            flag_names(p.scope_flags)
        );
    }
    if p.n_kwonly_args != 0 || p.n_def_pos_args != 0 {
        let _ = writeln!(
            out,
            "(N_KWONLY_ARGS {}) (N_DEF_POS_ARGS {})",
            p.n_kwonly_args, p.n_def_pos_args
        );
    }
    for c in &p.cells {
        let _ = writeln!(out, "(INIT_CELL {c})");
    }
    // showbc always starts the table with the initial state.
    let _ = writeln!(out, "  bc=0 line=1");
    for e in &p.line_info {
        let _ = writeln!(out, "  bc={} line={}", e.bc, e.line);
    }
}

fn flag_names(flags: u32) -> String {
    let names = [
        (0x01, "generator"),
        (0x02, "varkeywords"),
        (0x04, "varargs"),
        (0x08, "defkwargs"),
    ];
    names
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| format!(" {n}"))
        .collect()
}

/// One instruction after its offset: mnemonic and resolved operand, as showbc spells them.
fn instruction(out: &mut String, file: &MpyFile, code: &RawCode, ins: &Instruction) {
    match family(ins.opcode) {
        // MULTI opcodes carry their value in the mnemonic.
        Some(name) if ins.opcode < 0x70 => out.push_str(name),
        _ => out.push_str(&ins.mnemonic()),
    }
    let _ = match &ins.operand {
        Operand::None => Ok(()),
        Operand::Qstr { index } => {
            let text = file.qstr(*index);
            // showbc quotes only these three qstr operands.
            match ins.opcode {
                0x10 | 0x1b | 0x1c => write!(out, " {}", pyrepr::mp_str(text)),
                _ => write!(out, " {text}"),
            }
        }
        Operand::Const { index } => {
            let _ = write!(out, " #{index}=");
            match file.constants.get(*index as usize) {
                Some(c) => out.push_str(&mp_repr(c)),
                None => out.push('?'),
            }
            Ok(())
        }
        Operand::Uint { value } => match ins.opcode {
            // CALL_FUNCTION, CALL_FUNCTION_VAR_KW, CALL_METHOD, CALL_METHOD_VAR_KW.
            0x34..=0x37 => write!(out, " n={} nkw={}", value & 0xff, (value >> 8) & 0xff),
            _ => write!(out, " {value}"),
        },
        Operand::SmallInt { value } => write!(out, " {value}"),
        Operand::Child { index, n_closed } => {
            let child = code
                .children
                .get(*index as usize)
                .map_or("?", |c| file.simple_name(c));
            match n_closed {
                Some(n) => write!(out, " #{index}={child} {n}"),
                None => write!(out, " #{index}={child}"),
            }
        }
        Operand::Jump { target, unwind, .. } => match unwind {
            Some(u) => write!(out, " {target} {u}"),
            None => write!(out, " {target}"),
        },
    };
}

fn push_hex(out: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push(char::from(DIGITS[usize::from(b >> 4)]));
    out.push(char::from(DIGITS[usize::from(b & 0xf)]));
}

/// MicroPython's `repr` of a constant (floats and ints as stored, strings escaped).
fn mp_repr(c: &Constant) -> String {
    pyrepr::constant(c, pyrepr::Flavour::MicroPython)
}

#[cfg(test)]
mod tests {
    use super::super::reader::read;
    use super::super::testdata::TINY;
    use super::*;

    #[test]
    fn tiny_listing() {
        let text = disassemble(&read(&TINY).unwrap());
        let tail: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("File "))
            .collect();
        let want = [
            "File tiny.py, code block '<module>' (<module>, bytecode, 8 bytes)",
            "Raw bytecode (code_info_size=3, bytecode_size=5):",
            " 00 02 01 81 16 02 51 63",
            "arg names:",
            "(N_STATE 1)",
            "(N_EXC_STACK 0)",
            "  bc=0 line=1",
            "00 LOAD_CONST_SMALL_INT 1",
            "01 STORE_NAME x",
            "03 LOAD_CONST_NONE",
            "04 RETURN_VALUE",
        ];
        assert_eq!(tail, want);
        assert!(text.starts_with("mpy version 6, sub-version not recorded (bytecode only)\n"));
    }

    #[test]
    fn micropython_reprs() {
        assert_eq!(mp_repr(&Constant::Str("é".into())), "'\\xe9'");
        assert_eq!(
            mp_repr(&Constant::Float("99.90000000000001".into())),
            "99.90000000000001"
        );
        assert_eq!(mp_repr(&Constant::Tuple(vec![Constant::None])), "(None,)");
    }
}
