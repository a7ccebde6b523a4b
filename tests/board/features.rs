//! Feature probing on the 1.9.2 firmware.

use mpcheck::boardfile::config::QemuConsole;

use super::common::connect;

#[test]
fn probe_reports_what_micro_bit_1_9_2_can_do() {
    let s = connect(QemuConsole::Stdio);
    let f = s.features();
    eprintln!("{f:?}");
    assert_eq!(f.platform.as_deref(), Some("microbit"));
    assert_eq!(f.version.as_deref(), Some("1.9.2"));
    assert_eq!(f.mpy_version, None);
    assert_eq!(f.has("float"), Some(true));
    assert_eq!(f.has("bigint"), Some(true));
    assert_eq!(f.has("fstring"), Some(false));
    // Built without MICROPY_PY_ASYNC_AWAIT: generators/async_basic requires it (#24).
    assert_eq!(f.has("async"), Some(false));
    assert_eq!(f.has("const"), Some(true));
    assert_eq!(f.has("mem_stats"), Some(false));
    assert_eq!(f.has("gc_mem_alloc"), Some(true));
    assert_eq!(f.has("heap_lock"), Some(true));
    assert_eq!(f.has("raw_paste"), Some(false));
    assert_eq!(f.has("mpy_import"), Some(false));
    // No `sys.implementation._mpy`: which native .mpy it could load is unknown.
    assert_eq!(f.has("native"), Some(false));
}
