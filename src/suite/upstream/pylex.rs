//! Python source tokenised far enough to read literals and statements (for `pyread`):
//! a whole file is split into logical lines the way Python's own tokenizer does (a
//! statement continues inside brackets, after a `\` at the end of a line, and inside a
//! triple-quoted string), so a reader never sees half a statement.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Name(String),
    Str(String),
    Int(i64),
    Op(String),
}

/// Why the source could not be read: the file and line, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ReadError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// A token and the (1-based) line it starts on.
pub(crate) type Spanned = (Tok, usize);

/// One logical line (a statement, or the header of a compound statement).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogicalLine {
    /// The physical line it starts on (1-based).
    pub line: usize,
    /// Columns of whitespace before its first token.
    pub indent: usize,
    /// Its source text from the first token on, comments removed (strings verbatim).
    pub text: String,
    pub toks: Vec<Spanned>,
}

/// Operators of three and two characters, longest first (Python's grammar).
const LONG_OPS: [&str; 24] = [
    "**=", "//=", ">>=", "<<=", "...", "==", "!=", "<=", ">=", "**", "//", "<<", ">>", "->", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", ":=",
];

/// Tokenises Python source far enough for literals: names, strings, integers, brackets
/// and operators; comments and line structure are dropped.
pub(crate) fn tokenize(file: &Path, src: &str) -> Result<Vec<Spanned>, ReadError> {
    Ok(logical_lines(file, src)?
        .into_iter()
        .flat_map(|l| l.toks)
        .collect())
}

/// Splits a file into logical lines.
pub(crate) fn logical_lines(file: &Path, src: &str) -> Result<Vec<LogicalLine>, ReadError> {
    let b = src.as_bytes();
    let (mut i, mut line) = (0usize, 1usize);
    let mut out = Vec::new();
    // The logical line being read: its tokens, text, bracket depth.
    let mut cur: Option<LogicalLine> = None;
    let mut depth = 0usize;
    // Where the current stretch of text (since the last comment) began.
    let mut text_from = 0usize;
    let mut line_start = 0usize;
    let err = |line, message: &str| ReadError {
        file: file.to_path_buf(),
        line,
        message: message.to_string(),
    };
    let finish = |cur: &mut Option<LogicalLine>, out: &mut Vec<LogicalLine>, upto: &str| {
        if let Some(mut l) = cur.take() {
            l.text.push_str(upto);
            l.text.truncate(l.text.trim_end().len());
            out.push(l);
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
                if depth == 0 {
                    finish(&mut cur, &mut out, &src[text_from..i - 1]);
                }
                line_start = i;
                if cur.is_none() {
                    text_from = i;
                }
            }
            b'\\' if b.get(i + 1) == Some(&b'\n') || b.get(i + 1..i + 3) == Some(b"\r\n") => {
                // An explicit continuation: the statement goes on.
                i += if b[i + 1] == b'\r' { 3 } else { 2 };
                line += 1;
                line_start = i;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' | b'\\' => i += 1,
            b'#' => {
                if let Some(l) = cur.as_mut() {
                    l.text.push_str(&src[text_from..i]);
                }
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                text_from = i;
            }
            _ => {
                let start = i;
                let start_line = line;
                let tok = match c {
                    b'"' | b'\'' => {
                        let (s, ni, nl) = read_string(b, i, line, false, false)
                            .ok_or_else(|| err(line, "unterminated string literal"))?;
                        (i, line) = (ni, nl);
                        Tok::Str(s)
                    }
                    c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                        while i < b.len()
                            && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                        {
                            i += 1;
                        }
                        let word = &src[start..i];
                        if i < b.len() && (b[i] == b'"' || b[i] == b'\'') && is_prefix(word) {
                            let raw = word.contains(['r', 'R']);
                            let fmt = word.contains(['f', 'F', 't', 'T']);
                            let (s, ni, nl) = read_string(b, i, line, raw, fmt)
                                .ok_or_else(|| err(line, "unterminated string literal"))?;
                            (i, line) = (ni, nl);
                            Tok::Str(s)
                        } else {
                            Tok::Name(word.to_string())
                        }
                    }
                    c if c.is_ascii_digit()
                        || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
                    {
                        i = number_end(b, i);
                        let text = src[start..i].replace('_', "");
                        let n = if let Some(hex) = text.strip_prefix("0x") {
                            i64::from_str_radix(hex, 16).ok()
                        } else {
                            text.parse().ok()
                        };
                        // Floats and other numbers are not needed: kept as names.
                        n.map_or(Tok::Name(text), Tok::Int)
                    }
                    _ => {
                        let op = LONG_OPS
                            .into_iter()
                            .find(|o| src[i..].starts_with(o))
                            .map(str::to_string)
                            .unwrap_or_else(|| src[i..].chars().next().unwrap().to_string());
                        i += op.len();
                        match op.as_str() {
                            "(" | "[" | "{" => depth += 1,
                            ")" | "]" | "}" => depth = depth.saturating_sub(1),
                            _ => {}
                        }
                        // The literal reader recurses per bracket: bound it (Python's
                        // own parser stops at 200 levels).
                        if depth > crate::util::input::MAX_DEPTH {
                            return Err(err(
                                line,
                                &format!(
                                    "brackets nested more than {} levels deep: not a run-tests.py mpcheck reads",
                                    crate::util::input::MAX_DEPTH
                                ),
                            ));
                        }
                        Tok::Op(op)
                    }
                };
                let l = cur.get_or_insert_with(|| {
                    text_from = start;
                    LogicalLine {
                        line: start_line,
                        indent: start - line_start,
                        text: String::new(),
                        toks: Vec::new(),
                    }
                });
                l.toks.push((tok, start_line));
            }
        }
    }
    finish(&mut cur, &mut out, &src[text_from.min(src.len())..]);
    Ok(out)
}

/// A string prefix: `b`, `r`, `u`, `f`, `t` and their two-letter combinations.
fn is_prefix(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    ["b", "r", "u", "f", "t", "br", "rb", "fr", "rf", "tr", "rt"].contains(&w.as_str())
}

/// The end of a number literal at `i` (digits, `_`, a fraction, an exponent, `j`).
fn number_end(b: &[u8], start: usize) -> usize {
    // `0x1e+5` is a sum: only a decimal number has an exponent sign.
    let hex = b
        .get(start..start + 2)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"0x"));
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        let exp_sign =
            !hex && (c == b'+' || c == b'-') && i > start && matches!(b[i - 1], b'e' | b'E');
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exp_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Reads a string literal starting at the quote at `i`: (text, next index, line after).
/// An f-string's (or t-string's) replacement fields are skipped as expressions, so a
/// quote inside one (`f"{d["k"]}"`, Python 3.12) does not end the string; the text keeps
/// them verbatim.
fn read_string(
    b: &[u8],
    i: usize,
    mut line: usize,
    raw: bool,
    fmt: bool,
) -> Option<(String, usize, usize)> {
    let q = b[i];
    let triple = b.get(i..i + 3) == Some(&[q, q, q][..]);
    let mut j = i + if triple { 3 } else { 1 };
    let mut out = Vec::new();
    loop {
        let c = *b.get(j)?;
        if c == b'\n' {
            if !triple {
                return None;
            }
            line += 1;
        }
        if c == q && (!triple || b.get(j..j + 3) == Some(&[q, q, q][..])) {
            j += if triple { 3 } else { 1 };
            break;
        }
        if fmt && c == b'{' {
            if b.get(j + 1) == Some(&b'{') {
                out.extend_from_slice(b"{{");
                j += 2;
                continue;
            }
            let (end, nl) = replacement_field_end(b, j, line)?;
            out.extend_from_slice(&b[j..end]);
            (j, line) = (end, nl);
            continue;
        }
        if c == b'\\' && !raw {
            let e = *b.get(j + 1)?;
            j += 2;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'\\' => out.push(b'\\'),
                b'\'' => out.push(b'\''),
                b'"' => out.push(b'"'),
                b'\n' => line += 1,
                b'x' => {
                    let h = std::str::from_utf8(b.get(j..j + 2)?).ok()?;
                    out.push(u8::from_str_radix(h, 16).ok()?);
                    j += 2;
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
            continue;
        }
        if c == b'\\' && raw {
            out.push(c);
            if let Some(&n) = b.get(j + 1) {
                if n == b'\n' {
                    line += 1;
                }
                out.push(n);
                j += 2;
                continue;
            }
        }
        out.push(c);
        j += 1;
    }
    Some((String::from_utf8_lossy(&out).into_owned(), j, line))
}

/// The end (after its `}`) of an f-string replacement field opened at `j`, stepping over
/// nested brackets and whole string literals inside it.
fn replacement_field_end(b: &[u8], mut j: usize, mut line: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    loop {
        let c = *b.get(j)?;
        match c {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 && c == b'}' {
                    return Some((j + 1, line));
                }
            }
            b'\n' => line += 1,
            b'"' | b'\'' => {
                let (_, nj, nl) = read_string(b, j, line, false, false)?;
                (j, line) = (nj, nl);
                continue;
            }
            _ => {}
        }
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &str) -> Vec<LogicalLine> {
        logical_lines(Path::new("t.py"), src).unwrap()
    }

    #[test]
    fn a_triple_quoted_string_is_one_statement() {
        // v1.24.0's run-tests.py: `injected_import_hook_code = """\` ... `"""`.
        let l = lines("a = 1\ncode = \"\"\"\\\nimport sys\nx = 'it''s'\n\"\"\"\nb = 2\n");
        assert_eq!(l.len(), 3, "{l:?}");
        assert_eq!(l[1].line, 2);
        assert_eq!(l[1].toks[2].0, Tok::Str("import sys\nx = 'it''s'\n".into()));
        assert_eq!((l[2].line, l[2].text.as_str()), (6, "b = 2"));
    }

    #[test]
    fn brackets_and_backslashes_continue_comments_do_not() {
        let l = lines("if (a and  # why\n        b):\n    x = 1 + \\\n        2  # c\n");
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(l[0].text, "if (a and  \n        b):");
        assert_eq!((l[1].line, l[1].indent), (3, 4));
        assert_eq!(l[1].toks.len(), 5);
    }

    #[test]
    fn fstrings_with_nested_quotes_and_prefixes() {
        let l = lines("s = f\"{d[\"k\"]:>{w}} {{x}}\"\nt = Rb'\\d' + rf\"{a}\"\nn = 1.5e-3\n");
        assert_eq!(l.len(), 3, "{l:?}");
        assert_eq!(l[0].toks[2].0, Tok::Str("{d[\"k\"]:>{w}} {{x}}".into()));
        assert_eq!(l[1].toks[2].0, Tok::Str("\\d".into()));
        assert_eq!(l[2].toks.len(), 3, "{:?}", l[2].toks);
    }

    #[test]
    fn an_unterminated_string_names_its_line() {
        let e = logical_lines(Path::new("rt.py"), "a = 1\nb = \"\"\"x\n\ny\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
