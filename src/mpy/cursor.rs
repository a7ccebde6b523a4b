//! A bounds-checked byte cursor with the `.mpy` variable-length integer encodings.

use super::error::MpyError;

/// Reads forward through `data[pos..end]`; every read checks the bound first.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor over the whole of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Cursor {
            data,
            pos: 0,
            end: data.len(),
        }
    }

    /// A cursor over `data[start..end]` that reports offsets relative to `data`.
    pub(crate) fn window(data: &'a [u8], start: usize, end: usize) -> Self {
        let end = end.min(data.len());
        Cursor {
            data,
            pos: start.min(end),
            end,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The whole underlying buffer (not just the window).
    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.data[self.pos])
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, MpyError> {
        let b = self.peek().ok_or(MpyError::Truncated {
            offset: self.pos,
            what,
        })?;
        self.pos += 1;
        Ok(b)
    }

    /// Takes `n` bytes; `n` is checked against what is left before anything is sliced.
    pub(crate) fn bytes(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], MpyError> {
        if n > self.remaining() as u64 {
            return Err(MpyError::Truncated {
                offset: self.end,
                what,
            });
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.data[start..self.pos])
    }

    /// An unsigned vuint: 7-bit groups, most significant group first, bit 7 = "more".
    pub(crate) fn vuint(&mut self, what: &'static str) -> Result<u64, MpyError> {
        let start = self.pos;
        let mut v: u64 = 0;
        loop {
            let b = self.u8(what)?;
            if v >> 57 != 0 {
                return Err(MpyError::VarIntOverflow { offset: start });
            }
            v = (v << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
    }

    /// A vuint that must also be a usable length or index (fits in `u32`).
    pub(crate) fn vuint_u32(&mut self, what: &'static str) -> Result<u32, MpyError> {
        let offset = self.pos;
        let v = self.vuint(what)?;
        u32::try_from(v).map_err(|_| MpyError::TooLarge {
            offset,
            what,
            value: v,
        })
    }

    /// The signed varint of `LOAD_CONST_SMALL_INT`: bit 6 of the first byte is the sign.
    pub(crate) fn svarint(&mut self, what: &'static str) -> Result<i64, MpyError> {
        let start = self.pos;
        let first = self.peek().ok_or(MpyError::Truncated {
            offset: start,
            what,
        })?;
        let mut v: i64 = if first & 0x40 != 0 { -1 } else { 0 };
        loop {
            let b = self.u8(what)?;
            // Shifting in 7 more bits must keep the value inside i64.
            if !(-(1i64 << 56)..(1i64 << 56)).contains(&v) {
                return Err(MpyError::VarIntOverflow { offset: start });
            }
            v = (v << 7) | i64::from(b & 0x7f);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vuint_is_msb_first() {
        // 1004 = 0x3ec is stored as 87 6c (mpy-format.md §2.1).
        assert_eq!(Cursor::new(&[0x87, 0x6c]).vuint("x"), Ok(1004));
        assert_eq!(Cursor::new(&[0x05]).vuint("x"), Ok(5));
    }

    #[test]
    fn svarint_examples() {
        assert_eq!(Cursor::new(&[0xf8, 0x18]).svarint("x"), Ok(-1000));
        assert_eq!(Cursor::new(&[0x80, 0x40]).svarint("x"), Ok(64));
        assert_eq!(Cursor::new(&[0x7f]).svarint("x"), Ok(-1));
    }

    #[test]
    fn overflow_and_truncation_are_errors() {
        let long = [0xffu8; 12];
        assert!(matches!(
            Cursor::new(&long).vuint("x"),
            Err(MpyError::VarIntOverflow { .. })
        ));
        let mut big = vec![0xbfu8; 12];
        big.push(0x00);
        assert!(matches!(
            Cursor::new(&big).svarint("x"),
            Err(MpyError::VarIntOverflow { .. })
        ));
        // Redundant sign bytes are legal: ff ff 7f is -1, and running out is truncation.
        assert_eq!(Cursor::new(&[0xff, 0xff, 0x7f]).svarint("x"), Ok(-1));
        assert!(matches!(
            Cursor::new(&long).svarint("x"),
            Err(MpyError::Truncated { .. })
        ));
        assert!(matches!(
            Cursor::new(&[0x80]).vuint("x"),
            Err(MpyError::Truncated { .. })
        ));
        assert!(matches!(
            Cursor::new(&[1]).bytes(2, "x"),
            Err(MpyError::Truncated { .. })
        ));
    }

    #[test]
    fn window_reports_file_offsets() {
        let data = [0, 1, 2, 3];
        let mut c = Cursor::window(&data, 2, 4);
        assert_eq!(c.u8("x"), Ok(2));
        assert_eq!(c.pos(), 3);
        assert_eq!(c.remaining(), 1);
    }
}
