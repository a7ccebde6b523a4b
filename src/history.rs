//! A history of every run in one SQLite file (by default the project's
//! `.mpcheck/history.sqlite`; `--history PATH` shares one): each trial's verdict,
//! duration, heap figures, board and the tools that ran, the git commit of the tests,
//! and the time. Runs are written in one transaction each, in WAL mode with a busy
//! timeout, so concurrent runs writing one file lose nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, params};

use crate::pipeline::TrialResult;
use crate::toolchain::ToolInfo;

#[derive(Debug, thiserror::Error)]
#[error("history {}: {source}", path.display())]
pub struct HistoryError {
    path: PathBuf,
    #[source]
    source: rusqlite::Error,
}

pub struct History {
    path: PathBuf,
    db: Connection,
}

/// How long a writer waits for another run's transaction to finish.
const BUSY: Duration = Duration::from_secs(30);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,        -- RFC 3339, UTC
    commit_id TEXT,               -- git commit of the project, when it is a checkout
    tools TEXT NOT NULL,          -- JSON: tool, path, version of every tool that ran
    duration_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    run INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    board TEXT NOT NULL,
    case_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    duration_ms INTEGER NOT NULL,
    heap TEXT NOT NULL,           -- JSON: the calibrated figures
    quarantined TEXT
);
CREATE INDEX IF NOT EXISTS trials_by_name ON trials(name, run);
";

/// One trial's past verdicts, newest last.
#[derive(Debug, Clone, PartialEq)]
pub struct Past {
    pub verdicts: Vec<String>,
    pub durations_ms: Vec<i64>,
    pub live_bytes: Vec<Option<i64>>,
}

impl Past {
    /// One more (older-to-newer) row: its verdict, duration and heap figures' JSON.
    fn push(&mut self, verdict: String, duration_ms: i64, heap: &str) {
        let live = serde_json::from_str::<crate::heap::HeapFigures>(heap)
            .ok()
            .and_then(|h| h.live_bytes);
        self.verdicts.push(verdict);
        self.durations_ms.push(duration_ms);
        self.live_bytes.push(live);
    }

    /// The share of runs that were flaky: a `flaky` verdict, or a verdict that flipped
    /// from the run before (a nightly that fails one night and passes the next).
    pub fn flake_rate(&self) -> f64 {
        let flaky = (0..self.verdicts.len())
            .filter(|&i| {
                self.verdicts[i] == "flaky" || (i > 0 && self.verdicts[i] != self.verdicts[i - 1])
            })
            .count();
        flaky as f64 / self.verdicts.len().max(1) as f64
    }
}

/// What the history says of a result: a new failure, a fix, a known flaky trial. Pure.
pub fn mark(past: Option<&Past>, now: &TrialResult) -> Option<String> {
    let past = past?;
    let last = past.verdicts.last()?;
    let failing = |v: &str| !matches!(v, "pass" | "skip");
    let flaky_runs = past.verdicts.iter().filter(|v| *v == "flaky").count();
    let now_failing = now.verdict.is_failure();
    if now_failing && flaky_runs > 0 {
        Some(format!(
            "known flaky: {flaky_runs} of the last {} runs",
            past.verdicts.len()
        ))
    } else if now_failing && !failing(last) {
        Some(format!("new failure (was {last} in the last run)"))
    } else if !now_failing && now.verdict.name() == "pass" && failing(last) {
        Some(format!("fixed (was {last} in the last run)"))
    } else {
        None
    }
}

impl History {
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        let err = |source| HistoryError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let db = Connection::open(path).map_err(err)?;
        db.busy_timeout(BUSY).map_err(err)?;
        db.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        db.execute_batch(SCHEMA).map_err(err)?;
        Ok(History {
            path: path.to_path_buf(),
            db,
        })
    }

    fn err(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError {
            path: self.path.clone(),
            source,
        }
    }

    /// Records a run and its results in one transaction; returns the run's id.
    pub fn record(
        &mut self,
        results: &[TrialResult],
        tools: &[ToolInfo],
        commit: Option<&str>,
        duration: Duration,
    ) -> Result<i64, HistoryError> {
        let tools = serde_json::to_string(tools).unwrap_or_default();
        let started = chrono::Utc::now().to_rfc3339();
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self_err(&self.path, e))?;
        tx.execute(
            "INSERT INTO runs (started, commit_id, tools, duration_ms) VALUES (?1, ?2, ?3, ?4)",
            params![started, commit, tools, duration.as_millis() as i64],
        )
        .map_err(|e| self_err(&self.path, e))?;
        let run = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO trials (run, name, board, case_id, mode, verdict, reason, duration_ms, heap, quarantined)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(|e| self_err(&self.path, e))?;
            for r in results {
                insert
                    .execute(params![
                        run,
                        r.name,
                        r.board,
                        r.case,
                        r.mode.as_str(),
                        r.verdict.name(),
                        r.verdict.reason(),
                        r.duration_ms as i64,
                        serde_json::to_string(&r.heap).unwrap_or_default(),
                        r.quarantined,
                    ])
                    .map_err(|e| self_err(&self.path, e))?;
            }
        }
        tx.commit().map_err(|e| self_err(&self.path, e))?;
        Ok(run)
    }

    /// The last `n` recorded results of every trial whose name contains `filter`.
    pub fn past(&self, filter: &str, n: usize) -> Result<BTreeMap<String, Past>, HistoryError> {
        let mut stmt = self
            .db
            .prepare(
                "SELECT name, verdict, duration_ms, heap FROM (
                   SELECT name, verdict, duration_ms, heap, run,
                          ROW_NUMBER() OVER (PARTITION BY name ORDER BY run DESC) AS k
                   FROM trials WHERE instr(name, ?1) > 0)
                 WHERE k <= ?2 ORDER BY name, run",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![filter, n as i64], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut past: BTreeMap<String, Past> = BTreeMap::new();
        for row in rows {
            let (name, verdict, ms, heap) = row.map_err(|e| self.err(e))?;
            past.entry(name)
                .or_insert_with(|| Past {
                    verdicts: Vec::new(),
                    durations_ms: Vec::new(),
                    live_bytes: Vec::new(),
                })
                .push(verdict, ms, &heap);
        }
        Ok(past)
    }

    /// The last `n` recorded results of each of these trials (a run's own names): one
    /// indexed lookup per name, so a run's cost does not grow with the history's length.
    pub fn past_of<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
        n: usize,
    ) -> Result<BTreeMap<String, Past>, HistoryError> {
        let mut stmt = self
            .db
            .prepare_cached(
                "SELECT verdict, duration_ms, heap FROM
                   (SELECT verdict, duration_ms, heap, run FROM trials
                    WHERE name = ?1 ORDER BY run DESC LIMIT ?2)
                 ORDER BY run",
            )
            .map_err(|e| self.err(e))?;
        let mut past = BTreeMap::new();
        for name in names {
            let rows = stmt
                .query_map(params![name, n as i64], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })
                .map_err(|e| self.err(e))?;
            let mut p = Past {
                verdicts: Vec::new(),
                durations_ms: Vec::new(),
                live_bytes: Vec::new(),
            };
            for row in rows {
                let (verdict, ms, heap) = row.map_err(|e| self.err(e))?;
                p.push(verdict, ms, &heap);
            }
            if !p.verdicts.is_empty() {
                past.insert(name.to_string(), p);
            }
        }
        Ok(past)
    }

    /// How many runs and trial rows the file holds.
    pub fn counts(&self) -> Result<(i64, i64), HistoryError> {
        let one = |sql: &str| {
            self.db
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map_err(|e| self.err(e))
        };
        Ok((
            one("SELECT COUNT(*) FROM runs")?,
            one("SELECT COUNT(*) FROM trials")?,
        ))
    }
}

fn self_err(path: &Path, source: rusqlite::Error) -> HistoryError {
    HistoryError {
        path: path.to_path_buf(),
        source,
    }
}

/// The project's git commit, when it is a checkout (for the record; absent otherwise).
pub fn git_commit(root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn past(verdicts: &[&str]) -> Past {
        Past {
            verdicts: verdicts.iter().map(|v| v.to_string()).collect(),
            durations_ms: vec![1; verdicts.len()],
            live_bytes: vec![None; verdicts.len()],
        }
    }

    #[test]
    fn a_runs_own_names_get_the_same_past_as_the_filtered_query() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("h.sqlite")).unwrap();
        for run in 1..=4 {
            h.db.execute(
                "INSERT INTO runs VALUES (?1, '2026-12-01T00:00:00Z', NULL, '[]', 1)",
                params![run],
            )
            .unwrap();
            for (name, verdict) in [("u::a", "pass"), ("u::ab", "fail"), ("u::c", "pass")] {
                let verdict = if run == 3 && name == "u::a" {
                    "flaky"
                } else {
                    verdict
                };
                h.db.execute(
                    "INSERT INTO trials VALUES (?1, ?2, 'u', 'x', 'source', ?3, NULL, ?1,
                     '{\"live_bytes\": 8}', NULL)",
                    params![run, name, verdict],
                )
                .unwrap();
            }
        }
        let all = h.past("", 3).unwrap();
        let own = h.past_of(["u::a", "u::ab", "u::new"], 3).unwrap();
        assert_eq!(own.keys().collect::<Vec<_>>(), ["u::a", "u::ab"]);
        assert_eq!(own["u::a"], all["u::a"]);
        assert_eq!(own["u::ab"], all["u::ab"]);
        assert_eq!(own["u::a"].verdicts, ["pass", "flaky", "pass"]);
        assert_eq!(own["u::a"].durations_ms, [2, 3, 4]);
        assert_eq!(own["u::a"].live_bytes, [Some(8); 3]);
    }

    #[test]
    fn flake_rate_counts_flaky_runs() {
        assert_eq!(
            past(&["pass", "flaky", "flaky", "flaky"]).flake_rate(),
            0.75
        );
        assert_eq!(past(&["pass", "fail", "pass", "pass"]).flake_rate(), 0.5);
        assert_eq!(past(&["pass", "pass"]).flake_rate(), 0.0);
        assert_eq!(past(&[]).flake_rate(), 0.0);
    }
}
