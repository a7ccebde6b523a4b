//! Which native-module arches a target loads besides its own, read from the checkout's
//! `py/persistentcode.h`: where the block that defines the target's `MPY_FEATURE_ARCH`
//! also defines `MPY_FEATURE_ARCH_TEST(x)` as a range (ARM Thumb: `MP_NATIVE_ARCH_ARMV6M
//! <= (x) && (x) <= MPY_FEATURE_ARCH`), every arch of the `MP_NATIVE_ARCH_` enum in
//! that range loads; else only its own. Upstream's CI runs the natmod tests of the
//! MPS2_AN385 board with armv6m and armv7m modules, as this gives.

use std::path::Path;

/// The arch test of one checkout.
#[derive(Debug, Clone, Default)]
pub struct ArchTest {
    /// The `MP_NATIVE_ARCH_` enum in order, lower case (`x86`, `x64`, `armv6`, …).
    order: Vec<String>,
    /// The arches a range test applies to, and its lowest.
    range: Option<(Vec<String>, String)>,
}

impl ArchTest {
    /// Reads `py/persistentcode.h` under `root`; a tree without it (or of another shape)
    /// gives "own arch only".
    pub fn read(root: &Path) -> ArchTest {
        std::fs::read_to_string(root.join("py/persistentcode.h"))
            .map(|t| ArchTest::parse(&t))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> ArchTest {
        let arch_of = |line: &str, prefix: &str| {
            let at = line.find(prefix)? + prefix.len();
            let name: String = line[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then(|| name.to_ascii_lowercase())
        };
        let order: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("MP_NATIVE_ARCH_") && l.ends_with(','))
            .filter_map(|l| arch_of(l, "MP_NATIVE_ARCH_"))
            .filter(|a| a != "none")
            .collect();
        let lines: Vec<&str> = text.lines().collect();
        let range = lines.iter().enumerate().find_map(|(i, line)| {
            let test = line.trim_start();
            let rest = test.strip_prefix("#define MPY_FEATURE_ARCH_TEST(x) (MP_NATIVE_ARCH_")?;
            if !rest.contains("<= (x) && (x) <= MPY_FEATURE_ARCH)") {
                return None;
            }
            let lowest = arch_of(test, "(MP_NATIVE_ARCH_")?;
            // The arches its block defines: back to the `#if`/`#elif` that opens it
            // (indented less than the test).
            let indent = line.len() - test.len();
            let mut arches = Vec::new();
            for l in lines[..i].iter().rev() {
                let t = l.trim_start();
                let opens = t.starts_with("#if") || t.starts_with("#elif");
                if opens && l.len() - t.len() < indent {
                    break;
                }
                if t.starts_with("#define MPY_FEATURE_ARCH (")
                    && let Some(a) = arch_of(t, "(MP_NATIVE_ARCH_")
                {
                    arches.push(a);
                }
            }
            Some((arches, lowest))
        });
        ArchTest { order, range }
    }

    /// The arches a target of arch `own` (lower case, as `sys.implementation._mpy`
    /// names it) loads, its own first.
    pub fn loadable(&self, own: &str) -> Vec<String> {
        let mut out = vec![own.to_string()];
        let Some((arches, lowest)) = &self.range else {
            return out;
        };
        if !arches.iter().any(|a| a == own) {
            return out;
        }
        let index = |a: &str| self.order.iter().position(|o| o == a);
        if let (Some(low), Some(high)) = (index(lowest), index(own)) {
            out.extend(
                self.order[low..high]
                    .iter()
                    .filter(|a| a.as_str() != own)
                    .cloned(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As every shared tree has it (v1.24.0 without the outer `#if` level).
    const HEADER: &str = "\
#if defined(__i386__)
    #define MPY_FEATURE_ARCH (MP_NATIVE_ARCH_X86)
#elif defined(__x86_64__)
    #define MPY_FEATURE_ARCH (MP_NATIVE_ARCH_X64)
#elif defined(__thumb2__) || defined(__thumb__)
    #if defined(__thumb2__)
        #if defined(__ARM_FP) && (__ARM_FP & 8) == 8
            #define MPY_FEATURE_ARCH (MP_NATIVE_ARCH_ARMV7EMDP)
        #elif defined(__ARM_FP) && (__ARM_FP & 4) == 4
            #define MPY_FEATURE_ARCH (MP_NATIVE_ARCH_ARMV7EMSP)
        #else
            #define MPY_FEATURE_ARCH (MP_NATIVE_ARCH_ARMV7EM)
        #endif
    #else
        #define MPY_FEATURE_ARCH (MP_NATIVE_ARCH_ARMV6M)
    #endif
    #define MPY_FEATURE_ARCH_TEST(x) (MP_NATIVE_ARCH_ARMV6M <= (x) && (x) <= MPY_FEATURE_ARCH)
#elif defined(__arm__) && !defined(__thumb2__)
    #define MPY_FEATURE_ARCH (MP_NATIVE_ARCH_ARMV6)
#endif
enum {
    MP_NATIVE_ARCH_NONE = 0,
    MP_NATIVE_ARCH_X86,
    MP_NATIVE_ARCH_X64,
    MP_NATIVE_ARCH_ARMV6,
    MP_NATIVE_ARCH_ARMV6M,
    MP_NATIVE_ARCH_ARMV7M,
    MP_NATIVE_ARCH_ARMV7EM,
    MP_NATIVE_ARCH_ARMV7EMSP,
    MP_NATIVE_ARCH_ARMV7EMDP,
    MP_NATIVE_ARCH_XTENSA,
};
";

    #[test]
    fn a_thumb_target_loads_every_arch_from_armv6m_up_to_its_own() {
        let t = ArchTest::parse(HEADER);
        assert_eq!(t.loadable("armv7em"), ["armv7em", "armv6m", "armv7m"]);
        assert_eq!(
            t.loadable("armv7emdp"),
            ["armv7emdp", "armv6m", "armv7m", "armv7em", "armv7emsp"]
        );
        assert_eq!(t.loadable("armv6m"), ["armv6m"]);
        // Outside the block: its own only.
        assert_eq!(t.loadable("x64"), ["x64"]);
        assert_eq!(t.loadable("armv6"), ["armv6"]);
    }

    #[test]
    fn a_tree_without_the_header_loads_its_own_arch_only() {
        let t = ArchTest::read(Path::new("/nonexistent"));
        assert_eq!(t.loadable("armv7m"), ["armv7m"]);
    }
}
