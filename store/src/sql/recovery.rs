//! The engine's side of the store: claims with leases, outcomes and the recorded steps.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::model::{Notification, NotificationStatus, RecoveryStep};
use lifeboat_core::store::{Claim, Completion, RecoveryStore, StoreError};
use uuid::Uuid;

use super::listing::Sql;
use super::rows::{NOTIFICATION_COLUMNS, RowReader, STEP_COLUMNS, notification, recovery_step};
use super::{SqlStore, db_error};
use crate::backend::{Backend, DbRow};

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
    /// Claims one candidate unless another engine got it first or its host is busy.
    async fn try_claim(
        &self,
        c: &Candidate,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let mut tx = self.begin_write().await?;
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
}

#[async_trait::async_trait]
impl<B: Backend> RecoveryStore for SqlStore<B> {
    async fn list_recovery_steps(
        &self,
        notification: Uuid,
    ) -> Result<Vec<RecoveryStep>, StoreError> {
        let mut conn = self.read_conn().await?;
        let mut sql = Sql::new(&format!(
            "SELECT {STEP_COLUMNS} FROM recovery_steps WHERE notification_uuid = "
        ));
        sql.bind(notification).push(" ORDER BY attempt, seq");
        Self::fetch(
            &mut conn,
            &sql,
            "reading recovery steps",
            recovery_step::<B>,
        )
        .await
    }

    async fn claim_notification(
        &self,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let candidates = {
            let mut conn = self.read_conn().await?;
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

    async fn renew_claim(
        &self,
        uuid: Uuid,
        engine: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.write_conn().await?;
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

    async fn cancel_requested(&self, uuid: Uuid) -> Result<bool, StoreError> {
        let mut conn = self.read_conn().await?;
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM notifications WHERE cancel_requested = ");
        sql.bind(true).push(" AND notification_uuid = ").bind(uuid);
        Ok(Self::count(&mut conn, &sql, "checking for a cancel request").await? > 0)
    }

    async fn complete_notification(
        &self,
        uuid: Uuid,
        engine: &str,
        c: Completion,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.write_conn().await?;
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

    async fn record_step(&self, step: &RecoveryStep, now: DateTime<Utc>) -> Result<(), StoreError> {
        let details = step_details(step)?;
        let mut conn = self.write_conn().await?;
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

    async fn failed_hosts_since(
        &self,
        segment: Uuid,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.read_conn().await?;
        let mut sql = Sql::new(
            "SELECT COUNT(DISTINCT source_host_uuid) AS n FROM notifications WHERE deleted = 0 AND type = 'COMPUTE_HOST' AND failover_segment_uuid = ",
        );
        sql.bind(segment)
            .push(" AND payload LIKE '%\"event\":\"STOPPED\"%' AND created_at >= ")
            .bind(since);
        let n = Self::count(&mut conn, &sql, "counting failed hosts").await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
