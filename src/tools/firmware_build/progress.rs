//! What a build tells as it goes, and why it failed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Which artifact a progress line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifact {
    MpyCross,
    Firmware,
    /// The firmware with a run's cases frozen in.
    FrozenFirmware,
}

impl fmt::Display for Artifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Artifact::MpyCross => "mpy-cross",
            Artifact::Firmware => "firmware",
            Artifact::FrozenFirmware => "frozen firmware",
        })
    }
}

/// One stage of a build, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildProgress {
    /// The tree was hashed and the caches looked up (how long that took).
    Checked {
        source: PathBuf,
        hits: Vec<Artifact>,
        elapsed: Duration,
    },
    /// make started for an artifact, into `dir`.
    Started {
        artifact: Artifact,
        dir: PathBuf,
        jobs: usize,
    },
    /// The artifact was already in the cache: nothing built.
    Cached { artifact: Artifact, path: PathBuf },
    /// make finished and the artifact is in the cache.
    Finished {
        artifact: Artifact,
        path: PathBuf,
        elapsed: Duration,
    },
}

impl fmt::Display for BuildProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildProgress::Checked {
                source,
                hits,
                elapsed,
            } => {
                let cached = match hits.as_slice() {
                    [] => "nothing cached".to_string(),
                    h => {
                        let names: Vec<String> = h.iter().map(ToString::to_string).collect();
                        format!("cached: {}", names.join(", "))
                    }
                };
                write!(
                    f,
                    "build from {}: {cached} (checked in {:.3} s)",
                    source.display(),
                    elapsed.as_secs_f64()
                )
            }
            BuildProgress::Started {
                artifact,
                dir,
                jobs,
            } => write!(
                f,
                "building {artifact} (make -j{jobs}) in {}",
                dir.display()
            ),
            BuildProgress::Cached { artifact, path } => {
                write!(f, "{artifact} cached: {}", path.display())
            }
            BuildProgress::Finished {
                artifact,
                path,
                elapsed,
            } => write!(
                f,
                "built {artifact} in {:.1} s: {}",
                elapsed.as_secs_f64(),
                path.display()
            ),
        }
    }
}

/// Why a board's firmware could not be built. Every variant names the board file.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{}: build.source {}: {why}", file.display(), tree.display())]
    Source {
        file: PathBuf,
        tree: PathBuf,
        why: String,
    },
    #[error("{}: building {artifact} failed: `{command}` {status}:\n{}\n(full log: {})",
        file.display(), lines.join("\n"), log.display())]
    Make {
        file: PathBuf,
        artifact: Artifact,
        command: String,
        status: String,
        /// The build's own error lines (or its last lines when it printed none).
        lines: Vec<String>,
        log: PathBuf,
    },
    #[error("{}: building {artifact}: {what} {}: {error}", file.display(), path.display())]
    Io {
        file: PathBuf,
        artifact: Artifact,
        what: &'static str,
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{}: {message}", file.display())]
    Toolchain { file: PathBuf, message: String },
}

impl From<BuildError> for crate::util::error::Error {
    fn from(e: BuildError) -> Self {
        crate::util::error::Error::part(e)
    }
}

impl BuildError {
    /// For `map_err`: step `what` on `path` failed while building `artifact` for the
    /// board file `file`.
    pub(crate) fn io(
        file: &std::path::Path,
        artifact: Artifact,
        what: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> BuildError + use<> {
        let (file, path) = (file.to_path_buf(), path.to_path_buf());
        move |error| BuildError::Io {
            file,
            artifact,
            what,
            path,
            error,
        }
    }
}
