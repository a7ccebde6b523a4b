//! Frozen mode: a run's cases frozen into a variant of a source-built board's firmware
//! and run by importing them from ROM.
//!
//! ```text
//! frozen trials' cases ──▶ layout: case heap/module_import ─▶ mpcheck/heap/_qqq….py
//!                                  helper heap/_h           ─▶ mpcheck/heap/_h.py
//!      ──▶ each compiled by the board's mpy-cross (a rejected case: its compile-error)
//!      ──▶ firmware_build::build_frozen (manifest, incremental build, cache)
//!      ──▶ targets::frozen::FrozenTarget (opened by run::frozen): boots that image, imports the case with `.frozen/mpcheck/heap`
//!          first on sys.path, so `import _h` finds the helper frozen beside it
//! ```
//!
//! Each group is a directory of frozen modules, so cases of different groups may share
//! a name, and helpers keep their own. Every frozen path a case gets has one length
//! (`mpcheck/g<8 hex>/m<12 hex>.py`, hashes of group and name): importing a frozen
//! module interns its path as a qstr on the heap, so equal lengths let one empty module
//! of that length calibrate the heap measurement for every case. The names also suit
//! mpy-tool, which makes C identifiers of them (`/` → `_`, letters and digits only), and
//! no helper (`_*`) or built-in module has one. Tracebacks are given back the names
//! `.mpy` mode shows.

pub(crate) mod prepare;

use crate::model::case::{Case, CaseId};

pub(crate) use prepare::prepare;

/// Where the frozen modules of a group live, under `.frozen/` (and the stage dir).
pub(crate) fn group_dir(group: &str) -> String {
    format!("mpcheck/g{}", &hashed(group)[..8])
}

/// A case's frozen module name.
fn case_module(name: &str) -> String {
    format!("m{}", &hashed(name)[..12])
}

fn hashed(text: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::tools::firmware_build::hex(&Sha256::digest(text.as_bytes()))
}

/// Whether a helper's own name can be frozen as it is (mpy-tool makes C identifiers of
/// it): letters, digits and `_`.
pub(crate) fn freezable_helper(stem: &str) -> bool {
    stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How a frozen case is imported: `.frozen/<dir>` on sys.path, then `module`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrozenModule {
    pub dir: String,
    pub module: String,
    /// The file name tracebacks show for the case (as in `.mpy` mode).
    pub shown: String,
}

impl FrozenModule {
    pub(crate) fn of(case: &Case) -> FrozenModule {
        FrozenModule::of_names(&case.id.group, case.module_name())
    }

    fn of_names(group: &str, name: &str) -> FrozenModule {
        FrozenModule {
            dir: group_dir(group),
            module: case_module(name),
            shown: format!("{name}.py"),
        }
    }

    /// The name recorded in the `.mpy` (mpy-cross `-s`), which is the frozen module's
    /// path in the firmware.
    pub(crate) fn frozen_name(&self) -> String {
        format!("{}/{}.py", self.dir, self.module)
    }

    /// The board's output with the frozen paths in traceback frames renamed as `.mpy`
    /// mode names them: the case as `<name>.py`, a helper as `_h.py`.
    pub(crate) fn rename_frames(&self, text: &str) -> String {
        text.replace(
            &format!("  File \"{}\"", self.frozen_name()),
            &format!("  File \"{}\"", self.shown),
        )
        .replace(&format!("  File \"{}/", self.dir), "  File \"")
    }
}

/// A helper module's frozen name: beside the cases of its group.
pub(crate) fn helper_frozen_name(group: &str, stem: &str) -> String {
    format!("{}/{stem}.py", group_dir(group))
}

/// The case id a helper is loaded under (for compiling it).
pub(crate) fn helper_id(group: &str, stem: &str) -> CaseId {
    CaseId {
        group: group.to_string(),
        name: stem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_get_the_names_mpy_mode_shows() {
        let m = FrozenModule {
            dir: "mpcheck/exceptions".into(),
            module: "_qqqqqqq".into(),
            shown: "uncaught.py".into(),
        };
        assert_eq!(m.frozen_name(), "mpcheck/exceptions/_qqqqqqq.py");
        assert_eq!(group_dir("heap").len(), "mpcheck/g".len() + 8);
        let board = "Traceback (most recent call last):\n  File \"mpcheck/exceptions/_qqqqqqq.py\", line 3, in <module>\n  File \"mpcheck/exceptions/_helper.py\", line 2, in f\nValueError: mpcheck/exceptions/x\n";
        assert_eq!(
            m.rename_frames(board),
            "Traceback (most recent call last):\n  File \"uncaught.py\", line 3, in <module>\n  File \"_helper.py\", line 2, in f\nValueError: mpcheck/exceptions/x\n"
        );
        assert_eq!(
            helper_frozen_name("heap", "_h"),
            format!("{}/_h.py", group_dir("heap"))
        );
        assert!(freezable_helper("_heap_helper") && !freezable_helper("_a.b"));
        // One length for every case's frozen path (the heap calibration relies on it).
        let a = FrozenModule::of_names("heap", "module_import");
        let b = FrozenModule::of_names("a/b.c", "x");
        assert_eq!(a.frozen_name().len(), b.frozen_name().len());
        assert_ne!(a.frozen_name(), b.frozen_name());
        assert_eq!(
            super::prepare::empty_module().frozen_name().len(),
            a.frozen_name().len()
        );
    }
}
