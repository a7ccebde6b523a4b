//! Whether a checkout's tests and the VM that runs them are the same MicroPython
//! version. Tests follow their tree: run on a newer or older VM, a test of something
//! that changed between the two fails for that alone (v1.28.0's `int_bytes*` on a
//! 1.29 preview), and the run should say so before anyone chases it.

use std::path::Path;

/// A MicroPython version: major, minor, micro and whether it is a pre-release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub numbers: (u32, u32, u32),
    pub preview: bool,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b, c) = self.numbers;
        write!(
            f,
            "{a}.{b}.{c}{}",
            if self.preview { "-preview" } else { "" }
        )
    }
}

/// The checkout's version from `py/mpconfig.h` beside its tests/ (`MICROPY_VERSION_MAJOR`
/// …, `MICROPY_VERSION_PRERELEASE`), or why it cannot be read.
pub(crate) fn checkout(tests_dir: &Path) -> Result<Version, String> {
    let header = tests_dir.join("../py/mpconfig.h");
    let text = std::fs::read_to_string(&header)
        .map_err(|e| format!("{} cannot be read ({e})", header.display()))?;
    let define = |name: &str| -> Option<u32> {
        text.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("#define") && words.next() == Some(name))
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
    };
    let numbers = match (
        define("MICROPY_VERSION_MAJOR"),
        define("MICROPY_VERSION_MINOR"),
        define("MICROPY_VERSION_MICRO"),
    ) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => {
            return Err(format!(
                "{} defines no MICROPY_VERSION_MAJOR/MINOR/MICRO",
                header.display()
            ));
        }
    };
    Ok(Version {
        numbers,
        preview: define("MICROPY_VERSION_PRERELEASE").is_some_and(|p| p != 0),
    })
}

/// The VM's version from what it reported (`MicroPython 1.29.0-preview; …`, the tool
/// line mpcheck asks every target for), if it names one.
pub(crate) fn reported(text: &str) -> Option<Version> {
    let rest = &text[text.find("MicroPython ")? + "MicroPython ".len()..];
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let mut parts = rest[..end].split('.').map(|p| p.parse::<u32>().ok());
    let numbers = (
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    );
    Some(Version {
        numbers,
        preview: rest[end..].starts_with("-preview"),
    })
}

/// The notice a board gets when its VM and the checkout differ (or either cannot be
/// read), or `None` when they are the same release.
pub(crate) fn note(board: &str, vm: &str, checkout: &Result<Version, String>) -> Option<String> {
    let reported = reported(vm);
    match (checkout, reported) {
        (Ok(tests), Some(vm)) if tests == &vm => None,
        (Ok(tests), Some(vm)) => Some(format!(
            "{board}: the VM is MicroPython {vm} and the tests are {tests}'s (py/mpconfig.h): a test of what changed between them fails for that alone"
        )),
        (Ok(tests), None) => Some(format!(
            "{board}: the VM's version cannot be read (it reported `{vm}`); the tests are {tests}'s"
        )),
        (Err(why), _) => Some(format!(
            "{board}: the checkout's version cannot be read: {why}; the VM reported `{vm}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_each_shared_tree_and_compared() {
        let pinned = "MicroPython 1.29.0-preview; 3.4.0; MicroPython 9458e3a23f on 2026-07-05";
        assert_eq!(
            reported(pinned),
            Some(Version {
                numbers: (1, 29, 0),
                preview: true
            })
        );
        assert_eq!(
            reported("MicroPython v1.9.2-34-gd64154c73 on 2017-09-01").map(|v| v.to_string()),
            Some("1.9.2".into())
        );
        assert_eq!(reported("Python 3.11.7"), None);
        // The same release, and another (the shared trees are checked in tests/upstream.rs).
        let preview = Version {
            numbers: (1, 29, 0),
            preview: true,
        };
        assert_eq!(note("unix", pinned, &Ok(preview)), None);
        let released = Version {
            numbers: (1, 28, 0),
            preview: false,
        };
        let said = note("unix", pinned, &Ok(released)).unwrap();
        assert!(
            said.contains("1.29.0-preview and the tests are 1.28.0's"),
            "{said}"
        );
        let gone = checkout(Path::new("/nonexistent/tests")).unwrap_err();
        assert!(
            gone.contains("/nonexistent/tests/../py/mpconfig.h"),
            "{gone}"
        );
        assert!(
            note("unix", pinned, &Err(gone))
                .unwrap()
                .contains("cannot be read")
        );
    }
}
