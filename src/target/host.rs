//! Host VMs: the unix port, the webassembly port under Node, and CPython. One process per
//! case; they differ only in the command line, built here in one place.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use super::{Outcome, RunRequest, Target, process};
use crate::board::{Board, HostKind};
use crate::case::Mode;
use crate::compile::Compiler;
use crate::error::{Error, Result};
use crate::features::Features;
use crate::toolchain::{ToolInfo, VERSION_SNIPPET, reported_version};

/// Why 1 MiB: the webassembly CLI's default is 128 KiB, too small for some cases; the
/// unix port defaults to more. Larger changes nothing but start-up memory.
const WEBASSEMBLY_HEAP: &str = "1048576";

pub struct HostTarget {
    kind: HostKind,
    vm: PathBuf,
    vm_pinned: bool,
    node: PathBuf,
    driver: PathBuf,
    args: Vec<String>,
    compiler: Option<Arc<Compiler>>,
    features: Features,
}

impl HostTarget {
    pub fn new(
        board: &Board,
        kind: HostKind,
        vm: (PathBuf, bool),
        toolchain: &crate::toolchain::Toolchain,
        args: Vec<String>,
        compiler: Option<Arc<Compiler>>,
    ) -> Result<HostTarget> {
        let (vm, vm_pinned) = vm;
        let found = if vm.components().count() == 1 {
            crate::toolchain::find_on_path(&vm.to_string_lossy())
        } else {
            vm.exists().then(|| vm.clone())
        };
        let vm = found.ok_or_else(|| {
            Error::Toolchain(format!(
                "board `{}` ({}): VM `{}` not found",
                board.name,
                board.file.display(),
                vm.display()
            ))
        })?;
        // Host VMs built from the pinned packages have every feature cases ask for; a
        // user's own build is probed per feature by the cases themselves (`SKIP`).
        let features = match kind {
            HostKind::Cpython => Features::all_of(&["float", "bigint", "fstring"]),
            HostKind::Unix | HostKind::Webassembly => Features::all_of(crate::features::KNOWN),
        };
        Ok(HostTarget {
            kind,
            vm,
            vm_pinned,
            node: toolchain.node.clone(),
            driver: toolchain.webassembly_driver.clone(),
            args,
            compiler,
            features,
        })
    }

    fn base_command(&self) -> Command {
        match self.kind {
            HostKind::Unix => {
                let mut c = Command::new(&self.vm);
                c.args(&self.args);
                c
            }
            HostKind::Webassembly => {
                let mut c = Command::new(&self.node);
                c.arg(&self.driver).arg(&self.vm).arg(WEBASSEMBLY_HEAP);
                c
            }
            HostKind::Cpython => {
                let mut c = Command::new(&self.vm);
                // As upstream: no .pyc files beside the cases, no site packages.
                c.args(["-B", "-S"]).args(&self.args);
                c
            }
        }
    }

    /// The command that runs a case from source, with the case's directory as cwd. The
    /// file is named relative to it, so tracebacks show `name.py`, as from a `.mpy`, and
    /// goldens do not depend on where the checkout is.
    pub fn source_command(&self, case_path: &Path) -> Command {
        let dir = case_path.parent().unwrap_or(Path::new("."));
        let file = case_path.file_name().map_or(case_path, Path::new);
        let mut c = self.base_command();
        match self.kind {
            HostKind::Webassembly => c.arg("run").arg(case_path),
            HostKind::Unix | HostKind::Cpython => c.arg(file),
        };
        c.current_dir(dir);
        c
    }

    /// The command that runs the case inside mpcheck's heap wrapper (see `heap`), with the
    /// wrapper and any `.mpy` in `scratch`.
    fn heap_command(
        &self,
        request: &RunRequest,
        scratch: &Path,
        zero_alloc: Option<&str>,
    ) -> Option<Command> {
        let case = request.case;
        let case_dir = case.path.parent().unwrap_or(Path::new("."));
        let module = case.module_name();
        let file = format!("{module}.py");
        let wrapper = scratch.join("_mpcheck_heap.py");
        let load = match (request.mode, self.kind) {
            // The driver puts the case directory's files at the root of the VM's filesystem.
            (Mode::Source, HostKind::Webassembly) => crate::heap::Load::Source {
                path: format!("/{file}"),
                name: file,
            },
            // A fixed relative name: the path is a string literal in the wrapper, and
            // literals are interned as qstrs, so its length would shift the figures.
            (Mode::Source, _) => {
                std::fs::copy(&case.path, scratch.join("_mpcheck_case.py")).ok()?;
                crate::heap::Load::Source {
                    path: "_mpcheck_case.py".into(),
                    name: file,
                }
            }
            (Mode::Mpy, _) => {
                std::fs::write(scratch.join(format!("{module}.mpy")), request.mpy?).ok()?;
                crate::heap::Load::Mpy {
                    module: module.to_string(),
                }
            }
        };
        std::fs::write(&wrapper, crate::heap::wrapper(&load, zero_alloc)).ok()?;
        let mut c = self.base_command();
        match self.kind {
            HostKind::Unix => {
                // Heap figures must not depend on where the checkout or the temp dir is:
                // a module's `__file__` is on the heap. So everything loads by a relative
                // name from `scratch` (the wrapper as a module, the .mpy, and copies of
                // the helper modules beside the case), with `.frozen` for asyncio & co.
                for entry in std::fs::read_dir(case_dir).ok()?.flatten() {
                    let name = entry.file_name();
                    if name.to_string_lossy().starts_with('_')
                        && name.to_string_lossy().ends_with(".py")
                    {
                        std::fs::copy(entry.path(), scratch.join(&name)).ok()?;
                    }
                }
                c.args(["-m", "_mpcheck_heap"])
                    .current_dir(scratch)
                    .env("MICROPYPATH", ".frozen");
            }
            HostKind::Webassembly => match request.mode {
                Mode::Source => {
                    c.arg("run").arg(&wrapper).arg(case_dir);
                }
                Mode::Mpy => {
                    c.arg("import")
                        .arg(scratch.join(format!("{module}.mpy")))
                        .arg(case_dir)
                        .arg(&wrapper);
                }
            },
            HostKind::Cpython => return None,
        }
        Some(c)
    }

    /// The command that imports `module.mpy` from `mpy_dir` (a temp dir, never `cases/`).
    pub fn mpy_command(&self, case_path: &Path, mpy_dir: &Path, module: &str) -> Command {
        let case_dir = case_path.parent().unwrap_or(Path::new("."));
        let mut c = self.base_command();
        match self.kind {
            HostKind::Unix => {
                // cwd (sys.path's '') holds the .mpy, so it wins over the case's own .py;
                // the case directory follows for the helper modules beside it.
                // MICROPYPATH replaces the default path, and asyncio & co. are frozen
                // modules: `.frozen` must stay on it.
                let mut path = case_dir.as_os_str().to_owned();
                path.push(":.frozen");
                c.arg("-m")
                    .arg(module)
                    .current_dir(mpy_dir)
                    .env("MICROPYPATH", path);
            }
            HostKind::Webassembly => {
                c.arg("import")
                    .arg(mpy_dir.join(format!("{module}.mpy")))
                    .arg(case_dir);
            }
            HostKind::Cpython => unreachable!("board files reject mpy mode for cpython"),
        }
        c
    }
}

impl Target for HostTarget {
    fn tools(&self) -> Vec<ToolInfo> {
        let version = match self.kind {
            HostKind::Cpython => reported_version(Command::new(&self.vm).arg("--version")),
            HostKind::Unix => reported_version(
                Command::new(&self.vm)
                    .args(&self.args)
                    .args(["-c", VERSION_SNIPPET]),
            ),
            HostKind::Webassembly => {
                reported_version(self.base_command().args(["exec", VERSION_SNIPPET]))
            }
        };
        let mut tools = vec![ToolInfo {
            tool: self.kind.as_str().to_string(),
            path: self.vm.clone(),
            version,
            pinned: self.vm_pinned,
        }];
        if self.kind == HostKind::Webassembly {
            tools.push(ToolInfo {
                tool: "node".into(),
                path: self.node.clone(),
                version: reported_version(Command::new(&self.node).arg("--version")),
                pinned: false,
            });
        }
        tools.extend(self.compiler.as_ref().map(|c| c.tool_info()));
        tools
    }

    fn features(&self) -> &Features {
        &self.features
    }

    fn compiler(&self) -> Option<&Arc<Compiler>> {
        self.compiler.as_ref()
    }

    fn capabilities(&self) -> super::Capabilities {
        super::Capabilities {
            produces: super::Produces::ProgramOutput,
            // The heap wrapper needs MicroPython's `gc` and `micropython` modules.
            measures_heap: self.kind != HostKind::Cpython,
            lossy_link: false,
        }
    }

    fn run(&self, request: &RunRequest) -> Outcome {
        // The .mpy goes into a fresh temp dir (never into cases/), removed on drop.
        let scratch = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => {
                return Outcome::not_started(
                    format!("could not make a temp dir: {e}"),
                    Default::default(),
                );
            }
        };
        // An upstream test runs as run-tests.py runs it (see upstream::exec).
        if let Some(u) = &request.case.upstream
            && let Some(o) = crate::upstream::exec::run(
                self.kind,
                &self.vm,
                &self.args,
                u,
                request,
                scratch.path(),
            )
        {
            return o;
        }
        let mut outcome = match self.bare_command(request, scratch.path()) {
            Some(cmd) => process::run(cmd, request.timeout),
            None => {
                return Outcome::not_started(
                    "the case could not be prepared (mpy mode without a .mpy, or no heap wrapper for this VM)".into(),
                    Default::default(),
                );
            }
        };
        if request.heap.is_some() {
            let (output, figures) = crate::heap::extract(&outcome.output);
            outcome.output = output;
            outcome.heap = figures;
        }
        outcome
    }

    fn bare_command(&self, request: &RunRequest, scratch: &Path) -> Option<Command> {
        if let Some(u) = &request.case.upstream
            && let Some(c) =
                crate::upstream::exec::command(self.kind, &self.vm, &self.args, u, request, scratch)
        {
            return Some(c);
        }
        if let Some(zero_alloc) = request.heap {
            return self.heap_command(request, scratch, zero_alloc);
        }
        match (request.mode, request.mpy) {
            (Mode::Source, _) => Some(self.source_command(&request.case.path)),
            (Mode::Mpy, Some(bytes)) => {
                let module = request.case.module_name();
                std::fs::write(scratch.join(format!("{module}.mpy")), bytes).ok()?;
                Some(self.mpy_command(&request.case.path, scratch, module))
            }
            (Mode::Mpy, None) => None,
        }
    }
}
