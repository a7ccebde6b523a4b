//! Which tests run-tests.py would skip on a target: the hand-kept lists read from the
//! checkout's run-tests.py ([`super::pyread`]), the conditional `skip_tests.add(...)`
//! calls evaluated against what the target has, and the file-name patterns tied to
//! features.

use std::collections::BTreeMap;

use super::condition::{Evaluator, eval};
use super::facts::{Fact, Facts};
use super::pyread::{self, ConditionalSkip, SkipArg, Tok, Value};
use super::tokens::tokens_text;

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
    /// Named top-level tuples of strings (e.g. `tests_requiring_slice`, `PC_PLATFORMS`).
    lists: BTreeMap<String, Vec<String>>,
    /// Top-level dicts (`error_reporting_tests_to_skip`), for keyed updates.
    dicts: BTreeMap<String, Value>,
    conditional: Vec<ConditionalSkip>,
}

/// Why a test is not run on a target.
pub(crate) type SkipReason = String;

impl SkipLists {
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
        let dicts = a
            .iter()
            .filter(|(_, v)| matches!(v, Value::Dict(_)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        SkipLists {
            dicts,
            via_mpy,
            emitter: by_key("emitter_tests_to_skip"),
            platform: by_key("platform_tests_to_skip"),
            flaky,
            lists,
            conditional: source.skips,
        }
    }

    /// The named tuples and lists (`PC_PLATFORMS`, `tests_requiring_slice`, ...).
    pub(crate) fn names(&self) -> &BTreeMap<String, Vec<String>> {
        &self.lists
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
        let facts = &facts.in_mode(via_mpy, emit);
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
                SkipArg::Tests(ts) => {
                    for t in ts {
                        out.entry(t.clone()).or_insert_with(|| why.clone());
                    }
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
                SkipArg::Keyed { dict, key } => {
                    let entry = self.keyed_entry(facts, dict, key);
                    for t in entry.map(Value::strings).unwrap_or_default() {
                        out.entry(t)
                            .or_insert_with(|| format!("{why}: {dict}[{}]", shown_key(facts, key)));
                    }
                }
            }
        }
        // A list no keyed update names (v1.24 has none) is read by name.
        if via_mpy && !self.keyed("via_mpy_tests_to_skip") {
            for t in &self.via_mpy {
                out.entry(t.clone())
                    .or_insert_with(|| "run-tests.py: via_mpy_tests_to_skip".into());
            }
        }
        if !self.keyed("emitter_tests_to_skip") {
            for t in self.emitter.get(emit).into_iter().flatten() {
                out.entry(t.clone())
                    .or_insert_with(|| format!("run-tests.py: emitter_tests_to_skip[{emit}]"));
            }
        }
        if !self.keyed("platform_tests_to_skip") {
            for t in self.platform.get(&facts.platform).into_iter().flatten() {
                out.entry(t.clone()).or_insert_with(|| {
                    format!("run-tests.py: platform_tests_to_skip[{}]", facts.platform)
                });
            }
        }
        out
    }

    /// Whether a `skip_tests.update(DICT.get(...))` names this dict.
    fn keyed(&self, name: &str) -> bool {
        self.conditional
            .iter()
            .any(|c| matches!(&c.what, SkipArg::Keyed { dict, .. } if dict == name))
    }

    /// `DICT.get(KEY, ())` on this target: `None` for no entry, or a key not evaluated.
    fn keyed_entry(&self, facts: &Facts, dict: &str, key: &[Tok]) -> Option<&Value> {
        let ev = Evaluator {
            facts,
            lists: &self.lists,
            probe: None,
        };
        let key = match ev.value(key)? {
            Fact::Str(s) => Value::Str(s),
            Fact::Int(n) => Value::Int(n),
            Fact::Bool(b) => Value::Bool(b),
            Fact::None => Value::None,
        };
        self.dicts.get(dict)?.get(&key)
    }

    /// The known-flaky reason for a test on this platform: its failure is "ignored".
    pub(crate) fn flaky(&self, test: &str, platform: &str) -> Option<&str> {
        let (reason, platforms) = self.flaky.get(test)?;
        platforms
            .as_ref()
            .is_none_or(|p| p.iter().any(|x| x == platform))
            .then_some(reason.as_str())
    }

    /// Conditions (and keys of keyed updates) met on no target because mpcheck cannot
    /// evaluate them (for `list`), in either mode.
    pub(crate) fn unknown_conditions(&self, facts: &Facts) -> Vec<String> {
        let modes = [false, true].map(|m| facts.in_mode(m, &facts.emit));
        let mut out: Vec<String> = Vec::new();
        for c in &self.conditional {
            for cond in &c.conditions {
                if modes.iter().any(|f| eval(cond, f, &self.lists).is_none()) {
                    out.push(cond.text.clone());
                }
            }
            if let SkipArg::Keyed { dict, key } = &c.what
                && modes.iter().any(|f| {
                    let ev = Evaluator {
                        facts: f,
                        lists: &self.lists,
                        probe: None,
                    };
                    ev.value(key).is_none()
                })
            {
                out.push(format!("{dict}.get({})", tokens_text(key)));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The key's value on this target, as a reason shows it.
fn shown_key(facts: &Facts, key: &[Tok]) -> String {
    let ev = Evaluator {
        facts,
        lists: &BTreeMap::new(),
        probe: None,
    };
    ev.string(key).unwrap_or_else(|| tokens_text(key))
}

#[cfg(test)]
mod tests {
    use super::pyread::Condition;
    use super::*;
    use std::path::Path;

    fn facts() -> Facts {
        Facts::unix_like()
    }

    #[test]
    fn keyed_updates_follow_mode_emitter_and_error_reporting() {
        let src = "via_mpy_tests_to_skip = {True: (\"io/argv.py\",)}\nemitter_tests_to_skip = {\"native\": (\"n.py\",)}\nerror_reporting_tests_to_skip = {\"none\": (\"e.py\",)}\nerror_reporting_tests_to_skip[\"terse\"] = error_reporting_tests_to_skip[\"none\"]\ndef r():\n    if args.via_mpy:\n        skip_tests.add(\"m.py\")\n    skip_tests.update(via_mpy_tests_to_skip.get(args.via_mpy, ()))\n    skip_tests.update(emitter_tests_to_skip.get(args.emit, ()))\n    skip_tests.update(error_reporting_tests_to_skip.get(args.error_reporting, ()))\n";
        let l = SkipLists::from_source(pyread::read_source(Path::new("rt.py"), src).unwrap());
        let mut f = facts();
        f.fields.insert("error_reporting".into(), "terse".into());
        let s = l.skipped(&f, true, "native", &[]);
        for t in ["io/argv.py", "m.py", "n.py", "e.py"] {
            assert!(s.contains_key(t), "{t}: {s:?}");
        }
        assert!(s["e.py"].contains("[terse]"), "{s:?}");
        let s = l.skipped(&f, false, "bytecode", &[]);
        assert_eq!(s.keys().collect::<Vec<_>>(), ["e.py"]);
        // Nothing left unread: the mode and the fields are what the runner knows.
        assert!(l.unknown_conditions(&f).is_empty());
        // A target whose information has no such field: its key is not evaluated, and said.
        let g = facts();
        assert!(!l.skipped(&g, false, "bytecode", &[]).contains_key("e.py"));
        assert_eq!(
            l.unknown_conditions(&g),
            ["error_reporting_tests_to_skip.get(args.error_reporting)"]
        );
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
        // The runner's host is mpcheck's: its environment and platform answer.
        assert_eq!(
            eval("os.getenv(\"GITHUB_ACTIONS\") == \"true\"", &f, &l),
            Some(std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"))
        );
        assert_eq!(
            eval(
                "os.getenv(\"MPCHECK_NO_SUCH_VARIABLE\") == \"true\"",
                &f,
                &l
            ),
            Some(false)
        );
        assert_eq!(eval("os.name == \"nt\"", &f, &l), Some(false));
        assert_eq!(
            eval("not sysconfig.get_platform().startswith(\"mingw\")", &f, &l),
            Some(true)
        );
        assert_eq!(
            eval(
                "sysconfig.get_platform().startswith((\"linux\", \"mingw\"))",
                &f,
                &l
            ),
            Some(true)
        );
        let mut fp = f.clone();
        fp.float_prec = Some(30);
        fp.platform = "qemu".into();
        assert_eq!(eval("args.float_prec < 32", &fp, &l), Some(true));
        assert_eq!(
            eval("args.platform not in PC_PLATFORMS", &fp, &l),
            Some(true)
        );
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
