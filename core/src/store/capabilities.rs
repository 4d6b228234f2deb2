//! The store's capabilities, one trait each; [`Store`] is all of them.
//!
//! A consumer names the capabilities it uses (`Arc<dyn FencingStore>`), and an `Arc<dyn Store>`
//! coerces to each of them. `lifeboat-store` implements each trait in the module named after
//! it, with the same method names.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Claim, Completion, HostFilter, ListQuery, MaintenanceChange, NewVMove, NotificationFilter,
    OperatorRequest, SegmentFilter, StoreError, VMoveFilter, VMoveUpdate,
};
use crate::fencing::FenceAttempt;
use crate::model::{
    FenceDevice, FenceDeviceUpdate, FenceRecord, Host, HostUpdate, NewFenceDevice, NewHost,
    NewNotification, NewSegment, Notification, RecoveryStep, Segment, SegmentUpdate, VMove,
};

/// Whether the database answers and can be written (the health check's questions).
#[async_trait::async_trait]
pub trait StoreHealth: Send + Sync + std::fmt::Debug {
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Checks that the database can be written, with a write transaction that changes no data.
    async fn check_writable(&self) -> Result<(), StoreError>;
}

/// Failover segments: created, read, listed, changed and soft-deleted by operators.
#[async_trait::async_trait]
pub trait SegmentStore: Send + Sync + std::fmt::Debug {
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
}

/// Hosts of segments: the operators' changes, and the flags the engine sets while it recovers.
#[async_trait::async_trait]
pub trait HostStore: Send + Sync + std::fmt::Debug {
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
    /// A live host by UUID.
    async fn get_host_by_uuid(&self, host: Uuid) -> Result<Option<Host>, StoreError>;
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
    /// Changes a host's maintenance and reserved flag (the engine's own changes, allowed while
    /// the host's segment is under recovery).
    async fn set_host_flags(
        &self,
        host: Uuid,
        maintenance: Option<MaintenanceChange>,
        reserved: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Notifications as reported and as operators ask of them.
#[async_trait::async_trait]
pub trait NotificationStore: Send + Sync + std::fmt::Debug {
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
    /// Applies an operator's request (cancel a notification in progress, retry a failed one).
    /// A cancel that ends the notification is recorded as a step of its last attempt.
    async fn request(
        &self,
        notification: Uuid,
        request: OperatorRequest,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError>;
}

/// Claims and outcomes of recoveries, and the steps they record.
///
/// The claim protocol: an engine claims one notification at a time with a lease (`claimed_by`,
/// `claim_expires_at`) and renews it while it works. A notification is claimable when it is
/// `new`, when it is `running` but its lease expired (its engine died: the work is resumed, not
/// restarted), or when it is `error` and its retry time has come. Notifications of one host are
/// recovered one at a time, oldest first.
#[async_trait::async_trait]
pub trait RecoveryStore: Send + Sync + std::fmt::Debug {
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
    /// The recovery steps of a notification, in the order they ran.
    async fn list_recovery_steps(
        &self,
        notification: Uuid,
    ) -> Result<Vec<RecoveryStep>, StoreError>;
    /// How many distinct hosts of a segment reported a host failure since `since`.
    async fn failed_hosts_since(
        &self,
        segment: Uuid,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

/// The moves of a host failure's instances: recorded by the engine, read by the API.
#[async_trait::async_trait]
pub trait VMoveStore: Send + Sync + std::fmt::Debug {
    /// Records vmoves (the engine does this when it prepares an evacuation).
    async fn create_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError>;
    /// Records vmoves for instances that have none yet for the notification, and returns all of
    /// the notification's vmoves (so a resumed recovery finds the ones it started).
    async fn ensure_vmoves(
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
    /// Changes a vmove.
    async fn update_vmove(
        &self,
        vmove: Uuid,
        update: VMoveUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Fence devices of hosts and the fence history.
#[async_trait::async_trait]
pub trait FencingStore: Send + Sync + std::fmt::Debug {
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

/// Persistence of everything Lifeboat knows: every capability. Implemented for SQLite,
/// PostgreSQL and MySQL/MariaDB by `lifeboat-store`; the same contract tests run against each.
pub trait Store:
    StoreHealth
    + SegmentStore
    + HostStore
    + NotificationStore
    + RecoveryStore
    + VMoveStore
    + FencingStore
{
}

impl<T> Store for T where
    T: StoreHealth
        + SegmentStore
        + HostStore
        + NotificationStore
        + RecoveryStore
        + VMoveStore
        + FencingStore
        + ?Sized
{
}
