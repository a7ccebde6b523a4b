//! `junit.xml`: one test suite per board, one test case per board × case × mode; a
//! failure's message is the diff.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{RunReport, explanation};
use crate::compare::Verdict;

pub fn render(report: &RunReport) -> String {
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for r in report.results {
        let status = match &r.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Skip { reason } => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(reason.as_str());
                s
            }
            Verdict::Fail
            | Verdict::Timeout { .. }
            | Verdict::Crash { .. }
            | Verdict::Flaky { .. } => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!(
                    "{}: {}",
                    r.verdict.name(),
                    first_line(&explanation(r))
                ));
                s.set_type(r.verdict.name());
                s.set_description(explanation(r));
                s
            }
            Verdict::CompileError { message } | Verdict::Error { message } => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(message.as_str());
                s.set_type(r.verdict.name());
                s
            }
        };
        let mut case = TestCase::new(
            format!(
                "{}{}",
                r.case,
                if r.mode == crate::case::Mode::Mpy {
                    ".mpy"
                } else {
                    ""
                }
            ),
            status,
        );
        case.set_classname(r.board.as_str());
        case.set_time(Duration::from_millis(r.duration_ms as u64));
        suites
            .entry(r.board.as_str())
            .or_insert_with(|| TestSuite::new(r.board.as_str()))
            .add_test_case(case);
    }
    let mut junit = Report::new("mpcheck");
    junit.set_time(report.duration);
    junit.add_test_suites(suites.into_values());
    junit.to_string().unwrap_or_default()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
