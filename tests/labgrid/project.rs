//! A throw-away mpcheck project for the farm: a few of the repository's cases, a hang
//! that needs a hard reset, and two board files for the same QEMU micro:bit: `direct`
//! (QEMU's stdio) and `lg` (the farm's place).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use super::farm::Farm;

/// Plain cases every board passes (copied from the repository's `cases/`).
const BASICS: &[&str] = &["int_small", "list_ops", "dict_ops", "closures", "tuple_set"];

/// Cases whose verdicts on the micro:bit depend on what the board is (#24): its own
/// family's goldens (`.microbit.out`), a traceback any MicroPython board prints, a feature
/// 1.9.2 lacks. The place's board file says only its family and place, and gets the
/// direct board's verdicts.
const BY_FAMILY: &[&str] = &[
    "memory/const_fold",
    "memory/const_global",
    "exceptions/uncaught",
    "generators/async_basic",
];

/// Ctrl-C disabled, then a busy loop: only a hard reset gets the board back.
const HANG: &str = "# ---\n# timeout: 2\n# ---\nimport micropython\nmicropython.kbd_intr(-1)\nwhile True:\n    pass\n";

pub struct Project {
    pub root: tempfile::TempDir,
    /// The cases of [`BY_FAMILY`] are in it.
    by_family: bool,
    /// The hang is in it.
    hang: bool,
}

/// A finished run: its output and its results.json.
pub struct Run {
    pub output: Output,
    pub report: PathBuf,
}

pub struct Running {
    pub child: Child,
    report: PathBuf,
}

impl Project {
    pub fn new(farm: &Farm) -> Project {
        Self::make(&lg_board(farm, &farm.coordinator), true)
    }

    /// The plain cases only, on `lg` (its coordinator at `coordinator`) and `unix`; all
    /// but the first `on_lg` of them are for `unix` only (their `lg` trials are ignored).
    pub fn new_basics_with_unix(farm: &Farm, coordinator: &str, on_lg: usize) -> Project {
        let p = Self::make(&lg_board(farm, coordinator), false);
        for case in &BASICS[on_lg..] {
            let path = p.root.path().join(format!("cases/basics/{case}.py"));
            let source = std::fs::read_to_string(&path).unwrap();
            std::fs::write(
                &path,
                format!("# ---\n# boards: [unix, cpython]\n# ---\n{source}"),
            )
            .unwrap();
        }
        std::fs::write(
            p.root.path().join("boards/unix.yaml"),
            "kind: unix\nmodes: [source]\n",
        )
        .unwrap();
        for other in ["direct", "lg-impatient"] {
            std::fs::remove_file(p.root.path().join(format!("boards/{other}.yaml"))).unwrap();
        }
        p
    }

    fn make(lg: &str, hang: bool) -> Project {
        let root = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let r = root.path();
        for dir in ["cases/basics", "cases/power", "golden/basics", "boards"] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
        }
        for case in BASICS {
            let file = format!("cases/basics/{case}.py");
            std::fs::copy(repo.join(&file), r.join(&file)).unwrap();
        }
        if hang {
            std::fs::write(r.join("cases/power/hang.py"), HANG).unwrap();
        }
        std::fs::write(
            r.join("boards/direct.yaml"),
            format!(
                "kind: qemu\ntimeout: 10\nmodes: [source]\nqemu:\n  machine: microbit\n  firmware: {}\n{MICROBIT_LINK}",
                super::farm::microbit_firmware()
            ),
        )
        .unwrap();
        std::fs::write(r.join("boards/lg.yaml"), lg).unwrap();
        let impatient = lg.replace("acquire_timeout: 120", "acquire_timeout: 2");
        std::fs::write(r.join("boards/lg-impatient.yaml"), impatient).unwrap();
        Project {
            root,
            by_family: false,
            hang,
        }
    }

    /// The plain and [`BY_FAMILY`] cases (no hang) on `lg` (the farm's first place) and on
    /// `pool`, every place of the farm as one pool of the direct board's family;
    /// `pool-impatient` waits 2 s for a held place.
    pub fn new_pool(farm: &Farm) -> Project {
        let lg = lg_board(farm, &farm.coordinator);
        let p = Self::make(&lg, false).with_family_cases();
        // Every plain case of the repository: enough trials to keep two boards busy.
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(repo.join("cases/basics")).unwrap() {
            let from = entry.unwrap().path();
            let to = p
                .root
                .path()
                .join("cases/basics")
                .join(from.file_name().unwrap());
            std::fs::copy(&from, to).unwrap();
        }
        let pool = lg.replace(
            &format!("place: {},", farm.place),
            &format!("places: [{}],", farm.places.join(", ")),
        ) + "family: direct\n";
        let r = p.root.path().join("boards");
        std::fs::write(r.join("pool.yaml"), &pool).unwrap();
        let impatient = pool.replace("acquire_timeout: 120", "acquire_timeout: 2");
        std::fs::write(r.join("pool-impatient.yaml"), impatient).unwrap();
        p
    }

    /// With the [`BY_FAMILY`] cases, their goldens the micro:bit's under the direct
    /// board's name, and `lg` of the direct board's family.
    pub fn with_family_cases(mut self) -> Project {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let r = self.root.path();
        for case in BY_FAMILY {
            let file = format!("cases/{case}.py");
            std::fs::create_dir_all(r.join(&file).parent().unwrap()).unwrap();
            std::fs::copy(repo.join(&file), r.join(&file)).unwrap();
            for (from, to) in [(".out", ".out"), (".microbit.out", ".direct.out")] {
                let golden = repo.join(format!("golden/{case}{from}"));
                if golden.is_file() {
                    let dest = r.join(format!("golden/{case}{to}"));
                    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                    std::fs::copy(golden, dest).unwrap();
                }
            }
        }
        // const_fold's header names the coverage build (a board the project must have).
        std::fs::copy(
            repo.join("boards/unix-coverage-src.yaml"),
            r.join("boards/unix-coverage-src.yaml"),
        )
        .unwrap();
        let lg = r.join("boards/lg.yaml");
        let text = std::fs::read_to_string(&lg).unwrap();
        std::fs::write(&lg, format!("{text}family: direct\n")).unwrap();
        self.by_family = true;
        self
    }

    pub fn cases(&self) -> usize {
        self.basics() + usize::from(self.hang) + if self.by_family { BY_FAMILY.len() } else { 0 }
    }

    /// The plain cases in the project (all of the repository's in a pool's project).
    pub fn basics(&self) -> usize {
        std::fs::read_dir(self.root.path().join("cases/basics"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("py".as_ref()))
            .count()
    }

    pub fn spawn(&self, board: &str, filter: Option<&str>, name: &str) -> Running {
        let report = self.root.path().join("reports").join(name);
        let mut cmd = super::mpcheck();
        cmd.arg("--root")
            .arg(self.root.path())
            .args(["run", "--board", board, "--no-history", "--report-dir"])
            .arg(&report)
            .args(filter)
            // The tools already provisioned for the repository.
            .env("MPCHECK_HOME", super::farm::state_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Running {
            child: cmd.spawn().unwrap(),
            report: report.join("results.json"),
        }
    }

    pub fn run(&self, board: &str, filter: Option<&str>, name: &str) -> Run {
        self.spawn(board, filter, name).finish()
    }
}

impl Running {
    pub fn finish(self) -> Run {
        Run {
            output: self.child.wait_with_output().unwrap(),
            report: self.report,
        }
    }
}

impl Run {
    /// Case → verdict, from results.json.
    pub fn verdicts(&self) -> BTreeMap<String, String> {
        self.field("verdict")
    }

    /// Case → duration in ms, from results.json (printed for the record).
    pub fn durations(&self) -> BTreeMap<String, String> {
        self.field("duration_ms")
    }

    /// Case → the pool member that ran it (`null`: none did), from results.json.
    pub fn members(&self) -> BTreeMap<String, String> {
        self.field("member")
    }

    /// results.json, parsed (`Null` when missing or not JSON).
    pub fn json(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.report).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_default()
    }

    fn field(&self, key: &str) -> BTreeMap<String, String> {
        let json = self.json();
        json["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["case"].as_str().unwrap_or("?").to_string(),
                    match &r[key] {
                        serde_json::Value::String(s) => s.clone(),
                        v => v.to_string(),
                    },
                )
            })
            .collect()
    }
}

/// The micro:bit UART's pacing and lossiness, as in boards/microbit-qemu.yaml.
const MICROBIT_LINK: &str = "pacing: {chunk_bytes: 32, pause_ms: 10}\nlossy_link: true\n";

fn lg_board(farm: &Farm, coordinator: &str) -> String {
    format!(
        "kind: serial\ntimeout: 10\nmodes: [source]\nlabgrid: {{place: {}, coordinator: \"{}\", acquire_timeout: 120}}\n{MICROBIT_LINK}",
        farm.place, coordinator
    )
}
