//! Opening a board's frozen variant for a run: compile the frozen trials' cases, build
//! the firmware with them frozen in (cached), and a board target that boots it. Whatever
//! fails is the frozen trials' verdict, never the run's error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::boardfile::{Board, BoardSpec, HostKind};
use crate::model::case::Case;
use crate::pipeline::Event;
use crate::plan::config::Project;
use crate::targets::Target;
use crate::targets::board::BoardTarget;
use crate::targets::frozen::{FrozenTarget, RunsFrozen};
use crate::targets::open::{FrozenMissing, Targets};
use crate::tools::frozen::prepare;

/// The target of `board`'s frozen trials, or why there is none.
pub fn open_variant(
    project: &Project,
    board: &Board,
    targets: &Targets,
    cases: &[Arc<Case>],
    on_event: &mut dyn FnMut(Event),
) -> Result<(Arc<dyn Target>, Option<PathBuf>), FrozenMissing> {
    if let Some(reason) = unsupported(board) {
        return Err(FrozenMissing::Unsupported(reason));
    }
    let not_opened = || FrozenMissing::Failed(format!("board `{}` was not opened", board.name));
    // The plain board or VM: it compiles the cases, and boots the frozen image.
    let plain: Arc<dyn RunsFrozen> = match &board.spec {
        BoardSpec::Device(_) => targets.device(&board.name).ok_or_else(not_opened)?.clone(),
        BoardSpec::Host(_) => targets
            .built_host(&board.name)
            .ok_or_else(not_opened)?
            .clone(),
        BoardSpec::Bytecode(_) => unreachable!("`unsupported` passes no bytecode board"),
    };
    let build = board.build().ok_or_else(not_opened)?;
    let failed = |e: &dyn std::fmt::Display| FrozenMissing::Failed(format!("frozen firmware: {e}"));
    let compiler = plain
        .compiler()
        .ok_or_else(|| failed(&"the board has no mpy-cross"))?;
    let prepared = prepare(compiler, plain.native_arch().as_deref(), cases);
    if prepared.files.is_empty() {
        // Every case was rejected: nothing to build, nothing will boot.
        return Ok((
            Arc::new(FrozenTarget::new(plain.clone(), prepared.entries)),
            None,
        ));
    }
    let built = crate::tools::firmware_build::cached(build, &board.file, &project.state_dir)
        .map_err(|e| failed(&e))?
        .ok_or_else(|| failed(&"the plain firmware is not built"))?;
    let frozen = crate::tools::firmware_build::build_frozen(
        build,
        &board.file,
        &built,
        &prepared.files,
        &mut |p| {
            on_event(Event::Firmware {
                board: &board.name,
                line: &format!("board `{}`: {p}", board.name),
            })
        },
    )
    .map_err(|e| failed(&e))?;
    let image = frozen.firmware.clone();
    let booted: Arc<dyn RunsFrozen> = match (&board.spec, targets.built_host(&board.name)) {
        (BoardSpec::Host(_), Some(host)) => Arc::new(host.with_vm(frozen.firmware)),
        (BoardSpec::Device(spec), _) => {
            let mut config = spec.config.clone();
            if let Some(q) = &mut config.qemu {
                q.firmware = frozen.firmware.to_string_lossy().into_owned();
            }
            Arc::new(BoardTarget::new(
                &board.name,
                config,
                spec.instances,
                Some(compiler.clone()),
            ))
        }
        _ => return Err(not_opened()),
    };
    Ok((
        Arc::new(FrozenTarget::new(booted, prepared.entries)),
        Some(image),
    ))
}

/// Why `board` cannot run frozen trials at all, known from its board file and the
/// environment alone (`mpcheck list` shows it; a run skips them with it).
pub fn unsupported(board: &Board) -> Option<String> {
    match &board.spec {
        BoardSpec::Host(h) if h.kind == HostKind::Unix && h.build.is_some() => None,
        BoardSpec::Host(h) if h.kind == HostKind::Unix => Some(unix_reason(
            std::env::var_os("MICROPY_SRC").as_deref().map(Path::new),
        )),
        BoardSpec::Device(d) if d.build.is_some() => None,
        _ => Some(format!(
            "board `{}` cannot freeze: frozen mode needs a board built from source (a `build:` section)",
            board.name
        )),
    }
}

/// Why a unix board without a `build:` section skips its frozen trials: the unix port
/// freezes only when built from a checkout with `ports/unix` (boards/unix-src.yaml).
fn unix_reason(source: Option<&Path>) -> String {
    match source {
        None => "frozen mode on the unix port needs a MicroPython checkout with ports/unix: set MICROPY_SRC".into(),
        Some(src) if !src.join("ports/unix/Makefile").is_file() => format!(
            "frozen mode on the unix port needs a full MicroPython checkout: MICROPY_SRC ({}) has no ports/unix",
            src.display()
        ),
        Some(src) => format!(
            "frozen mode on the unix port needs a unix board built from the tree: MICROPY_SRC ({}) has ports/unix, run the board `unix-src` (a `build:` section) for its frozen trials",
            src.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unix_reason_names_what_is_missing() {
        assert!(unix_reason(None).ends_with("set MICROPY_SRC"));
        let t = tempfile::tempdir().unwrap();
        assert!(unix_reason(Some(t.path())).contains("has no ports/unix"));
        std::fs::create_dir_all(t.path().join("ports/unix")).unwrap();
        std::fs::write(t.path().join("ports/unix/Makefile"), "").unwrap();
        assert!(unix_reason(Some(t.path())).contains("has ports/unix"));
    }
}
