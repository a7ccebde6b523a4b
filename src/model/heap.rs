//! Heap measurement on the target: the wrapper script that runs a case between heap
//! readings, parsing its report, calibration, and the comparison with heap goldens.
//!
//! The wrapper disables the GC, reads `gc.mem_alloc()` (every port with a GC),
//! `micropython.mem_total()`/`mem_current()`/`mem_peak()` (ports with memory statistics),
//! runs the case (compiling its source on the target, or importing its `.mpy`), reads
//! them again and prints one line starting with [`MARKER`], which the harness removes
//! from the output. The same wrapper around an empty case calibrates the harness's own
//! cost away, so an empty case measures 0.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod frag;

/// Starts the wrapper's report line; a record separator no case prints.
pub const MARKER: &str = "\x1empcheck-heap";

/// What the two main figures count, for every table and golden that shows them: why
/// live bytes can exceed allocated bytes.
pub const LEGEND: &str = "live: heap still in use when the case ended (gc.mem_alloc: whole GC blocks); allocated: bytes the case asked for (micropython.mem_total: exact sizes). Each allocation is rounded up to whole blocks, so many small objects make live exceed allocated. Both less the harness's own cost (an empty case measures 0).";

/// The metrics, in table order.
pub const METRICS: [&str; 4] = ["alloc_bytes", "live_bytes", "allocations", "peak_bytes"];

/// The free heap's shape after the case (after a `gc.collect()`, with what the case
/// keeps alive still referenced), read in a run of the case of its own ([`Wrap::frag`]):
/// absolute, not calibrated. A golden that lacks them (written before they were measured) does not
/// check them.
pub const FRAG_METRICS: [&str; 4] = [
    "free_bytes",
    "largest_free_bytes",
    "free_runs",
    "block_bytes",
];

/// What the fragmentation figures count, for the tables that show them.
pub const FRAG_LEGEND: &str = "free: the free heap after the case and a gc.collect(), what the case keeps alive still referenced; largest free: the longest run of free GC blocks (the largest allocation that still fits); both in bytes at the target's block size, read from micropython.mem_info(1)'s heap map; index: 1 − largest free / free (0: the free heap is one block). Absolute, not calibrated.";

/// A case's heap figures: metric → value, `None` where the port has no such counter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeapFigures {
    /// Bytes allocated while the case ran (`micropython.mem_total()` delta).
    pub alloc_bytes: Option<i64>,
    /// Heap in use at the end minus at the start, GC disabled (`gc.mem_alloc()` delta).
    pub live_bytes: Option<i64>,
    /// Heap blocks allocated by the case and still live at its end, counted exactly:
    /// block heads in `micropython.mem_info(1)`'s heap map after the case minus before
    /// (the GC is disabled, so nothing is freed in between).
    pub allocations: Option<i64>,
    /// How far heap use rose above the start (`mem_peak`). `mem_peak` cannot be reset,
    /// so it is observable only when the case set a new all-time peak.
    pub peak_bytes: Option<i64>,
    /// Named regions of the case (`with mpcheck_region("name"):`), live bytes each.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: BTreeMap<String, i64>,
    /// Free heap after the case and a `gc.collect()` ([`FRAG_METRICS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_bytes: Option<i64>,
    /// The longest run of free blocks then, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub largest_free_bytes: Option<i64>,
    /// How many runs of free blocks the free heap is cut into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_runs: Option<i64>,
    /// The target's GC block size, read from its heap map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_bytes: Option<i64>,
}

impl HeapFigures {
    pub fn get(&self, metric: &str) -> Option<i64> {
        match metric {
            "alloc_bytes" => self.alloc_bytes,
            "live_bytes" => self.live_bytes,
            "allocations" => self.allocations,
            "peak_bytes" => self.peak_bytes,
            "free_bytes" => self.free_bytes,
            "largest_free_bytes" => self.largest_free_bytes,
            "free_runs" => self.free_runs,
            "block_bytes" => self.block_bytes,
            _ => None,
        }
    }

    /// Takes the fragmentation figures of `other` (their own run's).
    pub fn take_frag(&mut self, other: &HeapFigures) {
        self.free_bytes = other.free_bytes;
        self.largest_free_bytes = other.largest_free_bytes;
        self.free_runs = other.free_runs;
        self.block_bytes = other.block_bytes;
    }

    /// The fragmentation index, 1 − largest free / free ([`frag::index`]).
    pub fn frag_index(&self) -> Option<f64> {
        frag::index(self.free_bytes?, self.largest_free_bytes?)
    }

    /// These figures less the wrapper's own cost (measured around an empty case). The
    /// peak is the case's own rise above where it started, and the fragmentation figures
    /// are the heap's state, so nothing is subtracted from them.
    pub fn minus(&self, base: &HeapFigures) -> HeapFigures {
        let sub = |a: Option<i64>, b: Option<i64>| a.map(|a| a - b.unwrap_or(0));
        HeapFigures {
            alloc_bytes: sub(self.alloc_bytes, base.alloc_bytes),
            live_bytes: sub(self.live_bytes, base.live_bytes),
            allocations: sub(self.allocations, base.allocations),
            peak_bytes: self.peak_bytes,
            regions: self.regions.clone(),
            free_bytes: self.free_bytes,
            largest_free_bytes: self.largest_free_bytes,
            free_runs: self.free_runs,
            block_bytes: self.block_bytes,
        }
    }
}

/// How the measured code loads the case: any way that runs it and leaves its globals.
pub enum Load {
    /// Compile and run source text, named `name` in tracebacks. `text` is a Python
    /// expression giving the text (`open("c.py").read()` on a host, a variable the board
    /// driver set); it is evaluated before the first reading.
    Source { text: String, name: String },
    /// Import this module: a `.mpy` on the target's path, or a frozen module.
    Import { module: String },
}

/// The heap measurement around one case, in two parts so a caller can frame it: `setup`
/// (top-level Python, run before anything is measured) defines the helpers and the
/// loader; `body` (top-level statements, indentable as a block) takes the first
/// reading, runs the case, takes the second and prints the report line. Hosts run
/// `setup + body` as a script; the board driver runs `body` inside its framing.
pub struct Measurement {
    pub setup: String,
    pub body: String,
}

/// How a run measures the heap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wrap<'a> {
    /// Run the case (`Some("")`) or, when named, one function of it (after the case ran)
    /// with the heap locked.
    pub zero_alloc: Option<&'a str>,
    /// After the report line, let go of the harness's copy of the source, collect and
    /// print the heap map that [`FRAG_METRICS`] are read from. A run of its own: any byte
    /// more in the wrapper moves the other figures (see `MEASURE_FRAG`).
    pub frag: bool,
    /// Python run first, before anything of the measurement, where a board needs it for
    /// figures that repeat (a board's timer restarted, its stack cleared); none on hosts.
    pub settle: Option<&'a str>,
}

/// The measurement of `load`, as `wrap` says.
pub fn measurement(load: &Load, wrap: Wrap) -> Measurement {
    let zero_alloc = wrap.zero_alloc;
    let run = match load {
        Load::Source { text, name } => format!(
            "_g = {{'__name__': '__main__', 'mpcheck_region': _Region}}\n_src = {text}\ndef _run():\n    exec(compile(_src, {name:?}, 'exec'), _g)\n"
        ),
        // `_g` exists before the measurement, so setting it inside does not grow the
        // globals (whose size then depends on how many names the caller had defined).
        Load::Import { module } => format!(
            "import builtins\nbuiltins.mpcheck_region = _Region\n_g = None\ndef _run():\n    global _g\n    _g = __import__({module:?}).__dict__\n"
        ),
    };
    let locked = match zero_alloc {
        Some("") => "_locked(_run)\n".to_string(),
        Some(function) => format!("_run()\n_locked(_g[{function:?}])\n"),
        None => "_run()\n".to_string(),
    };
    // After the report line: the harness's copy of the source text is let go (a module
    // imported from a file is not held as text), the heap collected and its map dumped.
    // Only names the wrapper already has (a new name is a new qstr).
    let release = match load {
        Load::Source { text, .. } if is_name(text) => format!("_src = None\n{text} = None\n"),
        Load::Source { .. } => "_src = None\n".to_string(),
        Load::Import { .. } => String::new(),
    };
    let mut end = MEASURE_END.replace("\"MARKER\"", "\"\\x1empcheck-heap\"");
    if wrap.frag {
        end = format!("{end}{release}{MEASURE_FRAG}");
    }
    let start = MEASURE_START
        .replace("\"MAPSTART\"", "\"\\x1empcheck-map\"")
        .replace("\"MAPEND\"", "\"\\x1empcheck-map-end\"");
    let settle = wrap.settle.map(|s| format!("{s}\n")).unwrap_or_default();
    Measurement {
        setup: format!("{settle}{PRELUDE}{run}"),
        body: format!("{start}{locked}{end}"),
    }
}

/// A Python identifier (the board driver's variable holding the source text).
fn is_name(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The measurement as one script (host VMs).
pub fn wrapper(load: &Load, wrap: Wrap) -> String {
    let m = measurement(load, wrap);
    format!("{}{}", m.setup, m.body)
}

const PRELUDE: &str = r#"import gc
import micropython
_stats = hasattr(micropython, "mem_total")
_regions = {}
class _Region:
    def __init__(self, name):
        self.name = name
        # Set here, so storing it in __enter__ does not grow the instance inside the region.
        self.start = 0
    def __enter__(self):
        self.start = gc.mem_alloc()
    def __exit__(self, t, v, tb):
        _regions[self.name] = gc.mem_alloc() - self.start
def _locked(f):
    micropython.heap_lock()
    try:
        f()
    finally:
        micropython.heap_unlock()
"#;

const MEASURE_START: &str = r#"gc.collect()
gc.disable()
_map = hasattr(micropython, "mem_info")
def _dump():
    if _map:
        print("MAPSTART")
        micropython.mem_info(1)
        print("MAPEND")
_dump()
_live0 = gc.mem_alloc()
_total0 = micropython.mem_total() if _stats else 0
_current0 = micropython.mem_current() if _stats else 0
_peak0 = micropython.mem_peak() if _stats else 0
"#;

const MEASURE_END: &str = r#"_live1 = gc.mem_alloc()
_dump()
_total1 = micropython.mem_total() if _stats else 0
_peak = micropython.mem_peak() if _stats else 0
gc.enable()
_r = ""
for _k in _regions:
    _r += " region.%s=%d" % (_k, _regions[_k])
if _stats and _peak > _peak0:
    print("%s alloc_bytes=%d live_bytes=%d peak_bytes=%d%s" % ("MARKER", _total1 - _total0, _live1 - _live0, _peak - _current0, _r))
elif _stats:
    print("%s alloc_bytes=%d live_bytes=%d%s" % ("MARKER", _total1 - _total0, _live1 - _live0, _r))
else:
    print("%s live_bytes=%d%s" % ("MARKER", _live1 - _live0, _r))
"#;

// Only in a run of its own ([`Wrap::frag`]): the wrapper's code is on the heap while the
// case runs, and any byte more in it moves the other figures (whether a parse chunk the
// case's compile grows fits in place; the wrapper's own compile peak, above which alone
// `mem_peak` shows the case's). Even `pass` added moved heap/long_identifier's live
// bytes by 64 on unix. The third map the wrapper prints is this one.
const MEASURE_FRAG: &str = "gc.collect()\n_dump()\n";

const MAP_START: &str = "\x1empcheck-map\n";
const MAP_END: &str = "\x1empcheck-map-end\n";

/// Removes every `start`…`end` section from `text`: the rest, and the sections.
fn take_sections<'a>(text: &'a str, start: &str, end: &str) -> (String, Vec<&'a str>) {
    let mut rest = String::new();
    let mut sections = Vec::new();
    let mut cursor = text;
    while let Some(at) = cursor.find(start) {
        let Some(len) = cursor[at..].find(end) else {
            break;
        };
        rest.push_str(&cursor[..at]);
        sections.push(&cursor[at + start.len()..at + len]);
        cursor = &cursor[at + len + end.len()..];
    }
    rest.push_str(cursor);
    (rest, sections)
}

/// Removes the heap-map dumps from the output: the block heads in each, and the dumps. In
/// a map line (`00000000: h=hh=hhLh...`) every letter is the head of a block (`h`, or a
/// letter naming its type), `=` a tail and `.` free.
fn take_maps(text: &str) -> (String, Vec<i64>, Vec<&str>) {
    let (rest, maps) = take_sections(text, MAP_START, MAP_END);
    let heads = maps
        .iter()
        .map(|map| {
            map.lines()
                .filter_map(|l| {
                    l.split_once(": ").filter(|(addr, _)| {
                        !addr.is_empty() && addr.chars().all(|c| c.is_ascii_hexdigit())
                    })
                })
                .map(|(_, blocks)| blocks.chars().filter(char::is_ascii_alphabetic).count() as i64)
                .sum()
        })
        .collect();
    (rest, heads, maps)
}

/// Splits the wrapper's report (heap maps and the figures line) off the output.
pub fn extract(output: &[u8]) -> (Vec<u8>, Option<HeapFigures>) {
    let whole = String::from_utf8_lossy(output);
    let (text, heads, maps) = take_maps(&whole);
    let Some(at) = text.rfind(MARKER) else {
        return (output.to_vec(), None);
    };
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    let mut figures = HeapFigures::default();
    for pair in text[at + MARKER.len()..line_end].split_whitespace() {
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        let Ok(v) = v.parse::<i64>() else { continue };
        match k {
            "alloc_bytes" => figures.alloc_bytes = Some(v),
            "live_bytes" => figures.live_bytes = Some(v),
            "peak_bytes" => figures.peak_bytes = Some(v),
            k => {
                if let Some(name) = k.strip_prefix("region.") {
                    figures.regions.insert(name.to_string(), v);
                }
            }
        }
    }
    // Before the case, after it, and after the collection that follows (the third).
    if let [before, after, ..] = heads[..] {
        figures.allocations = Some(after - before);
    }
    if let Some(f) = maps.get(2).and_then(|dump| frag::parse(dump)) {
        figures.free_bytes = Some(f.free_bytes);
        figures.largest_free_bytes = Some(f.largest_free_bytes);
        figures.free_runs = Some(f.free_runs);
        figures.block_bytes = Some(f.block_bytes);
    }
    let rest = format!("{}{}", &text[..at], &text[line_end..]);
    (rest.into_bytes(), Some(figures))
}

/// A tolerance per metric: absolute bytes or a percentage of the golden. Parsed once,
/// when the case header is read (`16`, `"16"` or `5%`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ToleranceText")]
pub enum Tolerance {
    Bytes(i64),
    Percent(f64),
}

/// A tolerance as written: a YAML number or a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ToleranceText {
    Number(i64),
    Text(String),
}

impl TryFrom<ToleranceText> for Tolerance {
    type Error = String;
    fn try_from(t: ToleranceText) -> Result<Tolerance, String> {
        match t {
            ToleranceText::Number(n) => Tolerance::parse(&n.to_string()),
            ToleranceText::Text(s) => Tolerance::parse(&s),
        }
    }
}

impl Tolerance {
    pub fn parse(text: &str) -> Result<Tolerance, String> {
        let t = text.trim();
        match t.strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| *p >= 0.0)
                .map(Tolerance::Percent),
            None => t
                .parse::<i64>()
                .ok()
                .filter(|b| *b >= 0)
                .map(Tolerance::Bytes),
        }
        .ok_or_else(|| format!("tolerance `{text}`: give bytes (16) or a percentage (5%)"))
    }

    fn allows(&self, golden: i64, actual: i64) -> bool {
        let delta = (actual - golden).abs();
        match self {
            Tolerance::Bytes(b) => delta <= *b,
            Tolerance::Percent(p) => delta as f64 <= golden.abs() as f64 * p / 100.0,
        }
    }
}

/// One row of the comparison: metric, golden, actual, and whether it is within tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: String,
    pub golden: Option<i64>,
    pub actual: Option<i64>,
    pub ok: bool,
}

/// Compares figures with a golden (exact unless a tolerance says otherwise). Pure.
pub fn compare(
    golden: &HeapFigures,
    actual: &HeapFigures,
    tolerance: &BTreeMap<String, Tolerance>,
) -> Vec<Row> {
    // A golden written before the fragmentation figures were measured does not check them.
    let frag = FRAG_METRICS
        .iter()
        .filter(|m| golden.get(m).is_some())
        .map(|m| (m.to_string(), golden.get(m), actual.get(m)));
    let mut rows: Vec<Row> = METRICS
        .iter()
        .map(|m| (m.to_string(), golden.get(m), actual.get(m)))
        .chain(frag)
        .chain(
            golden
                .regions
                .keys()
                .chain(actual.regions.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|r| {
                    (
                        format!("region.{r}"),
                        golden.regions.get(r).copied(),
                        actual.regions.get(r).copied(),
                    )
                }),
        )
        .map(|(metric, g, a)| {
            let ok = match (g, a) {
                (Some(g), Some(a)) => tolerance.get(&metric).map_or(g == a, |t| t.allows(g, a)),
                (None, None) => true,
                _ => false,
            };
            Row {
                metric,
                golden: g,
                actual: a,
                ok,
            }
        })
        .collect();
    rows.sort_by_key(|r| !METRICS.contains(&r.metric.as_str()));
    rows
}

/// The table a heap failure shows.
pub fn table(rows: &[Row]) -> String {
    let show = |v: Option<i64>| v.map_or("n/a".to_string(), |v| v.to_string());
    let mut t = format!(
        "{:<24} {:>10} {:>10} {:>10}\n",
        "metric", "golden", "actual", "delta"
    );
    for r in rows {
        let delta = match (r.golden, r.actual) {
            (Some(g), Some(a)) => format!("{:+}", a - g),
            _ => "-".into(),
        };
        let flag = if r.ok { "" } else { "  <- beyond tolerance" };
        t += &format!(
            "{:<24} {:>10} {:>10} {:>10}{flag}\n",
            r.metric,
            show(r.golden),
            show(r.actual),
            delta
        );
    }
    t
}

/// `golden/<group>/<name>.heap.yaml`: board → mode → figures.
pub type HeapGolden = BTreeMap<String, BTreeMap<String, HeapFigures>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_line_is_split_off() {
        let out =
            format!("a\n{MARKER} alloc_bytes=48 live_bytes=32 peak_bytes=64 region.x=16\nb\n");
        let (rest, f) = extract(out.as_bytes());
        assert_eq!(rest, b"a\nb\n");
        let f = f.unwrap();
        assert_eq!(
            (f.alloc_bytes, f.live_bytes, f.peak_bytes, f.allocations),
            (Some(48), Some(32), Some(64), None)
        );
        assert_eq!(f.regions["x"], 16);
        assert_eq!(extract(b"plain\n"), (b"plain\n".to_vec(), None));
    }

    #[test]
    fn block_heads_are_counted_between_the_two_maps() {
        let map = |blocks: &str| {
            format!(
                "{MAP_START}GC: total: 100\nGC memory layout; from 7f00:\n00000000: {blocks}\n       (3 lines all free)\n00000400: ..h=\n{MAP_END}"
            )
        };
        let out = format!(
            "{}case\n{}{MARKER} live_bytes=64\n",
            map("h=hhL=.."),
            map("h=hhL=hhS=.")
        );
        let (rest, f) = extract(out.as_bytes());
        assert_eq!(String::from_utf8(rest).unwrap(), "case\n");
        assert_eq!(f.unwrap().allocations, Some(3));
    }

    #[test]
    fn the_free_heap_after_the_case_is_read_from_its_own_map() {
        let before_and_after = format!("{MAP_START}00000000: hh\n{MAP_END}").repeat(2);
        let (line0, line1) = (
            format!("h.h{}", ".".repeat(61)),
            format!("hh{}", "h".repeat(62)),
        );
        let frag = format!(
            "{before_and_after}{MAP_START}GC: total: 2048, used: 1056, free: 992\n No. of 1-blocks: 2, 2-blocks: 0, max blk sz: 1, max free sz: 61\nGC memory layout; from 7f00:\n00000000: {line0}\n00000400: {line1}\n{MAP_END}"
        );
        let out = format!("case\n{MARKER} live_bytes=64\n{frag}");
        let (rest, f) = extract(out.as_bytes());
        assert_eq!(String::from_utf8(rest).unwrap(), "case\n");
        let f = f.unwrap();
        assert_eq!(
            (
                f.free_bytes,
                f.largest_free_bytes,
                f.free_runs,
                f.block_bytes
            ),
            (Some(62 * 16), Some(61 * 16), Some(2), Some(16))
        );
        assert!((f.frag_index().unwrap() - 1.0 / 62.0).abs() < 1e-12);
        let g = HeapFigures {
            live_bytes: Some(64),
            allocations: Some(0),
            ..Default::default()
        };
        let rows = compare(&g, &f, &BTreeMap::new());
        assert!(
            rows.iter().all(|r| r.ok),
            "a golden without them does not check them"
        );
        let g = HeapFigures {
            free_bytes: Some(62 * 16 + 16),
            ..g
        };
        let rows = compare(&g, &f, &BTreeMap::new());
        assert!(rows.iter().any(|r| r.metric == "free_bytes" && !r.ok));
    }

    #[test]
    fn a_boards_settle_lines_run_first_and_hosts_have_none() {
        let load = Load::Import { module: "m".into() };
        let plain = measurement(&load, Wrap::default());
        let settled = measurement(
            &load,
            Wrap {
                settle: Some("R()\nS()"),
                ..Wrap::default()
            },
        );
        assert_eq!(settled.setup, format!("R()\nS()\n{}", plain.setup));
        assert_eq!(settled.body, plain.body);
        assert!(!wrapper(&load, Wrap::default()).contains("R()"));
    }

    #[test]
    fn only_a_frag_run_reads_the_free_heap_and_only_the_source_loader_lets_its_text_go() {
        let frag = Wrap {
            zero_alloc: None,
            frag: true,
            settle: None,
        };
        let src = measurement(
            &Load::Source {
                text: "S".into(),
                name: "c.py".into(),
            },
            frag,
        );
        let after = &src.body[src.body.find("\\x1empcheck-heap").unwrap()..];
        assert!(
            after.contains("_src = None\nS = None\ngc.collect()\n_dump()"),
            "{after}"
        );
        let host = wrapper(
            &Load::Source {
                text: "open('c.py').read()".into(),
                name: "c.py".into(),
            },
            frag,
        );
        assert!(!host.contains(").read() = None"));
        let import = measurement(&Load::Import { module: "m".into() }, frag);
        assert!(!import.body.contains("_src"), "a new name is a new qstr");
        let plain = measurement(&Load::Import { module: "m".into() }, Wrap::default());
        assert!(import.body.starts_with(&plain.body));
        assert_eq!(plain.body.matches("gc.collect()").count(), 1, "as it was");
        assert_eq!(import.body.matches("gc.collect()").count(), 2);
    }

    #[test]
    fn figures_without_the_free_heap_still_read_and_with_it_round_trip() {
        // results.json, the history's heap JSON and golden files all go through serde.
        let old: HeapFigures = serde_json::from_str(r#"{"live_bytes": 8}"#).unwrap();
        assert_eq!((old.live_bytes, old.free_bytes), (Some(8), None));
        let f = HeapFigures {
            free_bytes: Some(1000),
            largest_free_bytes: Some(900),
            free_runs: Some(2),
            block_bytes: Some(16),
            ..old.clone()
        };
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"largest_free_bytes\":900"), "{json}");
        assert_eq!(serde_json::from_str::<HeapFigures>(&json).unwrap(), f);
        assert!(!serde_json::to_string(&old).unwrap().contains("free"));
    }

    #[test]
    fn calibration_subtracts_and_keeps_unavailable() {
        let f = HeapFigures {
            alloc_bytes: Some(100),
            live_bytes: Some(40),
            ..Default::default()
        };
        let base = HeapFigures {
            alloc_bytes: Some(60),
            live_bytes: Some(40),
            ..Default::default()
        };
        let m = f.minus(&base);
        assert_eq!(
            (m.alloc_bytes, m.live_bytes, m.peak_bytes),
            (Some(40), Some(0), None)
        );
    }

    #[test]
    fn tolerance_and_table() {
        let g = HeapFigures {
            alloc_bytes: Some(100),
            live_bytes: Some(64),
            ..Default::default()
        };
        let a = HeapFigures {
            alloc_bytes: Some(104),
            live_bytes: Some(208),
            ..Default::default()
        };
        let tol: BTreeMap<String, Tolerance> =
            [("alloc_bytes".to_string(), Tolerance::parse("5%").unwrap())].into();
        let rows = compare(&g, &a, &tol);
        assert!(rows[0].ok, "4% is within 5%");
        assert!(!rows[1].ok, "live_bytes is exact by default");
        let t = table(&rows);
        assert!(
            t.contains("live_bytes") && t.contains("+144") && t.contains("beyond tolerance"),
            "{t}"
        );
        assert!(Tolerance::parse("-3").is_err() && Tolerance::parse("x%").is_err());
        assert_eq!(Tolerance::parse("16").unwrap(), Tolerance::Bytes(16));
    }
}
