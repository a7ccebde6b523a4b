//! The heap wrapper's own cost per (board, mode, module-name length), measured once per
//! run around an empty case, so an empty case measures 0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::Pipeline;
use super::stages::{Go, Prepared};
use crate::model::case::{Case, CaseId, Mode};
use crate::model::heap::HeapFigures;
use crate::plan::Trial;
use crate::targets::RunRequest;

type Key = (String, Mode, usize);

pub(super) struct Calibration {
    cells: Mutex<BTreeMap<Key, Arc<OnceLock<Option<HeapFigures>>>>>,
    /// Where the empty calibration cases are written.
    scratch: Option<tempfile::TempDir>,
}

impl Calibration {
    pub(super) fn new() -> Calibration {
        Calibration {
            cells: Mutex::default(),
            scratch: tempfile::tempdir().ok(),
        }
    }
}

impl Pipeline {
    /// The wrapper's own cost on this trial's board and mode. Keyed by module-name length
    /// too: the name's qstr is part of what loading costs.
    pub(super) fn calibration(&self, trial: &Trial, go: &Go, p: &Prepared) -> Option<HeapFigures> {
        let len = trial.case.module_name().len();
        let cell = {
            let mut map = self
                .calibration
                .cells
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            map.entry((trial.board.name.clone(), trial.mode, len))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| {
            // An empty case whose name is as long as this one's (module and file names
            // are interned as qstrs while loading).
            let name = "e".repeat(len);
            let path = empty_case_file(self.calibration.scratch.as_ref()?.path(), &name).ok()?;
            let empty = Case::load(
                &path,
                CaseId {
                    group: "_".into(),
                    name,
                },
            )
            .ok()?;
            let mpy = match (trial.mode, &p.mpy, go.target.compiler()) {
                (Mode::Mpy, Some(_), Some(c)) => c.compile(&empty).ok()?.ok(),
                _ => None,
            };
            go.target
                .run(&RunRequest {
                    case: &empty,
                    mode: trial.mode,
                    mpy: mpy.as_deref(),
                    timeout: trial.board.timeout,
                    heap: Some(Default::default()),
                    slow: false,
                    suite: None,
                })
                .heap
        })
        .clone()
    }
}

/// Writes the empty case `<name>.py` into a new directory under `scratch`: one per
/// calibration, since cells of other modes or boards with a name as long run at the same
/// time, and rewriting one shared file truncates it under another cell's read (which then
/// calibrated "" and made every case of that trial 32 bytes lighter, see below).
fn empty_case_file(scratch: &Path, name: &str) -> std::io::Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}-", name.len()))
        .tempdir_in(scratch)?
        .keep();
    let path = dir.join(format!("{name}.py"));
    // One newline, not nothing: compiling "" costs 32 bytes more than any text ending in
    // a newline (the lexer supplies the missing final newline), so "" as the baseline
    // made comment-only heap/empty -32.
    std::fs::write(&path, "\n")?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_calibration_has_its_own_empty_case_file() {
        let scratch = tempfile::tempdir().unwrap();
        let a = empty_case_file(scratch.path(), "eee").unwrap();
        let b = empty_case_file(scratch.path(), "eee").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.file_name(), b.file_name());
        // Writing the second did not truncate the first.
        assert_eq!(std::fs::read(&a).unwrap(), b"\n");
        assert_eq!(std::fs::read(&b).unwrap(), b"\n");
    }
}
