//! mpcheck: a conformance and differential test harness for MicroPython.
//!
//! The pipeline, one module per step:
//!
//! ```text
//! boards/*.yaml ─ board::file ─┐
//! cases/**/*.py ─ discover ────┼─ config::Selection ─ plan (board × case × mode → trials)
//!                              │
//! firmware_build (a board's image from a MicroPython tree, cached) ─ execute::Runner::open
//! toolchain (provision) ─ target::{host, process} ─ execute::Runner ── compare::judge
//!        compile (mpy-cross, cached)    reference (CPython, cached)      golden (expected,
//!                                                                         bless policy)
//!                          execute emits events → report::{console, junit, json, markdown}
//! ```

pub mod board;
pub mod case;
pub mod cli;
pub mod compare;
pub mod compile;
pub mod config;
pub mod discover;
pub mod env;
pub mod error;
pub mod execute;
pub mod features;
pub mod firmware_build;
pub mod flash;
pub mod golden;
pub mod heap;
pub mod mpy;
pub mod plan;
pub mod reference;
pub mod report;
pub mod target;
pub mod toolchain;
