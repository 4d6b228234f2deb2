use chrono::{DateTime, Utc};
use lifeboat_core::model::{NewSegment, Segment, SegmentUpdate};
use lifeboat_core::store::{ListQuery, SegmentFilter, SegmentStore, StoreError};
use uuid::Uuid;

use super::listing::{Filters, ListTable, Sql, list_query};
use super::rows::{SEGMENT_COLUMNS, segment};
use super::{SqlStore, db_error, is_unique_violation};
use crate::backend::{Backend, Conn};

pub(crate) const SEGMENTS: ListTable = ListTable {
    table: "failover_segments",
    alias: "s",
    from: "failover_segments s",
    columns: SEGMENT_COLUMNS,
    nullable_text: &["description"],
    nullable_time: &["updated_at", "deleted_at"],
};

impl<B: Backend> SqlStore<B> {
    /// Checks that live segment `uuid` exists and is not under recovery (`action` is
    /// `updated` or `deleted`), locking its row.
    async fn segment_changeable(
        conn: &mut Conn<B>,
        uuid: Uuid,
        action: &'static str,
    ) -> Result<(), StoreError> {
        Self::segment_in(conn, uuid, true).await?;
        if Self::notifications_in_progress(conn, uuid).await? > 0 {
            return Err(StoreError::SegmentInUse { uuid, action });
        }
        Ok(())
    }

    /// The live segment `uuid`, locked for the rest of the transaction when `lock`.
    pub(crate) async fn segment_in(
        conn: &mut Conn<B>,
        uuid: Uuid,
        lock: bool,
    ) -> Result<Segment, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {SEGMENT_COLUMNS} FROM failover_segments s WHERE s.deleted = 0 AND s.uuid = "
        ));
        sql.bind(uuid);
        if lock {
            sql.push(B::LOCK_ROWS);
        }
        Self::fetch(conn, &sql, "reading a segment", segment::<B>)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::SegmentNotFound(uuid.to_string()))
    }
}

#[async_trait::async_trait]
impl<B: Backend> SegmentStore for SqlStore<B> {
    async fn create_segment(
        &self,
        new: NewSegment,
        now: DateTime<Utc>,
    ) -> Result<Segment, StoreError> {
        let uuid = Uuid::new_v4();
        let mut conn = self.read_conn().await?;
        let mut sql = Sql::new(
            "INSERT INTO failover_segments (uuid, name, service_type, description, recovery_method, \
             enabled, created_at, deleted) VALUES (",
        );
        sql.bind(uuid)
            .push(", ")
            .bind(new.name.as_str())
            .push(", ")
            .bind(new.service_type.as_str())
            .push(", ")
            .bind(new.description.map(|d| d.into_inner()))
            .push(", ")
            .bind(new.recovery_method.as_str())
            .push(", ")
            .bind(new.enabled)
            .push(", ")
            .bind(now)
            .push(", 0)");
        B::execute(&mut conn, &sql.text, &sql.args)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::SegmentNameTaken(new.name.into_inner())
                } else {
                    db_error("inserting a segment")(e)
                }
            })?;
        Self::segment_in(&mut conn, uuid, false).await
    }

    async fn get_segment(&self, uuid: Uuid) -> Result<Segment, StoreError> {
        let mut conn = self.read_conn().await?;
        Self::segment_in(&mut conn, uuid, false).await
    }

    async fn list_segments(
        &self,
        query: &ListQuery<SegmentFilter>,
    ) -> Result<Vec<Segment>, StoreError> {
        let mut filters = Filters::default();
        filters
            .eq("s.recovery_method", query.filter.recovery_method.clone())
            .eq("s.service_type", query.filter.service_type.clone())
            .eq("s.enabled", query.filter.enabled);
        let sql = list_query(&SEGMENTS, filters, &query.sort, query.limit, query.marker);
        self.list(&SEGMENTS, sql, query.marker, segment::<B>).await
    }

    async fn update_segment(
        &self,
        uuid: Uuid,
        update: SegmentUpdate,
        now: DateTime<Utc>,
    ) -> Result<Segment, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::segment_changeable(&mut tx, uuid, "updated").await?;
        let mut sql = Sql::new("UPDATE failover_segments SET updated_at = ");
        sql.bind(now);
        let taken_name = update.name.as_ref().map(|n| n.as_str().to_owned());
        if let Some(name) = update.name {
            sql.push(", name = ").bind(name.into_inner());
        }
        if let Some(description) = update.description {
            sql.push(", description = ")
                .bind(description.map(|d| d.into_inner()));
        }
        if let Some(method) = update.recovery_method {
            sql.push(", recovery_method = ").bind(method.as_str());
        }
        if let Some(service_type) = update.service_type {
            sql.push(", service_type = ")
                .bind(service_type.into_inner());
        }
        if let Some(enabled) = update.enabled {
            sql.push(", enabled = ").bind(enabled);
        }
        sql.push(" WHERE deleted = 0 AND uuid = ").bind(uuid);
        B::execute(&mut tx, &sql.text, &sql.args)
            .await
            .map_err(|e| match taken_name {
                Some(name) if is_unique_violation(&e) => StoreError::SegmentNameTaken(name),
                _ => db_error("updating a segment")(e),
            })?;
        let updated = Self::segment_in(&mut tx, uuid, false).await?;
        tx.commit()
            .await
            .map_err(db_error("committing a segment update"))?;
        Ok(updated)
    }

    async fn delete_segment(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::segment_changeable(&mut tx, uuid, "deleted").await?;
        let mut hosts = Sql::new("UPDATE hosts SET deleted = id, deleted_at = ");
        hosts
            .bind(now)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE deleted = 0 AND failover_segment_id = ")
            .bind(uuid);
        Self::execute(&mut tx, &hosts, "deleting a segment's hosts").await?;
        let mut segment = Sql::new("UPDATE failover_segments SET deleted = id, deleted_at = ");
        segment
            .bind(now)
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE deleted = 0 AND uuid = ")
            .bind(uuid);
        Self::execute(&mut tx, &segment, "deleting a segment").await?;
        tx.commit()
            .await
            .map_err(db_error("committing a segment delete"))
    }
}
