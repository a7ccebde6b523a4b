//! Facts read from a target's feature checks, the way the checkout's run-tests.py reads
//! them: target information by name and position, flags by its own comparisons, and the
//! test directories and name skips its conditions give on those facts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::condition::{Evaluator, eval};
use super::conventions::Conventions;
use super::facts::Facts;
use super::pyread::Tok;
use super::tokens::{split_top, strip_parens};

/// One line of output for a notice.
fn shown(out: &[u8]) -> String {
    let s = String::from_utf8_lossy(out);
    let s = s.trim_end();
    if s.is_empty() {
        "nothing".into()
    } else {
        format!("`{}`", s.replace('\n', "\\n"))
    }
}

/// The inline assembler as the checkout's run-tests.py detects it: a target-information
/// field it names `inlineasm_arch` (or `inlineasm`), else its `detect_inline_asm_arch`
/// loop (the first arch whose check prints its own name). `Ok(None)`: the target lacks
/// it (every check failed to assemble). `Err(notice)`: not read (a check printed
/// something of another shape, a check it names is not in the checkout, or it reads
/// `args.inlineasm_arch` set in a way mpcheck does not know): never "lacks".
fn inline_asm(
    conventions: &Conventions,
    fields: &BTreeMap<String, String>,
    outputs: &BTreeMap<String, Vec<u8>>,
) -> Result<Option<String>, String> {
    if let Some(v) = ["inlineasm_arch", "inlineasm"]
        .iter()
        .find_map(|n| fields.get(*n))
    {
        return Ok((v != "None").then(|| v.clone()));
    }
    let Some(probe_loop) = &conventions.inlineasm else {
        let reads_it = conventions
            .flags
            .iter()
            .chain(&conventions.test_dirs)
            .any(|a| {
                a.text.contains("inlineasm_arch")
                    || a.conditions
                        .iter()
                        .any(|c| c.text.contains("inlineasm_arch"))
            });
        return if reads_it {
            Err("inline assembler: run-tests.py reads args.inlineasm_arch, but how it detects                  it (a `for arch in (...)` loop over feature checks, a target-information                  field) was not read; not known, so inlineasm/ is not planned and nothing is                  concluded"
                .into())
        } else {
            Ok(None)
        };
    };
    let mut other_shape = Vec::new();
    for (arch, script) in probe_loop.scripts() {
        let Some(out) = outputs.get(&script) else {
            return Err(format!(
                "inline assembler: feature_check/{script}, which run-tests.py:{} runs, is not in                  the checkout; not known, so inlineasm/ is not planned and nothing is concluded",
                probe_loop.line
            ));
        };
        let text = String::from_utf8_lossy(out);
        if text.trim() == arch {
            return Ok(Some(arch.to_string()));
        }
        if !failed(&text) {
            other_shape.push(format!("feature_check/{script} printed {}", shown(out)));
        }
    }
    if other_shape.is_empty() {
        return Ok(None);
    }
    Err(format!(
        "inline assembler: {}, which run-tests.py:{} compares with the arch's name alone;          not known, so inlineasm/ is not planned and nothing is concluded",
        other_shape.join(", "),
        probe_loop.line
    ))
}

/// A feature check that could not run what it checks: it printed nothing, or raised.
fn failed(output: &str) -> bool {
    let t = output.trim();
    t.is_empty() || t.ends_with("CRASH") || t.contains("Traceback") || t.contains("Error")
}

impl Facts {
    /// Reads the facts from the feature checks' outputs (`script name → output`), as the
    /// checkout's run-tests.py does. `own_platform`: `sys.platform` from mpcheck's own
    /// probe, for a checkout whose target information does not print it.
    pub(crate) fn read(
        outputs: BTreeMap<String, Vec<u8>>,
        cpython: BTreeMap<String, Vec<u8>>,
        conventions: Arc<Conventions>,
        lists: &BTreeMap<String, Vec<String>>,
        own_platform: Option<String>,
        emit: &str,
        tests_dir: PathBuf,
    ) -> Facts {
        let mut notices = conventions.exp_rule.notices.clone();
        let out = |name: &str| outputs.get(name).map(Vec::as_slice).unwrap_or(b"");
        let info_out = out("target_info.py");
        let info = String::from_utf8_lossy(info_out).into_owned();
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        match &conventions.target_info {
            None => notices.push(format!(
                "run-tests.py does not read feature_check/target_info.py (it printed {}): \
                 no target information read from it",
                shown(info_out)
            )),
            Some(t) => {
                let values: Vec<String> = if t.split {
                    info.split_whitespace().map(str::to_string).collect()
                } else {
                    vec![info.trim().to_string()]
                };
                let one_line = info.trim().lines().count() == 1;
                if one_line && values.len() == t.names.len() {
                    fields = t.names.iter().cloned().zip(values).collect();
                } else {
                    notices.push(format!(
                        "feature_check/target_info.py printed {}, but run-tests.py:{} reads {} field(s) from it ({}): \
                         none of them read; assumed what each fact below says",
                        shown(info_out),
                        t.line,
                        t.names.len(),
                        t.names.join(" ")
                    ));
                }
            }
        }
        let field = |n: &str| fields.get(n).filter(|v| *v != "None").cloned();
        let platform = match (field("platform"), own_platform) {
            (Some(p), _) => p,
            (None, Some(p)) => {
                notices.push(format!(
                    "platform: this checkout's target information does not give it; \
                     sys.platform read by mpcheck's own probe: {p}"
                ));
                p
            }
            (None, None) => {
                notices.push(
                    "platform: not read (no target information, no sys.platform); \
                     assumed `minimal` (run-tests.py's fallback)"
                        .into(),
                );
                "minimal".into()
            }
        };
        let float_prec = match field("float_prec") {
            Some(v) => v.parse().ok(),
            // run-tests.py: `int(output)`, and 0 when that fails.
            None => conventions
                .int_probes
                .first()
                .map(|s| String::from_utf8_lossy(out(s)).trim().parse().unwrap_or(0)),
        };
        let (inlineasm_arch, inlineasm_known) = match inline_asm(&conventions, &fields, &outputs) {
            Ok(arch) => (arch, true),
            Err(notice) => {
                notices.push(notice);
                (None, false)
            }
        };
        let mut f = Facts {
            arch: field("arch"),
            build: field("build").unwrap_or_else(|| "unknown".into()),
            thread: field("thread"),
            float_prec,
            unicode: fields.get("unicode").map(|u| u == "True"),
            inlineasm_arch,
            inlineasm_known,
            target: None,
            emit: emit.to_string(),
            via_mpy: None,
            fields: fields.clone(),
            flags: BTreeMap::new(),
            platform,
            outputs,
            cpython,
            tests_dir,
            conventions: conventions.clone(),
            notices,
        };
        f.target = f.decide_target();
        // The flags, in run-tests.py's order (a later assignment overrides an earlier).
        for a in &conventions.flags {
            let name = &a.targets[0];
            let conds: Vec<Option<bool>> =
                a.conditions.iter().map(|c| eval(c, &f, lists)).collect();
            if conds.contains(&Some(false)) {
                continue;
            }
            let ev = Evaluator {
                facts: &f,
                lists,
                probe: a.probe.as_deref(),
            };
            let value = if conds.contains(&None) {
                None
            } else {
                ev.truth(&a.value)
            };
            match value {
                Some(v) => {
                    f.flags.insert(name.clone(), v);
                }
                None => {
                    let was = match f.flags.get(name) {
                        Some(true) => "True",
                        Some(false) => "False",
                        None => "unset",
                    };
                    let printed = a
                        .probe
                        .as_ref()
                        .map(|p| {
                            let o = f.outputs.get(p).map(Vec::as_slice).unwrap_or(b"");
                            format!(" (feature_check/{p} printed {})", shown(o))
                        })
                        .unwrap_or_default();
                    f.notices.push(format!(
                        "run-tests.py:{}: `{name} = {}` not evaluated{printed}; {name} stays {was}",
                        a.line, a.text
                    ));
                }
            }
        }
        f
    }

    /// run-tests.py's `--target`: the platform when it is one of its targets, else its
    /// default (what a user running it against this target without `--target` gets).
    fn decide_target(&mut self) -> Option<String> {
        let c = self.conventions.clone();
        if c.targets.is_empty() {
            return None;
        }
        if c.targets.contains(&self.platform) {
            return Some(self.platform.clone());
        }
        let default = c.default_target.clone()?;
        self.notices.push(format!(
            "target: sys.platform `{}` is not one of run-tests.py's targets ({}); \
             assumed its --target default `{default}`",
            self.platform,
            c.targets.join(" ")
        ));
        Some(default)
    }

    /// Whether a test is skipped by its name (`skip_it |= FLAG and PATTERN`), and why.
    pub(crate) fn name_skip(
        &self,
        test_name: &str,
        lists: &BTreeMap<String, Vec<String>>,
    ) -> Option<String> {
        self.conventions.name_skips.iter().find_map(|ns| {
            if self.flag(&ns.flag) != Some(true) {
                return None;
            }
            let ev = Evaluator {
                facts: self,
                lists,
                probe: None,
            };
            ev.with_test_name(test_name, &ns.pattern)
                .filter(|m| *m)
                .map(|_| format!("run-tests.py:{}: {} (feature check)", ns.line, ns.text))
        })
    }

    /// The test directories run-tests.py runs on this target by default: its own
    /// `test_dirs = ...` / `test_dirs += ...` statements, evaluated on these facts. A
    /// statement that cannot be evaluated is not applied, and said.
    pub(crate) fn test_dirs(
        &self,
        lists: &BTreeMap<String, Vec<String>>,
    ) -> (Vec<String>, Vec<String>) {
        let (mut dirs, mut notes) = (Vec::<String>::new(), Vec::new());
        for a in &self.conventions.test_dirs {
            let conds: Vec<Option<bool>> =
                a.conditions.iter().map(|c| eval(c, self, lists)).collect();
            if conds.contains(&Some(false)) {
                continue;
            }
            if conds.contains(&None) {
                let texts: Vec<&str> = a.conditions.iter().map(|c| c.text.as_str()).collect();
                notes.push(format!(
                    "run-tests.py:{}: `test_dirs {} {}` not applied: cannot evaluate `{}`",
                    a.line,
                    a.op,
                    a.text,
                    texts.join(" and ")
                ));
                continue;
            }
            let ev = Evaluator {
                facts: self,
                lists,
                probe: None,
            };
            let entries: Option<Vec<String>> = split_top(
                strip_parens(&a.value),
                &|t| matches!(t, Tok::Op(o) if o == ","),
            )
            .into_iter()
            .filter(|e| !e.is_empty())
            .map(|e| ev.string(e))
            .collect();
            let Some(entries) = entries else {
                notes.push(format!(
                    "run-tests.py:{}: `test_dirs {} {}` not applied: cannot evaluate its entries",
                    a.line, a.op, a.text
                ));
                continue;
            };
            if a.op == "=" {
                dirs = entries;
            } else {
                dirs.extend(entries);
            }
        }
        if self.conventions.test_dirs.is_empty() {
            dirs = ["basics", "micropython", "misc", "extmod"]
                .map(String::from)
                .to_vec();
            notes.push(format!(
                "run-tests.py has no `test_dirs` statements: assumed {}",
                dirs.join(" ")
            ));
        }
        dirs.dedup();
        (dirs, notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn read(run_tests: &str, outputs: &[(&str, &[u8])]) -> Facts {
        let source =
            super::super::pyread::read_source(Path::new("run-tests.py"), run_tests).unwrap();
        let conv = Arc::new(Conventions::from_source(&source));
        let outputs = outputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect();
        let cpython = [("byteorder.py".to_string(), b"little\n".to_vec())].into();
        Facts::read(
            outputs,
            cpython,
            conv,
            &BTreeMap::new(),
            Some("linux".into()),
            "bytecode",
            "/x".into(),
        )
    }

    const NEW: &str = "def d(pyb, args):\n    output = run_feature_check(pyb, args, \"target_info.py\")\n    platform, arch, arch_flags, build, thread, float_prec, unicode = (\n        str(output, \"ascii\").strip().split()\n    )\ndef run_tests():\n    skip_native = False\n    has_complex = True\n    if True:\n        output = run_feature_check(pyb, args, \"native_check.py\")\n        if output != b\"native\\n\":\n            skip_native = True\n        upy_byteorder = run_feature_check(pyb, args, \"byteorder.py\")\n        has_complex = run_feature_check(pyb, args, \"complex.py\") == b\"complex\\n\"\n        cpy_byteorder = subprocess.check_output(CPYTHON3_CMD + [base_path(\"feature_check/byteorder.py\")])\n        skip_endian = upy_byteorder != cpy_byteorder\n";

    #[test]
    fn target_info_and_flags_are_read_as_run_tests_reads_them() {
        let f = read(
            NEW,
            &[
                ("target_info.py", b"linux x64 0 standard GIL 64 True\n"),
                ("native_check.py", b"native\n"),
                ("byteorder.py", b"big\n"),
                ("complex.py", b"complex\n"),
            ],
        );
        assert_eq!(
            (f.platform.as_str(), f.float_prec, f.unicode),
            ("linux", Some(64), Some(true))
        );
        assert_eq!(f.thread.as_deref(), Some("GIL"));
        assert_eq!(f.flag("skip_native"), Some(false));
        assert_eq!(f.flag("has_complex"), Some(true));
        assert_eq!(f.flag("skip_endian"), Some(true));
        assert!(f.notices.is_empty(), "{:?}", f.notices);
    }

    #[test]
    fn a_line_of_another_shape_is_a_notice_naming_script_output_and_assumption() {
        // One field more than this run-tests.py reads (a newer feature check).
        let f = read(
            NEW,
            &[(
                "target_info.py",
                b"linux x64 0 standard GIL 64 True extra\n",
            )],
        );
        let n = f.notices.join("\n");
        assert!(
            n.contains("target_info.py printed `linux x64 0 standard GIL 64 True extra`"),
            "{n}"
        );
        assert!(n.contains("reads 7 field(s)"), "{n}");
        assert!(n.contains("own probe: linux"), "{n}");
        assert_eq!(f.flag("skip_native"), Some(true));
    }

    const ASM: &str = "def detect_inline_asm_arch(pyb, args):\n    for arch in (\"rv32\", \"thumb\"):\n        output = run_feature_check(pyb, args, \"inlineasm_{}.py\".format(arch))\n        if output.strip() == arch.encode():\n            return arch\n    return None\ndef run_tests():\n    skip_inlineasm = False\n    if True:\n        skip_inlineasm = args.inlineasm_arch is None\n";

    #[test]
    fn the_inline_assembler_is_read_and_an_unread_one_is_not_lacking() {
        let crash: &[u8] = b"CRASH";
        let f = read(
            ASM,
            &[
                ("inlineasm_rv32.py", crash),
                ("inlineasm_thumb.py", b"thumb\n"),
            ],
        );
        assert_eq!(f.inlineasm_arch.as_deref(), Some("thumb"));
        assert_eq!(f.flag("skip_inlineasm"), Some(false));
        let f = read(
            ASM,
            &[("inlineasm_rv32.py", crash), ("inlineasm_thumb.py", crash)],
        );
        assert_eq!(f.flag("skip_inlineasm"), Some(true));
        assert!(f.describe().contains("lacks=inlineasm"), "{}", f.describe());
        // A check of another shape (one script printing several features): a notice,
        // the flag not evaluated, and no "lacks".
        let f = read(
            ASM,
            &[
                ("inlineasm_rv32.py", crash),
                ("inlineasm_thumb.py", b"thumb thumb2\n"),
            ],
        );
        assert!(!f.inlineasm_known);
        assert_eq!(f.attr("inlineasm_arch"), None);
        assert!(!f.describe().contains("inlineasm,") && !f.describe().ends_with("inlineasm"));
        assert!(
            f.describe().contains("inlineasm=unknown"),
            "{}",
            f.describe()
        );
        let n = f.notices.join("\n");
        assert!(
            n.contains("inlineasm_thumb.py printed `thumb thumb2`"),
            "{n}"
        );
        // A check the loop names that the checkout does not have.
        let f = read(ASM, &[("inlineasm_thumb.py", b"thumb\n")]);
        assert!(!f.inlineasm_known);
        // No loop, but run-tests.py reads args.inlineasm_arch.
        let no_loop = ASM.replace("for arch in", "for_arch_in =");
        let f = read(&no_loop, &[]);
        assert!(!f.inlineasm_known, "{:?}", f.notices);
        assert!(f.notices.iter().any(|n| n.contains("was not read")));
        // Named by the target information: read from its field.
        let field = format!(
            "def d(pyb, args):\n    output = run_feature_check(pyb, args, \"target_info.py\")\n    platform, inlineasm_arch = str(output, \"ascii\").strip().split()\n{ASM}"
        );
        let f = read(&field, &[("target_info.py", b"qemu thumb\n")]);
        assert_eq!(f.inlineasm_arch.as_deref(), Some("thumb"));
    }

    #[test]
    fn an_arch_only_target_info_and_an_int_probe() {
        let old = "def run_tests():\n    upy_float_precision = run_feature_check(pyb, args, \"float.py\")\n    try:\n        upy_float_precision = int(upy_float_precision)\n    except ValueError:\n        upy_float_precision = 0\ndef main():\n    LOCAL_TARGETS = (\"unix\", \"webassembly\")\n    cmd_parser.add_argument(\"--target\", default=\"unix\", help=\"t\")\n    if not args.mpy_cross_flags:\n        output = run_feature_check(pyb, args, \"target_info.py\")\n        arch = str(output, \"ascii\").strip()\n";
        let f = read(old, &[("target_info.py", b"x64\n"), ("float.py", b"64\n")]);
        assert_eq!(
            (f.arch.as_deref(), f.float_prec, f.unicode),
            (Some("x64"), Some(64), None)
        );
        assert_eq!(f.target.as_deref(), Some("unix"));
        let n = f.notices.join("\n");
        assert!(n.contains("assumed its --target default `unix`"), "{n}");
    }
}
