use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Timestamps, string_enum};
use crate::validation::Hostname;

string_enum! {
    /// What failed, as reported by a monitor.
    pub enum NotificationType {
        /// A whole compute host (hostmonitor).
        ComputeHost = "COMPUTE_HOST",
        /// One instance (instancemonitor).
        Vm = "VM",
        /// A process on a host (processmonitor).
        Process = "PROCESS",
    }
}

string_enum! {
    /// Where a notification is in its lifecycle.
    pub enum NotificationStatus {
        /// Accepted, not yet picked up by an engine.
        New = "new",
        /// An engine is recovering it.
        Running = "running",
        /// A recovery attempt failed; it will be retried.
        Error = "error",
        /// Terminal failure.
        Failed = "failed",
        /// Deliberately not acted on.
        Ignored = "ignored",
        /// Recovered, or nothing needed doing.
        Finished = "finished",
    }
}

impl NotificationStatus {
    /// Statuses that make a segment "under recovery" (its hosts cannot be edited).
    pub const IN_PROGRESS: &'static [Self] = &[Self::New, Self::Running, Self::Error];
}

string_enum! {
    /// The `event` of a host or process notification.
    pub enum HostEvent {
        /// Came back.
        Started = "STARTED",
        /// Went away.
        Stopped = "STOPPED",
    }
}

/// A notification payload: string keys to string values, kept sorted so that two equal
/// payloads have one serialisation (duplicate detection compares it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Payload(pub BTreeMap<String, String>);

impl Payload {
    /// A value of the payload.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The canonical JSON text stored in the database.
    pub fn to_canonical_json(&self) -> String {
        // A map of strings to strings always serialises.
        serde_json::to_string(&self.0).unwrap_or_default()
    }
}

/// A failure report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Integer database id.
    pub id: i64,
    /// Public identifier.
    pub notification_uuid: Uuid,
    /// What failed.
    pub notification_type: NotificationType,
    /// When the monitor saw it (client clock, stored as UTC).
    pub generated_time: DateTime<Utc>,
    /// The host the notification came from.
    pub source_host_uuid: Uuid,
    /// Type-specific details.
    pub payload: Payload,
    /// Lifecycle status.
    pub status: NotificationStatus,
    /// The source host's segment at the time of the report.
    pub failover_segment_uuid: Option<Uuid>,
    /// Why the notification ended as it did.
    pub message: Option<String>,
    /// Row timestamps.
    pub timestamps: Timestamps,
}

impl Notification {
    /// Columns a list may be sorted by.
    pub const SORT_KEYS: &'static [&'static str] = &[
        "id",
        "notification_uuid",
        "generated_time",
        "source_host_uuid",
        "type",
        "payload",
        "status",
        "failover_segment_uuid",
        "message",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
    ];
}

/// A validated notification to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// What failed.
    pub notification_type: NotificationType,
    /// The reporting host's name (must be a registered host).
    pub hostname: Hostname,
    /// When it was seen.
    pub generated_time: DateTime<Utc>,
    /// Type-specific details, already validated for the type.
    pub payload: Payload,
}
