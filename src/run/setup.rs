//! Everything a run needs before its first trial: the pinned tools, the selected boards'
//! targets, each device board's firmware (flashed only when it changed), and the CPython
//! reference. What it does is told as events; it prints nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::boardfile::file::DeviceSpec;
use crate::boardfile::{Board, BoardSpec, HostKind};
use crate::expect::golden::Goldens;
use crate::expect::reference::Reference;
use crate::hw::flash::record::FlashReport;
use crate::pipeline::{Event, Pipeline};
use crate::plan::config::Project;
use crate::run::selection::Selection;
use crate::targets::board::BoardTarget;
use crate::targets::open::{Compilers, Targets, default_cpython_board, open_target};
use crate::tools::compile::cache_dir;
use crate::tools::toolchain::{Toolchain, reported_version};
use crate::util::error::{Error, Result};

/// A pipeline ready to run, and what was done about each device board's firmware.
pub struct Opened {
    pub pipeline: Pipeline,
    pub flashes: Vec<FlashReport>,
}

/// Whether to put device boards' firmware in place (a run) or leave boards as they are
/// (`mpcheck toolchain`, which only asks each tool its version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    Flash,
    Leave,
}

/// The cases of each board's frozen trials (board name → cases): one frozen firmware
/// per board serves them all.
pub type FrozenCases = std::collections::BTreeMap<String, Vec<Arc<crate::model::case::Case>>>;

/// What each board freezes: every case its frozen trials could run, not only the
/// selected ones, for each board with a frozen trial to run. The image, and so every
/// frozen heap figure (its qstr pool sets the size of the first pool a case allocates),
/// is then the same whatever the filter selects.
pub fn frozen_cases(selection: &Selection, trials: &[crate::plan::Trial]) -> FrozenCases {
    let frozen =
        |t: &&crate::plan::Trial| t.mode == crate::model::case::Mode::Frozen && t.decided.is_none();
    let boards: std::collections::BTreeSet<&str> = trials
        .iter()
        .filter(frozen)
        .map(|t| t.board.name.as_str())
        .collect();
    let mut cases = FrozenCases::new();
    for t in crate::plan::plan(&selection.boards, &selection.cases)
        .iter()
        .filter(frozen)
        .filter(|t| boards.contains(t.board.name.as_str()))
    {
        cases
            .entry(t.board.name.clone())
            .or_default()
            .push(t.case.clone());
    }
    cases
}

/// Provisions the toolchain, opens every selected board, puts each device board's
/// firmware in place (with [`Firmware::Flash`]), builds the frozen firmware of boards
/// with frozen trials (`frozen`), and finds the CPython reference.
pub fn open(
    project: &Project,
    selection: &Selection,
    firmware: Firmware,
    frozen: &FrozenCases,
    on_event: &mut dyn FnMut(Event),
) -> Result<Opened> {
    let toolchain = Toolchain::ensure(&project.state_dir.join("toolchain"))?;
    let mut compilers = Compilers::new(&project.state_dir, &toolchain);
    let boards = built(project, &selection.boards, on_event)?;
    let mut targets = Targets::open(&boards, &toolchain, &mut compilers)?;
    for (board, why) in targets.unavailable() {
        on_event(Event::BoardUnavailable { board, why });
    }
    let mut flashes: Vec<FlashReport> = boards.iter().filter_map(|b| built_vm(b)).collect();
    for board in &boards {
        if let Some(cases) = frozen.get(&board.name).filter(|c| !c.is_empty()) {
            let opened =
                crate::run::frozen::open_variant(project, board, &targets, cases, on_event);
            let target = opened.map(|(target, image)| {
                flashes.extend(image.map(|image| frozen_image(board, image)));
                target
            });
            targets.set_frozen(&board.name, target);
        }
    }
    for board in boards.iter().filter(|_| firmware == Firmware::Flash) {
        if let (BoardSpec::Device(d), Some(target)) = (&board.spec, targets.device(&board.name)) {
            flashes.extend(flash_if_changed(
                &project.state_dir,
                board,
                d,
                target,
                on_event,
            )?);
        }
    }
    let reference = open_reference(project, selection, &toolchain, &mut compilers)?;
    Ok(Opened {
        pipeline: Pipeline::new(
            targets,
            Goldens::new(project.golden_dir()),
            reference,
            rules(selection),
        ),
        flashes,
    })
}

/// How the selection's suite compiles, runs and judges its tests: a checkout's as
/// run-tests.py, the project's cases as the pipeline does by default.
fn rules(selection: &Selection) -> std::sync::Arc<dyn crate::pipeline::SuiteRules> {
    match &selection.upstream {
        Some(suite) => suite.clone(),
        None => std::sync::Arc::new(crate::pipeline::OwnCases),
    }
}

/// The boards with every `build:` section resolved: the image and mpy-cross built from
/// the board's MicroPython tree (or found in the build cache).
pub fn built(
    project: &Project,
    boards: &[Arc<Board>],
    on_event: &mut dyn FnMut(Event),
) -> Result<Vec<Arc<Board>>> {
    boards
        .iter()
        .map(|board| {
            let Some(build) = board.build().filter(|_| board.unavailable().is_none()) else {
                return Ok(board.clone());
            };
            let install = |packages: &[String]| {
                crate::tools::toolchain::ensure_debian_packages(
                    packages,
                    &board.file.display().to_string(),
                )
                .map_err(|e| e.to_string())
            };
            let built = crate::tools::firmware_build::build(
                build,
                &board.file,
                &project.state_dir,
                &install,
                &mut |p| {
                    on_event(Event::Firmware {
                        board: &board.name,
                        line: &format!("board `{}`: {p}", board.name),
                    })
                },
            )?;
            // The built image is the board's firmware (the unix port's VM); the tree's
            // own mpy-cross its compiler, unless the board file or `--mpy-cross` names one.
            let mut resolved = (**board).clone();
            match &mut resolved.spec {
                BoardSpec::Device(spec) => {
                    if let Some(q) = &mut spec.config.qemu {
                        q.firmware = built.firmware.to_string_lossy().into_owned();
                    }
                    spec.mpy_cross = spec.mpy_cross.take().or(Some(built.mpy_cross));
                }
                BoardSpec::Host(spec) => {
                    spec.executable = Some(built.firmware);
                    spec.mpy_cross = spec.mpy_cross.take().or(Some(built.mpy_cross));
                }
                BoardSpec::Bytecode(_) => unreachable!("bytecode boards have no build"),
            }
            Ok(Arc::new(resolved))
        })
        .collect()
}

/// A host board's VM built from its tree (the unix port), reported as a device board's
/// firmware is: its image and text/data/bss, so results.json, compare and the history
/// carry its size. Nothing is flashed.
fn built_vm(board: &Board) -> Option<FlashReport> {
    board.build().filter(|_| board.unavailable().is_none())?;
    let BoardSpec::Host(host) = &board.spec else {
        return None;
    };
    let vm = host.executable.as_ref()?;
    Some(FlashReport::unflashed(
        board.name.clone(),
        vm.clone(),
        format!(
            "board `{}`: the VM built from its tree, {}",
            board.name,
            vm.display()
        ),
        crate::tools::firmware_build::size::of_elf(vm).ok(),
    ))
}

/// A board's frozen variant (its image built with the run's cases frozen in), reported
/// as its plain image is, under `<board> (frozen)`: its text/data/bss, so the frozen
/// image's size reaches results.json, summary.md and the history beside the plain one's.
fn frozen_image(board: &Board, image: PathBuf) -> FlashReport {
    let name = format!("{} (frozen)", board.name);
    FlashReport::unflashed(
        name.clone(),
        image.clone(),
        format!(
            "board `{name}`: built with the run's frozen cases, {}",
            image.display()
        ),
        crate::tools::firmware_build::size::of_elf(&image).ok(),
    )
}

/// The reference is the `cpython` board file's interpreter, or python3; its path and
/// version are asked once (the cache key and the report).
fn open_reference(
    project: &Project,
    selection: &Selection,
    toolchain: &Toolchain,
    compilers: &mut Compilers,
) -> Result<Reference> {
    let board = selection
        .all_boards
        .iter()
        .find(|b| matches!(&b.spec, BoardSpec::Host(h) if h.kind == HostKind::Cpython))
        .cloned()
        .unwrap_or_else(|| Arc::new(default_cpython_board(&project.boards_dir())));
    let target = open_target(&board, toolchain, compilers)?;
    let (python, version) = match target.tools().into_iter().next() {
        Some(t) => (t.path, t.version),
        None => (
            toolchain.python.clone(),
            reported_version(std::process::Command::new(&toolchain.python).arg("--version")),
        ),
    };
    Ok(Reference::new(
        target,
        python,
        version,
        cache_dir(&project.state_dir, "cpython"),
    ))
}

/// Puts the board's firmware on it when the image differs from what was last flashed
/// there (its content hash is recorded per board): QEMU boards restart with the image,
/// serial boards with a probe are flashed (with verify) through probe-rs.
fn flash_if_changed(
    state_dir: &std::path::Path,
    board: &Board,
    spec: &DeviceSpec,
    target: &Arc<BoardTarget>,
    on_event: &mut dyn FnMut(Event),
) -> Result<Option<FlashReport>> {
    use crate::boardfile::probe_spec::ImageFormat;
    use crate::hw::flash::flasher::Flasher;
    use crate::hw::flash::image::Image;
    let (path, image, mut flasher): (PathBuf, Image, Box<dyn Flasher>) =
        match (&spec.config.qemu, &spec.probe) {
            (Some(q), _) => {
                let path = PathBuf::from(&q.firmware);
                let format = ImageFormat::from_extension(&path).unwrap_or(ImageFormat::Bin);
                let image = Image::load(&path, format, Some(0))
                    .map_err(|e| Error::board(&board.name, &path, e))?;
                (
                    path,
                    image,
                    Box::new(crate::hw::flash::qemu_flasher::QemuFlasher::new(
                        &q.machine,
                        {
                            let target = target.clone();
                            Arc::new(move || target.restart_all())
                        },
                    )),
                )
            }
            (None, Some(spec)) => {
                let probe = crate::hw::flash::probe_section::checked(spec)
                    .map_err(|e| Error::Part(Box::new(e)))?;
                // A board without a firmware image is flashed by hand; the harness only resets it.
                let Some(firmware) = &probe.firmware else {
                    return Ok(None);
                };
                let (path, image) = (firmware.path.clone(), firmware.image.clone());
                (
                    path,
                    image,
                    Box::new(crate::hw::flash::probe_rs_flasher::ProbeRsFlasher::new(
                        (*probe).clone(),
                    )),
                )
            }
            (None, None) => return Ok(None),
        };
    let hash = image.content_hash_hex();
    let last = crate::hw::flash::record::last_flashed(state_dir, &board.name);
    let (flash, line) = crate::hw::flash::record::decide(&board.name, &path, &hash, last.as_ref());
    on_event(Event::Firmware {
        board: &board.name,
        line: &line,
    });
    let size = match ImageFormat::from_extension(&path) {
        // Loaded as an ELF above, so its section headers read.
        Some(ImageFormat::Elf) => crate::tools::firmware_build::size::of_elf(&path).ok(),
        _ => None,
    };
    let mut report = FlashReport::unflashed(board.name.clone(), path.clone(), line, size);
    report.flashed = flash;
    if flash {
        let failed =
            |e: crate::hw::flash::flasher::FlashError| Error::board(&board.name, &board.file, e);
        let timings = flasher.flash(&image, &mut |_| {}).map_err(failed)?;
        on_event(Event::Firmware {
            board: &board.name,
            // An emulator programs nothing: it loads the image when it next boots.
            line: &if timings.program.is_none() {
                format!(
                    "board `{}`: {} boots the new image ({} bytes) from its next start",
                    board.name,
                    flasher.describe(),
                    image.total_bytes()
                )
            } else {
                format!(
                    "board `{}`: flashed {} bytes with {} in {:.2} s",
                    board.name,
                    image.total_bytes(),
                    flasher.describe(),
                    timings.total.as_secs_f64()
                )
            },
        });
        crate::hw::flash::record::record_flashed(state_dir, &board.name, &hash, &path)?;
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
