//! MicroPython's current qemu port (mps2-an385) in QEMU, through the raw-REPL engine:
//! raw-paste with early aborts, framing a case cannot forge, exact tracebacks and exit
//! statuses, `.mpy` and helpers from a RAM filesystem, too-large cases. The firmware is
//! `MPCHECK_MPS2_AN385_FIRMWARE`, else built by mpcheck itself from `MICROPY_SRC` the way
//! `boards/mps2-an385-qemu.yaml` says (cached in the repository's `.mpcheck`); without
//! either, the mps2 tests are reported *ignored* with the variable to set, never passed
//! (hence libtest-mimic rather than `#[test]`). The micro:bit variants always run.

mod cases;
mod pause;
// The board tests' helpers (QEMU micro:bit sessions); not all of them are used here.
#[path = "../board/common.rs"]
#[allow(dead_code)]
mod common;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Completion, Trial};
use mpcheck::boardfile::BoardSpec;

type Test = fn(&str);

/// The mpy-cross that goes with the image: the one built from the same tree, or
/// `MPCHECK_MPY_CROSS` beside a prebuilt image.
static MPY_CROSS: OnceLock<Result<std::path::PathBuf, String>> = OnceLock::new();

pub fn mpy_cross() -> std::path::PathBuf {
    match MPY_CROSS.get() {
        Some(Ok(path)) => path.clone(),
        Some(Err(why)) => panic!("{why}"),
        None => panic!("mpy_cross() before the firmware was resolved"),
    }
}

/// The mps2-an385 image, or why there is none here.
fn firmware() -> Result<String, String> {
    if let Ok(path) = std::env::var("MPCHECK_MPS2_AN385_FIRMWARE") {
        let _ = MPY_CROSS.set(std::env::var("MPCHECK_MPY_CROSS").map(Into::into).map_err(|_| {
            "MPCHECK_MPS2_AN385_FIRMWARE is set: set MPCHECK_MPY_CROSS to the mpy-cross of the same build".to_string()
        }));
        return Ok(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let board = mpcheck::boardfile::load_board(&root.join("boards/mps2-an385-qemu.yaml"))
        .map_err(|e| e.to_string())?;
    if let BoardSpec::Device(d) = &board.spec
        && let Some(why) = &d.unavailable
    {
        return Err(why.clone());
    }
    let project = mpcheck::plan::config::Project::new(root);
    let built = mpcheck::run::setup::built(&project, &[Arc::new(board)], &mut |_| {})
        .map_err(|e| e.to_string())?;
    match &built[0].spec {
        BoardSpec::Device(d) => {
            let _ = MPY_CROSS.set(
                d.mpy_cross
                    .clone()
                    .ok_or_else(|| "the mps2-an385 build gave no mpy-cross".to_string()),
            );
            d.config
                .qemu
                .as_ref()
                .map(|q| q.firmware.clone())
                .ok_or_else(|| "boards/mps2-an385-qemu.yaml is not a qemu board".to_string())
        }
        _ => Err("boards/mps2-an385-qemu.yaml is not a device board".into()),
    }
}

fn main() {
    let args = Arguments::from_args();
    let image: Arc<OnceLock<Result<String, String>>> = Arc::default();
    let available = firmware_is_available();
    let tests: [(&str, Test, bool); 18] = [
        (
            "framing_cannot_be_forged_on_mps2",
            cases::framing_cannot_be_forged_on_mps2,
            true,
        ),
        (
            "framing_cannot_be_forged_on_the_microbit",
            cases::framing_cannot_be_forged_on_the_microbit,
            false,
        ),
        (
            "tracebacks_and_exit_statuses_are_exact_on_mps2",
            cases::tracebacks_and_exit_statuses_are_exact_on_mps2,
            true,
        ),
        (
            "tracebacks_and_exit_statuses_are_exact_on_the_microbit",
            cases::tracebacks_and_exit_statuses_are_exact_on_the_microbit,
            false,
        ),
        (
            "a_case_cannot_read_the_nonce_out_of_the_shared_ram",
            cases::a_case_cannot_read_the_nonce_out_of_the_shared_ram,
            true,
        ),
        (
            "a_board_that_died_between_cases_runs_the_next_one",
            cases::a_board_that_died_between_cases_runs_the_next_one,
            true,
        ),
        (
            "shared_ram_the_board_cannot_see_falls_back_to_the_uart",
            cases::shared_ram_the_board_cannot_see_falls_back_to_the_uart,
            true,
        ),
        (
            "raw_paste_honours_the_boards_early_abort",
            cases::raw_paste_honours_the_boards_early_abort,
            true,
        ),
        (
            "upstream_tstring_file_gets_its_verdict_at_once",
            cases::upstream_tstring_file_gets_its_verdict_at_once,
            true,
        ),
        (
            "case_too_big_for_the_heap_is_too_large_at_once",
            cases::case_too_big_for_the_heap_is_too_large_at_once,
            true,
        ),
        (
            "mpy_and_helpers_from_a_ram_filesystem",
            cases::mpy_and_helpers_from_a_ram_filesystem,
            true,
        ),
        (
            "only_own_cases_see_a_file_name",
            cases::only_own_cases_see_a_file_name,
            true,
        ),
        (
            "a_case_can_unmount_the_ram_filesystem",
            cases::a_case_can_unmount_the_ram_filesystem,
            true,
        ),
        (
            "heap_figures_are_identical_run_to_run",
            cases::heap_figures_are_identical_run_to_run,
            true,
        ),
        (
            "a_heap_measurement_starts_on_a_cleared_stack",
            cases::a_heap_measurement_starts_on_a_cleared_stack,
            true,
        ),
        (
            "target_time_is_exact_with_icount",
            cases::target_time_is_exact_with_icount,
            true,
        ),
        (
            "image_size_is_what_binutils_size_says",
            cases::image_size_is_what_binutils_size_says,
            true,
        ),
        (
            "a_paused_session_uses_no_cpu_and_runs_on_when_continued",
            pause::a_paused_session_uses_no_cpu_and_runs_on_when_continued,
            true,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test, needs_mps2)| {
            let (image, available) = (image.clone(), available.clone());
            Trial::ignorable_test(name, move || {
                if !needs_mps2 {
                    test("");
                    return Ok(Completion::Completed);
                }
                if let Err(why) = &available {
                    return Ok(Completion::ignored_with(why));
                }
                match image.get_or_init(firmware) {
                    Ok(fw) => {
                        test(fw);
                        Ok(Completion::Completed)
                    }
                    Err(e) => Err(format!("mps2-an385 firmware: {e}").into()),
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Whether this machine can have the image at all (a prebuilt one, or a tree to build
/// from), decided without building: a missing tree ignores, a failing build fails.
fn firmware_is_available() -> Result<(), String> {
    if std::env::var_os("MPCHECK_MPS2_AN385_FIRMWARE").is_some() {
        return Ok(());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match mpcheck::boardfile::load_board(&root.join("boards/mps2-an385-qemu.yaml")) {
        Ok(board) => match &board.spec {
            BoardSpec::Device(d) => d.unavailable.clone().map_or(Ok(()), Err),
            _ => Ok(()),
        },
        Err(e) => Err(e.to_string()),
    }
}
