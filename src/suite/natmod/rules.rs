//! The rules of a checkout's tests/run-natmodtests.py, read from it (never run or
//! imported): which test uses which module (`TEST_MAPPINGS`), the import hook that
//! mounts the module from RAM (`injected_import_hook_code`), whether the test prints a
//! `START TEST` marker first (v1.25 and later). The tests are those it finds a module
//! for when given `extmod/*.py`, as upstream's unix CI gives it (the qemu port's
//! `TEST_NATMODS` runs fewer: `random_basic` of the random tests).

use std::path::{Path, PathBuf};

use crate::suite::upstream::pyread::{Value, read_source};

/// The script's name beside the tests.
pub const SCRIPT: &str = "run-natmodtests.py";

#[derive(Debug, Clone)]
pub struct Rules {
    /// `(test name prefix, module path under examples/natmod/ with `$(ARCH)`)`, in order.
    pub mappings: Vec<(String, String)>,
    /// The import hook, `{}` where the module's name goes.
    hook: String,
    /// The test prints `START TEST` first; it is removed from the output before judging.
    pub marker: bool,
    /// The checkout's root (examples/natmod/ is under it).
    pub root: PathBuf,
    /// `ARCH_MAPPINGS`: a detected arch whose modules are another's (`armv7em` → `armv7m`).
    arch_map: Vec<(String, String)>,
    /// Which arches a target loads besides its own (the checkout's persistentcode.h).
    arches: super::arches::ArchTest,
}

impl Rules {
    /// Reads the rules beside `tests_dir`; the error names the file and what is missing.
    pub fn read(tests_dir: &Path) -> Result<Rules, String> {
        let path = tests_dir.join(SCRIPT);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // Read with the reader of run-tests.py: its literals, evaluated as Python does.
        let source = read_source(&path, &text).map_err(|e| e.to_string())?;
        let missing = |what: &str| format!("{}: no {what}", path.display());
        let dict = |name: &str| match source.assignments.get(name) {
            Some(Value::Dict(items)) => items
                .iter()
                .filter_map(|(k, v)| match (k, v) {
                    (Value::Str(k), Value::Str(v)) => Some((k.clone(), v.clone())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let mappings = Some(dict("TEST_MAPPINGS"))
            .filter(|m| !m.is_empty())
            .ok_or_else(|| missing("TEST_MAPPINGS"))?;
        let hook = match source.assignments.get("injected_import_hook_code") {
            Some(Value::Str(h)) => h.replace("{import_prelude}", ""),
            _ => return Err(missing("injected_import_hook_code")),
        };
        if hook.contains('\\') || hook.matches('{').count() != 1 || !hook.contains("'{}'") {
            return Err(format!(
                "{}: injected_import_hook_code is not the `'{{}}'` template mpcheck knows",
                path.display()
            ));
        }
        let root = tests_dir.parent().unwrap_or(Path::new(".")).to_path_buf();
        Ok(Rules {
            mappings,
            hook,
            marker: text.contains("print('START TEST')"),
            arches: super::arches::ArchTest::read(&root),
            root,
            arch_map: dict("ARCH_MAPPINGS"),
        })
    }

    /// The module a test uses: `(module name, path of its .mpy under examples/natmod/)`,
    /// the first mapping whose name the test's starts with (as upstream).
    pub fn module_of(&self, test: &str, arch: &str) -> Option<(String, String)> {
        self.mappings
            .iter()
            .find(|(k, _)| test.starts_with(k.as_str()))
            .map(|(k, v)| (k.clone(), v.replace("$(ARCH)", arch)))
    }

    /// The arch whose modules a board of `arch` loads (upstream's `ARCH_MAPPINGS`).
    pub fn module_arch(&self, arch: &str) -> String {
        self.arch_map
            .iter()
            .find(|(k, _)| k == arch)
            .map_or(arch, |(_, v)| v)
            .to_string()
    }

    /// The arches of the modules a board of `arch` loads, its own modules' first: every
    /// arch its firmware accepts, as upstream's `ARCH_MAPPINGS` builds it (AN385:
    /// `armv7m`, `armv6m`; upstream's CI runs both).
    pub fn module_arches(&self, arch: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in self.arches.loadable(arch) {
            let m = self.module_arch(&a);
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// Whether upstream runs this test: a module is mapped to its name.
    pub fn runs(&self, test: &str) -> bool {
        self.mappings
            .iter()
            .any(|(k, _)| test.starts_with(k.as_str()))
    }

    /// The script the target runs: the module as `__buf`, the hook, the marker, the test.
    pub fn script(&self, module: &str, mpy: &[u8], test: &[u8]) -> Vec<u8> {
        let mut s = b"import sys\nsys.path.remove('')\n\n__buf=".to_vec();
        s.extend_from_slice(bytes_repr(mpy).as_bytes());
        s.push(b'\n');
        s.extend_from_slice(self.hook.replace("{}", module).as_bytes());
        if self.marker {
            s.extend_from_slice(b"print('START TEST')\n");
        }
        s.extend_from_slice(test);
        s
    }
}

/// Python's `repr(bytes)`, in single quotes.
pub fn bytes_repr(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2 + 3);
    s.push_str("b'");
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('\'');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_written_as_python_writes_them() {
        assert_eq!(bytes_repr(b"M\x06\x0a'\\\t\xff"), r"b'M\x06\n\'\\\t\xff'");
    }

    #[test]
    fn the_rules_are_read_from_the_script() {
        let t = tempfile::tempdir().unwrap();
        let tests = t.path().join("tests");
        std::fs::create_dir_all(&tests).unwrap();
        std::fs::write(
            tests.join(SCRIPT),
            "TEST_MAPPINGS = {\n    \"re\": \"re/re_$(ARCH).mpy\",\n}\ninjected_import_hook_code = \"\"\"\\\nimport sys\n{import_prelude}\nsys.modules['{}'] = __import__('__injected')\n\"\"\"\n        test_script += b\"print('START TEST')\\n\"\n",
        )
        .unwrap();
        let r = Rules::read(&tests).unwrap();
        assert_eq!(
            r.module_of("re_sub.py", "x64"),
            Some(("re".into(), "re/re_x64.mpy".into()))
        );
        assert!(r.marker && r.runs("re1.py") && !r.runs("heapq1.py") && !r.runs("ure1.py"));
        let s = String::from_utf8(r.script("re", b"M", b"print(1)\n")).unwrap();
        assert!(
            s.ends_with(
                "sys.modules['re'] = __import__('__injected')\nprint('START TEST')\nprint(1)\n"
            ),
            "{s}"
        );
        std::fs::write(tests.join(SCRIPT), "x = 1\n").unwrap();
        assert!(
            Rules::read(&tests)
                .unwrap_err()
                .contains("no TEST_MAPPINGS")
        );
    }
}
