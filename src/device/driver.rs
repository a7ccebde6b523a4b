//! The driver script that runs one case on a board: it prints a per-run nonce, runs the
//! case (compiled from a string, or imported from a RAM filesystem it mounts), reports a
//! `SystemExit` code, and prints the nonce again. Only the harness knows the nonce, so
//! nothing the case prints can end its run or forge the traceback the REPL prints after
//! it; the driver's own frame is taken out of that traceback, so file and line are the
//! case's, as on the unix port.

use super::features::Clock;
use super::pyliteral::{base64_encode, blank_comments, bytes_literal, long_literal, str_literal};
use std::fmt::Write as _;

/// The module name a case is imported under in `.mpy` mode: any case name works (`raise`,
/// `sys`, `a.b`), and nothing the case imports can clash with it.
pub(crate) const CASE_ALIAS: &str = "_mpck_case";
/// The empty module a case that asks for `__main__` runs in (see [`reaches_main`]).
pub(crate) const MAIN_MODULE: &str = "_mpck_main";
/// Where the RAM filesystem is mounted (and made the current directory).
const MOUNT: &str = "/_mpck";

/// How the case gets into the VM.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Load<'a> {
    /// Compile `source` as file `name` (`compile` builtin), or `exec` it where the
    /// firmware has no `compile` (its frames are then named `<string>`, renamed here).
    Source {
        name: &'a str,
        source: &'a [u8],
        has_compile: bool,
        /// The case sees `__file__` = `name`, as when the unix port runs it from a file
        /// (mpcheck's own cases, compared with unix goldens); upstream tests get none,
        /// as run-tests.py's raw-REPL exec on a board gives them (`sys_path.py` SKIPs).
        defines_file: bool,
        /// The case runs as the module `__main__` (see [`reaches_main`]): the files
        /// include an empty `MAIN_MODULE.py` to import for its module object.
        main_module: bool,
    },
    /// Import `module` (a `.mpy` or `.py` the board can find), as `__main__`.
    Import { module: &'a str },
    /// Import `module`, frozen into the firmware as `<dir>/<module>.py`: `.frozen/<dir>`
    /// goes first on `sys.path` (before the first nonce: outside the case) so the case's
    /// `import _helper` finds the helpers frozen beside it. Named `module`, not
    /// `__main__`: a frozen module has no hook to rename it before it runs.
    Frozen { dir: &'a str, module: &'a str },
}

/// A file the driver serves from its RAM filesystem.
#[derive(Debug, Clone)]
pub struct RamFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A driver ready to send, and what reading its output needs.
#[derive(Debug, Clone)]
pub(crate) struct Driver {
    pub script: Vec<u8>,
    pub nonce: Vec<u8>,
    /// The driver lines an exception can pass through (compile, run, re-raise): their
    /// traceback frames are removed.
    driver_lines: Vec<usize>,
    /// The case's file name, for firmware that names exec'd code `<string>`.
    rename_string: Option<String>,
    /// The case pasted into the driver's `try:` block (old firmware: no `compile`, and
    /// `exec` costs stack a tiny board lacks): its name and first and last driver line.
    inline: Option<(String, usize, usize)>,
    /// The case runs inside the heap measurement, whose frames (module level and its
    /// functions) are all the driver's: every leading `<stdin>` frame is removed.
    pub(crate) measured: bool,
    /// The case is timed by this clock of the target's; the elapsed ticks follow the
    /// status word after a space.
    pub(crate) clock: Option<Clock>,
}

/// How a driver times its case: the target's clock, and where the board file names
/// the board's timer (`qemu.icount.timer`), the statement that restarts it right before
/// the first reading, so the readings land at the same phase of its period in every run
/// and the elapsed time is exact, not within one tick.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub clock: Clock,
    pub restart: Option<&'static str>,
}

impl From<Clock> for Timing {
    fn from(clock: Clock) -> Timing {
        Timing {
            clock,
            restart: None,
        }
    }
}

impl Driver {
    /// A driver for `load` with `files` in a RAM filesystem (none: no filesystem, which
    /// old firmware without `vfs` needs). `base64`: the firmware has
    /// `binascii.a2b_base64`, so binary files travel at 4/3 of their size instead of
    /// about 2.5× as escaped bytes. Every byte costs link time (QEMU's mps2 UART takes
    /// ~50 µs per byte; a real board's UART at 115200 baud ~90 µs) where the driver goes
    /// over the console rather than through shared RAM, so the driver is terse.
    ///
    /// `heap`: run the case inside the heap measurement ([`crate::model::heap::measurement`];
    /// `Some(zero_alloc)`), whose report line and heap maps come out in its stdout.
    /// `clock`: the case is timed on the target with it, around the driver's `try:`
    /// (not a heap case: see below).
    pub(crate) fn new(
        load: Load,
        files: &[RamFile],
        nonce: Vec<u8>,
        base64: bool,
        heap: Option<crate::model::heap::Wrap<'_>>,
        clock: Option<Timing>,
    ) -> Driver {
        let n = String::from_utf8_lossy(&nonce).into_owned();
        let mut s = String::new();
        let mut lines = 0;
        let mut line = |s: &mut String, text: &str| {
            s.push_str(text);
            s.push('\n');
            lines += text.matches('\n').count() + 1;
            lines
        };
        if !files.is_empty() {
            line(&mut s, "import sys,io,os,vfs");
            if base64 {
                line(&mut s, "from binascii import a2b_base64 as B");
            }
            let mut table = String::from("D={");
            for f in files {
                let data = if base64 {
                    format!("B('{}')", base64_encode(&f.bytes))
                } else if f.name.ends_with(".py") {
                    str_literal(&f.bytes)
                } else {
                    bytes_literal(&f.bytes)
                };
                let _ = write!(table, "{}:{data},", str_literal(f.name.as_bytes()));
            }
            table.push('}');
            line(&mut s, &table);
            let main = format!("{CASE_ALIAS}.mpy");
            // As run-tests.py's `--via-mpy` importer: the module is `__main__` to itself,
            // and in `sys.modules` for `unittest.main()` where the case may ask for it
            // (not for the others: heap figures shift with the driver's bytes).
            let rename = if files
                .iter()
                .any(|f| f.name == main && reaches_main(&f.bytes))
            {
                format!(
                    "m=sys.modules[{CASE_ALIAS:?}];m.__name__='__main__';sys.modules['__main__']=m"
                )
            } else {
                format!("sys.modules[{CASE_ALIAS:?}].__name__='__main__'")
            };
            // Files are `io.BytesIO` over the bytes: it reads without allocating (a
            // Python `readinto` allocates a slice per read, which heap figures of `.mpy`
            // mode would count) and costs no class on the wire. The methods are those of
            // run-tests.py's `--via-mpy` filesystem (`umount`: a case may unmount every
            // mount point, as micropython/builtin_execfile.py does), no more: every byte
            // is sent with every case.
            line(
                &mut s,
                &format!(
                    "class V:\n def mount(s,r,m):0\n def umount(s):0\n def chdir(s,p):0\n def getcwd(s):return ''\n def stat(s,p):\n  if p.lstrip('/') in D:return (32768,)+(0,)*9\n  raise OSError(2)\n def open(s,p,m):\n  p=p.lstrip('/');s.stat(p)\n  if p=={main:?}:{rename}\n  return io.BytesIO(D[p])\nvfs.mount(V(),{MOUNT:?});os.chdir({MOUNT:?})"
                ),
            );
        }
        let mut driver_lines = Vec::new();
        let glob = |name: &str, defines_file: bool| {
            if defines_file {
                format!("{{'__name__':'__main__','__file__':{name:?}}}")
            } else {
                "{'__name__':'__main__'}".to_string()
            }
        };
        let mut inline = None;
        let mut rename_string = None;
        let run = match (load, heap) {
            (Load::Source { name, source, .. }, Some(zero_alloc)) => {
                // Without `compile` (1.9-era firmware) the measured loader cannot name the
                // case's frames; the figures are still the case's.
                line(
                    &mut s,
                    &format!("S={}", long_literal(&blank_comments(source))),
                );
                let load = crate::model::heap::Load::Source {
                    text: "S".into(),
                    name: name.to_string(),
                };
                measured(&mut s, &mut line, &load, zero_alloc)
            }
            (Load::Import { module }, Some(zero_alloc)) => {
                let load = crate::model::heap::Load::Import {
                    module: module.to_string(),
                };
                measured(&mut s, &mut line, &load, zero_alloc)
            }
            (
                Load::Source {
                    name,
                    source,
                    has_compile: true,
                    defines_file,
                    main_module,
                },
                None,
            ) => {
                line(
                    &mut s,
                    &format!("S={}", long_literal(&blank_comments(source))),
                );
                if main_module {
                    // The case's globals are those of a real module, `sys.modules`'s
                    // `__main__`, as at the REPL run-tests.py uses: `unittest.main()`
                    // and `import __main__` find the case, not the driver's globals.
                    // MicroPython cannot make a module object, so an empty one is
                    // imported from the RAM filesystem and renamed. Where that import
                    // fails (v1.24's qemu port: ENOENT), a fresh dict as for the others.
                    let file = if defines_file {
                        format!("G['__file__']={name:?}")
                    } else {
                        "pass".to_string()
                    };
                    line(
                        &mut s,
                        &format!(
                            "import sys\ntry:m=__import__({MAIN_MODULE:?});G=m.__dict__;G.pop('__file__',0);G['__name__']='__main__';sys.modules['__main__']=m\nexcept Exception:G={}\n{file}",
                            glob(name, defines_file)
                        ),
                    );
                    format!(" exec(compile(S,{name:?},'exec'),G)")
                } else {
                    format!(
                        " exec(compile(S,{name:?},'exec'),{})",
                        glob(name, defines_file)
                    )
                }
            }
            (Load::Source { name, source, .. }, None) if indentable(source) => {
                let count = String::from_utf8_lossy(source).lines().count();
                inline = Some((name.to_string(), count));
                let blanked = blank_comments(source);
                let mut body: String = String::from_utf8_lossy(&blanked)
                    .lines()
                    .map(|l| {
                        if l.is_empty() {
                            "\n".to_string()
                        } else {
                            format!(" {l}\n")
                        }
                    })
                    .collect();
                body.push_str(" pass");
                body
            }
            (
                Load::Source {
                    name,
                    source,
                    defines_file,
                    ..
                },
                None,
            ) => {
                rename_string = Some(name.to_string());
                format!(
                    " exec({},{})",
                    str_literal(source),
                    glob(name, defines_file)
                )
            }
            (Load::Import { module }, None) => format!(" __import__({module:?})"),
            (Load::Frozen { dir, module }, heap) => {
                line(
                    &mut s,
                    &format!("import sys;sys.path.insert(0,'.frozen/{dir}')"),
                );
                match heap {
                    Some(zero_alloc) => {
                        let load = crate::model::heap::Load::Import {
                            module: module.to_string(),
                        };
                        measured(&mut s, &mut line, &load, zero_alloc)
                    }
                    None => format!(" __import__({module:?})"),
                }
            }
        };
        // The closing nonce is printed once, in `finally`, so it comes before the
        // traceback the REPL prints for an uncaught exception; a `SystemExit` leaves its
        // status word in `_x` instead. Every byte here is sent for every case. A case
        // pasted inline runs in these globals and may list them: there `_x` is set only
        // on exit, and taken back out. (Elsewhere the text stays as it is: board heap
        // figures shift with the driver's qstrs.)
        // The clock is a list `[read, diff, start, end]`; the `finally` line reads the
        // end and prints the elapsed ticks after the status word, `print`'s space
        // between. A heap case is not timed: any byte more in its driver moves heap
        // figures (a new qstr moved a sabrelite figure by 128 bytes; the clock under a
        // name the measurement already had, with no new qstr, still by 8: the heap's
        // layout before the baseline decides whether the case's qstr chunk grows in
        // place), and its time would include the measurement's own. A case pasted inline
        // is not timed either: it runs in the driver's globals, and `dir()` would list
        // the clock (memory/const_fold on the micro:bit did).
        let clock = clock.filter(|_| heap.is_none() && inline.is_none());
        let status = if inline.is_some() {
            line(&mut s, &format!("print('{n}',end='')"));
            "globals().pop('_x','')"
        } else {
            line(&mut s, &format!("print('{n}',end='')\n_x=''"));
            "_x"
        };
        let (timing, elapsed) = match clock {
            Some(c) => {
                // Read last before `try:`, after the opening nonce has gone out. The
                // board compiles this text with every case: a `from` import costs it
                // about a third of what attribute lookups on a list did (mps2-an385:
                // 210 µs of its virtual time against 560 for the whole driver).
                let restart = c.restart.map(|r| format!("{r};")).unwrap_or_default();
                line(
                    &mut s,
                    &format!(
                        "from time import {} as _T,ticks_diff as _D;{restart}_s=_T()",
                        c.clock.function()
                    ),
                );
                ("_e=_T();".to_string(), ",_D(_e,_s)".to_string())
            }
            None => (String::new(), String::new()),
        };
        let try_line = line(&mut s, "try:");
        let run_end = line(&mut s, &run);
        let inline = match inline {
            Some((name, count)) => Some((name, try_line + 1, try_line + count)),
            None => {
                driver_lines.push(run_end);
                None
            }
        };
        // Unix exits with an int's low 8 bits, 0 for None, 1 (printing it) otherwise.
        // 1.9-era firmware adds a frame for each handler an exception passes through:
        // this line, and the `finally` one.
        // A heap case keeps the handler as code, byte for byte (its figures move with
        // the driver's text). Elsewhere it is a string the board compiles only when the
        // case exits: a literal costs its compiler a fraction of the expression (~200 µs
        // of mps2-an385's virtual time per case).
        let handler = "a=(e.args+(0,))[0];_x='x'+str(0 if a is None else a&255 if type(a) is int else print(a) or 1)";
        let handler = if heap.is_some() {
            format!("except SystemExit as e:{handler}")
        } else {
            format!("except SystemExit as e:exec(\"{handler}\")")
        };
        driver_lines.push(line(&mut s, &handler));
        driver_lines.push(line(
            &mut s,
            &format!("finally:{timing}print('{n}'+{status}{elapsed},end='')"),
        ));
        Driver {
            script: s.into_bytes(),
            nonce,
            driver_lines,
            rename_string,
            inline,
            measured: heap.is_some(),
            clock: clock.map(|c| c.clock),
        }
    }

    /// Whether a SyntaxError before the driver ran (`exception`, as
    /// [`Driver::case_traceback`] left it) is the link's: the driver is valid Python and
    /// holds the case as a string, so it always is, except for a case pasted inline
    /// whose error is on one of its own lines (renamed to the case's file by then).
    pub(crate) fn blames_link(&self, exception: &str) -> bool {
        self.inline.is_none() || exception.contains("  File \"<stdin>\", line ")
    }

    /// The traceback as the case would have printed it on its own: the driver's frame
    /// (always the outermost, right after the header) removed.
    pub(crate) fn case_traceback(&self, exception: &str) -> String {
        const HEADER: &str = "Traceback (most recent call last):\n";
        let Some(mut rest) = exception.strip_prefix(HEADER) else {
            return exception.to_string();
        };
        // The driver's frames are the outermost ones, right after the header.
        'strip: loop {
            if self.measured
                && let Some(frame) = rest.strip_prefix("  File \"<stdin>\", line ")
                && let Some(end) = frame.find('\n')
            {
                rest = &frame[end + 1..];
                continue 'strip;
            }
            for k in &self.driver_lines {
                let frame = format!("  File \"<stdin>\", line {k}, in <module>\n");
                if let Some(r) = rest.strip_prefix(&frame) {
                    rest = r;
                    continue 'strip;
                }
            }
            break;
        }
        let mut text = format!("{HEADER}{rest}");
        if let Some((name, first, last)) = &self.inline {
            text = text
                .split_inclusive('\n')
                .map(|l| {
                    let renumbered = l
                        .strip_prefix("  File \"<stdin>\", line ")
                        .and_then(|rest| {
                            let digits = rest.find(|c: char| !c.is_ascii_digit())?;
                            let n: usize = rest[..digits].parse().ok()?;
                            (*first..=*last).contains(&n).then(|| {
                                format!(
                                    "  File \"{name}\", line {}{}",
                                    n - first + 1,
                                    &rest[digits..]
                                )
                            })
                        });
                    renumbered.unwrap_or_else(|| l.to_string())
                })
                .collect();
        }
        if let Some(name) = &self.rename_string {
            text = text.replace("  File \"<string>\"", &format!("  File \"{name}\""));
        }
        text
    }
}

/// The heap measurement's setup as driver lines (before the opening nonce), and its body
/// indented into the driver's `try:` block (returned).
fn measured(
    s: &mut String,
    line: &mut impl FnMut(&mut String, &str) -> usize,
    load: &crate::model::heap::Load,
    zero_alloc: crate::model::heap::Wrap<'_>,
) -> String {
    let m = crate::model::heap::measurement(load, zero_alloc);
    line(s, m.setup.trim_end());
    m.body
        .trim_end()
        .lines()
        .map(|l| format!(" {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a case (its source, or its `.mpy`, whose qstrs are stored as text) may ask for
/// the `__main__` module: it names it, or imports unittest (whose `main()` imports
/// `__main__`). Only those pay for the bytes that make it the case's: every byte crosses
/// the link with every case, and heap figures shift with the driver's qstrs.
pub(crate) fn reaches_main(source: &[u8]) -> bool {
    let has = |needle: &[u8]| source.windows(needle.len()).any(|w| w == needle);
    has(b"__main__") || has(b"unittest")
}

/// Whether a case's source can be pasted into a `try:` block one space deeper without
/// changing what it means: no multi-line strings, backslash continuations or tabs.
fn indentable(source: &[u8]) -> bool {
    let text = String::from_utf8_lossy(source);
    !text.contains("'''")
        && !text.contains("\"\"\"")
        && !text.contains('\t')
        && !text.lines().any(|l| l.ends_with('\\'))
}

/// What the driver's status word says: `None` normal end or traceback, `Some(n)` the
/// case raised `SystemExit` with exit status `n`.
pub(crate) fn exit_code(status: &[u8]) -> Option<i32> {
    let word = status.split(|&b| b == b' ').next()?;
    let rest = word.strip_prefix(b"x")?;
    std::str::from_utf8(rest).ok()?.parse().ok()
}

/// The case's time on the target in microseconds: the ticks after the status word's
/// space, in `clock`'s unit. `None` where the driver did not time it or the word is cut.
pub(crate) fn target_us(status: &[u8], clock: Option<Clock>) -> Option<u64> {
    let clock = clock?;
    let pos = status.iter().position(|&b| b == b' ')?;
    let ticks: u64 = std::str::from_utf8(&status[pos + 1..]).ok()?.parse().ok()?;
    Some(ticks * clock.us_per_tick())
}

/// A `MemoryError` with no frame of the case (the driver's own frame already taken
/// out): compiling the case ran out of memory, so it is too large for the board.
pub(crate) fn compile_ran_out(exception: &str) -> bool {
    exception.contains("MemoryError") && !exception.lines().any(|l| l.starts_with("  File "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_what_python_needs() {
        assert_eq!(str_literal(b"a'b\\c\nd\x04"), r"'a\'b\\c\nd\x04'");
        assert_eq!(str_literal("é".as_bytes()), "'é'");
        assert_eq!(bytes_literal(b"M\x06'\\z"), r"b'M\x06\'\\z'");
    }

    #[test]
    fn driver_frame_is_removed_and_only_it() {
        let d = Driver::new(
            Load::Source {
                name: "uncaught.py",
                source: b"1/0\n",
                has_compile: true,
                defines_file: true,
                main_module: false,
            },
            &[],
            b"@n@".to_vec(),
            false,
            None,
            Some(Clock::TicksUs.into()),
        );
        let k = d.driver_lines[0];
        let board = format!(
            "Traceback (most recent call last):\n  File \"<stdin>\", line {k}, in <module>\n  File \"uncaught.py\", line 1, in <module>\nZeroDivisionError: divide by zero\n"
        );
        assert_eq!(
            d.case_traceback(&board),
            "Traceback (most recent call last):\n  File \"uncaught.py\", line 1, in <module>\nZeroDivisionError: divide by zero\n"
        );
        // Not the driver's line: left alone.
        let other = board.replace(&format!("line {k},"), "line 999,");
        assert_eq!(d.case_traceback(&other), other);
        let script = String::from_utf8(d.script.clone()).unwrap();
        assert_eq!(
            script.lines().nth(k - 1).unwrap().trim_start().get(..5),
            Some("exec(")
        );
        assert!(
            script
                .lines()
                .nth(d.driver_lines[0] - 1)
                .unwrap()
                .contains("compile(")
        );
    }

    #[test]
    fn inline_case_frames_are_renamed_and_renumbered() {
        let src = b"x = 1\ndef f():\n    raise KeyError\nf()\n";
        let d = Driver::new(
            Load::Source {
                name: "c.py",
                source: src,
                has_compile: false,
                defines_file: true,
                main_module: false,
            },
            &[],
            b"@n@".to_vec(),
            false,
            None,
            Some(Clock::TicksUs.into()),
        );
        let script = String::from_utf8(d.script.clone()).unwrap();
        let (_, first, last) = d.inline.clone().expect("pasted inline");
        assert_eq!(script.lines().nth(first - 1), Some(" x = 1"));
        assert_eq!(last - first, 3);
        let reraise = *d.driver_lines.last().unwrap();
        let board = format!(
            "Traceback (most recent call last):\n  File \"<stdin>\", line {reraise}, in <module>\n  File \"<stdin>\", line {}, in <module>\n  File \"<stdin>\", line {}, in f\nKeyError: \n",
            first + 3,
            first + 2
        );
        assert_eq!(
            d.case_traceback(&board),
            "Traceback (most recent call last):\n  File \"c.py\", line 4, in <module>\n  File \"c.py\", line 3, in f\nKeyError: \n"
        );
        // a triple-quoted string would change if indented: exec instead
        assert!(!indentable(b"s = '''a\nb'''\n"));
        assert!(!indentable(b"x = 1 + \\\n 2\n"));
        assert!(indentable(src));
    }

    #[test]
    fn comments_blanked_and_literals_short() {
        assert_eq!(
            blank_comments(b"# a\nx = 1  # b\n  # c\ny\n"),
            b"\nx = 1  # b\n\ny\n"
        );
        // a multi-line string may hold `#` lines: left alone
        let s = b"x = '''\n# not a comment\n'''\n";
        assert_eq!(blank_comments(s), s);
        assert_eq!(long_literal(b"a\\b\n'c'd"), "'''a\\\\b\n'c'd'''");
        assert_eq!(long_literal(b"x'"), "'x\\''");
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_encode(b"M"), "TQ==");
    }

    #[test]
    fn status_words() {
        assert_eq!(exit_code(b""), None);
        assert_eq!(exit_code(b"x3"), Some(3));
        assert_eq!(exit_code(b"x0"), Some(0));
        assert_eq!(exit_code(b"junk"), None);
        // timed: the elapsed ticks follow after a space
        assert_eq!(exit_code(b"x3 1234"), Some(3));
        assert_eq!(exit_code(b" 1234"), None);
        assert_eq!(target_us(b" 1234", Some(Clock::TicksUs)), Some(1234));
        assert_eq!(target_us(b"x3 12", Some(Clock::TicksMs)), Some(12_000));
        assert_eq!(target_us(b"x3", Some(Clock::TicksUs)), None);
        assert_eq!(target_us(b" 1234", None), None);
    }

    #[test]
    fn a_timed_driver_reads_the_clock_around_the_case_and_a_heap_case_is_not_timed() {
        let load = || Load::Source {
            name: "c.py",
            source: b"print(1)\n",
            has_compile: true,
            defines_file: false,
            main_module: false,
        };
        let text = |heap, clock| {
            String::from_utf8(Driver::new(load(), &[], b"@n@".to_vec(), false, heap, clock).script)
                .unwrap()
        };
        let timed = text(None, Some(Clock::TicksUs.into()));
        let start = timed.find("_s=_T()").expect("start read");
        let run = timed.find("exec(compile(S").unwrap();
        let end = timed.find("finally:_e=_T();").expect("end read");
        assert!(start < run && run < end, "{timed}");
        assert!(
            timed.contains("from time import ticks_us as _T,ticks_diff as _D;"),
            "{timed}"
        );
        assert!(
            timed.find("print('@n@',end='')").unwrap() < start,
            "{timed}"
        );
        assert!(timed.ends_with(",_D(_e,_s),end='')\n"), "{timed}");
        // a board whose timer is restarted: right before the first reading
        let restart = Timing {
            clock: Clock::TicksUs,
            restart: Some("R()"),
        };
        let restarted = text(None, Some(restart));
        assert!(restarted.contains(";R();_s=_T()\n"), "{restarted}");
        // a heap case's driver is byte for byte the untimed one, its exit handler code;
        // elsewhere the handler is a string compiled only when the case exits
        let heap = text(Some(Default::default()), None);
        assert_eq!(
            text(Some(Default::default()), Some(Clock::TicksUs.into())),
            heap
        );
        assert!(
            heap.contains("\nexcept SystemExit as e:a=(e.args"),
            "{heap}"
        );
        assert!(
            text(None, None).contains("\nexcept SystemExit as e:exec(\"a=(e.args"),
            "{timed}"
        );
        assert!(!text(None, None).contains("_T"));
        // a case pasted inline (no `compile` on the board) runs in the driver's
        // globals: no clock there for its `dir()` to list
        let inline = Load::Source {
            name: "c.py",
            source: b"print(dir())\n",
            has_compile: false,
            defines_file: false,
            main_module: false,
        };
        let script = Driver::new(
            inline,
            &[],
            b"@n@".to_vec(),
            false,
            None,
            Some(Clock::TicksUs.into()),
        );
        assert!(
            !String::from_utf8(script.script).unwrap().contains("_t"),
            "an inline case's driver is not timed"
        );
    }
}
