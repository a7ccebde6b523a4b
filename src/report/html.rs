//! The HTML pages: `index.html` for a run (the board × group matrix, every failure with
//! a side-by-side diff, heap figures against their goldens) and `compare.html` for
//! `mpcheck compare`. Self-contained: the style is inline, nothing is fetched. Markup
//! from maud, which escapes every value (a case's output cannot add markup).

use std::collections::{BTreeMap, BTreeSet};

use maud::{DOCTYPE, Markup, PreEscaped, html};
use similar::ChangeTag;

use super::{Counts, RunReport, explanation, headline};
use crate::analysis::ab::timing::TimeVerdict;
use crate::analysis::ab::{Comparison, OutputChange};
use crate::pipeline::TrialResult;

/// Why these colours: a failing cell must stand out in a screenshot at a glance (and is
/// what the Chromium test looks for): pure-ish red, green and grey, no gradients.
const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}
td.pass{background:#2e9e44;color:#fff} td.fail{background:#d62020;color:#fff}
td.skip{background:#9a9a9a;color:#fff} td.none{background:#eee} ul.problems{color:#d62020;font-weight:bold}
table.diff td{font:12px/1.3 monospace;white-space:pre-wrap;border:none;padding:0 .5em}
table.diff td.del{background:#fdd} table.diff td.ins{background:#dfd}
pre{background:#f6f6f6;padding:.5em;overflow:auto}
td.fail a{color:#fff} span.mark{background:#ffd54a;color:#222;font-size:70%;padding:0 .4em;border-radius:.3em}
p.legend{color:#555;font-size:90%} tr.gap td{color:#888;text-align:center} p.links{font-size:90%;color:#555}
body.only-changes tr.passing{display:none}
";

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// Two columns, expected on the left and actual on the right, changed lines coloured.
/// At most [`crate::util::diff::REPORT_LINES`] rows, then one saying how many more there are.
pub fn side_by_side(expected: &str, actual: &str) -> Markup {
    let diff = crate::util::diff::lines(expected, actual);
    let mut rows: Vec<(Option<String>, Option<String>)> = Vec::new();
    // Only the changed hunks with CONTEXT lines around each, as a unified diff shows
    // them: a one-line change in a 300-line bytecode listing is a few rows, not the
    // listing twice. A row of `…` stands for the unchanged lines between hunks.
    const CONTEXT: usize = 3;
    let groups = diff.grouped_ops(CONTEXT);
    let ops = groups.iter().enumerate().flat_map(|(n, group)| {
        let gap = n > 0 || group.first().is_some_and(|op| op.old_range().start > 0);
        group
            .iter()
            .enumerate()
            .map(move |(i, op)| (gap && i == 0, op))
    });
    for (gap, op) in ops {
        if rows.len() > crate::util::diff::REPORT_LINES {
            break;
        }
        if gap {
            rows.push((None, None));
        }
        let (mut dels, mut ins) = (Vec::new(), Vec::new());
        for change in diff.iter_changes(op) {
            let text =
                crate::util::escape::controls(change.value().trim_end_matches('\n')).into_owned();
            match change.tag() {
                ChangeTag::Equal => rows.push((Some(text.clone()), Some(text))),
                ChangeTag::Delete => dels.push(text),
                ChangeTag::Insert => ins.push(text),
            }
        }
        for i in 0..dels.len().max(ins.len()) {
            rows.push((dels.get(i).cloned(), ins.get(i).cloned()));
        }
    }
    let shown_to = groups
        .last()
        .and_then(|g| g.last())
        .map_or(0, |op| op.old_range().end);
    if shown_to < diff.old_slices().len() {
        rows.push((None, None));
    }
    let more = rows.len().saturating_sub(crate::util::diff::REPORT_LINES);
    rows.truncate(crate::util::diff::REPORT_LINES);
    html! {
        table.diff {
            tr { th { "expected" } th { "actual" } }
            @for (l, r) in &rows {
                @let changed = l != r;
                @if l.is_none() && r.is_none() {
                    tr.gap { td colspan="2" { "…" } }
                } @else {
                tr {
                    td class=(if changed { "del" } else { "" }) { (l.as_deref().unwrap_or("")) }
                    td class=(if changed { "ins" } else { "" }) { (r.as_deref().unwrap_or("")) }
                }
                }
            }
            @if more > 0 {
                tr { td colspan="2" { "… " (more) " more rows not shown (results.json has the whole outputs)" } }
            }
        }
    }
}

fn group_of(r: &TrialResult) -> &str {
    r.case.rsplit_once('/').map_or("", |(g, _)| g)
}

/// A matrix cell: its counts, coloured; with failures, a link to the first of them.
fn cell(c: &Counts, first_failure: Option<&str>) -> Markup {
    let class = if c.failures() > 0 {
        "fail"
    } else if c.pass > 0 {
        "pass"
    } else if c.skip > 0 {
        "skip"
    } else {
        "none"
    };
    html! {
        td class=(class) {
            @if c.pass > 0 { (c.pass) " ✓ " }
            @if c.failures() > 0 {
                @match first_failure {
                    Some(name) => a href=(format!("#failure-{name}")) { (c.failures()) " ✗ " },
                    None => { (c.failures()) " ✗ " },
                }
            }
            @if c.skip > 0 { (c.skip) " ○" }
        }
    }
}

/// The differential matrix: case × board against the reference, known differences
/// with their reason on hover and below, unexplained ones with their diff.
fn matrix_table(m: &crate::analysis::differential::Matrix) -> Markup {
    use crate::analysis::differential::Agreement;
    html! {
        h2 { "Against the reference " code { (m.reference) } }
        table #differential {
            tr { th { "case" } @for b in &m.boards { th { (b) } } }
            @for r in &m.rows {
                tr {
                    th { (r.case) " (" (r.mode.as_str()) ")" }
                    @for b in &m.boards {
                        @match r.cells.get(b) {
                            Some(Agreement::Same) => td.pass { "same" },
                            Some(Agreement::Known { reason }) => td.skip title=(reason) { "known" },
                            Some(Agreement::Unexplained { .. }) => td.fail { "differs" },
                            Some(Agreement::NotCompared { why }) => td.none title=(why) { "–" },
                            None => td.none {},
                        }
                    }
                }
            }
        }
        @for r in &m.rows {
            @for (b, cell) in &r.cells {
                @if let Agreement::Unexplained { diff } = cell {
                    h3 { (b) ": " (r.case) " (" (r.mode.as_str()) ") differs from " (m.reference) }
                    pre { (diff) }
                }
            }
        }
    }
}

/// `index.html` for a run.
pub fn run_page(report: &RunReport) -> String {
    let groups: BTreeSet<&str> = report.results.iter().map(group_of).collect();
    // A row per board and mode: source, .mpy and frozen fail for different reasons.
    let rows: BTreeSet<(&str, crate::model::case::Mode)> = report
        .results
        .iter()
        .map(|r| (r.board.as_str(), r.mode))
        .collect();
    let mut cells: BTreeMap<(&str, crate::model::case::Mode, &str), Vec<&TrialResult>> =
        BTreeMap::new();
    for r in report.results {
        cells
            .entry((r.board.as_str(), r.mode, group_of(r)))
            .or_default()
            .push(r);
    }
    let skipped: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, crate::model::verdict::Verdict::Skip { .. }))
        .collect();
    // Skips by reason: 54 identical reasons are one line with a count.
    let mut skip_reasons: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for r in &skipped {
        skip_reasons
            .entry(r.verdict.reason().unwrap_or_default())
            .or_default()
            .push(r.name.as_str());
    }
    let marked: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| r.history.is_some())
        .collect();
    let failures: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| r.verdict.is_failure())
        .collect();
    let measured: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| {
            crate::model::heap::METRICS
                .iter()
                .any(|m| r.heap.get(m).is_some())
        })
        .collect();
    let by_mode = super::heap_modes::rows(report.results);
    let timed: Vec<&TrialResult> = report
        .results
        .iter()
        .filter(|r| r.target_us.is_some())
        .collect();
    let body = html! {
        h1 { "mpcheck" }
        p #summary { (Counts::of(report.results)) " in " (format!("{:.1}", report.duration.as_secs_f64())) " s" }
        @if let Some(planned) = report.interrupted {
            p { strong { "Interrupted: " } (super::interrupted_line(report.results, planned)) "." }
        }
        @if let Some(notes) = report.merge {
            h2 { "Merged from " (crate::util::words::count(notes.inputs.len(), "run", "runs")) }
            ul #merged-runs { @for i in &notes.inputs { li { (i.origin) ": " (crate::util::words::count(i.results, "result", "results")) } } }
            @let problems = notes.problems();
            @if !problems.is_empty() {
                ul #merge-problems.problems { @for p in &problems { li { (p) } } }
            }
        }
        h2 { "Board × group" }
        table #matrix {
            tr { th { "board (mode)" } @for g in &groups { th { (g) } } }
            @for (b, m) in &rows {
                tr {
                    th { (b) " (" (m.as_str()) ")" }
                    @for g in &groups {
                        @let in_cell = cells.get(&(*b, *m, *g));
                        (cell(
                            &Counts::of(in_cell.into_iter().flatten().copied()),
                            in_cell.and_then(|c| c.iter().find(|r| r.verdict.is_failure())).map(|r| r.name.as_str()),
                        ))
                    }
                }
            }
        }
        p.legend { "Cells: passed ✓, failed ✗ (fail, timeout, crash, error; a link to the first failure), skipped ○. Tick the box to hide passing rows below." }
        label { input #only-changes type="checkbox" onchange="document.body.classList.toggle('only-changes', this.checked)"; " only failures and changes" }
        @if let Some(m) = report.matrix { (matrix_table(m)) }
        @if !failures.is_empty() {
            h2 { "Failures (" (failures.len()) ")" }
            @for r in &failures {
                div.failure id=(format!("failure-{}", r.name)) {
                    h3 {
                        (r.verdict.name().to_uppercase()) " " (r.name)
                        @if let Some(mark) = &r.history { " " span.mark { (mark) } }
                    }
                    p { (headline(r)) }
                    (super::links::failure_links(r, report.suite_dir))
                    @if let (Some(e), Some(a)) = (&r.expected, &r.actual) {
                        (side_by_side(e, a))
                    }
                    @if r.heap_table.is_some() || r.expected.is_none() {
                        pre { (explanation(r, crate::util::diff::REPORT_LINES)) }
                    }
                }
            }
        }
        @if !marked.is_empty() {
            h2 { "Against the history" }
            table #history {
                tr { th { "trial" } th { "verdict" } th { "history" } }
                @for r in &marked {
                    tr { td { (r.name) } td { (r.verdict.name()) } td { (r.history.as_deref().unwrap_or_default()) } }
                }
            }
        }
        @if !by_mode.is_empty() {
            h2 { (super::heap_modes::TITLE) }
            table #heap-by-mode {
                tr { @for c in super::heap_modes::COLUMNS { th { (c) } } }
                @for row in &by_mode {
                    tr { @for c in super::heap_modes::cells(row) { td { (c) } } }
                }
            }
            p.legend { (crate::model::heap::LEGEND) }
            p.legend { (crate::model::heap::FRAG_LEGEND) }
        }
        @if !measured.is_empty() {
            h2 { "Heap (bytes, calibrated)" }
            table #heap {
                tr { th { "trial" } @for m in crate::model::heap::METRICS { th { (m) } } }
                @for r in &measured {
                    tr class=(if r.verdict.is_failure() { "" } else { "passing" }) {
                        td { (r.name) }
                        @for m in crate::model::heap::METRICS {
                            td { (r.heap.get(m).map_or("n/a".to_string(), |v| v.to_string())) }
                        }
                    }
                }
            }
        }
        @if !timed.is_empty() {
            h2 { "Time on the target" }
            p { "The case's run timed by the target's own clock; wall: the whole trial as the harness saw it."
                @if report.target_trends.is_some() { " Last runs: the time on the target in the history's last runs and this one, first → last." } }
            table #target-time {
                tr { th { "trial" } th { "target µs" } th { "wall ms" }
                    @if report.target_trends.is_some() { th { "last runs (µs)" } } }
                @for r in &timed {
                    tr { td { (r.name) } td { (r.target_us.unwrap_or_default()) } td { (r.duration_ms) }
                        @if let Some(trends) = report.target_trends {
                            @let runs = trends.get(&r.name).map(Vec::as_slice).unwrap_or_default();
                            td.trend { (super::time_chart::sparkline(runs)) " " (crate::analysis::history::trend(runs)) }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        (body)
        @if !skipped.is_empty() {
            h2 { "Skipped (" (skipped.len()) ")" }
            table #skipped {
                tr { th { "reason" } th { "trials" } }
                @for (reason, names) in &skip_reasons {
                    tr.passing {
                        td { (reason) }
                        td { (crate::util::words::count(names.len(), "trial", "trials")) ": " (names.iter().take(5).copied().collect::<Vec<_>>().join(", ")) @if names.len() > 5 { ", …" } }
                    }
                }
            }
        }
    };
    page("mpcheck report", body)
}

/// A row's bytecode: bytes, and where they changed the delta and the opcode families
/// that changed (the answer a compiler A/B is run for, beside its case).
fn bytecode_cell(b: &crate::analysis::ab::BytecodeDelta) -> Markup {
    let ops = b.opcode_changes();
    html! {
        td {
            (b.base_bytes) " → " (b.head_bytes)
            @if b.head_bytes != b.base_bytes { " (" (format!("{:+}", b.head_bytes - b.base_bytes)) ")" }
            @if !ops.is_empty() { br; small { (ops.join(", ")) } }
        }
    }
}

/// What a row set aside, for its cell's tooltip.
fn ignored_title(fields: &[crate::analysis::ab::noise::Ignored]) -> String {
    let named: Vec<&str> = fields.iter().map(|f| f.describe()).collect();
    format!("ignored: {}", named.join(", "))
}

/// `compare.html`, with the headline and totals compare.md starts with (made there, so
/// the two files say the same).
pub fn compare_page(c: &Comparison, headline: &str, totals: &[String]) -> String {
    let time_rows: Vec<(String, f64, TimeVerdict)> = c
        .deltas
        .iter()
        .filter_map(|d| {
            let t = d.time.as_ref()?;
            let p = (t.head.median_ms - t.base.median_ms) / t.base.median_ms.max(0.001) * 100.0;
            Some((format!("{} ({})", d.case, d.mode.as_str()), p, t.verdict))
        })
        .collect();
    // A column only where some row has something for it: no side ran anything (a
    // bytecode board), the compilers are the same, no case measured its heap.
    let timed = !time_rows.is_empty();
    let compiled = c.deltas.iter().any(|d| d.bytecode.is_some());
    let heaped = c.deltas.iter().any(|d| !d.heap.is_empty());
    let body = html! {
        h1 { "mpcheck compare" }
        p { "base: " code { (c.base.board) } " " (c.base.versions.join("; ")) @if let Some(b) = &c.base.built { br; "built from " (b) } }
        p { "head: " code { (c.head.board) } " " (c.head.versions.join("; ")) @if let Some(b) = &c.head.built { br; "built from " (b) } }
        p #headline { (headline) }
        ul #totals { @for line in totals { li { (line) } } }
        @if !c.breaches.is_empty() {
            h2 { "Thresholds broken" }
            ul { @for b in &c.breaches { li { (b) } } }
        }
        h2 { "Cases" }
        table #cases {
            tr { th { "case" } th { "mode" } th { "output" } @if compiled { th { "bytecode" } } @if heaped { th { "heap" } } @if timed { th { "time (median ms)" } } }
            @for d in &c.deltas {
                tr {
                    td { (d.case) } td { (d.mode.as_str()) }
                    @match &d.output {
                        OutputChange::Same if d.ignored.is_empty() => td.pass { "same" },
                        OutputChange::Same => td.pass title=(ignored_title(&d.ignored)) { "same*" },
                        OutputChange::Different { .. } => td.fail { a href=(format!("#diff-{}-{}", d.case, d.mode.as_str())) { "different" } },
                        OutputChange::NotCompared { why } => td.skip { (why) },
                    }
                    @if compiled { @match &d.bytecode { Some(b) => (bytecode_cell(b)), None => td {} } }
                    @if heaped { td { @for m in &d.heap { @if let Some(delta) = m.delta() { (m.metric) " " (format!("{delta:+}")) br; } } } }
                    @if timed { @match &d.time { Some(t) => (super::time_chart::time_cell(t)), None => td {} } }
                }
            }
        }
        @if c.deltas.iter().any(|d| !d.ignored.is_empty()) {
            p { "* the same once what is not the build is set aside (hover for which)." }
        }
        @if !time_rows.is_empty() {
            h2 { "Time change (% of base median; red or green only beyond the noise)" }
            (super::time_chart::delta_chart(&time_rows))
        }
        @for d in &c.deltas {
            @if let OutputChange::Different { diff } = &d.output {
                h3 id=(format!("diff-{}-{}", d.case, d.mode.as_str())) { (d.case) " (" (d.mode.as_str()) ")" }
                pre { (diff) }
            }
        }
    };
    page("mpcheck compare", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare_page_of(c: &Comparison) -> String {
        compare_page(
            c,
            &crate::report::compare::headline(c),
            &crate::report::compare::totals(c),
        )
    }
    use crate::analysis::ab::timing::Timing;
    use crate::analysis::ab::{CaseDelta, Side, TimeDelta};

    fn comparison(base: &[f64], head: &[f64]) -> Comparison {
        let (Some(b), Some(h)) = (Timing::of(base), Timing::of(head)) else {
            unreachable!("samples given")
        };
        let time = TimeDelta {
            verdict: crate::analysis::ab::timing::judge(&b, &h),
            base: b,
            head: h,
            on_target: false,
        };
        let side = |board: &str| Side {
            board: board.into(),
            versions: Vec::new(),
            size: None,
            image: "firmware".into(),
            built: None,
        };
        Comparison {
            base: side("a"),
            head: side("b"),
            repeats: base.len(),
            judged: false,
            deltas: vec![CaseDelta {
                case: "g/x".into(),
                mode: crate::model::case::Mode::Source,
                base_verdict: "not judged".into(),
                head_verdict: "not judged".into(),
                output: OutputChange::Same,
                ignored: vec![crate::analysis::ab::noise::Ignored::CompilerHeader],
                bytecode: None,
                bytecode_note: None,
                heap: Vec::new(),
                frag: None,
                time: Some(time),
            }],
            breaches: Vec::new(),
        }
    }

    const RED: &str = "#d62020";
    const GREEN: &str = "#2e9e44";

    #[test]
    fn a_time_delta_inside_the_noise_or_of_one_sample_is_not_coloured() {
        // A 30 % rise whose ranges overlap, then one sample a side: grey bars, plain cells.
        for page in [
            compare_page_of(&comparison(&[10.0, 12.0, 14.0], &[13.0, 13.0, 18.0])),
            compare_page_of(&comparison(&[10.0], &[20.0])),
        ] {
            assert!(!page.contains(&format!("fill=\"{RED}\"")), "{page}");
            assert!(!page.contains(&format!("fill=\"{GREEN}\"")), "{page}");
            assert!(!page.contains("<td class=\"fail\">"), "{page}");
        }
    }

    #[test]
    fn a_time_delta_beyond_the_noise_is_coloured_and_ignored_fields_are_named() {
        let page = compare_page_of(&comparison(&[10.0, 11.0, 12.0], &[20.0, 21.0, 22.0]));
        assert!(page.contains(&format!("fill=\"{RED}\"")), "{page}");
        // Each bar says its size: 11 -> 21 ms is +91 %.
        assert!(page.contains(">+91%</text>"), "{page}");
        // No row has bytecode or heap figures: no empty columns for them.
        assert!(!page.contains("<th>bytecode</th>"), "{page}");
        assert!(!page.contains("<th>heap</th>"), "{page}");
        assert!(page.contains("ignored: the compiler"), "{page}");
        assert!(page.contains("ignored as not the build"), "{page}");
    }

    #[test]
    fn a_bytecode_change_shows_its_delta_and_opcodes_beside_the_case() {
        let mut c = comparison(&[1.0], &[1.0]);
        c.deltas[0].bytecode = Some(crate::analysis::ab::BytecodeDelta {
            base_bytes: 52,
            head_bytes: 50,
            base_instructions: 20,
            head_instructions: 19,
            opcode_deltas: [("UNARY_OP".to_string(), -1)].into(),
        });
        let page = compare_page_of(&c);
        assert!(page.contains("<th>bytecode</th>"), "{page}");
        // A different output links to its diff below the table.
        c.deltas[0].output = OutputChange::Different {
            diff: "-a\n+b\n".into(),
        };
        let page = compare_page_of(&c);
        assert!(
            page.contains("<a href=\"#diff-g/x-source\">different</a>")
                && page.contains("<h3 id=\"diff-g/x-source\">"),
            "{page}"
        );
        assert!(page.contains("52 → 50 (-2)"), "{page}");
        assert!(page.contains("UNARY_OP -1"), "{page}");
    }
}
