//! The store, written once over [`Backend`].

mod engine;
mod fencing;
mod hosts;
pub(crate) mod listing;
mod notifications;
pub(crate) use notifications::hex_sha256;
mod operator;
pub(crate) mod rows;
mod segments;
mod vmoves;

use std::marker::PhantomData;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::fencing::FenceAttempt;
use lifeboat_core::model::{
    FenceDevice, FenceDeviceUpdate, FenceRecord, Host, HostUpdate, NewFenceDevice, NewHost,
    NewNotification, NewSegment, Notification, NotificationStatus, RecoveryStep, Segment,
    SegmentUpdate, VMove,
};
use lifeboat_core::store::{
    Claim, Completion, HostFilter, ListQuery, MaintenanceChange, NewVMove, NotificationFilter,
    OperatorRequest, SegmentFilter, Store, StoreError, VMoveFilter, VMoveUpdate,
};
use sqlx::Pool;
use uuid::Uuid;

use crate::backend::{Backend, Conn, DbRow};
use listing::{ListTable, Sql};

/// A store on one database.
pub(crate) struct SqlStore<B: Backend> {
    /// Connections for reads.
    pub(crate) pool: Pool<B::Db>,
    /// Connections for writes. On SQLite a separate pool of one connection: the database admits
    /// one writer at a time, and queueing writers here (fairly, without sleeping) beats having
    /// them spin in SQLite's busy handler. Elsewhere the same pool as reads.
    pub(crate) writer: Pool<B::Db>,
    backend: PhantomData<B>,
}

impl<B: Backend> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &B::NAME)
            .field("connections", &self.pool.size())
            .finish()
    }
}

/// Turns a driver error into a store error naming what was being done.
pub(crate) fn db_error(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| crate::failure::store_error(action, e)
}

/// Whether a driver error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn new(pool: Pool<B::Db>, writer: Pool<B::Db>) -> Self {
        Self {
            pool,
            writer,
            backend: PhantomData,
        }
    }

    /// Runs `sql` on `conn` and maps every row with `map`.
    pub(crate) async fn fetch<T>(
        conn: &mut Conn<B>,
        sql: &Sql,
        action: &'static str,
        map: fn(&DbRow<B>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = B::fetch_all(conn, &sql.text, &sql.args)
            .await
            .map_err(db_error(action))?;
        rows.iter().map(map).collect()
    }

    /// Runs `sql` on `conn`; returns the number of rows changed.
    pub(crate) async fn execute(
        conn: &mut Conn<B>,
        sql: &Sql,
        action: &'static str,
    ) -> Result<u64, StoreError> {
        B::execute(conn, &sql.text, &sql.args)
            .await
            .map_err(db_error(action))
    }

    /// Runs a `SELECT COUNT(*) AS n …`.
    pub(crate) async fn count(
        conn: &mut Conn<B>,
        sql: &Sql,
        action: &'static str,
    ) -> Result<i64, StoreError> {
        let rows = B::fetch_all(conn, &sql.text, &sql.args)
            .await
            .map_err(db_error(action))?;
        match rows.first() {
            Some(row) => B::get_i64(row, "n").map_err(db_error(action)),
            None => Ok(0),
        }
    }

    /// A list page: checks the marker, then runs the query.
    pub(crate) async fn list<T>(
        &self,
        table: &ListTable,
        sql: Sql,
        marker: Option<i64>,
        map: fn(&DbRow<B>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        if let Some(marker) = marker {
            let exists = Self::count(
                &mut conn,
                &listing::marker_exists_query(table, marker),
                "looking up the page marker",
            )
            .await?;
            if exists == 0 {
                return Err(StoreError::MarkerNotFound(marker));
            }
        }
        Self::fetch(&mut conn, &sql, "listing", map).await
    }

    /// How many notifications in progress (`new`, `running`, `error`) come from live hosts of
    /// `segment`: while there are any, the segment and its hosts are "under recovery".
    pub(crate) async fn notifications_in_progress(
        conn: &mut Conn<B>,
        segment: Uuid,
    ) -> Result<i64, StoreError> {
        let mut sql =
            Sql::new("SELECT COUNT(*) AS n FROM notifications WHERE deleted = 0 AND status IN (");
        for (i, status) in NotificationStatus::IN_PROGRESS.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(status.as_str());
        }
        sql.push(") AND source_host_uuid IN (SELECT uuid FROM hosts WHERE deleted = 0 AND failover_segment_id = ")
            .bind(segment)
            .push(")");
        Self::count(conn, &sql, "checking for notifications in progress").await
    }
}

#[async_trait::async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        Self::count(
            &mut conn,
            &Sql::new("SELECT COUNT(*) AS n FROM failover_segments WHERE id = 0"),
            "pinging the database",
        )
        .await
        .map(|_| ())
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        let mut tx = B::begin_write(&self.writer)
            .await
            .map_err(db_error("starting a transaction"))?;
        B::execute(&mut tx, B::WRITE_PROBE, &[])
            .await
            .map_err(db_error("probing a write"))?;
        tx.commit()
            .await
            .map_err(db_error("committing a write probe"))
    }

    async fn create_segment(
        &self,
        new: NewSegment,
        now: DateTime<Utc>,
    ) -> Result<Segment, StoreError> {
        self.insert_segment(new, now).await
    }

    async fn get_segment(&self, uuid: Uuid) -> Result<Segment, StoreError> {
        self.find_segment(uuid).await
    }

    async fn list_segments(
        &self,
        query: &ListQuery<SegmentFilter>,
    ) -> Result<Vec<Segment>, StoreError> {
        self.segments_page(query).await
    }

    async fn update_segment(
        &self,
        uuid: Uuid,
        update: SegmentUpdate,
        now: DateTime<Utc>,
    ) -> Result<Segment, StoreError> {
        self.change_segment(uuid, update, now).await
    }

    async fn delete_segment(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.remove_segment(uuid, now).await
    }

    async fn create_host(
        &self,
        segment: Uuid,
        new: NewHost,
        now: DateTime<Utc>,
    ) -> Result<Host, StoreError> {
        self.insert_host(segment, new, now).await
    }

    async fn get_host(&self, segment: Uuid, host: Uuid) -> Result<Host, StoreError> {
        self.find_host(segment, host).await
    }

    async fn get_host_by_name(&self, name: &str) -> Result<Option<Host>, StoreError> {
        self.find_host_by_name(name).await
    }

    async fn list_hosts(
        &self,
        segment: Uuid,
        query: &ListQuery<HostFilter>,
    ) -> Result<Vec<Host>, StoreError> {
        self.hosts_page(segment, query).await
    }

    async fn update_host(
        &self,
        segment: Uuid,
        host: Uuid,
        update: HostUpdate,
        now: DateTime<Utc>,
    ) -> Result<Host, StoreError> {
        self.change_host(segment, host, update, now).await
    }

    async fn delete_host(
        &self,
        segment: Uuid,
        host: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.remove_host(segment, host, now).await
    }

    async fn create_notification(
        &self,
        new: NewNotification,
        duplicate_window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError> {
        self.insert_notification(new, duplicate_window, now).await
    }

    async fn get_notification(&self, uuid: Uuid) -> Result<Notification, StoreError> {
        self.find_notification(uuid).await
    }

    async fn list_notifications(
        &self,
        query: &ListQuery<NotificationFilter>,
    ) -> Result<Vec<Notification>, StoreError> {
        self.notifications_page(query).await
    }

    async fn create_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError> {
        self.insert_vmoves(moves, now).await
    }

    async fn get_vmove(&self, notification: Uuid, vmove: Uuid) -> Result<VMove, StoreError> {
        self.find_vmove(notification, vmove).await
    }

    async fn list_vmoves(
        &self,
        notification: Uuid,
        query: &ListQuery<VMoveFilter>,
    ) -> Result<Vec<VMove>, StoreError> {
        self.vmoves_page(notification, query).await
    }

    async fn list_recovery_steps(
        &self,
        notification: Uuid,
    ) -> Result<Vec<RecoveryStep>, StoreError> {
        self.steps_of(notification).await
    }

    async fn claim_notification(
        &self,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        self.claim(engine, lease, now).await
    }

    async fn renew_claim(
        &self,
        notification: Uuid,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.renew(notification, engine, lease, now).await
    }

    async fn cancel_requested(&self, notification: Uuid) -> Result<bool, StoreError> {
        self.is_cancel_requested(notification).await
    }

    async fn complete_notification(
        &self,
        notification: Uuid,
        engine: &str,
        completion: Completion,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.complete(notification, engine, completion, now).await
    }

    async fn record_step(&self, step: &RecoveryStep, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.upsert_step(step, now).await
    }

    async fn ensure_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError> {
        self.ensure_moves(moves, now).await
    }

    async fn update_vmove(
        &self,
        vmove: Uuid,
        update: VMoveUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.change_vmove(vmove, update, now).await
    }

    async fn get_host_by_uuid(&self, host: Uuid) -> Result<Option<Host>, StoreError> {
        self.host_by_uuid(host).await
    }

    async fn set_host_flags(
        &self,
        host: Uuid,
        maintenance: Option<MaintenanceChange>,
        reserved: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.change_host_flags(host, maintenance, reserved, now)
            .await
    }

    async fn failed_hosts_since(
        &self,
        segment: Uuid,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.count_failed_hosts(segment, since).await
    }

    async fn request(
        &self,
        notification: Uuid,
        request: OperatorRequest,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError> {
        self.operator_request(notification, request, now).await
    }

    async fn create_fence_device(
        &self,
        host: Uuid,
        new: NewFenceDevice,
        now: DateTime<Utc>,
    ) -> Result<FenceDevice, StoreError> {
        self.insert_fence_device(host, new, now).await
    }

    async fn list_fence_devices(&self, host: Uuid) -> Result<Vec<FenceDevice>, StoreError> {
        self.fence_devices_of_host(host).await
    }

    async fn get_fence_device(&self, host: Uuid, device: Uuid) -> Result<FenceDevice, StoreError> {
        self.find_fence_device(host, device).await
    }

    async fn update_fence_device(
        &self,
        host: Uuid,
        device: Uuid,
        update: FenceDeviceUpdate,
        now: DateTime<Utc>,
    ) -> Result<FenceDevice, StoreError> {
        self.change_fence_device(host, device, update, now).await
    }

    async fn delete_fence_device(&self, host: Uuid, device: Uuid) -> Result<(), StoreError> {
        self.remove_fence_device(host, device).await
    }

    async fn fence_devices_of(&self, host: &str) -> Result<Vec<FenceDevice>, StoreError> {
        self.fence_devices_named(host).await
    }

    async fn record_fence_attempt(
        &self,
        attempt: &FenceAttempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.insert_fence_attempt(attempt, now).await
    }

    async fn fence_history(&self, host: &str, limit: u32) -> Result<Vec<FenceRecord>, StoreError> {
        self.fence_history_of(host, limit).await
    }
}
