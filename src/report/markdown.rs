//! `summary.md`: a board × group matrix of counts and the failures with their diffs, fit
//! for a CI step summary.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Counts, RunReport, explanation};
use crate::pipeline::TrialResult;

/// A merged report's inputs, and every problem the merge found.
fn merge_section(md: &mut String, notes: &crate::analysis::merge::Notes) {
    let _ = writeln!(
        md,
        "Merged from {}:\n",
        crate::util::words::count(notes.inputs.len(), "run", "runs")
    );
    for i in &notes.inputs {
        let _ = writeln!(
            md,
            "- {}: {}",
            i.origin,
            crate::util::words::count(i.results, "result", "results")
        );
    }
    let problems = notes.problems();
    if !problems.is_empty() {
        let _ = writeln!(md, "\n**The merge found problems:**\n");
        for p in problems {
            let _ = writeln!(md, "- {p}");
        }
    }
    md.push('\n');
}

pub fn render(report: &RunReport) -> String {
    let mut md = String::new();
    let total = Counts::of(report.results);
    let _ = writeln!(
        md,
        "# mpcheck summary\n\n{total} in {:.1} s\n",
        report.duration.as_secs_f64()
    );
    if let Some(planned) = report.interrupted {
        let _ = writeln!(
            md,
            "**Interrupted** (Ctrl-C or SIGTERM): {}.\n",
            super::interrupted_line(report.results, planned)
        );
    }

    if let Some(notes) = report.merge {
        merge_section(&mut md, notes);
    }

    let groups: BTreeSet<&str> = report.results.iter().map(group_of).collect();
    let boards: BTreeSet<&str> = report.results.iter().map(|r| r.board.as_str()).collect();
    let mut cells: BTreeMap<(&str, &str), Vec<&TrialResult>> = BTreeMap::new();
    for r in report.results {
        cells
            .entry((r.board.as_str(), group_of(r)))
            .or_default()
            .push(r);
    }
    let _ = write!(md, "| board |");
    for g in &groups {
        let _ = write!(md, " {g} |");
    }
    let _ = write!(md, "\n|---|");
    for _ in &groups {
        let _ = write!(md, "---|");
    }
    md.push('\n');
    for b in &boards {
        let _ = write!(md, "| {b} |");
        for g in &groups {
            let c = Counts::of(cells.get(&(*b, *g)).into_iter().flatten().copied());
            let _ = write!(md, " {} |", cell(&c));
        }
        md.push('\n');
    }
    md.push_str("\nCells: passed ✓, failed ✗ (fail, timeout, crash, error), skipped ○.\n");
    if !report.flashes.is_empty() {
        let _ = writeln!(md, "\n## Firmware\n");
        for f in report.flashes {
            let _ = match f.size {
                Some(s) => writeln!(
                    md,
                    "- {} (text {}, data {}, bss {} bytes)",
                    f.reason, s.text, s.data, s.bss
                ),
                None => writeln!(md, "- {}", f.reason),
            };
        }
    }

    if let Some(m) = report.matrix {
        matrix_section(&mut md, m);
    }

    let failures: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| r.verdict.is_failure())
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(md, "\n## Failures\n");
        for r in failures {
            let _ = writeln!(
                md,
                "### {} — {}\n\n```diff\n{}\n```\n",
                crate::util::escape::controls(&r.name),
                r.verdict.name(),
                explanation(r, crate::util::diff::REPORT_LINES).trim_end()
            );
        }
    }
    let marked: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| r.history.is_some())
        .collect();
    if !marked.is_empty() {
        let _ = writeln!(md, "\n## Against the history\n");
        for r in marked {
            let _ = writeln!(
                md,
                "- {} ({}): {}",
                r.name,
                r.verdict.name(),
                r.history.as_deref().unwrap_or_default()
            );
        }
    }
    let measured: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| r.heap.live_bytes.is_some())
        .collect();
    if !measured.is_empty() {
        let _ = writeln!(
            md,
            "\n## Heap (bytes, calibrated; n/a = the port has no such counter)\n"
        );
        let _ = writeln!(
            md,
            "| case | board | mode | alloc_bytes | live_bytes | allocations | peak_bytes |\n|---|---|---|---|---|---|---|"
        );
        let show = |v: Option<i64>| v.map_or("n/a".to_string(), |v| v.to_string());
        for r in measured {
            let h = &r.heap;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.case,
                r.board,
                r.mode.as_str(),
                show(h.alloc_bytes),
                show(h.live_bytes),
                show(h.allocations),
                show(h.peak_bytes)
            );
        }
    }
    md.push_str(&super::heap_modes::markdown(report.results));
    let timed: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| r.target_us.is_some())
        .collect();
    if !timed.is_empty() {
        let _ = writeln!(
            md,
            "\n## Time on the target (the case's run by the target's clock; wall: the whole trial)\n"
        );
        let _ = writeln!(
            md,
            "| case | board | mode | target µs | wall ms |\n|---|---|---|---|---|"
        );
        for r in timed {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                r.case,
                r.board,
                r.mode.as_str(),
                r.target_us.unwrap_or_default(),
                r.duration_ms
            );
        }
    }
    let skipped: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, crate::model::verdict::Verdict::Skip { .. }))
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(md, "\n## Skipped\n");
        skipped_by_reason(&mut md, &skipped);
    }
    md
}

/// Trials named per skip reason shown in summary.md; results.json has every one.
const SKIP_NAMES: usize = 8;

/// The skipped trials, one line per reason: a board without its firmware skips every
/// trial for one reason, said once with the count and the first few names (was a line
/// per trial, 56 the same).
fn skipped_by_reason(md: &mut String, skipped: &[&TrialResult]) {
    let mut by_reason: Vec<(String, Vec<&str>)> = Vec::new();
    for r in skipped {
        let reason = r.verdict.reason().unwrap_or_default();
        match by_reason.iter_mut().find(|(k, _)| *k == reason) {
            Some((_, names)) => names.push(&r.name),
            None => by_reason.push((reason, vec![&r.name])),
        }
    }
    for (reason, names) in by_reason {
        if let [one] = names[..] {
            let _ = writeln!(md, "- {one}: {reason}");
            continue;
        }
        let shown = names[..names.len().min(SKIP_NAMES)].join(", ");
        let more = match names.len().saturating_sub(SKIP_NAMES) {
            0 => String::new(),
            n => format!(" and {n} more (results.json)"),
        };
        let _ = writeln!(
            md,
            "- {reason}: {}: {shown}{more}",
            crate::util::words::count(names.len(), "trial", "trials")
        );
    }
}

/// `--reference`: per board, how many trials agree with the reference; then every
/// unexplained difference with its diff (what a new port's maintainer must look at) and
/// the known ones one line each, with their reason (so they can be re-checked).
fn matrix_section(md: &mut String, m: &crate::analysis::differential::Matrix) {
    use crate::analysis::differential::Agreement;
    let _ = writeln!(
        md,
        "\n## Against the reference `{}`\n\n| board | same | known | unexplained | not compared |\n|---|---|---|---|---|",
        m.reference
    );
    for b in &m.boards {
        let [same, known, unexplained, not_compared] = m.counts(b);
        let _ = writeln!(
            md,
            "| {b} | {same} | {known} | {unexplained} | {not_compared} |"
        );
    }
    let cells = || {
        m.rows
            .iter()
            .flat_map(|r| r.cells.iter().map(move |(b, c)| (r, b, c)))
    };
    let mut heading = false;
    for (r, b, cell) in cells() {
        if let Agreement::Unexplained { diff } = cell {
            if !std::mem::replace(&mut heading, true) {
                let _ = writeln!(md, "\n### Unexplained differences\n");
            }
            let _ = writeln!(
                md,
                "#### {b}: {} ({})\n\n```diff\n{}\n```\n",
                r.case,
                r.mode.as_str(),
                diff.trim_end()
            );
        }
    }
    let mut heading = false;
    for (r, b, cell) in cells() {
        if let Agreement::Known { reason } = cell {
            if !std::mem::replace(&mut heading, true) {
                let _ = writeln!(md, "\n### Known differences\n");
            }
            let _ = writeln!(md, "- {b}: {} ({}): {reason}", r.case, r.mode.as_str());
        }
    }
}

fn group_of(r: &TrialResult) -> &str {
    r.case.rsplit_once('/').map_or("", |(g, _)| g)
}

fn cell(c: &Counts) -> String {
    let mut parts = Vec::new();
    if c.pass > 0 {
        parts.push(format!("{} ✓", c.pass));
    }
    if c.failures() > 0 {
        parts.push(format!("**{} ✗**", c.failures()));
    }
    if c.skip > 0 {
        parts.push(format!("{} ○", c.skip));
    }
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join(" ")
    }
}
