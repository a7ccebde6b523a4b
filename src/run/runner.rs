//! The opened side of a run: targets, flashed firmware, and how one trial runs on them
//! (attempts, the case's quarantine, a checkout suite's reclassification). `mpcheck
//! run`'s executor and tests/trials.rs's one-trial processes both run trials here, so
//! they give the same verdict for the same trial.

use std::sync::Arc;

use crate::config::{Project, Selection};
use crate::error::Result;
use crate::flash::record::FlashReport;
use crate::pipeline::{Event, Options, Pipeline, TrialResult, execute};
use crate::plan::Trial;
use crate::setup::{Firmware, FrozenCases};
use crate::upstream::{Known, Session, Suite};

pub struct Runner {
    pub pipeline: Pipeline,
    pub flashes: Vec<FlashReport>,
    pub options: Options,
    /// A checkout's suite: its lists and the user's known differences reclassify
    /// failures; the session (each board's facts) is made by [`Runner::plan`].
    upstream: Option<Upstream>,
}

struct Upstream {
    suite: Arc<Suite>,
    known: Known,
    session: Session,
}

impl Runner {
    /// Provisions the toolchain, opens the selection's boards with their firmware in
    /// place (the frozen firmware of `frozen`'s boards built) and reads the user's known
    /// differences of a checkout's suite (before any trial: a bad file costs no run).
    pub fn open(
        project: &Project,
        selection: &Selection,
        frozen: &FrozenCases,
        options: Options,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<Runner> {
        let upstream = match &selection.upstream {
            Some(suite) => Some(Upstream {
                suite: suite.clone(),
                known: Known::load(&project.golden_dir().join("upstream-known.yaml"))?,
                session: Session::default(),
            }),
            None => None,
        };
        let opened = crate::setup::open(project, selection, Firmware::Flash, frozen, on_event)?;
        Ok(Runner {
            pipeline: opened.pipeline,
            flashes: opened.flashes,
            options,
            upstream,
        })
    }

    /// The trials of the selection in `scope`: a cases/ plan, or a checkout's tests
    /// planned from each board's feature checks (said on stderr, one line a board).
    pub fn plan(&mut self, selection: &Selection, scope: &super::Scope) -> Vec<Trial> {
        let Some(upstream) = &mut self.upstream else {
            return scope.case_trials(selection);
        };
        let (mut trials, session) = crate::upstream::plan_trials(
            &self.pipeline,
            &upstream.suite,
            &selection.boards,
            &scope.modes,
        );
        // Multi-instance tests only when named, as run-multitests.py runs them.
        if crate::multi::plan::named(&scope.filters) {
            trials.extend(crate::multi::plan::trials(
                &upstream.suite.cases,
                &selection.boards,
                self.pipeline.targets(),
            ));
        }
        for line in session.describe() {
            eprintln!("mpcheck: {line}");
        }
        upstream.session = session;
        scope.keep(trials)
    }

    /// Runs one trial as often as the options say, with its quarantine and its suite's
    /// reclassification.
    pub fn run_trial(&self, trial: &Trial) -> TrialResult {
        let mut result =
            self.pipeline
                .run_attempts(trial, self.options.attempts, self.options.today, &|_| {});
        self.reclassify(std::slice::from_mut(&mut result));
        result
    }

    /// Runs every trial (workers, lanes, `--fail-fast`), telling `on_event` as they go;
    /// results in trial order.
    pub fn execute(&self, trials: &[Trial], on_event: &mut dyn FnMut(Event)) -> Vec<TrialResult> {
        let mut results = execute(&self.pipeline, trials, &self.options, on_event);
        self.reclassify(&mut results);
        results
    }

    /// A checkout's flaky lists and the user's known differences turn listed failures
    /// into skips that say why.
    fn reclassify(&self, results: &mut [TrialResult]) {
        if let Some(u) = &self.upstream {
            crate::upstream::reclassify(results, &u.suite, &u.session, &u.known);
        }
    }
}
