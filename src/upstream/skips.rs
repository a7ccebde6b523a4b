//! Which tests run-tests.py would skip on a target: the hand-kept lists read from the
//! checkout's run-tests.py ([`super::pyread`]), the conditional `skip_tests.add(...)`
//! calls evaluated against what the target has, and the file-name patterns tied to
//! features.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::facts::Facts;
use super::pyread::{self, Condition, ConditionalSkip, SkipArg, Tok, Value};

/// The lists read out of one checkout's run-tests.py.
#[derive(Debug, Default)]
pub(crate) struct SkipLists {
    via_mpy: Vec<String>,
    /// emitter → tests
    emitter: BTreeMap<String, Vec<String>>,
    /// `sys.platform` → tests
    platform: BTreeMap<String, Vec<String>>,
    /// test → (reason, platforms or None for all)
    flaky: BTreeMap<String, (String, Option<Vec<String>>)>,
    /// Tests whose `.exp` is in the regex dialect.
    pub regex_output: BTreeSet<String>,
    /// Named top-level tuples of strings (e.g. `tests_requiring_slice`, `PC_PLATFORMS`).
    lists: BTreeMap<String, Vec<String>>,
    conditional: Vec<ConditionalSkip>,
}

/// Why a test is not run on a target.
pub(crate) type SkipReason = String;

impl SkipLists {
    pub(crate) fn load(run_tests: &Path) -> Result<SkipLists, super::UpstreamError> {
        let src = std::fs::read_to_string(run_tests).map_err(|e| super::UpstreamError::Io {
            path: run_tests.to_path_buf(),
            source: e,
        })?;
        let source = pyread::read_source(run_tests, &src)?;
        Ok(SkipLists::from_source(source))
    }

    pub(crate) fn from_source(source: pyread::Source) -> SkipLists {
        let a = &source.assignments;
        let by_key = |name: &str| -> BTreeMap<String, Vec<String>> {
            match a.get(name) {
                Some(Value::Dict(kv)) => kv
                    .iter()
                    .filter_map(|(k, v)| match k {
                        Value::Str(s) => Some((s.clone(), v.strings())),
                        _ => None,
                    })
                    .collect(),
                _ => BTreeMap::new(),
            }
        };
        let via_mpy = a
            .get("via_mpy_tests_to_skip")
            .and_then(|v| v.get(&Value::Bool(true)))
            .map(Value::strings)
            .unwrap_or_default();
        let mut flaky = BTreeMap::new();
        if let Some(Value::Dict(kv)) = a.get("flaky_tests_to_ignore") {
            for (k, v) in kv {
                if let (Value::Str(test), Value::Seq(parts)) = (k, v) {
                    let reason = match parts.first() {
                        Some(Value::Str(r)) => r.clone(),
                        _ => String::new(),
                    };
                    let platforms = match parts.get(1) {
                        Some(Value::None) | None => None,
                        Some(p) => Some(p.strings()),
                    };
                    flaky.insert(test.clone(), (reason, platforms));
                }
            }
        }
        let lists = a
            .iter()
            .filter_map(|(k, v)| match v {
                Value::Seq(_) => Some((k.clone(), v.strings())),
                _ => None,
            })
            .collect();
        SkipLists {
            via_mpy,
            emitter: by_key("emitter_tests_to_skip"),
            platform: by_key("platform_tests_to_skip"),
            flaky,
            regex_output: a
                .get("tests_with_regex_output")
                .map(|v| v.strings().into_iter().collect())
                .unwrap_or_default(),
            lists,
            conditional: source.skips,
        }
    }

    /// Total number of test names read, for the run log (a reader that silently read
    /// nothing would otherwise go unnoticed).
    pub(crate) fn size(&self) -> usize {
        self.via_mpy.len()
            + self.emitter.values().map(Vec::len).sum::<usize>()
            + self.platform.values().map(Vec::len).sum::<usize>()
            + self.flaky.len()
            + self.conditional.len()
    }

    /// The set of tests skipped on this target in this mode, each with why; `tests` are
    /// the candidate test paths (for prefix rules).
    pub(crate) fn skipped(
        &self,
        facts: &Facts,
        via_mpy: bool,
        emit: &str,
        tests: &[String],
    ) -> BTreeMap<String, SkipReason> {
        let mut out = BTreeMap::new();
        for c in &self.conditional {
            if !c
                .conditions
                .iter()
                .all(|cond| eval(cond, facts, &self.lists) == Some(true))
            {
                continue;
            }
            let why = if c.conditions.is_empty() {
                format!("run-tests.py:{}", c.line)
            } else {
                let texts: Vec<&str> = c.conditions.iter().map(|c| c.text.as_str()).collect();
                format!("run-tests.py:{}: {}", c.line, texts.join(" and "))
            };
            match &c.what {
                SkipArg::Test(t) => {
                    out.entry(t.clone()).or_insert(why);
                }
                SkipArg::Prefix(p) => {
                    for t in tests.iter().filter(|t| t.starts_with(p.as_str())) {
                        out.entry(t.clone()).or_insert_with(|| why.clone());
                    }
                }
                SkipArg::List(name) => {
                    for t in self.lists.get(name).into_iter().flatten() {
                        out.entry(t.clone())
                            .or_insert_with(|| format!("{why} ({name})"));
                    }
                }
            }
        }
        if via_mpy {
            for t in &self.via_mpy {
                out.entry(t.clone())
                    .or_insert_with(|| "run-tests.py: via_mpy_tests_to_skip".into());
            }
        }
        for t in self.emitter.get(emit).into_iter().flatten() {
            out.entry(t.clone())
                .or_insert_with(|| format!("run-tests.py: emitter_tests_to_skip[{emit}]"));
        }
        for t in self.platform.get(&facts.platform).into_iter().flatten() {
            out.entry(t.clone()).or_insert_with(|| {
                format!("run-tests.py: platform_tests_to_skip[{}]", facts.platform)
            });
        }
        out
    }

    /// The known-flaky reason for a test on this platform: its failure is "ignored".
    pub(crate) fn flaky(&self, test: &str, platform: &str) -> Option<&str> {
        let (reason, platforms) = self.flaky.get(test)?;
        platforms
            .as_ref()
            .is_none_or(|p| p.iter().any(|x| x == platform))
            .then_some(reason.as_str())
    }

    /// Conditions met on no target because mpcheck cannot evaluate them (for `list`).
    pub(crate) fn unknown_conditions(&self, facts: &Facts) -> Vec<String> {
        let mut out: Vec<String> = self
            .conditional
            .iter()
            .flat_map(|c| c.conditions.iter())
            .filter(|c| eval(c, facts, &self.lists).is_none())
            .map(|c| c.text.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A skip by file-name pattern: the target lacks the feature the name says it tests.
pub(crate) fn feature_skip(name: &str, f: &Facts) -> Option<&'static str> {
    let starts = |p: &str| name.starts_with(p);
    let ends = |p: &str| name.ends_with(p);
    let rules: [(bool, bool, &'static str); 13] = [
        (
            starts("native_") || starts("viper_"),
            f.native,
            "no native emitter",
        ),
        (
            ends("_endian"),
            f.endian_matches,
            "byte order differs from CPython's",
        ),
        (
            starts("int_big") || ends("_intbig") || starts("ffi_int"),
            f.int_big,
            "no big integers",
        ),
        (
            starts("int_64") || ends("_int64"),
            f.int_64,
            "no 64-bit integers",
        ),
        (
            starts("bytearray") || ends("_bytearray"),
            f.bytearray,
            "no bytearray",
        ),
        (
            starts("set_") || starts("frozenset") || ends("_set"),
            f.set,
            "no set type",
        ),
        (name.contains("slice"), f.slice, "no slice"),
        (
            starts("async_") || starts("asyncio_") || ends("_async"),
            f.async_,
            "no async/await",
        ),
        (starts("const"), f.const_, "no const"),
        (
            name.contains("reverse_op"),
            f.revops,
            "no reverse operators",
        ),
        (starts("string_fstring"), f.fstring, "no f-strings"),
        (
            starts("string_tstring") || ends("_tstring"),
            f.tstring,
            "no t-strings",
        ),
        (
            starts("asm"),
            f.inlineasm_arch.is_some(),
            "no inline assembler",
        ),
    ];
    rules
        .into_iter()
        .find(|(matches, has, _)| *matches && !*has)
        .map(|(_, _, why)| why)
}

/// Evaluates one `if` condition of run-tests.py against the target; `None` when it is
/// not one of the forms mpcheck knows (then the skip is not applied, and `list` says so).
/// Forms: `True`, `[not] skip_X`, `[not] has_X`, `[not] args.ATTR`,
/// `args.ATTR OP literal` (==, !=, <, <=, >, >=), `args.ATTR [not] in NAME|(tuple)`;
/// and on the output of the feature check the block last ran: `VAR OP b"literal"`,
/// `"literal" [not] in str(VAR, ...)`.
pub(crate) fn eval(
    cond: &Condition,
    facts: &Facts,
    lists: &BTreeMap<String, Vec<String>>,
) -> Option<bool> {
    let toks: Vec<Tok> = pyread::tokenize(Path::new("condition"), &cond.text)
        .ok()?
        .into_iter()
        .map(|t| t.0)
        .collect();
    let name = |t: &Tok| match t {
        Tok::Name(n) => Some(n.clone()),
        _ => None,
    };
    let op = |t: &Tok, o: &str| matches!(t, Tok::Op(x) if x == o);
    let (negate, rest) = match toks.first() {
        Some(Tok::Name(n)) if n == "not" => (true, &toks[1..]),
        _ => (false, &toks[..]),
    };
    let probe = || {
        let script = cond.probe.as_ref()?;
        Some(Fact::Str(
            String::from_utf8_lossy(facts.outputs.get(script)?).into_owned(),
        ))
    };
    if let ([Tok::Str(needle), tail @ ..], Some(Fact::Str(out))) = (rest, probe()) {
        let found = match tail {
            [Tok::Name(n), Tok::Name(i), Tok::Name(f), ..]
                if n == "not" && i == "in" && f == "str" =>
            {
                !out.contains(needle.as_str())
            }
            [Tok::Name(i), Tok::Name(f), ..] if i == "in" && f == "str" => {
                out.contains(needle.as_str())
            }
            _ => return None,
        };
        return Some(found != negate);
    }
    // `args.ATTR`, a flag name, or a variable holding a probe's output: the left side.
    let (left, rest) = match rest {
        [Tok::Name(a), d, Tok::Name(attr), tail @ ..] if a == "args" && op(d, ".") => {
            (facts.attr(attr)?, tail)
        }
        [Tok::Name(n), tail @ ..] if n == "True" => (Fact::Bool(true), tail),
        [Tok::Name(n), tail @ ..] => match facts.flag(n) {
            Some(b) => (Fact::Bool(b), tail),
            None => (probe()?, tail),
        },
        _ => return None,
    };
    let value = match rest {
        [] => left.truthy(),
        [Tok::Op(o), lit] => {
            let right = match lit {
                Tok::Str(s) => Fact::Str(s.clone()),
                Tok::Int(n) => Fact::Int(*n),
                Tok::Name(n) if n == "None" => Fact::None,
                Tok::Name(n) if n == "True" || n == "False" => Fact::Bool(n == "True"),
                _ => return None,
            };
            left.compare(o, &right)?
        }
        [Tok::Name(n), Tok::Name(inn), tail @ ..] if n == "not" && inn == "in" => {
            !contains(&left, tail, lists, &name)?
        }
        [Tok::Name(inn), tail @ ..] if inn == "in" => contains(&left, tail, lists, &name)?,
        _ => return None,
    };
    Some(value != negate)
}

fn contains(
    left: &Fact,
    tail: &[Tok],
    lists: &BTreeMap<String, Vec<String>>,
    name: &dyn Fn(&Tok) -> Option<String>,
) -> Option<bool> {
    let Fact::Str(s) = left else { return None };
    let items: Vec<String> = match tail {
        [t] => lists.get(&name(t)?)?.clone(),
        [Tok::Op(o), inner @ .., Tok::Op(c)] if o == "(" && c == ")" => inner
            .iter()
            .filter_map(|t| match t {
                Tok::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => return None,
    };
    Some(items.contains(s))
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
    fn truthy(&self) -> bool {
        match self {
            Fact::Str(s) => !s.is_empty(),
            Fact::Int(n) => *n != 0,
            Fact::Bool(b) => *b,
            Fact::None => false,
        }
    }

    fn compare(&self, op: &str, other: &Fact) -> Option<bool> {
        let ord = match (self, other) {
            (Fact::Int(a), Fact::Int(b)) => a.cmp(b),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts::unix_like()
    }

    fn eval(text: &str, f: &Facts, l: &BTreeMap<String, Vec<String>>) -> Option<bool> {
        super::eval(
            &Condition {
                text: text.into(),
                probe: Some("repl_emacs_check.py".into()),
            },
            f,
            l,
        )
    }

    #[test]
    fn conditions_on_a_probe_output() {
        let (mut f, l) = (facts(), lists());
        f.outputs
            .insert("repl_emacs_check.py".into(), b">>> t == 2\nTrue\n".to_vec());
        assert_eq!(
            eval("\"True\" not in str(t, \"ascii\")", &f, &l),
            Some(false)
        );
        assert_eq!(
            eval("output != b\">>> t == 2\\nTrue\\n\"", &f, &l),
            Some(false)
        );
        f.outputs.insert("repl_emacs_check.py".into(), b"".to_vec());
        assert_eq!(
            eval("\"True\" not in str(t, \"ascii\")", &f, &l),
            Some(true)
        );
    }

    fn lists() -> BTreeMap<String, Vec<String>> {
        [(
            "PC_PLATFORMS".to_string(),
            vec!["darwin".into(), "linux".into()],
        )]
        .into()
    }

    #[test]
    fn conditions_evaluate_against_facts() {
        let (f, l) = (facts(), lists());
        assert_eq!(eval("args.float_prec < 64", &f, &l), Some(false));
        assert_eq!(eval("args.float_prec == 64", &f, &l), Some(true));
        assert_eq!(eval("not args.unicode", &f, &l), Some(false));
        assert_eq!(
            eval("args.platform not in PC_PLATFORMS", &f, &l),
            Some(false)
        );
        assert_eq!(
            eval("args.arch not in (\"armv7emsp\", \"armv7emdp\")", &f, &l),
            Some(true)
        );
        assert_eq!(eval("not has_coverage", &f, &l), Some(true));
        assert_eq!(eval("skip_slice", &f, &l), Some(false));
        assert_eq!(eval("True", &f, &l), Some(true));
        assert_eq!(
            eval("os.getenv(\"GITHUB_ACTIONS\") == \"true\"", &f, &l),
            None
        );
        let mut fp = f.clone();
        fp.float_prec = 30;
        fp.platform = "qemu".into();
        assert_eq!(eval("args.float_prec < 32", &fp, &l), Some(true));
        assert_eq!(
            eval("args.platform not in PC_PLATFORMS", &fp, &l),
            Some(true)
        );
    }

    #[test]
    fn name_patterns() {
        let mut f = facts();
        assert_eq!(feature_skip("int_big_add", &f), None);
        f.int_big = false;
        assert_eq!(feature_skip("int_big_add", &f), Some("no big integers"));
        assert_eq!(
            feature_skip("float2int_intbig", &f),
            Some("no big integers")
        );
        assert_eq!(feature_skip("asmsum", &f), Some("no inline assembler"));
    }

    #[test]
    fn lists_from_source() {
        let src = "PC_PLATFORMS = (\"darwin\", \"linux\")\nvia_mpy_tests_to_skip = {True: (\"io/argv.py\",)}\nplatform_tests_to_skip = {\"linux\": (\"a/b.py\",)}\nflaky_tests_to_ignore = {\"t/x.py\": (\"race\", None), \"t/y.py\": (\"mac\", (\"darwin\",))}\ntests_requiring_slice = (\"basics/s.py\",)\ndef r():\n    if not has_coverage:\n        skip_tests.add(\"cmdline/cmd_parsetree.py\")\n    if skip_slice:\n        skip_tests.update(tests_requiring_slice)\n    if args.platform not in PC_PLATFORMS:\n        skip_tests.add(\"micropython/meminfo.py\")\n";
        let l = SkipLists::from_source(pyread::read_source(Path::new("rt.py"), src).unwrap());
        let f = facts();
        let s = l.skipped(&f, true, "bytecode", &[]);
        assert!(s.contains_key("cmdline/cmd_parsetree.py"));
        assert!(s.contains_key("io/argv.py"));
        assert!(s.contains_key("a/b.py"));
        assert!(!s.contains_key("basics/s.py"));
        assert!(!s.contains_key("micropython/meminfo.py"));
        assert!(
            !l.skipped(&f, false, "bytecode", &[])
                .contains_key("io/argv.py")
        );
        assert_eq!(l.flaky("t/x.py", "linux"), Some("race"));
        assert_eq!(l.flaky("t/y.py", "linux"), None);
    }
}
