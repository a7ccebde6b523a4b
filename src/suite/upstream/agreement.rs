//! mpcheck's verdicts against run-tests.py's own on the same tests (`bench --tests`):
//! run-tests.py's verdicts are read from its `_results.json` where it lists every test
//! (v1.25 on), else from the `pass`/`skip`/`FAIL` lines it prints (earlier releases write
//! only the failures there).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A verdict in run-tests.py's words: `pass`, `skip`, `fail`, `ignored` (a known-flaky
/// failure). `lrge` (too large for the target) is a skip on both sides.
fn normal(verdict: &str) -> Option<&'static str> {
    match verdict.to_ascii_lowercase().as_str() {
        "pass" => Some("pass"),
        "skip" | "lrge" => Some("skip"),
        "fail" => Some("fail"),
        "ignored" | "ignore" => Some("ignored"),
        _ => None,
    }
}

/// run-tests.py's verdict per test (`basics/x.py`), or why they cannot be read.
pub fn read_run_tests(result_dir: &Path, stdout: &str) -> Result<BTreeMap<String, String>, String> {
    let file = result_dir.join("_results.json");
    if let Ok(text) = std::fs::read_to_string(&file) {
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        if let Some(list) = doc.get("results").and_then(|r| r.as_array()) {
            let mut out = BTreeMap::new();
            for (i, entry) in list.iter().enumerate() {
                let (Some(path), Some(verdict)) = (
                    entry.get(0).and_then(|p| p.as_str()),
                    entry.get(1).and_then(|v| v.as_str()).and_then(normal),
                ) else {
                    return Err(format!(
                        "{}: results[{i}] is not [path, verdict, reason]: {entry}",
                        file.display()
                    ));
                };
                out.insert(path.to_string(), verdict.to_string());
            }
            return Ok(out);
        }
    }
    // No per-test list: the printed lines, `pass  basics/x.py`.
    let out: BTreeMap<String, String> = stdout
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let verdict = normal(words.next()?)?;
            let path = words.next().filter(|p| p.ends_with(".py"))?;
            words
                .next()
                .is_none()
                .then(|| (path.to_string(), verdict.to_string()))
        })
        .collect();
    if out.is_empty() {
        return Err(format!(
            "run-tests.py's verdicts: {} has no per-test list and it printed no `pass`/`skip`/`FAIL` lines",
            file.display()
        ));
    }
    Ok(out)
}

/// The two runners' verdicts side by side.
pub struct Agreement {
    /// Tests run-tests.py gave a verdict, and how many of them mpcheck gave the same.
    pub theirs: usize,
    pub same: usize,
    /// Tests mpcheck gave a verdict.
    pub ours: usize,
    /// Each test whose verdicts differ (or that one side lacks): path, theirs, ours
    /// with mpcheck's reason.
    pub differences: Vec<(String, Option<String>, Option<String>)>,
}

impl Agreement {
    /// `ours`: path → (verdict, reason) as `results::upstream_verdict` gives them.
    pub fn of(
        theirs: &BTreeMap<String, String>,
        ours: &BTreeMap<String, (String, String)>,
    ) -> Agreement {
        let same = theirs
            .iter()
            .filter(|(p, v)| ours.get(*p).is_some_and(|(o, _)| o == *v))
            .count();
        let mut paths: Vec<&String> = theirs.keys().chain(ours.keys()).collect();
        paths.sort();
        paths.dedup();
        let differences = paths
            .into_iter()
            .filter_map(|p| {
                let t = theirs.get(p);
                let o = ours.get(p);
                (t != o.map(|(v, _)| v)).then(|| {
                    (
                        p.clone(),
                        t.cloned(),
                        o.map(|(v, r)| {
                            if r.is_empty() {
                                v.clone()
                            } else {
                                format!("{v} ({r})")
                            }
                        }),
                    )
                })
            })
            .collect();
        Agreement {
            theirs: theirs.len(),
            same,
            ours: ours.len(),
            differences,
        }
    }

    pub fn percent(&self) -> f64 {
        if self.theirs == 0 {
            0.0
        } else {
            100.0 * self.same as f64 / self.theirs as f64
        }
    }
}

impl fmt::Display for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "verdicts: {}/{} = {:.2} % the same as run-tests.py's (mpcheck gave {})",
            self.same,
            self.theirs,
            self.percent(),
            self.ours
        )?;
        for (path, theirs, ours) in &self.differences {
            writeln!(
                f,
                "  {path}: run-tests.py {}, mpcheck {}",
                theirs.as_deref().unwrap_or("(not run)"),
                ours.as_deref().unwrap_or("(not planned)")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_lines_are_read_where_the_results_file_has_no_list() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("_results.json"),
            r#"{"args": {}, "failed_tests": ["basics/b.py"]}"#,
        )
        .unwrap();
        let stdout = "platform=x\npass  basics/a.py\nFAIL  basics/b.py\nskip  basics/c.py\n3 tests performed\n";
        let got = read_run_tests(dir.path(), stdout).unwrap();
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            [
                ("basics/a.py".to_string(), "pass".to_string()),
                ("basics/b.py".into(), "fail".into()),
                ("basics/c.py".into(), "skip".into())
            ]
        );
        assert!(read_run_tests(dir.path(), "nothing\n").is_err());
    }

    #[test]
    fn the_list_wins_and_differences_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("_results.json"),
            r#"{"results": [["basics/a.py", "pass", ""], ["basics/b.py", "skip", "too large"], ["basics/c.py", "fail", ""]]}"#,
        )
        .unwrap();
        let theirs = read_run_tests(dir.path(), "pass  basics/z.py\n").unwrap();
        assert_eq!(theirs.len(), 3);
        let ours: BTreeMap<String, (String, String)> = [
            ("basics/a.py", "pass", ""),
            ("basics/b.py", "skip", ""),
            ("basics/c.py", "pass", ""),
            ("basics/d.py", "skip", "excluded"),
        ]
        .into_iter()
        .map(|(p, v, r)| (p.to_string(), (v.to_string(), r.to_string())))
        .collect();
        let a = Agreement::of(&theirs, &ours);
        assert_eq!((a.same, a.theirs, a.ours), (2, 3, 4));
        let text = a.to_string();
        assert!(text.starts_with("verdicts: 2/3 = 66.67 %"), "{text}");
        assert!(
            text.contains("  basics/c.py: run-tests.py fail, mpcheck pass\n"),
            "{text}"
        );
        assert!(
            text.contains("  basics/d.py: run-tests.py (not run), mpcheck skip (excluded)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_malformed_list_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("_results.json"),
            r#"{"results": [["a.py"]]}"#,
        )
        .unwrap();
        let e = read_run_tests(dir.path(), "").unwrap_err();
        assert!(e.contains("_results.json: results[0]"), "{e}");
    }
}
