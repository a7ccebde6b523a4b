//! The structure of `src/`, read from its own imports: which files name which (`crate::`,
//! `super::` paths), the circles among them (strongly connected sets of files), and the
//! files longer than 500 lines before their tests, and the imports that climb to a later
//! floor (folders in the order of `FLOORS`). None of the three is allowed (#36 brought
//! each to zero), so the structure cannot drift back. Run with `--nocapture` to see
//! what it found.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A file over this many lines of code before its tests has more than one job (#36: 8
/// such files and an import circle of 41 files before the redesign; none of either
/// since, and this test keeps it so).
const LONG: usize = 500;

/// The floors of `src/`, lowest first (../shared/STYLE.md's order, with `pipeline` —
/// one trial's stages, which a suite's rules plug into — between the expectations and
/// the suites, and `plan` after the targets and expectations: a trial of a suite's own
/// kind runs on the opened targets and knows its truth): a file may import its own floor and the ones before it, never a later
/// one. A folder not listed here fails the test until it is given its place.
const FLOORS: &[&str] = &[
    "util",
    "mpy",
    "model",
    "tools",
    "boardfile",
    "device",
    "hw",
    "targets",
    "expect",
    "plan",
    "pipeline",
    "suite",
    "analysis",
    "report",
    "run",
    "cli",
];

#[test]
fn no_import_circle_and_no_file_over_500_lines() {
    // LAYERS_SRC: another tree's src/ (an older commit's, to compare), measured alike.
    let src = std::env::var_os("LAYERS_SRC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    );
    let files = modules(&src);
    let graph = imports(&files);
    let mut circles: Vec<Vec<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    circles.sort_by_key(|c| std::cmp::Reverse(c.len()));
    for c in &circles {
        println!("circle of {}: {}", c.len(), c.join(" "));
    }
    let long: Vec<(String, usize)> = files
        .iter()
        .map(|(m, p)| (m.clone(), code_lines(p)))
        .filter(|(_, n)| *n > LONG)
        .collect();
    for (m, n) in &long {
        println!("{n} lines: {m}");
    }
    assert!(
        circles.iter().all(|c| c.len() < 2),
        "files that import each other (an import circle): {:?}",
        circles.first()
    );
    assert!(
        long.is_empty(),
        "{} files are over {LONG} lines before their tests (split them by job): {long:?}",
        long.len()
    );
}

#[test]
fn every_file_is_on_a_floor_and_imports_no_later_floor() {
    let src = std::env::var_os("LAYERS_SRC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    );
    let files = modules(&src);
    let unplaced: Vec<&String> = files.keys().filter(|m| floor(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "modules on no floor (add their folder to FLOORS, in order): {unplaced:?}"
    );
    let later = later_floor_imports(&imports(&files));
    for (from, to) in &later {
        println!("later floor: {from} -> {to}");
    }
    println!(
        "{} files on {} floors, {} imports of a later floor",
        files.len(),
        FLOORS.len(),
        later.len()
    );
    // None is allowed (22 when the folders were made in #36 step 3, 0 since the
    // probe: section became boardfile data and a suite's trial kinds a plan::TrialKind).
    assert!(
        later.is_empty(),
        "{} imports of a later floor (a file imports only its floor and earlier ones): {later:?}",
        later.len()
    );
}

#[test]
fn an_import_of_a_later_floor_is_found() {
    let mut g = BTreeMap::new();
    g.insert(
        "util::a".to_string(),
        BTreeSet::from(["cli::b".to_string()]),
    );
    g.insert(
        "cli::b".to_string(),
        BTreeSet::from(["util::a".to_string()]),
    );
    g.insert(
        "model::c".to_string(),
        BTreeSet::from(["model::d".to_string()]),
    );
    assert_eq!(
        later_floor_imports(&g),
        [("util::a".to_string(), "cli::b".to_string())]
    );
}

/// A module's floor: the index in [`FLOORS`] of its first path segment.
fn floor(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    FLOORS.iter().position(|f| *f == top)
}

/// Every (file, imported file) pair whose import climbs to a later floor.
fn later_floor_imports(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    graph
        .iter()
        .flat_map(|(from, to)| to.iter().map(move |t| (from, t)))
        .filter(|(from, to)| floor(to) > floor(from))
        .map(|(from, to)| (from.clone(), to.clone()))
        .collect()
}

#[test]
fn a_circle_is_found_where_two_files_import_each_other() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    let circles: Vec<Vec<String>> = strongly_connected(&g)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    assert_eq!(circles, [["a", "b"]]);
}

/// Module path (`board::file`, `run`) → its file, for every `.rs` under `src`.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            out.insert(parts.join("::"), p);
        }
    }
    out
}

/// File → the files its code names, by the longest module path each reference starts
/// with. Comments are left out; `super::` is resolved from the file's own module.
fn imports(files: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let path_re = regex::Regex::new(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)").unwrap();
    let mut graph = BTreeMap::new();
    for (module, path) in files {
        let text = std::fs::read_to_string(path).unwrap();
        let code: String = text
            .lines()
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let is_mod_rs = path.ends_with("mod.rs");
        let mut to = BTreeSet::new();
        for cap in path_re.captures_iter(&code) {
            let rest: Vec<&str> = cap[2].split("::").filter(|s| !s.is_empty()).collect();
            let mut base: Vec<&str> = match &cap[1] {
                "crate" => Vec::new(),
                _ => {
                    // `super` of a mod.rs is its folder's parent; of a file, its folder.
                    let mut m: Vec<&str> = module.split("::").collect();
                    m.pop();
                    if is_mod_rs {
                        m.pop();
                    }
                    m
                }
            };
            base.extend(rest);
            if let Some(target) = (1..=base.len())
                .rev()
                .map(|n| base[..n].join("::"))
                .find(|m| files.contains_key(m))
                && &target != module
            {
                to.insert(target);
            }
        }
        graph.insert(module.clone(), to);
    }
    graph
}

/// Tarjan's strongly connected components, each sorted.
fn strongly_connected(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut c = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                c.push(w.to_string());
                if w == v {
                    break;
                }
            }
            c.sort();
            s.out.push(c);
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// Lines before the file's tests (doc comments count: they are what a reader reads).
fn code_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .count()
}
