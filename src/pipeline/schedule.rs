//! The order trials start in: longest first (LPT), so that the few long trials of a run
//! (a test that sleeps for seconds) start while the short ones fill the other workers,
//! instead of one of them starting last and making the whole run wait for it.

use std::time::Duration;

/// A trial read to sleep at least this long mostly waits rather than computes: it runs on
/// a worker of its own, beside the CPU pool.
pub const WAITING: Duration = Duration::from_millis(100);

/// How long a trial is read to take before it runs, and how much of that it sleeps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Estimate {
    pub duration: Duration,
    /// The part spent asleep (`sleep` calls): a trial that sleeps needs no CPU then. A
    /// REPL's quiet time is not sleep: its echo is timed against it.
    pub asleep: Duration,
}

/// The order trials start in, and which of them mostly wait.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    /// Indices into the trials, the first to start first.
    pub order: Vec<usize>,
    /// By trial index: read to sleep at least [`WAITING`].
    pub waiting: Vec<bool>,
}

impl Schedule {
    /// Trial order, none waiting (nothing known of the trials).
    pub fn in_trial_order(n: usize) -> Schedule {
        Schedule {
            order: (0..n).collect(),
            waiting: vec![false; n],
        }
    }

    /// Longest first by `costs` (see [`longest_first`]); waiting as `asleep` reads them
    /// (the sleep a trial's source asks for, `None`: not read). Pure.
    pub fn of(costs: &[Option<Duration>], asleep: &[Option<Duration>]) -> Schedule {
        Schedule {
            order: longest_first(costs),
            waiting: asleep
                .iter()
                .map(|w| w.is_some_and(|w| w >= WAITING))
                .collect(),
        }
    }
}

/// The indices of `costs` longest first: known costs in decreasing order, equal costs in
/// trial order. A trial whose cost is not known is taken at the (lower) median of the
/// known ones (a new test is likely an ordinary one); none known: trial order. Pure.
pub fn longest_first(costs: &[Option<Duration>]) -> Vec<usize> {
    let mut known: Vec<Duration> = costs.iter().flatten().copied().collect();
    known.sort_unstable();
    let median = known
        .get(known.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default();
    let mut order: Vec<usize> = (0..costs.len()).collect();
    // A stable sort keeps trial order among equals.
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i].unwrap_or(median)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[Option<u64>]) -> Vec<Option<Duration>> {
        v.iter().map(|c| c.map(Duration::from_millis)).collect()
    }

    #[test]
    fn the_longest_start_first_and_equals_keep_their_order() {
        let order = longest_first(&ms(&[Some(5), Some(2500), Some(5), Some(0), Some(2000)]));
        assert_eq!(order, [1, 4, 0, 2, 3]);
    }

    #[test]
    fn a_trial_read_to_wait_long_enough_is_waiting() {
        let s = Schedule::of(
            &ms(&[Some(3000), Some(40), None]),
            &ms(&[Some(2000), Some(99), None]),
        );
        assert_eq!(s.order, [0, 1, 2]);
        assert_eq!(s.waiting, [true, false, false]);
        assert_eq!(Schedule::in_trial_order(2).waiting, [false, false]);
    }

    #[test]
    fn nothing_known_keeps_trial_order() {
        assert_eq!(longest_first(&ms(&[None, None, None])), [0, 1, 2]);
        assert!(longest_first(&[]).is_empty());
    }

    #[test]
    fn an_unknown_cost_is_taken_at_the_median() {
        // Known: 1, 10, 100 → median 10; the unknown ties with 10 and keeps its place.
        let order = longest_first(&ms(&[Some(1), None, Some(100), Some(10)]));
        assert_eq!(order, [2, 1, 3, 0]);
    }
}
