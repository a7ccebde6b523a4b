//! Integration tests against MicroPython 1.9.2 micro:bit firmware running in QEMU.

mod common;
mod features;
mod files;
mod link;
mod network;
mod recovery;
mod run;
