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
use std::path::{Path, PathBuf};

pub(crate) use super::pylex::{Spanned, Tok, tokenize};

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    Seq(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// Something that is not a literal (a call, a name, a comprehension): the strings
    /// found inside it, in order.
    Other(Vec<String>),
}

impl Value {
    /// Every string in the value, in order (dict keys and values included).
    pub(crate) fn strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<String>) {
        match self {
            Value::Str(s) => out.push(s.clone()),
            Value::Seq(v) => v.iter().for_each(|x| x.collect(out)),
            Value::Dict(kv) => kv.iter().for_each(|(k, v)| {
                k.collect(out);
                v.collect(out)
            }),
            Value::Other(s) => out.extend(s.iter().cloned()),
            Value::Int(_) | Value::Bool(_) | Value::None => {}
        }
    }

    /// The value of a dict entry whose key equals `key`.
    pub(crate) fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Dict(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why the source could not be read: the file and line, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ReadError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// A parser over tokens for one literal.
struct Parser<'a> {
    toks: &'a [Spanned],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if o == op)
    }

    /// One value; at the end, the parser stands after it.
    fn value(&mut self) -> Value {
        let Some(tok) = self.peek().cloned() else {
            return Value::Other(Vec::new());
        };
        let v = match tok {
            Tok::Str(mut s) => {
                self.pos += 1;
                // Implicit concatenation: "a" "b".
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.pos += 1;
                }
                Value::Str(s)
            }
            Tok::Int(n) => {
                self.pos += 1;
                Value::Int(n)
            }
            Tok::Name(n) if n == "True" || n == "False" => {
                self.pos += 1;
                Value::Bool(n == "True")
            }
            Tok::Name(n) if n == "None" => {
                self.pos += 1;
                Value::None
            }
            Tok::Op(o) if o == "(" || o == "[" => self.sequence(if o == "(" { ")" } else { "]" }),
            Tok::Op(o) if o == "{" => self.dict(),
            _ => return self.other(),
        };
        // A literal followed by more expression (a call, an operator) is not a literal.
        if self.is_op(",")
            || self.is_op(":")
            || self.is_op(")")
            || self.is_op("]")
            || self.is_op("}")
            || self.peek().is_none()
        {
            v
        } else {
            let mut rest = v.strings();
            if let Value::Other(more) = self.other() {
                rest.extend(more);
            }
            Value::Other(rest)
        }
    }

    /// Skips an expression up to the next `,` `:` or closing bracket at this depth,
    /// keeping the strings inside it.
    fn other(&mut self) -> Value {
        let mut depth = 0usize;
        let mut strings = Vec::new();
        while let Some(t) = self.peek().cloned() {
            match &t {
                Tok::Op(o) if ["(", "[", "{"].contains(&o.as_str()) => depth += 1,
                Tok::Op(o) if [")", "]", "}"].contains(&o.as_str()) => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                Tok::Op(o) if depth == 0 && (o == "," || o == ":") => break,
                Tok::Str(s) => strings.push(s.clone()),
                _ => {}
            }
            self.pos += 1;
        }
        Value::Other(strings)
    }

    fn sequence(&mut self, close: &str) -> Value {
        self.pos += 1;
        let mut items = Vec::new();
        let mut comprehension = false;
        while self.peek().is_some() && !self.is_op(close) {
            if matches!(self.peek(), Some(Tok::Name(n)) if n == "for") {
                comprehension = true;
            }
            let v = self.value();
            items.push(v);
            if self.is_op(",") {
                self.pos += 1;
            } else if !self.is_op(close) {
                // Not a plain sequence (e.g. `x for x in ...`): keep skipping.
                comprehension = true;
                self.pos += 1;
            }
        }
        self.pos += 1;
        // A parenthesised single value without a comma is that value.
        if comprehension {
            return Value::Other(Value::Seq(items).strings());
        }
        Value::Seq(items)
    }

    fn dict(&mut self) -> Value {
        self.pos += 1;
        let mut kv = Vec::new();
        while self.peek().is_some() && !self.is_op("}") {
            let k = self.value();
            if self.is_op(":") {
                self.pos += 1;
                let v = self.value();
                kv.push((k, v));
            }
            // A `,` or anything unexpected is stepped over.
            if !self.is_op("}") {
                self.pos += 1;
            }
        }
        self.pos += 1;
        Value::Dict(kv)
    }
}

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
    /// `for t in tests: if t.startswith("prefix"): skip_tests.add(t)`: every test whose
    /// path starts with the prefix.
    Prefix(String),
}

/// What run-tests.py's source says.
#[derive(Debug, Default)]
pub(crate) struct Source {
    /// Top-level assignments `NAME = literal`.
    pub assignments: BTreeMap<String, Value>,
    pub skips: Vec<ConditionalSkip>,
}

/// Reads the top-level literal assignments and the conditional skip calls.
pub(crate) fn read_source(file: &Path, src: &str) -> Result<Source, ReadError> {
    let mut out = Source::default();
    let lines: Vec<&str> = src.lines().collect();
    let mut i = 0;
    // (indent, condition) of the `if` blocks around the current line.
    let mut ifs: Vec<(usize, Condition)> = Vec::new();
    let mut probe: Option<String> = None;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        while ifs.last().is_some_and(|(d, _)| *d >= indent) {
            ifs.pop();
        }
        // A statement spanning lines: join until its brackets balance.
        let (stmt, next) = join_statement(&lines, i);
        if let Some(at) = stmt.find("run_feature_check(pyb, args, \"") {
            let rest = &stmt[at + 30..];
            probe = rest.split('"').next().map(str::to_string);
        }
        let cond = |text: &str| Condition {
            text: text.to_string(),
            probe: probe.clone(),
        };
        if indent == 0 {
            if let Some((name, rest)) = top_assignment(&stmt) {
                let toks = tokenize(file, rest).map_err(|e| ReadError {
                    line: e.line + i,
                    ..e
                })?;
                if !toks.is_empty() {
                    let v = Parser {
                        toks: &toks,
                        pos: 0,
                    }
                    .value();
                    out.assignments.insert(name.to_string(), v);
                }
            }
        } else if let Some(text) = trimmed
            .strip_prefix("if ")
            .or_else(|| trimmed.strip_prefix("elif "))
            && let Some(c) = strip_colon(text)
        {
            ifs.push((indent, cond(c)));
        } else if trimmed.starts_with("else:") {
            ifs.push((indent, cond("else")));
        } else if let Some(s) = call_arg(&stmt, "skip_tests.add(").and_then(|a| string_arg(file, a))
        {
            out.skips.push(ConditionalSkip {
                conditions: ifs.iter().map(|(_, c)| c.clone()).collect(),
                line: i + 1,
                what: SkipArg::Test(s),
            });
        } else if let Some(arg) = call_arg(&stmt, "skip_tests.add(")
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
                    line: i + 1,
                    what: SkipArg::Prefix(p.clone()),
                });
            }
        } else if let Some(arg) = call_arg(&stmt, "skip_tests.update(") {
            let arg = arg.trim();
            if !arg.is_empty() && arg.chars().all(|c| c.is_alphanumeric() || c == '_') {
                out.skips.push(ConditionalSkip {
                    conditions: ifs.iter().map(|(_, c)| c.clone()).collect(),
                    line: i + 1,
                    what: SkipArg::List(arg.to_string()),
                });
            }
        }
        i = next;
    }
    Ok(out)
}

/// The argument when it is one string literal (not `"x".format(...)`).
fn string_arg(file: &Path, arg: &str) -> Option<String> {
    match tokenize(file, arg).ok()?.as_slice() {
        [(Tok::Str(s), _)] => Some(s.clone()),
        _ => None,
    }
}

fn strip_colon(cond: &str) -> Option<&str> {
    let cond = match cond.find(" #") {
        Some(at) => &cond[..at],
        None => cond,
    };
    cond.trim_end().strip_suffix(':').map(str::trim)
}

fn top_assignment(stmt: &str) -> Option<(&str, &str)> {
    let (name, rest) = stmt.split_once('=')?;
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !rest.starts_with('=');
    ok.then_some((name, rest))
}

/// The argument text of `prefix ... )` in a statement (comments removed first).
fn call_arg<'a>(stmt: &'a str, prefix: &str) -> Option<&'a str> {
    let t = stmt.trim_start();
    let rest = t.strip_prefix(prefix)?;
    let close = rest.rfind(')')?;
    Some(&rest[..close])
}

/// The statement starting at line `i`, joined with following lines until its brackets
/// balance; and the index of the line after it.
fn join_statement(lines: &[&str], i: usize) -> (String, usize) {
    let mut text = String::new();
    let mut depth: i64 = 0;
    let mut j = i;
    while j < lines.len() {
        let l = strip_comment(lines[j]);
        for c in l.chars() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
        }
        text.push_str(l);
        text.push('\n');
        j += 1;
        if depth <= 0 {
            break;
        }
    }
    (text, j)
}

/// A line without its `#` comment (a `#` inside a string is kept).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (at, c) in line.char_indices() {
        match quote {
            Some(q) if c == q && prev != '\\' => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return &line[..at],
            None => {}
        }
        prev = c;
    }
    line
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
