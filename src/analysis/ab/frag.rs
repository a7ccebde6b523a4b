//! The free heap's shape after a case on both sides of a comparison: free bytes, the
//! largest free block, free runs and the index (1 − largest free / free), as the heap
//! runs measured them ([`crate::model::heap::FRAG_METRICS`]).

use serde::Serialize;

use crate::model::heap::HeapFigures;

/// One side's figures; a side whose target gave no heap map has none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FragSide {
    pub free_bytes: i64,
    pub largest_free_bytes: i64,
    pub free_runs: Option<i64>,
    pub index: f64,
}

impl FragSide {
    pub fn of(h: &HeapFigures) -> Option<FragSide> {
        Some(FragSide {
            free_bytes: h.free_bytes?,
            largest_free_bytes: h.largest_free_bytes?,
            free_runs: h.free_runs,
            index: h.frag_index()?,
        })
    }
}

/// Both sides, where at least one measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FragDelta {
    pub base: Option<FragSide>,
    pub head: Option<FragSide>,
}

impl FragDelta {
    pub fn of(base: &HeapFigures, head: &HeapFigures) -> Option<FragDelta> {
        let (b, h) = (FragSide::of(base), FragSide::of(head));
        (b.is_some() || h.is_some()).then_some(FragDelta { base: b, head: h })
    }

    /// Both sides, when both measured.
    pub fn both(&self) -> Option<(FragSide, FragSide)> {
        Some((self.base?, self.head?))
    }

    /// How far the index rose (negative: fell).
    pub fn index_rise(&self) -> Option<f64> {
        self.both().map(|(b, h)| h.index - b.index)
    }

    /// How far the largest free block fell, in percent of the base's (negative: grew).
    pub fn largest_fall_percent(&self) -> Option<f64> {
        let (b, h) = self.both()?;
        (b.largest_free_bytes > 0).then(|| {
            (b.largest_free_bytes - h.largest_free_bytes) as f64 * 100.0
                / b.largest_free_bytes as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(free: i64, largest: i64) -> HeapFigures {
        HeapFigures {
            free_bytes: Some(free),
            largest_free_bytes: Some(largest),
            free_runs: Some(3),
            ..Default::default()
        }
    }

    #[test]
    fn the_index_rise_and_the_largest_blocks_fall_are_read_from_both_sides() {
        let d = FragDelta::of(&figures(1000, 900), &figures(1000, 800)).unwrap();
        assert!((d.index_rise().unwrap() - 0.1).abs() < 1e-12);
        assert!((d.largest_fall_percent().unwrap() - 100.0 / 9.0).abs() < 1e-9);
        let one = FragDelta::of(&HeapFigures::default(), &figures(1000, 800)).unwrap();
        assert_eq!((one.index_rise(), one.largest_fall_percent()), (None, None));
        assert_eq!(
            FragDelta::of(&HeapFigures::default(), &HeapFigures::default()),
            None
        );
    }
}
