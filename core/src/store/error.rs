//! Why a store operation did not happen.

use uuid::Uuid;

use crate::model::{NotificationStatus, NotificationType};

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
