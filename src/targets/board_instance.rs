//! A board as one instance of a multi-instance test (run-multitests.py's
//! `PyInstancePyboard`): the test started at the raw REPL and followed while it runs, on
//! a thread that owns the session; its stdout told line by line, its exception text as
//! the instance's error, lines from the controller written to its console as input.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::board::BoardTarget;
use super::instance::{Events, InstanceEvent, RunningInstance, decode, tell_lines};
use crate::device::BoardSession;

/// How long one read of a running instance waits before input is looked at again: a
/// `BROADCAST` reaches the board within this.
const READ_SLICE: Duration = Duration::from_millis(20);

enum Input {
    Line(Vec<u8>),
    Stop,
}

/// A started board instance; its session goes back to the board's pool when stopped.
pub(super) struct BoardInstance<'a> {
    target: &'a BoardTarget,
    member: usize,
    input: mpsc::Sender<Input>,
    thread: Option<JoinHandle<Option<BoardSession>>>,
}

impl BoardTarget {
    /// Starts `script` on a session of this board as instance `instance`.
    pub(super) fn start_on_board(
        &self,
        script: Vec<u8>,
        instance: usize,
        events: Events,
    ) -> Result<Box<dyn RunningInstance + '_>, String> {
        let (member, mut session) = self.checkout()?;
        if let Err(e) = session.start_script(&script) {
            // A session that failed mid-upload is in an unknown state: not reused.
            self.checkin(member, None, None);
            return Err(e.to_string());
        }
        let (input, inbox) = mpsc::channel();
        let thread = std::thread::spawn(move || follow(session, instance, &events, &inbox));
        Ok(Box::new(BoardInstance {
            target: self,
            member,
            input,
            thread: Some(thread),
        }))
    }
}

/// Follows the run until it ends or is stopped; the session back if it is still sound.
fn follow(
    mut session: BoardSession,
    instance: usize,
    events: &Events,
    inbox: &mpsc::Receiver<Input>,
) -> Option<BoardSession> {
    let tell = |e| drop(events.send((instance, e)));
    let (mut told, mut pending) = (0usize, Vec::new());
    loop {
        for message in inbox.try_iter() {
            let sent = match message {
                Input::Line(bytes) => session.send(&bytes),
                Input::Stop => return session.stop_script().ok().map(|_| session),
            };
            if let Err(e) = sent {
                tell(InstanceEvent::Error(e.to_string()));
                tell(InstanceEvent::Ended);
                return None;
            }
        }
        match session.follow(READ_SLICE) {
            Ok(None) => {
                let out = session.partial_stdout();
                pending.extend_from_slice(out.get(told..).unwrap_or_default());
                told = out.len();
                tell_lines(&mut pending, instance, events);
            }
            Ok(Some(run)) => {
                pending.extend_from_slice(run.stdout.get(told..).unwrap_or_default());
                tell_lines(&mut pending, instance, events);
                if !pending.is_empty() {
                    tell(InstanceEvent::Line(decode(&pending)));
                }
                tell(InstanceEvent::Stdout(run.stdout.clone()));
                if !run.exception.is_empty() {
                    let text = String::from_utf8_lossy(&run.exception).replace("\r\n", "\n");
                    tell(InstanceEvent::Error(text));
                }
                tell(InstanceEvent::Ended);
                // At its prompt again: wait to be stopped, then back to the pool.
                while let Ok(Input::Line(_)) = inbox.recv() {}
                return Some(session);
            }
            Err(e) => {
                tell(InstanceEvent::Error(e.to_string()));
                tell(InstanceEvent::Ended);
                return None;
            }
        }
    }
}

impl RunningInstance for BoardInstance<'_> {
    fn write_line(&mut self, line: &str) {
        let _ = self
            .input
            .send(Input::Line(format!("{line}\r\n").into_bytes()));
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let _ = self.input.send(Input::Stop);
        let session = thread.join().ok().flatten();
        self.target.checkin(self.member, session, None);
    }
}

impl Drop for BoardInstance<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}
