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
CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
";

/// The schema's steps after [`SCHEMA`], in order: a store applies those its history has
/// not had, in the transaction that opens it, and notes each in `schema_version`. Only
/// columns are added, so a history written before stays readable (and writable by an
/// older mpcheck: the new columns take their defaults).
pub const MIGRATIONS: &[&str] = &[
    // 1: a trial's key names its suite ('' for rows recorded before: not known), and
    // each trial has the fingerprint of its inputs (NULL before: not known).
    "ALTER TABLE trials ADD COLUMN suite TEXT NOT NULL DEFAULT '';
     ALTER TABLE trials ADD COLUMN inputs TEXT;
     CREATE INDEX IF NOT EXISTS trials_by_key ON trials(suite, name, run);",
    // 2: each run's image sizes (JSON: board → text, data, bss; NULL before, or none built).
    "ALTER TABLE runs ADD COLUMN sizes TEXT;",
    // 3: each trial's time on the target, in µs (the median of its attempts'; NULL when
    // the target has no clock, or before).
    "ALTER TABLE trials ADD COLUMN target_us BIGINT;",
];

/// The last migration the history has had (0: none).
pub const VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_version";

pub const SET_VERSION: &str = "INSERT INTO schema_version (version) VALUES ($1)";

pub const INSERT_RUN: &str = "INSERT INTO runs (started, commit_id, tools, duration_ms, sizes) VALUES ($1, $2, $3, $4, $5) RETURNING id";

pub const INSERT_TRIAL: &str = "INSERT INTO trials
    (run, name, board, case_id, mode, verdict, reason, duration_ms, heap, quarantined, suite, inputs, target_us)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// One trial's (suite `$1`, name `$2`) last `$3` results, oldest first: verdict,
/// duration, heap JSON, inputs' fingerprint, time on the target.
pub const RECENT: &str = "SELECT verdict, duration_ms, heap, inputs, target_us FROM
    (SELECT verdict, duration_ms, heap, inputs, target_us, run FROM trials
     WHERE suite = $1 AND name = $2 ORDER BY run DESC LIMIT $3) AS last
    ORDER BY run";

/// The image sizes (JSON) of the last `$1` runs that recorded any, newest first.
pub const SIZES: &str = "SELECT sizes FROM runs WHERE sizes IS NOT NULL ORDER BY id DESC LIMIT $1";

/// Every trial's key: suite, name.
pub const KEYS: &str = "SELECT DISTINCT suite, name FROM trials ORDER BY suite, name";

pub const COUNT_RUNS: &str = "SELECT COUNT(*) FROM runs";

pub const COUNT_TRIALS: &str = "SELECT COUNT(*) FROM trials";
