//! A board booted with its frozen firmware variant, as the target of its frozen trials:
//! each case is imported from ROM, or gets the verdict its compilation earned.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::model::case::CaseId;
use crate::model::features::Features;
use crate::model::outcome::{Outcome, Status};
use crate::targets::board::BoardTarget;
use crate::targets::host::HostTarget;
use crate::targets::{Capabilities, RunRequest, Target};
use crate::tools::compile::Compiler;
use crate::tools::frozen::prepare::Entry;
use crate::tools::toolchain::ToolInfo;

/// A target that can import a module frozen into its image: a board booted with its
/// frozen firmware, or a unix VM built with the modules frozen in.
pub trait RunsFrozen: Target {
    fn run_frozen(&self, request: &RunRequest, dir: &str, module: &str) -> Outcome;
}

impl RunsFrozen for BoardTarget {
    fn run_frozen(&self, request: &RunRequest, dir: &str, module: &str) -> Outcome {
        BoardTarget::run_frozen(self, request, dir, module)
    }
}

impl RunsFrozen for HostTarget {
    fn run_frozen(&self, request: &RunRequest, dir: &str, module: &str) -> Outcome {
        HostTarget::run_frozen(self, request, dir, module)
    }
}

pub struct FrozenTarget {
    board: Arc<dyn RunsFrozen>,
    entries: BTreeMap<CaseId, Entry>,
}

impl FrozenTarget {
    /// `board` must boot the image with `entries`' modules frozen in.
    pub(crate) fn new(
        board: Arc<dyn RunsFrozen>,
        entries: BTreeMap<CaseId, Entry>,
    ) -> FrozenTarget {
        FrozenTarget { board, entries }
    }
}

impl Target for FrozenTarget {
    fn tools(&self) -> Vec<ToolInfo> {
        self.board.tools()
    }

    fn features(&self) -> &Features {
        self.board.features()
    }

    fn compiler(&self) -> Option<&Arc<Compiler>> {
        self.board.compiler()
    }

    fn capabilities(&self) -> Capabilities {
        self.board.capabilities()
    }

    fn run(&self, request: &RunRequest) -> Outcome {
        let empty = crate::tools::frozen::prepare::empty_module();
        let module = match self.entries.get(&request.case.id) {
            Some(Entry::Frozen(m)) => m,
            // An empty case (the heap calibration's) is the empty frozen module.
            None if request.case.source.iter().all(u8::is_ascii_whitespace) => &empty,
            Some(Entry::Rejected(message)) => {
                return Outcome::new(
                    Vec::new(),
                    false,
                    Status::Rejected(message.clone()),
                    Duration::ZERO,
                );
            }
            Some(Entry::Broken(why)) => return Outcome::not_started(why.clone(), Duration::ZERO),
            None => {
                return Outcome::not_started(
                    format!(
                        "{} was not frozen into this run's firmware (not among its frozen trials when setup built it)",
                        request.case.id
                    ),
                    Duration::ZERO,
                );
            }
        };
        let mut outcome = self.board.run_frozen(request, &module.dir, &module.module);
        // Bytes that are not UTF-8 stay as the board sent them (no frame to rename).
        if let Ok(text) = std::str::from_utf8(&outcome.output) {
            outcome.output = module.rename_frames(text).into_bytes();
        }
        outcome.exception = outcome.exception.map(|e| module.rename_frames(&e));
        outcome
    }
}
