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

/// The script: short names and a small body, as it runs before every heap measurement,
/// on boards with a 16 KB heap too.
pub const SCRIPT: &str = "def _s():\n _s()\ndef _t():\n a=b=c=0\n _t()\ndef _u():\n a=b=c=d=e=f=g=h=0\n _u()\nfor f in(_s,_t,_u):\n try:f()\n except RuntimeError:pass\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// Each recursion ends by the stack check's RuntimeError and nothing else: a bare
    /// `except` would also swallow the KeyboardInterrupt of the recovery ladder.
    #[test]
    fn three_recursions_each_ended_only_by_the_stack_check() {
        for f in ["_s", "_t", "_u"] {
            assert!(SCRIPT.contains(&format!("def {f}():\n")), "{f}");
            assert!(SCRIPT.contains(&format!("\n {f}()\n")), "{f} recurses");
        }
        assert!(SCRIPT.contains("except RuntimeError:pass"));
        assert!(!SCRIPT.contains("except:"));
    }
}
