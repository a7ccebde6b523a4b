//! mpcheck: a conformance and differential test harness for MicroPython.
//!
//! Sixteen floors, lowest first; a file imports only its own floor and earlier ones
//! (tests/layers.rs): util, mpy, model, tools, boardfile, device, hw, targets, expect,
//! plan, pipeline, suite, analysis, report, run, cli. A trial's way through them:
//!
//! ```text
//! boards/*.yaml ─ boardfile ─┐
//! cases/**/*.py ─ plan::discover ┴─ run::selection::Selection ─ plan (board × case × mode)
//!                                                         │
//! run::setup: tools (toolchain, firmware_build, frozen), targets::open, hw::flash,
//!             expect::reference                            ▼
//! pipeline: gate → prepare → attempt(s) → expect → judge → TrialResult   (events → report)
//!              │ tools::compile              │ model::verdict (status, re-check rule)
//!              └ targets::{host, board, …}   └ expect::golden::{output, bytecode, heap}
//!                  └ device (raw REPL)
//!
//! report::{console, junit, json, markdown, html}   cli::{bless, review} → golden changes
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
