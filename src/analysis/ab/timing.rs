//! Run time of one trial over its repeats: the median and the spread, and whether two
//! sides differ by more than that spread. Pure.

use serde::Serialize;

/// A trial's run times (milliseconds), one per repeat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    pub samples: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

impl Timing {
    /// `None` for no samples (the trial did not run).
    pub fn of(samples: &[f64]) -> Option<Timing> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        Some(Timing {
            samples: n,
            median_ms: median,
            min_ms: s[0],
            max_ms: s[n - 1],
        })
    }
}

/// How the head's time compares with the base's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeVerdict {
    Faster,
    Slower,
    /// The two ranges of samples overlap, or lie closer than either side's own spread:
    /// the difference is inside the noise.
    InsideNoise,
    /// Fewer than 3 samples a side: the spread is unknown (use `--repeat`).
    TooFewSamples,
}

/// Why these rules: with few repeats a confidence interval is not worth much, but two
/// sets of samples that lie apart by more than either set's own spread are a
/// difference no noise in either explains. Ranges that merely do not overlap are not
/// enough: two sets of 3 samples of the same build do not overlap 1 time in 10 (of 6
/// exchangeable samples, the 3 lowest fall on one side with odds 2 in 20), which marked
/// 4 of 38 rows of unix against itself faster or slower; apart by a spread, about
/// 1 in 130. Three samples a side is the least for a range to mean anything.
pub fn judge(base: &Timing, head: &Timing) -> TimeVerdict {
    if base.samples < 3 || head.samples < 3 {
        return TimeVerdict::TooFewSamples;
    }
    let spread = (base.max_ms - base.min_ms).max(head.max_ms - head.min_ms);
    if base.min_ms - head.max_ms > spread {
        TimeVerdict::Faster
    } else if head.min_ms - base.max_ms > spread {
        TimeVerdict::Slower
    } else {
        TimeVerdict::InsideNoise
    }
}

impl TimeVerdict {
    pub fn describe(self) -> &'static str {
        match self {
            TimeVerdict::Faster => "faster",
            TimeVerdict::Slower => "slower",
            TimeVerdict::InsideNoise => "inside the noise",
            TimeVerdict::TooFewSamples => "spread unknown (fewer than 3 repeats)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &[f64]) -> Timing {
        Timing::of(s).unwrap()
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(t(&[5.0, 1.0, 3.0]).median_ms, 3.0);
        assert_eq!(t(&[4.0, 1.0, 3.0, 2.0]).median_ms, 2.5);
        assert!(Timing::of(&[]).is_none());
    }

    #[test]
    fn overlapping_ranges_are_noise_and_disjoint_ones_are_not() {
        let base = t(&[10.0, 11.0, 12.0]);
        assert_eq!(
            judge(&base, &t(&[11.5, 13.0, 14.0])),
            TimeVerdict::InsideNoise
        );
        assert_eq!(judge(&base, &t(&[14.5, 15.0, 16.0])), TimeVerdict::Slower);
        assert_eq!(judge(&base, &t(&[5.0, 6.0, 7.0])), TimeVerdict::Faster);
        assert_eq!(judge(&base, &t(&[1.0])), TimeVerdict::TooFewSamples);
        // Apart, but by less than a side's own spread: noise (was "slower", "faster").
        assert_eq!(
            judge(&base, &t(&[13.0, 14.0, 15.0])),
            TimeVerdict::InsideNoise
        );
        assert_eq!(judge(&base, &t(&[7.0, 8.0, 9.0])), TimeVerdict::InsideNoise);
        // Exact target time (an icount board): no spread, any difference is one.
        let exact = t(&[1000.0, 1000.0, 1000.0]);
        assert_eq!(
            judge(&exact, &t(&[1001.0, 1001.0, 1001.0])),
            TimeVerdict::Slower
        );
    }
}
