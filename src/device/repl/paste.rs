//! Raw-paste uploads: the board grants a window of bytes and credits more as it
//! compiles, so the link never overruns (MicroPython's `raw-paste` mode, v1.14 on).

use std::time::{Duration, Instant};

use super::{PASTE_REPLY_TIMEOUT, PasteMode, READ_SLICE, Repl};
use crate::device::error::BoardError;
use crate::device::raw_repl::{self, Event};

impl Repl {
    /// Ask for raw-paste; `Some(window)` if granted. A refusal or an old firmware's
    /// confusion switches this connection to classic mode for good.
    pub(super) fn request_paste(&mut self, deadline: Instant) -> Result<Option<u16>, BoardError> {
        self.proto.sent_paste_request();
        self.write_raw(raw_repl::RAW_PASTE_REQUEST, "requesting raw-paste")?;
        let reply_by = deadline.min(Instant::now() + PASTE_REPLY_TIMEOUT);
        let window = self.wait(reply_by, "requesting raw-paste", |e| match e {
            Event::PasteAccepted { window } => Some(Some(window)),
            Event::PasteRefused | Event::PasteUnsupported => Some(None),
            _ => None,
        })?;
        self.paste = match window {
            Some(window) => PasteMode::RawPaste { window },
            None => PasteMode::Classic,
        };
        Ok(window)
    }

    /// Send `code` within the device's flow-control credit, then end the paste. The
    /// device's credit paces the link, so there is no pause between writes; with no
    /// credit left this blocks on the transport (never spins) until the deadline. The
    /// device may end the paste early (`\x04`: its compiler failed, e.g. a SyntaxError
    /// or a MemoryError while the bytes still arrive): the rest is not sent.
    pub(super) fn upload_paste(
        &mut self,
        code: &[u8],
        window: u16,
        deadline: Instant,
    ) -> Result<(), BoardError> {
        let window = usize::from(window).max(1);
        let mut credit = window;
        let mut sent = 0;
        let mut aborted = false;
        while sent < code.len() && !aborted {
            let now = Instant::now();
            if now >= deadline {
                return Err(self.timeout("raw-paste upload", Duration::ZERO));
            }
            // Take credits (and a possible abort) the device has sent meanwhile; wait for
            // them only when there is nothing left to send.
            let wait = if credit == 0 {
                (deadline - now).min(READ_SLICE)
            } else {
                Duration::ZERO
            };
            self.pump(wait, "raw-paste upload")?;
            while let Some(e) = self.proto.next_event() {
                match e {
                    Event::PasteCredit => credit += window,
                    Event::PasteAborted => aborted = true,
                    _ => {}
                }
            }
            let n = credit.min(code.len() - sent);
            if n > 0 && !aborted {
                self.write_raw(&code[sent..sent + n], "raw-paste upload")?;
                sent += n;
                credit -= n;
            }
        }
        self.proto.sent_paste_end();
        self.write_raw(raw_repl::CTRL_D, "ending raw-paste")
    }
}
