use chrono::{DateTime, Utc};
use lifeboat_core::model::{Host, HostUpdate, MaintenanceReason, NewHost};
use lifeboat_core::store::{HostFilter, HostStore, ListQuery, MaintenanceChange, StoreError};
use uuid::Uuid;

use super::listing::{Filters, ListTable, Sql, list_query};
use super::rows::{host, host_columns, segment_columns};
use super::{SqlStore, db_error, is_unique_violation};
use crate::backend::{Backend, Conn};

pub(crate) const HOSTS: ListTable = ListTable {
    table: "hosts",
    alias: "h",
    from: "hosts h JOIN failover_segments s ON s.uuid = h.failover_segment_id",
    columns: concat!(host_columns!(), ", ", segment_columns!()),
    nullable_text: &[],
    nullable_time: &["updated_at", "deleted_at"],
};

/// The maintenance reason of a host an operator puts in (or takes out of) maintenance.
fn operators(on_maintenance: bool) -> Option<String> {
    on_maintenance.then(|| MaintenanceReason::Operator.as_str().to_owned())
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

impl<B: Backend> SqlStore<B> {
    /// Checks that live host `uuid` of live segment `segment` exists and that the segment is
    /// not under recovery (`action` is `updated` or `deleted`), locking the host's row.
    async fn host_changeable(
        conn: &mut Conn<B>,
        segment: Uuid,
        uuid: Uuid,
        action: &'static str,
    ) -> Result<(), StoreError> {
        Self::segment_in(conn, segment, false).await?;
        Self::host_in(conn, segment, uuid, true).await?;
        if Self::notifications_in_progress(conn, segment).await? > 0 {
            return Err(StoreError::HostInUse { uuid, action });
        }
        Ok(())
    }

    fn host_select() -> Sql {
        Sql::new(&format!(
            "SELECT {} FROM {} WHERE h.deleted = 0",
            HOSTS.columns, HOSTS.from
        ))
    }

    async fn host_in(
        conn: &mut Conn<B>,
        segment: Uuid,
        uuid: Uuid,
        lock: bool,
    ) -> Result<Host, StoreError> {
        let mut sql = Self::host_select();
        sql.push(" AND h.failover_segment_id = ")
            .bind(segment)
            .push(" AND h.uuid = ")
            .bind(uuid);
        if lock {
            sql.push(B::LOCK_ROWS);
        }
        Self::fetch(conn, &sql, "reading a host", host::<B>)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::HostNotFound {
                host: uuid.to_string(),
                segment: segment.to_string(),
            })
    }
}

#[async_trait::async_trait]
impl<B: Backend> HostStore for SqlStore<B> {
    async fn create_host(
        &self,
        segment: Uuid,
        new: NewHost,
        now: DateTime<Utc>,
    ) -> Result<Host, StoreError> {
        let uuid = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        // Locks the segment so a concurrent delete cannot orphan the new host.
        Self::segment_in(&mut tx, segment, true).await?;
        let mut sql = Sql::new(
            "INSERT INTO hosts (uuid, name, reserved, type, control_attributes, on_maintenance, \
             maintenance_reason, failover_segment_id, created_at, deleted) VALUES (",
        );
        sql.bind(uuid)
            .push(", ")
            .bind(new.name.as_str())
            .push(", ")
            .bind(new.reserved)
            .push(", ")
            .bind(new.host_type.as_str())
            .push(", ")
            .bind(new.control_attributes.as_str())
            .push(", ")
            .bind(new.on_maintenance)
            .push(", ")
            .bind(operators(new.on_maintenance))
            .push(", ")
            .bind(segment)
            .push(", ")
            .bind(now)
            .push(", 0)");
        B::execute(&mut tx, &sql.text, &sql.args)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::HostNameTaken(new.name.into_inner())
                } else {
                    db_error("inserting a host")(e)
                }
            })?;
        let created = Self::host_in(&mut tx, segment, uuid, false).await?;
        tx.commit()
            .await
            .map_err(db_error("committing a host insert"))?;
        Ok(created)
    }

    async fn get_host(&self, segment: Uuid, uuid: Uuid) -> Result<Host, StoreError> {
        let mut conn = self.read_conn().await?;
        Self::segment_in(&mut conn, segment, false).await?;
        Self::host_in(&mut conn, segment, uuid, false).await
    }

    async fn get_host_by_name(&self, name: &str) -> Result<Option<Host>, StoreError> {
        let mut conn = self.read_conn().await?;
        let mut sql = Self::host_select();
        sql.push(" AND h.name = ").bind(name);
        Ok(
            Self::fetch(&mut conn, &sql, "reading a host by name", host::<B>)
                .await?
                .into_iter()
                .next(),
        )
    }

    async fn list_hosts(
        &self,
        segment: Uuid,
        query: &ListQuery<HostFilter>,
    ) -> Result<Vec<Host>, StoreError> {
        {
            let mut conn = self.read_conn().await?;
            Self::segment_in(&mut conn, segment, false).await?;
        }
        let f = &query.filter;
        let mut filters = Filters::default();
        filters
            .eq("h.failover_segment_id", Some(segment))
            .eq("h.name", f.name.clone())
            .eq("h.type", f.host_type.clone())
            .eq("h.control_attributes", f.control_attributes.clone())
            .eq("h.on_maintenance", f.on_maintenance)
            .eq("h.reserved", f.reserved);
        let sql = list_query(&HOSTS, filters, &query.sort, query.limit, query.marker);
        self.list(&HOSTS, sql, query.marker, host::<B>).await
    }

    async fn update_host(
        &self,
        segment: Uuid,
        uuid: Uuid,
        update: HostUpdate,
        now: DateTime<Utc>,
    ) -> Result<Host, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::host_changeable(&mut tx, segment, uuid, "updated").await?;
        let mut sql = Sql::new("UPDATE hosts SET updated_at = ");
        sql.bind(now);
        let taken_name = update.name.as_ref().map(|n| n.as_str().to_owned());
        if let Some(name) = update.name {
            sql.push(", name = ").bind(name.into_inner());
        }
        if let Some(host_type) = update.host_type {
            sql.push(", type = ").bind(host_type.into_inner());
        }
        if let Some(control) = update.control_attributes {
            sql.push(", control_attributes = ")
                .bind(control.into_inner());
        }
        if let Some(reserved) = update.reserved {
            sql.push(", reserved = ").bind(reserved);
        }
        if let Some(on_maintenance) = update.on_maintenance {
            sql.push(", on_maintenance = ")
                .bind(on_maintenance)
                .push(", maintenance_reason = ")
                .bind(operators(on_maintenance))
                .push(", maintenance_notification_uuid = NULL");
        }
        sql.push(" WHERE deleted = 0 AND uuid = ").bind(uuid);
        B::execute(&mut tx, &sql.text, &sql.args)
            .await
            .map_err(|e| match taken_name {
                Some(name) if is_unique_violation(&e) => StoreError::HostNameTaken(name),
                _ => db_error("updating a host")(e),
            })?;
        let updated = Self::host_in(&mut tx, segment, uuid, false).await?;
        tx.commit()
            .await
            .map_err(db_error("committing a host update"))?;
        Ok(updated)
    }

    async fn delete_host(
        &self,
        segment: Uuid,
        uuid: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::host_changeable(&mut tx, segment, uuid, "deleted").await?;
        let mut sql = Sql::new("UPDATE hosts SET deleted = id, deleted_at = ");
        sql.bind(now)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE deleted = 0 AND uuid = ")
            .bind(uuid);
        Self::execute(&mut tx, &sql, "deleting a host").await?;
        tx.commit()
            .await
            .map_err(db_error("committing a host delete"))
    }

    async fn get_host_by_uuid(&self, uuid: Uuid) -> Result<Option<Host>, StoreError> {
        let mut conn = self.read_conn().await?;
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

    async fn set_host_flags(
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
        let mut conn = self.write_conn().await?;
        Self::execute(&mut conn, &sql, "updating a host's flags")
            .await
            .map(|_| ())
    }
}
