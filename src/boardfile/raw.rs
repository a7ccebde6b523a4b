//! A board file as written: one serde type per kind (unknown keys refused), read after a
//! first pass that reads only the kind.

use serde::Deserialize;

use super::build_section::RawBuild;
use super::config::{Pacing, QemuConfig, SerialConfig};
use super::file::PerfParams;
use crate::boardfile::labgrid::RawLabgrid;
use crate::boardfile::probe_spec::RawProbeSection;
use crate::model::case::Mode;

/// First pass: only the kind, to pick the type the whole file is read into.
#[derive(Deserialize)]
pub(super) struct KindOnly {
    pub(super) kind: Kind,
    pub(super) family: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum Kind {
    Unix,
    Webassembly,
    Cpython,
    Qemu,
    Serial,
    Bytecode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BytecodeFile {
    #[allow(dead_code)] // read in the first pass
    pub(super) kind: String,
    #[allow(dead_code)] // read in the first pass
    pub(super) family: Option<String>,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default, deserialize_with = "crate::model::case::seconds")]
    pub(super) timeout: Option<f64>,
    #[serde(default = "yes")]
    pub(super) default: bool,
    pub(super) mpy_cross: Option<String>,
    pub(super) mpy_cross_version: Option<String>,
    #[serde(default)]
    pub(super) flags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeviceFile {
    #[allow(dead_code)] // read in the first pass
    pub(super) kind: String,
    #[allow(dead_code)] // read in the first pass
    pub(super) family: Option<String>,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default, deserialize_with = "crate::model::case::seconds")]
    pub(super) timeout: Option<f64>,
    pub(super) modes: Option<Vec<Mode>>,
    #[serde(default)]
    pub(super) cases: Vec<String>,
    #[serde(default = "yes")]
    pub(super) default: bool,
    pub(super) instances: Option<usize>,
    pub(super) mpy_cross: Option<String>,
    #[serde(default)]
    pub(super) packages: Vec<String>,
    pub(super) qemu: Option<QemuConfig>,
    pub(super) serial: Option<SerialConfig>,
    pub(super) pacing: Option<Pacing>,
    pub(super) probe: Option<RawProbeSection>,
    pub(super) build: Option<RawBuild>,
    pub(super) raw_paste: Option<bool>,
    pub(super) soft_reset_between_cases: Option<bool>,
    pub(super) interrupts: Option<u8>,
    #[serde(default)]
    pub(super) lossy_link: bool,
    pub(super) labgrid: Option<RawLabgrid>,
    pub(super) perf: Option<PerfParams>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HostFile {
    #[allow(dead_code)] // read in the first pass
    pub(super) kind: String,
    #[allow(dead_code)] // read in the first pass
    pub(super) family: Option<String>,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default, deserialize_with = "crate::model::case::seconds")]
    pub(super) timeout: Option<f64>,
    pub(super) modes: Option<Vec<Mode>>,
    #[serde(default)]
    pub(super) cases: Vec<String>,
    #[serde(default = "yes")]
    pub(super) default: bool,
    pub(super) executable: Option<String>,
    pub(super) mpy_cross: Option<String>,
    #[serde(default)]
    pub(super) args: Vec<String>,
    pub(super) npm_version: Option<String>,
    pub(super) build: Option<RawBuild>,
    pub(super) perf: Option<PerfParams>,
}

fn yes() -> bool {
    true
}
