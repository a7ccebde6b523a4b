//! A board file's `build:` section (a board built from a MicroPython tree): as written,
//! checked, and whether the prebuilt image or the build supplies the firmware.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::lines::line_of;
use super::paths::expand_path;
use crate::tools::firmware_build::{BuildSpec, RESERVED_VARIABLES, Select, default_image};
use crate::util::env::EnvError;
use crate::util::error::{Error, Result};

/// The compiler whose version keys a port's build: the unix port runs on this machine,
/// built by its C compiler; the others are cross-built for ARM.
fn default_compiler(port: &str) -> &'static str {
    match port {
        "unix" => "gcc",
        _ => "arm-none-eabi-gcc",
    }
}

/// The Debian packages a port's build needs (installed when a build lacks them).
fn default_packages(port: &str) -> &'static [&'static str] {
    match port {
        "unix" => crate::tools::toolchain::UNIX_BUILD_PACKAGES,
        _ => crate::tools::toolchain::FIRMWARE_BUILD_PACKAGES,
    }
}

/// `build: {source, port, board | variant, args}` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBuild {
    source: String,
    port: String,
    board: Option<String>,
    /// The unix port's `VARIANT=` (instead of `board`).
    variant: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    image: Option<String>,
    compiler: Option<String>,
    packages: Option<Vec<String>>,
}

impl RawBuild {
    /// The directory under `ports/` the build section names.
    pub(crate) fn port(&self) -> &str {
        &self.port
    }
}

/// Where a qemu board's firmware comes from, decided from what the board file gives and
/// which of its variables are set.
pub(crate) enum FirmwareSource {
    Prebuilt(PathBuf),
    Build(BuildSpec),
    /// Neither is usable here: the exact variables to set.
    Unavailable(String),
    /// The file gives neither (a file error, not an environment one).
    Missing,
}

/// The prebuilt image wins when its path expands (a user's own firmware); else the
/// `build:` section when its source expands; else the board is unavailable, saying
/// exactly which variable to set.
pub(crate) fn firmware_source(
    firmware: Option<std::result::Result<PathBuf, (String, EnvError)>>,
    build: Option<std::result::Result<BuildSpec, (String, EnvError)>>,
) -> FirmwareSource {
    let unset_var = |e: &EnvError| match e {
        EnvError::Unset(var) => Some(var.clone()),
        EnvError::Unclosed => None,
    };
    match (firmware, build) {
        (Some(Ok(p)), _) => FirmwareSource::Prebuilt(p),
        (_, Some(Ok(b))) => FirmwareSource::Build(b),
        (Some(Err((fw, fw_err))), Some(Err((src, src_err)))) => {
            FirmwareSource::Unavailable(match (unset_var(&src_err), unset_var(&fw_err)) {
                (Some(s), Some(f)) => {
                    format!("set {s} to a MicroPython checkout, or {f} to a prebuilt image")
                }
                _ => format!("build.source `{src}`: {src_err}; qemu.firmware `{fw}`: {fw_err}"),
            })
        }
        (None, Some(Err((src, e)))) => FirmwareSource::Unavailable(match unset_var(&e) {
            Some(var) => format!("set {var} to a MicroPython checkout"),
            None => format!("build.source `{src}`: {e}"),
        }),
        (Some(Err((fw, e))), None) => {
            FirmwareSource::Unavailable(format!("qemu.firmware: {e} (used in `{fw}`)"))
        }
        (None, None) => FirmwareSource::Missing,
    }
}

/// A make variable given to a firmware build (`build.args`, `--head-build-arg`):
/// `NAME=value`, not one mpcheck sets, and a value make and the recipes' shell take
/// literally. `$` would be expanded by make (`$(shell …)`, `$(file >…)`), and quotes,
/// `;`, `|`, `&`, `<`, `>`, backquotes and the like reach `/bin/sh` inside recipes
/// (`CFLAGS_EXTRA=-O2; rm …`), so a board file could run anything or write anywhere.
pub fn check_make_variable(arg: &str) -> std::result::Result<(), String> {
    let Some((name, value)) = arg.split_once('=') else {
        return Err(format!("`{arg}` is not a make variable (`NAME=value`)"));
    };
    let is_variable = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_variable {
        return Err(format!("`{arg}` is not a make variable (`NAME=value`)"));
    }
    if RESERVED_VARIABLES.contains(&name) {
        return Err(format!(
            "`{name}` is set by mpcheck (the build is out of tree, with the tree's own mpy-cross)"
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || " _-=.,/+:@%".contains(c)))
    {
        return Err(format!(
            "`{arg}`: `{}` in a value would be read by make or the shell, not passed on \
             (values may hold letters, digits, spaces and `_-=.,/+:@%`)",
            c.escape_default()
        ));
    }
    Ok(())
}

/// Checks a `build:` section's values; its source path is expanded (an unset variable
/// is the inner `Err`: the board is then unavailable, which is not a file error).
pub(crate) fn check_build(
    path: &Path,
    text: &str,
    dir: &Path,
    raw: RawBuild,
) -> Result<std::result::Result<BuildSpec, (String, EnvError)>> {
    let bad = |message: String| Error::config(path, line_of(text, "build"), message);
    let (board, select) = match (raw.board, raw.variant) {
        (Some(b), None) => (b, Select::Board),
        (None, Some(v)) => (v, Select::Variant),
        _ => {
            return Err(bad(
                "build: give `board` (BOARD= of the port's Makefile) or `variant` (VARIANT=, the unix port), one of them".into(),
            ));
        }
    };
    // Port and board become path components under ports/ and the cache dir.
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !is_name(&raw.port) || !is_name(&board) {
        return Err(bad(format!(
            "build: port `{}` and {} `{board}` must be plain names (letters, digits, `_`, `-`)",
            raw.port,
            select.variable().to_lowercase()
        )));
    }
    for arg in &raw.args {
        check_make_variable(arg).map_err(|m| bad(format!("build.args: {m}")))?;
    }
    let image = raw.image.unwrap_or_else(|| default_image(&raw.port).into());
    if image.is_empty() || Path::new(&image).is_absolute() || image.split('/').any(|c| c == "..") {
        return Err(bad(format!(
            "build.image: `{image}` must be a path inside the build dir"
        )));
    }
    Ok(match expand_path(dir, &raw.source) {
        Ok(source) => Ok(BuildSpec {
            source,
            compiler: raw
                .compiler
                .unwrap_or_else(|| default_compiler(&raw.port).into()),
            packages: raw.packages.unwrap_or_else(|| {
                default_packages(&raw.port)
                    .iter()
                    .map(|p| p.to_string())
                    .collect()
            }),
            port: raw.port,
            board,
            select,
            args: raw.args,
            image,
        }),
        Err(e) => Err(e),
    })
}
