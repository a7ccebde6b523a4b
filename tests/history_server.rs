//! The run history on a real PostgreSQL server: one started by this test in a temp dir
//! on a loopback port (Debian's `postgresql`: initdb, pg_ctl), stopped afterwards.
//! Ignored, with the reason, where PostgreSQL is not installed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

mod support;
use support::{Fixture, state_dir, stderr};

fn main() {
    let args = Arguments::from_args();
    type Test = fn(&Server) -> Result<(), Failed>;
    let tests: Vec<(&str, Test)> = vec![
        (
            "three_concurrent_runs_keep_every_run_and_show_as_with_sqlite",
            concurrent_runs,
        ),
        (
            "a_kept_run_imports_and_a_missing_database_is_said",
            import_and_missing_database,
        ),
        (
            "a_database_written_before_suites_is_migrated_and_stays_readable",
            old_database,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            Trial::ignorable_test(name, move || match pg_bin() {
                Ok(bin) => {
                    let server = Server::start(&bin).map_err(Failed::from)?;
                    test(&server).map(|()| Completion::Completed)
                }
                Err(why) => Ok(Completion::ignored_with(format!(
                    "PostgreSQL unavailable: {why}"
                ))),
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// The directory holding initdb and pg_ctl: on PATH, or Debian's versioned directory.
fn pg_bin() -> Result<PathBuf, String> {
    if let Ok(initdb) = which::which("initdb") {
        let real = initdb.canonicalize().unwrap_or(initdb);
        return Ok(real.parent().unwrap().to_path_buf());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        "no initdb on PATH or in /usr/lib/postgresql (apt-get install postgresql)".into()
    })
}

/// A server in its own temp dir. initdb refuses to run as root: as root (CI), the
/// server runs as the `postgres` user Debian's package makes.
struct Server {
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Server {
    fn start(bin: &Path) -> Result<Server, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let as_postgres = unsafe { libc::geteuid() } == 0;
        if as_postgres {
            let uid = Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .map_err(|e| e.to_string())?;
            let uid: u32 = String::from_utf8_lossy(&uid.stdout)
                .trim()
                .parse()
                .map_err(|_| "running as root and there is no `postgres` user".to_string())?;
            std::os::unix::fs::chown(dir.path(), Some(uid), None).map_err(|e| e.to_string())?;
        }
        let data = dir.path().join("data");
        // A free loopback port, released for the server to take.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let server = Server {
            bin: bin.to_path_buf(),
            data,
            _dir: dir,
            port,
            as_postgres,
        };
        let data = server.data.to_str().unwrap().to_string();
        server.pg(
            "initdb",
            &["-D", &data, "-U", "mpcheck", "--auth=trust", "--no-sync"],
        )?;
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} -c fsync=off"
        );
        let log = format!("{data}/server.log");
        server.pg(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &opts, "-w", "start"],
        )?;
        Ok(server)
    }

    fn pg(&self, tool: &str, args: &[&str]) -> Result<Output, String> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{tool} {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                stderr(&out)
            ));
        }
        Ok(out)
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://mpcheck@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap().to_string();
        let _ = self.pg("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}

fn five_cases() -> Fixture {
    let f = Fixture::empty();
    f.write("boards/unix.yaml", "kind: unix\ntimeout: 10\n");
    for (name, out, golden) in [
        ("a", 1, 1),
        ("b", 2, 3),
        ("c", 4, 4),
        ("d", 5, 5),
        ("e", 6, 6),
    ] {
        f.write(
            &format!("cases/g/{name}.py"),
            &format!("# ---\n# modes: [source]\n# ---\nx = [0] * 8\nprint({out})\n"),
        );
        f.write(&format!("golden/g/{name}.out"), &format!("{golden}\n"));
    }
    f
}

/// Three runs at once into one history, each with its own report dir.
fn three_at_once(f: &Fixture, history: &str) -> Result<(), Failed> {
    let spawn = |k: usize| {
        Command::new(env!("CARGO_BIN_EXE_mpcheck"))
            .arg("--root")
            .arg(f.root())
            .args(["run", "-j", "1", "--history", history, "--report-dir"])
            .arg(f.root().join(format!("r{k}")))
            .env("MPCHECK_HOME", state_dir())
            .env("CI", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (1..=3).map(spawn).collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        if out.status.code() != Some(1) {
            return Err(format!("a run exited {:?}: {}", out.status, stderr(&out)).into());
        }
    }
    Ok(())
}

/// `mpcheck history`'s table without its first line (which names the history) and
/// without the time columns (each run measures its own).
fn shown(f: &Fixture, history: &str) -> Result<(String, String), Failed> {
    let out = f.mpcheck(&["history", "--history", history]);
    if out.status.code() != Some(0) {
        return Err(stderr(&out).into());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let time =
        regex::Regex::new(r"\s+(\d+ \(steady\)|\d+ → \d+ \([+-]\d+\)|-|time \(ms, first→last\)|target µs \(first→last\))$")
            .unwrap();
    // The last two columns: the target's time, then the wall time.
    let table = rest
        .lines()
        .map(|l| time.replace(&time.replace(l, ""), "").into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    Ok((first.to_string(), table))
}

fn concurrent_runs(server: &Server) -> Result<(), Failed> {
    let f = five_cases();
    let url = server.url("postgres");
    three_at_once(&f, &url)?;
    let (first, pg_table) = shown(&f, &url)?;
    if !first.ends_with(": 3 runs, 15 trial results") {
        return Err(format!("not every run and trial: {first}").into());
    }
    let sqlite = f.root().join("h.sqlite");
    three_at_once(&f, sqlite.to_str().unwrap())?;
    let (first, sqlite_table) = shown(&f, sqlite.to_str().unwrap())?;
    if !first.ends_with(": 3 runs, 15 trial results") {
        return Err(format!("SQLite: {first}").into());
    }
    if pg_table != sqlite_table {
        return Err(format!("PostgreSQL:\n{pg_table}\nSQLite:\n{sqlite_table}").into());
    }
    if !pg_table.contains("unix::g/b") || !pg_table.contains("FFF") {
        return Err(format!("the failing case's three runs: {pg_table}").into());
    }
    println!("{pg_table}");
    Ok(())
}

fn import_and_missing_database(server: &Server) -> Result<(), Failed> {
    let f = five_cases();
    let missing = server.url("nosuch");
    let run = f.mpcheck(&["run", "--history", &missing]);
    let err = stderr(&run);
    if run.status.code() != Some(1) || !err.contains("cannot be opened") || !err.contains(&missing)
    {
        return Err(format!("exit {:?}: {err}", run.status).into());
    }
    let side = std::fs::read_dir(f.root().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("unrecorded-run-"))
        .ok_or("no kept run")?;
    let url = server.url("postgres");
    let import = f.mpcheck(&[
        "history",
        "--history",
        &url,
        "--import",
        side.to_str().unwrap(),
    ]);
    if import.status.code() != Some(0) {
        return Err(stderr(&import).into());
    }
    let (first, _) = shown(&f, &url)?;
    if !first.ends_with(": 1 run, 5 trial results") {
        return Err(first.into());
    }
    Ok(())
}

/// The tables as mpcheck made them before trials had a suite and an inputs fingerprint.
const OLD_SCHEMA: &str = "
    CREATE TABLE runs (id BIGSERIAL PRIMARY KEY, started TEXT NOT NULL, commit_id TEXT,
        tools TEXT NOT NULL, duration_ms BIGINT NOT NULL);
    CREATE TABLE trials (run BIGINT NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
        board TEXT NOT NULL, case_id TEXT NOT NULL, mode TEXT NOT NULL,
        verdict TEXT NOT NULL, reason TEXT, duration_ms BIGINT NOT NULL,
        heap TEXT NOT NULL, quarantined TEXT);
    CREATE INDEX trials_by_name ON trials(name, run);";

/// An old database's three runs of `unix::g/b` (pass, fail, pass) stay readable, under
/// no suite and never flaky between runs, beside the run recorded after them.
fn old_database(server: &Server) -> Result<(), Failed> {
    let mut admin = postgres::Client::connect(&server.url("postgres"), postgres::NoTls)?;
    admin.batch_execute("CREATE DATABASE old")?;
    let mut old = postgres::Client::connect(&server.url("old"), postgres::NoTls)?;
    old.batch_execute(OLD_SCHEMA)?;
    for verdict in ["pass", "fail", "pass"] {
        old.batch_execute(&format!(
            "WITH r AS (INSERT INTO runs (started, tools, duration_ms)
                 VALUES ('2026-11-01T00:00:00Z', '[]', 1) RETURNING id)
             INSERT INTO trials SELECT id, 'unix::g/b', 'unix', 'g/b', 'source',
                 '{verdict}', NULL, 4, '{{}}', NULL FROM r"
        ))?;
    }
    let f = five_cases();
    let url = server.url("old");
    let run = f.mpcheck(&["run", "--history", &url]);
    if run.status.code() != Some(1) {
        return Err(format!("exit {:?}: {}", run.status, stderr(&run)).into());
    }
    let (first, table) = shown(&f, &url)?;
    if !first.ends_with(": 4 runs, 8 trial results") {
        return Err(format!("{first}\n{table}").into());
    }
    let old_row = table
        .lines()
        .skip_while(|l| !l.starts_with("[suite not recorded"))
        .find(|l| l.starts_with("unix::g/b"))
        .unwrap_or_default();
    if !old_row.contains(".F.") || !old_row.contains(" 0%") {
        return Err(format!("the old rows: {table}").into());
    }
    println!("{table}");
    Ok(())
}
