//! A case's bytes as the Python text the driver script embeds: str and bytes
//! literals, base64, and source with its full-line comments emptied (every byte
//! crosses the link); whether a module name is a Python identifier.

use std::fmt::Write;

/// A Python str literal for UTF-8 text (other bytes are replaced): quotes, backslashes
/// and control characters escaped, everything else as is.
pub(crate) fn str_literal(text: &[u8]) -> String {
    format!("'{}'", escaped(&String::from_utf8_lossy(text), false))
}

/// A str literal for source text, as short as it can be: triple-quoted with real
/// newlines where the text allows (no triple quote in it, no trailing quote), else
/// [`str_literal`].
pub(crate) fn long_literal(text: &[u8]) -> String {
    let t = String::from_utf8_lossy(text);
    if t.contains("'''") || t.ends_with('\'') {
        return str_literal(text);
    }
    format!("'''{}'''", escaped(&t, true))
}

/// The body of a single-quoted str literal (`triple`: inside `'''`, where newlines,
/// tabs and lone quotes stand as they are).
fn escaped(text: &str, triple: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' if !triple => out.push_str("\\'"),
            '\n' if !triple => out.push_str("\\n"),
            '\t' if !triple => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 && !(triple && matches!(c, '\n' | '\t')) || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Full-line comments emptied (the line itself kept, so line numbers stay): they are
/// most of a case header, and every byte costs link time. Only where no multi-line
/// string could hold such a line; otherwise the text is returned as it is.
pub(crate) fn blank_comments(source: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(source);
    if text.contains("'''") || text.contains("\"\"\"") || text.lines().any(|l| l.ends_with('\\')) {
        return source.to_vec();
    }
    let mut out = String::with_capacity(text.len());
    for l in text.split_inclusive('\n') {
        if l.trim_start().starts_with('#') {
            if l.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(l);
        }
    }
    out.into_bytes()
}

/// Standard base64 with padding (what `binascii.a2b_base64` reads).
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A Python bytes literal: printable ASCII as is, everything else `\xNN`.
pub(crate) fn bytes_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 3);
    out.push_str("b'");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

/// Whether `name` can stand in Python source as a name (a module imported by it).
pub(crate) fn is_identifier(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}
