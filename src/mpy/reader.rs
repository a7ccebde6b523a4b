//! Reads a whole version-6 `.mpy` file: header, tables, then the tree of code blocks.

use super::arch::NativeArch;
use super::bytecode::{self, Bounds};
use super::constants::{read_constant, read_qstr};
use super::cursor::Cursor;
use super::error::MpyError;
use super::model::{Asm, Body, Bytecode, Header, MpyFile, Native, RawCode, Viper};
use super::prelude;

/// How deeply code blocks may nest; Python source nests functions a few levels, and the
/// bound keeps a hostile file from exhausting the stack.
const MAX_CODE_DEPTH: usize = 100;

// Feature-byte bits (py/persistentcode.h).
const FEATURE_RESERVED: u8 = 0x80;
const FEATURE_ARCH_FLAGS: u8 = 0x40;

// Scope flags that only viper code from mpy_ld.py carries (py/runtime0.h).
const VIPER_RELOC: u32 = 0x10;
const VIPER_RODATA: u32 = 0x20;
const VIPER_BSS: u32 = 0x40;

/// Decodes `bytes` as a version-6 `.mpy` file. Every byte must be accounted for.
pub fn read(bytes: &[u8]) -> Result<MpyFile, MpyError> {
    let mut cur = Cursor::new(bytes);
    let header = header(&mut cur)?;
    let n_qstr = cur.vuint("qstr count")?;
    let n_obj = cur.vuint("object count")?;
    if n_qstr == 0 {
        return Err(MpyError::EmptyQstrTable);
    }
    // No preallocation from the counts: each entry takes at least one byte, so a lying
    // count fails on truncation after at most `bytes.len()` iterations.
    let mut qstrs = Vec::new();
    for _ in 0..n_qstr {
        qstrs.push(read_qstr(&mut cur)?);
    }
    let mut constants = Vec::new();
    for _ in 0..n_obj {
        constants.push(read_constant(&mut cur, 0)?);
    }
    let tables = Bounds {
        n_qstr: qstrs.len(),
        n_const: constants.len(),
        n_children: 0,
    };
    let root = raw_code(&mut cur, &tables, 0)?;
    if !cur.is_empty() {
        return Err(MpyError::TrailingBytes {
            offset: cur.pos(),
            count: cur.remaining(),
        });
    }
    Ok(MpyFile {
        header,
        qstrs,
        constants,
        root,
        size: bytes.len(),
    })
}

fn header(cur: &mut Cursor<'_>) -> Result<Header, MpyError> {
    let magic = cur.peek().ok_or(MpyError::Empty)?;
    if magic != b'M' {
        return Err(MpyError::NotMpy { found: magic });
    }
    cur.u8("header")?;
    let version = cur.u8("header")?;
    if version != 6 {
        return Err(MpyError::UnsupportedVersion { version });
    }
    let feature = cur.u8("header")?;
    let small_int_bits = cur.u8("header")?;
    if feature & FEATURE_RESERVED != 0 {
        return Err(MpyError::ReservedFeatureBit { feature });
    }
    let arch = NativeArch::from_number((feature >> 2) & 0x0f);
    // The sub-version is written only when the file has native code.
    let sub_version = (arch != NativeArch::None).then_some(feature & 3);
    let arch_flags = match feature & FEATURE_ARCH_FLAGS {
        0 => None,
        _ => Some(cur.vuint("arch flags")?),
    };
    Ok(Header {
        bytes: [b'M', version, feature, small_int_bits],
        version,
        sub_version,
        arch,
        arch_flags,
        small_int_bits,
    })
}

/// One code block and, recursively, its children (mpy-format.md §3.5).
fn raw_code(cur: &mut Cursor<'_>, tables: &Bounds, depth: usize) -> Result<RawCode, MpyError> {
    let file_offset = cur.pos();
    if depth >= MAX_CODE_DEPTH {
        return Err(MpyError::TooDeep {
            offset: file_offset,
            what: "code blocks",
            limit: MAX_CODE_DEPTH,
        });
    }
    let kind_len = cur.vuint("code block header")?;
    let kind = kind_len & 3;
    let has_children = kind_len & 4 != 0;
    let data_offset = cur.pos();
    let fun_data = cur.bytes(kind_len >> 3, "code block")?;
    let data_end = cur.pos();
    let data = cur.data();

    // Kinds 1..=3 carry their extra fields before the children; bytecode is decoded
    // after them, because its MAKE_* operands are checked against the child count.
    let machine_code = match kind {
        0 => None,
        1 => Some(native(cur, data, data_offset, data_end, tables.n_qstr)?),
        2 => Some(viper(cur, has_children, file_offset)?),
        _ => Some(Body::Asm(Asm {
            scope_flags: cur.vuint_u32("asm scope flags")?,
            n_pos_args: cur.vuint_u32("asm argument count")?,
            type_sig: cur.vuint_u32("asm type signature")?,
        })),
    };

    let mut children = Vec::new();
    if has_children {
        let n = cur.vuint("child count")?;
        for _ in 0..n {
            children.push(raw_code(cur, tables, depth + 1)?);
        }
    }

    let body = match machine_code {
        Some(body) => body,
        None => {
            let mut pc = Cursor::window(data, data_offset, data_end);
            let prelude = prelude::decode(&mut pc, data_offset, tables.n_qstr)?;
            let bounds = Bounds {
                n_children: children.len(),
                ..*tables
            };
            let instructions = bytecode::decode(data, pc.pos(), data_end, &bounds)?;
            Body::Bytecode(Bytecode {
                prelude,
                instructions,
            })
        }
    };
    Ok(RawCode {
        file_offset,
        data_offset,
        fun_data: fun_data.to_vec(),
        fun_data_len: fun_data.len(),
        body,
        children,
    })
}

/// Native Python: machine code, with a prelude at `prelude_offset` running to the end.
fn native(
    cur: &mut Cursor<'_>,
    data: &[u8],
    data_offset: usize,
    data_end: usize,
    n_qstr: usize,
) -> Result<Body, MpyError> {
    let at = cur.pos();
    let prelude_offset = cur.vuint("native prelude offset")?;
    let len = data_end - data_offset;
    let po = usize::try_from(prelude_offset)
        .ok()
        .filter(|&po| po <= len)
        .ok_or(MpyError::BadPreludeOffset {
            offset: at,
            prelude_offset,
            len,
        })?;
    let mut pc = Cursor::window(data, data_offset + po, data_end);
    let prelude = prelude::decode(&mut pc, data_offset, n_qstr)?;
    if !pc.is_empty() {
        return Err(MpyError::BadPrelude {
            offset: data_offset + po,
            problem: format!("{} byte(s) after the native prelude", pc.remaining()),
        });
    }
    Ok(Body::Native(Native {
        prelude_offset: po,
        prelude,
    }))
}

/// Viper: scope flags, then optional rodata/bss sizes, rodata and relocations.
fn viper(cur: &mut Cursor<'_>, has_children: bool, file_offset: usize) -> Result<Body, MpyError> {
    let scope_flags = cur.vuint_u32("viper scope flags")?;
    let rodata_size = match scope_flags & VIPER_RODATA {
        0 => None,
        _ => Some(cur.vuint_u32("viper rodata size")?),
    };
    let bss_size = match scope_flags & VIPER_BSS {
        0 => None,
        _ => Some(cur.vuint_u32("viper bss size")?),
    };
    if let Some(n) = rodata_size {
        cur.bytes(u64::from(n), "viper rodata")?;
    }
    let mut relocations = 0;
    if scope_flags & VIPER_RELOC != 0 {
        // mpy-tool reads relocations before children, the C loader after; no tool writes
        // both, so the combination is refused rather than guessed.
        if has_children {
            return Err(MpyError::RelocationsWithChildren {
                offset: file_offset,
            });
        }
        relocations = relocation_table(cur)?;
    }
    Ok(Body::Viper(Viper {
        scope_flags,
        rodata_size,
        bss_size,
        relocations,
    }))
}

/// Skips a relocation table (ends with byte ff) and returns the number of entries.
fn relocation_table(cur: &mut Cursor<'_>) -> Result<usize, MpyError> {
    let mut count = 0;
    loop {
        let op = cur.u8("viper relocation")?;
        // 0xff ends the table.
        if op == 0xff {
            return Ok(count);
        }
        if op & 1 != 0 {
            cur.vuint("relocation address")?;
        }
        let op = op >> 1;
        // Kinds 0..=5 (text/rodata/bss) with the low bit set carry a word count.
        if op <= 5 && op & 1 != 0 {
            cur.vuint("relocation count")?;
        }
        count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::TINY;
    use super::*;

    #[test]
    fn reads_the_tiny_example() {
        let f = read(&TINY).unwrap();
        assert_eq!(f.source_file(), "tiny.py");
        assert_eq!(f.header.sub_version, None);
        assert_eq!(f.header.arch, NativeArch::None);
        assert_eq!(f.qstrs.len(), 3);
        let Body::Bytecode(bc) = &f.root.body else {
            panic!("not bytecode")
        };
        assert_eq!(bc.instructions.len(), 4);
        assert_eq!(f.simple_name(&f.root), "<module>");
    }

    #[test]
    fn header_errors() {
        assert_eq!(read(&[]), Err(MpyError::Empty));
        assert_eq!(read(b"C\x06"), Err(MpyError::NotMpy { found: b'C' }));
        assert_eq!(
            read(&[0x4d, 0x05, 0x02, 0x1f]),
            Err(MpyError::UnsupportedVersion { version: 5 })
        );
        let msg = read(&[0x4d, 0x05]).unwrap_err().to_string();
        assert_eq!(
            msg,
            "mpy version 5 (mpy-cross 1.12–1.18) is not supported: only version 6"
        );
        assert!(matches!(read(&[0x4d]), Err(MpyError::Truncated { .. })));
        assert!(matches!(
            read(&[0x4d, 0x06, 0x80, 0x1f]),
            Err(MpyError::ReservedFeatureBit { .. })
        ));
    }

    #[test]
    fn trailing_and_truncated() {
        let mut longer = TINY.to_vec();
        longer.push(0);
        assert_eq!(
            read(&longer),
            Err(MpyError::TrailingBytes {
                offset: 28,
                count: 1
            })
        );
        for n in 0..TINY.len() {
            assert!(read(&TINY[..n]).is_err(), "prefix of {n} bytes decoded");
        }
    }

    #[test]
    fn native_header_records_sub_version() {
        // x64 native (arch 2), sub-version 3: feature byte 0x0b.
        let mut f = TINY.to_vec();
        f[2] = 0x0b;
        let f = read(&f).unwrap();
        assert_eq!(f.header.sub_version, Some(3));
        assert_eq!(f.header.arch, NativeArch::X64);
    }
}
