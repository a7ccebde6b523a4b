//! The controller of one multi-instance test, sans I/O: fed each instance's lines, it
//! says what run-multitests.py would do next (start the next instance, relay a
//! `BROADCAST`, stop) and assembles the output it compares (`--- instanceN ---` blocks).
//!
//! As upstream: instances start one after another, each read until it prints `NEXT`
//! (its `SET` lines become globals injected into the later ones) or ends; then all are
//! read together, `BROADCAST` lines relayed to the others and `OUTPUT_METRIC` kept
//! aside. A `SKIP` skips the test; an instance silent too long gets `TIMEOUT` and ends it.

use super::protocol::Protocol;

/// What the driver must do for the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Start instance `instance` with this code appended to the test.
    Start { instance: usize, append: String },
    /// Write this line (with `\r\n`) to an instance's input.
    Write { instance: usize, line: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Instance N started and is read alone until `NEXT`.
    Starting(usize),
    /// Every instance started; all are read.
    Running,
}

/// One multi-instance test's state.
pub(crate) struct Controller<'p> {
    protocol: &'p Protocol,
    phase: Phase,
    globals: String,
    output: Vec<Vec<String>>,
    finished: Vec<bool>,
    pub skip: bool,
    pub error: bool,
    pub metrics: Vec<String>,
    /// The most output kept (bytes); past it the test stops, its output marked cut.
    cap: usize,
    kept: usize,
    pub truncated: bool,
}

impl<'p> Controller<'p> {
    /// `globals`: what is injected before any instance sets any (`HOST_IP = '…'`).
    pub(crate) fn new(
        protocol: &'p Protocol,
        instances: usize,
        globals: String,
        cap: usize,
    ) -> Self {
        Controller {
            protocol,
            phase: Phase::Starting(0),
            globals,
            output: vec![Vec::new(); instances],
            finished: vec![false; instances],
            skip: false,
            error: false,
            metrics: Vec::new(),
            cap,
            kept: 0,
            truncated: false,
        }
    }

    /// The first action: start instance 0.
    pub(crate) fn begin(&self) -> Action {
        self.start(0)
    }

    fn start(&self, instance: usize) -> Action {
        Action::Start {
            instance,
            append: self
                .protocol
                .append_code(&self.globals, &instance.to_string()),
        }
    }

    /// The instance read alone now (`None`: all are read).
    pub(crate) fn reading(&self) -> Option<usize> {
        match self.phase {
            Phase::Starting(i) => Some(i),
            Phase::Running => None,
        }
    }

    /// Whether an instance is still read.
    pub(crate) fn running(&self, instance: usize) -> bool {
        !self.finished[instance]
    }

    /// Nothing more to read: every instance ended, or a skip or an error stopped it.
    pub(crate) fn done(&self) -> bool {
        self.skip || self.error || self.truncated || self.finished.iter().all(|f| *f)
    }

    /// Keeps a line of an instance's output, up to the cap.
    fn keep(&mut self, instance: usize, line: &str) {
        self.kept += line.len() + 1;
        if self.kept > self.cap {
            self.truncated = true;
        } else {
            self.output[instance].push(line.to_string());
        }
    }

    /// An instance printed `line` (right-stripped).
    pub(crate) fn line(&mut self, instance: usize, line: &str) -> Vec<Action> {
        if self.protocol.ignored(line) {
            return Vec::new();
        }
        match self.phase {
            Phase::Starting(_) => {
                if let Some(set) = line.strip_prefix("SET ") {
                    self.globals.push_str(set);
                    self.globals.push('\n');
                } else if line == "SKIP" {
                    self.skip = true;
                } else if line == "NEXT" {
                    return self.advance().into_iter().collect();
                } else {
                    self.keep(instance, line);
                }
                Vec::new()
            }
            Phase::Running => {
                if line.starts_with("BROADCAST ") {
                    return (0..self.output.len())
                        .filter(|&i| i != instance)
                        .map(|i| Action::Write {
                            instance: i,
                            line: line.to_string(),
                        })
                        .collect();
                }
                // `WAIT_FOR_REBOOT`: upstream waits for a reboot banner (a board's), then
                // keeps the line as output, as here.
                match line.strip_prefix("OUTPUT_METRIC ") {
                    Some(metric) => self.metrics.push(metric.to_string()),
                    None => self.keep(instance, line),
                }
                Vec::new()
            }
        }
    }

    /// An instance ended (its output closed).
    pub(crate) fn ended(&mut self, instance: usize) -> Vec<Action> {
        self.finished[instance] = true;
        match self.phase {
            Phase::Starting(i) if i == instance => self.advance().into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// An instance printed nothing for the protocol's read timeout.
    pub(crate) fn silent(&mut self, instance: usize) {
        self.output[instance].push("TIMEOUT".into());
        self.error = true;
    }

    /// An instance could not be run or read (its message is its output, as upstream's
    /// `err`).
    pub(crate) fn failed(&mut self, instance: usize, message: &str) {
        self.output[instance].push(message.to_string());
        self.error = true;
    }

    fn advance(&mut self) -> Option<Action> {
        let Phase::Starting(i) = self.phase else {
            return None;
        };
        if self.skip || self.error {
            return None;
        }
        if i + 1 < self.output.len() {
            self.phase = Phase::Starting(i + 1);
            Some(self.start(i + 1))
        } else {
            self.phase = Phase::Running;
            None
        }
    }

    /// The output upstream compares: a `--- instanceN ---` block per instance.
    pub(crate) fn assemble(&self) -> String {
        let mut s = String::new();
        for (i, lines) in self.output.iter().enumerate() {
            s.push_str(&format!("--- instance{i} ---\n"));
            s.push_str(&lines.join("\n"));
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol() -> Protocol {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("run-multitests.py"),
            "INSTANCE_READ_TIMEOUT_S = 10\nAPPEND_CODE_TEMPLATE = \"\"\"\n{}\ninstance{}()\n\"\"\"\n\
             IGNORE_OUTPUT_MATCHES = (\n    \"noise \",\n)\n\
             m = re.match(r\"def instance([0-9]+)\\(\\):\", line)\n",
        )
        .unwrap();
        Protocol::read(dir.path()).unwrap()
    }

    #[test]
    fn a_transcript_runs_as_upstream_runs_it() {
        let p = protocol();
        let mut c = Controller::new(&p, 2, "HOST_IP = '127.0.0.1'\n".into(), 1 << 20);
        assert_eq!(
            c.begin(),
            Action::Start {
                instance: 0,
                append: "\nHOST_IP = '127.0.0.1'\n\ninstance0()\n".into()
            }
        );
        assert_eq!(c.reading(), Some(0));
        assert!(c.line(0, "SET PORT = 8000").is_empty());
        assert!(c.line(0, "noise here").is_empty());
        assert!(c.line(0, "listening").is_empty());
        let next = c.line(0, "NEXT");
        assert_eq!(
            next,
            vec![Action::Start {
                instance: 1,
                append: "\nHOST_IP = '127.0.0.1'\nPORT = 8000\n\ninstance1()\n".into()
            }]
        );
        assert!(c.line(1, "NEXT").is_empty());
        assert_eq!(c.reading(), None);
        assert_eq!(
            c.line(1, "BROADCAST ready"),
            vec![Action::Write {
                instance: 0,
                line: "BROADCAST ready".into()
            }]
        );
        assert!(c.line(0, "OUTPUT_METRIC 12 kB/s").is_empty());
        c.line(0, "got it");
        c.ended(0);
        assert!(!c.done());
        c.line(1, "done");
        c.ended(1);
        assert!(c.done() && !c.error && !c.skip);
        assert_eq!(c.metrics, ["12 kB/s"]);
        assert_eq!(
            c.assemble(),
            "--- instance0 ---\nlistening\ngot it\n--- instance1 ---\ndone\n"
        );
    }

    #[test]
    fn skip_timeout_and_early_end() {
        let p = protocol();
        let mut c = Controller::new(&p, 2, String::new(), 1 << 20);
        c.line(0, "SKIP");
        assert!(c.done() && c.skip);
        assert!(c.ended(0).is_empty(), "a skip starts no other instance");

        // An instance that ends without NEXT lets the next one start.
        let mut c = Controller::new(&p, 2, String::new(), 1 << 20);
        assert!(matches!(
            c.ended(0).as_slice(),
            [Action::Start { instance: 1, .. }]
        ));
        c.silent(1);
        assert!(c.done() && c.error);
        assert_eq!(
            c.assemble(),
            "--- instance0 ---\n\n--- instance1 ---\nTIMEOUT\n"
        );

        // Before the running phase, protocol lines are plain output.
        let mut c = Controller::new(&p, 1, String::new(), 1 << 20);
        c.line(0, "BROADCAST x");
        assert_eq!(c.assemble(), "--- instance0 ---\nBROADCAST x\n");

        // A flood stops at the cap.
        let mut c = Controller::new(&p, 1, String::new(), 8);
        c.line(0, "1234");
        assert!(!c.done());
        c.line(0, "5678");
        assert!(c.done() && c.truncated);
        assert_eq!(c.assemble(), "--- instance0 ---\n1234\n");
    }
}
