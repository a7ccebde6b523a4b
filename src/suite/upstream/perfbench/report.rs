//! perf_bench.json and perf_bench.md: per board and benchmark, the target's µs over the
//! repeats (min, median, mean and run-perfbench.py's standard deviation in %) and the
//! score (1e6 × norm / µs), as run-perfbench.py prints them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pipeline::TrialResult;

/// One benchmark on one board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub board: String,
    pub benchmark: String,
    pub verdict: String,
    /// Each run's time on the target (µs).
    pub us: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub min_us: u64,
    pub median_us: f64,
    pub mean_us: f64,
    /// run-perfbench.py's `100 * sd / mean` (population deviation).
    pub sd_percent: f64,
    pub score: f64,
    pub score_sd_percent: f64,
}

/// run-perfbench.py's `compute_stats`: mean and population standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len().max(1) as f64;
    let avg = xs.iter().sum::<f64>() / n;
    let var = (xs.iter().map(|x| x * x).sum::<f64>() / n - avg * avg).max(0.0);
    (avg, var.sqrt())
}

/// The figures of a passing benchmark's runs (`norm`: its printed norm).
pub fn stats(us: &[u64], norm: i64) -> Option<Stats> {
    if us.is_empty() || us.contains(&0) {
        return None;
    }
    let times: Vec<f64> = us.iter().map(|&u| u as f64).collect();
    let scores: Vec<f64> = times.iter().map(|t| 1e6 * norm as f64 / t).collect();
    let (t_avg, t_sd) = mean_sd(&times);
    let (s_avg, s_sd) = mean_sd(&scores);
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let k = sorted.len();
    let median = if k % 2 == 1 {
        sorted[k / 2]
    } else {
        (sorted[k / 2 - 1] + sorted[k / 2]) / 2.0
    };
    Some(Stats {
        min_us: *us.iter().min()?,
        median_us: median,
        mean_us: t_avg,
        sd_percent: 100.0 * t_sd / t_avg,
        score: s_avg,
        score_sd_percent: if s_avg > 0.0 {
            100.0 * s_sd / s_avg
        } else {
            0.0
        },
    })
}

/// The rows of a run's benchmark trials.
pub fn rows(results: &[TrialResult]) -> Vec<Row> {
    results
        .iter()
        .filter(|r| r.case.starts_with(&format!("{}/", super::DIR)))
        .map(|r| {
            let us: Vec<u64> = if r.attempts.is_empty() {
                r.target_us.into_iter().collect()
            } else {
                r.attempts.iter().filter_map(|a| a.target_us).collect()
            };
            let norm = r
                .output
                .as_deref()
                .and_then(|o| super::judge::parse(o).ok())
                .map(|x| x.norm);
            let stats = norm.filter(|_| r.verdict.name() == "pass");
            Row {
                board: r.board.clone(),
                benchmark: r.case.clone(),
                verdict: r.verdict.name().to_string(),
                stats: stats.and_then(|n| self::stats(&us, n)),
                us,
            }
        })
        .collect()
}

/// The table run-perfbench.py prints, one line per benchmark and board.
pub fn markdown(rows: &[Row], params: Option<super::Params>) -> String {
    let mut s = String::from("# perf_bench\n\n");
    if let Some(p) = params {
        s.push_str(&format!("N={} M={}\n\n", p.n, p.m));
    }
    s.push_str("| board | benchmark | runs | min µs | median µs | mean µs | sd % | score | score sd % |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        match &r.stats {
            Some(st) => s.push_str(&format!(
                "| {} | {} | {} | {} | {:.1} | {:.2} | {:.4} | {:.2} | {:.4} |\n",
                r.board,
                r.benchmark,
                r.us.len(),
                st.min_us,
                st.median_us,
                st.mean_us,
                st.sd_percent,
                st.score,
                st.score_sd_percent
            )),
            None => s.push_str(&format!(
                "| {} | {} | {} | {} | | | | | |\n",
                r.board,
                r.benchmark,
                r.us.len(),
                r.verdict
            )),
        }
    }
    s
}

/// Writes perf_bench.json and perf_bench.md when the run had benchmarks.
pub fn write(
    dir: &Path,
    results: &[TrialResult],
    params: Option<super::Params>,
) -> crate::util::error::Result<Vec<PathBuf>> {
    let rows = rows(results);
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let json = dir.join("perf_bench.json");
    let md = dir.join("perf_bench.md");
    let io = |p: &Path, e: std::io::Error| crate::util::error::Error::io(p, e);
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "n": params.map(|p| p.n),
        "m": params.map(|p| p.m),
        "benchmarks": rows,
    }))
    .unwrap_or_default();
    std::fs::write(&json, text).map_err(|e| io(&json, e))?;
    std::fs::write(&md, markdown(&rows, params)).map_err(|e| io(&md, e))?;
    Ok(vec![json, md])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_run_perfbench_s() {
        let st = stats(&[100, 110, 90], 1000).unwrap();
        assert_eq!(st.min_us, 90);
        assert_eq!(st.median_us, 100.0);
        assert_eq!(st.mean_us, 100.0);
        // population sd of 100, 110, 90 is 8.165
        assert!((st.sd_percent - 8.1650).abs() < 1e-3, "{}", st.sd_percent);
        // scores 1e9/100, 1e9/110, 1e9/90: their mean
        assert!((st.score - 10_067_340.07).abs() < 0.1, "{}", st.score);
        assert_eq!(stats(&[], 1), None);
    }
}
