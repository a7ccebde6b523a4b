//! Golden files: the only place that maps a case to its golden paths; atomic writes; and
//! the bless policy, decided by pure functions.
//!
//! `golden/<group>/<name>.out` is a case's expected output; a board whose output
//! legitimately differs has `golden/<group>/<name>.<board>.out`. A case with neither is
//! compared with CPython's output.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::case::CaseId;
use crate::error::{Error, Result};

pub struct Goldens {
    dir: PathBuf,
}

/// Where an expected output came from, for messages and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedFrom {
    BoardGolden(PathBuf),
    Golden(PathBuf),
    Cpython(String),
}

impl std::fmt::Display for ExpectedFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedFrom::BoardGolden(p) | ExpectedFrom::Golden(p) => write!(f, "{}", p.display()),
            ExpectedFrom::Cpython(v) => write!(f, "CPython {v} output"),
        }
    }
}

impl Goldens {
    pub fn new(dir: PathBuf) -> Goldens {
        Goldens { dir }
    }

    pub fn shared_path(&self, case: &CaseId) -> PathBuf {
        self.dir
            .join(&case.group)
            .join(format!("{}.out", case.name))
    }

    /// The heap golden of a case: board → mode → figures.
    pub fn heap_path(&self, case: &CaseId) -> PathBuf {
        self.dir
            .join(&case.group)
            .join(format!("{}.heap.yaml", case.name))
    }

    /// The disassembly golden of a case (bytecode boards).
    pub fn bytecode_path(&self, case: &CaseId) -> PathBuf {
        self.dir
            .join(&case.group)
            .join(format!("{}.bytecode", case.name))
    }

    pub fn board_path(&self, case: &CaseId, board: &str) -> PathBuf {
        self.dir
            .join(&case.group)
            .join(format!("{}.{board}.out", case.name))
    }

    /// The golden file for this case on this board, board override first.
    pub fn expected(&self, case: &CaseId, board: &str) -> Result<Option<(Vec<u8>, ExpectedFrom)>> {
        let board_path = self.board_path(case, board);
        if let Some(bytes) = read_if_exists(&board_path)? {
            return Ok(Some((bytes, ExpectedFrom::BoardGolden(board_path))));
        }
        let shared = self.shared_path(case);
        Ok(read_if_exists(&shared)?.map(|b| (b, ExpectedFrom::Golden(shared))))
    }

    pub fn read_shared(&self, case: &CaseId) -> Result<Option<Vec<u8>>> {
        read_if_exists(&self.shared_path(case))
    }

    pub fn has_board_override(&self, case: &CaseId, board: &str) -> bool {
        self.board_path(case, board).exists()
    }

    /// Carries out bless decisions; returns the paths written or removed.
    pub fn apply(&self, case: &CaseId, writes: &[GoldenWrite]) -> Result<Vec<PathBuf>> {
        let mut touched = Vec::new();
        for w in writes {
            match w {
                GoldenWrite::Shared(bytes) => {
                    let p = self.shared_path(case);
                    write_atomic(&p, bytes)?;
                    touched.push(p);
                }
                GoldenWrite::Board(board, bytes) => {
                    let p = self.board_path(case, board);
                    write_atomic(&p, bytes)?;
                    touched.push(p);
                }
                GoldenWrite::RemoveBoard(board) => {
                    let p = self.board_path(case, board);
                    std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
                    touched.push(p);
                }
            }
        }
        Ok(touched)
    }
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes through a temp file in the same directory and renames it into place, so an
/// interrupted write never leaves a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoldenWrite {
    Shared(Vec<u8>),
    Board(String, Vec<u8>),
    RemoveBoard(String),
}

/// What bless knows about one case.
pub struct BlessInput<'a> {
    /// The shared golden, if one exists.
    pub shared: Option<&'a [u8]>,
    /// CPython's output, if the case runs on CPython (the expectation without a golden).
    pub reference: Option<&'a [u8]>,
    /// Each blessed board's actual output (boards whose modes disagree are left out).
    pub actuals: &'a BTreeMap<String, Vec<u8>>,
    /// Boards that have an override file now.
    pub overrides: &'a [String],
}

/// Decides which golden files to write so that every blessed board's actual output
/// becomes its expectation, with as few files as possible:
/// - the baseline is the shared golden, or CPython's output when there is none;
/// - if no blessed board matches the baseline, the most common actual output (ties to
///   the first board by name) becomes the new shared golden;
/// - boards that match the baseline lose any override; the others get one.
pub fn decide_bless(input: &BlessInput) -> Vec<GoldenWrite> {
    let mut writes = Vec::new();
    let mut baseline = input.shared.or(input.reference).map(<[u8]>::to_vec);
    let matches_any = |b: &Option<Vec<u8>>| {
        b.as_ref()
            .is_some_and(|b| input.actuals.values().any(|a| a == b))
    };
    if !matches_any(&baseline) && !input.actuals.is_empty() {
        let consensus = most_common(input.actuals);
        writes.push(GoldenWrite::Shared(consensus.clone()));
        baseline = Some(consensus);
    }
    for (board, actual) in input.actuals {
        let has_override = input.overrides.iter().any(|o| o == board);
        if baseline.as_ref() == Some(actual) {
            if has_override {
                writes.push(GoldenWrite::RemoveBoard(board.clone()));
            }
        } else {
            writes.push(GoldenWrite::Board(board.clone(), actual.clone()));
        }
    }
    writes
}

fn most_common(actuals: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut best: Option<(&Vec<u8>, usize)> = None;
    for a in actuals.values() {
        let n = actuals.values().filter(|b| *b == a).count();
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((a, n));
        }
    }
    best.map(|(a, _)| a.clone()).unwrap_or_default()
}

/// Bless never writes in CI: a CI run checks goldens, it does not change them.
pub fn may_bless(ci_flag: bool, ci_env: Option<&str>) -> std::result::Result<(), String> {
    let env_ci =
        ci_env.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"));
    if ci_flag || env_ci {
        return Err(format!(
            "refusing to bless in CI ({}): goldens are reviewed changes, run `mpcheck bless` locally",
            if ci_flag { "--ci" } else { "CI is set" }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actuals(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(b, o)| (b.to_string(), o.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn edited_shared_golden_is_restored_not_overridden() {
        let a = actuals(&[("cpython", "1\n"), ("unix", "1\n"), ("webassembly", "1\n")]);
        let w = decide_bless(&BlessInput {
            shared: Some(b"2\n"),
            reference: Some(b"1\n"),
            actuals: &a,
            overrides: &[],
        });
        assert_eq!(w, vec![GoldenWrite::Shared(b"1\n".to_vec())]);
    }

    #[test]
    fn matching_cpython_writes_nothing() {
        let a = actuals(&[("unix", "1\n"), ("webassembly", "1\n")]);
        let w = decide_bless(&BlessInput {
            shared: None,
            reference: Some(b"1\n"),
            actuals: &a,
            overrides: &[],
        });
        assert!(w.is_empty());
    }

    #[test]
    fn one_board_differs_gets_override_only() {
        let a = actuals(&[
            ("cpython", "1.0\n"),
            ("unix", "1.0\n"),
            ("webassembly", "1\n"),
        ]);
        let w = decide_bless(&BlessInput {
            shared: None,
            reference: Some(b"1.0\n"),
            actuals: &a,
            overrides: &[],
        });
        assert_eq!(
            w,
            vec![GoldenWrite::Board("webassembly".into(), b"1\n".to_vec())]
        );
    }

    #[test]
    fn micropython_only_case_gets_consensus_shared_golden() {
        let a = actuals(&[("microbit", "b\n"), ("unix", "a\n"), ("webassembly", "a\n")]);
        let w = decide_bless(&BlessInput {
            shared: None,
            reference: None,
            actuals: &a,
            overrides: &[],
        });
        assert_eq!(
            w,
            vec![
                GoldenWrite::Shared(b"a\n".to_vec()),
                GoldenWrite::Board("microbit".into(), b"b\n".to_vec())
            ]
        );
    }

    #[test]
    fn stale_override_is_removed() {
        let a = actuals(&[("unix", "a\n")]);
        let w = decide_bless(&BlessInput {
            shared: Some(b"a\n"),
            reference: None,
            actuals: &a,
            overrides: &["unix".into()],
        });
        assert_eq!(w, vec![GoldenWrite::RemoveBoard("unix".into())]);
    }

    #[test]
    fn ci_refuses() {
        assert!(may_bless(true, None).is_err());
        assert!(may_bless(false, Some("true")).is_err());
        assert!(may_bless(false, Some("false")).is_ok());
        assert!(may_bless(false, None).is_ok());
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g/x.out");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
