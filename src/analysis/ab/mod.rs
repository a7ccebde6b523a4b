//! A/B comparison of two builds (`mpcheck compare`): the same selection's results on a
//! base and a head board paired per case and mode, with what changed — output, bytecode,
//! every heap metric, run time with its spread. Pure once the results are in; the
//! thresholds that decide the exit code are in [`threshold`].

pub mod bytecode;
pub mod frag;
pub mod noise;
pub mod threshold;
pub mod timing;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::case::Mode;
use crate::pipeline::TrialResult;
pub use bytecode::BytecodeDelta;
use noise::Ignored;
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
    /// Both sides' times are the target's own clock's (the case's run), not the wall
    /// time of the whole trial.
    pub on_target: bool,
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
    /// What differed between the sides but is not the build, set aside (see [`noise`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<Ignored>,
    /// When the two sides' compilers differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytecode: Option<BytecodeDelta>,
    /// Why the bytecode could not be compared, when the compilers differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytecode_note: Option<String>,
    pub heap: Vec<HeapDelta>,
    /// The free heap's shape after the case, where a side measured it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frag: Option<frag::FragDelta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeDelta>,
}

/// A trial's run times in milliseconds: one per attempt when it was repeated, else its
/// one. `on_target`: the target's clock's (none when an attempt lacks it), else the wall
/// time of the whole trial.
fn samples(r: &TrialResult, on_target: bool) -> Vec<f64> {
    if r.output.is_none() {
        return Vec::new();
    }
    let ms = |us: Option<u64>| us.map(|us| us as f64 / 1000.0);
    match (r.attempts.is_empty(), on_target) {
        (true, false) => vec![r.duration_ms as f64],
        (false, false) => r.attempts.iter().map(|a| a.duration_ms as f64).collect(),
        (true, true) => ms(r.target_us).into_iter().collect(),
        (false, true) => r
            .attempts
            .iter()
            .map(|a| ms(a.target_us))
            .collect::<Option<Vec<f64>>>()
            .unwrap_or_default(),
    }
}

/// Whether a pair is compared on target time: both sides measured every attempt with
/// the target's clock.
fn on_target(b: &TrialResult, h: &TrialResult) -> bool {
    let timed =
        |r: &TrialResult| r.target_us.is_some() && r.attempts.iter().all(|a| a.target_us.is_some());
    timed(b) && timed(h)
}

/// How results are paired: what each side's output starts with that is not the build,
/// and whether verdicts (judged against goldens) are kept.
#[derive(Debug, Clone, Default)]
pub struct PairRules {
    /// The compiler header each side's disassembly starts with (a `bytecode` board).
    pub base_header: Option<String>,
    pub head_header: Option<String>,
    /// `--judge`: keep each side's verdict against the goldens; otherwise a trial that
    /// ran to an output is "not judged" (an A/B compares the sides, not a side with goldens).
    pub judged: bool,
    /// Whether run time is compared: not when a side only compiles (a `bytecode` board:
    /// its trial's time is a cached compile and a disassembly, nothing the build runs).
    pub timed: bool,
}

/// A side's verdict as the comparison shows it.
fn verdict_name(r: &TrialResult, judged: bool) -> String {
    if judged || r.output.is_none() {
        r.verdict.name().into()
    } else {
        "not judged".into()
    }
}

/// The two outputs compared with what is not the build masked: the diff is of the masked
/// texts, so a header or an address never shows as a change.
fn compare_outputs(
    b: &TrialResult,
    h: &TrialResult,
    rules: &PairRules,
) -> (OutputChange, Vec<Ignored>) {
    let (Some(bo), Some(ho)) = (&b.output, &h.output) else {
        let why = [b, h]
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
            .join("; ");
        return (OutputChange::NotCompared { why }, Vec::new());
    };
    let bm = noise::mask(&String::from_utf8_lossy(bo), rules.base_header.as_deref());
    let hm = noise::mask(&String::from_utf8_lossy(ho), rules.head_header.as_deref());
    let ignored = noise::ignored(&bm, &hm).into_iter().collect();
    if bm.text == hm.text {
        return (OutputChange::Same, ignored);
    }
    let diff = crate::util::escape::controls(&crate::util::diff::unified(
        &bm.text,
        &hm.text,
        &format!("base ({})", b.board),
        &format!("head ({})", h.board),
        crate::util::diff::REPORT_LINES,
        None,
    ))
    .into_owned();
    (OutputChange::Different { diff }, ignored)
}

/// Every heap metric and region either side measured.
fn heap_deltas(b: &TrialResult, h: &TrialResult) -> Vec<HeapDelta> {
    let mut heap: Vec<HeapDelta> = crate::model::heap::METRICS
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
    heap
}

/// Base and head results paired by case and mode (a trial only one side has is left
/// out: its board did not plan it). `bytecode` gives the case's bytecode delta, or why
/// there is none, when the compilers differ.
pub fn pair(
    base: &[TrialResult],
    head: &[TrialResult],
    rules: &PairRules,
    bytecode: &dyn Fn(&TrialResult) -> Option<Result<BytecodeDelta, String>>,
) -> Vec<CaseDelta> {
    let heads: BTreeMap<(&str, Mode), &TrialResult> = head
        .iter()
        .map(|r| ((r.case.as_str(), r.mode), r))
        .collect();
    // Where the sides time cases on their own clock, a pair without it (a heap case: its
    // driver is not timed) has only the whole trial's wall time, which follows the host:
    // a self-compare under 2 CPU hogs called heap/what_allocates "slower" (78 -> 216 ms)
    // among 137 exact rows. Such a pair's time is not compared.
    let clocked = base.iter().any(|b| {
        heads
            .get(&(b.case.as_str(), b.mode))
            .is_some_and(|h| on_target(b, h))
    });
    let mut out = Vec::new();
    for b in base {
        let Some(h) = heads.get(&(b.case.as_str(), b.mode)) else {
            continue;
        };
        let (output, ignored) = compare_outputs(b, h, rules);
        let target = on_target(b, h);
        let timed = rules.timed && (target || !clocked);
        let time = match (
            Timing::of(&samples(b, target)).filter(|_| timed),
            Timing::of(&samples(h, target)),
        ) {
            (Some(bt), Some(ht)) => Some(TimeDelta {
                verdict: timing::judge(&bt, &ht),
                base: bt,
                head: ht,
                on_target: target,
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
            base_verdict: verdict_name(b, rules.judged),
            head_verdict: verdict_name(h, rules.judged),
            output,
            ignored,
            bytecode,
            bytecode_note,
            heap: heap_deltas(b, h),
            frag: frag::FragDelta::of(&b.heap, &h.heap),
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
    /// The side's image's text/data/bss: a device board's firmware ELF, or a host
    /// board's VM built from a tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<crate::tools::firmware_build::size::ImageSize>,
    /// What `size` is the size of, as the report names it: "firmware", "unix VM".
    pub image: String,
    /// What the side was built from, for a board built from a tree: the tree, the
    /// revision (or "the working tree") and the build args, e.g. `/src at HEAD~1 =
    /// v1.24.0 (18658e1ebf51), args MICROPY_PY_FFI=0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub built: Option<String>,
}

/// What `mpcheck compare` found: the report files are made from this.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base: Side,
    pub head: Side,
    pub repeats: usize,
    /// Whether each side was judged against the goldens (`--judge`).
    pub judged: bool,
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
    /// Timed rows with too few samples for a spread: never called faster or slower.
    pub unknown_spread: usize,
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
                Some(TimeVerdict::TooFewSamples) => t.unknown_spread += 1,
                None => {}
            }
        }
        t
    }

    /// How many rows set each field aside (only fields that some row ignored).
    pub fn ignored(&self) -> BTreeMap<Ignored, usize> {
        let mut out = BTreeMap::new();
        for f in self.deltas.iter().flat_map(|d| &d.ignored) {
            *out.entry(*f).or_insert(0) += 1;
        }
        out
    }

    /// The bytecode deltas summed (`None`: the compilers are the same, nothing compared).
    /// The bytecode of every compared case summed, with how many cases (opcode families
    /// whose changes cancel out are dropped).
    pub fn bytecode_total(&self) -> Option<(usize, BytecodeDelta)> {
        let (mut cases, mut t) = (0, BytecodeDelta::default());
        for b in self.deltas.iter().filter_map(|d| d.bytecode.as_ref()) {
            cases += 1;
            t.base_bytes += b.base_bytes;
            t.head_bytes += b.head_bytes;
            t.base_instructions += b.base_instructions;
            t.head_instructions += b.head_instructions;
            for (family, d) in &b.opcode_deltas {
                *t.opcode_deltas.entry(family.clone()).or_insert(0) += d;
            }
        }
        t.opcode_deltas.retain(|_, d| *d != 0);
        (cases > 0).then_some((cases, t))
    }

    /// Each heap metric summed over the rows where both sides measured it, with how
    /// many rows changed: (base, head, rows changed).
    pub fn heap_totals(&self) -> BTreeMap<String, (i64, i64, usize)> {
        let mut out: BTreeMap<String, (i64, i64, usize)> = BTreeMap::new();
        for m in self.deltas.iter().flat_map(|d| &d.heap) {
            if let (Some(b), Some(h)) = (m.base, m.head) {
                let e = out.entry(m.metric.clone()).or_default();
                e.0 += b;
                e.1 += h;
                e.2 += usize::from(b != h);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::verdict::Verdict;

    const OLD: &str = "# MicroPython v1.22.2; flags: none\n";
    const NEW: &str = "# MicroPython v1.28.0; flags: none\n";

    fn result(board: &str, case: &str, output: &str, verdict: Verdict) -> TrialResult {
        let mut r: TrialResult = serde_json::from_value(serde_json::json!({
            "name": format!("{board}::{case}"), "board": board, "case": case,
            "mode": "source", "verdict": "pass", "duration_ms": 3, "heap": {},
        }))
        .unwrap();
        r.verdict = verdict;
        r.output = Some(output.as_bytes().to_vec());
        r
    }

    fn rules(judged: bool) -> PairRules {
        PairRules {
            base_header: Some(OLD.into()),
            head_header: Some(NEW.into()),
            judged,
            timed: true,
        }
    }

    #[test]
    fn time_is_the_targets_where_both_sides_measured_every_attempt_else_wall_time() {
        let timed = |board: &str, us: [u64; 3], wall: u128| {
            let mut r = result(board, "g/x", "1\n", Verdict::Pass);
            r.target_us = Some(us[0]);
            r.attempts = us
                .iter()
                .map(|&us| crate::model::result::Attempt {
                    verdict: Verdict::Pass,
                    why: "attempt".into(),
                    duration_ms: wall,
                    target_us: Some(us),
                })
                .collect();
            r
        };
        let base = [timed("a", [1000, 1001, 1000], 30)];
        let head = [timed("b", [1500, 1500, 1501], 20)];
        let t = pair(&base, &head, &rules(true), &|_| None)[0]
            .time
            .clone()
            .unwrap();
        assert!(t.on_target);
        assert_eq!((t.base.median_ms, t.head.median_ms), (1.0, 1.5));
        assert_eq!(t.verdict, TimeVerdict::Slower, "wall time says faster");
        // one attempt without the clock: the pair falls back to wall time
        let mut head = head;
        head[0].attempts[1].target_us = None;
        let t = pair(&base, &head, &rules(true), &|_| None)[0]
            .time
            .clone()
            .unwrap();
        assert!(!t.on_target);
        assert_eq!(t.verdict, TimeVerdict::Faster);
        // ...unless other pairs are on the target's clock: then its wall time is the
        // host's, and not compared
        let mut base2 = vec![timed("a", [1000, 1000, 1000], 30)];
        base2[0].case = "g/y".into();
        base2.push(base[0].clone());
        let mut head2 = vec![timed("b", [1000, 1000, 1000], 25)];
        head2[0].case = "g/y".into();
        head2.push(head[0].clone());
        let pairs = pair(&base2, &head2, &rules(true), &|_| None);
        assert!(pairs[0].time.as_ref().unwrap().on_target);
        assert!(pairs[1].time.is_none(), "{:?}", pairs[1].time);
        // A side that only compiles (a bytecode board) has no run time to compare.
        let untimed = PairRules {
            timed: false,
            ..rules(true)
        };
        assert!(pair(&base, &head, &untimed, &|_| None)[0].time.is_none());
    }

    #[test]
    fn a_header_only_difference_is_the_same_output_and_no_side_is_judged() {
        // The base fails against a golden written by the head's compiler: not shown.
        let base = [result(
            "a",
            "g/x",
            &format!("{OLD}  RETURN_VALUE\n"),
            Verdict::Fail,
        )];
        let head = [result(
            "b",
            "g/x",
            &format!("{NEW}  RETURN_VALUE\n"),
            Verdict::Pass,
        )];
        let d = pair(&base, &head, &rules(false), &|_| None);
        assert_eq!(d[0].output, OutputChange::Same);
        assert_eq!(d[0].ignored, vec![Ignored::CompilerHeader]);
        assert_eq!(d[0].base_verdict, "not judged");
        let d = pair(&base, &head, &rules(true), &|_| None);
        assert_eq!(d[0].base_verdict, "fail");
    }

    #[test]
    fn a_change_below_the_header_is_diffed_without_the_header() {
        let base = [result(
            "a",
            "g/x",
            &format!("{OLD}  UNARY_OP 1\n"),
            Verdict::Pass,
        )];
        let head = [result(
            "b",
            "g/x",
            &format!("{NEW}  LOAD_CONST_OBJ\n"),
            Verdict::Pass,
        )];
        let d = pair(&base, &head, &rules(false), &|_| None);
        let OutputChange::Different { diff } = &d[0].output else {
            panic!("{:?}", d[0].output)
        };
        assert!(
            diff.contains("-  UNARY_OP 1") && !diff.contains("v1.22.2"),
            "{diff}"
        );
    }

    #[test]
    fn bytecode_totals_sum_the_cases_and_drop_opcodes_that_cancel() {
        let bc = |b: i64, h: i64, ops: &[(&str, i64)]| BytecodeDelta {
            base_bytes: b,
            head_bytes: h,
            base_instructions: b,
            head_instructions: h,
            opcode_deltas: ops.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        let row = |bytecode| CaseDelta {
            case: "g/x".into(),
            mode: Mode::Source,
            base_verdict: String::new(),
            head_verdict: String::new(),
            output: OutputChange::Same,
            ignored: Vec::new(),
            bytecode: Some(bytecode),
            bytecode_note: None,
            heap: Vec::new(),
            frag: None,
            time: None,
        };
        let c = Comparison {
            base: Side {
                board: "a".into(),
                versions: Vec::new(),
                size: None,
                image: "firmware".into(),
                built: None,
            },
            head: Side {
                board: "b".into(),
                versions: Vec::new(),
                size: None,
                image: "firmware".into(),
                built: None,
            },
            repeats: 1,
            judged: false,
            deltas: vec![
                row(bc(10, 8, &[("UNARY_OP", -2), ("LOAD", 1)])),
                row(bc(5, 4, &[("LOAD", -1)])),
            ],
            breaches: Vec::new(),
        };
        let (cases, t) = c.bytecode_total().unwrap();
        assert_eq!((cases, t.base_bytes, t.head_bytes), (2, 15, 12));
        assert_eq!(t.opcode_deltas, BTreeMap::from([("UNARY_OP".into(), -2)]));
    }
}
