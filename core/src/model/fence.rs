use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::fencing::{PowerAction, SealedSecret};

/// How a fence device is driven.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FenceDriver {
    /// Lifeboat's own IPMI v2.0 (RMCP+) client.
    Ipmi,
    /// A ClusterLabs fence agent, by its program name (`fence_ipmilan`, `fence_redfish`, …).
    Agent(String),
}

impl FenceDriver {
    /// `ipmi`, or a fence agent's name: `fence_` then lowercase letters, digits and `_`.
    pub fn parse(text: &str) -> Option<Self> {
        if text == "ipmi" {
            return Some(Self::Ipmi);
        }
        let rest = text.strip_prefix("fence_")?;
        let valid = !rest.is_empty()
            && text.len() <= 64
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        valid.then(|| Self::Agent(text.to_owned()))
    }

    /// The stored and wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ipmi => "ipmi",
            Self::Agent(name) => name,
        }
    }
}

impl std::fmt::Display for FenceDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One fence device of a host: a BMC, a PDU outlet, anything a fence agent drives. Devices of
/// the same `level` must all succeed; level 1 is tried first, the next level when one fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceDevice {
    /// Integer database id.
    pub id: i64,
    /// Public identifier.
    pub uuid: Uuid,
    /// The host it fences.
    pub host_uuid: Uuid,
    /// Name, unique per host (shown in fence history).
    pub name: String,
    /// Topology level, 1 first.
    pub level: u32,
    /// Driver.
    pub driver: FenceDriver,
    /// Device address (`host[:port]`).
    pub address: Option<String>,
    /// Login.
    pub username: Option<String>,
    /// The password, sealed; never returned by the API.
    pub password: Option<SealedSecret>,
    /// Driver options (fence agent parameters, or `cipher` / `privilege` for `ipmi`).
    pub options: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

impl FenceDevice {
    /// The configuration part, as a creation request would give it.
    pub fn spec(&self) -> NewFenceDevice {
        NewFenceDevice {
            name: self.name.clone(),
            level: self.level,
            driver: self.driver.clone(),
            address: self.address.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            options: self.options.clone(),
        }
    }
}

/// A validated fence device to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFenceDevice {
    /// Name.
    pub name: String,
    /// Level (1–9).
    pub level: u32,
    /// Driver.
    pub driver: FenceDriver,
    /// Address.
    pub address: Option<String>,
    /// Login.
    pub username: Option<String>,
    /// Sealed password.
    pub password: Option<SealedSecret>,
    /// Options.
    pub options: BTreeMap<String, String>,
}

/// A validated partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FenceDeviceUpdate {
    /// New name.
    pub name: Option<String>,
    /// New level.
    pub level: Option<u32>,
    /// New driver.
    pub driver: Option<FenceDriver>,
    /// New address (or none).
    pub address: Option<Option<String>>,
    /// New login (or none).
    pub username: Option<Option<String>>,
    /// New sealed password (or none).
    pub password: Option<Option<SealedSecret>>,
    /// New options (replacing the old ones).
    pub options: Option<BTreeMap<String, String>>,
}

impl FenceDeviceUpdate {
    /// `device` with this update applied.
    pub fn apply(&self, device: &NewFenceDevice) -> NewFenceDevice {
        let mut d = device.clone();
        if let Some(v) = &self.name {
            d.name.clone_from(v);
        }
        if let Some(v) = self.level {
            d.level = v;
        }
        if let Some(v) = &self.driver {
            d.driver = v.clone();
        }
        if let Some(v) = &self.address {
            d.address.clone_from(v);
        }
        if let Some(v) = &self.username {
            d.username.clone_from(v);
        }
        if let Some(v) = &self.password {
            d.password.clone_from(v);
        }
        if let Some(v) = &self.options {
            d.options.clone_from(v);
        }
        d
    }
}

/// One recorded fencing attempt (fence history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceRecord {
    /// Integer database id.
    pub id: i64,
    /// The host.
    pub host: String,
    /// The device's name.
    pub device: String,
    /// Its level.
    pub level: u32,
    /// The action.
    pub action: PowerAction,
    /// Whether it succeeded (for `off`: verified).
    pub succeeded: bool,
    /// What happened.
    pub message: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// When it started.
    pub started_at: DateTime<Utc>,
}
