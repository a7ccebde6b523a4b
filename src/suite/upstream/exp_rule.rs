//! How one checkout's run-tests.py reads a regex `.exp` and a REPL test's `{\xNN}` keys,
//! read from its source (never run): the characters its `convert_regex_escapes` makes
//! literal, what it puts in place of a line's final newline, the line that stands for any
//! number of lines, whether the emitter's own `.exp` comes first, and how it turns
//! `{\xNN}` into a byte. The patterns it builds are Python `re` patterns: [`py_regex`]
//! gives them the same meaning in Rust's regex (a `\$` in a v1.29 `.exp` is Python's
//! `$`, which matches before a line's final newline; Rust's plain `$` never does).

use std::path::Path;

use regex::bytes::Regex;

use super::py_regex::py_regex;
use super::pylex::{LogicalLine, Tok, logical_lines};

/// How a checkout turns `{\xNN}` in a REPL test into the byte it sends.
#[derive(Debug, Clone)]
pub(crate) struct ControlCodes {
    /// Its `re.sub` pattern (one group: the digits), in Rust's syntax.
    pub pattern: Regex,
    /// `int(m.group(1))` is 10, `int(m.group(1), 16)` is 16.
    pub radix: u32,
}

impl ControlCodes {
    /// The line with each `{\xNN}` replaced as run-tests.py's `re.sub` does; a match whose
    /// number is not a byte is kept as written (where Python would raise).
    pub(crate) fn apply(&self, line: &[u8]) -> Vec<u8> {
        self.pattern
            .replace_all(line, |c: &regex::bytes::Captures| {
                let whole = c.get(0).map(|m| m.as_bytes().to_vec()).unwrap_or_default();
                c.get(1)
                    .and_then(|m| std::str::from_utf8(m.as_bytes()).ok())
                    .and_then(|d| u8::from_str_radix(d, self.radix).ok())
                    .map(|b| vec![b])
                    .unwrap_or(whole)
            })
            .into_owned()
    }
}

/// How a checkout delivers Ctrl-C to a REPL test that asks for it (v1.29's `# sigint:`
/// header): the VM gets the pty as its controlling terminal, and a line holding `key` is
/// replaced by a lone `\x03`, after which the runner waits for the VM's answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SigInt {
    pub header: Vec<u8>,
    pub key: Vec<u8>,
}

impl SigInt {
    /// Whether the test's leading comment lines carry the header (run-tests.py reads
    /// them up to the first line that is not a comment).
    pub(crate) fn wanted(&self, source: &[u8]) -> bool {
        source
            .split(|&b| b == b'\n')
            .take_while(|l| l.starts_with(b"#"))
            .any(|l| l.starts_with(&self.header))
    }
}

/// One checkout's rule for regex `.exp` files and REPL keys.
#[derive(Debug, Clone)]
pub(crate) struct ExpRule {
    /// Characters `convert_regex_escapes` escapes: literal unless backslashed.
    pub literal: Vec<char>,
    /// `if cs[-1] == A: cs[-1] = B`: (A, B).
    pub line_end: Option<(String, String)>,
    /// The `.exp` line that matches any number of output lines.
    pub wildcard: Vec<u8>,
    /// The regex `.exp` is `<test>.py.<emit>.exp` when that exists (v1.29), else always
    /// `<test>.py.exp`.
    pub emit_first: bool,
    /// `None`: the checkout sends `{\xNN}` as written (it has no such rule).
    pub control: Option<ControlCodes>,
    /// `None`: the checkout has no `# sigint:` rule (before v1.29).
    pub sigint: Option<SigInt>,
    /// What could not be read, and what was assumed instead.
    pub notices: Vec<String>,
}

/// The dialect documented for run-tests.py (docs/upstream-tests.md), assumed only for
/// what a checkout's source does not say, each time with a notice.
const ASSUMED_LITERAL: &str = "()[]{}.*+^$";
const ASSUMED_WILDCARD: &[u8] = b"########\n";

impl Default for ExpRule {
    fn default() -> Self {
        ExpRule {
            literal: ASSUMED_LITERAL.chars().collect(),
            line_end: Some(("\n".into(), "\r*\n".into())),
            wildcard: ASSUMED_WILDCARD.to_vec(),
            emit_first: false,
            control: None,
            sigint: None,
            notices: Vec::new(),
        }
    }
}

impl ExpRule {
    /// Reads the rule from run-tests.py's text (`file` names it in notices).
    pub(crate) fn read(file: &Path, text: &str) -> ExpRule {
        let mut rule = ExpRule::default();
        let lines = match logical_lines(file, text) {
            Ok(l) => l,
            Err(e) => {
                rule.notices.push(format!(
                    "{e}: regex .exp rule not read; assumed the documented one"
                ));
                return rule;
            }
        };
        let name = file.display();
        let body = function_body(&lines, "convert_regex_escapes");
        match body.iter().find_map(escaped_chars) {
            Some(chars) => rule.literal = chars,
            None => rule.notices.push(format!(
                "{name}: the characters convert_regex_escapes escapes were not read; \
                 assumed `{ASSUMED_LITERAL}`"
            )),
        }
        match line_end(body) {
            Some(pair) => rule.line_end = Some(pair),
            None => rule.notices.push(format!(
                "{name}: what convert_regex_escapes puts before a line's final newline was \
                 not read; assumed `\\r*`"
            )),
        }
        match lines.iter().find_map(wildcard) {
            Some(w) => rule.wildcard = w.into_bytes(),
            None => rule.notices.push(format!(
                "{name}: the regex .exp line that matches any lines (`if line == ...`) was not \
                 read; assumed `########`"
            )),
        }
        match regex_exp_file(&lines) {
            Some(first) => rule.emit_first = first,
            None => rule.notices.push(format!(
                "{name}: which .exp the regex conversion opens was not read; assumed \
                 <test>.py.exp"
            )),
        }
        match control_codes(&lines) {
            Ok(c) => rule.control = c,
            Err(line) => rule.notices.push(format!(
                "{name}:{line}: the `{{\\xNN}}` rule of REPL tests was not read; they are \
                 sent as written"
            )),
        }
        match sigint(&lines) {
            Ok(s) => rule.sigint = s,
            Err(line) => rule.notices.push(format!(
                "{name}:{line}: the `# sigint:` header is read there, but not the line that \
                 sends Ctrl-C; such REPL tests are fed as written"
            )),
        }
        rule
    }

    /// One `.exp` line as run-tests.py's `convert_regex_escapes` makes it: a backslash
    /// makes the next character a regex character, the checkout's literal characters are
    /// escaped, the final newline replaced as its rule says. The result is a Python
    /// pattern.
    pub(crate) fn convert(&self, line: &[u8]) -> String {
        let mut cs: Vec<String> = Vec::new();
        let mut escape = false;
        for c in String::from_utf8_lossy(line).chars() {
            if escape {
                escape = false;
                cs.push(c.to_string());
            } else if c == '\\' {
                escape = true;
            } else if self.literal.contains(&c) {
                cs.push(format!("\\{c}"));
            } else {
                cs.push(c.to_string());
            }
        }
        if let (Some((from, to)), Some(last)) = (&self.line_end, cs.last_mut())
            && last == from
        {
            *last = to.clone();
        }
        cs.concat()
    }

    /// The `.exp` line as a regex anchored at the start (Python's `re.match`); `None`
    /// for a pattern Rust's regex cannot express, which then matches nothing.
    pub(crate) fn line_regex(&self, line: &[u8]) -> Option<Regex> {
        Regex::new(&format!("^(?:{})", py_regex(&self.convert(line)))).ok()
    }
}

/// The logical lines indented under `def NAME(`.
fn function_body<'a>(lines: &'a [LogicalLine], name: &str) -> &'a [LogicalLine] {
    let def = format!("def {name}(");
    let Some(at) = lines.iter().position(|l| l.text.starts_with(&def)) else {
        return &[];
    };
    let indent = lines[at].indent;
    let end = lines[at + 1..]
        .iter()
        .position(|l| l.indent <= indent)
        .map_or(lines.len(), |n| at + 1 + n);
    &lines[at + 1..end]
}

fn toks(l: &LogicalLine) -> Vec<&Tok> {
    l.toks.iter().map(|(t, _)| t).collect()
}

fn name(t: &Tok, n: &str) -> bool {
    matches!(t, Tok::Name(x) if x == n)
}

fn op(t: &Tok, o: &str) -> bool {
    matches!(t, Tok::Op(x) if x == o)
}

/// `elif c in ("(", ")", ...):` → its one-character strings.
fn escaped_chars(l: &LogicalLine) -> Option<Vec<char>> {
    let t = toks(l);
    let [kw, _, inn, open, items @ .., close, colon] = t.as_slice() else {
        return None;
    };
    if !(name(kw, "elif") || name(kw, "if"))
        || !name(inn, "in")
        || !op(open, "(")
        || !op(close, ")")
        || !op(colon, ":")
    {
        return None;
    }
    let mut chars = Vec::new();
    for item in items.iter().filter(|t| !op(t, ",")) {
        let Tok::Str(s) = item else { return None };
        let mut it = s.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => chars.push(c),
            _ => return None,
        }
    }
    (!chars.is_empty()).then_some(chars)
}

/// `if cs[-1] == A:` followed by `cs[-1] = B`.
fn line_end(body: &[LogicalLine]) -> Option<(String, String)> {
    body.windows(2).find_map(|w| {
        let last_str = |l: &LogicalLine| {
            l.toks.iter().rev().find_map(|(t, _)| match t {
                Tok::Str(s) => Some(s.clone()),
                _ => None,
            })
        };
        (w[0].text.starts_with("if cs[-1] == ") && w[1].text.starts_with("cs[-1] = "))
            .then(|| Some((last_str(&w[0])?, last_str(&w[1])?)))
            .flatten()
    })
}

/// `if line == b"########\n":` → the wildcard line.
fn wildcard(l: &LogicalLine) -> Option<String> {
    match toks(l).as_slice() {
        [kw, v, eq, Tok::Str(w), colon]
            if name(kw, "if") && name(v, "line") && op(eq, "==") && op(colon, ":") =>
        {
            Some(w.clone())
        }
        _ => None,
    }
}

/// Whether the regex conversion opens `<test>.py.<emit>.exp` first: the `with open(...)`
/// before the loop that calls `convert_regex_escapes(line)`. `None`: not read.
fn regex_exp_file(lines: &[LogicalLine]) -> Option<bool> {
    let call = lines
        .iter()
        .position(|l| !l.text.starts_with("def ") && l.text.contains("convert_regex_escapes("))?;
    let open = lines[..call]
        .iter()
        .rev()
        .take_while(|l| !l.text.starts_with("def "))
        .find(|l| l.text.starts_with("with open("))?;
    let t = toks(open);
    // with open ( X ...
    match t.get(3..6)? {
        [Tok::Name(f), plus, Tok::Str(ext)] if f == "test_file" && op(plus, "+") => {
            (ext == ".exp").then_some(false)
        }
        [Tok::Name(var), ..] => {
            // `exp_file = test_file + "." + args.emit + ".exp"` among the assignments
            // before the open (a fallback to `<test>.py.exp` may follow it).
            let assigned: Vec<&LogicalLine> = lines[..call]
                .iter()
                .rev()
                .take_while(|l| !l.text.starts_with("def "))
                .filter(|l| {
                    let t = toks(l);
                    t.len() > 2 && name(t[0], var) && op(t[1], "=")
                })
                .collect();
            (!assigned.is_empty()).then(|| {
                assigned
                    .iter()
                    .any(|l| toks(l).iter().any(|t| name(t, "emit")))
            })
        }
        _ => None,
    }
}

/// `elif line.startswith(b"# sigint:"):` followed by `send_sigint = True`, and the
/// `if b"{\\x03}" in line:` that sends the lone Ctrl-C. `Ok(None)`: no such header;
/// `Err(line)`: the header without a key this reader finds.
fn sigint(lines: &[LogicalLine]) -> Result<Option<SigInt>, usize> {
    let Some((at, header)) = lines.windows(2).enumerate().find_map(|(i, w)| {
        let t = toks(&w[0]);
        let header = match t.as_slice() {
            [kw, v, dot, sw, open, Tok::Str(h), close, colon]
                if (name(kw, "if") || name(kw, "elif"))
                    && name(v, "line")
                    && op(dot, ".")
                    && name(sw, "startswith")
                    && op(open, "(")
                    && op(close, ")")
                    && op(colon, ":") =>
            {
                h.clone()
            }
            _ => return None,
        };
        let sets = toks(&w[1]);
        matches!(sets.as_slice(), [Tok::Name(v), eq, t]
            if v.contains("sigint") && op(eq, "=") && name(t, "True"))
        .then_some((i, header))
    }) else {
        return Ok(None);
    };
    let key = lines[at..].iter().find_map(|l| match toks(l).as_slice() {
        [kw, Tok::Str(k), inn, v, colon]
            if name(kw, "if") && name(inn, "in") && name(v, "line") && op(colon, ":") =>
        {
            Some(k.clone())
        }
        _ => None,
    });
    match key {
        Some(k) => Ok(Some(SigInt {
            header: header.into_bytes(),
            key: k.into_bytes(),
        })),
        None => Err(lines[at].line),
    }
}

/// `ctrl_code = lambda m: bytes([int(m.group(1)[, 16])])` and the `re.sub(PATTERN,
/// ctrl_code, ...)` after it. `Ok(None)`: the checkout has no such rule; `Err(line)`: it
/// has one this reader does not understand.
fn control_codes(lines: &[LogicalLine]) -> Result<Option<ControlCodes>, usize> {
    let Some(at) = lines.iter().position(|l| {
        matches!(toks(l).as_slice(), [v, eq, lambda, ..]
            if matches!(v, Tok::Name(_)) && op(eq, "=") && name(lambda, "lambda"))
            && l.text.contains("int(")
    }) else {
        return Ok(None);
    };
    let def = &lines[at];
    let Some(Tok::Name(var)) = def.toks.first().map(|(t, _)| t) else {
        return Err(def.line);
    };
    let t = toks(def);
    let int_at = t.iter().position(|t| name(t, "int")).ok_or(def.line)?;
    // int( m . group ( 1 ) ) or int( m . group ( 1 ) , 16 )
    let radix = match t.get(int_at + 8..int_at + 11) {
        Some([close, ..]) if op(close, ")") => 10,
        Some([comma, Tok::Int(r), close]) if op(comma, ",") && op(close, ")") => {
            u32::try_from(*r).map_err(|_| def.line)?
        }
        _ => return Err(def.line),
    };
    if !(2..=36).contains(&radix) {
        return Err(def.line);
    }
    let sub = lines[at + 1..]
        .iter()
        .take(3)
        .find(|l| l.text.contains("re.sub(") && l.toks.iter().any(|(t, _)| name(t, var)))
        .ok_or(def.line)?;
    let pattern = sub
        .toks
        .iter()
        .find_map(|(t, _)| match t {
            Tok::Str(s) => Some(s.clone()),
            _ => None,
        })
        .ok_or(sub.line)?;
    let pattern = Regex::new(&py_regex(&pattern)).map_err(|_| sub.line)?;
    Ok(Some(ControlCodes { pattern, radix }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V128: &str = r##########"
def convert_regex_escapes(line):
    cs = []
    escape = False
    for c in str(line, "utf8"):
        if escape:
            escape = False
            cs.append(c)
        elif c == "\\":
            escape = True
        elif c in ("(", ")", "[", "]", "{", "}", ".", "*", "+", "^", "$"):
            cs.append("\\" + c)
        else:
            cs.append(c)
    # accept carriage-return(s) before final newline
    if cs[-1] == "\n":
        cs[-1] = "\r*\n"
    return bytes("".join(cs), "utf8")


def run_micropython(pyb, args, test_file, test_file_abspath, is_special=False):
    if True:
        def send_get(what):
            ctrl_code = lambda m: bytes([int(m.group(1))])
            what = re.sub(rb"{\\x(\d\d)}", ctrl_code, what)
    if is_special or test_file_abspath in tests_with_regex_output:
        with open(test_file + ".exp", "rb") as f:
            lines_exp = []
            for line in f.readlines():
                if line == b"########\n":
                    line = (line,)
                else:
                    line = (line, re.compile(convert_regex_escapes(line)))
"##########;

    fn v129() -> String {
        V128.replace("int(m.group(1))", "int(m.group(1), 16)").replace(
            "with open(test_file + \".exp\", \"rb\") as f:",
            "exp_file = test_file + \".\" + args.emit + \".exp\"\n        \
             if not os.path.isfile(exp_file):\n            exp_file = test_file + \".exp\"\n        \
             with open(exp_file, \"rb\") as f:",
        )
    }

    #[test]
    fn the_sigint_rule_is_read_where_there_is_one() {
        assert_eq!(read(V128).sigint, None);
        let src = "def f():\n    for line in f:\n        if line.startswith(b\"# cmdline:\"):\n            pass\n        elif line.startswith(b\"# sigint:\"):\n            send_sigint = True\n    for line in f:\n        if b\"{\\\\x03}\" in line:\n            pass\n";
        let s = read(src).sigint.expect("read");
        assert_eq!(s.header, b"# sigint:");
        assert_eq!(s.key, b"{\\x03}");
        assert!(s.wanted(b"# sigint: yes\nimport time\n"));
        assert!(s.wanted(b"# cmdline: -i\n# sigint: yes\nx\n"));
        assert!(!s.wanted(b"import time\n# sigint: late\n"));
        // The header without the key: a notice.
        let r = read(&src.replace("in line", "in lines"));
        assert!(r.sigint.is_none());
        assert!(
            r.notices.iter().any(|n| n.contains("sigint")),
            "{:?}",
            r.notices
        );
    }

    fn read(src: &str) -> ExpRule {
        ExpRule::read(Path::new("run-tests.py"), src)
    }

    #[test]
    fn the_rule_is_read_from_the_source() {
        let r = read(V128);
        assert!(r.notices.is_empty(), "{:?}", r.notices);
        assert_eq!(r.literal.iter().collect::<String>(), "()[]{}.*+^$");
        assert_eq!(r.line_end, Some(("\n".into(), "\r*\n".into())));
        assert_eq!(r.wildcard, b"########\n");
        assert!(!r.emit_first);
        assert_eq!(r.control.as_ref().map(|c| c.radix), Some(10));
        let r = read(&v129());
        assert!(r.notices.is_empty(), "{:?}", r.notices);
        assert!(r.emit_first);
        assert_eq!(r.control.as_ref().map(|c| c.radix), Some(16));
    }

    #[test]
    fn a_source_without_the_rule_says_so_and_assumes_the_documented_one() {
        let r = read("def main():\n    pass\n");
        assert_eq!(r.notices.len(), 4, "{:?}", r.notices);
        assert_eq!(r.literal.iter().collect::<String>(), ASSUMED_LITERAL);
        // No `{\xNN}` rule at all (v1.24) is not a notice: the keys go as written.
        assert!(r.control.is_none());
    }

    #[test]
    fn control_codes_follow_the_radix_read() {
        let dec = read(V128).control.unwrap();
        assert_eq!(dec.apply(b"a{\\x04}b{\\x1}\n"), b"a\x04b{\\x1}\n");
        let hex = read(&v129()).control.unwrap();
        assert_eq!(hex.apply(b"x{\\x20}y{\\x09}\n"), b"x y\t\n");
    }

    #[test]
    fn a_dollar_escape_ends_the_line_as_in_python() {
        let r = read(V128);
        // `\$` protects trailing spaces: v1.29's repl_*.py.exp.
        let re = r.line_regex(b">>> x  \\$\n").unwrap();
        assert!(re.is_match(b">>> x  \n"));
        assert!(!re.is_match(b">>> x   \n"));
        assert!(!re.is_match(b">>> x\n"));
        // An unescaped `$` is literal.
        let lit = r.line_regex(b"cost $5\n").unwrap();
        assert!(lit.is_match(b"cost $5\n"));
    }

    #[test]
    fn escapes_and_counts() {
        let r = read(V128);
        assert_eq!(r.convert(b"a.b \\\\d\\+ (x)\n"), "a\\.b \\d+ \\(x\\)\r*\n");
        let re = r.line_regex(b"id=0x\\[0-9a-f\\]\\{4\\}\n").unwrap();
        assert!(re.is_match(b"id=0x12ab\n"));
        assert!(!re.is_match(b"id=0x12a\n"));
    }
}
