//! Native architecture numbers from the feature byte, and their names.

use serde::Serialize;

/// The native architecture recorded in bits 5..2 of the feature byte (`MP_NATIVE_ARCH_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NativeArch {
    /// Bytecode only.
    None,
    X86,
    X64,
    Armv6,
    Armv6m,
    Armv7m,
    Armv7em,
    Armv7emsp,
    Armv7emdp,
    Xtensa,
    Xtensawin,
    /// Since v1.24.
    Rv32imc,
    /// Number 12: RV64IMC since v1.27, but mpy-cross 1.24–1.26 wrote 12 for the debug
    /// emitter (`-march=debug`), so such a file is ambiguous.
    Rv64imc,
    /// Number 13: the debug emitter since v1.27.
    Debug,
    /// A number no release has used (14 or 15).
    Unknown(u8),
}

impl NativeArch {
    /// Maps the 4-bit arch number (`(feature >> 2) & 0x0f`).
    pub fn from_number(n: u8) -> Self {
        match n {
            0 => NativeArch::None,
            1 => NativeArch::X86,
            2 => NativeArch::X64,
            3 => NativeArch::Armv6,
            4 => NativeArch::Armv6m,
            5 => NativeArch::Armv7m,
            6 => NativeArch::Armv7em,
            7 => NativeArch::Armv7emsp,
            8 => NativeArch::Armv7emdp,
            9 => NativeArch::Xtensa,
            10 => NativeArch::Xtensawin,
            11 => NativeArch::Rv32imc,
            12 => NativeArch::Rv64imc,
            13 => NativeArch::Debug,
            other => NativeArch::Unknown(other),
        }
    }

    /// The upper-case name mpy-tool prints on its `arch:` line (HEAD / v1.27+).
    pub fn mpy_tool_name(self) -> &'static str {
        match self {
            NativeArch::None => "NONE",
            NativeArch::X86 => "X86",
            NativeArch::X64 => "X64",
            NativeArch::Armv6 => "ARMV6",
            NativeArch::Armv6m => "ARMV6M",
            NativeArch::Armv7m => "ARMV7M",
            NativeArch::Armv7em => "ARMV7EM",
            NativeArch::Armv7emsp => "ARMV7EMSP",
            NativeArch::Armv7emdp => "ARMV7EMDP",
            NativeArch::Xtensa => "XTENSA",
            NativeArch::Xtensawin => "XTENSAWIN",
            NativeArch::Rv32imc => "RV32IMC",
            NativeArch::Rv64imc => "RV64IMC",
            NativeArch::Debug => "DEBUG",
            NativeArch::Unknown(_) => "UNKNOWN",
        }
    }

    /// The lower-case name as given to `mpy-cross -march=`.
    pub fn name(self) -> String {
        match self {
            NativeArch::Rv64imc => "rv64imc (or debug, from mpy-cross 1.24–1.26)".to_string(),
            NativeArch::Unknown(n) => format!("unknown arch {n}"),
            other => other.mpy_tool_name().to_ascii_lowercase(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_to_names() {
        assert_eq!(NativeArch::from_number(2).mpy_tool_name(), "X64");
        assert_eq!(NativeArch::from_number(13).name(), "debug");
        assert_eq!(NativeArch::from_number(15).mpy_tool_name(), "UNKNOWN");
    }
}
