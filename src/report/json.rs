//! `results.json`: the toolchain with each tool's reported version, and every result;
//! `"interrupted": true` (with the planned trial count) when Ctrl-C or SIGTERM stopped
//! the run. The host, partition and the suite's trial names are there for `mpcheck
//! merge`, and a merged report's `merge` holds what the merge found.

use super::{Counts, RunReport};

pub fn render(report: &RunReport) -> String {
    let counts = Counts::of(report.results);
    let value = serde_json::json!({
        "interrupted": report.interrupted.is_some(),
        "planned_trials": report.interrupted.unwrap_or(report.results.len()),
        "host": report.provenance.host,
        "partition": report.provenance.partition,
        "run_id": report.provenance.run_id,
        "suite_trials": report.provenance.suite_trials,
        "merge": report.merge,
        "toolchain": report.toolchain,
        "flashes": report.flashes,
        "summary": {
            "pass": counts.pass, "fail": counts.fail, "skip": counts.skip,
            "timeout": counts.timeout, "crash": counts.crash, "error": counts.error,
            "flaky": counts.flaky,
            "duration_ms": report.duration.as_millis(),
        },
        "results": report.results,
        "heap_by_mode": super::heap_modes::rows(report.results),
    });
    let mut value = value;
    // Only a run with a pool of identical boards says which member ran how many trials.
    if !report.members.is_empty() {
        value["pool_members"] =
            serde_json::json!(super::pools::rows(report.members, report.results));
    }
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}
