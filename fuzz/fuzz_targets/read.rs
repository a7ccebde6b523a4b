//! Fuzzes `mpcheck::mpy::read` and every printer on whatever it accepts: nothing may panic.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run read -- -max_total_time=600`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = mpcheck::mpy::read(data) {
        let _ = mpcheck::mpy::disassemble(&file);
        let _ = mpcheck::mpy::mpy_tool_dump(&file, "fuzz.mpy");
        let _ = mpcheck::mpy::stats(&file).to_string();
    }
});
