//! A trial's result: built once, from what names the trial and its [`Judgement`].

use std::collections::BTreeMap;
use std::time::Duration;

use crate::model::case::{CaseId, Mode};
use crate::model::heap::HeapFigures;
use crate::model::outcome::{Outcome, Status};
use crate::model::verdict::Verdict;

/// One attempt at a trial, kept as data: a re-check never erases the first try.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Attempt {
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Why this attempt was made ("first", or why it was re-run).
    pub why: String,
    pub duration_ms: u128,
    /// This attempt's time on the target's clock (microseconds), where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_us: Option<u64>,
}

/// Where a merged result was run: the runner's host, its partition, its report dir.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    pub reports: String,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.host)?;
        if let Some(p) = &self.partition {
            write!(f, ", partition {p}")?;
        }
        write!(f, " ({})", self.reports)
    }
}

/// What the pipeline decided about a trial, with the evidence.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub verdict: Verdict,
    /// The outcome the verdict was judged on (none when the trial did not run).
    pub outcome: Option<Outcome>,
    pub expected: Option<Vec<u8>>,
    /// Where the expectation came from (a golden file, CPython).
    pub expected_from: Option<String>,
    /// Calibrated heap figures.
    pub heap: HeapFigures,
    pub heap_table: Option<String>,
    pub note: Option<String>,
    /// Every attempt, when there was more than one.
    pub attempts: Vec<Attempt>,
}

impl Judgement {
    /// A verdict reached without running anything.
    pub fn decided(verdict: Verdict) -> Judgement {
        Judgement {
            verdict,
            outcome: None,
            expected: None,
            expected_from: None,
            heap: HeapFigures::default(),
            heap_table: None,
            note: None,
            attempts: Vec::new(),
        }
    }
}

/// The result of one trial, with the evidence behind its verdict. Read back from a
/// results.json by `mpcheck merge` (what is not written there is left empty).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TrialResult {
    pub name: String,
    pub board: String,
    /// The board's family where it is not the board's own name: per-board goldens,
    /// heap figures and known differences of this result are that family's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    pub case: String,
    pub mode: Mode,
    /// The member of the board's pool (identical boards, e.g. labgrid places) that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub duration_ms: u128,
    /// The case's own time measured by the target's clock (`time.ticks_us` around its
    /// run), in microseconds; absent where the target has no clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_us: Option<u64>,
    /// Where the expected output came from (golden file or CPython).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The output, `\r\n` normalised (kept for every trial that ran: bless needs it).
    #[serde(skip)]
    pub output: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    /// How the VM ended (what `exit` says in words).
    #[serde(skip)]
    pub status: Option<Status>,
    /// Heap figures (calibrated): metric → bytes, null where not measured or unavailable.
    pub heap: HeapFigures,
    /// For a heap failure: metric, golden, actual, delta.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heap_table: Option<String>,
    /// What else happened (e.g. how a hung board was recovered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where a board case's time went: reset, upload, run, read (milliseconds).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phases_ms: BTreeMap<String, f64>,
    /// Every attempt, when the trial was run more than once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// A known-flaky case's failure, within its quarantine: why (it does not fail the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<String>,
    /// What the history says of this trial: new failure, fixed, known flaky.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// In a merged report: the run (host, partition, report directory) it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(skip)]
    pub case_id: Option<CaseId>,
    /// The VM ran the case to its end (exit 0 or an uncaught exception), output whole:
    /// its output can become a golden, whatever the verdict against the old one.
    #[serde(skip)]
    pub blessable: bool,
}

impl TrialResult {
    /// What the board is: its family, which is its name unless its file says otherwise.
    pub fn family(&self) -> &str {
        self.family.as_deref().unwrap_or(&self.board)
    }

    /// The result of the trial `name` (`<board>::<case><mode suffix>`).
    pub fn new(
        name: String,
        (board, family): (&str, &str),
        case: &CaseId,
        mode: Mode,
        judgement: Judgement,
        duration: Duration,
    ) -> TrialResult {
        let Judgement {
            verdict,
            outcome,
            expected,
            expected_from,
            heap,
            heap_table,
            note,
            attempts,
        } = judgement;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        // The diff's two sides are kept for an output failure only.
        let output_failed = verdict == Verdict::Fail && heap_table.is_none();
        let output = outcome
            .as_ref()
            .map(|o| crate::model::verdict::normalise(&o.output));
        let blessable = outcome.as_ref().is_some_and(|o| {
            matches!(o.status, Status::Exited(0 | 1))
                && !o.truncated
                && !matches!(verdict, Verdict::Skip { .. })
        });
        TrialResult {
            name,
            board: board.to_string(),
            family: (family != board).then(|| family.to_string()),
            case: case.to_string(),
            mode,
            member: outcome.as_ref().and_then(|o| o.member.clone()),
            duration_ms: duration.as_millis(),
            target_us: outcome.as_ref().and_then(|o| o.target_us),
            expected_from,
            expected: expected.filter(|_| output_failed).map(|e| text(&e)),
            actual: output.as_deref().filter(|_| output_failed).map(text),
            exception: outcome.as_ref().and_then(|o| o.exception.clone()),
            truncated: outcome.as_ref().is_some_and(|o| o.truncated),
            exit: outcome.as_ref().map(|o| o.status.to_string()),
            status: outcome.as_ref().map(|o| o.status.clone()),
            heap,
            heap_table,
            note: note.or_else(|| outcome.as_ref().and_then(|o| o.note.clone())),
            phases_ms: outcome
                .as_ref()
                .map(|o| {
                    o.phases
                        .iter()
                        .map(|(k, d)| (k.to_string(), d.as_secs_f64() * 1000.0))
                        .collect()
                })
                .unwrap_or_default(),
            attempts,
            quarantined: None,
            history: None,
            origin: None,
            case_id: Some(case.clone()),
            blessable,
            output,
            verdict,
        }
    }
}
