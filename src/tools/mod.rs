//! The tools a run uses, provisioned and built: the pinned toolchain (mpy-cross, VMs,
//! Python packages), compiling a case with mpy-cross, firmware and VM builds from a
//! MicroPython tree, and the frozen-mode firmware of a run's cases.

pub mod compile;
pub mod firmware_build;
pub mod frozen;
pub mod python;
pub mod toolchain;
