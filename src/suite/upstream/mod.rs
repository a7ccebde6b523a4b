//! MicroPython's own `tests/` directory as a suite, run as-is with run-tests.py's
//! verdicts (without ever running or importing run-tests.py):
//!
//! ```text
//! Suite::load     tests/ → candidate tests (every directory some target could add,
//!                 `*.py` directly inside: subpackage directories hold helpers), skip
//!                 lists read from the checkout's run-tests.py (pyread, skips)
//! plan_trials     per board: feature_check/ run through the target (facts) → its test
//!                 directories and skips → trials
//! exec / judge    host command lines, the pty REPL, `CRASH`, regex `.exp`, unittest
//! reclassify      known-flaky failures → "ignored"
//! results         _results.json and the failures' .exp/.out
//! ```

pub mod agreement;
pub(crate) mod board_args;
mod condition;
mod conventions;
mod error;
mod estimate;
pub mod exec;
mod exp_rule;
pub mod facts;
mod facts_read;
pub mod judge;
pub mod perfbench;
mod plan;
mod py_regex;
mod pylex;
pub mod pyread;
mod pyvalue;
pub mod results;
mod shared_use;
pub mod skips;
mod tokens;
mod versions;
pub mod zygote;

pub use error::UpstreamError;
pub use plan::{Session, plan_trials};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;

use crate::expect::known::KnownDifferences;
use crate::model::case::{Case, CaseId, CaseSettings, Mode};
use crate::model::verdict::Verdict;
use crate::pipeline::{Pipeline, TrialResult};
use crate::plan::Trial;
use crate::targets::{RunRequest, Target};
use conventions::Conventions;
use facts::Facts;
use skips::SkipLists;

/// The emitter a suite runs with (run-tests.py's `--emit`): `-X emit=` for the VM and
/// mpy-cross, `<test>.py.<emit>.exp` before `<test>.py.exp`, and its skip list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    #[default]
    Bytecode,
    Native,
}

impl Emit {
    pub fn as_str(self) -> &'static str {
        match self {
            Emit::Bytecode => "bytecode",
            Emit::Native => "native",
        }
    }
}

/// What an upstream test needs beyond a plain case.
#[derive(Debug, Clone)]
pub struct UpstreamCase {
    /// The checkout's `tests/` (absolute).
    pub tests_dir: PathBuf,
    /// `basics/foo.py`: the name run-tests.py reports.
    pub rel: String,
    /// `cmdline/` and `feature_check/`: run with `# cmdline:` args, output regex-matched.
    pub special: bool,
    /// The `.exp` is in the regex dialect.
    pub regex: bool,
    /// A `repl_*` special test: fed to the REPL on a pty.
    pub repl: bool,
    /// The `# cmdline:` header's VM arguments.
    pub cmdline: Vec<String>,
    pub emit: Emit,
    /// How the checkout reads its regex `.exp` files and REPL keys.
    pub(crate) exp_rule: Arc<exp_rule::ExpRule>,
}

impl UpstreamCase {
    /// `<test>.py.<emit>.exp`, else `<test>.py.exp`, if either exists.
    pub fn exp_file(&self) -> Option<PathBuf> {
        [
            format!("{}.{}.exp", self.rel, self.emit.as_str()),
            format!("{}.exp", self.rel),
        ]
        .into_iter()
        .map(|n| self.tests_dir.join(n))
        .find(|p| p.is_file())
    }
}

/// A MicroPython tests directory ready to plan.
pub struct Suite {
    pub tests_dir: PathBuf,
    pub(crate) lists: SkipLists,
    conventions: Arc<Conventions>,
    /// mpcheck's own `sys.platform` probe, for a checkout whose target information does
    /// not print the platform (kept in a temp dir, never in the checkout).
    platform_probe: Option<(tempfile::TempDir, Test)>,
    /// Every test any target could run, sorted by path.
    pub cases: Vec<Arc<Case>>,
    /// How each of them runs and is judged upstream, by case id.
    tests: BTreeMap<CaseId, Arc<UpstreamCase>>,
    feature_checks: Vec<Test>,
    /// Each planned board's mpy-cross flags (`-march` from its feature checks, the
    /// emitter), as run-tests.py passes them.
    mpy_flags: std::sync::Mutex<BTreeMap<String, Vec<String>>>,
    pub emit: Emit,
    /// The checkout's MicroPython version (py/mpconfig.h), or why it cannot be read.
    version: Result<versions::Version, String>,
    /// perf_bench/ for the run's N and M, or why it cannot run (`None`: not loaded).
    pub perf: Option<Result<perfbench::PerfBench, String>>,
}

/// A checkout's tests compile, run and are judged as run-tests.py does it.
impl crate::pipeline::SuiteRules for Suite {
    fn runner(&self, case: &Case) -> Option<&dyn crate::targets::SuiteRun> {
        if let Some(p) = self.perf_case(case) {
            return Some(&**p);
        }
        let u = self.tests.get(&case.id)?;
        Some(&**u)
    }

    fn source_only(&self, case: &Case) -> bool {
        self.tests.get(&case.id).is_some_and(|u| u.special)
    }

    fn mpy_flags(&self, trial: &Trial) -> Vec<String> {
        self.mpy_flags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&trial.board.name)
            .cloned()
            .unwrap_or_default()
    }

    /// Judged against CPython's output: no `.exp`, and not a unittest-based test (judged
    /// by its summary). A user golden may still take over.
    fn wants_reference(&self, case: &Case) -> bool {
        if let Some(p) = self.perf_case(case) {
            return p.exp.is_none();
        }
        let Some(u) = self.tests.get(&case.id) else {
            return false;
        };
        let source = String::from_utf8_lossy(&case.source);
        let unittest = source
            .lines()
            .any(|l| l.starts_with("import") && l.contains("unittest"));
        // Two processes of one test binding the same port would see each other.
        let network = source.contains("socket");
        let multi = crate::suite::multi::plan::is_multi(case);
        !u.special && !unittest && !network && !multi && u.exp_file().is_none()
    }

    fn expected_file(&self, case: &Case) -> Option<PathBuf> {
        if let Some(p) = self.perf_case(case) {
            return p.exp.clone();
        }
        self.tests.get(&case.id)?.exp_file()
    }

    fn judge(
        &self,
        case: &Case,
        outcome: &crate::model::outcome::Outcome,
        expect: &mut crate::pipeline::Expect,
    ) -> Option<(
        Option<crate::expect::golden::output::ExpectedOutput>,
        crate::expect::golden::Judged,
    )> {
        let perf = self.perf_judge(case, outcome, expect);
        perf.or_else(|| Some(judge::judge(self.tests.get(&case.id)?, outcome, expect)))
    }

    fn target_us(&self, case: &Case, outcome: &crate::model::outcome::Outcome) -> Option<u64> {
        self.perf_case(case)
            .and(perfbench::judge::target_us(&outcome.output))
    }
}

/// Directories of a tests/ tree that hold no tests run-tests.py's discovery could pick.
const NOT_TEST_DIRS: [&str; 2] = ["feature_check", "results"];

/// What mpcheck's own platform probe runs (what run-tests.py's later target information
/// prints first, and the same fallback name).
const PLATFORM_PROBE: &str = "import sys\nprint(getattr(sys, \"platform\", \"minimal\"))\n";

/// Upstream's per-test limit (`MICROPY_TEST_TIMEOUT`, default 30 s).
fn test_timeout() -> f64 {
    std::env::var("MICROPY_TEST_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|t: &f64| *t > 0.0)
        .unwrap_or(30.0)
}

impl Suite {
    pub fn load(dir: &Path, emit: Emit) -> Result<Suite, UpstreamError> {
        let tests_dir = std::fs::canonicalize(dir).map_err(|e| UpstreamError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let run_tests = tests_dir.join("run-tests.py");
        // Only a missing one means "not a tests/ directory"; anything else there (a FIFO,
        // a device) is refused by name when it is read.
        if std::fs::symlink_metadata(&run_tests).is_err() {
            return Err(UpstreamError::NotTests(tests_dir));
        }
        let bytes = crate::util::input::read(
            &run_tests,
            crate::util::input::cap::RUN_TESTS,
            "run-tests.py",
        )?;
        let text = crate::util::input::utf8(bytes).map_err(|e| pyread::ReadError {
            file: run_tests.clone(),
            line: e.line,
            message: format!("{e}: not a run-tests.py"),
        })?;
        let source = pyread::read_source(&run_tests, &text)?;
        let mut conventions = Conventions::from_source(&source);
        conventions.exp_rule = Arc::new(exp_rule::ExpRule::read(&run_tests, &text));
        let conventions = Arc::new(conventions);
        let lists = SkipLists::from_source(source);
        // Every directory (and subdirectory: `inlineasm/thumb`, `ports/unix`) a
        // `test_dirs` statement could name; which run is decided per target.
        let mut dirs: Vec<String> = Vec::new();
        for top in subdirs(&tests_dir, "") {
            if NOT_TEST_DIRS.contains(&top.as_str()) {
                continue;
            }
            dirs.extend(subdirs(&tests_dir, &top));
            dirs.push(top);
        }
        let mut loaded = Vec::new();
        for d in &dirs {
            loaded.extend(load_dir(&tests_dir, d, &conventions, emit)?);
        }
        loaded.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        let cases = loaded.iter().map(|(c, _)| c.clone()).collect();
        let tests = loaded.into_iter().map(|(c, u)| (c.id.clone(), u)).collect();
        // Feature checks run as run-tests.py runs them: with the suite's emitter.
        let feature_checks = load_dir(&tests_dir, "feature_check", &conventions, emit)?;
        let platform_probe = match &conventions.target_info {
            Some(t) if t.names.iter().any(|n| n == "platform") => None,
            _ => Some(platform_probe(&conventions, emit)?),
        };
        let version = versions::checkout(&tests_dir);
        Ok(Suite {
            tests_dir,
            lists,
            conventions,
            platform_probe,
            cases,
            tests,
            feature_checks,
            mpy_flags: Default::default(),
            emit,
            version,
            perf: None,
        })
    }

    /// Runs every feature check through the target (host VMs in parallel, a board one
    /// after another) and reads the facts from their outputs.
    pub(crate) fn probe(&self, pipeline: &Pipeline, target: &dyn Target, lanes: bool) -> Facts {
        let run = |(case, u): &Test| {
            let name = u.rel.trim_start_matches("feature_check/").to_string();
            // REPL checks need a prompt: run-tests.py gives boards an empty output.
            if lanes && u.repl {
                return (name, Vec::new());
            }
            let outcome = target.run(&RunRequest {
                case,
                mode: Mode::Source,
                mpy: None,
                timeout: Duration::from_secs_f64(test_timeout()),
                heap: None,
                slow: false,
                suite: Some(&**u),
            });
            (name, judge::mupy_output(u, &outcome).unwrap_or_default())
        };
        let outputs: BTreeMap<String, Vec<u8>> = if lanes {
            self.feature_checks.iter().map(run).collect()
        } else {
            self.feature_checks.par_iter().map(run).collect()
        };
        let own_platform = self.platform_probe.as_ref().map(|(_, probe)| {
            let (_, out) = run(probe);
            String::from_utf8_lossy(&out).trim().to_string()
        });
        let cpython = self
            .conventions
            .cpython_scripts()
            .filter_map(|script| {
                let (case, u) = self
                    .feature_checks
                    .iter()
                    .find(|(c, _)| format!("{}.py", c.id.name) == *script)?;
                let output = pipeline.reference().output(case, Some(&**u)).ok()?;
                Some((script.clone(), output))
            })
            .collect();
        Facts::read(
            outputs,
            cpython,
            self.conventions.clone(),
            self.lists.names(),
            own_platform.filter(|p| !p.is_empty()),
            self.emit.as_str(),
            self.tests_dir.clone(),
        )
    }
}

/// The subdirectories of `tests_dir/rel`, sorted, as paths relative to `tests_dir`.
fn subdirs(tests_dir: &Path, rel: &str) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(tests_dir.join(rel)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            }
        })
        .collect();
    out.sort();
    out
}

/// mpcheck's own `sys.platform` probe as a feature check in a temp dir of its own.
fn platform_probe(
    conventions: &Conventions,
    emit: Emit,
) -> Result<(tempfile::TempDir, Test), UpstreamError> {
    let io = |path: &Path, e| UpstreamError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let dir = tempfile::tempdir().map_err(|e| io(&std::env::temp_dir(), e))?;
    let probe_dir = dir.path().join("feature_check");
    std::fs::create_dir_all(&probe_dir).map_err(|e| io(&probe_dir, e))?;
    let file = probe_dir.join("platform.py");
    std::fs::write(&file, PLATFORM_PROBE).map_err(|e| io(&file, e))?;
    let case = load_dir(dir.path(), "feature_check", conventions, emit)?
        .pop()
        .ok_or_else(|| io(&file, std::io::Error::other("the probe did not load")))?;
    Ok((dir, case))
}

/// A test and how upstream runs and judges it.
type Test = (Arc<Case>, Arc<UpstreamCase>);

fn load_dir(
    tests_dir: &Path,
    dir: &str,
    conventions: &Conventions,
    emit: Emit,
) -> Result<Vec<Test>, UpstreamError> {
    let path = tests_dir.join(dir);
    let Ok(rd) = std::fs::read_dir(&path) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        // Not only regular files: a FIFO or device named like a test is run-tests.py's
        // test too, and becomes an error naming it (`Case::load`), never a hang or a gap.
        .filter(|p| !p.is_dir() && p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let rel = format!("{dir}/{name}.py");
            let mut case = Case::load(
                p,
                CaseId {
                    group: dir.to_string(),
                    name: name.clone(),
                },
            )
            .map_err(|e| UpstreamError::Case(Box::new(e)))?;
            let special = conventions.is_special(&rel);
            let cmdline = if special {
                let first = case.source.split(|&b| b == b'\n').next().unwrap_or(b"");
                first
                    .strip_prefix(b"# cmdline:")
                    .map(|a| {
                        String::from_utf8_lossy(a)
                            .split_whitespace()
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            // Upstream tests have no mpcheck header: their settings are upstream's. A file
            // that could not be read (not regular, too large) keeps its error.
            let refused = case.source.is_empty() && case.settings.is_err();
            if !refused {
                case.settings = Ok(CaseSettings {
                    timeout: Some(test_timeout()),
                    ..CaseSettings::default()
                });
            }
            let upstream = UpstreamCase {
                tests_dir: tests_dir.to_path_buf(),
                regex: special || conventions.regex_tests.contains(&rel),
                repl: special && name.starts_with("repl_"),
                special,
                cmdline,
                rel,
                emit,
                exp_rule: conventions.exp_rule.clone(),
            };
            Ok((Arc::new(case), Arc::new(upstream)))
        })
        .collect()
}

/// The prefix of a skip reason that stands for run-tests.py's "ignored" (a known-flaky
/// test that failed: it does not fail the run).
pub const IGNORED: &str = "ignored: flaky: ";

/// Known-flaky failures become "ignored" skips, as run-tests.py reclassifies them after
/// the run; the project's known differences of a board (or its `port`) too.
pub fn reclassify(
    results: &mut [TrialResult],
    suite: &Suite,
    session: &Session,
    known: &KnownDifferences,
    port: &dyn Fn(&str) -> String,
) {
    for r in results.iter_mut().filter(|r| r.verdict.is_failure()) {
        let rel = format!("{}.py", r.case);
        let platform = session.platform(&r.board).unwrap_or("");
        if let Some(reason) = suite.lists.flaky(&rel, platform) {
            r.note = Some(format!("{} failed", r.verdict.name()));
            r.verdict = Verdict::Skip {
                reason: format!("{IGNORED}{reason}"),
            };
        } else if let Some(reason) =
            known.reason(&[&r.board, r.family(), &port(&r.board)], &r.case, r.mode)
        {
            r.note = Some(format!("{} failed", r.verdict.name()));
            r.verdict = Verdict::Skip {
                reason: format!("known difference: {reason}"),
            };
        }
    }
}
