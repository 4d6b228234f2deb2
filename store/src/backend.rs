//! What differs between SQLite, PostgreSQL and MySQL, behind one small trait, so that every
//! query of the store is written once.
//!
//! SQL is written with `?` placeholders; PostgreSQL's `$n` are produced here. Values are bound
//! and read through [`Value`] and the typed getters, which each backend implements with the
//! same few lines (stamped out by `impl_backend!`).

use std::borrow::Cow;

use chrono::NaiveDateTime;
use futures::future::BoxFuture;
use sqlx::{Database, Pool};

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    I64(i64),
    F64(f64),
    Text(String),
    Bool(bool),
    Time(NaiveDateTime),
    NullText,
    NullTime,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::I64(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::F64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl From<uuid::Uuid> for Value {
    fn from(v: uuid::Uuid) -> Self {
        Self::Text(v.to_string())
    }
}
impl From<NaiveDateTime> for Value {
    fn from(v: NaiveDateTime) -> Self {
        Self::Time(v)
    }
}
impl From<chrono::DateTime<chrono::Utc>> for Value {
    fn from(v: chrono::DateTime<chrono::Utc>) -> Self {
        Self::Time(v.naive_utc())
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Self::NullText, Self::Text)
    }
}
impl From<Option<chrono::DateTime<chrono::Utc>>> for Value {
    fn from(v: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        v.map_or(Self::NullTime, |t| Self::Time(t.naive_utc()))
    }
}

/// Connection of a backend's database.
pub(crate) type Conn<B> = <<B as Backend>::Db as Database>::Connection;
/// Row of a backend's database.
pub(crate) type DbRow<B> = <<B as Backend>::Db as Database>::Row;

/// One supported database.
pub(crate) trait Backend: Send + Sync + 'static {
    type Db: Database;

    /// Name for messages.
    const NAME: &'static str;

    /// The statement that opens a write transaction. SQLite needs `BEGIN IMMEDIATE` so that a
    /// transaction which reads before it writes cannot fail with "database is locked" when a
    /// concurrent writer commits first.
    const BEGIN_WRITE: Option<&'static str>;

    /// Appended to a `SELECT` that must lock the rows it reads until the transaction ends
    /// (empty on SQLite, where `BEGIN IMMEDIATE` already excludes other writers).
    const LOCK_ROWS: &'static str;

    /// Whether `INSERT … RETURNING` is available (SQLite, PostgreSQL; not MySQL).
    const INSERT_RETURNING: bool;

    /// A statement that needs the database writable and changes no data, for health checks.
    /// SQLite must really write a page (a statement that matches no row writes nothing there,
    /// so a full disk would go unnoticed); the servers refuse any `UPDATE` when read-only.
    const WRITE_PROBE: &'static str;

    /// Rewrites `?` placeholders for this backend.
    fn sql(sql: &str) -> Cow<'_, str>;

    /// Runs a statement; returns the number of rows affected.
    fn execute<'e>(
        conn: &'e mut Conn<Self>,
        sql: &'e str,
        args: &'e [Value],
    ) -> BoxFuture<'e, Result<u64, sqlx::Error>>;

    /// Runs a query; returns every row.
    fn fetch_all<'e>(
        conn: &'e mut Conn<Self>,
        sql: &'e str,
        args: &'e [Value],
    ) -> BoxFuture<'e, Result<Vec<DbRow<Self>>, sqlx::Error>>;

    /// Reads an integer column.
    fn get_i64(row: &DbRow<Self>, column: &str) -> Result<i64, sqlx::Error>;
    /// Reads a float column.
    fn get_f64(row: &DbRow<Self>, column: &str) -> Result<f64, sqlx::Error>;
    /// Reads a boolean column.
    fn get_bool(row: &DbRow<Self>, column: &str) -> Result<bool, sqlx::Error>;
    /// Reads a nullable text column.
    fn get_opt_text(row: &DbRow<Self>, column: &str) -> Result<Option<String>, sqlx::Error>;
    /// Reads a nullable timestamp column.
    fn get_opt_time(row: &DbRow<Self>, column: &str) -> Result<Option<NaiveDateTime>, sqlx::Error>;

    /// Starts a write transaction.
    fn begin_write(
        pool: &Pool<Self::Db>,
    ) -> BoxFuture<'_, Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> {
        Box::pin(async move {
            match Self::BEGIN_WRITE {
                Some(statement) => pool.begin_with(statement).await,
                None => pool.begin().await,
            }
        })
    }
}

/// Replaces each `?` with `$1`, `$2`, … (our SQL has no `?` inside literals).
pub(crate) fn dollar_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

macro_rules! impl_backend {
    ($backend:ident, $db:ty, $name:literal, begin_write = $begin:expr, lock_rows = $lock:literal, returning = $returning:literal, probe = $probe:literal, sql = $rewrite:expr, bind_time = $bind_time:expr, text = $text:expr, time = $time:expr) => {
        /// The backend marker type.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $backend;

        impl $backend {
            fn bind<'q>(
                mut query: sqlx::query::Query<'q, $db, <$db as Database>::Arguments<'q>>,
                args: &'q [Value],
            ) -> sqlx::query::Query<'q, $db, <$db as Database>::Arguments<'q>> {
                for arg in args {
                    query = match arg {
                        Value::I64(v) => query.bind(*v),
                        Value::F64(v) => query.bind(*v),
                        Value::Text(v) => query.bind(v.as_str()),
                        Value::Bool(v) => query.bind(*v),
                        Value::Time(v) => $bind_time(query, v),
                        Value::NullText => query.bind(None::<String>),
                        Value::NullTime => query.bind(None::<NaiveDateTime>),
                    };
                }
                query
            }
        }

        impl Backend for $backend {
            type Db = $db;
            const NAME: &'static str = $name;
            const BEGIN_WRITE: Option<&'static str> = $begin;
            const LOCK_ROWS: &'static str = $lock;
            const INSERT_RETURNING: bool = $returning;
            const WRITE_PROBE: &'static str = $probe;

            fn sql(sql: &str) -> Cow<'_, str> {
                $rewrite(sql)
            }

            fn execute<'e>(
                conn: &'e mut Conn<Self>,
                sql: &'e str,
                args: &'e [Value],
            ) -> BoxFuture<'e, Result<u64, sqlx::Error>> {
                Box::pin(async move {
                    let sql = Self::sql(sql);
                    let query = Self::bind(sqlx::query(&sql), args);
                    Ok(query.execute(&mut *conn).await?.rows_affected())
                })
            }

            fn fetch_all<'e>(
                conn: &'e mut Conn<Self>,
                sql: &'e str,
                args: &'e [Value],
            ) -> BoxFuture<'e, Result<Vec<DbRow<Self>>, sqlx::Error>> {
                Box::pin(async move {
                    let sql = Self::sql(sql);
                    let query = Self::bind(sqlx::query(&sql), args);
                    query.fetch_all(&mut *conn).await
                })
            }

            fn get_i64(row: &DbRow<Self>, column: &str) -> Result<i64, sqlx::Error> {
                sqlx::Row::try_get(row, column)
            }
            fn get_f64(row: &DbRow<Self>, column: &str) -> Result<f64, sqlx::Error> {
                sqlx::Row::try_get(row, column)
            }
            fn get_bool(row: &DbRow<Self>, column: &str) -> Result<bool, sqlx::Error> {
                sqlx::Row::try_get(row, column)
            }
            fn get_opt_text(
                row: &DbRow<Self>,
                column: &str,
            ) -> Result<Option<String>, sqlx::Error> {
                $text(row, column)
            }
            fn get_opt_time(
                row: &DbRow<Self>,
                column: &str,
            ) -> Result<Option<NaiveDateTime>, sqlx::Error> {
                $time(row, column)
            }
        }
    };
}

fn read_native_time<R: sqlx::Row>(
    row: &R,
    column: &str,
) -> Result<Option<NaiveDateTime>, sqlx::Error>
where
    for<'r> Option<NaiveDateTime>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    row.try_get(column)
}

/// SQLite keeps timestamps as text in the one format we write; parsing that by hand is much
/// cheaper than the driver's trial of several chrono formats (every listed row has three).
fn read_sqlite_time(
    row: &sqlx::sqlite::SqliteRow,
    column: &str,
) -> Result<Option<NaiveDateTime>, sqlx::Error> {
    let text: Option<&str> = sqlx::Row::try_get(row, column)?;
    text.map(|t| {
        parse_sqlite_time(t).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: format!("'{t}' is not a timestamp").into(),
        })
    })
    .transpose()
}

/// `YYYY-MM-DD HH:MM:SS[.f…]`.
fn parse_sqlite_time(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok();
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let mut nanos = 0;
    if b.len() > 19 {
        let fraction = b.get(20..)?;
        if b[19] != b'.' || fraction.is_empty() || fraction.len() > 9 {
            return None;
        }
        nanos = num(20..b.len())? * 10u32.pow(9 - fraction.len() as u32);
    }
    chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?
        .and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)
}

fn keep(sql: &str) -> Cow<'_, str> {
    Cow::Borrowed(sql)
}

/// SQLite compares timestamps as text: bind them in one fixed-width format so that text order
/// is time order.
fn sqlite_time<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, <sqlx::Sqlite as Database>::Arguments<'q>>,
    v: &NaiveDateTime,
) -> sqlx::query::Query<'q, sqlx::Sqlite, <sqlx::Sqlite as Database>::Arguments<'q>> {
    query.bind(lifeboat_core::wire::format_naive(v, ' '))
}

fn native_time<'q, DB: Database>(
    query: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    v: &NaiveDateTime,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    NaiveDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query.bind(*v)
}

fn native_text<R: sqlx::Row>(row: &R, column: &str) -> Result<Option<String>, sqlx::Error>
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    row.try_get(column)
}

/// Our MySQL tables use a binary collation (case-sensitive names, as on the other databases),
/// which the driver reports as VARBINARY: read the bytes and check they are UTF-8.
fn mysql_text(row: &sqlx::mysql::MySqlRow, column: &str) -> Result<Option<String>, sqlx::Error> {
    let bytes: Option<Vec<u8>> = sqlx::Row::try_get(row, column)?;
    bytes
        .map(|b| {
            String::from_utf8(b).map_err(|e| sqlx::Error::ColumnDecode {
                index: column.to_owned(),
                source: Box::new(e),
            })
        })
        .transpose()
}

impl_backend!(
    SqliteBackend,
    sqlx::Sqlite,
    "SQLite",
    begin_write = Some("BEGIN IMMEDIATE"),
    lock_rows = "",
    returning = true,
    probe = "UPDATE _sqlx_migrations SET success = success WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    sql = keep,
    bind_time = sqlite_time,
    text = native_text,
    time = read_sqlite_time
);

impl_backend!(
    PostgresBackend,
    sqlx::Postgres,
    "PostgreSQL",
    begin_write = None,
    lock_rows = " FOR UPDATE",
    returning = true,
    probe = "UPDATE failover_segments SET deleted = deleted WHERE 1 = 0",
    sql = dollar_placeholders,
    bind_time = native_time,
    text = native_text,
    time = read_native_time
);

impl_backend!(
    MySqlBackend,
    sqlx::MySql,
    "MySQL",
    begin_write = None,
    lock_rows = " FOR UPDATE",
    returning = false,
    probe = "UPDATE failover_segments SET deleted = deleted WHERE 1 = 0",
    sql = keep,
    bind_time = native_time,
    text = mysql_text,
    time = read_native_time
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_parse_by_hand_as_chrono_would() {
        for text in [
            "2024-01-02 03:04:05",
            "2024-01-02 03:04:05.123456",
            "2024-01-02 03:04:05.5",
            "1999-12-31 23:59:59.999999999",
        ] {
            let expected = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap();
            assert_eq!(parse_sqlite_time(text), Some(expected), "{text}");
        }
        for bad in [
            "2024-01-02",
            "2024-13-02 03:04:05",
            "2024-01-02 03:04:05.",
            "2024-01-02 03:04:05x1",
            "abcd-01-02 03:04:05",
        ] {
            assert_eq!(parse_sqlite_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn placeholders_become_numbered_for_postgres() {
        assert_eq!(
            dollar_placeholders("a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(dollar_placeholders("no params"), "no params");
    }
}
