//! How often a trial runs and what a known-flaky case's failure means: `--repeat N` runs
//! it N times, `--retries N` runs a failure again up to N times (nextest's meaning);
//! results that differ are `flaky`, never `pass`. A case's `flaky:` setting quarantines
//! its failures until a date, after which they fail the run again.

use chrono::NaiveDate;

use super::{Pipeline, TrialResult};
use crate::model::case::FlakySetting;
use crate::model::result::Attempt;
use crate::model::verdict::{Verdict, aggregate};
use crate::plan::Trial;

/// How many times trials run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Run every trial this many times (at least 1).
    pub repeat: usize,
    /// Run a failing trial again up to this many times.
    pub retries: usize,
}

impl Default for Attempts {
    fn default() -> Attempts {
        Attempts {
            repeat: 1,
            retries: 0,
        }
    }
}

/// Whether a case's quarantine holds on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quarantine {
    /// Failures are reported `flaky` with this reason and do not fail the run.
    Active { reason: String, until: NaiveDate },
    /// The date has passed: failures count again.
    Expired { until: NaiveDate },
}

/// The quarantine of a `flaky:` setting on `today`. Pure.
pub fn quarantine(setting: &FlakySetting, today: NaiveDate) -> Quarantine {
    if today <= setting.until {
        Quarantine::Active {
            reason: setting.reason.clone(),
            until: setting.until,
        }
    } else {
        Quarantine::Expired {
            until: setting.until,
        }
    }
}

impl Pipeline {
    /// Runs a trial as often as `attempts` says and applies the case's quarantine.
    pub fn run_attempts(
        &self,
        trial: &Trial,
        attempts: Attempts,
        today: NaiveDate,
        tell: &dyn Fn(super::Notice),
    ) -> TrialResult {
        let mut results = vec![self.run_telling(trial, tell)];
        // A verdict decided without running (skip, bad settings) does not change.
        let ran = results[0].output.is_some();
        if ran {
            // After Ctrl-C no attempt starts: each would come back an interrupted
            // error, and the trial would read as flaky (`pass 41, error 359`).
            for _ in 1..attempts.repeat.max(1) {
                if crate::util::interrupt::requested() {
                    break;
                }
                results.push(self.run_telling(trial, tell));
            }
            let mut left = if attempts.repeat > 1 {
                0
            } else {
                attempts.retries
            };
            while left > 0
                && !crate::util::interrupt::requested()
                && results.last().is_some_and(|r| r.verdict.is_failure())
            {
                let last = results.last().map_or("", |r| r.verdict.name());
                tell(super::Notice::Retried(&format!(
                    "attempt {} was {last}: retrying ({left} left)",
                    results.len()
                )));
                results.push(self.run_telling(trial, tell));
                left -= 1;
            }
        }
        // The attempt Ctrl-C cut short says nothing about the case (its VM was killed):
        // with other attempts to go by it is left out, so an interrupted repeat of a
        // passing case is not reported flaky. The report is marked interrupted anyway.
        if crate::util::interrupt::requested()
            && results.len() > 1
            && results.last().is_some_and(|r| r.verdict.is_failure())
        {
            results.pop();
        }
        let mut result = combine(results);
        if let Some(setting) = trial
            .case
            .settings
            .as_ref()
            .ok()
            .and_then(|s| s.flaky.as_ref())
        {
            match quarantine(setting, today) {
                Quarantine::Active { reason, until } if result.verdict.is_failure() => {
                    result.quarantined = Some(format!("{reason} (quarantined until {until})"));
                }
                Quarantine::Active { .. } => {}
                Quarantine::Expired { until } => {
                    let expired = format!("the case's flaky quarantine expired on {until}");
                    result.note = Some(match result.note.take() {
                        Some(n) => format!("{n}\n{expired}"),
                        None => expired,
                    });
                }
            }
        }
        result
    }
}

/// One result from several attempts: the first failing attempt's evidence (it shows what
/// failed), the aggregate verdict, and every attempt kept.
fn combine(mut results: Vec<TrialResult>) -> TrialResult {
    if results.len() == 1 {
        return results.remove(0);
    }
    let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict.clone()).collect();
    let attempts: Vec<Attempt> = results
        .iter()
        .enumerate()
        .map(|(i, r)| Attempt {
            verdict: r.verdict.clone(),
            why: format!("attempt {}", i + 1),
            duration_ms: r.duration_ms,
            target_us: r.target_us,
        })
        .collect();
    let total_ms = results.iter().map(|r| r.duration_ms).sum();
    let pick = results
        .iter()
        .position(|r| r.verdict.is_failure())
        .unwrap_or(0);
    let mut result = results.swap_remove(pick);
    result.verdict = aggregate(&verdicts);
    result.attempts = attempts;
    result.duration_ms = total_ms;
    // Outputs that differ between attempts are no golden.
    result.blessable &= !matches!(result.verdict, Verdict::Flaky { .. });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarantine_ends_by_itself() {
        let setting = FlakySetting {
            reason: "the UART drops bytes under load".into(),
            until: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        };
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert!(matches!(
            quarantine(&setting, day(31)),
            Quarantine::Active { .. }
        ));
        assert_eq!(
            quarantine(&setting, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            Quarantine::Expired { until: day(31) }
        );
    }
}
