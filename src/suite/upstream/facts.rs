//! What a target has, found once per target by running the checkout's own
//! `feature_check/` scripts through the target itself, and read the way that checkout's
//! run-tests.py reads them ([`super::conventions`]): its target-information fields by
//! name and position, its flags by its own comparisons. Unlike upstream's, a probe that
//! cannot run (old firmware) does not stop the run: what cannot be read is a notice
//! naming the script, its output and what was assumed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::conventions::Conventions;

/// What one target has.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub platform: String,
    pub arch: Option<String>,
    pub build: String,
    pub thread: Option<String>,
    /// `None`: this checkout's run-tests.py does not detect it.
    pub float_prec: Option<i64>,
    pub unicode: Option<bool>,
    pub inlineasm_arch: Option<String>,
    /// False when how the checkout detects the inline assembler could not be read: then
    /// `args.inlineasm_arch` is not evaluated (never "lacks"), and a notice says why.
    pub inlineasm_known: bool,
    /// run-tests.py's `--target` (releases that take one), decided from `platform`.
    pub target: Option<String>,
    /// The emitter the suite runs with (`args.emit`).
    pub emit: String,
    /// `args.via_mpy`: known only when a mode's skips are decided ([`Facts::in_mode`]).
    pub via_mpy: Option<bool>,
    /// The target-information fields by run-tests.py's own names (`error_reporting`).
    pub fields: BTreeMap<String, String>,
    /// Flag variables (`skip_X`, `has_X`) as the checkout's run-tests.py sets them.
    pub flags: BTreeMap<String, bool>,
    /// Each feature-check script's output (after the regex `.exp` conversion), by file name.
    pub outputs: BTreeMap<String, Vec<u8>>,
    /// CPython's output of the scripts run-tests.py also runs with CPython.
    pub cpython: BTreeMap<String, Vec<u8>>,
    pub tests_dir: PathBuf,
    pub conventions: Arc<Conventions>,
    /// What could not be read, and what was assumed instead.
    pub notices: Vec<String>,
}

/// Platforms run-tests.py treats as PCs (`PC_PLATFORMS`) where the checkout does not say.
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
            float_prec: Some(64),
            unicode: Some(true),
            inlineasm_arch: None,
            inlineasm_known: true,
            target: None,
            emit: "bytecode".into(),
            via_mpy: None,
            fields: BTreeMap::new(),
            flags: [("has_coverage", false), ("skip_slice", false)]
                .map(|(k, v)| (k.to_string(), v))
                .into(),
            outputs: BTreeMap::new(),
            cpython: BTreeMap::new(),
            tests_dir: PathBuf::from("/nonexistent"),
            conventions: Arc::default(),
            notices: Vec::new(),
        }
    }

    /// `sys.platform` → port name, as run-tests.py's `platform_to_port` maps it (its
    /// `platform_to_port_map`, updated with every PC platform → `unix`).
    pub(crate) fn port_of(&self, platform: &str) -> String {
        if let Some(p) = self.conventions.port_map.get(platform) {
            return p.clone();
        }
        if self.pc_platforms().any(|p| p == platform) {
            return "unix".into();
        }
        platform.to_string()
    }

    fn pc_platforms(&self) -> impl Iterator<Item = &str> {
        let own = &self.conventions.pc_platforms;
        let list: Vec<&str> = if own.is_empty() {
            PC_PLATFORMS.to_vec()
        } else {
            own.iter().map(String::as_str).collect()
        };
        list.into_iter()
    }

    /// `args.NAME` in a run-tests.py condition.
    pub(crate) fn attr(&self, name: &str) -> Option<Fact> {
        let opt = |v: &Option<String>| v.clone().map_or(Fact::None, Fact::Str);
        Some(match name {
            "platform" => Fact::Str(self.platform.clone()),
            "arch" => opt(&self.arch),
            "build" => Fact::Str(self.build.clone()),
            "thread" => opt(&self.thread),
            "float_prec" => Fact::Int(self.float_prec?),
            "unicode" => Fact::Bool(self.unicode?),
            "inlineasm_arch" if !self.inlineasm_known => return None,
            "inlineasm_arch" => opt(&self.inlineasm_arch),
            "target" => opt(&self.target),
            "emit" => Fact::Str(self.emit.clone()),
            "via_mpy" => Fact::Bool(self.via_mpy?),
            // run-tests.py keeps the field's text (`args.error_reporting = error_reporting`);
            // a target whose information was not read has none (unknown, not `None`).
            "error_reporting" => match self.fields.get("error_reporting")?.as_str() {
                "None" => Fact::None,
                v => Fact::Str(v.to_string()),
            },
            // mpcheck runs the default set: no `-d`, no test files named, not
            // `--run-failures` (mpcheck's own re-run plans from its results).
            "test_dirs" => Fact::None,
            "files" => Fact::Str(String::new()),
            "run_failures" => Fact::Bool(false),
            _ => return None,
        })
    }

    /// These facts in one mode: `args.via_mpy` and `args.emit` as that mode runs.
    pub(crate) fn in_mode(&self, via_mpy: bool, emit: &str) -> Facts {
        Facts {
            via_mpy: Some(via_mpy),
            emit: emit.to_string(),
            ..self.clone()
        }
    }

    /// A flag variable of run-tests.py (`skip_X`, `has_X`), as it set it.
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        self.flags.get(name).copied()
    }

    /// One line for the run log, like run-tests.py's, with what the flags say is missing.
    pub(crate) fn describe(&self) -> String {
        let mut s = format!("platform={}", self.platform);
        if let Some(t) = &self.target {
            s += &format!(" target={t}");
        }
        if let Some(a) = &self.arch {
            s += &format!(" arch={a}");
        }
        if let Some(a) = &self.inlineasm_arch {
            s += &format!(" inlineasm={a}");
        } else if !self.inlineasm_known {
            s += " inlineasm=unknown";
        }
        if let Some(t) = &self.thread {
            s += &format!(" thread={t}");
        }
        match self.float_prec {
            Some(0) => s += " float=none",
            Some(p) => s += &format!(" float={p}-bit"),
            None => s += " float=not-detected",
        }
        match self.unicode {
            Some(true) => s += " unicode",
            Some(false) => s += " no-unicode",
            None => s += " unicode=not-detected",
        }
        s += &format!(" build={}", self.build);
        let lacks: Vec<&str> = self
            .flags
            .iter()
            .filter_map(
                |(k, v)| match (k.strip_prefix("skip_"), k.strip_prefix("has_")) {
                    (Some(n), _) if *v => Some(n),
                    (_, Some(n)) if !*v => Some(n),
                    _ => None,
                },
            )
            .collect();
        if !lacks.is_empty() {
            s += &format!(" lacks={}", lacks.join(","));
        }
        s
    }
}

/// A value of a target attribute in a condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fact {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
}

impl Fact {
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Fact::Str(s) => !s.is_empty(),
            Fact::Int(n) => *n != 0,
            Fact::Bool(b) => *b,
            Fact::None => false,
        }
    }

    pub(crate) fn compare(&self, op: &str, other: &Fact) -> Option<bool> {
        let ord = match (self, other) {
            (Fact::Int(a), Fact::Int(b)) => a.cmp(b),
            // A feature check's output against a number: `int(output)`.
            (Fact::Str(s), Fact::Int(b)) => s.trim().parse::<i64>().ok()?.cmp(b),
            (Fact::Str(a), Fact::Str(b)) => a.cmp(b),
            _ => {
                return match op {
                    "==" => Some(self == other),
                    "!=" => Some(self != other),
                    _ => None,
                };
            }
        };
        use std::cmp::Ordering::*;
        Some(match op {
            "==" => ord == Equal,
            "!=" => ord != Equal,
            "<" => ord == Less,
            "<=" => ord != Greater,
            ">" => ord == Greater,
            ">=" => ord != Less,
            _ => return None,
        })
    }
}
