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
    fn a_delta_is_a_signed_whole_percent() {
        assert_eq!(super::percent(90.9), "+91%");
        assert_eq!(super::percent(-3.2), "-3%");
        assert_eq!(super::percent(0.2), "0%");
    }
}
