//! CPython's output as the expected output of cases without a golden file, cached on disk
//! by (case content, case path, CPython version) so CPython does not run again on every
//! run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::model::case::{Case, CaseId, Mode};
use crate::model::outcome::Status;
use crate::targets::{RunRequest, SuiteRun, Target};
use crate::tools::compile::hex;

/// Why 30 s: the reference runs once per case and version; it is upstream's own limit.
const REFERENCE_TIMEOUT: Duration = Duration::from_secs(30);

/// Per case, the reference computed at most once in this process.
type Memo = Mutex<HashMap<CaseId, Arc<OnceLock<Result<Vec<u8>, String>>>>>;

pub struct Reference {
    cpython: Arc<dyn Target>,
    python: PathBuf,
    version: String,
    cache_dir: PathBuf,
    memo: Memo,
}

impl Reference {
    pub fn new(
        cpython: Arc<dyn Target>,
        python: PathBuf,
        version: String,
        cache_dir: PathBuf,
    ) -> Reference {
        Reference {
            cpython,
            python,
            version,
            cache_dir,
            memo: Mutex::default(),
        }
    }

    /// The interpreter that produces the reference output.
    pub fn python(&self) -> &std::path::Path {
        &self.python
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// An output of this CPython as a trial's expectation.
    pub fn expected(&self, bytes: Vec<u8>) -> crate::expect::golden::output::ExpectedOutput {
        crate::expect::golden::output::ExpectedOutput {
            bytes,
            from: crate::expect::golden::output::ExpectedFrom::Cpython(self.version.clone()),
        }
    }

    /// CPython's output for the case (run as `suite` runs it, if its suite has a way of
    /// its own): from this process's memo, the disk cache, or a run (at most once per
    /// case per process, however many trials ask at once).
    pub fn output(&self, case: &Case, suite: Option<&dyn SuiteRun>) -> Result<Vec<u8>, String> {
        let cell = {
            let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
            memo.entry(case.id.clone()).or_default().clone()
        };
        cell.get_or_init(|| self.compute(case, suite)).clone()
    }

    fn compute(&self, case: &Case, suite: Option<&dyn SuiteRun>) -> Result<Vec<u8>, String> {
        let key = hex(&Sha256::new()
            .chain_update(&self.version)
            .chain_update([0])
            .chain_update(&case.source)
            .chain_update([0])
            // The output can name the file (`sys.argv`, `__file__`, tracebacks): the same
            // test in two checkouts has two references.
            .chain_update(case.path.as_os_str().as_encoded_bytes())
            .finalize());
        let path = self.cache_dir.join(format!("{key}.out"));
        if let Ok(bytes) = std::fs::read(&path) {
            return Ok(bytes);
        }
        let outcome = self.cpython.run(&RunRequest {
            case,
            mode: Mode::Source,
            mpy: None,
            timeout: REFERENCE_TIMEOUT,
            heap: None,
            slow: false,
            suite,
        });
        match outcome.status {
            Status::Exited(0 | 1) if !outcome.truncated => {}
            other => {
                return Err(format!(
                    "CPython ({}) could not produce a reference output ({other}){}",
                    self.version,
                    if outcome.truncated {
                        ", output truncated"
                    } else {
                        ""
                    }
                ));
            }
        }
        let output = crate::model::verdict::normalise(&outcome.output);
        // A cache write failure only costs a rerun next time.
        let _ = std::fs::create_dir_all(&self.cache_dir)
            .map_err(drop)
            .and_then(|()| crate::util::fsutil::write_atomic(&path, &output).map_err(drop));
        Ok(output)
    }
}
