//! Writing files (the `.mpy` upload path) to the board's flash filesystem.

use mpcheck::boardfile::config::QemuConsole;
use mpcheck::device::VerdictHint;

use super::common::{T, connect};

#[test]
fn binary_file_arrives_intact_and_is_removed() {
    let mut s = connect(QemuConsole::Stdio);
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 7 + i / 256) as u8).collect();
    let took = s.write_file("up.bin", &data).unwrap();
    eprintln!("wrote {} bytes in {took:?}", data.len());
    let out = s
        .exec_ok(
            "f=open('up.bin','rb')\nd=f.read()\nf.close()\nprint(len(d), sum(d))",
            "reading back",
        )
        .unwrap();
    let sum: u32 = data.iter().map(|&b| u32::from(b)).sum();
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!("{} {sum}\r\n", data.len())
    );
    s.remove_file("up.bin").unwrap();
    let out = s
        .exec_ok("import os\nprint('up.bin' in os.listdir())", "listing")
        .unwrap();
    assert_eq!(out, b"False\r\n");
}

#[test]
fn mpy_case_is_skipped_on_a_board_that_cannot_import_mpy() {
    let mut s = connect(QemuConsole::Stdio);
    let run = s.run_mpy_case("m", b"M\x02\x00\x1f", &[], T, None).unwrap();
    assert!(
        matches!(&run.verdict_hint, VerdictHint::Skip { reason } if reason.contains(".mpy")),
        "{run:?}"
    );
}
