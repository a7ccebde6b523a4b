//! A board file's debug-probe section, checked once on first use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::hw::flash::probe_section::{FlashConfigError, ProbeBoard, RawProbeSection};

/// A board file's `probe:` section: as written, and checked against the chip database
/// once, on first use (loading a board file stays fast: `mpcheck list` never opens the
/// chip database), then kept.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    pub raw: RawProbeSection,
    file: PathBuf,
    checked: Arc<OnceLock<Result<ProbeBoard, Arc<FlashConfigError>>>>,
}

impl ProbeSpec {
    pub fn new(raw: RawProbeSection, file: &Path) -> ProbeSpec {
        ProbeSpec {
            raw,
            file: file.to_path_buf(),
            checked: Default::default(),
        }
    }

    /// The checked section: chip looked up, firmware read and shown to fit. The error
    /// is shared (checked once, reported by every board that uses it).
    pub fn checked(&self) -> Result<&ProbeBoard, Arc<FlashConfigError>> {
        self.checked
            .get_or_init(|| {
                crate::hw::flash::probe_section::validate(self.raw.clone(), &self.file)
                    .map_err(Arc::new)
            })
            .as_ref()
            .map_err(Arc::clone)
    }
}
