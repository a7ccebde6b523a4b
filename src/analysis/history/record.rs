//! What a run leaves in the history: one row per trial whose verdict says something about
//! the case. A trial that Ctrl-C or SIGTERM cut short, or that was never run, says
//! nothing about it and is left out, and so is each such attempt of a repeated trial: a
//! `--repeat 5` stopped after 3 passes is a pass, never a flaky `pass 3, error 2`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::inputs::Suite;
use crate::model::verdict::{Verdict, aggregate};
use crate::pipeline::TrialResult;
use crate::tools::firmware_build::size::ImageSize;
use crate::tools::toolchain::ToolInfo;

/// A run as the history stores it; also the side file a run that could not be recorded
/// is kept in (`mpcheck history --import` reads it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// RFC 3339, UTC.
    pub started: String,
    pub commit: Option<String>,
    /// Tool, path, version of every tool that ran.
    pub tools: serde_json::Value,
    pub duration_ms: i64,
    pub trials: Vec<TrialRow>,
    /// Each built or flashed image's text/data/bss, by board (a device board's ELF
    /// firmware, a unix VM built from a tree); empty in runs recorded before sizes were.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sizes: BTreeMap<String, ImageSize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    /// With `name`, the trial's key: which suite (`cases/`, or which checkout's tests/
    /// and emitter) it belongs to; empty when not known (a run recorded before suites
    /// were, or a side file kept by such a run).
    #[serde(default)]
    pub suite: String,
    pub name: String,
    pub board: String,
    pub case_id: String,
    pub mode: String,
    pub verdict: String,
    pub reason: Option<String>,
    pub duration_ms: i64,
    /// The calibrated heap figures.
    pub heap: serde_json::Value,
    pub quarantined: Option<String>,
    /// The fingerprint of what the verdict was reached from (the case, its goldens, the
    /// tools, the board): two runs with the same one had nothing changed between them.
    /// `None` when not known.
    #[serde(default)]
    pub inputs: Option<String>,
    /// The time on the target in µs: the median of the attempts that say something about
    /// the case (`None`: the target has no clock).
    #[serde(default)]
    pub target_us: Option<i64>,
}

/// The reason an interrupted VM's run is given (`target::process`): the run was
/// stopped, the case did nothing.
const INTERRUPTED: &str = crate::targets::process::INTERRUPTED;

/// The reason `--fail-fast` gives the trials it did not start (`pipeline::executor`).
const NOT_RUN: &str = "not run:";

/// Whether one attempt's verdict is only the mark of a run that was stopped or never
/// started it, not a verdict about the case. Pure.
///
/// In a run that was interrupted, a crash, a timeout or an error may be the interrupt's
/// doing (a board whose QEMU the interrupt killed reads as a lost board, a crash), so
/// those are dropped too: losing one true failure of a stopped run costs less than a
/// false one that stays in the trend.
pub fn says_nothing(verdict: &Verdict, run_interrupted: bool) -> bool {
    match verdict {
        Verdict::Error { message } => message == INTERRUPTED || run_interrupted,
        Verdict::Crash { .. } | Verdict::Timeout { .. } => run_interrupted,
        Verdict::Skip { reason } => reason.starts_with(NOT_RUN),
        Verdict::Pass | Verdict::Fail | Verdict::CompileError { .. } | Verdict::Flaky { .. } => {
            false
        }
    }
}

/// What the history keeps of a result: its verdict and duration over the attempts that
/// say something about the case; `None` when none does. Pure.
pub fn recorded_verdict(r: &TrialResult, run_interrupted: bool) -> Option<(Verdict, u128)> {
    if r.attempts.is_empty() {
        return (!says_nothing(&r.verdict, run_interrupted))
            .then(|| (r.verdict.clone(), r.duration_ms));
    }
    let kept: Vec<_> = r
        .attempts
        .iter()
        .filter(|a| !says_nothing(&a.verdict, run_interrupted))
        .collect();
    if kept.is_empty() {
        return None;
    }
    let verdicts: Vec<Verdict> = kept.iter().map(|a| a.verdict.clone()).collect();
    Some((
        aggregate(&verdicts),
        kept.iter().map(|a| a.duration_ms).sum(),
    ))
}

impl RunRecord {
    /// A run that ended now, after `duration`, of the trials of `suite`: each result with
    /// a verdict about its case (see [`recorded_verdict`]), keyed by the suite and
    /// fingerprinted by its inputs.
    pub fn of(
        suite: &Suite,
        results: &[TrialResult],
        tools: &[ToolInfo],
        commit: Option<String>,
        duration: Duration,
    ) -> RunRecord {
        let started = chrono::Utc::now()
            - chrono::Duration::from_std(duration).unwrap_or_else(|_| chrono::Duration::zero());
        let interrupted = crate::util::interrupt::requested();
        RunRecord {
            started: started.to_rfc3339(),
            commit,
            tools: serde_json::to_value(tools).unwrap_or_default(),
            duration_ms: duration.as_millis() as i64,
            trials: results
                .iter()
                .filter_map(|r| row(suite, r, tools, interrupted))
                .collect(),
            sizes: BTreeMap::new(),
        }
    }
}

/// The run's sizes as the history stores them: JSON, or NULL when it built or flashed
/// no image with sections.
pub fn sizes_json(run: &RunRecord) -> Option<String> {
    (!run.sizes.is_empty()).then(|| serde_json::to_string(&run.sizes).unwrap_or_default())
}

/// The row of one result, `None` when it says nothing about its case.
fn row(suite: &Suite, r: &TrialResult, tools: &[ToolInfo], interrupted: bool) -> Option<TrialRow> {
    let (verdict, duration_ms) = recorded_verdict(r, interrupted)?;
    Some(TrialRow {
        suite: suite.key().to_string(),
        name: r.name.clone(),
        board: r.board.clone(),
        case_id: r.case.clone(),
        mode: r.mode.as_str().to_string(),
        verdict: verdict.name().to_string(),
        reason: verdict.reason(),
        duration_ms: duration_ms as i64,
        heap: serde_json::to_value(&r.heap).unwrap_or_default(),
        quarantined: r.quarantined.clone(),
        inputs: suite.fingerprint(r, tools),
        target_us: recorded_target_us(r, interrupted),
    })
}

/// A result's time on the target as the history keeps it: its own, or the median (the
/// upper of two middles) of the attempts that say something about the case. Pure.
pub fn recorded_target_us(r: &TrialResult, interrupted: bool) -> Option<i64> {
    if r.attempts.is_empty() {
        return r.target_us.map(|us| us as i64);
    }
    let mut us: Vec<u64> = r
        .attempts
        .iter()
        .filter(|a| !says_nothing(&a.verdict, interrupted))
        .filter_map(|a| a.target_us)
        .collect();
    us.sort_unstable();
    us.get(us.len() / 2).map(|&u| u as i64)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::model::case::{Case, CaseId, Mode};
    use crate::model::outcome::{Outcome, Status};
    use crate::pipeline::{Attempt, Judgement};
    use crate::plan::Trial;

    /// `unix::g/t`, a real trial of a case file in `dir`.
    fn trial(dir: &Path) -> Trial {
        let board = crate::boardfile::parse_board(
            &dir.join("boards/unix.yaml"),
            "kind: unix\ntimeout: 10\n",
        )
        .unwrap();
        let path = dir.join("t.py");
        std::fs::write(&path, "print(1)\n").unwrap();
        let id = CaseId {
            group: "g".into(),
            name: "t".into(),
        };
        Trial {
            board: Arc::new(board),
            case: Arc::new(Case::load(&path, id).unwrap()),
            mode: Mode::Source,
            decided: None,
            kind: None,
        }
    }

    /// The result the pipeline makes of a VM that ended with `status`.
    fn result_of(trial: &Trial, status: Status) -> TrialResult {
        let outcome = Outcome::new(Vec::new(), false, status, Duration::from_millis(5));
        let verdict =
            crate::model::verdict::status_verdict(&outcome, None).unwrap_or(Verdict::Pass);
        let mut judgement = Judgement::decided(verdict);
        judgement.outcome = Some(outcome);
        trial.result(judgement, Duration::from_millis(5))
    }

    fn interrupted() -> Status {
        Status::NotStarted(INTERRUPTED.into())
    }

    /// A repeated trial's result as `--repeat` combines its attempts.
    fn repeated(trial: &Trial, statuses: Vec<Status>) -> TrialResult {
        let results: Vec<TrialResult> = statuses.into_iter().map(|s| result_of(trial, s)).collect();
        let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict.clone()).collect();
        let mut r = results[0].clone();
        r.verdict = aggregate(&verdicts);
        r.attempts = results
            .iter()
            .enumerate()
            .map(|(i, a)| Attempt {
                verdict: a.verdict.clone(),
                why: format!("attempt {}", i + 1),
                duration_ms: 5,
                target_us: None,
            })
            .collect();
        r
    }

    #[test]
    fn an_interrupted_trial_is_no_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let t = trial(dir.path());
        let r = result_of(&t, interrupted());
        assert_eq!(r.verdict.name(), "error", "the shape a stopped VM leaves");
        assert_eq!(recorded_verdict(&r, false), None);
        assert_eq!(recorded_verdict(&r, true), None);
        let ran = result_of(&t, Status::Exited(0));
        assert_eq!(recorded_verdict(&ran, true), Some((Verdict::Pass, 5)));
    }

    #[test]
    fn a_repeat_keeps_only_its_attempts_that_ran() {
        let dir = tempfile::tempdir().unwrap();
        let t = trial(dir.path());
        let passed = || Status::Exited(0);
        let r = repeated(
            &t,
            vec![passed(), passed(), passed(), interrupted(), interrupted()],
        );
        assert_eq!(r.verdict.name(), "flaky", "what the run itself reports");
        assert_eq!(recorded_verdict(&r, true), Some((Verdict::Pass, 15)));
        let stopped = repeated(&t, vec![interrupted(), interrupted()]);
        assert_eq!(recorded_verdict(&stopped, true), None);
        // A flaky trial that was not interrupted stays flaky.
        let flaky = repeated(&t, vec![passed(), Status::Signalled(11)]);
        assert_eq!(
            recorded_verdict(&flaky, false).map(|(v, _)| v.name()),
            Some("flaky")
        );
    }

    #[test]
    fn in_a_stopped_run_what_the_stop_can_cause_is_no_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let t = trial(dir.path());
        let lost = result_of(&t, Status::BoardLost("console closed".into()));
        assert_eq!(recorded_verdict(&lost, true), None);
        assert_eq!(
            recorded_verdict(&lost, false).map(|(v, _)| v.name()),
            Some("crash")
        );
        let mut not_run = result_of(&t, Status::Exited(0));
        not_run.verdict = Verdict::Skip {
            reason: "not run: --fail-fast stopped the run after a failure".into(),
        };
        assert_eq!(recorded_verdict(&not_run, false), None);
    }

    #[test]
    fn a_run_interrupted_records_only_what_finished() {
        let dir = tempfile::tempdir().unwrap();
        let t = trial(dir.path());
        let results = [
            result_of(&t, Status::Exited(0)),
            result_of(&t, interrupted()),
        ];
        let record = RunRecord::of(
            &Suite::unknown(),
            &results,
            &[],
            None,
            Duration::from_secs(1),
        );
        assert_eq!(record.trials.len(), 1);
        assert_eq!(record.trials[0].verdict, "pass");
        let mut h = super::super::History::open(
            &super::super::Location::Sqlite(dir.path().join("h.sqlite")),
            super::super::DEFAULT_TIMEOUT,
        )
        .unwrap();
        h.record(&record).unwrap();
        assert_eq!(h.counts().unwrap(), (1, 1));
    }

    #[test]
    fn a_row_names_its_suite_and_the_fingerprint_of_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let t = trial(dir.path());
        let results = [result_of(&t, Status::Exited(0))];
        let suite = Suite::cases(dir.path());
        let record = RunRecord::of(&suite, &results, &[], None, Duration::from_secs(1));
        assert_eq!(record.trials[0].suite, "cases/");
        assert_eq!(record.trials[0].inputs, suite.fingerprint(&results[0], &[]));
        assert!(record.trials[0].inputs.is_some());
        let unsaid = RunRecord::of(
            &Suite::unknown(),
            &results,
            &[],
            None,
            Duration::from_secs(1),
        );
        assert_eq!(
            (unsaid.trials[0].suite.as_str(), &unsaid.trials[0].inputs),
            ("", &None)
        );
    }
}
