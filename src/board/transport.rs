//! The byte-stream seam between the raw REPL and a board, and `open` that picks an
//! implementation from a console URL or path.

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

/// Where a console is, parsed from what the board file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleAddr {
    /// `socket://host:port`: raw TCP.
    Socket(String),
    /// `rfc2217://host:port`: telnet with COM-PORT-OPTION.
    Rfc2217(String),
    /// A local serial device path.
    Serial(String),
}

impl ConsoleAddr {
    pub fn parse(url_or_path: &str) -> io::Result<Self> {
        if let Some(rest) = url_or_path.strip_prefix("socket://") {
            Ok(Self::Socket(host_port(url_or_path, rest)?))
        } else if let Some(rest) = url_or_path.strip_prefix("rfc2217://") {
            Ok(Self::Rfc2217(host_port(url_or_path, rest)?))
        } else if url_or_path.contains("://") {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "unknown console url scheme in {url_or_path:?}: use socket://, rfc2217:// or a device path"
                ),
            ))
        } else {
            Ok(Self::Serial(url_or_path.to_string()))
        }
    }
}

fn host_port(url: &str, rest: &str) -> io::Result<String> {
    // pyserial allows `?options` after the address; none are supported here.
    let addr = rest.trim_end_matches('/');
    if addr.contains('?') || !addr.contains(':') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("console url {url:?} must be scheme://host:port without options"),
        ));
    }
    Ok(addr.to_string())
}

/// Open a console by URL (`socket://`, `rfc2217://`) or serial device path.
pub fn open(url_or_path: &str, baud: u32) -> io::Result<Box<dyn Transport>> {
    Ok(match ConsoleAddr::parse(url_or_path)? {
        ConsoleAddr::Socket(addr) => Box::new(super::tcp::TcpTransport::connect(&addr)?),
        ConsoleAddr::Rfc2217(addr) => {
            Box::new(super::rfc2217::Rfc2217Transport::connect(&addr, baud)?)
        }
        ConsoleAddr::Serial(path) => Box::new(super::serial::SerialTransport::open(&path, baud)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_paths() {
        assert_eq!(
            ConsoleAddr::parse("socket://127.0.0.1:5555").unwrap(),
            ConsoleAddr::Socket("127.0.0.1:5555".into())
        );
        assert_eq!(
            ConsoleAddr::parse("rfc2217://localhost:7000").unwrap(),
            ConsoleAddr::Rfc2217("localhost:7000".into())
        );
        assert_eq!(
            ConsoleAddr::parse("/dev/ttyACM0").unwrap(),
            ConsoleAddr::Serial("/dev/ttyACM0".into())
        );
        let err = ConsoleAddr::parse("spy://x").unwrap_err().to_string();
        assert!(err.contains("unknown console url scheme"), "{err}");
        let err = ConsoleAddr::parse("socket://nohost")
            .unwrap_err()
            .to_string();
        assert!(err.contains("host:port"), "{err}");
    }
}
