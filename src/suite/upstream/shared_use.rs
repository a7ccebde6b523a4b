//! What tests share while they run, and the locks that give it to one test at a time.
//!
//! Tests that write files where they run (`open("testfile", "a")`, `os.remove(…)`) run
//! in their directory of the run's copy of tests/ (as run-tests.py runs them in theirs),
//! so two of them in one directory running at once would write one file between them
//! (`io/open_append` and `io/open_plus` both use `testfile`), as would one test's source
//! and `.mpy` trials. Such a test holds its directory's lock while it runs; tests that
//! only read run freely beside it.
//!
//! Likewise tests that bind a fixed port (`extmod/select_poll_udp` and three others bind
//! UDP 127.0.0.1:8000): two at once, and the second's bind fails, which the test reads
//! as "no sockets here" and prints SKIP (4 of 970 verdicts differed from run-tests.py's
//! on 1.24.0 `--mode mpy`). Such a test holds its port's lock.

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

/// The fixed ports `source` binds or serves on: the literal port of a
/// `getaddrinfo("host", 8000)` or a `start_server(…, 8000)`, sorted (the order locks
/// are taken in, so two tests never wait on each other).
pub(crate) fn fixed_ports(source: &str) -> Vec<u16> {
    static PORTS: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let Some(re) = PORTS
        .get_or_init(|| {
            regex::Regex::new(
                r#"(?:getaddrinfo\(\s*["'][^"']*["']|start_server\([^)]*?)\s*,\s*(\d{2,5})\s*[,)]"#,
            )
            .ok()
        })
        .as_ref()
    else {
        return Vec::new();
    };
    let mut ports: Vec<u16> = re
        .captures_iter(source)
        .filter_map(|c| c[1].parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// A lock held while a test runs: a directory's, for a test that writes files there,
/// or a port's, for one that binds it. An `flock` on a file of the temp dir named by
/// the hash of what it guards, which the trials of the run's threads and forked VMs
/// (and other runs on the machine) take in turns.
pub(crate) struct TestLock {
    path: PathBuf,
}

/// A held [`TestLock`]: released when dropped (the file closed).
pub(crate) struct Held {
    _file: Option<std::fs::File>,
}

impl TestLock {
    /// The lock of a port of this machine's loopback.
    pub(crate) fn port(port: u16) -> TestLock {
        Self::dir(Path::new(&format!("port {port}")))
    }

    /// The lock of a directory tests write in.
    pub(crate) fn dir(dir: &Path) -> TestLock {
        use sha2::{Digest, Sha256};
        let hash: String = Sha256::digest(dir.as_os_str().as_encoded_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        TestLock {
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
    fn fixed_ports_are_read_from_binds_and_servers() {
        let src = "s.bind(socket.getaddrinfo(\"127.0.0.1\", 8000)[0][-1])\ns2.bind(socket.getaddrinfo('127.0.0.1', 8001)[0][-1])\nai = socket.getaddrinfo(\"127.0.0.1\", 8000)\n";
        assert_eq!(fixed_ports(src), [8000, 8001]);
        assert_eq!(
            fixed_ports("srv = await asyncio.start_server(None, \"0.0.0.0\", 8000)\n"),
            [8000]
        );
        assert_eq!(
            fixed_ports("socket.getaddrinfo(\"micropython.org\", 80, 0, socket.SOCK_STREAM)"),
            [80]
        );
        assert!(fixed_ports("getaddrinfo(host, port)\nx = (1, 8000)\n").is_empty());
        assert_ne!(TestLock::port(8000).path, TestLock::port(8001).path);
    }

    #[test]
    fn one_directory_is_held_by_one_test_at_a_time() {
        let dir = Path::new("/nonexistent/writes-lock-test");
        let (a, b) = (TestLock::dir(dir), TestLock::dir(dir));
        let held = a.hold();
        assert!(!b.try_hold(), "the same directory's lock is shared");
        let other = TestLock::dir(Path::new("/nonexistent/writes-lock-other"));
        assert!(other.try_hold(), "another directory is free");
        drop(held);
        assert!(b.try_hold());
    }
}
