//! `lifeboat manage db import-masakari`: copies a Masakari database's segments, hosts,
//! notifications and vmoves (ids, uuids, timestamps, soft-deleted rows) into Lifeboat's.
//!
//! The source is only read, in one read-only snapshot; the target is written in one
//! transaction, so a bad row or a conflict leaves it as it was. Lifeboat's schema is
//! Masakari's plus columns of its own, so rows copy column by column (`tables`).

mod tables;

use std::str::FromStr;

use lifeboat_core::config::{DatabaseKind, DatabaseUrl};
use sqlx::Connection as _;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePoolOptions};

use crate::backend::{Backend, Conn, MySqlBackend, PostgresBackend, SqliteBackend, Value};
use tables::{Kind, Raw, TABLES, Table};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Import even though the target already holds segments, hosts, notifications or vmoves
    /// (rows whose ids or uuids are taken still fail the whole import).
    pub into_non_empty: bool,
}

/// What one table's import copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// What the rows are (`segments`, `hosts`, `notifications`, `vmoves`).
    pub rows: &'static str,
    /// Rows copied.
    pub total: usize,
    /// Of which soft-deleted.
    pub deleted: usize,
}

/// What an import copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Per table, in the order copied.
    pub tables: Vec<Copied>,
    /// Live notifications still `new`, `running` or `error`: Lifeboat's engine takes them up.
    pub unfinished: usize,
}

/// Why an import failed; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source or target could not be reached or its URL is malformed.
    #[error("connecting to {url} failed")]
    Connect {
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The source has no Masakari tables.
    #[error("{url} holds no Masakari database (no failover_segments table)")]
    NotMasakari {
        /// The URL, password hidden.
        url: String,
    },
    /// The source is one of Lifeboat's own databases.
    #[error("{url} is a Lifeboat database, not a Masakari one")]
    SourceIsLifeboat {
        /// The URL, password hidden.
        url: String,
    },
    /// The target's schema is not this release's.
    #[error(
        "the target database {url} is at schema version {found}, not {needed}: run `lifeboat manage db sync` first"
    )]
    TargetSchema {
        /// The URL, password hidden.
        url: String,
        /// Applied version.
        found: i64,
        /// This release's version.
        needed: i64,
    },
    /// The target's schema version could not be read.
    #[error("reading the target's schema version failed")]
    TargetVersion(#[source] crate::OpenError),
    /// The target already holds data and the operator did not say to import anyway.
    #[error(
        "the target database {url} already holds {held}: import into an empty database, or pass --into-non-empty"
    )]
    TargetNotEmpty {
        /// The URL, password hidden.
        url: String,
        /// What it holds, e.g. `2 segments, 5 hosts`.
        held: String,
    },
    /// Reading a source table failed.
    #[error("reading {table} from the source failed")]
    Read {
        /// The table.
        table: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A source row holds a value Lifeboat cannot keep.
    #[error("{table} row {id}: {column} {reason}")]
    InvalidValue {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: i64,
        /// The column.
        column: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Writing into the target failed (a taken id or uuid, a dangling reference).
    #[error("writing {table} row {id} into the target failed")]
    Write {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: i64,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Starting, checking or committing the target's transaction failed.
    #[error("{action} on the target failed")]
    Target {
        /// What was being done.
        action: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
}

/// One table's rows, checked, in the target's column order (copied columns, then derived).
struct Rows {
    table: &'static Table,
    columns: Vec<&'static str>,
    values: Vec<Vec<Value>>,
}

/// Copies Masakari's rows from `source` into the Lifeboat database `target`, which must be at
/// this release's schema (`manage db sync`) and, unless told otherwise, empty.
pub async fn import_masakari(
    source: &DatabaseUrl,
    target: &DatabaseUrl,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let found = crate::schema_version(target)
        .await
        .map_err(ImportError::TargetVersion)?;
    let needed = crate::latest_schema_version();
    if found != needed {
        return Err(ImportError::TargetSchema {
            url: target.to_string(),
            found,
            needed,
        });
    }
    let rows = read_source(source).await?;
    let report = report(&rows);
    write_target(target, &rows, options).await?;
    Ok(report)
}

fn report(rows: &[Rows]) -> ImportReport {
    let deleted_index = |r: &Rows| r.columns.iter().position(|c| *c == "deleted");
    let tables = rows
        .iter()
        .map(|r| Copied {
            rows: r.table.rows,
            total: r.values.len(),
            deleted: deleted_index(r).map_or(0, |i| {
                r.values
                    .iter()
                    .filter(|v| !matches!(v[i], Value::I64(0)))
                    .count()
            }),
        })
        .collect();
    let unfinished = rows
        .iter()
        .filter(|r| r.table.name == "notifications")
        .flat_map(|r| {
            let status = r.columns.iter().position(|c| *c == "status");
            let deleted = deleted_index(r);
            r.values.iter().filter(move |v| {
                let live = deleted.is_some_and(|i| matches!(v[i], Value::I64(0)));
                let open = status.is_some_and(|i| {
                    matches!(&v[i], Value::Text(s) if ["new", "running", "error"].contains(&s.as_str()))
                });
                live && open
            })
        })
        .count();
    ImportReport { tables, unfinished }
}

fn connect_error(url: &DatabaseUrl) -> impl FnOnce(sqlx::Error) -> ImportError + '_ {
    move |source| ImportError::Connect {
        url: url.to_string(),
        source,
    }
}

/// Reads every table in one read-only snapshot.
async fn read_source(url: &DatabaseUrl) -> Result<Vec<Rows>, ImportError> {
    match url.kind() {
        DatabaseKind::Sqlite => {
            let options = SqliteConnectOptions::from_str(url.expose())
                .map_err(connect_error(url))?
                .read_only(true)
                .create_if_missing(false);
            let mut conn = SqliteConnection::connect_with(&options)
                .await
                .map_err(connect_error(url))?;
            read_all::<SqliteBackend>(
                &mut conn,
                url,
                "BEGIN",
                |c| c.to_owned(),
                |c| format!("CAST({c} AS TEXT)"),
            )
            .await
        }
        DatabaseKind::Postgres => {
            let options = PgConnectOptions::from_str(url.expose()).map_err(connect_error(url))?;
            let mut conn = PgConnection::connect_with(&options)
                .await
                .map_err(connect_error(url))?;
            read_all::<PostgresBackend>(
                &mut conn,
                url,
                "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
                |c| format!("CAST({c} AS BIGINT)"),
                |c| format!("CAST({c} AS TEXT)"),
            )
            .await
        }
        DatabaseKind::MySql => {
            let options =
                MySqlConnectOptions::from_str(url.expose()).map_err(connect_error(url))?;
            let mut conn = MySqlConnection::connect_with(&options)
                .await
                .map_err(connect_error(url))?;
            read_all::<MySqlBackend>(
                &mut conn,
                url,
                "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
                |c| format!("CAST({c} AS SIGNED)"),
                |c| format!("CAST({c} AS CHAR)"),
            )
            .await
        }
    }
}

/// Whether `table` exists on the connection.
pub(crate) async fn has_table<B: Backend>(
    conn: &mut Conn<B>,
    table: &str,
) -> Result<bool, sqlx::Error> {
    match B::fetch_all(conn, &format!("SELECT 1 FROM {table} WHERE 1 = 0"), &[]).await {
        Ok(_) => Ok(true),
        Err(e) if crate::is_missing_table(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads the tables inside `snapshot` (a read-only transaction). `int` and `text` wrap a
/// column so the driver decodes it as `i64` / text whatever the source's column type (INT
/// vs BIGINT, ENUM, BOOLEAN vs TINYINT).
async fn read_all<B: Backend>(
    conn: &mut Conn<B>,
    url: &DatabaseUrl,
    snapshot: &str,
    int: fn(&str) -> String,
    text: fn(&str) -> String,
) -> Result<Vec<Rows>, ImportError> {
    let probe = |table: &'static str| move |source| ImportError::Read { table, source };
    if !has_table::<B>(conn, "failover_segments")
        .await
        .map_err(probe("failover_segments"))?
    {
        return Err(ImportError::NotMasakari {
            url: url.to_string(),
        });
    }
    if has_table::<B>(conn, "_sqlx_migrations")
        .await
        .map_err(probe("_sqlx_migrations"))?
    {
        return Err(ImportError::SourceIsLifeboat {
            url: url.to_string(),
        });
    }
    B::execute(conn, snapshot, &[])
        .await
        .map_err(probe("failover_segments"))?;
    let mut out = Vec::new();
    for table in &TABLES {
        let select: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                let expr = match c.kind {
                    Kind::Int => int(c.name),
                    Kind::Time | Kind::OptTime => c.name.to_owned(),
                    _ => text(c.name),
                };
                format!("{expr} AS {}", c.name)
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY id",
            select.join(", "),
            table.name
        );
        let fetched = B::fetch_all(conn, &sql, &[])
            .await
            .map_err(probe(table.name))?;
        let mut values = Vec::with_capacity(fetched.len());
        for row in &fetched {
            let id = B::get_i64(row, "id").map_err(probe(table.name))?;
            let mut checked = Vec::with_capacity(table.columns.len() + 1);
            for column in table.columns {
                let raw = match column.kind {
                    Kind::Int => Raw::Int(B::get_i64(row, column.name).map_err(probe(table.name))?),
                    Kind::Time | Kind::OptTime => {
                        Raw::Time(B::get_opt_time(row, column.name).map_err(probe(table.name))?)
                    }
                    _ => Raw::Text(B::get_opt_text(row, column.name).map_err(probe(table.name))?),
                };
                checked.push(tables::check(table, id, column, raw)?);
            }
            checked.extend((table.derive)(&checked));
            values.push(checked);
        }
        let mut columns: Vec<&'static str> = table.columns.iter().map(|c| c.name).collect();
        columns.extend(table.derived);
        out.push(Rows {
            table,
            columns,
            values,
        });
    }
    // Ends the snapshot; nothing was written.
    let _ = B::execute(conn, "ROLLBACK", &[]).await;
    Ok(out)
}

/// Writes every row into the target in one transaction.
async fn write_target(
    url: &DatabaseUrl,
    rows: &[Rows],
    options: ImportOptions,
) -> Result<(), ImportError> {
    match url.kind() {
        DatabaseKind::Sqlite => {
            let connect = SqliteConnectOptions::from_str(url.expose())
                .map_err(connect_error(url))?
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(30))
                .create_if_missing(false);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(connect)
                .await
                .map_err(connect_error(url))?;
            write_all::<SqliteBackend>(&pool, url, rows, options, false).await
        }
        DatabaseKind::Postgres => {
            let connect = PgConnectOptions::from_str(url.expose()).map_err(connect_error(url))?;
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(connect)
                .await
                .map_err(connect_error(url))?;
            write_all::<PostgresBackend>(&pool, url, rows, options, true).await
        }
        DatabaseKind::MySql => {
            let connect =
                MySqlConnectOptions::from_str(url.expose()).map_err(connect_error(url))?;
            let pool = MySqlPoolOptions::new()
                .max_connections(1)
                .connect_with(connect)
                .await
                .map_err(connect_error(url))?;
            write_all::<MySqlBackend>(&pool, url, rows, options, false).await
        }
    }
}

async fn write_all<B: Backend>(
    pool: &sqlx::Pool<B::Db>,
    url: &DatabaseUrl,
    rows: &[Rows],
    options: ImportOptions,
    advance_sequences: bool,
) -> Result<(), ImportError> {
    let target = |action: &'static str| move |source| ImportError::Target { action, source };
    let mut tx = B::begin_write(pool)
        .await
        .map_err(target("starting a transaction"))?;
    if !options.into_non_empty {
        let mut held = Vec::new();
        for r in rows {
            let sql = format!("SELECT COUNT(*) AS n FROM {}", r.table.name);
            let counted = B::fetch_all(&mut *tx, &sql, &[])
                .await
                .map_err(target("counting the rows already there"))?;
            let n = counted
                .first()
                .map(|row| B::get_i64(row, "n"))
                .transpose()
                .map_err(target("counting the rows already there"))?
                .unwrap_or(0);
            if n > 0 {
                held.push(format!("{n} {}", r.table.rows));
            }
        }
        if !held.is_empty() {
            return Err(ImportError::TargetNotEmpty {
                url: url.to_string(),
                held: held.join(", "),
            });
        }
    }
    for r in rows {
        let placeholders = vec!["?"; r.columns.len()].join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({placeholders})",
            r.table.name,
            r.columns.join(", ")
        );
        for values in &r.values {
            let id = match values.first() {
                Some(Value::I64(id)) => *id,
                _ => 0,
            };
            B::execute(&mut *tx, &sql, values)
                .await
                .map_err(|source| ImportError::Write {
                    table: r.table.name,
                    id,
                    source,
                })?;
        }
        // Explicit ids leave PostgreSQL's sequences behind; the next row must not collide.
        if advance_sequences && !r.values.is_empty() {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), (SELECT MAX(id) FROM {0})) AS n",
                r.table.name
            );
            B::fetch_all(&mut *tx, &sql, &[])
                .await
                .map_err(target("advancing the id sequences"))?;
        }
    }
    tx.commit().await.map_err(target("committing"))?;
    Ok(())
}
