//! A console as a board file names it (`socket://host:port`, `rfc2217://host:port`, or a
//! serial device path), and opening the transport it names.

use std::io;

use super::transport::Transport;

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
