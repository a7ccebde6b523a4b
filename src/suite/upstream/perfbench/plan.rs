//! perf_bench/ trials for the boards of a run: what planning found out about each board
//! (its feature checks' outputs) decides run-perfbench.py's skips; what could not be
//! read of run-perfbench.py, or a checkout without perf_bench, is said on stderr.

use std::sync::Arc;

use crate::boardfile::Board;
use crate::model::case::Mode;
use crate::pipeline::Pipeline;
use crate::plan::Trial;
use crate::suite::upstream::{Session, Suite};

/// Every board's benchmark trials (none, with a notice, when perf_bench cannot run).
pub fn trials(
    suite: &Suite,
    pipeline: &Pipeline,
    boards: &[Arc<Board>],
    session: &Session,
    modes: &[Mode],
) -> Vec<Trial> {
    let say = |line: String| crate::util::notice::notice(line);
    let perf = match &suite.perf {
        Some(Ok(p)) => p,
        Some(Err(why)) => {
            say(format!("perf_bench: not run: {why}"));
            return Vec::new();
        }
        None => {
            say("perf_bench: not run: not loaded for this run".into());
            return Vec::new();
        }
    };
    for n in &perf.rules.notices {
        say(n.clone());
    }
    say(format!(
        "perf_bench: N={} M={} (run-perfbench.py's CPU MHz and heap kB; --perf-n/--perf-m), benchmark parameters picked on the target by benchrun.py",
        perf.params.n, perf.params.m
    ));
    let mut trials = Vec::new();
    for board in boards {
        let unavailable = pipeline.targets().get(&board.name).err();
        let facts = session.facts(&board.name);
        let output = |check: &str| {
            let out = facts?.outputs.get(&format!("{check}.py"))?;
            Some(String::from_utf8_lossy(out).trim().to_string())
        };
        trials.extend(perf.trials(board, modes, unavailable.as_ref(), &output));
    }
    trials
}
