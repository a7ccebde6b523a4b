//! A small project in a temp dir and the `mpcheck` binary run on it, shared by the
//! end-to-end test files (each adds its own constructor with the boards it needs). The
//! toolchain is the repository's `.mpcheck`, so the pinned tools are provisioned once.

#![allow(dead_code)] // not every test file uses every helper

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A project with no board, case or golden yet.
    pub fn empty() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// `mpcheck --root <project> ARGS`, outside CI (so runs may stage golden changes),
    /// with no prebuilt mps2 image that would stand in for a build.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mpcheck"));
        c.arg("--root")
            .arg(self.root())
            .args(args)
            .env("MPCHECK_HOME", state_dir())
            .env_remove("MPCHECK_MPS2_AN385_FIRMWARE")
            .env_remove("CI");
        c
    }

    pub fn mpcheck(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn results(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("reports/results.json")).unwrap()
    }

    pub fn result(&self, name: &str) -> serde_json::Value {
        self.results()["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no result {name}"))
            .clone()
    }
}

/// The repository's state dir (pinned tools, firmware builds), shared by every test.
pub fn state_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".mpcheck")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
