//! What was last flashed to each board (the image's content hash and its path), so a run
//! flashes only when the firmware changed, and the pure decision with the line the run
//! log shows.

use std::path::{Path, PathBuf};

/// What a run did about a board's firmware, for the reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FlashReport {
    pub board: String,
    pub image: PathBuf,
    pub flashed: bool,
    /// Why (the run log's line).
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erase_ms: Option<u128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_ms: Option<u128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_ms: Option<u128>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<u128>,
    /// The image's text/data/bss, when it is an ELF (a `.hex` or `.bin` has no sections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<crate::tools::firmware_build::size::ImageSize>,
}

impl FlashReport {
    /// An image the run did not flash (or has yet to), with why and its size: the timings
    /// come when a flash is done.
    pub fn unflashed(
        board: String,
        image: PathBuf,
        reason: String,
        size: Option<crate::tools::firmware_build::size::ImageSize>,
    ) -> FlashReport {
        FlashReport {
            board,
            image,
            flashed: false,
            reason,
            backend: None,
            bytes: None,
            erase_ms: None,
            program_ms: None,
            verify_ms: None,
            total_ms: None,
            size,
        }
    }
}

fn record_path(state_dir: &Path, board: &str) -> PathBuf {
    state_dir.join("flashed").join(format!("{board}.sha256"))
}

/// What a board was last flashed with: (content hash, image path).
pub fn last_flashed(state_dir: &Path, board: &str) -> Option<(String, String)> {
    let path = record_path(state_dir, board);
    let bytes =
        crate::util::input::read(&path, crate::util::input::cap::CONFIG, "flash record").ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (hash, path) = text.trim_end().split_once(' ')?;
    Some((hash.to_string(), path.to_string()))
}

pub fn record_flashed(
    state_dir: &Path,
    board: &str,
    hash: &str,
    image: &Path,
) -> crate::util::error::Result<()> {
    crate::util::fsutil::write_atomic(
        &record_path(state_dir, board),
        format!("{hash} {}\n", image.display()).as_bytes(),
    )
}

/// Whether to flash (a new image, or the same bytes from another path: the user pointed
/// the board elsewhere and expects it used), and the log line saying why.
pub fn decide(
    board: &str,
    image: &Path,
    hash: &str,
    last: Option<&(String, String)>,
) -> (bool, String) {
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let path = image.display().to_string();
    match last {
        Some((h, p)) if *h == hash && *p == path => (
            false,
            format!(
                "board `{board}`: firmware {path} unchanged since the last flash (sha256 {}): not flashing",
                short(hash)
            ),
        ),
        Some((h, p)) if *h == hash => (
            true,
            format!("board `{board}`: firmware path changed ({p} → {path}): flashing"),
        ),
        Some((h, _)) => (
            true,
            format!(
                "board `{board}`: firmware {path} (sha256 {}) differs from the last flashed (sha256 {}): flashing",
                short(hash),
                short(h)
            ),
        ),
        None => (
            true,
            format!(
                "board `{board}`: firmware {path} (sha256 {}) never flashed here: flashing",
                short(hash)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flashes_a_changed_image_or_path_only() {
        let fw = Path::new("/fw.hex");
        let last = ("abc".to_string(), "/fw.hex".to_string());
        let (flash, line) = decide("mb", fw, "abc", Some(&last));
        assert!(!flash && line.contains("unchanged"), "{line}");
        let (flash, line) = decide("mb", fw, "def", Some(&last));
        assert!(
            flash && line.contains("differs from the last flashed (sha256 abc)"),
            "{line}"
        );
        let (flash, line) = decide("mb", Path::new("/other.hex"), "abc", Some(&last));
        assert!(
            flash && line.contains("path changed (/fw.hex → /other.hex)"),
            "{line}"
        );
        assert!(decide("mb", fw, "abc", None).0);
    }

    #[test]
    fn record_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(last_flashed(dir.path(), "mb"), None);
        record_flashed(dir.path(), "mb", "abc", Path::new("/fw b.hex")).unwrap();
        assert_eq!(
            last_flashed(dir.path(), "mb"),
            Some(("abc".into(), "/fw b.hex".into()))
        );
    }
}
