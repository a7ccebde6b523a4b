//! Python source tokenised far enough to read literals (for `pyread`).

use std::path::Path;

use super::pyread::ReadError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Name(String),
    Str(String),
    Int(i64),
    Op(String),
}

/// A token and the (1-based) line it starts on.
pub(crate) type Spanned = (Tok, usize);

/// Tokenises Python source far enough for literals: names, strings, integers, brackets
/// and operators; comments and line structure are dropped.
pub(crate) fn tokenize(file: &Path, src: &str) -> Result<Vec<Spanned>, ReadError> {
    let b = src.as_bytes();
    let (mut i, mut line) = (0usize, 1usize);
    let mut toks = Vec::new();
    let err = |line, message: String| ReadError {
        file: file.to_path_buf(),
        line,
        message,
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\\' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                let (s, ni, nl) = read_string(b, i, line, false)
                    .ok_or_else(|| err(line, "unterminated string literal".into()))?;
                toks.push((Tok::Str(s), line));
                (i, line) = (ni, nl);
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = &src[start..i];
                // String prefixes: b"", r"", rb"", f"" (an f-string reads as its text).
                if i < b.len()
                    && (b[i] == b'"' || b[i] == b'\'')
                    && word.len() <= 2
                    && word.chars().all(|c| "bBrRfFuU".contains(c))
                {
                    let raw = word.contains(['r', 'R']);
                    let (s, ni, nl) = read_string(b, i, line, raw)
                        .ok_or_else(|| err(line, "unterminated string literal".into()))?;
                    toks.push((Tok::Str(s), line));
                    (i, line) = (ni, nl);
                } else {
                    toks.push((Tok::Name(word.to_string()), line));
                }
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let text = src[start..i].replace('_', "");
                let n = if let Some(hex) = text.strip_prefix("0x") {
                    i64::from_str_radix(hex, 16).ok()
                } else {
                    text.parse().ok()
                };
                // Floats and other numbers are not needed: keep them as names.
                toks.push((n.map_or(Tok::Name(text), Tok::Int), line));
            }
            _ => {
                let two = src.get(i..i + 2).unwrap_or("");
                let op = if ["==", "!=", "<=", ">=", "**", "<<", ">>", "->"].contains(&two) {
                    two.to_string()
                } else {
                    (c as char).to_string()
                };
                i += op.len();
                toks.push((Tok::Op(op), line));
            }
        }
    }
    Ok(toks)
}

/// Reads a string literal starting at the quote at `i`: (text, next index, line after).
fn read_string(b: &[u8], i: usize, mut line: usize, raw: bool) -> Option<(String, usize, usize)> {
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
