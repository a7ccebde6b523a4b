//! `--partition count:K/N`: one runner's share of a suite, as nextest's `count:`
//! partitions share a test binary (the i-th trial, counted from 0, goes to partition
//! `i % N + 1`), so the runs of one night together run every trial once.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Partition {
    /// 1-based.
    pub index: usize,
    pub total: usize,
}

impl Partition {
    /// This partition's share of `items`, in their order.
    pub fn select<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.total + 1 == self.index)
            .map(|(_, t)| t)
            .collect()
    }
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Partition, String> {
        let bad = || format!("`{s}`: a partition is count:K/N with 1 <= K <= N (e.g. count:1/3)");
        let (k, n) = s
            .strip_prefix("count:")
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(bad)?;
        let (index, total) = (
            k.parse::<usize>().map_err(|_| bad())?,
            n.parse::<usize>().map_err(|_| bad())?,
        );
        if index == 0 || index > total {
            return Err(bad());
        }
        Ok(Partition { index, total })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partitions_of_a_suite_take_every_item_once() {
        let items: Vec<usize> = (0..10).collect();
        let mut all: Vec<usize> = (1..=3)
            .flat_map(|k| Partition { index: k, total: 3 }.select(items.clone()))
            .collect();
        all.sort();
        assert_eq!(all, items);
        assert_eq!(Partition { index: 2, total: 3 }.select(items), [1, 4, 7]);
        assert_eq!("count:2/3".parse(), Ok(Partition { index: 2, total: 3 }));
        for bad in ["count:0/3", "count:4/3", "2/3", "count:a/3", "hash:1/2"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
