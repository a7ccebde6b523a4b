//! mpcheck's own disassembly listing (the bytecode goldens), made to diff well: no line
//! depends on where other code sits, so a one-instruction change is a few changed lines.
//!
//! Compared with `py/showbc.c`: no byte offsets and no hex dump (every later line would
//! change when one byte is inserted); jumps go to labels `L0`, `L1`… numbered by position
//! among the function's jump targets; table entries are shown by value, not by index
//! (a new qstr or constant shifts the indices of all later ones); and the line-number
//! table becomes `# …` markers where the source line changes, showing that line's text
//! when the source is given (so inserting a source line rewrites no later marker).
//! The sizes that summarise a function (bytes, `N_STATE`) stay in its header lines.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::model::{Body, Bytecode, Constant, MpyFile, Prelude, RawCode};
use super::opcodes::{Instruction, Operand, family};
use super::pyrepr;

/// A listing of the whole file: header, qstr and constant tables, then every code block
/// depth-first in file order. Line markers show line numbers (`# line 4`).
pub fn disassemble(file: &MpyFile) -> String {
    render(file, &Source { lines: Vec::new() })
}

/// [`disassemble`], with each line marker showing the text of that line of `source`
/// (the file the `.mpy` was compiled from), e.g. `# print(a + b)`.
pub fn disassemble_with_source(file: &MpyFile, source: &[u8]) -> String {
    let text = String::from_utf8_lossy(source);
    render(
        file,
        &Source {
            lines: text.lines().map(str::trim).map(String::from).collect(),
        },
    )
}

/// The source lines (trimmed) that line markers quote; empty when not known.
struct Source {
    lines: Vec<String>,
}

impl Source {
    /// The marker line for source line `line` (1-based, as the line-number table counts).
    fn marker(&self, out: &mut String, line: u64) {
        let text = usize::try_from(line)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.lines.get(i))
            .filter(|t| !t.is_empty());
        let _ = match text {
            Some(t) => writeln!(out, "  # {t}"),
            // No source, or a line the source does not have: the number is all we know.
            None => writeln!(out, "  # line {line}"),
        };
    }
}

fn render(file: &MpyFile, source: &Source) -> String {
    let mut out = String::new();
    let h = &file.header;
    let _ = writeln!(out, "mpy version {}", h.version_text());
    let _ = write!(out, "arch: {}", h.arch.name());
    if let Some(flags) = h.arch_flags {
        let _ = write!(out, " (flags {flags:#x})");
    }
    let _ = writeln!(out, ", small int bits: {}", h.small_int_bits);
    let _ = writeln!(out, "source file: {}", file.source_file());
    // In table order, but without the index: a new entry then inserts one line.
    let _ = writeln!(out, "qstr table ({}):", file.qstrs.len());
    for q in &file.qstrs {
        let origin = match q.static_id {
            Some(id) => format!(" (static {id})"),
            None => String::new(),
        };
        let _ = writeln!(out, "  {}{origin}", pyrepr::mp_str(&q.text));
    }
    let _ = writeln!(out, "constant table ({}):", file.constants.len());
    for c in &file.constants {
        let _ = writeln!(out, "  {} ({})", mp_repr(c), c.kind_name());
    }
    for (path, code) in file.code_blocks() {
        out.push('\n');
        block(&mut out, file, source, &path, code);
    }
    out
}

fn block(out: &mut String, file: &MpyFile, source: &Source, path: &str, code: &RawCode) {
    let name = file.simple_name(code);
    let src = file.source_file();
    let len = code.fun_data_len;
    let arch = file.header.arch.name();
    let children = child_names(file, code);
    match &code.body {
        Body::Bytecode(bc) => {
            let p = &bc.prelude;
            let _ = writeln!(
                out,
                "File {src}, code block '{name}' ({path}, bytecode, {len} bytes: \
                 code info {}, bytecode {})",
                p.end,
                len - p.end
            );
            prelude(out, file, p);
            listing(out, file, source, bc, &children);
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
            // No instructions to mark: the table as stored (offsets into machine code).
            for e in &n.prelude.line_info {
                let _ = writeln!(out, "  bc={} line={}", e.bc, e.line);
            }
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
    if !children.is_empty() {
        let _ = writeln!(out, "children: {}", children.join(" "));
    }
}

/// How `MAKE_*` operands and the `children:` line name each child: its simple name, with
/// `#k` (k-th of that name) only where siblings share it (lambdas, comprehensions), so
/// adding a differently named function renames nothing.
fn child_names(file: &MpyFile, code: &RawCode) -> Vec<String> {
    let mut total: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &code.children {
        *total.entry(file.simple_name(c)).or_default() += 1;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    code.children
        .iter()
        .map(|c| {
            let name = file.simple_name(c);
            let k = seen.entry(name).or_default();
            *k += 1;
            if total[name] > 1 {
                format!("{name}#{}", *k - 1)
            } else {
                name.to_string()
            }
        })
        .collect()
}

/// The prelude lines that do not depend on code positions: arg names, state sizes, cells.
/// The line-number table is shown by the listing as markers.
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

/// The instructions, one a line, with `Lk:` before each jump target and a `# …` line
/// marker where the source line changes.
fn listing(out: &mut String, file: &MpyFile, source: &Source, bc: &Bytecode, children: &[String]) {
    let labels = labels(bc);
    let mut entries = bc.prelude.line_info.iter().peekable();
    // showbc's initial state: line 1 until the table says otherwise.
    let mut line = 1;
    let mut shown = None;
    for ins in &bc.instructions {
        // An entry inside an instruction (never written by mpy-cross) takes effect at the
        // next instruction; several at one offset leave the last one's line.
        while let Some(e) = entries.next_if(|e| e.bc <= ins.offset as u64) {
            line = e.line;
        }
        // The label first: it marks a position; the marker heads the statement after it.
        if let Some(k) = labels.get(&(ins.offset as i64)) {
            let _ = writeln!(out, "L{k}:");
        }
        if shown != Some(line) {
            source.marker(out, line);
            shown = Some(line);
        }
        out.push_str("    ");
        instruction(out, file, children, &labels, ins);
        out.push('\n');
    }
    // Entries past the last instruction are shown too: no part of the table is dropped
    // that would change which line an instruction reports.
    if let Some(e) = entries.last()
        && shown != Some(e.line)
    {
        source.marker(out, e.line);
    }
}

/// Jump target offset → label number, numbered in code order: a change that adds no
/// jump target renumbers no label.
fn labels(bc: &Bytecode) -> BTreeMap<i64, usize> {
    let mut targets: Vec<i64> = bc
        .instructions
        .iter()
        .filter_map(|ins| match ins.operand {
            Operand::Jump { target, .. } => Some(target),
            _ => None,
        })
        .collect();
    targets.sort_unstable();
    targets.dedup();
    targets
        .into_iter()
        .enumerate()
        .map(|(k, t)| (t, k))
        .collect()
}

/// One instruction: mnemonic and resolved operand, as showbc spells them, except that
/// jumps name a label and `MAKE_*`/`LOAD_CONST_OBJ` name the child or constant itself.
fn instruction(
    out: &mut String,
    file: &MpyFile,
    children: &[String],
    labels: &BTreeMap<i64, usize>,
    ins: &Instruction,
) {
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
        Operand::Const { index } => match file.constants.get(*index as usize) {
            Some(c) => write!(out, " {}", mp_repr(c)),
            None => write!(out, " #{index}?"),
        },
        Operand::Uint { value } => match ins.opcode {
            // CALL_FUNCTION, CALL_FUNCTION_VAR_KW, CALL_METHOD, CALL_METHOD_VAR_KW.
            0x34..=0x37 => write!(out, " n={} nkw={}", value & 0xff, (value >> 8) & 0xff),
            _ => write!(out, " {value}"),
        },
        Operand::SmallInt { value } => write!(out, " {value}"),
        Operand::Child { index, n_closed } => {
            let child = children.get(*index as usize).map_or("?", String::as_str);
            match n_closed {
                Some(n) => write!(out, " {child} {n}"),
                None => write!(out, " {child}"),
            }
        }
        Operand::Jump { target, unwind, .. } => {
            // The reader checked that every target lands on an instruction.
            match labels.get(target) {
                Some(k) => write!(out, " L{k}"),
                None => write!(out, " <bad target {target}>"),
            }
            .and_then(|()| match unwind {
                Some(u) => write!(out, " {u}"),
                None => Ok(()),
            })
        }
    };
}

/// MicroPython's `repr` of a constant (floats and ints as stored, strings escaped).
fn mp_repr(c: &Constant) -> String {
    pyrepr::constant(c, pyrepr::Flavour::MicroPython)
}

#[cfg(test)]
mod tests {
    use super::super::model::LineEntry;
    use super::super::reader::read;
    use super::super::testdata::TINY;
    use super::*;

    /// The instruction listing of `file`'s module block (after its header lines).
    fn module_listing(text: &str) -> Vec<&str> {
        text.lines()
            .skip_while(|l| !l.starts_with("File "))
            .skip(4)
            .collect()
    }

    fn bytecode(file: &mut MpyFile) -> &mut Bytecode {
        match &mut file.root.body {
            Body::Bytecode(bc) => bc,
            _ => panic!("tiny.mpy is bytecode"),
        }
    }

    #[test]
    fn tiny_listing() {
        let text = disassemble(&read(&TINY).unwrap());
        let tail: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("File "))
            .collect();
        let want = [
            "File tiny.py, code block '<module>' (<module>, bytecode, 8 bytes: \
             code info 3, bytecode 5)",
            "arg names:",
            "(N_STATE 1)",
            "(N_EXC_STACK 0)",
            "  # line 1",
            "    LOAD_CONST_SMALL_INT 1",
            "    STORE_NAME x",
            "    LOAD_CONST_NONE",
            "    RETURN_VALUE",
        ];
        assert_eq!(tail, want);
        assert!(text.starts_with("mpy version 6, sub-version not recorded (bytecode only)\n"));
        // Tables by value, without indices.
        assert!(text.contains("qstr table (3):\n  'tiny.py'\n  '<module>' (static 7)\n  'x'\n"));
    }

    #[test]
    fn line_markers_follow_the_table() {
        let mut file = read(&TINY).unwrap();
        // Instructions start at 0, 1, 3, 4. Two entries at 0 (the last counts), one
        // inside STORE_NAME (effective at 3), one repeating a line (no marker), one past
        // the end (shown last).
        bytecode(&mut file).prelude.line_info = [(0, 5), (0, 2), (2, 3), (4, 3), (5, 9)]
            .map(|(bc, line)| LineEntry { bc, line })
            .to_vec();
        let source = b"# header\nx = 1\n  y = 2\n";
        let text = disassemble_with_source(&file, source);
        assert_eq!(
            module_listing(&text),
            [
                "  # x = 1",
                "    LOAD_CONST_SMALL_INT 1",
                "    STORE_NAME x",
                "  # y = 2",
                "    LOAD_CONST_NONE",
                "    RETURN_VALUE",
                // Line 9 is not in the source: its number is shown.
                "  # line 9",
            ]
        );
        // Without the source, every marker is a line number.
        let text = disassemble(&file);
        let markers: Vec<&str> = module_listing(&text)
            .into_iter()
            .filter(|l| l.starts_with("  #"))
            .collect();
        assert_eq!(markers, ["  # line 2", "  # line 3", "  # line 9"]);
    }

    #[test]
    fn jumps_go_to_labels_numbered_in_code_order() {
        let mut file = read(&TINY).unwrap();
        let jump = |offset, target, unwind: Option<u8>| Instruction {
            offset,
            size: 2,
            opcode: if unwind.is_some() { 0x40 } else { 0x42 },
            operand: Operand::Jump {
                relative: 0,
                target,
                unwind,
            },
        };
        // Jumps to 4, 0 and 4 again: offset 0 is L0 although it is named second.
        let code = &mut bytecode(&mut file).instructions;
        code[0] = jump(0, 4, None);
        code[1] = jump(1, 0, Some(2));
        code[2] = jump(3, 4, None);
        let text = disassemble(&file);
        assert_eq!(
            module_listing(&text),
            [
                "L0:",
                "  # line 1",
                "    JUMP L1",
                "    UNWIND_JUMP L0 2",
                "    JUMP L1",
                "L1:",
                "    RETURN_VALUE",
            ]
        );
    }

    #[test]
    fn children_are_named_with_an_ordinal_only_when_siblings_share_a_name() {
        let mut file = read(&TINY).unwrap();
        let mut child = file.root.clone();
        let mut named_x = child.clone();
        match &mut named_x.body {
            Body::Bytecode(bc) => bc.prelude.simple_name = 2,
            _ => unreachable!(),
        }
        child.children.clear();
        file.root.children = vec![child.clone(), named_x, child];
        assert_eq!(
            child_names(&file, &file.root),
            ["<module>#0", "x", "<module>#1"]
        );
        assert!(disassemble(&file).contains("children: <module>#0 x <module>#1\n"));
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
