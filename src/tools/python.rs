//! The `python3` a run uses: the interpreter itself, where PATH names a launcher.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The interpreter behind `python3`. A launcher script (a pyenv shim is a shell script
/// that picks a version and execs it: 93 ms a start here, against 32 ms for the
/// interpreter) is asked once for `sys.executable`, so the reference and the cpython
/// board do not pay the launcher on each of their hundreds of runs, and mpcheck and
/// run-tests.py run the same interpreter the same way. The launcher picks its version
/// from the directory it starts in: it is asked from the project's, not from each
/// case's scratch directory. A binary is kept as it is, and so is a launcher that
/// cannot say.
pub fn interpreter(python3: &Path) -> PathBuf {
    // Asked once per process: a run opens the toolchain more than once (its setup, a
    // bench, natmod builds), and each answer costs a start of the launcher.
    static ASKED: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut asked = ASKED.lock().unwrap_or_else(|p| p.into_inner());
    asked
        .entry(python3.to_path_buf())
        .or_insert_with(|| ask(python3))
        .clone()
}

/// [`interpreter`], uncached.
fn ask(python3: &Path) -> PathBuf {
    if !is_script(python3) {
        return python3.to_path_buf();
    }
    Command::new(python3)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| python3.to_path_buf())
}

/// Whether the file starts with `#!`.
fn is_script(path: &Path) -> bool {
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"#!")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launcher_script_is_replaced_by_the_interpreter_it_runs() {
        let python = which::which("python3").expect("python3 on PATH");
        let real = interpreter(&python);
        assert!(!is_script(&real), "{}", real.display());
        let dir = tempfile::tempdir().unwrap();
        let shim = dir.path().join("python3");
        std::fs::write(
            &shim,
            format!("#!/bin/sh\nexec {} \"$@\"\n", real.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_script(&shim));
        let behind = interpreter(&shim);
        assert_ne!(behind, shim);
        assert_eq!(behind.canonicalize().unwrap(), real.canonicalize().unwrap());
        // Not a launcher: kept, even where it does not exist.
        assert_eq!(
            interpreter(Path::new("/nowhere/python3")),
            Path::new("/nowhere/python3")
        );
    }
}
