//! Shared helpers: a micro:bit board config and a suite runnable over any console.

use std::path::Path;
use std::time::Duration;

use mpcheck::boardfile::config::QemuConsole;
use mpcheck::boardfile::{BoardConfig, Pacing};
use mpcheck::device::BoardSession;

/// Debian's `firmware-microbit-micropython` (MicroPython v1.9.2); override with
/// `MPCHECK_MICROBIT_FIRMWARE`.
pub fn firmware() -> String {
    install(&["qemu-system-arm", "firmware-microbit-micropython"]);
    let path = std::env::var("MPCHECK_MICROBIT_FIRMWARE")
        .unwrap_or_else(|_| "/usr/share/firmware-microbit-micropython/firmware.hex".to_string());
    assert!(
        Path::new(&path).is_file(),
        "micro:bit firmware {path} not found: apt-get install qemu-system-arm firmware-microbit-micropython"
    );
    path
}

/// Installs the Debian packages these tests need (as the harness does for its boards),
/// or fails saying what to run.
pub fn install(packages: &[&str]) {
    let packages: Vec<String> = packages.iter().map(|p| p.to_string()).collect();
    if let Err(e) = mpcheck::tools::toolchain::ensure_debian_packages(&packages, "the board tests")
    {
        panic!("{e}");
    }
}

/// The micro:bit's UART loses input beyond ~32 bytes at once: 32-byte chunks, 10 ms apart.
pub fn microbit(console: QemuConsole) -> BoardConfig {
    let mut c = BoardConfig::qemu("microbit", &firmware());
    c.qemu.as_mut().unwrap().console = console;
    c.pacing = Pacing {
        chunk_bytes: 32,
        pause_ms: 10,
    };
    c
}

pub fn connect(console: QemuConsole) -> BoardSession {
    BoardSession::connect(&microbit(console)).expect("connect to micro:bit in qemu")
}

pub const T: Duration = Duration::from_secs(5);

/// A ~2 KB script whose output proves every byte arrived.
pub fn two_kb_script() -> (Vec<u8>, Vec<u8>) {
    let mut s = String::from("t = 0\n");
    let mut total = 0u64;
    let mut i = 0;
    while s.len() < 2048 {
        s.push_str(&format!("t = t + {i} * 3  # pad pad pad\n"));
        total += i * 3;
        i += 1;
    }
    s.push_str("print(t)\n");
    (s.into_bytes(), format!("{total}\n").into_bytes())
}

/// The basic cases, over whatever console `session` uses.
pub fn basic_suite(session: &mut BoardSession) {
    use mpcheck::device::VerdictHint::*;
    let run = session.run_case(b"print(1+1)\n", T).unwrap();
    assert_eq!(run.stdout, b"2\n");
    assert_eq!(run.verdict_hint, Completed);
    assert!(run.exception.is_none());

    let (script, expect) = two_kb_script();
    let run = session.run_case_checked(&script, T, true).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&expect)
    );

    let run = session.run_case(b"print('a')\n1/0\n", T).unwrap();
    assert_eq!(run.stdout, b"a\n");
    let exc = run.exception.unwrap();
    assert!(
        exc.contains("ZeroDivisionError") && !exc.contains('\r'),
        "{exc}"
    );
    assert_eq!(run.verdict_hint, Completed);

    let run = session
        .run_case(b"print('SKIP')\nraise SystemExit\n", T)
        .unwrap();
    assert!(matches!(run.verdict_hint, Skip { .. }), "{run:?}");
    let run = session.run_case(b"print('back')\n", T).unwrap();
    assert_eq!(run.stdout, b"back\n");

    // each case starts on a fresh heap: globals from the previous case are gone
    session.run_case(b"leftover = 1\n", T).unwrap();
    let run = session
        .run_case(b"print('leftover' in globals())\n", T)
        .unwrap();
    assert_eq!(run.stdout, b"False\n");
}
