//! Host VMs: the unix port, the webassembly port under Node, and CPython. One process per
//! case; they differ only in the command line, built here in one place.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use super::{RunRequest, Target, process};
use crate::boardfile::{Board, HostKind};
use crate::device::features::{PROBE_TIMEOUT, Undecided};
use crate::model::case::Mode;
use crate::model::features::Features;
use crate::model::outcome::{Outcome, Status};
use crate::tools::compile::Compiler;
use crate::tools::toolchain::{ToolInfo, VERSION_SNIPPET, reported_version};
use crate::util::error::{Error, Result};

/// Host VMs run no frozen trial: the pipeline skips them (with why) before they get here.
const NOT_FROZEN: &str = "a host VM runs no frozen trials (the pipeline skips them)";

/// Why 1 MiB: the webassembly CLI's default is 128 KiB, too small for some cases; the
/// unix port defaults to more. Larger changes nothing but start-up memory.
const WEBASSEMBLY_HEAP: &str = "1048576";

#[derive(Clone)]
pub struct HostTarget {
    kind: HostKind,
    vm: PathBuf,
    vm_pinned: bool,
    node: PathBuf,
    driver: PathBuf,
    args: Vec<String>,
    compiler: Option<Arc<Compiler>>,
    /// Known up front, or probed on first use (a VM built from a tree).
    features: OnceLock<Features>,
    /// What the VM says its version is, asked once: a checkout's plan reads it (to note
    /// tests of another release) and every report lists it, and each asking starts the VM.
    version: OnceLock<String>,
}

impl HostTarget {
    pub fn new(
        board: &Board,
        kind: HostKind,
        vm: (PathBuf, bool),
        toolchain: &crate::tools::toolchain::Toolchain,
        args: Vec<String>,
        compiler: Option<Arc<Compiler>>,
    ) -> Result<HostTarget> {
        let (vm, vm_pinned) = vm;
        let found = if vm.components().count() == 1 {
            crate::tools::toolchain::find_on_path(&vm.to_string_lossy())
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
        // Host VMs built from the pinned packages have every feature cases ask for; one
        // built from a tree (any variant, any make variables) is probed on first use; a
        // user's own executable is probed per feature by the cases themselves (`SKIP`).
        let features = OnceLock::new();
        let built_from_tree =
            matches!(&board.spec, crate::boardfile::BoardSpec::Host(h) if h.build.is_some());
        let known = match kind {
            HostKind::Cpython => Some(Features::all_of(&["float", "bigint", "fstring", "async"])),
            HostKind::Unix if built_from_tree => None,
            HostKind::Unix => Some(Features::all_of(crate::model::features::KNOWN)),
            // No native emitter in a WebAssembly VM.
            HostKind::Webassembly => {
                let mut f = Features::all_of(crate::model::features::KNOWN);
                f.0.insert("native".into(), false);
                Some(f)
            }
        };
        if let Some(known) = known {
            let _ = features.set(known);
        }
        Ok(HostTarget {
            kind,
            vm,
            vm_pinned,
            node: toolchain.node.clone(),
            driver: toolchain.webassembly_driver.clone(),
            args,
            compiler,
            features,
            version: OnceLock::new(),
        })
    }

    /// The VM's command line up to the case; `scratch`: the only directory the case may
    /// write to, where the VM can enforce that (Node's permission model, for the
    /// webassembly port: a case reaches Node's `fs` through the `js` module).
    fn base_command(&self, scratch: Option<&Path>) -> Command {
        match self.kind {
            HostKind::Unix => {
                let mut c = Command::new(&self.vm);
                c.args(&self.args);
                c
            }
            HostKind::Webassembly => {
                let mut c = Command::new(&self.node);
                if let Some(dir) = scratch {
                    // No child processes, no workers, writes only in scratch. The flag is
                    // experimental in Node 20, hence its warning is silenced.
                    let mut write = std::ffi::OsString::from("--allow-fs-write=");
                    write.push(dir);
                    write.push("/");
                    c.args([
                        "--experimental-permission",
                        "--allow-fs-read=*",
                        "--no-warnings",
                    ])
                    .arg(write);
                }
                c.arg(&self.driver).arg(&self.vm).arg(WEBASSEMBLY_HEAP);
                c.env("MPCHECK_OUTPUT_CAP", process::OUTPUT_CAP.to_string());
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

    /// Every command runs in `scratch`, where [`prepare_scratch`] put the case's files:
    /// `PWD` names it too (a shell-started VM would otherwise inherit mpcheck's).
    fn in_scratch(mut c: Command, scratch: &Path) -> Command {
        c.current_dir(scratch)
            .env("PWD", scratch)
            .env_remove("OLDPWD");
        c
    }

    /// The command that runs the case from source: its copy in `scratch`, named relative
    /// to it, so tracebacks show `name.py` (as from a `.mpy`) and goldens do not depend
    /// on where the checkout is.
    fn source_command(&self, scratch: &Path, file: &Path) -> Command {
        let mut c = self.base_command(Some(scratch));
        match self.kind {
            HostKind::Webassembly => c.arg("run").arg(scratch.join(file)).arg(scratch),
            HostKind::Unix | HostKind::Cpython => c.arg(file),
        };
        Self::in_scratch(c, scratch)
    }

    /// The command that runs the case inside mpcheck's heap wrapper (see `heap`), with the
    /// wrapper and any `.mpy` in `scratch`.
    fn heap_command(
        &self,
        request: &RunRequest,
        scratch: &Path,
        zero_alloc: crate::model::heap::Wrap<'_>,
    ) -> Result<Command, String> {
        let case = request.case;
        let module = case.module_name();
        let file = format!("{module}.py");
        let wrapper = scratch.join("_mpcheck_heap.py");
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
        };
        let load = match (request.mode, self.kind) {
            // The driver puts the scratch directory's files at the root of the VM's
            // filesystem.
            (Mode::Source, HostKind::Webassembly) => crate::model::heap::Load::Source {
                text: format!("open({:?}).read()", format!("/{file}")),
                name: file,
            },
            // A fixed relative name: the path is a string literal in the wrapper, and
            // literals are interned as qstrs, so its length would shift the figures.
            (Mode::Source, _) => {
                write(&scratch.join("_mpcheck_case.py"), &case.source)?;
                crate::model::heap::Load::Source {
                    text: "open(\"_mpcheck_case.py\").read()".into(),
                    name: file,
                }
            }
            (Mode::Mpy, _) => {
                let mpy = request.mpy.ok_or("mpy mode without a .mpy")?;
                write(&scratch.join(format!("{}.mpy", case.import_name)), mpy)?;
                crate::model::heap::Load::Import {
                    module: case.import_name.clone(),
                }
            }
            (Mode::Frozen, _) => return Err(NOT_FROZEN.into()),
        };
        write(
            &wrapper,
            crate::model::heap::wrapper(&load, zero_alloc).as_bytes(),
        )?;
        let mut c = self.base_command(Some(scratch));
        match self.kind {
            HostKind::Unix => {
                // Heap figures must not depend on where the checkout or the temp dir is:
                // a module's `__file__` is on the heap. So everything loads by a relative
                // name from `scratch` (the wrapper as a module, the .mpy, and the helper
                // modules' copies), with `.frozen` for asyncio & co.
                c.args(["-m", "_mpcheck_heap"])
                    .env("MICROPYPATH", ".frozen");
            }
            HostKind::Webassembly => match request.mode {
                Mode::Source => {
                    c.arg("run").arg(&wrapper).arg(scratch);
                }
                Mode::Mpy => {
                    c.arg("import")
                        .arg(scratch.join(format!("{}.mpy", case.import_name)))
                        .arg(scratch)
                        .arg(&wrapper);
                }
                Mode::Frozen => return Err(NOT_FROZEN.into()),
            },
            HostKind::Cpython => return Err("no heap wrapper for CPython".into()),
        }
        Ok(Self::in_scratch(c, scratch))
    }

    /// The command that imports `scratch/<module>.mpy`.
    fn mpy_command(&self, scratch: &Path, module: &str) -> Command {
        let mut c = self.base_command(Some(scratch));
        match self.kind {
            HostKind::Unix => {
                // `-m` puts the cwd (scratch: the .mpy and the helpers' copies) first on
                // sys.path. MICROPYPATH replaces the default path, and asyncio & co. are
                // frozen modules: `.frozen` must stay on it.
                c.arg("-m").arg(module).env("MICROPYPATH", ".frozen");
            }
            HostKind::Webassembly => {
                c.arg("import")
                    .arg(scratch.join(format!("{module}.mpy")))
                    .arg(scratch);
            }
            HostKind::Cpython => unreachable!("board files reject mpy mode for cpython"),
        }
        Self::in_scratch(c, scratch)
    }

    /// The command for a request, with the files it needs written into `scratch`.
    fn prepare(&self, request: &RunRequest, scratch: &Path) -> Result<Command, String> {
        prepare_scratch(request.case, scratch, request.mode == Mode::Source)?;
        if let Some(zero_alloc) = request.heap {
            return self.heap_command(request, scratch, zero_alloc);
        }
        match (request.mode, request.mpy) {
            (Mode::Source, _) => Ok(self.source_command(scratch, &case_file(request.case))),
            (Mode::Mpy, Some(bytes)) => {
                let module = &request.case.import_name;
                let path = scratch.join(format!("{module}.mpy"));
                std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(self.mpy_command(scratch, module))
            }
            (Mode::Mpy, None) => Err("mpy mode without a .mpy".into()),
            (Mode::Frozen, _) => Err(NOT_FROZEN.into()),
        }
    }
}

impl HostTarget {
    fn host_vm(&self) -> super::HostVm<'_> {
        super::HostVm {
            kind: self.kind,
            path: &self.vm,
            args: &self.args,
        }
    }

    /// The same VM settings with another executable: a unix board's frozen variant (the
    /// features the plain build probed hold for it: one configuration, other modules).
    pub fn with_vm(&self, vm: PathBuf) -> HostTarget {
        HostTarget {
            vm,
            version: OnceLock::new(),
            ..self.clone()
        }
    }

    /// Imports `module`, frozen into this VM under `.frozen/<dir>/` (helpers beside it),
    /// measuring its heap when `request` asks: `.frozen/<dir>` first on the path, then
    /// `.frozen` (asyncio & co.), run from an empty scratch dir.
    pub fn run_frozen(&self, request: &RunRequest, dir: &str, module: &str) -> Outcome {
        let scratch = match scratch_dir() {
            Ok(d) => d,
            Err(not_started) => return *not_started,
        };
        let mut c = self.base_command(Some(scratch.path()));
        c.env("MICROPYPATH", format!(".frozen/{dir}:.frozen"));
        match request.heap {
            Some(zero_alloc) => {
                let load = crate::model::heap::Load::Import {
                    module: module.to_string(),
                };
                let wrapper = scratch.path().join("_mpcheck_heap.py");
                if let Err(e) = std::fs::write(
                    &wrapper,
                    crate::model::heap::wrapper(&load, zero_alloc).as_bytes(),
                ) {
                    return Outcome::not_started(
                        format!("{}: {e}", wrapper.display()),
                        Default::default(),
                    );
                }
                c.args(["-m", "_mpcheck_heap"]);
            }
            None => {
                c.args(["-m", module]);
            }
        }
        let mut outcome = process::run(Self::in_scratch(c, scratch.path()), request.timeout);
        if request.heap.is_some() {
            let (output, figures) = crate::model::heap::extract(&outcome.output);
            outcome.output = output;
            outcome.heap = figures;
        }
        outcome
    }

    /// The VM's features from the probes every board gets (board::features), each run
    /// as `VM -c SCRIPT` in a temp dir of its own (one probe writes a `.mpy` there): a
    /// script that exits 0 printed its answer, one that raised exits non-zero, one that
    /// hangs or cannot start is undecided. Nothing decided when no temp dir can be made.
    fn probe(&self) -> Features {
        let Ok(dir) = tempfile::tempdir() else {
            return Features::default();
        };
        let probed = crate::device::features::probe_with(|script| {
            let mut c = self.base_command(None);
            c.arg("-c").arg(script);
            let outcome = process::run(Self::in_scratch(c, dir.path()), PROBE_TIMEOUT);
            Ok::<_, std::convert::Infallible>(match outcome.status {
                Status::Exited(0) => Ok(Some(String::from_utf8_lossy(&outcome.output).into())),
                Status::Exited(_) => Ok(None),
                _ => Err(Undecided),
            })
        });
        match probed {
            Ok(f) => f.known(),
            Err(never) => match never {},
        }
    }
}

/// The case's file name, as tracebacks show it.
fn case_file(case: &crate::model::case::Case) -> PathBuf {
    PathBuf::from(format!("{}.py", case.module_name()))
}

/// Fills a trial's scratch directory: copies of the helper modules beside the case
/// (`_*.py`), and in source mode of the case itself, under its own name. A case runs
/// there, never in `cases/`: nothing it writes by a relative path can reach `cases/`,
/// `golden/` or `boards/`, and the only paths it can learn (cwd, `__file__`, argv) are
/// the scratch ones.
fn prepare_scratch(
    case: &crate::model::case::Case,
    scratch: &Path,
    with_case: bool,
) -> Result<(), String> {
    let dir = case.path.parent().unwrap_or(Path::new("."));
    let failed = |p: &Path, e: std::io::Error| format!("preparing the case: {}: {e}", p.display());
    for entry in std::fs::read_dir(dir)
        .map_err(|e| failed(dir, e))?
        .flatten()
    {
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if text.starts_with('_') && text.ends_with(".py") {
            let bytes = crate::util::input::read(
                &entry.path(),
                crate::util::input::cap::SOURCE,
                "helper module",
            )
            .map_err(|e| format!("preparing the case: {e}"))?;
            std::fs::write(scratch.join(&name), bytes)
                .map_err(|e| failed(&scratch.join(&name), e))?;
        }
    }
    if with_case {
        let to = scratch.join(case_file(case));
        std::fs::write(&to, &case.source).map_err(|e| failed(&to, e))?;
    }
    Ok(())
}

/// A fresh temp dir for one run of a case (never in cases/), removed on drop; or the
/// outcome of a case that could not start without one.
fn scratch_dir() -> Result<tempfile::TempDir, Box<Outcome>> {
    tempfile::tempdir().map_err(|e| {
        Box::new(Outcome::not_started(
            format!("could not make a temp dir: {e}"),
            Default::default(),
        ))
    })
}

impl Target for HostTarget {
    fn tools(&self) -> Vec<ToolInfo> {
        let version = self
            .version
            .get_or_init(|| match self.kind {
                HostKind::Cpython => reported_version(Command::new(&self.vm).arg("--version")),
                HostKind::Unix => reported_version(
                    Command::new(&self.vm)
                        .args(&self.args)
                        .args(["-c", VERSION_SNIPPET]),
                ),
                HostKind::Webassembly => {
                    reported_version(self.base_command(None).args(["exec", VERSION_SNIPPET]))
                }
            })
            .clone();
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
        self.features.get_or_init(|| self.probe())
    }

    fn compiler(&self) -> Option<&Arc<Compiler>> {
        self.compiler.as_ref()
    }

    /// The unix VM runs on this machine: mpy-cross's own arch is its arch.
    fn native_arch(&self) -> Option<String> {
        (self.kind == HostKind::Unix).then(|| "host".to_string())
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
        // The case runs in a fresh temp dir (never in cases/), removed on drop.
        let scratch = match scratch_dir() {
            Ok(d) => d,
            Err(not_started) => return *not_started,
        };
        // An upstream test runs as run-tests.py runs it (see upstream::exec).
        if let Some(suite) = request.suite
            && let Some(o) = suite.run_on_host(&self.host_vm(), request, scratch.path())
        {
            return o;
        }
        let mut outcome = match self.prepare(request, scratch.path()) {
            Ok(cmd) => process::run(cmd, request.timeout),
            Err(why) => return Outcome::not_started(why, Default::default()),
        };
        if request.heap.is_some() {
            let (output, figures) = crate::model::heap::extract(&outcome.output);
            outcome.output = output;
            outcome.heap = figures;
        }
        outcome
    }

    fn instance_command(&self) -> Option<Command> {
        match self.kind {
            HostKind::Unix | HostKind::Cpython => Some(self.base_command(None)),
            // run-multitests.py refuses it too ("unsupported instance string").
            HostKind::Webassembly => None,
        }
    }

    fn bare_command(&self, request: &RunRequest, scratch: &Path) -> Option<Command> {
        if let Some(suite) = request.suite
            && let Some(c) = suite.host_command(&self.host_vm(), request, scratch)
        {
            return Some(c);
        }
        self.prepare(request, scratch).ok()
    }
}
