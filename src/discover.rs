//! Finds the cases under `cases/`: `cases/<group>/<name>.py`, sorted by id. Files whose
//! name starts with `_` are helper modules that cases import, not cases.

use std::path::Path;
use std::sync::Arc;

use crate::case::{Case, CaseId};
use crate::error::{Error, Result};

pub fn discover(cases_dir: &Path) -> Result<Vec<Arc<Case>>> {
    let mut cases = Vec::new();
    walk(cases_dir, cases_dir, &mut cases)?;
    cases.sort_by(|a: &Arc<Case>, b| a.id.cmp(&b.id));
    Ok(cases)
}

fn walk(root: &Path, dir: &Path, cases: &mut Vec<Arc<Case>>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            walk(root, &path, cases)?;
            continue;
        }
        let helper = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('_'));
        if helper || path.extension().is_none_or(|e| e != "py") {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let group = rel
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if group.is_empty() {
            return Err(Error::config(
                &path,
                1,
                "a case must sit in a group directory: cases/<group>/<name>.py",
            ));
        }
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        cases.push(Arc::new(Case::load(&path, CaseId { group, name })?));
    }
    Ok(())
}
