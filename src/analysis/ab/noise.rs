//! What in an output is not the build: the compiler's header line of a disassembly,
//! absolute paths, object addresses. Each side's output is masked before the two are
//! compared, and a field is named as ignored for a case only where its values differed
//! between the sides (so the report says what was set aside, never silently). Pure.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// A kind of text that is not the build and is set aside when outputs are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ignored {
    /// The disassembly's first line: which mpy-cross and flags made it (the bytecode
    /// below is what that compiler made; its name is not a difference of the output).
    CompilerHeader,
    /// An absolute path (a temporary directory, a checkout): where the case ran.
    Path,
    /// An object's address (`<function f at 0x7f…>`): where the heap put it.
    Address,
}

impl Ignored {
    pub const ALL: [Ignored; 3] = [Ignored::CompilerHeader, Ignored::Path, Ignored::Address];

    /// The field as the report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Ignored::CompilerHeader => "the compiler's header line (`# MicroPython …; flags: …`)",
            Ignored::Path => "absolute paths",
            Ignored::Address => "object addresses (`at 0x…`)",
        }
    }

    /// What the field is replaced by in the compared (and diffed) text.
    fn placeholder(self) -> &'static str {
        match self {
            Ignored::CompilerHeader => "# <compiler header>",
            Ignored::Path => "<path>",
            Ignored::Address => "at 0x<address>",
        }
    }
}

/// Why this pattern: an absolute path starts after a non-word character (so `10/2/5`
/// is not one) and has at least two components (so a lone `/` in an expression is not).
static PATH: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w/.])(/[\w.+@-]+(?:/[\w.+@-]*)+)").ok());

/// MicroPython's repr of an object without one of its own: `<… at 0x7f…>`.
static ADDRESS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\bat 0x[0-9a-fA-F]+\b").ok());

/// One side's output with the fields masked, and each field's original values in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Masked {
    pub text: String,
    found: Vec<(Ignored, String)>,
}

/// `output` with what is not the build replaced by placeholders. `header` is the
/// compiler header this side's disassembly starts with (none for a VM's output).
pub fn mask(output: &str, header: Option<&str>) -> Masked {
    let mut found = Vec::new();
    let mut rest = output;
    let mut text = String::with_capacity(output.len());
    if let Some(h) = header.map(|h| h.trim_end_matches('\n'))
        && let Some(after) = rest.strip_prefix(h)
    {
        found.push((Ignored::CompilerHeader, h.to_string()));
        text.push_str(Ignored::CompilerHeader.placeholder());
        rest = after;
    }
    let rest = replace(rest, &ADDRESS, Ignored::Address, &mut found, 0);
    let rest = replace(&rest, &PATH, Ignored::Path, &mut found, 1);
    text.push_str(&rest);
    Masked { text, found }
}

/// Every match of `pattern` (its capture `group`) replaced by the field's placeholder.
fn replace(
    text: &str,
    pattern: &LazyLock<Option<Regex>>,
    field: Ignored,
    found: &mut Vec<(Ignored, String)>,
    group: usize,
) -> String {
    let Some(re) = pattern.as_ref() else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let Some(m) = caps.get(group) else { continue };
        out.push_str(&text[last..m.start()]);
        out.push_str(field.placeholder());
        found.push((field, m.as_str().to_string()));
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

/// The fields whose values differ between the two sides: what masking set aside.
pub fn ignored(base: &Masked, head: &Masked) -> BTreeSet<Ignored> {
    Ignored::ALL
        .into_iter()
        .filter(|f| {
            let values = |m: &Masked| -> Vec<String> {
                m.found
                    .iter()
                    .filter(|(k, _)| k == f)
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            values(base) != values(head)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str =
        "# MicroPython v1.22.2 on 2024-02-24; mpy-cross emitting mpy v6.2; flags: none\n";
    const NEW: &str =
        "# MicroPython v1.28.0 on 2026-08-11; mpy-cross emitting mpy v6.3; flags: none\n";

    #[test]
    fn outputs_that_differ_only_in_the_compiler_header_are_the_same_and_say_so() {
        let body = "mpy version 6\n  LOAD_CONST_SMALL_INT 1\n";
        let b = mask(&format!("{OLD}{body}"), Some(OLD));
        let h = mask(&format!("{NEW}{body}"), Some(NEW));
        assert_eq!(b.text, h.text);
        assert_eq!(ignored(&b, &h), BTreeSet::from([Ignored::CompilerHeader]));
    }

    #[test]
    fn a_bytecode_change_below_the_header_is_still_a_difference() {
        let b = mask(&format!("{OLD}  UNARY_OP 1 __neg__\n"), Some(OLD));
        let h = mask(&format!("{NEW}  LOAD_CONST_OBJ -0.0\n"), Some(NEW));
        assert_ne!(b.text, h.text);
    }

    #[test]
    fn a_header_line_is_masked_only_where_the_side_has_that_header() {
        // A VM's output that happens to start with such a line is the case's output.
        let m = mask(OLD, None);
        assert_eq!(m.text, OLD);
    }

    #[test]
    fn addresses_and_paths_are_masked_and_named_only_when_they_differ() {
        let b = mask(
            "<function f at 0x7f1a2b3c>\n  File \"/tmp/a1/case.py\", line 3\n",
            None,
        );
        let h = mask(
            "<function f at 0x7f9e8d7c>\n  File \"/tmp/b2/case.py\", line 3\n",
            None,
        );
        assert_eq!(b.text, h.text, "{}", b.text);
        assert_eq!(
            ignored(&b, &h),
            BTreeSet::from([Ignored::Path, Ignored::Address])
        );
        let same = mask("<function f at 0x7f1a2b3c>\n", None);
        assert!(ignored(&same, &same).is_empty());
    }

    #[test]
    fn hex_numbers_and_divisions_are_not_noise() {
        let m = mask("0xff\n10/2/5\nx = a /b\n", None);
        assert_eq!(m.text, "0xff\n10/2/5\nx = a /b\n");
    }
}
