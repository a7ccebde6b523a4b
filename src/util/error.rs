//! Harness errors (configuration, environment, I/O) and the process exit codes.
//!
//! A failing, crashing or hanging case is never an `Error`: it is a verdict. `Error` is
//! for the harness itself, and every variant carries what a user needs to act on it.

use std::path::{Path, PathBuf};

/// Exit codes, defined once: 0 all pass/skip, 1 any fail/timeout/crash/error verdict,
/// 2 configuration or environment error (the run could not be made as asked),
/// 130 interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILURES: i32 = 1;
    pub const CONFIG: i32 = 2;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input in a file the user wrote: names the file, the line and what is wrong.
    #[error("{}:{line}: {message}", file.display())]
    Config {
        file: PathBuf,
        line: usize,
        message: String,
    },
    /// A tool is missing or could not be installed; the message says what to install.
    #[error("{0}")]
    Toolchain(String),
    #[error("{}: {}", path.display(), io_text(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A part of the harness failed with its own error type, kept whole behind the box
    /// (a build from a MicroPython tree, a file refused by `input`, a checkout's tests/,
    /// a board's probe section, the history): its message names the file or place and
    /// what to do, and `downcast_ref` finds the type again. Each part converts its error
    /// with `From`, so this file names none of them: every module may use `Error`
    /// without the error module reaching back up into theirs.
    #[error(transparent)]
    Part(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A board that could not be held, flashed or loaded: names the board and the file
    /// (its board file, or the image it was loading), and keeps the cause's type.
    #[error("board `{board}` ({}): {source}", path.display())]
    Board {
        board: String,
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file whose content is wrong in a way its own type says (a `.mpy` that does not
    /// decode): names the file; the cause says where.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A usage problem the user can fix on the command line.
    #[error("{0}")]
    Usage(String),
    /// Several problems found at once (every bad board file, say), one a line.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
    /// Ctrl-C or SIGTERM stopped the command (after it wrote what it could, as said).
    #[error("{0}")]
    Interrupted(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Interrupted(_) => exit::INTERRUPTED,
            Error::Config { .. }
            | Error::Toolchain(_)
            | Error::Io { .. }
            | Error::Usage(_)
            | Error::Part(_)
            | Error::Board { .. }
            | Error::File { .. }
            | Error::Many(_) => exit::CONFIG,
        }
    }
}

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// None, one, or all of `errors` (in their order).
    pub fn all(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Many(errors)),
        }
    }

    /// A board's failure, named with the board and `path`, its cause kept.
    pub fn board(
        board: &str,
        path: impl AsRef<Path>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Board {
            board: board.to_string(),
            path: path.as_ref().to_path_buf(),
            source: Box::new(source),
        }
    }

    /// A part's own error, kept whole ([`Error::Part`]).
    pub fn part(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Part(Box::new(e))
    }

    pub fn config(file: impl AsRef<Path>, line: usize, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.as_ref().to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A YAML error from `yaml_serde`, located in `file`; `first_line` is the file line on
    /// which the YAML document starts (case headers sit inside comments).
    pub fn yaml(file: impl AsRef<Path>, first_line: usize, err: &yaml_serde::Error) -> Self {
        let line = err
            .location()
            .map_or(first_line, |l| first_line + l.line() - 1);
        // yaml_serde appends " at line N column M" for the document's own numbering,
        // which is wrong for headers embedded in a file: keep only the message.
        let text = err.to_string();
        let message = match text.find(" at line ") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        Error::config(file, line, with_suggestion(message))
    }
}

/// serde's "unknown field `timout`, expected one of `kind`, `timeout`, …" (and the
/// same for variants) with the nearest of the expected names suggested.
fn with_suggestion(message: String) -> String {
    let Some((head, expected)) = message.split_once(", expected one of ") else {
        return message;
    };
    let Some(word) = head.rsplit('`').nth(1) else {
        return message;
    };
    let names: Vec<&str> = expected.split(", ").map(|n| n.trim_matches('`')).collect();
    let hint = crate::util::suggest::did_you_mean(word, names);
    if hint.is_empty() {
        return message;
    }
    format!("{head}{hint} (expected one of {expected})")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An I/O error as a person reads it: the system's words without Rust's `(os error 2)`
/// suffix, which says nothing the words do not ("No such file or directory").
pub fn io_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_io_error_reads_without_its_os_error_number() {
        let e = super::Error::io("/no/such/boards", std::io::Error::from_raw_os_error(2));
        assert_eq!(e.to_string(), "/no/such/boards: No such file or directory");
        let custom = std::io::Error::other("the pipe closed");
        assert_eq!(super::io_text(&custom), "the pipe closed");
    }

    #[test]
    fn a_misspelt_key_is_suggested() {
        let m = super::with_suggestion(
            "unknown field `timout`, expected one of `kind`, `timeout`, `modes`".into(),
        );
        assert_eq!(
            m,
            "unknown field `timout`; did you mean `timeout`? (expected one of `kind`, `timeout`, `modes`)"
        );
        let far = "unknown field `zzz`, expected one of `kind`".to_string();
        assert_eq!(super::with_suggestion(far.clone()), far);
    }
}
