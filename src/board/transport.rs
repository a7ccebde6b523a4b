//! The byte-stream seam between the raw REPL and a board (the implementations: `tcp`,
//! `rfc2217`, `serial`, QEMU's child process; `console_url` picks one).

use std::io;
use std::time::Duration;

/// A bidirectional byte stream to a board's console.
pub trait Transport: Send {
    /// Write all bytes (the caller paces them).
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Read what is available, waiting at most `timeout` for the first byte.
    /// `Ok(0)` means nothing arrived in time; a closed link is an `UnexpectedEof` error.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// A short human description for messages, e.g. `socket://127.0.0.1:5555`.
    fn describe(&self) -> String;
    /// Whether [`Transport::hard_reset`] can do anything. Defaults to not available.
    fn can_hard_reset(&self) -> bool {
        false
    }
    /// Reset the board's hardware (QEMU restart, DTR/RTS toggle, probe hook).
    fn hard_reset(&mut self) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{} has no hard reset", self.describe()),
        ))
    }
    /// The operating-system process behind the console, if one is ours (QEMU).
    fn process_id(&self) -> Option<u32> {
        None
    }
}

/// A way to reset a board from outside its console (e.g. a debug probe). Given to a
/// serial transport when the board file says `reset: hook`.
pub trait ResetHook: Send {
    fn reset(&mut self) -> io::Result<()>;
    fn describe(&self) -> String;
}

/// A transport whose hard reset is an external hook (e.g. a debug probe's reset line).
pub struct WithResetHook {
    inner: Box<dyn Transport>,
    hook: Box<dyn ResetHook>,
}

impl WithResetHook {
    pub fn new(inner: Box<dyn Transport>, hook: Box<dyn ResetHook>) -> Self {
        Self { inner, hook }
    }
}

impl Transport for WithResetHook {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write(bytes)
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.inner.read(buf, timeout)
    }
    fn describe(&self) -> String {
        format!(
            "{} (reset: {})",
            self.inner.describe(),
            self.hook.describe()
        )
    }
    fn can_hard_reset(&self) -> bool {
        true
    }
    fn hard_reset(&mut self) -> io::Result<()> {
        self.hook.reset()
    }
}
