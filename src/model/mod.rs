//! The nouns every later floor speaks: a case and its settings header, a run's outcome,
//! a verdict and the rules that reach it, heap figures, a target's features, a trial's
//! result.

pub mod board_names;
pub mod case;
pub mod features;
pub mod heap;
pub mod outcome;
pub mod result;
pub mod verdict;
