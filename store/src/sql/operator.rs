//! An operator's cancel. A notification no engine is working on (`new`, or `error` waiting for
//! its retry or for an operator) ends at once: `failed`, no retry, its segment no longer "under
//! recovery", the cancel recorded as a step of its last attempt. A running recovery is asked to
//! stop at its next step (the engine records the cancel then).

use chrono::{DateTime, Utc};
use lifeboat_core::model::{
    CANCEL_STEP, CANCELLED_MESSAGE, Notification, NotificationStatus, ProgressDetail, RecoveryStep,
    StepState,
};
use lifeboat_core::store::StoreError;
use uuid::Uuid;

use super::listing::Sql;
use super::recovery::{step_details, step_insert, with_attempts};
use super::rows::{NOTIFICATION_COLUMNS, RowReader};
use super::{SqlStore, db_error};
use crate::backend::{Backend, Conn, DbRow};

fn next_seq<B: Backend>(row: &DbRow<B>) -> Result<i64, StoreError> {
    RowReader::<B>::new(row).i64("seq")
}

/// What the cancel step says, by the status the notification was cancelled in.
fn cancel_line(status: NotificationStatus) -> &'static str {
    match status {
        NotificationStatus::New => {
            "Cancelled by an operator before any recovery began; the host and segment are released."
        }
        _ => {
            "Cancelled by an operator while in error: no retry will run; the host and segment are released."
        }
    }
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn cancel(
        &self,
        uuid: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError> {
        let mut tx = self.begin_write().await?;
        // The row lock keeps an engine from claiming the notification while it is cancelled.
        let mut read = Sql::new(&format!(
            "SELECT {NOTIFICATION_COLUMNS}, n.attempts AS n_attempts FROM notifications n \
             WHERE n.deleted = 0 AND n.notification_uuid = "
        ));
        read.bind(uuid).push(B::LOCK_ROWS);
        let (current, attempt) = Self::fetch(
            &mut tx,
            &read,
            "reading the notification to cancel",
            with_attempts::<B>,
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::NotificationNotFound(uuid.to_string()))?;
        let mut update = Sql::new("UPDATE notifications SET updated_at = ");
        update.bind(now);
        match current.status {
            NotificationStatus::New | NotificationStatus::Error => {
                update
                    .push(", status = ")
                    .bind(NotificationStatus::Failed.as_str())
                    .push(", message = ")
                    .bind(CANCELLED_MESSAGE)
                    .push(", next_attempt_at = NULL, claimed_by = NULL, claim_expires_at = NULL, cancel_requested = ")
                    .bind(false);
                Self::record_cancel(&mut tx, &current, attempt, now).await?;
            }
            NotificationStatus::Running => {
                update.push(", cancel_requested = ").bind(true);
            }
            status => {
                return Err(StoreError::NotificationState {
                    uuid,
                    status,
                    reason: "only a notification in progress can be cancelled",
                });
            }
        }
        update.push(" WHERE id = ").bind(current.id);
        Self::execute(&mut tx, &update, "cancelling a notification").await?;
        let cancelled = Self::notification_in(&mut tx, uuid).await?;
        tx.commit().await.map_err(db_error("committing a cancel"))?;
        Ok(cancelled)
    }

    /// Records the cancel as the next step of the notification's last attempt (attempt 0 for
    /// one never attempted), so `recovery_workflow_details` shows it.
    async fn record_cancel(
        conn: &mut Conn<B>,
        n: &Notification,
        attempt: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut last = Sql::new(
            "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM recovery_steps WHERE notification_uuid = ",
        );
        last.bind(n.notification_uuid)
            .push(" AND attempt = ")
            .bind(attempt);
        let seq = Self::fetch(conn, &last, "numbering the cancel step", next_seq::<B>)
            .await?
            .into_iter()
            .next()
            .unwrap_or(1);
        let step = RecoveryStep {
            id: 0,
            notification_uuid: n.notification_uuid,
            attempt: i32::try_from(attempt).unwrap_or(i32::MAX),
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            name: CANCEL_STEP.to_owned(),
            state: StepState::Success,
            progress: 1.0,
            details: vec![ProgressDetail {
                timestamp: now,
                progress: 1.0,
                message: cancel_line(n.status).to_owned(),
            }],
        };
        let details = step_details(&step)?;
        Self::execute(
            conn,
            &step_insert(&step, details, now),
            "recording the cancel step",
        )
        .await
        .map(|_| ())
    }
}
