//! `_results.json` in run-tests.py's format (Octoprobe reads it), with each failure's
//! `<name>.exp` / `<name>.out` beside it, (`--rerun-failed` reads mpcheck's own results.json).
//!
//! One result directory per (board, mode): the report dir itself when the run has one
//! pair (as run-tests.py's `results/`), else `<report dir>/<board>-<mode>/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{IGNORED, Suite, UpstreamCase};
use crate::model::case::Mode;
use crate::model::outcome::{Outcome, Status};
use crate::model::verdict::Verdict;
use crate::pipeline::TrialResult;
use crate::util::error::{Error, Result};

/// run-tests.py's verdict and reason for a result.
pub fn upstream_verdict(v: &Verdict) -> (&'static str, String) {
    match v {
        Verdict::Pass => ("pass", String::new()),
        Verdict::Skip { reason } if reason.starts_with(IGNORED) => {
            ("ignored", format!("flaky: {}", &reason[IGNORED.len()..]))
        }
        Verdict::Skip { reason } if reason == "too large" => ("skip", reason.clone()),
        Verdict::Skip { .. } => ("skip", String::new()),
        _ => ("fail", String::new()),
    }
}

/// `basics/foo.py` → `basics_foo.py` (run-tests.py's result file base name).
pub fn result_basename(rel: &str) -> String {
    rel.replace("..", "_").replace("./", "").replace('/', "_")
}

/// Writes the result directories; returns the `_results.json` paths written.
pub fn write(report_dir: &Path, suite: &Suite, results: &[TrialResult]) -> Result<Vec<PathBuf>> {
    let mut groups: BTreeMap<(String, Mode), Vec<&TrialResult>> = BTreeMap::new();
    for r in results {
        groups.entry((r.board.clone(), r.mode)).or_default().push(r);
    }
    let single = groups.len() == 1;
    let mut written = Vec::new();
    for ((board, mode), rs) in groups {
        let dir = if single {
            report_dir.to_path_buf()
        } else {
            report_dir.join(format!("{board}-{}", mode.as_str()))
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut entries = Vec::new();
        let (mut failed, mut ignored) = (Vec::new(), Vec::new());
        for r in &rs {
            let rel = format!("{}.py", r.case);
            let (verdict, reason) = upstream_verdict(&r.verdict);
            let base = dir.join(result_basename(&rel));
            let (exp, out) = (base.with_extension("py.exp"), base.with_extension("py.out"));
            if verdict == "fail" {
                failed.push(rel.clone());
                if let Some(e) = &r.expected {
                    crate::util::fsutil::write_atomic(&exp, e.as_bytes())?;
                } else {
                    crate::util::fsutil::remove_if_exists(&exp)?;
                }
                let test = suite.tests.iter().find(|(id, _)| id.to_string() == r.case);
                let actual = match (test.map(|(_, u)| &**u), &r.output) {
                    (Some(u), Some(o)) => as_upstream_saw(u, o, r.status.clone()),
                    (_, o) => o.clone().unwrap_or_default(),
                };
                crate::util::fsutil::write_atomic(&out, &actual)?;
            } else {
                crate::util::fsutil::remove_if_exists(&exp)?;
                crate::util::fsutil::remove_if_exists(&out)?;
            }
            if verdict == "ignored" {
                ignored.push(rel.clone());
            }
            entries.push(json!([rel, verdict, reason]));
        }
        let doc = json!({
            "args": {
                "test_instance": board,
                "via_mpy": mode == Mode::Mpy,
                "emit": suite.emit.as_str(),
                "result_dir": dir,
                "test_dirs": [suite.tests_dir],
                "mpcheck_board": board,
                "mpcheck_mode": mode.as_str(),
            },
            "results": entries,
            "failed_tests": failed,
            "ignored_tests": ignored,
        });
        let path = dir.join("_results.json");
        let text = serde_json::to_string(&doc).unwrap_or_default();
        crate::util::fsutil::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// The output as run-tests.py compared it, from a result's output and how the VM ended.
fn as_upstream_saw(u: &UpstreamCase, output: &[u8], status: Option<Status>) -> Vec<u8> {
    let status = status.unwrap_or(Status::Exited(0));
    let o = Outcome::new(output.to_vec(), false, status, Default::default());
    super::judge::mupy_output(u, &o).unwrap_or_else(|_| output.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_map_onto_upstreams() {
        assert_eq!(upstream_verdict(&Verdict::Pass).0, "pass");
        assert_eq!(upstream_verdict(&Verdict::Fail).0, "fail");
        assert_eq!(
            upstream_verdict(&Verdict::timeout(std::time::Duration::from_secs(1))).0,
            "fail"
        );
        let ignored = Verdict::Skip {
            reason: format!("{IGNORED}GC race"),
        };
        assert_eq!(
            upstream_verdict(&ignored),
            ("ignored", "flaky: GC race".into())
        );
        assert_eq!(
            upstream_verdict(&Verdict::Skip {
                reason: "too large".into()
            }),
            ("skip", "too large".into())
        );
        assert_eq!(result_basename("basics/a.py"), "basics_a.py");
    }
}
