//! Offline tests of the flash side against the real probe-rs chip database, real firmware
//! (Debian's micro:bit MicroPython hex) and generated images. No probe is attached here,
//! so the probe tests check the "nothing attached" path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mpcheck::boardfile::probe_spec::ImageFormat;
use mpcheck::boardfile::probe_spec::RawProbeSection;
use mpcheck::hw::flash::flasher::{FlashError, Flasher};
use mpcheck::hw::flash::image::Image;
use mpcheck::hw::flash::probe_rs_flasher::ProbeRsFlasher;
use mpcheck::hw::flash::probe_section::{
    self, FitError, FlashConfigError, ProbeBoard, validate, validate_with_env,
};
use mpcheck::hw::flash::probes;

const MICROBIT_HEX: &str = "/usr/share/firmware-microbit-micropython/firmware.hex";

fn boards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/flash/boards")
}

/// A board file as the harness reads it: other keys are the board loader's.
#[derive(serde::Deserialize)]
struct BoardFile {
    kind: String,
    probe: RawProbeSection,
}

fn read_board(path: &Path) -> BoardFile {
    let text = std::fs::read_to_string(path).unwrap();
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn raw(yaml: &str) -> RawProbeSection {
    yaml_serde::from_str(yaml).unwrap()
}

fn no_env(_: &str) -> Option<String> {
    None
}

mod images {
    use super::*;
    use object::write::elf::{FileHeader, ProgramHeader, Writer};
    use object::{Endianness, elf};

    /// A tiny Arm ELF: `.text` at 0x0800_0000, `.data` run from RAM at 0x2000_0000 but
    /// loaded from flash at 0x0800_0010, a `.bss` with no file bytes and a PT_NOTE.
    pub fn tiny_elf() -> Vec<u8> {
        let text = [0xAAu8; 16];
        let data = [0xDDu8; 8];
        let mut out = Vec::new();
        let mut w = Writer::new(Endianness::Little, false, &mut out);
        w.reserve_file_header();
        w.reserve_program_headers(4);
        let text_off = w.reserve(text.len(), 4);
        let data_off = w.reserve(data.len(), 4);
        w.write_file_header(&FileHeader {
            os_abi: 0,
            abi_version: 0,
            e_type: elf::ET_EXEC,
            e_machine: elf::EM_ARM,
            e_entry: 0x0800_0001,
            e_flags: 0,
        })
        .unwrap();
        w.write_align_program_headers();
        let ph = |p_type, offset: usize, vaddr, paddr, filesz: usize, memsz: usize| ProgramHeader {
            p_type,
            p_flags: elf::PF_R,
            p_offset: offset as u64,
            p_vaddr: vaddr,
            p_paddr: paddr,
            p_filesz: filesz as u64,
            p_memsz: memsz as u64,
            p_align: 4,
        };
        w.write_program_header(&ph(
            elf::PT_LOAD,
            text_off,
            0x0800_0000,
            0x0800_0000,
            16,
            16,
        ));
        w.write_program_header(&ph(elf::PT_LOAD, data_off, 0x2000_0000, 0x0800_0010, 8, 8));
        w.write_program_header(&ph(elf::PT_LOAD, 0, 0x2000_0008, 0x2000_0008, 0, 64));
        w.write_program_header(&ph(elf::PT_NOTE, text_off, 0, 0, 4, 4));
        w.pad_until(text_off);
        w.write(&text);
        w.pad_until(data_off);
        w.write(&data);
        out
    }

    #[test]
    fn elf_load_segments_at_physical_addresses() {
        let image = Image::parse(&tiny_elf(), ImageFormat::Elf, None).unwrap();
        // .text and .data's flash copy are adjacent: one segment of 24 bytes.
        assert_eq!(image.segments.len(), 1);
        assert_eq!(image.segments[0].address, 0x0800_0000);
        let mut want = vec![0xAA; 16];
        want.extend([0xDD; 8]);
        assert_eq!(image.segments[0].data, want);
    }

    #[test]
    fn elf_garbage_is_an_error() {
        let err = Image::parse(b"\x7fELF nonsense", ImageFormat::Elf, None).unwrap_err();
        assert!(err.to_string().starts_with("not a valid elf file"), "{err}");
        let err = Image::parse(b"hello", ImageFormat::Elf, None).unwrap_err();
        assert!(err.to_string().starts_with("not a valid elf file"), "{err}");
    }

    #[test]
    fn microbit_hex_parses() {
        let image = Image::load(Path::new(MICROBIT_HEX), ImageFormat::Hex, None).unwrap();
        let first = &image.segments[0];
        assert_eq!(first.address, 0);
        // Cortex-M vector table: initial SP at the top of the nRF51822's 16 KiB RAM.
        assert_eq!(&first.data[..4], &0x2000_4000u32.to_le_bytes());
        let last = image.segments.last().unwrap();
        assert_eq!(last.address, 0x1000_10c0, "the UICR words");
        assert_eq!(last.data.len(), 28);
        println!(
            "micro:bit hex: {} segments, {} bytes, sha256 {}",
            image.segments.len(),
            image.total_bytes(),
            image.content_hash_hex()
        );
    }

    #[test]
    fn malformed_hex_checksum_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.hex");
        let good = std::fs::read_to_string(MICROBIT_HEX).unwrap();
        let mut lines: Vec<String> = good.lines().take(5).map(str::to_string).collect();
        // Line 3 (:10001000…E0): flip the checksum.
        lines[2].replace_range(41..43, "E1");
        lines.push(":00000001FF".into());
        std::fs::write(&path, lines.join("\n")).unwrap();
        let board = dir.path().join("b.yaml");
        let err = validate_with_env(
            raw("chip: nRF51822_xxAA\nfirmware:\n  path: bad.hex\n"),
            &board,
            &no_env,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: probe.firmware: {}: line 3: checksum is E1, expected E0",
                board.display(),
                path.display()
            )
        );
    }
}

mod boards {
    use super::*;

    /// Writes an image the chip's flash can take, for a board whose firmware variable is
    /// unset here.
    fn synthetic_firmware(dir: &Path, chip: &str) -> PathBuf {
        let registry = probe_rs::config::Registry::from_builtin_families();
        let target = probe_section::lookup_chip(&registry, chip).unwrap();
        let flash = &probe_section::flash_regions(&target)[0];
        // A vector table's worth and then some: 8 KiB at the start of flash.
        let bytes: Vec<u8> = (0..8192u32).map(|i| i as u8).collect();
        let path = dir.join(format!("{chip}.bin"));
        std::fs::write(&path, &bytes).unwrap();
        let hex = dir.join(format!("{chip}.hex"));
        let mut text = format!(":02000004{:04X}", flash.range.start >> 16);
        let sum = 2u8
            .wrapping_add(4)
            .wrapping_add((flash.range.start >> 24) as u8)
            .wrapping_add((flash.range.start >> 16) as u8);
        text += &format!("{:02X}\n", sum.wrapping_neg());
        for (i, chunk) in bytes.chunks(16).enumerate() {
            let addr = (flash.range.start as usize + i * 16) as u16;
            let mut rec = vec![16u8, (addr >> 8) as u8, addr as u8, 0];
            rec.extend_from_slice(chunk);
            let sum = rec.iter().fold(0u8, |a, b| a.wrapping_add(*b));
            rec.push(sum.wrapping_neg());
            text += ":";
            text += &rec.iter().map(|b| format!("{b:02X}")).collect::<String>();
            text += "\n";
        }
        text += ":00000001FF\n";
        std::fs::write(&hex, text).unwrap();
        hex
    }

    #[test]
    fn every_example_board_validates() {
        let tmp = tempfile::tempdir().unwrap();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(boards_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        assert_eq!(paths.len(), 4);
        for path in paths {
            let file = read_board(&path);
            assert_eq!(file.kind, "serial");
            let chip = file.probe.chip.clone();
            let fw = file.probe.firmware.as_ref().unwrap().path.clone();
            // `${VAR}` in the firmware path: the real one when set, else a synthetic image.
            let var = fw
                .strip_prefix("${")
                .and_then(|rest| rest.split_once('}'))
                .map(|(name, _)| name.to_string());
            let board = match var {
                Some(var) if std::env::var_os(&var).is_none() => {
                    let synthetic = synthetic_firmware(tmp.path(), &chip);
                    let env: HashMap<String, String> =
                        [(var, synthetic.display().to_string())].into();
                    validate_with_env(file.probe, &path, &|n| env.get(n).cloned())
                }
                _ => validate(file.probe, &path),
            }
            .unwrap_or_else(|e| panic!("{e}"));
            let image = &board.firmware.as_ref().unwrap().image;
            let flash = &board.flash_regions[0];
            println!(
                "{}: {} ({}), {} bytes in {} segment(s), flash {} bytes, selector {:?}",
                path.file_name().unwrap().to_string_lossy(),
                board.chip,
                board.firmware.as_ref().unwrap().path.display(),
                image.total_bytes(),
                image.segments.len(),
                flash.size(),
                board.selector.as_ref().map(|s| s.to_string()),
            );
            assert!(board.selector.is_some());
        }
    }

    #[test]
    fn microbit_hex_fits_the_nrf51822() {
        let board = probe_section::load(&boards_dir().join("microbit-v1.yaml")).unwrap();
        assert_eq!(board.chip, "nRF51822_xxAA");
        let firmware = board.firmware.as_ref().unwrap();
        assert_eq!(firmware.path, Path::new(MICROBIT_HEX));
        assert_eq!(firmware.excluded_bytes, 28);
        let flash = &board.flash_regions[0];
        assert_eq!(flash.range, 0..256 * 1024);
        let image = &firmware.image;
        let top = image.segments.last().unwrap().end();
        println!(
            "micro:bit MicroPython 1.9.2: {} bytes to flash (highest address {top:#x}) in {} segments; \
             nRF51822_xxAA flash {} bytes ({:.1}% used)",
            image.total_bytes(),
            image.segments.len(),
            flash.size(),
            100.0 * image.total_bytes() as f64 / flash.size() as f64
        );
        assert!(top <= flash.range.end);
        assert!(firmware.placement.iter().all(|p| p.region == flash.name));
    }

    #[test]
    fn microbit_hex_without_exclude_names_the_uicr_segment() {
        let err = validate_with_env(
            raw(&format!(
                "chip: nRF51822_xxAA\nfirmware:\n  path: {MICROBIT_HEX}\n"
            )),
            Path::new("boards/microbit-v1.yaml"),
            &no_env,
        )
        .unwrap_err();
        let FlashConfigError::DoesNotFit { reason, .. } = &err else {
            panic!("{err}")
        };
        assert!(matches!(**reason, FitError::Outside { .. }), "{err}");
        println!("{err}");
        assert!(
            err.to_string().ends_with(
                "does not fit nRF51822_xxAA: segment 0x100010c0..0x100010dc is in no flash region \
                 (flash: `nvm@0x00000000` (0x00000000..0x00040000, 262144 bytes))"
            ),
            "{err}"
        );
    }

    #[test]
    fn image_a_megabyte_too_big_names_region_and_overflow() {
        let dir = tempfile::tempdir().unwrap();
        let fw = dir.path().join("big.bin");
        // nRF51822_xxAA: 256 KiB flash. 1 MiB more than that.
        std::fs::write(&fw, vec![0u8; 256 * 1024 + 1024 * 1024]).unwrap();
        let board = dir.path().join("microbit.yaml");
        let err = validate_with_env(
            raw("chip: nRF51822_xxAA\nfirmware:\n  path: big.bin\n  base_address: 0x0\n"),
            &board,
            &no_env,
        )
        .unwrap_err();
        let FlashConfigError::DoesNotFit { reason, .. } = &err else {
            panic!("{err}")
        };
        let FitError::Overflow {
            region, overflow, ..
        } = &**reason
        else {
            panic!("{err}")
        };
        assert_eq!(*overflow, 1024 * 1024);
        assert_eq!(region.range, 0..0x40000);
        println!("{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: probe.firmware: {} does not fit nRF51822_xxAA: segment 0x00000000..0x00140000 \
                 (1310720 bytes) overflows flash region `nvm@0x00000000` (0x00000000..0x00040000, \
                 262144 bytes) by 1048576 bytes",
                board.display(),
                fw.display()
            )
        );
        // A named region (STM32F405RG: 1 MiB `BANK_1`): 1.25 MiB overflows it by 256 KiB.
        let err = validate_with_env(
            raw("chip: STM32F405RG\nfirmware:\n  path: big.bin\n  base_address: 0x08000000\n"),
            &board,
            &no_env,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.ends_with(
                "overflows flash region `BANK_1` (0x08000000..0x08100000, 1048576 bytes) by 262144 bytes"
            ),
            "{err}"
        );
    }

    #[test]
    fn misspelt_chip_suggests_close_names() {
        let err = validate_with_env(
            raw("chip: nRF52840_xxA\n"),
            Path::new("boards/nrf52840-dk.yaml"),
            &no_env,
        )
        .unwrap_err();
        println!("{err}");
        let FlashConfigError::UnknownChip { suggestions, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(suggestions[0], "nRF52840_xxAA");
        assert!(
            err.to_string().starts_with(
                "boards/nrf52840-dk.yaml: probe.chip: unknown chip `nRF52840_xxA`; did you mean nRF52840_xxAA, "
            ),
            "{err}"
        );
        let err = validate_with_env(raw("chip: QQ9999\n"), Path::new("b.yaml"), &no_env)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "b.yaml: probe.chip: unknown chip `QQ9999` (no similar names in probe-rs's chip database)"
        );
    }

    #[test]
    fn missing_firmware_and_unset_variable() {
        let board = Path::new("/lab/boards/pico.yaml");
        let err = validate_with_env(
            raw("chip: RP2040\nfirmware:\n  path: fw/firmware.elf\n"),
            board,
            &no_env,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "/lab/boards/pico.yaml: probe.firmware.path: /lab/boards/fw/firmware.elf does not exist"
        );
        let err = validate_with_env(
            raw("chip: RP2040\nfirmware:\n  path: ${MPCHECK_FIRMWARE_PICO}/firmware.elf\n"),
            board,
            &no_env,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "/lab/boards/pico.yaml: probe.firmware.path: environment variable \
             `MPCHECK_FIRMWARE_PICO` is not set"
        );
    }

    #[test]
    fn format_and_base_address_rules() {
        let dir = tempfile::tempdir().unwrap();
        let board = dir.path().join("b.yaml");
        std::fs::write(dir.path().join("fw.img"), [0u8; 16]).unwrap();
        std::fs::write(dir.path().join("fw.bin"), [0u8; 16]).unwrap();
        std::fs::write(dir.path().join("fw.elf"), images::tiny_elf()).unwrap();
        let check = |yaml: &str| {
            validate_with_env(raw(yaml), &board, &no_env).map_err(|e| {
                e.to_string()
                    .strip_prefix(&format!("{}: ", board.display()))
                    .unwrap()
                    .to_string()
            })
        };
        let err = check("chip: RP2040\nfirmware:\n  path: fw.img\n").unwrap_err();
        assert!(
            err.starts_with("probe.firmware.format: cannot tell the format of"),
            "{err}"
        );
        let err = check("chip: RP2040\nfirmware:\n  path: fw.bin\n").unwrap_err();
        assert_eq!(err, "probe.firmware.base_address: required for a bin image");
        let err =
            check("chip: STM32F405RG\nfirmware:\n  path: fw.elf\n  base_address: 0\n").unwrap_err();
        assert_eq!(
            err,
            "probe.firmware.base_address: only used for bin images, not elf"
        );
        let board_ok = check(
            "chip: RP2040\nfirmware:\n  path: fw.img\n  format: bin\n  base_address: 0x10000000\n",
        )
        .unwrap();
        assert_eq!(
            board_ok.firmware.unwrap().image.segments[0].address,
            0x1000_0000
        );
        // The tiny ELF's flash copy sits at 0x0800_0000: an STM32F4's BANK_1.
        let stm: ProbeBoard = check("chip: STM32F405RG\nfirmware:\n  path: fw.elf\n").unwrap();
        assert_eq!(stm.firmware.unwrap().placement[0].region, "BANK_1");
        // The same ELF on an RP2040 (flash at 0x1000_0000) lands in no flash region.
        let err = check("chip: RP2040\nfirmware:\n  path: fw.elf\n").unwrap_err();
        assert!(err.contains("is in no flash region"), "{err}");
        let err = check("chip: RP2040\nprobe: \"zz:12\"\n").unwrap_err();
        assert_eq!(
            err,
            "probe.probe: bad probe selector `zz:12`: expected VID:PID[:SERIAL] in hex, e.g. `0d28:0204`"
        );
        let err = check("chip: RP2040\nspeed_khz: 0\n").unwrap_err();
        assert_eq!(err, "probe.speed_khz: must be more than 0");
    }

    #[test]
    fn yaml_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let board = dir.path().join("b.yaml");
        std::fs::write(
            &board,
            "kind: serial\nprobe:\n  chip: RP2040\n  sped_khz: 4000\n",
        )
        .unwrap();
        let err = probe_section::load(&board).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}:4: probe: unknown field `sped_khz`, expected one of `chip`, `probe`, \
                 `protocol`, `speed_khz`, `firmware`, `reset`",
                board.display()
            )
        );
    }
}

mod probe_listing {
    use super::*;

    #[test]
    fn no_probes_attached_here() {
        let attached = probes::list_probes();
        println!("attached probes: {attached:?}");
        assert!(
            attached.is_empty(),
            "this machine has no probes: {attached:?}"
        );
    }

    #[test]
    fn flashing_without_a_probe_names_board_file_and_selector() {
        let board = probe_section::load(&boards_dir().join("microbit-v1.yaml")).unwrap();
        let image = board.firmware.as_ref().unwrap().image.clone();
        let err = probes::open_probe(&board).unwrap_err();
        let want = format!(
            "{}: no debug probe attached (wanted 0d28:0204 for nRF51822_xxAA)",
            boards_dir().join("microbit-v1.yaml").display()
        );
        assert_eq!(err.to_string(), want);
        println!("{err}");

        // The probe-rs flasher gets as far as choosing a probe and stops there.
        let mut flasher = ProbeRsFlasher::new(board);
        assert_eq!(flasher.describe(), "probe-rs nRF51822_xxAA via 0d28:0204");
        let mut events = Vec::new();
        let err = flasher.flash(&image, &mut |e| events.push(e)).unwrap_err();
        assert!(matches!(err, FlashError::NoProbe(_)), "{err:?}");
        assert_eq!(err.to_string(), want);
        assert!(events.is_empty());
        assert_eq!(flasher.reset_and_halt().unwrap_err().to_string(), want);
    }
}
