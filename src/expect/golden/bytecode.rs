//! Bytecode goldens: `golden/<group>/<name>.bytecode`, a case's disassembly as the
//! `bytecode` board renders it. The first line names the compiler and flags, so a golden
//! made by another compiler is reported as such rather than as a regression.

use super::{BlessRun, Blessing, Change, GoldenError, GoldenKind, Goldens, Judged, Key};
use crate::model::case::Case;
use crate::model::outcome::Outcome;
use crate::model::verdict::normalise;

pub struct BytecodeGoldens<'a> {
    pub goldens: &'a Goldens,
    /// The boards whose output is a disassembly.
    pub boards: &'a [String],
}

impl GoldenKind for BytecodeGoldens<'_> {
    type Expected = Vec<u8>;
    type Actual = Outcome;

    fn load(&self, key: &Key) -> Result<Option<Vec<u8>>, GoldenError> {
        Ok(super::read(&self.goldens.bytecode_path(key.case))?.map(|b| normalise(&b)))
    }

    fn judge(&self, expected: &Vec<u8>, actual: &Outcome) -> Judged {
        let output = normalise(&actual.output);
        Judged {
            verdict: crate::model::verdict::judge_output(expected, &output, actual.truncated),
            note: compiler_changed(expected, &output),
            table: None,
        }
    }

    fn bless(&self, case: &Case, run: &BlessRun) -> Result<Blessing, GoldenError> {
        let path = self.goldens.bytecode_path(&case.id);
        let old = super::read(&path)?;
        let mut blessing = Blessing::default();
        let newest = run
            .results
            .iter()
            .filter(|r| r.case_id.as_ref() == Some(&case.id) && self.boards.contains(&r.board))
            .filter(|r| r.blessable)
            .find_map(|r| r.output.clone());
        if let Some(new) = newest
            && old.as_deref() != Some(new.as_slice())
        {
            blessing.changes.push(Change {
                path,
                old,
                new: Some(new),
            });
        }
        Ok(blessing)
    }
}

/// When a bytecode golden was made by another compiler (or flags) than the one that ran,
/// says so, so a diff is not read as a regression.
fn compiler_changed(golden: &[u8], actual: &[u8]) -> Option<String> {
    let first = |b: &[u8]| {
        String::from_utf8_lossy(b.split(|&c| c == b'\n').next().unwrap_or_default())
            .trim_start_matches("# ")
            .to_string()
    };
    let (g, a) = (first(golden), first(actual));
    (g != a).then(|| format!("golden from mpy-cross {g}, compiler is {a}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_compiler_is_named() {
        assert_eq!(
            compiler_changed(b"# 1.22.2\nx\n", b"# 1.28.0\nx\n").as_deref(),
            Some("golden from mpy-cross 1.22.2, compiler is 1.28.0")
        );
        assert_eq!(compiler_changed(b"# 1.28.0\nx\n", b"# 1.28.0\ny\n"), None);
    }
}
