//! Which trials of a [`Selection`] a run makes: the plan of a cases/ selection (known
//! before any board is opened), then `--rerun-failed` and `--partition`; an empty
//! selection is an error.

use std::path::Path;

use crate::model::case::Mode;
use crate::plan::Trial;
use crate::plan::config::Project;
use crate::run::selection::Selection;
use crate::util::error::{Error, Result};

/// Which trials of a selection: name filters and the modes (none: every mode).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// A trial is kept when its name (`board::group/name[.mpy]`) contains any of these
    /// (none: every trial). As run-tests.py's `-d DIR` and test lists take them, a
    /// test's path may be given: `basics/`, `basics/int_big.py`, `tests/basics/`.
    pub filters: Vec<String>,
    pub modes: Vec<Mode>,
}

impl Scope {
    /// The trials in the scope, in their order.
    pub fn keep(&self, mut trials: Vec<Trial>) -> Vec<Trial> {
        trials.retain(|t| {
            (self.modes.is_empty() || self.modes.contains(&t.mode)) && self.matches(&t.name())
        });
        trials
    }

    /// Whether a trial's name is in the scope's filters.
    pub fn matches(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| filter_keeps(f, name))
    }

    /// No trial to run is a mistake (a misspelt filter, a mode the boards do not run, an
    /// empty `cases/`), never a green run that replaces the last reports with empty ones.
    /// The error says which: `unscoped` plans the selection in every mode, unfiltered
    /// (asked only when nothing is left).
    pub fn check_not_empty(
        &self,
        trials: &[Trial],
        unscoped: &mut dyn FnMut() -> Vec<Trial>,
        suite_dir: &Path,
    ) -> Result<()> {
        if !trials.is_empty() {
            return Ok(());
        }
        let all = unscoped();
        if all.is_empty() {
            return Err(Error::Usage(format!(
                "no cases to run in {}",
                suite_dir.display()
            )));
        }
        let named = Scope {
            filters: self.filters.clone(),
            modes: Vec::new(),
        }
        .keep(all.clone());
        let filters = match self.filters.as_slice() {
            [] => String::new(),
            [f] => format!("the filter `{f}`"),
            fs => format!("the filters `{}`", fs.join("`, `")),
        };
        Err(Error::Usage(if named.is_empty() {
            // A filter is a case's id or its name: both are candidates.
            let names: std::collections::BTreeSet<String> = all
                .iter()
                .flat_map(|t| [t.case.id.to_string(), t.case.id.name.clone()])
                .collect();
            let near: String = self
                .filters
                .iter()
                .map(|f| {
                    crate::util::suggest::did_you_mean(
                        normalised(f),
                        names.iter().map(String::as_str),
                    )
                })
                .collect();
            format!("no trial matches {filters}{near} (see `mpcheck list`)")
        } else {
            let wanted: Vec<&str> = self.modes.iter().map(|m| m.as_str()).collect();
            let mut runs: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
                Default::default();
            for t in &named {
                runs.entry(t.board.name.as_str())
                    .or_default()
                    .insert(t.mode.as_str());
            }
            let runs: Vec<String> = runs
                .iter()
                .map(|(board, modes)| {
                    format!(
                        "{board}: {}",
                        modes.iter().copied().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            let what = if filters.is_empty() {
                "no trial".to_string()
            } else {
                format!(
                    "{filters} matches {}, none",
                    crate::util::words::count(named.len(), "trial", "trials")
                )
            };
            // Said once per board that could not have a frozen trial asked for.
            let elsewhere: Vec<String> = named
                .iter()
                .map(|t| &t.board)
                .filter(|_| self.modes.contains(&Mode::Frozen))
                .filter_map(|b| b.frozen_elsewhere().map(str::to_string))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let elsewhere = if elsewhere.is_empty() {
                String::new()
            } else {
                format!("; {}", elsewhere.join("; "))
            };
            format!(
                "{what} in mode {}: the selected boards run these modes ({}){elsewhere}",
                wanted.join(", "),
                runs.join("; ")
            )
        }))
    }
}

/// Whether one filter keeps a trial (`board::group/name[.mpy]`) or a case id: a part of
/// the name, or a test's file (`basics/int_big.py`, `int_big.py`), which names that test
/// in every mode and never another whose name starts the same (`int_big1`, as
/// run-tests.py takes a file, where a part of the name kept 46 `int_big*` trials).
fn filter_keeps(filter: &str, name: &str) -> bool {
    let f = normalised(filter);
    if !filter.ends_with(".py") {
        return name.contains(f);
    }
    let stem = [Mode::Mpy, Mode::Frozen]
        .iter()
        .find_map(|m| name.strip_suffix(m.suffix()))
        .unwrap_or(name);
    stem == f
        || stem
            .strip_suffix(f)
            .is_some_and(|head| head.ends_with('/') || head.ends_with("::"))
}

/// A filter as a trial name holds it: a test's path loses its `.py` (trial names end
/// in the case id) and a leading `./` or `tests/` (names start at the test's directory).
fn normalised(filter: &str) -> &str {
    let f = filter.strip_suffix(".py").unwrap_or(filter);
    let f = f.strip_prefix("./").unwrap_or(f);
    f.strip_prefix("tests/").unwrap_or(f)
}

/// Where the selection's cases come from: a checkout's tests/ or the project's cases/.
pub fn suite_dir(selection: &Selection, project: &Project) -> std::path::PathBuf {
    selection
        .upstream
        .as_ref()
        .map_or_else(|| project.cases_dir(), |u| u.tests_dir.clone())
}

/// The trials `--rerun-failed` keeps (none left is an error, exit 2, never a green run),
/// then this `--partition`'s share of them (which may be empty: 3 shares of 2 trials);
/// with the names of all of them, which the reports record for `mpcheck merge`.
pub fn narrow(
    request: &super::Request,
    project: &Project,
    mut trials: Vec<Trial>,
    unscoped: &mut dyn FnMut() -> Vec<Trial>,
) -> Result<(Vec<Trial>, Vec<String>)> {
    if request.rerun_failed {
        let failed = last_failed(&request.report_dir)?;
        let before = trials.len();
        trials.retain(|t| failed.contains(&t.name()));
        if trials.is_empty() && before > 0 {
            return Err(Error::Usage(format!(
                "--rerun-failed: none of the {} that failed in the last run ({}) is in this selection",
                crate::util::words::count(failed.len(), "trial", "trials"),
                request.report_dir.join("results.json").display()
            )));
        }
    }
    request
        .scope
        .check_not_empty(&trials, unscoped, &suite_dir(&request.selection, project))?;
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
    let text =
        crate::util::input::read_text(&path, crate::util::input::cap::RESULTS, "results.json")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(filters: &[&str]) -> Scope {
        Scope {
            filters: filters.iter().map(|f| f.to_string()).collect(),
            modes: Vec::new(),
        }
    }

    #[test]
    fn any_of_several_filters_keeps_a_trial() {
        let s = scope(&["basics/", "micropython/"]);
        assert!(s.matches("unix::basics/int_small"));
        assert!(s.matches("unix::micropython/heapalloc.mpy"));
        assert!(!s.matches("unix::float/float1"));
        assert!(scope(&[]).matches("unix::float/float1"));
    }

    #[test]
    fn a_test_path_matches_its_trials() {
        let s = scope(&["basics/int_big.py"]);
        assert!(s.matches("unix::basics/int_big"));
        assert!(s.matches("unix::basics/int_big.mpy"));
        assert!(!s.matches("unix::basics/int_small"));
        // A file is that test, not every test whose name it starts.
        assert!(!s.matches("unix::basics/int_big1"));
        assert!(!s.matches("unix::basics/int_big_add.mpy"));
        assert!(!s.matches("unix::xbasics/int_big"));
        assert!(s.matches("basics/int_big"), "a case id (compare)");
        assert!(scope(&["int_big.py"]).matches("unix::basics/int_big.frozen"));
        assert!(!scope(&["big.py"]).matches("unix::basics/int_big"));
        assert!(scope(&["unix::basics/int_big.py"]).matches("unix::basics/int_big.mpy"));
        assert!(scope(&["tests/basics/"]).matches("unix::basics/int_small"));
        assert!(scope(&["./basics"]).matches("unix::basics/int_small"));
    }
}
