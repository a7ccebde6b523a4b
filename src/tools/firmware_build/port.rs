//! What differs between ports' builds: which make variable picks the board, the image a
//! build makes, and the unix port's frozen manifest.

use std::path::Path;

use super::BuildSpec;

/// How a port's Makefile picks what to build: `BOARD=` (ports/qemu/boards/…) or
/// `VARIANT=` (ports/unix/variants/…), as the board file's `build:` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Select {
    #[default]
    Board,
    Variant,
}

impl Select {
    /// The make variable.
    pub fn variable(self) -> &'static str {
        match self {
            Select::Board => "BOARD",
            Select::Variant => "VARIANT",
        }
    }
}

/// The manifest mpcheck gives the unix port's plain build (frozen mode adds the cases to
/// it). Why not the variant's own: its manifests `require()` micropython-lib packages
/// (`mip-cmdline`, `ssl`) that a checkout without submodules lacks, and an empty
/// `FROZEN_MANIFEST` would build with another `MPZ_DIG_SIZE` than a frozen build
/// (ports/unix/Makefile sets 16 only when a manifest is given), so plain and frozen
/// images must share one. What it freezes is read from the tree: asyncio where the
/// tree has `extmod/asyncio` (as the standard variant does), `unittest` where
/// micropython-lib has it (MicroPython's own tests import it).
fn unix_manifest(source: &Path) -> String {
    let mut text = String::new();
    if source.join("extmod/asyncio/manifest.py").is_file() {
        text.push_str("include(\"$(MPY_DIR)/extmod/asyncio\")\n");
    }
    if source
        .join("lib/micropython-lib/python-stdlib/unittest/manifest.py")
        .is_file()
    {
        text.push_str("require(\"unittest\")\n");
    }
    text
}

/// The manifest mpcheck writes for a port's plain build, or `None` where the port's
/// default is used (see [`unix_manifest`]).
pub(super) fn plain_manifest(spec: &BuildSpec) -> Option<String> {
    (spec.port == "unix").then(|| {
        format!(
            "# Written by mpcheck (see src/firmware_build/port.rs).\n{}",
            unix_manifest(&spec.source)
        )
    })
}

/// What a frozen build's manifest freezes besides the cases: the plain build's own
/// (the unix port), else `require("unittest")`, as the qemu port's default manifest:
/// MicroPython's own tests on the board import it. The port's other default entries
/// (its `test-frzmpy` modules) are for upstream's frozen tests, which run on the plain
/// firmware.
pub(super) fn frozen_preamble(spec: &BuildSpec) -> String {
    match spec.port.as_str() {
        "unix" => unix_manifest(&spec.source),
        _ => "require(\"unittest\")\n".into(),
    }
}

/// The image a port's build makes, relative to its build dir, when the board file does
/// not say: `BUILD/micropython` for the unix port (its `PROG`), else `firmware.elf`.
pub(crate) fn default_image(port: &str) -> &'static str {
    match port {
        "unix" => "micropython",
        _ => "firmware.elf",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unix_manifest_freezes_what_the_tree_has() {
        let t = tempfile::tempdir().unwrap();
        let lines = |t: &Path| {
            unix_manifest(t)
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert!(lines(t.path()).is_empty(), "a tree without either");
        for rel in [
            "extmod/asyncio/manifest.py",
            "lib/micropython-lib/python-stdlib/unittest/manifest.py",
        ] {
            let p = t.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        assert_eq!(
            lines(t.path()),
            [
                "include(\"$(MPY_DIR)/extmod/asyncio\")",
                "require(\"unittest\")"
            ]
        );
    }
}
