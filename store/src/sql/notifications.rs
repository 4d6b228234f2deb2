use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeboat_core::model::{
    HostEvent, MaintenanceReason, NewNotification, Notification, NotificationStatus,
    NotificationType,
};
use lifeboat_core::store::{
    ListQuery, NotificationFilter, NotificationStore, OperatorRequest, StoreError,
};
use uuid::Uuid;

use super::listing::{Filters, ListTable, Sql, list_query};
use super::rows::{NOTIFICATION_COLUMNS, NOTIFICATION_RETURNING, RowReader, notification};
use super::{SqlStore, db_error};
use crate::backend::{Backend, Conn, DbRow};

pub(crate) const NOTIFICATIONS: ListTable = ListTable {
    table: "notifications",
    alias: "n",
    from: "notifications n",
    columns: NOTIFICATION_COLUMNS,
    nullable_text: &["failover_segment_uuid", "message"],
    nullable_time: &["updated_at", "deleted_at"],
};

/// The reporting host, as far as explaining a refusal needs it.
struct SourceHost {
    on_maintenance: bool,
    /// Whether a recovery (not an operator) put it in maintenance.
    recovery_maintenance: bool,
}

fn source_host<B: Backend>(row: &DbRow<B>) -> Result<SourceHost, StoreError> {
    let r = RowReader::<B>::new(row);
    Ok(SourceHost {
        on_maintenance: r.bool("on_maintenance")?,
        recovery_maintenance: r.opt_text("maintenance_reason")?.as_deref()
            == Some(MaintenanceReason::Recovery.as_str()),
    })
}

/// Whether a report says a host or process came back.
fn is_started(new: &NewNotification) -> bool {
    new.notification_type != NotificationType::Vm
        && new.payload.get("event") == Some(HostEvent::Started.as_str())
}

/// Lower-case hex SHA-256 (the indexed stand-in for a payload).
pub(crate) fn hex_sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn notification_in(
        conn: &mut Conn<B>,
        uuid: Uuid,
    ) -> Result<Notification, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n WHERE n.deleted = 0 AND n.notification_uuid = "
        ));
        sql.bind(uuid);
        Self::fetch(conn, &sql, "reading a notification", notification::<B>)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::NotificationNotFound(uuid.to_string()))
    }

    /// Why the conditional insert inserted nothing: no such host, maintenance, or a duplicate.
    async fn why_not_recorded(conn: &mut Conn<B>, new: NewNotification) -> StoreError {
        let mut lookup = Sql::new(
            "SELECT on_maintenance, maintenance_reason FROM hosts WHERE deleted = 0 AND name = ",
        );
        lookup.bind(new.hostname.as_str());
        let host =
            match Self::fetch(conn, &lookup, "reading the source host", source_host::<B>).await {
                Ok(rows) => rows.into_iter().next(),
                Err(e) => return e,
            };
        match host {
            None => StoreError::HostNameUnknown(new.hostname.into_inner()),
            Some(h) if h.on_maintenance && !(h.recovery_maintenance && is_started(&new)) => {
                StoreError::HostOnMaintenance {
                    host: new.hostname.into_inner(),
                    notification_type: new.notification_type,
                }
            }
            Some(_) => StoreError::DuplicateNotification {
                host: new.hostname.into_inner(),
                notification_type: new.notification_type,
            },
        }
    }
}

#[async_trait::async_trait]
impl<B: Backend> NotificationStore for SqlStore<B> {
    /// Records a notification. The common case is one statement: an `INSERT … SELECT` that
    /// inserts only if the host exists, is not under maintenance and has no equal report in the
    /// window. On PostgreSQL and MySQL the host's row is locked first, so two API workers
    /// receiving the same report serialise there and the second sees the first's row; SQLite
    /// admits one writer at a time anyway. No sleeps, no external lock service. When nothing is
    /// inserted, a follow-up query says why.
    async fn create_notification(
        &self,
        new: NewNotification,
        duplicate_window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError> {
        let mut tx = self.begin_write().await?;
        if !B::LOCK_ROWS.is_empty() {
            let mut lock = Sql::new("SELECT id FROM hosts WHERE deleted = 0 AND name = ");
            lock.bind(new.hostname.as_str()).push(B::LOCK_ROWS);
            Self::execute(&mut tx, &lock, "locking the source host").await?;
        }
        let payload = new.payload.to_canonical_json();
        let payload_hash = hex_sha256(&payload);
        let window = chrono::Duration::from_std(duplicate_window).unwrap_or_default();
        let uuid = Uuid::new_v4();
        let mut insert = Sql::new(
            "INSERT INTO notifications (notification_uuid, generated_time, source_host_uuid, type, \
             payload, payload_hash, status, failover_segment_uuid, created_at, deleted) SELECT ",
        );
        insert
            .bind(uuid)
            .push(", ")
            .bind(new.generated_time)
            .push(", h.uuid, ")
            .bind(new.notification_type.as_str())
            .push(", ")
            .bind(payload.as_str())
            .push(", ")
            .bind(payload_hash.as_str())
            .push(", ")
            .bind(NotificationStatus::New.as_str())
            .push(", h.failover_segment_id, ")
            .bind(now)
            .push(", 0 FROM hosts h WHERE h.deleted = 0 AND h.name = ")
            .bind(new.hostname.as_str())
            // A host a recovery put in maintenance may still say it is back (that is how it
            // leaves maintenance); everything else from a host in maintenance is refused, as in
            // Masakari, and so is everything from a host an operator put there.
            .push(" AND (h.on_maintenance = ")
            .bind(false)
            .push(" OR (")
            .bind(is_started(&new))
            .push(" = ")
            .bind(true)
            .push(" AND h.maintenance_reason = ")
            .bind(MaintenanceReason::Recovery.as_str())
            .push("))")
            .push(
                " AND NOT EXISTS (SELECT 1 FROM notifications d WHERE d.deleted = 0 \
                 AND d.source_host_uuid = h.uuid AND d.type = ",
            )
            .bind(new.notification_type.as_str())
            .push(" AND d.payload_hash = ")
            .bind(payload_hash.as_str())
            .push(" AND d.payload = ")
            .bind(payload.as_str())
            .push(" AND d.generated_time >= ")
            .bind(new.generated_time - window)
            .push(" AND d.generated_time <= ")
            .bind(new.generated_time + window)
            .push(")");
        let created = if B::INSERT_RETURNING {
            insert.push(&format!(" RETURNING {NOTIFICATION_RETURNING}"));
            Self::fetch(
                &mut tx,
                &insert,
                "inserting a notification",
                notification::<B>,
            )
            .await?
            .into_iter()
            .next()
        } else if Self::execute(&mut tx, &insert, "inserting a notification").await? == 1 {
            Some(Self::notification_in(&mut tx, uuid).await?)
        } else {
            None
        };
        let Some(created) = created else {
            return Err(Self::why_not_recorded(&mut tx, new).await);
        };
        tx.commit()
            .await
            .map_err(db_error("committing a notification"))?;
        Ok(created)
    }

    async fn get_notification(&self, uuid: Uuid) -> Result<Notification, StoreError> {
        let mut conn = self.read_conn().await?;
        Self::notification_in(&mut conn, uuid).await
    }

    async fn list_notifications(
        &self,
        query: &ListQuery<NotificationFilter>,
    ) -> Result<Vec<Notification>, StoreError> {
        let f = &query.filter;
        let mut filters = Filters::default();
        filters
            .eq("n.status", f.status.clone())
            .eq("n.source_host_uuid", f.source_host_uuid.clone())
            .eq("n.type", f.notification_type.clone())
            .eq("n.failover_segment_uuid", f.failover_segment_uuid.clone())
            .at_least("n.generated_time", f.generated_since);
        let sql = list_query(
            &NOTIFICATIONS,
            filters,
            &query.sort,
            query.limit,
            query.marker,
        );
        self.list(&NOTIFICATIONS, sql, query.marker, notification::<B>)
            .await
    }

    async fn request(
        &self,
        uuid: Uuid,
        request: OperatorRequest,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError> {
        if request == OperatorRequest::Cancel {
            return self.cancel(uuid, now).await;
        }
        let current = self.get_notification(uuid).await?;
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
        let mut conn = self.write_conn().await?;
        if Self::execute(&mut conn, &sql, "applying an operator request").await? != 1 {
            // The status changed under us; report what it is now.
            let now_status = self.get_notification(uuid).await?.status;
            return Err(StoreError::NotificationState {
                uuid,
                status: now_status,
                reason: "its status changed while the request was applied; try again",
            });
        }
        drop(conn);
        self.get_notification(uuid).await
    }
}
