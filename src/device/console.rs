//! A board's console opened from its config: QEMU started with its firmware, or a
//! serial port or console URL opened with the board's reset method.

use super::error::BoardError;
use super::qemu::{QemuSpec, QemuTransport};
use super::serial::SerialTransport;
use super::transport::{ResetHook, Transport};
use crate::boardfile::config::{BoardConfig, Console, ResetMethod, firmware_path};

pub(crate) fn open_transport(
    config: &BoardConfig,
    hook: Option<Box<dyn ResetHook>>,
) -> Result<Box<dyn Transport>, BoardError> {
    match config.console()? {
        Console::Qemu(q) => {
            let spec = QemuSpec {
                binary: q.binary.clone(),
                machine: q.machine.clone(),
                firmware: firmware_path(q)?,
                extra_args: q.args.clone(),
                console: q.console,
                shared_ram: q.shared_ram,
                icount: q.icount,
            };
            let describe = format!("qemu -M {}", spec.machine);
            QemuTransport::spawn(spec)
                .map(|t| Box::new(t) as Box<dyn Transport>)
                .map_err(|source| BoardError::Open {
                    console: describe,
                    source,
                })
        }
        Console::Serial(s) => {
            let target = match (&s.console, &s.usb_serial) {
                (Some(c), _) => c.clone(),
                (None, Some(sn)) => {
                    super::serial::find_by_usb_serial(sn).map_err(|source| BoardError::Open {
                        console: format!("usb serial {sn}"),
                        source,
                    })?
                }
                (None, None) => unreachable!("checked by BoardConfig::console"),
            };
            let open_err = |source| BoardError::Open {
                console: target.clone(),
                source,
            };
            match s.reset {
                ResetMethod::None => super::console_url::open(&target, s.baud).map_err(open_err),
                ResetMethod::DtrRts => SerialTransport::open(&target, s.baud)
                    .map(|t| Box::new(t.with_dtr_rts_reset()) as Box<dyn Transport>)
                    .map_err(open_err),
                ResetMethod::Hook => {
                    let hook = hook.ok_or_else(|| {
                        BoardError::Config(
                            "board file says `reset: hook` but the harness gave no reset hook"
                                .into(),
                        )
                    })?;
                    let inner = super::console_url::open(&target, s.baud).map_err(open_err)?;
                    let reopens = hook.reopens_console();
                    let t = super::transport::WithResetHook::new(inner, hook);
                    let baud = s.baud;
                    Ok(Box::new(if reopens {
                        t.reopening(Box::new(move || super::console_url::open(&target, baud)))
                    } else {
                        t
                    }))
                }
            }
        }
    }
}
