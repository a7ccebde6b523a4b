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

mod inputs;
mod past;
mod postgres;
mod record;
pub mod sql;
mod sqlite;

pub use inputs::Suite;
pub use past::{Past, trend};
pub use record::{RunRecord, TrialRow, recorded_target_us};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::pipeline::TrialResult;
use crate::tools::firmware_build::size::ImageSize;

/// Each board's image sizes over the runs, oldest first.
pub type SizeTrends = BTreeMap<String, Vec<ImageSize>>;

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

impl From<HistoryError> for crate::util::error::Error {
    fn from(e: HistoryError) -> Self {
        crate::util::error::Error::part(e)
    }
}

/// What a history store does; the queries are [`sql`]'s, the same for every store.
trait Store {
    /// Records a run and its trials in one transaction; returns the run's id.
    fn record(&mut self, run: &RunRecord) -> Result<i64, Failure>;
    /// One trial's (suite, name) last `n` results, oldest first.
    fn recent(&mut self, suite: &str, name: &str, n: usize) -> Result<Vec<RecentRow>, Failure>;
    /// The image sizes (JSON) of the last `n` runs that recorded any, newest first.
    fn sizes(&mut self, n: usize) -> Result<Vec<String>, Failure>;
    /// Every trial key (suite, name) recorded, sorted.
    fn keys(&mut self) -> Result<Vec<(String, String)>, Failure>;
    /// A `SELECT COUNT(*)` query's answer.
    fn count(&mut self, query: &str) -> Result<i64, Failure>;
}

/// One recorded result, as [`sql::RECENT`] reads it.
struct RecentRow {
    verdict: String,
    duration_ms: i64,
    /// The heap figures' JSON.
    heap: String,
    inputs: Option<String>,
    /// The time on the target, in µs.
    target_us: Option<i64>,
}

pub struct History {
    location: Location,
    store: Box<dyn Store>,
}

/// A trial's key in the history: its suite ([`Suite::key`], empty when not recorded)
/// and its name (board, case, mode).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TrialKey {
    pub suite: String,
    pub name: String,
}

/// What the history says of a result: a new failure, a fix, a known flaky trial; nothing
/// of a result that says nothing about its case (cut short by Ctrl-C, never started).
pub fn mark(past: Option<&Past>, now: &TrialResult) -> Option<String> {
    mark_given(past, now, crate::util::interrupt::requested())
}

/// [`mark`], told whether the run was interrupted. Pure.
fn mark_given(past: Option<&Past>, now: &TrialResult, run_interrupted: bool) -> Option<String> {
    let (verdict, _) = record::recorded_verdict(now, run_interrupted)?;
    let past = past?;
    let last = past.verdicts.last()?;
    let failing = |v: &str| !matches!(v, "pass" | "skip");
    let flaky_runs = (0..past.verdicts.len())
        .filter(|&i| past.flaky_at(i))
        .count();
    let now_failing = verdict.is_failure();
    if now_failing && flaky_runs > 0 {
        Some(format!(
            "known flaky: {flaky_runs} of the last {} runs",
            past.verdicts.len()
        ))
    } else if now_failing && !failing(last) {
        Some(format!("new failure (was {last} in the last run)"))
    } else if !now_failing && verdict.name() == "pass" && failing(last) {
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

    /// The last `n` recorded results of every trial whose name contains `filter`, in
    /// every suite.
    pub fn past(
        &mut self,
        filter: &str,
        n: usize,
    ) -> Result<BTreeMap<TrialKey, Past>, HistoryError> {
        let keys = self.store.keys().map_err(|f| self.err(f))?;
        let mut past = BTreeMap::new();
        for (suite, name) in keys.into_iter().filter(|(_, n)| n.contains(filter)) {
            let p = self.recent(&suite, &name, n)?;
            if !p.verdicts.is_empty() {
                past.insert(TrialKey { suite, name }, p);
            }
        }
        Ok(past)
    }

    /// The last `n` recorded results of each of these trials of `suite` (a run's own
    /// names), by name: one indexed lookup per name, so a run's cost does not grow with
    /// the history's length.
    pub fn past_in<'a>(
        &mut self,
        suite: &Suite,
        names: impl IntoIterator<Item = &'a str>,
        n: usize,
    ) -> Result<BTreeMap<String, Past>, HistoryError> {
        let mut past = BTreeMap::new();
        for name in names {
            let p = self.recent(suite.key(), name, n)?;
            if !p.verdicts.is_empty() {
                past.insert(name.to_string(), p);
            }
        }
        Ok(past)
    }

    fn recent(&mut self, suite: &str, name: &str, n: usize) -> Result<Past, HistoryError> {
        let rows = self
            .store
            .recent(suite, name, n)
            .map_err(|f| at(&self.location, f))?;
        let mut p = Past::default();
        for row in rows {
            p.push(row);
        }
        Ok(p)
    }

    /// Each board's image sizes over the last `n` runs that recorded any, oldest first
    /// (a board's list has a run only where it was built or flashed then). A row this
    /// mpcheck cannot read is left out.
    pub fn sizes(&mut self, n: usize) -> Result<SizeTrends, HistoryError> {
        let rows = self.store.sizes(n).map_err(|f| self.err(f))?;
        let mut trends = SizeTrends::new();
        for json in rows.iter().rev() {
            let Ok(run) = serde_json::from_str::<BTreeMap<String, ImageSize>>(json) else {
                continue;
            };
            for (board, size) in run {
                trends.entry(board).or_default().push(size);
            }
        }
        Ok(trends)
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

    /// A past of these verdicts, each run's inputs named by one letter (`-`: not known).
    fn past(verdicts: &[&str], inputs: &str) -> Past {
        Past {
            verdicts: verdicts.iter().map(|v| v.to_string()).collect(),
            durations_ms: vec![1; verdicts.len()],
            live_bytes: vec![None; verdicts.len()],
            inputs: inputs
                .chars()
                .map(|c| (c != '-').then(|| c.to_string()))
                .collect(),
            ..Past::default()
        }
    }

    fn row(suite: &str, name: &str, verdict: &str, inputs: Option<&str>, ms: i64) -> TrialRow {
        TrialRow {
            suite: suite.into(),
            name: name.into(),
            board: "u".into(),
            case_id: "x".into(),
            mode: "source".into(),
            verdict: verdict.into(),
            reason: None,
            duration_ms: ms,
            heap: serde_json::json!({"live_bytes": 8}),
            quarantined: None,
            inputs: inputs.map(str::to_string),
            target_us: Some(ms * 1000 + 7),
        }
    }

    fn run(trials: Vec<TrialRow>) -> RunRecord {
        RunRecord {
            started: "2026-12-01T00:00:00Z".into(),
            commit: None,
            tools: serde_json::json!([]),
            duration_ms: 1,
            trials,
            sizes: BTreeMap::new(),
        }
    }

    fn open(path: &Path) -> History {
        History::open(&Location::Sqlite(path.to_path_buf()), DEFAULT_TIMEOUT).unwrap()
    }

    #[test]
    fn a_runs_own_names_get_the_same_past_as_the_filtered_query() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = open(&dir.path().join("h.sqlite"));
        let cases = Suite::cases(dir.path());
        for ms in 1..=4 {
            let a = if ms == 3 { "flaky" } else { "pass" };
            let record = run(vec![
                row("cases/", "u::a", a, Some("i"), ms),
                row("cases/", "u::ab", "fail", Some("i"), ms),
                row("cases/", "u::c", "pass", Some("i"), ms),
            ]);
            assert_eq!(h.record(&record).unwrap(), ms);
        }
        let all = h.past("", 3).unwrap();
        let own = h.past_in(&cases, ["u::a", "u::ab", "u::new"], 3).unwrap();
        assert_eq!(own.keys().collect::<Vec<_>>(), ["u::a", "u::ab"]);
        let key = |name: &str| TrialKey {
            suite: "cases/".into(),
            name: name.into(),
        };
        assert_eq!(own["u::a"], all[&key("u::a")]);
        assert_eq!(own["u::ab"], all[&key("u::ab")]);
        assert_eq!(own["u::a"].verdicts, ["pass", "flaky", "pass"]);
        assert_eq!(own["u::a"].durations_ms, [2, 3, 4]);
        assert_eq!(own["u::a"].target_us, [Some(2007), Some(3007), Some(4007)]);
        assert_eq!(own["u::a"].live_bytes, [Some(8); 3]);
    }

    #[test]
    fn each_boards_image_sizes_are_kept_per_run_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = open(&dir.path().join("h.sqlite"));
        let size = |text| ImageSize {
            text,
            data: 16,
            bss: 100,
        };
        // A run that built nothing records no sizes; the others the boards they built.
        h.record(&run(vec![])).unwrap();
        for (text, with_b) in [(1000, true), (1040, false), (990, true)] {
            let mut r = run(vec![]);
            r.sizes.insert("a".into(), size(text));
            if with_b {
                r.sizes.insert("b".into(), size(text * 2));
            }
            h.record(&r).unwrap();
        }
        let trends = h.sizes(10).unwrap();
        assert_eq!(trends["a"], [size(1000), size(1040), size(990)]);
        assert_eq!(trends["b"], [size(2000), size(1980)]);
        // The last two runs that recorded sizes.
        assert_eq!(h.sizes(2).unwrap()["a"], [size(1040), size(990)]);
    }

    #[test]
    fn flaky_is_a_change_with_nothing_changed() {
        // Within a run: its attempts disagreed.
        assert_eq!(
            past(&["pass", "flaky", "flaky", "flaky"], "aaaa").flake_rate(),
            0.75
        );
        // Between runs of the same inputs.
        assert_eq!(
            past(&["pass", "fail", "pass", "pass"], "aaaa").flake_rate(),
            0.5
        );
        // A maintainer's golden edits and their reverts: `.....FF.FF`.
        let edits = [
            "pass", "pass", "pass", "pass", "pass", "fail", "fail", "pass", "fail", "fail",
        ];
        assert_eq!(past(&edits, "aaaaabbacc").flake_rate(), 0.0);
        // The same verdicts from the same inputs would have been 30 %.
        assert_eq!(past(&edits, "aaaaaaaaaa").flake_rate(), 0.3);
        // Rows recorded before fingerprints were: never flaky between runs.
        assert_eq!(past(&["pass", "fail", "pass"], "---").flake_rate(), 0.0);
        assert_eq!(
            past(&["pass", "fail", "pass"], "-aa").flake_rate(),
            1.0 / 3.0
        );
        assert_eq!(past(&["pass", "pass"], "aa").flake_rate(), 0.0);
        assert_eq!(past(&[], "").flake_rate(), 0.0);
    }

    #[test]
    fn suites_keep_their_own_verdicts_under_one_trial_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = open(&dir.path().join("h.sqlite"));
        let cases = Suite::cases(dir.path());
        let native = Suite::tests(dir.path(), Path::new("/mp/tests"), "native");
        let bytecode = Suite::tests(dir.path(), Path::new("/mp/tests"), "bytecode");
        for _ in 0..2 {
            h.record(&run(vec![
                row(cases.key(), "unix::basics/sys1", "pass", Some("c"), 1),
                row(native.key(), "unix::basics/sys1", "fail", Some("n"), 1),
                row(bytecode.key(), "unix::basics/sys1", "skip", Some("b"), 1),
            ]))
            .unwrap();
        }
        let name = ["unix::basics/sys1"];
        assert_eq!(
            h.past_in(&cases, name, 5).unwrap()[name[0]].verdicts,
            ["pass"; 2]
        );
        assert_eq!(
            h.past_in(&native, name, 5).unwrap()[name[0]].verdicts,
            ["fail"; 2]
        );
        assert_eq!(
            h.past_in(&bytecode, name, 5).unwrap()[name[0]].verdicts,
            ["skip"; 2]
        );
        let all = h.past("sys1", 5).unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.values().all(|p| p.flake_rate() == 0.0));
    }

    /// The schema and insert of the history before it had suites and fingerprints.
    const OLD_SCHEMA: &str = "
        CREATE TABLE runs (id INTEGER PRIMARY KEY, started TEXT NOT NULL, commit_id TEXT,
            tools TEXT NOT NULL, duration_ms BIGINT NOT NULL);
        CREATE TABLE trials (run BIGINT NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
            board TEXT NOT NULL, case_id TEXT NOT NULL, mode TEXT NOT NULL,
            verdict TEXT NOT NULL, reason TEXT, duration_ms BIGINT NOT NULL,
            heap TEXT NOT NULL, quarantined TEXT);
        CREATE INDEX trials_by_name ON trials(name, run);";

    #[test]
    fn a_history_written_before_suites_stays_readable_and_its_rows_are_never_flaky_between_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let db = rusqlite::Connection::open(&path).unwrap();
            db.execute_batch(OLD_SCHEMA).unwrap();
            for (id, verdict) in [(1, "pass"), (2, "fail"), (3, "pass")] {
                db.execute(
                    "INSERT INTO runs VALUES (?1, '2026-11-01T00:00:00Z', NULL, '[]', 1)",
                    [id],
                )
                .unwrap();
                db.execute(
                    "INSERT INTO trials VALUES (?1, 'unix::g/t', 'unix', 'g/t', 'source', ?2, NULL, 4, '{}', NULL)",
                    rusqlite::params![id, verdict],
                )
                .unwrap();
            }
        }
        let mut h = open(&path);
        let old = h.past("", 10).unwrap();
        let key = TrialKey {
            suite: String::new(),
            name: "unix::g/t".into(),
        };
        assert_eq!(old[&key].verdicts, ["pass", "fail", "pass"]);
        assert_eq!(old[&key].inputs, [None, None, None]);
        assert_eq!(old[&key].target_us, [None, None, None]);
        assert_eq!(old[&key].flake_rate(), 0.0);
        // A new run is keyed by its suite; reopening migrates nothing twice.
        h.record(&run(vec![row("cases/", "unix::g/t", "pass", Some("a"), 1)]))
            .unwrap();
        drop(h);
        let mut h = open(&path);
        assert_eq!(h.counts().unwrap(), (4, 4));
        assert_eq!(h.past("", 10).unwrap().len(), 2);
        let version: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(sql::VERSION, [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, sql::MIGRATIONS.len() as i64);
    }

    #[test]
    fn an_up_to_date_history_opens_for_reading_while_a_run_holds_its_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        open(&path)
            .record(&run(vec![row("cases/", "u::a", "pass", Some("i"), 1)]))
            .unwrap();
        let mut writer = rusqlite::Connection::open(&path).unwrap();
        let _held = writer
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        let mut h =
            History::open(&Location::Sqlite(path.clone()), Duration::from_millis(200)).unwrap();
        assert_eq!(h.past("", 5).unwrap().len(), 1);
    }

    /// A result as `results.json` has it, with `verdict`.
    fn result(verdict: crate::model::verdict::Verdict) -> TrialResult {
        let mut r: TrialResult = serde_json::from_value(serde_json::json!({
            "name": "u::a", "board": "u", "case": "g/a", "mode": "source",
            "verdict": "pass", "duration_ms": 3, "heap": {},
        }))
        .unwrap();
        r.verdict = verdict;
        r
    }

    #[test]
    fn a_result_cut_short_gets_no_mark_and_edits_are_no_known_flakiness() {
        use crate::model::verdict::Verdict;
        let was_passing = past(&["pass", "pass"], "aa");
        let stopped = result(Verdict::Error {
            message: crate::targets::process::INTERRUPTED.into(),
        });
        assert_eq!(mark_given(Some(&was_passing), &stopped, true), None);
        let failed = result(Verdict::Fail);
        assert_eq!(
            mark_given(Some(&was_passing), &failed, false).as_deref(),
            Some("new failure (was pass in the last run)")
        );
        // A golden edited and reverted: the failure now is new, not known flaky.
        let edited = past(&["pass", "fail", "pass"], "aba");
        assert_eq!(
            mark_given(Some(&edited), &failed, false).as_deref(),
            Some("new failure (was pass in the last run)")
        );
        let flipped = past(&["pass", "fail", "pass"], "aaa");
        assert_eq!(
            mark_given(Some(&flipped), &failed, false).as_deref(),
            Some("known flaky: 2 of the last 3 runs")
        );
    }
}
