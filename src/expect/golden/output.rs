//! Output goldens: `golden/<group>/<name>.out` shared by every board, `.<board>.out` for a
//! board whose output legitimately differs; without either, CPython's output is the
//! expectation (the pipeline asks the reference). The bless policy is [`decide_bless`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{BlessRun, Blessing, Change, GoldenError, GoldenKind, Goldens, Judged, Key};
use crate::model::case::Case;
use crate::model::outcome::Outcome;
use crate::model::verdict::{judge_output, normalise};

pub struct OutputGoldens<'a> {
    pub goldens: &'a Goldens,
    /// Boards whose output is judged by another kind (bytecode boards).
    pub skip_boards: &'a [String],
}

/// An expected output and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedOutput {
    /// Normalised (`\r\n` → `\n`).
    pub bytes: Vec<u8>,
    pub from: ExpectedFrom,
}

impl ExpectedOutput {
    /// A suite's own expected output: a test's `.exp` file, read as untrusted input and
    /// normalised.
    pub fn from_exp(path: &std::path::Path) -> Result<ExpectedOutput, String> {
        crate::util::input::read(path, crate::util::input::cap::GOLDEN, ".exp file")
            .map(|b| ExpectedOutput {
                bytes: normalise(&b),
                from: ExpectedFrom::Golden(path.to_path_buf()),
            })
            .map_err(|e| e.to_string())
    }
}

/// Where an expected output came from, for messages and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedFrom {
    BoardGolden(PathBuf),
    Golden(PathBuf),
    Cpython(String),
}

impl std::fmt::Display for ExpectedFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedFrom::BoardGolden(p) | ExpectedFrom::Golden(p) => write!(f, "{}", p.display()),
            ExpectedFrom::Cpython(v) => write!(f, "CPython {v} output"),
        }
    }
}

impl GoldenKind for OutputGoldens<'_> {
    type Expected = ExpectedOutput;
    type Actual = Outcome;

    /// Board override first, then the shared golden.
    fn load(&self, key: &Key) -> Result<Option<ExpectedOutput>, GoldenError> {
        let board_path = self.goldens.board_path(key.case, key.board);
        if let Some(bytes) = super::read(&board_path)? {
            return Ok(Some(ExpectedOutput {
                bytes: normalise(&bytes),
                from: ExpectedFrom::BoardGolden(board_path),
            }));
        }
        let shared = self.goldens.shared_path(key.case);
        Ok(super::read(&shared)?.map(|bytes| ExpectedOutput {
            bytes: normalise(&bytes),
            from: ExpectedFrom::Golden(shared),
        }))
    }

    fn judge(&self, expected: &ExpectedOutput, actual: &Outcome) -> Judged {
        Judged::verdict(judge_output(
            &expected.bytes,
            &actual.output,
            actual.truncated,
        ))
    }

    fn bless(&self, case: &Case, run: &BlessRun) -> Result<Blessing, GoldenError> {
        let mut blessing = Blessing::default();
        // family → the outputs of its boards' modes
        let mut by_board: BTreeMap<&str, Vec<&[u8]>> = BTreeMap::new();
        for r in run.results.iter().filter(|r| {
            r.case_id.as_ref() == Some(&case.id) && !self.skip_boards.contains(&r.board)
        }) {
            if let (true, Some(output)) = (r.blessable, &r.output) {
                by_board.entry(r.family()).or_default().push(output);
            }
        }
        let mut actuals = BTreeMap::new();
        for (board, outputs) in by_board {
            if outputs.windows(2).any(|w| w[0] != w[1]) {
                blessing.refused.push(format!(
                    "{board}::{}: its outputs differ (source and .mpy, or boards of the family)",
                    case.id
                ));
                continue;
            }
            actuals.insert(board.to_string(), outputs[0].to_vec());
        }
        if actuals.is_empty() {
            return Ok(blessing);
        }
        let shared_path = self.goldens.shared_path(&case.id);
        let shared = super::read(&shared_path)?;
        let reference = (run.reference)(case);
        let mut overrides = BTreeMap::new();
        for board in actuals.keys() {
            let path = self.goldens.board_path(&case.id, board);
            if let Some(bytes) = super::read(&path)? {
                overrides.insert(board.clone(), bytes);
            }
        }
        let relying = (run.relying_elsewhere)(&case.id);
        let decision = decide_bless(&BlessInput {
            shared: shared.as_deref(),
            reference: reference.as_deref(),
            actuals: &actuals,
            overrides: &overrides.keys().cloned().collect::<Vec<_>>(),
            relying: &relying,
        });
        let baseline = match &shared {
            Some(_) => shared_path.display().to_string(),
            None => "CPython's output".to_string(),
        };
        match &decision.why {
            Some(Why::Kept(why)) => blessing
                .notes
                .push(format!("{}: kept {baseline}: {why}", case.id)),
            Some(Why::Replaced(why)) => blessing
                .notes
                .push(format!("{}: replacing {baseline}: {why}", case.id)),
            None => {}
        }
        for w in decision.writes {
            blessing.changes.push(match w {
                GoldenWrite::Shared(bytes) => Change {
                    path: shared_path.clone(),
                    old: shared.clone(),
                    new: Some(bytes),
                },
                GoldenWrite::Board(board, bytes) => Change {
                    path: self.goldens.board_path(&case.id, &board),
                    old: overrides.get(&board).cloned(),
                    new: Some(bytes),
                },
                GoldenWrite::RemoveBoard(board) => Change {
                    path: self.goldens.board_path(&case.id, &board),
                    old: overrides.get(&board).cloned(),
                    new: None,
                },
            });
        }
        Ok(blessing)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoldenWrite {
    Shared(Vec<u8>),
    Board(String, Vec<u8>),
    RemoveBoard(String),
}

/// What bless knows about one case.
pub struct BlessInput<'a> {
    /// The shared golden, if one exists.
    pub shared: Option<&'a [u8]>,
    /// CPython's output, if the case runs on CPython (the expectation without a golden).
    pub reference: Option<&'a [u8]>,
    /// Each blessed board's actual output (boards whose modes disagree are left out).
    pub actuals: &'a BTreeMap<String, Vec<u8>>,
    /// Boards that have an override file now.
    pub overrides: &'a [String],
    /// Default boards outside this bless that take their expectation from the baseline
    /// (shared golden or CPython): it must not change under them.
    pub relying: &'a [String],
}

/// What bless writes for one case, and why the baseline stayed when some blessed board
/// got an override instead (so the user is told, not left guessing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub writes: Vec<GoldenWrite>,
    /// Why the baseline changed or stayed when a blessed board no longer matches it.
    pub why: Option<Why>,
}

/// What happened to a baseline no blessed board matched, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Every board that uses it agrees on the new output (named).
    Replaced(String),
    /// Some boards use it and could not agree (named): they got overrides.
    Kept(String),
}

/// Decides which golden files to write so that every blessed board's actual output
/// becomes its expectation, with as few files as possible:
/// - the baseline is the shared golden, or CPython's output when there is none;
/// - if no blessed board matches the baseline, it is replaced when every board that uses
///   it agrees on the new output: the blessed boards without an override, and no default
///   board outside this bless relying on it. A missing shared golden is created from the
///   most common output (ties to the first board by name);
/// - boards that match the baseline lose any override; the others get one, and
///   `why` says what happened to the baseline and why.
pub fn decide_bless(input: &BlessInput) -> Decision {
    let mut writes = Vec::new();
    let mut baseline = input.shared.or(input.reference).map(<[u8]>::to_vec);
    let matched = baseline
        .as_ref()
        .is_some_and(|b| input.actuals.values().any(|a| a == b));
    let mut why = None;
    if !matched && !input.actuals.is_empty() {
        match replacement(input, baseline.is_some()) {
            Ok((new, agreed)) => {
                writes.push(GoldenWrite::Shared(new.clone()));
                why = agreed.map(Why::Replaced);
                baseline = Some(new);
            }
            Err(kept) => why = Some(Why::Kept(kept)),
        }
    }
    for (board, actual) in input.actuals {
        let has_override = input.overrides.iter().any(|o| o == board);
        if baseline.as_ref() == Some(actual) {
            if has_override {
                writes.push(GoldenWrite::RemoveBoard(board.clone()));
            }
        } else {
            writes.push(GoldenWrite::Board(board.clone(), actual.clone()));
        }
    }
    Decision { writes, why }
}

/// The new baseline when none of the blessed boards matches the old one (with who agreed
/// on it, when an old one is replaced), or why the old one must stay. `exists`: there is
/// a baseline to replace (else one is created).
fn replacement(input: &BlessInput, exists: bool) -> Result<(Vec<u8>, Option<String>), String> {
    if !exists {
        return Ok((most_common(input.actuals), None));
    }
    if !input.relying.is_empty() {
        return Err(format!(
            "{} use{} it and gave no output to bless (bless them too to move it)",
            input.relying.join(", "),
            if input.relying.len() == 1 { "s" } else { "" }
        ));
    }
    // The boards judged by the baseline: those without an override of their own. When
    // every blessed board has one, they all are the baseline's candidates.
    let users: BTreeMap<&String, &Vec<u8>> = input
        .actuals
        .iter()
        .filter(|(b, _)| !input.overrides.contains(b))
        .collect();
    let users = if users.is_empty() {
        input.actuals.iter().collect()
    } else {
        users
    };
    let mut outputs: Vec<&Vec<u8>> = users.values().copied().collect();
    outputs.sort();
    outputs.dedup();
    match outputs.as_slice() {
        [one] => Ok((
            (*one).clone(),
            Some(format!(
                "every board that uses it agrees ({})",
                groups(&users)
            )),
        )),
        _ => Err(format!(
            "the boards that use it disagree ({})",
            groups(&users)
        )),
    }
}

/// "unix, webassembly | microbit-qemu": the boards grouped by the output they gave.
fn groups(users: &BTreeMap<&String, &Vec<u8>>) -> String {
    let mut by_output: Vec<(&Vec<u8>, Vec<&str>)> = Vec::new();
    for (board, output) in users {
        match by_output.iter_mut().find(|(o, _)| o == output) {
            Some((_, boards)) => boards.push(board),
            None => by_output.push((output, vec![board.as_str()])),
        }
    }
    by_output
        .iter()
        .map(|(_, boards)| boards.join(", "))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn most_common(actuals: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut best: Option<(&Vec<u8>, usize)> = None;
    for a in actuals.values() {
        let n = actuals.values().filter(|b| *b == a).count();
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((a, n));
        }
    }
    best.map(|(a, _)| a.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::verdict::Verdict;

    fn actuals(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(b, o)| (b.to_string(), o.as_bytes().to_vec()))
            .collect()
    }

    fn decide(
        shared: Option<&str>,
        reference: Option<&str>,
        a: &BTreeMap<String, Vec<u8>>,
        overrides: &[String],
        pinned: bool,
    ) -> Vec<GoldenWrite> {
        let relying = if pinned {
            vec!["microbit-qemu".to_string()]
        } else {
            Vec::new()
        };
        decide_full(shared, reference, a, overrides, &relying).writes
    }

    fn decide_full(
        shared: Option<&str>,
        reference: Option<&str>,
        a: &BTreeMap<String, Vec<u8>>,
        overrides: &[String],
        relying: &[String],
    ) -> Decision {
        decide_bless(&BlessInput {
            shared: shared.map(str::as_bytes),
            reference: reference.map(str::as_bytes),
            actuals: a,
            overrides,
            relying,
        })
    }

    #[test]
    fn a_wrong_shared_golden_its_only_user_disagrees_with_is_rewritten() {
        // #39: only unix runs native_fn; the shared file was broken by hand.
        let a = actuals(&[("unix", "285 328350\n")]);
        let d = decide_full(Some("999 1\n"), None, &a, &[], &[]);
        assert_eq!(
            d.writes,
            vec![GoldenWrite::Shared(b"285 328350\n".to_vec())]
        );
        assert_eq!(
            d.why,
            Some(Why::Replaced(
                "every board that uses it agrees (unix)".into()
            ))
        );
    }

    #[test]
    fn a_kept_shared_golden_says_which_boards_still_use_it() {
        let a = actuals(&[("unix", "new\n")]);
        let d = decide_full(Some("old\n"), None, &a, &[], &["pico".into()]);
        assert_eq!(
            d.writes,
            vec![GoldenWrite::Board("unix".into(), b"new\n".to_vec())]
        );
        assert_eq!(
            d.why,
            Some(Why::Kept(
                "pico uses it and gave no output to bless (bless them too to move it)".into()
            ))
        );
    }

    #[test]
    fn users_that_disagree_get_overrides_and_are_named() {
        let a = actuals(&[("microbit", "b\n"), ("unix", "a\n"), ("webassembly", "a\n")]);
        let d = decide_full(Some("old\n"), None, &a, &[], &[]);
        assert_eq!(
            d.writes,
            vec![
                GoldenWrite::Board("microbit".into(), b"b\n".to_vec()),
                GoldenWrite::Board("unix".into(), b"a\n".to_vec()),
                GoldenWrite::Board("webassembly".into(), b"a\n".to_vec()),
            ]
        );
        assert_eq!(
            d.why,
            Some(Why::Kept(
                "the boards that use it disagree (microbit | unix, webassembly)".into()
            ))
        );
    }

    #[test]
    fn a_board_with_its_own_override_does_not_vote_on_the_shared_golden() {
        let a = actuals(&[("unix", "a\n"), ("webassembly", "w\n")]);
        let d = decide_full(Some("old\n"), None, &a, &["webassembly".into()], &[]);
        assert_eq!(
            d.writes,
            vec![
                GoldenWrite::Shared(b"a\n".to_vec()),
                GoldenWrite::Board("webassembly".into(), b"w\n".to_vec()),
            ]
        );
    }

    #[test]
    fn edited_shared_golden_is_restored_not_overridden() {
        let a = actuals(&[("cpython", "1\n"), ("unix", "1\n"), ("webassembly", "1\n")]);
        let w = decide(Some("2\n"), Some("1\n"), &a, &[], false);
        assert_eq!(w, vec![GoldenWrite::Shared(b"1\n".to_vec())]);
    }

    #[test]
    fn matching_cpython_writes_nothing() {
        let a = actuals(&[("unix", "1\n"), ("webassembly", "1\n")]);
        assert!(decide(None, Some("1\n"), &a, &[], false).is_empty());
    }

    #[test]
    fn one_board_differs_gets_override_only() {
        let a = actuals(&[
            ("cpython", "1.0\n"),
            ("unix", "1.0\n"),
            ("webassembly", "1\n"),
        ]);
        let w = decide(None, Some("1.0\n"), &a, &[], false);
        assert_eq!(
            w,
            vec![GoldenWrite::Board("webassembly".into(), b"1\n".to_vec())]
        );
    }

    #[test]
    fn micropython_only_case_gets_consensus_shared_golden() {
        let a = actuals(&[("microbit", "b\n"), ("unix", "a\n"), ("webassembly", "a\n")]);
        let w = decide(None, None, &a, &[], false);
        assert_eq!(
            w,
            vec![
                GoldenWrite::Shared(b"a\n".to_vec()),
                GoldenWrite::Board("microbit".into(), b"b\n".to_vec())
            ]
        );
    }

    #[test]
    fn stale_override_is_removed() {
        let a = actuals(&[("unix", "a\n")]);
        let w = decide(Some("a\n"), None, &a, &["unix".into()], false);
        assert_eq!(w, vec![GoldenWrite::RemoveBoard("unix".into())]);
    }

    #[test]
    fn a_shared_golden_other_boards_rely_on_stays() {
        // `bless --board unix` on a case whose shared golden microbit-qemu still matches.
        let a = actuals(&[("unix", "new\n")]);
        let w = decide(Some("old\n"), None, &a, &[], true);
        assert_eq!(
            w,
            vec![GoldenWrite::Board("unix".into(), b"new\n".to_vec())]
        );
        // Nothing relies on it: the shared golden follows the blessed board.
        let w = decide(Some("old\n"), None, &a, &[], false);
        assert_eq!(w, vec![GoldenWrite::Shared(b"new\n".to_vec())]);
    }

    #[test]
    fn truncated_output_never_passes() {
        assert_eq!(judge_output(b"x\n", b"x\n", true), Verdict::Fail);
        assert_eq!(judge_output(b"x\n", b"x\r\n", false), Verdict::Pass);
        assert_eq!(judge_output(b"x\n", b"y\n", false), Verdict::Fail);
    }
}
