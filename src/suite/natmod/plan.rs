//! Which natmod trials a run makes: `natmod/<test>` for each test of the checkout's
//! extmod/ that upstream runs with a native module, on each board of the run, asked for
//! by name (run-tests.py never runs them with the module; run-natmodtests.py runs the
//! files it is given).

use std::path::Path;
use std::sync::Arc;

use super::{Builder, Rules, Test};
use crate::boardfile::Board;
use crate::model::case::{Case, CaseId, CaseSettings, Mode};
use crate::model::verdict::Verdict;
use crate::plan::{Trial, TrialKind};

/// A natmod trial's group: its name is `<board>::natmod/<test>`.
pub const GROUP: &str = "natmod";

/// Whether the filters name natmod tests: only then are they planned.
pub fn named(filters: &[String]) -> bool {
    filters.iter().any(|f| f.contains(GROUP))
}

/// The natmod trials of a checkout's `cases` (its tests/ at `tests_dir`): each board's
/// with the modules of each arch it loads (its own first), by the board's arch (`arch(board)`: `None` when the board was not probed, `Some(None)`
/// when it loads no native code).
pub fn trials(
    tests_dir: &Path,
    cases: &[Arc<Case>],
    boards: &[Arc<Board>],
    arch: &dyn Fn(&str) -> Option<Option<String>>,
    builder: &Builder,
) -> Vec<Trial> {
    let rules = Rules::read(tests_dir).map(Arc::new);
    let tests: Vec<Arc<Case>> = cases
        .iter()
        .filter(|c| c.id.group == "extmod")
        .filter_map(|c| {
            let name = c.path.file_name()?.to_string_lossy().into_owned();
            let wanted = rules.as_ref().map_or(true, |r| r.runs(&name));
            wanted.then(|| natmod_case(c, c.id.name.clone()))
        })
        .collect();
    let mut trials = Vec::new();
    for board in boards {
        let Some(board_arch) = arch(&board.name) else {
            continue;
        };
        // Its own modules' arch (`natmod/<test>`), then every other it loads
        // (`natmod/<test>.<arch>`).
        let arches = match (&rules, &board_arch) {
            (Ok(r), Some(a)) => r.module_arches(a),
            _ => vec![String::new()],
        };
        for (i, module_arch) in arches.iter().enumerate() {
            for case in &tests {
                let case = match i {
                    0 => case.clone(),
                    _ => natmod_case(case, format!("{}.{module_arch}", case.id.name)),
                };
                let (natmod, decided) = match (&rules, &board_arch) {
                    (Err(message), _) => (
                        None,
                        Some(Verdict::Error {
                            message: message.clone(),
                        }),
                    ),
                    (Ok(_), None) => (
                        None,
                        Some(Verdict::Skip {
                            reason: "the target does not support dynamic modules".into(),
                        }),
                    ),
                    (Ok(r), Some(_)) => (
                        Some(Arc::new(Test {
                            rules: r.clone(),
                            builder: builder.clone(),
                            arch: module_arch.clone(),
                        })),
                        None,
                    ),
                };
                trials.push(Trial {
                    board: board.clone(),
                    case,
                    mode: Mode::Source,
                    decided,
                    kind: natmod.map(|t| t as Arc<dyn TrialKind>),
                });
            }
        }
    }
    trials
}

/// The natmod trial's case of an extmod test: `natmod/<name>`, upstream's settings.
fn natmod_case(test: &Case, name: String) -> Arc<Case> {
    Arc::new(Case {
        id: CaseId {
            group: GROUP.into(),
            name,
        },
        path: test.path.clone(),
        source: test.source.clone(),
        settings: Ok(CaseSettings::default()),
        import_name: test.import_name.clone(),
    })
}

/// A probed board's arch: the checkout's target_info.py's, else (v1.24's prints none
/// mpcheck reads) the target's own probe of `sys.implementation._mpy` (`host`: this
/// machine's); `Some(None)`: it loads no native code.
pub fn arch(
    from_checkout: Option<String>,
    targets: &crate::targets::open::Targets,
    board: &str,
) -> Option<Option<String>> {
    let native = || {
        let a = targets.get(board).ok()?.native_arch()?;
        match (a.as_str(), std::env::consts::ARCH) {
            ("host", "x86_64") => Some("x64".to_string()),
            ("host", "x86") => Some("x86".to_string()),
            ("host", _) => None,
            _ => Some(a),
        }
    };
    Some(from_checkout.or_else(native))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_filter_naming_them_plans_them() {
        assert!(named(&["natmod/".into()]));
        assert!(named(&["unix::natmod/re1".into()]));
        assert!(!named(&["extmod/re1".into()]));
        assert!(!named(&[]));
    }
}
