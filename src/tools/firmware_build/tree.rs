//! What a build depends on in a MicroPython tree, as one hash.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::TREE_DIRS;

/// SHA-256 over the build's inputs in `source`: every file under [`TREE_DIRS`] and
/// `ports/<port>`, path and content, in sorted path order (files hashed in parallel).
/// Build outputs, VCS data and bytecode caches are skipped: they are not inputs, and a
/// user's in-tree build must not change the key.
pub(crate) fn tree_hash(source: &Path, port: &str) -> std::io::Result<String> {
    let mut files = Vec::new();
    let port_dir = format!("ports/{port}");
    for dir in TREE_DIRS.iter().copied().chain([port_dir.as_str()]) {
        walk(source, Path::new(dir), &mut files)?;
    }
    files.sort();
    let digests: Vec<std::io::Result<[u8; 32]>> = files
        .par_iter()
        .map(|(rel, link)| {
            let full = source.join(rel);
            let mut h = Sha256::new();
            match link {
                // A symlink is hashed as its target's name (never followed: no loops).
                true => h.update(std::fs::read_link(&full)?.as_os_str().as_encoded_bytes()),
                false => h.update(std::fs::read(&full)?),
            }
            Ok(h.finalize().into())
        })
        .collect();
    let mut tree = Sha256::new();
    for ((rel, link), digest) in files.iter().zip(digests) {
        tree.update(rel.as_os_str().as_encoded_bytes());
        tree.update(if *link { [1] } else { [0] });
        tree.update(digest?);
    }
    Ok(hex(&tree.finalize()))
}

/// Collects `(relative path, is_symlink)` for every file under `source/rel`; a missing
/// directory contributes nothing.
fn walk(source: &Path, rel: &Path, out: &mut Vec<(PathBuf, bool)>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(source.join(rel)) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        let kind = entry.file_type()?;
        let path = rel.join(&name);
        if kind.is_dir() {
            let skipped = name_str == ".git"
                || name_str == "__pycache__"
                || name_str == "build"
                || name_str.starts_with("build-");
            if !skipped {
                walk(source, &path, out)?;
            }
        } else if !name_str.ends_with(".pyc") && (kind.is_file() || kind.is_symlink()) {
            // A FIFO or device in a checkout is not source: reading it would hang.
            out.push((path, kind.is_symlink()));
        }
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
