//! The `probe:` section of a board file: read into [`RawProbeSection`], then checked into a
//! [`ProbeBoard`] against probe-rs's built-in chip database, with the firmware read and
//! shown to fit the chip's flash — all offline, so a typo fails when the file is loaded,
//! not an hour into a nightly run.

use crate::util::env::{EnvError, expand_env};
use std::ops::Range;
use std::path::{Path, PathBuf};

use probe_rs::config::{Registry, Target};
use probe_rs::probe::DebugProbeSelector;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::image::{Image, ImageError};
use crate::boardfile::probe_spec::{
    ImageFormat, ProbeSpec, Protocol, RawFirmware, RawProbeSection, ResetMethod,
};

pub use super::chip::{
    FitError, FlashRegion, Placement, check_fit, closest_chips, flash_regions, lookup_chip,
};

/// A checked `probe:` section.
#[derive(Debug, Clone)]
pub struct ProbeBoard {
    /// The board file this came from, for error messages.
    pub board_file: PathBuf,
    /// The chip's name as the probe-rs registry spells it.
    pub chip: String,
    pub selector: Option<DebugProbeSelector>,
    pub protocol: Option<Protocol>,
    pub speed_khz: Option<u32>,
    pub reset: ResetMethod,
    pub firmware: Option<Firmware>,
    /// The chip's non-volatile memory regions, from the registry.
    pub flash_regions: Vec<FlashRegion>,
}

/// The firmware a board is flashed with, read and checked to fit.
#[derive(Debug, Clone)]
pub struct Firmware {
    /// Expanded and resolved against the board file's directory.
    pub path: PathBuf,
    /// The image as it will be flashed (`exclude` ranges already taken out).
    pub image: Image,
    /// Bytes of the file left out by `exclude`.
    pub excluded_bytes: u64,
    /// For each image segment, in order: the flash region it starts in.
    pub placement: Vec<Placement>,
}

#[derive(Debug, thiserror::Error)]
pub enum FlashConfigError {
    #[error("cannot read board file: {0}")]
    Read(#[from] crate::util::input::Refused),
    #[error("{}:{line}: {message}", file.display())]
    Yaml {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: probe.chip: unknown chip `{chip}`{}", file.display(), suggest(suggestions))]
    UnknownChip {
        file: PathBuf,
        chip: String,
        suggestions: Vec<String>,
    },
    #[error(
        "{}: probe.probe: bad probe selector `{text}`: expected VID:PID[:SERIAL] in hex, e.g. `0d28:0204`",
        file.display()
    )]
    BadSelector { file: PathBuf, text: String },
    #[error("{}: probe.speed_khz: must be more than 0", file.display())]
    ZeroSpeed { file: PathBuf },
    #[error("{}: {key}: environment variable `{var}` is not set", file.display())]
    MissingEnv {
        file: PathBuf,
        key: &'static str,
        var: String,
    },
    #[error("{}: {key}: `${{` without a closing `}}` in `{text}`", file.display())]
    BadEnvSyntax {
        file: PathBuf,
        key: &'static str,
        text: String,
    },
    #[error(
        "{}: probe.firmware.exclude: `{text}` is not an address range such as `0x10001000..0x10001100`",
        file.display()
    )]
    BadRange { file: PathBuf, text: String },
    #[error("{}: probe.firmware.path: {} does not exist", file.display(), path.display())]
    FirmwareMissing { file: PathBuf, path: PathBuf },
    #[error(
        "{}: probe.firmware.format: cannot tell the format of {} from its extension: add `format: elf|hex|bin|uf2`",
        file.display(), path.display()
    )]
    UnknownFormat { file: PathBuf, path: PathBuf },
    #[error("{}: probe.firmware.base_address: required for a bin image", file.display())]
    MissingBaseAddress { file: PathBuf },
    #[error(
        "{}: probe.firmware.base_address: only used for bin images, not {format}",
        file.display()
    )]
    UnusedBaseAddress { file: PathBuf, format: ImageFormat },
    #[error("{}: probe.firmware: {}: {source}", file.display(), path.display())]
    Image {
        file: PathBuf,
        path: PathBuf,
        source: Box<ImageError>,
    },
    #[error("{}: probe.firmware: {} does not fit {chip}: {reason}", file.display(), path.display())]
    DoesNotFit {
        file: PathBuf,
        path: PathBuf,
        chip: String,
        reason: Box<FitError>,
    },
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        " (no similar names in probe-rs's chip database)".into()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// A board file's `probe:` section checked: chip looked up, firmware read and shown to
/// fit. Checked once a process per board file, on first use (loading a board file stays
/// fast: `mpcheck list` never opens the chip database), then kept; an error is shared,
/// reported by every board that uses the file.
pub fn checked(spec: &ProbeSpec) -> Result<Arc<ProbeBoard>, Arc<FlashConfigError>> {
    type Memo = HashMap<PathBuf, Result<Arc<ProbeBoard>, Arc<FlashConfigError>>>;
    static CHECKED: Mutex<Option<Memo>> = Mutex::new(None);
    let mut memo = CHECKED.lock().unwrap_or_else(|p| p.into_inner());
    memo.get_or_insert_default()
        .entry(spec.file.clone())
        .or_insert_with(|| {
            validate(spec.raw.clone(), &spec.file)
                .map(Arc::new)
                .map_err(Arc::new)
        })
        .clone()
}

/// Reads the `probe:` section of the board file at `board_file` (other keys are the
/// board loader's business and are ignored here) and checks it.
pub fn load(board_file: &Path) -> Result<ProbeBoard, FlashConfigError> {
    #[derive(Deserialize)]
    struct WithProbe {
        probe: RawProbeSection,
    }
    let bytes =
        crate::util::input::read(board_file, crate::util::input::cap::CONFIG, "board file")?;
    let text = String::from_utf8_lossy(&bytes);
    if let Err(crate::util::error::Error::Config { line, message, .. }) =
        crate::util::input::check_depth(board_file, 1, &text)
    {
        return Err(FlashConfigError::Yaml {
            file: board_file.to_path_buf(),
            line,
            message,
        });
    }
    let raw: WithProbe = yaml_serde::from_str(&text).map_err(|e| yaml_error(board_file, &e))?;
    validate(raw.probe, board_file)
}

/// A `yaml_serde` error as a config error with the file and line.
pub fn yaml_error(board_file: &Path, err: &yaml_serde::Error) -> FlashConfigError {
    let line = err.location().map_or(1, |l| l.line());
    let text = err.to_string();
    // yaml_serde appends " at line N column M": the line is already in the prefix.
    let message = match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    FlashConfigError::Yaml {
        file: board_file.to_path_buf(),
        line,
        message,
    }
}

/// Checks a raw section read from `board_file`, taking `${VAR}`s from the process
/// environment.
pub fn validate(raw: RawProbeSection, board_file: &Path) -> Result<ProbeBoard, FlashConfigError> {
    validate_with_env(raw, board_file, &|name| std::env::var(name).ok())
}

/// [`validate`] with the environment given as a lookup function (for tests).
pub fn validate_with_env(
    raw: RawProbeSection,
    board_file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProbeBoard, FlashConfigError> {
    let file = board_file.to_path_buf();
    let registry = Registry::from_builtin_families();
    let target =
        lookup_chip(&registry, &raw.chip).map_err(|suggestions| FlashConfigError::UnknownChip {
            file: file.clone(),
            chip: raw.chip.clone(),
            suggestions,
        })?;

    let selector =
        match &raw.probe {
            None => None,
            Some(text) => Some(text.parse::<DebugProbeSelector>().map_err(|_| {
                FlashConfigError::BadSelector {
                    file: file.clone(),
                    text: text.clone(),
                }
            })?),
        };
    if raw.speed_khz == Some(0) {
        return Err(FlashConfigError::ZeroSpeed { file });
    }

    let flash_regions = flash_regions(&target);
    let firmware = match raw.firmware {
        None => None,
        Some(fw) => Some(check_firmware(
            fw,
            board_file,
            env,
            &target,
            &flash_regions,
        )?),
    };

    Ok(ProbeBoard {
        board_file: file,
        chip: target.name.clone(),
        selector,
        protocol: raw.protocol,
        speed_khz: raw.speed_khz,
        reset: raw.reset,
        firmware,
        flash_regions,
    })
}

fn check_firmware(
    fw: RawFirmware,
    board_file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    target: &Target,
    regions: &[FlashRegion],
) -> Result<Firmware, FlashConfigError> {
    const KEY: &str = "probe.firmware.path";
    let file = board_file.to_path_buf();
    let expanded = expand_env(&fw.path, env).map_err(|e| match e {
        EnvError::Unset(var) => FlashConfigError::MissingEnv {
            file: file.clone(),
            key: KEY,
            var,
        },
        EnvError::Unclosed => FlashConfigError::BadEnvSyntax {
            file: file.clone(),
            key: KEY,
            text: fw.path.clone(),
        },
    })?;
    let path = resolve(board_file, Path::new(&expanded));
    if !path.is_file() {
        return Err(FlashConfigError::FirmwareMissing { file, path });
    }
    let format = match fw.format.or_else(|| ImageFormat::from_extension(&path)) {
        Some(format) => format,
        None => return Err(FlashConfigError::UnknownFormat { file, path }),
    };
    match (format, fw.base_address) {
        (ImageFormat::Bin, None) => return Err(FlashConfigError::MissingBaseAddress { file }),
        (ImageFormat::Elf | ImageFormat::Hex | ImageFormat::Uf2, Some(_)) => {
            return Err(FlashConfigError::UnusedBaseAddress { file, format });
        }
        _ => {}
    }
    let mut excluded = Vec::with_capacity(fw.exclude.len());
    for text in &fw.exclude {
        match parse_range(text) {
            Some(range) => excluded.push(range),
            None => {
                return Err(FlashConfigError::BadRange {
                    file,
                    text: text.clone(),
                });
            }
        }
    }
    let mut image = match Image::load(&path, format, fw.base_address) {
        Ok(image) => image,
        Err(source) => {
            return Err(FlashConfigError::Image {
                file,
                path,
                source: Box::new(source),
            });
        }
    };
    let excluded_bytes = excluded.iter().map(|r| image.exclude(r)).sum();
    match check_fit(target, regions, &image) {
        Ok(placement) => Ok(Firmware {
            path,
            image,
            excluded_bytes,
            placement,
        }),
        Err(reason) => Err(FlashConfigError::DoesNotFit {
            file,
            path,
            chip: target.name.clone(),
            reason: Box::new(reason),
        }),
    }
}

/// `0xSTART..0xEND` (hex or decimal, end exclusive, non-empty).
fn parse_range(text: &str) -> Option<Range<u64>> {
    let number = |t: &str| {
        let t = t.trim().replace('_', "");
        match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => t.parse().ok(),
        }
    };
    let (start, end) = text.split_once("..")?;
    let range = number(start)?..number(end)?;
    (range.start < range.end).then_some(range)
}

/// Joins a relative path onto the board file's directory.
fn resolve(board_file: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match board_file.parent() {
        Some(dir) => dir.join(path),
        None => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_board_file() {
        let board = Path::new("/lab/boards/microbit.yaml");
        assert_eq!(
            resolve(board, Path::new("fw/a.hex")),
            PathBuf::from("/lab/boards/fw/a.hex")
        );
        assert_eq!(
            resolve(board, Path::new("/abs/a.hex")),
            PathBuf::from("/abs/a.hex")
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("0x10001000..0x10001100"),
            Some(0x1000_1000..0x1000_1100)
        );
        assert_eq!(parse_range("16..32"), Some(16..32));
        assert_eq!(parse_range("32..16"), None);
        assert_eq!(parse_range("0x10"), None);
    }

    #[test]
    fn addresses_as_numbers_or_strings() {
        let parse = |yaml: &str| yaml_serde::from_str::<RawFirmware>(yaml).map(|f| f.base_address);
        assert_eq!(
            parse("path: a.bin\nbase_address: 4096\n").unwrap(),
            Some(4096)
        );
        assert_eq!(
            parse("path: a.bin\nbase_address: \"0x1000_0000\"\n").unwrap(),
            Some(0x1000_0000)
        );
        assert_eq!(parse("path: a.bin\n").unwrap(), None);
        let err = parse("path: a.bin\nbase_address: zz\n").unwrap_err();
        assert!(err.to_string().contains("`zz` is not an address"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = yaml_serde::from_str::<RawProbeSection>("chip: RP2040\nspeed: 4000\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `speed`"), "{err}");
        let err = yaml_serde::from_str::<RawProbeSection>("chip: RP2040\nreset: soft\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `soft`"), "{err}");
    }
}
