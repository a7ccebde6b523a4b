//! Where a checkout's tests run on the host: a copy of its `tests/` made once per run in
//! the run's scratch root, never the checkout itself.
//!
//! Upstream runs a test in its own directory, and tests write there: `io/open_append`
//! and `io/open_plus` create and remove `testfile`, `extmod/vfs_posix*` make directories.
//! Run in the user's checkout, that writes into a tree mpcheck must only read (one
//! run's leftover `testfile` also changes the next run's verdict). The copy holds what
//! the tests read beside them (`data/`, sibling modules, `cmdline/` scripts); what they
//! write stays in the run and goes with it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::model::outcome::Outcome;

/// The copy of a checkout's `tests/`, or why it could not be made.
type Copy = Arc<Result<tempfile::TempDir, String>>;

static COPIES: OnceLock<Mutex<HashMap<PathBuf, Copy>>> = OnceLock::new();

/// The run's copy of `tests_dir`, made on first use; later calls (any thread) get the
/// same one. The copies are removed when the run finishes.
pub(crate) fn tests_copy(tests_dir: &Path) -> Result<PathBuf, String> {
    let copies = COPIES.get_or_init(Default::default);
    let copy = {
        let mut map = copies.lock().unwrap_or_else(|p| p.into_inner());
        crate::util::interrupt::at_finish(remove_all);
        map.entry(tests_dir.to_path_buf())
            .or_insert_with(|| Arc::new(make(tests_dir)))
            .clone()
    };
    match copy.as_ref() {
        Ok(dir) => Ok(dir.path().to_path_buf()),
        Err(e) => Err(e.clone()),
    }
}

/// Names the checkout where an outcome names the run's copy of `tests_dir`: outputs
/// read as if the test ran in the checkout, as run-tests.py runs it (`sys.argv`,
/// `__file__`, tracebacks), the same from run to run, so CPython's truths stay valid in
/// the cache across runs.
pub(crate) fn as_in_checkout(tests_dir: &Path, mut outcome: Outcome) -> Outcome {
    let Ok(copy) = tests_copy(tests_dir) else {
        return outcome;
    };
    let from = copy.as_os_str().as_encoded_bytes();
    let to = tests_dir.as_os_str().as_encoded_bytes();
    if let Some(replaced) = replace(&outcome.output, from, to) {
        outcome.output = replaced;
    }
    if let Some(e) = &mut outcome.exception
        && let Some(replaced) = replace(e.as_bytes(), from, to)
    {
        *e = String::from_utf8_lossy(&replaced).into_owned();
    }
    outcome
}

/// `bytes` with every `from` replaced by `to`; `None` where there is none.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    let finder = memchr::memmem::Finder::new(from);
    let mut at = finder.find_iter(bytes).peekable();
    at.peek()?;
    let mut out = Vec::with_capacity(bytes.len());
    let mut last = 0;
    for i in at {
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(to);
        last = i + from.len();
    }
    out.extend_from_slice(&bytes[last..]);
    Some(out)
}

/// Where `path` (inside `tests_dir`) is in the run's copy.
pub(crate) fn in_copy(tests_dir: &Path, path: &Path) -> Result<PathBuf, String> {
    let copy = tests_copy(tests_dir)?;
    let rel = path.strip_prefix(tests_dir).map_err(|_| {
        format!(
            "{} is not inside the tests directory {}",
            path.display(),
            tests_dir.display()
        )
    })?;
    Ok(copy.join(rel))
}

fn make(tests_dir: &Path) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix("mpcheck-tests-")
        .tempdir()
        .map_err(|e| {
            format!(
                "could not make a scratch copy of {}: {e}",
                tests_dir.display()
            )
        })?;
    copy_tree(tests_dir, dir.path()).map_err(|e| {
        format!(
            "could not copy {} to a scratch directory (tests run there, never in the \
             checkout): {e}",
            tests_dir.display()
        )
    })?;
    Ok(dir)
}

/// Copies the regular files and directories under `from` into `to` (which exists).
/// Symbolic links are copied as links, so one pointing outside is not followed.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Removes every copy (the run's end; the scratch root goes too, this is for runs
/// without one, such as the library's tests).
fn remove_all() {
    if let Some(copies) = COPIES.get() {
        copies.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_holds_the_tree_and_takes_the_writes() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir(tree.path().join("io")).unwrap();
        std::fs::create_dir(tree.path().join("io/data")).unwrap();
        std::fs::write(tree.path().join("io/data/file1"), "longer line1\n").unwrap();
        std::fs::write(tree.path().join("io/open_append.py"), "print(1)\n").unwrap();
        std::os::unix::fs::symlink("../elsewhere", tree.path().join("io/link")).unwrap();

        let test = in_copy(tree.path(), &tree.path().join("io/open_append.py")).unwrap();
        assert_eq!(std::fs::read(&test).unwrap(), b"print(1)\n");
        let dir = test.parent().unwrap();
        assert_eq!(
            std::fs::read(dir.join("data/file1")).unwrap(),
            b"longer line1\n"
        );
        assert_eq!(
            std::fs::read_link(dir.join("link")).unwrap(),
            Path::new("../elsewhere")
        );
        // A test writing beside itself writes into the copy, not the tree.
        std::fs::write(dir.join("testfile"), "x").unwrap();
        assert!(!tree.path().join("io/testfile").exists());
        // One copy per run: the write is still there for the next caller.
        let again = tests_copy(tree.path()).unwrap();
        assert!(again.join("io/testfile").exists());
        assert!(!again.starts_with(tree.path()));
    }

    #[test]
    fn an_output_names_the_checkout_not_the_copy() {
        let tree = tempfile::tempdir().unwrap();
        let copy = tests_copy(tree.path()).unwrap();
        let mut ran = Outcome::not_started(String::new(), std::time::Duration::ZERO);
        ran.output =
            format!("['{}/io/argv.py']\n{}\n", copy.display(), copy.display()).into_bytes();
        ran.exception = Some(format!("OSError: {}/x", copy.display()));
        let ran = as_in_checkout(tree.path(), ran);
        let t = tree.path().display();
        assert_eq!(
            String::from_utf8(ran.output).unwrap(),
            format!("['{t}/io/argv.py']\n{t}\n")
        );
        assert_eq!(ran.exception.unwrap(), format!("OSError: {t}/x"));
    }

    #[test]
    fn a_path_outside_the_tests_dir_is_an_error() {
        let tree = tempfile::tempdir().unwrap();
        let e = in_copy(tree.path(), Path::new("/etc/passwd")).unwrap_err();
        assert!(e.contains("/etc/passwd is not inside"), "{e}");
    }
}
