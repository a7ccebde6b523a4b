//! Tests that write files where they run (`open("testfile", "a")`, `os.remove(…)`) run
//! in their directory of the run's copy of tests/ (as run-tests.py runs them in theirs),
//! so two of them in one directory running at once would write one file between them
//! (`io/open_append` and `io/open_plus` both use `testfile`), as would one test's source
//! and `.mpy` trials. Such a test holds its directory's lock while it runs; tests that
//! only read run freely beside it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Whether `source` is read to write files: an `open` whose literal mode writes
/// (`w`, `a`, `x`, `+`), or an `os` call that removes, makes or renames a file or
/// directory.
pub(crate) fn writes_files(source: &str) -> bool {
    static WRITES: OnceLock<Option<regex::Regex>> = OnceLock::new();
    WRITES
        .get_or_init(|| {
            regex::Regex::new(
                r#"open\([^)]*,\s*(?:mode\s*=\s*)?[rb]?["'][rbt]*[wax+]|\bos\.(?:remove|unlink|mkdir|rmdir|rename)\("#,
            )
            .ok()
        })
        .as_ref()
        .is_some_and(|re| re.is_match(source))
}

/// A directory's lock, held while a test that writes files runs there: an `flock` on a
/// file of the temp dir named by the directory's hash, which the trials of the run's
/// threads and forked VMs take in turns.
pub(crate) struct DirLock {
    path: PathBuf,
}

/// A held [`DirLock`]: released when dropped (the file closed).
pub(crate) struct Held {
    _file: Option<std::fs::File>,
}

impl DirLock {
    pub(crate) fn of(dir: &Path) -> DirLock {
        use sha2::{Digest, Sha256};
        let hash: String = Sha256::digest(dir.as_os_str().as_encoded_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        DirLock {
            path: std::env::temp_dir().join(format!("mpcheck-writes-{hash}.lock")),
        }
    }

    /// Waits for the directory. A lock file that cannot be opened leaves the test to run
    /// unlocked, as before there was a lock.
    pub(crate) fn hold(&self) -> Held {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.path)
            .ok();
        if let Some(f) = &file {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor this function owns; it blocks until held.
            unsafe {
                libc::flock(f.as_raw_fd(), libc::LOCK_EX);
            }
        }
        Held { _file: file }
    }

    #[cfg(test)]
    fn try_hold(&self) -> bool {
        use std::os::fd::AsRawFd;
        let Ok(f) = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.path)
        else {
            return false;
        };
        // SAFETY: as in `hold`, without waiting; the file (and any lock) closes on return.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_that_write_files_are_told_from_those_that_read() {
        for writer in [
            r#"f = open("testfile", "a")"#,
            r#"f = open("testfile", "w+")"#,
            r#"with open(name, mode="wb") as f:"#,
            "os.remove(\"testfile\")",
            "os.mkdir(d)",
        ] {
            assert!(writes_files(writer), "{writer}");
        }
        for reader in [
            r#"f = open("data/file1")"#,
            r#"f = open("data/file1", "rb")"#,
            "print(open(__file__).read())",
            "x.removeprefix(\"a\")",
            "l.remove(1)",
        ] {
            assert!(!writes_files(reader), "{reader}");
        }
    }

    #[test]
    fn one_directory_is_held_by_one_test_at_a_time() {
        let dir = Path::new("/nonexistent/writes-lock-test");
        let (a, b) = (DirLock::of(dir), DirLock::of(dir));
        let held = a.hold();
        assert!(!b.try_hold(), "the same directory's lock is shared");
        let other = DirLock::of(Path::new("/nonexistent/writes-lock-other"));
        assert!(other.try_hold(), "another directory is free");
        drop(held);
        assert!(b.try_hold());
    }
}
