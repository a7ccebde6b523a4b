//! The files a frozen build freezes: each case and the helpers it names, compiled by the
//! board's mpy-cross under their frozen names. A case mpy-cross rejects is left out (its
//! trial gets the message as a `compile-error`) and the others are frozen without it:
//! checking each file first is far cheaper than a failed firmware build.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{FrozenModule, freezable_helper, helper_frozen_name, helper_id};

use crate::model::case::{Case, CaseId, helper_modules};
use crate::tools::compile::Compiler;
use crate::tools::firmware_build::FrozenFile;

/// What became of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Frozen(FrozenModule),
    /// mpy-cross rejected the case or a helper it names: its message.
    Rejected(String),
    /// The harness could not compile it (mpy-cross would not run, a file unreadable).
    Broken(String),
}

/// The files to freeze and each case's entry.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    pub files: Vec<FrozenFile>,
    pub entries: BTreeMap<CaseId, Entry>,
}

/// The empty module frozen into every variant: what an empty case runs as, so the heap
/// measurement's own cost is calibrated in frozen mode too (its qstrs are in ROM, so,
/// unlike the other modes, the name's length costs nothing).
pub(crate) fn empty_module() -> FrozenModule {
    // As long as every case's path (`mpcheck/g<8 hex>/m<12 hex>.py`); no hash has a `y`.
    FrozenModule {
        dir: "mpcheck/calibrate".into(),
        module: "mempty0000000".into(),
        shown: "empty.py".into(),
    }
}

/// Compiles `cases` (each once) and the helpers they name (each once per group); a case
/// that requires `native` with `-march=<native_arch>`, as `.mpy` mode compiles it (none:
/// the board loads no native code, and the freezer's rejection is the verdict).
pub(crate) fn prepare(
    compiler: &Compiler,
    native_arch: Option<&str>,
    cases: &[Arc<Case>],
) -> Prepared {
    let native = native_arch.map(|arch| compiler.adding_flags(&[format!("-march={arch}")]));
    let mut out = Prepared::default();
    // Each helper's frozen name → whether it compiled (its message if not).
    let mut helpers: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    // Without it, frozen heap figures cannot be calibrated (and their trials say so).
    if let Ok(bytes) = compile_empty(compiler) {
        out.files
            .push(stage_file(&empty_module().frozen_name(), bytes));
    }
    for case in cases.iter().filter(|c| seen.insert(c.id.clone())) {
        let module = FrozenModule::of(case);
        let requires_native = case
            .settings
            .as_ref()
            .is_ok_and(|s| s.requires.iter().any(|r| r == "native"));
        let case_compiler = match &native {
            Some(native) if requires_native => native,
            _ => compiler,
        };
        let entry = match compile(case_compiler, case, &module.frozen_name()) {
            Ok(Ok(bytes)) => match freeze_helpers(compiler, case, &mut helpers, &mut out.files) {
                Ok(()) => {
                    out.files.push(stage_file(&module.frozen_name(), bytes));
                    Entry::Frozen(module)
                }
                Err(message) => Entry::Rejected(message),
            },
            Ok(Err(message)) => Entry::Rejected(message),
            Err(message) => Entry::Broken(message),
        };
        out.entries.insert(case.id.clone(), entry);
    }
    out
}

/// Compiles the helpers `case` names that are not compiled yet into `files`; the first
/// that cannot be frozen is the case's rejection.
fn freeze_helpers(
    compiler: &Compiler,
    case: &Case,
    done: &mut BTreeMap<String, Result<(), String>>,
    files: &mut Vec<FrozenFile>,
) -> Result<(), String> {
    for (stem, path) in helper_modules(case) {
        let failed = |m: String| format!("helper module {}: {m}", path.display());
        if !freezable_helper(&stem) {
            return Err(failed(
                "only letters, digits and `_` can be frozen in a module name".into(),
            ));
        }
        let name = helper_frozen_name(&case.id.group, &stem);
        let result = done.entry(name.clone()).or_insert_with(|| {
            let helper = Case::load_helper(&path, helper_id(&case.id.group, &stem))
                .map_err(|e| e.to_string())?;
            files.push(stage_file(&name, compile(compiler, &helper, &name)??));
            Ok(())
        });
        result.clone().map_err(failed)?;
    }
    Ok(())
}

/// The empty module, compiled from a one-newline file (the calibration baseline of
/// the other modes too).
fn compile_empty(compiler: &Compiler) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("empty.py");
    std::fs::write(&path, "\n").map_err(|e| e.to_string())?;
    let case = Case::load(&path, helper_id("_", "empty")).map_err(|e| e.to_string())?;
    compile(compiler, &case, &empty_module().frozen_name())?
}

/// mpy-cross's verdict on one file: `Err` the harness's problem, `Ok(Err)` a rejection.
fn compile(
    compiler: &Compiler,
    case: &Case,
    frozen_name: &str,
) -> Result<Result<Vec<u8>, String>, String> {
    compiler
        .compile_as(case, frozen_name)
        .map_err(|e| e.to_string())
}

/// A compiled file at its place in the stage dir (`<frozen name without .py>.mpy`).
fn stage_file(frozen_name: &str, bytes: Vec<u8>) -> FrozenFile {
    let stem = frozen_name.strip_suffix(".py").unwrap_or(frozen_name);
    FrozenFile {
        name: format!("{stem}.mpy"),
        bytes,
    }
}
