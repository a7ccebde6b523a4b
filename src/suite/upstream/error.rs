//! Why a tests directory cannot be used.

use std::path::PathBuf;

use super::pyread;

/// Why a tests directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{}: {}", path.display(), crate::util::error::io_text(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Read(#[from] pyread::ReadError),
    #[error(transparent)]
    Unreadable(#[from] crate::util::input::Refused),
    #[error("{}: not a MicroPython tests/ directory (no run-tests.py in it)", .0.display())]
    NotTests(PathBuf),
    /// A test file that could not be loaded as a case (names the file).
    #[error(transparent)]
    Case(Box<crate::util::error::Error>),
}

impl From<UpstreamError> for crate::util::error::Error {
    fn from(e: UpstreamError) -> Self {
        crate::util::error::Error::part(e)
    }
}
