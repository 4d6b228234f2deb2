//! A native IPMI v2.0 (RMCP+, "lanplus") client: enough of the protocol to read and switch a
//! host's power, and nothing that would let an unauthenticated answer through. Every reply is
//! checked for integrity (HMAC) and decrypted (AES-CBC-128) before it is believed; requests
//! are retransmitted until answered or their deadline passes; sessions are closed after use.
//!
//! Layout: `crypto` (RAKP codes, keys, HMAC, AES), `wire` (byte layouts), `link` (the UDP
//! socket and retransmission), `session` (the handshake and requests over the link); this module has the public types and the verified power
//! operations built on them.

mod crypto;
mod link;
mod session;
pub(crate) mod wire;

use std::time::Duration;

use lifeboat_core::config::Secret;
use lifeboat_core::fencing::{PowerAction, PowerState};
use tokio::time::Instant;

pub use crypto::CipherSuite;
pub use session::Session;

/// The IPMI port.
pub const DEFAULT_PORT: u16 = 623;

/// Which cipher suites to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherChoice {
    /// Suite 17 (SHA-256) where the BMC offers it, else suite 3.
    Auto,
    /// Only this suite.
    Only(CipherSuite),
}

impl std::str::FromStr for CipherChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "3" => Ok(Self::Only(CipherSuite::Suite3)),
            "17" => Ok(Self::Only(CipherSuite::Suite17)),
            other => Err(format!(
                "cipher suite '{other}' is not supported; use auto, 3 or 17"
            )),
        }
    }
}

/// The privilege a session asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// USER: may read status only.
    User,
    /// OPERATOR: may switch power.
    Operator,
    /// ADMINISTRATOR (fence_ipmilan's default).
    Administrator,
}

impl Privilege {
    /// The IPMI privilege level number.
    pub fn level(self) -> u8 {
        match self {
            Self::User => 0x02,
            Self::Operator => 0x03,
            Self::Administrator => 0x04,
        }
    }
}

impl std::str::FromStr for Privilege {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "user" => Ok(Self::User),
            "operator" => Ok(Self::Operator),
            "administrator" | "admin" => Ok(Self::Administrator),
            other => Err(format!(
                "privilege '{other}' is not one of user, operator, administrator"
            )),
        }
    }
}

/// A BMC and how to log in to it.
#[derive(Debug, Clone)]
pub struct IpmiTarget {
    /// `host`, `host:port`, `[v6]` or `[v6]:port` (port 623 by default).
    pub address: String,
    /// User name (at most 16 bytes).
    pub username: String,
    /// Password (at most 20 bytes).
    pub password: Secret,
    /// The BMC key (Kg), when the BMC has one set.
    pub kg: Option<Secret>,
    /// The privilege to work at.
    pub privilege: Privilege,
    /// Cipher suites to offer.
    pub cipher: CipherChoice,
}

/// How long to wait for answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Resend a request that has no answer after this long.
    pub retransmit: Duration,
    /// Give up on a request (with its retransmissions) after this long.
    pub timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            retransmit: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Chassis Control commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChassisControl {
    /// Hard power off.
    PowerDown = 0x00,
    /// Power on.
    PowerUp = 0x01,
    /// Off, then on again after a BMC-chosen pause.
    PowerCycle = 0x02,
    /// Hard reset (power stays on).
    HardReset = 0x03,
}

/// What Get Chassis Status says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChassisStatus {
    /// System power is on.
    pub power_on: bool,
    /// The last power control request failed.
    pub power_fault: bool,
}

impl ChassisStatus {
    /// On or off.
    pub fn power(self) -> PowerState {
        if self.power_on {
            PowerState::On
        } else {
            PowerState::Off
        }
    }
}

/// Why an IPMI operation failed. Messages name the BMC and what went wrong, never the password.
#[derive(Debug, thiserror::Error)]
pub enum IpmiError {
    /// The address does not parse or resolve.
    #[error("BMC address {address} is not usable: {reason}")]
    Address {
        /// The address as configured.
        address: String,
        /// Why.
        reason: String,
    },
    /// The credentials are out of IPMI's limits.
    #[error("the BMC credentials are not valid: {reason}")]
    Credentials {
        /// Why.
        reason: String,
    },
    /// The local socket could not be set up.
    #[error("opening a UDP socket towards {address} failed")]
    Socket {
        /// The BMC.
        address: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No (acceptable) answer within the deadline.
    #[error("the BMC at {address} did not answer {step} within {after:.1?}{note}")]
    NoAnswer {
        /// The BMC.
        address: String,
        /// What was asked.
        step: &'static str,
        /// How long we waited.
        after: Duration,
        /// What was heard instead, if anything.
        note: String,
    },
    /// The BMC does not speak RMCP+.
    #[error("the BMC at {address} does not support IPMI 2.0 (RMCP+)")]
    NoRmcpPlus {
        /// The BMC.
        address: String,
    },
    /// Open Session was refused.
    #[error(
        "the BMC at {address} refused to open a session with cipher suite {suite}: {reason} (status {status:#04x})"
    )]
    OpenSession {
        /// The BMC.
        address: String,
        /// The suite proposed last.
        suite: u8,
        /// RMCP+ status code.
        status: u8,
        /// Its meaning.
        reason: &'static str,
    },
    /// RAKP was refused.
    #[error("the BMC at {address} refused user {user}: {reason} (status {status:#04x})")]
    Rakp {
        /// The BMC.
        address: String,
        /// The user.
        user: String,
        /// RMCP+ status code.
        status: u8,
        /// Its meaning.
        reason: &'static str,
    },
    /// The password (or the BMC key) is wrong, or the peer is not the BMC it claims to be.
    #[error(
        "authentication as user {user} at the BMC {address} failed: wrong password (the BMC's proof of the password does not match ours)"
    )]
    Authentication {
        /// The BMC.
        address: String,
        /// The user.
        user: String,
    },
    /// The user's privilege is too low for the command.
    #[error(
        "user {user} at the BMC {address} lacks the privilege for {command} (completion code {code:#04x}); power control needs an OPERATOR or ADMINISTRATOR account"
    )]
    InsufficientPrivilege {
        /// The BMC.
        address: String,
        /// The user.
        user: String,
        /// The refused command.
        command: &'static str,
        /// Completion code.
        code: u8,
    },
    /// A command returned a failure completion code.
    #[error("{command} failed at the BMC {address}: {meaning} (completion code {code:#04x})")]
    Command {
        /// The BMC.
        address: String,
        /// The command.
        command: &'static str,
        /// Completion code.
        code: u8,
        /// Its meaning.
        meaning: &'static str,
    },
    /// An answer was authentic but not what the command returns.
    #[error("{command}: the BMC at {address} sent a malformed answer")]
    Malformed {
        /// The BMC.
        address: String,
        /// The command.
        command: &'static str,
    },
    /// The power did not reach the wanted state in time.
    #[error("the BMC at {address} still did not read power {wanted:?} {after:.1?} after {action}")]
    NotVerified {
        /// The BMC.
        address: String,
        /// The state wanted.
        wanted: PowerState,
        /// The command sent.
        action: &'static str,
        /// How long we polled.
        after: Duration,
    },
}

/// Splits `host[:port]` / `[v6][:port]`, the port defaulting to 623.
pub(crate) fn split_address(address: &str) -> Result<(String, u16), IpmiError> {
    split_address_port(address).map(|(h, p)| (h, p.unwrap_or(DEFAULT_PORT)))
}

/// Splits `host[:port]` / `[v6][:port]`; the port only if one is written.
pub fn split_address_port(address: &str) -> Result<(String, Option<u16>), IpmiError> {
    let bad = |reason: &str| IpmiError::Address {
        address: address.to_owned(),
        reason: reason.to_owned(),
    };
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| bad("the port is not a number"))
    };
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((host.to_owned(), Some(port(p)?))),
            None if after.is_empty() => Ok((host.to_owned(), None)),
            None => Err(bad("unexpected text after ']'")),
        };
    }
    let (host, p) = match address.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(port(p)?)),
        // More than one colon without brackets: a bare IPv6 address.
        _ => (address, None),
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err(bad("the host name is empty or has spaces"));
    }
    Ok((host.to_owned(), p))
}

/// Completion codes, in words.
pub(crate) fn completion_meaning(code: u8) -> &'static str {
    match code {
        0xC0 => "the BMC is busy",
        0xC1 => "invalid command",
        0xC3 => "timeout while processing",
        0xC4 => "out of space",
        0xC7 => "invalid request length",
        0xC9 => "parameter out of range",
        0xCC => "invalid data field",
        0xCE => "the command cannot be answered now",
        0xD3 => "the destination is unavailable",
        0xD4 => "insufficient privilege",
        0xD5 => "not supported in the present state",
        0xD6 => "the parameter is disabled",
        0xFF => "unspecified error",
        _ => "unknown completion code",
    }
}

/// The outcome of a power operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerOutcome {
    /// The state read at the end.
    pub state: PowerState,
    /// What happened, for operators (e.g. "powered off, verified after 3 ms").
    pub message: String,
}

/// How long to poll for a new power state, and how often at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// Give up (unverified: a failure) after this long.
    pub timeout: Duration,
    /// Longest pause between two looks (the first look is immediate, then they back off).
    pub interval: Duration,
}

impl Default for Verification {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            interval: Duration::from_secs(1),
        }
    }
}

/// Power operations on one BMC, each in its own short session.
#[derive(Debug, Clone)]
pub struct IpmiClient {
    target: IpmiTarget,
    timing: Timing,
}

impl IpmiClient {
    /// A client for `target`.
    pub fn new(target: IpmiTarget, timing: Timing) -> Self {
        Self { target, timing }
    }

    /// The BMC's address.
    pub fn address(&self) -> &str {
        &self.target.address
    }

    /// Opens a session (callers must [`Session::close`] it).
    pub async fn session(&self) -> Result<Session, IpmiError> {
        Session::open(&self.target, self.timing).await
    }

    /// Runs `action`: `status` reads; `off` and `on` switch and verify (already being there
    /// counts as done); `reboot` is a verified off, then a verified on.
    pub async fn run(
        &self,
        action: PowerAction,
        verify: Verification,
    ) -> Result<PowerOutcome, IpmiError> {
        let mut session = self.session().await?;
        let result = self.run_in(&mut session, action, verify).await;
        session.close().await;
        result
    }

    async fn run_in(
        &self,
        session: &mut Session,
        action: PowerAction,
        verify: Verification,
    ) -> Result<PowerOutcome, IpmiError> {
        if action == PowerAction::Status {
            let state = session.chassis_status().await?.power();
            return Ok(PowerOutcome {
                state,
                message: format!("power is {}", state_word(state)),
            });
        }
        session.raise_privilege().await?;
        session.check_power_privilege().await?;
        match action {
            PowerAction::Status | PowerAction::Off => {
                self.switch(session, PowerState::Off, verify).await
            }
            PowerAction::On => self.switch(session, PowerState::On, verify).await,
            PowerAction::Reboot => {
                let off = self.switch(session, PowerState::Off, verify).await?;
                let on = self.switch(session, PowerState::On, verify).await?;
                Ok(PowerOutcome {
                    state: on.state,
                    message: format!("{}; then {}", off.message, on.message),
                })
            }
        }
    }

    /// Brings power to `want` and polls Get Chassis Status until it reads so.
    async fn switch(
        &self,
        session: &mut Session,
        want: PowerState,
        verify: Verification,
    ) -> Result<PowerOutcome, IpmiError> {
        if session.chassis_status().await?.power() == want {
            return Ok(PowerOutcome {
                state: want,
                message: format!("power was already {}", state_word(want)),
            });
        }
        let (control, action) = match want {
            PowerState::Off => (ChassisControl::PowerDown, "power down"),
            PowerState::On => (ChassisControl::PowerUp, "power up"),
        };
        let started = Instant::now();
        session.chassis_control(control).await?;
        // Start small: a BMC that switches at once is confirmed at once; slow ones back off to
        // `interval`.
        let mut pause = Duration::from_millis(5);
        loop {
            if session.chassis_status().await?.power() == want {
                return Ok(PowerOutcome {
                    state: want,
                    message: format!(
                        "powered {}, verified after {} ms",
                        state_word(want),
                        started.elapsed().as_millis()
                    ),
                });
            }
            if started.elapsed() >= verify.timeout {
                return Err(IpmiError::NotVerified {
                    address: self.target.address.clone(),
                    wanted: want,
                    action,
                    after: started.elapsed(),
                });
            }
            tokio::time::sleep(pause.min(verify.timeout.saturating_sub(started.elapsed()))).await;
            pause = (pause * 2).min(verify.interval);
        }
    }
}

pub use lifeboat_core::fencing::power_word as state_word;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(split_address("10.0.0.5").unwrap(), ("10.0.0.5".into(), 623));
        assert_eq!(
            split_address("bmc.example:6230").unwrap(),
            ("bmc.example".into(), 6230)
        );
        assert_eq!(split_address("[::1]:9623").unwrap(), ("::1".into(), 9623));
        assert_eq!(split_address("[::1]").unwrap(), ("::1".into(), 623));
        assert_eq!(split_address("fe80::1").unwrap(), ("fe80::1".into(), 623));
        for bad in ["", "host:port", "[::1", "[::1]x", "a b"] {
            assert!(split_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cipher_and_privilege_names_parse() {
        assert_eq!("auto".parse(), Ok(CipherChoice::Auto));
        assert_eq!("3".parse(), Ok(CipherChoice::Only(CipherSuite::Suite3)));
        assert!("0".parse::<CipherChoice>().is_err());
        assert_eq!("OPERATOR".parse(), Ok(Privilege::Operator));
        assert!("root".parse::<Privilege>().is_err());
    }
}
