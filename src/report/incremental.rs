//! A results.json grown one trial at a time, by any number of processes: `cargo nextest
//! run` runs each trial of tests/trials.rs in a process of its own, so no process sees
//! the whole run. With `MPCHECK_TRIAL_RESULTS=DIR` each trial adds its result to
//! `DIR/results.json` under an exclusive lock (`DIR/.results.lock`), and the file is a
//! complete results.json after every trial: `mpcheck merge` takes the directories of
//! several partitions (or runners) as it takes those of `mpcheck run --partition`.
//!
//! The file names its run (`run_id`: nextest's `NEXTEST_RUN_ID`, else the process id),
//! so a directory left from an earlier run is refused, not mixed in: nothing is lost
//! and nothing from another night is counted. A trial that comes again in the same run
//! (a nextest retry) keeps its earlier verdicts as attempts.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Provenance, RunReport};
use crate::analysis::merge::Input;
use crate::model::result::Attempt;
use crate::pipeline::TrialResult;
use crate::tools::toolchain::ToolInfo;
use crate::util::error::{Error, Result};

/// The environment variable naming the directory.
pub const ENV: &str = "MPCHECK_TRIAL_RESULTS";

/// This process's run: nextest's run id (one per `cargo nextest run`, shared by all
/// its test processes), else this process (`cargo test` runs every trial in one).
pub fn run_id() -> String {
    std::env::var("NEXTEST_RUN_ID")
        .ok()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| format!("process-{}", std::process::id()))
}

/// Adds `result` to `dir/results.json` (created with `provenance` by the run's first
/// trial; the tools are every trial's `toolchain` together). `provenance.run_id` says which run the file is of.
pub fn append(
    dir: &Path,
    provenance: &Provenance,
    toolchain: &[ToolInfo],
    result: &TrialResult,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let lock_path = dir.join(".results.lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    let run_id = provenance.run_id.as_deref().unwrap_or_default();
    let path = dir.join("results.json");
    let mut results: Vec<TrialResult> = Vec::new();
    let mut tools: Vec<ToolInfo> = Vec::new();
    if path.exists() {
        let before = Input::read(dir)?;
        if before.run_id.as_deref() != Some(run_id) {
            return Err(Error::Usage(format!(
                "{} holds the results of another run ({}), not of this one ({run_id}): \
                 give each run its own {ENV} directory (nothing was written)",
                path.display(),
                before.run_id.as_deref().unwrap_or("no run id")
            )));
        }
        results = before.results;
        tools = before.toolchain;
    }
    // Each process opens only the boards of its trial: the run's tools are their union.
    for t in toolchain {
        if !tools
            .iter()
            .any(|k| k.tool == t.tool && k.path == t.path && k.version == t.version)
        {
            tools.push(t.clone());
        }
    }
    let mut result = result.clone();
    if let Some(i) = results.iter().position(|r| r.name == result.name) {
        let earlier = results.remove(i);
        let mut attempts = earlier.attempts.clone();
        if attempts.is_empty() {
            attempts.push(Attempt {
                verdict: earlier.verdict.clone(),
                why: "an earlier attempt in this run".into(),
                duration_ms: earlier.duration_ms,
                target_us: earlier.target_us,
            });
        }
        attempts.push(Attempt {
            verdict: result.verdict.clone(),
            why: "run again in this run (a retry)".into(),
            duration_ms: result.duration_ms,
            target_us: result.target_us,
        });
        result.attempts = attempts;
    }
    results.push(result);
    // The run's wall time so far: since its first trial made the lock file.
    let duration = std::fs::metadata(&lock_path)
        .and_then(|m| m.created())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_else(|| {
            Duration::from_millis(results.iter().map(|r| r.duration_ms as u64).sum())
        });
    let report = RunReport {
        toolchain: &tools,
        flashes: &[],
        results: &results,
        members: &[],
        duration,
        interrupted: None,
        matrix: None,
        provenance,
        merge: None,
        suite_dir: None,
        target_trends: None,
    };
    let text = super::json::render(&report);
    crate::util::fsutil::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::verdict::Verdict;

    fn provenance(run: &str) -> Provenance {
        Provenance {
            host: "host-a".into(),
            partition: None,
            run_id: Some(run.into()),
            suite_trials: (0..40).map(|i| format!("unix::g/t{i}")).collect(),
        }
    }

    fn result(name: &str, verdict: Verdict) -> TrialResult {
        let mut r: TrialResult = serde_json::from_value(serde_json::json!({
            "name": name, "board": "unix", "case": "g/t", "mode": "source",
            "verdict": "pass", "duration_ms": 3, "heap": {},
        }))
        .unwrap();
        r.verdict = verdict;
        r
    }

    #[test]
    fn trials_of_many_processes_at_once_all_land_in_one_results_json() {
        let dir = tempfile::tempdir().unwrap();
        // Threads stand in for nextest's processes: each append opens the lock file
        // itself, and flock excludes other open files as it excludes other processes.
        std::thread::scope(|s| {
            for t in 0..4 {
                let dir = dir.path();
                s.spawn(move || {
                    for i in 0..10 {
                        let name = format!("unix::g/t{}", t * 10 + i);
                        append(
                            dir,
                            &provenance("run-1"),
                            &[],
                            &result(&name, Verdict::Pass),
                        )
                        .unwrap();
                    }
                });
            }
        });
        let input = Input::read(dir.path()).unwrap();
        assert_eq!(input.results.len(), 40);
        assert_eq!(input.run_id.as_deref(), Some("run-1"));
        assert_eq!(input.host.as_deref(), Some("host-a"));
        assert_eq!(input.suite_trials.as_ref().map(Vec::len), Some(40));
        let merged = crate::analysis::merge::merge(vec![input]);
        assert!(!merged.notes.incomplete(), "{:?}", merged.notes.problems());
    }

    #[test]
    fn a_retried_trial_keeps_its_earlier_verdict_as_an_attempt() {
        let dir = tempfile::tempdir().unwrap();
        append(
            dir.path(),
            &provenance("r"),
            &[],
            &result("unix::g/t0", Verdict::Fail),
        )
        .unwrap();
        append(
            dir.path(),
            &provenance("r"),
            &[],
            &result("unix::g/t0", Verdict::Pass),
        )
        .unwrap();
        let input = Input::read(dir.path()).unwrap();
        assert_eq!(input.results.len(), 1);
        let kept = &input.results[0];
        assert_eq!(kept.verdict, Verdict::Pass);
        let attempts: Vec<&str> = kept.attempts.iter().map(|a| a.verdict.name()).collect();
        assert_eq!(attempts, ["fail", "pass"]);
    }

    #[test]
    fn a_directory_of_another_run_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        append(
            dir.path(),
            &provenance("night-1"),
            &[],
            &result("unix::g/t0", Verdict::Pass),
        )
        .unwrap();
        let before = std::fs::read(dir.path().join("results.json")).unwrap();
        let err = append(
            dir.path(),
            &provenance("night-2"),
            &[],
            &result("unix::g/t1", Verdict::Pass),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("another run (night-1)"), "{err}");
        assert!(err.contains(ENV), "{err}");
        assert_eq!(
            std::fs::read(dir.path().join("results.json")).unwrap(),
            before
        );
    }
}
