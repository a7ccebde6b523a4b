//! The `probe:` section of a board file: read into [`RawProbeSection`], then checked into a
//! [`ProbeBoard`] against probe-rs's built-in chip database, with the firmware read and
//! shown to fit the chip's flash — all offline, so a typo fails when the file is loaded,
//! not an hour into a nightly run.

use crate::env::{EnvError, expand_env};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use probe_rs::config::{MemoryRegion, Registry, Target};
use probe_rs::probe::DebugProbeSelector;
use serde::Deserialize;

use super::image::{Image, ImageError, ImageFormat};

/// How many chip names an "unknown chip" error suggests.
const MAX_SUGGESTIONS: usize = 5;
/// Prefixes shorter than this match too many chips to be useful suggestions.
const MIN_PREFIX: usize = 4;

/// The `probe:` section as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbeSection {
    /// probe-rs chip name, e.g. `nRF51822_xxAA`.
    pub chip: String,
    /// `VID:PID[:SERIAL]` in hex, e.g. `0d28:0204:9900000037024e45`.
    #[serde(default)]
    pub probe: Option<String>,
    #[serde(default)]
    pub protocol: Option<Protocol>,
    #[serde(default)]
    pub speed_khz: Option<u32>,
    /// Absent for a board that is flashed by hand and only reset by the harness.
    #[serde(default)]
    pub firmware: Option<RawFirmware>,
    #[serde(default)]
    pub reset: ResetMethod,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFirmware {
    /// `${VAR}` is replaced from the environment; relative paths are relative to the
    /// board file's directory.
    pub path: String,
    /// Inferred from the extension when absent.
    #[serde(default)]
    pub format: Option<ImageFormat>,
    /// Where a `bin` image goes; a YAML integer or a string such as `"0x10000000"`.
    #[serde(default, deserialize_with = "address::deserialize")]
    pub base_address: Option<u64>,
    /// Address ranges `"0xSTART..0xEND"` whose bytes are not flashed (data the chip's
    /// memory map has no place for, e.g. the micro:bit hex's UICR words).
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Swd,
    Jtag,
}

/// How the harness resets the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetMethod {
    /// A core reset through the debug port (SYSRESETREQ on Arm).
    #[default]
    Probe,
    /// The probe's reset line (nRESET); attach happens under reset.
    Hardware,
    /// The harness must not reset through the probe (e.g. it power-cycles instead).
    None,
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashRegion {
    pub name: String,
    pub range: Range<u64>,
}

impl FlashRegion {
    pub fn size(&self) -> u64 {
        self.range.end - self.range.start
    }
}

impl fmt::Display for FlashRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` ({:#010x}..{:#010x}, {} bytes)",
            self.name,
            self.range.start,
            self.range.end,
            self.size()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub segment: Range<u64>,
    pub region: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FlashConfigError {
    #[error("{}: cannot read board file: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
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

/// Why an image does not fit a chip's memory map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    #[error(
        "segment {:#010x}..{:#010x} ({} bytes) overflows flash region {region} by {overflow} bytes",
        segment.start, segment.end, segment.end - segment.start
    )]
    Overflow {
        segment: Range<u64>,
        region: FlashRegion,
        overflow: u64,
    },
    #[error(
        "segment {:#010x}..{:#010x} lies in ram region `{region}`, which does not keep it across a reset",
        segment.start, segment.end
    )]
    InRam { segment: Range<u64>, region: String },
    #[error(
        "segment {:#010x}..{:#010x} is in no flash region (flash: {})",
        segment.start, segment.end, list_regions(regions)
    )]
    Outside {
        segment: Range<u64>,
        regions: Vec<FlashRegion>,
    },
    /// probe-rs's own loader refused data that our region walk accepted.
    #[error("probe-rs refuses segment at {address:#010x}: {message}")]
    Loader { address: u64, message: String },
}

fn list_regions(regions: &[FlashRegion]) -> String {
    let names: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
    names.join(", ")
}

/// Reads the `probe:` section of the board file at `board_file` (other keys are the
/// board loader's business and are ignored here) and checks it.
pub fn load(board_file: &Path) -> Result<ProbeBoard, FlashConfigError> {
    #[derive(Deserialize)]
    struct WithProbe {
        probe: RawProbeSection,
    }
    let text = std::fs::read_to_string(board_file).map_err(|source| FlashConfigError::Read {
        file: board_file.to_path_buf(),
        source,
    })?;
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

// ---------------------------------------------------------------------------------------
// Chip lookup

/// The registry's target for `name`, or the closest names when there is none.
///
/// probe-rs accepts a unique prefix (`nRF52840_xxA` finds `nRF52840_xxAA` with a logged
/// warning); a board file must name the chip in full, so a prefix counts as unknown.
pub fn lookup_chip(registry: &Registry, name: &str) -> Result<Target, Vec<String>> {
    match registry.get_target_by_name(name) {
        Ok(target) if target.name.len() == name.len() => Ok(target),
        _ => Err(closest_chips(registry, name)),
    }
}

/// Chip names like `name`: those it is a prefix of (via `search_chips`, trimming `name`
/// until something matches) and those a few edits away, closest first.
pub fn closest_chips(registry: &Registry, name: &str) -> Vec<String> {
    let all: Vec<&String> = registry
        .families()
        .iter()
        .flat_map(|f| f.variants().iter())
        .flat_map(|chip| chip.package_variants())
        .collect();
    let lower = name.to_ascii_lowercase();
    let mut candidates: Vec<(usize, String)> = Vec::new();

    let mut prefix: &str = name;
    loop {
        let hits = registry.search_chips(prefix);
        if !hits.is_empty() || prefix.len() <= MIN_PREFIX {
            for hit in hits {
                candidates.push((edit_distance(&lower, &hit.to_ascii_lowercase()), hit));
            }
            break;
        }
        let mut cut = prefix.len() - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix = &prefix[..cut];
    }
    // Within a third of the name's length: close enough to be a typo.
    let limit = (name.len() / 3).max(2);
    for chip in all {
        let d = edit_distance(&lower, &chip.to_ascii_lowercase());
        if d <= limit {
            candidates.push((d, chip.clone()));
        }
    }
    candidates.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, chip) in candidates {
        if !out.iter().any(|c| c.eq_ignore_ascii_case(&chip)) {
            out.push(chip);
        }
        if out.len() == MAX_SUGGESTIONS {
            break;
        }
    }
    out
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

// ---------------------------------------------------------------------------------------
// Does the image fit?

/// The chip's non-volatile regions; aliases (the same flash seen at a second address)
/// are left out.
pub fn flash_regions(target: &Target) -> Vec<FlashRegion> {
    target
        .memory_map
        .iter()
        .filter_map(|region| match region {
            MemoryRegion::Nvm(nvm) if !nvm.is_alias => Some(FlashRegion {
                name: nvm
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("nvm@{:#010x}", nvm.range.start)),
                range: nvm.range.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Places every segment of `image` in the chip's flash, walking across adjacent flash
/// regions, and then asks probe-rs's flash loader to stage the same data (it checks the
/// memory map the way a real download will).
pub fn check_fit(
    target: &Target,
    regions: &[FlashRegion],
    image: &Image,
) -> Result<Vec<Placement>, FitError> {
    let mut placement = Vec::with_capacity(image.segments.len());
    for segment in &image.segments {
        let span = segment.address..segment.end();
        placement.push(Placement {
            segment: span.clone(),
            region: place(target, regions, span)?,
        });
    }
    let mut loader = target.flash_loader();
    for segment in &image.segments {
        loader
            .add_data(segment.address, &segment.data)
            .map_err(|e| FitError::Loader {
                address: segment.address,
                message: e.to_string(),
            })?;
    }
    Ok(placement)
}

/// The name of the flash region `span` starts in, if the whole span is flash.
fn place(target: &Target, regions: &[FlashRegion], span: Range<u64>) -> Result<String, FitError> {
    let containing = |address: u64| regions.iter().find(|r| r.range.contains(&address));
    let Some(first) = containing(span.start) else {
        let ram = target.memory_map.iter().find_map(|r| match r {
            MemoryRegion::Ram(ram) if ram.range.contains(&span.start) => {
                Some(ram.name.clone().unwrap_or_else(|| "ram".into()))
            }
            _ => None,
        });
        return Err(match ram {
            Some(region) => FitError::InRam {
                segment: span,
                region,
            },
            None => FitError::Outside {
                segment: span,
                regions: regions.to_vec(),
            },
        });
    };
    let mut last = first;
    while last.range.end < span.end {
        match containing(last.range.end) {
            Some(next) => last = next,
            None => {
                return Err(FitError::Overflow {
                    overflow: span.end - last.range.end,
                    segment: span,
                    region: last.clone(),
                });
            }
        }
    }
    Ok(first.name.clone())
}

mod address {
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;

    /// A YAML integer, or a string in hex (`0x…`) or decimal; `_` separators allowed.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        struct AddressVisitor;
        impl Visitor<'_> for AddressVisitor {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an address such as 0x10000000")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(Some)
                    .map_err(|_| E::custom("an address cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let clean: String = v.trim().chars().filter(|c| *c != '_').collect();
                let parsed = match clean
                    .strip_prefix("0x")
                    .or_else(|| clean.strip_prefix("0X"))
                {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => clean.parse(),
                };
                parsed
                    .map(Some)
                    .map_err(|_| E::custom(format!("`{v}` is not an address such as 0x10000000")))
            }
        }
        d.deserialize_any(AddressVisitor)
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
    fn distance() {
        assert_eq!(edit_distance("nrf52840_xxa", "nrf52840_xxaa"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
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
