//! `mpcheck probes`: the debug probes attached to this machine and whether this user may
//! open them. With none attached it says so plainly.

use crate::hw::flash::probes::list_probes;
use crate::util::error::{Result, exit};

pub fn probes() -> Result<i32> {
    let probes = list_probes();
    if probes.is_empty() {
        println!("no debug probes attached (probe-rs sees no USB debug probe on this machine)");
        return Ok(exit::OK);
    }
    println!("{:<28}  {:<30}  access", "selector", "probe");
    for p in probes {
        let access = if p.accessible {
            "ok"
        } else {
            "no permission (install probe-rs's udev rules, see WIRING.md)"
        };
        println!("{:<28}  {:<30}  {access}", p.selector(), p.identifier);
    }
    Ok(exit::OK)
}
