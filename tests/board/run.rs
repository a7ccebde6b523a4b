//! Running cases over QEMU's stdio console.

use mpcheck::boardfile::config::QemuConsole;
use mpcheck::device::VerdictHint;

use super::common::{T, basic_suite, connect};

#[test]
fn basic_suite_over_stdio() {
    let mut s = connect(QemuConsole::Stdio);
    basic_suite(&mut s);
}

#[test]
fn memory_error_after_start_is_the_tests_own_and_before_it_too_large() {
    let mut s = connect(QemuConsole::Stdio);
    let run = s.run_case(b"x = [0] * 100000\n", T).unwrap();
    assert_eq!(run.verdict_hint, VerdictHint::Completed);
    assert!(run.started);
    assert!(run.exception.unwrap().contains("MemoryError"));

    // A source whose parse tree cannot fit the ~10 KB heap: compiling fails before the
    // start marker runs.
    let mut big = String::new();
    for i in 0..150 {
        big.push_str(&format!(
            "def f{i}(a, b):\n return [a, b, {i}, (a, b), {{a: b}}]\n"
        ));
    }
    let run = s
        .run_case(big.as_bytes(), std::time::Duration::from_secs(20))
        .unwrap();
    assert_eq!(run.verdict_hint, VerdictHint::TooLarge, "{run:?}");
    // and the board is fine afterwards
    assert_eq!(s.run_case(b"print(3)\n", T).unwrap().stdout, b"3\n");
}

#[test]
fn output_is_capped_and_marked_truncated() {
    let mut s = connect(QemuConsole::Stdio);
    // ~1.2 MiB of output would take long at QEMU's UART speed; the cap itself is unit
    // tested, here the end-to-end path with a printer that stops.
    let run = s
        .run_case(b"for i in range(200):\n print('x' * 50)\n", T)
        .unwrap();
    assert_eq!(run.stdout.len(), 200 * 51);
    assert!(!run.truncated);
}
