//! `mpcheck flash BOARD`: attach to the board's probe, download its firmware with verify
//! (pre-verify skips regions already up to date), show progress, print the timings and
//! record what was flashed. No probe, or the wrong one: exit 2 naming the board file, the
//! selector it wanted and what is attached.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::boardfile::BoardSpec;
use crate::boardfile::load_board;
use crate::hw::flash::flasher::{FlashEvent, Flasher};
use crate::hw::flash::probe_rs_flasher::ProbeRsFlasher;
use crate::plan::config::Project;
use crate::util::error::{Error, Result, exit};

#[derive(Args)]
pub struct FlashArgs {
    /// The board (its file in boards/) to flash.
    pub board: String,
}

pub fn flash(project: &Project, args: &FlashArgs) -> Result<i32> {
    let file = project.boards_dir().join(format!("{}.yaml", args.board));
    let board = load_board(&file)?;
    let raw = match &board.spec {
        BoardSpec::Device(d) if d.probe.is_some() => {
            d.probe.clone().unwrap_or_else(|| unreachable!())
        }
        BoardSpec::Device(d) if d.config.qemu.is_some() => {
            return Err(Error::Usage(format!(
                "{}: a qemu board is flashed by restarting QEMU with its image, which `mpcheck run` does when the image changed",
                file.display()
            )));
        }
        _ => {
            return Err(Error::Usage(format!(
                "{}: board `{}` has no `probe:` section to flash through",
                file.display(),
                board.name
            )));
        }
    };
    let probe =
        crate::hw::flash::probe_section::checked(&raw).map_err(|e| Error::Part(Box::new(e)))?;
    let Some(firmware) = probe.firmware.clone() else {
        return Err(Error::Usage(format!(
            "{}: probe.firmware is not set: nothing to flash",
            file.display()
        )));
    };
    let image = firmware.image.clone();
    let mut flasher = ProbeRsFlasher::new((*probe).clone());
    eprintln!(
        "flashing {} ({} bytes) with {}",
        firmware.path.display(),
        image.total_bytes(),
        flasher.describe()
    );
    let bar = ProgressBar::new(image.total_bytes());
    bar.set_style(
        ProgressStyle::with_template("{msg:8} {bar:40} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let timings = flasher
        .flash(&image, &mut |event| match event {
            FlashEvent::Started(phase) => {
                bar.set_position(0);
                bar.set_message(phase.as_str());
            }
            FlashEvent::Progress { bytes, .. } => bar.inc(bytes),
            FlashEvent::Message(m) => bar.println(m),
            _ => {}
        })
        .map_err(|e| Error::Usage(e.to_string()))?;
    bar.finish_and_clear();
    flasher.reset().map_err(|e| Error::Usage(e.to_string()))?;
    crate::hw::flash::record::record_flashed(
        &project.state_dir,
        &board.name,
        &image.content_hash_hex(),
        &firmware.path,
    )?;
    let ms = |d: Option<std::time::Duration>| {
        d.map_or("-".to_string(), |d| format!("{} ms", d.as_millis()))
    };
    println!(
        "flashed {}: erase {}, program {}, verify {}, total {} ms",
        board.name,
        ms(timings.erase),
        ms(timings.program),
        ms(timings.verify),
        timings.total.as_millis()
    );
    Ok(exit::OK)
}
