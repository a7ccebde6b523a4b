//! A MicroPython board behind a console: byte transports (QEMU child process, TCP
//! socket, RFC 2217, local serial), the raw REPL protocol (a sans-I/O state machine in
//! `raw_repl`, driven over a transport by `repl`), feature probing, `.mpy` upload, the
//! recovery ladder, and the `BoardSession` facade that the board target calls:
//!
//! ```text
//! BoardConfig ──connect──▶ Transport ──▶ Repl (RawRepl + pacing) ──▶ probe Features
//!                                              │
//!            run_case(source) ◀── soft reset ──┘──▶ CaseRun { stdout, verdict_hint, timings }
//!                                  on hang: recover::next_rung → Ctrl-C → soft → hard reset
//! ```

pub mod case_run;
mod console;
pub mod console_url;
pub mod driver;
pub mod error;
pub mod features;
pub mod mpy_upload;
mod nonce;
mod pyliteral;
pub mod qemu;
pub mod raw_repl;
pub mod recover;
pub mod repl;
pub mod rfc2217;
pub mod rung;
pub mod serial;
pub mod session;
pub mod shared_ram;
pub mod source_case;
mod stack_scrub;
pub mod tcp;
pub mod telnet;
pub mod transport;

pub use error::BoardError;
pub use session::{BoardSession, CaseRun, SourceCase, Timings, VerdictHint};
