//! The same suite over QEMU's UART on a loopback TCP port (`socket://`).

use mpcheck::boardfile::config::QemuConsole;
use mpcheck::device::VerdictHint;
use mpcheck::device::recover::Rung;

use super::common::{basic_suite, connect};

#[test]
fn basic_suite_over_socket() {
    let mut s = connect(QemuConsole::Socket);
    assert!(
        s.describe().contains("socket://127.0.0.1:"),
        "{}",
        s.describe()
    );
    assert_eq!(s.features().platform.as_deref(), Some("microbit"));
    basic_suite(&mut s);
    let run = s
        .run_case(b"while True: pass\n", std::time::Duration::from_secs(1))
        .unwrap();
    assert_eq!(
        run.verdict_hint,
        VerdictHint::TimedOut {
            recovered_by: Rung::Interrupt
        }
    );
    let run = s
        .run_case(
            b"import micropython\nmicropython.kbd_intr(-1)\nwhile True: pass\n",
            std::time::Duration::from_secs(1),
        )
        .unwrap();
    assert_eq!(
        run.verdict_hint,
        VerdictHint::TimedOut {
            recovered_by: Rung::HardReset
        }
    );
    assert_eq!(
        s.run_case(b"print(5)\n", super::common::T).unwrap().stdout,
        b"5\n"
    );
}
