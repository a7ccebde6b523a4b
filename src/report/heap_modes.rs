//! Heap figures of one case on one board in its three loading modes side by side
//! (source, `.mpy`, frozen), with what `.mpy` and frozen save against source: the table
//! summary.md shows and `heap_by_mode` in results.json; with each mode's largest free
//! block and fragmentation index after the case (see [`crate::model::heap::FRAG_METRICS`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::case::Mode;
use crate::model::result::TrialResult;

/// The two figures the modes are compared by, and the free heap's shape after the case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    pub live_bytes: Option<i64>,
    pub alloc_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub largest_free_bytes: Option<i64>,
    /// 1 − largest free / free.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frag_index: Option<f64>,
}

/// Saved against source, in percent of source (negative: costs more).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Savings {
    pub live_bytes: Option<f64>,
    pub alloc_bytes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeRow {
    pub case: String,
    pub board: String,
    /// Figures per mode measured (`source`, `mpy`, `frozen`).
    pub modes: BTreeMap<&'static str, Figures>,
    /// `mpy` and `frozen` against `source`, where both were measured.
    pub savings_percent: BTreeMap<&'static str, Savings>,
}

/// One row per (case, board) measured in at least two modes, in case then board order.
pub fn rows(results: &[TrialResult]) -> Vec<ModeRow> {
    let mut by: BTreeMap<(String, String), BTreeMap<&'static str, Figures>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.heap.live_bytes.is_some()) {
        by.entry((r.case.clone(), r.board.clone()))
            .or_default()
            .insert(
                r.mode.as_str(),
                Figures {
                    live_bytes: r.heap.live_bytes,
                    alloc_bytes: r.heap.alloc_bytes,
                    free_bytes: r.heap.free_bytes,
                    largest_free_bytes: r.heap.largest_free_bytes,
                    frag_index: r.heap.frag_index(),
                },
            );
    }
    by.into_iter()
        .filter(|(_, modes)| modes.len() > 1)
        .map(|((case, board), modes)| {
            let savings_percent = match modes.get(Mode::Source.as_str()) {
                Some(source) => [Mode::Mpy, Mode::Frozen]
                    .iter()
                    .filter_map(|m| {
                        let f = modes.get(m.as_str())?;
                        Some((
                            m.as_str(),
                            Savings {
                                live_bytes: saved(source.live_bytes, f.live_bytes),
                                alloc_bytes: saved(source.alloc_bytes, f.alloc_bytes),
                            },
                        ))
                    })
                    .collect(),
                None => BTreeMap::new(),
            };
            ModeRow {
                case,
                board,
                modes,
                savings_percent,
            }
        })
        .collect()
}

/// `x` against `source` in percent of source, one decimal; none when source is 0.
fn saved(source: Option<i64>, x: Option<i64>) -> Option<f64> {
    let (s, x) = (source?, x?);
    (s != 0).then(|| ((s - x) as f64 * 1000.0 / s as f64).round() / 10.0)
}

/// The table's column heads; [`cells`] gives a row's texts in this order.
pub const COLUMNS: [&str; 10] = [
    "case",
    "board",
    "source",
    "mpy",
    "frozen",
    "mpy saves",
    "frozen saves",
    "source free",
    "mpy free",
    "frozen free",
];

/// A row's texts: figures as `live / allocated`, savings in percent, `–` for a mode not
/// measured, `n/a` for a figure the target cannot give.
pub fn cells(row: &ModeRow) -> [String; 10] {
    let show = |v: Option<i64>| v.map_or("n/a".to_string(), |v| v.to_string());
    let figures = |m: Mode| {
        row.modes.get(m.as_str()).map_or("–".to_string(), |f| {
            format!("{} / {}", show(f.live_bytes), show(f.alloc_bytes))
        })
    };
    let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v}%"));
    let savings = |m: Mode| {
        row.savings_percent
            .get(m.as_str())
            .map_or("–".to_string(), |s| {
                format!("{} / {}", pct(s.live_bytes), pct(s.alloc_bytes))
            })
    };
    let free = |m: Mode| row.modes.get(m.as_str()).map_or("–".to_string(), free_cell);
    [
        row.case.clone(),
        row.board.clone(),
        figures(Mode::Source),
        figures(Mode::Mpy),
        figures(Mode::Frozen),
        savings(Mode::Mpy),
        savings(Mode::Frozen),
        free(Mode::Source),
        free(Mode::Mpy),
        free(Mode::Frozen),
    ]
}

/// The largest free block and the index, `126960 (0.0593)`; `n/a` where the target gave
/// no heap map.
fn free_cell(f: &Figures) -> String {
    match (f.largest_free_bytes, f.frag_index) {
        (Some(l), Some(i)) => format!("{l} ({i:.4})"),
        (Some(l), None) => l.to_string(),
        _ => "n/a".to_string(),
    }
}

/// The heading both reports give the table.
pub const TITLE: &str = "Heap by mode (live / allocated bytes; saved: against source; free: largest free block in bytes (fragmentation index) after the case)";

/// The markdown section (empty when no case was measured in two modes).
pub fn markdown(results: &[TrialResult]) -> String {
    let rows = rows(results);
    if rows.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\n## {TITLE}\n\n| {} |\n|{}\n",
        COLUMNS.join(" | "),
        "---|".repeat(COLUMNS.len())
    );
    for row in &rows {
        md.push_str(&format!("| {} |\n", cells(row).join(" | ")));
    }
    md.push_str(&format!(
        "\n{}\n\n{}\n",
        crate::model::heap::LEGEND,
        crate::model::heap::FRAG_LEGEND
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_cell_shows_the_largest_block_and_the_index() {
        let f = Figures {
            live_bytes: Some(1),
            alloc_bytes: None,
            free_bytes: Some(1000),
            largest_free_bytes: Some(900),
            frag_index: crate::model::heap::frag::index(1000, 900),
        };
        assert_eq!(free_cell(&f), "900 (0.1000)");
        let none = Figures {
            largest_free_bytes: None,
            frag_index: None,
            ..f
        };
        assert_eq!(free_cell(&none), "n/a");
    }

    #[test]
    fn savings_are_percent_of_source_and_only_where_both_were_measured() {
        assert_eq!(saved(Some(1072), Some(336)), Some(68.7));
        assert_eq!(saved(Some(100), Some(150)), Some(-50.0));
        assert_eq!(saved(Some(0), Some(10)), None);
        assert_eq!(saved(None, Some(10)), None);
    }
}
