//! The test arguments a port's board adds to run-tests.py (`RUN_TESTS_ARGS += --exclude
//! 'REGEX'` in `ports/P/boards/B/mpconfigboard.mk`, or `boards/B.mk` in older trees):
//! what upstream's `make test` leaves out on that board (e.g. the Thumb-2 inline-assembler
//! tests on SABRELITE's Cortex-A9). Read from the board's own tree, never listed here.

use std::path::{Path, PathBuf};

use regex::Regex;

/// One `--exclude` (or `-e`) of a board's `RUN_TESTS_ARGS`.
#[derive(Debug)]
pub(crate) struct Exclude {
    pub pattern: Regex,
    /// `ports/qemu/boards/SABRELITE/mpconfigboard.mk:23`, for the skip reason.
    pub origin: String,
}

/// The excludes of board `board` of port `port` in the tree `source`; notices for what
/// could not be read (a pattern that is not a regex, an unterminated quote).
pub(crate) fn excludes(source: &Path, port: &str, board: &str) -> (Vec<Exclude>, Vec<String>) {
    let (mut out, mut notices) = (Vec::new(), Vec::new());
    let boards = PathBuf::from("ports").join(port).join("boards");
    for rel in [
        boards.join(board).join("mpconfigboard.mk"),
        boards.join(format!("{board}.mk")),
    ] {
        let path = source.join(&rel);
        let text = match crate::util::input::read_if_exists(
            &path,
            crate::util::input::cap::CONFIG,
            "make file",
        ) {
            Ok(None) => continue,
            Ok(Some(bytes)) => match crate::util::input::utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    notices.push(format!(
                        "{}: {e}: its RUN_TESTS_ARGS not read",
                        path.display()
                    ));
                    break;
                }
            },
            Err(e) => {
                notices.push(format!("{e}: the board's RUN_TESTS_ARGS not read"));
                break;
            }
        };
        for (n, line) in text.lines().enumerate() {
            let Some((assign, value)) = assignment(line) else {
                continue;
            };
            if assign != "+=" {
                // `=` / `:=` replace what came before.
                out.clear();
            }
            let origin = format!("{}:{}", rel.display(), n + 1);
            let Some(words) = shell_words(value) else {
                notices.push(format!(
                    "{origin}: RUN_TESTS_ARGS has an unterminated quote: not read"
                ));
                continue;
            };
            let mut words = words.into_iter();
            while let Some(w) = words.next() {
                if (w == "--exclude" || w == "-e")
                    && let Some(p) = words.next()
                {
                    match Regex::new(&p) {
                        Ok(pattern) => out.push(Exclude {
                            pattern,
                            origin: origin.clone(),
                        }),
                        Err(e) => notices.push(format!(
                            "{origin}: --exclude {p:?} is not a regex mpcheck reads ({e}): not applied"
                        )),
                    }
                }
            }
        }
        break;
    }
    (out, notices)
}

/// `RUN_TESTS_ARGS += value` → ("+=", value).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let rest = line
        .trim_start()
        .strip_prefix("RUN_TESTS_ARGS")?
        .trim_start();
    ["+=", ":=", "?=", "="]
        .into_iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (op, v.trim())))
}

/// The words of a shell command line (single and double quotes, no expansions), as make
/// hands the recipe to the shell; `None` for an unterminated quote.
fn shell_words(s: &str) -> Option<Vec<String>> {
    let (mut words, mut word, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in s.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, any) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if any {
        words.push(word);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_are_read_as_make_and_the_shell_read_them() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("ports/qemu/boards/B");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("mpconfigboard.mk"),
            "CFLAGS += -x\nRUN_TESTS_ARGS = --exclude 'gone'\nRUN_TESTS_ARGS += --exclude 'inlineasm/thumb/(asmbcc|asmit).py' -e \"b c\"\nRUN_TESTS_ARGS += --exclude '('\n",
        )
        .unwrap();
        let (ex, notices) = excludes(t.path(), "qemu", "B");
        let origins: Vec<&str> = ex.iter().map(|e| e.origin.as_str()).collect();
        // The `=` line came before the `+=` lines: it is kept, and the bad regex is said.
        assert_eq!(
            origins,
            [
                "ports/qemu/boards/B/mpconfigboard.mk:2",
                "ports/qemu/boards/B/mpconfigboard.mk:3",
                "ports/qemu/boards/B/mpconfigboard.mk:3"
            ]
        );
        assert!(ex[1].pattern.is_match("inlineasm/thumb/asmit.py"));
        assert!(!ex[1].pattern.is_match("inlineasm/thumb/asmsum.py"));
        assert_eq!(ex[2].pattern.as_str(), "b c");
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(
            notices[0].contains(":4:") || notices[0].contains("mk:4"),
            "{notices:?}"
        );
        // The old layout (boards/B.mk), and `=` replacing what came before.
        std::fs::write(
            t.path().join("ports/qemu/boards/OLD.mk"),
            "RUN_TESTS_ARGS += -e x\nRUN_TESTS_ARGS = --exclude '(asmdiv|asmspecialregs).py'\n",
        )
        .unwrap();
        let (ex, _) = excludes(t.path(), "qemu", "OLD");
        assert_eq!(ex.len(), 1);
        assert!(ex[0].pattern.is_match("inlineasm/asmdiv.py"));
        assert!(excludes(t.path(), "qemu", "NONE").0.is_empty());
    }
}
