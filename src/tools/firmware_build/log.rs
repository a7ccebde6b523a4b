//! The lines of a build's log worth showing when it failed.

use super::{MAX_LINE_CHARS, REPORTED_LINES};

/// The lines of a failed build that say why: compiler diagnostics (`error:`), make's
/// `Error N` and `*** …` lines, at most [`REPORTED_LINES`]; its last lines when none.
pub(crate) fn error_lines(log: &str) -> Vec<String> {
    let errors: Vec<String> = log
        .lines()
        .filter(|l| l.contains("error:") || l.contains("Error ") || l.contains("*** "))
        .take(REPORTED_LINES)
        .map(cut)
        .collect();
    if errors.is_empty() {
        last_lines(log)
    } else {
        errors
    }
}

pub(crate) fn last_lines(log: &str) -> Vec<String> {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(REPORTED_LINES)..]
        .iter()
        .map(|l| cut(l))
        .collect()
}

pub(super) fn cut(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}
