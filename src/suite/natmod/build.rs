//! Builds a checkout's `examples/natmod/<module>` for one architecture, out of tree:
//! the module's directory copied into mpcheck's build cache and made there with
//! `MPY_DIR` pointing at the (read-only) checkout, so the tree's own py/dynruntime.mk
//! and tools/mpy_ld.py (with pyelftools, provisioned like mpcheck's other Python
//! tools) do the work. Cached like firmware: keyed by the tree's build inputs, the
//! module and the architecture; a failed build is kept for the run only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// Changing it rebuilds every cached module.
const RECIPE: &str = "mpcheck natmod build 1";

/// pyelftools, which tools/mpy_ld.py imports.
pub const PYELFTOOLS_PIN: &str = "pyelftools==0.33";
/// ar, which tools/ar_util.py (v1.25 and later) imports to link libgcc/libm
/// (`LINK_RUNTIME = 1`: every module on armv6m, some on every arch).
pub const AR_PIN: &str = "ar==1.0.1";

/// How a module's build went.
#[derive(Debug, Clone)]
pub enum Built {
    /// The `.mpy`.
    Module(Arc<Vec<u8>>),
    /// No compiler for the architecture here: the test cannot run (a skip).
    NoToolchain(String),
    /// The build failed: make's and the linker's message (a compile-error).
    Failed(String),
}

/// Where modules are built and which Python tools build them.
#[derive(Debug, Clone)]
pub struct Builder {
    /// mpcheck's build cache (`.mpcheck/build`).
    pub cache: PathBuf,
    /// mpcheck's toolchain directory (`.mpcheck/toolchain`).
    pub toolchain: PathBuf,
}

type Memo = Mutex<HashMap<PathBuf, Arc<OnceLock<Built>>>>;

/// One build per output directory per process; trials of one module wait for it.
fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// The cross-compiler prefix dynruntime.mk uses for `arch`.
fn cross(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86" | "x64" => "",
        a if a.starts_with("armv") => "arm-none-eabi-",
        "rv32imc" | "rv64imc" => "riscv64-unknown-elf-",
        "xtensa" => "xtensa-lx106-elf-",
        "xtensawin" => "xtensa-esp32-elf-",
        _ => return None,
    })
}

impl Builder {
    /// The module at `mpy` (`re/re_$(ARCH).mpy` resolved, under examples/natmod/) of the
    /// checkout at `root`, built for `arch` once and cached.
    pub fn module(&self, root: &Path, mpy: &str, arch: &str) -> Built {
        let Some(prefix) = cross(arch) else {
            return Built::NoToolchain(format!("no compiler is known for arch {arch}"));
        };
        let gcc = format!("{prefix}gcc");
        if crate::tools::toolchain::find_on_path(&gcc).is_none() {
            return Built::NoToolchain(format!("{gcc} is not installed (arch {arch})"));
        }
        let (module, file) = mpy.split_once('/').unwrap_or(("", mpy));
        let src = root.join("examples/natmod").join(module);
        let key = match key(root, &src, arch) {
            Ok(k) => k,
            Err(e) => return Built::Failed(format!("{}: {e}", src.display())),
        };
        let dir = self.cache.join(format!("natmod-{module}-{arch}-{key}"));
        let cell = memo()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(dir.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| self.build(root, &src, &dir, file, arch))
            .clone()
    }

    fn build(&self, root: &Path, src: &Path, dir: &Path, file: &str, arch: &str) -> Built {
        let read = |d: &Path| std::fs::read(d.join(file)).map(|b| Built::Module(Arc::new(b)));
        if let Ok(built) = read(dir) {
            return built;
        }
        let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
        match self.make(root, src, &tmp, arch) {
            Err(message) => {
                let _ = std::fs::remove_dir_all(&tmp);
                Built::Failed(message)
            }
            Ok(()) => {
                // Another process may have finished first: either copy is the same build.
                if std::fs::rename(&tmp, dir).is_err() {
                    let _ = std::fs::remove_dir_all(&tmp);
                }
                read(dir)
                    .unwrap_or_else(|e| Built::Failed(format!("{}: {e}", dir.join(file).display())))
            }
        }
    }

    /// Copies the module's files into `tmp` and runs its Makefile there.
    fn make(&self, root: &Path, src: &Path, tmp: &Path, arch: &str) -> Result<(), String> {
        let _ = std::fs::remove_dir_all(tmp);
        std::fs::create_dir_all(tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let entries = std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::copy(entry.path(), tmp.join(entry.file_name()))
                    .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            }
        }
        let tc = crate::tools::toolchain::Toolchain::ensure(&self.toolchain)
            .map_err(|e| e.to_string())?;
        let packages = [PYELFTOOLS_PIN, AR_PIN]
            .iter()
            .map(|pin| tc.python_package(pin).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let pythonpath = std::env::join_paths(packages).map_err(|e| e.to_string())?;
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let out = Command::new("make")
            .current_dir(tmp)
            .arg(format!("MPY_DIR={}", root.display()))
            .arg(format!("ARCH={arch}"))
            .arg(format!("PYTHON={}", tc.python.display()))
            .env("PYTHONPATH", pythonpath)
            // The checkout is read-only: no __pycache__ beside its tools.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .map_err(|e| format!("could not run make: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        // The end says what failed; a long log is cut from the front.
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        Err(format!(
            "make ARCH={arch} in {}: {}\n{tail}",
            src.display(),
            out.status
        ))
    }
}

/// The cache key: the tree's build inputs (as firmware is keyed, plus the module's
/// own directory) and the architecture.
fn key(root: &Path, src: &Path, arch: &str) -> std::io::Result<String> {
    let tree = tree_key(root)?;
    let mut h = Sha256::new().chain_update(format!("{RECIPE}\0{tree}\0{arch}\0"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(src)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in files {
        h.update(f.file_name().unwrap_or_default().as_encoded_bytes());
        h.update(std::fs::read(&f)?);
    }
    Ok(crate::tools::firmware_build::hex(&h.finalize())[..16].to_string())
}

/// The tree's hash (py/, extmod/, lib/, tools/…), once per tree per process.
fn tree_key(root: &Path) -> std::io::Result<String> {
    static TREES: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let trees = TREES.get_or_init(Default::default);
    if let Some(k) = trees.lock().unwrap_or_else(|p| p.into_inner()).get(root) {
        return Ok(k.clone());
    }
    // No port of its own: `ports/natmod` does not exist, so only the shared dirs count.
    let k = crate::tools::firmware_build::tree_hash(root, "natmod")?;
    trees
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(root.to_path_buf(), k.clone());
    Ok(k)
}
