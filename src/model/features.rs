//! Feature names a case can require, and what a target is known to have.

use std::collections::BTreeMap;

/// Every feature name a case may list under `requires:`. A target that cannot tell
/// (a feature it has not probed) runs the case anyway.
pub const KNOWN: &[&str] = &[
    "float",
    "bigint",
    "fstring",
    // `async def` / `await` syntax (MICROPY_PY_ASYNC_AWAIT).
    "async",
    "const",
    "mem_stats",
    "heap_lock",
    "mpy_import",
    // Native code (`@micropython.native`) that the target can load from a `.mpy`: it
    // has a native emitter and `sys.implementation._mpy` names its arch.
    "native",
    // `sys.stdin`: a multi-instance case's instance waits on it (`multitest.wait`).
    "stdin",
];

/// What a target has, by feature name; a name absent from the map is unknown.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Features(pub BTreeMap<String, bool>);

impl Features {
    pub fn all_of(names: &[&str]) -> Features {
        Features(names.iter().map(|n| (n.to_string(), true)).collect())
    }

    pub fn has(&self, name: &str) -> Option<bool> {
        self.0.get(name).copied()
    }

    /// The first required feature the target is known to lack.
    pub fn first_missing<'a>(&self, required: &'a [String]) -> Option<&'a str> {
        required
            .iter()
            .find(|r| self.has(r) == Some(false))
            .map(String::as_str)
    }
}
