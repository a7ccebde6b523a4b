//! Reading results together: the differential matrix across boards, the A/B comparison
//! of two builds, the history of runs, and the merge of a night's partitions.

pub mod ab;
pub mod differential;
pub mod history;
pub mod merge;
