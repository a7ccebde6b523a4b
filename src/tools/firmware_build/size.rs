//! A firmware image's size as `size` (binutils, Berkeley format) reports it and upstream's
//! tools/metrics.py diffs it: text, data and bss, read from the ELF's section headers.

use std::path::Path;

use object::{Object, ObjectSection, SectionFlags, SectionKind, elf};

/// Bytes of code and constants (flash), initialised data (flash and RAM) and zeroed data
/// (RAM) in an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageSize {
    pub text: u64,
    pub data: u64,
    pub bss: u64,
}

/// The size of the ELF at `path`; the message names the file.
pub fn of_elf(path: &Path) -> Result<ImageSize, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    of_elf_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Berkeley `size`'s sums: every allocated section is text when it is code or read-only,
/// else bss when it takes no room in the file (NOBITS), else data.
fn of_elf_bytes(bytes: &[u8]) -> Result<ImageSize, String> {
    let file = object::File::parse(bytes).map_err(|e| format!("not an ELF image ({e})"))?;
    let mut size = ImageSize {
        text: 0,
        data: 0,
        bss: 0,
    };
    for section in file.sections() {
        let SectionFlags::Elf { sh_flags } = section.flags() else {
            return Err("not an ELF image".into());
        };
        if sh_flags & u64::from(elf::SHF_ALLOC) == 0 {
            continue;
        }
        let code = sh_flags & u64::from(elf::SHF_EXECINSTR) != 0;
        let writable = sh_flags & u64::from(elf::SHF_WRITE) != 0;
        let nobits = matches!(
            section.kind(),
            SectionKind::UninitializedData | SectionKind::UninitializedTls
        );
        let sum = if code || !writable {
            &mut size.text
        } else if nobits {
            &mut size.bss
        } else {
            &mut size.data
        };
        *sum += section.size();
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::write;
    use object::{Architecture, BinaryFormat, Endianness};

    /// An ARM ELF with these sections, as a linker would flag them.
    fn elf(sections: &[(&[u8], SectionKind, u64)]) -> Vec<u8> {
        let mut obj = write::Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        for (name, kind, len) in sections {
            let id = obj.add_section(Vec::new(), name.to_vec(), *kind);
            match kind {
                SectionKind::UninitializedData => {
                    obj.append_section_bss(id, *len, 4);
                }
                _ => {
                    obj.append_section_data(id, &vec![0; *len as usize], 4);
                }
            }
        }
        obj.write().unwrap()
    }

    #[test]
    fn sections_are_summed_as_berkeley_size_does() {
        let bytes = elf(&[
            (b".text", SectionKind::Text, 100),
            (b".rodata", SectionKind::ReadOnlyData, 28),
            (b".data", SectionKind::Data, 20),
            (b".bss", SectionKind::UninitializedData, 64),
            (b".comment", SectionKind::OtherString, 50),
        ]);
        assert_eq!(
            of_elf_bytes(&bytes).unwrap(),
            ImageSize {
                text: 128,
                data: 20,
                bss: 64
            }
        );
        let err = of_elf_bytes(b":00000001FF\n").unwrap_err();
        assert!(err.starts_with("not an ELF image"), "{err}");
    }
}
