//! compare.html's run-time view: the bar chart of per-case deltas and the table cell of
//! a row's time, both coloured only beyond the measured noise.

use maud::{Markup, html};

use crate::analysis::ab::TimeDelta;
use crate::analysis::ab::timing::TimeVerdict;

/// The colour of a time delta: red or green only for a change beyond the noise (the
/// sides' ranges of samples apart); grey inside it or when the spread is unknown, so a
/// chart of noise does not read as a list of wins and losses.
fn time_fill(v: TimeVerdict) -> &'static str {
    match v {
        TimeVerdict::Slower => "#d62020",
        TimeVerdict::Faster => "#2e9e44",
        TimeVerdict::InsideNoise | TimeVerdict::TooFewSamples => "#9a9a9a",
    }
}

/// Where the bars start (the labels' room) and the longest bar, in pixels.
const ORIGIN: f64 = 300.0;
const BAR: f64 = 220.0;

/// A small inline bar chart of per-case deltas (percent of the base), coloured by
/// [`time_fill`], each bar labelled with its percentage (bars alone had no scale).
pub fn delta_chart(rows: &[(String, f64, TimeVerdict)]) -> Markup {
    let height = 18 * rows.len() + 4;
    let max = rows.iter().map(|(_, v, _)| v.abs()).fold(1.0, f64::max);
    html! {
        svg width=(ORIGIN + BAR + 70.0) height=(height) xmlns="http://www.w3.org/2000/svg" font-size="12" {
            line x1=(ORIGIN) y1="0" x2=(ORIGIN) y2=(height) stroke="#888" {}
            @for (i, (label, v, verdict)) in rows.iter().enumerate() {
                @let w = v.abs() / max * BAR;
                @let x = if *v < 0.0 { ORIGIN - w } else { ORIGIN };
                @let y = i * 18 + 14;
                text x="0" y=(y) { (label) }
                rect x=(format!("{x:.1}")) y=(i * 18 + 4) width=(format!("{w:.1}")) height="12"
                    fill=(time_fill(*verdict)) {}
                @if *v < 0.0 {
                    text x=(format!("{:.1}", ORIGIN + 4.0)) y=(y) fill="#555" { (percent(*v)) }
                } @else {
                    text x=(format!("{:.1}", ORIGIN + w + 4.0)) y=(y) fill="#555" { (percent(*v)) }
                }
            }
        }
    }
}

/// A delta in percent, signed, to a whole percent ("+91%", "-3%", "0%").
fn percent(v: f64) -> String {
    let r = v.round();
    if r == 0.0 {
        "0%".into()
    } else {
        format!("{r:+}%")
    }
}

/// A figure's runs as a line 80 × 16 px, oldest left, scaled between its least and
/// greatest (flat when steady); nothing for fewer than two known runs.
pub fn sparkline(runs: &[Option<i64>]) -> Markup {
    let known: Vec<(usize, i64)> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, (*v)?)))
        .collect();
    if known.len() < 2 {
        return html! {};
    }
    let lo = known.iter().map(|k| k.1).min().unwrap_or(0);
    let hi = known.iter().map(|k| k.1).max().unwrap_or(0);
    let last = (runs.len() - 1).max(1) as f64;
    let points: Vec<String> = known
        .iter()
        .map(|&(i, v)| {
            let y = if hi == lo {
                8.0
            } else {
                14.0 - (v - lo) as f64 / (hi - lo) as f64 * 12.0
            };
            format!("{:.1},{y:.1}", i as f64 / last * 78.0 + 1.0)
        })
        .collect();
    html! {
        svg.spark width="80" height="16" xmlns="http://www.w3.org/2000/svg" {
            polyline points=(points.join(" ")) fill="none" stroke="#3366cc" stroke-width="1.5" {}
        }
    }
}

/// The table cell of a row's time: coloured only beyond the noise.
pub fn time_cell(t: &TimeDelta) -> Markup {
    let class = match t.verdict {
        TimeVerdict::Slower => "fail",
        TimeVerdict::Faster => "pass",
        TimeVerdict::InsideNoise | TimeVerdict::TooFewSamples => "",
    };
    html! {
        td class=(class) { (format!("{:.1} → {:.1}", t.base.median_ms, t.head.median_ms)) " (" (t.verdict.describe()) ")" }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sparkline_draws_each_known_run_scaled_between_least_and_greatest() {
        let svg = super::sparkline(&[Some(100), None, Some(110), Some(105)]).into_string();
        assert!(
            svg.contains(r#"points="1.0,14.0 53.0,2.0 79.0,8.0""#),
            "{svg}"
        );
        let steady = super::sparkline(&[Some(7), Some(7)]).into_string();
        assert!(steady.contains(r#"points="1.0,8.0 79.0,8.0""#), "{steady}");
        assert_eq!(super::sparkline(&[None, Some(1)]).into_string(), "");
    }

    #[test]
    fn a_delta_is_a_signed_whole_percent() {
        assert_eq!(super::percent(90.9), "+91%");
        assert_eq!(super::percent(-3.2), "-3%");
        assert_eq!(super::percent(0.2), "0%");
    }
}
