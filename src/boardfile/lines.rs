//! Where a key is in a board file's text, for errors that name the line: serde_yaml's
//! own errors carry one, but a value checked after parsing does not.

/// The line of the top-level `key:` (1 when it is not there: the file's start).
pub(crate) fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(&format!("{key}:")))
        .map_or(1, |i| i + 1)
}

/// The line of `key:` inside the top-level section `parent` of a board file (block or
/// flow style), if it is there.
pub(crate) fn nested_line(text: &str, parent: &str, key: &str) -> Option<usize> {
    let start = text
        .lines()
        .position(|l| l.starts_with(&format!("{parent}:")))?;
    text.lines()
        .enumerate()
        .skip(start)
        .take_while(|(i, l)| *i == start || !l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .find(|(_, l)| {
            l.trim_start().starts_with(&format!("{key}:"))
                || l.contains(&format!("{{{key}:"))
                || l.contains(&format!(" {key}:"))
        })
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_key_is_found_in_its_section_only() {
        let text = "kind: qemu\nqemu:\n  machine: m\n  icount: {shift: 0}\npacing: {icount: 1}\n";
        assert_eq!(nested_line(text, "qemu", "icount"), Some(4));
        assert_eq!(
            nested_line("qemu: {machine: m, icount: {shift: 0}}\n", "qemu", "icount"),
            Some(1)
        );
        assert_eq!(
            nested_line("qemu:\n  machine: m\nicount: 1\n", "qemu", "icount"),
            None
        );
        assert_eq!(nested_line("serial: {}\n", "qemu", "icount"), None);
    }
}
