//! A place's power switch as the last rung of the recovery ladder: `labgrid-client
//! power cycle` (off, the driver's delay, on), then the console is opened again (a power
//! cycle may drop the network console's connection).

use super::client::Client;
use crate::device::transport::ResetHook;

pub struct PowerCycle {
    pub client: Client,
}

impl ResetHook for PowerCycle {
    fn reset(&mut self) -> std::io::Result<()> {
        self.client
            .call_ok(&["power", "cycle"])
            .map(|_| ())
            .map_err(std::io::Error::other)
    }

    fn describe(&self) -> String {
        format!("labgrid place `{}` power cycle", self.client.spec.place)
    }

    fn reopens_console(&self) -> bool {
        true
    }
}
