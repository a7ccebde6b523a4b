//! Renders a file exactly as MicroPython's `tools/mpy-tool.py -d` (HEAD / v1.27+) prints it.

use std::fmt::Write;

use super::model::{Body, Constant, MpyFile, Prelude, RawCode};
use super::opcodes::{Instruction, Operand};
use super::pyrepr;

/// mpy-tool prints at most this many bytes of native code on its `raw data:` line.
const RAW_DATA_PREVIEW: usize = 32;
/// mpy-tool prints native machine code in lines of this many bytes.
const MACHINE_CODE_LINE: usize = 16;

/// The text of `mpy-tool.py -d <mpy_source_file>`, byte for byte, including the final
/// newline. `mpy_source_file` is the path as given to mpy-tool (its first line).
pub fn mpy_tool_dump(file: &MpyFile, mpy_source_file: &str) -> String {
    let mut out = String::new();
    let h = &file.header;
    let _ = writeln!(out, "mpy_source_file: {mpy_source_file}");
    let _ = writeln!(out, "source_file: {}", file.source_file());
    let _ = writeln!(out, "header: {}", hex(&h.bytes));
    let _ = writeln!(out, "arch: {}", h.arch.mpy_tool_name());
    if let Some(flags) = h.arch_flags {
        let _ = writeln!(out, "arch_flags: {flags:#x}");
    }
    let _ = writeln!(out, "qstr_table[{}]:", file.qstrs.len());
    for q in &file.qstrs {
        let _ = writeln!(out, "    {}", q.text);
    }
    let objs: Vec<String> = file.constants.iter().map(repr).collect();
    let _ = writeln!(out, "obj_table: [{}]", objs.join(", "));
    raw_code(&mut out, file, &file.root);
    out
}

fn raw_code(out: &mut String, file: &MpyFile, code: &RawCode) {
    let _ = writeln!(out, "simple_name: {}", file.simple_name(code));
    let data = &code.fun_data;
    match &code.body {
        Body::Bytecode(bc) => {
            let _ = writeln!(out, "  raw bytecode: {} {}", data.len(), hex(data));
            prelude_lines(out, file, &bc.prelude);
            let info = slice(data, bc.prelude.line_info_start, bc.prelude.end);
            let _ = writeln!(out, "  line info: {}", hex(info));
            for ins in &bc.instructions {
                let start = bc.prelude.end + ins.offset;
                let bytes = slice(data, start, start + ins.size);
                let _ = writeln!(
                    out,
                    "  {:<11} {} {}",
                    hex(bytes),
                    ins.mnemonic(),
                    operand(file, ins)
                );
            }
        }
        Body::Native(native) => {
            raw_data_line(out, data);
            prelude_lines(out, file, &native.prelude);
            let info = slice(data, native.prelude.line_info_start, native.prelude.end);
            let _ = writeln!(out, "  line info: {}", pyrepr::py_bytes(info));
            for chunk in slice(data, 0, native.prelude_offset).chunks(MACHINE_CODE_LINE) {
                let _ = writeln!(out, "  {}", hex(chunk));
            }
        }
        Body::Viper(_) | Body::Asm(_) => {
            // mpy-tool stops here for viper and asm: no children line, no children.
            raw_data_line(out, data);
            return;
        }
    }
    let names: Vec<&str> = code.children.iter().map(|c| file.simple_name(c)).collect();
    let _ = writeln!(out, "  children: [{}]", names.join(", "));
    for child in &code.children {
        raw_code(out, file, child);
    }
}

fn raw_data_line(out: &mut String, data: &[u8]) {
    let preview = hex(&data[..data.len().min(RAW_DATA_PREVIEW)]);
    let more = if data.len() > RAW_DATA_PREVIEW {
        "..."
    } else {
        ""
    };
    let _ = writeln!(out, "  raw data: {} {preview} {more}", data.len());
}

fn prelude_lines(out: &mut String, file: &MpyFile, p: &Prelude) {
    let _ = writeln!(
        out,
        "  prelude: ({}, {}, {}, {}, {}, {})",
        p.n_state, p.n_exc_stack, p.scope_flags, p.n_pos_args, p.n_kwonly_args, p.n_def_pos_args
    );
    let args: Vec<String> = p
        .arg_names
        .iter()
        .map(|&i| pyrepr::py_str(file.qstr(i)))
        .collect();
    let _ = writeln!(out, "  args: [{}]", args.join(", "));
}

/// The operand as mpy-tool prints it: qstr text, object repr, or the raw number.
fn operand(file: &MpyFile, ins: &Instruction) -> String {
    match &ins.operand {
        Operand::None => String::new(),
        Operand::Qstr { index } => file.qstr(*index).to_string(),
        Operand::Const { index } => file
            .constants
            .get(*index as usize)
            .map(repr)
            .unwrap_or_default(),
        Operand::Uint { value } => value.to_string(),
        Operand::SmallInt { value } => value.to_string(),
        Operand::Child { index, .. } => index.to_string(),
        Operand::Jump { relative, .. } => relative.to_string(),
    }
}

/// Python's `repr` of the object mpy-tool builds for a constant.
fn repr(c: &Constant) -> String {
    pyrepr::constant(c, pyrepr::Flavour::CPython)
}

/// `binascii.hexlify(b, ":")`: lowercase hex pairs joined by colons.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// `data[start..end]`, empty if out of range (the reader guarantees it never is).
fn slice(data: &[u8], start: usize, end: usize) -> &[u8] {
    data.get(start..end).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::super::reader::read;
    use super::super::testdata::TINY;
    use super::*;

    #[test]
    fn tiny_example_by_hand() {
        // Derived by hand from the bytes in mpy-format.md §4.6 and the rules of §10.1;
        // note the trailing spaces after operand-less mnemonics and the empty line info.
        let want = "mpy_source_file: tiny.mpy\nsource_file: tiny.py\nheader: 4d:06:00:1f\n\
                    arch: NONE\nqstr_table[3]:\n    tiny.py\n    <module>\n    x\nobj_table: []\n\
                    simple_name: <module>\n  raw bytecode: 8 00:02:01:81:16:02:51:63\n\
                    \x20 prelude: (1, 0, 0, 0, 0, 0)\n  args: []\n  line info: \n\
                    \x20 81          LOAD_CONST_SMALL_INT 1 \n  16:02       STORE_NAME x\n\
                    \x20 51          LOAD_CONST_NONE \n  63          RETURN_VALUE \n  children: []\n";
        assert_eq!(mpy_tool_dump(&read(&TINY).unwrap(), "tiny.mpy"), want);
    }

    #[test]
    fn constant_reprs_follow_python() {
        let t = |items| Constant::Tuple(items);
        assert_eq!(repr(&t(vec![Constant::Int("-01".into())])), "(-1,)");
        assert_eq!(repr(&t(vec![])), "()");
        assert_eq!(
            repr(&t(vec![
                Constant::Ellipsis,
                Constant::Float("1e+100".into())
            ])),
            "(Ellipsis, 1e+100)"
        );
        assert_eq!(repr(&Constant::Complex("2j".into())), "2j");
        assert_eq!(repr(&Constant::FunTable), "mp_fun_table");
        assert_eq!(hex(&[0x4d, 0x06]), "4d:06");
    }
}
