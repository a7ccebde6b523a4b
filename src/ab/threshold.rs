//! `--fail-on` thresholds: parsed once into checked values, and the one function that
//! decides which of them a comparison breaks (the exit code follows from that alone).

use super::{CaseDelta, OutputChange};
use crate::ab::timing::TimeVerdict;
use crate::firmware_build::size::ImageSize;

/// What makes `mpcheck compare` exit 1.
#[derive(Debug, Clone, PartialEq)]
pub enum FailOn {
    /// Any case whose output differs between the sides.
    Output,
    /// Any heap metric of a case rising by more than this percentage of the base.
    Heap { percent: f64 },
    /// A case's bytecode growing by more than this percentage.
    Bytecode { percent: f64 },
    /// A case's median time rising by more than this percentage, outside the noise.
    Time { percent: f64 },
    /// The firmware's text, data or bss growing by more than this many bytes.
    Size { bytes: u64 },
}

impl std::str::FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<FailOn, String> {
        let percent = |v: &str| -> Result<f64, String> {
            v.strip_prefix('+')
                .and_then(|v| v.strip_suffix('%'))
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|p| p.is_finite() && *p >= 0.0)
                .ok_or_else(|| format!("`{s}`: the limit is a rise such as +5%"))
        };
        match s.split_once(':') {
            None if s == "output" => Ok(FailOn::Output),
            Some(("heap", v)) => Ok(FailOn::Heap {
                percent: percent(v)?,
            }),
            Some(("bytecode", v)) => Ok(FailOn::Bytecode {
                percent: percent(v)?,
            }),
            Some(("time", v)) => Ok(FailOn::Time {
                percent: percent(v)?,
            }),
            Some(("size", v)) => Ok(FailOn::Size {
                bytes: v
                    .strip_prefix('+')
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("`{s}`: the limit is a rise in bytes such as +256"))?,
            }),
            _ => Err(format!(
                "`{s}`: expected output, heap:+N%, bytecode:+N%, time:+N% or size:+N"
            )),
        }
    }
}

/// A rise of `head` over `base` by more than `percent` (a rise from 0 is always more).
fn rose(base: f64, head: f64, percent: f64) -> bool {
    head > base && (base <= 0.0 || (head - base) / base * 100.0 > percent)
}

/// Every threshold a case or the firmware (`size`: base and head image) breaks, each as
/// one line naming the case or section and the figures.
pub fn breaches(
    limits: &[FailOn],
    deltas: &[CaseDelta],
    size: Option<(ImageSize, ImageSize)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for limit in limits {
        if let (FailOn::Size { bytes }, Some((b, h))) = (limit, size) {
            for (section, b, h) in [
                ("text", b.text, h.text),
                ("data", b.data, h.data),
                ("bss", b.bss, h.bss),
            ] {
                if h > b.saturating_add(*bytes) {
                    out.push(format!(
                        "firmware {section}: {b} → {h} bytes (+{}, limit +{bytes})",
                        h - b
                    ));
                }
            }
        }
    }
    for d in deltas {
        let who = format!("{} ({})", d.case, d.mode.as_str());
        for limit in limits {
            match limit {
                FailOn::Output => {
                    if matches!(d.output, OutputChange::Different { .. }) {
                        out.push(format!("{who}: output differs"));
                    }
                }
                FailOn::Heap { percent } => {
                    for m in &d.heap {
                        if let (Some(b), Some(h)) = (m.base, m.head)
                            && rose(b as f64, h as f64, *percent)
                        {
                            out.push(format!(
                                "{who}: heap {} {b} → {h} (limit +{percent}%)",
                                m.metric
                            ));
                        }
                    }
                }
                FailOn::Bytecode { percent } => {
                    if let Some(bc) = &d.bytecode
                        && rose(bc.base_bytes as f64, bc.head_bytes as f64, *percent)
                    {
                        out.push(format!(
                            "{who}: bytecode {} → {} bytes (limit +{percent}%)",
                            bc.base_bytes, bc.head_bytes
                        ));
                    }
                }
                // The firmware's, not a case's: above.
                FailOn::Size { .. } => {}
                FailOn::Time { percent } => {
                    if let Some(t) = &d.time
                        && t.verdict == TimeVerdict::Slower
                        && rose(t.base.median_ms, t.head.median_ms, *percent)
                    {
                        let what = if t.on_target { "target time" } else { "time" };
                        out.push(format!(
                            "{who}: median {what} {:.3} → {:.3} ms (limit +{percent}%)",
                            t.base.median_ms, t.head.median_ms
                        ));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!("output".parse(), Ok(FailOn::Output));
        assert_eq!("heap:+5%".parse(), Ok(FailOn::Heap { percent: 5.0 }));
        assert_eq!("time:+2.5%".parse(), Ok(FailOn::Time { percent: 2.5 }));
        let e = "heap:5".parse::<FailOn>().unwrap_err();
        assert!(e.contains("+5%"), "{e}");
        let e = "speed:+5%".parse::<FailOn>().unwrap_err();
        assert!(e.contains("expected output, heap"), "{e}");
        assert_eq!("size:+256".parse(), Ok(FailOn::Size { bytes: 256 }));
        let e = "size:+2%".parse::<FailOn>().unwrap_err();
        assert!(e.contains("a rise in bytes such as +256"), "{e}");
    }

    #[test]
    fn firmware_growing_past_the_limit_breaks_it_per_section() {
        let base = ImageSize {
            text: 1000,
            data: 16,
            bss: 500,
        };
        let head = ImageSize {
            text: 1100,
            data: 16,
            bss: 400,
        };
        let limits = [FailOn::Size { bytes: 99 }];
        assert_eq!(
            breaches(&limits, &[], Some((base, head))),
            ["firmware text: 1000 → 1100 bytes (+100, limit +99)"]
        );
        assert!(breaches(&[FailOn::Size { bytes: 100 }], &[], Some((base, head))).is_empty());
        assert!(breaches(&limits, &[], None).is_empty());
        assert!(breaches(&[FailOn::Output], &[], Some((base, head))).is_empty());
    }

    #[test]
    fn a_rise_past_the_limit_breaks_it_and_one_within_does_not() {
        assert!(rose(100.0, 106.0, 5.0));
        assert!(!rose(100.0, 105.0, 5.0));
        assert!(!rose(100.0, 90.0, 0.0));
        assert!(rose(0.0, 16.0, 50.0));
    }
}
