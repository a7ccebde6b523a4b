//! Finds the cases under `cases/`: `cases/<group>/<name>.py`, sorted by id. Files whose
//! name starts with `_` are helper modules that cases import, not cases. Symbolic links
//! are followed (a group may be a link to another checkout); a link loop or a dangling
//! link is an error naming the path.

use std::path::Path;
use std::sync::Arc;

use crate::model::case::{Case, CaseId};
use crate::util::error::{Error, Result};

pub fn discover(cases_dir: &Path) -> Result<Vec<Arc<Case>>> {
    let mut cases = Vec::new();
    let walk = walkdir::WalkDir::new(cases_dir)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| crate::util::fsutil::walk_error(e, cases_dir))?;
        let path = entry.path();
        if entry.file_type().is_dir() {
            continue;
        }
        let helper = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('_'));
        if helper || path.extension().is_none_or(|e| e != "py") {
            continue;
        }
        let rel = path.strip_prefix(cases_dir).unwrap_or(path);
        let group = rel
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if group.is_empty() {
            return Err(Error::config(
                path,
                1,
                "a case must sit in a group directory: cases/<group>/<name>.py",
            ));
        }
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        cases.push(Arc::new(Case::load(path, CaseId { group, name })?));
    }
    cases.sort_by(|a: &Arc<Case>, b| a.id.cmp(&b.id));
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_loop_is_an_error_naming_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let g = dir.path().join("g");
        std::fs::create_dir_all(&g).unwrap();
        std::fs::write(g.join("a.py"), "print(1)\n").unwrap();
        std::os::unix::fs::symlink("..", g.join("up")).unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains("g/up: symbolic link loop"), "{err}");
    }

    #[test]
    fn linked_groups_are_followed_and_helpers_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("elsewhere");
        std::fs::create_dir_all(&real).unwrap();
        std::fs::write(real.join("a.py"), "print(1)\n").unwrap();
        std::fs::write(real.join("_helper.py"), "X = 1\n").unwrap();
        let cases = dir.path().join("cases");
        std::fs::create_dir_all(&cases).unwrap();
        std::os::unix::fs::symlink(&real, cases.join("linked")).unwrap();
        let found = discover(&cases).unwrap();
        let ids: Vec<String> = found.iter().map(|c| c.id.to_string()).collect();
        assert_eq!(ids, ["linked/a"]);
    }
}
