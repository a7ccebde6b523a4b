//! Flashing real boards for nightly hardware CI: a board file's `probe:` section is
//! checked offline against probe-rs's chip database (`probe_section`), its firmware read
//! into segments (`image`) and shown to fit; a [`flasher::Flasher`] backend
//! (`probe_rs_flasher`, hardware only) finds the board's probe (`probes`), flashes with
//! verify, reports progress as events and resets the board.

pub mod chip;
pub mod flasher;
pub mod image;
pub mod probe_rs_flasher;
pub mod probe_section;
pub mod probes;
pub mod qemu_flasher;
pub mod record;
pub mod reset_hook;
