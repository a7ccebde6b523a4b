//! Pools of identical boards in the reports: which member ran how many trials, and why a
//! member ran none (its place held by someone else, it could not connect).

use crate::pipeline::TrialResult;
use crate::targets::members::MemberState;

/// One member of a pool as reported: its state and how many trials it ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberRow {
    #[serde(flatten)]
    pub state: MemberState,
    pub trials: usize,
}

/// Every pool member with the trials it ran (`member` in `results`).
pub fn rows(members: &[MemberState], results: &[TrialResult]) -> Vec<MemberRow> {
    members
        .iter()
        .map(|m| MemberRow {
            state: m.clone(),
            trials: results
                .iter()
                .filter(|r| r.board == m.board && r.member.as_deref() == Some(&m.member))
                .count(),
        })
        .collect()
}

/// One line per pool: `pool lg: mb1 ran 6 trials, mb2 ran none (held by …)`.
pub fn lines(rows: &[MemberRow]) -> Vec<String> {
    let mut boards: Vec<&str> = rows.iter().map(|r| r.state.board.as_str()).collect();
    boards.dedup();
    boards
        .into_iter()
        .map(|board| {
            let members: Vec<String> = rows
                .iter()
                .filter(|r| r.state.board == board)
                .map(|r| {
                    let ran = match r.trials {
                        0 => "ran none".to_string(),
                        n => format!("ran {}", crate::util::words::count(n, "trial", "trials")),
                    };
                    match &r.state.unavailable {
                        Some(why) => format!("{} {ran} ({why})", r.state.member),
                        None => format!("{} {ran}", r.state.member),
                    }
                })
                .collect();
            format!("pool {board}: {}", members.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_per_pool_with_each_members_trials_and_why_none() {
        let state = |member: &str, why: Option<&str>| MemberState {
            board: "lg".into(),
            member: member.into(),
            unavailable: why.map(str::to_string),
        };
        let rows = [
            MemberRow {
                state: state("mb1", None),
                trials: 6,
            },
            MemberRow {
                state: state("mb2", Some("held by h/u for the whole run")),
                trials: 0,
            },
        ];
        assert_eq!(
            lines(&rows),
            ["pool lg: mb1 ran 6 trials, mb2 ran none (held by h/u for the whole run)"]
        );
    }
}
