//! `junit.xml`: one test suite per board, one test case per board × case × mode, valid
//! against Jenkins' xunit JUnit schema (`tests/junit/junit-10.xsd`), the strictest
//! common consumer: a failure's `message` is one line, the diff is its body, the case's
//! output is its `system-out`, and every level carries its time.
//!
//! Written with quick-xml rather than quick-junit: quick-junit always writes
//! `testsuites@skipped`, which that schema rejects.

use std::collections::BTreeMap;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{RunReport, explanation, headline};
use crate::model::verdict::Verdict;
use crate::pipeline::TrialResult;

pub fn render(report: &RunReport) -> String {
    let mut suites: BTreeMap<&str, Vec<&TrialResult>> = BTreeMap::new();
    for r in report.results {
        suites.entry(r.board.as_str()).or_default().push(r);
    }
    let all = Tally::of(report.results.iter());
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "mpcheck"));
    all.attributes(&mut root);
    root.push_attribute(("time", seconds(report.duration.as_millis()).as_str()));
    let _ = w.write_event(Event::Start(root));
    for (board, results) in &suites {
        let tally = Tally::of(results.iter().copied());
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", *board));
        tally.attributes(&mut suite);
        suite.push_attribute(("skipped", tally.skipped.to_string().as_str()));
        let time: u128 = results.iter().map(|r| r.duration_ms).sum();
        suite.push_attribute(("time", seconds(time).as_str()));
        let _ = w.write_event(Event::Start(suite));
        for r in results {
            test_case(&mut w, r);
        }
        let _ = w.write_event(Event::End(BytesEnd::new("testsuite")));
    }
    let _ = w.write_event(Event::End(BytesEnd::new("testsuites")));
    String::from_utf8_lossy(&w.into_inner()).into_owned() + "\n"
}

/// How much of a trial's output goes into its `<system-out>`: CI pages show it whole.
const SYSTEM_OUT_CHARS: usize = 64 * 1024;

fn test_case(w: &mut Writer<Vec<u8>>, r: &TrialResult) {
    let mut case = BytesStart::new("testcase");
    let suffix = if r.mode == crate::model::case::Mode::Source {
        String::new()
    } else {
        format!(".{}", r.mode.as_str())
    };
    case.push_attribute(("name", format!("{}{suffix}", r.case).as_str()));
    case.push_attribute(("classname", r.board.as_str()));
    case.push_attribute(("time", seconds(r.duration_ms).as_str()));
    let _ = w.write_event(Event::Start(case));
    let status = match &r.verdict {
        Verdict::Pass => None,
        Verdict::Skip { .. } => Some("skipped"),
        Verdict::Fail | Verdict::Timeout { .. } | Verdict::Crash { .. } | Verdict::Flaky { .. } => {
            Some("failure")
        }
        Verdict::CompileError { .. } | Verdict::Error { .. } => Some("error"),
    };
    if let Some(tag) = status {
        let mut el = BytesStart::new(tag);
        el.push_attribute(("type", r.verdict.name()));
        el.push_attribute(("message", headline(r).as_str()));
        let _ = w.write_event(Event::Start(el));
        if tag != "skipped" {
            let text = explanation(r, crate::util::diff::REPORT_LINES);
            let _ = w.write_event(Event::Text(BytesText::new(&text)));
        }
        let _ = w.write_event(Event::End(BytesEnd::new(tag)));
    }
    if let Some(out) = &r.output {
        let _ = w.write_event(Event::Start(BytesStart::new("system-out")));
        let text = String::from_utf8_lossy(out);
        let text = match text.char_indices().nth(SYSTEM_OUT_CHARS) {
            Some((cut, _)) => format!(
                "{}\n… {} more bytes not shown (results.json has the whole output)\n",
                &text[..cut],
                text.len() - cut
            ),
            None => text.into_owned(),
        };
        // Also what XML 1.0 cannot carry (a raw ESC is not allowed in it).
        let text = crate::util::escape::controls(&text);
        let _ = w.write_event(Event::Text(BytesText::new(&text)));
        let _ = w.write_event(Event::End(BytesEnd::new("system-out")));
    }
    let _ = w.write_event(Event::End(BytesEnd::new("testcase")));
}

/// The counts the schema requires on a suite (and allows on the root).
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Tally {
    fn of<'a>(results: impl Iterator<Item = &'a TrialResult>) -> Tally {
        let mut t = Tally {
            tests: 0,
            failures: 0,
            errors: 0,
            skipped: 0,
        };
        for r in results {
            t.tests += 1;
            match r.verdict {
                Verdict::Pass => {}
                Verdict::Skip { .. } => t.skipped += 1,
                Verdict::Fail
                | Verdict::Timeout { .. }
                | Verdict::Crash { .. }
                | Verdict::Flaky { .. } => t.failures += 1,
                Verdict::CompileError { .. } | Verdict::Error { .. } => t.errors += 1,
            }
        }
        t
    }

    fn attributes(&self, el: &mut BytesStart) {
        el.push_attribute(("tests", self.tests.to_string().as_str()));
        el.push_attribute(("failures", self.failures.to_string().as_str()));
        el.push_attribute(("errors", self.errors.to_string().as_str()));
    }
}

/// Seconds with millisecond precision, the schema's SUREFIRE_TIME form (no exponent, no
/// thousands separator).
fn seconds(ms: u128) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_plain_decimal_seconds() {
        assert_eq!(super::seconds(12_345), "12.345");
        assert_eq!(super::seconds(7), "0.007");
    }
}
