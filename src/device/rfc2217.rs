//! `rfc2217://host:port`: a network serial port (ser2net, labgrid) over telnet with
//! COM-PORT-OPTION to set the baud rate.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::tcp::{TcpTransport, read_timeout};
use super::telnet::{self, Telnet};
use super::transport::Transport;

pub struct Rfc2217Transport {
    tcp: TcpTransport,
    telnet: Telnet,
    /// Decoded data not yet handed to the caller.
    data: Vec<u8>,
    addr: String,
}

/// ser2net acknowledges COM-PORT settings within milliseconds; 2 s allows a slow server.
const SETTINGS_ACK_WAIT: Duration = Duration::from_secs(2);

impl Rfc2217Transport {
    pub fn connect(addr: &str, baud: u32) -> io::Result<Self> {
        let mut t = Self {
            tcp: TcpTransport::connect(addr)?,
            telnet: Telnet::new(),
            data: Vec::new(),
            addr: addr.to_string(),
        };
        let mut hello = Telnet::hello();
        hello.extend(telnet::set_8n1(baud));
        t.tcp.stream_mut().write_all(&hello)?;
        // Wait for the baud-rate acknowledgement (server's sub-command 101) so data does
        // not go out at the old speed; a server that never answers is still usable.
        let deadline = Instant::now() + SETTINGS_ACK_WAIT;
        while Instant::now() < deadline
            && !t
                .telnet
                .subnegotiations
                .iter()
                .any(|s| s.get(..2) == Some(&[telnet::COM_PORT, 100 + telnet::SET_BAUDRATE]))
        {
            t.fill(Duration::from_millis(50))?;
        }
        Ok(t)
    }

    /// One read from the socket through the telnet decoder.
    fn fill(&mut self, timeout: Duration) -> io::Result<()> {
        let mut raw = [0u8; 4096];
        let n = read_timeout(self.tcp.stream_mut(), &mut raw, timeout)?;
        let reply = self.telnet.decode(&raw[..n], &mut self.data);
        if !reply.is_empty() {
            self.tcp.stream_mut().write_all(&reply)?;
        }
        Ok(())
    }
}

impl Transport for Rfc2217Transport {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.tcp.stream_mut().write_all(&telnet::escape(bytes))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        // Telnet commands alone yield no data: keep reading until data or the deadline.
        while self.data.is_empty() {
            self.fill(deadline.saturating_duration_since(Instant::now()))?;
            if Instant::now() >= deadline {
                break;
            }
        }
        let n = self.data.len().min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data.drain(..n);
        Ok(n)
    }

    fn describe(&self) -> String {
        format!("rfc2217://{}", self.addr)
    }
}
