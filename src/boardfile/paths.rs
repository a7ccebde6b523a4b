//! Paths in board files: `${VAR}` expanded, relative ones resolved.

use std::path::{Path, PathBuf};

use crate::util::env::EnvError;

/// Like [`resolve_path`], keeping the expansion error typed (which variable is unset);
/// an empty expansion counts as unset (`VAR=` in a shell). A relative path that a
/// variable supplied (`MICROPY_SRC=../mp`) is relative to the current directory, where
/// the user typed it; one written in the file, to the board file's directory.
pub(crate) fn expand_path(
    dir: &Path,
    value: &str,
) -> std::result::Result<PathBuf, (String, EnvError)> {
    let expanded = crate::util::env::expand_env(value, &crate::util::env::process_env)
        .map_err(|e| (value.to_string(), e))?;
    if expanded.is_empty() {
        let var = value.trim_start_matches("${").trim_end_matches('}');
        return Err((value.to_string(), EnvError::Unset(var.to_string())));
    }
    let p = PathBuf::from(&expanded);
    Ok(if p.is_absolute() {
        p
    } else if value.starts_with("${") {
        std::path::absolute(&p).unwrap_or(p)
    } else {
        dir.join(p)
    })
}

/// Expands `${VAR}` and resolves a relative path against the board file's directory.
/// A bare command name (no `/`) is left for `PATH` lookup.
pub fn resolve_path(dir: &Path, value: &str) -> std::result::Result<PathBuf, String> {
    let expanded = crate::util::env::expand_env(value, &crate::util::env::process_env)
        .map_err(|e| format!("{e} (used in `{value}`)"))?;
    let p = PathBuf::from(&expanded);
    Ok(if p.is_absolute() || !expanded.contains('/') {
        p
    } else {
        dir.join(p)
    })
}
