//! `mpcheck boards check [BOARD]...`: validates every board file of every kind offline
//! and prints a table (board, kind, chip, image, size vs flash, status). Exit 0 when
//! every file is valid, 1 when any is not.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::boardfile::load_board;
use crate::boardfile::{Board, BoardSpec};
use crate::hw::flash::probe_section::{FlashConfigError, ProbeBoard, validate};
use crate::plan::config::Project;
use crate::tools::firmware_build::BuildSpec;
use crate::util::error::{Error, Result, exit};

#[derive(Subcommand)]
pub enum BoardsCommand {
    /// Validate board files offline (chip database, firmware fits the chip's flash), listed
    /// by family.
    Check(CheckArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// Boards to check (default: every file in boards/).
    pub boards: Vec<String>,
}

struct Row {
    board: String,
    /// What the board is (its file's `family:`, else its name): rows are grouped by it.
    family: String,
    kind: String,
    chip: String,
    image: String,
    size: String,
    status: String,
    ok: bool,
}

pub fn boards(project: &Project, command: &BoardsCommand) -> Result<i32> {
    let BoardsCommand::Check(args) = command;
    let mut files: Vec<PathBuf> = std::fs::read_dir(project.boards_dir())
        .map_err(|e| Error::io(project.boards_dir(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .filter(|p| {
            args.boards.is_empty()
                || args
                    .boards
                    .iter()
                    .any(|b| p.file_stem().is_some_and(|s| s == b.as_str()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "no board files matched in {}",
            project.boards_dir().display()
        )));
    }
    let mut rows: Vec<Row> = files.iter().map(|f| check(f, &project.state_dir)).collect();
    rows.sort_by(|a, b| (&a.family, &a.board).cmp(&(&b.family, &b.board)));
    let header = Row {
        board: "board".into(),
        family: "family".into(),
        kind: "kind".into(),
        chip: "chip".into(),
        image: "image".into(),
        size: "size vs flash".into(),
        status: "status".into(),
        ok: true,
    };
    let w = |f: fn(&Row) -> &String| {
        rows.iter()
            .chain([&header])
            .map(|r| f(r).len())
            .max()
            .unwrap_or(0)
    };
    let (wb, wf, wk, wc, wi, ws) = (
        w(|r| &r.board),
        w(|r| &r.family),
        w(|r| &r.kind),
        w(|r| &r.chip),
        w(|r| &r.image),
        w(|r| &r.size),
    );
    for r in [&header].into_iter().chain(&rows) {
        println!(
            "{:wb$}  {:wf$}  {:wk$}  {:wc$}  {:wi$}  {:ws$}  {}",
            r.board, r.family, r.kind, r.chip, r.image, r.size, r.status
        );
    }
    Ok(if rows.iter().all(|r| r.ok) {
        exit::OK
    } else {
        exit::FAILURES
    })
}

fn check(file: &Path, state_dir: &Path) -> Row {
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut row = Row {
        family: name.clone(),
        board: name,
        kind: "?".into(),
        chip: "-".into(),
        image: "-".into(),
        size: "-".into(),
        status: "ok".into(),
        ok: true,
    };
    let board = match load_board(file) {
        Ok(b) => b,
        Err(e) => {
            row.status = format!("invalid: {e}");
            row.ok = false;
            return row;
        }
    };
    row.kind = board.kind().into();
    row.family = board.family.clone();
    match &board.spec {
        BoardSpec::Host(h) => {
            row.image = match (&h.executable, &h.npm_version) {
                (Some(p), _) => p.display().to_string(),
                (None, Some(v)) => format!("npm {v}"),
                (None, None) if h.build.is_some() || h.unavailable.is_some() => "-".into(),
                (None, None) => "(pinned)".into(),
            };
            match (&h.build, &h.unavailable) {
                (_, Some(why)) => row.status = format!("ok, unavailable here: {why}"),
                (Some(build), None) => check_build(&board, build, state_dir, &mut row),
                (None, None) => {}
            }
            if let Some(why) = board.frozen_elsewhere() {
                row.status = format!("{}; {why}", row.status);
            }
        }
        BoardSpec::Bytecode(b) => {
            row.image = match (&b.mpy_cross, &b.mpy_cross_version) {
                (Some(p), _) => p.display().to_string(),
                (None, Some(v)) => format!("mpy-cross {v}"),
                (None, None) => "mpy-cross (pinned)".into(),
            };
        }
        BoardSpec::Device(d) => match (&d.config.qemu, &d.probe, &d.unavailable) {
            (Some(_), _, Some(why)) => row.status = format!("ok, unavailable here: {why}"),
            // Looked up in the build cache only: checking never builds.
            (Some(_), _, None) if d.build.is_some() => {
                let build = d.build.as_ref().expect("checked by the guard");
                check_build(&board, build, state_dir, &mut row);
            }
            (Some(q), _, None) => {
                row.image = q.firmware.clone();
                match std::fs::metadata(&q.firmware) {
                    Ok(m) => row.size = format!("{} bytes (file)", m.len()),
                    Err(_) => {
                        row.status = format!(
                            "ok, firmware not installed here (packages: {})",
                            d.packages.join(" ")
                        )
                    }
                }
            }
            (None, Some(raw), _) => check_probe(&board, raw, &mut row),
            (None, None, _) => row.status = "ok (no probe: flashed by hand)".into(),
        },
    }
    row
}

/// A board built from a tree: its image looked up in the build cache (never built).
fn check_build(board: &Board, build: &BuildSpec, state_dir: &Path, row: &mut Row) {
    row.status = match crate::tools::firmware_build::cached(build, &board.file, state_dir) {
        Ok(Some(built)) => {
            row.image = built.firmware.display().to_string();
            if let Ok(m) = std::fs::metadata(&built.firmware) {
                row.size = format!("{} bytes (file)", m.len());
            }
            format!("ok, built from source at {}", build.source.display())
        }
        Ok(None) => format!(
            "ok, built from source at {} (not built yet)",
            build.source.display()
        ),
        // A run installs missing compilers; checking does not.
        Err(crate::tools::firmware_build::BuildError::Toolchain { message, .. }) => format!(
            "ok, built from source at {} (not built yet; {message}: a run installs {})",
            build.source.display(),
            build.packages.join(" ")
        ),
        Err(e) => {
            row.ok = false;
            format!("cannot be built here: {e}")
        }
    };
}

fn check_probe(board: &Board, spec: &crate::boardfile::file::ProbeSpec, row: &mut Row) {
    let raw = &spec.raw;
    row.chip = raw.chip.clone();
    match crate::hw::flash::probe_section::checked(spec)
        .as_ref()
        .map_err(|e| &**e)
    {
        Ok(probe) => describe_fit(probe, row),
        // The file is right but names firmware this machine does not have: check the
        // chip alone, and say what is missing.
        Err(FlashConfigError::MissingEnv { var, .. }) => {
            let mut chip_only = raw.clone();
            chip_only.firmware = None;
            match validate(chip_only, &board.file) {
                Ok(_) => row.status = format!("ok, firmware not checked: `{var}` is not set"),
                Err(e) => {
                    row.status = format!("invalid: {e}");
                    row.ok = false;
                }
            }
        }
        Err(e) => {
            row.status = format!("invalid: {e}");
            row.ok = false;
        }
    }
}

fn describe_fit(probe: &ProbeBoard, row: &mut Row) {
    let Some(fw) = &probe.firmware else {
        row.status = "ok (no firmware: flashed by hand)".into();
        return;
    };
    let flash: u64 = probe.flash_regions.iter().map(|r| r.size()).sum();
    let used = fw.image.total_bytes();
    row.image = fw.path.display().to_string();
    row.size = format!(
        "{used} / {flash} bytes ({:.1}%)",
        used as f64 * 100.0 / flash.max(1) as f64
    );
}
