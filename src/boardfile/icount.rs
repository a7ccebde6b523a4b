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
    /// The board's periodic timer, restarted right before what mpcheck measures, so its
    /// interrupts land on the same instructions in every run (see [`Timer`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<Timer>,
}

/// A periodic timer whose phase a script can restart.
///
/// Exact time makes the timer fire every N instructions, but the firmware busy-polls
/// its console, so how many instructions ran before a script arrived follows the host:
/// the timer's phase at the script's start is random. Its interrupt pushes registers
/// (heap pointers among them) onto the stack at whatever point it lands, and the
/// collector scans the stack conservatively, so a heap figure could keep a dead block
/// alive in one run and not in the next (heap/global_dict_growth.mpy's free heap on
/// mps2-an385: one 16-byte block in 1 of 20 runs under load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Timer {
    /// The Cortex-M SysTick: a write to its current-value register (SYST_CVR,
    /// 0xE000E018, the same on every M-profile core) clears the count, and the next
    /// interrupt comes one full period later.
    Systick,
}

impl Timer {
    /// The Python statement that restarts the timer (needs `machine.mem32`).
    pub fn restart(self) -> &'static str {
        match self {
            Timer::Systick => "__import__('machine').mem32[0xE000E018]=0",
        }
    }
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
