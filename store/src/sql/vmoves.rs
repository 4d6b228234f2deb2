use chrono::{DateTime, Utc};
use lifeboat_core::model::{RecoveryStep, VMove};
use lifeboat_core::store::{ListQuery, NewVMove, StoreError, VMoveFilter};
use uuid::Uuid;

use super::listing::{Filters, ListTable, Sql, list_query};
use super::rows::{STEP_COLUMNS, VMOVE_COLUMNS, recovery_step, vmove};
use super::{SqlStore, db_error};
use crate::backend::{Backend, Conn};

pub(crate) const VMOVES: ListTable = ListTable {
    table: "vmoves",
    alias: "v",
    from: "vmoves v",
    columns: VMOVE_COLUMNS,
    nullable_text: &["source_host", "dest_host", "message"],
    nullable_time: &["start_time", "end_time", "updated_at", "deleted_at"],
};

impl<B: Backend> SqlStore<B> {
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

    pub(crate) async fn insert_vmoves(
        &self,
        moves: Vec<NewVMove>,
        now: DateTime<Utc>,
    ) -> Result<Vec<VMove>, StoreError> {
        let mut tx = B::begin_write(&self.writer)
            .await
            .map_err(db_error("starting a transaction"))?;
        let mut created = Vec::with_capacity(moves.len());
        for m in moves {
            let uuid = Uuid::new_v4();
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
            Self::execute(&mut tx, &sql, "inserting a vmove").await?;
            created.push(Self::vmove_in(&mut tx, m.notification_uuid, uuid).await?);
        }
        tx.commit().await.map_err(db_error("committing vmoves"))?;
        Ok(created)
    }

    pub(crate) async fn find_vmove(
        &self,
        notification: Uuid,
        uuid: Uuid,
    ) -> Result<VMove, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
        Self::vmove_in(&mut conn, notification, uuid).await
    }

    pub(crate) async fn vmoves_page(
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

    pub(crate) async fn steps_of(
        &self,
        notification: Uuid,
    ) -> Result<Vec<RecoveryStep>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))?;
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
}
