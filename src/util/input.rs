//! Reading input mpcheck does not control: every file of the project (cases, board
//! files, goldens, known differences), the stores it keeps between runs (pending golden
//! changes, results) and what a checkout hands it. Such a file may be a FIFO or a link to
//! `/dev/zero` (which would hang a plain read), huge, or nested so deep that a parser
//! spends minutes on it; so it is opened only if it is a regular file, read only up to a
//! size cap, and YAML or JSON is parsed only after its nesting was bounded by a linear
//! scan. Each refusal names the file (and the line, where there is one).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::util::error::{Error, Result};

/// Size caps by what a file is. Generous for real use (the largest upstream test is
/// under 100 KB, goldens hold at most one captured output, 1 MiB) and small enough that
/// reading and parsing one costs milliseconds.
pub mod cap {
    const MIB: u64 = 1 << 20;
    /// A case or test source file.
    pub const SOURCE: u64 = 8 * MIB;
    /// A case's settings header (the YAML between its `# ---` fences).
    pub const HEADER: u64 = 64 * 1024;
    /// A board file, a heap golden, a known-differences file, a flash record.
    pub const CONFIG: u64 = MIB;
    /// An output or bytecode golden, an `.exp` file: a captured output is at most 1 MiB
    /// (`OUTPUT_CAP`), and goldens are made from outputs.
    pub const GOLDEN: u64 = 4 * MIB;
    /// One pending golden change: the new golden, hex-encoded, and its fields.
    pub const PENDING: u64 = 2 * GOLDEN + 64 * 1024;
    /// A firmware image to flash (the largest flash of a supported chip is 16 MiB; an
    /// ELF with debug information is larger).
    pub const IMAGE: u64 = 256 * MIB;
    /// A checkout's run-tests.py (v1.28.0's is 60 KB).
    pub const RUN_TESTS: u64 = 4 * MIB;
    /// A run's `results.json` (read by `--rerun-failed`).
    pub const RESULTS: u64 = 512 * MIB;
}

/// How deep YAML or JSON may nest: the deepest real file is a board file at 4 levels.
/// Deeper input is refused before the parser sees it (`yaml_serde` takes quadratic time
/// in the depth of flow collections: 100 000 `[` cost 53 s).
pub const MAX_DEPTH: usize = 64;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{}", crate::util::error::io_text(.0))]
    Io(#[from] std::io::Error),
    #[error("not a regular file (it is {0}): mpcheck reads only regular files here")]
    NotRegular(&'static str),
    #[error("{size} bytes, more than the {cap} bytes a {what} may have")]
    TooLarge {
        size: u64,
        cap: u64,
        what: &'static str,
    },
}

/// The error for a refused file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {refusal}", path.display())]
pub struct Refused {
    pub path: PathBuf,
    pub refusal: Refusal,
}

impl From<Refused> for Error {
    fn from(e: Refused) -> Error {
        Error::part(e)
    }
}

fn kind_name(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// The bytes of a regular file of at most `cap` bytes (`what` names it in the error).
/// Symbolic links are followed, but what they lead to must be a regular file; the file is
/// opened non-blocking, so a FIFO put in its place after the check cannot hang the read.
pub fn read(path: &Path, cap: u64, what: &'static str) -> Result<Vec<u8>, Refused> {
    use std::os::unix::fs::OpenOptionsExt;
    let refused = |refusal| Refused {
        path: path.to_path_buf(),
        refusal,
    };
    let io = |e: std::io::Error| refused(Refusal::Io(e));
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(refused(Refusal::NotRegular(kind_name(meta.file_type()))));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(refused(Refusal::NotRegular(kind_name(meta.file_type()))));
    }
    let too_large = |size| refused(Refusal::TooLarge { size, cap, what });
    if meta.len() > cap {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        // It grew while being read.
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read`], `None` when the file does not exist.
pub fn read_if_exists(
    path: &Path,
    cap: u64,
    what: &'static str,
) -> Result<Option<Vec<u8>>, Refused> {
    match read(path, cap, what) {
        Err(Refused {
            refusal: Refusal::Io(e),
            ..
        }) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        other => other.map(Some),
    }
}

/// [`read`] as UTF-8 text; bytes that are not are an error naming the line.
pub fn read_text(path: &Path, cap: u64, what: &'static str) -> Result<String> {
    let bytes = read(path, cap, what).map_err(Error::from)?;
    utf8(bytes).map_err(|e| Error::config(path, e.line, e.to_string()))
}

/// Bytes that are not UTF-8: where the first bad one is.
#[derive(Debug, thiserror::Error)]
#[error("not UTF-8 (at byte offset {offset})")]
pub struct NotUtf8 {
    pub line: usize,
    pub offset: usize,
}

/// `bytes` as text, or the line and offset of the first byte that is not UTF-8.
pub fn utf8(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        NotUtf8 { line, offset }
    })
}

/// Parses YAML from `path` (`first_line`: the file line the text starts on) after
/// bounding its size and nesting.
pub fn yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    first_line: usize,
    text: &str,
) -> Result<T> {
    check_depth(path, first_line, text)?;
    yaml_serde::from_str(text).map_err(|e| yaml_error(path, first_line, text, &e))
}

/// A `yaml_serde` error located in `path`. A message our own deserializers give
/// (`timeout: …`) has no position of its own: it is put on the line of its key.
pub fn yaml_error(path: &Path, first_line: usize, text: &str, err: &yaml_serde::Error) -> Error {
    let located = Error::yaml(path, first_line, err);
    let Error::Config {
        file,
        line,
        message,
    } = located
    else {
        return located;
    };
    let key_line = message.split_once(": ").and_then(|(key, _)| {
        let key = key.trim();
        (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then(|| {
                text.lines().position(|l| {
                    l.trim_start()
                        .strip_prefix(key)
                        .is_some_and(|r| r.starts_with(':'))
                })
            })
            .flatten()
    });
    match key_line {
        Some(n) if err.location().is_none_or(|l| l.line() == 1) => {
            Error::config(file, first_line + n, message)
        }
        _ => Error::Config {
            file,
            line,
            message,
        },
    }
}

/// Refuses YAML or JSON that nests deeper than [`MAX_DEPTH`], naming the line where it
/// does. A linear scan that over-approximates: block levels by indentation and `- `
/// prefixes, flow levels by `[` and `{` outside quoted scalars, comments and block
/// scalars (`|`, `>`).
pub fn check_depth(path: &Path, first_line: usize, text: &str) -> Result<()> {
    match deepest(text) {
        Some(line) => Err(Error::config(
            path,
            first_line + line,
            format!("nested more than {MAX_DEPTH} levels deep: not a file mpcheck reads"),
        )),
        None => Ok(()),
    }
}

/// The 0-based line where nesting first passes [`MAX_DEPTH`], if it does.
fn deepest(text: &str) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<char> = None;
    // Inside a block scalar: the indentation of the line that opened it.
    let mut block_scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let body = line[indent..].trim_end();
        if let Some(opener) = block_scalar {
            if body.is_empty() || indent > opener {
                continue;
            }
            block_scalar = None;
        }
        if quote.is_none() && flow == 0 {
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&top| top < indent) {
                indents.push(indent);
            }
        }
        let mut dashes = 0;
        let mut rest = body;
        while quote.is_none() && flow == 0 && (rest == "-" || rest.starts_with("- ")) {
            dashes += 1;
            rest = rest[1..].trim_start();
        }
        if indents.len() + dashes > MAX_DEPTH {
            return Some(n);
        }
        let mut previous = ' ';
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some('\'') if c == '\'' && chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if previous.is_whitespace() => break,
                    '"' | '\'' if previous.is_whitespace() || "[{,:".contains(previous) => {
                        quote = Some(c)
                    }
                    '[' | '{' => {
                        flow += 1;
                        if indents.len() + dashes + flow > MAX_DEPTH {
                            return Some(n);
                        }
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            previous = c;
        }
        if quote.is_none() && flow == 0 {
            // `key: |`, `- >-`, `key: |2+`: the lines after are text, not structure.
            let tail = rest.trim_end();
            let last = tail.rsplit(' ').next().unwrap_or("");
            let before = tail[..tail.len() - last.len()].trim_end();
            if last.starts_with(['|', '>'])
                && last[1..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
                && (before.is_empty() || before.ends_with(':'))
            {
                block_scalar = Some(indent);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_and_block_nesting_is_found_on_its_line() {
        let flow = format!("a: 1\nx: {}\n", "[".repeat(100_000));
        assert_eq!(deepest(&flow), Some(1));
        let block: String = (0..100).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(deepest(&block), Some(MAX_DEPTH));
        let dashes = format!("{}x\n", "- ".repeat(100));
        assert_eq!(deepest(&dashes), Some(0));
    }

    #[test]
    fn brackets_in_strings_comments_and_block_scalars_do_not_count() {
        let deep = "[".repeat(200);
        for text in [
            format!("a: \"{deep}\"\n"),
            format!("a: '{deep}'\n"),
            format!("a: 'it''s {deep}'\n"),
            format!("a: 1 # {deep}\n"),
            format!("a: |\n  {deep}\nb: 2\n"),
            format!("a: >-\n  {deep}\n\n  more\nb: [1, [2]]\n"),
            "boards: [unix, {kind: x}]\nmodes:\n  - source\n  - mpy\n".to_string(),
        ] {
            assert_eq!(deepest(&text), None, "{text}");
        }
        // A bracket left open after a block scalar ends counts again.
        assert_eq!(deepest(&format!("a: |\n  x\nb: {deep}\n")), Some(2));
    }

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "kind: unix\n").unwrap();
        assert_eq!(read(&file, 100, "board file").unwrap(), b"kind: unix\n");
        let err = read(&file, 4, "board file").unwrap_err().to_string();
        assert!(
            err.ends_with("a.yaml: 11 bytes, more than the 4 bytes a board file may have"),
            "{err}"
        );
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let err = read(&zero, 100, "board file").unwrap_err().to_string();
        assert!(
            err.contains("zero.yaml: not a regular file (it is a character device)"),
            "{err}"
        );
        let fifo = dir.path().join("fifo.yaml");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo takes a NUL-terminated path and a mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read(&fifo, 100, "board file").unwrap_err().to_string();
        assert!(
            err.contains("fifo.yaml: not a regular file (it is a FIFO)"),
            "{err}"
        );
        assert!(
            read_if_exists(&dir.path().join("none"), 100, "x")
                .unwrap()
                .is_none()
        );
    }
}
