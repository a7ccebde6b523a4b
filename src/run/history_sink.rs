//! The run history as a sink of a run: results are marked against it (new failure,
//! fixed, known flaky) before the reports are written, then the run is recorded. A
//! history that fails costs only itself: the run is kept in a side file, said loudly.

use std::path::Path;
use std::time::Duration;

use crate::analysis::history::{History, HistoryError, Location, RunRecord};
use crate::pipeline::TrialResult;
use crate::plan::config::Project;
use crate::tools::toolchain::ToolInfo;
use crate::util::error::{Error, Result};
use crate::util::notice::notice;

/// Whether and where a run is recorded.
#[derive(Debug, Clone)]
pub enum HistoryPolicy {
    Off,
    Record {
        location: Location,
        /// How long to wait for another writer's lock, or for the server.
        timeout: Duration,
        /// A history that fails makes the run exit 2 (its reports still written).
        required: bool,
    },
}

impl HistoryPolicy {
    /// An explicit `--history` must name a file in a directory that exists: a typo in
    /// the path would otherwise create directories and a fresh history where none was
    /// meant. Anything else that keeps the file from opening (a directory in its place,
    /// a corrupt file) is the sink's failure: said at the end, the run kept.
    pub fn check(explicit: Option<&str>) -> Result<()> {
        let Some(Location::Sqlite(path)) = explicit.map(Location::parse) else {
            return Ok(());
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "--history {}: the directory {} does not exist (create it, or choose another path)",
                path.display(),
                dir.display()
            )));
        }
        Ok(())
    }

    /// Marks each result against the history (new failure, fixed, known flaky), then
    /// records the run; a history that fails gives back the run it could not record.
    pub fn mark_and_record(
        &self,
        project: &Project,
        suite: &crate::analysis::history::Suite,
        results: &mut [TrialResult],
        tools: &[ToolInfo],
        flashes: &[crate::hw::flash::record::FlashReport],
        duration: Duration,
    ) -> Option<Unrecorded> {
        let Self::Record {
            location, timeout, ..
        } = self
        else {
            return None;
        };
        let marked = History::open(location, *timeout).and_then(|mut history| {
            mark(&mut history, suite, results)?;
            Ok(history)
        });
        let commit = crate::analysis::history::git_commit(&project.root);
        let mut record = RunRecord::of(suite, results, tools, commit, duration);
        record.sizes = flashes
            .iter()
            .filter_map(|f| Some((f.board.clone(), f.size?)))
            .collect();
        let error = marked
            .and_then(|mut history| history.record(&record))
            .err()?;
        Some(Unrecorded { error, record })
    }

    /// Marks results against the history without recording them (a process that runs
    /// only some trials of a run: tests/trials.rs under nextest). Read-only; a history
    /// that cannot be read leaves the results unmarked and says why.
    pub fn mark_only(&self, suite: &crate::analysis::history::Suite, results: &mut [TrialResult]) {
        let Self::Record {
            location, timeout, ..
        } = self
        else {
            return;
        };
        if let Err(e) =
            History::open(location, *timeout).and_then(|mut h| mark(&mut h, suite, results))
        {
            notice(format!(
                "warning: results not marked against the history: {e}"
            ));
        }
    }

    /// Each of these trials' duration in its last runs (the median of up to five), by
    /// name: what the run orders its trials by. Read-only; a history that cannot be read
    /// gives none (the run says why when it records).
    pub fn durations<'a>(
        &self,
        suite: &crate::analysis::history::Suite,
        names: impl IntoIterator<Item = &'a str>,
    ) -> std::collections::BTreeMap<String, Duration> {
        let Self::Record {
            location, timeout, ..
        } = self
        else {
            return Default::default();
        };
        // An order is not worth waiting for: a server that does not answer at once is
        // left to the record at the end.
        let wait = (*timeout).min(Duration::from_secs(2));
        let past = History::open(location, wait).and_then(|mut h| h.past_in(suite, names, 5));
        past.unwrap_or_default()
            .into_iter()
            .filter_map(|(name, p)| {
                let mut ms = p.durations_ms;
                ms.sort_unstable();
                let median = *ms.get(ms.len() / 2)?;
                Some((name, Duration::from_millis(median.max(0) as u64)))
            })
            .collect()
    }

    /// Each timed result's time on the target over its last nine recorded runs and this
    /// one, by name (index.html's trend); call before the run is recorded. Read-only; a
    /// history that cannot be read gives none.
    pub fn target_trends(
        &self,
        suite: &crate::analysis::history::Suite,
        results: &[TrialResult],
    ) -> crate::report::TargetTrends {
        let Self::Record {
            location, timeout, ..
        } = self
        else {
            return Default::default();
        };
        let interrupted = crate::util::interrupt::requested();
        let timed: Vec<(&str, i64)> = results
            .iter()
            .filter_map(|r| {
                let us = crate::analysis::history::recorded_target_us(r, interrupted)?;
                Some((r.name.as_str(), us))
            })
            .collect();
        if timed.is_empty() {
            return Default::default();
        }
        let past = History::open(location, *timeout)
            .and_then(|mut h| h.past_in(suite, timed.iter().map(|(n, _)| *n), 9))
            .unwrap_or_default();
        timed
            .into_iter()
            .map(|(name, now)| {
                let mut runs = past
                    .get(name)
                    .map(|p| p.target_us.clone())
                    .unwrap_or_default();
                runs.push(Some(now));
                (name.to_string(), runs)
            })
            .collect()
    }

    pub fn required(&self) -> bool {
        matches!(self, Self::Record { required: true, .. })
    }
}

fn mark(
    history: &mut History,
    suite: &crate::analysis::history::Suite,
    results: &mut [TrialResult],
) -> Result<(), HistoryError> {
    let past = history.past_in(suite, results.iter().map(|r| r.name.as_str()), 10)?;
    for r in results.iter_mut() {
        r.history = crate::analysis::history::mark(past.get(&r.name), r);
    }
    Ok(())
}

/// A run its history could not take, with why.
pub struct Unrecorded {
    pub error: HistoryError,
    record: RunRecord,
}

impl Unrecorded {
    /// Keeps the run in a side file in the report directory (CI keeps that directory)
    /// and says loudly what failed and how to record the run later.
    pub fn keep(&self, report_dir: &Path) {
        notice(format!("warning: {}", self.error));
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let side = report_dir.join(format!("unrecorded-run-{stamp}.json"));
        let text = serde_json::to_string_pretty(&self.record).unwrap_or_default() + "\n";
        match crate::util::fsutil::write_atomic(&side, text.as_bytes()) {
            Ok(()) => notice(format!(
                "warning: this run is not in the history; its results are kept in {}: once the history works, record them with `mpcheck history --history {} --import {}`",
                side.display(),
                self.error.location,
                side.display()
            )),
            Err(e) => notice(format!(
                "warning: this run is not in the history, and its results could not be kept either: {e}"
            )),
        }
    }
}
