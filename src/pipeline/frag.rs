//! The fragmentation figures' own run: the case again, in a wrapper that after its report
//! line collects the heap and prints its map ([`crate::model::heap::Wrap::frag`]). Its own run
//! because any byte more in the wrapper moves the other figures; those stay the first
//! run's.

use super::Pipeline;
use super::stages::{Go, Prepared};
use crate::model::heap::{HeapFigures, Wrap};
use crate::plan::Trial;
use crate::targets::RunRequest;

impl Pipeline {
    /// The free heap's shape after this trial's case (None: the target gave no map).
    pub(super) fn frag_run(&self, trial: &Trial, go: &Go, p: &Prepared) -> Option<HeapFigures> {
        let wrap = p.heap?;
        go.target
            .run(&RunRequest {
                case: &trial.case,
                mode: trial.mode,
                mpy: p.mpy.as_deref(),
                timeout: p.timeout,
                heap: Some(Wrap { frag: true, ..wrap }),
                slow: false,
                suite: self.rules.runner(&trial.case),
            })
            .heap
            .filter(|h| h.free_bytes.is_some())
    }
}
