//! The files of `mpcheck compare`: compare.md (short enough for a pull-request comment:
//! the headline, then tables, diffs folded away), compare.json (everything), and
//! compare.html; and the lines it ends with on the terminal.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::analysis::ab::{CaseDelta, Comparison, OutputChange};
use crate::util::error::{Error, Result};

pub fn write_files(dir: &Path, c: &Comparison) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let json = serde_json::to_string_pretty(c).unwrap_or_default() + "\n";
    let files = [
        ("compare.md", markdown(c)),
        ("compare.json", json),
        (
            "compare.html",
            super::html::compare_page(c, &headline(c), &totals(c)),
        ),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        crate::util::fsutil::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// The headline every rendering starts with.
pub fn headline(c: &Comparison) -> String {
    let t = c.tally();
    let unknown = if t.unknown_spread > 0 {
        format!(
            ", {} with too few repeats to tell (--repeat 3 or more)",
            t.unknown_spread
        )
    } else {
        String::new()
    };
    let time = if t.faster + t.slower + t.inside_noise + t.unknown_spread == 0 {
        // A bytecode board runs nothing: "0 faster, 0 slower" would read as measured.
        "no run time compared".to_string()
    } else {
        format!(
            "time (median of {}) {} faster, {} slower, {} inside the noise{unknown}",
            c.repeats, t.faster, t.slower, t.inside_noise
        )
    };
    format!(
        "{} rows: output {} same, {} different, {} not compared; {time}",
        c.deltas.len(),
        t.same,
        t.different,
        t.not_compared,
    )
}

/// The totals below the headline, one line each: what was set aside as not the build,
/// the bytecode and opcode deltas, the heap, and whether goldens were consulted. The
/// terminal and compare.md print the same lines.
pub fn totals(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    let ignored = c.ignored();
    if ignored.is_empty() {
        out.push("ignored as not the build: nothing differed there".into());
    } else {
        let fields: Vec<String> = ignored
            .iter()
            .map(|(f, n)| {
                format!(
                    "{} ({})",
                    f.describe(),
                    crate::util::words::count(*n, "row", "rows")
                )
            })
            .collect();
        out.push(format!("ignored as not the build: {}", fields.join(", ")));
    }
    if let (Some(b), Some(h)) = (c.base.size, c.head.size) {
        let d = |b: u64, h: u64| h as i128 - b as i128;
        let image = if c.base.image == c.head.image {
            c.head.image.clone()
        } else {
            format!("{} → {}", c.base.image, c.head.image)
        };
        out.push(format!(
            "{image}: text {} → {} ({:+}), data {} → {} ({:+}), bss {} → {} ({:+}) bytes",
            b.text,
            h.text,
            d(b.text, h.text),
            b.data,
            h.data,
            d(b.data, h.data),
            b.bss,
            h.bss,
            d(b.bss, h.bss)
        ));
    }
    if let Some((cases, b)) = c.bytecode_total() {
        let ops = b.opcode_changes();
        out.push(format!(
            "bytecode ({}): {} → {} bytes ({:+}), {} → {} instructions ({:+}); opcodes: {}",
            crate::util::words::count(cases, "case", "cases"),
            b.base_bytes,
            b.head_bytes,
            b.head_bytes - b.base_bytes,
            b.base_instructions,
            b.head_instructions,
            b.head_instructions - b.base_instructions,
            if ops.is_empty() {
                "no change".into()
            } else {
                ops.join(", ")
            }
        ));
    }
    let rises = c
        .deltas
        .iter()
        .filter_map(|d| d.frag.and_then(|f| f.index_rise()))
        .collect::<Vec<f64>>();
    if !rises.is_empty() {
        out.push(format!(
            "fragmentation index: rose on {}, fell on {}, of {} measured on both sides",
            crate::util::words::count(rises.iter().filter(|r| **r > 0.0).count(), "row", "rows"),
            rises.iter().filter(|r| **r < 0.0).count(),
            rises.len()
        ));
    }
    for (metric, (b, h, changed)) in c.heap_totals() {
        out.push(format!(
            "heap {metric}: {b} → {h} bytes ({:+}) over the measured rows, {} changed",
            h - b,
            crate::util::words::count(changed, "row", "rows")
        ));
    }
    out.push(if c.judged {
        "each side was also judged against the goldens (--judge)".into()
    } else {
        "neither side judged against the goldens (--judge to)".into()
    });
    out
}

fn side(s: &crate::analysis::ab::Side) -> String {
    let named = if s.versions.is_empty() {
        format!("`{}`", s.board)
    } else {
        format!("`{}` ({})", s.board, s.versions.join("; "))
    };
    match &s.built {
        Some(b) => format!("{named}, built from {b}"),
        None => named,
    }
}

fn pct(base: f64, head: f64) -> String {
    if base == 0.0 {
        if head == 0.0 {
            "0%".into()
        } else {
            "new".into()
        }
    } else {
        format!("{:+.1}%", (head - base) / base * 100.0)
    }
}

pub fn markdown(c: &Comparison) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# mpcheck compare\n");
    let _ = writeln!(md, "- base: {}\n- head: {}\n", side(&c.base), side(&c.head));
    let _ = writeln!(md, "{}\n", headline(c));
    for line in totals(c) {
        let _ = writeln!(md, "- {line}");
    }
    md.push('\n');
    if c.breaches.is_empty() {
        let _ = writeln!(md, "No `--fail-on` threshold broken.\n");
    } else {
        let _ = writeln!(md, "**Thresholds broken ({}):**\n", c.breaches.len());
        for b in &c.breaches {
            let _ = writeln!(md, "- {b}");
        }
        md.push('\n');
    }
    let row = |d: &CaseDelta| format!("{} ({})", d.case, d.mode.as_str());

    let different: Vec<&CaseDelta> = c
        .deltas
        .iter()
        .filter(|d| !matches!(d.output, OutputChange::Same))
        .collect();
    if !different.is_empty() {
        let _ = writeln!(md, "## Output\n");
        for d in different {
            match &d.output {
                OutputChange::Different { diff } => {
                    let _ = writeln!(
                        md,
                        "<details><summary>{} differs</summary>\n\n```diff\n{}\n```\n</details>\n",
                        row(d),
                        diff.trim_end()
                    );
                }
                OutputChange::NotCompared { why } => {
                    let _ = writeln!(md, "- {} not compared: {why}", row(d));
                }
                OutputChange::Same => {}
            }
        }
        md.push('\n');
    }

    let heap: Vec<(&CaseDelta, &crate::analysis::ab::HeapDelta)> = c
        .deltas
        .iter()
        .flat_map(|d| d.heap.iter().map(move |m| (d, m)))
        .collect();
    if !heap.is_empty() {
        let _ = writeln!(
            md,
            "## Heap (bytes; only rows where a side measured)\n\n| case | metric | base | head | delta | |\n|---|---|---|---|---|---|"
        );
        let show = |v: Option<i64>| v.map_or("n/a".into(), |v| v.to_string());
        for (d, m) in heap {
            let (delta, p) = match (m.base, m.head) {
                (Some(b), Some(h)) => (format!("{:+}", h - b), pct(b as f64, h as f64)),
                _ => ("n/a".into(), String::new()),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {delta} | {p} |",
                row(d),
                m.metric,
                show(m.base),
                show(m.head)
            );
        }
        md.push('\n');
    }

    md.push_str(&frag_section(c, &row));

    let bytecode: Vec<&CaseDelta> = c.deltas.iter().filter(|d| d.bytecode.is_some()).collect();
    if !bytecode.is_empty() {
        let (mut tb, mut th) = (0, 0);
        let _ = writeln!(
            md,
            "## Bytecode (the compilers differ)\n\n| case | bytes | insns | opcode changes |\n|---|---|---|---|"
        );
        for d in bytecode {
            let Some(b) = &d.bytecode else { continue };
            (tb, th) = (tb + b.base_bytes, th + b.head_bytes);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                d.case,
                b.bytes(),
                b.instructions(),
                b.opcode_changes().join(", ")
            );
        }
        let _ = writeln!(md, "| **total** | {tb} → {th} ({:+}) | | |\n", th - tb);
    }
    for d in c.deltas.iter().filter(|d| d.bytecode_note.is_some()) {
        let _ = writeln!(
            md,
            "- bytecode of {} not compared: {}",
            d.case,
            d.bytecode_note.as_deref().unwrap_or_default()
        );
    }

    let timed: Vec<&CaseDelta> = c.deltas.iter().filter(|d| d.time.is_some()).collect();
    if !timed.is_empty() {
        let _ = writeln!(
            md,
            "## Time (ms, median [min–max] of {} runs a side; target: the case's run on the target's clock, else the whole trial's wall time)\n\n| case | base | head | change | |\n|---|---|---|---|---|",
            c.repeats
        );
        for d in timed {
            let Some(t) = &d.time else { continue };
            let _ = writeln!(
                md,
                "| {} | {:.3} [{:.3}–{:.3}] | {:.3} [{:.3}–{:.3}] | {} | {}{} |",
                row(d),
                t.base.median_ms,
                t.base.min_ms,
                t.base.max_ms,
                t.head.median_ms,
                t.head.min_ms,
                t.head.max_ms,
                pct(t.base.median_ms, t.head.median_ms),
                t.verdict.describe(),
                if t.on_target { ", target" } else { "" }
            );
        }
    }
    md
}

/// The terminal's closing lines: the headline, each broken threshold, the files.
pub fn console_summary(c: &Comparison, written: &[PathBuf]) {
    let mut err = std::io::stderr();
    let _ = std::io::Write::write_fmt(
        &mut err,
        format_args!(
            "compare {} → {}: {}\n",
            c.base.board,
            c.head.board,
            headline(c)
        ),
    );
    for (name, s) in [("base", &c.base), ("head", &c.head)] {
        if let Some(b) = &s.built {
            let _ = std::io::Write::write_fmt(&mut err, format_args!("  {name}: built from {b}\n"));
        }
    }
    for line in totals(c) {
        let _ = std::io::Write::write_fmt(&mut err, format_args!("  {line}\n"));
    }
    let colour = super::console::stderr_colour();
    let red = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    for b in &c.breaches {
        let word = super::console::paint(colour, red, "BROKEN");
        let _ = std::io::Write::write_fmt(&mut err, format_args!("  {word} {b}\n"));
    }
    let shown: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    let _ = std::io::Write::write_fmt(&mut err, format_args!("reports: {}\n", shown.join(", ")));
}

/// The free heap's shape after each case on both sides: free bytes, the largest free
/// block, free runs and the index, with their deltas (empty when no side measured it).
fn frag_section(c: &Comparison, row: &dyn Fn(&CaseDelta) -> String) -> String {
    let rows: Vec<(&CaseDelta, crate::analysis::ab::frag::FragDelta)> =
        c.deltas.iter().filter_map(|d| Some((d, d.frag?))).collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "## Heap fragmentation (after the case and a gc.collect(); base → head)\n\n{}\n\n| case | free bytes | largest free bytes | free runs | index |\n|---|---|---|---|---|\n",
        crate::model::heap::FRAG_LEGEND
    );
    let ints = |b: Option<i64>, h: Option<i64>| {
        let show = |v: Option<i64>| v.map_or("n/a".to_string(), |v| v.to_string());
        match (b, h) {
            (Some(b), Some(h)) => format!("{b} → {h} ({:+})", h - b),
            _ => format!("{} → {}", show(b), show(h)),
        }
    };
    for (d, f) in rows {
        let (b, h) = (f.base, f.head);
        let index = match (b, h) {
            (Some(b), Some(h)) => format!(
                "{:.4} → {:.4} ({:+.4})",
                b.index,
                h.index,
                h.index - b.index
            ),
            _ => format!(
                "{} → {}",
                b.map_or("n/a".into(), |s| format!("{:.4}", s.index)),
                h.map_or("n/a".into(), |s| format!("{:.4}", s.index))
            ),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {index} |",
            row(d),
            ints(b.map(|s| s.free_bytes), h.map(|s| s.free_bytes)),
            ints(
                b.map(|s| s.largest_free_bytes),
                h.map(|s| s.largest_free_bytes)
            ),
            ints(b.and_then(|s| s.free_runs), h.and_then(|s| s.free_runs)),
        );
    }
    md.push('\n');
    md
}
