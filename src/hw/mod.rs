//! Hardware around a board: flashing (probe-rs, QEMU images) and labgrid places.

pub mod flash;
pub mod labgrid;
