//! A place held for the run: acquired (waiting while someone else holds it), its
//! resources read, and released when the last user drops it, by its guardian, also when
//! the run is interrupted or killed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::client::{Client, holder};
use super::error::LabgridError;
use super::guardian::Guardian;
use super::place_env::{self, PlaceResources};
use super::power::PowerCycle;
use crate::boardfile::config::{BoardConfig, ResetMethod, SerialConfig};

/// Why one second between acquire attempts: a labgrid-client call takes ~0.5 s of
/// Python start-up, so polling faster would mostly load the CPU; a waiting run gets a
/// released place within about a second and a half.
const POLL: Duration = Duration::from_secs(1);

/// The guardians of places held by this process, by id: released by [`release_all`] when
/// the process ends without unwinding (a second Ctrl-C, the grace period running out).
static GUARDIANS: Mutex<BTreeMap<u64, Guardian>> = Mutex::new(BTreeMap::new());
/// Held while a guardian releases its place, so [`release_all`] (a second Ctrl-C, on the
/// signal thread) waits for a release in flight (a `HeldPlace` dropped on the main
/// thread) before the process kills its children, that guardian among them.
static RELEASING: Mutex<()> = Mutex::new(());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Told who holds the place, each time an acquire finds it held.
pub type HeldBy = Box<dyn Fn(&str) + Send + Sync>;

/// How a pool member's acquire waits: until cancelled, telling who holds the place.
#[derive(Default)]
pub struct Wait {
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub held: Option<HeldBy>,
}

pub struct HeldPlace {
    pub client: Client,
    pub resources: PlaceResources,
    id: u64,
    /// An acquire succeeded (every call runs to its end, so otherwise none did).
    acquired: bool,
}

impl HeldPlace {
    /// Acquires `client`'s place for this process. The guardian starts first, so even an
    /// acquire cut short by a kill is undone. `board_file` names the file for messages;
    /// guardian output is appended to `log_dir/<place>.log`.
    pub fn acquire(
        client: Client,
        board_file: &str,
        log_dir: &Path,
    ) -> Result<HeldPlace, LabgridError> {
        Self::acquire_for(client, board_file, log_dir, &Wait::default())
    }

    /// [`HeldPlace::acquire`] for a member of a pool: `wait.cancel` ends the wait (the
    /// run no longer needs the place), `wait.held` hears who holds it while it waits.
    pub fn acquire_for(
        client: Client,
        board_file: &str,
        log_dir: &Path,
        wait: &Wait,
    ) -> Result<HeldPlace, LabgridError> {
        crate::util::interrupt::at_finish(release_all);
        let place = client.spec.place.clone();
        let log = log_dir.join(format!("{place}.log"));
        let guardian = std::fs::create_dir_all(log_dir)
            .and_then(|()| Guardian::spawn(&client, &log))
            .map_err(|source| LabgridError::Spawn {
                client: format!("the release guardian (log {})", log.display()),
                source,
            })?;
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        lock().insert(id, guardian);
        let mut held = HeldPlace {
            client,
            resources: PlaceResources {
                console: String::new(),
                baud: None,
                power: false,
            },
            id,
            acquired: false,
        };
        held.wait_for_place(board_file, wait)?;
        let env = held.client.call_ok(&["env"])?;
        held.resources = place_env::parse(&place, &env.stdout)
            .map_err(|message| LabgridError::Resources { place, message })?;
        Ok(held)
    }

    /// Acquires, waiting while someone else holds the place (sets `acquired`).
    fn wait_for_place(&mut self, board_file: &str, wait: &Wait) -> Result<(), LabgridError> {
        let spec = &self.client.spec;
        let start = Instant::now();
        let mut told = false;
        loop {
            if crate::util::interrupt::requested() {
                return Err(LabgridError::Interrupted {
                    place: spec.place.clone(),
                });
            }
            if wait.cancel.load(Ordering::SeqCst) {
                return Err(LabgridError::NotNeeded {
                    place: spec.place.clone(),
                });
            }
            let out = self.client.call(&["acquire"]).inspect_err(|e| {
                // A call that hung may have acquired the place before it was killed.
                self.acquired |= matches!(e, LabgridError::Hung { .. });
            })?;
            if out.success {
                self.acquired = true;
                if told {
                    crate::util::notice::notice(format_args!(
                        "acquired labgrid place `{}` after {:.0} s",
                        spec.place,
                        start.elapsed().as_secs_f64()
                    ));
                }
                return Ok(());
            }
            let Some(by) = holder(&out.stderr) else {
                return Err(self.client.failed(&["acquire"], &out));
            };
            if let Some(held) = &wait.held {
                held(&by);
            }
            if start.elapsed() >= spec.acquire_timeout {
                return Err(LabgridError::StillHeld {
                    place: spec.place.clone(),
                    coordinator: spec.coordinator_name(),
                    holder: by,
                    waited: spec.acquire_timeout,
                    board_file: board_file.to_string(),
                });
            }
            if !told {
                crate::util::notice::notice(format_args!(
                    "labgrid place `{}` is held by {by}: waiting up to {} s for it",
                    spec.place,
                    spec.acquire_timeout.as_secs()
                ));
                told = true;
            }
            // Slept in slices: a cancelled wait ends within a tenth of a second.
            let until = Instant::now() + POLL;
            while Instant::now() < until && !wait.cancel.load(Ordering::SeqCst) {
                std::thread::sleep(POLL / 10);
            }
        }
    }

    /// The board's config with the place's console (and its power switch as the hard
    /// reset, when the place has one).
    pub fn board_config(&self, config: &BoardConfig) -> BoardConfig {
        let mut config = config.clone();
        let serial = config.serial.get_or_insert(SerialConfig {
            console: None,
            usb_serial: None,
            baud: 115_200,
            reset: ResetMethod::None,
            consoles: Vec::new(),
        });
        serial.console = Some(self.resources.console.clone());
        if let Some(baud) = self.resources.baud {
            serial.baud = baud;
        }
        if self.resources.power {
            serial.reset = ResetMethod::Hook;
        }
        config
    }

    /// The place's power cycle as a reset hook (when it has a power switch).
    pub fn power_cycle(&self) -> Option<PowerCycle> {
        self.resources.power.then(|| PowerCycle {
            client: self.client.clone(),
        })
    }
}

impl Drop for HeldPlace {
    fn drop(&mut self) {
        let _releasing = RELEASING.lock().unwrap_or_else(|p| p.into_inner());
        let guardian = lock().remove(&self.id);
        if let Some(g) = guardian {
            release(&self.client.spec.place, g, self.acquired);
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, BTreeMap<u64, Guardian>> {
    GUARDIANS.lock().unwrap_or_else(|p| p.into_inner())
}

fn release(place: &str, guardian: Guardian, acquired: bool) {
    if let Err(e) = guardian.release(acquired) {
        crate::util::notice::notice(format_args!(
            "labgrid place `{place}` may still be held: {e}"
        ));
    }
}

/// Releases every place this process holds (on the way out, before children are
/// killed). Whether an acquire succeeded is not known here: each guardian calls
/// `release-from`, a no-op for a place that is not ours.
pub fn release_all() {
    let _releasing = RELEASING.lock().unwrap_or_else(|p| p.into_inner());
    let all = std::mem::take(&mut *lock());
    for (_, g) in all {
        release("(on exit)", g, true);
    }
}
