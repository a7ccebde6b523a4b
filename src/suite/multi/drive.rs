//! Runs one multi-instance test on its instances: starts processes as the controller
//! asks, feeds it their lines, relays its writes, and tells it which instance stayed
//! silent past the protocol's read timeout.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::controller::{Action, Controller};
use super::instance::Process;
use super::protocol::Protocol;
use crate::targets::Target;
use crate::targets::instance::{InstanceEvent, RunningInstance};

/// How an instance is started.
pub(crate) enum Launcher<'a> {
    /// A process: `<command> -c <script>` (a host VM, CPython).
    Process(Command),
    /// In place on a target (a board's raw REPL).
    Target(&'a dyn Target),
}

/// What a run on instances gave.
pub(crate) struct Ran {
    /// The `--- instanceN ---` blocks.
    pub output: String,
    pub skip: bool,
    pub metrics: Vec<String>,
    /// Output went past the cap: the test was stopped there.
    pub truncated: bool,
}

/// How upstream polls when no instance printed (its `time.sleep(0.1)`).
const POLL: Duration = Duration::from_millis(100);

/// Runs a test (its `source`) with one instance per launcher; process instances run in
/// `cwd` (the test's directory in the run's copy of tests/).
pub(crate) fn run<'a>(
    protocol: &Protocol,
    cwd: &Path,
    source: &[u8],
    launchers: &[Launcher<'a>],
    globals: String,
) -> Ran {
    let n = launchers.len();
    let (tx, rx) = mpsc::channel::<(usize, InstanceEvent)>();
    let mut queues: Vec<VecDeque<InstanceEvent>> = (0..n).map(|_| VecDeque::new()).collect();
    let mut processes: Vec<Option<Box<dyn RunningInstance + 'a>>> = (0..n).map(|_| None).collect();
    let mut last_read = vec![Instant::now(); n];
    // The same cap as a one-process case's output (a flood costs the harness no more).
    let mut c = Controller::new(protocol, n, globals, crate::targets::process::OUTPUT_CAP);

    let act = |c: &mut Controller,
               processes: &mut Vec<Option<Box<dyn RunningInstance + 'a>>>,
               last_read: &mut Vec<Instant>,
               action: Action| match action {
        Action::Start { instance, append } => {
            let started = match &launchers[instance] {
                Launcher::Process(command) => {
                    // As upstream's subprocess instance: run from the test's directory,
                    // with the current directory taken off `sys.path`.
                    let mut script = protocol.subprocess_prelude.as_bytes().to_vec();
                    script.extend_from_slice(source);
                    script.push(b'\n');
                    script.extend_from_slice(append.as_bytes());
                    Process::start(
                        clone_command(command),
                        &script,
                        cwd,
                        protocol.micropypath.as_deref(),
                        instance,
                        tx.clone(),
                    )
                    .map(|p| Box::new(p) as Box<dyn RunningInstance + 'a>)
                }
                Launcher::Target(target) => {
                    let mut script = source.to_vec();
                    script.push(b'\n');
                    script.extend_from_slice(append.as_bytes());
                    target
                        .start_instance(script, instance, tx.clone())
                        .unwrap_or_else(|| Err("the board cannot host an instance".into()))
                }
            };
            match started {
                Ok(p) => processes[instance] = Some(p),
                Err(message) => c.failed(instance, &message),
            }
            last_read[instance] = Instant::now();
        }
        Action::Write { instance, line } => {
            if let Some(p) = &mut processes[instance] {
                p.write_line(&line);
            }
        }
    };

    let first = c.begin();
    act(&mut c, &mut processes, &mut last_read, first);
    let feed = |c: &mut Controller, i: usize, e: InstanceEvent| match e {
        InstanceEvent::Line(l) => c.line(i, &l),
        InstanceEvent::Error(message) => {
            c.failed(i, &message);
            Vec::new()
        }
        InstanceEvent::Ended => c.ended(i),
        InstanceEvent::Stdout(_) => Vec::new(),
    };
    // Ctrl-C kills the processes (tracked), whose ends then finish this; boards need it.
    while !c.done() && !crate::util::interrupt::requested() {
        match c.reading() {
            Some(i) => {
                // One instance alone: the others' lines wait in their queues.
                let event = match queues[i].pop_front() {
                    Some(e) => Some(e),
                    None => {
                        let left = (last_read[i] + protocol.read_timeout)
                            .saturating_duration_since(Instant::now());
                        match rx.recv_timeout(left) {
                            Ok((j, e)) if j == i => Some(e),
                            Ok((j, e)) => {
                                queues[j].push_back(e);
                                continue;
                            }
                            Err(_) => None,
                        }
                    }
                };
                match event {
                    Some(e) => {
                        last_read[i] = Instant::now();
                        for a in feed(&mut c, i, e) {
                            act(&mut c, &mut processes, &mut last_read, a);
                        }
                        if c.reading().is_none() {
                            // Every instance started: upstream's clocks all start again.
                            last_read.fill(Instant::now());
                        }
                    }
                    None => c.silent(i),
                }
            }
            None => {
                // Every instance: one line each per sweep, as upstream reads them.
                while let Ok((j, e)) = rx.try_recv() {
                    queues[j].push_back(e);
                }
                let mut any = false;
                for i in 0..n {
                    if !c.running(i) {
                        continue;
                    }
                    match queues[i].pop_front() {
                        Some(e) => {
                            any = true;
                            last_read[i] = Instant::now();
                            for a in feed(&mut c, i, e) {
                                act(&mut c, &mut processes, &mut last_read, a);
                            }
                        }
                        None if last_read[i].elapsed() > protocol.read_timeout => c.silent(i),
                        None => {}
                    }
                }
                if !any
                    && !c.done()
                    && let Ok((j, e)) = rx.recv_timeout(POLL)
                {
                    queues[j].push_back(e);
                }
            }
        }
    }
    for p in processes.iter_mut().flatten() {
        p.stop();
    }
    Ran {
        output: c.assemble(),
        skip: c.skip,
        metrics: c.metrics.clone(),
        truncated: c.truncated,
    }
}

/// A copy of a command's program, arguments and environment (a `Command` is not `Clone`).
fn clone_command(c: &Command) -> Command {
    let mut out = Command::new(c.get_program());
    out.args(c.get_args());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => out.env(k, v),
            None => out.env_remove(k),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run-multitests.py cut down to what the reader needs, with a working helper.
    const SCRIPT: &str = r#"
INSTANCE_READ_TIMEOUT_S = 2
APPEND_CODE_TEMPLATE = """
import sys
class multitest:
    @staticmethod
    def next():
        print("NEXT")
        sys.stdout.flush()
    @staticmethod
    def broadcast(msg):
        print("BROADCAST", msg)
        sys.stdout.flush()
    @staticmethod
    def wait(msg):
        msg = "BROADCAST " + msg
        while True:
            if sys.stdin.readline().rstrip() == msg:
                return
{}
instance{}()
"""
                m = re.match(r"def instance([0-9]+)\(\):", line)
"#;

    /// Two CPython processes (a real part here, as the reference): instance 1 starts
    /// slowly and broadcasts late, each within the read timeout of the moment every
    /// instance had started (upstream's clocks start again then), not of instance 0's
    /// `NEXT`.
    #[test]
    fn instances_talk_and_the_clocks_restart_when_all_have_started() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run-multitests.py"), SCRIPT).unwrap();
        let protocol = Protocol::read(dir.path()).unwrap();
        let source = b"import time\n\ndef instance0():\n    multitest.next()\n    multitest.wait(\"late\")\n    print(\"heard\", X)\n\ndef instance1():\n    time.sleep(1.2)\n    multitest.next()\n    time.sleep(1.2)\n    multitest.broadcast(\"late\")\n";
        let python = || Launcher::Process(Command::new("python3"));
        let ran = run(
            &protocol,
            dir.path(),
            source,
            &[python(), python()],
            "X = 7\n".into(),
        );
        assert_eq!(
            ran.output,
            "--- instance0 ---\nheard 7\n--- instance1 ---\n\n"
        );
        assert!(!ran.skip && !ran.truncated);
    }
}
