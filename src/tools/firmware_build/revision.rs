//! One revision of a git checkout as a tree of its own under the build cache: what
//! `compare --base-rev/--head-rev` builds each side from.
//!
//! The revision is exported with `git archive` (read-only on the user's repository: no
//! worktree entry in its .git, no checkout of their files) into
//! `<state>/build/rev-<commit>`, kept there: a second compare of that commit builds from
//! the same directory, so the firmware cache (keyed by the tree's content) hits.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::BuildError;

/// The full commit `rev` names in the checkout `source`, or why it cannot be read
/// (`board_file` is the board whose `build.source` it is, for the message).
pub(crate) fn resolve(source: &Path, rev: &str, board_file: &Path) -> Result<String, BuildError> {
    let err = |why: String| BuildError::Source {
        file: board_file.to_path_buf(),
        tree: source.to_path_buf(),
        why,
    };
    let inside = git(source, &["rev-parse", "--is-inside-work-tree"]);
    if !matches!(inside.as_deref(), Ok("true")) {
        return Err(err(format!(
            "not a git checkout, so revision `{rev}` cannot be read from it: give each side its own tree instead, two board files whose build.source names them (e.g. `compare --base unix-src-old --head unix-src`, boards/unix-src-old.yaml with `source: /path/to/old/micropython`)"
        )));
    }
    git(
        source,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|why| err(format!("no commit `{rev}` in this checkout ({why})")))
}

/// The tree of `commit` of the checkout `source`, exported once into `build_dir`
/// (`<state>/build`) and kept: the same commit is never exported twice.
pub(crate) fn export(
    source: &Path,
    commit: &str,
    build_dir: &Path,
    board_file: &Path,
) -> Result<PathBuf, BuildError> {
    let err = |why: String| BuildError::Source {
        file: board_file.to_path_buf(),
        tree: source.to_path_buf(),
        why,
    };
    // Where `source` is a folder of a larger repository, that folder's tree is exported.
    let prefix = git(source, &["rev-parse", "--show-prefix"]).map_err(err)?;
    let dir = build_dir.join(format!("rev-{commit}{}", prefix.replace('/', "_")));
    if dir.join(".mpcheck-exported").is_file() {
        return Ok(dir);
    }
    // Exported beside the final name and renamed when whole: an interrupted export is
    // never mistaken for a tree.
    let tmp = build_dir.join(format!("rev-{commit}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| err(format!("creating {}: {e}", tmp.display())))?;
    let archive = Command::new("git")
        .arg("-C")
        .arg(source)
        .args(["archive", "--format=tar", &format!("{commit}:{prefix}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("running git archive: {e}")))?;
    let untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&tmp)
        .stdin(
            archive
                .stdout
                .ok_or_else(|| err("git archive has no stdout".into()))?,
        )
        .output()
        .map_err(|e| err(format!("running tar: {e}")))?;
    if !untar.status.success() {
        return Err(err(format!(
            "exporting {commit} with git archive | tar -x failed: {}",
            String::from_utf8_lossy(&untar.stderr).trim()
        )));
    }
    std::fs::write(tmp.join(".mpcheck-exported"), commit)
        .map_err(|e| err(format!("writing into {}: {e}", tmp.display())))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).map_err(|e| {
        err(format!(
            "renaming {} to {}: {e}",
            tmp.display(),
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// The make variables that give a revision's build its own version line: the export
/// has no .git, so py/makeversionhdr.py would otherwise read the enclosing repository's
/// (the state dir's) or none. `git describe` of `commit` as makeversionhdr.py turns it
/// into a version (`v1.24.0`, `v1.24.0-12.gabc123`), and its short hash.
pub(crate) fn version_args(source: &Path, commit: &str) -> Vec<String> {
    let describe = git(
        source,
        &[
            "describe", "--tags", "--always", "--match", "v[1-9].*", commit,
        ],
    )
    .unwrap_or_else(|_| commit.to_string());
    let tag = match describe.split_once('-') {
        Some((release, rest)) => format!("{release}-{}", rest.replace('-', ".")),
        None => describe,
    };
    let short = &commit[..commit.len().min(12)];
    vec![
        format!("MICROPY_GIT_TAG={tag}"),
        format!("MICROPY_GIT_HASH={short}"),
    ]
}

/// `git -C source ARGS`'s trimmed stdout, or its stderr (or why it did not start).
fn git(source: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(source)
        .args(args)
        .output()
        .map_err(|e| format!("running git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_that_is_not_a_git_checkout_is_said_so() {
        let t = tempfile::tempdir().unwrap();
        let e = resolve(t.path(), "HEAD", Path::new("boards/u.yaml")).unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("boards/u.yaml: build.source "), "{m}");
        assert!(m.contains("not a git checkout"), "{m}");
    }
}
