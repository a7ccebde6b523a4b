//! `mpcheck history [FILTER]`: per trial, the last runs' verdicts, the flake rate, and
//! the heap and time trend, from the run history.

use std::path::PathBuf;

use clap::Args;

use crate::config::Project;
use crate::error::{Error, Result, exit};
use crate::history::{History, Past};

#[derive(Args)]
pub struct HistoryArgs {
    /// Only trials whose name contains this.
    pub filter: Option<String>,
    /// How many of the last runs to show per trial.
    #[arg(long, default_value_t = 10)]
    pub last: usize,
    /// The history file (default: the project's .mpcheck/history.sqlite).
    #[arg(long, value_name = "PATH")]
    pub history: Option<PathBuf>,
}

pub fn history(project: &Project, args: &HistoryArgs) -> Result<i32> {
    let path = args
        .history
        .clone()
        .unwrap_or_else(|| project.root.join(".mpcheck").join("history.sqlite"));
    let h = History::open(&path).map_err(|e| Error::Usage(e.to_string()))?;
    let past = h
        .past(args.filter.as_deref().unwrap_or(""), args.last.max(1))
        .map_err(|e| Error::Usage(e.to_string()))?;
    let (runs, rows) = h.counts().map_err(|e| Error::Usage(e.to_string()))?;
    println!("{}: {runs} runs, {rows} trial results", path.display());
    let width = past.keys().map(String::len).max().unwrap_or(5);
    println!(
        "{:width$}  {:<12} {:>6}  {:<22} time (ms, first→last)",
        "trial", "last runs", "flaky", "live bytes (first→last)"
    );
    for (name, p) in &past {
        println!(
            "{name:width$}  {:<12} {:>5.0}%  {:<22} {}",
            glyphs(p),
            p.flake_rate() * 100.0,
            trend(&p.live_bytes),
            trend(&p.durations_ms.iter().map(|d| Some(*d)).collect::<Vec<_>>())
        );
    }
    Ok(exit::OK)
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

fn trend(values: &[Option<i64>]) -> String {
    let known: Vec<i64> = values.iter().flatten().copied().collect();
    match (known.first(), known.last()) {
        (Some(a), Some(b)) if a == b => format!("{a} (steady)"),
        (Some(a), Some(b)) => format!("{a} → {b} ({:+})", b - a),
        _ => "-".into(),
    }
}
