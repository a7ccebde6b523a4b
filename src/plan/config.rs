//! What the user asked for (command line, environment, files) → a checked run setup.

use std::path::{Path, PathBuf};

use crate::boardfile::{Board, BoardSpec, HostKind};

/// A project: the directories mpcheck reads and writes.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    /// Provisioned tools and caches (git-ignored); `MPCHECK_HOME` overrides it.
    pub state_dir: PathBuf,
}

impl Project {
    /// The root and the state directory are made absolute: VMs run in scratch
    /// directories, where a relative tool path would mean something else.
    pub fn new(root: &Path) -> Project {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let state_dir = state_dir(&root, std::env::var_os("MPCHECK_HOME").as_deref());
        Project { root, state_dir }
    }

    pub fn cases_dir(&self) -> PathBuf {
        self.root.join("cases")
    }
    pub fn boards_dir(&self) -> PathBuf {
        self.root.join("boards")
    }
    pub fn golden_dir(&self) -> PathBuf {
        self.root.join("golden")
    }
    pub fn default_report_dir(&self) -> PathBuf {
        self.root.join("reports")
    }
}

/// `MPCHECK_HOME` when set and non-empty (relative: to the current directory, as a user
/// typing it means), else `<root>/.mpcheck`.
fn state_dir(root: &Path, home: Option<&std::ffi::OsStr>) -> PathBuf {
    match home.filter(|h| !h.is_empty()) {
        Some(h) => std::path::absolute(h).unwrap_or_else(|_| PathBuf::from(h)),
        None => root.join(".mpcheck"),
    }
}

/// Tools the user brings instead of the pinned ones.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// A `micropython` binary (unix boards) or a `micropython.mjs` (webassembly boards).
    pub micropython: Option<PathBuf>,
    pub mpy_cross: Option<PathBuf>,
}

impl Overrides {
    /// Command-line values win over `MPCHECK_MICROPYTHON` / `MPCHECK_MPY_CROSS`.
    pub fn from_args_and_env(
        micropython: Option<PathBuf>,
        mpy_cross: Option<PathBuf>,
    ) -> Overrides {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Overrides {
            micropython: micropython.or_else(|| env("MPCHECK_MICROPYTHON")),
            mpy_cross: mpy_cross.or_else(|| env("MPCHECK_MPY_CROSS")),
        }
    }

    pub(crate) fn apply(&self, board: &mut Board) {
        match &mut board.spec {
            BoardSpec::Host(spec) => {
                if let Some(vm) = &self.micropython {
                    let is_mjs = vm.extension().is_some_and(|e| e == "mjs");
                    let fits = match spec.kind {
                        HostKind::Unix => !is_mjs,
                        HostKind::Webassembly => is_mjs,
                        HostKind::Cpython => false,
                    };
                    if fits {
                        // A given VM wins over a build from a tree, as in the board file.
                        spec.executable = Some(vm.clone());
                        spec.build = None;
                        spec.unavailable = None;
                    }
                }
                if let Some(mc) = &self.mpy_cross
                    && spec.kind != HostKind::Cpython
                {
                    spec.mpy_cross = Some(mc.clone());
                }
            }
            BoardSpec::Device(spec) => {
                if let Some(mc) = &self.mpy_cross {
                    spec.mpy_cross = Some(mc.clone());
                }
            }
            BoardSpec::Bytecode(spec) => {
                if let Some(mc) = &self.mpy_cross {
                    spec.mpy_cross = Some(mc.clone());
                    spec.mpy_cross_version = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_from_mpcheck_home() {
        let root = Path::new("/p");
        assert_eq!(state_dir(root, None), Path::new("/p/.mpcheck"));
        // Empty is unset (as `MPCHECK_HOME= mpcheck run` means), not the current directory.
        assert_eq!(
            state_dir(root, Some(std::ffi::OsStr::new(""))),
            Path::new("/p/.mpcheck")
        );
        let rel = state_dir(root, Some(std::ffi::OsStr::new("state")));
        assert!(rel.is_absolute(), "{}", rel.display());
        assert_eq!(rel, std::env::current_dir().unwrap().join("state"));
    }
}
