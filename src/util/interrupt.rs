//! Ctrl-C and SIGTERM end a run cleanly: no new trial starts, every child process (VMs,
//! QEMU, and whatever they started, even after `setsid`) is killed and reaped, scratch
//! files are removed, the reports written so far say "interrupted", and mpcheck exits 130.
//!
//! How, on Linux: mpcheck is a child subreaper (`PR_SET_CHILD_SUBREAPER`), so a process
//! that escapes its process group by `setsid` and is orphaned is re-parented to mpcheck,
//! not to init; [`finish`] kills and reaps every such descendant on the way out. Each VM
//! and QEMU runs in its own process group, [`track`]ed here, so a signal ends the running
//! trials at once. All temp files of the process (and of its children, through `TMPDIR`)
//! live under one scratch root, removed by [`finish`] even after a forced exit.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const EXIT_CODE: i32 = crate::util::error::exit::INTERRUPTED;

/// How long the run may take to wind down (write its reports) after the first signal
/// before it is ended anyway: writing reports takes milliseconds; a board mid-upload
/// returns within its read timeout.
const GRACE: Duration = Duration::from_secs(10);

static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Process groups of running children (VMs, QEMU): killed when a signal arrives.
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
/// Run first by [`finish`], before children are killed: e.g. releasing a labgrid place,
/// whose release guardian is one of our children.
static AT_FINISH: Mutex<Vec<fn()>> = Mutex::new(Vec::new());
/// Held while [`finish`] runs.
static FINISHING: Mutex<()> = Mutex::new(());
/// The scratch root (the process's `TMPDIR`), when [`install`] made one.
static SCRATCH_ROOT: OnceLock<PathBuf> = OnceLock::new();

/// Whether Ctrl-C or SIGTERM arrived: the executor starts no new trial once it did.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Handles SIGINT and SIGTERM, makes mpcheck a child subreaper and points `TMPDIR` at a
/// fresh scratch root. Call first thing in `main`, before any thread starts (it sets an
/// environment variable).
pub fn install() -> std::io::Result<()> {
    let root = tempfile::Builder::new()
        .prefix("mpcheck-")
        .tempdir()?
        .keep();
    // SAFETY: called at the top of `main`, before any other thread exists, so nothing
    // reads the environment concurrently.
    unsafe {
        std::env::set_var("TMPDIR", &root);
    }
    let _ = SCRATCH_ROOT.set(root);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag; no memory involved.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                // A second signal: the user does not want to wait for the reports.
                crate::util::notice::notice(format_args!("interrupted again: stopping now"));
                finish();
                std::process::exit(EXIT_CODE);
            }
            let name = if signal == signal_hook::consts::SIGTERM {
                "SIGTERM"
            } else {
                "SIGINT"
            };
            crate::util::notice::notice(format_args!(
                "interrupted ({name}): ending the running trials, writing reports"
            ));
            kill_groups();
            std::thread::spawn(|| {
                std::thread::sleep(GRACE);
                crate::util::notice::notice(format_args!(
                    "the run did not wind down in {} s: stopping now",
                    GRACE.as_secs()
                ));
                finish();
                std::process::exit(EXIT_CODE);
            });
        }
    });
    Ok(())
}

/// Records a child's process group (its leader's pid) so an interrupt kills it. A child
/// started after the interrupt is killed here and then, so none outlives it.
pub fn track(pgid: u32) {
    let pgid = pgid as i32;
    GROUPS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(pgid);
    if requested() {
        kill_group(pgid);
    }
}

/// The group is gone (killed and reaped by its owner).
pub fn untrack(pgid: u32) {
    GROUPS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(pgid as i32));
}

fn kill_groups() {
    let groups: Vec<i32> = GROUPS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .copied()
        .collect();
    for pgid in groups {
        kill_group(pgid);
    }
}

fn kill_group(pgid: i32) {
    // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Has [`finish`] call `hook` first (once, however often it is registered).
pub fn at_finish(hook: fn()) {
    let mut hooks = AT_FINISH.lock().unwrap_or_else(|p| p.into_inner());
    if !hooks.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
        hooks.push(hook);
    }
}

/// On the way out: kills the tracked groups, then every remaining descendant (orphans
/// re-parented to us as subreaper), reaping each, and removes the scratch root.
pub fn finish() {
    // One at a time: a second Ctrl-C calls this from the signal thread while the main
    // thread may reach its own call; the later one must not kill children (a release
    // guardian mid-release) before the first one's hooks are done.
    let _one = FINISHING.lock().unwrap_or_else(|p| p.into_inner());
    let hooks = std::mem::take(&mut *AT_FINISH.lock().unwrap_or_else(|p| p.into_inner()));
    for hook in hooks {
        hook();
    }
    kill_groups();
    reap_descendants();
    if let Some(root) = SCRATCH_ROOT.get() {
        let _ = std::fs::remove_dir_all(root);
    }
}

/// Kills and reaps our children until none is left: killing one re-parents its own
/// children to us (we are a subreaper), so they are found on the next round.
fn reap_descendants() {
    // Why 100 rounds: each round removes one generation; deeper trees than that are a
    // fork bomb, and the kernel's own limits end those.
    for _ in 0..100 {
        let children = children_of(std::process::id());
        if children.is_empty() {
            return;
        }
        for pid in children {
            // SAFETY: signalling and reaping our own child by pid; no memory involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// Our direct children, from `/proc/<pid>/stat` (field 4 is the parent's pid).
fn children_of(parent: u32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

fn parent_of(pid: i32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or `)`.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_a_child_is_us() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        assert_eq!(parent_of(child.id() as i32), Some(std::process::id()));
        assert!(children_of(std::process::id()).contains(&(child.id() as i32)));
        let _ = child.kill();
        let _ = child.wait();
    }
}
