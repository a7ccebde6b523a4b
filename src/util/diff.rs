//! Unified diffs of expected vs actual output (rendering only; comparison is elsewhere),
//! bounded: a case that prints a million lines costs the console and the reports a
//! screenful each, not the whole diff, and a diff of very different texts is given up
//! after [`DEADLINE`] for a coarser one rather than computed for minutes.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

/// Diff lines shown per failing trial on the console.
pub const CONSOLE_LINES: usize = 40;
/// Diff lines (or side-by-side rows) per failing trial in each report file.
pub const REPORT_LINES: usize = 200;
/// The longest one diff may take: similar then returns a coarser (still correct) diff.
const DEADLINE: Duration = Duration::from_millis(300);

fn diff<'a>(expected: &'a str, actual: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    TextDiff::configure()
        .timeout(DEADLINE)
        .diff_lines(expected, actual)
}

/// A unified diff of at most `max_lines` lines; what is cut is said in a last line,
/// with `whole`, where the whole texts are (when there is such a place).
pub fn unified(
    expected: &str,
    actual: &str,
    expected_name: &str,
    actual_name: &str,
    max_lines: usize,
    whole: Option<&str>,
) -> String {
    let diff = diff(expected, actual);
    let full = diff
        .unified_diff()
        .context_radius(3)
        .header(expected_name, actual_name)
        .to_string();
    let mut text = String::new();
    let mut lines = full.split_inclusive('\n');
    for line in lines.by_ref().take(max_lines) {
        text.push_str(line);
    }
    let more = lines.count();
    if more > 0 {
        text.push_str(&format!("… {more} more diff lines not shown\n"));
        if let Some(whole) = whole {
            text.push_str(&format!(
                "(the whole expected and actual output: {whole})\n"
            ));
        }
    }
    let bare = |s: &str| !s.is_empty() && !s.ends_with('\n');
    match (bare(expected), bare(actual)) {
        (true, true) => text.push_str("\\ (neither side has a final newline)\n"),
        (true, false) => text.push_str(&format!("\\ ({expected_name} has no final newline)\n")),
        (false, true) => text.push_str(&format!("\\ ({actual_name} has no final newline)\n")),
        (false, false) => {}
    }
    text
}

/// How many lines differ between the two texts, as a reader counts them: a line replaced
/// by another is one changed line (not one deleted and one inserted); in a run of
/// changes, the larger of its deleted and inserted lines.
pub fn changed_lines(expected: &str, actual: &str) -> usize {
    let (mut total, mut deleted, mut inserted) = (0, 0, 0);
    for change in diff(expected, actual).iter_all_changes() {
        match change.tag() {
            ChangeTag::Delete => deleted += 1,
            ChangeTag::Insert => inserted += 1,
            ChangeTag::Equal => {
                total += deleted.max(inserted);
                (deleted, inserted) = (0, 0);
            }
        }
    }
    total + deleted.max(inserted)
}

/// The line diff of two texts, given up for a coarser one after [`DEADLINE`] (for views
/// that walk the changes themselves, such as the HTML side-by-side table).
pub fn lines<'a>(expected: &'a str, actual: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    diff(expected, actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_line_is_one_changed_line() {
        assert_eq!(changed_lines("a\nb\nc\n", "a\nB\nc\n"), 1);
        assert_eq!(changed_lines("a\nb\nc\n", "A\nb\nC\nd\n"), 3);
        assert_eq!(changed_lines("a\n", "a\nb\nc\n"), 2);
        assert_eq!(changed_lines("a\nb\n", ""), 2);
        assert_eq!(changed_lines("same\n", "same\n"), 0);
    }

    #[test]
    fn diff_names_both_sides() {
        let d = unified(
            "a\nb\n",
            "a\nc\n",
            "golden/g/x.out",
            "actual (unix::g/x)",
            100,
            None,
        );
        assert!(
            d.contains("--- golden/g/x.out") && d.contains("+++ actual (unix::g/x)"),
            "{d}"
        );
        assert!(d.contains("-b\n+c\n"), "{d}");
        assert!(!d.contains("final newline"), "{d}");
    }

    #[test]
    fn a_huge_diff_is_cut_and_says_so_quickly() {
        let actual: String = (0..1_000_000).map(|i| format!("{i}\n")).collect();
        let start = std::time::Instant::now();
        let d = unified("0\n", &actual, "e", "a", CONSOLE_LINES, Some("there"));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(d.lines().count(), CONSOLE_LINES + 2, "{d}");
        assert!(
            d.ends_with(
                " more diff lines not shown\n(the whole expected and actual output: there)\n"
            ),
            "{d}"
        );
        assert_eq!(changed_lines("0\n", &actual), 999_999);
    }

    #[test]
    fn only_a_side_without_final_newline_is_named() {
        // A new golden: nothing before, a complete text after.
        assert!(!unified("", "a\n", "old", "new", 10, None).contains("final newline"));
        let d = unified("a\n", "b", "old", "new", 10, None);
        assert!(d.ends_with("\\ (new has no final newline)\n"), "{d}");
        let d = unified("a", "b", "old", "new", 10, None);
        assert!(
            d.ends_with("\\ (neither side has a final newline)\n"),
            "{d}"
        );
    }
}
