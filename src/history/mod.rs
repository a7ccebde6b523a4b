//! A history of every run: each trial's verdict, duration, heap figures, board and the
//! tools that ran, the git commit of the tests, and the time. Two stores behind one
//! trait, with one schema and one set of queries ([`sql`]): an SQLite file (the
//! embedded default, `.mpcheck/history.sqlite`; `--history PATH` shares one) and a
//! PostgreSQL server (`--history postgres://…`, for runners on several hosts). Each run
//! is written in one transaction.
//!
//! A history is a sink that may fail (a corrupt file, a lock held past the timeout, a
//! server that is down): the run keeps its reports, and its [`RunRecord`] is kept in a
//! side file that `mpcheck history --import` records later.

mod postgres;
mod record;
pub mod sql;
mod sqlite;

pub use record::{RunRecord, TrialRow};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::pipeline::TrialResult;

/// How long a writer waits for another run's lock, or for a server to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a history is: a file, or a server's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is a server; anything else a file path.
    pub fn parse(arg: &str) -> Location {
        if arg.starts_with("postgres://") || arg.starts_with("postgresql://") {
            Location::Postgres(arg.to_string())
        } else {
            Location::Sqlite(PathBuf::from(arg))
        }
    }

    /// The given location, else the project's `.mpcheck/history.sqlite`.
    pub fn or_default(arg: Option<&str>, root: &Path) -> Location {
        arg.map_or_else(
            || Location::Sqlite(root.join(".mpcheck").join("history.sqlite")),
            Location::parse,
        )
    }
}

/// The location as said to the user and given back to `--history`: a URL's password
/// is never shown.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => {
                let hidden = regex::Regex::new(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@")
                    .map(|re| re.replace(url, "$1:***@").into_owned())
                    .unwrap_or_else(|_| url.clone());
                f.write_str(&hidden)
            }
        }
    }
}

/// How a history failed, for what to tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The file is not a database (a crashed disk, a half-copied file).
    Corrupt,
    /// Another writer held the lock past the timeout.
    Locked,
    /// The file or database cannot be opened as given (a directory, permissions, no
    /// such database, a refused login).
    Unopenable,
    /// The server did not answer.
    Unreachable,
    /// Anything else the store reported.
    Failed,
}

impl FailureKind {
    /// What to do about it.
    fn advice(self) -> &'static str {
        match self {
            FailureKind::Corrupt => {
                "the file is not a history database: move it aside, and the next run starts a new one"
            }
            FailureKind::Locked => {
                "another run held it locked past the timeout: wait longer with --history-timeout SECS"
            }
            FailureKind::Unopenable => {
                "it cannot be opened as given: check the path (or URL), its permissions, or choose another with --history"
            }
            FailureKind::Unreachable => {
                "the server cannot be reached: check that it is up and the URL's host and port"
            }
            FailureKind::Failed => "the store refused the request",
        }
    }
}

/// A store's failure, before it is placed at its location.
#[derive(Debug)]
pub struct Failure {
    kind: FailureKind,
    /// The store's own message, with its causes.
    message: String,
}

impl Failure {
    fn new(kind: FailureKind, e: impl std::error::Error) -> Failure {
        let mut message = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            let text = c.to_string();
            if text.contains(&message) {
                message = text;
            } else if !message.contains(&text) {
                message += &format!(": {text}");
            }
            cause = c.source();
        }
        Failure { kind, message }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("history {location}: {message} — {}", kind.advice())]
pub struct HistoryError {
    pub location: Location,
    pub kind: FailureKind,
    message: String,
}

/// What a history store does; the queries are [`sql`]'s, the same for every store.
trait Store {
    /// Records a run and its trials in one transaction; returns the run's id.
    fn record(&mut self, run: &RunRecord) -> Result<i64, Failure>;
    /// One trial's last `n` results, oldest first: verdict, duration, heap JSON.
    fn recent(&mut self, name: &str, n: usize) -> Result<Vec<(String, i64, String)>, Failure>;
    /// Every trial name recorded, sorted.
    fn names(&mut self) -> Result<Vec<String>, Failure>;
    /// A `SELECT COUNT(*)` query's answer.
    fn count(&mut self, query: &str) -> Result<i64, Failure>;
}

pub struct History {
    location: Location,
    store: Box<dyn Store>,
}

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
    /// Opens (creating the tables if needed) the history at `location`; `timeout` bounds
    /// the wait for another writer's lock and for a server's answer.
    pub fn open(location: &Location, timeout: Duration) -> Result<History, HistoryError> {
        let store: Result<Box<dyn Store>, Failure> = match location {
            Location::Sqlite(path) => {
                sqlite::SqliteStore::open(path, timeout).map(|s| Box::new(s) as Box<dyn Store>)
            }
            Location::Postgres(url) => {
                postgres::PostgresStore::open(url, timeout).map(|s| Box::new(s) as Box<dyn Store>)
            }
        };
        Ok(History {
            location: location.clone(),
            store: store.map_err(|f| at(location, f))?,
        })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    fn err(&self, f: Failure) -> HistoryError {
        at(&self.location, f)
    }

    /// Records a run and its results in one transaction; returns the run's id.
    pub fn record(&mut self, run: &RunRecord) -> Result<i64, HistoryError> {
        self.store.record(run).map_err(|f| at(&self.location, f))
    }

    /// The last `n` recorded results of every trial whose name contains `filter`.
    pub fn past(&mut self, filter: &str, n: usize) -> Result<BTreeMap<String, Past>, HistoryError> {
        let names = self.store.names().map_err(|f| self.err(f))?;
        self.past_of(
            names
                .iter()
                .map(String::as_str)
                .filter(|n| n.contains(filter)),
            n,
        )
    }

    /// The last `n` recorded results of each of these trials (a run's own names): one
    /// indexed lookup per name, so a run's cost does not grow with the history's length.
    pub fn past_of<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
        n: usize,
    ) -> Result<BTreeMap<String, Past>, HistoryError> {
        let mut past = BTreeMap::new();
        for name in names {
            let rows = self
                .store
                .recent(name, n)
                .map_err(|f| at(&self.location, f))?;
            let mut p = Past {
                verdicts: Vec::new(),
                durations_ms: Vec::new(),
                live_bytes: Vec::new(),
            };
            for (verdict, ms, heap) in rows {
                p.push(verdict, ms, &heap);
            }
            if !p.verdicts.is_empty() {
                past.insert(name.to_string(), p);
            }
        }
        Ok(past)
    }

    /// How many runs and trial rows the history holds.
    pub fn counts(&mut self) -> Result<(i64, i64), HistoryError> {
        let runs = self.store.count(sql::COUNT_RUNS).map_err(|f| self.err(f))?;
        let trials = self
            .store
            .count(sql::COUNT_TRIALS)
            .map_err(|f| self.err(f))?;
        Ok((runs, trials))
    }
}

fn at(location: &Location, f: Failure) -> HistoryError {
    HistoryError {
        location: location.clone(),
        kind: f.kind,
        message: f.message,
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
        let mut h = History::open(
            &Location::Sqlite(dir.path().join("h.sqlite")),
            DEFAULT_TIMEOUT,
        )
        .unwrap();
        for run in 1..=4 {
            let trial = |name: &str, verdict: &str| TrialRow {
                name: name.into(),
                board: "u".into(),
                case_id: "x".into(),
                mode: "source".into(),
                verdict: verdict.into(),
                reason: None,
                duration_ms: run,
                heap: serde_json::json!({"live_bytes": 8}),
                quarantined: None,
            };
            let a = if run == 3 { "flaky" } else { "pass" };
            let record = RunRecord {
                started: "2026-12-01T00:00:00Z".into(),
                commit: None,
                tools: serde_json::json!([]),
                duration_ms: 1,
                trials: vec![
                    trial("u::a", a),
                    trial("u::ab", "fail"),
                    trial("u::c", "pass"),
                ],
            };
            assert_eq!(h.record(&record).unwrap(), run);
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
