//! Boards that live in a labgrid place (a board farm's coordinator hands out places;
//! exporters on the hosts with boards export their consoles and power switches).
//!
//! mpcheck drives labgrid through its public CLI, `labgrid-client` (installed from PyPI
//! into the tool directory on first use):
//!
//! ```text
//! board file `labgrid:` ─ boardfile::labgrid ─▶ held::HeldPlace::acquire ─ client acquire (waits while
//!                                    │                       someone else holds it)
//!                                    ├─ guardian (own process: releases when we die)
//!                                    ├─ place_env (the place's resources → console URL)
//!                                    └─ power::PowerCycle (last rung: `power cycle`)
//! ```

pub mod client;
pub mod error;
pub mod guardian;
pub mod held;
pub mod place_env;
pub mod power;

pub use error::LabgridError;
pub use held::HeldPlace;
