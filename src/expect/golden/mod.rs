//! Golden files: the only place that maps a case to its golden paths, and the three
//! golden kinds behind one trait, each loading, judging and blessing its own files:
//!
//! ```text
//! output    golden/<group>/<name>.out, .<board>.out   (else CPython's output)
//! bytecode  golden/<group>/<name>.bytecode
//! heap      golden/<group>/<name>.heap.yaml           board → mode → figures
//! ```
//!
//! Blessing never writes directly: each kind proposes [`Change`]s, which `bless` accepts
//! at once and a plain run stages as pending files for `mpcheck review` ([`pending`]).
//! One error policy: a golden that cannot be read or parsed is an `error` verdict naming
//! the file and line, and bless refuses to rewrite it.

pub mod bytecode;
pub mod heap;
pub mod output;
pub mod pending;

use std::path::{Path, PathBuf};

use crate::model::case::{Case, CaseId};
use crate::model::verdict::Verdict;

/// A golden kind: where its files live, how a trial's result is judged against them, and
/// what blessing a run's results would change.
pub trait GoldenKind {
    /// What the golden says a trial should produce.
    type Expected;
    /// What the trial produced.
    type Actual: ?Sized;
    /// The expectation for this case on this board and mode; `Ok(None)` when the kind
    /// has no golden for it.
    fn load(&self, key: &Key) -> Result<Option<Self::Expected>, GoldenError>;
    /// The verdict of an actual result against the expectation. Pure.
    fn judge(&self, expected: &Self::Expected, actual: &Self::Actual) -> Judged;
    /// The changes that make this run's blessable results the expectations of `case`.
    fn bless(&self, case: &Case, run: &BlessRun) -> Result<Blessing, GoldenError>;
}

/// What blessing one case would do: the file changes, and the results it will not bless
/// (with why).
#[derive(Debug, Default)]
pub struct Blessing {
    pub changes: Vec<Change>,
    pub refused: Vec<String>,
    /// Why a change took the form it did (an override where the shared golden stayed).
    pub notes: Vec<String>,
}

/// Which expectation: a case on a board in a mode.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub case: &'a CaseId,
    pub board: &'a str,
    pub mode: crate::model::case::Mode,
}

/// A verdict with what explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub verdict: Verdict,
    /// Shown with the verdict (e.g. "golden from another compiler").
    pub note: Option<String>,
    /// A heap failure's metric table.
    pub table: Option<String>,
}

impl Judged {
    pub fn verdict(verdict: Verdict) -> Judged {
        Judged {
            verdict,
            note: None,
            table: None,
        }
    }
}

/// What bless knows of one run: every result and which boards took part.
pub struct BlessRun<'a> {
    pub results: &'a [crate::model::result::TrialResult],
    /// Boards that ran in this run (blessed); other boards' expectations must survive.
    pub blessed_boards: &'a [String],
    /// Boards that use this case's shared golden (or CPython) and gave no output to
    /// bless: default boards outside this run, and boards of this run whose result cannot
    /// be blessed. Bless must not move that expectation under them.
    pub relying_elsewhere: &'a dyn Fn(&CaseId) -> Vec<String>,
    /// CPython's output for a case that runs on CPython.
    pub reference: &'a dyn Fn(&Case) -> Option<Vec<u8>>,
}

/// A proposed change to one golden file: `new: None` removes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

impl Change {
    /// Applies the change atomically.
    pub fn apply(&self) -> crate::util::error::Result<()> {
        match &self.new {
            Some(bytes) => crate::util::fsutil::write_atomic(&self.path, bytes),
            None => crate::util::fsutil::remove_if_exists(&self.path),
        }
    }
}

/// Why a golden could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// Not readable: missing permissions, not a regular file, too large.
    #[error(transparent)]
    Unreadable(#[from] crate::util::input::Refused),
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Maps a case to its golden paths; nothing else in mpcheck builds a golden path.
#[derive(Debug, Clone)]
pub struct Goldens {
    dir: PathBuf,
}

impl Goldens {
    pub fn new(dir: PathBuf) -> Goldens {
        Goldens { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, case: &CaseId, suffix: &str) -> PathBuf {
        self.dir
            .join(&case.group)
            .join(format!("{}{suffix}", case.name))
    }

    /// `golden/<group>/<name>.out`: the expected output every board shares.
    pub fn shared_path(&self, case: &CaseId) -> PathBuf {
        self.path(case, ".out")
    }

    /// `golden/<group>/<name>.<board>.out`: a board whose output legitimately differs.
    pub fn board_path(&self, case: &CaseId, board: &str) -> PathBuf {
        self.path(case, &format!(".{board}.out"))
    }

    /// The disassembly golden of a case (bytecode boards).
    pub fn bytecode_path(&self, case: &CaseId) -> PathBuf {
        self.path(case, ".bytecode")
    }

    /// The heap golden of a case: board → mode → figures.
    pub fn heap_path(&self, case: &CaseId) -> PathBuf {
        self.path(case, ".heap.yaml")
    }
}

/// A golden file's bytes, `None` when it does not exist.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, GoldenError> {
    Ok(crate::util::input::read_if_exists(
        path,
        crate::util::input::cap::GOLDEN,
        "golden file",
    )?)
}

/// Bless never writes in CI: a CI run checks goldens, it does not change them.
pub fn may_bless(ci_flag: bool, ci_env: Option<&str>) -> std::result::Result<(), String> {
    if ci_flag || in_ci(ci_env) {
        return Err(format!(
            "refusing to bless in CI ({}): goldens are reviewed changes, run `mpcheck bless` locally",
            if ci_flag { "--ci" } else { "CI is set" }
        ));
    }
    Ok(())
}

/// Whether the `CI` variable says this is a CI run (then nothing is staged either).
pub fn in_ci(ci_env: Option<&str>) -> bool {
    ci_env.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_refuses() {
        assert!(may_bless(true, None).is_err());
        assert!(may_bless(false, Some("true")).is_err());
        assert!(may_bless(false, Some("false")).is_ok());
        assert!(may_bless(false, None).is_ok());
    }

    #[test]
    fn paths_follow_the_layout() {
        let g = Goldens::new(PathBuf::from("golden"));
        let id = CaseId {
            group: "basics".into(),
            name: "int_small".into(),
        };
        assert_eq!(g.shared_path(&id), Path::new("golden/basics/int_small.out"));
        assert_eq!(
            g.board_path(&id, "unix"),
            Path::new("golden/basics/int_small.unix.out")
        );
        assert_eq!(
            g.heap_path(&id),
            Path::new("golden/basics/int_small.heap.yaml")
        );
    }
}
