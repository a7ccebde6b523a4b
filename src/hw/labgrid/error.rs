//! What can go wrong talking to a labgrid coordinator, with what a user needs to act.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LabgridError {
    /// `labgrid-client` could not be started at all.
    #[error("could not run {client}: {source}")]
    Spawn {
        client: String,
        #[source]
        source: std::io::Error,
    },
    /// `labgrid-client` said no (coordinator unreachable, no such place, ...): its words.
    #[error("labgrid place `{place}` ({coordinator}): `labgrid-client {command}` failed: {said}")]
    Client {
        place: String,
        coordinator: String,
        command: String,
        said: String,
    },
    /// `labgrid-client` did not finish: the coordinator or the network hangs.
    #[error("labgrid place `{place}` ({coordinator}): `labgrid-client {command}` did not finish in {} s", .after.as_secs())]
    Hung {
        place: String,
        coordinator: String,
        command: String,
        after: Duration,
    },
    /// Someone else held the place for the whole acquire timeout.
    #[error(
        "labgrid place `{place}` ({coordinator}) is still held by {holder} after {} s: wait for it, release it (`labgrid-client -p {place} release`), or raise `labgrid.acquire_timeout` in {board_file}",
        .waited.as_secs()
    )]
    StillHeld {
        place: String,
        coordinator: String,
        holder: String,
        waited: Duration,
        board_file: String,
    },
    /// The place's resources do not give mpcheck a console it can open.
    #[error("labgrid place `{place}`: {message}")]
    Resources { place: String, message: String },
    /// The run ended (or stopped needing the place) while waiting for it.
    #[error("labgrid place `{place}` was no longer needed when the wait for it ended")]
    NotNeeded { place: String },
    /// Ctrl-C or SIGTERM arrived while waiting for the place.
    #[error("interrupted while waiting for labgrid place `{place}`")]
    Interrupted { place: String },
}
