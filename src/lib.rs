//! mpcheck: a conformance and differential test harness for MicroPython.
//!
//! The pipeline, one module per step:
//!
//! ```text
//! boards/*.yaml ─ board::file ─┐
//! cases/**/*.py ─ discover ────┴─ config::Selection ─ plan (board × case × mode → trials)
//!                                                         │
//! setup: toolchain, firmware_build (from a MicroPython tree, cached), targets::open,
//!        firmware (flash if changed), frozen (the frozen trials' firmware), reference
//!                                                         ▼
//! pipeline: gate → prepare → attempt(s) → expect → judge → TrialResult   (events → report)
//!                      │ compile (mpy-cross, cached)     │ compare (status, re-check rule)
//!                      └ targets::{host, board, bytecode} └ golden::{output, bytecode, heap}
//!
//! report::{console, junit, json, markdown}     cli::{bless, review} → golden changes
//! ```

pub mod analysis;
pub mod boardfile;
pub mod cli;
pub mod device;
pub mod expect;
pub mod hw;
pub mod model;
pub mod mpy;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod run;
pub mod suite;
pub mod targets;
pub mod tools;
pub mod util;
