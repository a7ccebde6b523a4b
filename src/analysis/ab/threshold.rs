//! `--fail-on` thresholds: parsed once into checked values, and the one function that
//! decides which of them a comparison breaks (the exit code follows from that alone).

use super::{CaseDelta, OutputChange};
use crate::analysis::ab::timing::TimeVerdict;
use crate::tools::firmware_build::size::ImageSize;

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
    /// A case's fragmentation index (1 − largest free / free, 0 to 1) rising by more
    /// than this (`frag:+0.05`: five hundredths).
    Frag { rise: f64 },
    /// A case's largest free block after it shrinking by more than this percentage.
    LargestFree { percent: f64 },
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
            Some(("frag", v)) => Ok(FailOn::Frag {
                rise: v
                    .strip_prefix('+')
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|r| r.is_finite() && (0.0..1.0).contains(r))
                    .ok_or_else(|| {
                        format!("`{s}`: the limit is a rise of the index (0 to 1) such as +0.05")
                    })?,
            }),
            Some(("largest-free", v)) => Ok(FailOn::LargestFree {
                percent: v
                    .strip_prefix('-')
                    .and_then(|v| v.strip_suffix('%'))
                    .and_then(|v| v.parse::<f64>().ok())
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or_else(|| format!("`{s}`: the limit is a fall such as -5%"))?,
            }),
            Some(("size", v)) => Ok(FailOn::Size {
                bytes: v
                    .strip_prefix('+')
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("`{s}`: the limit is a rise in bytes such as +256"))?,
            }),
            _ => Err(format!(
                "`{s}`: expected output, heap:+N%, bytecode:+N%, time:+N%, size:+N, frag:+X or largest-free:-N%"
            )),
        }
    }
}

/// A rise of `head` over `base` by more than `percent` (a rise from 0 is always more).
fn rose(base: f64, head: f64, percent: f64) -> bool {
    head > base && (base <= 0.0 || (head - base) / base * 100.0 > percent)
}

/// Every threshold a case or the image (`size`: what it is, e.g. "firmware" or "unix
/// VM", and the base and head image) breaks, each as one line naming the case or
/// section and the figures.
pub fn breaches(
    limits: &[FailOn],
    deltas: &[CaseDelta],
    size: Option<(&str, ImageSize, ImageSize)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for limit in limits {
        if let (FailOn::Size { bytes }, Some((image, b, h))) = (limit, size) {
            for (section, b, h) in [
                ("text", b.text, h.text),
                ("data", b.data, h.data),
                ("bss", b.bss, h.bss),
            ] {
                if h > b.saturating_add(*bytes) {
                    out.push(format!(
                        "{image} {section}: {b} → {h} bytes (+{}, limit +{bytes})",
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
                FailOn::Frag { rise } => {
                    if let (Some(r), Some((b, h))) = (
                        d.frag.and_then(|f| f.index_rise()),
                        d.frag.and_then(|f| f.both()),
                    ) && r > *rise
                    {
                        out.push(format!(
                            "{who}: fragmentation index {:.4} → {:.4} (limit +{rise})",
                            b.index, h.index
                        ));
                    }
                }
                FailOn::LargestFree { percent } => {
                    if let (Some(fall), Some((b, h))) = (
                        d.frag.and_then(|f| f.largest_fall_percent()),
                        d.frag.and_then(|f| f.both()),
                    ) && fall > *percent
                    {
                        out.push(format!(
                            "{who}: largest free block {} → {} bytes (limit -{percent}%)",
                            b.largest_free_bytes, h.largest_free_bytes
                        ));
                    }
                }
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
        assert_eq!("frag:+0.05".parse(), Ok(FailOn::Frag { rise: 0.05 }));
        assert_eq!(
            "largest-free:-5%".parse(),
            Ok(FailOn::LargestFree { percent: 5.0 })
        );
        let e = "frag:+5%".parse::<FailOn>().unwrap_err();
        assert!(e.contains("such as +0.05"), "{e}");
        let e = "largest-free:+5%".parse::<FailOn>().unwrap_err();
        assert!(e.contains("a fall such as -5%"), "{e}");
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
            breaches(&limits, &[], Some(("firmware", base, head))),
            ["firmware text: 1000 → 1100 bytes (+100, limit +99)"]
        );
        // A VM built from a tree is named as what it is.
        assert_eq!(
            breaches(&limits, &[], Some(("unix VM", base, head))),
            ["unix VM text: 1000 → 1100 bytes (+100, limit +99)"]
        );
        let within = [FailOn::Size { bytes: 100 }];
        assert!(breaches(&within, &[], Some(("firmware", base, head))).is_empty());
        assert!(breaches(&limits, &[], None).is_empty());
        assert!(breaches(&[FailOn::Output], &[], Some(("firmware", base, head))).is_empty());
    }

    #[test]
    fn fragmentation_past_its_limits_breaks_them() {
        let side = |largest: i64| crate::model::heap::HeapFigures {
            free_bytes: Some(1000),
            largest_free_bytes: Some(largest),
            ..Default::default()
        };
        let d = CaseDelta {
            case: "g/x".into(),
            mode: crate::model::case::Mode::Source,
            base_verdict: String::new(),
            head_verdict: String::new(),
            output: OutputChange::Same,
            ignored: Vec::new(),
            bytecode: None,
            bytecode_note: None,
            heap: Vec::new(),
            frag: crate::analysis::ab::frag::FragDelta::of(&side(900), &side(800)),
            time: None,
        };
        let limits = [
            FailOn::Frag { rise: 0.05 },
            FailOn::LargestFree { percent: 10.0 },
        ];
        assert_eq!(
            breaches(&limits, std::slice::from_ref(&d), None),
            [
                "g/x (source): fragmentation index 0.1000 → 0.2000 (limit +0.05)",
                "g/x (source): largest free block 900 → 800 bytes (limit -10%)"
            ]
        );
        let within = [
            FailOn::Frag { rise: 0.1 },
            FailOn::LargestFree { percent: 12.0 },
        ];
        assert!(breaches(&within, &[d], None).is_empty());
    }

    #[test]
    fn a_rise_past_the_limit_breaks_it_and_one_within_does_not() {
        assert!(rose(100.0, 106.0, 5.0));
        assert!(!rose(100.0, 105.0, 5.0));
        assert!(!rose(100.0, 90.0, 0.0));
        assert!(rose(0.0, 16.0, 50.0));
    }
}
