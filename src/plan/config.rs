//! What the user asked for (command line, environment, files) → a checked run setup.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::boardfile::{Board, BoardFiles, BoardSpec, HostKind, load_board_files};
use crate::model::case::Case;
use crate::plan::discover::discover;
use crate::util::error::{Error, Result};

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

/// The boards and cases a command works on.
pub struct Selection {
    pub boards: Vec<Arc<Board>>,
    pub cases: Vec<Arc<Case>>,
    /// Every board file, selected or not (the CPython reference may be among them).
    pub all_boards: Vec<Arc<Board>>,
    /// `--tests DIR`: a MicroPython tests/ directory; its tests are the cases.
    pub upstream: Option<Arc<crate::suite::upstream::Suite>>,
}

impl Selection {
    /// Loads board files and cases. `names` empty means the default boards.
    pub fn load(project: &Project, names: &[String], overrides: &Overrides) -> Result<Selection> {
        let files = load_board_files(&project.boards_dir())?;
        let (selected, all) = pick(project, files, names, overrides)?;
        let boards: Vec<Arc<Board>> = selected
            .into_iter()
            .map(|mut b| {
                overrides.apply(&mut b);
                Arc::new(b)
            })
            .collect();
        let cases = discover(&project.cases_dir())?;
        Ok(Selection {
            boards,
            cases,
            all_boards: all,
            upstream: None,
        })
    }

    /// A MicroPython tests/ directory on the boards: `unix` unless boards are named (a
    /// project without boards/ uses mpcheck's own board files).
    pub fn load_tests(
        project: &Project,
        tests: &Path,
        emit: crate::suite::upstream::Emit,
        names: &[String],
        overrides: &Overrides,
    ) -> Result<Selection> {
        let mut suite = crate::suite::upstream::Suite::load(tests, emit)?;
        let mut project = project.clone();
        if !project.boards_dir().is_dir() {
            project.root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        }
        let names = if names.is_empty() {
            vec!["unix".to_string()]
        } else {
            names.to_vec()
        };
        let mut selection = Selection::load_boards_only(&project, &names, overrides)?;
        suite.load_perf(&selection.boards, None);
        selection.cases = suite.cases.clone();
        selection.upstream = Some(Arc::new(suite));
        Ok(selection)
    }

    fn load_boards_only(
        project: &Project,
        names: &[String],
        overrides: &Overrides,
    ) -> Result<Selection> {
        let files = load_board_files(&project.boards_dir())?;
        let (selected, all_boards) = pick(project, files, names, overrides)?;
        let mut boards = Vec::new();
        for mut b in selected {
            if matches!(&b.spec, BoardSpec::Bytecode(_))
                || matches!(&b.spec, BoardSpec::Host(h) if h.kind == HostKind::Cpython)
            {
                return Err(Error::Usage(format!(
                    "--tests: board `{}` does not run MicroPython tests (it is the reference or a bytecode board)",
                    b.name
                )));
            }
            overrides.apply(&mut b);
            boards.push(Arc::new(b));
        }
        Ok(Selection {
            boards,
            cases: Vec::new(),
            all_boards,
            upstream: None,
        })
    }
}

/// The boards `names` select (once each, in the order first named), or the default
/// ones, and every board that loaded. Every problem is named at once: each unknown name
/// (with the nearest board names) and each selected file that does not load. A bad file
/// that is not selected is a warning, not the run's end; with no names every file could
/// be a default, so every bad one is an error.
fn pick(
    project: &Project,
    files: BoardFiles,
    names: &[String],
    overrides: &Overrides,
) -> Result<(Vec<Board>, Vec<Arc<Board>>)> {
    let dir = project.boards_dir();
    let BoardFiles {
        boards: all,
        broken,
    } = files;
    let selected = if names.is_empty() {
        if let Some(e) = Error::all(broken.into_iter().map(|(_, e)| e).collect()) {
            return Err(e);
        }
        let boards: Vec<Board> = all.iter().filter(|b| b.default).cloned().collect();
        if boards.is_empty() {
            return Err(Error::Usage(format!(
                "no boards selected: {} has no default board",
                dir.display()
            )));
        }
        boards
    } else {
        let known: Vec<String> = all
            .iter()
            .map(|b| b.name.clone())
            .chain(broken.iter().map(|(n, _)| n.clone()))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let names: Vec<&String> = names.iter().filter(|n| seen.insert(*n)).collect();
        let (bad, unselected): (Vec<_>, Vec<_>) =
            broken.into_iter().partition(|(n, _)| names.contains(&n));
        let mut errors: Vec<Error> = bad.into_iter().map(|(_, e)| e).collect();
        let mut boards = Vec::new();
        for n in names {
            if let Some(b) = all.iter().find(|b| &b.name == n) {
                boards.push(b.clone());
            } else if !known.contains(n) {
                errors.push(Error::Usage(format!(
                    "no board `{n}` in {}{} (boards: {})",
                    dir.display(),
                    crate::util::suggest::did_you_mean(n, known.iter().map(String::as_str)),
                    known.join(", ")
                )));
            }
        }
        if let Some(e) = Error::all(errors) {
            return Err(e);
        }
        for (name, e) in &unselected {
            crate::util::notice::notice(format!(
                "warning: board `{name}` is not loaded (not selected; `mpcheck boards check` checks every file): {e}"
            ));
        }
        boards
    };
    let all = all
        .into_iter()
        .map(|mut b| {
            overrides.apply(&mut b);
            Arc::new(b)
        })
        .collect();
    Ok((selected, all))
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
