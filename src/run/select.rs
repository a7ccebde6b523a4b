//! Which trials a run makes: the plan of a cases/ selection (known before any board is
//! opened), then `--rerun-failed` and `--partition`; an empty selection is an error.

use std::path::Path;

use crate::case::Mode;
use crate::config::{Project, Selection};
use crate::error::{Error, Result};
use crate::plan::Trial;

/// Which trials of a selection: a name filter and the modes (none: every mode).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Only trials whose name (`board::group/name[.mpy]`) contains this.
    pub filter: Option<String>,
    pub modes: Vec<Mode>,
}

impl Scope {
    /// The trials of a cases/ selection (no target needed), in the selected modes.
    pub fn case_trials(&self, selection: &Selection) -> Vec<Trial> {
        let mut trials =
            crate::plan::plan(&selection.boards, &selection.cases, self.filter.as_deref());
        trials.retain(|t| self.modes.is_empty() || self.modes.contains(&t.mode));
        trials
    }

    /// As a checkout's suite takes it.
    pub fn upstream(&self) -> crate::upstream::TrialFilter {
        crate::upstream::TrialFilter {
            modes: self.modes.clone(),
            name: self.filter.clone(),
        }
    }

    /// No trial to run is a mistake (a misspelt filter, an empty `cases/`), never a green
    /// run that replaces the last reports with empty ones.
    pub fn check_not_empty(&self, trials: &[Trial], project: &Project) -> Result<()> {
        if !trials.is_empty() {
            return Ok(());
        }
        Err(Error::Usage(match &self.filter {
            Some(f) => format!("no trial matches the filter `{f}` (see `mpcheck list`)"),
            None => format!("no cases to run in {}", project.cases_dir().display()),
        }))
    }
}

/// The trials `--rerun-failed` keeps (none left is an error, exit 2, never a green run),
/// then this `--partition`'s share of them (which may be empty: 3 shares of 2 trials);
/// with the names of all of them, which the reports record for `mpcheck merge`.
pub fn narrow(
    request: &super::Request,
    project: &Project,
    mut trials: Vec<Trial>,
) -> Result<(Vec<Trial>, Vec<String>)> {
    if request.rerun_failed {
        let failed = last_failed(&request.report_dir)?;
        trials.retain(|t| failed.contains(&t.name()));
    }
    request.scope.check_not_empty(&trials, project)?;
    let suite = trials.iter().map(Trial::name).collect();
    let share = match request.partition {
        Some(p) => p.select(trials),
        None => trials,
    };
    Ok((share, suite))
}

/// The trials that failed in the last run, from its results.json.
fn last_failed(report_dir: &Path) -> Result<Vec<String>> {
    let path = report_dir.join("results.json");
    let text = crate::input::read_text(&path, crate::input::cap::RESULTS, "results.json")?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::config(&path, e.line(), format!("not a results.json: {e}")))?;
    let failed: Vec<String> = value["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| !matches!(r["verdict"].as_str(), Some("pass" | "skip")))
        .filter_map(|r| r["name"].as_str().map(String::from))
        .collect();
    if failed.is_empty() {
        return Err(Error::Usage(format!(
            "--rerun-failed: no failed trials in {}",
            path.display()
        )));
    }
    Ok(failed)
}
