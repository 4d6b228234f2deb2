//! Views of fence devices, fence history and power attempts (microversion 1.5). A device's
//! view never shows its password, only whether one is set.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::time_format::{optional, required};
use crate::fencing::{FenceAttempt, PowerAction, PowerState};
use crate::model::{FenceDevice, FenceRecord};

/// `{"fence_device": {...}}`: never the password, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceDeviceView {
    /// Integer id.
    pub id: i64,
    /// UUID.
    pub uuid: Uuid,
    /// The host's UUID.
    pub host_uuid: Uuid,
    /// Name.
    pub name: String,
    /// Level.
    pub level: u32,
    /// Driver.
    pub driver: String,
    /// Address.
    pub address: Option<String>,
    /// Login.
    pub username: Option<String>,
    /// Whether a password is stored.
    pub password_set: bool,
    /// Options.
    pub options: BTreeMap<String, String>,
    /// Creation time.
    #[serde(with = "required")]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(with = "optional", default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<&FenceDevice> for FenceDeviceView {
    fn from(d: &FenceDevice) -> Self {
        Self {
            id: d.id,
            uuid: d.uuid,
            host_uuid: d.host_uuid,
            name: d.name.clone(),
            level: d.level,
            driver: d.driver.as_str().to_owned(),
            address: d.address.clone(),
            username: d.username.clone(),
            password_set: d.password.is_some(),
            options: d.options.clone(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// One fence history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceRecordView {
    /// Integer id.
    pub id: i64,
    /// The host.
    pub host: String,
    /// The device.
    pub device: String,
    /// Its level.
    pub level: u32,
    /// `status`, `off`, `on` or `reboot`.
    pub action: String,
    /// `success` or `failure`.
    pub result: String,
    /// What happened.
    pub message: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
    /// Start time.
    #[serde(with = "required")]
    pub started_at: DateTime<Utc>,
}

impl From<&FenceRecord> for FenceRecordView {
    fn from(r: &FenceRecord) -> Self {
        Self {
            id: r.id,
            host: r.host.clone(),
            device: r.device.clone(),
            level: r.level,
            action: r.action.as_str().to_owned(),
            result: if r.succeeded { "success" } else { "failure" }.to_owned(),
            message: r.message.clone(),
            duration_ms: r.duration_ms,
            started_at: r.started_at,
        }
    }
}

/// One attempt of a power action, as the action's answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FenceAttemptView {
    /// The device.
    pub device: String,
    /// Its level.
    pub level: u32,
    /// `success` or `failure`.
    pub result: String,
    /// What happened.
    pub message: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

impl From<&FenceAttempt> for FenceAttemptView {
    fn from(a: &FenceAttempt) -> Self {
        Self {
            device: a.device.clone(),
            level: a.level,
            result: if a.succeeded { "success" } else { "failure" }.to_owned(),
            message: a.message.clone(),
            duration_ms: u64::try_from(a.duration.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// `{"power": {...}}`: what a power action did (the answer to `POST …/hosts/{id}/action`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerBody {
    /// The action's outcome.
    pub power: PowerView,
}

/// One power action's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerView {
    /// The host's name.
    pub host: String,
    /// The action run.
    pub action: PowerAction,
    /// The power state read after it.
    pub state: PowerState,
    /// Each device tried, in order.
    #[serde(default)]
    pub attempts: Vec<FenceAttemptView>,
}
