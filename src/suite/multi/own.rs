//! Multi-instance cases of a project's own `cases/`: a case with `def instance0():`,
//! `def instance1():`, … runs under mpcheck's own rules (`own_rules.py`), one trial per
//! board of the run: instance 0 on that board, the others on its `partners:` in turn.
//! The bytecode board checks such a case's disassembly as any other's.

use std::sync::Arc;

use super::protocol::Protocol;
use super::{Instances, Rules};
use crate::boardfile::Board;
use crate::expect::golden::output::ExpectedOutput;
use crate::expect::reference::Reference;
use crate::model::case::{Case, Mode};
use crate::model::verdict::Verdict;
use crate::plan::Trial;

/// Whether a project's case is a multi-instance one.
pub fn is_multi(case: &Case) -> bool {
    Protocol::own().instances(&String::from_utf8_lossy(&case.source)) > 0
}

/// What a multi-instance case is judged by where it has no golden, as its trials judge
/// it: the case on as many CPython instances. Bless weighs the boards' output against
/// this, not against one CPython run of the file (which runs no instance: every run
/// then proposed a new golden for a case that passed).
pub fn truth(case: &Case, reference: &Reference) -> Result<ExpectedOutput, String> {
    let n = Protocol::own().instances(&String::from_utf8_lossy(&case.source));
    super::expected(case, n, &Rules::Own, reference)
}

/// The trials of the project's multi-instance `cases` on `boards`.
pub fn trials(boards: &[Arc<Board>], cases: &[Arc<Case>]) -> Vec<Trial> {
    let (bytecode, running): (Vec<Arc<Board>>, Vec<Arc<Board>>) =
        boards.iter().cloned().partition(|b| b.kind() == "bytecode");
    let mut trials = crate::plan::plan(&bytecode, cases);
    for board in &running {
        for case in cases {
            if board.runs_case(&case.id.to_string()) {
                trials.push(trial(board, case, boards));
            }
        }
    }
    trials
}

fn trial(board: &Arc<Board>, case: &Arc<Case>, boards: &[Arc<Board>]) -> Trial {
    let decided = |verdict| Trial {
        board: board.clone(),
        case: case.clone(),
        mode: Mode::Source,
        decided: Some(verdict),
        kind: None,
    };
    let settings = match &case.settings {
        Ok(s) => s,
        Err(message) => {
            return decided(Verdict::Error {
                message: message.clone(),
            });
        }
    };
    if let Some(reason) = settings.excluded_reason(&[&board.name, &board.family, board.kind()]) {
        return decided(Verdict::Skip { reason });
    }
    if board.kind() == "webassembly" {
        return decided(Verdict::Skip {
            reason: "a multi-instance case needs a board that hosts an instance; the \
                     webassembly port cannot (run-multitests.py refuses it too)"
                .into(),
        });
    }
    if settings
        .modes
        .as_ref()
        .is_some_and(|m| !m.contains(&Mode::Source))
    {
        return decided(Verdict::Skip {
            reason: "a multi-instance case runs its instances from source only".into(),
        });
    }
    let host_vm = matches!(board.kind(), "unix" | "cpython");
    let partners: Vec<String> = match &settings.partners {
        Some(p) if !p.is_empty() => p.clone(),
        _ if host_vm => vec![board.name.clone()],
        _ => vec!["unix".into()],
    };
    let mut hosts = Vec::new();
    for partner in &partners {
        match boards
            .iter()
            .find(|b| &b.name == partner || &b.family == partner)
        {
            Some(b) if b.kind() == "bytecode" || b.kind() == "webassembly" => {
                return decided(Verdict::Error {
                    message: format!(
                        "{}: partners: board `{}` cannot host an instance",
                        case.path.display(),
                        b.name
                    ),
                });
            }
            Some(b) => hosts.push(b.name.clone()),
            None => {
                return decided(Verdict::Skip {
                    reason: format!(
                        "instance partner `{partner}` is not a board of this run (select it \
                         with --board)"
                    ),
                });
            }
        }
    }
    let n = Protocol::own().instances(&String::from_utf8_lossy(&case.source));
    let instance_boards = std::iter::once(board.name.clone())
        .chain((1..n).map(|i| hosts[(i - 1) % hosts.len()].clone()))
        .collect();
    Trial {
        board: board.clone(),
        case: case.clone(),
        mode: Mode::Source,
        decided: None,
        kind: Some(Arc::new(Instances {
            boards: instance_boards,
            rules: Rules::Own,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::case::CaseId;

    fn boards(names: &[&str]) -> Vec<Arc<Board>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boards");
        crate::boardfile::load_boards(&dir)
            .unwrap()
            .into_iter()
            .filter(|b| names.contains(&b.name.as_str()))
            .map(Arc::new)
            .collect()
    }

    fn case(dir: &tempfile::TempDir, source: &str) -> Arc<Case> {
        let path = dir.path().join("c.py");
        std::fs::write(&path, source).unwrap();
        let id = CaseId {
            group: "g".into(),
            name: "c".into(),
        };
        Arc::new(Case::load(&path, id).unwrap())
    }

    /// What each board's trial is: its instances' boards, or the decided verdict.
    fn planned(trials: &[Trial]) -> Vec<(String, String)> {
        trials
            .iter()
            .map(|t| {
                let what = match (&t.decided, &t.kind) {
                    (Some(v), _) => format!("{v:?}"),
                    (None, Some(k)) => format!("{k:?}"),
                    (None, None) => "plain".into(),
                };
                (t.board.name.clone(), what)
            })
            .collect()
    }

    const THREE: &str =
        "def instance0():\n    pass\ndef instance1():\n    pass\ndef instance2():\n    pass\n";

    #[test]
    fn instances_go_to_the_board_then_its_partners() {
        let dir = tempfile::tempdir().unwrap();
        let c = case(&dir, THREE);
        assert!(is_multi(&c));
        let all = boards(&["unix", "mps2-an385-qemu", "bytecode", "webassembly"]);
        let got = planned(&trials(&all, std::slice::from_ref(&c)));
        let of = |b: &str| got.iter().find(|(n, _)| n == b).unwrap().1.clone();
        // A host VM hosts every instance; a board shares the rest with the unix port.
        assert!(
            of("unix").contains(r#"boards: ["unix", "unix", "unix"]"#),
            "{got:?}"
        );
        assert!(
            of("mps2-an385-qemu").contains(r#"boards: ["mps2-an385-qemu", "unix", "unix"]"#),
            "{got:?}"
        );
        assert_eq!(of("bytecode"), "plain");
        assert!(
            of("webassembly").contains("cannot (run-multitests.py"),
            "{got:?}"
        );
        // What a run that opens only the boards its trials need must open.
        let on_board = trials(&all, std::slice::from_ref(&c))
            .into_iter()
            .find(|t| t.board.name == "mps2-an385-qemu")
            .unwrap();
        assert_eq!(
            on_board.boards().collect::<Vec<_>>(),
            ["mps2-an385-qemu", "unix", "unix"]
        );
    }

    #[test]
    fn partners_are_named_by_the_header_and_must_be_in_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let header = "# ---\n# partners: [cpython, unix]\n# ---\n";
        let c = case(&dir, &format!("{header}{THREE}"));
        let got = planned(&trials(
            &boards(&["unix", "cpython"]),
            std::slice::from_ref(&c),
        ));
        assert!(
            got[0].1.contains(r#"["cpython", "cpython", "unix"]"#),
            "{got:?}"
        );
        let got = planned(&trials(&boards(&["unix"]), &[c]));
        assert!(
            got[0]
                .1
                .contains("partner `cpython` is not a board of this run"),
            "{got:?}"
        );
        let plain = case(&dir, "print(1)\n");
        assert!(!is_multi(&plain));
    }
}
