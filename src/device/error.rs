//! Errors of the board layer: what went wrong, on which board, doing what.

use std::io;
use std::time::Duration;

use super::rung::Rung;

impl From<crate::boardfile::config::ConfigError> for BoardError {
    fn from(e: crate::boardfile::config::ConfigError) -> Self {
        BoardError::Config(e.0)
    }
}

/// An error the harness cannot turn into a case verdict: the board is unusable or
/// misconfigured. (A failing, crashing or hanging case is a `CaseRun`, not an error.)
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("invalid board config: {0}")]
    Config(String),
    #[error(
        "cannot open console {console}: {}",
        crate::util::error::io_text(source)
    )]
    Open {
        console: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "i/o error on {console} while {doing}: {}",
        crate::util::error::io_text(source)
    )]
    Io {
        console: String,
        doing: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{console}: no answer within {waited:?} while {doing} (last bytes: {last:?})")]
    Timeout {
        console: String,
        doing: &'static str,
        waited: Duration,
        last: String,
    },
    #[error(
        "{console}: input is being lost on the link, in chunks of {chunk_bytes} bytes and \
         again of {slow_chunk_bytes} ({evidence}); lower `pacing.chunk_bytes` or raise \
         `pacing.pause_ms` in the board file"
    )]
    CorruptedUpload {
        console: String,
        chunk_bytes: usize,
        slow_chunk_bytes: usize,
        /// How the loss showed: what the board said, or that it never acknowledged.
        evidence: String,
    },
    #[error("{console}: board is dead after trying {tried:?}: {cause}")]
    Dead {
        console: String,
        tried: Vec<Rung>,
        cause: String,
    },
    #[error("{console}: {what} is not possible on this board: {why}")]
    Unsupported {
        console: String,
        what: &'static str,
        why: String,
    },
}

/// Show the last bytes of a buffer in a message, escaped.
pub(crate) fn tail(bytes: &[u8]) -> String {
    // 80 bytes is enough to see the last line or banner the board printed.
    let start = bytes.len().saturating_sub(80);
    String::from_utf8_lossy(&bytes[start..].escape_ascii().collect::<Vec<u8>>()).into_owned()
}
