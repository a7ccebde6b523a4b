//! Firmware images read offline into `(address, bytes)` segments: Intel HEX, ELF, raw
//! binary and UF2, plus a content hash for "flash only if changed".
//!
//! probe-rs can parse these formats too, but only with a live session; reading them here
//! lets a board file be checked (does the image fit the chip?) with no probe attached,
//! and the same segments are then handed to the flash loader.

use std::ops::Range;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::boardfile::probe_spec::ImageFormat;

/// A contiguous run of bytes to be written at `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub address: u64,
    pub data: Vec<u8>,
}

impl Segment {
    /// One past the last address of the segment.
    pub fn end(&self) -> u64 {
        self.address + self.data.len() as u64
    }
}

/// A parsed firmware image: non-empty, non-overlapping segments sorted by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub format: ImageFormat,
    pub segments: Vec<Segment>,
    /// UF2 family id (the same for every block), when the file gives one.
    pub family_id: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {0}")]
    Read(#[from] crate::util::input::Refused),
    #[error("line {line}: {message}")]
    Hex { line: usize, message: String },
    #[error("not a valid elf file: {0}")]
    Elf(String),
    #[error("uf2 block {block} (offset {offset:#x}): {message}")]
    Uf2 {
        block: usize,
        offset: usize,
        message: String,
    },
    #[error("a bin image needs a base address")]
    NoBaseAddress,
    #[error("{format} image has no data to flash")]
    Empty { format: ImageFormat },
    #[error("data at {address:#010x} is given twice")]
    Overlap { address: u64 },
}

impl Image {
    /// Reads and parses `path`. `base_address` is used (and required) for `Bin` only.
    pub fn load(
        path: &Path,
        format: ImageFormat,
        base_address: Option<u64>,
    ) -> Result<Image, ImageError> {
        let bytes =
            crate::util::input::read(path, crate::util::input::cap::IMAGE, "firmware image")?;
        Image::parse(&bytes, format, base_address)
    }

    /// Parses an image already in memory.
    pub fn parse(
        bytes: &[u8],
        format: ImageFormat,
        base_address: Option<u64>,
    ) -> Result<Image, ImageError> {
        let (pieces, family_id) = match format {
            ImageFormat::Hex => (parse_hex(bytes)?, None),
            ImageFormat::Elf => (parse_elf(bytes)?, None),
            ImageFormat::Bin => {
                let address = base_address.ok_or(ImageError::NoBaseAddress)?;
                (
                    vec![Segment {
                        address,
                        data: bytes.to_vec(),
                    }],
                    None,
                )
            }
            ImageFormat::Uf2 => parse_uf2(bytes)?,
        };
        let segments = coalesce(pieces)?;
        if segments.is_empty() {
            return Err(ImageError::Empty { format });
        }
        Ok(Image {
            format,
            segments,
            family_id,
        })
    }

    /// Drops every byte inside `range` (splitting segments as needed); returns how many
    /// bytes were dropped. For data a chip's memory map has no place for, such as the
    /// micro:bit MicroPython hex's UICR words.
    pub fn exclude(&mut self, range: &Range<u64>) -> u64 {
        let before = self.total_bytes();
        let mut kept = Vec::with_capacity(self.segments.len());
        for segment in self.segments.drain(..) {
            let (start, end) = (segment.address, segment.end());
            if end <= range.start || start >= range.end {
                kept.push(segment);
                continue;
            }
            if start < range.start {
                kept.push(Segment {
                    address: start,
                    data: segment.data[..(range.start - start) as usize].to_vec(),
                });
            }
            if end > range.end {
                kept.push(Segment {
                    address: range.end,
                    data: segment.data[(range.end - start) as usize..].to_vec(),
                });
            }
        }
        self.segments = kept;
        before - self.total_bytes()
    }

    /// Number of bytes the image writes.
    pub fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.data.len() as u64).sum()
    }

    /// SHA-256 of what the image writes (addresses and bytes), independent of the file
    /// format: the same firmware as HEX or ELF hashes the same.
    pub fn content_hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for segment in &self.segments {
            hasher.update(segment.address.to_le_bytes());
            hasher.update((segment.data.len() as u64).to_le_bytes());
            hasher.update(&segment.data);
        }
        hasher.finalize().into()
    }

    /// [`Image::content_hash`] as lowercase hex.
    pub fn content_hash_hex(&self) -> String {
        self.content_hash()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Sorts pieces by address, drops empty ones, joins adjacent ones and rejects overlaps.
fn coalesce(mut pieces: Vec<Segment>) -> Result<Vec<Segment>, ImageError> {
    pieces.retain(|p| !p.data.is_empty());
    pieces.sort_by_key(|p| p.address);
    let mut out: Vec<Segment> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match out.last_mut() {
            Some(last) if piece.address < last.end() => {
                return Err(ImageError::Overlap {
                    address: piece.address,
                });
            }
            Some(last) if piece.address == last.end() => last.data.extend_from_slice(&piece.data),
            _ => out.push(piece),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Intel HEX

/// Reads Intel HEX records 00 (data), 01 (end of file), 02 (extended segment address),
/// 03/05 (start address, ignored: the chip boots from its vector table) and 04 (extended
/// linear address). Errors name the 1-based line.
fn parse_hex(bytes: &[u8]) -> Result<Vec<Segment>, ImageError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ImageError::Hex {
            line,
            message: "not ascii text".into(),
        }
    })?;
    let mut pieces = Vec::new();
    // Added to every data record's 16-bit offset (from record 02 or 04).
    let mut base: u64 = 0;
    let mut seen_eof = false;
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        let err = |message: String| ImageError::Hex { line, message };
        let record = raw_line.trim();
        if record.is_empty() {
            continue;
        }
        if seen_eof {
            return Err(err("data after the end-of-file record".into()));
        }
        let hex = record
            .strip_prefix(':')
            .ok_or_else(|| err("record does not start with ':'".into()))?;
        let bytes = decode_hex(hex).ok_or_else(|| err("bad hex digits".into()))?;
        // count, address (2), type, checksum
        if bytes.len() < 5 {
            return Err(err("record too short".into()));
        }
        let count = bytes[0] as usize;
        if bytes.len() != count + 5 {
            return Err(err(format!(
                "byte count says {count} data bytes, record has {}",
                bytes.len() as isize - 5
            )));
        }
        let sum = bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b));
        if sum != 0 {
            let given = bytes[bytes.len() - 1];
            let expected = given.wrapping_sub(sum);
            return Err(err(format!(
                "checksum is {given:02X}, expected {expected:02X}"
            )));
        }
        let offset = u16::from_be_bytes([bytes[1], bytes[2]]) as u64;
        let kind = bytes[3];
        let data = &bytes[4..4 + count];
        match kind {
            0x00 => pieces.push(Segment {
                address: base + offset,
                data: data.to_vec(),
            }),
            0x01 => seen_eof = true,
            0x02 | 0x04 => {
                if count != 2 {
                    return Err(err(format!("record type {kind:02X} needs 2 data bytes")));
                }
                let value = u16::from_be_bytes([data[0], data[1]]) as u64;
                // 02: 8086 segment (value * 16); 04: upper 16 bits of a 32-bit address.
                base = if kind == 0x02 {
                    value << 4
                } else {
                    value << 16
                };
            }
            0x03 | 0x05 => {}
            other => return Err(err(format!("unknown record type {other:02X}"))),
        }
    }
    if !seen_eof {
        return Err(ImageError::Hex {
            line: text.lines().count(),
            message: "no end-of-file record (file truncated?)".into(),
        });
    }
    Ok(pieces)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

// ---------------------------------------------------------------------------------------
// ELF

/// Loadable program headers (`PT_LOAD`) with file bytes, placed at their physical (load)
/// address: that is where an initialised `.data` lives in flash.
fn parse_elf(bytes: &[u8]) -> Result<Vec<Segment>, ImageError> {
    use object::read::elf::{FileHeader, ProgramHeader};
    use object::{FileKind, elf};

    fn segments<H: FileHeader>(bytes: &[u8]) -> Result<Vec<Segment>, ImageError> {
        let elf_err = |e: object::read::Error| ImageError::Elf(e.to_string());
        let header = H::parse(bytes).map_err(elf_err)?;
        let endian = header.endian().map_err(elf_err)?;
        let mut out = Vec::new();
        for ph in header.program_headers(endian, bytes).map_err(elf_err)? {
            if ph.p_type(endian) != elf::PT_LOAD {
                continue;
            }
            let data = ph
                .data(endian, bytes)
                .map_err(|()| ImageError::Elf("program header points outside the file".into()))?;
            if data.is_empty() {
                continue; // .bss and friends: nothing to write
            }
            out.push(Segment {
                address: ph.p_paddr(endian).into(),
                data: data.to_vec(),
            });
        }
        Ok(out)
    }

    match FileKind::parse(bytes) {
        Ok(FileKind::Elf32) => segments::<elf::FileHeader32<object::Endianness>>(bytes),
        Ok(FileKind::Elf64) => segments::<elf::FileHeader64<object::Endianness>>(bytes),
        Ok(other) => Err(ImageError::Elf(format!("file is {other:?}, not elf"))),
        Err(e) => Err(ImageError::Elf(e.to_string())),
    }
}

// ---------------------------------------------------------------------------------------
// UF2 (https://github.com/microsoft/uf2): 512-byte blocks, each with up to 476 data bytes.

const UF2_BLOCK: usize = 512;
const UF2_MAGIC_START0: u32 = 0x0A32_4655;
const UF2_MAGIC_START1: u32 = 0x9E5D_5157;
const UF2_MAGIC_END: u32 = 0x0AB1_6F30;
/// Block is not for the main flash (e.g. a comment or file container): skip it.
const UF2_FLAG_NOT_MAIN_FLASH: u32 = 0x0000_0001;
/// The "file size" word holds a family id instead.
const UF2_FLAG_FAMILY_ID: u32 = 0x0000_2000;
/// Data bytes a block can carry: 512 minus 32 header bytes minus the 4-byte end magic.
const UF2_MAX_PAYLOAD: usize = 476;

fn parse_uf2(bytes: &[u8]) -> Result<(Vec<Segment>, Option<u32>), ImageError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(UF2_BLOCK) {
        return Err(ImageError::Uf2 {
            block: bytes.len() / UF2_BLOCK,
            offset: bytes.len(),
            message: format!("file size {} is not a multiple of 512", bytes.len()),
        });
    }
    let mut pieces = Vec::new();
    let mut family: Option<u32> = None;
    for (block, chunk) in bytes.chunks_exact(UF2_BLOCK).enumerate() {
        let offset = block * UF2_BLOCK;
        let err = |message: String| ImageError::Uf2 {
            block,
            offset,
            message,
        };
        let word = |i: usize| u32::from_le_bytes(chunk[i * 4..i * 4 + 4].try_into().unwrap());
        if word(0) != UF2_MAGIC_START0 || word(1) != UF2_MAGIC_START1 || word(127) != UF2_MAGIC_END
        {
            return Err(err("bad magic numbers".into()));
        }
        let flags = word(2);
        if flags & UF2_FLAG_NOT_MAIN_FLASH != 0 {
            continue;
        }
        let address = word(3) as u64;
        let size = word(4) as usize;
        if size > UF2_MAX_PAYLOAD {
            return Err(err(format!(
                "payload size {size} is over {UF2_MAX_PAYLOAD}"
            )));
        }
        if flags & UF2_FLAG_FAMILY_ID != 0 {
            let id = word(7);
            match family {
                Some(f) if f != id => {
                    return Err(err(format!(
                        "family id {id:#010x} differs from earlier blocks' {f:#010x}"
                    )));
                }
                _ => family = Some(id),
            }
        }
        pieces.push(Segment {
            address,
            data: chunk[32..32 + size].to_vec(),
        });
    }
    Ok((pieces, family))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_record(kind: u8, offset: u16, data: &[u8]) -> String {
        let mut bytes = vec![data.len() as u8, (offset >> 8) as u8, offset as u8, kind];
        bytes.extend_from_slice(data);
        let sum = bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        bytes.push(sum.wrapping_neg());
        let body: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        format!(":{body}\n")
    }

    #[test]
    fn hex_with_extended_linear_and_segment_addresses() {
        let mut text = String::new();
        text += &hex_record(0x04, 0, &[0x08, 0x00]); // base 0x0800_0000
        text += &hex_record(0x00, 0x0000, &[1, 2, 3, 4]);
        text += &hex_record(0x00, 0x0004, &[5, 6]); // adjacent: joins the first
        text += &hex_record(0x02, 0, &[0x10, 0x00]); // segment 0x1000 → base 0x1_0000
        text += &hex_record(0x00, 0x0010, &[9]);
        text += &hex_record(0x05, 0, &[0, 0, 0, 0]);
        text += &hex_record(0x01, 0, &[]);
        let image = Image::parse(text.as_bytes(), ImageFormat::Hex, None).unwrap();
        assert_eq!(
            image.segments,
            vec![
                Segment {
                    address: 0x1_0010,
                    data: vec![9]
                },
                Segment {
                    address: 0x0800_0000,
                    data: vec![1, 2, 3, 4, 5, 6]
                },
            ]
        );
        assert_eq!(image.total_bytes(), 7);
    }

    #[test]
    fn hex_bad_checksum_names_the_line() {
        let mut text = String::new();
        text += &hex_record(0x00, 0, &[1, 2, 3, 4]);
        let mut bad = hex_record(0x00, 4, &[5, 6, 7, 8]);
        bad.replace_range(bad.len() - 3..bad.len() - 1, "00");
        text += &bad;
        text += &hex_record(0x01, 0, &[]);
        let err = Image::parse(text.as_bytes(), ImageFormat::Hex, None).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("line 2: checksum is 00, expected "),
            "{message}"
        );
    }

    #[test]
    fn hex_other_errors() {
        let cases: [(&str, &str); 5] = [
            ("1000\n", "line 1: record does not start with ':'"),
            (":0Z\n", "line 1: bad hex digits"),
            (
                ":0400000001020304\n",
                "line 1: byte count says 4 data bytes, record has 3",
            ),
            (
                ":0100000001FE\n",
                "line 1: no end-of-file record (file truncated?)",
            ),
            (
                ":00000001FF\n:0100000001FE\n",
                "line 2: data after the end-of-file record",
            ),
        ];
        for (text, want) in cases {
            let err = Image::parse(text.as_bytes(), ImageFormat::Hex, None).unwrap_err();
            assert_eq!(err.to_string(), want, "for {text:?}");
        }
    }

    #[test]
    fn overlapping_data_is_rejected() {
        let mut text = hex_record(0x00, 0, &[1, 2, 3, 4]);
        text += &hex_record(0x00, 2, &[5]);
        text += &hex_record(0x01, 0, &[]);
        let err = Image::parse(text.as_bytes(), ImageFormat::Hex, None).unwrap_err();
        assert_eq!(err.to_string(), "data at 0x00000002 is given twice");
    }

    #[test]
    fn exclude_splits_segments() {
        let mut image =
            Image::parse(&[0, 1, 2, 3, 4, 5, 6, 7], ImageFormat::Bin, Some(0x100)).unwrap();
        assert_eq!(image.exclude(&(0x102..0x104)), 2);
        assert_eq!(
            image.segments,
            vec![
                Segment {
                    address: 0x100,
                    data: vec![0, 1]
                },
                Segment {
                    address: 0x104,
                    data: vec![4, 5, 6, 7]
                },
            ]
        );
        assert_eq!(image.exclude(&(0x0..0x102)), 2);
        assert_eq!(image.exclude(&(0x106..0x200)), 2);
        assert_eq!(
            image.segments,
            vec![Segment {
                address: 0x104,
                data: vec![4, 5]
            }]
        );
        assert_eq!(image.exclude(&(0x1000..0x2000)), 0);
    }

    #[test]
    fn bin_needs_a_base_address() {
        let err = Image::parse(&[1, 2, 3], ImageFormat::Bin, None).unwrap_err();
        assert_eq!(err.to_string(), "a bin image needs a base address");
        let image = Image::parse(&[1, 2, 3], ImageFormat::Bin, Some(0x1000_0000)).unwrap();
        assert_eq!(image.segments[0].address, 0x1000_0000);
        let err = Image::parse(&[], ImageFormat::Bin, Some(0)).unwrap_err();
        assert_eq!(err.to_string(), "bin image has no data to flash");
    }

    #[test]
    fn hash_is_about_content_not_format() {
        let hex = format!(
            "{}{}",
            hex_record(0x00, 0x100, &[0xAA, 0xBB]),
            hex_record(0x01, 0, &[])
        );
        let a = Image::parse(hex.as_bytes(), ImageFormat::Hex, None).unwrap();
        let b = Image::parse(&[0xAA, 0xBB], ImageFormat::Bin, Some(0x100)).unwrap();
        let c = Image::parse(&[0xAA, 0xBC], ImageFormat::Bin, Some(0x100)).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        assert_ne!(a.content_hash(), c.content_hash());
        assert_eq!(a.content_hash_hex().len(), 64);
    }

    fn uf2_block(flags: u32, address: u32, data: &[u8], family: u32) -> Vec<u8> {
        let mut block = vec![0u8; UF2_BLOCK];
        let words = [
            UF2_MAGIC_START0,
            UF2_MAGIC_START1,
            flags,
            address,
            data.len() as u32,
            0,
            1,
            family,
        ];
        for (i, w) in words.iter().enumerate() {
            block[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        block[32..32 + data.len()].copy_from_slice(data);
        block[508..512].copy_from_slice(&UF2_MAGIC_END.to_le_bytes());
        block
    }

    #[test]
    fn uf2_blocks_and_family_id() {
        // 0xe48bff56 is the RP2040 family id.
        let mut file = uf2_block(UF2_FLAG_FAMILY_ID, 0x1000_0000, &[1; 256], 0xe48b_ff56);
        file.extend(uf2_block(
            UF2_FLAG_FAMILY_ID,
            0x1000_0100,
            &[2; 256],
            0xe48b_ff56,
        ));
        file.extend(uf2_block(UF2_FLAG_NOT_MAIN_FLASH, 0, &[3; 16], 0));
        let image = Image::parse(&file, ImageFormat::Uf2, None).unwrap();
        assert_eq!(image.family_id, Some(0xe48b_ff56));
        assert_eq!(image.segments.len(), 1);
        assert_eq!(image.total_bytes(), 512);

        let mut bad = file.clone();
        bad[512] ^= 0xff;
        let err = Image::parse(&bad, ImageFormat::Uf2, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "uf2 block 1 (offset 0x200): bad magic numbers"
        );
        let err = Image::parse(&file[..100], ImageFormat::Uf2, None).unwrap_err();
        assert!(err.to_string().contains("not a multiple of 512"), "{err}");
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            ImageFormat::from_extension(Path::new("a/firmware.HEX")),
            Some(ImageFormat::Hex)
        );
        assert_eq!(
            ImageFormat::from_extension(Path::new("fw.elf")),
            Some(ImageFormat::Elf)
        );
        assert_eq!(ImageFormat::from_extension(Path::new("fw")), None);
        assert_eq!(ImageFormat::from_extension(Path::new("fw.txt")), None);
    }
}
