//! A local serial port (USB CDC, USB-UART, a probe's VCOM), found by path or by USB serial
//! number, with an optional DTR/RTS reset pulse.

use std::io::{self, Read, Write};
use std::time::Duration;

use super::transport::Transport;

pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    path: String,
    dtr_rts_reset: bool,
}

/// How long RTS holds the chip in reset: the EN/RESET RC circuits on common boards
/// (ESP32 DevKit, NodeMCU) need well under 100 ms.
const RESET_PULSE: Duration = Duration::from_millis(100);

impl SerialTransport {
    pub fn open(path: &str, baud: u32) -> io::Result<Self> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(10))
            .open()
            .map_err(to_io)?;
        Ok(Self {
            port,
            path: path.to_string(),
            dtr_rts_reset: false,
        })
    }

    /// Make `hard_reset` pulse RTS (wired to reset) while DTR is released.
    pub fn with_dtr_rts_reset(mut self) -> Self {
        self.dtr_rts_reset = true;
        self
    }
}

fn to_io(e: serialport::Error) -> io::Error {
    match e.kind() {
        serialport::ErrorKind::Io(kind) => io::Error::new(kind, e.description),
        serialport::ErrorKind::NoDevice => io::Error::new(io::ErrorKind::NotFound, e.description),
        _ => io::Error::other(e.description),
    }
}

/// The device path of the USB serial port whose USB serial number is `serial`.
pub fn find_by_usb_serial(serial: &str) -> io::Result<String> {
    let ports = serialport::available_ports().map_err(to_io)?;
    let mut seen = Vec::new();
    for p in ports {
        if let serialport::SerialPortType::UsbPort(info) = &p.port_type {
            if info.serial_number.as_deref() == Some(serial) {
                return Ok(p.port_name);
            }
            seen.push(format!(
                "{} ({})",
                p.port_name,
                info.serial_number.as_deref().unwrap_or("no serial")
            ));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no usb serial port with serial number {serial:?} (found: {})",
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join(", ")
            }
        ),
    ))
}

impl Transport for SerialTransport {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        // serialport treats 0 as "return at once"; at least 1 ms keeps reads cheap.
        self.port
            .set_timeout(timeout.max(Duration::from_millis(1)))
            .map_err(to_io)?;
        match self.port.read(buf) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "serial port closed",
            )),
            Ok(n) => Ok(n),
            Err(e)
                if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        self.path.clone()
    }

    fn can_hard_reset(&self) -> bool {
        self.dtr_rts_reset
    }

    fn hard_reset(&mut self) -> io::Result<()> {
        if !self.dtr_rts_reset {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{} has no reset configured", self.path),
            ));
        }
        self.port.write_data_terminal_ready(false).map_err(to_io)?;
        self.port.write_request_to_send(true).map_err(to_io)?;
        std::thread::sleep(RESET_PULSE);
        self.port.write_request_to_send(false).map_err(to_io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_port_is_a_clear_error() {
        let err = SerialTransport::open("/dev/mpcheck-no-such-port", 115_200)
            .err()
            .unwrap();
        assert!(
            err.to_string().to_lowercase().contains("no such file"),
            "{err}"
        );
        let err = find_by_usb_serial("mpcheck-no-such-serial")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no usb serial port with serial number"),
            "{err}"
        );
    }
}
