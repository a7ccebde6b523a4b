//! run-tests.py's conditions evaluated against one target's facts: the `if` lines around
//! its skips, its flags and its name patterns, in the forms mpcheck knows; anything else
//! is `None` (not evaluated, and said so), never a guess.

use std::collections::BTreeMap;
use std::path::Path;

use super::facts::{Fact, Facts};
use super::pyread::{self, Condition, Tok};
use super::tokens::{is_name, is_op, split_top, strip_parens};

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
