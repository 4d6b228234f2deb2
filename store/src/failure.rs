//! Which driver errors mean "the database cannot be written" or "cannot be reached": both are
//! passing conditions the API answers with 503 and the engine waits out, unlike a bug.

use lifeboat_core::store::StoreError;
use sqlx::error::DatabaseError as _;

/// What kind of failure a driver error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Disk full, read-only database.
    Unwritable,
    /// Connection lost or refused, server shutting down, pool exhausted.
    Unreachable,
    /// Anything else.
    Other,
}

/// SQLite primary result codes (the driver reports extended codes; the low byte is the
/// primary one).
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
/// SQLITE_IOERR_WRITE, _FSYNC, _TRUNCATE: what a full disk looks like while writing.
const SQLITE_IOERR_WRITES: [i32; 3] = [10 | (3 << 8), 10 | (4 << 8), 10 | (6 << 8)];

/// MySQL/MariaDB: ER_DISK_FULL, ER_RECORD_FILE_FULL, ER_OPTION_PREVENTS_STATEMENT (read_only),
/// ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION.
const MYSQL_UNWRITABLE: [u16; 4] = [1021, 1114, 1290, 1792];
/// ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED (MariaDB), ER_QUERY_INTERRUPTED.
const MYSQL_UNREACHABLE: [u16; 3] = [1053, 1927, 1317];

/// Classifies a driver error.
pub(crate) fn classify(e: &sqlx::Error) -> Failure {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Failure::Unreachable,
        sqlx::Error::Database(d) => {
            if let Some(sqlite) = d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                let code = sqlite
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .unwrap_or(0);
                return match code & 0xff {
                    SQLITE_FULL | SQLITE_READONLY => Failure::Unwritable,
                    SQLITE_IOERR if SQLITE_IOERR_WRITES.contains(&code) => Failure::Unwritable,
                    _ => Failure::Other,
                };
            }
            if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let code = pg.code();
                // 53100 disk_full, 25006 read_only_sql_transaction; class 08 connection
                // exception, 57P01-03 shutdown, crash, cannot connect now.
                return match code {
                    "53100" | "25006" => Failure::Unwritable,
                    "57P01" | "57P02" | "57P03" => Failure::Unreachable,
                    _ if code.starts_with("08") => Failure::Unreachable,
                    _ => Failure::Other,
                };
            }
            if let Some(my) = d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                let number = my.number();
                if MYSQL_UNWRITABLE.contains(&number) {
                    return Failure::Unwritable;
                }
                if MYSQL_UNREACHABLE.contains(&number)
                    || my.code().is_some_and(|c| c.starts_with("08"))
                {
                    return Failure::Unreachable;
                }
            }
            Failure::Other
        }
        _ => Failure::Other,
    }
}

/// The store error for a driver error met while doing `action`.
pub(crate) fn store_error(action: &'static str, e: sqlx::Error) -> StoreError {
    let source = Box::new(e);
    match classify(&source) {
        Failure::Unwritable => StoreError::Unwritable { action, source },
        Failure::Unreachable => StoreError::Unreachable { action, source },
        Failure::Other => StoreError::Database { action, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_are_unreachable() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(classify(&io), Failure::Unreachable);
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), Failure::Unreachable);
        assert_eq!(classify(&sqlx::Error::RowNotFound), Failure::Other);
    }
}
