//! Unified diffs of expected vs actual output (rendering only; comparison is elsewhere).

use similar::TextDiff;

pub fn unified(expected: &str, actual: &str, expected_name: &str, actual_name: &str) -> String {
    let diff = TextDiff::from_lines(expected, actual);
    let mut text = diff
        .unified_diff()
        .context_radius(3)
        .header(expected_name, actual_name)
        .to_string();
    if !expected.ends_with('\n') || !actual.ends_with('\n') {
        text.push_str("\\ (a side has no final newline)\n");
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn diff_names_both_sides() {
        let d = super::unified("a\nb\n", "a\nc\n", "golden/g/x.out", "actual (unix::g/x)");
        assert!(
            d.contains("--- golden/g/x.out") && d.contains("+++ actual (unix::g/x)"),
            "{d}"
        );
        assert!(d.contains("-b\n+c\n"), "{d}");
    }
}
