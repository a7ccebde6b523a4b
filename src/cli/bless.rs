//! `mpcheck bless`: run, then accept every golden change the run proposes, so the
//! current results become the expectations. `mpcheck run` stages the same changes for
//! `mpcheck review` instead. Each golden kind proposes its own changes (`golden::*`).

use clap::Args;

use super::RunArgs;
use crate::boardfile::BoardSpec;
use crate::expect::golden::bytecode::BytecodeGoldens;
use crate::expect::golden::heap::HeapGoldens;
use crate::expect::golden::output::{ExpectedOutput, OutputGoldens};
use crate::expect::golden::pending::{Origin, PendingStore};
use crate::expect::golden::{BlessRun, Change, GoldenKind, may_bless};
use crate::model::case::{Case, CaseId};
use crate::model::verdict::Verdict;
use crate::plan::config::Project;
use crate::run::RunOutput;
use crate::util::error::{Error, Result, exit};

#[derive(Args)]
pub struct BlessArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Refuse to bless (as when CI is set): for CI scripts that must never write goldens.
    #[arg(long)]
    pub ci: bool,
}

pub fn bless(project: &Project, args: &BlessArgs) -> Result<i32> {
    may_bless(args.ci, std::env::var("CI").ok().as_deref()).map_err(Error::Usage)?;
    let out = crate::run::run(project, args.run.request(project)?)?;
    let proposed = propose(&out)?;
    for note in &proposed.notes {
        crate::util::notice::notice(note);
    }
    let mut written = 0;
    for (_, change) in &proposed.changes {
        change.apply()?;
        crate::report::console::blessed(&change.path, change.new.is_none());
        written += 1;
    }
    // What was staged for these cases is settled now.
    PendingStore::new(&project.root).stage(&ran_cases(&out), &[], &|_| None)?;
    crate::report::console::bless_summary(written, &proposed.refused);
    Ok(if proposed.refused.is_empty() {
        exit::OK
    } else {
        exit::FAILURES
    })
}

/// Stages what bless would change as pending entries (replacing those of the cases
/// that ran); returns how many are pending for these cases.
pub fn stage(project: &Project, out: &RunOutput) -> Result<usize> {
    let proposed = propose(out)?;
    let run = crate::report::incremental::run_id();
    let at = chrono::Utc::now();
    let origin = |case: &str| {
        Some(Origin {
            boards: blessed_boards_of(out, case),
            run: run.clone(),
            at,
        })
    };
    PendingStore::new(&project.root).stage(&ran_cases(out), &proposed.changes, &origin)
}

/// The boards whose results for `case` bless would take (the source of its changes).
fn blessed_boards_of(out: &RunOutput, case: &str) -> Vec<String> {
    let mut boards: Vec<String> = out
        .results
        .iter()
        .filter(|r| r.blessable && r.case == case)
        .map(|r| r.board.clone())
        .collect();
    boards.sort();
    boards.dedup();
    boards
}

fn ran_cases(out: &RunOutput) -> Vec<String> {
    let mut cases: Vec<String> = out.results.iter().map(|r| r.case.clone()).collect();
    cases.sort();
    cases.dedup();
    cases
}

/// Every change the run's results propose, per case, and what will not be blessed.
pub struct Proposed {
    pub changes: Vec<(String, Change)>,
    pub refused: Vec<String>,
    /// Why a change took its form (an override written where the shared golden stayed).
    pub notes: Vec<String>,
}

fn propose(out: &RunOutput) -> Result<Proposed> {
    let pipeline = out.pipeline();
    let goldens = pipeline.goldens();
    let mut refused = Vec::new();
    for r in &out.results {
        if !r.blessable && !matches!(r.verdict, Verdict::Skip { .. }) {
            refused.push(format!(
                "{}: {}",
                r.name,
                r.verdict
                    .reason()
                    .unwrap_or_else(|| r.verdict.name().into())
            ));
        }
    }
    let blessed_boards: Vec<String> = out
        .selection
        .boards
        .iter()
        .map(|b| b.name.clone())
        .collect();
    let relying = |case: &CaseId| relying_elsewhere(out, case);
    let reference = |case: &Case| {
        // An upstream test's baseline is its own .exp, when it has one.
        if let Some(exp) = pipeline.rules().expected_file(case) {
            return ExpectedOutput::from_exp(&exp).ok().map(|e| e.bytes);
        }
        if crate::suite::multi::own::is_multi(case) {
            return crate::suite::multi::own::truth(case, pipeline.reference())
                .ok()
                .map(|e| e.bytes);
        }
        match crate::pipeline::runs_on_cpython(case) {
            None => pipeline.reference_output(case).ok(),
            Some(_) => None,
        }
    };
    let run = BlessRun {
        results: &out.results,
        blessed_boards: &blessed_boards,
        relying_elsewhere: &relying,
        reference: &reference,
    };
    let output = OutputGoldens {
        goldens,
        skip_boards: pipeline.bytecode_boards(),
    };
    let bytecode = BytecodeGoldens {
        goldens,
        boards: pipeline.bytecode_boards(),
    };
    let heap = HeapGoldens {
        goldens,
        settings: None,
    };
    let ran = ran_cases(out);
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    for case in out
        .selection
        .cases
        .iter()
        .filter(|c| ran.contains(&c.id.to_string()))
    {
        let kinds: [&dyn Fn() -> std::result::Result<crate::expect::golden::Blessing, _>; 3] = [
            &|| output.bless(case, &run),
            &|| bytecode.bless(case, &run),
            &|| heap.bless(case, &run),
        ];
        for kind in kinds {
            match kind() {
                Ok(blessing) => {
                    refused.extend(blessing.refused);
                    notes.extend(blessing.notes);
                    changes.extend(
                        blessing
                            .changes
                            .into_iter()
                            .filter(|c| c.old != c.new)
                            .map(|c| (case.id.to_string(), c)),
                    );
                }
                // A golden that does not parse is not rewritten: that would lose the
                // figures of the boards this run did not measure.
                Err(e) => refused.push(format!("{}: not rewriting: {e}", case.id)),
            }
        }
    }
    Ok(Proposed {
        changes,
        refused,
        notes,
    })
}

/// Boards whose expectation for `case` is the shared golden (or CPython) and that gave
/// no output to bless: they plan the case, judge program output, have no override file,
/// and [`uses_baseline_unblessed`].
fn relying_elsewhere(out: &RunOutput, case: &CaseId) -> Vec<String> {
    let goldens = out.pipeline().goldens();
    let Some(case_arc) = out.selection.cases.iter().find(|c| &c.id == case) else {
        return Vec::new();
    };
    out.selection
        .all_boards
        .iter()
        .filter(|b| !matches!(b.spec, BoardSpec::Bytecode(_)))
        .filter(|b| uses_baseline_unblessed(out, case, b))
        .filter(|b| !goldens.board_path(case, &b.family).exists())
        .filter(|b| {
            crate::plan::plan(&[(*b).clone()], std::slice::from_ref(case_arc))
                .iter()
                .any(|t| t.decided.is_none())
        })
        .map(|b| b.family.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A board whose family ran `case` here without a blessable result (it crashed, say),
/// or a default board whose family this run left out. A board whose every result was a skip does not use
/// the golden, and one that never runs by default (real hardware) would otherwise pin a
/// wrong shared golden forever (#39: `bless native_fn` wrote an override instead).
fn uses_baseline_unblessed(
    out: &RunOutput,
    case: &CaseId,
    board: &crate::boardfile::Board,
) -> bool {
    let mut results = out
        .results
        .iter()
        .filter(|r| r.family() == board.family && r.case_id.as_ref() == Some(case))
        .peekable();
    if results.peek().is_none() {
        return board.default;
    }
    let mut ran = false;
    for r in results {
        if r.blessable {
            return false;
        }
        ran |= !matches!(r.verdict, Verdict::Skip { .. });
    }
    ran
}
