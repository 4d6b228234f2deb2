//! The persistence seam: the store's capabilities ([`Store`] is all of them), what they take
//! and return, and why they fail ([`StoreError`]).
//!
//! What we store: segments, hosts, notifications, vmoves, the engine's recovery steps, fence
//! devices (passwords sealed, see [`crate::fencing::CredentialSealer`]) and fence history. Every
//! row has an integer `id` (clients page with it) and a UUID (clients address resources with
//! it). Segments and hosts are soft-deleted as Masakari does: `deleted` becomes the row's own
//! `id`, so a name can be reused after a delete while `(name, deleted)` stays unique.
//!
//! Invariants the implementations enforce inside one transaction, so that any number of API
//! workers may share a database without locks of their own:
//! * a notification from a host under maintenance is refused, but for a `STARTED` report from a
//!   host that a recovery (not an operator) put in maintenance: that report ends it;
//! * a notification equal to one already recorded (same host, type and payload, generated
//!   within the duplicate window either side) is refused;
//! * segments and hosts with a notification in `new`, `running` or `error` cannot be changed.

mod capabilities;
mod error;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use capabilities::{
    FencingStore, HostStore, NotificationStore, RecoveryStore, SegmentStore, Store, StoreHealth,
    VMoveStore,
};
pub use error::StoreError;

use crate::model::{Notification, NotificationStatus, VMoveStatus, VMoveType};

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

impl SortDir {
    /// SQL keyword.
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }
}

/// One sort column; `key` is one of the resource's `SORT_KEYS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// Column name.
    pub key: &'static str,
    /// Direction.
    pub dir: SortDir,
}

/// A page of a list: filters, sort order, size and the integer id of the last row seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery<F> {
    /// Resource-specific filters.
    pub filter: F,
    /// Sort columns, most significant first (`created_at` and `id` are appended as
    /// tie-breakers by the store).
    pub sort: Vec<Sort>,
    /// Page size.
    pub limit: u32,
    /// Integer id of the last row of the previous page.
    pub marker: Option<i64>,
}

impl<F: Default> Default for ListQuery<F> {
    fn default() -> Self {
        Self {
            filter: F::default(),
            sort: Vec::new(),
            limit: 1000,
            marker: None,
        }
    }
}

/// Segment list filters (exact matches).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentFilter {
    /// `recovery_method=`.
    pub recovery_method: Option<String>,
    /// `service_type=`.
    pub service_type: Option<String>,
    /// `enabled=`, parsed as a boolean.
    pub enabled: Option<bool>,
}

/// Host list filters (exact matches), always within one segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFilter {
    /// `name=`.
    pub name: Option<String>,
    /// `type=`.
    pub host_type: Option<String>,
    /// `control_attributes=`.
    pub control_attributes: Option<String>,
    /// `on_maintenance=`.
    pub on_maintenance: Option<bool>,
    /// `reserved=`.
    pub reserved: Option<bool>,
}

/// Notification list filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationFilter {
    /// `status=` (any string; an unknown status matches nothing).
    pub status: Option<String>,
    /// `source_host_uuid=`.
    pub source_host_uuid: Option<String>,
    /// `type=`.
    pub notification_type: Option<String>,
    /// `generated-since=`: `generated_time >=` this.
    pub generated_since: Option<DateTime<Utc>>,
    /// `failover_segment_uuid=`.
    pub failover_segment_uuid: Option<String>,
}

/// VMove list filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VMoveFilter {
    /// `status=`.
    pub status: Option<String>,
    /// `type=`.
    pub vmove_type: Option<String>,
}

/// A vmove to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVMove {
    /// The notification.
    pub notification_uuid: Uuid,
    /// Nova server id.
    pub instance_uuid: String,
    /// Nova server name.
    pub instance_name: String,
    /// The failed host.
    pub source_host: String,
    /// How it moves.
    pub vmove_type: VMoveType,
    /// Initial status.
    pub status: VMoveStatus,
}

/// A notification an engine has claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The notification (status `running`).
    pub notification: Notification,
    /// Which recovery attempt this is (1 for the first).
    pub attempt: i64,
    /// Whether this continues an attempt whose engine stopped (its lease expired) rather than
    /// starting a new one.
    pub resumed: bool,
}

/// How a claimed notification ended (or paused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// New status: `finished`, `ignored`, `error` or `failed`.
    pub status: NotificationStatus,
    /// Why, for operators (`message` in the API).
    pub message: Option<String>,
    /// For `error`: when an engine may try again (none: only when an operator asks).
    pub retry_at: Option<DateTime<Utc>>,
    /// The recovery method that actually ran, for host failures.
    pub recovery_method: Option<String>,
}

/// Changes to a vmove; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VMoveUpdate {
    /// New status.
    pub status: Option<VMoveStatus>,
    /// New destination host.
    pub dest_host: Option<Option<String>>,
    /// New start time.
    pub start_time: Option<Option<DateTime<Utc>>>,
    /// New end time.
    pub end_time: Option<Option<DateTime<Utc>>>,
    /// New message.
    pub message: Option<Option<String>>,
}

/// A change the engine makes to a host's maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceChange {
    /// The recovery of this notification puts the host in maintenance (a host an operator
    /// put in maintenance stays the operator's).
    Recovery(Uuid),
    /// The host is back: it leaves maintenance if a recovery put it there, and only then.
    EndRecovery,
}

/// What an operator asks of a notification (API microversion 1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRequest {
    /// End a notification in progress: one in `new` or `error` at once (`failed`, no retry),
    /// a running recovery at its next step.
    Cancel,
    /// Recover again a notification that ended in `error` or `failed`.
    Retry,
}
