//! Guest RAM the harness writes directly. QEMU maps a machine's main RAM from a memory
//! file this process maps too, so code for the board skips the emulated UART: QEMU's
//! CMSDK UART (mps2) takes one byte per turn of its main loop, ~50 µs a byte on an idle
//! 2-core machine, so a 1 KB driver costs 50 ms there and microseconds here. Only the
//! stub that tells the board where the code is crosses the UART.
//!
//! The memory is an anonymous memfd (no name in any filesystem, so nothing is left behind
//! whatever ends the run); QEMU opens it as `/proc/self/fd/N`, inherited across `exec`.
//! It outlives a QEMU restart (hard reset), which opens the same file again.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

use crate::boardfile::config::SharedRamConfig;

/// The QEMU object id of the RAM backend.
const BACKEND_ID: &str = "mpcheck-shared-ram";

/// The shared RAM, mapped into this process.
pub struct SharedRam {
    config: SharedRamConfig,
    file: File,
    map: memmap2::MmapMut,
}

impl std::fmt::Debug for SharedRam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRam")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SharedRam {
    /// A zero-filled memfd of `config.size` bytes, mapped.
    pub fn create(config: SharedRamConfig) -> io::Result<Self> {
        let len = usize::try_from(config.size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "shared_ram.size too big"))?;
        // SAFETY: a NUL-terminated name; the flags are valid for memfd_create(2).
        let fd = unsafe { libc::memfd_create(c"mpcheck-shared-ram".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: memfd_create returned a fresh descriptor that nothing else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        file.set_len(config.size)?;
        // SAFETY: the memfd is private to this process and QEMU; QEMU writes only guest
        // RAM the firmware uses, and the harness reads nothing back through this map, so
        // a concurrent change cannot break a Rust invariant.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map_mut(&file)? };
        Ok(Self { config, file, map })
    }

    /// QEMU's arguments for the machine's RAM to be this memory, given to the child as
    /// its descriptor [`SharedRam::fd`] (kept open across `exec` by the spawner).
    pub fn qemu_args(&self) -> [String; 4] {
        [
            "-object".to_string(),
            format!(
                "memory-backend-file,id={BACKEND_ID},size={},mem-path=/proc/self/fd/{},share=on",
                self.config.size,
                self.fd()
            ),
            "-machine".to_string(),
            format!("memory-backend={BACKEND_ID}"),
        ]
    }

    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    pub fn config(&self) -> SharedRamConfig {
        self.config
    }

    /// Put `bytes` at `offset` into the shared RAM; returns their guest address.
    pub fn put_at(&mut self, offset: usize, bytes: &[u8]) -> io::Result<u64> {
        let room = offset
            .checked_add(bytes.len())
            .and_then(|end| self.map.get_mut(offset..end))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} bytes do not fit the shared RAM ({} bytes)",
                        bytes.len(),
                        self.config.size
                    ),
                )
            })?;
        room.copy_from_slice(bytes);
        Ok(self.config.address + offset as u64)
    }

    /// Put `code` (and the loader that runs it) into the shared RAM; returns the line the
    /// board runs instead of `code`: [`stub`]. Its frames head any traceback the code
    /// raises; [`without_frames`] takes them out.
    pub fn deliver(&mut self, code: &[u8]) -> io::Result<String> {
        let at = self.put_at(CODE_OFFSET, code)?;
        let loader = loader(at, code.len());
        debug_assert!(loader.len() <= CODE_OFFSET);
        let address = self.put_at(0, loader.as_bytes())?;
        Ok(stub(address, loader.len()))
    }
}

/// Where the code goes; the loader sits before it.
const CODE_OFFSET: usize = 256;

/// What crosses the UART: it runs the loader at `address` (`len` bytes), so only these
/// ~50 bytes pay the UART's rate (the loader's own text would double them). Each byte
/// waits for one turn of QEMU's main loop: ~12 µs on a host core that is awake, ~50 µs
/// where it has to be woken (mps2-an385 in a VM), so every byte counts.
fn stub(address: u64, len: usize) -> String {
    format!("exec({})", read(address, len))
}

/// The expression that reads `len` bytes of the shared RAM at `address` on the board:
/// the stub's, and the connect probe's (which so checks what every case relies on).
pub fn read(address: u64, len: usize) -> String {
    format!("__import__('uctypes').bytes_at({address},{len})")
}

/// Compiles the `len` bytes of code at `address` as `<stdin>` (as if they had come over
/// the console) and zeroes them before running them, so the code that runs (a case)
/// cannot read the driver's nonce out of the shared RAM.
fn loader(address: u64, len: usize) -> String {
    format!(
        "m=__import__('uctypes').bytearray_at({address},{len});c=compile(bytes(m),'<stdin>','exec');m[:]=bytes({len});del m;exec(c)"
    )
}

/// The stub's and the loader's frames, the outermost two of a traceback the code raised
/// (lines end as the board ends them: `\r\n` from the raw REPL).
const FRAMES: [&str; 2] = [
    "  File \"<stdin>\", line 1, in <module>",
    "  File \"<string>\", line 1, in <module>",
];

/// A traceback as the code would have given it over the console: the stub's and the
/// loader's frames taken out (anything else is left as it is).
pub fn without_frames(exception: &[u8]) -> Vec<u8> {
    let eol: &[u8] = if exception.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let header = [&b"Traceback (most recent call last):"[..], eol].concat();
    let frames = FRAMES.map(|f| [f.as_bytes(), eol].concat()).concat();
    match exception
        .strip_prefix(&header[..])
        .and_then(|rest| rest.strip_prefix(&frames[..]))
    {
        Some(rest) => [&header[..], rest].concat(),
        None => exception.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_writes_the_memfd_and_refuses_what_does_not_fit() {
        let mut ram = SharedRam::create(SharedRamConfig {
            address: 0x2100_0000,
            size: 4096,
        })
        .unwrap();
        assert_eq!(ram.put_at(0, b"print(1)").unwrap(), 0x2100_0000);
        // What QEMU would see: the file's bytes, read through the descriptor.
        let seen = std::fs::read(format!("/proc/self/fd/{}", ram.fd())).unwrap();
        assert_eq!(&seen[..8], b"print(1)");
        assert_eq!(seen.len(), 4096);
        let err = ram.put_at(8, &[0; 4089]).unwrap_err();
        assert!(err.to_string().contains("do not fit"), "{err}");
        assert!(ram.qemu_args()[1].contains("size=4096,mem-path=/proc/self/fd/"));
        // The stub names the loader, the loader the code behind it.
        let stub = ram.deliver(b"print(2)").unwrap();
        assert!(
            stub.starts_with("exec(__import__(") && stub.len() < 55,
            "{stub}"
        );
        let seen = std::fs::read(format!("/proc/self/fd/{}", ram.fd())).unwrap();
        assert_eq!(&seen[CODE_OFFSET..CODE_OFFSET + 8], b"print(2)");
        assert!(seen.starts_with(b"m=__import__('uctypes').bytearray_at(553648384,8);"));
    }

    #[test]
    fn only_the_stubs_and_loaders_frames_are_taken_out() {
        for eol in ["\n", "\r\n"] {
            let tb = format!(
                "Traceback (most recent call last):{eol}{}{eol}{}{eol}  File \"<stdin>\", line 9, in <module>{eol}ValueError: {eol}",
                FRAMES[0], FRAMES[1]
            );
            assert_eq!(
                String::from_utf8(without_frames(tb.as_bytes())).unwrap(),
                format!(
                    "Traceback (most recent call last):{eol}  File \"<stdin>\", line 9, in <module>{eol}ValueError: {eol}"
                )
            );
        }
        let other =
            b"Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nE\n";
        assert_eq!(without_frames(other), other);
        assert_eq!(without_frames(b""), b"");
    }
}
