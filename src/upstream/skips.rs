//! Which tests run-tests.py would skip on a target: the hand-kept lists read from the
//! checkout's run-tests.py ([`super::pyread`]), the conditional `skip_tests.add(...)`
//! calls evaluated against what the target has, and the file-name patterns tied to
//! features.

use std::collections::BTreeMap;
use std::path::Path;

use super::facts::{Fact, Facts};
use super::pyread::{self, Condition, ConditionalSkip, SkipArg, Tok, Value};
use super::tokens::{is_name, is_op, split_top, strip_parens, tokens_text};

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

/// Evaluates one `if` condition of run-tests.py against the target; `None` when it is
/// not one of the forms mpcheck knows (then the skip is not applied, and `list` says so).
/// Forms, combined with `and`, `or`, `not` and parentheses: `True`, flag variables
/// (`skip_X`, `has_X`), `args.ATTR`, literals, `os.path.isdir(EXPR)`; comparisons
/// (`==`, `!=`, `<`, `<=`, `>`, `>=`, `is [not]`, `[not] in NAME|(tuple)|str(VAR, ...)`);
/// a variable holding a feature check's output (`output`, the one the block last ran, or
/// one bound by name), compared as bytes or, against a number, as `int(output)`.
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
    Evaluator {
        facts,
        lists,
        probe: cond.probe.as_deref(),
    }
    .truth(&toks)
}

/// Evaluates run-tests.py expressions against one target's facts.
pub(crate) struct Evaluator<'a> {
    pub facts: &'a Facts,
    pub lists: &'a BTreeMap<String, Vec<String>>,
    /// The feature check whose output a bare `output`-like variable holds.
    pub probe: Option<&'a str>,
}

/// An evaluator for name patterns: `test_name` is this test's name.
struct NamedEvaluator<'a> {
    inner: &'a Evaluator<'a>,
    test_name: &'a str,
}

impl Evaluator<'_> {
    /// A name pattern (`test_name.startswith(...) or ...`, `is_X` names) on one test.
    pub(crate) fn with_test_name(&self, test_name: &str, toks: &[Tok]) -> Option<bool> {
        let named = NamedEvaluator {
            inner: self,
            test_name,
        };
        named.truth(toks)
    }

    pub(crate) fn truth(&self, toks: &[Tok]) -> Option<bool> {
        let toks = strip_parens(toks);
        let ors = split_top(toks, &|t| is_name(t, "or"));
        if ors.len() > 1 {
            let v: Vec<Option<bool>> = ors.iter().map(|p| self.truth(p)).collect();
            return if v.contains(&Some(true)) {
                Some(true)
            } else {
                v.iter().all(|x| *x == Some(false)).then_some(false)
            };
        }
        let ands = split_top(toks, &|t| is_name(t, "and"));
        if ands.len() > 1 {
            let v: Vec<Option<bool>> = ands.iter().map(|p| self.truth(p)).collect();
            return if v.contains(&Some(false)) {
                Some(false)
            } else {
                v.iter().all(|x| *x == Some(true)).then_some(true)
            };
        }
        if let [Tok::Name(n), rest @ ..] = toks
            && n == "not"
            && !rest.is_empty()
        {
            return self.truth(rest).map(|b| !b);
        }
        self.comparison(toks)
    }

    fn comparison(&self, toks: &[Tok]) -> Option<bool> {
        // `os.path.isdir(EXPR)`: a directory of the checkout.
        if let [a, _, b, _, c, Tok::Op(open), inner @ .., Tok::Op(close)] = toks
            && is_name(a, "os")
            && is_name(b, "path")
            && is_name(c, "isdir")
            && open == "("
            && close == ")"
        {
            let dir = self.string(inner)?;
            return Some(self.facts.tests_dir.join(dir).is_dir());
        }
        // `VALUE.startswith(STR, ...)` / `.endswith(...)` on a string value: the last
        // such call, running to the end of the condition.
        let call = (1..toks.len().saturating_sub(3)).rev().find(|&i| {
            is_op(&toks[i], ".")
                && (is_name(&toks[i + 1], "startswith") || is_name(&toks[i + 1], "endswith"))
                && is_op(&toks[i + 2], "(")
                && is_op(&toks[toks.len() - 1], ")")
        });
        if let Some(at) = call {
            let Fact::Str(s) = self.value(&toks[..at])? else {
                return None;
            };
            let args = strip_parens(&toks[at + 3..toks.len() - 1]);
            let affixes: Vec<String> = split_top(args, &|t| is_op(t, ","))
                .into_iter()
                .map(|a| self.string(a))
                .collect::<Option<_>>()?;
            let starts = is_name(&toks[at + 1], "startswith");
            return Some(affixes.iter().any(|a| {
                if starts {
                    s.starts_with(a.as_str())
                } else {
                    s.ends_with(a.as_str())
                }
            }));
        }
        let pos = toks.iter().position(|t| {
            matches!(t, Tok::Op(o) if ["==", "!=", "<", "<=", ">", ">="].contains(&o.as_str()))
                || is_name(t, "is")
                || is_name(t, "in")
        });
        let Some(at) = pos else {
            return Some(self.value(toks)?.truthy());
        };
        let (mut left, mut right) = (&toks[..at], &toks[at + 1..]);
        let mut op = match &toks[at] {
            Tok::Op(o) => o.clone(),
            Tok::Name(n) => n.clone(),
            _ => return None,
        };
        if op == "in" && left.last().is_some_and(|t| is_name(t, "not")) {
            left = &left[..left.len() - 1];
            op = "not in".into();
        }
        if op == "is" && right.first().is_some_and(|t| is_name(t, "not")) {
            right = &right[1..];
            op = "is not".into();
        }
        if op.ends_with("in") {
            let found = self.contains(left, right)?;
            return Some(found == (op == "in"));
        }
        let (l, r) = (self.value(left)?, self.value(right)?);
        match op.as_str() {
            "is" => Some(l == r),
            "is not" => Some(l != r),
            o => l.compare(o, &r),
        }
    }

    /// `NEEDLE in HAYSTACK`: a list by name, a tuple, or `str(VAR, ...)` (a substring).
    fn contains(&self, needle: &[Tok], hay: &[Tok]) -> Option<bool> {
        if let [f, Tok::Op(o), inner @ ..] = hay
            && is_name(f, "str")
            && o == "("
        {
            let var = split_top(inner, &|t| is_op(t, ","))[0];
            let (Fact::Str(n), Fact::Str(h)) = (self.value(needle)?, self.value(var)?) else {
                return None;
            };
            return Some(h.contains(n.as_str()));
        }
        let Fact::Str(s) = self.value(needle)? else {
            return None;
        };
        let items: Vec<String> = match hay {
            [Tok::Name(n)] => self.lists.get(n)?.clone(),
            [Tok::Op(o), inner @ .., Tok::Op(c)] if o == "(" && c == ")" => inner
                .iter()
                .filter_map(|t| match t {
                    Tok::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => return None,
        };
        Some(items.contains(&s))
    }

    /// The value of an operand.
    pub(crate) fn value(&self, toks: &[Tok]) -> Option<Fact> {
        let f = self.facts;
        // A check that did not run (a REPL check on a board) printed nothing, as
        // run-tests.py has it.
        let out = |script: &str| {
            let o = f.outputs.get(script).map(Vec::as_slice).unwrap_or(b"");
            Some(Fact::Str(String::from_utf8_lossy(o).into_owned()))
        };
        Some(match strip_parens(toks) {
            [Tok::Str(s)] => Fact::Str(s.clone()),
            [Tok::Int(n)] => Fact::Int(*n),
            [Tok::Op(m), Tok::Int(n)] if m == "-" => Fact::Int(-n),
            [Tok::Name(n)] if n == "True" || n == "False" => Fact::Bool(n == "True"),
            [Tok::Name(n)] if n == "None" => Fact::None,
            [Tok::Name(a), d, Tok::Name(attr)] if a == "args" && is_op(d, ".") => f.attr(attr)?,
            // What run-tests.py asks of the machine it runs on, asked of this one (the
            // runner's host is mpcheck's host): `os.getenv("X")`, `os.name`,
            // `sysconfig.get_platform()`.
            [m, d, g, Tok::Op(o), Tok::Str(var), Tok::Op(c)]
                if is_name(m, "os")
                    && is_op(d, ".")
                    && is_name(g, "getenv")
                    && o == "("
                    && c == ")" =>
            {
                std::env::var(var).map_or(Fact::None, Fact::Str)
            }
            [m, d, n] if is_name(m, "os") && is_op(d, ".") && is_name(n, "name") => {
                Fact::Str(host_os_name().into())
            }
            [m, d, g, Tok::Op(o), Tok::Op(c)]
                if is_name(m, "sysconfig")
                    && is_op(d, ".")
                    && is_name(g, "get_platform")
                    && o == "("
                    && c == ")" =>
            {
                Fact::Str(host_sysconfig_platform()?)
            }
            // `len(args.files)`: a list attribute stands as a string of its length.
            [Tok::Name(n), Tok::Op(o), inner @ .., Tok::Op(c)]
                if n == "len" && o == "(" && c == ")" =>
            {
                match self.value(inner)? {
                    Fact::Str(s) => Fact::Int(s.len() as i64),
                    _ => return None,
                }
            }
            [Tok::Name(n), Tok::Op(o), rest @ ..] if n == "run_feature_check" && o == "(" => {
                let script = rest.iter().find_map(|t| match t {
                    Tok::Str(s) => Some(s.as_str()),
                    _ => None,
                })?;
                out(script)?
            }
            [Tok::Name(n)] => {
                if let Some(b) = f.flag(n) {
                    Fact::Bool(b)
                } else if let Some(script) = f.conventions.probe_vars.get(n) {
                    out(script)?
                } else if let Some(script) = f.conventions.cpython_vars.get(n) {
                    Fact::Str(String::from_utf8_lossy(f.cpython.get(script)?).into_owned())
                } else {
                    out(self.probe?)?
                }
            }
            other => Fact::Str(self.formatted(other)?),
        })
    }

    /// A string expression: a literal, `args.ATTR`, `"...".format(...)`, a variable the
    /// function assigned, `platform_to_port(EXPR)` (the checkout's own map).
    pub(crate) fn string(&self, toks: &[Tok]) -> Option<String> {
        if let Some(s) = self.formatted(toks) {
            return Some(s);
        }
        match self.value(toks)? {
            Fact::Str(s) => Some(s),
            Fact::Int(n) => Some(n.to_string()),
            Fact::Bool(b) => Some(if b { "True" } else { "False" }.into()),
            Fact::None => Some("None".into()),
        }
    }

    /// The string forms that are not plain values.
    fn formatted(&self, toks: &[Tok]) -> Option<String> {
        let toks = strip_parens(toks);
        match toks {
            [Tok::Str(fmt), d, fm, Tok::Op(o), args @ .., Tok::Op(c)]
                if is_op(d, ".") && is_name(fm, "format") && o == "(" && c == ")" =>
            {
                let mut out = String::new();
                let mut parts = split_top(args, &|t| is_op(t, ",")).into_iter();
                let mut rest = fmt.as_str();
                while let Some(at) = rest.find("{}") {
                    out.push_str(&rest[..at]);
                    out.push_str(&self.string(parts.next()?)?);
                    rest = &rest[at + 2..];
                }
                out.push_str(rest);
                Some(out)
            }
            [f, Tok::Op(o), inner @ .., Tok::Op(c)]
                if is_name(f, "platform_to_port") && o == "(" && c == ")" =>
            {
                Some(self.facts.port_of(&self.string(inner)?))
            }
            [Tok::Name(n)] if self.facts.conventions.locals.contains_key(n) => {
                let value = &self.facts.conventions.locals[n];
                // `x = x ...` would not end.
                (!value.contains(&Tok::Name(n.clone()))).then(|| self.string(value))?
            }
            _ => None,
        }
    }
}

impl NamedEvaluator<'_> {
    fn truth(&self, toks: &[Tok]) -> Option<bool> {
        let toks = strip_parens(toks);
        for (word, any) in [("or", true), ("and", false)] {
            let parts = split_top(toks, &|t| is_name(t, word));
            if parts.len() > 1 {
                let v: Vec<Option<bool>> = parts.iter().map(|p| self.truth(p)).collect();
                return if v.contains(&Some(any)) {
                    Some(any)
                } else {
                    v.iter().all(|x| *x == Some(!any)).then_some(!any)
                };
            }
        }
        if let [Tok::Name(n), rest @ ..] = toks
            && n == "not"
            && !rest.is_empty()
        {
            return self.truth(rest).map(|b| !b);
        }
        let name = self.test_name;
        let strs = |args: &[Tok]| -> Vec<String> {
            args.iter()
                .filter_map(|t| match t {
                    Tok::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        };
        match toks {
            [Tok::Name(p)] if self.inner.facts.conventions.patterns.contains_key(p) => {
                self.truth(&self.inner.facts.conventions.patterns[p])
            }
            // test_name.startswith(...) / .endswith(...), one string or a tuple.
            [v, d, Tok::Name(m), Tok::Op(o), args @ .., Tok::Op(c)]
                if is_name(v, "test_name") && is_op(d, ".") && o == "(" && c == ")" =>
            {
                let s = strs(args);
                match m.as_str() {
                    "startswith" => Some(s.iter().any(|p| name.starts_with(p.as_str()))),
                    "endswith" => Some(s.iter().any(|p| name.ends_with(p.as_str()))),
                    _ => None,
                }
            }
            // test_name.find("x") != -1
            [
                v,
                d,
                f,
                Tok::Op(o),
                Tok::Str(x),
                Tok::Op(c),
                Tok::Op(ne),
                Tok::Op(m),
                Tok::Int(1),
            ] if is_name(v, "test_name")
                && is_op(d, ".")
                && is_name(f, "find")
                && o == "("
                && c == ")"
                && ne == "!="
                && m == "-" =>
            {
                Some(name.contains(x.as_str()))
            }
            [Tok::Str(x), i, v] if is_name(i, "in") && is_name(v, "test_name") => {
                Some(name.contains(x.as_str()))
            }
            [v, i, Tok::Name(list)] if is_name(v, "test_name") && is_name(i, "in") => {
                Some(self.inner.lists.get(list)?.iter().any(|t| t == name))
            }
            other => self.inner.truth(other),
        }
    }
}

/// Python's `os.name` on this host: mpcheck runs on unix-like hosts only.
fn host_os_name() -> &'static str {
    if cfg!(unix) { "posix" } else { "nt" }
}

/// Python's `sysconfig.get_platform()` on this host where it is `<os>-<machine>` (Linux:
/// `linux-x86_64`); `None` (the condition is reported unevaluated) where its form
/// carries more (macOS's `macosx-14.0-arm64`).
fn host_sysconfig_platform() -> Option<String> {
    (std::env::consts::OS == "linux").then(|| format!("linux-{}", std::env::consts::ARCH))
}

#[cfg(test)]
mod tests {
    use super::*;

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
