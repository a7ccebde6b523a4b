//! A test case: its id (`group/name`), its source, and the settings in its header.
//!
//! Settings live in a leading comment block so a case stays a valid Python file:
//!
//! ```python
//! # ---
//! # exclude: {cpython: micropython.const is MicroPython-only}
//! # timeout: 5
//! # ---
//! ```
//!
//! Bad settings are kept as an error on the case (it gets an `error` verdict naming the
//! file and line) so every other case still runs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::util::error::{Error, Result};

/// `group/name`: the case's path under `cases/` without the `.py`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId {
    pub group: String,
    pub name: String,
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.group, self.name)
    }
}

/// How a case is run on a target: its source compiled on the target, pre-compiled by
/// mpy-cross and imported as a `.mpy`, or frozen into a firmware built for the run and
/// imported from ROM.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Source,
    Mpy,
    Frozen,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Source, Mode::Mpy, Mode::Frozen];
    /// The modes every MicroPython target can run (frozen needs a firmware build).
    pub const LOADED: [Mode; 2] = [Mode::Source, Mode::Mpy];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Source => "source",
            Mode::Mpy => "mpy",
            Mode::Frozen => "frozen",
        }
    }

    /// What a trial name ends with in this mode (`<board>::<group>/<name><suffix>`).
    pub fn suffix(self) -> &'static str {
        match self {
            Mode::Source => "",
            Mode::Mpy => ".mpy",
            Mode::Frozen => ".frozen",
        }
    }
}

/// The settings of a case, as written in its header. Unknown keys are errors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSettings {
    /// Run only on these boards (names or kinds); default: every selected board.
    pub boards: Option<Vec<String>>,
    /// Boards (names or kinds) this case does not run on, each with the reason.
    #[serde(default)]
    pub exclude: BTreeMap<String, String>,
    /// Wall-clock limit in seconds, overriding the board's.
    #[serde(default, deserialize_with = "seconds")]
    pub timeout: Option<f64>,
    /// Features the target must have (e.g. `float`, `bigint`); unmet → skip with reason.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Modes this case runs in; default: every mode the board supports.
    pub modes: Option<Vec<Mode>>,
    /// Why the case prints `SKIP` where it does (recorded as the skip reason).
    pub skip_reason: Option<String>,
    /// Measure this case's heap use and compare it with `golden/<group>/<name>.heap.yaml`.
    pub heap: Option<HeapSettings>,
    /// A known-flaky case: its failures are reported `flaky` and do not fail the run
    /// until the date, after which they count again.
    pub flaky: Option<FlakySetting>,
    /// A multi-instance case (`def instance0():`, `def instance1():`, …): the boards of
    /// the run (names or families) that host instances 1, 2, … in turn; instance 0 runs
    /// on the trial's board. Default: that board where it is a host VM (each instance a
    /// process of it), else `unix`.
    pub partners: Option<Vec<String>>,
}

/// `flaky: {reason: ..., until: YYYY-MM-DD}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlakySetting {
    pub reason: String,
    pub until: chrono::NaiveDate,
}

/// A case's heap checks.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeapSettings {
    /// Per metric (`alloc_bytes`, `live_bytes`, `peak_bytes`, `region.NAME`): bytes (`16`)
    /// or a percentage of the golden (`5%`). Default: exact.
    #[serde(default)]
    pub tolerance: BTreeMap<String, crate::model::heap::Tolerance>,
    /// Run the case (`true`) or one function of it (its name, called after the case ran)
    /// with the heap locked: any allocation fails the case, naming the line.
    pub zero_alloc: Option<ZeroAlloc>,
    /// Claims `[a, b]`: region `a` allocates less than region `b` (live bytes).
    #[serde(default)]
    pub less: Vec<(String, String)>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ZeroAlloc {
    Case(bool),
    Function(String),
}

impl HeapSettings {
    /// The wrapper's `zero_alloc` argument: `""` for the whole case, a function's name.
    pub fn zero_alloc(&self) -> Option<&str> {
        match &self.zero_alloc {
            Some(ZeroAlloc::Case(true)) => Some(""),
            Some(ZeroAlloc::Function(f)) => Some(f),
            Some(ZeroAlloc::Case(false)) | None => None,
        }
    }

    pub fn tolerances(&self) -> &BTreeMap<String, crate::model::heap::Tolerance> {
        &self.tolerance
    }
}

impl CaseSettings {
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.map(Duration::from_secs_f64)
    }

    /// Why this case does not run on a board known by these names (its name, family and
    /// kind), if it does not.
    pub fn excluded_reason(&self, names: &[&str]) -> Option<String> {
        if let Some(reason) = names.iter().find_map(|n| self.exclude.get(*n)) {
            return Some(reason.clone());
        }
        match &self.boards {
            Some(only) if !only.iter().any(|b| names.contains(&b.as_str())) => {
                Some(format!("case runs only on {}", only.join(", ")))
            }
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Case {
    pub id: CaseId,
    pub path: PathBuf,
    pub source: Vec<u8>,
    /// The header's settings, or why they could not be read.
    pub settings: Result<CaseSettings, String>,
    /// The module name its `.mpy` is imported under (see [`import_alias`]).
    pub import_name: String,
}

impl Case {
    /// A case file that is not a regular file or is too large is still a case, whose
    /// settings are the error (an `error` verdict; the other cases run).
    pub fn load(path: &Path, id: CaseId) -> Result<Case> {
        let (source, settings) =
            match crate::util::input::read(path, crate::util::input::cap::SOURCE, "case file") {
                Ok(source) => {
                    let settings = parse_header(path, &source).map_err(|e| e.to_string());
                    (source, settings)
                }
                Err(refused) => (Vec::new(), Err(refused.to_string())),
            };
        let dir = path.parent().unwrap_or(Path::new("."));
        let import_name = import_alias(&id.name, |n| {
            ["py", "mpy"]
                .iter()
                .any(|ext| dir.join(format!("{n}.{ext}")).exists())
                || dir.join(n).exists()
        });
        Ok(Case {
            id,
            path: path.to_path_buf(),
            source,
            settings,
            import_name,
        })
    }

    /// A helper module (`_*.py` beside a case): its source must be readable (a FIFO or
    /// an oversized file is an error naming it); a header in it means nothing.
    pub fn load_helper(path: &Path, id: CaseId) -> Result<Case> {
        let source =
            crate::util::input::read(path, crate::util::input::cap::SOURCE, "helper module")?;
        Ok(Case {
            id,
            path: path.to_path_buf(),
            source,
            settings: Ok(CaseSettings::default()),
            import_name: String::new(),
        })
    }

    /// The module name the case is imported as in `.mpy` mode.
    pub fn module_name(&self) -> &str {
        &self.id.name
    }
}

/// The helper modules (`_*.py` beside the case) the case names, as (module name, path),
/// sorted: only those whose name appears in its source travel to a board or into a
/// frozen firmware (every byte costs link time or a rebuild).
pub fn helper_modules(case: &Case) -> Vec<(String, PathBuf)> {
    let Some(dir) = case.path.parent() else {
        return Vec::new();
    };
    let source = String::from_utf8_lossy(&case.source);
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "py"))
                .filter_map(|p| {
                    let stem = p.file_stem()?.to_str()?.to_string();
                    (stem.starts_with('_') && source.contains(&stem)).then_some((stem, p))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// The module name a case's `.mpy` is imported under: never its file name, which may be
/// a keyword (`raise`), a built-in module (`sys`) or no identifier at all (`a.b`). An
/// alias of the same length (`_` then `q`s), so heap figures, which count the name's
/// qstr, are those of the real name; another letter when a module beside the case
/// (`taken`) already has that name. Tracebacks still show `<name>.py`: that name is
/// recorded in the `.mpy` by mpy-cross.
pub fn import_alias(name: &str, taken: impl Fn(&str) -> bool) -> String {
    let rest = name.len().saturating_sub(1);
    let alias = |fill: char| format!("_{}", fill.to_string().repeat(rest));
    "qzxjkvw"
        .chars()
        .map(alias)
        .find(|a| !taken(a))
        .unwrap_or_else(|| alias('q'))
}

const FENCE: &str = "# ---";

/// The longest timeout a case or board may ask for. Why a day: a nightly run has to end,
/// a larger number is a typo, and every deadline computed from it (`now + timeout`) stays
/// far from the clock's range (`1e19` seconds overflows it).
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// The shortest timeout: no VM starts and no board answers sooner, so a smaller one
/// (`1e-300`) is a typo that would time out every trial.
pub const MIN_TIMEOUT_SECS: f64 = 0.1;

/// A timeout in seconds must be between [`MIN_TIMEOUT_SECS`] and [`MAX_TIMEOUT_SECS`]:
/// the message.
pub fn check_timeout(secs: f64) -> Result<(), String> {
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!(
            "timeout: must be a positive number of seconds, got {secs}"
        ));
    }
    if secs < MIN_TIMEOUT_SECS {
        return Err(format!(
            "timeout: at least {MIN_TIMEOUT_SECS} seconds, got {secs:e}"
        ));
    }
    if secs > MAX_TIMEOUT_SECS {
        return Err(format!(
            "timeout: at most {MAX_TIMEOUT_SECS} seconds (one day), got {secs}"
        ));
    }
    Ok(())
}

/// A number of seconds from YAML. A number too large for a float (`1e309`) reaches serde
/// as a string: said as out of range rather than as "invalid type: string".
pub fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(f64),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Other(_)) => Err(serde::de::Error::custom(
            "timeout: a number of seconds, got a list or map",
        )),
        Some(Raw::Text(t)) => match t.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n)),
            Ok(_) => Err(serde::de::Error::custom(format!(
                "timeout: {t} is out of range: at most {MAX_TIMEOUT_SECS} seconds (one day)"
            ))),
            Err(_) => Err(serde::de::Error::custom(format!(
                "timeout: a number of seconds, got {t:?}"
            ))),
        },
    }
}

/// Reads the settings block at the top of a case. No block means default settings.
pub fn parse_header(path: &Path, source: &[u8]) -> Result<CaseSettings> {
    // Python source is UTF-8 (PEP 3120, and MicroPython reads nothing else): a case that
    // is not cannot be judged, and says where the first bad byte is.
    let text = match std::str::from_utf8(source) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + source[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err(Error::config(
                path,
                line,
                format!(
                    "not UTF-8 (byte {:#04x} at offset {}): Python source must be UTF-8",
                    source[e.valid_up_to()],
                    e.valid_up_to()
                ),
            ));
        }
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim_end() == FENCE => {}
        _ => return Ok(CaseSettings::default()),
    }
    let mut yaml = String::new();
    for (index, line) in lines {
        let line = line.trim_end();
        if line == FENCE {
            if yaml.trim().is_empty() {
                return Ok(CaseSettings::default());
            }
            let settings: CaseSettings = crate::util::input::yaml(path, 2, &yaml)?;
            validate(path, &yaml, &settings)?;
            return Ok(settings);
        }
        let Some(body) = line.strip_prefix('#') else {
            return Err(Error::config(
                path,
                index + 1,
                "settings header line does not start with `#` (close the header with `# ---`)",
            ));
        };
        yaml.push_str(body.strip_prefix(' ').unwrap_or(body));
        yaml.push('\n');
        if yaml.len() as u64 > crate::util::input::cap::HEADER {
            return Err(Error::config(
                path,
                index + 1,
                format!(
                    "settings header longer than {} bytes: close it with `# ---`",
                    crate::util::input::cap::HEADER
                ),
            ));
        }
    }
    Err(Error::config(
        path,
        1,
        "settings header opened with `# ---` is never closed",
    ))
}

fn validate(path: &Path, yaml: &str, settings: &CaseSettings) -> Result<()> {
    // The header starts on file line 2; find the key's line for the message.
    let line_of = |key: &str| {
        yaml.lines()
            .position(|l| l.trim_start().starts_with(&format!("{key}:")))
            .map_or(2, |i| i + 2)
    };
    if let Some(t) = settings.timeout {
        check_timeout(t).map_err(|m| Error::config(path, line_of("timeout"), m))?;
    }
    if let Some(modes) = &settings.modes
        && modes.is_empty()
    {
        return Err(Error::config(
            path,
            line_of("modes"),
            "modes: must name at least one mode (source, mpy)",
        ));
    }
    if let Some(heap) = &settings.heap {
        for metric in heap.tolerance.keys() {
            let known = crate::model::heap::METRICS
                .iter()
                .chain(&crate::model::heap::FRAG_METRICS)
                .any(|m| m == metric);
            if !(known || metric.starts_with("region.")) {
                return Err(Error::config(
                    path,
                    line_of("tolerance"),
                    format!(
                        "heap.tolerance: unknown metric `{metric}` (known: {}, {}, region.NAME)",
                        crate::model::heap::METRICS.join(", "),
                        crate::model::heap::FRAG_METRICS.join(", ")
                    ),
                ));
            }
        }
    }
    for feature in &settings.requires {
        if !crate::model::features::KNOWN.contains(&feature.as_str()) {
            return Err(Error::config(
                path,
                line_of("requires"),
                format!(
                    "requires: unknown feature `{feature}` (known: {})",
                    crate::model::features::KNOWN.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<CaseSettings> {
        parse_header(Path::new("cases/g/c.py"), src.as_bytes())
    }

    #[test]
    fn no_header_means_defaults() {
        let s = parse("print(1)\n").unwrap();
        assert!(s.exclude.is_empty() && s.timeout.is_none());
    }

    #[test]
    fn header_is_read() {
        let s = parse("# ---\n# timeout: 2.5\n# exclude:\n#   cpython: mp only\n# ---\nprint(1)\n")
            .unwrap();
        assert_eq!(s.timeout(), Some(Duration::from_millis(2500)));
        assert_eq!(
            s.excluded_reason(&["cpython", "cpython"]).as_deref(),
            Some("mp only")
        );
        assert_eq!(s.excluded_reason(&["unix", "unix"]), None);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("# ---\n# timeout: 2\n# boadrs: [unix]\n# ---\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cases/g/c.py:3: unknown field `boadrs`"),
            "{err}"
        );
    }

    #[test]
    fn bad_value_names_line() {
        let err = parse("# ---\n# exclude: {}\n# timeout: soon\n# ---\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cases/g/c.py:3: timeout: a number of seconds, got \"soon\""),
            "{err}"
        );
        let err = parse("# ---\n# timeout: -1\n# ---\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cases/g/c.py:2: timeout: must be a positive"),
            "{err}"
        );
    }

    #[test]
    fn unclosed_header_is_an_error() {
        let err = parse("# ---\n# timeout: 2\nprint(1)\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cases/g/c.py:3:"), "{err}");
    }

    #[test]
    fn boards_allowlist_matches_name_or_kind() {
        let s = parse("# ---\n# boards: [unix]\n# ---\n").unwrap();
        assert_eq!(s.excluded_reason(&["unix-debug", "unix"]), None);
        assert!(
            s.excluded_reason(&["webassembly", "webassembly"])
                .unwrap()
                .contains("only on unix")
        );
    }

    #[test]
    fn huge_or_odd_timeouts_are_errors_naming_the_line() {
        for (value, says) in [
            ("1e30", "at most 86400 seconds"),
            ("1e19", "at most 86400 seconds"),
            (".inf", "must be a positive"),
            ("0", "must be a positive"),
        ] {
            let err = parse(&format!(
                "# ---\n# modes: [source]\n# timeout: {value}\n# ---\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(err.starts_with("cases/g/c.py:3: timeout: "), "{err}");
            assert!(err.contains(says), "{err}");
        }
        assert!(parse("# ---\n# timeout: 86400\n# ---\n").is_ok());
    }

    #[test]
    fn a_case_that_is_not_utf8_is_an_error_naming_its_line() {
        let err = parse_header(Path::new("cases/g/c.py"), b"print(1)\nprint('\xff')\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cases/g/c.py:2: not UTF-8 (byte 0xff at offset 16): Python source must be UTF-8"
        );
    }

    #[test]
    fn import_alias_keeps_the_length_and_avoids_helpers() {
        assert_eq!(import_alias("raise", |_| false), "_qqqq");
        assert_eq!(import_alias("a.b", |_| false), "_qq");
        assert_eq!(import_alias("x", |_| false), "_");
        assert_eq!(import_alias("sys", |n| n == "_qq"), "_zz");
    }

    #[test]
    fn unknown_feature_is_rejected() {
        let err = parse("# ---\n# requires: [warp]\n# ---\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":2: requires: unknown feature `warp`"),
            "{err}"
        );
    }
}
