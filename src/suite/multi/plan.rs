//! Which multi-instance trials a run makes: one per test of a checkout's `multi_*/`,
//! asked for by name (run-tests.py never runs them; run-multitests.py runs the files it
//! is given), its instances on the run's boards that can host one.

use std::sync::Arc;

use super::Instances;
use super::protocol::Protocol;
use crate::boardfile::Board;
use crate::model::case::{Case, Mode};
use crate::model::verdict::Verdict;
use crate::plan::Trial;
use crate::targets::open::Targets;

/// The directories that hold multi-instance tests start so (`multi_net/`, `multi_bluetooth/`).
const PREFIX: &str = "multi_";

/// Whether a case is a multi-instance test (in a `multi_*/` directory).
pub fn is_multi(case: &Case) -> bool {
    case.id.group.starts_with(PREFIX)
}

/// Whether the filters name multi-instance tests: only then are they planned.
pub fn named(filters: &[String]) -> bool {
    filters.iter().any(|f| f.contains(PREFIX))
}

/// The multi-instance trials of a checkout's `cases` (its tests/ at `tests_dir`, beside
/// its run-multitests.py): instance `i` on the `i`-th board that can host one, round
/// again when there are fewer boards than instances (upstream fills missing instances
/// with more of the unix port); the trial is on instance 0's.
pub fn trials(
    tests_dir: &std::path::Path,
    cases: &[Arc<Case>],
    boards: &[Arc<Board>],
    targets: &Targets,
) -> Vec<Trial> {
    let multi: Vec<&Arc<Case>> = cases.iter().filter(|c| is_multi(c)).collect();
    if multi.is_empty() {
        return Vec::new();
    }
    let hosts: Vec<&Arc<Board>> = boards
        .iter()
        .filter(|b| targets.get(&b.name).is_ok_and(|t| t.hosts_instances()))
        .collect();
    let protocol = Protocol::read(tests_dir).map_err(|e| e.to_string());
    multi
        .into_iter()
        .filter_map(|case| {
            let board = hosts.first().copied().or(boards.first())?;
            let source = String::from_utf8_lossy(&case.source);
            let (boards, decided) = match (&protocol, hosts.is_empty()) {
                (Err(message), _) => (
                    Vec::new(),
                    Some(Verdict::Error {
                        message: message.clone(),
                    }),
                ),
                (Ok(_), true) => (
                    Vec::new(),
                    Some(Verdict::Skip {
                        reason: "no board of the run can host a multi-test instance".into(),
                    }),
                ),
                (Ok(p), false) => match p.instances(&source) {
                    0 => (
                        Vec::new(),
                        Some(Verdict::Error {
                            message: format!("{}: no `def instanceN():`", case.path.display()),
                        }),
                    ),
                    n => (
                        (0..n)
                            .map(|i| hosts[i % hosts.len()].name.clone())
                            .collect(),
                        case.settings
                            .as_ref()
                            .err()
                            .map(|m| Verdict::Error { message: m.clone() }),
                    ),
                },
            };
            Some(Trial {
                board: board.clone(),
                case: case.clone(),
                mode: Mode::Source,
                decided,
                kind: Some(Arc::new(Instances {
                    boards,
                    rules: super::Rules::Checkout(tests_dir.to_path_buf()),
                })),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_filter_naming_them_plans_them() {
        assert!(named(&["multi_net/".into()]));
        assert!(named(&[
            "basics/".into(),
            "tests/multi_net/tcp_data.py".into()
        ]));
        assert!(!named(&[]));
        assert!(!named(&["basics/".into()]));
    }
}
