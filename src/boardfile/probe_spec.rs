//! A board file's `probe:` section as written (data only: the chip database, the
//! firmware image and the fit are checked by `hw::flash::probe_section::checked`, on
//! first use).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A board file's `probe:` section and the file it came from.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    pub raw: RawProbeSection,
    /// The board file: relative firmware paths are relative to its directory.
    pub file: PathBuf,
}

impl ProbeSpec {
    pub fn new(raw: RawProbeSection, file: &Path) -> ProbeSpec {
        ProbeSpec {
            raw,
            file: file.to_path_buf(),
        }
    }
}

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

/// The file formats a firmware image can be given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Elf,
    Hex,
    Bin,
    Uf2,
}

impl ImageFormat {
    /// The format a file name implies, if its extension is a known one.
    pub fn from_extension(path: &Path) -> Option<ImageFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "elf" | "axf" | "out" => Some(ImageFormat::Elf),
            "hex" | "ihex" | "ihx" => Some(ImageFormat::Hex),
            "bin" => Some(ImageFormat::Bin),
            "uf2" => Some(ImageFormat::Uf2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Elf => "elf",
            ImageFormat::Hex => "hex",
            ImageFormat::Bin => "bin",
            ImageFormat::Uf2 => "uf2",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
