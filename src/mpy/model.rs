//! The decoded form of an `.mpy` file: plain data, built by the reader, read by the printers.

use serde::Serialize;

use super::arch::NativeArch;
use super::opcodes::Instruction;

/// A whole version-6 `.mpy` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MpyFile {
    pub header: Header,
    /// The file's qstr table; entry 0 is the source file name.
    pub qstrs: Vec<Qstr>,
    /// The file's constant-object table.
    pub constants: Vec<Constant>,
    /// The outer code block (the module); children nest inside it.
    pub root: RawCode,
    /// Total size of the file in bytes; the reader consumed every one of them.
    pub size: usize,
}

impl MpyFile {
    /// The source file name recorded in the file (qstr 0).
    pub fn source_file(&self) -> &str {
        self.qstrs.first().map_or("", |q| q.text.as_str())
    }

    /// The text of qstr-table entry `index` (the reader has checked every index it stored).
    pub fn qstr(&self, index: u32) -> &str {
        self.qstrs
            .get(index as usize)
            .map_or("?", |q| q.text.as_str())
    }

    /// Every code block, depth-first in file order, with its dotted path from the module.
    pub fn code_blocks(&self) -> Vec<(String, &RawCode)> {
        let mut out = Vec::new();
        collect_blocks(self, &self.root, String::new(), &mut out);
        out
    }

    /// The name a code block is known by: its prelude's simple name, or for viper and
    /// inline-asm code (which have no prelude) the source file name, as mpy-tool does.
    pub fn simple_name(&self, code: &RawCode) -> &str {
        match code.prelude() {
            Some(p) => self.qstr(p.simple_name),
            None => self.source_file(),
        }
    }
}

fn collect_blocks<'a>(
    file: &'a MpyFile,
    code: &'a RawCode,
    parent: String,
    out: &mut Vec<(String, &'a RawCode)>,
) {
    let name = file.simple_name(code);
    let path = if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    };
    out.push((path.clone(), code));
    for child in &code.children {
        collect_blocks(file, child, path.clone(), out);
    }
}

/// The 4-byte header and the optional arch-flags word that follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// The header bytes as stored: `4d 06 <feature> <small-int bits>`.
    pub bytes: [u8; 4],
    /// Always 6: other versions are rejected.
    pub version: u8,
    /// Sub-version (0..=3). Written only when the file holds native code; a bytecode-only
    /// file does not record it, so this is `None` then — it is never guessed.
    pub sub_version: Option<u8>,
    /// Native architecture of any machine code in the file.
    pub arch: NativeArch,
    /// Architecture extension flags (v1.27+, feature bit 6), e.g. RV32 zba = bit 0.
    pub arch_flags: Option<u64>,
    /// Bits in a small int that the compiler assumed (31 by default).
    pub small_int_bits: u8,
}

impl Header {
    /// A human description of the version, e.g. "6, sub-version not recorded (bytecode only)".
    pub fn version_text(&self) -> String {
        match self.sub_version {
            None => "6, sub-version not recorded (bytecode only)".to_string(),
            Some(sub) => format!("6.{sub} ({})", sub_version_releases(sub)),
        }
    }
}

/// The mpy-cross releases that write native code with sub-version `sub`.
pub fn sub_version_releases(sub: u8) -> &'static str {
    // From MicroPython's mpyfiles.rst: 6.1 in v1.20, 6.2 in v1.22, 6.3 from v1.23.
    match sub {
        0 => "mpy-cross 1.19",
        1 => "mpy-cross 1.20–1.21",
        2 => "mpy-cross 1.22",
        _ => "mpy-cross 1.23 or later",
    }
}

/// One qstr-table entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Qstr {
    pub text: String,
    /// `Some(id)` for a static qstr (not stored in the file), `None` for an inline one.
    pub static_id: Option<u16>,
}

/// One constant-table entry, kept in the text form the file stores.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Constant {
    /// `&mp_fun_table`, present in files with native code.
    FunTable,
    None,
    False,
    True,
    Ellipsis,
    Str(String),
    Bytes(Vec<u8>),
    /// Decimal text, optionally with a leading `-`.
    Int(String),
    /// MicroPython's float repr, verbatim (e.g. `99.90000000000001`, `inf`).
    Float(String),
    /// MicroPython's complex repr, verbatim (e.g. `2j`).
    Complex(String),
    Tuple(Vec<Constant>),
}

impl Constant {
    /// The constant kind as a lowercase word, for statistics and listings.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Constant::FunTable => "fun_table",
            Constant::None => "none",
            Constant::False | Constant::True => "bool",
            Constant::Ellipsis => "ellipsis",
            Constant::Str(_) => "str",
            Constant::Bytes(_) => "bytes",
            Constant::Int(_) => "int",
            Constant::Float(_) => "float",
            Constant::Complex(_) => "complex",
            Constant::Tuple(_) => "tuple",
        }
    }
}

/// One code block ("raw code"): a function, class body, comprehension or the module.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawCode {
    /// File offset of the block's `kind_len` header.
    pub file_offset: usize,
    /// File offset of the first byte of `fun_data`.
    pub data_offset: usize,
    /// The block's bytes (bytecode, or machine code plus prelude).
    #[serde(skip)]
    pub fun_data: Vec<u8>,
    pub fun_data_len: usize,
    pub body: Body,
    /// Child blocks, in the order `MAKE_FUNCTION`/`MAKE_CLOSURE` operands index them.
    pub children: Vec<RawCode>,
}

impl RawCode {
    pub fn kind(&self) -> CodeKind {
        match self.body {
            Body::Bytecode(_) => CodeKind::Bytecode,
            Body::Native(_) => CodeKind::Native,
            Body::Viper(_) => CodeKind::Viper,
            Body::Asm(_) => CodeKind::Asm,
        }
    }

    /// The prelude of bytecode and native-Python blocks; viper and asm have none.
    pub fn prelude(&self) -> Option<&Prelude> {
        match &self.body {
            Body::Bytecode(b) => Some(&b.prelude),
            Body::Native(n) => Some(&n.prelude),
            Body::Viper(_) | Body::Asm(_) => None,
        }
    }
}

/// The four kinds of code block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Bytecode,
    /// `@micropython.native` or `-X emit=native`.
    Native,
    /// `@micropython.viper`, and dynamic native modules.
    Viper,
    /// Inline assembler (`@micropython.asm_thumb` and friends).
    Asm,
}

impl CodeKind {
    pub fn name(self) -> &'static str {
        match self {
            CodeKind::Bytecode => "bytecode",
            CodeKind::Native => "native",
            CodeKind::Viper => "viper",
            CodeKind::Asm => "asm",
        }
    }
}

/// What a code block contains, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    Bytecode(Bytecode),
    Native(Native),
    Viper(Viper),
    Asm(Asm),
}

/// A bytecode function: prelude then instructions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bytecode {
    pub prelude: Prelude,
    /// Instructions; their offsets count from the first opcode, as showbc does.
    pub instructions: Vec<Instruction>,
}

/// A native-Python function: opaque machine code followed by a bytecode-style prelude.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Native {
    /// Bytes of machine code (the prelude starts here inside `fun_data`).
    pub prelude_offset: usize,
    pub prelude: Prelude,
}

/// A viper function (no prelude); the optional sections come from `mpy_ld.py`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Viper {
    pub scope_flags: u32,
    pub rodata_size: Option<u32>,
    pub bss_size: Option<u32>,
    /// Number of relocation entries (only with scope flag 0x10).
    pub relocations: usize,
}

/// An inline-assembler function (no prelude).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asm {
    pub scope_flags: u32,
    pub n_pos_args: u32,
    /// Return-type code: 0 object, 1 bool, 2 int, 3 uint.
    pub type_sig: u32,
}

impl Asm {
    pub fn return_type(&self) -> &'static str {
        match self.type_sig {
            0 => "object",
            1 => "bool",
            2 => "int",
            3 => "uint",
            _ => "unknown",
        }
    }
}

/// The prelude of a bytecode or native-Python function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prelude {
    pub n_state: u32,
    pub n_exc_stack: u32,
    /// Low four scope flags: 0x01 generator, 0x02 **kwargs, 0x04 *args, 0x08 kw defaults.
    pub scope_flags: u32,
    pub n_pos_args: u32,
    pub n_kwonly_args: u32,
    pub n_def_pos_args: u32,
    /// Size of the source-info section (names + line info).
    pub n_info: u32,
    /// Number of locals turned into cells on entry.
    pub n_cell: u32,
    /// qstr-table index of the function's simple name.
    pub simple_name: u32,
    /// qstr-table indices of the argument names, in local-slot order.
    pub arg_names: Vec<u32>,
    /// Decoded line-number table.
    pub line_info: Vec<LineEntry>,
    /// Local slots converted to cells on entry.
    pub cells: Vec<u8>,
    /// Offset (inside `fun_data`) where the line info starts.
    pub line_info_start: usize,
    /// Offset (inside `fun_data`) just past the prelude: the first opcode for bytecode.
    pub end: usize,
}

/// One entry of the line-number table, as cumulative values (showbc's `bc=… line=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineEntry {
    pub bc: u64,
    pub line: u64,
}
