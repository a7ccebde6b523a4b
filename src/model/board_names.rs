//! The boards a case's header names (`boards:`, `exclude:`, `partners:`): each must be a board file of
//! the project, a board's family, or a board kind, else the header is wrong (a typo, a
//! renamed board) and the case is an `error` naming the file and line, rather than a
//! condition that silently never matches.

use std::path::Path;

use super::case::CaseSettings;

/// Board kinds a header may name (a board file's `kind:`).
pub const KINDS: &[&str] = &[
    "unix",
    "webassembly",
    "cpython",
    "qemu",
    "serial",
    "bytecode",
];

/// The first name of `settings` that `known` does not know (nor is a kind), as the
/// error of the header line it is on; `known_list` is shown in the message.
pub fn unknown(
    path: &Path,
    source: &[u8],
    settings: &CaseSettings,
    known: &dyn Fn(&str) -> bool,
    known_list: &str,
) -> Option<String> {
    let named = settings
        .boards
        .iter()
        .flatten()
        .map(String::as_str)
        .chain(settings.exclude.keys().map(String::as_str))
        .chain(settings.partners.iter().flatten().map(String::as_str));
    let name = named
        .into_iter()
        .find(|n| !known(n) && !KINDS.contains(n))?;
    Some(
        crate::util::error::Error::config(
            path,
            header_line_of(source, name),
            format!(
                "`{name}` names no board file or family of this project, nor a board kind (boards and families: {known_list}; kinds: {})",
                KINDS.join(", ")
            ),
        )
        .to_string(),
    )
}

/// The header line (1-based) where `name` first appears as a whole word; the fence's
/// next line when it cannot be found.
fn header_line_of(source: &[u8], name: &str) -> usize {
    let text = String::from_utf8_lossy(source);
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    for (i, line) in text.lines().enumerate().skip(1) {
        if !line.starts_with('#') {
            break;
        }
        let found = line.match_indices(name).any(|(at, _)| {
            let before = line[..at].chars().next_back();
            let after = line[at + name.len()..].chars().next();
            !before.is_some_and(word) && !after.is_some_and(word)
        });
        if found {
            return i + 1;
        }
    }
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_board_is_an_error_at_its_line_and_kinds_and_families_are_known() {
        let source = b"# ---\n# exclude:\n#   cpython: x\n#   microbit-qemu: no async\n#   microbit: y\n# ---\n";
        let partner = b"# ---\n# partners: [unix, unix-cpu]\n# ---\n";
        let partner_settings =
            crate::model::case::parse_header(Path::new("cases/g/p.py"), partner).unwrap();
        let settings = crate::model::case::parse_header(Path::new("cases/g/a.py"), source).unwrap();
        let known = |n: &str| ["microbit-qemu", "unix"].contains(&n);
        let err = unknown(Path::new("cases/g/a.py"), source, &settings, &known, "unix").unwrap();
        assert!(
            err.starts_with("cases/g/a.py:5: `microbit` names no board file or family"),
            "{err}"
        );
        let family = |n: &str| ["microbit-qemu", "microbit"].contains(&n);
        assert_eq!(
            unknown(Path::new("a"), source, &settings, &family, ""),
            None
        );
        let only = b"# ---\n# boards: [qemu, pico]\n# ---\n";
        let settings = crate::model::case::parse_header(Path::new("a.py"), only).unwrap();
        let err = unknown(Path::new("a.py"), only, &settings, &known, "").unwrap();
        assert!(err.starts_with("a.py:2: `pico`"), "{err}");
        let err = unknown(Path::new("p.py"), partner, &partner_settings, &known, "").unwrap();
        assert!(err.starts_with("p.py:2: `unix-cpu`"), "{err}");
    }
}
