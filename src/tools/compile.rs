//! Compiles a case to `.mpy` with mpy-cross, cached by (compiler version, source).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::model::case::Case;
use crate::tools::toolchain::reported_version;
use crate::util::error::{Error, Result};

#[derive(Debug)]
pub struct Compiler {
    pub path: PathBuf,
    /// The provisioned, pinned build (not a user's own).
    pub pinned: bool,
    /// Extra flags on every compile (e.g. `-O2`).
    pub flags: Vec<String>,
    cache_dir: PathBuf,
    version: OnceLock<String>,
    /// The cache-write warning is shown once per compiler, not once per case.
    cache_warning: std::sync::Once,
}

impl Compiler {
    pub fn new(path: PathBuf, pinned: bool, cache_dir: PathBuf) -> Compiler {
        Compiler {
            path,
            pinned,
            flags: Vec::new(),
            cache_dir,
            version: OnceLock::new(),
            cache_warning: std::sync::Once::new(),
        }
    }

    /// What `mpy-cross --version` printed (asked once per process).
    pub fn version(&self) -> &str {
        self.version
            .get_or_init(|| reported_version(Command::new(&self.path).arg("--version")))
    }

    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// This compiler as the report lists it.
    pub fn tool_info(&self) -> crate::tools::toolchain::ToolInfo {
        crate::tools::toolchain::ToolInfo {
            tool: "mpy-cross".into(),
            path: self.path.clone(),
            version: self.version().to_string(),
            pinned: self.pinned,
        }
    }

    /// The same compiler with extra flags.
    pub fn with_flags(mut self, flags: Vec<String>) -> Compiler {
        self.flags = flags;
        self
    }

    /// The same mpy-cross with `extra` after this one's flags (e.g. `-march=`), sharing
    /// its cache (flags are part of every cache key).
    pub fn adding_flags(&self, extra: &[String]) -> Compiler {
        let flags = self.flags.iter().chain(extra).cloned().collect();
        Compiler::new(self.path.clone(), self.pinned, self.cache_dir.clone()).with_flags(flags)
    }

    /// The `.mpy` bytes for a case, or mpy-cross's own message when it rejects the case.
    /// `Err` is for the harness (I/O); a compile error is `Ok(Err(message))`.
    /// Compiles with `extra` flags after this compiler's own (a board's `-march`, an
    /// emitter): the compilers with flags are made once per flag set in this process
    /// (each asks its version once).
    pub fn compile_with(
        self: &std::sync::Arc<Self>,
        case: &Case,
        extra: &[String],
    ) -> Result<Result<Vec<u8>, String>> {
        type Flagged = std::collections::HashMap<(PathBuf, Vec<String>), std::sync::Arc<Compiler>>;
        static FLAGGED: std::sync::OnceLock<std::sync::Mutex<Flagged>> = std::sync::OnceLock::new();
        if extra.is_empty() {
            return self.compile(case);
        }
        let flagged = {
            let mut map = FLAGGED
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let key = (
                self.path.clone(),
                self.flags.iter().chain(extra).cloned().collect(),
            );
            map.entry(key)
                .or_insert_with(|| std::sync::Arc::new(self.adding_flags(extra)))
                .clone()
        };
        flagged.compile(case)
    }

    pub fn compile(&self, case: &Case) -> Result<Result<Vec<u8>, String>> {
        self.compile_as(case, &format!("{}.py", case.module_name()))
    }

    /// [`Compiler::compile`], recording `source_name` in the `.mpy`: the name tracebacks
    /// show, and a frozen module's name in the firmware (`mpcheck/heap/_x.py`).
    pub fn compile_as(&self, case: &Case, source_name: &str) -> Result<Result<Vec<u8>, String>> {
        let key = hex(&Sha256::new()
            .chain_update(self.version())
            .chain_update([0])
            .chain_update(self.flags.join(" "))
            .chain_update([0])
            .chain_update(case.id.to_string())
            .chain_update([0])
            .chain_update(source_name)
            .chain_update([0])
            .chain_update(&case.source)
            .finalize());
        let cached = self.cache_dir.join(format!("{key}.mpy"));
        if let Ok(bytes) = std::fs::read(&cached) {
            return Ok(Ok(bytes));
        }
        let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let out_path = tmp.path().join("out.mpy");
        // What is compiled is what the key holds: the case's source as read, not its file
        // again (changed since, or a suite's script that is not the file).
        let file_name = case.path.file_name().unwrap_or("case.py".as_ref());
        let in_path = tmp.path().join(file_name);
        std::fs::write(&in_path, &case.source).map_err(|e| Error::io(&in_path, e))?;
        let output = Command::new(&self.path)
            .arg("-o")
            .arg(&out_path)
            // The name recorded in the .mpy, as tracebacks show it.
            .arg("-s")
            .arg(source_name)
            .args(&self.flags)
            .arg(&in_path)
            .output()
            .map_err(|e| {
                Error::Toolchain(format!(
                    "could not run mpy-cross {}: {e}",
                    self.path.display()
                ))
            })?;
        if !output.status.success() {
            let text = String::from_utf8_lossy(&output.stderr).to_string()
                + &String::from_utf8_lossy(&output.stdout);
            // Its message names the case's file, not the copy compiled.
            let text = text.replace(&*in_path.to_string_lossy(), &case.path.to_string_lossy());
            return Ok(Err(format!(
                "mpy-cross ({}) rejected the case: {}",
                self.version(),
                text.trim()
            )));
        }
        let bytes = std::fs::read(&out_path).map_err(|e| Error::io(&out_path, e))?;
        // The cache only saves time: one that cannot be written (read-only, full, a file
        // in the way) costs a compile next time, never a verdict.
        let stored = std::fs::create_dir_all(&self.cache_dir)
            .map_err(|e| Error::io(&self.cache_dir, e))
            .and_then(|()| crate::util::fsutil::write_atomic(&cached, &bytes));
        if let Err(e) = stored {
            self.cache_warning.call_once(|| {
                crate::util::notice::notice(format_args!(
                    "warning: compiled .mpy files are not cached ({e})"
                ));
            });
        }
        Ok(Ok(bytes))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache directory for one kind of cached artefact under the state directory.
pub fn cache_dir(state_dir: &Path, what: &str) -> PathBuf {
    state_dir.join("cache").join(what)
}
