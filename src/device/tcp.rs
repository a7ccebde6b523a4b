//! `socket://host:port`: a console reached over plain TCP (ser2net raw mode, QEMU
//! `-serial tcp:`).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::transport::Transport;

pub struct TcpTransport {
    stream: TcpStream,
    addr: String,
}

impl TcpTransport {
    pub fn connect(addr: &str) -> io::Result<Self> {
        // 5 s: a console server on a lab network answers well within that, or never.
        let stream = connect_any(addr, Duration::from_secs(5))?;
        Ok(Self::from_stream(stream, addr))
    }

    /// Keep trying until `deadline` (for a server that is still starting, e.g. QEMU).
    pub fn connect_until(addr: &str, deadline: Instant) -> io::Result<Self> {
        loop {
            match connect_any(addr, Duration::from_millis(500)) {
                Ok(stream) => return Ok(Self::from_stream(stream, addr)),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn from_stream(stream: TcpStream, addr: &str) -> Self {
        // Small paced writes must leave at once, not wait for Nagle.
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            addr: addr.to_string(),
        }
    }

    pub(crate) fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

fn connect_any(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        format!("{addr} resolves to nothing"),
    );
    for sa in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&sa, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Read with a timeout from a TCP stream; EOF becomes `UnexpectedEof`.
pub(crate) fn read_timeout(
    stream: &mut TcpStream,
    buf: &mut [u8],
    timeout: Duration,
) -> io::Result<usize> {
    // A zero timeout means "block forever" to std; 1 ms is the smallest real wait.
    stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
    match stream.read(buf) {
        Ok(0) => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed by peer",
        )),
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

impl Transport for TcpTransport {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        read_timeout(&mut self.stream, buf, timeout)
    }

    fn describe(&self) -> String {
        format!("socket://{}", self.addr)
    }
}
