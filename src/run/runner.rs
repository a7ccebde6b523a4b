//! The opened side of a run: targets, flashed firmware, the suite, and how one trial
//! runs on them (attempts, the case's quarantine, the suite's reclassification). `mpcheck
//! run`'s executor and tests/trials.rs's one-trial processes both run trials here, so
//! they give the same verdict for the same trial.

use crate::hw::flash::record::FlashReport;
use crate::pipeline::{Event, Options, Pipeline, TrialResult, execute_in};
use crate::plan::Trial;
use crate::plan::config::Project;
use crate::run::selection::Selection;
use crate::run::setup::{Firmware, FrozenCases};
use crate::util::error::Result;

use super::suite::Suite;

pub struct Runner {
    pub pipeline: Pipeline,
    pub flashes: Vec<FlashReport>,
    pub options: Options,
    /// Where the trials come from: it plans them and reclassifies their results.
    pub suite: Box<dyn Suite>,
    /// Each trial's duration in past runs, by name (the history's; empty: none known):
    /// the longest start first.
    pub past_durations: std::collections::BTreeMap<String, std::time::Duration>,
}

impl Runner {
    /// Provisions the toolchain, opens the selection's boards with their firmware in
    /// place (the frozen firmware of `frozen`'s boards built) and opens its suite.
    pub fn open(
        project: &Project,
        selection: &Selection,
        frozen: &FrozenCases,
        options: Options,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<Runner> {
        let suite = super::suite::open(project, selection)?;
        Runner::open_with(project, selection, suite, frozen, options, on_event)
    }

    /// [`Runner::open`] with the suite already open.
    pub fn open_with(
        project: &Project,
        selection: &Selection,
        suite: Box<dyn Suite>,
        frozen: &FrozenCases,
        options: Options,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<Runner> {
        let opened =
            crate::run::setup::open(project, selection, Firmware::Flash, frozen, on_event)?;
        Ok(Runner {
            pipeline: opened.pipeline,
            flashes: opened.flashes,
            options,
            suite,
            past_durations: Default::default(),
        })
    }

    /// The trials of the selection in `scope`, as its suite plans them.
    pub fn plan(&mut self, selection: &Selection, scope: &super::Scope) -> Vec<Trial> {
        self.suite.plan(Some(&self.pipeline), selection, scope)
    }

    /// Runs one trial as often as the options say, with its quarantine and its suite's
    /// reclassification.
    pub fn run_trial(&self, trial: &Trial) -> TrialResult {
        let mut result =
            self.pipeline
                .run_attempts(trial, self.options.attempts, self.options.today, &|_| {});
        self.suite.reclassify(std::slice::from_mut(&mut result));
        result
    }

    /// Runs every trial (workers, lanes, `--fail-fast`), telling `on_event` as they go,
    /// the longest first: as long as they took in past runs, else as long as the suite
    /// reads they will wait (a test that sleeps), those read to sleep beside the CPU
    /// pool; results in trial order.
    pub fn execute(&self, trials: &[Trial], on_event: &mut dyn FnMut(Event)) -> Vec<TrialResult> {
        let read: Vec<_> = trials.iter().map(|t| self.suite.estimate(t)).collect();
        let costs: Vec<_> = trials
            .iter()
            .zip(&read)
            .map(|(t, read)| {
                let past = self.past_durations.get(&t.name()).copied();
                past.or(read.map(|r| r.duration))
            })
            .collect();
        let asleep: Vec<_> = read.iter().map(|r| r.map(|r| r.asleep)).collect();
        let schedule = crate::pipeline::schedule::Schedule::of(&costs, &asleep);
        let mut results = execute_in(&self.pipeline, trials, &schedule, &self.options, on_event);
        self.suite.reclassify(&mut results);
        results
    }
}
