//! The order trials start in: longest first (LPT), so that the few long trials of a run
//! (a test that sleeps for seconds) start while the short ones fill the other workers,
//! instead of one of them starting last and making the whole run wait for it.

use std::time::Duration;

/// The indices of `costs` longest first: known costs in decreasing order, equal costs in
/// trial order. A trial whose cost is not known is taken at the median of the known ones
/// (a new test is likely an ordinary one); none known: trial order. Pure.
pub fn longest_first(costs: &[Option<Duration>]) -> Vec<usize> {
    let mut known: Vec<Duration> = costs.iter().flatten().copied().collect();
    known.sort_unstable();
    let median = known.get(known.len() / 2).copied().unwrap_or_default();
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
