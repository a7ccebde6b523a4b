//! The recovery ladder for a board that stopped answering: Ctrl-C, then soft reset, then
//! hard reset, then dead. `next_rung` is the whole policy; `recover` carries it out.

use std::time::Duration;

use serde::Serialize;

use super::error::BoardError;
use super::repl::Repl;

pub use super::rung::Rung;

/// What the ladder may use on this board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ladder {
    /// How many Ctrl-C attempts before escalating.
    pub interrupts: u8,
    /// Whether the transport can reset the hardware.
    pub hard_reset: bool,
}

/// The next rung to try, given those tried so far (in order) and whether the link itself
/// failed (QEMU died, port vanished): then only a hard reset can help. `None`: dead.
pub fn next_rung(ladder: Ladder, tried: &[Rung], link_broken: bool) -> Option<Rung> {
    let count = |r: Rung| tried.iter().filter(|&&t| t == r).count();
    let hard = (ladder.hard_reset && count(Rung::HardReset) == 0).then_some(Rung::HardReset);
    if link_broken {
        return hard;
    }
    if count(Rung::Interrupt) < usize::from(ladder.interrupts)
        && count(Rung::SoftReset) == 0
        && count(Rung::HardReset) == 0
    {
        return Some(Rung::Interrupt);
    }
    if count(Rung::SoftReset) == 0 && count(Rung::HardReset) == 0 {
        return Some(Rung::SoftReset);
    }
    hard
}

/// How the board came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovered {
    /// The rung that brought the board back to a raw prompt.
    pub by: Rung,
    /// Everything tried, in order (the last is `by`).
    pub tried: Vec<Rung>,
}

/// A board that handles ^C answers with a traceback within milliseconds on QEMU and
/// within ~10 ms at 115200 baud; 500 ms allows for a slow board finishing a bytecode.
const INTERRUPT_WAIT: Duration = Duration::from_millis(500);
/// Entering raw mode plus a soft reset: ~15 ms on the micro:bit in QEMU; a real board
/// running `boot.py` may need a second or two.
const SOFT_RESET_WAIT: Duration = Duration::from_secs(3);
/// A hard reset boots the board from scratch (QEMU: < 0.1 s; real boards: seconds).
const BOOT_WAIT: Duration = Duration::from_secs(10);

/// Climb the ladder until the board is at a raw prompt again, or report it dead.
/// `in_run`: a program was running (so ^C's traceback framing is expected).
pub fn recover(
    repl: &mut Repl,
    ladder: Ladder,
    in_run: bool,
    link_broken: bool,
) -> Result<Recovered, BoardError> {
    let mut tried = Vec::new();
    let mut link_broken = link_broken;
    let mut cause = String::from("no recovery step available");
    while let Some(rung) = next_rung(ladder, &tried, link_broken) {
        tried.push(rung);
        let result = match rung {
            Rung::Interrupt => interrupt(repl, in_run),
            Rung::SoftReset => repl
                .enter_raw(SOFT_RESET_WAIT)
                .and_then(|()| repl.soft_reset(SOFT_RESET_WAIT)),
            Rung::HardReset => repl
                .hard_reset()
                .and_then(|()| repl.enter_raw(BOOT_WAIT))
                .and_then(|()| repl.soft_reset(BOOT_WAIT)),
        };
        match result {
            Ok(()) => return Ok(Recovered { by: rung, tried }),
            Err(e) => {
                link_broken = matches!(e, BoardError::Io { .. });
                cause = e.to_string();
            }
        }
    }
    Err(BoardError::Dead {
        console: repl.console().to_string(),
        tried,
        cause,
    })
}

fn interrupt(repl: &mut Repl, in_run: bool) -> Result<(), BoardError> {
    repl.interrupt()?;
    if in_run {
        repl.wait_finished(INTERRUPT_WAIT).map(|_| ())
    } else {
        repl.enter_raw(INTERRUPT_WAIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rung::*;

    /// Walk the ladder with every step failing.
    fn walk(ladder: Ladder, link_broken: bool) -> Vec<Rung> {
        let mut tried = Vec::new();
        while let Some(r) = next_rung(ladder, &tried, link_broken) {
            tried.push(r);
        }
        tried
    }

    #[test]
    fn full_ladder_in_order() {
        let l = Ladder {
            interrupts: 3,
            hard_reset: true,
        };
        assert_eq!(
            walk(l, false),
            [Interrupt, Interrupt, Interrupt, SoftReset, HardReset]
        );
    }

    #[test]
    fn without_hard_reset_the_ladder_ends_at_soft_reset() {
        let l = Ladder {
            interrupts: 2,
            hard_reset: false,
        };
        assert_eq!(walk(l, false), [Interrupt, Interrupt, SoftReset]);
    }

    #[test]
    fn a_broken_link_goes_straight_to_hard_reset() {
        let l = Ladder {
            interrupts: 3,
            hard_reset: true,
        };
        assert_eq!(walk(l, true), [HardReset]);
        assert_eq!(
            next_rung(
                Ladder {
                    interrupts: 3,
                    hard_reset: false
                },
                &[],
                true
            ),
            None
        );
        // the link broke during a soft reset: hard reset next, once
        assert_eq!(next_rung(l, &[Interrupt, SoftReset], true), Some(HardReset));
        assert_eq!(next_rung(l, &[Interrupt, SoftReset, HardReset], true), None);
    }

    #[test]
    fn zero_interrupts_starts_at_soft_reset() {
        let l = Ladder {
            interrupts: 0,
            hard_reset: true,
        };
        assert_eq!(walk(l, false), [SoftReset, HardReset]);
    }
}
