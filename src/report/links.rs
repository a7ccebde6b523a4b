//! Links from index.html to the files a failure is about: the case (or a checkout's
//! test) and the file its output was compared with (a golden, a `.exp`), as `file://`
//! URLs: the report is read where it ran; a report moved elsewhere keeps the paths as
//! text.

use std::path::{Path, PathBuf};

use maud::{Markup, html};

use crate::pipeline::TrialResult;

/// The case's file, `<suite dir>/<group>/<name>.py`, when it is there.
fn case_file(r: &TrialResult, suite_dir: Option<&Path>) -> Option<PathBuf> {
    let path = suite_dir?.join(format!("{}.py", r.case));
    path.is_file().then_some(path)
}

/// The file the output was compared with, when it was one (not CPython's output).
fn expected_file(r: &TrialResult) -> Option<PathBuf> {
    let path = Path::new(r.expected_from.as_deref()?);
    (path.is_absolute() && path.is_file()).then(|| path.to_path_buf())
}

/// A path as a `file://` URL: bytes other than letters, digits, `/-._~` percent-encoded
/// (a `#` or a space in a directory name would cut the link).
fn url(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The links of one failure: its case and what it was compared with (nothing when
/// neither is a file here).
pub fn failure_links(r: &TrialResult, suite_dir: Option<&Path>) -> Markup {
    let case = case_file(r, suite_dir);
    let expected = expected_file(r);
    html! {
        @if case.is_some() || expected.is_some() {
            p.links {
                @if let Some(c) = &case { "case " a href=(url(c)) { (c.display()) } }
                @if case.is_some() && expected.is_some() { " · " }
                @if let Some(e) = &expected { "expected " a href=(url(e)) { (e.display()) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_is_a_file_url_with_its_odd_bytes_encoded() {
        assert_eq!(
            super::url(std::path::Path::new("/p/a b#c/x_1.py")),
            "file:///p/a%20b%23c/x_1.py"
        );
    }
}
