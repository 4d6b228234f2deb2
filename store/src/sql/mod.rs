//! The store, written once over [`Backend`].

mod fencing;
mod hosts;
pub(crate) mod listing;
mod notifications;
pub(crate) use notifications::hex_sha256;
mod operator;
mod recovery;
pub(crate) mod rows;
mod segments;
mod vmoves;

use std::marker::PhantomData;

use lifeboat_core::model::NotificationStatus;
use lifeboat_core::store::{StoreError, StoreHealth};
use sqlx::Pool;
use sqlx::pool::PoolConnection;
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

    /// A connection for reads.
    pub(crate) async fn read_conn(&self) -> Result<PoolConnection<B::Db>, StoreError> {
        self.pool
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))
    }

    /// A connection for writes outside a transaction.
    pub(crate) async fn write_conn(&self) -> Result<PoolConnection<B::Db>, StoreError> {
        self.writer
            .acquire()
            .await
            .map_err(db_error("acquiring a connection"))
    }

    /// A write transaction.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, B::Db>, StoreError> {
        B::begin_write(&self.writer)
            .await
            .map_err(db_error("starting a transaction"))
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
        let mut conn = self.read_conn().await?;
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
impl<B: Backend> StoreHealth for SqlStore<B> {
    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.read_conn().await?;
        Self::count(
            &mut conn,
            &Sql::new("SELECT COUNT(*) AS n FROM failover_segments WHERE id = 0"),
            "pinging the database",
        )
        .await
        .map(|_| ())
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        B::execute(&mut tx, B::WRITE_PROBE, &[])
            .await
            .map_err(db_error("probing a write"))?;
        tx.commit()
            .await
            .map_err(db_error("committing a write probe"))
    }
}
