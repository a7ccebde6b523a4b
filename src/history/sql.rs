//! The history's schema and queries, one text for every store: `$N` parameters
//! (PostgreSQL's; the SQLite store turns them into `?N`), and only SQL both speak.

/// The tables; `{id}` is the store's auto-numbered key (the one part they spell apart).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id {id},
    started TEXT NOT NULL,        -- RFC 3339, UTC
    commit_id TEXT,               -- git commit of the project, when it is a checkout
    tools TEXT NOT NULL,          -- JSON: tool, path, version of every tool that ran
    duration_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    run BIGINT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    board TEXT NOT NULL,
    case_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    duration_ms BIGINT NOT NULL,
    heap TEXT NOT NULL,           -- JSON: the calibrated figures
    quarantined TEXT
);
CREATE INDEX IF NOT EXISTS trials_by_name ON trials(name, run);
";

pub const INSERT_RUN: &str = "INSERT INTO runs (started, commit_id, tools, duration_ms) VALUES ($1, $2, $3, $4) RETURNING id";

pub const INSERT_TRIAL: &str = "INSERT INTO trials
    (run, name, board, case_id, mode, verdict, reason, duration_ms, heap, quarantined)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// One trial's last `$2` results, oldest first: verdict, duration, heap JSON.
pub const RECENT: &str = "SELECT verdict, duration_ms, heap FROM
    (SELECT verdict, duration_ms, heap, run FROM trials WHERE name = $1 ORDER BY run DESC LIMIT $2) AS last
    ORDER BY run";

pub const NAMES: &str = "SELECT DISTINCT name FROM trials ORDER BY name";

pub const COUNT_RUNS: &str = "SELECT COUNT(*) FROM runs";

pub const COUNT_TRIALS: &str = "SELECT COUNT(*) FROM trials";
