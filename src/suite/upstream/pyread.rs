//! A small reader of the Python literals in run-tests.py: the hand-kept skip lists change
//! with every release, so they are read from the checkout's own source text (never run).
//!
//! Constructs read (anything else is ignored):
//! - top-level `NAME = <literal>` where the literal is built of strings (with implicit
//!   concatenation and `b`/`r` prefixes), numbers, `True`/`False`/`None`, tuples, lists
//!   and dicts; a comprehension such as `[base_path(f) for f in ("a", "b")]` reads as the
//!   strings inside it (see [`strings`]);
//! - `skip_tests.add("literal")` and `skip_tests.update(NAME)` calls, each with the chain
//!   of `if CONDITION:` lines enclosing it (by indentation), for [`super::skips`] to
//!   evaluate against what the target has.

use std::collections::BTreeMap;
use std::path::Path;

pub use super::pylex::ReadError;
pub(crate) use super::pylex::{Spanned, Tok, logical_lines, tokenize};
pub(crate) use super::pyvalue::{Value, literal};

/// A `skip_tests.add(...)` / `skip_tests.update(...)` call and the `if` lines around it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConditionalSkip {
    /// The enclosing conditions, outermost first, as written (without `if` and `:`),
    /// each with the feature-check script whose output the block last asked for
    /// (`run_feature_check(pyb, args, "NAME.py")` before the `if`): a condition on a
    /// variable such as `output != b"thumb2\n"` is about that script's output.
    pub conditions: Vec<Condition>,
    pub line: usize,
    pub what: SkipArg,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub text: String,
    pub probe: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SkipArg {
    /// `skip_tests.add("path")`
    Test(String),
    /// `skip_tests.update(NAME)`: a top-level list by name.
    List(String),
    /// `skip_tests.update({"basics/%s.py" % t for t in "a b".split()})`: those tests.
    Tests(Vec<String>),
    /// `for t in tests: if t.startswith("prefix"): skip_tests.add(t)`: every test whose
    /// path starts with the prefix.
    Prefix(String),
    /// `skip_tests.update(DICT.get(KEY, ()))`: the entry of a top-level dict under what
    /// the runner knows (`args.via_mpy`, `args.emit`, `args.error_reporting`).
    Keyed { dict: String, key: Vec<Tok> },
}

/// An assignment inside a function (`NAME = expr`, `a, b = expr`, `NAME += expr`,
/// `NAME |= expr`), with the `if` lines around it: how run-tests.py turns feature-check
/// outputs into facts and test names into skips.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assign {
    pub targets: Vec<String>,
    /// `=`, `+=`, `|=`.
    pub op: String,
    /// The right-hand side's tokens and text.
    pub value: Vec<Tok>,
    pub text: String,
    pub conditions: Vec<Condition>,
    /// The feature check the block last ran (see [`ConditionalSkip::conditions`]).
    pub probe: Option<String>,
    pub line: usize,
}

/// What run-tests.py's source says.
#[derive(Debug, Default)]
pub(crate) struct Source {
    /// Assignments `NAME = literal`: every top-level one, and the tuples and lists
    /// assigned inside functions (e.g. `misc_slice_tests`) under names not used at the
    /// top.
    pub assignments: BTreeMap<String, Value>,
    pub skips: Vec<ConditionalSkip>,
    /// Assignments inside functions, in source order.
    pub statements: Vec<Assign>,
    /// `VAR = run_feature_check(pyb, args, "S.py")`: VAR → S.py, for names bound once.
    pub probe_vars: BTreeMap<String, String>,
    /// `cmd_parser.add_argument("--flag", default="v", ...)`: `--flag` → v.
    pub arg_defaults: BTreeMap<String, String>,
    /// Feature checks run in a loop over a tuple of names, one script per name.
    pub probe_loops: Vec<ProbeLoop>,
}

/// `for V in ("a", "b"): ... run_feature_check(pyb, args, "T_{}.py".format(V))`: the
/// checks `T_a.py`, `T_b.py` tried in that order (run-tests.py's
/// `detect_inline_asm_arch`: the first whose output is its own name wins).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProbeLoop {
    /// The script name with `{}` where the loop's value goes.
    pub template: String,
    pub values: Vec<String>,
    pub line: usize,
}

impl ProbeLoop {
    /// (value, script) in the loop's order.
    pub(crate) fn scripts(&self) -> impl Iterator<Item = (&str, String)> {
        self.values
            .iter()
            .map(|v| (v.as_str(), self.template.replacen("{}", v, 1)))
    }
}

/// Reads the top-level literal assignments and the conditional skip calls.
pub(crate) fn read_source(file: &Path, src: &str) -> Result<Source, ReadError> {
    let mut out = Source::default();
    // (indent, condition) of the `if` blocks around the current line.
    let mut ifs: Vec<(usize, Condition)> = Vec::new();
    let mut probe: Option<String> = None;
    // The last `if`/`elif` closed, for the `else:` after it.
    let mut closed: Option<(usize, Condition)> = None;
    let mut rebound = std::collections::BTreeSet::new();
    // (indent, variable, values) of the `for V in ("a", ...):` loops around the line.
    let mut loops: Vec<(usize, String, Vec<String>)> = Vec::new();
    for ll in logical_lines(file, src)? {
        let (indent, stmt) = (ll.indent, ll.text.as_str());
        while ifs.last().is_some_and(|(d, _)| *d >= indent) {
            closed = ifs.pop();
        }
        while loops.last().is_some_and(|(d, _, _)| *d >= indent) {
            loops.pop();
        }
        if let [
            (Tok::Name(f), _),
            (Tok::Name(var), _),
            (Tok::Name(i), _),
            rest @ ..,
        ] = ll.toks.as_slice()
            && f == "for"
            && i == "in"
            && let [
                (Tok::Op(open), _),
                items @ ..,
                (Tok::Op(close), _),
                (Tok::Op(colon), _),
            ] = rest
            && (open.as_str(), close.as_str(), colon.as_str()) == ("(", ")", ":")
            && let Some(values) = string_items(items)
        {
            loops.push((indent, var.clone(), values));
        }
        if let Some(l) = probe_loop(&ll, &loops) {
            out.probe_loops.push(l);
        }
        if stmt.starts_with("cmd_parser.add_argument(")
            && let Some(at) = ll
                .toks
                .iter()
                .position(|t| t.0 == Tok::Name("default".into()))
            && let Some((Tok::Str(default), _)) = ll.toks.get(at + 2)
        {
            // Under each of its names (`"-a", "--average"`): the strings before `default`.
            for (tok, _) in ll.toks.get(4..at).unwrap_or_default() {
                if let Tok::Str(flag) = tok
                    && flag.starts_with('-')
                {
                    out.arg_defaults.insert(flag.clone(), default.clone());
                }
            }
        }
        if let Some(at) = stmt.find("run_feature_check(pyb, args, \"") {
            let rest = &stmt[at + 30..];
            probe = rest.split('"').next().map(str::to_string);
        }
        let cond = |text: &str| Condition {
            text: text.to_string(),
            probe: probe.clone(),
        };
        if indent == 0 {
            if let [(Tok::Name(name), _), (Tok::Op(eq), _), rest @ ..] = ll.toks.as_slice()
                && eq == "="
                && !rest.is_empty()
            {
                let v = literal(rest);
                out.assignments.insert(name.clone(), v);
            } else {
                set_entry(&mut out.assignments, &ll.toks);
            }
        } else if let Some(a) = assignment(&ll, &ifs, &probe) {
            if let [target] = a.targets.as_slice() {
                if let [Tok::Name(f), ..] = a.value.as_slice()
                    && f == "run_feature_check"
                    && let Some(script) = a.value.iter().find_map(|t| match t {
                        Tok::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                {
                    // A name bound to several checks (`output`) means the block's last one.
                    if out.probe_vars.insert(target.clone(), script).is_some() {
                        rebound.insert(target.clone());
                    }
                }
                let spanned: Vec<Spanned> = a.value.iter().map(|t| (t.clone(), a.line)).collect();
                let v = literal(&spanned);
                if a.op == "=" && matches!(v, Value::Seq(_) | Value::Dict(_)) {
                    out.assignments.entry(target.clone()).or_insert(v);
                }
            }
            out.statements.push(a);
        } else if let Some(text) = stmt
            .strip_prefix("if ")
            .or_else(|| stmt.strip_prefix("elif "))
            && let Some(c) = text.trim_end().strip_suffix(':')
        {
            ifs.push((indent, cond(c.trim())));
        } else if stmt.starts_with("else:") {
            // What the `if` before it did not meet (of an `elif` chain, only the last).
            let text = match closed.take() {
                Some((d, c)) if d == indent && c.text != "else" => format!("not ({})", c.text),
                _ => "else".to_string(),
            };
            ifs.push((indent, cond(&text)));
        } else if let Some(s) = call_arg(stmt, "skip_tests.add(").and_then(|a| string_arg(file, a))
        {
            out.skips.push(ConditionalSkip {
                conditions: ifs.iter().map(|(_, c)| c.clone()).collect(),
                line: ll.line,
                what: SkipArg::Test(s),
            });
        } else if let Some(arg) = call_arg(stmt, "skip_tests.add(")
            && let Some((_, last)) = ifs.last()
            && let Some(prefix) = last
                .text
                .strip_prefix(&format!("{}.startswith(", arg.trim()))
                .and_then(|r| r.strip_suffix(')'))
        {
            let toks = tokenize(file, prefix)?;
            if let [(Tok::Str(p), _)] = toks.as_slice() {
                out.skips.push(ConditionalSkip {
                    conditions: ifs[..ifs.len() - 1]
                        .iter()
                        .map(|(_, c)| c.clone())
                        .collect(),
                    line: ll.line,
                    what: SkipArg::Prefix(p.clone()),
                });
            }
        } else if let Some(arg) = call_arg(stmt, "skip_tests.update(") {
            let arg = arg.trim();
            let toks = tokenize(file, arg)?;
            if let Some((dict, key)) = keyed(&toks) {
                out.skips.push(ConditionalSkip {
                    conditions: ifs.iter().map(|(_, c)| c.clone()).collect(),
                    line: ll.line,
                    what: SkipArg::Keyed { dict, key },
                });
            } else if let Some(tests) = formatted_words(&toks) {
                out.skips.push(ConditionalSkip {
                    conditions: ifs.iter().map(|(_, c)| c.clone()).collect(),
                    line: ll.line,
                    what: SkipArg::Tests(tests),
                });
            } else if !arg.is_empty() && arg.chars().all(|c| c.is_alphanumeric() || c == '_') {
                out.skips.push(ConditionalSkip {
                    conditions: ifs.iter().map(|(_, c)| c.clone()).collect(),
                    line: ll.line,
                    what: SkipArg::List(arg.to_string()),
                });
            }
        }
    }
    out.probe_vars.retain(|k, _| !rebound.contains(k));
    Ok(out)
}

/// `DICT.get(KEY, ())`: the dict's name and the key expression.
fn keyed(toks: &[Spanned]) -> Option<(String, Vec<Tok>)> {
    let t: Vec<&Tok> = toks.iter().map(|(t, _)| t).collect();
    let is = |t: &Tok, o: &str| matches!(t, Tok::Op(x) if x == o);
    match t.as_slice() {
        [
            Tok::Name(dict),
            dot,
            Tok::Name(get),
            open,
            key @ ..,
            comma,
            e1,
            e2,
            close,
        ] if is(dot, ".")
            && get == "get"
            && is(open, "(")
            && is(comma, ",")
            && is(e1, "(")
            && is(e2, ")")
            && is(close, ")")
            && !key.is_empty() =>
        {
            Some((dict.clone(), key.iter().map(|t| (*t).clone()).collect()))
        }
        _ => None,
    }
}

/// `DICT[KEY] = VALUE` at the top level (`error_reporting_tests_to_skip["terse"] =
/// error_reporting_tests_to_skip["none"]`): the entry set in the dict read so far; a
/// value `OTHER[KEY]` is that dict's entry.
fn set_entry(assignments: &mut BTreeMap<String, Value>, toks: &[Spanned]) {
    let [
        (Tok::Name(name), _),
        (Tok::Op(o), _),
        key,
        (Tok::Op(c), _),
        (Tok::Op(eq), _),
        rest @ ..,
    ] = toks
    else {
        return;
    };
    if (o.as_str(), c.as_str(), eq.as_str()) != ("[", "]", "=") || rest.is_empty() {
        return;
    }
    let key = literal(std::slice::from_ref(key));
    let value = match rest {
        [
            (Tok::Name(other), _),
            (Tok::Op(o2), _),
            k2,
            (Tok::Op(c2), _),
        ] if o2 == "[" && c2 == "]" => {
            let k2 = literal(std::slice::from_ref(k2));
            match assignments.get(other).and_then(|d| d.get(&k2)) {
                Some(v) => v.clone(),
                None => return,
            }
        }
        _ => literal(rest),
    };
    if let Some(Value::Dict(kv)) = assignments.get_mut(name) {
        match kv.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => kv.push((key, value)),
        }
    }
}

/// `"a", "b", ...` (a trailing comma allowed): the strings, else `None`.
fn string_items(items: &[Spanned]) -> Option<Vec<String>> {
    let mut values = Vec::new();
    for (k, (t, _)) in items.iter().enumerate() {
        match t {
            Tok::Str(s) if k % 2 == 0 => values.push(s.clone()),
            Tok::Op(o) if k % 2 == 1 && o == "," => {}
            _ => return None,
        }
    }
    (!values.is_empty()).then_some(values)
}

/// `run_feature_check(pyb, args, "T{}".format(V))` inside a loop over V's strings.
fn probe_loop(
    ll: &super::pylex::LogicalLine,
    loops: &[(usize, String, Vec<String>)],
) -> Option<ProbeLoop> {
    let toks: Vec<&Tok> = ll.toks.iter().map(|t| &t.0).collect();
    let at = toks
        .iter()
        .position(|t| **t == Tok::Name("run_feature_check".into()))?;
    toks[at..].windows(6).find_map(|w| match w {
        [
            Tok::Str(template),
            Tok::Op(dot),
            Tok::Name(format),
            Tok::Op(open),
            Tok::Name(var),
            Tok::Op(close),
        ] if dot == "."
            && format == "format"
            && open == "("
            && close == ")"
            && template.matches("{}").count() == 1 =>
        {
            let (_, _, values) = loops.iter().rev().find(|(_, v, _)| v == var)?;
            Some(ProbeLoop {
                template: template.clone(),
                values: values.clone(),
                line: ll.line,
            })
        }
        _ => None,
    })
}

/// An assignment statement: its targets (names only; `a.b = ...` is not one), operator
/// and value.
fn assignment(
    ll: &super::pylex::LogicalLine,
    ifs: &[(usize, Condition)],
    probe: &Option<String>,
) -> Option<Assign> {
    let toks: Vec<&Tok> = ll.toks.iter().map(|t| &t.0).collect();
    let at = toks
        .iter()
        .position(|t| matches!(t, Tok::Op(o) if ["=", "+=", "|="].contains(&o.as_str())))?;
    let mut targets = Vec::new();
    for (k, t) in toks[..at].iter().enumerate() {
        match t {
            Tok::Name(n) if k % 2 == 0 => targets.push(n.clone()),
            Tok::Op(o) if k % 2 == 1 && o == "," => {}
            _ => return None,
        }
    }
    let Tok::Op(op) = toks[at] else { return None };
    let text = ll.text.split_once(op.as_str())?.1.trim().to_string();
    (!targets.is_empty()).then(|| Assign {
        targets,
        op: op.clone(),
        value: toks[at + 1..].iter().map(|t| (*t).clone()).collect(),
        text,
        conditions: ifs.iter().map(|(_, c)| c.clone()).collect(),
        probe: probe.clone(),
        line: ll.line,
    })
}

/// `{"fmt%s" % t for t in "a b c".split()}` (a set or list): each word put in the format.
fn formatted_words(toks: &[Spanned]) -> Option<Vec<String>> {
    let t: Vec<&Tok> = toks.iter().map(|t| &t.0).collect();
    match t.as_slice() {
        [
            Tok::Op(open),
            Tok::Str(fmt),
            Tok::Op(pct),
            Tok::Name(v),
            Tok::Name(f),
            Tok::Name(v2),
            Tok::Name(i),
            Tok::Str(words),
            Tok::Op(dot),
            Tok::Name(split),
            Tok::Op(_),
            Tok::Op(_),
            Tok::Op(_),
        ] if (open == "{" || open == "[")
            && pct == "%"
            && f == "for"
            && v == v2
            && i == "in"
            && dot == "."
            && split == "split"
            && fmt.matches("%s").count() == 1 =>
        {
            Some(
                words
                    .split_whitespace()
                    .map(|w| fmt.replace("%s", w))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// The argument when it is one string literal (not `"x".format(...)`).
fn string_arg(file: &Path, arg: &str) -> Option<String> {
    match tokenize(file, arg).ok()?.as_slice() {
        [(Tok::Str(s), _)] => Some(s.clone()),
        _ => None,
    }
}

/// The argument text of `prefix ... )` in a statement (its comments already removed).
fn call_arg<'a>(stmt: &'a str, prefix: &str) -> Option<&'a str> {
    let t = stmt.trim_start();
    let rest = t.strip_prefix(prefix)?;
    let close = rest.rfind(')')?;
    Some(&rest[..close])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Source {
        read_source(Path::new("run-tests.py"), src).unwrap()
    }

    #[test]
    fn dicts_tuples_and_comments() {
        let s = read(
            "x = {\n    True: (\n        # note\n        \"a.py\",\n        'b.py',  # why\n    ),\n}\nflaky = {\"t.py\": (\"race\", None), \"u.py\": (\"mac\", (\"darwin\",))}\n",
        );
        let x = &s.assignments["x"];
        assert_eq!(
            x.get(&Value::Bool(true)).unwrap().strings(),
            ["a.py", "b.py"]
        );
        let f = &s.assignments["flaky"];
        assert_eq!(
            f.get(&Value::Str("u.py".into())),
            Some(&Value::Seq(vec![
                Value::Str("mac".into()),
                Value::Seq(vec![Value::Str("darwin".into())])
            ]))
        );
        assert_eq!(
            f.get(&Value::Str("t.py".into())),
            Some(&Value::Seq(vec![Value::Str("race".into()), Value::None]))
        );
    }

    #[test]
    fn comprehension_reads_as_its_strings() {
        let s = read(
            "r = [\n    base_path(file)\n    for file in (\n        \"a/b.py\",\n        \"c/d.py\",\n    )\n]\n",
        );
        assert_eq!(s.assignments["r"].strings(), ["a/b.py", "c/d.py"]);
    }

    #[test]
    fn conditional_adds_keep_their_conditions() {
        let s = read(
            "def f():\n    if args.float_prec < 32:\n        skip_tests.add(\n            \"float/a.py\"\n        )  # requires fp32\n        skip_tests.add(\"float/b.py\")\n    if skip_slice:\n        skip_tests.update(tests_requiring_slice)\n    skip_tests.add(\"x.py\".format(1))\n    skip_tests.add(\"plain.py\")\n",
        );
        assert_eq!(s.skips.len(), 4, "{:?}", s.skips);
        assert_eq!(s.skips[0].conditions[0].text, "args.float_prec < 32");
        assert_eq!(s.skips[0].what, SkipArg::Test("float/a.py".into()));
        assert_eq!(s.skips[1].what, SkipArg::Test("float/b.py".into()));
        assert_eq!(s.skips[2].conditions[0].text, "skip_slice");
        assert_eq!(
            s.skips[2].what,
            SkipArg::List("tests_requiring_slice".into())
        );
        assert!(s.skips[3].conditions.is_empty());
    }

    #[test]
    fn conditions_remember_the_probe_they_follow() {
        let s = read(
            "def f():\n    if True:\n        t = run_feature_check(pyb, args, \"repl_emacs_check.py\")\n        if \"True\" not in str(t, \"ascii\"):\n            skip_tests.add(\"cmdline/repl_emacs_keys.py\")\n",
        );
        let c = &s.skips[0].conditions;
        assert_eq!(c[1].text, "\"True\" not in str(t, \"ascii\")");
        assert_eq!(c[1].probe.as_deref(), Some("repl_emacs_check.py"));
    }

    #[test]
    fn a_prefix_loop_reads_as_a_prefix() {
        let s = read(
            "def f():\n    if args.thread == \"unsafe\":\n        for t in tests:\n            if t.startswith(\"thread/mutate_\"):\n                skip_tests.add(t)\n",
        );
        assert_eq!(s.skips[0].what, SkipArg::Prefix("thread/mutate_".into()));
        assert_eq!(s.skips[0].conditions.len(), 1);
        assert_eq!(s.skips[0].conditions[0].text, "args.thread == \"unsafe\"");
    }

    #[test]
    fn a_formatted_set_of_words_reads_as_its_tests() {
        // v1.24.0: the native emitter's try_reraise skips.
        let s = read(
            "def f():\n    if args.emit == \"native\":\n        skip_tests.update(\n            {\"basics/%s.py\" % t for t in \"try_reraise try_reraise2\".split()}\n        )  # why\n",
        );
        assert_eq!(
            s.skips[0].what,
            SkipArg::Tests(vec![
                "basics/try_reraise.py".into(),
                "basics/try_reraise2.py".into()
            ])
        );
        assert_eq!(s.skips[0].conditions[0].text, "args.emit == \"native\"");
    }

    #[test]
    fn keyed_updates_and_dict_entries_set_later() {
        let s = read(
            "d = {\"none\": (\"a.py\",)}\nd[\"terse\"] = d[\"none\"]\nd[\"x\"] = (\"b.py\",)\ndef f():\n    skip_tests.update(d.get(args.error_reporting, ()))\n",
        );
        let d = &s.assignments["d"];
        assert_eq!(
            d.get(&Value::Str("terse".into())).unwrap().strings(),
            ["a.py"]
        );
        assert_eq!(d.get(&Value::Str("x".into())).unwrap().strings(), ["b.py"]);
        let [skip] = s.skips.as_slice() else {
            panic!("{:?}", s.skips)
        };
        assert_eq!(
            skip.what,
            SkipArg::Keyed {
                dict: "d".into(),
                key: vec![
                    Tok::Name("args".into()),
                    Tok::Op(".".into()),
                    Tok::Name("error_reporting".into())
                ]
            }
        );
    }

    #[test]
    fn bytes_and_escapes() {
        let t = tokenize(Path::new("f"), r#"b"a\n" rb"\d" 'x''y'"#).unwrap();
        assert_eq!(t[0].0, Tok::Str("a\n".into()));
        assert_eq!(t[1].0, Tok::Str("\\d".into()));
    }

    #[test]
    fn unterminated_string_names_the_line() {
        let e = read_source(Path::new("rt.py"), "a = 1\nb = (\"x\n").unwrap_err();
        assert!(e.to_string().starts_with("rt.py:2: unterminated"), "{e}");
    }
}
