//! A pool of identical boards in labgrid places (`labgrid: {places: [a, b]}`): each place
//! is acquired on a thread of its own, with the acquire rules of one place (waiting while
//! someone else holds it, up to the board file's `acquire_timeout`), and joins the
//! board's sessions once held and connected. The run starts on the first member that joins; a member
//! whose place cannot be acquired is left out, saying why, while the others go on.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use super::members::{Member, Sessions};
use crate::boardfile::labgrid::LabgridSpec;
use crate::boardfile::{Board, BoardConfig};
use crate::device::BoardSession;
use crate::hw::labgrid::client::Client;
use crate::hw::labgrid::held::Wait;
use crate::hw::labgrid::{HeldPlace, LabgridError};

/// A member's first session, connected as soon as its place is held (beside the other
/// members, not when a trial first waits for it: a second micro:bit through ser2net
/// takes ~3.5 s to connect, as long as a dozen of its trials).
fn connect(member: &Member) -> Result<BoardSession, String> {
    member.lock_console()?;
    let hook = member.place.as_ref().and_then(|p| p.power_cycle());
    let hook = hook.map(|p| Box::new(p) as Box<dyn crate::device::transport::ResetHook>);
    BoardSession::connect_then(&member.config, hook, None).map_err(|e| e.to_string())
}

/// The threads acquiring a pool's places: told to stop waiting, and joined, on drop (a
/// place acquired meanwhile is released with its member).
pub struct Acquiring {
    cancel: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Drop for Acquiring {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Starts acquiring every place of `lg` for `board`; its members join `sessions` (made
/// here, every place pending) as they are acquired.
pub fn acquire(
    board: &Board,
    lg: &LabgridSpec,
    config: &BoardConfig,
    instances: usize,
    client_binary: &Path,
    log_dir: &Path,
) -> (Arc<Sessions>, Acquiring) {
    let sessions = Arc::new(Sessions::new(
        &board.name,
        instances,
        Vec::new(),
        &lg.places,
    ));
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads = lg
        .places
        .iter()
        .map(|place| {
            let client = Client::new(client_binary.to_path_buf(), lg.member(place));
            let (sessions, cancel) = (sessions.clone(), cancel.clone());
            let (file, log_dir, config) = (
                board.file.display().to_string(),
                log_dir.to_path_buf(),
                config.clone(),
            );
            let place = place.clone();
            std::thread::spawn(move || {
                let told = sessions.clone();
                let held_as = place.clone();
                let wait = Wait {
                    cancel,
                    held: Some(Box::new(move |by: &str| told.held(&held_as, by))),
                };
                match HeldPlace::acquire_for(client, &file, &log_dir, &wait) {
                    Ok(held) => {
                        let config = held.board_config(&config);
                        let member = Member::new(&place, config, Some(held));
                        match connect(&member) {
                            Ok(session) => sessions.join(member, Some(session)),
                            // Dropped: its place is released for others at once.
                            Err(e) => sessions.fail(&place, format!("could not connect: {e}")),
                        }
                    }
                    // The run ended first: the member stays pending (the report says
                    // who held it).
                    Err(LabgridError::NotNeeded { .. }) => {}
                    Err(e) => sessions.fail(&place, e.to_string()),
                }
            })
        })
        .collect();
    (sessions, Acquiring { cancel, threads })
}
