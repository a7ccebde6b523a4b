//! Builds a board's firmware and mpy-cross from a MicroPython source tree, out of tree,
//! with the port's own Makefile, cached by what the build depends on.
//!
//! ```text
//! build: {source, port, board|variant, args} ──▶ tree hash (sorted walk, sha256) + toolchain versions
//!     ──▶ .mpcheck/build/mpy-cross-<key>/mpy-cross        (make -C mpy-cross BUILD=…)
//!     ──▶ .mpcheck/build/<port>-<board>-<key>/<image>     (make -C ports/<port> BUILD=…)
//! ```
//!
//! Each artifact is built into a temp dir beside its cache dir and renamed into place only
//! when make succeeded and the image exists, so a failed build never poisons the cache;
//! a temp dir left by a failed or interrupted build is removed first (a build that failed
//! half-way can link wrongly). A file lock per artifact keeps concurrent mpchecks (the
//! trials and CLI tests) from building the same thing twice. Nothing here prints: stages
//! are reported through a [`BuildProgress`] callback.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use sha2::{Digest, Sha256};

mod frozen;
mod log;
mod port;
mod progress;
pub(crate) mod revision;
pub mod size;
mod tree;

pub(crate) use frozen::{FrozenFile, build_frozen};

pub(crate) use log::{error_lines, last_lines};
pub use port::Select;
pub(crate) use port::default_image;
use port::plain_manifest;
pub use progress::{Artifact, BuildError, BuildProgress};
pub(crate) use tree::{hex, tree_hash};

/// Bump when the way mpcheck builds changes (commands, variables, layout): every cached
/// build is then rebuilt once.
const RECIPE: &str = "mpcheck firmware build 1";

/// The parts of a MicroPython tree a port's build reads, besides `ports/<port>/`.
const TREE_DIRS: &[&str] = &[
    "py",
    "extmod",
    "shared",
    "mpy-cross",
    "lib",
    "drivers",
    "tools",
];

/// How many error lines a failed build reports, and how many trailing lines when it
/// printed none: enough for the first few compiler errors and make's summary line.
const REPORTED_LINES: usize = 20;
/// Long lines (a failing `Command '[…]'` with every source file) are cut to this.
const MAX_LINE_CHARS: usize = 400;

/// Make variables mpcheck sets itself; a board file's `args` must not override them.
pub(crate) const RESERVED_VARIABLES: &[&str] = &["BUILD", "BOARD", "VARIANT", "MPY_CROSS"];

/// A checked `build:` section: which tree, port and board, and extra make variables.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSpec {
    /// The MicroPython checkout (never written to: every build is out of tree).
    pub source: PathBuf,
    /// A directory under `ports/` whose Makefile builds the firmware, e.g. `qemu`.
    pub port: String,
    /// `BOARD=` for the port's Makefile, e.g. `MPS2_AN385` (or `VARIANT=`, e.g.
    /// `standard`, when [`BuildSpec::select`] says so).
    pub board: String,
    /// Which make variable `board` is given as: the unix port is built by variant.
    pub select: Select,
    /// Extra make variables, `NAME=value` (e.g. `CFLAGS_EXTRA=-DMICROPY_OPT_…=0`).
    pub args: Vec<String>,
    /// The image the board boots, relative to the build dir (default `firmware.elf`).
    pub image: String,
    /// The cross compiler whose `--version` is part of the cache key.
    pub compiler: String,
    /// Debian packages that provide the compilers, installed when a build needs them.
    pub packages: Vec<String>,
}

/// What a build produced (or found cached).
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub firmware: PathBuf,
    pub mpy_cross: PathBuf,
    /// The firmware's build dir (its objects seed the frozen variant's incremental build).
    pub firmware_dir: PathBuf,
}

/// The cache entries a build would use, and which of them exist.
struct Plan {
    mpy_cross_dir: PathBuf,
    firmware_dir: PathBuf,
    /// The two version lines that are part of the key (reported in the stamp file).
    versions: [String; 2],
}

impl Plan {
    fn mpy_cross(&self) -> PathBuf {
        self.mpy_cross_dir.join("mpy-cross")
    }
    fn firmware(&self, spec: &BuildSpec) -> PathBuf {
        self.firmware_dir.join(&spec.image)
    }
    fn hits(&self) -> Vec<Artifact> {
        let mut hits = Vec::new();
        if is_complete(&self.mpy_cross_dir) {
            hits.push(Artifact::MpyCross);
        }
        if is_complete(&self.firmware_dir) {
            hits.push(Artifact::Firmware);
        }
        hits
    }
}

/// The stamp written last into a finished build dir: its presence means "complete".
const STAMP: &str = "mpcheck-build.txt";

fn is_complete(dir: &Path) -> bool {
    dir.join(STAMP).is_file()
}

fn build_root(state_dir: &Path) -> PathBuf {
    state_dir.join("build")
}

/// Hashes the tree and works out the cache dirs. Reads only: no file is written.
fn plan(spec: &BuildSpec, file: &Path, state_dir: &Path) -> Result<Plan, BuildError> {
    check_source(spec, file)?;
    let tree = tree_hash(&spec.source, &spec.port).map_err(|error| BuildError::Source {
        file: file.to_path_buf(),
        tree: spec.source.clone(),
        why: format!("could not read the tree: {error}"),
    })?;
    let host = tool_version("gcc", file)?;
    let cross = tool_version(&spec.compiler, file)?;
    // A revision's version line (`compare --base-rev`) is mpy-cross's too: part of its
    // key only when given, so every other build keeps its key.
    let mut mpy_cross_key =
        Sha256::new().chain_update(format!("{RECIPE}\0mpy-cross\0{tree}\0{host}\0"));
    for a in version_args(spec) {
        mpy_cross_key.update(format!("{a}\0"));
    }
    let mpy_cross_key = hex(&mpy_cross_key.finalize());
    let mut firmware = Sha256::new().chain_update(format!(
        "{RECIPE}\0firmware\0{tree}\0{cross}\0{mpy_cross_key}\0{}\0{}\0{}\0",
        spec.port, spec.board, spec.image
    ));
    for arg in &spec.args {
        firmware.update(arg.as_bytes());
        firmware.update([0]);
    }
    // Only what a qemu build lacks: its keys (and caches) stay as they were.
    if spec.select != Select::Board {
        firmware.update(format!("{}\0", spec.select.variable()));
    }
    if let Some(manifest) = plain_manifest(spec) {
        firmware.update(format!("manifest\0{manifest}\0"));
    }
    let firmware_key = hex(&firmware.finalize());
    let root = build_root(state_dir);
    Ok(Plan {
        mpy_cross_dir: root.join(format!("mpy-cross-{}", &mpy_cross_key[..16])),
        firmware_dir: root.join(format!(
            "{}-{}-{}",
            spec.port,
            spec.board,
            &firmware_key[..16]
        )),
        versions: [host, cross],
    })
}

/// The built image if it is in the cache, without building (for `boards check`).
/// `Ok(None)`: not built yet. Reads only.
pub(crate) fn cached(
    spec: &BuildSpec,
    file: &Path,
    state_dir: &Path,
) -> Result<Option<Built>, BuildError> {
    let plan = plan(spec, file, state_dir)?;
    Ok((plan.hits().len() == 2).then(|| Built {
        firmware: plan.firmware(spec),
        mpy_cross: plan.mpy_cross(),
        firmware_dir: plan.firmware_dir.clone(),
    }))
}

/// Builds mpy-cross and the firmware unless cached; returns where they are.
///
/// `install` provisions the build's packages (the caller's toolchain does it, so this
/// module depends on nothing of mpcheck's): called when a compiler is missing, and
/// before any build that misses the cache.
pub(crate) fn build(
    spec: &BuildSpec,
    file: &Path,
    state_dir: &Path,
    install: &dyn Fn(&[String]) -> Result<(), String>,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<Built, BuildError> {
    let start = Instant::now();
    let provision = || {
        install(&spec.packages).map_err(|message| BuildError::Toolchain {
            file: file.to_path_buf(),
            message,
        })
    };
    // The compilers' versions are part of the key: install them first if missing.
    let tool_missing = [spec.compiler.as_str(), "gcc", "make"]
        .iter()
        .any(|t| which::which(t).is_err());
    if tool_missing {
        provision()?;
    }
    let plan = plan(spec, file, state_dir)?;
    let hits = plan.hits();
    progress(BuildProgress::Checked {
        source: spec.source.clone(),
        hits: hits.clone(),
        elapsed: start.elapsed(),
    });
    // Before building, the packages no tool on PATH stands for (the cross C library)
    // are checked too — on Debian, where dpkg can tell; a cache hit skips this.
    if hits.len() < 2 && !tool_missing && which::which("dpkg-query").is_ok() {
        provision()?;
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mpy_cross = plan.mpy_cross();
    let mut mpy_cross_make = Command::new("make");
    mpy_cross_make
        .arg("-C")
        .arg(spec.source.join("mpy-cross"))
        .arg(format!("-j{jobs}"))
        .args(version_args(spec));
    build_artifact(
        Artifact::MpyCross,
        &plan.mpy_cross_dir,
        "mpy-cross",
        mpy_cross_make,
        None,
        &plan,
        file,
        jobs,
        progress,
    )?;
    let mut firmware_make = firmware_make(spec, &mpy_cross, jobs);
    let manifest = plain_manifest(spec);
    if manifest.is_some() {
        // Written into the build dir by build_artifact, before make.
        firmware_make.arg(format!(
            "FROZEN_MANIFEST={}",
            sibling(&plan.firmware_dir, "tmp").join(MANIFEST).display()
        ));
    }
    build_artifact(
        Artifact::Firmware,
        &plan.firmware_dir,
        &spec.image,
        firmware_make,
        manifest.as_deref(),
        &plan,
        file,
        jobs,
        progress,
    )?;
    Ok(Built {
        firmware: plan.firmware(spec),
        mpy_cross,
        firmware_dir: plan.firmware_dir.clone(),
    })
}

/// The port's make for the firmware (BUILD= is added by the caller).
/// The build args that set py/makeversionhdr.py's version (`MICROPY_GIT_TAG=`,
/// `MICROPY_GIT_HASH=`): mpy-cross is given them as the firmware is.
fn version_args(spec: &BuildSpec) -> impl Iterator<Item = &String> {
    spec.args
        .iter()
        .filter(|a| a.starts_with("MICROPY_GIT_TAG=") || a.starts_with("MICROPY_GIT_HASH="))
}

fn firmware_make(spec: &BuildSpec, mpy_cross: &Path, jobs: usize) -> Command {
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(spec.source.join("ports").join(&spec.port))
        .arg(format!("{}={}", spec.select.variable(), spec.board))
        .arg(format!("-j{jobs}"))
        .arg(format!("MPY_CROSS={}", mpy_cross.display()))
        .args(&spec.args)
        // What tools/makemanifest.py runs for frozen modules; without it the build
        // looks for mpy-cross inside the (read-only) tree.
        .env("MICROPY_MPYCROSS", mpy_cross);
    make
}

/// The file name of the manifest mpcheck writes into a plain build's dir.
const MANIFEST: &str = "mpcheck-manifest.py";

/// Builds one artifact into `<dir>.tmp` (with `manifest` written there first as
/// [`MANIFEST`]), then renames it to `dir`; a no-op when `dir` is complete. Holds
/// `<dir>.lock` throughout.
#[allow(clippy::too_many_arguments)]
fn build_artifact(
    artifact: Artifact,
    dir: &Path,
    product: &str,
    make: Command,
    manifest: Option<&str>,
    plan: &Plan,
    file: &Path,
    jobs: usize,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<(), BuildError> {
    let io = |what, path: &Path| BuildError::io(file, artifact, what, path);
    if is_complete(dir) {
        return Ok(());
    }
    let root = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(root).map_err(io("create", root))?;
    let lock_path = sibling(dir, "lock");
    let lock = File::create(&lock_path).map_err(io("create", &lock_path))?;
    lock.lock().map_err(io("lock", &lock_path))?;
    // Another mpcheck may have built it while this one waited for the lock.
    if is_complete(dir) {
        return Ok(());
    }
    let tmp = sibling(dir, "tmp");
    if tmp.exists() {
        // Left by a failed or interrupted build: objects from it can link wrongly.
        std::fs::remove_dir_all(&tmp).map_err(io("remove", &tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
    if let Some(text) = manifest {
        let path = tmp.join(MANIFEST);
        std::fs::write(&path, text).map_err(io("write", &path))?;
    }
    progress(BuildProgress::Started {
        artifact,
        dir: dir.to_path_buf(),
        jobs,
    });
    let start = Instant::now();
    let command = run_make(artifact, make, &tmp, product, file)?;
    let stamp = format!(
        "{RECIPE}\n{command}\n{}\n{}\nbuilt in {:.1} s\n",
        plan.versions[0],
        plan.versions[1],
        start.elapsed().as_secs_f64()
    );
    let stamp_path = tmp.join(STAMP);
    std::fs::write(&stamp_path, stamp).map_err(io("write", &stamp_path))?;
    if dir.exists() {
        // An incomplete dir (no stamp) from an older layout: replace it.
        std::fs::remove_dir_all(dir).map_err(io("remove", dir))?;
    }
    std::fs::rename(&tmp, dir).map_err(io("rename into place", &tmp))?;
    progress(BuildProgress::Finished {
        artifact,
        path: dir.join(product),
        elapsed: start.elapsed(),
    });
    Ok(())
}

/// Runs `make` with `BUILD=build`, its output in `build/build.log`; `Ok` only when it
/// succeeded and made `product`. Returns the command as a user would type it.
fn run_make(
    artifact: Artifact,
    mut make: Command,
    build: &Path,
    product: &str,
    file: &Path,
) -> Result<String, BuildError> {
    let io = |what, path: &Path| BuildError::io(file, artifact, what, path);
    let log_path = build.join("build.log");
    let log = File::create(&log_path).map_err(io("create", &log_path))?;
    let log_err = log.try_clone().map_err(io("open", &log_path))?;
    make.arg(format!("BUILD={}", build.display()))
        // A writable tree must not gain __pycache__ dirs (they would change its hash).
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    let command = describe(&make);
    let status = make.status().map_err(io("run make for", build))?;
    let text = String::from_utf8_lossy(&std::fs::read(&log_path).unwrap_or_default()).into_owned();
    if !status.success() {
        return Err(BuildError::Make {
            file: file.to_path_buf(),
            artifact,
            command,
            status: status.to_string(),
            lines: error_lines(&text),
            log: log_path,
        });
    }
    if !build.join(product).is_file() {
        return Err(BuildError::Make {
            file: file.to_path_buf(),
            artifact,
            command,
            status: format!("succeeded but made no `{product}`"),
            lines: last_lines(&text),
            log: log_path,
        });
    }
    Ok(command)
}

/// `dir` with `.suffix` appended to its name (`with_extension` would replace a `.` in it).
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.as_os_str().to_os_string();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// The command as a user would type it (for error messages).
fn describe(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter(|(k, _)| *k == "MICROPY_MPYCROSS")
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// The tree must look like a MicroPython checkout with the port asked for.
fn check_source(spec: &BuildSpec, file: &Path) -> Result<(), BuildError> {
    let port_makefile = format!("ports/{}/Makefile", spec.port);
    for needed in [
        "py/mpconfig.h",
        "mpy-cross/Makefile",
        port_makefile.as_str(),
    ] {
        if !spec.source.join(needed).is_file() {
            return Err(BuildError::Source {
                file: file.to_path_buf(),
                tree: spec.source.clone(),
                why: format!(
                    "not a MicroPython checkout with port `{}` (no {needed})",
                    spec.port
                ),
            });
        }
    }
    Ok(())
}

/// `tool --version`'s first line; a missing tool is an error naming the board file.
fn tool_version(tool: &str, file: &Path) -> Result<String, BuildError> {
    let out = Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BuildError::Toolchain {
            file: file.to_path_buf(),
            message: format!("could not run `{tool} --version`: {e}"),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next() {
        Some(line) if out.status.success() => Ok(line.trim().to_string()),
        _ => Err(BuildError::Toolchain {
            file: file.to_path_buf(),
            message: format!("`{tool} --version` failed ({})", out.status),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::log::cut;
    use super::*;

    #[test]
    fn error_lines_prefer_diagnostics_and_cut_long_lines() {
        let log = format!(
            "make: Entering directory '/t/ports/qemu'\nGEN build/genhdr/qstr.i.last\n\
             ../../py/vm.c:245:30: error: operator '+' has no right operand\n  245 | x\n\
             Command '[{}]' returned non-zero exit status 1.\n\
             make: *** [../../py/mkrules.mk:137: build/genhdr/qstr.i.last] Error 1\n",
            "a".repeat(1000)
        );
        let lines = error_lines(&log);
        assert_eq!(
            lines,
            [
                "../../py/vm.c:245:30: error: operator '+' has no right operand",
                "make: *** [../../py/mkrules.mk:137: build/genhdr/qstr.i.last] Error 1"
            ]
        );
        let bad_board = "make: Entering directory\nMakefile:8: *** Invalid BOARD specified: boards/NOPE.  Stop.\n";
        assert_eq!(
            error_lines(bad_board),
            ["Makefile:8: *** Invalid BOARD specified: boards/NOPE.  Stop."]
        );
        let quiet: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let last = error_lines(&quiet);
        assert_eq!(last.len(), REPORTED_LINES);
        assert_eq!(last[0], "line 11");
        assert_eq!(last[19], "line 30");
        assert!(cut(&"é".repeat(500)).ends_with('…'));
    }

    #[test]
    fn tree_hash_covers_paths_and_contents_but_not_build_outputs() {
        let t = tempfile::tempdir().unwrap();
        let w = |rel: &str, text: &str| {
            let p = t.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        w("py/a.c", "int a;");
        w("ports/qemu/main.c", "int main;");
        w("ports/unix/main.c", "int unix;");
        let base = tree_hash(t.path(), "qemu").unwrap();
        assert_eq!(tree_hash(t.path(), "qemu").unwrap(), base, "deterministic");
        // Other ports, build dirs, bytecode caches and .git are not inputs.
        w("ports/unix/other.c", "x");
        w("ports/qemu/build-MPS2_AN385/firmware.elf", "elf");
        w("mpy-cross/build/mpy-cross", "bin");
        w("tools/__pycache__/x.pyc", "pyc");
        w("lib/sub/.git/HEAD", "ref");
        w("README.md", "not a build input");
        assert_eq!(tree_hash(t.path(), "qemu").unwrap(), base);
        // A content change, a new file and a rename each change it.
        w("py/a.c", "int b;");
        let changed = tree_hash(t.path(), "qemu").unwrap();
        assert_ne!(changed, base);
        w("lib/x/y.h", "");
        let added = tree_hash(t.path(), "qemu").unwrap();
        assert_ne!(added, changed);
        std::fs::rename(t.path().join("lib/x/y.h"), t.path().join("lib/x/z.h")).unwrap();
        assert_ne!(tree_hash(t.path(), "qemu").unwrap(), added);
        assert_ne!(
            tree_hash(t.path(), "unix").unwrap(),
            base,
            "the port's own dir"
        );
    }

    #[test]
    fn a_tree_without_the_port_is_named_with_the_board_file() {
        let t = tempfile::tempdir().unwrap();
        let spec = BuildSpec {
            source: t.path().to_path_buf(),
            port: "qemu".into(),
            board: "MPS2_AN385".into(),
            select: Select::Board,
            args: vec![],
            image: "firmware.elf".into(),
            compiler: "arm-none-eabi-gcc".into(),
            packages: vec![],
        };
        let err = cached(&spec, Path::new("boards/mps2.yaml"), t.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("boards/mps2.yaml: build.source ")
                && err.contains("(no py/mpconfig.h)"),
            "{err}"
        );
        assert!(!t.path().join("build").exists(), "checking writes nothing");
    }
}
