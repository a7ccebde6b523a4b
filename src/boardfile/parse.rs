//! A board file's text → a [`Board`]: read into a raw serde type per kind, then checked.
//! Unknown keys and bad values name the file, line and key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::build_section::{FirmwareSource, check_build, firmware_source};
use super::config::{BoardConfig, SerialConfig};
use super::file::{
    Board, BoardSpec, BytecodeSpec, DEFAULT_TIMEOUT_SECS, DeviceSpec, HostKind, HostSpec,
    PerfParams, ProbeSpec,
};
use super::lines::line_of;
use super::paths::{expand_path, resolve_path};
use super::raw::{BytecodeFile, DeviceFile, HostFile, Kind, KindOnly};
use crate::boardfile::labgrid::LabgridSpec;
use crate::boardfile::labgrid::RawLabgrid;
use crate::model::case::Mode;
use crate::util::error::{Error, Result};

/// Every board file of a directory: those that load, and each one that does not with
/// its error (its board name is the file's stem).
pub struct BoardFiles {
    pub boards: Vec<Board>,
    pub broken: Vec<(String, Error)>,
}

/// Reads every `*.yaml` in `dir`, sorted by name; a file that does not load is kept
/// with its error, so one bad file costs only the runs that select it.
pub fn load_board_files(dir: &Path) -> Result<BoardFiles> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    let mut files = BoardFiles {
        boards: Vec::new(),
        broken: Vec::new(),
    };
    for p in &paths {
        match load_board(p) {
            Ok(b) => files.boards.push(b),
            Err(e) => {
                let stem = p.file_stem().unwrap_or_default().to_string_lossy();
                files.broken.push((stem.into_owned(), e));
            }
        }
    }
    Ok(files)
}

/// Reads every `*.yaml` in `dir`, sorted by name; any that does not load is an error,
/// and every such file is named at once.
pub fn load_boards(dir: &Path) -> Result<Vec<Board>> {
    let files = load_board_files(dir)?;
    match Error::all(files.broken.into_iter().map(|(_, e)| e).collect()) {
        Some(e) => Err(e),
        None => Ok(files.boards),
    }
}

pub fn load_board(path: &Path) -> Result<Board> {
    let text = crate::util::input::read_text(path, crate::util::input::cap::CONFIG, "board file")?;
    parse_board(path, &text)
}

pub fn parse_board(path: &Path, text: &str) -> Result<Board> {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| Error::config(path, 1, "board file name is not valid UTF-8"))?
        .to_string();
    crate::util::input::check_depth(path, 1, text)?;
    let yaml = |e: yaml_serde::Error| crate::util::input::yaml_error(path, 1, text, &e);
    let KindOnly { kind, family } = yaml_serde::from_str(text).map_err(yaml)?;
    let family = checked_family(path, text, family)?.unwrap_or_else(|| name.clone());
    let host_kind = match kind {
        Kind::Unix => HostKind::Unix,
        Kind::Webassembly => HostKind::Webassembly,
        Kind::Cpython => HostKind::Cpython,
        Kind::Bytecode => {
            let raw: BytecodeFile = yaml_serde::from_str(text).map_err(yaml)?;
            if raw.mpy_cross.is_some() && raw.mpy_cross_version.is_some() {
                return Err(Error::config(
                    path,
                    line_of(text, "mpy_cross_version"),
                    "give `mpy_cross` or `mpy_cross_version`, not both",
                ));
            }
            let dir = path.parent().unwrap_or(Path::new("."));
            let mpy_cross = raw
                .mpy_cross
                .map(|v| {
                    resolve_path(dir, &v).map_err(|m| {
                        Error::config(path, line_of(text, "mpy_cross"), format!("mpy_cross: {m}"))
                    })
                })
                .transpose()?;
            return Ok(Board {
                name,
                family,
                file: path.to_path_buf(),
                description: raw.description,
                timeout: Duration::from_secs_f64(checked_timeout(path, text, raw.timeout)?),
                modes: vec![Mode::Source],
                cases: Vec::new(),
                default: raw.default,
                perf: None,
                spec: BoardSpec::Bytecode(BytecodeSpec {
                    mpy_cross,
                    mpy_cross_version: raw.mpy_cross_version,
                    flags: raw.flags,
                }),
            });
        }
        Kind::Qemu | Kind::Serial => {
            let raw: DeviceFile = yaml_serde::from_str(text).map_err(yaml)?;
            return parse_device(path, text, (name, family), kind, raw);
        }
    };
    let raw: HostFile = yaml_serde::from_str(text).map_err(yaml)?;
    let line_of = |key: &str| line_of(text, key);
    let timeout = checked_timeout(path, text, raw.timeout)?;
    let can_load_mpy = host_kind != HostKind::Cpython;
    let modes = match raw.modes {
        Some(m) if m.is_empty() => {
            return Err(Error::config(
                path,
                line_of("modes"),
                "modes: must name at least one mode (source, mpy)",
            ));
        }
        Some(m) => m,
        // The unix port can freeze only when built from a full checkout: frozen is
        // opt-in (boards/unix.yaml lists it, skipped with the reason where it cannot).
        None if can_load_mpy => Mode::LOADED.to_vec(),
        None => vec![Mode::Source],
    };
    if host_kind != HostKind::Unix && modes.contains(&Mode::Frozen) {
        return Err(Error::config(
            path,
            line_of("modes"),
            "modes: only boards built from source (and the unix port) have frozen mode",
        ));
    }
    if !can_load_mpy && modes.contains(&Mode::Mpy) {
        return Err(Error::config(
            path,
            line_of("modes"),
            "modes: cpython cannot load .mpy files; use [source]",
        ));
    }
    if !can_load_mpy && raw.mpy_cross.is_some() {
        return Err(Error::config(
            path,
            line_of("mpy_cross"),
            "mpy_cross: cpython boards compile nothing with mpy-cross",
        ));
    }
    if let Some(v) = &raw.npm_version {
        let plain = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
        let why = if host_kind != HostKind::Webassembly {
            Some("npm_version: only webassembly boards come from npm")
        } else if raw.executable.is_some() {
            Some("give `executable` or `npm_version`, not both")
        } else if !plain {
            Some("npm_version: must be a plain release such as 1.27.0")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Error::config(path, line_of("npm_version"), why));
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let other_port = raw.build.as_ref().is_some_and(|b| b.port() != "unix");
    if raw.build.is_some() && (host_kind != HostKind::Unix || other_port) {
        return Err(Error::config(
            path,
            line_of("build"),
            "build: a host board is built from a tree only as the unix port (`kind: unix`, `port: unix`)",
        ));
    }
    let raw_build = raw
        .build
        .map(|b| check_build(path, text, dir, b))
        .transpose()?;
    // As a qemu board's firmware: a given `executable` wins over the build; a source
    // variable that is unset makes the board unavailable here, saying what to set.
    let (build, unavailable) = match raw_build {
        _ if raw.executable.is_some() => (None, None),
        None => (None, None),
        Some(b) => match firmware_source(None, Some(b)) {
            FirmwareSource::Build(b) => (Some(Box::new(b)), None),
            FirmwareSource::Unavailable(why) => (None, Some(why)),
            FirmwareSource::Prebuilt(_) | FirmwareSource::Missing => {
                unreachable!("a build section without a prebuilt image")
            }
        },
    };
    let resolve = |key: &str, value: Option<String>| -> Result<Option<PathBuf>> {
        value
            .map(|v| {
                resolve_path(dir, &v)
                    .map_err(|m| Error::config(path, line_of(key), format!("{key}: {m}")))
            })
            .transpose()
    };
    Ok(Board {
        name,
        family,
        file: path.to_path_buf(),
        description: raw.description,
        timeout: Duration::from_secs_f64(timeout),
        modes,
        cases: raw.cases,
        default: raw.default,
        perf: checked_perf(path, text, raw.perf)?,
        spec: BoardSpec::Host(HostSpec {
            kind: host_kind,
            executable: resolve("executable", raw.executable)?,
            mpy_cross: resolve("mpy_cross", raw.mpy_cross)?,
            args: raw.args,
            npm_version: raw.npm_version,
            build,
            unavailable,
        }),
    })
}

fn parse_device(
    path: &Path,
    text: &str,
    (name, family): (String, String),
    kind: Kind,
    raw: DeviceFile,
) -> Result<Board> {
    let timeout = checked_timeout(path, text, raw.timeout)?;
    let modes = match raw.modes {
        Some(m) if m.is_empty() => {
            return Err(Error::config(
                path,
                line_of(text, "modes"),
                "modes: must name at least one mode (source, mpy)",
            ));
        }
        Some(m) => m,
        None if raw.build.is_some() => Mode::ALL.to_vec(),
        None => Mode::LOADED.to_vec(),
    };
    if raw.build.is_none() && modes.contains(&Mode::Frozen) {
        return Err(Error::config(
            path,
            line_of(text, "modes"),
            "modes: frozen mode needs a `build:` section (the firmware is built with the cases frozen in)",
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut unavailable = None;
    let mut build = None;
    let mut qemu = raw.qemu;
    let has_probe = raw.probe.is_some();
    let (labgrid, serial) = labgrid_section(path, text, kind, raw.labgrid, raw.serial, has_probe)?;
    let raw_build = raw
        .build
        .map(|b| check_build(path, text, dir, b))
        .transpose()?;
    match (kind, &mut qemu, &serial) {
        (Kind::Qemu, Some(q), None) => {
            if let Some(icount) = q.icount {
                icount.check(&q.args).map_err(|m| {
                    let line = super::lines::nested_line(text, "qemu", "icount");
                    Error::config(path, line.unwrap_or_else(|| line_of(text, "qemu")), m)
                })?;
            }
            // Either path may name an environment variable the user has not set: then
            // the board is unavailable here, which is reported, not fatal.
            let firmware = (!q.firmware.is_empty()).then(|| expand_path(dir, &q.firmware));
            match firmware_source(firmware, raw_build) {
                FirmwareSource::Prebuilt(p) => q.firmware = p.to_string_lossy().into_owned(),
                FirmwareSource::Build(b) => {
                    // Filled in with the built image when a run opens the board.
                    q.firmware.clear();
                    build = Some(b);
                }
                FirmwareSource::Unavailable(why) => unavailable = Some(why),
                FirmwareSource::Missing => {
                    return Err(Error::config(
                        path,
                        line_of(text, "qemu"),
                        "a qemu board needs `qemu.firmware` or a `build:` section",
                    ));
                }
            }
        }
        (Kind::Serial, None, Some(_)) if raw_build.is_some() => {
            return Err(Error::config(
                path,
                line_of(text, "build"),
                "build: only qemu boards are built from source so far (flash a serial board's image with its `probe:` section)",
            ));
        }
        (Kind::Serial, None, Some(_)) => {}
        (Kind::Qemu, _, _) => {
            return Err(Error::config(
                path,
                1,
                "a qemu board needs a `qemu:` section and no `serial:` section",
            ));
        }
        _ => {
            return Err(Error::config(
                path,
                1,
                "a serial board needs a `serial:` section and no `qemu:` section",
            ));
        }
    }
    if raw.probe.is_some() && matches!(kind, Kind::Qemu) {
        return Err(Error::config(
            path,
            line_of(text, "probe"),
            "probe: only serial boards have a debug probe (a qemu board is flashed by restarting QEMU)",
        ));
    }
    let instances = raw.instances.unwrap_or(1);
    if instances == 0 || (instances > 1 && matches!(kind, Kind::Serial)) {
        return Err(Error::config(
            path,
            line_of(text, "instances"),
            "instances: must be at least 1, and only qemu boards can run several instances",
        ));
    }
    let defaults = BoardConfig::qemu("", "");
    let config = BoardConfig {
        qemu,
        serial,
        pacing: raw.pacing.unwrap_or(defaults.pacing),
        raw_paste: raw.raw_paste.unwrap_or(defaults.raw_paste),
        soft_reset_between_cases: raw
            .soft_reset_between_cases
            .unwrap_or(defaults.soft_reset_between_cases),
        interrupts: raw.interrupts.unwrap_or(defaults.interrupts),
        lossy_link: raw.lossy_link,
    };
    // A labgrid board's console is known once its place is acquired.
    let checked = match &labgrid {
        Some(_) => Ok(()),
        None => config.console().map(|_| ()),
    };
    checked.map_err(|e| {
        Error::config(
            path,
            1,
            e.to_string()
                .trim_start_matches("invalid board config: ")
                .to_string(),
        )
    })?;
    if config
        .serial
        .as_ref()
        .is_some_and(|s| !s.consoles.is_empty())
        && has_probe
    {
        return Err(Error::config(
            path,
            line_of(text, "probe"),
            "probe: a debug probe is one board's; a pool of consoles (`serial.consoles`) has several",
        ));
    }
    let mpy_cross = raw
        .mpy_cross
        .map(|v| {
            resolve_path(dir, &v).map_err(|m| {
                Error::config(path, line_of(text, "mpy_cross"), format!("mpy_cross: {m}"))
            })
        })
        .transpose()?;
    Ok(Board {
        name,
        family,
        file: path.to_path_buf(),
        description: raw.description,
        timeout: Duration::from_secs_f64(timeout),
        modes,
        cases: raw.cases,
        default: raw.default,
        perf: checked_perf(path, text, raw.perf)?,
        spec: BoardSpec::Device(Box::new(DeviceSpec {
            config,
            instances,
            mpy_cross,
            packages: raw.packages,
            unavailable,
            probe: raw.probe.map(|p| ProbeSpec::new(p, path)),
            build,
            labgrid,
        })),
    })
}

/// The `labgrid:` section checked (see [`crate::boardfile::labgrid::board_section`]), its
/// errors at their key's line.
fn labgrid_section(
    path: &Path,
    text: &str,
    kind: Kind,
    raw: Option<RawLabgrid>,
    serial: Option<SerialConfig>,
    has_probe: bool,
) -> Result<(Option<LabgridSpec>, Option<SerialConfig>)> {
    let serial_kind = matches!(kind, Kind::Serial);
    crate::boardfile::labgrid::board_section(raw, serial, serial_kind, has_probe)
        .map_err(|(key, m)| Error::config(path, line_of(text, key), m))
}

/// run-perfbench.py divides by neither, but an N or M of 0 fits no benchmark's params:
/// refused where it is written.
fn checked_perf(path: &Path, text: &str, perf: Option<PerfParams>) -> Result<Option<PerfParams>> {
    match perf {
        Some(p) if p.n == 0 || p.m == 0 => Err(Error::config(
            path,
            line_of(text, "perf"),
            format!(
                "perf: n and m are run-perfbench.py's N (CPU MHz) and M (heap kB), each at least 1 (got n {}, m {})",
                p.n, p.m
            ),
        )),
        p => Ok(p),
    }
}

fn checked_timeout(path: &Path, text: &str, timeout: Option<f64>) -> Result<f64> {
    let timeout = timeout.unwrap_or(DEFAULT_TIMEOUT_SECS);
    crate::model::case::check_timeout(timeout)
        .map_err(|m| Error::config(path, line_of(text, "timeout"), m))?;
    Ok(timeout)
}

/// A `family:` names goldens (`<case>.<family>.out`) and keys heap figures: a word of
/// letters, digits, `-`, `_` and `.`, not starting with `.`.
fn checked_family(path: &Path, text: &str, family: Option<String>) -> Result<Option<String>> {
    let Some(f) = family else { return Ok(None) };
    let ok = !f.is_empty()
        && !f.starts_with('.')
        && f.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(Error::config(
            path,
            line_of(text, "family"),
            format!(
                "family: `{f}` is not a board family name (letters, digits, `-`, `_`, `.`): it names golden files"
            ),
        ));
    }
    Ok(Some(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boardfile::config::Pacing;

    #[test]
    fn a_family_defaults_to_the_name_and_must_be_a_word() {
        assert_eq!(
            parse(
                "u",
                "kind: unix
"
            )
            .unwrap()
            .family,
            "u"
        );
        let b = parse(
            "pico-place",
            "kind: serial
family: pico
serial: {console: /dev/ttyACM0}
",
        );
        assert_eq!(b.unwrap().family, "pico");
        let b = parse(
            "b",
            "kind: bytecode
family: bc
",
        )
        .unwrap();
        assert_eq!(b.family, "bc");
        let err = parse(
            "w",
            "kind: webassembly
\nfamily: ../x
",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("boards/w.yaml:3: family:"), "{err}");
    }

    fn parse(name: &str, text: &str) -> Result<Board> {
        parse_board(Path::new(&format!("boards/{name}.yaml")), text)
    }

    #[test]
    fn npm_version_is_for_webassembly_only_and_plain() {
        let b = parse("w", "kind: webassembly\nnpm_version: 1.27.0\n").unwrap();
        let BoardSpec::Host(h) = &b.spec else {
            panic!("not a host board")
        };
        assert_eq!(h.npm_version.as_deref(), Some("1.27.0"));
        let e = parse("u", "kind: unix\ntimeout: 5\nnpm_version: 1.27.0\n").unwrap_err();
        assert!(e.to_string().contains("boards/u.yaml:3"), "{e}");
        assert!(e.to_string().contains("only webassembly"), "{e}");
        let e = parse("w", "kind: webassembly\nnpm_version: 1.27.0 && rm -rf\n").unwrap_err();
        assert!(e.to_string().contains("plain release"), "{e}");
    }

    #[test]
    fn host_board_defaults() {
        let b = parse("unix", "kind: unix\n").unwrap();
        assert_eq!(b.name, "unix");
        assert_eq!(b.kind(), "unix");
        // Frozen is opt-in for unix (it needs a full checkout to freeze).
        assert_eq!(b.modes, vec![Mode::Source, Mode::Mpy]);
        assert_eq!(b.timeout, Duration::from_secs(10));
        let w = parse(
            "webassembly",
            "kind: webassembly
",
        )
        .unwrap();
        assert_eq!(w.modes, vec![Mode::Source, Mode::Mpy]);
        let e = parse(
            "w",
            "kind: webassembly
modes: [frozen]
",
        )
        .unwrap_err();
        assert!(e.to_string().contains("frozen mode"), "{e}");
        let c = parse("cpython", "kind: cpython\n").unwrap();
        assert_eq!(c.modes, vec![Mode::Source]);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("unix", "kind: unix\ntimeout: 3\nexecutabel: x\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("boards/unix.yaml:3: unknown field `executabel`"),
            "{err}"
        );
    }

    #[test]
    fn bad_kind_and_bad_value() {
        let err = parse("x", "kind: teapot\n").unwrap_err().to_string();
        assert!(
            err.starts_with("boards/x.yaml:1: kind: unknown variant `teapot`"),
            "{err}"
        );
        let err = parse("x", "kind: unix\n\ntimeout: [1]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("boards/x.yaml:3: timeout: a number of seconds, got a list"),
            "{err}"
        );
        let err = parse("x", "description: d\n").unwrap_err().to_string();
        assert!(err.contains("missing field `kind`"), "{err}");
    }

    #[test]
    fn qemu_board_with_unset_firmware_variable_is_unavailable() {
        let b = parse(
            "mps2",
            "kind: qemu\ninstances: 2\nqemu:\n  machine: mps2-an385\n  firmware: ${MPCHECK_SURELY_UNSET_FW}/fw.elf\npacing: {chunk_bytes: 32, pause_ms: 10}\n",
        )
        .unwrap();
        assert_eq!(b.kind(), "qemu");
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert_eq!(d.instances, 2);
        assert_eq!(
            d.config.pacing,
            Pacing {
                chunk_bytes: 32,
                pause_ms: 10
            }
        );
        assert!(
            d.unavailable
                .as_deref()
                .unwrap()
                .contains("`MPCHECK_SURELY_UNSET_FW` is not set")
        );
    }

    #[test]
    fn qemu_icount_is_read_and_checked() {
        let qemu = |icount: &str| {
            format!(
                "kind: qemu\nqemu:\n  machine: mps2-an385\n  firmware: /fw.elf\n  args: [-semihosting]\n{icount}\n"
            )
        };
        let b = parse("m", &qemu("  icount: {shift: 3}")).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        let icount = d.config.qemu.as_ref().unwrap().icount.unwrap();
        assert_eq!(icount.qemu_args(), ["-icount", "shift=3,sleep=off"]);
        let err = parse("m", &qemu("  icount: {shift: 11}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("boards/m.yaml:6: qemu.icount.shift: 11 is out of range (0 to 10"),
            "{err}"
        );
        let err = parse("m", &qemu("  icount: {shift: 0, sleep: on}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `sleep`"), "{err}");
        let b = parse("m", &qemu("  icount: {shift: 0, timer: systick}")).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        let timer = d.config.qemu.as_ref().unwrap().icount.unwrap().timer;
        assert_eq!(timer, Some(crate::boardfile::icount::Timer::Systick));
        let err = parse("m", &qemu("  icount: {shift: 0, timer: rtc}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `rtc`"), "{err}");
        let err = parse(
            "m",
            "kind: qemu\nqemu: {machine: m, firmware: /f.elf, args: [-icount, shift=0], icount: {shift: 0}}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("boards/m.yaml:2: qemu.icount: `-icount` is also in qemu.args"),
            "{err}"
        );
        let b = parse("m", &qemu("")).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert_eq!(d.config.qemu.as_ref().unwrap().icount, None);
    }

    #[test]
    fn device_board_errors_name_line_and_key() {
        let err = parse(
            "m",
            "kind: qemu\nqemu:\n  machine: microbit\n  firmwre: x\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("boards/m.yaml:4: qemu.firmwre: unknown field")
                || err.starts_with("boards/m.yaml:4: qemu: unknown field `firmwre`"),
            "{err}"
        );
        let err = parse(
            "m",
            "kind: serial\nqemu:\n  machine: microbit\n  firmware: x\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("a serial board needs a `serial:` section"),
            "{err}"
        );
        let err = parse(
            "s",
            "kind: serial\ninstances: 2\nserial: {console: /dev/ttyACM0}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("boards/s.yaml:2: instances:"), "{err}");
    }

    const BUILD_BOARD: &str = "kind: qemu\nqemu:\n  machine: mps2-an385\n  firmware: ${MPCHECK_TEST_FW_UNSET}\nbuild: {source: \"${MPCHECK_TEST_SRC}\", port: qemu, board: MPS2_AN385, args: [CFLAGS_EXTRA=-DX=1]}\n";

    #[test]
    fn a_unix_board_built_from_a_tree_is_checked_like_a_qemu_one() {
        let unix = |rest: &str| {
            parse(
                "u",
                &format!(
                    "kind: unix\nbuild: {{source: \"${{MPCHECK_TEST_UNIX_SRC}}\", port: unix, variant: standard{rest}}}\n"
                ),
            )
        };
        // SAFETY: no other test reads this variable.
        unsafe { std::env::remove_var("MPCHECK_TEST_UNIX_SRC") };
        let b = unix("").unwrap();
        assert_eq!(
            b.unavailable(),
            Some("set MPCHECK_TEST_UNIX_SRC to a MicroPython checkout")
        );
        assert!(b.build().is_none());
        unsafe { std::env::set_var("MPCHECK_TEST_UNIX_SRC", "/src") };
        let b = unix("").unwrap();
        let build = b.build().expect("a build section");
        assert_eq!(
            (build.select, build.board.as_str(), build.image.as_str()),
            (
                crate::tools::firmware_build::Select::Variant,
                "standard",
                "micropython"
            )
        );
        assert_eq!(build.compiler, "gcc");
        assert_eq!(b.unavailable(), None);
        // mpcheck sets VARIANT itself; a given executable wins over the build.
        let err = unix(", args: [VARIANT=minimal]").unwrap_err().to_string();
        assert!(err.contains("`VARIANT` is set by mpcheck"), "{err}");
        let b = parse(
            "u",
            "kind: unix\nexecutable: /bin/mp\nbuild: {source: /src, port: unix, variant: standard}\n",
        )
        .unwrap();
        assert!(b.build().is_none() && b.unavailable().is_none());
        // Only the unix port, and only on a unix board.
        for text in [
            "kind: unix\nbuild: {source: /s, port: qemu, board: MPS2_AN385}\n",
            "kind: webassembly\nbuild: {source: /s, port: unix, variant: standard}\n",
        ] {
            let err = parse("u", text).unwrap_err().to_string();
            assert!(
                err.starts_with("boards/u.yaml:2: build: a host board is built from a tree only as the unix port"),
                "{err}"
            );
        }
    }

    #[test]
    fn build_section_prebuilt_wins_and_unset_variables_say_what_to_set() {
        // SAFETY: no other test reads these variables.
        unsafe { std::env::remove_var("MPCHECK_TEST_SRC") };
        let b = parse("mps2", BUILD_BOARD).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert_eq!(
            d.unavailable.as_deref(),
            Some(
                "set MPCHECK_TEST_SRC to a MicroPython checkout, or MPCHECK_TEST_FW_UNSET to a prebuilt image"
            )
        );
        assert!(d.build.is_none());

        unsafe { std::env::set_var("MPCHECK_TEST_SRC", "/src/mp") };
        let b = parse("mps2", BUILD_BOARD).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert_eq!(d.unavailable, None);
        let build = d.build.as_ref().unwrap();
        assert_eq!(build.source, PathBuf::from("/src/mp"));
        assert_eq!(
            (build.port.as_str(), build.board.as_str()),
            ("qemu", "MPS2_AN385")
        );
        assert_eq!(build.args, ["CFLAGS_EXTRA=-DX=1"]);
        assert_eq!(build.image, "firmware.elf");
        assert!(build.packages.iter().any(|p| p == "gcc-arm-none-eabi"));
        assert_eq!(
            d.config.qemu.as_ref().unwrap().firmware,
            "",
            "filled in by the build"
        );

        // A prebuilt image wins over the build.
        let prebuilt = BUILD_BOARD.replace("${MPCHECK_TEST_FW_UNSET}", "/fw/firmware.elf");
        let b = parse("mps2", &prebuilt).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert!(d.build.is_none());
        assert_eq!(d.config.qemu.as_ref().unwrap().firmware, "/fw/firmware.elf");

        // A relative path from a variable is the caller's, made absolute.
        unsafe { std::env::set_var("MPCHECK_TEST_SRC", "rel/mp") };
        let b = parse("mps2", BUILD_BOARD).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert_eq!(
            d.build.as_ref().unwrap().source,
            std::env::current_dir().unwrap().join("rel/mp")
        );
        unsafe { std::env::set_var("MPCHECK_TEST_SRC", "/src/mp") };

        // No firmware line at all: the build alone.
        let only_build = BUILD_BOARD.replace("  firmware: ${MPCHECK_TEST_FW_UNSET}\n", "");
        let b = parse("mps2", &only_build).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert!(d.build.is_some());
        unsafe { std::env::remove_var("MPCHECK_TEST_SRC") };
        let b = parse("mps2", &only_build).unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        assert_eq!(
            d.unavailable.as_deref(),
            Some("set MPCHECK_TEST_SRC to a MicroPython checkout")
        );
    }

    #[test]
    fn bad_build_sections_name_line_and_key() {
        let with = |build: &str| {
            parse(
                "m",
                &format!("kind: qemu\nqemu:\n  machine: mps2-an385\nbuild: {build}\n"),
            )
            .unwrap_err()
            .to_string()
        };
        for neither_or_both in [
            "{source: /s, port: qemu}",
            "{source: /s, port: unix, board: B, variant: standard}",
        ] {
            let err = with(neither_or_both);
            assert!(
                err.starts_with("boards/m.yaml:4: build: give `board` (BOARD= of the port's Makefile) or `variant`"),
                "{err}"
            );
        }
        let err = with("{source: /s, port: qemu, board: B, jobs: 3}");
        assert!(
            err.contains("boards/m.yaml:4: build: unknown field `jobs`"),
            "{err}"
        );
        let err = with("{source: /s, port: qemu, board: B, args: [-j8]}");
        assert_eq!(
            err,
            "boards/m.yaml:4: build.args: `-j8` is not a make variable (`NAME=value`)"
        );
        let err = with("{source: /s, port: qemu, board: B, args: [BUILD=/tmp/x]}");
        assert!(
            err.starts_with("boards/m.yaml:4: build.args: `BUILD` is set by mpcheck"),
            "{err}"
        );
        // Make expansion and recipe-shell syntax in a value: refused, naming the char.
        for (arg, c) in [
            ("'CFLAGS_EXTRA=$(shell touch /tmp/x)'", "$"),
            ("'CFLAGS_EXTRA=-O2; touch /tmp/x'", ";"),
            ("'CFLAGS_EXTRA=`id`'", "`"),
            ("'CFLAGS_EXTRA=-DX=\"y\"'", "\\\""),
            ("'PROG=a>b'", ">"),
        ] {
            let err = with(&format!(
                "{{source: /s, port: qemu, board: B, args: [{arg}]}}"
            ));
            assert!(
                err.contains(&format!(
                    "`{c}` in a value would be read by make or the shell"
                )),
                "{arg}: {err}"
            );
        }
        let err = with("{source: /s, port: ../qemu, board: B}");
        assert!(err.contains("must be plain names"), "{err}");
        let err = with("{source: /s, port: qemu, board: B, image: ../x.elf}");
        assert!(err.contains("build.image: `../x.elf`"), "{err}");
        let err = parse("m", "kind: qemu\nqemu:\n  machine: mps2-an385\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "boards/m.yaml:2: a qemu board needs `qemu.firmware` or a `build:` section"
        );
        let err = parse(
            "s",
            "kind: serial\nserial: {console: /dev/ttyACM0}\nbuild: {source: /s, port: nrf, board: B}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("boards/s.yaml:3: build: only qemu boards"),
            "{err}"
        );
    }

    #[test]
    fn labgrid_boards_take_their_console_from_the_place() {
        let b = parse(
            "lg",
            "kind: serial\nlabgrid: {place: rack-1, coordinator: farm:20408, acquire_timeout: 5}\n",
        )
        .unwrap();
        let BoardSpec::Device(d) = &b.spec else {
            panic!()
        };
        let lg = d.labgrid.as_ref().unwrap();
        assert_eq!(
            (lg.place.as_str(), lg.acquire_timeout.as_secs()),
            ("rack-1", 5)
        );
        assert_eq!(d.config.serial.as_ref().unwrap().console, None);
        let err = parse(
            "lg",
            "kind: serial\nserial: {console: /dev/ttyACM0}\nlabgrid: {place: p}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "boards/lg.yaml:2: serial: a labgrid board's console comes from its place"
            ),
            "{err}"
        );
        let err = parse(
            "lg",
            "kind: qemu\nqemu: {machine: m, firmware: f}\nlabgrid: {place: p}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("boards/lg.yaml:3: labgrid: only serial boards"),
            "{err}"
        );
        let err = parse("lg", "kind: serial\nlabgrid: {place: p, coordinatr: x}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("boards/lg.yaml:2") && err.contains("unknown field `coordinatr`"),
            "{err}"
        );
        let err = parse(
            "lg",
            "kind: serial\nlabgrid: {place: p}\nprobe: {chip: nRF52840_xxAA}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("boards/lg.yaml:3: probe: a board in a labgrid place"),
            "{err}"
        );
        // Without a labgrid section a serial board still needs its console.
        assert!(parse("s", "kind: serial\n").is_err());
    }

    #[test]
    fn a_board_made_for_some_cases_runs_only_their_groups() {
        let b = parse("u", "kind: unix\ncases: [heap/, memory]\n").unwrap();
        assert!(b.runs_case("heap/empty") && b.runs_case("memory/gc_collect"));
        assert!(!b.runs_case("heapx/empty") && !b.runs_case("basics/slice"));
        let all = parse("u", "kind: unix\n").unwrap();
        assert!(all.runs_case("basics/slice"));
    }

    #[test]
    fn perf_gives_the_boards_perf_bench_n_and_m_and_refuses_a_zero_or_a_stray_key() {
        let b = parse("q", "kind: unix\nperf: {n: 50, m: 40}\n").unwrap();
        assert_eq!(b.perf, Some(PerfParams { n: 50, m: 40 }));
        assert_eq!(parse("q", "kind: unix\n").unwrap().perf, None);
        let err = parse("q", "kind: unix\ntimeout: 5\nperf: {n: 0, m: 40}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("boards/q.yaml:3: perf: n and m are run-perfbench.py's N"),
            "{err}"
        );
        let err = parse("q", "kind: unix\nperf: {n: 50, heap: 40}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("boards/q.yaml:2") && err.contains("unknown field `heap`"),
            "{err}"
        );
    }

    #[test]
    fn cpython_cannot_take_mpy() {
        let err = parse("c", "kind: cpython\nmodes: [source, mpy]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("boards/c.yaml:2: modes: cpython cannot load"),
            "{err}"
        );
    }

    #[test]
    fn paths_resolve_against_board_dir_with_env() {
        // SAFETY: tests in this module do not read this variable concurrently.
        unsafe { std::env::set_var("MPCHECK_TEST_FW_DIR", "/opt/fw") };
        assert_eq!(
            resolve_path(Path::new("/b"), "${MPCHECK_TEST_FW_DIR}/mp").unwrap(),
            PathBuf::from("/opt/fw/mp")
        );
        assert_eq!(
            resolve_path(Path::new("/b"), "../bin/mp").unwrap(),
            PathBuf::from("/b/../bin/mp")
        );
        assert_eq!(
            resolve_path(Path::new("/b"), "python3").unwrap(),
            PathBuf::from("python3")
        );
        let err = resolve_path(Path::new("/b"), "${MPCHECK_SURELY_UNSET}/x").unwrap_err();
        assert!(err.contains("`MPCHECK_SURELY_UNSET` is not set"), "{err}");
    }
}
