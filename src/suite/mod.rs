//! Where trials come from besides mpcheck's own `cases/`: a MicroPython checkout's
//! `tests/` run by run-tests.py's rules (`upstream`, with perf_bench), its multi-instance
//! tests (`multi`) and its native-module tests (`natmod`).

pub mod multi;
pub mod natmod;
pub mod upstream;
