//! A pool of identical boards (#24): two QEMU micro:bits in two places of the loopback
//! farm, named by one board file (`labgrid: {places: [...]}`). The suite's trials split
//! over both with the verdicts of one place; a member held by someone else is left to
//! them (the run says so and goes on with the other); with every member held, the trials
//! fail with that reason.

use std::collections::BTreeMap;
use std::time::Instant;

use libtest_mimic::{Completion, Failed};

use super::check;
use super::farm::Farm;
use super::project::{Project, Run};

pub fn split_and_held(farm: &Farm) -> Result<Completion, Failed> {
    let p = Project::new_pool(farm);
    let start = Instant::now();
    let one = p.run("lg", None, "one-place");
    let one_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let pool = p.run("pool", None, "pool");
    let pool_s = start.elapsed().as_secs_f64();
    check(&one.output, 0)?;
    check(&pool.output, 0)?;
    let split = per_member(&pool);
    // Printed for the record (the closing note's numbers), never asserted.
    eprintln!("wall time: one place {one_s:.1} s, pool of two {pool_s:.1} s; split {split:?}");
    let verdicts = one.verdicts();
    eprintln!(
        "trials: one place {}, pool {}",
        summary(&one),
        summary(&pool)
    );
    if pool.verdicts() != verdicts || verdicts.len() != p.cases() {
        return Err(format!(
            "the pool's verdicts differ from one place's:\n one  {verdicts:?}\n pool {:?}",
            pool.verdicts()
        )
        .into());
    }
    if split.len() != 2
        || farm
            .places
            .iter()
            .any(|m| split.get(m).is_none_or(|&n| n == 0))
    {
        return Err(format!("the trials did not split over both members: {split:?}").into());
    }
    said(&pool, "pool pool: microbit-1 ran ")?;

    // Someone holds the second place for the whole run: the first runs everything.
    farm.client(&["-p", &farm.places[1], "acquire"]);
    let held = p.run("pool", None, "held");
    // And both held: nothing can run, every trial says why.
    farm.client(&["-p", &farm.places[0], "acquire"]);
    let none = p.run("pool-impatient", Some("basics/"), "none-left");
    for place in &farm.places {
        farm.client(&["-p", place, "release"]);
    }
    check(&held.output, 0)?;
    let split = per_member(&held);
    eprintln!("one member held: split {split:?}");
    if held.verdicts() != verdicts || split.keys().ne(["microbit-1"]) {
        return Err(format!(
            "with microbit-2 held, microbit-1 should run every trial: {split:?} {:?}",
            held.verdicts()
        )
        .into());
    }
    said(&held, "labgrid place `microbit-2` is held by ")?;
    said(&held, "microbit-2 ran none (held by ")?;
    let members = held.json()["pool_members"].clone();
    let unavailable = members[1]["unavailable"].as_str().unwrap_or_default();
    if members[1]["member"] != "microbit-2" || !unavailable.contains("/farm-admin") {
        return Err(format!("results.json should say who held microbit-2: {members}").into());
    }

    check(&none.output, 1)?;
    let errors = none.verdicts();
    if errors.len() != p.basics() || errors.values().any(|v| v != "error") {
        return Err(format!("with both members held every trial is an error: {errors:?}").into());
    }
    said(
        &none,
        "no member of its pool is left (microbit-1: labgrid place",
    )?;
    for place in &farm.places {
        if let Some(h) = farm.holder_of(place) {
            return Err(format!("{place} is still held by {h} after the runs").into());
        }
    }
    Ok(Completion::Completed)
}

/// Member → how many trials it ran.
fn per_member(run: &Run) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for m in run.members().into_values().filter(|m| m != "null") {
        *n.entry(m).or_default() += 1;
    }
    n
}

/// The run's closing count line (`N passed, … in S s`: the trials' own wall time).
fn summary(run: &Run) -> String {
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    let line = stderr
        .lines()
        .rfind(|l| l.contains(" in ") && l.ends_with(" s"));
    line.unwrap_or("?").to_string()
}

fn said(run: &Run, what: &str) -> Result<(), Failed> {
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    if stderr.contains(what) {
        return Ok(());
    }
    Err(format!("the run did not say `{what}`:\n{stderr}").into())
}
