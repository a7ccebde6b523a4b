//! Python `re` patterns given their Python meaning in Rust's regex: the regex `.exp`
//! files and a checkout's control-code rule are Python patterns (a `\$` in a v1.29
//! `.exp` is Python's `$`, which matches before a line's final newline; Rust's plain `$`
//! never does).

/// A Python `re` pattern in Rust regex syntax, for the parts whose meaning differs:
/// `$` matches at the end or before the final newline (the subjects here are single
/// lines, so multi-line `$` is the same), `\Z` is `\z`, a `{` that does not start a count
/// is literal, `{,n}` is `{0,n}`, and `[`, `&`, `~` inside a class are literal.
pub(crate) fn py_regex(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                match chars[i + 1] {
                    'Z' => out.push_str("\\z"),
                    c => {
                        out.push('\\');
                        out.push(c);
                    }
                }
                i += 2;
            }
            '[' => i = class(&chars, i, &mut out),
            '$' => {
                out.push_str("(?m:$)");
                i += 1;
            }
            '{' => match count(&chars[i..]) {
                Some((text, len)) => {
                    out.push_str(&text);
                    i += len;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str("\\}");
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Copies the class opened at `i` (a `]` first, or after `^`, is literal in Python);
/// returns the index after it. An unclosed class is copied as is (and fails to compile,
/// as it does in Python).
fn class(chars: &[char], mut i: usize, out: &mut String) -> usize {
    out.push('[');
    i += 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        out.push_str("\\]");
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push('\\');
                out.push(chars[i + 1]);
                i += 2;
            }
            ']' => {
                out.push(']');
                return i + 1;
            }
            c @ ('[' | '&' | '~') => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    i
}

/// `{m}`, `{m,}`, `{m,n}`, `{,n}` (and a lazy `?` is the next character's business):
/// the count in Rust's syntax and its length.
fn count(chars: &[char]) -> Option<(String, usize)> {
    let end = chars.iter().position(|&c| c == '}')?;
    let inner: String = chars[1..end].iter().collect();
    let (lo, hi) = match inner.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (inner.as_str(), None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(lo) || !hi.is_none_or(digits) || (lo.is_empty() && hi.is_none_or(str::is_empty)) {
        return None;
    }
    let lo = if lo.is_empty() { "0" } else { lo };
    let text = match hi {
        None => format!("{{{lo}}}"),
        Some(hi) => format!("{{{lo},{hi}}}"),
    };
    Some((text, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_classes_and_anchors_as_python_means_them() {
        assert_eq!(py_regex(r"{\\x(\d\d)}"), r"\{\\x(\d\d)\}");
        assert_eq!(py_regex("a{,3}[]&]x\\Z$"), "a{0,3}[\\]\\&]x\\z(?m:$)");
    }
}
