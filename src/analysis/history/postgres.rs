//! The history on a PostgreSQL server (`--history postgres://…`): the same schema and
//! queries as the SQLite file, for runners on several hosts writing one history (each
//! run one transaction; the server orders concurrent writers).

use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, NoTls};

use super::{Failure, FailureKind, RecentRow, RunRecord, Store, sql};

pub struct PostgresStore {
    client: Client,
}

/// Connecting failed: no answer is an unreachable server; an answer (no such database,
/// a refused login) is a history that cannot be opened as given.
fn connect_failure(e: postgres::Error) -> Failure {
    let kind = match e.code() {
        None => FailureKind::Unreachable,
        Some(_) => FailureKind::Unopenable,
    };
    Failure::new(kind, e)
}

fn failure(e: postgres::Error) -> Failure {
    let kind = match e.code() {
        Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE || *c == SqlState::QUERY_CANCELED => {
            FailureKind::Locked
        }
        None if e.is_closed() => FailureKind::Unreachable,
        _ => FailureKind::Failed,
    };
    Failure::new(kind, e)
}

/// Any key: it only keeps concurrent first runs from creating the tables twice.
const SCHEMA_LOCK: i64 = 0x006d_7063_6865_636b;

impl PostgresStore {
    pub fn open(url: &str, timeout: Duration) -> Result<PostgresStore, Failure> {
        let mut config: postgres::Config = url.parse().map_err(connect_failure)?;
        config
            .connect_timeout(timeout)
            .options(&format!("-c lock_timeout={}", timeout.as_millis()));
        let mut client = config.connect(NoTls).map_err(connect_failure)?;
        let mut tx = client.transaction().map_err(failure)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(failure)?;
        tx.batch_execute(&sql::SCHEMA.replace("{id}", "BIGSERIAL PRIMARY KEY"))
            .map_err(failure)?;
        // The migrations the database has not had, under the same lock.
        let done: i64 = tx.query_one(sql::VERSION, &[]).map_err(failure)?.get(0);
        for (version, step) in (1_i64..).zip(sql::MIGRATIONS).skip(done.max(0) as usize) {
            tx.batch_execute(step).map_err(failure)?;
            tx.execute(sql::SET_VERSION, &[&version]).map_err(failure)?;
        }
        tx.commit().map_err(failure)?;
        Ok(PostgresStore { client })
    }
}

impl Store for PostgresStore {
    fn record(&mut self, run: &RunRecord) -> Result<i64, Failure> {
        let mut tx = self.client.transaction().map_err(failure)?;
        let tools = run.tools.to_string();
        let sizes = super::record::sizes_json(run);
        let id: i64 = tx
            .query_one(
                sql::INSERT_RUN,
                &[&run.started, &run.commit, &tools, &run.duration_ms, &sizes],
            )
            .map_err(failure)?
            .get(0);
        let insert = tx.prepare(sql::INSERT_TRIAL).map_err(failure)?;
        for t in &run.trials {
            let heap = t.heap.to_string();
            tx.execute(
                &insert,
                &[
                    &id,
                    &t.name,
                    &t.board,
                    &t.case_id,
                    &t.mode,
                    &t.verdict,
                    &t.reason,
                    &t.duration_ms,
                    &heap,
                    &t.quarantined,
                    &t.suite,
                    &t.inputs,
                    &t.target_us,
                ],
            )
            .map_err(failure)?;
        }
        tx.commit().map_err(failure)?;
        Ok(id)
    }

    fn recent(&mut self, suite: &str, name: &str, n: usize) -> Result<Vec<RecentRow>, Failure> {
        let rows = self
            .client
            .query(sql::RECENT, &[&suite, &name, &(n as i64)])
            .map_err(failure)?;
        Ok(rows
            .iter()
            .map(|r| RecentRow {
                verdict: r.get(0),
                duration_ms: r.get(1),
                heap: r.get(2),
                inputs: r.get(3),
                target_us: r.get(4),
            })
            .collect())
    }

    fn sizes(&mut self, n: usize) -> Result<Vec<String>, Failure> {
        let rows = self
            .client
            .query(sql::SIZES, &[&(n as i64)])
            .map_err(failure)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn keys(&mut self) -> Result<Vec<(String, String)>, Failure> {
        let rows = self.client.query(sql::KEYS, &[]).map_err(failure)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn count(&mut self, query: &str) -> Result<i64, Failure> {
        Ok(self.client.query_one(query, &[]).map_err(failure)?.get(0))
    }
}
