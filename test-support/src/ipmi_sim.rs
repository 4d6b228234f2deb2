//! A real simulated BMC for tests: `ipmi_sim` (Debian `openipmi`) on 127.0.0.1 (or another
//! local address) and a free port, with its configuration in a temporary directory, stopped
//! when dropped.
//!
//! Users: `admin`/`password` (ADMINISTRATOR), `oper`/`operpass` (OPERATOR), `viewer`/`viewpass`
//! (USER). The chassis power lives in a file, so tests can read and set it directly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::fail;

/// The setup script that installs the peers.
pub const SETUP_HINT: &str = "run `scripts/setup/fence.sh` (or `scripts/test-setup.sh`) to install openipmi, ipmitool and fence-agents";

/// A running ipmi_sim.
#[derive(Debug)]
pub struct IpmiSim {
    dir: tempfile::TempDir,
    ip: String,
    port: u16,
    child: Child,
}

/// A UDP port nothing listens on right now.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(&format!("no free UDP port: {e}")))
}

/// Finds a program on PATH or in /usr/sbin, or fails the test with the install hint.
pub fn require_program(name: &str) -> PathBuf {
    let dirs = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| fail(&format!("{name} is not installed: {SETUP_HINT}")))
}

/// Get Channel Authentication Capabilities (netFn 0x06, cmd 0x38, channel 0x8E, ADMINISTRATOR)
/// in an IPMI 1.5 packet outside any session: what any BMC answers once it listens.
const CHANNEL_AUTH_PROBE: [u8; 23] = [
    0x06, 0x00, 0xFF, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x20, 0x18,
    0xC8, 0x81, 0x04, 0x38, 0x8E, 0x04, 0xB1,
];

const CHASSIS_SCRIPT: &str = r#"#!/bin/sh
# ipmi_sim's chassis_control program: `<mc> get power…` and `<mc> set power N`.
d="$(dirname "$0")"
echo "$@" >> "$d/chassis.log"
shift
op="$1"; shift
if [ "$op" = get ]; then
  for p in "$@"; do
    case "$p" in
      power) echo "power:$(cat "$d/power.state")";;
      reset) echo "reset:0";;
      boot) echo "boot:default";;
    esac
  done
elif [ "$op" = set ]; then
  while [ $# -ge 2 ]; do
    # A stuck chassis accepts the command and does nothing (for verification tests).
    if [ "$1" = power ] && [ ! -e "$d/stuck" ]; then echo "$2" > "$d/power.state"; fi
    shift 2
  done
fi
exit 0
"#;

impl IpmiSim {
    /// Starts ipmi_sim on 127.0.0.1 with the chassis powered on; waits until it answers.
    pub fn start() -> Self {
        Self::start_at("127.0.0.1")
    }

    /// Starts ipmi_sim on `ip`, an address of this network namespace (e.g. of a link other
    /// namespaces reach it through), with the chassis powered on; waits until it answers.
    pub fn start_at(ip: &str) -> Self {
        let program = require_program("ipmi_sim");
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("tempdir: {e}")));
        let port = free_udp_port();
        let d = dir.path();
        let write = |name: &str, text: &str| {
            std::fs::write(d.join(name), text)
                .unwrap_or_else(|e| fail(&format!("writing {name}: {e}")));
        };
        write(
            "lan.conf",
            &format!(
                "name \"fakebmc\"\nset_working_mc 0x20\n  startlan 1\n    addr {ip} {port}\n    \
                 priv_limit admin\n    allowed_auths_callback none md2 md5 straight\n    \
                 allowed_auths_user none md2 md5 straight\n    allowed_auths_operator none md2 md5 straight\n    \
                 allowed_auths_admin none md2 md5 straight\n    guid a123456789abcdefa123456789abcdef\n  endlan\n  \
                 chassis_control \"{} 0x20\"\n  \
                 user 2 true  \"admin\"  \"password\" admin    10 none md2 md5 straight\n  \
                 user 3 true  \"viewer\" \"viewpass\" user     10 none md2 md5 straight\n  \
                 user 4 true  \"oper\"   \"operpass\" operator 10 none md2 md5 straight\n",
                d.join("chassis.sh").display()
            ),
        );
        write(
            "fakebmc.emu",
            "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\n\
             sel_enable 0x20 1000 0x0a\nmc_enable 0x20\n",
        );
        write("chassis.sh", CHASSIS_SCRIPT);
        write("power.state", "1\n");
        set_executable(&d.join("chassis.sh"));
        std::fs::create_dir_all(d.join("state"))
            .unwrap_or_else(|e| fail(&format!("state dir: {e}")));
        let log = std::fs::File::create(d.join("sim.out"))
            .unwrap_or_else(|e| fail(&format!("sim.out: {e}")));
        let child = Command::new(&program)
            .arg("-c")
            .arg(d.join("lan.conf"))
            .arg("-f")
            .arg(d.join("fakebmc.emu"))
            .arg("-s")
            .arg(d.join("state"))
            .arg("-n")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap_or_else(|e| fail(&e.to_string())))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| fail(&format!("starting {}: {e}", program.display())));
        let sim = Self {
            dir,
            ip: ip.to_owned(),
            port,
            child,
        };
        sim.wait_ready();
        sim
    }

    fn wait_ready(&self) {
        let socket = std::net::UdpSocket::bind((self.ip.as_str(), 0))
            .unwrap_or_else(|e| fail(&format!("probe socket: {e}")));
        let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
        let probe = CHANNEL_AUTH_PROBE;
        let mut buf = [0u8; 512];
        for _ in 0..200 {
            let _ = socket.send_to(&probe, (self.ip.as_str(), self.port));
            if socket.recv(&mut buf).is_ok() {
                return;
            }
        }
        fail(&format!(
            "ipmi_sim did not answer on {}; its output:\n{}",
            self.address(),
            std::fs::read_to_string(self.dir.path().join("sim.out")).unwrap_or_default()
        ))
    }

    /// `<ip>:<port>` (`127.0.0.1:<port>` unless started elsewhere).
    pub fn address(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// The UDP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of its files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the simulated chassis is powered on.
    pub fn power_on(&self) -> bool {
        std::fs::read_to_string(self.dir.path().join("power.state"))
            .map(|s| s.trim() == "1")
            .unwrap_or_else(|e| fail(&format!("power.state: {e}")))
    }

    /// Sets the simulated chassis power directly.
    pub fn set_power_on(&self, on: bool) {
        std::fs::write(
            self.dir.path().join("power.state"),
            if on { "1\n" } else { "0\n" },
        )
        .unwrap_or_else(|e| fail(&format!("power.state: {e}")));
    }

    /// A stuck chassis accepts power commands and does nothing.
    pub fn set_stuck(&self, stuck: bool) {
        let path = self.dir.path().join("stuck");
        let result = if stuck {
            std::fs::write(&path, "")
        } else {
            std::fs::remove_file(&path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
        };
        result.unwrap_or_else(|e| fail(&format!("stuck flag: {e}")));
    }

    /// Every `set power N` the BMC carried out, in order.
    pub fn power_commands(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("chassis.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" set "))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for IpmiSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| fail(&format!("chmod {}: {e}", path.display())));
}
