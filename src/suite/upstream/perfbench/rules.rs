//! What run-perfbench.py does to a benchmark, read from the checkout's own text: the
//! script's prelude, the files it never runs, the feature checks that skip a benchmark,
//! the benchmarks left out for a small heap, and `-a`'s default. What cannot be read
//! falls back to v1.28.0's rule, with a notice saying so.

use std::path::Path;

use regex::Regex;

use crate::suite::upstream::pylex::{Tok, logical_lines};
use crate::suite::upstream::pyread::read_source;

/// run-perfbench.py's rules, as read from one checkout.
#[derive(Debug, Clone)]
pub struct Rules {
    /// What goes before the benchmark (`test_script = b"..."`).
    pub prelude: Vec<u8>,
    /// benchrun.py: the harness appended after the benchmark.
    pub harness: Vec<u8>,
    /// Files of perf_bench/ that are not benchmarks (`tests_skip = (...)`).
    pub not_benchmarks: Vec<String>,
    /// `if M <= limit:` these are too big to be compiled by the target.
    pub small_heap: Option<(u32, Vec<String>)>,
    /// A benchmark whose file name contains `pattern` is skipped unless
    /// feature_check/`check`.py prints `wanted`.
    pub needs: Vec<Need>,
    /// `-a`'s default: how many times each benchmark runs.
    pub average: usize,
    /// What was not read and what stands in for it.
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub pattern: String,
    pub check: String,
    pub wanted: String,
}

fn re(s: &str) -> Regex {
    Regex::new(s).expect("a literal pattern")
}

fn quoted(list: &str) -> Vec<String> {
    re(r#"["']([^"']+)["']"#)
        .captures_iter(list)
        .map(|c| c[1].to_string())
        .collect()
}

impl Rules {
    /// Reads `tests_dir/run-perfbench.py` and `tests_dir/perf_bench/benchrun.py`;
    /// `Err` when either is missing (the checkout has no perf_bench to run).
    pub fn read(tests_dir: &Path) -> Result<Rules, String> {
        let script = tests_dir.join("run-perfbench.py");
        let harness = tests_dir.join("perf_bench/benchrun.py");
        let text = std::fs::read_to_string(&script)
            .map_err(|e| format!("{}: {}", script.display(), crate::util::error::io_text(&e)))?;
        let harness = std::fs::read(&harness)
            .map_err(|e| format!("{}: {}", harness.display(), crate::util::error::io_text(&e)))?;
        Ok(Rules::from_text(&text, harness))
    }

    pub fn from_text(text: &str, harness: Vec<u8>) -> Rules {
        let mut notices = Vec::new();
        let mut missing = |what: &str, stand_in: &str| {
            notices.push(format!(
                "perf_bench: run-perfbench.py's {what} was not read; v1.28.0's is used ({stand_in})"
            ))
        };
        // Read with the reader of run-tests.py (its tokens, its string escapes).
        let file = Path::new("run-perfbench.py");
        let lines = logical_lines(file, text).unwrap_or_default();
        let prelude = match lines.iter().find_map(|l| match l.toks.as_slice() {
            [(Tok::Name(n), _), (Tok::Op(eq), _), (Tok::Str(s), _)]
                if n == "test_script" && eq == "=" =>
            {
                Some(s.as_bytes().to_vec())
            }
            _ => None,
        }) {
            Some(p) => p,
            None => {
                missing(
                    "prelude (`test_script = b\"...\"`)",
                    "import sys; sys.path.remove('')",
                );
                b"import sys\nsys.path.remove('')\n\n".to_vec()
            }
        };
        let not_benchmarks = match re(r"tests_skip\s*=\s*\(([^)]*)\)").captures(text) {
            Some(c) => quoted(&c[1]),
            None => {
                missing("files that are no benchmark (`tests_skip`)", "benchrun.py");
                vec!["benchrun.py".into()]
            }
        };
        let small_heap = re(r"(?s)if M <= (\d+):.{0,400}?tests_skip \+= \(([^)]*)\)")
            .captures(text)
            .and_then(|c| Some((c[1].parse().ok()?, quoted(&c[2]))));
        if small_heap.is_none() {
            missing(
                "small-heap skips (`if M <= N: tests_skip += (...)`)",
                "none skipped",
            );
        }
        let checks: Vec<(String, String, String)> =
            re(r#"(skip_\w+)\s*=\s*run_feature_test\(\s*target,\s*"(\w+)"\s*\)\s*!=\s*"(\w+)""#)
                .captures_iter(text)
                .map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string()))
                .collect();
        let needs: Vec<Need> = re(r#"(skip_\w+)\s+and\s+test_file\.find\("([^"]+)"\)\s*!=\s*-1"#)
            .captures_iter(text)
            .filter_map(|c| {
                let (_, check, wanted) = checks.iter().find(|(v, _, _)| *v == c[1])?;
                Some(Need {
                    pattern: c[2].to_string(),
                    check: check.clone(),
                    wanted: wanted.clone(),
                })
            })
            .collect();
        let needs = if needs.is_empty() {
            missing(
                "feature skips (`skip_x = run_feature_test(...)`, `skip_x and test_file.find(...)`)",
                "bm_fft needs complex, viper_ needs native",
            );
            vec![
                Need {
                    pattern: "bm_fft".into(),
                    check: "complex".into(),
                    wanted: "complex".into(),
                },
                Need {
                    pattern: "viper_".into(),
                    check: "native_check".into(),
                    wanted: "native".into(),
                },
            ]
        } else {
            needs
        };
        let average = match read_source(file, text)
            .ok()
            .and_then(|src| src.arg_defaults.get("--average")?.parse().ok())
        {
            Some(a) => a,
            None => {
                missing("`-a` default", "8");
                8
            }
        };
        Rules {
            prelude,
            harness,
            not_benchmarks,
            small_heap,
            needs,
            average,
            notices,
        }
    }

    /// Why run-perfbench.py would not run `file` (a perf_bench/ file name) with heap `m`
    /// on a target whose feature checks printed `output(check)`; `None`: it runs.
    pub fn skip(
        &self,
        file: &str,
        m: u32,
        output: &dyn Fn(&str) -> Option<String>,
    ) -> Option<String> {
        if let Some((limit, names)) = &self.small_heap
            && m <= *limit
            && names.iter().any(|n| n == file)
        {
            return Some(format!(
                "too big to be compiled by the target at M={m} (run-perfbench.py: M <= {limit})"
            ));
        }
        for need in self.needs.iter().filter(|n| file.contains(&n.pattern)) {
            let got = output(&need.check);
            if got.as_deref() != Some(need.wanted.as_str()) {
                return Some(format!(
                    "feature_check/{}.py printed {} (run-perfbench.py wants `{}` for {}*)",
                    need.check,
                    got.map_or("nothing".into(), |g| format!("`{g}`")),
                    need.wanted,
                    need.pattern
                ));
            }
        }
        None
    }

    /// The script run-perfbench.py sends to the target for one benchmark.
    pub fn script(&self, bench: &[u8], n: u32, m: u32) -> Vec<u8> {
        let mut s = self.prelude.clone();
        s.extend_from_slice(bench);
        s.extend_from_slice(&self.harness);
        s.extend_from_slice(format!("bm_run({n}, {m})\n").as_bytes());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_v1_28_rules_and_says_what_it_could_not_read() {
        let text = r#"
        test_script = b"import sys\nsys.path.remove('')\n\n"
    skip_complex = run_feature_test(target, "complex") != "complex"
    skip_native = run_feature_test(target, "native_check") != "native"
            skip_complex
            and test_file.find("bm_fft") != -1
            or skip_native
            and test_file.find("viper_") != -1
    cmd_parser.add_argument("-a", "--average", default="8", help="averaging number")
        tests_skip = ("benchrun.py",)
        if M <= 25:
            # These scripts are too big to be compiled by the target
            tests_skip += ("bm_chaos.py", "bm_hexiom.py", "misc_raytrace.py")
"#;
        let r = Rules::from_text(text, b"H\n".to_vec());
        assert_eq!(r.prelude, b"import sys\nsys.path.remove('')\n\n");
        assert_eq!(r.not_benchmarks, ["benchrun.py"]);
        assert_eq!(r.small_heap.as_ref().unwrap().0, 25);
        assert_eq!(r.small_heap.as_ref().unwrap().1.len(), 3);
        assert_eq!(r.needs.len(), 2);
        assert_eq!(r.needs[1].check, "native_check");
        assert_eq!(r.average, 8);
        assert!(r.notices.is_empty(), "{:?}", r.notices);
        let out = |c: &str| (c == "complex").then(|| "complex".to_string());
        assert_eq!(r.skip("bm_fft.py", 100, &out), None);
        assert!(
            r.skip("viper_call0.py", 100, &out)
                .unwrap()
                .contains("native_check")
        );
        assert!(r.skip("bm_chaos.py", 25, &out).unwrap().contains("M <= 25"));
        assert_eq!(r.skip("bm_chaos.py", 26, &out), None);
        assert!(
            r.script(b"B\n", 100, 50)
                .ends_with(b"B\nH\nbm_run(100, 50)\n")
        );

        let bare = Rules::from_text("", Vec::new());
        assert_eq!(bare.notices.len(), 5, "{:?}", bare.notices);
        assert_eq!(bare.needs.len(), 2);
    }
}
