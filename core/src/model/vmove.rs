use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Timestamps, string_enum};

string_enum! {
    /// How an instance is moved.
    pub enum VMoveType {
        /// Rebuilt on another host from shared storage.
        Evacuation = "evacuation",
        /// Cold migration.
        Migration = "migration",
        /// Live migration.
        LiveMigration = "live_migration",
    }
}

string_enum! {
    /// Progress of one instance move.
    pub enum VMoveStatus {
        /// Not started.
        Pending = "pending",
        /// Requested from Nova, not yet confirmed.
        Ongoing = "ongoing",
        /// Active on another host.
        Succeeded = "succeeded",
        /// Gave up.
        Failed = "failed",
        /// Deliberately skipped.
        Ignored = "ignored",
    }
}

/// The move of one instance off a failed host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VMove {
    /// Integer database id.
    pub id: i64,
    /// Public identifier.
    pub uuid: Uuid,
    /// The notification that caused it.
    pub notification_uuid: Uuid,
    /// The Nova server id.
    pub instance_uuid: String,
    /// The Nova server name.
    pub instance_name: String,
    /// The failed host.
    pub source_host: Option<String>,
    /// Where it went.
    pub dest_host: Option<String>,
    /// When the move was requested.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// How it moved.
    pub vmove_type: VMoveType,
    /// Progress.
    pub status: VMoveStatus,
    /// Why it failed, if it did.
    pub message: Option<String>,
    /// Row timestamps.
    pub timestamps: Timestamps,
}

impl VMove {
    /// Columns a list may be sorted by.
    pub const SORT_KEYS: &'static [&'static str] = &[
        "id",
        "uuid",
        "notification_uuid",
        "instance_uuid",
        "instance_name",
        "source_host",
        "dest_host",
        "start_time",
        "end_time",
        "type",
        "status",
        "message",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
    ];
}
