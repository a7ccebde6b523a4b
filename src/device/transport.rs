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
    /// RAM the board can read that this process writes directly (QEMU's machine RAM
    /// shared through a memfd), if the link has any.
    fn shared_ram(&mut self) -> Option<&mut super::shared_ram::SharedRam> {
        None
    }
}

/// A way to reset a board from outside its console (e.g. a debug probe). Given to a
/// serial transport when the board file says `reset: hook`.
pub trait ResetHook: Send {
    fn reset(&mut self) -> io::Result<()>;
    fn describe(&self) -> String;
    /// Whether the console must be opened again after a reset (a power cycle may drop a
    /// network console's connection). Defaults to no.
    fn reopens_console(&self) -> bool {
        false
    }
}

/// Opens a console again (after a reset that dropped it).
pub type Reopen = Box<dyn FnMut() -> io::Result<Box<dyn Transport>> + Send>;

/// A console being reset: closed until it is opened again.
struct Closed(String);

impl Transport for Closed {
    fn write(&mut self, _: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::NotConnected, self.describe()))
    }
    fn read(&mut self, _: &mut [u8], _: Duration) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::NotConnected, self.describe()))
    }
    fn describe(&self) -> String {
        format!("{} (closed for a reset)", self.0)
    }
}

/// A board's console comes back within its boot time (QEMU: < 0.1 s; ser2net accepts at
/// once); 10 s, as the recovery ladder waits for a boot.
const REOPEN_WAIT: Duration = Duration::from_secs(10);

/// A transport whose hard reset is an external hook (e.g. a debug probe's reset line).
pub struct WithResetHook {
    inner: Box<dyn Transport>,
    hook: Box<dyn ResetHook>,
    reopen: Option<Reopen>,
}

impl WithResetHook {
    pub fn new(inner: Box<dyn Transport>, hook: Box<dyn ResetHook>) -> Self {
        Self {
            inner,
            hook,
            reopen: None,
        }
    }

    /// After each reset, the console is closed and opened again with `reopen`.
    pub fn reopening(mut self, reopen: Reopen) -> Self {
        self.reopen = Some(reopen);
        self
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
        let Some(reopen) = &mut self.reopen else {
            return self.hook.reset();
        };
        // Closed first: a console server that allows one client (ser2net without
        // `kickolduser`) would refuse the new connection while the old one is open.
        let name = self.inner.describe();
        self.inner = Box::new(Closed(name));
        self.hook.reset()?;
        let until = std::time::Instant::now() + REOPEN_WAIT;
        loop {
            match reopen() {
                Ok(t) => {
                    self.inner = t;
                    return Ok(());
                }
                Err(e) if std::time::Instant::now() >= until => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}
