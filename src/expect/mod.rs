//! What a trial is judged against: goldens (output, bytecode, heap; the pending store),
//! the CPython reference, and the known differences of a board or port.

pub mod golden;
pub mod known;
pub mod reference;
