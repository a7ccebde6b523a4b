//! What a trial's verdict was reached from, as the history keys and compares it: the
//! suite it belongs to (mpcheck's own `cases/`, or a checkout's `tests/` run with an
//! emitter), and a fingerprint of its inputs (the case's text, the goldens it is judged
//! against, the tools' versions, the board's file). A verdict that changed between two
//! runs with the same fingerprint changed with nothing changed: that is flakiness; one
//! that changed with the fingerprint is a maintainer's edit.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::pipeline::TrialResult;
use crate::tools::toolchain::ToolInfo;

/// Where a suite's trials read their inputs from.
#[derive(Debug, Clone)]
enum Source {
    /// mpcheck's own `cases/`, judged against `golden/`.
    Cases { cases: PathBuf, goldens: PathBuf },
    /// A checkout's `tests/`, judged against the `.exp` files beside each test (and the
    /// project's list of known upstream differences).
    Tests {
        tests: PathBuf,
        emit: &'static str,
        /// The project's root, whose known differences reclassify failures.
        root: PathBuf,
    },
    /// Not said by the caller: no fingerprint is taken.
    Unknown,
}

/// The suite a run's trials belong to: part of each trial's key in the history, so runs
/// of `cases/`, of a checkout's tests and of `--emit native` never mix their verdicts.
#[derive(Debug, Clone)]
pub struct Suite {
    key: String,
    source: Source,
    boards: PathBuf,
}

impl Suite {
    /// mpcheck's own `cases/` of the project at `root`.
    pub fn cases(root: &Path) -> Suite {
        Suite {
            key: "cases/".into(),
            source: Source::Cases {
                cases: root.join("cases"),
                goldens: root.join("golden"),
            },
            boards: root.join("boards"),
        }
    }

    /// A checkout's `tests/` directory, run with `emit` (`bytecode`, `native`), by the
    /// project at `root`. The directory is made absolute so that runs from elsewhere
    /// share the key.
    pub fn tests(root: &Path, tests: &Path, emit: &'static str) -> Suite {
        let tests = std::path::absolute(tests).unwrap_or_else(|_| tests.to_path_buf());
        Suite {
            key: format!("{} --emit {emit}", tests.display()),
            source: Source::Tests {
                tests,
                emit,
                root: root.to_path_buf(),
            },
            boards: root.join("boards"),
        }
    }

    /// No suite said: the key of rows recorded before suites were (empty), and no
    /// fingerprint.
    pub fn unknown() -> Suite {
        Suite {
            key: String::new(),
            source: Source::Unknown,
            boards: PathBuf::new(),
        }
    }

    /// The suite's part of a trial's key (the trial's name holds board, case and mode).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The fingerprint of a result's inputs (SHA-256, hex), read now: the suite, the
    /// case's text, every golden that may judge it (present or absent: adding a board
    /// override is an edit too), the tools' names and versions, and the board's file.
    /// `None` when the suite is unknown or the result names no case.
    pub fn fingerprint(&self, r: &TrialResult, tools: &[ToolInfo]) -> Option<String> {
        let case = r.case_id.as_ref()?;
        let files = self.files(&case.group, &case.name, &r.board)?;
        let mut hash = Sha256::new();
        field(&mut hash, "suite", self.key.as_bytes());
        field(&mut hash, "name", r.name.as_bytes());
        for path in &files {
            field(&mut hash, "path", path.as_os_str().as_encoded_bytes());
            match std::fs::read(path) {
                Ok(bytes) => field(&mut hash, "file", &bytes),
                Err(_) => field(&mut hash, "absent", b""),
            }
        }
        for tool in sorted(tools) {
            field(&mut hash, "tool", tool.as_bytes());
        }
        Some(hex::encode(hash.finalize()))
    }

    /// Every file a trial of `group/name` on `board` is judged from, in a fixed order.
    fn files(&self, group: &str, name: &str, board: &str) -> Option<Vec<PathBuf>> {
        let mut files = match &self.source {
            Source::Cases { cases, goldens } => {
                let golden = |suffix: &str| goldens.join(group).join(format!("{name}{suffix}"));
                vec![
                    cases.join(group).join(format!("{name}.py")),
                    golden(".out"),
                    golden(&format!(".{board}.out")),
                    golden(".heap.yaml"),
                    golden(".bytecode"),
                ]
            }
            Source::Tests { tests, emit, root } => {
                let test = tests.join(group).join(format!("{name}.py"));
                let exp = |suffix: &str| tests.join(group).join(format!("{name}.py{suffix}"));
                let mut files = vec![test.clone(), exp(".exp"), exp(&format!(".{emit}.exp"))];
                // A port's file is not here: the board's port is not known to the history.
                files.extend(crate::expect::known::KnownDifferences::files(root, board));
                files
            }
            Source::Unknown => return None,
        };
        // `boards/<name>.yaml` (or `.yml`): whichever the board was read from.
        files.push(self.boards.join(format!("{board}.yaml")));
        files.push(self.boards.join(format!("{board}.yml")));
        Some(files)
    }
}

/// One labelled, length-prefixed field, so that no two different sets of inputs hash
/// the same text (a file's end cannot run into the next one's start).
fn field(hash: &mut Sha256, label: &str, bytes: &[u8]) {
    hash.update(label.as_bytes());
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// `tool version pinned` of each tool, sorted: the run's order of opening is no input.
fn sorted(tools: &[ToolInfo]) -> Vec<String> {
    let mut lines: Vec<String> = tools
        .iter()
        .map(|t| format!("{} {} {}", t.tool, t.version, t.pinned))
        .collect();
    lines.sort();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(board: &str) -> TrialResult {
        let mut r: TrialResult = serde_json::from_value(serde_json::json!({
            "name": format!("{board}::g/t"), "board": board, "case": "g/t",
            "mode": "source", "verdict": "pass", "duration_ms": 3, "heap": {},
        }))
        .unwrap();
        r.case_id = Some(crate::model::case::CaseId {
            group: "g".into(),
            name: "t".into(),
        });
        r
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn tool(version: &str) -> ToolInfo {
        ToolInfo {
            tool: "micropython".into(),
            path: PathBuf::from("/x/micropython"),
            version: version.into(),
            pinned: true,
        }
    }

    #[test]
    fn every_input_changes_the_fingerprint_and_nothing_else_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "cases/g/t.py", "print(1)\n");
        write(root, "golden/g/t.out", "1\n");
        write(root, "boards/unix.yaml", "kind: unix\n");
        let suite = Suite::cases(root);
        let tools = [tool("1.28.0")];
        let print = |tools: &[ToolInfo]| suite.fingerprint(&result("unix"), tools).unwrap();
        let first = print(&tools);
        assert_eq!(print(&tools), first, "nothing changed");
        write(root, "golden/g/t.out", "2\n");
        let edited = print(&tools);
        assert_ne!(edited, first, "a golden edit");
        write(root, "golden/g/t.out", "1\n");
        assert_eq!(print(&tools), first, "the edit reverted");
        assert_ne!(print(&[tool("1.29.0")]), first, "another VM");
        write(root, "golden/g/t.unix.out", "1\n");
        assert_ne!(print(&tools), first, "a board override added");
        std::fs::remove_file(root.join("golden/g/t.unix.out")).unwrap();
        write(root, "cases/g/t.py", "print(1) \n");
        assert_ne!(print(&tools), first, "the case's text");
        write(root, "cases/g/t.py", "print(1)\n");
        write(root, "boards/unix.yaml", "kind: unix\ntimeout: 5\n");
        assert_ne!(print(&tools), first, "the board's file");
        assert_eq!(Suite::unknown().fingerprint(&result("unix"), &tools), None);
    }

    #[test]
    fn a_suite_key_names_cases_or_the_checkout_and_its_emitter() {
        let root = Path::new("/p");
        assert_eq!(Suite::cases(root).key(), "cases/");
        assert_eq!(
            Suite::tests(root, Path::new("/mp/tests"), "native").key(),
            "/mp/tests --emit native"
        );
        assert_ne!(
            Suite::tests(root, Path::new("/mp/tests"), "bytecode").key(),
            Suite::tests(root, Path::new("/mp/tests"), "native").key()
        );
    }
}
