//! The fencing seam: power a failed host off, and know that it is off, before its instances are
//! started anywhere else. Evacuating a host that is merely cut off from the network runs two
//! copies of each instance against the same disks.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Secret;
use crate::model::NewFenceDevice;

/// A host's power state as its BMC or PDU reports it (`on` / `off` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    /// Powered on.
    On,
    /// Powered off.
    Off,
}

/// `on` / `off`.
pub fn power_word(state: PowerState) -> &'static str {
    match state {
        PowerState::On => "on",
        PowerState::Off => "off",
    }
}

/// What to do to a host's power (the fence-agent spelling on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerAction {
    /// Read the state only.
    Status,
    /// Power off (hard).
    Off,
    /// Power on.
    On,
    /// Power off, then on.
    Reboot,
}

impl PowerAction {
    /// Every action.
    pub const ALL: &'static [Self] = &[Self::Status, Self::Off, Self::On, Self::Reboot];

    /// Parses the fence-agent spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == text)
    }

    /// The fence-agent spelling (`status`, `off`, `on`, `reboot`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Off => "off",
            Self::On => "on",
            Self::Reboot => "reboot",
        }
    }
}

/// One device's attempt at an action, kept as fence history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceAttempt {
    /// The host being fenced.
    pub host: String,
    /// The device (name of the configured BMC or agent).
    pub device: String,
    /// Topology level (1 first).
    pub level: u32,
    /// The action.
    pub action: PowerAction,
    /// Whether it succeeded (for `off`: the power-off was verified).
    pub succeeded: bool,
    /// What happened, for operators.
    pub message: String,
    /// How long it took.
    pub duration: Duration,
    /// When it started.
    pub started_at: DateTime<Utc>,
}

/// Why a host could not be fenced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FenceError {
    /// No fence device is configured for the host.
    #[error("no fence device is configured for host {host}")]
    NoDevice {
        /// The host.
        host: String,
    },
    /// Every topology level failed; the attempts say how.
    #[error("fencing host {host} failed on every level: {summary}")]
    AllLevelsFailed {
        /// The host.
        host: String,
        /// One line per failed attempt.
        summary: String,
        /// The attempts.
        attempts: Vec<FenceAttempt>,
    },
    /// A power status query failed.
    #[error("reading the power state of host {host} failed: {reason}")]
    Status {
        /// The host.
        host: String,
        /// Why.
        reason: String,
    },
    /// A power action was not carried out by this fencer (e.g. a monitor agent, which may read
    /// power states but never powers a host).
    #[error("power {} of host {host} was refused: {reason}", action.as_str())]
    Power {
        /// The host.
        host: String,
        /// The action.
        action: PowerAction,
        /// Why.
        reason: String,
    },
}

/// The outcome of a power action on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerReport {
    /// The power state at the end.
    pub state: PowerState,
    /// The attempts, in order (failed levels before the one that worked).
    pub attempts: Vec<FenceAttempt>,
}

/// A password as it is stored: sealed by a [`CredentialSealer`]. Its text is useless without
/// the sealer's key, and it is never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(pub String);

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedSecret(***)")
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// No key is configured.
    #[error("no credential key is configured ([fencing] credential_key_file)")]
    NoKey,
    /// The sealed text does not open with this key (another key, or tampered with).
    #[error("a stored password does not open with the configured credential key: {0}")]
    Open(String),
}

/// Why a fence device configuration was refused before it was stored. The message is the
/// driver's own, shown to the operator as it is.
#[derive(Debug, thiserror::Error)]
pub enum CheckDeviceError {
    /// Building the device from its parameters failed (a missing or malformed parameter).
    #[error("{0}")]
    Build(Box<dyn std::error::Error + Send + Sync>),
    /// The driver refused the parameters (e.g. a fence agent's metadata does not know one).
    #[error("{0}")]
    Check(Box<dyn std::error::Error + Send + Sync>),
}

/// Seals passwords before they are stored and opens them when a device is used. The key lives
/// outside the database (`[fencing] credential_key_file`), so a database dump alone reveals no
/// BMC password.
pub trait CredentialSealer: Send + Sync + std::fmt::Debug {
    /// Seals `plain`.
    fn seal(&self, plain: &Secret) -> Result<SealedSecret, SealError>;
    /// Opens what [`CredentialSealer::seal`] produced.
    fn open(&self, sealed: &SealedSecret) -> Result<Secret, SealError>;
}

/// Powers hosts off through their configured fence topology.
#[async_trait::async_trait]
pub trait Fencer: Send + Sync + std::fmt::Debug {
    /// Whether any fence device is configured for `host`.
    async fn has_device(&self, host: &str) -> bool;

    /// Powers `host` off and verifies it reads off. `Ok` only when the power-off was verified;
    /// the attempts (including failed levels before the one that worked) are returned for the
    /// history.
    async fn fence(&self, host: &str) -> Result<Vec<FenceAttempt>, FenceError>;

    /// Reads `host`'s power state.
    async fn power_status(&self, host: &str) -> Result<PowerState, FenceError>;

    /// Runs `action` on `host` through its topology (operators' status/off/on/reboot); `off`
    /// is verified as in [`Fencer::fence`].
    async fn power(&self, host: &str, action: PowerAction) -> Result<PowerReport, FenceError>;

    /// Checks a device configuration before it is stored (e.g. a fence agent's parameters
    /// against its metadata); the error names what is wrong.
    async fn check_device(&self, device: &NewFenceDevice) -> Result<(), CheckDeviceError> {
        let _ = device;
        Ok(())
    }
}
