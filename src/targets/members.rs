//! A board's members and their sessions: one member for a board on one console, several
//! for a pool of identical boards (labgrid places of one family). Each member connects
//! up to `instances` sessions; a trial checks out any idle session, so the board's lanes
//! share one queue over every member. A member that cannot connect, or dies, is left out
//! (said on stderr, kept for the report) while the others go on; the board is dead once
//! no member is left and none is still being acquired.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::boardfile::BoardConfig;
use crate::device::BoardSession;

/// One board of a pool (or a board's only one): its console, the place it lives in.
pub struct Member {
    pub name: String,
    pub config: BoardConfig,
    /// The labgrid place it lives in: held as long as the member, its power switch the
    /// hard reset.
    pub place: Option<crate::hw::labgrid::HeldPlace>,
    /// A serial console's lock, held while this process drives it.
    lock: Mutex<Option<std::fs::File>>,
}

/// What became of a member of a pool, for the reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberState {
    pub board: String,
    pub member: String,
    /// Why it ran no trial or stopped running them (`None`: it ran the run's trials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl Member {
    pub fn new(
        name: &str,
        config: BoardConfig,
        place: Option<crate::hw::labgrid::HeldPlace>,
    ) -> Member {
        Member {
            name: name.to_string(),
            config,
            place,
            lock: Mutex::default(),
        }
    }

    /// A serial board is one physical board: a lock file keyed by its console keeps two
    /// mpcheck processes (other checkouts, other CI jobs) from driving it at once. QEMU
    /// instances are private to this process and need none.
    pub fn lock_console(&self) -> Result<(), String> {
        let Some(serial) = &self.config.serial else {
            return Ok(());
        };
        let mut held = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let key = serial
            .console
            .clone()
            .or_else(|| serial.usb_serial.clone())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join("mpcheck-locks");
        let path = dir.join(format!(
            "{}.lock",
            key.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
        let file = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::File::create(&path))
            .map_err(|e| format!("could not create lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(())
            }
            Err(_) => Err(format!(
                "console {key} is in use by another mpcheck process (lock {})",
                path.display()
            )),
        }
    }
}

struct Slot {
    member: Arc<Member>,
    /// Sessions checked out or being connected.
    busy: usize,
    /// Set once the member cannot be brought back: why.
    dead: Option<String>,
}

#[derive(Default)]
struct Pool {
    slots: Vec<Slot>,
    /// Idle sessions, with the index of their member's slot.
    idle: Vec<(usize, BoardSession)>,
    /// Members still being acquired, by name: who holds their place (empty: not known).
    pending: BTreeMap<String, String>,
    /// Members that never joined, and why.
    failed: Vec<(String, String)>,
    /// What the connected firmware reported, for the report.
    version: Option<String>,
}

/// The sessions of one board, over its members.
pub struct Sessions {
    board: String,
    instances: usize,
    /// Members named by the board file (joined, pending or failed).
    size: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
}

impl Sessions {
    /// `members` ready now, `pending` (names) to [`Sessions::join`] or
    /// [`Sessions::fail`] later.
    pub fn new(
        board: &str,
        instances: usize,
        members: Vec<Member>,
        pending: &[String],
    ) -> Sessions {
        Sessions {
            board: board.to_string(),
            instances,
            size: members.len() + pending.len(),
            pool: Mutex::new(Pool {
                slots: members
                    .into_iter()
                    .map(|m| Slot {
                        member: Arc::new(m),
                        busy: 0,
                        dead: None,
                    })
                    .collect(),
                pending: pending.iter().map(|p| (p.clone(), String::new())).collect(),
                ..Pool::default()
            }),
            freed: Condvar::new(),
        }
    }

    /// A pool of several members: outcomes say which one ran them.
    pub fn is_pool(&self) -> bool {
        self.size > 1
    }

    pub fn instances(&self) -> usize {
        self.instances
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A pending member is ready (`session`: already connected): its sessions may be
    /// checked out from now on.
    pub fn join(&self, member: Member, session: Option<BoardSession>) {
        let mut pool = self.lock();
        pool.pending.remove(&member.name);
        if let Some(v) = session.as_ref().and_then(|s| s.features().version.clone()) {
            pool.version.get_or_insert(v);
        }
        let m = pool.slots.len();
        pool.idle.extend(session.map(|s| (m, s)));
        crate::util::notice::notice(format_args!(
            "board `{}`: pool member `{}` joins the run",
            self.board, member.name
        ));
        pool.slots.push(Slot {
            member: Arc::new(member),
            busy: 0,
            dead: None,
        });
        self.freed.notify_all();
    }

    /// A pending member will not join (its place could not be acquired): why.
    pub fn fail(&self, member: &str, why: String) {
        let mut pool = self.lock();
        pool.pending.remove(member);
        if !crate::util::interrupt::requested() {
            crate::util::notice::notice(format_args!(
                "board `{}`: pool member `{member}` is left out: {why}",
                self.board
            ));
        }
        pool.failed.push((member.to_string(), why));
        self.freed.notify_all();
    }

    /// A pending member's place is held by `holder` (while the member waits for it).
    pub fn held(&self, member: &str, holder: &str) {
        if let Some(h) = self.lock().pending.get_mut(member) {
            *h = holder.to_string();
        }
    }

    /// Why the board can run nothing more: no member left, none pending.
    fn gone(&self, pool: &Pool) -> Option<String> {
        if !pool.pending.is_empty() || pool.slots.iter().any(|s| s.dead.is_none()) {
            return None;
        }
        let mut causes: Vec<(&str, &str)> = pool
            .slots
            .iter()
            .map(|s| (s.member.name.as_str(), s.dead.as_deref().unwrap_or("")))
            .chain(pool.failed.iter().map(|(m, w)| (m.as_str(), w.as_str())))
            .collect();
        // By name: the same message whichever member gave up first.
        causes.sort_unstable();
        Some(match causes.as_slice() {
            [(_, why)] if !self.is_pool() => format!("board `{}` is dead: {why}", self.board),
            _ => format!(
                "board `{}` is dead: no member of its pool is left ({})",
                self.board,
                causes
                    .iter()
                    .map(|(m, w)| format!("{m}: {w}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        })
    }

    /// A connected session and its member's index: an idle one, a new one on a member
    /// under the instance count (`connect` makes it), or the next one returned.
    pub fn checkout(
        &self,
        connect: &dyn Fn(&Member) -> Result<BoardSession, String>,
    ) -> Result<(usize, BoardSession), String> {
        let mut pool = self.lock();
        loop {
            if let Some(why) = self.gone(&pool) {
                return Err(why);
            }
            if let Some((m, s)) = pool.idle.pop() {
                pool.slots[m].busy += 1;
                return Ok((m, s));
            }
            let free = pool
                .slots
                .iter()
                .position(|s| s.dead.is_none() && s.busy < self.instances);
            let Some(m) = free else {
                pool = self.freed.wait(pool).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            pool.slots[m].busy += 1;
            let member = pool.slots[m].member.clone();
            drop(pool);
            let connected = connect(&member);
            pool = self.lock();
            match connected {
                Ok(s) => {
                    if let Some(v) = &s.features().version {
                        pool.version.get_or_insert_with(|| v.clone());
                    }
                    return Ok((m, s));
                }
                Err(e) => {
                    pool.slots[m].busy -= 1;
                    self.kill(&mut pool, m, format!("could not connect: {e}"));
                }
            }
        }
    }

    /// Marks member `m` dead (its idle sessions dropped), saying so in a pool.
    fn kill(&self, pool: &mut Pool, m: usize, cause: String) {
        if pool.slots[m].dead.is_some() {
            return;
        }
        pool.idle.retain(|(i, _)| *i != m);
        if self.is_pool() {
            crate::util::notice::notice(format_args!(
                "board `{}`: pool member `{}` is left out: {cause}",
                self.board, pool.slots[m].member.name
            ));
        }
        pool.slots[m].dead = Some(cause);
        self.freed.notify_all();
    }

    /// Returns member `m`'s session, or drops it (and marks the member dead) when the
    /// session reported its board beyond recovery.
    pub fn checkin(&self, m: usize, session: Option<BoardSession>, dead: Option<String>) {
        let mut pool = self.lock();
        pool.slots[m].busy -= 1;
        match dead {
            Some(cause) => self.kill(&mut pool, m, cause),
            None => pool.idle.extend(session.map(|s| (m, s))),
        }
        self.freed.notify_all();
    }

    /// Member `m` (its name, config, place).
    pub fn member(&self, m: usize) -> Arc<Member> {
        self.lock().slots[m].member.clone()
    }

    /// Stops every idle session: the next case connects afresh.
    pub fn restart_all(&self) {
        self.lock().idle.clear();
    }

    pub fn version(&self) -> Option<String> {
        self.lock().version.clone()
    }

    /// Every member named by the board file, and why each that ran nothing (or stopped)
    /// did; empty for a board that is not a pool.
    pub fn states(&self) -> Vec<MemberState> {
        if !self.is_pool() {
            return Vec::new();
        }
        let pool = self.lock();
        let state = |member: &str, unavailable: Option<String>| MemberState {
            board: self.board.clone(),
            member: member.to_string(),
            unavailable,
        };
        let mut states: Vec<MemberState> = pool
            .slots
            .iter()
            .map(|s| state(&s.member.name, s.dead.clone()))
            .chain(pool.failed.iter().map(|(m, w)| state(m, Some(w.clone()))))
            .chain(pool.pending.iter().map(|(m, holder)| {
                let why = match holder.as_str() {
                    "" => "not acquired before the run ended".to_string(),
                    h => format!("held by {h} for the whole run"),
                };
                state(m, Some(why))
            }))
            .collect();
        states.sort_by(|a, b| a.member.cmp(&b.member));
        states
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str) -> Member {
        Member::new(
            name,
            BoardConfig::qemu("microbit", "/no/such/firmware.hex"),
            None,
        )
    }

    #[test]
    fn a_member_that_cannot_connect_is_left_out_and_the_others_tried() {
        let s = Sessions::new("lg", 1, vec![member("mb1"), member("mb2")], &["mb0".into()]);
        s.held("mb0", "farm/alice");
        let tried = Mutex::new(Vec::new());
        // mb0 is still pending: fail it from another thread once both others failed.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while tried.lock().unwrap().len() < 2 {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                let states = s.states();
                assert_eq!(
                    states[0].unavailable.as_deref(),
                    Some("held by farm/alice for the whole run")
                );
                s.fail("mb0", "still held".into());
            });
            let Err(err) = s.checkout(&|m| {
                tried.lock().unwrap().push(m.name.clone());
                Err(format!("{} refused", m.name))
            }) else {
                panic!("no member connects")
            };
            assert_eq!(
                err,
                "board `lg` is dead: no member of its pool is left (mb0: still held; mb1: could not connect: mb1 refused; mb2: could not connect: mb2 refused)"
            );
        });
        assert_eq!(*tried.lock().unwrap(), ["mb1", "mb2"]);
        let states = s.states();
        assert_eq!(states.len(), 3);
        assert!(states.iter().all(|m| m.unavailable.is_some()), "{states:?}");
    }

    #[test]
    fn a_lone_board_is_dead_as_before_and_reports_no_members() {
        let s = Sessions::new("direct", 1, vec![member("direct")], &[]);
        let Err(err) = s.checkout(&|_| Err("no QEMU".into())) else {
            panic!("it cannot connect")
        };
        assert_eq!(err, "board `direct` is dead: could not connect: no QEMU");
        assert!(!s.is_pool() && s.states().is_empty());
    }
}
