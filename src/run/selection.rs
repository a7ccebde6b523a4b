//! The boards and cases a command works on: board files picked by name (or the default
//! ones; every bad selected file named at once), and the project's cases or a
//! checkout's tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::boardfile::{Board, BoardFiles, BoardSpec, HostKind, load_board_files};
use crate::model::case::Case;
use crate::plan::config::{Overrides, Project};
use crate::plan::discover::discover;
use crate::util::error::{Error, Result};

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
        // A board file that does not load is still a board a case may name.
        let broken: Vec<String> = files.broken.iter().map(|(n, _)| n.clone()).collect();
        let (selected, all) = pick(project, files, names, overrides)?;
        let boards: Vec<Arc<Board>> = selected
            .into_iter()
            .map(|mut b| {
                overrides.apply(&mut b);
                Arc::new(b)
            })
            .collect();
        let cases = with_board_names_checked(discover(&project.cases_dir())?, &all, &broken);
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

    /// perf_bench's N and M (`--perf-n`, `--perf-m`) over the checkout's defaults: the
    /// benchmarks are remade for them.
    pub fn perf_params(&mut self, n: Option<u32>, m: Option<u32>) {
        let boards = self.boards.clone();
        if let Some(suite) = self.upstream.as_mut().and_then(Arc::get_mut) {
            crate::suite::upstream::perfbench::override_params(suite, &boards, n, m);
        }
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

/// `cases`, each whose header names a board that is no board file of the project, no
/// board's family and no kind made an `error` case naming the file and line.
fn with_board_names_checked(
    cases: Vec<Arc<Case>>,
    all: &[Arc<Board>],
    broken: &[String],
) -> Vec<Arc<Case>> {
    let mut names: Vec<&str> = all
        .iter()
        .flat_map(|b| [b.name.as_str(), b.family.as_str()])
        .chain(broken.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let list = names.join(", ");
    let known = |n: &str| names.contains(&n);
    cases
        .into_iter()
        .map(|case| {
            let Ok(settings) = &case.settings else {
                return case;
            };
            match crate::model::board_names::unknown(
                &case.path,
                &case.source,
                settings,
                &known,
                &list,
            ) {
                None => case,
                Some(message) => Arc::new(Case {
                    id: case.id.clone(),
                    path: case.path.clone(),
                    source: case.source.clone(),
                    settings: Err(message),
                    import_name: case.import_name.clone(),
                }),
            }
        })
        .collect()
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
