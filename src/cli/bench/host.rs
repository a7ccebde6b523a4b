//! The harness's wall time for the suite against the floor (the bare VM run time of the
//! same trials, one after another, divided by the worker count), measured in one run,
//! and the cost of measuring the heap of every case.

use std::time::{Duration, Instant};

use super::{BenchArgs, open_runner};
use crate::boardfile::BoardSpec;
use crate::model::case::Mode;
use crate::pipeline::default_threads;
use crate::plan::config::{Overrides, Project};
use crate::run::selection::Selection;
use crate::util::error::{Result, exit};

pub fn bench_host(project: &Project, args: &BenchArgs) -> Result<i32> {
    let overrides = Overrides::from_args_and_env(None, None);
    let selection = Selection::load(project, std::slice::from_ref(&args.board), &overrides)?;
    if matches!(selection.boards[0].spec, BoardSpec::Device(_)) {
        return super::board::bench_board(project, selection);
    }
    let trials = crate::plan::plan(&selection.boards, &selection.cases);
    let threads = default_threads();
    let runner = open_runner(project, &selection, threads)?;
    // Warm-up: fills the mpy-cross and CPython caches so both sides measure VM runs.
    runner.execute(&trials, &mut |_| {});

    let runnable: Vec<_> = trials.iter().filter(|t| t.decided.is_none()).collect();
    let mut best_harness = Duration::MAX;
    let mut best_floor = Duration::MAX;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        runner.execute(&trials, &mut |_| {});
        best_harness = best_harness.min(start.elapsed());

        let mut bare = Duration::ZERO;
        for t in &runnable {
            bare += runner.pipeline.bare_run(t).unwrap_or_default();
        }
        best_floor = best_floor.min(bare / threads as u32);
    }
    // Heap measurement on every case (the wrapper, calibration and parsing) against the
    // same suite without it, measured in the same process.
    let mut heap_runner = open_runner(project, &selection, threads)?;
    heap_runner.pipeline.heap_all = true;
    heap_runner.execute(&trials, &mut |_| {});
    let mut best_heap = Duration::MAX;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        heap_runner.execute(&trials, &mut |_| {});
        best_heap = best_heap.min(start.elapsed());
    }
    let ratio = best_harness.as_secs_f64() / best_floor.as_secs_f64();
    let mpy = runnable.iter().filter(|t| t.mode == Mode::Mpy).count();
    println!(
        "board: {} ({} trials: {} source, {mpy} mpy; {threads} workers)",
        args.board,
        runnable.len(),
        runnable.len() - mpy
    );
    println!(
        "floor (bare VM runs / workers): {:.3} s",
        best_floor.as_secs_f64()
    );
    println!(
        "harness wall time:              {:.3} s",
        best_harness.as_secs_f64()
    );
    println!("harness / floor:                {ratio:.3}x (target <= 1.10x)");
    println!(
        "with heap measured on every case: {:.3} s = {:.3}x the suite without (target <= 1.10x)",
        best_heap.as_secs_f64(),
        best_heap.as_secs_f64() / best_harness.as_secs_f64()
    );
    Ok(exit::OK)
}
