//! What one checkout's run-tests.py does with its feature checks' outputs and with test
//! names, read from its own source (never run): how it splits the target-information
//! line, which flags each check sets, which name patterns those flags skip, which
//! directories it runs, and which `--target` names it knows. Releases differ in all of
//! these; nothing here names one.

use std::collections::{BTreeMap, BTreeSet};

use super::pyread::{Assign, ProbeLoop, Source, Tok, Value};
use super::tokens::split_top;

/// How run-tests.py reads `feature_check/target_info.py`'s output.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TargetInfoLine {
    /// The names it assigns, in order (`platform, arch, ... = ...split()`).
    pub names: Vec<String>,
    /// Split at whitespace; else the stripped output is the one field.
    pub split: bool,
    pub line: usize,
}

/// `skip_it |= FLAG and PATTERN`: a test whose name matches PATTERN is skipped when FLAG.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NameSkip {
    pub flag: String,
    pub pattern: Vec<Tok>,
    pub text: String,
    pub line: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Conventions {
    pub target_info: Option<TargetInfoLine>,
    /// Assignments to flag variables (`skip_X = ...`, `has_X = ...`), in source order.
    pub flags: Vec<Assign>,
    /// `is_X = EXPR` on `test_name`.
    pub patterns: BTreeMap<String, Vec<Tok>>,
    pub name_skips: Vec<NameSkip>,
    /// `test_dirs = (...)` / `test_dirs += (...)`, in source order.
    pub test_dirs: Vec<Assign>,
    /// Other variables assigned once in a function (e.g. `port_specific_test_dir`).
    pub locals: BTreeMap<String, Vec<Tok>>,
    /// Variables bound to one feature check's output.
    pub probe_vars: BTreeMap<String, String>,
    /// Variables bound to CPython's output of a feature check (`cpy_byteorder`).
    pub cpython_vars: BTreeMap<String, String>,
    /// Feature checks whose output run-tests.py reads as a number (`int(VAR)`).
    pub int_probes: Vec<String>,
    /// The `--target` names it accepts (tuples named `*_TARGETS`), and its default.
    pub targets: Vec<String>,
    pub default_target: Option<String>,
    /// `platform_to_port_map` and `PC_PLATFORMS`, where it has them.
    pub port_map: BTreeMap<String, String>,
    pub pc_platforms: Vec<String>,
    /// Tests run as "special" on a PC (`is_special = True`: the plain VM, `# cmdline:`
    /// arguments, never via .mpy, regex `.exp`): path prefixes and a list.
    pub special_prefixes: Vec<String>,
    pub special_tests: BTreeSet<String>,
    /// Tests whose `.exp` is in the regex dialect (`test_file_abspath in NAME`).
    pub regex_tests: BTreeSet<String>,
    /// The inline assemblers it tries, in order (`detect_inline_asm_arch`'s loop over
    /// `inlineasm_{}.py`); none where it has no such loop (v1.24 chose by platform).
    pub inlineasm: Option<ProbeLoop>,
    /// How it reads regex `.exp` files and REPL keys (read from its text by the loader).
    pub exp_rule: std::sync::Arc<super::exp_rule::ExpRule>,
}

impl Conventions {
    pub(crate) fn from_source(source: &Source) -> Conventions {
        let mut c = Conventions {
            probe_vars: source.probe_vars.clone(),
            default_target: source.arg_defaults.get("--target").cloned(),
            inlineasm: source
                .probe_loops
                .iter()
                .find(|l| l.template.starts_with("inlineasm_"))
                .cloned(),
            ..Conventions::default()
        };
        let or_assigned: Vec<&String> = source
            .statements
            .iter()
            .filter(|a| a.op == "|=")
            .flat_map(|a| &a.targets)
            .collect();
        let mut assigned_once: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &source.statements {
            for t in &a.targets {
                *assigned_once.entry(t).or_default() += 1;
            }
        }
        for a in &source.statements {
            let single = match a.targets.as_slice() {
                [t] => Some(t.as_str()),
                _ => None,
            };
            let has_name = |n: &str| a.value.iter().any(|t| *t == Tok::Name(n.into()));
            if c.target_info.is_none()
                && a.probe.as_deref() == Some("target_info.py")
                && has_name("strip")
            {
                c.target_info = Some(TargetInfoLine {
                    names: a.targets.clone(),
                    split: has_name("split"),
                    line: a.line,
                });
            }
            let Some(name) = single else { continue };
            if name == "test_dirs" {
                c.test_dirs.push(a.clone());
            } else if a.op == "|=" {
                let parts = split_top(&a.value, &|t| *t == Tok::Name("and".into()));
                if let [[Tok::Name(flag)], pattern] = parts.as_slice() {
                    c.name_skips.push(NameSkip {
                        flag: flag.clone(),
                        pattern: pattern.to_vec(),
                        text: a.text.clone(),
                        line: a.line,
                    });
                }
            } else if (name.starts_with("skip_") || name.starts_with("has_"))
                && !or_assigned.iter().any(|t| *t == name)
                && !is_container(&a.value)
            {
                c.flags.push(a.clone());
            } else if name.starts_with("is_") {
                c.patterns.insert(name.to_string(), a.value.clone());
            } else if let [Tok::Name(f), Tok::Op(_), Tok::Name(v), Tok::Op(_)] = a.value.as_slice()
                && f == "int"
                && v == name
                && let Some(script) = c.probe_vars.get(name)
            {
                c.int_probes.push(script.clone());
            } else if a.text.contains("CPYTHON3_CMD")
                && let Some(script) = a.value.iter().find_map(|t| match t {
                    Tok::Str(s) => s.strip_prefix("feature_check/").map(str::to_string),
                    _ => None,
                })
            {
                c.cpython_vars.insert(name.to_string(), script);
            } else if assigned_once.get(name) == Some(&1) {
                c.locals.insert(name.to_string(), a.value.clone());
            }
        }
        let (mut special_lists, mut regex_lists) = (BTreeSet::new(), BTreeSet::new());
        for a in &source.statements {
            let special = a.targets == ["is_special"] && a.value == [Tok::Name("True".into())];
            for cond in &a.conditions {
                let Ok(toks) =
                    super::pyread::tokenize(std::path::Path::new("condition"), &cond.text)
                else {
                    continue;
                };
                let toks: Vec<Tok> = toks.into_iter().map(|t| t.0).collect();
                for w in toks.windows(3) {
                    if let [Tok::Name(f), Tok::Name(i), Tok::Name(list)] = w
                        && f == "test_file_abspath"
                        && i == "in"
                    {
                        regex_lists.insert(list.clone());
                        if special {
                            special_lists.insert(list.clone());
                        }
                    }
                }
                if special
                    && let Some(at) = toks.windows(3).position(|w| {
                        w[0] == Tok::Name("test_file_abspath".into())
                            && w[2] == Tok::Name("startswith".into())
                    })
                {
                    let args = &toks[at + 3..];
                    let end = args
                        .iter()
                        .position(|t| *t == Tok::Name("or".into()) || *t == Tok::Name("and".into()))
                        .unwrap_or(args.len());
                    c.special_prefixes
                        .extend(args[..end].iter().filter_map(|t| match t {
                            Tok::Str(s) => Some(s.clone()),
                            _ => None,
                        }));
                }
            }
        }
        let strings = |lists: &BTreeSet<String>| -> BTreeSet<String> {
            lists
                .iter()
                .filter_map(|l| source.assignments.get(l))
                .flat_map(Value::strings)
                .collect()
        };
        c.special_tests = strings(&special_lists);
        c.regex_tests = strings(&regex_lists);
        for (name, v) in &source.assignments {
            if name.ends_with("_TARGETS") {
                c.targets.extend(v.strings());
            }
        }
        if let Some(Value::Dict(kv)) = source.assignments.get("platform_to_port_map") {
            for (k, v) in kv {
                if let (Value::Str(k), Value::Str(v)) = (k, v) {
                    c.port_map.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(v) = source.assignments.get("PC_PLATFORMS") {
            c.pc_platforms = v.strings();
        }
        c
    }

    /// Whether run-tests.py runs `rel` (`cmdline/x.py`) as a special test on a PC.
    pub(crate) fn is_special(&self, rel: &str) -> bool {
        // Feature checks always are (run_feature_check passes is_special=True).
        rel.starts_with("feature_check/")
            || self
                .special_prefixes
                .iter()
                .any(|p| rel.starts_with(p.as_str()))
            || self.special_tests.contains(rel)
    }

    /// The feature checks whose output CPython must also give (`cpy_byteorder`).
    pub(crate) fn cpython_scripts(&self) -> impl Iterator<Item = &String> {
        self.cpython_vars.values()
    }
}

/// `set()`, `[...]`, `{...}`: a collection (`skip_tests`), not a flag.
fn is_container(value: &[Tok]) -> bool {
    match value {
        [Tok::Name(n), Tok::Op(o), ..] => n == "set" && o == "(",
        [Tok::Op(o), ..] => o == "[" || o == "{",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn both_shapes_of_the_target_information_line() {
        let new = "def d(pyb, args):\n    output = run_feature_check(pyb, args, \"target_info.py\")\n    if output.endswith(b\"CRASH\"):\n        raise ValueError(output)\n    platform, arch, build = (\n        str(output, \"ascii\").strip().split()\n    )\n";
        let old = "def main():\n    if not args.mpy_cross_flags:\n        output = run_feature_check(pyb, args, \"target_info.py\")\n        arch = str(output, \"ascii\").strip()\n";
        let read = |s: &str| {
            Conventions::from_source(&super::super::pyread::read_source(Path::new("r"), s).unwrap())
                .target_info
                .unwrap()
        };
        let n = read(new);
        assert_eq!(
            (n.names.as_slice(), n.split, n.line),
            (
                &["platform".to_string(), "arch".into(), "build".into()][..],
                true,
                5
            )
        );
        let o = read(old);
        assert_eq!(
            (o.names.as_slice(), o.split),
            (&["arch".to_string()][..], false)
        );
    }

    #[test]
    fn the_inline_assemblers_are_the_loop_s_own_list() {
        let src = "def detect_inline_asm_arch(pyb, args):\n    for arch in (\"rv32\", \"thumb\", \"xtensa\", \"new\",):\n        output = run_feature_check(pyb, args, \"inlineasm_{}.py\".format(arch))\n        if output.strip() == arch.encode():\n            return arch\n    return None\n\ndef other():\n    output = run_feature_check(pyb, args, \"x_{}.py\".format(arch))\n";
        let c = Conventions::from_source(
            &super::super::pyread::read_source(Path::new("r"), src).unwrap(),
        );
        let l = c.inlineasm.expect("the loop is read");
        assert_eq!(l.line, 3);
        let scripts: Vec<(String, String)> = l.scripts().map(|(a, s)| (a.to_string(), s)).collect();
        assert_eq!(scripts[1], ("thumb".into(), "inlineasm_thumb.py".into()));
        assert_eq!(scripts[3], ("new".into(), "inlineasm_new.py".into()));
        // Outside the loop, `arch` is no loop's variable: not a probe loop.
        let no_loop = "def f():\n    output = run_feature_check(pyb, args, \"inlineasm_{}.py\".format(arch))\n";
        let c = Conventions::from_source(
            &super::super::pyread::read_source(Path::new("r"), no_loop).unwrap(),
        );
        assert_eq!(c.inlineasm, None);
    }
}
