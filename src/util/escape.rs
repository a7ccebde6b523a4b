//! Text from a target (a case's output, a traceback, a board's banner) shown safely: a
//! case can print ESC sequences, `\r` or Unicode direction overrides to clear the screen,
//! set a window title, or hide or spoof verdict lines in a CI log. Everything shown on
//! the console, in review, and in the Markdown, JUnit and HTML reports goes through
//! [`controls`]; only the raw artefacts (results.json's JSON strings, goldens) keep the
//! bytes as they were.

use std::borrow::Cow;

/// `text` with every control character but newline and tab written as an escape
/// (`\x1b`, `\r`, `\u{202e}`), so it shows what was printed instead of doing it.
pub fn controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        // C0, DEL, C1 (0x9b is a one-byte CSI), and the bidirectional overrides and
        // isolates that reorder what a terminal shows.
        c if c.is_control() => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::controls;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert_eq!(
            controls("\x1b]0;PASS\x07\x1b[2J\rok\u{9b}\u{202e}\n\tend"),
            "\\x1b]0;PASS\\x07\\x1b[2J\\rok\\x9b\\u{202e}\n\tend"
        );
        // NUL and the other C0 controls XML 1.0 cannot hold at all.
        assert_eq!(controls("a\0b\x01"), "a\\x00b\\x01");
        assert!(matches!(
            controls("plain\ttext\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
