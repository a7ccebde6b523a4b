//! The project's known differences: `known-differences/<board or port>.yaml`, a map of
//! case id (`group/name`, or `group/name.<mode>` for one mode; a checkout's test may be
//! named by its path, `basics/foo.py`) to the reason, like upstream's cpydiff. One format
//! for both suites: in a reference matrix (`--reference`) a listed difference is shown
//! as known; for a checkout's tests, whose expected output is upstream's own, a listed
//! test's failure on that board becomes a skip with the reason. A failure against a
//! board's own golden is never excused.
//!
//! The old list of known upstream differences, `golden/upstream-known.yaml` (`test:
//! reason` for every board, or `test: {board: reason}`), is still read, and said to be
//! old each time it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::case::Mode;
use crate::util::error::{Error, Result};

/// Where the old format lived, under the project's root.
pub const LEGACY: &str = "golden/upstream-known.yaml";
/// The directory of known differences, under the project's root.
pub const DIR: &str = "known-differences";
/// The old format's entries for every board.
const EVERY_BOARD: &str = "*";

/// Known differences: board name or port → case id → reason.
#[derive(Debug, Default, Clone)]
pub struct KnownDifferences {
    by_board: BTreeMap<String, BTreeMap<String, String>>,
    /// Set when the old `golden/upstream-known.yaml` was read: what to tell the user.
    pub legacy_notice: Option<String>,
}

/// An entry of the old file: for every board, or per board.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum LegacyEntry {
    All(String),
    Boards(BTreeMap<String, String>),
}

impl KnownDifferences {
    /// Reads every `*.yaml` in `<root>/known-differences/` and the old
    /// `<root>/golden/upstream-known.yaml` (neither there: nothing known).
    pub fn load(root: &Path) -> Result<KnownDifferences> {
        let mut known = KnownDifferences::default();
        for path in yaml_files(&root.join(DIR)) {
            let text = crate::util::input::read_text(
                &path,
                crate::util::input::cap::CONFIG,
                "known-differences file",
            )?;
            let map: BTreeMap<String, String> = crate::util::input::yaml(&path, 1, &text)?;
            let board = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            for (case, reason) in map {
                known.add(&path, &text, board, &case, reason)?;
            }
        }
        let legacy = root.join(LEGACY);
        if let Some(bytes) = crate::util::input::read_if_exists(
            &legacy,
            crate::util::input::cap::CONFIG,
            "known-differences file",
        )? {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let map: BTreeMap<String, LegacyEntry> = crate::util::input::yaml(&legacy, 1, &text)?;
            for (case, entry) in &map {
                match entry {
                    LegacyEntry::All(reason) => {
                        known.add(&legacy, &text, EVERY_BOARD, case, reason.clone())?
                    }
                    LegacyEntry::Boards(boards) => {
                        for (board, reason) in boards {
                            known.add(&legacy, &text, board, case, reason.clone())?;
                        }
                    }
                }
            }
            known.legacy_notice = Some(format!(
                "{}: read in the old format ({} entries); known differences now live in {DIR}/<board or port>.yaml (`group/name: reason`), one file a board",
                legacy.display(),
                map.len()
            ));
        }
        Ok(known)
    }

    /// One entry: a test's path (`basics/foo.py`) is its case id; a reason is required.
    fn add(
        &mut self,
        file: &Path,
        text: &str,
        board: &str,
        case: &str,
        reason: String,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            let line = text.lines().position(|l| l.trim_start().starts_with(case));
            return Err(Error::config(
                file,
                line.map_or(1, |l| l + 1),
                format!("{case}: a known difference needs its reason"),
            ));
        }
        let id = case.strip_suffix(".py").unwrap_or(case);
        self.by_board
            .entry(board.to_string())
            .or_default()
            .insert(id.to_string(), reason);
        Ok(())
    }

    /// The reason a board differs on this trial, if one is known: `names` are what the
    /// board is known by, most particular first (its name, its family, its port).
    pub fn reason(&self, names: &[&str], case: &str, mode: Mode) -> Option<&str> {
        let keys = [format!("{case}.{}", mode.as_str()), case.to_string()];
        names
            .iter()
            .chain([&EVERY_BOARD])
            .filter_map(|b| self.by_board.get(*b))
            .find_map(|m| keys.iter().find_map(|k| m.get(k)))
            .map(String::as_str)
    }

    /// The files a board's known differences are read from (for the history's
    /// fingerprint of a trial's inputs).
    pub fn files(root: &Path, board: &str) -> Vec<PathBuf> {
        vec![
            root.join(DIR).join(format!("{board}.yaml")),
            root.join(LEGACY),
        ]
    }
}

/// The `*.yaml` files of `dir`, sorted (none when it does not exist).
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn a_reason_for_one_mode_wins_over_none_and_a_port_reason_covers_its_boards() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "known-differences/webassembly.yaml",
            "g/a: port\n",
        );
        write(
            dir.path(),
            "known-differences/my-board.yaml",
            "g/b.mpy: board, mpy\nbasics/c.py: a test path\n",
        );
        let known = KnownDifferences::load(dir.path()).unwrap();
        assert_eq!(
            known.reason(&["wasm-1.27", "webassembly"], "g/a", Mode::Source),
            Some("port")
        );
        assert_eq!(
            known.reason(&["my-board", "qemu"], "g/b", Mode::Mpy),
            Some("board, mpy")
        );
        assert_eq!(
            known.reason(&["my-board", "qemu"], "g/b", Mode::Source),
            None
        );
        assert_eq!(
            known.reason(&["my-board", "qemu"], "basics/c", Mode::Mpy),
            Some("a test path")
        );
        assert_eq!(known.legacy_notice, None);
    }

    #[test]
    fn the_old_upstream_known_file_is_read_and_said_to_be_old() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            LEGACY,
            "basics/a.py: a reason\nbasics/b.py:\n  unix: only here\n",
        );
        let k = KnownDifferences::load(dir.path()).unwrap();
        assert_eq!(
            k.reason(&["qemu", "qemu"], "basics/a", Mode::Source),
            Some("a reason")
        );
        assert_eq!(
            k.reason(&["unix", "unix"], "basics/b", Mode::Source),
            Some("only here")
        );
        assert_eq!(k.reason(&["qemu", "qemu"], "basics/b", Mode::Source), None);
        let notice = k.legacy_notice.unwrap();
        assert!(
            notice.contains("old format (2 entries)") && notice.contains("known-differences/"),
            "{notice}"
        );
        write(dir.path(), LEGACY, "basics/a.py: ok\nbasics/b.py: [1, 2\n");
        let e = KnownDifferences::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("upstream-known.yaml:") && e.contains("expected"),
            "{e}"
        );
    }

    #[test]
    fn a_known_difference_without_a_reason_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "known-differences/unix.yaml",
            "g/a: fine\ng/b: ''\n",
        );
        let e = KnownDifferences::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("unix.yaml:2") && e.contains("needs its reason"),
            "{e}"
        );
    }
}
