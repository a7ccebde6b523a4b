//! The rungs of the recovery ladder, from gentle to hard (the ladder itself is
//! `recover`).

use serde::Serialize;

/// One step of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rung {
    /// Ctrl-C: KeyboardInterrupt ends a running program.
    Interrupt,
    /// Re-enter raw mode and soft-reset (fresh VM and heap).
    SoftReset,
    /// Reset the hardware (restart QEMU, toggle DTR/RTS, probe hook).
    HardReset,
}

impl std::fmt::Display for Rung {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rung::Interrupt => "Ctrl-C",
            Rung::SoftReset => "a soft reset",
            Rung::HardReset => "a hard reset",
        })
    }
}
