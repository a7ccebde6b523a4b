//! `mpcheck history [FILTER]`: per trial, the last runs' verdicts, the flake rate, and
//! the heap and time trend, from the run history (a file or a server); `--import FILE`
//! records a run that was kept in a side file when its history failed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::analysis::history::{History, Location, Past, RunRecord, SizeTrends, TrialKey, trend};
use crate::plan::config::Project;
use crate::util::error::{Error, Result, exit};

#[derive(Args)]
pub struct HistoryArgs {
    /// Only trials whose name contains this.
    pub filter: Option<String>,
    /// How many of the last runs to show per trial.
    #[arg(long, default_value_t = 10)]
    pub last: usize,
    /// The history: a file, or a PostgreSQL server's postgres:// URL (default: the
    /// project's .mpcheck/history.sqlite).
    #[arg(long, value_name = "PATH|URL")]
    pub history: Option<String>,
    /// Seconds to wait for another writer's lock or for the server to answer.
    #[arg(long, value_name = "SECS", default_value_t = crate::analysis::history::DEFAULT_TIMEOUT.as_secs())]
    pub history_timeout: u64,
    /// Record a run kept in a side file (`unrecorded-run-*.json`, written when a run's
    /// history failed), then rename it `*.imported`.
    #[arg(long, value_name = "FILE")]
    pub import: Option<PathBuf>,
}

pub fn history(project: &Project, args: &HistoryArgs) -> Result<i32> {
    let location = Location::or_default(args.history.as_deref(), &project.root);
    let mut h = History::open(&location, Duration::from_secs(args.history_timeout))?;
    if let Some(file) = &args.import {
        return import(&mut h, file);
    }
    let past = h.past(args.filter.as_deref().unwrap_or(""), args.last.max(1))?;
    let (runs, rows) = h.counts()?;
    let mut sizes = h.sizes(args.last.max(1))?;
    // A board's sizes are shown with its trials (all of them without a filter).
    sizes.retain(|board, _| {
        args.filter.is_none()
            || past
                .keys()
                .any(|k| k.name.starts_with(&format!("{board}::")))
    });
    let text = format!(
        "{location}: {}, {}\n",
        crate::util::words::count(runs as usize, "run", "runs"),
        crate::util::words::count(rows as usize, "trial result", "trial results")
    ) + &table(&past)
        + &size_table(&sizes);
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // A reader that stopped reading (`| head`) wanted no more.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(Error::io(Path::new("<stdout>"), e));
        }
        Ok(()) | Err(_) => {}
    }
    Ok(exit::OK)
}

/// Each suite's trials under its heading, one row per trial, then the legend.
fn table(past: &BTreeMap<TrialKey, Past>) -> String {
    let width = past.keys().map(|k| k.name.len()).max().unwrap_or(5);
    let mut text = format!(
        "{:width$}  {:<12} {:>6}  {:<22} {:<26} {:<28} {:<24} target µs (first→last)\n",
        "trial",
        "last runs",
        "flaky",
        "live bytes (first→last)",
        "largest free (first→last)",
        "frag index (first→last)",
        "time (ms, first→last)"
    );
    let mut suite = None;
    for (key, p) in past {
        if suite != Some(&key.suite) {
            text += &suite_heading(&key.suite);
            text.push('\n');
            suite = Some(&key.suite);
        }
        text += &format!(
            "{:width$}  {:<12} {:>5.0}%  {:<22} {:<26} {:<28} {:<24} {}\n",
            key.name,
            glyphs(p),
            p.flake_rate() * 100.0,
            trend(&p.live_bytes),
            trend(&p.largest_free_bytes),
            index_trend(&p.frag_index),
            trend(&p.durations_ms.iter().map(|d| Some(*d)).collect::<Vec<_>>()),
            trend(&p.target_us)
        );
    }
    text + LEGEND + "\n"
}

/// Each board's image size (text, data, bss) over the runs that built or flashed it.
fn size_table(sizes: &SizeTrends) -> String {
    if sizes.is_empty() {
        return String::new();
    }
    let width = sizes.keys().map(String::len).max().unwrap_or(5).max(5);
    let mut text = format!(
        "\n{:width$}  {:>5}  {:<26} {:<22} {}\n",
        "image", "runs", "text (first→last)", "data (first→last)", "bss (first→last)"
    );
    for (board, runs) in sizes {
        let of = |f: fn(&crate::tools::firmware_build::size::ImageSize) -> u64| {
            trend(&runs.iter().map(|s| Some(f(s) as i64)).collect::<Vec<_>>())
        };
        text += &format!(
            "{board:width$}  {:>5}  {:<26} {:<22} {}\n",
            runs.len(),
            of(|s| s.text),
            of(|s| s.data),
            of(|s| s.bss)
        );
    }
    text + "image: the board's firmware, or its VM built from a tree, in bytes per section as binutils' size counts them\n"
}

/// Records the kept run; the file is renamed so that it is not imported twice.
fn import(h: &mut History, file: &Path) -> Result<i32> {
    let text = crate::util::input::read_text(file, crate::util::input::cap::RESULTS, "kept run")?;
    let record: RunRecord = serde_json::from_str(&text).map_err(|e| {
        Error::config(
            file,
            e.line(),
            format!("not a kept run (unrecorded-run-*.json): {e}"),
        )
    })?;
    let id = h.record(&record)?;
    let mut done = file.as_os_str().to_owned();
    done.push(".imported");
    std::fs::rename(file, &done).map_err(|e| Error::io(file, e))?;
    println!(
        "{}: recorded as run {id} in {} ({}, started {}); the file is now {}",
        file.display(),
        h.location(),
        crate::util::words::count(record.trials.len(), "trial", "trials"),
        record.started,
        Path::new(&done).display()
    );
    Ok(exit::OK)
}

/// What the table's letters and its flaky rate mean.
const LEGEND: &str = "last runs, oldest first: . pass  F failure  ~ flaky  s skip; largest free: the largest free heap block after the case, in bytes; target µs: the case's (or benchmark's) time on the target's own clock, the median of its repeats (-: no clock); frag index: 1 − largest free / free total (-: not measured, or recorded before mpcheck measured it); flaky: the verdict changed within a run (repeats, retries), or from the run before with the same inputs (case, goldens, tools, board file)";

/// The line above a suite's trials.
fn suite_heading(key: &str) -> String {
    if key.is_empty() {
        "[suite not recorded: runs before mpcheck kept suites and inputs, never counted flaky between runs]".into()
    } else {
        format!("[{key}]")
    }
}

/// One character per run, oldest first: `.` pass, `F` failure, `~` flaky, `s` skip.
fn glyphs(p: &Past) -> String {
    p.verdicts
        .iter()
        .map(|v| match v.as_str() {
            "pass" => '.',
            "skip" => 's',
            "flaky" => '~',
            _ => 'F',
        })
        .collect()
}

/// [`trend`] of the fragmentation index, to 4 places (as the heap-by-mode table has it).
fn index_trend(values: &[Option<f64>]) -> String {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    match (known.first(), known.last()) {
        (Some(a), Some(b)) if format!("{a:.4}") == format!("{b:.4}") => format!("{a:.4} (steady)"),
        (Some(a), Some(b)) => format!("{a:.4} → {b:.4} ({:+.4})", b - a),
        _ => "-".into(),
    }
}
