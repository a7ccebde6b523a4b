//! A/B comparison of two builds (`mpcheck compare`): the same selection's results on a
//! base and a head board paired per case and mode, with what changed — output, bytecode,
//! every heap metric, run time with its spread. Pure once the results are in; the
//! thresholds that decide the exit code are in [`threshold`].

pub mod bytecode;
pub mod threshold;
pub mod timing;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::case::Mode;
use crate::pipeline::TrialResult;
pub use bytecode::BytecodeDelta;
use timing::{TimeVerdict, Timing};

/// Whether the two sides printed the same.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "output", rename_all = "kebab-case")]
pub enum OutputChange {
    Same,
    Different {
        diff: String,
    },
    /// A side did not run the case to an output (skipped, unavailable, crashed): why.
    NotCompared {
        why: String,
    },
}

/// One heap metric on both sides (`None`: not measured there).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeapDelta {
    pub metric: String,
    pub base: Option<i64>,
    pub head: Option<i64>,
}

impl HeapDelta {
    pub fn delta(&self) -> Option<i64> {
        Some(self.head? - self.base?)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeDelta {
    pub base: Timing,
    pub head: Timing,
    pub verdict: TimeVerdict,
}

/// Everything that changed for one case in one mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseDelta {
    pub case: String,
    pub mode: Mode,
    pub base_verdict: String,
    pub head_verdict: String,
    #[serde(flatten)]
    pub output: OutputChange,
    /// When the two sides' compilers differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytecode: Option<BytecodeDelta>,
    /// Why the bytecode could not be compared, when the compilers differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytecode_note: Option<String>,
    pub heap: Vec<HeapDelta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeDelta>,
}

/// A trial's run times: one per attempt when it was repeated, else its one duration.
fn samples(r: &TrialResult) -> Vec<f64> {
    if r.output.is_none() {
        return Vec::new();
    }
    if r.attempts.is_empty() {
        vec![r.duration_ms as f64]
    } else {
        r.attempts.iter().map(|a| a.duration_ms as f64).collect()
    }
}

/// Base and head results paired by case and mode (a trial only one side has is left
/// out: its board did not plan it). `bytecode` gives the case's bytecode delta, or why
/// there is none, when the compilers differ.
pub fn pair(
    base: &[TrialResult],
    head: &[TrialResult],
    bytecode: &dyn Fn(&TrialResult) -> Option<Result<BytecodeDelta, String>>,
) -> Vec<CaseDelta> {
    let heads: BTreeMap<(&str, Mode), &TrialResult> = head
        .iter()
        .map(|r| ((r.case.as_str(), r.mode), r))
        .collect();
    let mut out = Vec::new();
    for b in base {
        let Some(h) = heads.get(&(b.case.as_str(), b.mode)) else {
            continue;
        };
        let output = match (&b.output, &h.output) {
            (Some(bo), Some(ho)) if bo == ho => OutputChange::Same,
            (Some(bo), Some(ho)) => OutputChange::Different {
                diff: crate::report::escape::controls(&crate::report::diff::unified(
                    &String::from_utf8_lossy(bo),
                    &String::from_utf8_lossy(ho),
                    &format!("base ({})", b.board),
                    &format!("head ({})", h.board),
                    crate::report::diff::REPORT_LINES,
                    None,
                ))
                .into_owned(),
            },
            _ => OutputChange::NotCompared {
                why: [b, h]
                    .iter()
                    .filter(|r| r.output.is_none())
                    .map(|r| {
                        format!(
                            "{}: {}",
                            r.board,
                            r.verdict
                                .reason()
                                .unwrap_or_else(|| r.verdict.name().into())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            },
        };
        let mut heap: Vec<HeapDelta> = crate::heap::METRICS
            .iter()
            .map(|m| HeapDelta {
                metric: m.to_string(),
                base: b.heap.get(m),
                head: h.heap.get(m),
            })
            .collect();
        let regions: std::collections::BTreeSet<&String> =
            b.heap.regions.keys().chain(h.heap.regions.keys()).collect();
        heap.extend(regions.into_iter().map(|name| HeapDelta {
            metric: format!("region.{name}"),
            base: b.heap.regions.get(name).copied(),
            head: h.heap.regions.get(name).copied(),
        }));
        heap.retain(|m| m.base.is_some() || m.head.is_some());
        let time = match (Timing::of(&samples(b)), Timing::of(&samples(h))) {
            (Some(bt), Some(ht)) => Some(TimeDelta {
                verdict: timing::judge(&bt, &ht),
                base: bt,
                head: ht,
            }),
            _ => None,
        };
        let (bytecode, bytecode_note) = match bytecode(b) {
            Some(Ok(d)) => (Some(d), None),
            Some(Err(why)) => (None, Some(why)),
            None => (None, None),
        };
        out.push(CaseDelta {
            case: b.case.clone(),
            mode: b.mode,
            base_verdict: b.verdict.name().into(),
            head_verdict: h.verdict.name().into(),
            output,
            bytecode,
            bytecode_note,
            heap,
            time,
        });
    }
    out
}

/// One side of a comparison: its board and the versions its tools reported.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub board: String,
    pub versions: Vec<String>,
}

/// What `mpcheck compare` found: the report files are made from this.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base: Side,
    pub head: Side,
    pub repeats: usize,
    pub deltas: Vec<CaseDelta>,
    /// The `--fail-on` thresholds broken, one line each (empty: exit 0).
    pub breaches: Vec<String>,
}

/// How many rows of each kind, for the headline.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Tally {
    pub same: usize,
    pub different: usize,
    pub not_compared: usize,
    pub faster: usize,
    pub slower: usize,
    pub inside_noise: usize,
}

impl Comparison {
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for d in &self.deltas {
            match d.output {
                OutputChange::Same => t.same += 1,
                OutputChange::Different { .. } => t.different += 1,
                OutputChange::NotCompared { .. } => t.not_compared += 1,
            }
            match d.time.as_ref().map(|t| t.verdict) {
                Some(TimeVerdict::Faster) => t.faster += 1,
                Some(TimeVerdict::Slower) => t.slower += 1,
                Some(TimeVerdict::InsideNoise) => t.inside_noise += 1,
                Some(TimeVerdict::TooFewSamples) | None => {}
            }
        }
        t
    }
}
