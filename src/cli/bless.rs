//! `mpcheck bless`: run, then write golden files so the current outputs become the
//! expectations. Which files to write is decided by `golden::decide_bless`.

use std::collections::BTreeMap;

use clap::Args;

use super::{SelectArgs, run_selection};
use crate::compare::Verdict;
use crate::config::Project;
use crate::error::{Error, Result, exit};
use crate::execute::runs_on_cpython;
use crate::golden::{BlessInput, decide_bless, may_bless};

#[derive(Args)]
pub struct BlessArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Refuse to bless (as when CI is set): for CI scripts that must never write goldens.
    #[arg(long)]
    pub ci: bool,
}

pub fn bless(project: &Project, args: &BlessArgs) -> Result<i32> {
    may_bless(args.ci, std::env::var("CI").ok().as_deref()).map_err(Error::Usage)?;
    let out = run_selection(project, &args.select)?;
    let goldens = out.runner.goldens();

    // case → board → (mode → output) for every trial whose output can be blessed.
    let mut by_case: BTreeMap<String, BTreeMap<String, Vec<Vec<u8>>>> = BTreeMap::new();
    let mut unblessable = 0;
    let mut written = 0;
    for r in &out.results {
        match (&r.verdict, &r.output) {
            (_, Some(output)) if r.blessable && out.runner.is_bytecode_board(&r.board) => {
                let Some(id) = &r.case_id else { continue };
                let path = goldens.bytecode_path(id);
                if std::fs::read(&path).ok().as_deref() != Some(output.as_slice()) {
                    crate::golden::write_atomic(&path, output)?;
                    eprintln!("blessed {}", path.display());
                    written += 1;
                }
            }
            (_, Some(output)) if r.blessable => {
                by_case
                    .entry(r.case.clone())
                    .or_default()
                    .entry(r.board.clone())
                    .or_default()
                    .push(output.clone());
            }
            (Verdict::Skip { .. }, _) => {}
            _ => {
                eprintln!(
                    "not blessing {}: {}",
                    r.name,
                    r.verdict
                        .reason()
                        .unwrap_or_else(|| r.verdict.name().into())
                );
                unblessable += 1;
            }
        }
    }
    for case in &out.cases {
        let Some(boards) = by_case.get(&case.id.to_string()) else {
            continue;
        };
        let mut actuals = BTreeMap::new();
        for (board, outputs) in boards {
            if outputs.windows(2).any(|w| w[0] != w[1]) {
                eprintln!(
                    "not blessing {board}::{}: its source and .mpy outputs differ",
                    case.id
                );
                unblessable += 1;
                continue;
            }
            actuals.insert(board.clone(), outputs[0].clone());
        }
        let shared = goldens.read_shared(&case.id)?;
        let reference = match runs_on_cpython(case) {
            None => out.runner.reference().output(case).ok(),
            Some(_) => None,
        };
        let overrides: Vec<String> = actuals
            .keys()
            .filter(|b| goldens.has_board_override(&case.id, b))
            .cloned()
            .collect();
        let writes = decide_bless(&BlessInput {
            shared: shared.as_deref(),
            reference: reference.as_deref(),
            actuals: &actuals,
            overrides: &overrides,
        });
        for path in goldens.apply(&case.id, &writes)? {
            written += 1;
            eprintln!("blessed {}", path.display());
        }
    }
    written += bless_heap(goldens, &out)?;
    eprintln!(
        "bless: {written} golden files written or removed; {unblessable} results could not be blessed"
    );
    Ok(if unblessable > 0 {
        exit::FAILURES
    } else {
        exit::OK
    })
}

/// Writes `golden/<group>/<name>.heap.yaml` for cases with `heap:` settings, replacing
/// the figures of the boards and modes that ran and keeping the others.
fn bless_heap(
    goldens: &crate::golden::Goldens,
    out: &super::RunOutput,
) -> crate::error::Result<usize> {
    let mut written = 0;
    for case in out
        .cases
        .iter()
        .filter(|c| c.settings.as_ref().is_ok_and(|s| s.heap.is_some()))
    {
        let path = goldens.heap_path(&case.id);
        let mut golden: crate::heap::HeapGolden = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| yaml_serde::from_str(&t).ok())
            .unwrap_or_default();
        let before = golden.clone();
        for r in out
            .results
            .iter()
            .filter(|r| r.case_id.as_ref() == Some(&case.id) && r.blessable)
        {
            if crate::heap::METRICS.iter().any(|m| r.heap.get(m).is_some()) {
                golden
                    .entry(r.board.clone())
                    .or_default()
                    .insert(r.mode.as_str().to_string(), r.heap.clone());
            }
        }
        if golden != before {
            let text = format!(
                "# Heap figures of {} per board and mode (bytes, calibrated); written by `mpcheck bless`.\n{}",
                case.id,
                yaml_serde::to_string(&golden).unwrap_or_default()
            );
            crate::golden::write_atomic(&path, text.as_bytes())?;
            eprintln!("blessed {}", path.display());
            written += 1;
        }
    }
    Ok(written)
}
