//! The frozen variant of a source-built board's firmware: a run's `.mpy` files frozen in
//! through a manifest mpcheck writes, cached by what is frozen.
//!
//! ```text
//! <firmware dir>.frozen/
//!     work/            the variant's own build dir, seeded once from the plain build's
//!                      objects: a new manifest recompiles frozen_content.c and links
//!     stage/           the .mpy files the manifest freezes (rewritten for every build)
//!     manifest.py      FROZEN_MANIFEST
//!     images/<key>/    finished images, keyed by (plain firmware, manifest, files)
//! ```
//!
//! A failed build removes `work/` (a build that failed half-way can link wrongly); the
//! next one seeds it again. A lock file keeps two mpchecks out of `work/` at once.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{
    Artifact, BuildError, BuildProgress, BuildSpec, Built, STAMP, firmware_make, hex, is_complete,
    run_make, sibling,
};

/// Bump when the way the frozen variant is built changes.
const FROZEN_RECIPE: &str = "mpcheck frozen build 1";

/// Finished images kept per plain firmware: enough for a few selections run in turn
/// (each image is a few hundred KB), without growing forever.
const KEPT_IMAGES: usize = 8;

/// One `.mpy` to freeze, at `name` under the stage dir (its frozen module path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrozenFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The frozen image, and whether this call built it (and how long that took).
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenBuilt {
    pub firmware: PathBuf,
    pub built_in: Option<Duration>,
}

/// The manifest freezing `files` from `stage`, after `preamble` (the port's own
/// entries: see `port::frozen_preamble`).
fn manifest(preamble: &str, stage: &Path, files: &[FrozenFile]) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let names: Vec<String> = files.iter().map(|f| quote(&f.name)).collect();
    format!(
        "# Written by mpcheck: the cases of one run, frozen (see src/firmware_build/frozen.rs).\n\
         {preamble}freeze_mpy({}, ({},))\n",
        quote(&stage.to_string_lossy()),
        names.join(", ")
    )
}

/// The cache key of a frozen image: the plain firmware's build dir (itself keyed by
/// tree, args and toolchain), the manifest, and every frozen file's name and bytes.
fn key(built: &Built, manifest: &str, files: &[FrozenFile]) -> String {
    let mut h = Sha256::new().chain_update(format!(
        "{FROZEN_RECIPE}\0{}\0{manifest}\0",
        built.firmware_dir.display()
    ));
    for f in files {
        h.update(f.name.as_bytes());
        h.update([0]);
        h.update(&f.bytes);
        h.update([0]);
    }
    hex(&h.finalize())
}

/// Builds (or finds cached) the firmware with `files` frozen in.
pub(crate) fn build_frozen(
    spec: &BuildSpec,
    file: &Path,
    built: &Built,
    files: &[FrozenFile],
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<FrozenBuilt, BuildError> {
    let artifact = Artifact::FrozenFirmware;
    let io = |what, path: &Path| BuildError::io(file, artifact, what, path);
    let root = sibling(&built.firmware_dir, "frozen");
    let stage = root.join("stage");
    let text = manifest(&super::port::frozen_preamble(spec), &stage, files);
    let image_dir = root.join("images").join(&key(built, &text, files)[..16]);
    let image = image_dir.join(&spec.image);
    if is_complete(&image_dir) {
        progress(BuildProgress::Cached {
            artifact,
            path: image.clone(),
        });
        return Ok(FrozenBuilt {
            firmware: image,
            built_in: None,
        });
    }
    std::fs::create_dir_all(&root).map_err(io("create", &root))?;
    let lock_path = root.join("work.lock");
    let lock = File::create(&lock_path).map_err(io("create", &lock_path))?;
    lock.lock().map_err(io("lock", &lock_path))?;
    if is_complete(&image_dir) {
        return Ok(FrozenBuilt {
            firmware: image,
            built_in: None,
        });
    }
    let start = Instant::now();
    let work = root.join("work");
    if !work.join(STAMP).is_file() {
        seed(&built.firmware_dir, &work).map_err(io("seed from the plain build", &work))?;
    }
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(io("remove", &stage))?;
    }
    for f in files {
        let path = stage.join(&f.name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        std::fs::write(&path, &f.bytes).map_err(io("write", &path))?;
    }
    let manifest_path = root.join("manifest.py");
    std::fs::write(&manifest_path, &text).map_err(io("write", &manifest_path))?;
    // makemanifest.py regenerates only when an input is newer than its output; a file
    // dropped from the manifest is not, so the output goes first.
    let generated = work.join("frozen_content.c");
    if generated.exists() {
        std::fs::remove_file(&generated).map_err(io("remove", &generated))?;
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut make = firmware_make(spec, &built.mpy_cross, jobs);
    make.arg(format!("FROZEN_MANIFEST={}", manifest_path.display()));
    progress(BuildProgress::Started {
        artifact,
        dir: work.clone(),
        jobs,
    });
    if let Err(e) = run_make(artifact, make, &work, &spec.image, file) {
        // Half-built objects can link wrongly: the next build starts from the seed.
        let _ = std::fs::remove_dir_all(&work);
        return Err(e);
    }
    let tmp = sibling(&image_dir, "tmp");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io("remove", &tmp))?;
    }
    let tmp_image = tmp.join(&spec.image);
    if let Some(dir) = tmp_image.parent() {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    }
    std::fs::copy(work.join(&spec.image), &tmp_image).map_err(io("copy", &tmp_image))?;
    let elapsed = start.elapsed();
    let stamp = format!(
        "{FROZEN_RECIPE}\n{text}built in {:.1} s\n",
        elapsed.as_secs_f64()
    );
    std::fs::write(tmp.join(STAMP), stamp).map_err(io("write", &tmp))?;
    std::fs::rename(&tmp, &image_dir).map_err(io("rename into place", &tmp))?;
    prune(&root.join("images"), KEPT_IMAGES);
    progress(BuildProgress::Finished {
        artifact,
        path: image.clone(),
        elapsed,
    });
    Ok(FrozenBuilt {
        firmware: image,
        built_in: Some(elapsed),
    })
}

/// Copies the plain build dir to `work` with its timestamps (`cp -a`), so make finds
/// every object up to date and rebuilds only what the manifest changes; its stamp marks
/// the seed complete.
/// Copied beside `work` and renamed into place: an interrupted copy is never taken for
/// a seed.
fn seed(plain: &Path, work: &Path) -> std::io::Result<()> {
    let tmp = sibling(work, "tmp");
    for dir in [work, tmp.as_path()] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
    }
    let status = Command::new("cp").arg("-a").arg(plain).arg(&tmp).status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("cp -a failed ({status})")));
    }
    std::fs::rename(&tmp, work)
}

/// Removes all but the `keep` most recently built images (a cache: a removed one is
/// rebuilt when needed). Failures only cost disk space.
fn prune(images: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(images) else {
        return;
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| is_complete(&e.path()))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    dirs.sort();
    let extra = dirs.len().saturating_sub(keep);
    for (_, dir) in dirs.into_iter().take(extra) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(bytes: &[u8]) -> Vec<FrozenFile> {
        vec![
            FrozenFile {
                name: "mpcheck/heap/_q.mpy".into(),
                bytes: bytes.to_vec(),
            },
            FrozenFile {
                name: "mpcheck/heap/_h.mpy".into(),
                bytes: b"M".to_vec(),
            },
        ]
    }

    #[test]
    fn the_manifest_freezes_every_file_and_keeps_unittest() {
        let text = manifest(
            "require(\"unittest\")\n",
            Path::new("/s/stage"),
            &files(b"M"),
        );
        assert_eq!(
            text.lines().skip(1).collect::<Vec<_>>(),
            [
                "require(\"unittest\")",
                "freeze_mpy(\"/s/stage\", (\"mpcheck/heap/_q.mpy\", \"mpcheck/heap/_h.mpy\",))"
            ]
        );
    }

    #[test]
    fn the_key_changes_with_any_frozen_byte_and_the_plain_firmware() {
        let built = |dir: &str| Built {
            firmware: PathBuf::from("f"),
            mpy_cross: PathBuf::from("m"),
            firmware_dir: PathBuf::from(dir),
        };
        let base = key(&built("a"), "m", &files(b"M1"));
        assert_eq!(base, key(&built("a"), "m", &files(b"M1")));
        assert_ne!(base, key(&built("a"), "m", &files(b"M2")));
        assert_ne!(base, key(&built("b"), "m", &files(b"M1")));
        assert_ne!(base, key(&built("a"), "n", &files(b"M1")));
    }
}
