//! What a heap measurement on a board runs first: a script that overwrites the C stack
//! left by earlier cases.
//!
//! MicroPython's collector scans the C stack conservatively: a stale word that holds
//! the address of a dead heap block keeps that block alive. A soft reset renews the
//! heap but not the stack, so the words below the stack pointer are whatever the last
//! runs on that board instance left there, and which runs those were depends on how the
//! run shared its trials among the board's instances. A heap case whose frames leave
//! some slots unwritten then keeps a different block alive from run to run:
//! `heap/largest_buffer.mpy` on mps2-an385 kept one 48-byte block more in 6 of 20 runs
//! of `heap/` under load (allocations 29 or 30, live bytes +48, free runs +1), exact
//! time or not; with this script first, in none of 20.
//!
//! The script recurses until the firmware's stack check stops it. Each call's frame
//! state is zeroed on entry (`mp_setup_code_state` in py/bc.c), but the C frames
//! between two states keep slots nobody writes. So it recurses three times, with frames
//! of three sizes, whose unwritten slots fall in different places: one shape left 6 of
//! 138 marker words on mps2-an385, three leave none (tests/current_firmware). The soft
//! reset that follows renews the heap the script used.

use std::sync::LazyLock;

use crate::boardfile::icount::Timer;

/// The script. It names only what every firmware has interned in ROM (builtins'
/// names, shadowed and deleted again): a new name is a qstr on the heap, and where it
/// runs inside a measurement (see [`settle`]) every qstr more moved figures that follow
/// the qstr pool's chunks (heap/long_identifier's regions by hundreds of bytes).
pub const SCRIPT: &str = "def abs():\n abs()\ndef all():\n min=max=sum=0\n all()\ndef any():\n min=max=sum=map=zip=hash=ord=chr=0\n any()\nfor iter in(abs,all,any):\n try:iter()\n except RuntimeError:pass\ndel abs,all,any,iter\n";

/// The first lines of a heap measurement on a board whose timer mpcheck restarts
/// (`qemu.icount.timer`): the restart, then this scrub inside the measured script, so
/// that everything from there on runs the same instructions with the same interrupts,
/// and what the script's own upload and compile left on the stack (at the timer's
/// random phase) is overwritten. Such a board needs no scrub of its own before.
pub fn settle(timer: Timer) -> &'static str {
    static SYSTICK: LazyLock<String> =
        LazyLock::new(|| format!("{}\n{}", Timer::Systick.restart(), SCRIPT.trim_end()));
    match timer {
        Timer::Systick => &SYSTICK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each recursion ends by the stack check's RuntimeError and nothing else: a bare
    /// `except` would also swallow the KeyboardInterrupt of the recovery ladder.
    #[test]
    fn three_recursions_each_ended_only_by_the_stack_check() {
        for f in ["abs", "all", "any"] {
            assert!(SCRIPT.contains(&format!("def {f}():\n")), "{f}");
            assert!(SCRIPT.contains(&format!("\n {f}()\n")), "{f} recurses");
        }
        assert!(SCRIPT.contains("except RuntimeError:pass"));
        assert!(!SCRIPT.contains("except:"));
    }
}
