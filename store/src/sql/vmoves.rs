use chrono::{DateTime, Utc};
use lifeboat_core::model::VMove;
use lifeboat_core::store::{ListQuery, NewVMove, StoreError, VMoveFilter, VMoveStore, VMoveUpdate};
use uuid::Uuid;

use super::listing::{Filters, ListTable, Sql, list_query};
use super::rows::{VMOVE_COLUMNS, vmove};
use super::{SqlStore, db_error, is_unique_violation};
use crate::backend::{Backend, Conn};

pub(crate) const VMOVES: ListTable = ListTable {
    table: "vmoves",
    alias: "v",
    from: "vmoves v",
    columns: VMOVE_COLUMNS,
    nullable_text: &["source_host", "dest_host", "message"],
    nullable_time: &["start_time", "end_time", "updated_at", "deleted_at"],
};

/// The `INSERT` of a new vmove `uuid`.
fn vmove_insert(m: NewVMove, uuid: Uuid, now: DateTime<Utc>) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO vmoves (uuid, notification_uuid, instance_uuid, instance_name, source_host, \
         type, status, created_at, deleted) VALUES (",
    );
    sql.bind(uuid)
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
    sql
}

impl<B: Backend> SqlStore<B> {
    async fn moves_of(conn: &mut Conn<B>, notification: Uuid) -> Result<Vec<VMove>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {} FROM vmoves v WHERE v.deleted = 0 AND v.notification_uuid = ",
            super::rows::VMOVE_COLUMNS
        ));
        sql.bind(notification).push(" ORDER BY v.id");
        Self::fetch(conn, &sql, "reading vmoves", vmove::<B>).await
    }

    async fn vmove_in(
        conn: &mut Conn<B>,
        notification: Uuid,
        uuid: Uuid,
    ) -> Result<VMove, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {VMOVE_COLUMNS} FROM vmoves v WHERE v.deleted = 0 AND v.uuid = "
        ));
        sql.bind(uuid)
            .push(" AND v.notification_uuid = ")
            .bind(notification);
        Self::fetch(conn, &sql, "reading a vmove", vmove::<B>)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::VMoveNotFound {
                vmove: uuid.to_string(),
                notification: notification.to_string(),
            })
    }
}

#[async_trait::async_trait]
impl<B: Backend> VMoveStore for SqlStore<B> {
    async fn create_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut created = Vec::with_capacity(moves.len());
        for m in moves {
            let uuid = Uuid::new_v4();
            let notification = m.notification_uuid;
            let sql = vmove_insert(m, uuid, now);
            Self::execute(&mut tx, &sql, "inserting a vmove").await?;
            created.push(Self::vmove_in(&mut tx, notification, uuid).await?);
        }
        tx.commit().await.map_err(db_error("committing vmoves"))?;
        Ok(created)
    }

    async fn get_vmove(&self, notification: Uuid, uuid: Uuid) -> Result<VMove, StoreError> {
        let mut conn = self.read_conn().await?;
        Self::vmove_in(&mut conn, notification, uuid).await
    }

    async fn list_vmoves(
        &self,
        notification: Uuid,
        query: &ListQuery<VMoveFilter>,
    ) -> Result<Vec<VMove>, StoreError> {
        let mut filters = Filters::default();
        filters
            .eq("v.notification_uuid", Some(notification))
            .eq("v.status", query.filter.status.clone())
            .eq("v.type", query.filter.vmove_type.clone());
        let sql = list_query(&VMOVES, filters, &query.sort, query.limit, query.marker);
        self.list(&VMOVES, sql, query.marker, vmove::<B>).await
    }

    async fn ensure_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError> {
        let Some(notification) = moves.first().map(|m| m.notification_uuid) else {
            return Ok(Vec::new());
        };
        let mut conn = self.write_conn().await?;
        for m in moves {
            let sql = vmove_insert(m, Uuid::new_v4(), now);
            // An instance recorded by an earlier (crashed) run keeps its vmove.
            match B::execute(&mut conn, &sql.text, &sql.args).await {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(db_error("recording a vmove")(e)),
            }
        }
        Self::moves_of(&mut conn, notification).await
    }

    async fn update_vmove(
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
        let mut conn = self.write_conn().await?;
        Self::execute(&mut conn, &sql, "updating a vmove")
            .await
            .map(|_| ())
    }
}
