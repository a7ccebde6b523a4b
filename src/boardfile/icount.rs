//! `qemu.icount`: exact time on a QEMU board. QEMU's virtual clock then advances by the
//! instructions the guest executes, not by host time.

use serde::{Deserialize, Serialize};

/// QEMU's virtual clock driven by the instructions the guest executes (`-icount`), from
/// the board file's `qemu.icount`: the board's own clock (`time.ticks_us()`, SysTick)
/// then counts instructions, not host time, so a case's time on the target is the same
/// whatever the host is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Icount {
    /// Each instruction advances the virtual clock by 2^shift ns (0: a 1 GHz CPU).
    pub shift: u8,
}

impl Icount {
    /// QEMU's own ceiling for the shift it picks itself (`MAX_ICOUNT_SHIFT`): 1024 ns an
    /// instruction, under a million instructions a virtual second.
    pub const MAX_SHIFT: u8 = 10;

    /// `-icount shift=N,sleep=off`: with `sleep=off` an idle CPU (WFI) jumps to its next
    /// timer deadline instead of waiting for the host's clock, so idle time is exact too.
    pub fn qemu_args(self) -> [String; 2] {
        [
            "-icount".to_string(),
            format!("shift={},sleep=off", self.shift),
        ]
    }

    /// Within QEMU's range, and not given twice (once more in `qemu.args`); the message
    /// names the key.
    pub(crate) fn check(self, args: &[String]) -> Result<(), String> {
        if self.shift > Self::MAX_SHIFT {
            return Err(format!(
                "qemu.icount.shift: {} is out of range (0 to {}: 2^shift ns an instruction)",
                self.shift,
                Self::MAX_SHIFT
            ));
        }
        if args
            .iter()
            .any(|a| a == "-icount" || a.starts_with("-icount="))
        {
            return Err("qemu.icount: `-icount` is also in qemu.args; keep one of them (qemu.icount adds `-icount shift=N,sleep=off`)".into());
        }
        Ok(())
    }
}
