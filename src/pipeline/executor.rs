//! Runs many trials: host-VM trials share a CPU pool (they are CPU-bound); each board has
//! one worker per instance (its cases wait on a console, not on a CPU). Workers send what
//! happens back to the calling thread, which alone tells the sink.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::schedule::Schedule;
use super::{Event, Pipeline, TrialResult};
use crate::plan::Trial;

enum Msg {
    Retried { trial: String, why: String },
    Recovered { trial: String, how: String },
    Done(usize, Box<TrialResult>),
}

/// How a run runs: workers, attempts, and whether the first failure stops it.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub threads: usize,
    pub attempts: super::Attempts,
    /// After the first failing trial start no more (those not run are skipped, saying so).
    pub fail_fast: bool,
    /// The day quarantines are judged on.
    pub today: chrono::NaiveDate,
}

impl Options {
    /// Defaults: one worker per core, one attempt, today's date (UTC).
    pub fn new(threads: usize) -> Options {
        Options {
            threads,
            attempts: super::Attempts::default(),
            fail_fast: false,
            today: chrono::Utc::now().date_naive(),
        }
    }
}

/// Runs every trial; `on_event` sees each event as it happens (on the calling thread).
/// Results come back in trial order.
pub fn execute(
    pipeline: &Pipeline,
    trials: &[Trial],
    options: &Options,
    on_event: &mut dyn FnMut(Event),
) -> Vec<TrialResult> {
    let schedule = Schedule::in_trial_order(trials.len());
    execute_in(pipeline, trials, &schedule, options, on_event)
}

/// [`execute`], the trials started in the schedule's order (an index missing from it
/// starts after the others, a repeated or unknown one is ignored). A host-VM trial the
/// schedule says waits (it sleeps for seconds) runs on one of `threads` workers of its
/// own beside the CPU pool, as a board's trials wait on its console beside it: a trial
/// that does not compute does not hold a CPU's place. Results come back in trial order.
pub fn execute_in(
    pipeline: &Pipeline,
    trials: &[Trial],
    schedule: &Schedule,
    options: &Options,
    on_event: &mut dyn FnMut(Event),
) -> Vec<TrialResult> {
    let threads = options.threads;
    let stop = AtomicBool::new(false);
    on_event(Event::Started {
        trials: trials.len(),
    });
    let mut pool_work = Vec::new();
    let mut wait_work = Vec::new();
    let mut lane_work: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for i in whole(&schedule.order, trials.len()) {
        let t = &trials[i];
        match pipeline.targets().lanes(&t.board.name) {
            Some(_) if t.decided.is_none() => {
                lane_work.entry(t.board.name.as_str()).or_default().push(i)
            }
            _ if t.decided.is_none() && schedule.waiting.get(i) == Some(&true) => wait_work.push(i),
            _ => pool_work.push(i),
        }
    }
    let (tx, rx) = mpsc::channel::<Msg>();
    let run_one = |tx: &mpsc::Sender<Msg>, i: usize| {
        let trial = &trials[i];
        let tell = |notice: super::Notice| {
            let _ = tx.send(match notice {
                super::Notice::Retried(why) => Msg::Retried {
                    trial: trial.name(),
                    why: why.to_string(),
                },
                super::Notice::Recovered(how) => Msg::Recovered {
                    trial: trial.name(),
                    how: how.to_string(),
                },
            });
        };
        // Interrupted (Ctrl-C, SIGTERM): start nothing more; the reports say so.
        if crate::util::interrupt::requested() {
            return;
        }
        let result = if stop.load(Ordering::Relaxed) {
            trial.result(
                super::Judgement::decided(crate::model::verdict::Verdict::Skip {
                    reason: "not run: --fail-fast stopped the run after a failure".into(),
                }),
                std::time::Duration::ZERO,
            )
        } else {
            pipeline.run_attempts(trial, options.attempts, options.today, &tell)
        };
        if options.fail_fast && result.verdict.is_failure() && result.quarantined.is_none() {
            stop.store(true, Ordering::Relaxed);
        }
        let _ = tx.send(Msg::Done(i, Box::new(result)));
    };
    let mut results: Vec<Option<TrialResult>> = vec![None; trials.len()];
    std::thread::scope(|s| {
        let wait_next = Arc::new(AtomicUsize::new(0));
        for _ in 0..threads.max(1).min(wait_work.len()) {
            let (tx, next, run_one, work) = (tx.clone(), wait_next.clone(), &run_one, &wait_work);
            s.spawn(move || {
                while let Some(&i) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                    run_one(&tx, i);
                }
            });
        }
        for (board, work) in &lane_work {
            let next = Arc::new(AtomicUsize::new(0));
            for _ in 0..pipeline.targets().lanes(board).unwrap_or(1) {
                let (tx, next, run_one) = (tx.clone(), next.clone(), &run_one);
                s.spawn(move || {
                    while let Some(&i) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                        run_one(&tx, i);
                    }
                });
            }
        }
        // A board runs one case at a time per instance while CPython, whose output some
        // upstream tests are judged against, would run beside each case in turn: one
        // thread runs those references ahead of the boards' workers, in their order, so
        // a worker finds its reference done (`bench --tests` on mps2-an385-qemu's
        // basics/, one instance: 9.6-9.9 s with each reference beside its case, 7.0-7.5 s
        // with them ahead).
        let stop_ref = &stop;
        let lane_trials: Vec<&Trial> = lane_work
            .values()
            .flatten()
            .map(|&i| &trials[i])
            .filter(|t| pipeline.rules().wants_reference(&t.case))
            .collect();
        if !lane_trials.is_empty() {
            s.spawn(move || {
                for t in lane_trials {
                    if crate::util::interrupt::requested() || stop_ref.load(Ordering::Relaxed) {
                        break;
                    }
                    drop(pipeline.reference_output(&t.case));
                }
            });
        }
        // The pool's workers take trials from one queue, in the order given (a parallel
        // iterator would split it in halves and start the second half's first trial, not
        // the next longest).
        let (pool_tx, pool_work, run_one) = (tx.clone(), &pool_work, &run_one);
        s.spawn(move || {
            let next = AtomicUsize::new(0);
            let work = || {
                rayon::scope(|s| {
                    for _ in 0..threads.max(1) {
                        let (tx, next) = (pool_tx.clone(), &next);
                        s.spawn(move |_| {
                            while let Some(&i) = pool_work.get(next.fetch_add(1, Ordering::Relaxed))
                            {
                                run_one(&tx, i);
                            }
                        });
                    }
                })
            };
            match rayon::ThreadPoolBuilder::new()
                .num_threads(threads.max(1))
                .build()
            {
                Ok(pool) => pool.install(work),
                Err(_) => work(),
            }
        });
        drop(tx);
        for msg in rx {
            match msg {
                Msg::Retried { trial, why } => on_event(Event::Retried {
                    trial: &trial,
                    why: &why,
                }),
                Msg::Recovered { trial, how } => on_event(Event::Recovered {
                    trial: &trial,
                    how: &how,
                }),
                Msg::Done(i, result) => {
                    on_event(Event::Finished(&result));
                    results[i] = Some(*result);
                }
            }
        }
    });
    results.into_iter().flatten().collect()
}

/// `order`'s indices below `n`, each once, then those it misses, in trial order.
fn whole(order: &[usize], n: usize) -> Vec<usize> {
    let mut seen = vec![false; n];
    let mut out: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| i < n && !std::mem::replace(&mut seen[i], true))
        .collect();
    out.extend((0..n).filter(|&i| !seen[i]));
    out
}

/// How many trials run at once by default: one per core (host VMs are CPU-bound).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_order_is_made_whole() {
        assert_eq!(super::whole(&[2, 0, 2, 9], 4), [2, 0, 1, 3]);
        assert_eq!(super::whole(&[], 2), [0, 1]);
    }
}
