//! An idle exact-time board's emulator is stopped while it waits in the pool: its
//! firmware would busy-poll the UART and keep a host core busy.

use std::time::Duration;

use mpcheck::device::{BoardSession, SourceCase};

use super::common::T;

/// The process's state letter and its CPU ticks (user + system), from /proc.
fn state_and_cpu(pid: u32) -> (char, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After the command name's closing parenthesis: state, ppid, …; utime and stime are
    // fields 14 and 15 of the whole line.
    let rest: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let state = rest[0].chars().next().unwrap();
    (
        state,
        rest[11].parse::<u64>().unwrap() + rest[12].parse::<u64>().unwrap(),
    )
}

/// Paused, the session's QEMU is stopped and uses no CPU (idle and running it used 0.7
/// of a core); continued, it runs a case as before.
pub fn a_paused_session_uses_no_cpu_and_runs_on_when_continued(fw: &str) {
    let mut s = BoardSession::connect(&super::cases::mps2(fw)).expect("connect to mps2-an385");
    let pid = s.process_id().expect("QEMU's process");
    s.pause(true);
    std::thread::sleep(Duration::from_millis(100));
    let (state, before) = state_and_cpu(pid);
    assert_eq!(state, 'T', "stopped");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(state_and_cpu(pid).1, before, "no CPU used while stopped");
    s.pause(false);
    let run = s
        .run_source(
            SourceCase::own("after", b"print(6 * 7)\n"),
            &[],
            T,
            &|| true,
            None,
        )
        .unwrap();
    assert_eq!(run.stdout, b"42\n");
    assert_ne!(state_and_cpu(pid).0, 'T');
}
