//! What one checkout's run-multitests.py does, read from its text (never run): the code
//! it appends to each instance (the `multitest` helper), the lines it drops, how long an
//! instance may stay silent, the `MICROPYPATH` it sets, and how it counts instances.
//! Releases differ (v1.28 drops ESP8266's ` ets_task(`); nothing here names one.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// mpcheck's own rules, in run-multitests.py's form.
const OWN_RULES: &str = include_str!("own_rules.py");

/// Why run-multitests.py cannot be read as one.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ProtocolError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// The rules of one checkout's run-multitests.py.
#[derive(Debug, Clone)]
pub(crate) struct Protocol {
    /// `APPEND_CODE_TEMPLATE`: a Python format string with two fields (the injected
    /// globals, the instance number).
    template: String,
    /// `IGNORE_OUTPUT_MATCHES`: a line containing any of these is dropped.
    pub ignore: Vec<String>,
    /// `INSTANCE_READ_TIMEOUT_S`: silence longer than this is `TIMEOUT`.
    pub read_timeout: Duration,
    /// `os.environ["MICROPYPATH"]`, joined as the script joins it (`os.pathsep`).
    pub micropypath: Option<String>,
    /// `def instance([0-9]+)\(\):` (the pattern `prepare_test_file_list` matches lines with).
    instance_pattern: regex::Regex,
    /// The lines it puts before the test for a subprocess instance
    /// (`remove_cwd_from_sys_path`).
    pub subprocess_prelude: String,
}

impl Protocol {
    /// Reads `tests/run-multitests.py` of a checkout.
    pub(crate) fn read(tests_dir: &Path) -> Result<Protocol, ProtocolError> {
        let file = tests_dir.join("run-multitests.py");
        let bytes = crate::util::input::read(
            &file,
            crate::util::input::cap::RUN_TESTS,
            "run-multitests.py",
        )
        .map_err(|e| ProtocolError {
            file: file.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        Protocol::parse(&file, &String::from_utf8_lossy(&bytes))
    }

    /// mpcheck's own rules (`own_rules.py`), for multi-instance cases of a project.
    pub(crate) fn own() -> &'static Protocol {
        static OWN: std::sync::OnceLock<Protocol> = std::sync::OnceLock::new();
        OWN.get_or_init(|| {
            Protocol::parse(Path::new("src/suite/multi/own_rules.py"), OWN_RULES)
                .unwrap_or_else(|e| unreachable!("mpcheck's own rules are read in its tests: {e}"))
        })
    }

    /// The rules in `text` (the script at `file`, named in errors).
    fn parse(file: &Path, text: &str) -> Result<Protocol, ProtocolError> {
        let err = |line: usize, message: String| ProtocolError {
            file: file.to_path_buf(),
            line,
            message,
        };
        let line_of = |needle: &str| {
            text.find(needle)
                .map(|at| text[..at].matches('\n').count() + 1)
        };
        let template = triple_quoted(text, "APPEND_CODE_TEMPLATE = \"\"\"")
            .ok_or_else(|| err(0, "no `APPEND_CODE_TEMPLATE = \"\"\"...\"\"\"`".into()))?;
        let ignore = match text.find("IGNORE_OUTPUT_MATCHES = (") {
            Some(at) => {
                let body = &text[at..];
                let end = body.find("\n)").unwrap_or(body.len());
                body[..end]
                    .lines()
                    .skip(1)
                    .filter_map(|l| string_literals(l).into_iter().next())
                    .collect()
            }
            None => Vec::new(),
        };
        let timeout_line = text
            .lines()
            .find(|l| l.starts_with("INSTANCE_READ_TIMEOUT_S ="))
            .ok_or_else(|| err(0, "no `INSTANCE_READ_TIMEOUT_S = N`".into()))?;
        let secs: f64 = timeout_line["INSTANCE_READ_TIMEOUT_S =".len()..]
            .trim()
            .parse()
            .map_err(|_| {
                err(
                    line_of(timeout_line).unwrap_or(0),
                    format!("`{timeout_line}`: not a number of seconds"),
                )
            })?;
        let micropypath = text
            .lines()
            .find(|l| l.contains("os.environ[\"MICROPYPATH\"] ="))
            .map(|l| string_literals(l.split_once('=').map_or("", |(_, v)| v)).join(":"));
        let pattern_line = text
            .lines()
            .find(|l| l.contains("re.match(r\"def instance"))
            .ok_or_else(|| err(0, "no `re.match(r\"def instance...\", line)`".into()))?;
        let raw = pattern_line
            .split_once("r\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(p, _)| p)
            .unwrap_or_default();
        let instance_pattern = regex::Regex::new(&format!("^(?:{raw})")).map_err(|e| {
            err(
                line_of(pattern_line).unwrap_or(0),
                format!("the instance pattern `{raw}`: {e}"),
            )
        })?;
        let subprocess_prelude = text
            .lines()
            .find(|l| l.contains("remove_cwd_from_sys_path = b\""))
            .and_then(|l| string_literals(l).into_iter().next())
            .unwrap_or_default();
        Ok(Protocol {
            template,
            ignore,
            read_timeout: Duration::from_secs_f64(secs),
            micropypath,
            instance_pattern,
            subprocess_prelude,
        })
    }

    /// How many instances a test has: one more than its highest `def instanceN():`.
    pub(crate) fn instances(&self, source: &str) -> usize {
        source
            .lines()
            .filter_map(|l| self.instance_pattern.captures(l))
            .filter_map(|c| c.get(1)?.as_str().parse::<usize>().ok())
            .map(|n| n + 1)
            .max()
            .unwrap_or(0)
    }

    /// The code appended to the test for instance `resume` (`0`, `1`, …), with the
    /// globals injected so far.
    pub(crate) fn append_code(&self, globals: &str, instance: &str) -> String {
        format_positional(&self.template, &[globals, instance])
    }

    /// Whether run-multitests.py drops this line.
    pub(crate) fn ignored(&self, line: &str) -> bool {
        self.ignore.iter().any(|m| line.contains(m.as_str()))
    }
}

/// The text of the `"""` string that starts right after `start`.
fn triple_quoted(text: &str, start: &str) -> Option<String> {
    let at = text.find(start)? + start.len();
    let end = text[at..].find("\"\"\"")?;
    Some(text[at..at + end].to_string())
}

/// The `"..."` literals of a line, with `\n` and `\\` escapes read.
fn string_literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '#' {
            break;
        }
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(o) => s.push(o),
                    None => {}
                },
                o => s.push(o),
            }
        }
        out.push(s);
    }
    out
}

/// Python's `str.format` with positional `{}` fields and `{{`/`}}` escapes.
fn format_positional(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut next = args.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('{', Some('{')) | ('}', Some('}')) => {
                out.push(c);
                chars.next();
            }
            ('{', Some('}')) => {
                chars.next();
                out.push_str(next.next().copied().unwrap_or_default());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpcheck_s_own_rules_read_as_a_checkout_s() {
        let own = Protocol::own();
        assert_eq!(own.read_timeout, Duration::from_secs(10));
        assert_eq!(
            own.instances("def instance0():\n    pass\ndef instance1():\n"),
            2
        );
        assert_eq!(
            own.subprocess_prelude,
            "import sys\nsys.path.remove('')\n\n"
        );
        assert!(own.micropypath.is_none() && own.ignore.is_empty());
        let code = own.append_code("X = 1\n", "1");
        assert!(code.contains("def broadcast(msg):"), "{code}");
        assert!(
            code.contains("print(\"SET {} = {!r}\".format(g, gs[g]))"),
            "{code}"
        );
        assert!(
            code.ends_with("X = 1\n\n\ninstance1()\nmultitest.flush()\n"),
            "{code}"
        );
    }

    const SCRIPT: &str = r#"
INSTANCE_READ_TIMEOUT_S = 10

APPEND_CODE_TEMPLATE = """
class multitest:
    @staticmethod
    def globals(**gs):
        for g in gs:
            print("SET {{}} = {{!r}}".format(g, gs[g]))
{}

instance{}()
"""

IGNORE_OUTPUT_MATCHES = (
    "libusb: error ",  # a comment with "quotes"
    " ets_task(",  # ESP8266 port debug output
)
        remove_cwd_from_sys_path = b"import sys\nsys.path.remove('')\n\n"
                m = re.match(r"def instance([0-9]+)\(\):", line)
    os.environ["MICROPYPATH"] = os.pathsep.join((".frozen", "../extmod"))
"#;

    fn protocol() -> Protocol {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run-multitests.py"), SCRIPT).unwrap();
        Protocol::read(dir.path()).unwrap()
    }

    #[test]
    fn the_rules_are_read_from_the_script() {
        let p = protocol();
        assert_eq!(p.read_timeout, Duration::from_secs(10));
        assert_eq!(p.ignore, ["libusb: error ", " ets_task("]);
        assert!(p.ignored("x ets_task(1)") && !p.ignored("ets_task"));
        assert_eq!(p.micropypath.as_deref(), Some(".frozen:../extmod"));
        assert_eq!(p.subprocess_prelude, "import sys\nsys.path.remove('')\n\n");
        let code = p.append_code("HOST_IP = '1.2.3.4'\n", "1");
        assert!(
            code.contains("print(\"SET {} = {!r}\".format(g, gs[g]))"),
            "{code}"
        );
        assert!(
            code.contains("HOST_IP = '1.2.3.4'\n\n\ninstance1()\n"),
            "{code}"
        );
    }

    #[test]
    fn instances_are_counted_as_upstream_counts_them() {
        let p = protocol();
        assert_eq!(
            p.instances("def instance0():\n    pass\ndef instance2():\n"),
            3
        );
        // Only at the start of a line, as re.match.
        assert_eq!(p.instances("  def instance5():\n# def instance0():\n"), 0);
    }

    #[test]
    fn a_script_without_the_template_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run-multitests.py"), "x = 1\n").unwrap();
        let e = Protocol::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("run-multitests.py") && e.contains("APPEND_CODE_TEMPLATE"),
            "{e}"
        );
    }
}
