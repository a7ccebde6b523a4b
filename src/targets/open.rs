//! Opening the selected boards' targets: the VM or board behind each, with one compiler
//! per mpy-cross path (the `.mpy` cache is per compiler). Opening flashes nothing: that is
//! `setup`'s job, before a run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::board::BoardTarget;
use super::bytecode::BytecodeTarget;
use super::host::HostTarget;
use super::{Produces, Target};
use crate::boardfile::file::DeviceSpec;
use crate::boardfile::{Board, BoardSpec, HostKind};
use crate::model::verdict::Verdict;
use crate::tools::compile::{Compiler, cache_dir};
use crate::tools::toolchain::{ToolInfo, Toolchain};
use crate::util::error::{Error, Result};

/// The selected boards' targets, and the boards that cannot be used here (with why).
pub struct Targets {
    opened: BTreeMap<String, Arc<dyn Target>>,
    /// Device boards, by name, for the firmware step before a run.
    devices: BTreeMap<String, Arc<BoardTarget>>,
    /// Unix boards built from a tree, by name, for their frozen variant.
    built_hosts: BTreeMap<String, Arc<HostTarget>>,
    unavailable: BTreeMap<String, String>,
    /// Boards run by their own workers (one per instance) instead of the CPU pool.
    lanes: BTreeMap<String, usize>,
    /// Each board's frozen-mode target (its frozen firmware booted), or why it has none.
    frozen: BTreeMap<String, std::result::Result<Arc<dyn Target>, FrozenMissing>>,
}

/// Why a board's frozen trials cannot run.
#[derive(Debug, Clone)]
pub enum FrozenMissing {
    /// The board cannot freeze here (a skip, with why).
    Unsupported(String),
    /// Building or opening its frozen firmware failed (an error, with the message).
    Failed(String),
}

/// One mpy-cross per path, shared by every target that uses it.
pub struct Compilers {
    cache: PathBuf,
    pinned: PathBuf,
    by_path: BTreeMap<PathBuf, Arc<Compiler>>,
}

impl Compilers {
    pub fn new(state_dir: &std::path::Path, toolchain: &Toolchain) -> Compilers {
        Compilers {
            cache: cache_dir(state_dir, "mpy"),
            pinned: toolchain.mpy_cross.clone(),
            by_path: BTreeMap::new(),
        }
    }

    /// The compiler at `path`, or the pinned one.
    pub fn get(&mut self, path: Option<&PathBuf>) -> Arc<Compiler> {
        let (path, pinned) = match path {
            Some(p) => (p.clone(), false),
            None => (self.pinned.clone(), true),
        };
        let cache = self.cache.clone();
        self.by_path
            .entry(path.clone())
            .or_insert_with(|| Arc::new(Compiler::new(path, pinned, cache)))
            .clone()
    }
}

/// The skip reason of a board the environment does not provide (`why`: what to set).
pub fn unavailable_reason(why: &str) -> String {
    format!("board unavailable: {why}")
}

impl Targets {
    /// Opens every board's target; a board the environment does not provide (its
    /// firmware or tree variable unset) is recorded as unavailable, not opened.
    pub fn open(
        boards: &[Arc<Board>],
        toolchain: &Toolchain,
        compilers: &mut Compilers,
    ) -> Result<Targets> {
        let mut t = Targets {
            opened: BTreeMap::new(),
            devices: BTreeMap::new(),
            built_hosts: BTreeMap::new(),
            unavailable: BTreeMap::new(),
            lanes: BTreeMap::new(),
            frozen: BTreeMap::new(),
        };
        for board in boards {
            if let Some(why) = board.unavailable() {
                t.unavailable.insert(board.name.clone(), why.to_string());
                continue;
            }
            if let BoardSpec::Device(d) = &board.spec {
                let target = open_device(board, d, toolchain, compilers)?;
                // A pool's members each run `instances` sessions from the board's queue.
                let members = match &d.labgrid {
                    Some(lg) => lg.places.len(),
                    None => d.config.members().len().max(1),
                };
                t.lanes.insert(board.name.clone(), d.instances * members);
                t.devices.insert(board.name.clone(), target.clone());
                t.opened.insert(board.name.clone(), target);
                continue;
            }
            if let BoardSpec::Host(h) = &board.spec
                && h.build.is_some()
            {
                let host = open_host(board, h, toolchain, compilers)?;
                t.built_hosts.insert(board.name.clone(), host.clone());
                t.opened.insert(board.name.clone(), host);
                continue;
            }
            t.opened.insert(
                board.name.clone(),
                open_target(board, toolchain, compilers)?,
            );
        }
        Ok(t)
    }

    /// The target of a board, or the verdict its trials get when there is none.
    pub fn get(&self, board: &str) -> Result<&dyn Target, Verdict> {
        if let Some(why) = self.unavailable.get(board) {
            return Err(Verdict::Skip {
                reason: unavailable_reason(why),
            });
        }
        self.opened
            .get(board)
            .map(|t| t.as_ref())
            .ok_or_else(|| Verdict::Error {
                message: format!("board `{board}` was not opened"),
            })
    }

    /// The target of a board's frozen trials, or the verdict they get without one.
    pub fn frozen(&self, board: &str) -> Result<&dyn Target, Verdict> {
        self.get(board)?;
        match self.frozen.get(board) {
            Some(Ok(t)) => Ok(t.as_ref()),
            Some(Err(FrozenMissing::Unsupported(reason))) => Err(Verdict::Skip {
                reason: reason.clone(),
            }),
            Some(Err(FrozenMissing::Failed(message))) => Err(Verdict::Error {
                message: message.clone(),
            }),
            None => Err(Verdict::Skip {
                reason: format!(
                    "board `{board}` has no frozen firmware in this run (frozen mode needs a board built from source: a `build:` section)"
                ),
            }),
        }
    }

    /// Sets what a board's frozen trials run on (setup, after building the variant).
    pub fn set_frozen(
        &mut self,
        board: &str,
        target: std::result::Result<Arc<dyn Target>, FrozenMissing>,
    ) {
        self.frozen.insert(board.to_string(), target);
    }

    pub fn unavailable(&self) -> &BTreeMap<String, String> {
        &self.unavailable
    }

    pub fn device(&self, board: &str) -> Option<&Arc<BoardTarget>> {
        self.devices.get(board)
    }

    /// A unix board built from a tree (its frozen variant runs the same way).
    pub fn built_host(&self, board: &str) -> Option<&Arc<HostTarget>> {
        self.built_hosts.get(board)
    }

    /// The members of every pool of identical boards, and what became of each.
    pub fn members(&self) -> Vec<super::members::MemberState> {
        self.devices.values().flat_map(|d| d.members()).collect()
    }

    /// How many workers a board gets, for boards with lanes of their own.
    pub fn lanes(&self, board: &str) -> Option<usize> {
        self.lanes.get(board).copied()
    }

    /// Boards whose output is a disassembly.
    pub fn disassembling(&self) -> Vec<String> {
        self.opened
            .iter()
            .filter(|(_, t)| t.capabilities().produces == Produces::Disassembly)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Every tool the targets use, with the versions they reported (asked in parallel:
    /// each VM start costs tens of milliseconds).
    pub fn tools(&self) -> Vec<ToolInfo> {
        use rayon::prelude::*;
        self.opened
            .par_iter()
            .flat_map(|(_, t)| t.tools())
            .collect()
    }
}

/// A host VM or bytecode board's target.
pub fn open_target(
    board: &Board,
    toolchain: &Toolchain,
    compilers: &mut Compilers,
) -> Result<Arc<dyn Target>> {
    match &board.spec {
        BoardSpec::Host(spec) => Ok(open_host(board, spec, toolchain, compilers)?),
        BoardSpec::Bytecode(spec) => {
            let path = match &spec.mpy_cross_version {
                Some(v) => Some(toolchain.mpy_cross_version(v)?),
                None => spec.mpy_cross.clone(),
            };
            let base = compilers.get(path.as_ref());
            let compiler = Compiler::new(
                base.path.clone(),
                base.pinned,
                base.cache_dir().to_path_buf(),
            )
            .with_flags(spec.flags.clone());
            Ok(Arc::new(BytecodeTarget::new(Arc::new(compiler))))
        }
        BoardSpec::Device(spec) => Ok(open_device(board, spec, toolchain, compilers)?),
    }
}

/// A host VM's target: the board file's VM or the pinned one.
fn open_host(
    board: &Board,
    spec: &crate::boardfile::HostSpec,
    toolchain: &Toolchain,
    compilers: &mut Compilers,
) -> Result<Arc<HostTarget>> {
    let (vm, pinned) = match (&spec.executable, spec.kind) {
        (Some(p), _) => (p.clone(), false),
        (None, HostKind::Unix) => (toolchain.micropython.clone(), true),
        (None, HostKind::Webassembly) => match &spec.npm_version {
            Some(v) => (toolchain.webassembly_version(v)?, true),
            None => (toolchain.micropython_mjs.clone(), true),
        },
        (None, HostKind::Cpython) => (toolchain.python.clone(), false),
    };
    let compiler = (spec.kind != HostKind::Cpython).then(|| compilers.get(spec.mpy_cross.as_ref()));
    Ok(Arc::new(HostTarget::new(
        board,
        spec.kind,
        (vm, pinned),
        toolchain,
        spec.args.clone(),
        compiler,
    )?))
}

/// A board behind a console: its tools installed if missing, its target made (sessions
/// connect on first use).
fn open_device(
    board: &Board,
    spec: &DeviceSpec,
    toolchain: &Toolchain,
    compilers: &mut Compilers,
) -> Result<Arc<BoardTarget>> {
    if let Some(lg) = &spec.labgrid {
        return open_labgrid_device(board, spec, lg, toolchain, compilers);
    }
    if let Some(q) = &spec.config.qemu {
        let present = |q: &crate::boardfile::config::QemuConfig| {
            crate::tools::toolchain::find_on_path(&q.binary).is_some()
                && std::path::Path::new(&q.firmware).exists()
        };
        if !present(q) {
            crate::tools::toolchain::ensure_debian_packages(
                &spec.packages,
                &format!("board `{}` ({})", board.name, board.file.display()),
            )?;
        }
        if !present(q) {
            return Err(Error::Toolchain(format!(
                "board `{}` ({}): `{}` or its firmware {} is missing",
                board.name,
                board.file.display(),
                q.binary,
                q.firmware
            )));
        }
    }
    let compiler = compilers.get(spec.mpy_cross.as_ref());
    let target = BoardTarget::new(
        &board.name,
        spec.config.clone(),
        spec.instances,
        Some(compiler),
    )
    .with_members(spec.config.members());
    let reset_by_probe = spec
        .config
        .serial
        .as_ref()
        .is_some_and(|s| s.reset == crate::boardfile::config::ResetMethod::Hook);
    Ok(Arc::new(match (&spec.probe, reset_by_probe) {
        (Some(probe), true) => {
            let probe = crate::hw::flash::probe_section::checked(probe)
                .map_err(|e| Error::Part(Box::new(e)))?;
            target.with_probe_reset((*probe).clone())
        }
        _ => target,
    }))
}

/// A board in a labgrid place: the place is acquired now (waiting while another run holds
/// it) and held by the target, so it is released when the run drops its targets. A pool's
/// places are acquired on threads of their own, each member joining once held.
fn open_labgrid_device(
    board: &Board,
    spec: &DeviceSpec,
    lg: &crate::boardfile::labgrid::LabgridSpec,
    toolchain: &Toolchain,
    compilers: &mut Compilers,
) -> Result<Arc<BoardTarget>> {
    let binary = toolchain.labgrid_client()?;
    let log_dir = toolchain.dir.with_file_name("labgrid");
    if lg.is_pool() {
        let compiler = compilers.get(spec.mpy_cross.as_ref());
        let (sessions, acquiring) =
            super::pool::acquire(board, lg, &spec.config, spec.instances, &binary, &log_dir);
        let target = BoardTarget::new(
            &board.name,
            spec.config.clone(),
            spec.instances,
            Some(compiler),
        );
        return Ok(Arc::new(target.with_pool(sessions, acquiring)));
    }
    let client = crate::hw::labgrid::client::Client::new(binary, lg.clone());
    let place =
        crate::hw::labgrid::HeldPlace::acquire(client, &board.file.display().to_string(), &log_dir)
            .map_err(|e| match e {
                crate::hw::labgrid::LabgridError::Interrupted { .. } => {
                    Error::Interrupted(format!("board `{}`: {e}", board.name))
                }
                e => Error::board(&board.name, &board.file, e),
            })?;
    let compiler = compilers.get(spec.mpy_cross.as_ref());
    let config = place.board_config(&spec.config);
    Ok(Arc::new(
        BoardTarget::new(&board.name, config, spec.instances, Some(compiler)).with_place(place),
    ))
}

/// The CPython reference's board when no `cpython` board file exists.
pub fn default_cpython_board(boards_dir: &std::path::Path) -> Board {
    Board {
        name: "cpython".into(),
        family: "cpython".into(),
        file: boards_dir.join("cpython.yaml"),
        description: "CPython reference".into(),
        timeout: Duration::from_secs(30),
        modes: vec![crate::model::case::Mode::Source],
        cases: Vec::new(),
        default: false,
        perf: None,
        spec: BoardSpec::Host(crate::boardfile::HostSpec {
            kind: HostKind::Cpython,
            executable: None,
            mpy_cross: None,
            args: Vec::new(),
            npm_version: None,
            build: None,
            unavailable: None,
        }),
    }
}
