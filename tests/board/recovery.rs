//! Hangs and lost links: which rung of the recovery ladder brings the board back.

use std::time::Duration;

use mpcheck::boardfile::config::QemuConsole;
use mpcheck::device::VerdictHint;
use mpcheck::device::recover::Rung;

use super::common::{T, connect};

#[test]
fn busy_loop_times_out_and_ctrl_c_recovers() {
    let mut s = connect(QemuConsole::Stdio);
    let started = std::time::Instant::now();
    let run = s
        .run_case(b"print('spin')\nwhile True: pass\n", Duration::from_secs(1))
        .unwrap();
    assert_eq!(
        run.verdict_hint,
        VerdictHint::TimedOut {
            recovered_by: Rung::Interrupt
        }
    );
    assert_eq!(run.stdout, b"spin\n");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(s.run_case(b"print(1)\n", T).unwrap().stdout, b"1\n");
}

#[test]
fn disabled_ctrl_c_needs_a_hard_reset() {
    let mut s = connect(QemuConsole::Stdio);
    let pid = s.process_id();
    let run = s
        .run_case(
            b"import micropython\nmicropython.kbd_intr(-1)\nwhile True: pass\n",
            Duration::from_secs(1),
        )
        .unwrap();
    assert_eq!(
        run.verdict_hint,
        VerdictHint::TimedOut {
            recovered_by: Rung::HardReset
        }
    );
    assert_ne!(s.process_id(), pid, "qemu was restarted");
    assert_eq!(s.run_case(b"print(2)\n", T).unwrap().stdout, b"2\n");
}

#[test]
fn qemu_killed_mid_run_is_detected_and_restarted() {
    let mut s = connect(QemuConsole::Stdio);
    let pid = s.process_id().unwrap();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    let run = s
        .run_case(b"while True: pass\n", Duration::from_secs(5))
        .unwrap();
    killer.join().unwrap();
    match &run.verdict_hint {
        VerdictHint::LinkLost {
            cause,
            recovered_by,
        } => {
            assert_eq!(*recovered_by, Rung::HardReset);
            assert!(cause.contains("qemu exited"), "{cause}");
        }
        other => panic!("expected LinkLost, got {other:?}"),
    }
    assert_eq!(s.run_case(b"print(3)\n", T).unwrap().stdout, b"3\n");
}

#[test]
fn explicit_recover_and_restart() {
    let mut s = connect(QemuConsole::Stdio);
    let r = s.recover().unwrap();
    assert_eq!(r.by, Rung::Interrupt);
    s.restart().unwrap();
    assert_eq!(s.run_case(b"print(4)\n", T).unwrap().stdout, b"4\n");
}
