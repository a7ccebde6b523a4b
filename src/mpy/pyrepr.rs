//! CPython's and MicroPython's `repr` of constants, and parsing of the stored number texts.

/// Whether `text` is decimal integer text as the saver writes it: `-?[0-9]+`.
pub(crate) fn is_int_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Parses float text the way Python's `float()` does for the forms MicroPython writes.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.contains('_') {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Parses complex text like Python's `complex()`: `2j`, `-1.5j`, `(1+2j)`, `3`, `j`.
pub(crate) fn parse_complex(text: &str) -> Option<(f64, f64)> {
    let mut s = text.trim();
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        s = inner.trim();
    }
    let Some(body) = s.strip_suffix(['j', 'J']) else {
        return Some((parse_float(s)?, 0.0));
    };
    let bytes = body.as_bytes();
    // The real/imaginary split is the last sign that is not an exponent sign.
    let split = (1..bytes.len())
        .rev()
        .find(|&i| matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
    let (real, imag) = match split {
        Some(i) => (parse_float(&body[..i])?, &body[i..]),
        None => (0.0, body),
    };
    let imag = match imag {
        "" | "+" => 1.0,
        "-" => -1.0,
        other => parse_float(other)?,
    };
    Some((real, imag))
}

/// Python's `repr(int(text))`: sign kept, leading zeros dropped.
pub(crate) fn py_int(text: &str) -> String {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let digits = digits.trim_start_matches('0');
    match (neg, digits.is_empty()) {
        (_, true) => "0".to_string(),
        (true, false) => format!("-{digits}"),
        (false, false) => digits.to_string(),
    }
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral values,
/// exponent form when the decimal point is before -4 or after 16 digits.
pub(crate) fn py_float(x: f64) -> String {
    short_float(x, true)
}

/// Python's `repr(complex(re, im))`.
pub(crate) fn py_complex(re: f64, im: f64) -> String {
    if re == 0.0 && re.is_sign_positive() {
        return format!("{}j", short_float(im, false));
    }
    let im_text = short_float(im, false);
    let sign = if im_text.starts_with('-') { "" } else { "+" };
    format!("({}{sign}{im_text}j)", short_float(re, false))
}

fn short_float(x: f64, add_dot_zero: bool) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exp.parse::<i32>().unwrap_or(0) + 1;
    let n = digits.len() as i32;
    let sign = if x.is_sign_negative() { "-" } else { "" };
    // CPython's float_repr_style 'short' switches to exponent form outside -4 < decpt <= 16.
    let body = if decpt <= -4 || decpt > 16 {
        let rest = if n > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let e = decpt - 1;
        format!(
            "{}{rest}e{}{:02}",
            &digits[..1],
            if e < 0 { '-' } else { '+' },
            e.abs()
        )
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        let zeros = "0".repeat((decpt - n) as usize);
        format!("{digits}{zeros}{}", if add_dot_zero { ".0" } else { "" })
    } else {
        format!(
            "{}.{}",
            &digits[..decpt as usize],
            &digits[decpt as usize..]
        )
    };
    format!("{sign}{body}")
}

/// The quote character both Pythons choose: `'` unless the text has `'` and no `"`.
fn quote_for(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double { '"' } else { '\'' }
}

/// Whose `repr` a constant is printed with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// MicroPython's: numbers as stored in the .mpy, non-ASCII escaped (the disassembly).
    MicroPython,
    /// CPython's, of the object mpy-tool builds (its `-d` output).
    CPython,
}

/// The `repr` of a constant-table entry.
pub(crate) fn constant(c: &super::model::Constant, flavour: Flavour) -> String {
    use super::model::Constant;
    let cpython = flavour == Flavour::CPython;
    match c {
        Constant::FunTable => "mp_fun_table".to_string(),
        Constant::None => "None".to_string(),
        Constant::False => "False".to_string(),
        Constant::True => "True".to_string(),
        Constant::Ellipsis => "Ellipsis".to_string(),
        Constant::Str(s) if cpython => py_str(s),
        Constant::Str(s) => mp_str(s),
        Constant::Bytes(b) => py_bytes(b),
        Constant::Int(t) if cpython => py_int(t),
        // The reader accepted only texts that parse, so the fallbacks are never used.
        Constant::Float(t) if cpython => parse_float(t).map(py_float).unwrap_or_else(|| t.clone()),
        Constant::Complex(t) if cpython => match parse_complex(t) {
            Some((re, im)) => py_complex(re, im),
            None => t.clone(),
        },
        Constant::Int(t) | Constant::Float(t) | Constant::Complex(t) => t.clone(),
        Constant::Tuple(items) => match items.as_slice() {
            [one] => format!("({},)", constant(one, flavour)),
            _ => format!(
                "({})",
                items
                    .iter()
                    .map(|i| constant(i, flavour))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// CPython's `repr(str)`. Non-ASCII characters print as themselves when CPython deems
/// them printable; that test is approximated (see `is_printable`).
pub(crate) fn py_str(s: &str) -> String {
    repr_str(s, is_printable)
}

/// MicroPython's `repr(str)` (objstrunicode.c): every non-ASCII character is escaped.
pub(crate) fn mp_str(s: &str) -> String {
    repr_str(s, |_| false)
}

/// `repr(str)` with printable ASCII as itself, the usual escapes, and a non-ASCII
/// character as itself when `keep_non_ascii` says so.
fn repr_str(s: &str, keep_non_ascii: impl Fn(char) -> bool) -> String {
    let q = quote_for(s.contains('\''), s.contains('"'));
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (' '..='~').contains(&c) => out.push(c),
            c if (c as u32) >= 0x80 && keep_non_ascii(c) => out.push(c),
            c => push_escape(&mut out, c as u32),
        }
    }
    out.push(q);
    out
}

/// `repr(bytes)`, identical in CPython and MicroPython.
pub(crate) fn py_bytes(b: &[u8]) -> String {
    let q = quote_for(b.contains(&b'\''), b.contains(&b'"'));
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(q);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if char::from(c) == q => {
                out.push('\\');
                out.push(q);
            }
            0x20..=0x7e => out.push(char::from(c)),
            c => push_escape(&mut out, u32::from(c)),
        }
    }
    out.push(q);
    out
}

fn push_escape(out: &mut String, cp: u32) {
    let text = match cp {
        0..=0xff => format!("\\x{cp:02x}"),
        0x100..=0xffff => format!("\\u{cp:04x}"),
        _ => format!("\\U{cp:08x}"),
    };
    out.push_str(&text);
}

/// An approximation of CPython's `str.isprintable` for non-ASCII characters: false for
/// the control, format, separator, private-use and noncharacter code points listed
/// here. Unassigned code points (category Cn) are not known without the Unicode
/// database and count as printable.
fn is_printable(c: char) -> bool {
    let cp = c as u32;
    let not_printable = matches!(cp,
        0x80..=0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2
        | 0x1680 | 0x180e | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x2066..=0x206f | 0x3000 | 0xe000..=0xf8ff | 0xfdd0..=0xfdef | 0xfeff
        | 0xfff9..=0xfffb | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..
    );
    !not_printable && cp & 0xfffe != 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_cpython() {
        let cases = [
            (1.5, "1.5"),
            (100.0, "100.0"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (0.1, "0.1"),
            (123.456, "123.456"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float(x), want, "{x:?}");
        }
    }

    #[test]
    fn micropython_float_text_is_re_rendered_like_cpython() {
        // MicroPython's repr is not always the shortest round trip (mpy-format.md §3.4).
        for (text, want) in [
            ("99.90000000000001", "99.9"),
            ("8.888000000000001e+32", "8.888e+32"),
        ] {
            assert_eq!(parse_float(text).map(py_float).as_deref(), Some(want));
        }
    }

    #[test]
    fn complex_repr_matches_cpython() {
        assert_eq!(py_complex(0.0, 2.0), "2j");
        assert_eq!(py_complex(0.0, 2.5), "2.5j");
        assert_eq!(py_complex(0.0, -0.0), "-0j");
        assert_eq!(py_complex(1.0, 2.0), "(1+2j)");
        assert_eq!(py_complex(-0.0, -1.0), "(-0-1j)");
        assert_eq!(py_complex(0.0, 1e16), "1e+16j");
        assert_eq!(parse_complex("2j"), Some((0.0, 2.0)));
        assert_eq!(parse_complex("(1-2.5e+3j)"), Some((1.0, -2500.0)));
        assert_eq!(parse_complex("infj"), Some((0.0, f64::INFINITY)));
        assert_eq!(parse_complex("x"), None);
    }

    #[test]
    fn str_and_bytes_repr() {
        assert_eq!(py_str("it's"), "\"it's\"");
        assert_eq!(py_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_str("tab\t\u{1}é\u{a0}"), "'tab\\t\\x01é\\xa0'");
        assert_eq!(mp_str("é\u{1F600}"), "'\\xe9\\U0001f600'");
        assert_eq!(py_bytes(b"by\xff'"), "b\"by\\xff'\"");
        assert_eq!(py_bytes(b""), "b''");
    }

    #[test]
    fn int_text() {
        assert!(is_int_text("-123"));
        assert!(!is_int_text("-"));
        assert!(!is_int_text("1.0"));
        assert_eq!(py_int("-007"), "-7");
        assert_eq!(py_int("-0"), "0");
    }
}
