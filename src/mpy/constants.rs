//! Reads the qstr table and the constant-object table.

use super::cursor::Cursor;
use super::error::MpyError;
use super::model::{Constant, Qstr};
use super::pyrepr;
use super::static_qstr::static_qstr;

/// How deeply constant tuples may nest; real compilers nest a handful of levels, and the
/// bound keeps a hostile file from exhausting the stack.
pub(crate) const MAX_TUPLE_DEPTH: usize = 100;

/// One qstr entry: `v & 1` = static id `v >> 1`; else `v >> 1` bytes of UTF-8 then 00.
pub(crate) fn read_qstr(cur: &mut Cursor<'_>) -> Result<Qstr, MpyError> {
    let at = cur.pos();
    let v = cur.vuint("qstr entry")?;
    if v & 1 == 1 {
        let id = v >> 1;
        let text = static_qstr(id).ok_or(MpyError::BadStaticQstr { offset: at, id })?;
        // static_qstr only succeeds for ids 1..=165, which fit in u16.
        let static_id = u16::try_from(id).ok();
        return Ok(Qstr {
            text: text.to_string(),
            static_id,
        });
    }
    let text = terminated_utf8(cur, v >> 1, "qstr")?;
    Ok(Qstr {
        text,
        static_id: None,
    })
}

/// One constant entry: a type tag then its payload (mpy-format.md §3.4).
pub(crate) fn read_constant(cur: &mut Cursor<'_>, depth: usize) -> Result<Constant, MpyError> {
    let at = cur.pos();
    let tag = cur.u8("constant tag")?;
    Ok(match tag {
        0 => Constant::FunTable,
        1 => Constant::None,
        2 => Constant::False,
        3 => Constant::True,
        4 => Constant::Ellipsis,
        5 => {
            let len = cur.vuint("str length")?;
            Constant::Str(terminated_utf8(cur, len, "str constant")?)
        }
        6 => {
            let len = cur.vuint("bytes length")?;
            let bytes = cur.bytes(len, "bytes constant")?.to_vec();
            terminator(cur, "bytes constant")?;
            Constant::Bytes(bytes)
        }
        7 => Constant::Int(number_text(cur, "int", pyrepr::is_int_text)?),
        8 => Constant::Float(number_text(cur, "float", |t| {
            pyrepr::parse_float(t).is_some()
        })?),
        9 => Constant::Complex(number_text(cur, "complex", |t| {
            pyrepr::parse_complex(t).is_some()
        })?),
        10 => {
            if depth >= MAX_TUPLE_DEPTH {
                return Err(MpyError::TooDeep {
                    offset: at,
                    what: "constant tuples",
                    limit: MAX_TUPLE_DEPTH,
                });
            }
            let n = cur.vuint("tuple length")?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read_constant(cur, depth + 1)?);
            }
            Constant::Tuple(items)
        }
        _ => return Err(MpyError::UnknownConstantTag { offset: at, tag }),
    })
}

fn terminated_utf8(cur: &mut Cursor<'_>, len: u64, what: &'static str) -> Result<String, MpyError> {
    let at = cur.pos();
    let bytes = cur.bytes(len, what)?;
    let text =
        std::str::from_utf8(bytes).map_err(|_| MpyError::InvalidUtf8 { offset: at, what })?;
    terminator(cur, what)?;
    Ok(text.to_string())
}

fn terminator(cur: &mut Cursor<'_>, what: &'static str) -> Result<(), MpyError> {
    let at = cur.pos();
    match cur.u8(what)? {
        0 => Ok(()),
        found => Err(MpyError::MissingTerminator {
            offset: at,
            what,
            found,
        }),
    }
}

/// Length-prefixed ASCII number text (no terminator), checked with `valid`.
fn number_text(
    cur: &mut Cursor<'_>,
    what: &'static str,
    valid: impl Fn(&str) -> bool,
) -> Result<String, MpyError> {
    let len = cur.vuint("number length")?;
    let at = cur.pos();
    let bytes = cur.bytes(len, what)?;
    let text = String::from_utf8_lossy(bytes).into_owned();
    if !bytes.is_ascii() || !valid(&text) {
        return Err(MpyError::BadNumberText {
            offset: at,
            what,
            text,
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(bytes: &[u8]) -> Result<Constant, MpyError> {
        read_constant(&mut Cursor::new(bytes), 0)
    }

    #[test]
    fn tuple_example_from_spec() {
        // (1, 't', None) = 0a 03 07 01 31 05 01 74 00 01
        let c = constant(&[0x0a, 0x03, 0x07, 0x01, 0x31, 0x05, 0x01, 0x74, 0x00, 0x01]).unwrap();
        let want = vec![
            Constant::Int("1".into()),
            Constant::Str("t".into()),
            Constant::None,
        ];
        assert_eq!(c, Constant::Tuple(want));
    }

    #[test]
    fn scalar_kinds() {
        assert_eq!(
            constant(&[0x06, 0x00, 0x00]).unwrap(),
            Constant::Bytes(vec![])
        );
        assert_eq!(
            constant(&[0x08, 0x03, b'i', b'n', b'f']).unwrap(),
            Constant::Float("inf".into())
        );
        assert_eq!(
            constant(&[0x09, 0x02, b'2', b'j']).unwrap(),
            Constant::Complex("2j".into())
        );
        assert_eq!(constant(&[0x00]).unwrap(), Constant::FunTable);
    }

    #[test]
    fn bad_constants() {
        assert!(matches!(
            constant(&[0x0b]),
            Err(MpyError::UnknownConstantTag { tag: 11, .. })
        ));
        assert!(matches!(
            constant(&[0x07, 0x01, b'x']),
            Err(MpyError::BadNumberText { .. })
        ));
        assert!(matches!(
            constant(&[0x05, 0x01, b'a', 0x01]),
            Err(MpyError::MissingTerminator { .. })
        ));
        assert!(matches!(
            constant(&[0x05, 0x01, 0xff, 0x00]),
            Err(MpyError::InvalidUtf8 { .. })
        ));
        let deep: Vec<u8> = std::iter::repeat_n([0x0a, 0x01], 200).flatten().collect();
        assert!(matches!(constant(&deep), Err(MpyError::TooDeep { .. })));
    }

    #[test]
    fn qstr_entries() {
        let q = read_qstr(&mut Cursor::new(&[0x0f])).unwrap();
        assert_eq!((q.text.as_str(), q.static_id), ("<module>", Some(7)));
        let q = read_qstr(&mut Cursor::new(&[0x02, b'x', 0x00])).unwrap();
        assert_eq!((q.text.as_str(), q.static_id), ("x", None));
        assert!(matches!(
            read_qstr(&mut Cursor::new(&[0x01])),
            Err(MpyError::BadStaticQstr { .. })
        ));
    }
}
