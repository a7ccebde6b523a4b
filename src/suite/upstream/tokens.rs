//! Token helpers for reading run-tests.py's expressions: brackets, top-level splits, and
//! an expression written back as text.

use super::pylex::Tok;

/// A key expression as written back (`args.error_reporting`), for reasons and notices.
pub(crate) fn tokens_text(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Name(n) | Tok::Op(n) => n.clone(),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Int(n) => n.to_string(),
        })
        .collect()
}

pub(crate) fn is_op(t: &Tok, o: &str) -> bool {
    matches!(t, Tok::Op(x) if x == o)
}

pub(crate) fn is_name(t: &Tok, n: &str) -> bool {
    matches!(t, Tok::Name(x) if x == n)
}

/// `toks` without brackets that enclose all of it.
pub(crate) fn strip_parens(mut toks: &[Tok]) -> &[Tok] {
    while toks.len() >= 2 && is_op(&toks[0], "(") && is_op(&toks[toks.len() - 1], ")") {
        let mut depth = 0i32;
        let encloses = toks.iter().enumerate().all(|(k, t)| {
            match t {
                Tok::Op(o) if ["(", "[", "{"].contains(&o.as_str()) => depth += 1,
                Tok::Op(o) if [")", "]", "}"].contains(&o.as_str()) => depth -= 1,
                _ => {}
            }
            depth > 0 || k == toks.len() - 1
        });
        if !encloses {
            break;
        }
        toks = &toks[1..toks.len() - 1];
    }
    toks
}

/// Splits at top-level tokens for which `at` holds.
pub(crate) fn split_top<'t>(toks: &'t [Tok], at: &dyn Fn(&Tok) -> bool) -> Vec<&'t [Tok]> {
    let (mut depth, mut from, mut out) = (0i32, 0usize, Vec::new());
    for (k, t) in toks.iter().enumerate() {
        match t {
            Tok::Op(o) if ["(", "[", "{"].contains(&o.as_str()) => depth += 1,
            Tok::Op(o) if [")", "]", "}"].contains(&o.as_str()) => depth -= 1,
            t if depth == 0 && at(t) => {
                out.push(&toks[from..k]);
                from = k + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[from..]);
    out
}
