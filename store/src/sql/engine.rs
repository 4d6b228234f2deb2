//! The engine's side of the store: claims with leases, outcomes, recorded steps and vmoves.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::model::{
    Host, MaintenanceReason, Notification, NotificationStatus, RecoveryStep, VMove,
};
use lifeboat_core::store::{
    Claim, Completion, MaintenanceChange, NewVMove, OperatorRequest, StoreError, VMoveUpdate,
};
use uuid::Uuid;

use super::listing::Sql;
use super::rows::{NOTIFICATION_COLUMNS, RowReader, host, notification, vmove};
use super::{SqlStore, db_error, is_unique_violation};
use crate::backend::{Backend, Conn, DbRow};

/// A claimable notification as first seen.
struct Candidate {
    id: i64,
    source_host: String,
    status: String,
}

fn candidate<B: Backend>(row: &DbRow<B>) -> Result<Candidate, StoreError> {
    let r = RowReader::<B>::new(row);
    Ok(Candidate {
        id: r.i64("id")?,
        source_host: r.text("source_host_uuid")?,
        status: r.text("status")?,
    })
}

pub(super) fn with_attempts<B: Backend>(row: &DbRow<B>) -> Result<(Notification, i64), StoreError> {
    Ok((
        notification::<B>(row)?,
        RowReader::<B>::new(row).i64("n_attempts")?,
    ))
}

/// `(status = new) OR (running with an expired lease) OR (error whose retry time has come)`,
/// binding `now` twice.
fn claimable(sql: &mut Sql, now: DateTime<Utc>) {
    sql.push("(status = ")
        .bind(NotificationStatus::New.as_str())
        .push(" OR (status = ")
        .bind(NotificationStatus::Running.as_str())
        .push(" AND (claim_expires_at IS NULL OR claim_expires_at < ")
        .bind(now)
        .push(")) OR (status = ")
        .bind(NotificationStatus::Error.as_str())
        .push(" AND next_attempt_at IS NOT NULL AND next_attempt_at <= ")
        .bind(now)
        .push("))");
}

/// The assignments of a maintenance change, decided in the statement itself so that an
/// operator's maintenance is never taken over or ended by the engine. `maintenance_reason` is
/// assigned last: MySQL evaluates assignments left to right with the new values.
fn maintenance_assignments(sql: &mut Sql, change: MaintenanceChange) {
    let recovery = MaintenanceReason::Recovery.as_str();
    match change {
        MaintenanceChange::Recovery(notification) => {
            // In maintenance with no reason recorded counts as the operator's (see rows.rs).
            let operators = |sql: &mut Sql| {
                sql.push(" CASE WHEN on_maintenance = ")
                    .bind(true)
                    .push(" AND COALESCE(maintenance_reason, ")
                    .bind(MaintenanceReason::Operator.as_str())
                    .push(") = ")
                    .bind(MaintenanceReason::Operator.as_str());
            };
            sql.push(", maintenance_notification_uuid =");
            operators(sql);
            sql.push(" THEN maintenance_notification_uuid ELSE ")
                .bind(notification)
                .push(" END, maintenance_reason =");
            operators(sql);
            sql.push(" THEN maintenance_reason ELSE ")
                .bind(recovery)
                .push(" END, on_maintenance = ")
                .bind(true);
        }
        MaintenanceChange::EndRecovery => {
            sql.push(", on_maintenance = CASE WHEN maintenance_reason = ")
                .bind(recovery)
                .push(" THEN ")
                .bind(false)
                .push(" ELSE on_maintenance END, maintenance_notification_uuid = CASE WHEN maintenance_reason = ")
                .bind(recovery)
                .push(" THEN NULL ELSE maintenance_notification_uuid END, maintenance_reason = CASE WHEN maintenance_reason = ")
                .bind(recovery)
                .push(" THEN NULL ELSE maintenance_reason END");
        }
    }
}

/// A step's progress lines as stored (a JSON array).
pub(super) fn step_details(step: &RecoveryStep) -> Result<String, StoreError> {
    serde_json::to_string(&step.details).map_err(|e| StoreError::CorruptRow {
        what: "details",
        detail: e.to_string(),
    })
}

/// The `INSERT` of a new recovery step.
pub(super) fn step_insert(step: &RecoveryStep, details: String, now: DateTime<Utc>) -> Sql {
    let mut insert = Sql::new(
        "INSERT INTO recovery_steps (notification_uuid, attempt, seq, name, state, progress, details, created_at) VALUES (",
    );
    insert
        .bind(step.notification_uuid)
        .push(", ")
        .bind(i64::from(step.attempt))
        .push(", ")
        .bind(i64::from(step.seq))
        .push(", ")
        .bind(step.name.as_str())
        .push(", ")
        .bind(step.state.as_str())
        .push(", ")
        .bind(step.progress)
        .push(", ")
        .bind(details)
        .push(", ")
        .bind(now)
        .push(")");
    insert
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn claim(
        &self,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let candidates = {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(db_error("acquiring a connection"))?;
            let mut sql = Sql::new(
                "SELECT id, source_host_uuid, status FROM notifications WHERE deleted = 0 AND ",
            );
            claimable(&mut sql, now);
            sql.push(" ORDER BY created_at, id LIMIT 16");
            Self::fetch(&mut conn, &sql, "looking for work", candidate::<B>).await?
        };
        for c in candidates {
            if let Some(claim) = self.try_claim(&c, engine, lease, now).await? {
                return Ok(Some(claim));
            }
        }
        Ok(None)
    }

    /// Claims one candidate unless another engine got it first or its host is busy.
    async fn try_claim(
        &self,
        c: &Candidate,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let mut tx = B::begin_write(&self.writer)
            .await
            .map_err(db_error("starting a transaction"))?;
        // One recovery per host at a time: the host row serialises claimers.
        if !B::LOCK_ROWS.is_empty() {
            let mut lock = Sql::new("SELECT id FROM hosts WHERE uuid = ");
            lock.bind(c.source_host.as_str()).push(B::LOCK_ROWS);
            Self::execute(&mut tx, &lock, "locking the notification's host").await?;
        }
        let mut busy = Sql::new(
            "SELECT COUNT(*) AS n FROM notifications WHERE deleted = 0 AND source_host_uuid = ",
        );
        busy.bind(c.source_host.as_str())
            .push(" AND id <> ")
            .bind(c.id)
            .push(" AND ((status = ")
            .bind(NotificationStatus::Running.as_str())
            .push(" AND claim_expires_at >= ")
            .bind(now)
            .push(") OR (status = ")
            .bind(NotificationStatus::New.as_str())
            .push(" AND id < ")
            .bind(c.id)
            .push("))");
        if Self::count(&mut tx, &busy, "checking the host's other notifications").await? > 0 {
            return Ok(None);
        }
        // `attempts` first: MySQL evaluates assignments left to right with the new values, so
        // it must read `status` before `status` changes.
        let mut update =
            Sql::new("UPDATE notifications SET attempts = attempts + CASE WHEN status = ");
        update
            .bind(NotificationStatus::Running.as_str())
            .push(" THEN 0 ELSE 1 END, status = ")
            .bind(NotificationStatus::Running.as_str())
            .push(", claimed_by = ")
            .bind(engine)
            .push(", claim_expires_at = ")
            .bind(lease_end(now, lease))
            .push(", next_attempt_at = NULL, updated_at = ")
            .bind(now)
            .push(" WHERE deleted = 0 AND id = ")
            .bind(c.id)
            .push(" AND ");
        claimable(&mut update, now);
        if Self::execute(&mut tx, &update, "claiming a notification").await? != 1 {
            return Ok(None);
        }
        let mut read = Sql::new(&format!(
            "SELECT {NOTIFICATION_COLUMNS}, n.attempts AS n_attempts FROM notifications n WHERE n.id = "
        ));
        read.bind(c.id);
        let Some((notification, attempt)) = Self::fetch(
            &mut tx,
            &read,
            "reading the claimed notification",
            with_attempts::<B>,
        )
        .await?
        .into_iter()
        .next() else {
            return Ok(None);
        };
        tx.commit().await.map_err(db_error("committing a claim"))?;
        Ok(Some(Claim {
            notification,
            attempt,
            resumed: c.status == NotificationStatus::Running.as_str(),
        }))
    }

    pub(crate) async fn renew(
        &self,
        uuid: Uuid,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        let mut sql = Sql::new("UPDATE notifications SET claim_expires_at = ");
        sql.bind(lease_end(now, lease))
            .push(" WHERE notification_uuid = ")
            .bind(uuid)
            .push(" AND claimed_by = ")
            .bind(engine)
            .push(" AND status = ")
            .bind(NotificationStatus::Running.as_str());
        Ok(Self::execute(&mut conn, &sql, "renewing a claim").await? == 1)
    }

    pub(crate) async fn is_cancel_requested(&self, uuid: Uuid) -> Result<bool, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM notifications WHERE cancel_requested = ");
        sql.bind(true).push(" AND notification_uuid = ").bind(uuid);
        Ok(Self::count(&mut conn, &sql, "checking for a cancel request").await? > 0)
    }

    pub(crate) async fn complete(
        &self,
        uuid: Uuid,
        engine: &str,
        c: Completion,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        let mut sql = Sql::new("UPDATE notifications SET status = ");
        sql.bind(c.status.as_str())
            .push(", message = ")
            .bind(c.message)
            .push(", next_attempt_at = ")
            .bind(c.retry_at)
            .push(", recovery_method = COALESCE(")
            .bind(c.recovery_method)
            .push(", recovery_method), claimed_by = NULL, claim_expires_at = NULL, cancel_requested = ")
            .bind(false)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE notification_uuid = ")
            .bind(uuid)
            .push(" AND claimed_by = ")
            .bind(engine)
            .push(" AND status = ")
            .bind(NotificationStatus::Running.as_str());
        Ok(Self::execute(&mut conn, &sql, "completing a notification").await? == 1)
    }

    pub(crate) async fn upsert_step(
        &self,
        step: &RecoveryStep,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let details = step_details(step)?;
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        let mut update = Sql::new("UPDATE recovery_steps SET name = ");
        update
            .bind(step.name.as_str())
            .push(", state = ")
            .bind(step.state.as_str())
            .push(", progress = ")
            .bind(step.progress)
            .push(", details = ")
            .bind(details.as_str())
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE notification_uuid = ")
            .bind(step.notification_uuid)
            .push(" AND attempt = ")
            .bind(i64::from(step.attempt))
            .push(" AND seq = ")
            .bind(i64::from(step.seq));
        if Self::execute(&mut conn, &update, "updating a recovery step").await? == 1 {
            return Ok(());
        }
        Self::execute(
            &mut conn,
            &step_insert(step, details, now),
            "recording a recovery step",
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn ensure_moves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError> {
        let Some(notification) = moves.first().map(|m| m.notification_uuid) else {
            return Ok(Vec::new());
        };
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        for m in moves {
            let mut sql = Sql::new(
                "INSERT INTO vmoves (uuid, notification_uuid, instance_uuid, instance_name, source_host, \
                 type, status, created_at, deleted) VALUES (",
            );
            sql.bind(Uuid::new_v4())
                .push(", ")
                .bind(m.notification_uuid)
                .push(", ")
                .bind(m.instance_uuid)
                .push(", ")
                .bind(m.instance_name)
                .push(", ")
                .bind(m.source_host)
                .push(", ")
                .bind(m.vmove_type.as_str())
                .push(", ")
                .bind(m.status.as_str())
                .push(", ")
                .bind(now)
                .push(", 0)");
            // An instance recorded by an earlier (crashed) run keeps its vmove.
            match B::execute(&mut conn, &sql.text, &sql.args).await {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(db_error("recording a vmove")(e)),
            }
        }
        Self::moves_of(&mut conn, notification).await
    }

    async fn moves_of(conn: &mut Conn<B>, notification: Uuid) -> Result<Vec<VMove>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {} FROM vmoves v WHERE v.deleted = 0 AND v.notification_uuid = ",
            super::rows::VMOVE_COLUMNS
        ));
        sql.bind(notification).push(" ORDER BY v.id");
        Self::fetch(conn, &sql, "reading vmoves", vmove::<B>).await
    }

    pub(crate) async fn change_vmove(
        &self,
        uuid: Uuid,
        u: VMoveUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE vmoves SET updated_at = ");
        sql.bind(now);
        if let Some(status) = u.status {
            sql.push(", status = ").bind(status.as_str());
        }
        if let Some(dest) = u.dest_host {
            sql.push(", dest_host = ").bind(dest);
        }
        if let Some(start) = u.start_time {
            sql.push(", start_time = ").bind(start);
        }
        if let Some(end) = u.end_time {
            sql.push(", end_time = ").bind(end);
        }
        if let Some(message) = u.message {
            sql.push(", message = ").bind(message);
        }
        sql.push(" WHERE uuid = ").bind(uuid);
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        Self::execute(&mut conn, &sql, "updating a vmove")
            .await
            .map(|_| ())
    }

    pub(crate) async fn host_by_uuid(&self, uuid: Uuid) -> Result<Option<Host>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        let mut sql = Sql::new(&format!(
            "SELECT {} FROM {} WHERE h.deleted = 0 AND h.uuid = ",
            super::hosts::HOSTS.columns,
            super::hosts::HOSTS.from
        ));
        sql.bind(uuid);
        Ok(Self::fetch(&mut conn, &sql, "reading a host", host::<B>)
            .await?
            .into_iter()
            .next())
    }

    pub(crate) async fn change_host_flags(
        &self,
        uuid: Uuid,
        maintenance: Option<MaintenanceChange>,
        reserved: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE hosts SET updated_at = ");
        sql.bind(now);
        if let Some(change) = maintenance {
            maintenance_assignments(&mut sql, change);
        }
        if let Some(r) = reserved {
            sql.push(", reserved = ").bind(r);
        }
        sql.push(" WHERE deleted = 0 AND uuid = ").bind(uuid);
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        Self::execute(&mut conn, &sql, "updating a host's flags")
            .await
            .map(|_| ())
    }

    pub(crate) async fn count_failed_hosts(
        &self,
        segment: Uuid,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        let mut sql = Sql::new(
            "SELECT COUNT(DISTINCT source_host_uuid) AS n FROM notifications WHERE deleted = 0 AND type = 'COMPUTE_HOST' AND failover_segment_uuid = ",
        );
        sql.bind(segment)
            .push(" AND payload LIKE '%\"event\":\"STOPPED\"%' AND created_at >= ")
            .bind(since);
        let n = Self::count(&mut conn, &sql, "counting failed hosts").await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(crate) async fn operator_request(
        &self,
        uuid: Uuid,
        request: OperatorRequest,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError> {
        if request == OperatorRequest::Cancel {
            return self.cancel(uuid, now).await;
        }
        let current = self.find_notification(uuid).await?;
        let mut sql = Sql::new("UPDATE notifications SET updated_at = ");
        sql.bind(now)
            .push(", status = ")
            .bind(NotificationStatus::New.as_str())
            .push(", next_attempt_at = NULL, cancel_requested = ")
            .bind(false)
            .push(", message = NULL");
        if !matches!(
            current.status,
            NotificationStatus::Error | NotificationStatus::Failed
        ) {
            return Err(StoreError::NotificationState {
                uuid,
                status: current.status,
                reason: "only a notification in error or failed can be retried",
            });
        }
        sql.push(" WHERE notification_uuid = ")
            .bind(uuid)
            .push(" AND status = ")
            .bind(current.status.as_str());
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        if Self::execute(&mut conn, &sql, "applying an operator request").await? != 1 {
            // The status changed under us; report what it is now.
            let now_status = self.find_notification(uuid).await?.status;
            return Err(StoreError::NotificationState {
                uuid,
                status: now_status,
                reason: "its status changed while the request was applied; try again",
            });
        }
        drop(conn);
        self.find_notification(uuid).await
    }
}
