//! Heap goldens: `golden/<group>/<name>.heap.yaml`, board → mode → calibrated figures,
//! judged exactly unless the case gives tolerances; the case's region claims
//! (`less: [[a, b]]`) are checked first.

use std::collections::BTreeMap;

use super::{BlessRun, Blessing, Change, GoldenError, GoldenKind, Goldens, Judged, Key};
use crate::model::case::{Case, HeapSettings};
use crate::model::heap::{HeapFigures, HeapGolden, METRICS};
use crate::model::verdict::Verdict;

pub struct HeapGoldens<'a> {
    pub goldens: &'a Goldens,
    /// The case's heap settings (tolerances, claims); none when blessing.
    pub settings: Option<&'a HeapSettings>,
}

impl HeapGoldens<'_> {
    /// The whole golden file of a case; a file that does not parse names its line.
    pub fn load_file(&self, case: &crate::model::case::CaseId) -> Result<HeapGolden, GoldenError> {
        let path = self.goldens.heap_path(case);
        let Some(bytes) = super::read(&path)? else {
            return Ok(HeapGolden::new());
        };
        let text = String::from_utf8_lossy(&bytes);
        crate::util::input::yaml::<Option<HeapGolden>>(&path, 1, &text)
            .map(Option::unwrap_or_default)
            .map_err(|located| match located {
                crate::util::error::Error::Config {
                    file,
                    line,
                    message,
                } => GoldenError::Malformed {
                    path: file,
                    line,
                    message,
                },
                other => GoldenError::Malformed {
                    path,
                    line: 1,
                    message: other.to_string(),
                },
            })
    }
}

impl GoldenKind for HeapGoldens<'_> {
    type Expected = HeapFigures;
    type Actual = HeapFigures;

    fn load(&self, key: &Key) -> Result<Option<HeapFigures>, GoldenError> {
        Ok(self
            .load_file(key.case)?
            .get(key.board)
            .and_then(|modes| modes.get(key.mode.as_str()))
            .cloned())
    }

    fn judge(&self, expected: &HeapFigures, actual: &HeapFigures) -> Judged {
        let none = BTreeMap::new();
        let tolerances = self.settings.map_or(&none, HeapSettings::tolerances);
        let rows = crate::model::heap::compare(expected, actual, tolerances);
        if rows.iter().all(|r| r.ok) {
            return Judged::verdict(Verdict::Pass);
        }
        Judged {
            verdict: Verdict::Fail,
            note: None,
            table: Some(crate::model::heap::table(&rows)),
        }
    }

    fn bless(&self, case: &Case, run: &BlessRun) -> Result<Blessing, GoldenError> {
        let mut blessing = Blessing::default();
        if !case.settings.as_ref().is_ok_and(|s| s.heap.is_some()) {
            return Ok(blessing);
        }
        let path = self.goldens.heap_path(&case.id);
        // A golden that does not parse is refused whole: rewriting it would drop the
        // figures of every board this run did not measure.
        let before = self.load_file(&case.id)?;
        let mut golden = before.clone();
        for r in run
            .results
            .iter()
            .filter(|r| r.case_id.as_ref() == Some(&case.id) && r.blessable)
        {
            if METRICS.iter().any(|m| r.heap.get(m).is_some()) {
                golden
                    .entry(r.family().to_string())
                    .or_default()
                    .insert(r.mode.as_str().to_string(), r.heap.clone());
            }
        }
        if golden != before {
            blessing.changes.push(Change {
                old: super::read(&path)?,
                new: Some(render(&case.id, &golden).into_bytes()),
                path,
            });
        }
        Ok(blessing)
    }
}

/// The case's region claims against its figures: the first that does not hold.
pub fn failed_claim(settings: &HeapSettings, figures: &HeapFigures) -> Option<String> {
    settings.less.iter().find_map(|(a, b)| {
        let (fa, fb) = (figures.regions.get(a), figures.regions.get(b));
        let shown = |v: Option<&i64>| v.map_or("not measured".into(), |v| format!("{v} bytes"));
        match (fa, fb) {
            (Some(x), Some(y)) if x < y => None,
            _ => Some(format!(
                "claim failed: region `{a}` ({}) should allocate less than region `{b}` ({})",
                shown(fa),
                shown(fb)
            )),
        }
    })
}

fn render(
    case: &crate::model::case::CaseId,
    golden: &BTreeMap<String, BTreeMap<String, HeapFigures>>,
) -> String {
    format!(
        "# Heap figures of {case} per board and mode (bytes, calibrated); written by `mpcheck bless`.\n# {}\n# {}\n{}",
        crate::model::heap::LEGEND,
        crate::model::heap::FRAG_LEGEND,
        yaml_serde::to_string(golden).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::case::CaseId;

    fn id() -> CaseId {
        CaseId {
            group: "heap".into(),
            name: "x".into(),
        }
    }

    #[test]
    fn a_bad_value_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let goldens = Goldens::new(dir.path().to_path_buf());
        let path = goldens.heap_path(&id());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "# c\nunix:\n  source:\n    alloc_bytes: 1\n    live_bytes: lots\n",
        )
        .unwrap();
        let kind = HeapGoldens {
            goldens: &goldens,
            settings: None,
        };
        let err = kind.load_file(&id()).unwrap_err().to_string();
        assert!(err.contains("x.heap.yaml:5:"), "{err}");
    }

    #[test]
    fn claims_are_checked() {
        let settings = HeapSettings {
            less: vec![("a".into(), "b".into())],
            ..Default::default()
        };
        let mut f = HeapFigures::default();
        f.regions.insert("a".into(), 1);
        f.regions.insert("b".into(), 2);
        assert_eq!(failed_claim(&settings, &f), None);
        f.regions.insert("a".into(), 3);
        assert!(
            failed_claim(&settings, &f)
                .unwrap()
                .contains("`a` (3 bytes)")
        );
    }
}
