//! `cargo nextest` archive + `--partition` over board × case trials (tests/trials.rs):
//! the archive is built once, then each partition runs from it as a CI runner would
//! (`--archive-file`, `--workspace-remap`), on a project with a `unix` board and a board
//! in the farm's place. The coordinator is reached through a counting proxy, so the test
//! sees which partitions talked to it: only those with a trial of the labgrid board.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use libtest_mimic::{Completion, Failed};

use super::farm::{Farm, state_dir};
use super::project::Project;

pub fn nextest(farm: &Farm) -> Result<Completion, Failed> {
    let installed = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return Ok(Completion::ignored_with(
            "cargo-nextest is not installed (cargo install cargo-nextest --locked)",
        ));
    }
    let (proxy, connections) = counting_proxy(&farm.coordinator);
    // Two labgrid trials and five unix ones: `count:k/3` deals them out round-robin in
    // name order, so one partition gets no labgrid trial.
    let on_lg = 2;
    let p = Project::new_basics_with_unix(farm, &proxy, on_lg);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let archive = p.root.path().join("trials.tar.zst");
    let out = Command::new("cargo")
        .args([
            "nextest",
            "archive",
            "--release",
            "--test",
            "trials",
            "--archive-file",
        ])
        .arg(&archive)
        .current_dir(repo)
        .output()?;
    if !out.status.success() {
        return Err(format!("nextest archive: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let (mut lg_total, mut unix_total, mut without_lg) = (0, 0, 0);
    for k in 1..=3 {
        let before = connections.load(Ordering::SeqCst);
        // As a CI runner would: from the archive, in another directory.
        let out = Command::new("cargo")
            .args(["nextest", "run", "--archive-file"])
            .arg(&archive)
            .arg("--workspace-remap")
            .arg(repo)
            .args(["--partition", &format!("count:{k}/3"), "--no-fail-fast"])
            .current_dir(p.root.path())
            .env("MPCHECK_ROOT", p.root.path())
            .env("MPCHECK_HOME", state_dir())
            .output()?;
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        let touched = connections.load(Ordering::SeqCst) - before;
        // nextest's result lines: `PASS [   1.234s] (1/3) mpcheck::trials lg::basics/…`.
        let passed = |board: &str| {
            said.lines()
                .filter(|l| {
                    l.trim_start().starts_with("PASS") && l.contains(&format!(" {board}::"))
                })
                .count()
        };
        let (lg, unix) = (passed("lg"), passed("unix"));
        eprintln!(
            "partition count:{k}/3: {lg} lg and {unix} unix trials passed, {touched} coordinator connections"
        );
        if !out.status.success() {
            return Err(format!("partition {k}/3 failed:\n{said}").into());
        }
        if (lg > 0) != (touched > 0) {
            return Err(format!(
                "partition {k}/3 ran {lg} labgrid trials and made {touched} coordinator connections:\n{said}"
            )
            .into());
        }
        lg_total += lg;
        unix_total += unix;
        without_lg += usize::from(lg == 0);
    }
    if (lg_total, unix_total) != (on_lg, p.basics()) || without_lg == 0 {
        return Err(format!(
            "wanted {on_lg} lg and {} unix trials over the partitions, one of them without lg: got {lg_total}, {unix_total}, {without_lg}",
            p.basics()
        )
        .into());
    }
    Ok(Completion::Completed)
}

/// A TCP proxy to `target` counting the connections made through it.
fn counting_proxy(target: &str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let (n, target) = (count.clone(), target.to_string());
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            n.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
            pipe(server, client);
        }
    });
    (addr, count)
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || std::io::Write::write_all(&mut to, &buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}
