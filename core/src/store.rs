//! The persistence seam.
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

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::fencing::FenceAttempt;
use crate::model::{
    FenceDevice, FenceDeviceUpdate, FenceRecord, Host, HostUpdate, NewFenceDevice, NewHost,
    NewNotification, NewSegment, Notification, NotificationStatus, NotificationType, RecoveryStep,
    Segment, SegmentUpdate, VMove, VMoveStatus, VMoveType,
};

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

/// Why a store operation did not happen. The first variants are outcomes the API reports to
/// the caller; [`StoreError::Unwritable`], [`StoreError::Unreachable`] and
/// [`StoreError::Database`] are failures of the database itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No live segment with that id.
    #[error("No failover segment with id {0}.")]
    SegmentNotFound(String),
    /// A live segment already has that name.
    #[error("Failover segment with name {0} already exists.")]
    SegmentNameTaken(String),
    /// The segment has notifications in progress.
    #[error("Failover segment {uuid} can't be {action} as it is in-use to process notifications.")]
    SegmentInUse {
        /// The segment.
        uuid: Uuid,
        /// `updated` or `deleted`.
        action: &'static str,
    },
    /// No live host with that id in that segment.
    #[error("Host '{host}' under failover_segment '{segment}' could not be found.")]
    HostNotFound {
        /// The host id as given.
        host: String,
        /// The segment id as given.
        segment: String,
    },
    /// A live host (of any segment) already has that name.
    #[error("Host with name {0} already exists.")]
    HostNameTaken(String),
    /// The host's segment has notifications in progress.
    #[error("Host {uuid} can't be {action} as it is in-use to process notifications.")]
    HostInUse {
        /// The host.
        uuid: Uuid,
        /// `updated` or `deleted`.
        action: &'static str,
    },
    /// A notification names a host that is not registered.
    #[error("Host with name {0} could not be found.")]
    HostNameUnknown(String),
    /// A notification came from a host under maintenance.
    #[error(
        "Notification received from host {host} of type '{notification_type}' is ignored as the host is already under maintenance."
    )]
    HostOnMaintenance {
        /// The reporting host.
        host: String,
        /// The notification type.
        notification_type: NotificationType,
    },
    /// An equal notification was already recorded.
    #[error("Notification received from host {host} of type {notification_type} is duplicate.")]
    DuplicateNotification {
        /// The reporting host.
        host: String,
        /// The notification type.
        notification_type: NotificationType,
    },
    /// No notification with that id.
    #[error("No notification with id {0}.")]
    NotificationNotFound(String),
    /// No vmove with that id under that notification.
    #[error("VMove {vmove} of notification {notification} could not be found.")]
    VMoveNotFound {
        /// The vmove id as given.
        vmove: String,
        /// The notification id.
        notification: String,
    },
    /// The notification is not in a state the request applies to.
    #[error("Notification {uuid} is {status}: {reason}")]
    NotificationState {
        /// The notification.
        uuid: Uuid,
        /// Its status.
        status: NotificationStatus,
        /// Why the request does not apply.
        reason: &'static str,
    },
    /// No fence device with that id on that host.
    #[error("Fence device {device} of host {host} could not be found.")]
    FenceDeviceNotFound {
        /// The device id as given.
        device: String,
        /// The host id.
        host: String,
    },
    /// The host already has a fence device of that name.
    #[error("Host {host} already has a fence device named {name}.")]
    FenceDeviceNameTaken {
        /// The host id.
        host: String,
        /// The name.
        name: String,
    },
    /// The page marker is not the id of a live row.
    #[error("Marker {0} could not be found.")]
    MarkerNotFound(i64),
    /// A stored value could not be read back (a row written by something else).
    #[error("reading {what} from the database found an invalid value: {detail}")]
    CorruptRow {
        /// Which column.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The database refused a write it could otherwise do: its disk is full or it is
    /// read-only. Writes work again once it can be written (no restart needed).
    #[error("{action} failed: the database cannot be written")]
    Unwritable {
        /// What the store was doing.
        action: &'static str,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database could not be reached (connection lost, server restarting, no free
    /// connection in time).
    #[error("{action} failed: the database cannot be reached")]
    Unreachable {
        /// What the store was doing.
        action: &'static str,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database failed otherwise.
    #[error("{action} failed")]
    Database {
        /// What the store was doing.
        action: &'static str,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// Whether retrying the same call later may succeed (connection loss, a full disk, lock
    /// timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Database { .. } | Self::Unwritable { .. } | Self::Unreachable { .. }
        )
    }
}

/// Persistence of everything Lifeboat knows. Implemented for SQLite, PostgreSQL and
/// MySQL/MariaDB by `lifeboat-store`; the same contract tests run against each.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Checks that the database can be written, with a write transaction that changes no data.
    async fn check_writable(&self) -> Result<(), StoreError>;

    /// Creates a segment.
    async fn create_segment(
        &self,
        new: NewSegment,
        now: DateTime<Utc>,
    ) -> Result<Segment, StoreError>;
    /// A live segment by UUID.
    async fn get_segment(&self, uuid: Uuid) -> Result<Segment, StoreError>;
    /// A page of live segments.
    async fn list_segments(
        &self,
        query: &ListQuery<SegmentFilter>,
    ) -> Result<Vec<Segment>, StoreError>;
    /// Updates a segment unless it is under recovery.
    async fn update_segment(
        &self,
        uuid: Uuid,
        update: SegmentUpdate,
        now: DateTime<Utc>,
    ) -> Result<Segment, StoreError>;
    /// Soft-deletes a segment and its hosts unless it is under recovery.
    async fn delete_segment(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Creates a host in a segment.
    async fn create_host(
        &self,
        segment: Uuid,
        new: NewHost,
        now: DateTime<Utc>,
    ) -> Result<Host, StoreError>;
    /// A live host of a segment.
    async fn get_host(&self, segment: Uuid, host: Uuid) -> Result<Host, StoreError>;
    /// A live host by name, in any segment.
    async fn get_host_by_name(&self, name: &str) -> Result<Option<Host>, StoreError>;
    /// A page of a segment's live hosts.
    async fn list_hosts(
        &self,
        segment: Uuid,
        query: &ListQuery<HostFilter>,
    ) -> Result<Vec<Host>, StoreError>;
    /// Updates a host unless its segment is under recovery.
    async fn update_host(
        &self,
        segment: Uuid,
        host: Uuid,
        update: HostUpdate,
        now: DateTime<Utc>,
    ) -> Result<Host, StoreError>;
    /// Soft-deletes a host unless its segment is under recovery.
    async fn delete_host(
        &self,
        segment: Uuid,
        host: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records a notification in status `new`, in one transaction with the maintenance and
    /// duplicate checks (see the module docs). `duplicate_window` is how far apart two
    /// generated times may be and still count as the same report.
    async fn create_notification(
        &self,
        new: NewNotification,
        duplicate_window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError>;
    /// A notification by UUID.
    async fn get_notification(&self, uuid: Uuid) -> Result<Notification, StoreError>;
    /// A page of notifications.
    async fn list_notifications(
        &self,
        query: &ListQuery<NotificationFilter>,
    ) -> Result<Vec<Notification>, StoreError>;

    /// Records vmoves (the engine does this when it prepares an evacuation).
    async fn create_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError>;
    /// A vmove of a notification.
    async fn get_vmove(&self, notification: Uuid, vmove: Uuid) -> Result<VMove, StoreError>;
    /// A page of a notification's vmoves.
    async fn list_vmoves(
        &self,
        notification: Uuid,
        query: &ListQuery<VMoveFilter>,
    ) -> Result<Vec<VMove>, StoreError>;

    /// The recovery steps of a notification, in the order they ran.
    async fn list_recovery_steps(
        &self,
        notification: Uuid,
    ) -> Result<Vec<RecoveryStep>, StoreError>;

    // ----- the recovery engine -----
    //
    // The claim protocol: an engine claims one notification at a time with a lease
    // (`claimed_by`, `claim_expires_at`) and renews it while it works. A notification is
    // claimable when it is `new`, when it is `running` but its lease expired (its engine died:
    // the work is resumed, not restarted), or when it is `error` and its retry time has come.
    // Notifications of one host are recovered one at a time, oldest first.

    /// Claims the oldest claimable notification for `engine`, if any.
    async fn claim_notification(
        &self,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError>;
    /// Extends `engine`'s lease; false if the engine no longer holds the claim.
    async fn renew_claim(
        &self,
        notification: Uuid,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Whether an operator asked to cancel the recovery.
    async fn cancel_requested(&self, notification: Uuid) -> Result<bool, StoreError>;
    /// Ends `engine`'s claim with an outcome; false if the engine no longer held it.
    async fn complete_notification(
        &self,
        notification: Uuid,
        engine: &str,
        completion: Completion,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records (inserts or replaces) one recovery step.
    async fn record_step(&self, step: &RecoveryStep, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Records vmoves for instances that have none yet for the notification, and returns all of
    /// the notification's vmoves (so a resumed recovery finds the ones it started).
    async fn ensure_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError>;
    /// Changes a vmove.
    async fn update_vmove(
        &self,
        vmove: Uuid,
        update: VMoveUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// A live host by UUID.
    async fn get_host_by_uuid(&self, host: Uuid) -> Result<Option<Host>, StoreError>;
    /// Changes a host's maintenance and reserved flag (the engine's own changes, allowed while
    /// the host's segment is under recovery).
    async fn set_host_flags(
        &self,
        host: Uuid,
        maintenance: Option<MaintenanceChange>,
        reserved: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// How many distinct hosts of a segment reported a host failure since `since`.
    async fn failed_hosts_since(
        &self,
        segment: Uuid,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Applies an operator's request (cancel a notification in progress, retry a failed one).
    /// A cancel that ends the notification is recorded as a step of its last attempt.
    async fn request(
        &self,
        notification: Uuid,
        request: OperatorRequest,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError>;

    // ----- fencing -----

    /// Adds a fence device to a live host.
    async fn create_fence_device(
        &self,
        host: Uuid,
        new: NewFenceDevice,
        now: DateTime<Utc>,
    ) -> Result<FenceDevice, StoreError>;
    /// A host's fence devices, by level then name.
    async fn list_fence_devices(&self, host: Uuid) -> Result<Vec<FenceDevice>, StoreError>;
    /// One fence device of a host.
    async fn get_fence_device(&self, host: Uuid, device: Uuid) -> Result<FenceDevice, StoreError>;
    /// Changes a fence device.
    async fn update_fence_device(
        &self,
        host: Uuid,
        device: Uuid,
        update: FenceDeviceUpdate,
        now: DateTime<Utc>,
    ) -> Result<FenceDevice, StoreError>;
    /// Removes a fence device.
    async fn delete_fence_device(&self, host: Uuid, device: Uuid) -> Result<(), StoreError>;
    /// The fence devices of the live host named `host`, by level then name (none if the host
    /// is unknown).
    async fn fence_devices_of(&self, host: &str) -> Result<Vec<FenceDevice>, StoreError>;
    /// Records one fencing attempt in the fence history.
    async fn record_fence_attempt(
        &self,
        attempt: &FenceAttempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The most recent `limit` fence history entries of host `host`, newest first.
    async fn fence_history(&self, host: &str, limit: u32) -> Result<Vec<FenceRecord>, StoreError>;
}
