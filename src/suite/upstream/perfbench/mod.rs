//! A checkout's `perf_bench/` run as run-perfbench.py runs it, without ever running or
//! importing it: each benchmark sent as one script (the prelude, the benchmark,
//! benchrun.py, `bm_run(N, M)`), its parameters picked on the target by benchrun's own
//! rule from a CPU-speed N and a heap size M, its time taken on the target by benchrun's
//! `ticks_us`, judged as run-perfbench.py judges it ([`judge`]), and reported per
//! benchmark with µs and score over the repeats ([`report`]).
//!
//! One N and M per run: the sides of a comparison must pick the same parameters.

pub mod judge;
pub mod plan;
pub mod report;
pub mod rules;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use super::Emit;
use crate::boardfile::{Board, BoardSpec};
use crate::model::case::{Case, CaseId, CaseSettings, Mode};
use crate::model::outcome::Outcome;
use crate::model::verdict::Verdict;
use crate::plan::Trial;
use crate::targets::{HostVm, RunRequest, SuiteRun};
use rules::Rules;

/// The directory of a checkout's tests/ that holds the benchmarks.
pub const DIR: &str = "perf_bench";

/// run-perfbench.py's N (approximate CPU MHz) and M (approximate heap in kB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Params {
    pub n: u32,
    pub m: u32,
}

impl Params {
    /// The board file's `perf: {n, m}`, else run-perfbench.py's own examples:
    /// `N, M = 1000, 1000 # PC` for a host VM, `100, 100 # pyboard, esp32` for a board
    /// (the qemu port's heap is 140 kB).
    pub fn default_for(board: &Board) -> Params {
        if let Some(p) = board.perf {
            return Params { n: p.n, m: p.m };
        }
        match board.spec {
            BoardSpec::Host(_) => Params { n: 1000, m: 1000 },
            _ => Params { n: 100, m: 100 },
        }
    }
}

/// How one benchmark runs on a host VM and where its truth is.
#[derive(Debug)]
pub struct PerfCase {
    tests_dir: PathBuf,
    emit: Emit,
    /// `<bench>.py.exp`, when the checkout has one (else CPython's run is the truth).
    pub exp: Option<PathBuf>,
}

/// The checkout's benchmarks, made into scripts for one N and M.
pub struct PerfBench {
    pub rules: Rules,
    pub params: Params,
    cases: BTreeMap<CaseId, (Arc<Case>, Arc<PerfCase>)>,
    /// Each trial's first result (keyed by its case's address: one per board and mode).
    first: Mutex<HashMap<usize, String>>,
}

impl PerfBench {
    /// The benchmarks of `tests_dir/perf_bench` for `params` (default: the smallest of
    /// the boards' defaults). `Err`: the checkout has no perf_bench to run, and why.
    pub fn load(
        tests_dir: &Path,
        emit: Emit,
        boards: &[Arc<Board>],
        params: Option<Params>,
    ) -> Result<PerfBench, String> {
        let rules = Rules::read(tests_dir)?;
        let params = params
            .or_else(|| boards.iter().map(|b| Params::default_for(b)).min())
            .unwrap_or(Params { n: 1000, m: 1000 });
        let dir = tests_dir.join(DIR);
        let rd = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {}", dir.display(), crate::util::error::io_text(&e)))?;
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "py"))
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                !rules.not_benchmarks.iter().any(|n| *n == name)
            })
            .collect();
        files.sort();
        let mut cases = BTreeMap::new();
        for path in files {
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            let id = CaseId {
                group: DIR.to_string(),
                name: name.to_string(),
            };
            let mut case = Case::load(&path, id.clone()).map_err(|e| e.to_string())?;
            case.source = rules.script(&case.source, params.n, params.m);
            // mpy-cross compiles the file: the script is one, outside the checkout.
            case.path = script_file(&name, &case.source)?;
            case.settings = Ok(CaseSettings {
                timeout: Some(super::test_timeout()),
                ..CaseSettings::default()
            });
            let exp = path.with_extension("py.exp");
            let perf = PerfCase {
                tests_dir: tests_dir.to_path_buf(),
                emit,
                exp: exp.is_file().then_some(exp),
            };
            cases.insert(id, (Arc::new(case), Arc::new(perf)));
        }
        Ok(PerfBench {
            rules,
            params,
            cases,
            first: Mutex::default(),
        })
    }

    /// The benchmark a case is (by id), if it is one.
    pub fn get(&self, case: &Case) -> Option<&Arc<PerfCase>> {
        self.cases.get(&case.id).map(|(_, p)| p)
    }

    /// The first result this trial printed (recording `result` when it is the first).
    pub fn first(&self, case: &Case, result: &str) -> String {
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        first
            .entry(case as *const Case as usize)
            .or_insert_with(|| result.to_string())
            .clone()
    }

    /// A board's trials: each benchmark once, from source on a host VM and via `.mpy` on
    /// a board that loads them (as run-perfbench.py runs them), in `wanted` modes if
    /// given; run-perfbench.py's skips decided up front from the board's feature checks
    /// (`output(check)`); `unavailable`: every trial decided so.
    pub fn trials(
        &self,
        board: &Arc<Board>,
        wanted: &[Mode],
        unavailable: Option<&Verdict>,
        output: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<Trial> {
        let host = matches!(board.spec, BoardSpec::Host(_));
        let modes: Vec<Mode> = if wanted.is_empty() {
            let mpy = !host && board.modes.contains(&Mode::Mpy);
            vec![if mpy { Mode::Mpy } else { Mode::Source }]
        } else {
            wanted
                .iter()
                .copied()
                .filter(|m| *m != Mode::Frozen && board.modes.contains(m))
                .collect()
        };
        let mut trials = Vec::new();
        for (id, (case, _)) in &self.cases {
            let file = format!("{}.py", id.name);
            let skip = self
                .rules
                .skip(&file, self.params.m, output)
                .map(|reason| Verdict::Skip { reason });
            for &mode in &modes {
                trials.push(Trial {
                    board: board.clone(),
                    // Its own case: the self-check keeps each trial's first result.
                    case: Arc::new(copy(case)),
                    mode,
                    decided: unavailable.cloned().or_else(|| skip.clone()),
                    kind: None,
                });
            }
        }
        trials
    }
}

impl super::Suite {
    /// The benchmark a case is, when perf_bench/ is loaded.
    pub(crate) fn perf_case(&self, case: &Case) -> Option<&Arc<PerfCase>> {
        match &self.perf {
            Some(Ok(p)) => p.get(case),
            _ => None,
        }
    }

    /// Loads perf_bench/ for these boards (`params`: N and M given, else the boards').
    pub fn load_perf(&mut self, boards: &[Arc<Board>], params: Option<Params>) {
        self.perf = Some(PerfBench::load(&self.tests_dir, self.emit, boards, params));
    }

    /// A benchmark's verdict; `None`: the case is no benchmark.
    pub(crate) fn perf_judge(
        &self,
        case: &Case,
        outcome: &Outcome,
        expect: &mut crate::pipeline::Expect,
    ) -> Option<(
        Option<crate::expect::golden::output::ExpectedOutput>,
        crate::expect::golden::Judged,
    )> {
        let Some(Ok(perf)) = &self.perf else {
            return None;
        };
        perf.get(case)?;
        let first = |result: &str| perf.first(case, result);
        Some(judge::judge(outcome, &first, expect))
    }
}

/// The script as `<tmp>/mpcheck-perf_bench/<sha256>/<name>.py`: named by its content,
/// so the same script keeps its path (CPython's cached truth) and runs never collide.
fn script_file(name: &str, script: &[u8]) -> Result<PathBuf, String> {
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(script)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = std::env::temp_dir().join("mpcheck-perf_bench").join(hash);
    let path = dir.join(format!("{name}.py"));
    if std::fs::read(&path).is_ok_and(|b| b == script) {
        return Ok(path);
    }
    crate::util::fsutil::write_atomic(&path, script).map_err(|e| e.to_string())?;
    Ok(path)
}

fn copy(case: &Case) -> Case {
    Case {
        id: case.id.clone(),
        path: case.path.clone(),
        source: case.source.clone(),
        settings: case.settings.clone(),
        import_name: case.import_name.clone(),
    }
}

/// N and M from the command line (each given one over the boards' default), the
/// benchmarks remade for them.
pub fn override_params(
    suite: &mut super::Suite,
    boards: &[Arc<crate::boardfile::Board>],
    n: Option<u32>,
    m: Option<u32>,
) {
    if n.is_none() && m.is_none() {
        return;
    }
    let default = match &suite.perf {
        Some(Ok(p)) => p.params,
        _ => Params { n: 1000, m: 1000 },
    };
    let params = Params {
        n: n.unwrap_or(default.n),
        m: m.unwrap_or(default.m),
    };
    suite.load_perf(boards, Some(params));
}

/// The repeats when `--repeat` is not given: run-perfbench.py's `-a` default (read
/// from the checkout) when the filters name the benchmarks and they loaded.
pub fn default_repeat(suite: Option<&super::Suite>, filters: &[String]) -> Option<usize> {
    if !named(filters) {
        return None;
    }
    match suite?.perf.as_ref()? {
        Ok(p) => Some(p.rules.average.max(1)),
        Err(_) => None,
    }
}

/// Whether the filters name the benchmarks (run only when named, as run-tests.py never
/// runs them).
pub fn named(filters: &[String]) -> bool {
    filters.iter().any(|f| f.contains(DIR))
}

impl SuiteRun for PerfCase {
    fn run_on_host(&self, vm: &HostVm, request: &RunRequest, scratch: &Path) -> Option<Outcome> {
        if let Err(e) = crate::suite::workdir::tests_copy(&self.tests_dir) {
            return Some(Outcome::not_started(e, std::time::Duration::ZERO));
        }
        let cmd = self.host_command(vm, request, scratch)?;
        Some(crate::targets::process::run(cmd, request.timeout))
    }

    /// run-perfbench.py pipes the script into `micropython -X emit=<emit>` (and CPython
    /// for the truth): with `-c` the script is likewise no file, `''` first on sys.path
    /// (which the prelude removes), run from the run's copy of tests/.
    fn host_command(&self, vm: &HostVm, request: &RunRequest, _: &Path) -> Option<Command> {
        use std::os::unix::ffi::OsStrExt;
        let script = std::ffi::OsStr::from_bytes(&request.case.source);
        let mut c = Command::new(vm.path);
        match vm.kind {
            crate::boardfile::HostKind::Cpython => {
                c.arg("-B").args(vm.args).arg("-c").arg(script);
                c.env("PYTHONIOENCODING", "utf-8");
            }
            crate::boardfile::HostKind::Unix if request.mode == Mode::Source => {
                c.args(vm.args)
                    .arg("-X")
                    .arg(format!("emit={}", self.emit.as_str()))
                    .arg("-c")
                    .arg(script);
            }
            _ => return None,
        }
        c.current_dir(crate::suite::workdir::tests_copy(&self.tests_dir).ok()?);
        Some(c)
    }

    /// On a board with exact time each benchmark runs on a fresh boot: a soft reset
    /// leaves state behind (misc_pystone took 9266 or 9358 µs by what ran before it).
    fn fresh_boot(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_board_files_perf_section_replaces_its_kinds_default() {
        let parse = |text: &str| {
            crate::boardfile::parse_board(std::path::Path::new("boards/b.yaml"), text).unwrap()
        };
        let host = parse("kind: unix\n");
        assert_eq!(Params::default_for(&host), Params { n: 1000, m: 1000 });
        let tuned = parse("kind: unix\nperf: {n: 168, m: 64}\n");
        assert_eq!(Params::default_for(&tuned), Params { n: 168, m: 64 });
    }
}
