//! One trial's past in the history: its verdicts, durations and heap figures per run,
//! and the flakiness read from them.

use super::RecentRow;
use crate::model::heap::frag;

/// One trial's past verdicts, newest last.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Past {
    pub verdicts: Vec<String>,
    pub durations_ms: Vec<i64>,
    pub live_bytes: Vec<Option<i64>>,
    /// Each run's largest free block after the case, in bytes (`None`: not measured, or
    /// recorded before mpcheck measured it).
    pub largest_free_bytes: Vec<Option<i64>>,
    /// Each run's fragmentation index, 1 − largest free / free total.
    pub frag_index: Vec<Option<f64>>,
    /// Each run's fingerprint of the trial's inputs (`None`: not known).
    pub inputs: Vec<Option<String>>,
    /// Each run's time on the target in µs (`None`: the target has no clock, or the run
    /// was recorded before mpcheck kept it).
    pub target_us: Vec<Option<i64>>,
}

impl Past {
    /// One more (older-to-newer) row.
    pub(super) fn push(&mut self, row: RecentRow) {
        let heap = Figures::read(&row.heap);
        self.verdicts.push(row.verdict);
        self.durations_ms.push(row.duration_ms);
        self.live_bytes.push(heap.live_bytes);
        self.largest_free_bytes.push(heap.largest_free_bytes);
        self.frag_index.push(heap.frag_index());
        self.inputs.push(row.inputs);
        self.target_us.push(row.target_us);
    }

    /// Whether run `i`'s verdict changed with nothing changed: `flaky` within the run
    /// (its repeats or retries disagreed), or a verdict other than the run before's
    /// from the same inputs. A change with the inputs (a golden edited, a new VM) is an
    /// edit, not flakiness; a run whose inputs are not known is never counted. Pure.
    pub fn flaky_at(&self, i: usize) -> bool {
        let Some(verdict) = self.verdicts.get(i) else {
            return false;
        };
        if verdict == "flaky" {
            return true;
        }
        let Some(before) = i.checked_sub(1) else {
            return false;
        };
        let same_inputs = matches!(
            (self.inputs.get(before), self.inputs.get(i)),
            (Some(Some(a)), Some(Some(b))) if a == b
        );
        same_inputs && self.verdicts[before] != *verdict
    }

    /// The share of runs that were flaky (see [`Past::flaky_at`]).
    pub fn flake_rate(&self) -> f64 {
        let flaky = (0..self.verdicts.len())
            .filter(|&i| self.flaky_at(i))
            .count();
        flaky as f64 / self.verdicts.len().max(1) as f64
    }
}

/// A figure's trend over runs: first → last with the change, `steady` when they are
/// equal, `-` when no run has it (the history's columns and index.html's trends). Pure.
pub fn trend(values: &[Option<i64>]) -> String {
    let known: Vec<i64> = values.iter().flatten().copied().collect();
    match (known.first(), known.last()) {
        (Some(a), Some(b)) if a == b => format!("{a} (steady)"),
        (Some(a), Some(b)) => format!("{a} → {b} ({:+})", b - a),
        _ => "-".into(),
    }
}

/// The heap figures the history shows, read from a row's heap JSON by name: a row
/// recorded before a figure was measured lacks it (`None`), and a row written by a newer
/// mpcheck, with figures this one does not know, still gives those it knows.
#[derive(Debug, Default, PartialEq)]
struct Figures {
    live_bytes: Option<i64>,
    free_bytes: Option<i64>,
    largest_free_bytes: Option<i64>,
}

impl Figures {
    fn read(json: &str) -> Figures {
        let Ok(serde_json::Value::Object(heap)) = serde_json::from_str(json) else {
            return Figures::default();
        };
        let get = |name: &str| heap.get(name).and_then(serde_json::Value::as_i64);
        Figures {
            live_bytes: get("live_bytes"),
            free_bytes: get("free_bytes"),
            largest_free_bytes: get("largest_free_bytes"),
        }
    }

    fn frag_index(&self) -> Option<f64> {
        frag::index(self.free_bytes?, self.largest_free_bytes?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(heap: &str) -> RecentRow {
        RecentRow {
            verdict: "pass".into(),
            duration_ms: 1,
            heap: heap.into(),
            inputs: None,
            target_us: None,
        }
    }

    #[test]
    fn each_run_keeps_its_largest_free_block_and_index_and_older_rows_have_none() {
        let mut p = Past::default();
        // Recorded before the fragmentation figures; a newer mpcheck's unknown figure;
        // not JSON at all.
        p.push(row(r#"{"live_bytes": 48}"#));
        p.push(row(
            r#"{"live_bytes": 64, "free_bytes": 1000, "largest_free_bytes": 900, "later": 1}"#,
        ));
        p.push(row("not json"));
        assert_eq!(p.live_bytes, [Some(48), Some(64), None]);
        assert_eq!(p.largest_free_bytes, [None, Some(900), None]);
        assert_eq!(p.frag_index.len(), 3);
        assert!((p.frag_index[1].unwrap() - 0.1).abs() < 1e-12, "{p:?}");
        assert_eq!((p.frag_index[0], p.frag_index[2]), (None, None));
    }
}
