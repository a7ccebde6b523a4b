//! Runs trials: opens each selected target once, runs trials in parallel across cores,
//! judges each, and emits events. It never prints; report sinks do.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::board::file::DeviceSpec;
use crate::board::{Board, BoardSpec, HostKind};
use crate::case::{Case, CaseId, Mode};
use crate::compare::{Verdict, judge, normalise, printed_skip};
use crate::compile::{Compiler, cache_dir};
use crate::config::{Project, Selection};
use crate::error::{Error, Result};
use crate::flash::record::FlashReport;
use crate::golden::{ExpectedFrom, Goldens};
use crate::heap::HeapFigures;
use crate::plan::Trial;
use crate::reference::Reference;
use crate::target::board::BoardTarget;
use crate::target::bytecode::BytecodeTarget;
use crate::target::host::HostTarget;
use crate::target::{RunRequest, Status, Target};
use crate::toolchain::{ToolInfo, Toolchain, reported_version};

/// The result of one trial, with the evidence behind its verdict.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrialResult {
    pub name: String,
    pub board: String,
    pub case: String,
    pub mode: Mode,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub duration_ms: u128,
    /// Where the expected output came from (golden file or CPython).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The output, `\r\n` normalised (kept for every ran trial: bless needs it).
    #[serde(skip)]
    pub output: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    /// Heap figures (calibrated): metric → bytes, null where not measured or unavailable.
    pub heap: crate::heap::HeapFigures,
    /// For a heap failure: metric, golden, actual, delta.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heap_table: Option<String>,
    /// What else happened (e.g. how a hung board was recovered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where a board case's time went: reset, upload, run, read (milliseconds).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub phases_ms: BTreeMap<String, f64>,
    #[serde(skip)]
    pub case_id: Option<CaseId>,
    /// The VM ran the case to its end (exit 0 or an uncaught exception), output whole:
    /// its output can become a golden, whatever the verdict against the old one.
    #[serde(skip)]
    pub blessable: bool,
}

pub enum Event<'a> {
    Started { trials: usize },
    Finished(&'a TrialResult),
}

/// Per (board, mode, module-name length): the wrapper's cost, measured once per run.
type Calibration = std::sync::Mutex<
    BTreeMap<(String, Mode, usize), Arc<std::sync::OnceLock<Option<HeapFigures>>>>,
>;

pub struct Runner {
    goldens: Goldens,
    targets: BTreeMap<String, Arc<dyn Target>>,
    /// Selected boards that cannot be used here, with why: their trials are skipped.
    unavailable: BTreeMap<String, String>,
    /// Boards run by their own workers (one per instance) instead of the CPU pool.
    lanes: BTreeMap<String, usize>,
    /// What was done about each device board's firmware before the run.
    flashes: Vec<FlashReport>,
    /// Measure the heap of every case, not only those with `heap:` settings (benchmark).
    pub heap_all: bool,
    /// The wrapper's own heap cost per (board, mode), measured around an empty case.
    /// Keyed by module-name length too: the name's qstr is part of what loading costs.
    calibration: Calibration,
    /// Where the empty calibration cases are written.
    scratch: tempfile::TempDir,
    /// Boards whose output is a disassembly, blessed into `.bytecode` goldens.
    bytecode_boards: std::collections::BTreeSet<String>,
    reference: Reference,
    toolchain: Toolchain,
}

impl Runner {
    /// Provisions the toolchain and opens every selected board's target.
    pub fn open(project: &Project, selection: &Selection) -> Result<Runner> {
        let toolchain = Toolchain::ensure(&project.state_dir.join("toolchain"))?;
        let mpy_cache = cache_dir(&project.state_dir, "mpy");
        let mut compilers: BTreeMap<PathBuf, Arc<Compiler>> = BTreeMap::new();
        let mut compiler_for = |path: Option<&PathBuf>| {
            let (path, pinned) = match path {
                Some(p) => (p.clone(), false),
                None => (toolchain.mpy_cross.clone(), true),
            };
            compilers
                .entry(path.clone())
                .or_insert_with(|| Arc::new(Compiler::new(path, pinned, mpy_cache.clone())))
                .clone()
        };
        let mut targets: BTreeMap<String, Arc<dyn Target>> = BTreeMap::new();
        let mut unavailable = BTreeMap::new();
        let mut lanes = BTreeMap::new();
        let mut flashes = Vec::new();
        for board in &selection.boards {
            if let BoardSpec::Device(d) = &board.spec {
                if let Some(why) = &d.unavailable {
                    eprintln!("mpcheck: board `{}` is unavailable: {why}", board.name);
                    unavailable.insert(board.name.clone(), why.clone());
                    continue;
                }
                lanes.insert(board.name.clone(), d.instances);
                let d = &crate::firmware_build::resolve_device(
                    &project.state_dir,
                    board,
                    d,
                    &mut |p| eprintln!("mpcheck: board `{}`: {p}", board.name),
                )?;
                let target = open_device(board, d, &mut compiler_for)?;
                flashes.extend(flash_if_changed(&project.state_dir, board, d, &target)?);
                targets.insert(board.name.clone(), target);
                continue;
            }
            let target = open_target(board, &toolchain, &mut compiler_for)?;
            targets.insert(board.name.clone(), target);
        }
        // The reference is the `cpython` board file's interpreter, or python3.
        let cpython_board = selection
            .all_boards
            .iter()
            .find(|b| matches!(&b.spec, BoardSpec::Host(h) if h.kind == HostKind::Cpython));
        let reference_target: Arc<dyn Target> = match cpython_board {
            Some(b) => open_target(b, &toolchain, &mut compiler_for)?,
            None => Arc::new(HostTarget::new(
                &default_cpython_board(project),
                HostKind::Cpython,
                (toolchain.python.clone(), false),
                &toolchain,
                Vec::new(),
                None,
            )?),
        };
        // The interpreter and the version it reports, asked once: the cache key and the report.
        let (python, version) = match reference_target.tools().into_iter().next() {
            Some(t) => (t.path, t.version),
            None => (
                toolchain.python.clone(),
                reported_version(std::process::Command::new(&toolchain.python).arg("--version")),
            ),
        };
        let scratch = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        Ok(Runner {
            heap_all: false,
            calibration: Default::default(),
            scratch,
            goldens: Goldens::new(project.golden_dir()),
            targets,
            unavailable,
            lanes,
            flashes,
            bytecode_boards: selection
                .boards
                .iter()
                .filter(|b| matches!(b.spec, BoardSpec::Bytecode(_)))
                .map(|b| b.name.clone())
                .collect(),
            reference: Reference::new(
                reference_target,
                python,
                version,
                cache_dir(&project.state_dir, "cpython"),
            ),
            toolchain,
        })
    }

    pub fn flashes(&self) -> &[FlashReport] {
        &self.flashes
    }

    pub fn is_bytecode_board(&self, board: &str) -> bool {
        self.bytecode_boards.contains(board)
    }

    pub fn goldens(&self) -> &Goldens {
        &self.goldens
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    pub fn toolchain(&self) -> &Toolchain {
        &self.toolchain
    }

    /// Every tool the selected targets use, with the versions they reported (queried in
    /// parallel: each VM start costs tens of milliseconds).
    pub fn tools(&self) -> Vec<ToolInfo> {
        let mut tools: Vec<ToolInfo> = self
            .targets
            .par_iter()
            .flat_map(|(_, t)| t.tools())
            .collect();
        tools.push(ToolInfo {
            tool: "cpython-reference".into(),
            path: self.reference.python().to_path_buf(),
            version: self.reference.version().to_string(),
            pinned: false,
        });
        let mut seen = std::collections::BTreeSet::new();
        tools.retain(|t| seen.insert((t.tool.clone(), t.path.clone())));
        tools
    }

    /// Runs one trial and judges it. Never fails: problems become `error` verdicts.
    pub fn run(&self, trial: &Trial) -> TrialResult {
        let start = Instant::now();
        let mut result = TrialResult {
            name: trial.name(),
            board: trial.board.name.clone(),
            case: trial.case.id.to_string(),
            mode: trial.mode,
            verdict: Verdict::Pass,
            duration_ms: 0,
            expected_from: None,
            expected: None,
            output: None,
            actual: None,
            exception: None,
            truncated: false,
            exit: None,
            case_id: Some(trial.case.id.clone()),
            blessable: false,
            heap: Default::default(),
            heap_table: None,
            note: None,
            phases_ms: BTreeMap::new(),
        };
        result.verdict = self.judge_trial(trial, &mut result);
        result.duration_ms = start.elapsed().as_millis();
        if result.verdict != Verdict::Fail || result.heap_table.is_some() {
            result.expected = None;
            result.actual = None;
        }
        result
    }

    fn judge_trial(&self, trial: &Trial, result: &mut TrialResult) -> Verdict {
        if let Some(v) = &trial.decided {
            return v.clone();
        }
        if let Some(why) = self.unavailable.get(&trial.board.name) {
            return Verdict::Skip {
                reason: format!("board unavailable: {why}"),
            };
        }
        let Some(target) = self.targets.get(&trial.board.name) else {
            return Verdict::Error {
                message: format!("board `{}` was not opened", trial.board.name),
            };
        };
        let settings = match &trial.case.settings {
            Ok(s) => s,
            Err(m) => return Verdict::Error { message: m.clone() },
        };
        if let Some(missing) = target.features().first_missing(&settings.requires) {
            return Verdict::Skip {
                reason: format!("board lacks feature `{missing}`"),
            };
        }
        if trial.mode == Mode::Mpy && target.features().has("mpy_import") == Some(false) {
            return Verdict::Skip {
                reason: "the board cannot import .mpy files (probed)".into(),
            };
        }
        let mpy = match compiled(target.as_ref(), trial) {
            Ok(m) => m,
            Err(message) => return Verdict::Error { message },
        };
        let timeout = settings.timeout().unwrap_or(trial.board.timeout);
        let heap = self.heap_request(trial, settings);
        let runs_micropython = !matches!(trial.board.spec, BoardSpec::Bytecode(_));
        if settings.heap.is_some() && heap.is_none() && runs_micropython {
            return Verdict::Skip {
                reason:
                    "a heap case: heap figures are measured on the unix and webassembly ports only"
                        .into(),
            };
        }
        let outcome = target.run(&RunRequest {
            case: &trial.case,
            mode: trial.mode,
            mpy: mpy.as_deref(),
            timeout,
            heap,
            slow: false,
        });
        // Only an output that will be compared needs an expectation: a hung or crashed
        // case must not first make CPython run it too.
        let expected =
            if matches!(outcome.status, Status::Exited(0 | 1)) && !printed_skip(&outcome.output) {
                self.expected(trial)
            } else {
                Err("no comparison needed".to_string())
            };
        if let Ok((_, from)) = &expected {
            result.expected_from = Some(from.to_string());
        }
        if let (Ok((golden, _)), BoardSpec::Bytecode(_)) = (&expected, &trial.board.spec) {
            result.note = compiler_changed(golden, &outcome.output);
        }
        let verdict = judge(
            &outcome,
            expected
                .as_ref()
                .map(|(e, _)| e.as_slice())
                .map_err(String::as_str),
            settings.skip_reason.as_deref(),
        );
        // A failure on a lossy link is checked once with a slow upload before it counts:
        // a dropped line can leave valid Python that fails differently (never a silent
        // wrong verdict).
        let mut recheck_note = None;
        let (outcome, verdict) = if verdict == Verdict::Fail && target.lossy_link() {
            let again = target.run(&RunRequest {
                case: &trial.case,
                mode: trial.mode,
                mpy: mpy.as_deref(),
                timeout,
                heap,
                slow: true,
            });
            let expected_slice = expected
                .as_ref()
                .map(|(e, _)| e.as_slice())
                .map_err(String::as_str);
            let second = judge(&again, expected_slice, settings.skip_reason.as_deref());
            let (use_second, verdict, note) =
                crate::compare::recheck(&outcome.output, &again.output, second);
            recheck_note = note;
            (if use_second { again } else { outcome }, verdict)
        } else {
            (outcome, verdict)
        };
        let output = normalise(&outcome.output);
        result.actual = Some(String::from_utf8_lossy(&output).into_owned());
        result.expected = expected
            .ok()
            .map(|(e, _)| String::from_utf8_lossy(&e).into_owned());
        result.output = Some(output);
        result.exception = outcome.exception.clone();
        result.truncated = outcome.truncated;
        result.blessable = matches!(outcome.status, Status::Exited(0 | 1))
            && !outcome.truncated
            && !matches!(verdict, Verdict::Skip { .. });
        result.exit = Some(match &outcome.status {
            Status::Exited(c) => format!("exit {c}"),
            Status::Signalled(s) => format!("signal {s}"),
            Status::TimedOut(_) => "killed after timeout".into(),
            Status::NotStarted(_) => "not started".into(),
            Status::Skipped(_) => "declined by the board".into(),
            Status::BoardLost(_) => "board lost".into(),
            Status::Rejected(_) => "rejected by mpy-cross".into(),
        });
        result.note = recheck_note.or_else(|| outcome.note.clone());
        result.phases_ms = outcome
            .phases
            .iter()
            .map(|(k, d)| (k.to_string(), d.as_secs_f64() * 1000.0))
            .collect();
        match (&outcome.heap, heap) {
            (Some(raw), Some(_)) => {
                let calibrated = raw.minus(
                    &self
                        .calibration(trial, target.as_ref(), mpy.as_deref())
                        .unwrap_or_default(),
                );
                result.heap = calibrated.clone();
                if verdict == Verdict::Pass
                    && let Some(h) = &settings.heap
                {
                    return self.judge_heap(trial, h, &calibrated, result);
                }
            }
            (None, Some(_)) if verdict == Verdict::Pass && settings.heap.is_some() => {
                return Verdict::Error {
                    message: "the heap wrapper printed no figures".into(),
                };
            }
            _ => {}
        }
        if let Some(zero) = settings.heap.as_ref().and_then(|h| h.zero_alloc())
            && outcome
                .exception
                .as_deref()
                .is_some_and(|e| e.starts_with("MemoryError"))
        {
            result.note = Some(format!(
                "allocated with the heap locked ({}): {}",
                if zero.is_empty() {
                    "zero_alloc case".to_string()
                } else {
                    format!("zero_alloc function `{zero}`")
                },
                allocation_site(&outcome.output)
            ));
        }
        verdict
    }

    /// Times the bare VM command for a trial (no capture, no comparison): the benchmark's
    /// floor. None for trials that do not run a host process.
    pub fn bare_run(&self, trial: &Trial) -> Option<Duration> {
        let target = self.targets.get(&trial.board.name)?;
        let mpy = compiled(target.as_ref(), trial).ok()?;
        let scratch = tempfile::tempdir().ok()?;
        let request = RunRequest {
            case: &trial.case,
            mode: trial.mode,
            mpy: mpy.as_deref(),
            timeout: trial.board.timeout,
            heap: self.heap_request(trial, trial.case.settings.as_ref().ok()?),
            slow: false,
        };
        let mut cmd = target.bare_command(&request, scratch.path())?;
        let start = Instant::now();
        cmd.stdin(std::process::Stdio::null()).output().ok()?;
        Some(start.elapsed())
    }

    /// Whether and how to measure this trial's heap: cases with `heap:` settings (or all,
    /// for the benchmark) on host MicroPython VMs.
    fn heap_request<'a>(
        &self,
        trial: &Trial,
        settings: &'a crate::case::CaseSettings,
    ) -> Option<Option<&'a str>> {
        let measurable =
            matches!(&trial.board.spec, BoardSpec::Host(h) if h.kind != HostKind::Cpython);
        if !measurable {
            return None;
        }
        match &settings.heap {
            Some(h) => Some(h.zero_alloc()),
            None if self.heap_all => Some(None),
            None => None,
        }
    }

    /// The wrapper's own cost on this board and mode (once per run).
    fn calibration(
        &self,
        trial: &Trial,
        target: &dyn Target,
        case_mpy: Option<&[u8]>,
    ) -> Option<HeapFigures> {
        let len = trial.case.module_name().len();
        let cell = {
            let mut map = self.calibration.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((trial.board.name.clone(), trial.mode, len))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| {
            // An empty case whose name is as long as this one's (module and file names
            // are interned as qstrs while loading).
            let name = "e".repeat(len);
            let dir = self.scratch.path().join(format!("{len}"));
            let path = dir.join(format!("{name}.py"));
            std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&path, ""))
                .ok()?;
            let empty = Case::load(
                &path,
                CaseId {
                    group: "_".into(),
                    name,
                },
            )
            .ok()?;
            let mpy = match (trial.mode, case_mpy, target.compiler()) {
                (Mode::Mpy, Some(_), Some(c)) => c.compile(&empty).ok()?.ok(),
                _ => None,
            };
            let outcome = target.run(&RunRequest {
                case: &empty,
                mode: trial.mode,
                mpy: mpy.as_deref(),
                timeout: trial.board.timeout,
                heap: Some(None),
                slow: false,
            });
            outcome.heap
        })
        .clone()
    }

    /// Heap figures against `golden/<group>/<name>.heap.yaml` and the case's claims.
    fn judge_heap(
        &self,
        trial: &Trial,
        settings: &crate::case::HeapSettings,
        figures: &HeapFigures,
        result: &mut TrialResult,
    ) -> Verdict {
        for (a, b) in &settings.less {
            let (fa, fb) = (figures.regions.get(a), figures.regions.get(b));
            match (fa, fb) {
                (Some(x), Some(y)) if x < y => {}
                _ => {
                    result.note = Some(format!(
                        "claim failed: region `{a}` ({}) should allocate less than region `{b}` ({})",
                        fa.map_or("not measured".into(), |v| format!("{v} bytes")),
                        fb.map_or("not measured".into(), |v| format!("{v} bytes"))
                    ));
                    return Verdict::Fail;
                }
            }
        }
        let path = self.goldens.heap_path(&trial.case.id);
        let golden: crate::heap::HeapGolden = match std::fs::read_to_string(&path) {
            Ok(text) => match yaml_serde::from_str(&text) {
                Ok(g) => g,
                Err(e) => {
                    return Verdict::Error {
                        message: Error::yaml(&path, 1, &e).to_string(),
                    };
                }
            },
            Err(_) => BTreeMap::new(),
        };
        let Some(expected) = golden
            .get(&trial.board.name)
            .and_then(|m| m.get(trial.mode.as_str()))
        else {
            return Verdict::Error {
                message: format!(
                    "no heap figures for {} {} in {}: run `mpcheck bless`",
                    trial.board.name,
                    trial.mode.as_str(),
                    path.display()
                ),
            };
        };
        let rows = crate::heap::compare(expected, figures, &settings.tolerances());
        if rows.iter().all(|r| r.ok) {
            return Verdict::Pass;
        }
        result.expected_from = Some(path.display().to_string());
        result.heap_table = Some(crate::heap::table(&rows));
        Verdict::Fail
    }

    /// The expected output: board golden, shared golden, or CPython's output.
    fn expected(&self, trial: &Trial) -> std::result::Result<(Vec<u8>, ExpectedFrom), String> {
        let case = &trial.case;
        if matches!(trial.board.spec, BoardSpec::Bytecode(_)) {
            let path = self.goldens.bytecode_path(&case.id);
            return match std::fs::read(&path) {
                Ok(bytes) => Ok((normalise(&bytes), ExpectedFrom::Golden(path))),
                Err(_) => Err(format!(
                    "no bytecode golden {}: run `mpcheck bless`",
                    path.display()
                )),
            };
        }
        match self.goldens.expected(&case.id, &trial.board.name) {
            Ok(Some((bytes, from))) => return Ok((normalise(&bytes), from)),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if let Some(reason) = runs_on_cpython(case) {
            return Err(format!(
                "no golden file {} and the case does not run on CPython ({reason}): run `mpcheck bless`",
                self.goldens.shared_path(&case.id).display()
            ));
        }
        self.reference.output(case).map(|out| {
            (
                out,
                ExpectedFrom::Cpython(self.reference.version().to_string()),
            )
        })
    }
}

/// The line a locked-heap `MemoryError` was raised at: the traceback's last `File` line.
fn allocation_site(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("File "))
        .map_or("no traceback".into(), |l| l.trim().to_string())
}

/// When a bytecode golden was made by another compiler (or flags) than the one that ran,
/// says so, so a diff is not read as a regression.
fn compiler_changed(golden: &[u8], actual: &[u8]) -> Option<String> {
    let first = |b: &[u8]| {
        String::from_utf8_lossy(b.split(|&c| c == b'\n').next().unwrap_or_default())
            .trim_start_matches("# ")
            .to_string()
    };
    let (g, a) = (first(golden), first(actual));
    (g != a).then(|| format!("golden from mpy-cross {g}, compiler is {a}"))
}

/// The `.mpy` for a trial in mpy mode (None in source mode), or why there is none.
fn compiled(target: &dyn Target, trial: &Trial) -> std::result::Result<Option<Vec<u8>>, String> {
    if trial.mode == Mode::Source {
        return Ok(None);
    }
    let compiler = target.compiler().ok_or_else(|| {
        format!(
            "board `{}` has no mpy-cross for .mpy mode",
            trial.board.name
        )
    })?;
    match compiler.compile(&trial.case) {
        Ok(result) => result.map(Some),
        Err(e) => Err(e.to_string()),
    }
}

/// Why the case does not run on CPython, if it does not (then it has no reference).
pub fn runs_on_cpython(case: &crate::case::Case) -> Option<String> {
    match &case.settings {
        Ok(s) => s.excluded_reason("cpython", "cpython"),
        Err(m) => Some(m.clone()),
    }
}

fn open_target(
    board: &Board,
    toolchain: &Toolchain,
    compiler_for: &mut dyn FnMut(Option<&PathBuf>) -> Arc<Compiler>,
) -> Result<Arc<dyn Target>> {
    match &board.spec {
        BoardSpec::Host(spec) => {
            let (vm, pinned) = match (&spec.executable, spec.kind) {
                (Some(p), _) => (p.clone(), false),
                (None, HostKind::Unix) => (toolchain.micropython.clone(), true),
                (None, HostKind::Webassembly) => (toolchain.micropython_mjs.clone(), true),
                (None, HostKind::Cpython) => (toolchain.python.clone(), false),
            };
            let compiler =
                (spec.kind != HostKind::Cpython).then(|| compiler_for(spec.mpy_cross.as_ref()));
            Ok(Arc::new(HostTarget::new(
                board,
                spec.kind,
                (vm, pinned),
                toolchain,
                spec.args.clone(),
                compiler,
            )?))
        }
        BoardSpec::Bytecode(spec) => {
            let path = match &spec.mpy_cross_version {
                Some(v) => Some(toolchain.mpy_cross_version(v)?),
                None => spec.mpy_cross.clone(),
            };
            let base = compiler_for(path.as_ref());
            let compiler = Compiler::new(
                base.path.clone(),
                base.pinned,
                base.cache_dir().to_path_buf(),
            )
            .with_flags(spec.flags.clone());
            Ok(Arc::new(BytecodeTarget::new(Arc::new(compiler))))
        }
        BoardSpec::Device(spec) => Ok(open_device(board, spec, compiler_for)?),
    }
}

/// A board behind a console: its tools installed if missing, its target made (sessions
/// connect on first use).
fn open_device(
    board: &Board,
    spec: &DeviceSpec,
    compiler_for: &mut dyn FnMut(Option<&PathBuf>) -> Arc<Compiler>,
) -> Result<Arc<BoardTarget>> {
    if let Some(q) = &spec.config.qemu {
        let present = |q: &crate::board::config::QemuConfig| {
            crate::toolchain::find_on_path(&q.binary).is_some()
                && std::path::Path::new(&q.firmware).exists()
        };
        if !present(q) {
            crate::toolchain::ensure_debian_packages(
                &spec.packages,
                &format!("board `{}` ({})", board.name, board.file.display()),
            )?;
        }
        if !present(q) {
            return Err(Error::Toolchain(format!(
                "board `{}` ({}): `{}` or its firmware {} is missing",
                board.name,
                board.file.display(),
                q.binary,
                q.firmware
            )));
        }
    }
    let compiler = compiler_for(spec.mpy_cross.as_ref());
    let target = BoardTarget::new(
        &board.name,
        spec.config.clone(),
        spec.instances,
        Some(compiler),
    );
    let reset_by_probe = spec
        .config
        .serial
        .as_ref()
        .is_some_and(|s| s.reset == crate::board::config::ResetMethod::Hook);
    Ok(Arc::new(match (&spec.probe, reset_by_probe) {
        (Some(raw), true) => {
            let probe = crate::flash::probe_section::validate(raw.clone(), &board.file)
                .map_err(|e| Error::Usage(e.to_string()))?;
            target.with_probe_reset(probe)
        }
        _ => target,
    }))
}

/// Puts the board's firmware on it when the image differs from what was last flashed
/// there (its content hash is recorded per board): QEMU boards restart with the image,
/// serial boards with a probe are flashed (with verify) through probe-rs. The run log
/// says which happened and why.
fn flash_if_changed(
    state_dir: &std::path::Path,
    board: &Board,
    spec: &DeviceSpec,
    target: &Arc<BoardTarget>,
) -> Result<Option<FlashReport>> {
    use crate::flash::flasher::Flasher;
    use crate::flash::image::{Image, ImageFormat};
    let (path, image, mut flasher): (PathBuf, Image, Box<dyn Flasher>) =
        match (&spec.config.qemu, &spec.probe) {
            (Some(q), _) => {
                let path = PathBuf::from(&q.firmware);
                let format = ImageFormat::from_extension(&path).unwrap_or(ImageFormat::Bin);
                let image = Image::load(&path, format, Some(0)).map_err(|e| {
                    Error::Usage(format!("board `{}`: {}: {e}", board.name, path.display()))
                })?;
                (
                    path,
                    image,
                    Box::new(crate::flash::qemu_flasher::QemuFlasher::new(
                        &q.machine,
                        target.clone(),
                    )),
                )
            }
            (None, Some(raw)) => {
                let probe = crate::flash::probe_section::validate(raw.clone(), &board.file)
                    .map_err(|e| Error::Usage(e.to_string()))?;
                // A board without a firmware image is flashed by hand; the harness only resets it.
                let Some(firmware) = &probe.firmware else {
                    return Ok(None);
                };
                let (path, image) = (firmware.path.clone(), firmware.image.clone());
                (
                    path,
                    image,
                    Box::new(crate::flash::probe_rs_flasher::ProbeRsFlasher::new(probe)),
                )
            }
            (None, None) => return Ok(None),
        };
    let hash = image.content_hash_hex();
    let last = crate::flash::record::last_flashed(state_dir, &board.name);
    let (flash, line) = crate::flash::record::decide(&board.name, &path, &hash, last.as_ref());
    eprintln!("mpcheck: {line}");
    let mut report = FlashReport {
        board: board.name.clone(),
        image: path.clone(),
        flashed: flash,
        reason: line,
        backend: None,
        bytes: None,
        erase_ms: None,
        program_ms: None,
        verify_ms: None,
        total_ms: None,
    };
    if flash {
        let failed = |e: crate::flash::flasher::FlashError| {
            Error::Usage(format!(
                "board `{}` ({}): {e}",
                board.name,
                board.file.display()
            ))
        };
        let timings = flasher.flash(&image, &mut |_| {}).map_err(failed)?;
        eprintln!(
            "mpcheck: board `{}`: flashed {} bytes with {} in {:.2} s",
            board.name,
            image.total_bytes(),
            flasher.describe(),
            timings.total.as_secs_f64()
        );
        crate::flash::record::record_flashed(state_dir, &board.name, &hash, &path)?;
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis());
        report.backend = Some(flasher.describe());
        report.bytes = Some(image.total_bytes());
        (report.erase_ms, report.program_ms, report.verify_ms) =
            (ms(timings.erase), ms(timings.program), ms(timings.verify));
        report.total_ms = Some(timings.total.as_millis());
    }
    // A known state: reset and hold the core, open the console, then let it run, so no
    // boot output is lost (a backend that cannot halt, like QEMU, starts fresh anyway).
    if flasher.reset_and_halt().is_ok() {
        target.release_on_connect(Box::new(move || {
            flasher.run().map_err(std::io::Error::other)
        }));
    }
    Ok(Some(report))
}

fn default_cpython_board(project: &Project) -> Board {
    Board {
        name: "cpython".into(),
        file: project.boards_dir().join("cpython.yaml"),
        description: "CPython reference".into(),
        timeout: Duration::from_secs(30),
        modes: vec![Mode::Source],
        default: false,
        spec: BoardSpec::Host(crate::board::HostSpec {
            kind: HostKind::Cpython,
            executable: None,
            mpy_cross: None,
            args: Vec::new(),
        }),
    }
}

/// Runs every trial; `on_event` sees each result as it lands (on the calling thread).
/// Host-VM trials share `threads` workers (they are CPU-bound); each board has one
/// worker per instance (its cases wait on a paced UART, not on a CPU). Results come back
/// in trial order.
pub fn execute(
    runner: &Runner,
    trials: &[Trial],
    threads: usize,
    on_event: &mut dyn FnMut(Event),
) -> Vec<TrialResult> {
    on_event(Event::Started {
        trials: trials.len(),
    });
    let mut pool_work = Vec::new();
    let mut lane_work: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in trials.iter().enumerate() {
        match runner.lanes.get(&t.board.name) {
            Some(_) if t.decided.is_none() => {
                lane_work.entry(t.board.name.as_str()).or_default().push(i)
            }
            _ => pool_work.push(i),
        }
    }
    let (tx, rx) = mpsc::channel::<(usize, TrialResult)>();
    let mut results: Vec<Option<TrialResult>> = vec![None; trials.len()];
    std::thread::scope(|s| {
        for (board, work) in &lane_work {
            let next = Arc::new(AtomicUsize::new(0));
            for _ in 0..runner.lanes[*board] {
                let (tx, next) = (tx.clone(), next.clone());
                s.spawn(move || {
                    while let Some(&i) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let _ = tx.send((i, runner.run(&trials[i])));
                    }
                });
            }
        }
        let pool_tx = tx.clone();
        let pool_work = &pool_work;
        s.spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads.max(1))
                .build();
            let work = || {
                pool_work
                    .par_iter()
                    .with_max_len(1)
                    .for_each_with(pool_tx.clone(), |tx, &i| {
                        let _ = tx.send((i, runner.run(&trials[i])));
                    })
            };
            match pool {
                Ok(pool) => pool.install(work),
                Err(_) => work(),
            }
        });
        drop(tx);
        for (i, result) in rx {
            on_event(Event::Finished(&result));
            results[i] = Some(result);
        }
    });
    results.into_iter().flatten().collect()
}

/// How many trials run at once by default: one per core (host VMs are CPU-bound).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
