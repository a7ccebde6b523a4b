//! A board: mpcheck's own suite with one instance and with two, side by side.

use std::time::Instant;

use super::open_runner;
use crate::boardfile::BoardSpec;
use crate::pipeline::default_threads;
use crate::plan::config::Project;
use crate::run::selection::Selection;
use crate::util::error::{Result, exit};

/// A board: mpcheck's own suite (every trial the plan runs, both modes) with one instance
/// and with two, measured in one run and printed side by side: the median wall time per
/// case, throughput, where a case's time goes (reset, upload, run, read, and the rest),
/// and the CPU time of the harness and of the emulators, which share the cores.
pub fn bench_board(project: &Project, selection: Selection) -> Result<i32> {
    if let Some(why) = selection.boards[0].unavailable() {
        return Err(crate::util::error::Error::Usage(format!(
            "bench: board `{}` is unavailable: {why}",
            selection.boards[0].name
        )));
    }
    let mut columns = Vec::new();
    for instances in [1, 2] {
        let mut board = (*selection.boards[0]).clone();
        if let BoardSpec::Device(d) = &mut board.spec {
            d.instances = instances;
        }
        let boards = vec![std::sync::Arc::new(board)];
        let trials: Vec<_> = crate::plan::plan(&boards, &selection.cases)
            .into_iter()
            .filter(|t| t.decided.is_none())
            .collect();
        let sel = Selection {
            boards,
            cases: selection.cases.clone(),
            all_boards: selection.all_boards.clone(),
            upstream: None,
        };
        let before = CpuTimes::now();
        let start = Instant::now();
        let runner = open_runner(project, &sel, default_threads())?;
        let results = runner.execute(&trials, &mut |_| {});
        let wall = start.elapsed().as_secs_f64();
        // Dropping the runner stops the emulators and reaps them: their CPU time is then
        // in the children's usage.
        drop(runner);
        columns.push(Column::of(&results, wall, CpuTimes::now().since(&before)));
    }
    let (one, two) = (&columns[0], &columns[1]);
    let name = &selection.boards[0].name;
    println!(
        "{name}: {} trials per run (mpcheck's own suite), 1 and 2 instances in one run",
        one.cases
    );
    println!("{:<34} {:>12} {:>12}", "", "1 instance", "2 instances");
    let row = |label: &str, a: String, b: String| println!("{label:<34} {a:>12} {b:>12}");
    row(
        "median wall time per case",
        format!("{:.1} ms", one.median_ms),
        format!("{:.1} ms", two.median_ms),
    );
    row(
        "suite wall time (connect included)",
        format!("{:.2} s", one.wall),
        format!("{:.2} s", two.wall),
    );
    row(
        "throughput",
        format!("{:.1} /s", one.rate()),
        format!("{:.1} /s", two.rate()),
    );
    for (i, phase) in PHASES.iter().enumerate() {
        row(
            &format!("  per case: {phase}"),
            format!("{:.1} ms", one.phase_ms[i]),
            format!("{:.1} ms", two.phase_ms[i]),
        );
    }
    row(
        "harness CPU",
        format!("{:.2} s", one.cpu.harness),
        format!("{:.2} s", two.cpu.harness),
    );
    row(
        "emulator CPU (all instances)",
        format!("{:.2} s", one.cpu.children),
        format!("{:.2} s", two.cpu.children),
    );
    // What one instance keeps busy bounds what two can gain: an emulated board whose
    // firmware polls its UART keeps a core busy even while it waits.
    let cores = default_threads();
    let busy = (one.cpu.children + one.cpu.harness) / one.wall;
    println!(
        "cores: {cores}; 1 instance kept {busy:.2} of them busy, so 2 instances can gain at most {:.2}x",
        (cores as f64 / busy).min(2.0)
    );
    println!(
        "median per case with 1 instance: {:.1} ms (target <= 10 ms); throughput 2 instances / 1: {:.2}x (target >= 1.8x)",
        one.median_ms,
        two.rate() / one.rate()
    );
    Ok(exit::OK)
}

/// The phases a board case reports, then what the phases do not cover (checkout, the
/// driver built, the outcome read).
const PHASES: [&str; 5] = ["reset", "upload", "run", "read", "other"];

/// One instance count's measurements.
struct Column {
    cases: usize,
    wall: f64,
    median_ms: f64,
    /// Mean per case, in [`PHASES`] order.
    phase_ms: [f64; 5],
    cpu: CpuTimes,
}

impl Column {
    fn of(results: &[crate::model::result::TrialResult], wall: f64, cpu: CpuTimes) -> Column {
        let mut walls: Vec<f64> = results.iter().map(|r| r.duration_ms as f64).collect();
        walls.sort_by(f64::total_cmp);
        let median_ms = walls.get(walls.len() / 2).copied().unwrap_or(0.0);
        let n = results.len().max(1) as f64;
        let mut phase_ms = [0.0; 5];
        for r in results {
            let mut covered = 0.0;
            for (i, phase) in PHASES[..4].iter().enumerate() {
                let v = r.phases_ms.get(*phase).copied().unwrap_or(0.0);
                phase_ms[i] += v / n;
                covered += v;
            }
            phase_ms[4] += (r.duration_ms as f64 - covered).max(0.0) / n;
        }
        Column {
            cases: results.len(),
            wall,
            median_ms,
            phase_ms,
            cpu,
        }
    }

    fn rate(&self) -> f64 {
        self.cases as f64 / self.wall
    }
}

/// CPU seconds (user + system) of this process and of its reaped children (the QEMU
/// emulators).
struct CpuTimes {
    harness: f64,
    children: f64,
}

impl CpuTimes {
    fn now() -> CpuTimes {
        let usage = |who| {
            // SAFETY: getrusage only writes the struct it is given.
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            unsafe { libc::getrusage(who, &mut u) };
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            secs(u.ru_utime) + secs(u.ru_stime)
        };
        CpuTimes {
            harness: usage(libc::RUSAGE_SELF),
            children: usage(libc::RUSAGE_CHILDREN),
        }
    }

    fn since(&self, before: &CpuTimes) -> CpuTimes {
        CpuTimes {
            harness: self.harness - before.harness,
            children: self.children - before.children,
        }
    }
}
