//! The runs of one night (runners, partitions) → one run: each result keeps the host,
//! partition and report directory it came from; a trial in two runs is a duplicate (one
//! kept, said) or, when their verdicts differ, a conflict (kept as `flaky`, with every
//! run's verdict as an attempt); a partition or trial that no run has is said. Pure but
//! for reading the inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::result::{Attempt, Origin};
use crate::model::verdict::Verdict;
use crate::pipeline::TrialResult;
use crate::plan::partition::Partition;
use crate::tools::toolchain::ToolInfo;
use crate::util::error::{Error, Result};

/// One run's results.json, as merge needs it.
#[derive(Debug, Deserialize)]
pub struct Input {
    #[serde(skip)]
    pub dir: PathBuf,
    #[serde(default)]
    pub interrupted: bool,
    #[serde(default)]
    pub planned_trials: usize,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub partition: Option<Partition>,
    /// Set in a results.json grown trial by trial (`report::incremental`).
    #[serde(default)]
    pub run_id: Option<String>,
    /// Every trial of the suite before partitioning; absent in results.json files
    /// written before mpcheck recorded it (then only the partitions can be checked).
    #[serde(default)]
    pub suite_trials: Option<Vec<String>>,
    #[serde(default)]
    pub toolchain: Vec<ToolInfo>,
    pub summary: Summary,
    pub results: Vec<TrialResult>,
}

#[derive(Debug, Deserialize)]
pub struct Summary {
    #[serde(default)]
    pub duration_ms: u64,
}

impl Input {
    /// Reads `dir/results.json`.
    pub fn read(dir: &Path) -> Result<Input> {
        let path = dir.join("results.json");
        let text =
            crate::util::input::read_text(&path, crate::util::input::cap::RESULTS, "results.json")?;
        let mut input: Input = serde_json::from_str(&text).map_err(|e| {
            Error::config(&path, e.line(), format!("not an mpcheck results.json: {e}"))
        })?;
        input.dir = dir.to_path_buf();
        Ok(input)
    }

    fn origin(&self) -> Origin {
        Origin {
            host: self.host.clone().unwrap_or_else(|| "unknown host".into()),
            partition: self.partition.map(|p| p.to_string()),
            reports: self.dir.display().to_string(),
        }
    }
}

/// What the merge found, for every report and the terminal.
#[derive(Debug, Default, Serialize)]
pub struct Notes {
    pub inputs: Vec<InputNote>,
    /// A trial in several runs with one verdict: kept once.
    pub duplicates: Vec<Seen>,
    /// A trial in several runs with different verdicts: kept as flaky.
    pub conflicts: Vec<Seen>,
    /// e.g. `2/3`: no run was that partition.
    pub missing_partitions: Vec<String>,
    /// A partition given by more than one run.
    pub repeated_partitions: Vec<String>,
    /// Runs partitioned in different counts (1/3 beside 1/2): their shares overlap.
    pub mixed_partition_counts: Vec<usize>,
    /// Trials of the suite no run has a result for.
    pub missing_trials: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct InputNote {
    pub origin: Origin,
    pub results: usize,
    pub interrupted: bool,
}

/// One trial's result in several runs.
#[derive(Debug, Serialize)]
pub struct Seen {
    pub trial: String,
    /// Each run and its verdict.
    pub runs: Vec<(String, String)>,
}

impl Notes {
    /// Whether the merged run is not the whole night: a partition or trial missing, or
    /// shares that do not fit (runs that disagree are flaky results, judged as such).
    pub fn incomplete(&self) -> bool {
        !self.missing_partitions.is_empty()
            || !self.missing_trials.is_empty()
            || !self.mixed_partition_counts.is_empty()
            || self.inputs.iter().any(|i| i.interrupted)
    }

    /// One line per problem, for the terminal and the reports.
    pub fn problems(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for p in &self.missing_partitions {
            lines.push(format!(
                "partition {p} is missing: no merged run was that partition"
            ));
        }
        if !self.mixed_partition_counts.is_empty() {
            lines.push(format!(
                "runs were partitioned in different counts ({}): their shares do not fit together",
                self.mixed_partition_counts
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for p in &self.repeated_partitions {
            lines.push(format!("partition {p} was given more than once"));
        }
        for i in self.inputs.iter().filter(|i| i.interrupted) {
            lines.push(format!(
                "{} was interrupted: its partition is incomplete",
                i.origin
            ));
        }
        if !self.missing_trials.is_empty() {
            const SHOWN: usize = 10;
            let mut names = self.missing_trials[..self.missing_trials.len().min(SHOWN)].join(", ");
            if self.missing_trials.len() > SHOWN {
                names += &format!(", … {} more", self.missing_trials.len() - SHOWN);
            }
            lines.push(format!(
                "{} of the suite {} no result in any run: {names}",
                crate::util::words::count(self.missing_trials.len(), "trial", "trials"),
                if self.missing_trials.len() == 1 {
                    "has"
                } else {
                    "have"
                }
            ));
        }
        for c in &self.conflicts {
            lines.push(format!(
                "conflict: {} has different verdicts: {} (kept as flaky)",
                c.trial,
                runs_text(&c.runs)
            ));
        }
        // A repeated partition repeats every trial of it: a few lines, then the count
        // (results.json's `merge.duplicates` lists them all).
        const DUPLICATES_SHOWN: usize = 5;
        for d in self.duplicates.iter().take(DUPLICATES_SHOWN) {
            lines.push(format!(
                "duplicate: {} is in {} runs: {} (kept once)",
                d.trial,
                d.runs.len(),
                runs_text(&d.runs)
            ));
        }
        if self.duplicates.len() > DUPLICATES_SHOWN {
            lines.push(format!(
                "duplicate: … {} more trials are in several runs with one verdict (kept once; all listed in results.json)",
                self.duplicates.len() - DUPLICATES_SHOWN
            ));
        }
        lines
    }
}

fn runs_text(runs: &[(String, String)]) -> String {
    runs.iter()
        .map(|(run, verdict)| format!("{verdict} on {run}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The merged run.
pub struct Merged {
    pub results: Vec<TrialResult>,
    pub toolchain: Vec<ToolInfo>,
    /// The longest run's duration (runners run side by side).
    pub duration_ms: u64,
    /// Every trial of the suite, as the runs recorded it.
    pub suite_trials: Vec<String>,
    pub notes: Notes,
}

pub fn merge(inputs: Vec<Input>) -> Merged {
    let mut notes = Notes::default();
    let mut by_name: BTreeMap<String, Vec<TrialResult>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut toolchain: Vec<ToolInfo> = Vec::new();
    let mut suite: Vec<String> = Vec::new();
    let mut partitions: BTreeMap<usize, BTreeMap<usize, usize>> = BTreeMap::new();
    for input in &inputs {
        let origin = input.origin();
        notes.inputs.push(InputNote {
            origin: origin.clone(),
            results: input.results.len(),
            interrupted: input.interrupted,
        });
        if let Some(p) = input.partition {
            *partitions
                .entry(p.total)
                .or_default()
                .entry(p.index)
                .or_default() += 1;
        }
        for t in &input.toolchain {
            if !toolchain
                .iter()
                .any(|k| k.tool == t.tool && k.path == t.path && k.version == t.version)
            {
                toolchain.push(t.clone());
            }
        }
        for name in input.suite_trials.iter().flatten() {
            if !suite.contains(name) {
                suite.push(name.clone());
            }
        }
        for r in &input.results {
            let mut r = r.clone();
            r.origin = Some(origin.clone());
            let seen = by_name.entry(r.name.clone()).or_default();
            if seen.is_empty() {
                order.push(r.name.clone());
            }
            seen.push(r);
        }
    }
    if partitions.len() > 1 {
        notes.mixed_partition_counts = partitions.keys().copied().collect();
    }
    for (total, seen) in &partitions {
        for index in 1..=*total {
            match seen.get(&index) {
                None => notes.missing_partitions.push(format!("{index}/{total}")),
                Some(n) if *n > 1 => notes.repeated_partitions.push(format!("{index}/{total}")),
                Some(_) => {}
            }
        }
    }
    let mut results = Vec::new();
    for name in &order {
        let seen = by_name.remove(name).unwrap_or_default();
        results.push(one_of(seen, &mut notes));
    }
    let have: BTreeSet<&str> = results.iter().map(|r| r.name.as_str()).collect();
    notes.missing_trials = suite
        .iter()
        .filter(|n| !have.contains(n.as_str()))
        .cloned()
        .collect();
    Merged {
        results,
        toolchain,
        duration_ms: inputs
            .iter()
            .map(|i| i.summary.duration_ms)
            .max()
            .unwrap_or(0),
        suite_trials: suite,
        notes,
    }
}

/// One result for a trial several runs may have: the first, or for runs that disagree
/// the first failing one, as flaky with each run's verdict as an attempt.
fn one_of(mut seen: Vec<TrialResult>, notes: &mut Notes) -> TrialResult {
    if seen.len() == 1 {
        return seen.remove(0);
    }
    let where_ = |r: &TrialResult| {
        r.origin
            .as_ref()
            .map_or_else(String::new, Origin::to_string)
    };
    let runs: Vec<(String, String)> = seen
        .iter()
        .map(|r| (where_(r), r.verdict.name().to_string()))
        .collect();
    let trial = seen[0].name.clone();
    let verdicts: BTreeSet<&str> = seen.iter().map(|r| r.verdict.name()).collect();
    if verdicts.len() == 1 {
        notes.duplicates.push(Seen { trial, runs });
        return seen.remove(0);
    }
    let attempts = seen
        .iter()
        .map(|r| Attempt {
            verdict: r.verdict.clone(),
            why: format!("run on {}", where_(r)),
            duration_ms: r.duration_ms,
            target_us: r.target_us,
        })
        .collect();
    let detail = format!("verdicts differ between runs: {}", runs_text(&runs));
    notes.conflicts.push(Seen { trial, runs });
    let first_failing = seen
        .iter()
        .position(|r| r.verdict.is_failure())
        .unwrap_or(0);
    let mut kept = seen.swap_remove(first_failing);
    kept.verdict = Verdict::Flaky { detail };
    kept.attempts = attempts;
    kept
}

/// The `_results.json` directories (run-tests.py's format) of upstream runs, merged by
/// their place under each input (the report dir itself, or `<board>-<mode>/`): one
/// entry per test (the first run's), the failures' `.exp`/`.out` files copied beside.
/// Returns the `_results.json` files written.
pub fn merge_upstream(inputs: &[PathBuf], out: &Path) -> Result<Vec<PathBuf>> {
    let mut groups: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for dir in inputs {
        for found in upstream_files(dir)? {
            let rel = found
                .parent()
                .and_then(|p| p.strip_prefix(dir).ok())
                .map(Path::to_path_buf)
                .unwrap_or_default();
            groups.entry(rel).or_default().push(found);
        }
    }
    let mut written = Vec::new();
    for (rel, files) in groups {
        let target = out.join(&rel);
        std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
        let mut doc: Option<serde_json::Value> = None;
        let mut entries: Vec<serde_json::Value> = Vec::new();
        let mut names: BTreeSet<String> = BTreeSet::new();
        for file in &files {
            let text = crate::util::input::read_text(
                file,
                crate::util::input::cap::RESULTS,
                "_results.json",
            )?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::config(file, e.line(), format!("not a _results.json: {e}")))?;
            for entry in value["results"].as_array().into_iter().flatten() {
                let name = entry[0].as_str().unwrap_or_default().to_string();
                if names.insert(name.clone()) {
                    entries.push(entry.clone());
                    if entry[1] == "fail" {
                        copy_evidence(file.parent().unwrap_or(Path::new(".")), &name, &target)?;
                    }
                }
            }
            doc.get_or_insert(value);
        }
        let mut doc = doc.unwrap_or_default();
        let listed = |verdict: &str| -> Vec<serde_json::Value> {
            entries
                .iter()
                .filter(|e| e[1] == verdict)
                .map(|e| e[0].clone())
                .collect()
        };
        doc["failed_tests"] = listed("fail").into();
        doc["ignored_tests"] = listed("ignored").into();
        doc["args"]["result_dir"] = target.display().to_string().into();
        doc["results"] = entries.into();
        let path = target.join("_results.json");
        let text = serde_json::to_string(&doc).unwrap_or_default();
        crate::util::fsutil::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// `_results.json` in `dir` or one level below it.
fn upstream_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let top = dir.join("_results.json");
    if top.is_file() {
        found.push(top);
    }
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry
            .map_err(|e| Error::io(dir, e))?
            .path()
            .join("_results.json");
        if path.is_file() {
            found.push(path);
        }
    }
    Ok(found)
}

/// A failed test's `<name>.exp` and `<name>.out`, as run-tests.py names them.
fn copy_evidence(from: &Path, test: &str, to: &Path) -> Result<()> {
    let base = crate::suite::upstream::results::result_basename(test);
    for ext in ["exp", "out"] {
        let src = from.join(format!("{base}.{ext}"));
        if src.is_file() {
            let dst = to.join(format!("{base}.{ext}"));
            let bytes =
                crate::util::input::read(&src, crate::util::input::cap::GOLDEN, "result file")?;
            crate::util::fsutil::write_atomic(&dst, &bytes)?;
        }
    }
    Ok(())
}
