//! Feature probing at connect time: tiny scripts that work on old firmware (1.9.2: no
//! f-strings, no `compile`, no `sys.implementation._mpy`), each judged on its own.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::error::BoardError;
use super::recover::{self, Ladder};
use super::repl::{ACCEPTING, PasteMode, Repl};
use crate::boardfile::config::Pacing;
#[cfg(doc)]
use crate::model::features::KNOWN;

/// What the board can do. `None`: the probe could not tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    /// `sys.platform`, e.g. `microbit`.
    pub platform: Option<String>,
    /// `sys.implementation.version` as `major.minor.micro`.
    pub version: Option<String>,
    /// `sys.implementation._mpy` decoded; absent on firmware before 1.12 or without .mpy.
    pub mpy_version: Option<u32>,
    pub mpy_sub_version: Option<u32>,
    pub mpy_arch: Option<String>,
    pub float: Option<bool>,
    pub bigint: Option<bool>,
    pub fstring: Option<bool>,
    /// `async def` / `await` syntax (MICROPY_PY_ASYNC_AWAIT; 1.9.2 for the micro:bit is
    /// built without it).
    #[serde(rename = "async")]
    pub async_: Option<bool>,
    #[serde(rename = "const")]
    pub const_: Option<bool>,
    /// `micropython.mem_total` (MICROPY_MEM_STATS).
    pub mem_total: Option<bool>,
    pub gc_mem_alloc: Option<bool>,
    pub heap_lock: Option<bool>,
    pub raw_paste: Option<bool>,
    /// The board imports `.mpy` files from its filesystem.
    pub mpy_import: Option<bool>,
    /// The `compile` builtin (1.9.2 lacks it): cases run with their own file name.
    pub compile: Option<bool>,
    /// `vfs.mount` of a user filesystem: `.mpy` files and helper modules from RAM.
    pub vfs_mount: Option<bool>,
    /// `binascii.a2b_base64`: binary files travel base64-encoded.
    pub binascii: Option<bool>,
    /// `sys.stdin`, which a multi-instance case's `multitest.wait` reads (1.9.2 for the
    /// micro:bit has none).
    pub stdin: Option<bool>,
    /// The finest clock the `time` module has, which times each case on the target.
    pub clock: Option<Clock>,
}

/// A clock on the target, read from its `time` module (finest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    TicksUs,
    TicksMs,
}

impl Clock {
    /// The function's name in `time`.
    pub fn function(self) -> &'static str {
        match self {
            Clock::TicksUs => "ticks_us",
            Clock::TicksMs => "ticks_ms",
        }
    }

    /// Microseconds per tick.
    pub fn us_per_tick(self) -> u64 {
        match self {
            Clock::TicksUs => 1,
            Clock::TicksMs => 1000,
        }
    }

    /// The clock a probe's answer names (`CLOCK`'s output), `None` for none.
    fn from_probe(answer: &str) -> Option<Clock> {
        match answer.trim_end() {
            "ticks_us" => Some(Clock::TicksUs),
            "ticks_ms" => Some(Clock::TicksMs),
            _ => None,
        }
    }
}

/// Which clock `time` has: `ticks_diff` is needed with either (ticks wrap around). A
/// firmware without `time` raises, and has no clock.
/// `time.time` is not taken: its whole seconds cannot time a case.
const CLOCK: &str = "import time\nprint('none' if not hasattr(time,'ticks_diff') else 'ticks_us' if hasattr(time,'ticks_us') else 'ticks_ms' if hasattr(time,'ticks_ms') else 'none')";

impl Features {
    /// The features a case may require ([`KNOWN`]) that the probes decided.
    pub fn known(&self) -> crate::model::features::Features {
        crate::model::features::Features(
            crate::model::features::KNOWN
                .iter()
                .filter_map(|n| self.has(n).map(|v| (n.to_string(), v)))
                .collect(),
        )
    }

    /// Look a boolean feature up by name (the names of the fields; `const` for `const_`).
    /// Unknown names and features the probe could not decide are `None`.
    pub fn has(&self, name: &str) -> Option<bool> {
        match name {
            "float" => self.float,
            "bigint" => self.bigint,
            "fstring" => self.fstring,
            "async" => self.async_,
            "const" => self.const_,
            // The shared vocabulary (`requires: [mem_stats]`, as on host VMs): the
            // board's `micropython.mem_total` is what MICROPY_MEM_STATS provides.
            "mem_stats" => self.mem_total,
            "gc_mem_alloc" => self.gc_mem_alloc,
            "heap_lock" => self.heap_lock,
            "raw_paste" => self.raw_paste,
            "mpy_import" => self.mpy_import,
            "compile" => self.compile,
            "vfs_mount" => self.vfs_mount,
            "binascii" => self.binascii,
            "stdin" => self.stdin,
            // The arch is in `_mpy` only where a native emitter is built in; firmware
            // without `_mpy` (1.9.2) cannot say which native `.mpy` it would load.
            "native" => self.version.as_ref().map(|_| self.mpy_arch.is_some()),
            _ => None,
        }
    }
}

/// A yes/no probe: the feature is present when stdout is exactly `expect` (+ newline).
struct Probe {
    name: &'static str,
    script: &'static str,
    expect: &'static str,
}

/// Each probe compiles on its own, so a firmware without floats fails only `float`.
const PROBES: &[Probe] = &[
    Probe {
        name: "float",
        script: "print(1.5/3)",
        expect: "0.5",
    },
    Probe {
        name: "bigint",
        script: "print(2**100)",
        expect: "1267650600228229401496703205376",
    },
    Probe {
        name: "fstring",
        // exec inside try: the firmware's compiler sees the f-string only at run time.
        script: "try:\n exec(\"x=1\\nprint(f'a{x}')\")\nexcept SyntaxError:\n print('no')",
        expect: "a1",
    },
    Probe {
        name: "async",
        // exec inside try: as fstring, the syntax is seen only when the probe runs.
        script: "try:\n exec('async def f():\\n await g()')\n print('yes')\nexcept SyntaxError:\n print('no')",
        expect: "yes",
    },
    Probe {
        name: "const",
        script: "from micropython import const\nX=const(7)\nprint(X)",
        expect: "7",
    },
    Probe {
        name: "mem_total",
        script: "import micropython\nprint(hasattr(micropython,'mem_total'))",
        expect: "True",
    },
    Probe {
        name: "gc_mem_alloc",
        script: "import gc\nprint(gc.mem_alloc()>0)",
        expect: "True",
    },
    Probe {
        name: "heap_lock",
        // Lock and unlock with nothing between: on 1.9.2 a MemoryError raised while locked
        // escapes `try` and leaves the heap locked, which hangs the raw REPL.
        script: "import micropython\nmicropython.heap_lock()\nmicropython.heap_unlock()\nprint('yes')",
        expect: "yes",
    },
    Probe {
        // An invalid .mpy (version 0): a VM that loads .mpy files finds it and rejects it
        // with ValueError; one that cannot, never looks and raises ImportError.
        name: "mpy_import",
        script: "import os\ntry:\n f=open('_mpck.mpy','wb')\n f.write(b'M\\x00')\n f.close()\nexcept Exception:\n print('nofs')\nelse:\n try:\n  import _mpck\n  print('yes')\n except ValueError:\n  print('yes')\n except ImportError:\n  print('no')\n os.remove('_mpck.mpy')",
        expect: "yes",
    },
    Probe {
        name: "compile",
        script: "try:\n compile\n print('yes')\nexcept NameError:\n print('no')",
        expect: "yes",
    },
    Probe {
        name: "vfs_mount",
        script: "try:\n import vfs\n print(hasattr(vfs,'mount'))\nexcept ImportError:\n print('no')",
        expect: "True",
    },
    Probe {
        name: "binascii",
        script: "try:\n from binascii import a2b_base64\n print('yes')\nexcept ImportError:\n print('no')",
        expect: "yes",
    },
    Probe {
        name: "stdin",
        script: "import sys\nprint(hasattr(sys,'stdin'))",
        expect: "True",
    },
];

const IDENT: &str = "import sys\nprint(sys.platform)\nprint('.'.join([str(x) for x in sys.implementation.version[:3]]))\ntry:\n print(sys.implementation._mpy)\nexcept AttributeError:\n print('none')";

/// Every probe is tiny and ends at once; 5 s covers a slow UART.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Run all probes on a board at its raw prompt. The heap is soft-reset afterwards.
/// A probe that hangs the board is recovered with `ladder` and counts as undecided.
pub fn probe(repl: &mut Repl, ladder: Ladder) -> Result<Features, BoardError> {
    let configured = repl.pacing;
    let mut f = probe_with(|script| run_paced(repl, ladder, script, configured))?;
    f.raw_paste = match repl.paste_mode() {
        PasteMode::RawPaste { .. } => Some(true),
        PasteMode::Classic => Some(false),
        PasteMode::Unknown => None,
    };
    repl.soft_reset(PROBE_TIMEOUT)?;
    Ok(f)
}

/// What one probe script gave: its stdout (`\n` line ends), `None` when it raised, or
/// `Err(Undecided)` when it hung or the link broke.
pub type ProbeRun = Result<Option<String>, Undecided>;

/// Runs every probe through `run` (on a board's REPL, or as a host VM's `-c` script)
/// and judges each on its own; `Err` only when `run` says the target is unusable.
pub fn probe_with<E>(mut run: impl FnMut(&str) -> Result<ProbeRun, E>) -> Result<Features, E> {
    let mut f = Features::default();
    let ident = run(IDENT)?.ok().flatten();
    let mut lines = ident.as_deref().unwrap_or("").lines();
    f.platform = lines.next().map(str::to_string);
    f.version = lines.next().map(str::to_string);
    if let Some(mpy) = lines.next().and_then(|l| l.parse::<u32>().ok()) {
        let (version, sub, arch) = decode_mpy(mpy);
        f.mpy_version = Some(version);
        f.mpy_sub_version = Some(sub);
        f.mpy_arch = arch.map(str::to_string);
    }
    for p in PROBES {
        let has = match run(p.script)? {
            Ok(out) => Some(out.as_deref().map(str::trim_end) == Some(p.expect)),
            Err(Undecided) => None,
        };
        match p.name {
            "float" => f.float = has,
            "bigint" => f.bigint = has,
            "fstring" => f.fstring = has,
            "async" => f.async_ = has,
            "const" => f.const_ = has,
            "mem_total" => f.mem_total = has,
            "gc_mem_alloc" => f.gc_mem_alloc = has,
            "heap_lock" => f.heap_lock = has,
            "mpy_import" => f.mpy_import = has,
            "compile" => f.compile = has,
            "vfs_mount" => f.vfs_mount = has,
            "binascii" => f.binascii = has,
            "stdin" => f.stdin = has,
            other => unreachable!("probe {other} has no field"),
        }
    }
    f.clock = run(CLOCK)?
        .ok()
        .flatten()
        .as_deref()
        .and_then(Clock::from_probe);
    // A RAM filesystem serves `.mpy` files to any VM that knows the format.
    if f.vfs_mount == Some(true) && f.mpy_version.is_some() {
        f.mpy_import = Some(true);
    }
    Ok(f)
}

/// A probe hung or lost the link (a board was recovered, a host VM's process killed).
#[derive(Debug)]
pub struct Undecided;

/// One probe at the session's pace. Where its input was lost at the board file's pace,
/// it runs again at half of it, which the session keeps from then on (said loudly: the
/// board file should say so); lost at that pace too, the link is unusable. Without this a
/// lossy link turned features into "lacks" (a probe's SyntaxError) or "undecided" (its
/// Ctrl-D lost: 5 s each), and the run went on with them.
fn run_paced(
    repl: &mut Repl,
    ladder: Ladder,
    script: &str,
    configured: Pacing,
) -> Result<ProbeRun, BoardError> {
    loop {
        let lost = match run(repl, ladder, script)? {
            Attempt::Done(run) => return Ok(run),
            Attempt::Lost(evidence) => evidence,
        };
        let slow = configured.slower();
        if repl.pacing != configured {
            return Err(BoardError::CorruptedUpload {
                console: repl.console().to_string(),
                chunk_bytes: configured.chunk_bytes,
                slow_chunk_bytes: slow.chunk_bytes,
                evidence: lost,
            });
        }
        crate::util::notice::notice(format_args!(
            "{}: input was lost on the link in chunks of {} bytes ({lost}); this session sends chunks of {} bytes every {} ms: set `pacing:` so in the board file",
            repl.console(),
            configured.chunk_bytes,
            slow.chunk_bytes,
            slow.pause_ms
        ));
        repl.pacing = slow;
    }
}

/// A probe's outcome, or its input lost on the way (why we know).
enum Attempt {
    Done(ProbeRun),
    Lost(String),
}

/// Stdout of a probe (`\r\n` → `\n`), or `None` if it raised, or its input lost. A hang
/// is recovered (error only if the board is dead).
fn run(repl: &mut Repl, ladder: Ladder, script: &str) -> Result<Attempt, BoardError> {
    match repl.exec(script.as_bytes(), Instant::now() + PROBE_TIMEOUT) {
        // Every probe is valid Python on every firmware (1.9.2 included): a SyntaxError is
        // the link's, as for the driver.
        Ok((out, _)) if is_syntax_error(&out.exception) => Ok(Attempt::Lost(format!(
            "the board reported a SyntaxError for a feature probe: {}",
            String::from_utf8_lossy(&out.exception)
                .lines()
                .last()
                .unwrap_or("")
        ))),
        Ok((out, _)) if !out.exception.is_empty() => Ok(Attempt::Done(Ok(None))),
        Ok((out, _)) => Ok(Attempt::Done(Ok(Some(
            String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
        )))),
        Err(e @ (BoardError::Timeout { .. } | BoardError::Io { .. })) => {
            let broken = matches!(e, BoardError::Io { .. });
            // The board answers a whole command (its Ctrl-D) with `OK` at once: none means
            // the command never arrived whole.
            let unacknowledged =
                matches!(e, BoardError::Timeout { doing, .. } if doing == ACCEPTING);
            recover::recover(repl, ladder, true, broken)?;
            Ok(if unacknowledged {
                Attempt::Lost("the board never acknowledged a feature probe".to_string())
            } else {
                Attempt::Done(Err(Undecided))
            })
        }
        Err(e) => Err(e),
    }
}

fn is_syntax_error(exception: &[u8]) -> bool {
    memchr::memmem::find(exception, b"SyntaxError").is_some()
}

/// `sys.implementation._mpy`: version in bits 0–7, sub-version 8–9, native arch 10–13.
pub fn decode_mpy(mpy: u32) -> (u32, u32, Option<&'static str>) {
    const ARCHS: [&str; 13] = [
        "",
        "x86",
        "x64",
        "armv6",
        "armv6m",
        "armv7m",
        "armv7em",
        "armv7emsp",
        "armv7emdp",
        "xtensa",
        "xtensawin",
        "rv32imc",
        "rv64imc",
    ];
    let arch = ((mpy >> 10) & 0xF) as usize;
    let arch = ARCHS.get(arch).copied().filter(|a| !a.is_empty());
    (mpy & 0xFF, (mpy >> 8) & 3, arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_mpy_field() {
        // unix port 1.29 preview: 2822 = mpy 6.3, x64
        assert_eq!(decode_mpy(2822), (6, 3, Some("x64")));
        // webassembly: 774 = mpy 6.3, no native arch
        assert_eq!(decode_mpy(774), (6, 3, None));
    }

    #[test]
    fn native_needs_an_arch_in_mpy() {
        let mut f = Features::default();
        assert_eq!(f.has("native"), None, "nothing probed");
        f.version = Some("1.9.2".into());
        assert_eq!(f.has("native"), Some(false), "no _mpy: micro:bit 1.9.2");
        f.mpy_arch = Some("armv7m".into());
        assert_eq!(f.has("native"), Some(true));
    }

    #[test]
    fn lookup_by_name() {
        let f = Features {
            const_: Some(true),
            fstring: Some(false),
            ..Features::default()
        };
        assert_eq!(f.has("const"), Some(true));
        assert_eq!(f.has("fstring"), Some(false));
        assert_eq!(f.has("float"), None);
        assert_eq!(f.has("no-such-feature"), None);
    }

    #[test]
    fn every_probe_is_free_of_f_strings_and_small() {
        for p in PROBES {
            assert!(!p.script.contains("f\""), "{}", p.name);
            // below the 1 KB that fits easily in a 10 KB heap next to the compiler
            assert!(p.script.len() < 400, "{}", p.name);
        }
    }
}
