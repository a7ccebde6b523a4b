//! One running instance of a multi-instance test, as a target hosts it: what it tells
//! (its lines, its end) on a channel shared by the test's instances, and how it is
//! written to and stopped.

use std::sync::mpsc::Sender;

/// What an instance tells, tagged with its number on the channel.
#[derive(Debug)]
pub enum InstanceEvent {
    /// A line it printed, as upstream reads it ([`decode`]).
    Line(String),
    /// It could not go on (a board's exception text, a lost link): upstream's `err`.
    Error(String),
    /// Its whole stdout as bytes, once it finished (a board's; after its lines):
    /// for a reader that needs it exact (natmod tests), where lines are right-stripped.
    Stdout(Vec<u8>),
    /// Its output ended.
    Ended,
}

/// Where a test's instances tell what they do.
pub type Events = Sender<(usize, InstanceEvent)>;

/// A started instance.
pub trait RunningInstance: Send {
    /// Writes a line to its input, ended `\r\n` as upstream writes it. An instance that
    /// has ended cannot read it, which is no error.
    fn write_line(&mut self, line: &str);
    /// Stops it (a board is interrupted and given back for the next trial).
    fn stop(&mut self);
}

/// A line as upstream reads it: ASCII with `\xNN` for other bytes, right-stripped.
pub fn decode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii() {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s.trim_end().to_string()
}

/// Splits off each complete line of `pending` (through `\n`) and tells it.
pub fn tell_lines(pending: &mut Vec<u8>, instance: usize, events: &Events) {
    while let Some(end) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        let _ = events.send((instance, InstanceEvent::Line(decode(&line))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_decoded_as_upstream_decodes_them() {
        assert_eq!(decode(b"caf\xc3\xa9 \r\n"), "caf\\xc3\\xa9");
    }

    #[test]
    fn only_complete_lines_are_told() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut pending = b"one\r\ntw".to_vec();
        tell_lines(&mut pending, 1, &tx);
        pending.extend_from_slice(b"o\r\n");
        tell_lines(&mut pending, 1, &tx);
        drop(tx);
        let lines: Vec<String> = rx
            .iter()
            .map(|(_, e)| match e {
                InstanceEvent::Line(l) => l,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lines, ["one", "two"]);
        assert!(pending.is_empty());
    }
}
