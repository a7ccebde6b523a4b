//! The suite a run's trials come from, behind one interface: mpcheck's own `cases/`
//! ([`Cases`]) or a checkout's `tests/` ([`Checkout`]). A suite plans its trials,
//! reclassifies its results, names itself to the history and writes reports of its own;
//! how it compiles, runs and judges each test is its `pipeline::SuiteRules`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Scope;
use crate::expect::known::KnownDifferences;
use crate::pipeline::{Pipeline, TrialResult};
use crate::plan::Trial;
use crate::plan::config::Project;
use crate::run::selection::Selection;
use crate::util::error::Result;

pub trait Suite: Send + Sync {
    /// Its trials are known before any board is opened (else each board is probed).
    fn plans_offline(&self) -> bool;

    /// The trials of `selection` in `scope`. `pipeline`: the opened boards, `None` before
    /// they are (only for a suite that plans offline).
    fn plan(
        &mut self,
        pipeline: Option<&Pipeline>,
        selection: &Selection,
        scope: &Scope,
    ) -> Vec<Trial>;

    /// How long a trial is expected to take, read before it runs (`None`: not known):
    /// the longest start first when the history has not timed them.
    fn estimate(&self, _trial: &Trial) -> Option<crate::pipeline::schedule::Estimate> {
        None
    }

    /// Turns failures the suite knows about into skips that say why.
    fn reclassify(&self, _results: &mut [TrialResult]) {}

    /// What the history keys this suite's trials by.
    fn history(&self, project: &Project) -> crate::analysis::history::Suite;

    /// Reports of the suite's own, beside the common ones.
    fn write_reports(&self, _dir: &Path, _results: &[TrialResult]) -> Result<Vec<PathBuf>> {
        Ok(Vec::new())
    }
}

/// The suite of `selection`: a checkout's tests (with the project's known differences,
/// read before any board boots: a bad file costs no run), else the project's cases.
pub fn open(project: &Project, selection: &Selection) -> Result<Box<dyn Suite>> {
    Ok(match &selection.upstream {
        Some(tests) => Box::new(Checkout::new(project, selection, tests.clone())?),
        None => Box::new(Cases),
    })
}

/// mpcheck's own `cases/`: board × case × mode, decided by the settings alone.
pub struct Cases;

impl Suite for Cases {
    fn plans_offline(&self) -> bool {
        true
    }

    /// Multi-instance cases are planned as such (their instances on partner boards).
    fn plan(&mut self, _: Option<&Pipeline>, selection: &Selection, scope: &Scope) -> Vec<Trial> {
        let (multi, single): (Vec<_>, Vec<_>) = selection
            .cases
            .iter()
            .cloned()
            .partition(|c| crate::suite::multi::own::is_multi(c));
        let mut trials = crate::plan::plan(&selection.boards, &single);
        trials.extend(crate::suite::multi::own::trials(&selection.boards, &multi));
        scope.keep(trials)
    }

    fn history(&self, project: &Project) -> crate::analysis::history::Suite {
        crate::analysis::history::Suite::cases(&project.root)
    }
}

/// A checkout's `tests/`, planned from each board's feature checks; run-tests.py's flaky
/// lists and the project's known differences reclassify its failures.
pub struct Checkout {
    tests: Arc<crate::suite::upstream::Suite>,
    known: KnownDifferences,
    /// Board → its port, for known differences of a port.
    ports: BTreeMap<String, String>,
    /// What planning found about each board (absent until planned).
    session: crate::suite::upstream::Session,
    /// Where native modules are built (natmod tests).
    natmod: crate::suite::natmod::Builder,
    /// The facts already said: planning again (every mode, unfiltered, to say why a
    /// selection is empty) does not say them twice.
    said: std::collections::BTreeSet<String>,
}

impl Checkout {
    fn new(
        project: &Project,
        selection: &Selection,
        tests: Arc<crate::suite::upstream::Suite>,
    ) -> Result<Checkout> {
        let known = KnownDifferences::load(&project.root)?;
        if let Some(notice) = &known.legacy_notice {
            crate::util::notice::notice(notice);
        }
        Ok(Checkout {
            tests,
            known,
            ports: selection
                .boards
                .iter()
                .map(|b| (b.name.clone(), b.port().to_string()))
                .collect(),
            session: Default::default(),
            natmod: crate::suite::natmod::Builder {
                cache: project.state_dir.join("build"),
                toolchain: project.state_dir.join("toolchain"),
            },
            said: Default::default(),
        })
    }
}

impl Suite for Checkout {
    fn plans_offline(&self) -> bool {
        false
    }

    /// Probes each board (said on stderr, one line a board) and plans its tests.
    fn plan(
        &mut self,
        pipeline: Option<&Pipeline>,
        selection: &Selection,
        scope: &Scope,
    ) -> Vec<Trial> {
        let Some(pipeline) = pipeline else {
            return Vec::new();
        };
        let (mut trials, session) = crate::suite::upstream::plan_trials(
            pipeline,
            &self.tests,
            &selection.boards,
            &scope.modes,
        );
        // Multi-instance tests only when named, as run-multitests.py runs them.
        if crate::suite::multi::plan::named(&scope.filters) {
            trials.extend(crate::suite::multi::plan::trials(
                &self.tests.tests_dir,
                &self.tests.cases,
                &selection.boards,
                pipeline.targets(),
            ));
        }
        if crate::suite::upstream::perfbench::named(&scope.filters) {
            trials.extend(crate::suite::upstream::perfbench::plan::trials(
                &self.tests,
                pipeline,
                &selection.boards,
                &session,
                &scope.modes,
            ));
        }
        // Native-module tests only when named, as run-natmodtests.py runs them.
        if crate::suite::natmod::plan::named(&scope.filters) {
            trials.extend(crate::suite::natmod::plan::trials(
                &self.tests.tests_dir,
                &self.tests.cases,
                &selection.boards,
                &|board| {
                    crate::suite::natmod::plan::arch(
                        session.arch(board)?,
                        pipeline.targets(),
                        board,
                    )
                },
                &self.natmod,
            ));
        }
        for line in session.describe() {
            if self.said.insert(line.clone()) {
                crate::util::notice::notice(line);
            }
        }
        self.session = session;
        scope.keep(trials)
    }

    fn estimate(&self, trial: &Trial) -> Option<crate::pipeline::schedule::Estimate> {
        self.tests.estimate(&trial.case)
    }

    fn reclassify(&self, results: &mut [TrialResult]) {
        let port = |board: &str| self.ports.get(board).cloned().unwrap_or_default();
        crate::suite::upstream::reclassify(results, &self.tests, &self.session, &self.known, &port);
    }

    fn history(&self, project: &Project) -> crate::analysis::history::Suite {
        crate::analysis::history::Suite::tests(
            &project.root,
            &self.tests.tests_dir,
            self.tests.emit.as_str(),
        )
    }

    /// run-tests.py's `_results.json` and each failure's `.exp`/`.out`.
    fn write_reports(&self, dir: &Path, results: &[TrialResult]) -> Result<Vec<PathBuf>> {
        let mut written = crate::suite::upstream::results::write(dir, &self.tests, results)?;
        let params = match &self.tests.perf {
            Some(Ok(p)) => Some(p.params),
            _ => None,
        };
        written.extend(crate::suite::upstream::perfbench::report::write(
            dir, results, params,
        )?);
        Ok(written)
    }
}
