//! What an acquired place offers, read from `labgrid-client env` (YAML: the place's
//! resources with their parameters), and the console URL mpcheck opens from it.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The resources mpcheck uses from a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceResources {
    /// `rfc2217://host:port` or `socket://host:port`, from the NetworkSerialPort.
    pub console: String,
    /// The NetworkSerialPort's `speed`.
    pub baud: Option<u32>,
    /// The place has a power switch (`labgrid-client power cycle` works).
    pub power: bool,
}

#[derive(Deserialize)]
struct EnvFile {
    targets: BTreeMap<String, EnvTarget>,
}

#[derive(Deserialize)]
struct EnvTarget {
    #[serde(default)]
    resources: Vec<BTreeMap<String, yaml_serde::Value>>,
}

#[derive(Deserialize)]
struct NetworkSerialPort {
    name: Option<String>,
    host: String,
    port: u16,
    /// labgrid's default is RFC 2217 (ser2net in telnet mode).
    #[serde(default = "rfc2217")]
    protocol: String,
    speed: Option<u32>,
}

fn rfc2217() -> String {
    "rfc2217".into()
}

/// The power resources labgrid-client's `power` command drives (labgrid 26).
const POWER_CLASSES: &[&str] = &[
    "NetworkPowerPort",
    "PDUDaemonPort",
    "NetworkUSBPowerPort",
    "NetworkSiSPMPowerPort",
    "TasmotaPowerPort",
    "NetworkYKUSHPowerPort",
    "NetworkSysfsGPIO",
];

/// Reads `labgrid-client env`'s YAML; the error is a message for the user.
pub fn parse(place: &str, yaml: &str) -> Result<PlaceResources, String> {
    let env: EnvFile = yaml_serde::from_str(yaml)
        .map_err(|e| format!("could not read `labgrid-client env` output: {e}"))?;
    let target = env
        .targets
        .get(place)
        .or_else(|| env.targets.values().next())
        .ok_or("`labgrid-client env` lists no target")?;
    let mut serial = Vec::new();
    let mut power = false;
    for resource in &target.resources {
        for (class, args) in resource {
            if class == "NetworkSerialPort" {
                let port: NetworkSerialPort = yaml_serde::from_value(args.clone())
                    .map_err(|e| format!("its NetworkSerialPort: {e}"))?;
                serial.push(port);
            }
            power |= POWER_CLASSES.contains(&class.as_str());
        }
    }
    let port = match serial.len() {
        1 => serial.remove(0),
        0 => {
            return Err(
                "it has no NetworkSerialPort: export the board's console (ser2net) from the exporter".into(),
            );
        }
        _ => {
            let names: Vec<String> = serial
                .iter()
                .map(|s| s.name.clone().unwrap_or_else(|| "NetworkSerialPort".into()))
                .collect();
            return Err(format!(
                "it has {} NetworkSerialPorts ({}): mpcheck needs exactly one console per place",
                serial.len(),
                names.join(", ")
            ));
        }
    };
    let scheme = match port.protocol.as_str() {
        "rfc2217" => "rfc2217",
        "raw" => "socket",
        other => {
            return Err(format!(
                "its NetworkSerialPort protocol `{other}` is not one mpcheck speaks (rfc2217, raw)"
            ));
        }
    };
    // An IPv6 address needs brackets before the port.
    let host = if port.host.contains(':') {
        format!("[{}]", port.host)
    } else {
        port.host
    };
    Ok(PlaceResources {
        console: format!("{scheme}://{host}:{}", port.port),
        baud: port.speed,
        power,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As labgrid-client 26.0.1 printed it for a place with a ser2net port and a switch.
    const ENV: &str = "targets:\n  pl:\n    resources:\n    - NetworkPowerPort:\n        host: http://127.0.0.1:47002/relay/{index}/{value}\n        model: simplerest\n        index: 0\n    - NetworkSerialPort:\n        host: 127.0.0.1\n        port: 47001\n        protocol: rfc2217\n        speed: 115200\n\n";

    #[test]
    fn console_and_power_from_env() {
        assert_eq!(
            parse("pl", ENV).unwrap(),
            PlaceResources {
                console: "rfc2217://127.0.0.1:47001".into(),
                baud: Some(115_200),
                power: true
            }
        );
        let raw = "targets:\n  p:\n    resources:\n    - NetworkSerialPort:\n        host: '::1'\n        port: 5\n        protocol: raw\n";
        assert_eq!(
            parse("p", raw).unwrap(),
            PlaceResources {
                console: "socket://[::1]:5".into(),
                baud: None,
                power: false
            }
        );
    }

    #[test]
    fn a_place_without_exactly_one_console_says_so() {
        let none = "targets:\n  p:\n    resources:\n    - NetworkPowerPort: {model: gude, host: x, index: 1}\n";
        assert!(
            parse("p", none)
                .unwrap_err()
                .contains("no NetworkSerialPort")
        );
        let two = "targets:\n  p:\n    resources:\n    - NetworkSerialPort: {name: a, host: h, port: 1}\n    - NetworkSerialPort: {name: b, host: h, port: 2}\n";
        assert!(
            parse("p", two)
                .unwrap_err()
                .contains("2 NetworkSerialPorts (a, b)")
        );
        let odd = "targets:\n  p:\n    resources:\n    - NetworkSerialPort: {host: h, port: 1, protocol: ssh}\n";
        assert!(parse("p", odd).unwrap_err().contains("protocol `ssh`"));
        assert!(
            parse("p", "nope: 1\n")
                .unwrap_err()
                .contains("could not read")
        );
    }
}
