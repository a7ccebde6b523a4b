//! Pending golden changes, the way `cargo insta review` works: a run (never in CI)
//! stages what bless would change as one JSON file per golden under the project's
//! `.mpcheck/pending/` (always beside the project, even when `MPCHECK_HOME` moves the
//! tools elsewhere: pending changes belong to one checkout); `mpcheck review` shows each with its diff and accepts or rejects
//! it. Each entry remembers the golden it was made against (a SHA-256), so accepting a
//! stale entry never overwrites a golden changed since.
//!
//! The store is untrusted input (it is plausibly copied from a CI artefact): where an
//! entry writes is never taken from its content. It is re-derived from the entry's own
//! place in the store (`.mpcheck/pending/golden/g/a.out.json` → `golden/g/a.out`), must
//! lie under `golden/` (also after following symbolic links), and must agree with the
//! `golden` the entry names; its content must decode. Anything else is refused, naming
//! the entry's file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::Change;
use crate::util::error::{Error, Result};

/// One staged change, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// The case it belongs to (`group/name`): a new run of the case replaces its entries.
    pub case: String,
    /// The golden file, relative to the project root.
    pub golden: PathBuf,
    /// SHA-256 of the golden when staged; `None`: there was no file.
    pub base: Option<String>,
    /// The new content, hex; `None`: remove the golden.
    pub new_hex: Option<String>,
    /// Which run staged it, so a reviewer knows where the change comes from. Absent in
    /// entries staged before mpcheck recorded it: those stay readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged: Option<Origin>,
}

/// Where a pending change comes from: the boards whose results it holds, the run, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    pub boards: Vec<String>,
    /// The run's id (as in results.json).
    pub run: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "staged by {} in run {} at {}",
            if self.boards.is_empty() {
                "no board".to_string()
            } else {
                self.boards.join(", ")
            },
            self.run,
            self.at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

impl Pending {
    /// The new content (checked to decode when the entry was listed).
    pub fn new_bytes(&self) -> Option<Vec<u8>> {
        self.new_hex.as_ref().and_then(|h| hex::decode(h).ok())
    }
}

/// The one folder pending changes may write into, relative to the project root.
const GOLDEN_DIR: &str = "golden";

/// The pending store of a project.
pub struct PendingStore {
    dir: PathBuf,
    root: PathBuf,
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

impl PendingStore {
    pub fn new(root: &Path) -> PendingStore {
        PendingStore {
            dir: root.join(".mpcheck").join("pending"),
            root: root.to_path_buf(),
        }
    }

    fn entry_path(&self, golden: &Path) -> PathBuf {
        let mut name = golden.as_os_str().to_owned();
        name.push(".json");
        self.dir.join(name)
    }

    fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root).unwrap_or(path).to_path_buf()
    }

    /// Replaces the entries of the cases that ran with the changes they would make;
    /// `origin` says where each case's changes come from.
    pub fn stage(
        &self,
        ran: &[String],
        changes: &[(String, Change)],
        origin: &dyn Fn(&str) -> Option<Origin>,
    ) -> Result<usize> {
        for (path, p) in self.list()? {
            if ran.contains(&p.case) {
                crate::util::fsutil::remove_if_exists(&path)?;
            }
        }
        for (case, change) in changes {
            let golden = self.relative(&change.path);
            if confined(&golden).is_none() {
                return Err(Error::Usage(format!(
                    "not staging {}: pending changes are goldens under {GOLDEN_DIR}/",
                    change.path.display()
                )));
            }
            let entry = Pending {
                case: case.clone(),
                base: change.old.as_deref().map(digest),
                new_hex: change.new.as_deref().map(hex::encode),
                golden: golden.clone(),
                staged: origin(case),
            };
            let text = serde_json::to_string_pretty(&entry).unwrap_or_default();
            crate::util::fsutil::write_atomic(&self.entry_path(&golden), text.as_bytes())?;
        }
        Ok(changes.len())
    }

    /// Every staged entry with its file, sorted by golden path. An entry that does not
    /// parse, is not where its golden says, or would write outside `golden/` is an
    /// error naming it.
    pub fn list(&self) -> Result<Vec<(PathBuf, Pending)>> {
        let mut entries = Vec::new();
        if !self.dir.exists() {
            return Ok(entries);
        }
        for item in walkdir::WalkDir::new(&self.dir).sort_by_file_name() {
            let item = item.map_err(|e| crate::util::fsutil::walk_error(e, &self.dir))?;
            if item.file_type().is_dir() || item.path().extension().is_none_or(|e| e != "json") {
                continue;
            }
            let file = item.path();
            let refuse = |line: usize, why: String| {
                Error::config(file, line, format!("pending entry refused: {why}"))
            };
            if !item.file_type().is_file() {
                return Err(refuse(1, "not a regular file (remove it)".into()));
            }
            let text = crate::util::input::read_text(
                file,
                crate::util::input::cap::PENDING,
                "pending entry",
            )?;
            let entry: Pending =
                serde_json::from_str(&text).map_err(|e| refuse(e.line(), e.to_string()))?;
            let rel = file.strip_prefix(&self.dir).unwrap_or(file);
            let derived = rel.with_extension("");
            if confined(&derived).is_none() {
                return Err(refuse(
                    1,
                    format!(
                        "it is stored as {}, not as a golden under {GOLDEN_DIR}/ (remove it)",
                        rel.display()
                    ),
                ));
            }
            if entry.golden != derived {
                return Err(refuse(
                    1,
                    format!(
                        "it names the golden {} but is stored for {} (remove it)",
                        entry.golden.display(),
                        derived.display()
                    ),
                ));
            }
            if let Some(h) = &entry.new_hex
                && let Err(e) = hex::decode(h)
            {
                return Err(refuse(1, format!("new_hex is not hex ({e})")));
            }
            if let Some(b) = &entry.base
                && (b.len() != 64 || hex::decode(b).is_err())
            {
                return Err(refuse(1, "base is not a SHA-256 in hex".into()));
            }
            self.target(&derived).map_err(|why| refuse(1, why))?;
            entries.push((file.to_path_buf(), entry));
        }
        Ok(entries)
    }

    /// Where a (confined) golden path writes: under the project's `golden/`, also after
    /// resolving the symbolic links of the part of the path that exists.
    fn target(&self, golden: &Path) -> std::result::Result<PathBuf, String> {
        let path = self.root.join(golden);
        let top = crate::util::fsutil::resolved(&self.root.join(GOLDEN_DIR));
        let real = crate::util::fsutil::resolved(&path);
        if !real.starts_with(&top) {
            return Err(format!(
                "{} leads outside {GOLDEN_DIR}/ (to {})",
                golden.display(),
                real.display()
            ));
        }
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(format!("{} is not a regular file", path.display()));
        }
        Ok(path)
    }

    /// The golden as it is now, to diff against.
    pub fn current(&self, entry: &Pending) -> Result<Option<Vec<u8>>> {
        let path = self.target(&entry.golden).map_err(Error::Usage)?;
        Ok(crate::util::input::read_if_exists(
            &path,
            crate::util::input::cap::GOLDEN,
            "golden file",
        )?)
    }

    /// Writes the entry's change into the golden, unless the golden changed since it was
    /// staged; then drops the entry.
    pub fn accept(&self, file: &Path, entry: &Pending) -> Result<()> {
        let now = self.current(entry)?;
        if now.as_deref().map(digest) != entry.base {
            return Err(Error::Usage(format!(
                "{} changed since this change was staged: run the case again",
                entry.golden.display()
            )));
        }
        let target = self
            .target(&entry.golden)
            .map_err(|why| Error::config(file, 1, format!("pending entry refused: {why}")))?;
        match (&entry.new_hex, entry.new_bytes()) {
            (Some(_), Some(bytes)) => crate::util::fsutil::write_atomic(&target, &bytes)?,
            (Some(_), None) => {
                return Err(Error::config(file, 1, "pending entry: new_hex is not hex"));
            }
            (None, _) => crate::util::fsutil::remove_if_exists(&target)?,
        }
        crate::util::fsutil::remove_if_exists(file)
    }

    /// Drops the entry; the golden stays as it is.
    pub fn reject(&self, file: &Path) -> Result<()> {
        crate::util::fsutil::remove_if_exists(file)
    }
}

/// `path` if it is `golden/<group…>/<file>`: relative, no `..`, `.` or root parts.
fn confined(path: &Path) -> Option<&Path> {
    use std::path::Component;
    let mut parts = path.components();
    let first = parts.next()?;
    let rest: Vec<_> = parts.collect();
    (first == Component::Normal(GOLDEN_DIR.as_ref())
        && rest.len() >= 2
        && rest.iter().all(|c| matches!(c, Component::Normal(_))))
    .then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_change_is_accepted_once_and_refused_when_stale() {
        let root = tempfile::tempdir().unwrap();
        let golden = root.path().join("golden/g/a.out");
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, b"old\n").unwrap();
        let store = PendingStore::new(root.path());
        let change = Change {
            path: golden.clone(),
            old: Some(b"old\n".to_vec()),
            new: Some(b"new\n".to_vec()),
        };
        store
            .stage(&["g/a".into()], &[("g/a".into(), change.clone())], &|_| {
                None
            })
            .unwrap();
        let list = store.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].1.golden, Path::new("golden/g/a.out"));
        store.accept(&list[0].0, &list[0].1).unwrap();
        assert_eq!(std::fs::read(&golden).unwrap(), b"new\n");
        assert!(store.list().unwrap().is_empty());

        // Staged against "old", but the golden is "new" now: refused, nothing written.
        store
            .stage(&["g/a".into()], &[("g/a".into(), change)], &|_| None)
            .unwrap();
        let list = store.list().unwrap();
        let err = store.accept(&list[0].0, &list[0].1).unwrap_err();
        assert!(err.to_string().contains("changed since"), "{err}");
        assert_eq!(std::fs::read(&golden).unwrap(), b"new\n");
        store.reject(&list[0].0).unwrap();
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn a_new_run_replaces_its_cases_entries() {
        let root = tempfile::tempdir().unwrap();
        let store = PendingStore::new(root.path());
        let change = |name: &str| Change {
            path: root.path().join(format!("golden/g/{name}.out")),
            old: None,
            new: Some(b"x\n".to_vec()),
        };
        store
            .stage(
                &[],
                &[("g/a".into(), change("a")), ("g/b".into(), change("b"))],
                &|_| None,
            )
            .unwrap();
        // g/a ran again and now passes: its entry goes, g/b's stays.
        store.stage(&["g/a".into()], &[], &|_| None).unwrap();
        let list = store.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].1.case, "g/b");
    }

    #[test]
    fn an_entry_remembers_its_run_and_one_without_it_still_reads() {
        let root = tempfile::tempdir().unwrap();
        let store = PendingStore::new(root.path());
        let change = Change {
            path: root.path().join("golden/g/a.out"),
            old: None,
            new: Some(b"x\n".to_vec()),
        };
        let origin = Origin {
            boards: vec!["unix".into()],
            run: "42".into(),
            at: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
        };
        store
            .stage(&[], &[("g/a".into(), change)], &|_| Some(origin.clone()))
            .unwrap();
        let list = store.list().unwrap();
        assert_eq!(list[0].1.staged.as_ref(), Some(&origin));
        assert_eq!(
            origin.to_string(),
            "staged by unix in run 42 at 1970-01-01 00:00:00 UTC"
        );
        // As staged before the origin was recorded.
        let old = r#"{"case": "g/a", "golden": "golden/g/a.out", "base": null, "new_hex": "780a"}"#;
        std::fs::write(&list[0].0, old).unwrap();
        assert_eq!(store.list().unwrap()[0].1.staged, None);
    }
}
