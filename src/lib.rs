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

pub mod ab;
pub mod board;
pub mod case;
pub mod cli;
pub mod compare;
pub mod compile;
pub mod config;
pub mod differential;
pub mod discover;
pub mod env;
pub mod error;
pub mod features;
pub mod firmware_build;
pub mod flash;
pub mod frozen;
pub mod fsutil;
pub mod golden;
pub mod heap;
pub mod history;
pub mod host;
pub mod input;
pub mod interrupt;
pub mod known;
pub mod labgrid;
pub mod merge;
pub mod mpy;
pub mod multi;
pub mod natmod;
pub mod partition;
pub mod pipeline;
pub mod plan;
pub mod reference;
pub mod report;
pub mod result;
pub mod run;
pub mod setup;
pub mod suggest;
pub mod targets;
pub mod toolchain;
pub mod upstream;
pub mod words;
