//! File helpers shared by goldens, reports and caches: atomic writes and tolerant
//! removal (reads of files mpcheck does not control are `crate::util::input`'s).

use std::io::Write;
use std::path::Path;

use crate::util::error::{Error, Result};

/// Writes through a temp file in the same directory and renames it into place, so an
/// interrupted write never leaves a partial file. The temp file is named `.*.tmp` and is
/// deleted when anything fails (tempfile removes it on drop, also on unwinding).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".mpcheck-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Where `path` really is, also when its tail does not exist yet (a directory about to
/// be created): absolute, `..` taken lexically, and the deepest existing ancestor with
/// its symbolic links resolved. For checking that a path stays inside (or outside) a
/// folder before anything is written there.
pub fn resolved(path: &Path) -> std::path::PathBuf {
    use std::path::{Component, PathBuf};
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let lexical = absolute.components().fold(PathBuf::new(), |mut acc, c| {
        match c {
            Component::ParentDir => {
                acc.pop();
            }
            Component::CurDir => {}
            c => acc.push(c),
        }
        acc
    });
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |acc, part| acc.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return lexical,
        }
    }
}

/// Removes a file; one that is already gone is fine.
pub fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A directory walk's error as the harness's: the path it stopped at (else `root`) and
/// its I/O error; a loop of symbolic links, which has none, names the link to remove.
pub fn walk_error(e: walkdir::Error, root: &Path) -> Error {
    let path = e.path().unwrap_or(root).to_path_buf();
    if let Some(ancestor) = e.loop_ancestor() {
        return Error::Usage(format!(
            "{}: symbolic link loop (leads back to {}): remove the link",
            path.display(),
            ancestor.display()
        ));
    }
    match e.into_io_error() {
        Some(io) => Error::io(path, io),
        None => Error::Usage(format!("{}: cannot be read", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g/x.out");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn resolved_follows_links_of_what_exists_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        std::os::unix::fs::symlink(real.join("a"), real.join("link")).unwrap();
        assert_eq!(resolved(&real.join("link/new/x")), real.join("a/new/x"));
        assert_eq!(resolved(&real.join("new/../a/y")), real.join("a/y"));
    }

    #[test]
    fn removing_a_missing_file_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        remove_if_exists(&dir.path().join("nope")).unwrap();
    }
}
