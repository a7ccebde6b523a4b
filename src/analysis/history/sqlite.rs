//! The embedded history: one SQLite file, in WAL mode with a busy timeout, so
//! concurrent runs on one machine writing one file lose nothing.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, params};

use super::{Failure, FailureKind, RecentRow, RunRecord, Store, sql};

pub struct SqliteStore {
    db: Connection,
}

/// `$N` → `?N`: SQLite's numbered parameters.
fn q(text: &str) -> String {
    text.replace('$', "?")
}

fn failure(e: rusqlite::Error) -> Failure {
    let kind = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => FailureKind::Corrupt,
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => FailureKind::Locked,
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            FailureKind::Unopenable
        }
        _ => FailureKind::Failed,
    };
    Failure::new(kind, e)
}

impl SqliteStore {
    pub fn open(path: &Path, timeout: Duration) -> Result<SqliteStore, Failure> {
        if let Some(dir) = path.parent() {
            // A directory that cannot be made is said by the open that follows.
            let _ = std::fs::create_dir_all(dir);
        }
        let db = Connection::open(path).map_err(failure)?;
        db.busy_timeout(timeout).map_err(failure)?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(failure)?;
        let mut store = SqliteStore { db };
        store.migrate().map_err(failure)?;
        Ok(store)
    }

    /// Creates the tables and applies the migrations the file has not had, in one
    /// transaction taken for writing first: two runs opening one old file at once
    /// migrate it once. A file that is up to date is only read (`mpcheck history` of a
    /// file it may not write, or while a run holds the write lock).
    fn migrate(&mut self) -> rusqlite::Result<()> {
        let done = self.db.query_row(sql::VERSION, [], |r| r.get::<_, i64>(0));
        if done.is_ok_and(|v| v == sql::MIGRATIONS.len() as i64) {
            return Ok(());
        }
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(&sql::SCHEMA.replace("{id}", "INTEGER PRIMARY KEY"))?;
        let done: i64 = tx.query_row(sql::VERSION, [], |r| r.get(0))?;
        for (version, step) in (1..).zip(sql::MIGRATIONS).skip(done.max(0) as usize) {
            tx.execute_batch(step)?;
            tx.execute(&q(sql::SET_VERSION), params![version])?;
        }
        tx.commit()
    }
}

impl Store for SqliteStore {
    fn record(&mut self, run: &RunRecord) -> Result<i64, Failure> {
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failure)?;
        let id: i64 = tx
            .query_row(
                &q(sql::INSERT_RUN),
                params![
                    run.started,
                    run.commit,
                    run.tools.to_string(),
                    run.duration_ms,
                    super::record::sizes_json(run)
                ],
                |row| row.get(0),
            )
            .map_err(failure)?;
        {
            let mut insert = tx.prepare(&q(sql::INSERT_TRIAL)).map_err(failure)?;
            for t in &run.trials {
                insert
                    .execute(params![
                        id,
                        t.name,
                        t.board,
                        t.case_id,
                        t.mode,
                        t.verdict,
                        t.reason,
                        t.duration_ms,
                        t.heap.to_string(),
                        t.quarantined,
                        t.suite,
                        t.inputs,
                        t.target_us,
                    ])
                    .map_err(failure)?;
            }
        }
        tx.commit().map_err(failure)?;
        Ok(id)
    }

    fn recent(&mut self, suite: &str, name: &str, n: usize) -> Result<Vec<RecentRow>, Failure> {
        let mut stmt = self.db.prepare_cached(&q(sql::RECENT)).map_err(failure)?;
        let rows = stmt
            .query_map(params![suite, name, n as i64], |row| {
                Ok(RecentRow {
                    verdict: row.get(0)?,
                    duration_ms: row.get(1)?,
                    heap: row.get(2)?,
                    inputs: row.get(3)?,
                    target_us: row.get(4)?,
                })
            })
            .map_err(failure)?;
        rows.collect::<Result<_, _>>().map_err(failure)
    }

    fn sizes(&mut self, n: usize) -> Result<Vec<String>, Failure> {
        let mut stmt = self.db.prepare(&q(sql::SIZES)).map_err(failure)?;
        let rows = stmt
            .query_map(params![n as i64], |row| row.get(0))
            .map_err(failure)?;
        rows.collect::<Result<_, _>>().map_err(failure)
    }

    fn keys(&mut self) -> Result<Vec<(String, String)>, Failure> {
        let mut stmt = self.db.prepare(sql::KEYS).map_err(failure)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(failure)?;
        rows.collect::<Result<_, _>>().map_err(failure)
    }

    fn count(&mut self, query: &str) -> Result<i64, Failure> {
        self.db.query_row(query, [], |r| r.get(0)).map_err(failure)
    }
}
