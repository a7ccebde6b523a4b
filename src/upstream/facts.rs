//! What a target has, found once per target by running the checkout's own
//! `feature_check/` scripts through the target itself (the same scripts on every target).
//! Which output means "has it" is the fixed table of run-tests.py (v1.28); unlike
//! upstream's, a probe that cannot run (old firmware) leaves the feature absent instead
//! of stopping the run.

use std::collections::BTreeMap;

/// What one target has.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub platform: String,
    pub arch: Option<String>,
    pub build: String,
    pub thread: Option<String>,
    pub float_prec: i64,
    pub unicode: bool,
    pub inlineasm_arch: Option<String>,
    pub native: bool,
    pub int_big: bool,
    pub int_64: bool,
    pub bytearray: bool,
    pub set: bool,
    pub slice: bool,
    pub async_: bool,
    pub const_: bool,
    pub revops: bool,
    pub fstring: bool,
    pub tstring: bool,
    /// `byteorder.py` printed what CPython prints.
    pub endian_matches: bool,
    pub complex: bool,
    pub coverage: bool,
    /// Each feature-check script's output (after the regex `.exp` conversion), by file name.
    pub outputs: BTreeMap<String, Vec<u8>>,
}

/// Platforms run-tests.py treats as PCs (`PC_PLATFORMS`).
pub(crate) const PC_PLATFORMS: [&str; 3] = ["darwin", "linux", "win32"];

impl Facts {
    /// The facts of the pinned unix port, for tests of the evaluation (not used to run).
    #[cfg(test)]
    pub(crate) fn unix_like() -> Facts {
        Facts {
            platform: "linux".into(),
            arch: Some("x64".into()),
            build: "standard".into(),
            thread: Some("GIL".into()),
            float_prec: 64,
            unicode: true,
            inlineasm_arch: None,
            native: true,
            int_big: true,
            int_64: true,
            bytearray: true,
            set: true,
            slice: true,
            async_: true,
            const_: true,
            revops: true,
            fstring: true,
            tstring: true,
            endian_matches: true,
            complex: true,
            coverage: false,
            outputs: BTreeMap::new(),
        }
    }

    /// Reads the facts from the feature checks' outputs (`script name → output`) and
    /// CPython's output of `byteorder.py`.
    pub(crate) fn from_outputs(
        outputs: BTreeMap<String, Vec<u8>>,
        cpython_byteorder: &[u8],
    ) -> Facts {
        let out = |name: &str| outputs.get(name).map(Vec::as_slice).unwrap_or(b"");
        let is = |name: &str, want: &[u8]| out(name) == want;
        let info = String::from_utf8_lossy(out("target_info.py")).into_owned();
        let fields: Vec<&str> = info.split_whitespace().collect();
        // One line of seven fields with a number for the float precision, or nothing
        // (an old firmware's traceback is not target information).
        let well_formed = info.trim().lines().count() == 1
            && fields.len() == 7
            && fields[5].parse::<i64>().is_ok();
        let field = |i: usize| fields.get(i).copied().filter(|_| well_formed);
        let none_is = |v: Option<&str>| v.filter(|s| *s != "None").map(str::to_string);
        let inlineasm_arch = ["rv32", "thumb", "xtensa"]
            .into_iter()
            .find(|a| String::from_utf8_lossy(out(&format!("inlineasm_{a}.py"))).trim() == *a)
            .map(str::to_string);
        Facts {
            // Old firmware without `sys.platform`: run-tests.py's own fallback name.
            platform: field(0).unwrap_or("minimal").to_string(),
            arch: none_is(field(1)),
            build: field(3).unwrap_or("unknown").to_string(),
            thread: none_is(field(4)),
            float_prec: field(5).and_then(|f| f.parse().ok()).unwrap_or(0),
            unicode: field(6) == Some("True"),
            inlineasm_arch,
            native: is("native_check.py", b"native\n"),
            int_big: is(
                "int_big.py",
                b"1000000000000000000000000000000000000000000000\n",
            ),
            int_64: is("int_64.py", b"4611686018427387904\n"),
            bytearray: is("bytearray.py", b"bytearray\n"),
            set: is("set_check.py", b"{1}\n"),
            slice: is("slice.py", b"slice\n"),
            async_: is("async_check.py", b"async\n"),
            const_: is("const.py", b"1\n"),
            revops: !is("reverse_ops.py", b"TypeError\n"),
            fstring: is("fstring.py", b"a=1\n"),
            tstring: is("tstring.py", b"tstring\n"),
            endian_matches: out("byteorder.py") == cpython_byteorder,
            complex: is("complex.py", b"complex\n"),
            coverage: is("coverage.py", b"coverage\n"),
            outputs,
        }
    }

    pub(crate) fn is_pc(&self) -> bool {
        PC_PLATFORMS.contains(&self.platform.as_str())
    }

    /// `sys.platform` → port name, as run-tests.py maps it.
    pub(crate) fn port(&self) -> &str {
        match self.platform.as_str() {
            "pyboard" => "stm32",
            "WiPy" => "cc3200",
            p if PC_PLATFORMS.contains(&p) => "unix",
            p => p,
        }
    }

    /// The test directories run-tests.py runs on this target by default.
    pub(crate) fn test_dirs(&self, tests_dir: &std::path::Path) -> Vec<String> {
        let mut dirs: Vec<String> = ["basics", "micropython", "misc", "extmod", "stress"]
            .map(String::from)
            .to_vec();
        if let Some(a) = &self.inlineasm_arch {
            dirs.push(format!("inlineasm/{a}"));
        }
        if self.thread.is_some() {
            dirs.push("thread".into());
        }
        if self.float_prec > 0 {
            dirs.push("float".into());
        }
        if self.unicode {
            dirs.push("unicode".into());
        }
        let port = format!("ports/{}", self.port());
        if tests_dir.join(&port).is_dir() {
            dirs.push(port);
        }
        if self.is_pc() {
            dirs.push("import".into());
            if self.build != "minimal" {
                dirs.push("cmdline".into());
                dirs.push("io".into());
            }
        }
        dirs
    }

    /// `args.NAME` in a run-tests.py condition.
    pub(crate) fn attr(&self, name: &str) -> Option<super::skips::Fact> {
        use super::skips::Fact;
        let opt = |v: &Option<String>| v.clone().map_or(Fact::None, Fact::Str);
        Some(match name {
            "platform" => Fact::Str(self.platform.clone()),
            "arch" => opt(&self.arch),
            "build" => Fact::Str(self.build.clone()),
            "thread" => opt(&self.thread),
            "float_prec" => Fact::Int(self.float_prec),
            "unicode" => Fact::Bool(self.unicode),
            "inlineasm_arch" => opt(&self.inlineasm_arch),
            _ => return None,
        })
    }

    /// A flag variable of run-tests.py (`skip_X`, `has_X`).
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        let has = match name.strip_prefix("skip_").or(name.strip_prefix("has_"))? {
            "native" => self.native,
            "int_big" => self.int_big,
            "int_64" => self.int_64,
            "bytearray" => self.bytearray,
            "set_type" => self.set,
            "slice" => self.slice,
            "async" => self.async_,
            "const" => self.const_,
            "revops" => self.revops,
            "fstring" => self.fstring,
            "tstring" => self.tstring,
            "endian" => self.endian_matches,
            "inlineasm" => self.inlineasm_arch.is_some(),
            "complex" => self.complex,
            "coverage" => self.coverage,
            _ => return None,
        };
        Some(if name.starts_with("skip_") { !has } else { has })
    }

    /// One line for the run log, like run-tests.py's.
    pub(crate) fn describe(&self) -> String {
        let mut s = format!("platform={}", self.platform);
        if let Some(a) = &self.arch {
            s += &format!(" arch={a}");
        }
        if let Some(a) = &self.inlineasm_arch {
            s += &format!(" inlineasm={a}");
        }
        if let Some(t) = &self.thread {
            s += &format!(" thread={t}");
        }
        if self.float_prec > 0 {
            s += &format!(" float={}-bit", self.float_prec);
        }
        if self.unicode {
            s += " unicode";
        }
        let lacks: Vec<&str> = [
            ("native", self.native),
            ("int_big", self.int_big),
            ("int_64", self.int_64),
            ("complex", self.complex),
            ("coverage", self.coverage),
            ("tstring", self.tstring),
            ("fstring", self.fstring),
        ]
        .into_iter()
        .filter(|(_, h)| !h)
        .map(|(n, _)| n)
        .collect();
        if !lacks.is_empty() {
            s += &format!(" lacks={}", lacks.join(","));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_info_is_read() {
        let outputs: BTreeMap<String, Vec<u8>> = [
            ("target_info.py", &b"linux x64 0 standard GIL 64 True\n"[..]),
            ("native_check.py", b"native\n"),
            ("byteorder.py", b"little\n"),
            ("inlineasm_thumb.py", b"CRASH"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect();
        let f = Facts::from_outputs(outputs, b"little\n");
        assert_eq!(f.platform, "linux");
        assert_eq!(f.float_prec, 64);
        assert!(f.unicode && f.native && f.endian_matches && !f.int_big);
        assert_eq!(f.inlineasm_arch, None);
        let dirs = f.test_dirs(std::path::Path::new("/nonexistent"));
        assert!(dirs.contains(&"cmdline".to_string()) && dirs.contains(&"float".to_string()));
    }

    #[test]
    fn old_firmware_does_not_stop_the_run() {
        let outputs: BTreeMap<String, Vec<u8>> = [(
            "target_info.py".to_string(),
            b"Traceback (most recent call last):\nAttributeError: _mpy\n".to_vec(),
        )]
        .into();
        let f = Facts::from_outputs(outputs, b"little\n");
        assert_eq!(f.platform, "minimal");
        assert_eq!(f.float_prec, 0);
        assert!(
            !f.test_dirs(std::path::Path::new("/x"))
                .contains(&"float".to_string())
        );
    }
}
