//! Decodes a function prelude: signature, sizes, names, line-number table and cells.

use super::cursor::Cursor;
use super::error::MpyError;
use super::model::{LineEntry, Prelude};

/// Extension bytes beyond which a signature value could not fit in 32 bits anyway.
const MAX_SIG_EXTENSION_BYTES: u32 = 16;
/// Bytes of the size field beyond which `n_info` (6 bits per byte) overflows 32 bits.
const MAX_SIZE_BYTES: u32 = 6;

/// Decodes the prelude that starts at the cursor. `data_offset` is the file offset of
/// the block's `fun_data`, so that the returned offsets are relative to `fun_data`.
/// `n_qstr` bounds the name indices.
pub(crate) fn decode(
    cur: &mut Cursor<'_>,
    data_offset: usize,
    n_qstr: usize,
) -> Result<Prelude, MpyError> {
    let start = cur.pos();
    let bad = |problem: String| MpyError::BadPrelude {
        offset: start,
        problem,
    };
    let sig = signature(cur).map_err(|e| relabel(e, &bad))?;
    let (n_info, n_cell) = sizes(cur).map_err(|e| relabel(e, &bad))?;

    let info_start = cur.pos();
    if u64::from(n_info) + u64::from(n_cell) > cur.remaining() as u64 {
        return Err(bad(format!(
            "n_info {n_info} + n_cell {n_cell} run past the end of the code block"
        )));
    }
    let info_end = info_start + n_info as usize;
    let mut info = Cursor::window(cur.data(), info_start, info_end);

    let name = |info: &mut Cursor<'_>| -> Result<u32, MpyError> {
        let at = info.pos();
        let index = info.vuint_u32("prelude name").map_err(|e| match e {
            MpyError::Truncated { .. } => bad(format!("names run past n_info ({n_info} bytes)")),
            other => other,
        })?;
        if index as usize >= n_qstr {
            return Err(MpyError::IndexOutOfRange {
                offset: at,
                what: "qstr",
                index: u64::from(index),
                len: n_qstr,
            });
        }
        Ok(index)
    };
    let simple_name = name(&mut info)?;
    let n_args = u64::from(sig.n_pos_args) + u64::from(sig.n_kwonly_args);
    let mut arg_names = Vec::new();
    for _ in 0..n_args {
        arg_names.push(name(&mut info)?);
    }
    let line_info_start = info.pos();
    let line_info = lines(&mut info).map_err(|_| bad("line-number entry cut off".to_string()))?;

    let cells =
        cur.bytes(u64::from(n_info) + u64::from(n_cell), "prelude")?[n_info as usize..].to_vec();
    Ok(Prelude {
        n_state: sig.n_state,
        n_exc_stack: sig.n_exc_stack,
        scope_flags: sig.scope_flags,
        n_pos_args: sig.n_pos_args,
        n_kwonly_args: sig.n_kwonly_args,
        n_def_pos_args: sig.n_def_pos_args,
        n_info,
        n_cell,
        simple_name,
        arg_names,
        line_info,
        cells,
        line_info_start: line_info_start - data_offset,
        end: cur.pos() - data_offset,
    })
}

fn relabel(e: MpyError, bad: &impl Fn(String) -> MpyError) -> MpyError {
    match e {
        MpyError::Truncated { what, .. } => {
            bad(format!("{what} runs past the end of the code block"))
        }
        other => other,
    }
}

struct Signature {
    n_state: u32,
    n_exc_stack: u32,
    scope_flags: u32,
    n_pos_args: u32,
    n_kwonly_args: u32,
    n_def_pos_args: u32,
}

/// The bit-interleaved signature: first byte `xSSSSEAA`, then `xFSSKAED` per byte.
fn signature(cur: &mut Cursor<'_>) -> Result<Signature, MpyError> {
    let at = cur.pos();
    let mut z = cur.u8("prelude signature")?;
    let (mut s, mut e, mut a) = (
        u64::from((z >> 3) & 0xf),
        u64::from((z >> 2) & 1),
        u64::from(z & 3),
    );
    let (mut f, mut k, mut d) = (0u64, 0u64, 0u64);
    let mut n = 0u32;
    while z & 0x80 != 0 {
        if n >= MAX_SIG_EXTENSION_BYTES {
            return Err(MpyError::TooLarge {
                offset: at,
                what: "prelude signature",
                value: u64::from(n),
            });
        }
        z = cur.u8("prelude signature")?;
        s |= u64::from((z >> 4) & 3) << (4 + 2 * n);
        e |= u64::from((z >> 1) & 1) << (1 + n);
        a |= u64::from((z >> 2) & 1) << (2 + n);
        f |= u64::from((z >> 6) & 1) << n;
        k |= u64::from((z >> 3) & 1) << n;
        d |= u64::from(z & 1) << n;
        n += 1;
    }
    let fit = |v: u64, what| {
        u32::try_from(v).map_err(|_| MpyError::TooLarge {
            offset: at,
            what,
            value: v,
        })
    };
    Ok(Signature {
        n_state: fit(s + 1, "n_state")?,
        n_exc_stack: fit(e, "n_exc_stack")?,
        scope_flags: fit(f, "scope_flags")?,
        n_pos_args: fit(a, "n_pos_args")?,
        n_kwonly_args: fit(k, "n_kwonly_args")?,
        n_def_pos_args: fit(d, "n_def_pos_args")?,
    })
}

/// The bit-interleaved size field: `xIIIIIIC` per byte → (n_info, n_cell).
fn sizes(cur: &mut Cursor<'_>) -> Result<(u32, u32), MpyError> {
    let at = cur.pos();
    let (mut info, mut cell) = (0u64, 0u64);
    let mut n = 0u32;
    loop {
        if n >= MAX_SIZE_BYTES {
            return Err(MpyError::TooLarge {
                offset: at,
                what: "prelude size",
                value: u64::from(n),
            });
        }
        let z = cur.u8("prelude size")?;
        info |= u64::from((z >> 1) & 0x3f) << (6 * n);
        cell |= u64::from(z & 1) << n;
        n += 1;
        if z & 0x80 == 0 {
            break;
        }
    }
    let fit = |v: u64, what| {
        u32::try_from(v).map_err(|_| MpyError::TooLarge {
            offset: at,
            what,
            value: v,
        })
    };
    Ok((fit(info, "n_info")?, fit(cell, "n_cell")?))
}

/// The line-number table: `0LLBBBBB` or `1LLLBBBB LLLLLLLL` entries, from bc=0, line=1.
fn lines(cur: &mut Cursor<'_>) -> Result<Vec<LineEntry>, MpyError> {
    let (mut bc, mut line) = (0u64, 1u64);
    let mut out = Vec::new();
    while !cur.is_empty() {
        let b = cur.u8("line info")?;
        if b & 0x80 == 0 {
            bc += u64::from(b & 0x1f);
            line += u64::from((b >> 5) & 3);
        } else {
            let b2 = cur.u8("line info")?;
            bc += u64::from(b & 0x0f);
            line += (u64::from((b >> 4) & 7) << 8) | u64::from(b2);
        }
        out.push(LineEntry { bc, line });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_signature_example() {
        // def f(a, b=2, *args, c, d=4, **kw) -> 9e 93 c8 c0 40 (mpy-format.md §4.1).
        let s = signature(&mut Cursor::new(&[0x9e, 0x93, 0xc8, 0xc0, 0x40])).unwrap();
        assert_eq!(
            (
                s.n_state,
                s.n_exc_stack,
                s.scope_flags,
                s.n_pos_args,
                s.n_kwonly_args,
                s.n_def_pos_args
            ),
            (20, 3, 14, 2, 2, 1)
        );
    }

    #[test]
    fn tiny_prelude() {
        // sig 00, size 02 (n_info 1), simple name qstr 1.
        let data = [0x00, 0x02, 0x01, 0x81];
        let p = decode(&mut Cursor::new(&data), 0, 3).unwrap();
        assert_eq!((p.n_state, p.n_info, p.n_cell, p.simple_name), (1, 1, 0, 1));
        assert_eq!(p.end, 3);
        assert!(p.line_info.is_empty());
    }

    #[test]
    fn line_entries_accumulate() {
        let entries = lines(&mut Cursor::new(&[0x40, 0x64, 0x80 | 0x10 | 0x02, 0x05])).unwrap();
        let pairs: Vec<_> = entries.iter().map(|e| (e.bc, e.line)).collect();
        assert_eq!(pairs, [(0, 3), (4, 6), (6, 6 + 256 + 5)]);
    }

    #[test]
    fn names_must_fit_in_n_info_and_table() {
        // n_info 1 but one positional arg: the arg name would run past n_info.
        let data = [0x01, 0x02, 0x00, 0x00];
        assert!(matches!(
            decode(&mut Cursor::new(&data), 0, 3),
            Err(MpyError::BadPrelude { .. })
        ));
        // simple name index 5 with only 3 qstrs.
        let data = [0x00, 0x02, 0x05];
        assert!(matches!(
            decode(&mut Cursor::new(&data), 0, 3),
            Err(MpyError::IndexOutOfRange { .. })
        ));
    }
}
