//! Boards in labgrid places, for real on one machine: a loopback farm (see `farm`) and
//! the mpcheck binary run against it, compared with the same QEMU board reached
//! directly. Ignored, with the reason, when labgrid cannot be installed here.

mod farm;
mod partitions;
mod pool;
mod project;

use std::process::{Command, Output};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use farm::Farm;
use project::Project;

fn main() {
    let args = Arguments::from_args();
    type Test = fn(&Farm) -> Result<Completion, Failed>;
    // Each test's farm: how many boards (each in a place of its own).
    let tests: Vec<(&str, usize, Test)> = vec![
        (
            "suite_through_a_place_matches_the_board_reached_directly",
            1,
            |f| same_verdicts(f).map(|()| Completion::Completed),
        ),
        ("two_runs_contending_for_one_place_take_turns", 1, |f| {
            contending_runs(f).map(|()| Completion::Completed)
        }),
        ("killed_runs_release_their_place", 1, |f| {
            killed_runs(f).map(|()| Completion::Completed)
        }),
        (
            "nextest_partitions_acquire_only_the_places_they_need",
            1,
            partitions::nextest,
        ),
        (
            "a_pool_of_two_places_splits_the_trials_and_goes_on_without_a_held_one",
            2,
            pool::split_and_held,
        ),
    ];
    // Installing labgrid (once) is needed only when a test runs, not to list them.
    let bin = std::sync::Arc::new(std::sync::OnceLock::new());
    let trials = tests
        .into_iter()
        .map(|(name, boards, test)| {
            let bin = bin.clone();
            Trial::ignorable_test(name, move || match bin.get_or_init(farm::labgrid_bin) {
                Ok(bin) => test(&Farm::start_pool(bin, boards)),
                Err(why) => Ok(Completion::ignored_with(format!(
                    "labgrid unavailable: {why}"
                ))),
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// The same cases on the board reached directly (QEMU's stdio) and through the place
/// (labgrid → ser2net → QEMU's UART): the same verdict for every case, including a hang
/// that only a hard reset ends (QEMU restart there, the place's power cycle here).
fn same_verdicts(farm: &Farm) -> Result<(), Failed> {
    let p = Project::new(farm).with_family_cases();
    let start = std::time::Instant::now();
    let direct = p.run("direct", None, "direct");
    let direct_s = start.elapsed().as_secs_f64();
    let placed = p.run("lg", None, "placed");
    // Printed for the record, never asserted (speed belongs to `mpcheck bench`).
    eprintln!(
        "wall time: direct {direct_s:.1} s, through the place {:.1} s",
        start.elapsed().as_secs_f64() - direct_s
    );
    // Exit 1: the hang is a `timeout` verdict.
    check(&direct.output, 1)?;
    check(&placed.output, 1)?;
    let (d, l) = (direct.verdicts(), placed.verdicts());
    eprintln!("direct: {d:?}\nplaced: {l:?}");
    eprintln!(
        "ms per case: direct {:?}\n             placed {:?}",
        direct.durations(),
        placed.durations()
    );
    if d != l {
        return Err(format!("verdicts differ:\n direct {d:?}\n placed {l:?}").into());
    }
    if d.len() != p.cases() || d.get("power/hang").map(String::as_str) != Some("timeout") {
        return Err(format!(
            "expected {} cases with power/hang timing out: {d:?}",
            p.cases()
        )
        .into());
    }
    // The hang ended by the place's power switch: off, then on.
    let switched = farm.relay.switched.lock().unwrap().clone();
    if switched != [false, true] {
        return Err(format!(
            "expected one power cycle through labgrid, the relay saw {switched:?}"
        )
        .into());
    }
    released(farm)
}

/// Two runs started together on one place: the second waits (saying for whom), gets it
/// when the first releases it, and both report every case with its own full output.
fn contending_runs(farm: &Farm) -> Result<(), Failed> {
    let p = Project::new(farm);
    // Held by a person for longer than the board file's acquire timeout: a clear error.
    farm.client(&["-p", &farm.place, "acquire"]);
    let impatient = p.run("lg-impatient", Some("basics/"), "impatient");
    farm.client(&["-p", &farm.place, "release"]);
    check(&impatient.output, 2)?;
    let said = String::from_utf8_lossy(&impatient.output.stderr);
    if !said.contains("labgrid place `microbit-1`")
        || !said.contains("is still held by")
        || !said.contains("/farm-admin after 2 s")
        || !said.contains("labgrid.acquire_timeout")
    {
        return Err(format!("no clear message for a place held too long:\n{said}").into());
    }
    let first = p.spawn("lg", Some("basics/"), "first");
    let holder = farm.wait_holder("acquired", Option::is_some).unwrap();
    let second = p.spawn("lg", Some("basics/"), "second");
    let (first, second) = (first.finish(), second.finish());
    eprintln!(
        "the second run said: {}",
        String::from_utf8_lossy(&second.output.stderr)
            .lines()
            .filter(|l| l.contains("labgrid"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    check(&first.output, 0)?;
    check(&second.output, 0)?;
    let said = String::from_utf8_lossy(&second.output.stderr);
    if !said.contains(&format!("is held by {holder}")) || !said.contains("acquired labgrid place") {
        return Err(format!("the second run did not wait for {holder}:\n{said}").into());
    }
    let (a, b) = (first.verdicts(), second.verdicts());
    if a != b || a.len() != p.basics() || a.values().any(|v| v != "pass") {
        return Err(format!("both runs should pass every basics case:\n {a:?}\n {b:?}").into());
    }
    released(farm)
}

/// A run killed while it holds the place (SIGKILL: no cleanup of its own at all; SIGINT:
/// its own wind-down; SIGINT twice: it stops at once, releasing first) leaves the place
/// free.
fn killed_runs(farm: &Farm) -> Result<(), Failed> {
    let p = Project::new(farm);
    for (signals, name) in [
        (&[libc::SIGKILL][..], "SIGKILL"),
        (&[libc::SIGINT], "SIGINT"),
        (&[libc::SIGINT, libc::SIGINT], "SIGINT twice"),
    ] {
        let run = p.spawn("lg", None, name);
        let holder = farm.wait_holder("acquired", Option::is_some).unwrap();
        if !holder.contains(".mpcheck") {
            return Err(format!("held by {holder}, not by the mpcheck run").into());
        }
        for &signal in signals {
            // SAFETY: signalling our own child by pid.
            unsafe { libc::kill(run.child.id() as i32, signal) };
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = run.finish();
        if signals[0] == libc::SIGINT && out.output.status.code() != Some(130) {
            return Err(format!("{name}: exit {:?}", out.output.status).into());
        }
        // The second SIGINT must have cut the wind-down short (the path that releases
        // before killing every child, the guardian included).
        let said = String::from_utf8_lossy(&out.output.stderr);
        if signals.len() == 2 && !said.contains("interrupted again") {
            return Err(format!("{name}: the run was not stopped at once:\n{said}").into());
        }
        farm.wait_holder(&format!("released after {name}"), Option::is_none);
        eprintln!("{name}: the place held by {holder} was released");
    }
    Ok(())
}

fn released(farm: &Farm) -> Result<(), Failed> {
    match farm.holder() {
        None => Ok(()),
        Some(h) => Err(format!("the place is still held by {h} after the runs").into()),
    }
}

pub fn check(out: &Output, code: i32) -> Result<(), Failed> {
    if out.status.code() == Some(code) {
        return Ok(());
    }
    Err(format!(
        "mpcheck exited {:?} (wanted {code}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .into())
}

/// `mpcheck` as built with these tests.
pub fn mpcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mpcheck"))
}
