//! Lifeboat's persistence: the [`Store`](lifeboat_core::store::Store) seam implemented on
//! SQLite (the embedded default), PostgreSQL and MySQL/MariaDB.
//!
//! Every query is written once (`sql/`) over a small [`backend`] trait that hides placeholder
//! syntax, row locking and value binding; migrations are kept per backend in `migrations/`
//! with the same numbers and names. Runtime-checked queries (no `query!` macros), so building
//! needs no database.

mod backend;
mod failure;
mod import;
mod sql;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::config::{DatabaseKind, DatabaseUrl};
use lifeboat_core::store::Store;
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use backend::{MySqlBackend, PostgresBackend, SqliteBackend};
use sql::SqlStore;

pub use import::{Copied, ImportError, ImportOptions, ImportReport, import_masakari};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");
static MYSQL_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/mysql");

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most open connections.
    pub max_connections: u32,
    /// How long a request waits for a free connection.
    pub acquire_timeout: Duration,
    /// Apply pending migrations when connecting (what `serve` does for SQLite).
    pub migrate: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            migrate: false,
        }
    }
}

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL is malformed.
    #[error("parsing the database URL {url} failed")]
    Url {
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The directory for a SQLite file could not be created.
    #[error("creating the database directory {path} failed")]
    CreateDirectory {
        /// The directory.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be reached.
    #[error("connecting to {url} failed")]
    Connect {
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Migrations failed.
    #[error("migrating {url} failed")]
    Migrate {
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The applied schema version could not be read.
    #[error("reading the schema version of {url} failed")]
    ReadVersion {
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema is older than this release: `lifeboat manage db sync` is needed.
    #[error(
        "the database {url} is at schema version {found} but this release needs {needed}: run `lifeboat manage db sync`"
    )]
    SchemaBehind {
        /// The URL, password hidden.
        url: String,
        /// Applied version.
        found: i64,
        /// Latest version.
        needed: i64,
    },
    /// The database holds Masakari's own tables: migrating would fail half-way.
    #[error(
        "the database {url} holds Masakari's tables, not Lifeboat's: point [database] connection at a new, empty database, run `lifeboat manage db sync` there, then `lifeboat manage db import-masakari --from <this database's URL>` to copy Masakari's data (it is only read)"
    )]
    MasakariSchema {
        /// The URL, password hidden.
        url: String,
    },
    /// Checking which tables the database holds failed.
    #[error("listing the tables of {url} failed")]
    ListTables {
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
}

/// Refuses to migrate a database that holds Masakari's schema (its `failover_segments`
/// without our migrations table): checked before sqlx writes anything, so nothing is left
/// behind.
async fn refuse_masakari_schema<B: backend::Backend>(
    pool: &sqlx::Pool<B::Db>,
    url: &DatabaseUrl,
) -> Result<(), OpenError> {
    let failed = |source| OpenError::ListTables {
        url: url.to_string(),
        source,
    };
    let mut conn = pool.acquire().await.map_err(failed)?;
    let masakari = import::has_table::<B>(&mut conn, "failover_segments")
        .await
        .map_err(failed)?
        && !import::has_table::<B>(&mut conn, "_sqlx_migrations")
            .await
            .map_err(failed)?;
    if masakari {
        return Err(OpenError::MasakariSchema {
            url: url.to_string(),
        });
    }
    Ok(())
}

/// The highest migration applied (sqlx's bookkeeping table).
const APPLIED_VERSION: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE";

/// The latest schema version this release knows.
pub fn latest_schema_version() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

macro_rules! open_backend {
    ($url:expr, $options:expr, $connect:expr, $pool_options:expr, $migrator:expr, $backend:ty, $writer:expr) => {{
        let url: &DatabaseUrl = $url;
        let options: &StoreOptions = $options;
        let connect = $connect.map_err(|source| OpenError::Url {
            url: url.to_string(),
            source,
        })?;
        // Connections are tested before use (sqlx's default, kept on purpose): those a
        // restarted server dropped are replaced instead of failing a request.
        let pool = $pool_options
            .test_before_acquire(true)
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(|source| OpenError::Connect {
                url: url.to_string(),
                source,
            })?;
        let writer = match $writer {
            Some(writer_options) => writer_options
                .test_before_acquire(true)
                .max_connections(1)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await
                .map_err(|source| OpenError::Connect {
                    url: url.to_string(),
                    source,
                })?,
            None => pool.clone(),
        };
        if options.migrate {
            refuse_masakari_schema::<$backend>(&pool, url).await?;
            $migrator
                .run(&pool)
                .await
                .map_err(|source| OpenError::Migrate {
                    url: url.to_string(),
                    source,
                })?;
        } else {
            let applied: Option<i64> = sqlx::query_scalar(APPLIED_VERSION)
                .fetch_one(&pool)
                .await
                .unwrap_or(None);
            let needed = latest_schema_version();
            let found = applied.unwrap_or(0);
            if found < needed {
                return Err(OpenError::SchemaBehind {
                    url: url.to_string(),
                    found,
                    needed,
                });
            }
        }
        Ok(Arc::new(SqlStore::<$backend>::new(pool, writer)) as Arc<dyn Store>)
    }};
}

/// Whether `e` says the table queried does not exist (PostgreSQL's `undefined_table`, MySQL's
/// SQLSTATE 42S02, SQLite's message).
pub(crate) fn is_missing_table(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    matches!(db.code().as_deref(), Some("42P01" | "42S02"))
        || db.message().contains("no such table")
}

/// The schema version the database `url` names is at, without changing it: 0 for a database
/// never migrated, and for a SQLite file that does not exist yet (which is not created).
pub async fn schema_version(url: &DatabaseUrl) -> Result<i64, OpenError> {
    use sqlx::Connection as _;
    macro_rules! applied {
        ($connection:ty, $options:expr) => {{
            let options = $options.map_err(|source| OpenError::Url {
                url: url.to_string(),
                source,
            })?;
            let mut connection = <$connection>::connect_with(&options)
                .await
                .map_err(|source| OpenError::Connect {
                    url: url.to_string(),
                    source,
                })?;
            let applied = sqlx::query_scalar::<_, Option<i64>>(APPLIED_VERSION)
                .fetch_one(&mut connection)
                .await;
            let _ = connection.close().await;
            match applied {
                Ok(version) => Ok(version.unwrap_or(0)),
                Err(e) if is_missing_table(&e) => Ok(0),
                Err(source) => Err(OpenError::ReadVersion {
                    url: url.to_string(),
                    source,
                }),
            }
        }};
    }
    match url.kind() {
        DatabaseKind::Sqlite => {
            let path = url.sqlite_path().unwrap_or_default();
            if path.is_empty() || path == ":memory:" || !std::path::Path::new(path).exists() {
                return Ok(0);
            }
            applied!(
                sqlx::SqliteConnection,
                SqliteConnectOptions::from_str(url.expose())
            )
        }
        DatabaseKind::Postgres => {
            applied!(sqlx::PgConnection, PgConnectOptions::from_str(url.expose()))
        }
        DatabaseKind::MySql => applied!(
            sqlx::MySqlConnection,
            MySqlConnectOptions::from_str(url.expose())
        ),
    }
}

/// The SQLite writer pool (the only one that opens transactions): it drops a connection that
/// comes back still inside a transaction.
///
/// When a `COMMIT` fails with a full disk, SQLite has already rolled the transaction back, so
/// the driver's `ROLLBACK` fails too and its connection keeps counting one open transaction:
/// every later `BEGIN` on it would fail ("non-zero transaction depth"), and the one writer
/// connection would be lost for good. The driver runs that `ROLLBACK` in the connection's
/// worker, so a connection that still counts a transaction is pinged (which waits for the
/// worker) before it is judged; a clean one costs nothing.
fn sqlite_writer_pool() -> SqlitePoolOptions {
    SqlitePoolOptions::new().after_release(|conn, _| {
        Box::pin(async move {
            use sqlx::Connection as _;
            if conn.is_in_transaction() {
                conn.ping().await?;
            }
            let clean = !conn.is_in_transaction();
            if !clean {
                tracing::warn!("discarding a database connection left inside a failed transaction");
            }
            Ok(clean)
        })
    })
}

/// Opens the database `url` names (and migrates it when `options.migrate`).
pub async fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Arc<dyn Store>, OpenError> {
    match url.kind() {
        DatabaseKind::Sqlite => {
            let in_memory = url
                .sqlite_path()
                .is_none_or(|p| p.is_empty() || p == ":memory:");
            if let Some(dir) = url
                .sqlite_path()
                .filter(|_| !in_memory)
                .and_then(|p| std::path::Path::new(p).parent())
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDirectory {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            let connect = SqliteConnectOptions::from_str(url.expose()).map(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30))
                    .create_if_missing(true)
            });
            // An in-memory database exists once per connection: keep exactly one.
            let mut options = options.clone();
            if in_memory {
                options.max_connections = 1;
            }
            let pool_options = if in_memory {
                SqlitePoolOptions::new()
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                SqlitePoolOptions::new()
            };
            open_backend!(
                url,
                &options,
                connect,
                pool_options,
                SQLITE_MIGRATIONS,
                SqliteBackend,
                // In memory there is one connection and it must do everything.
                (!in_memory).then(sqlite_writer_pool)
            )
        }
        DatabaseKind::Postgres => {
            let connect = PgConnectOptions::from_str(url.expose());
            open_backend!(
                url,
                options,
                connect,
                PgPoolOptions::new(),
                POSTGRES_MIGRATIONS,
                PostgresBackend,
                None::<PgPoolOptions>
            )
        }
        DatabaseKind::MySql => {
            let connect = MySqlConnectOptions::from_str(url.expose()).map(|o| o.charset("utf8mb4"));
            open_backend!(
                url,
                options,
                connect,
                MySqlPoolOptions::new(),
                MYSQL_MIGRATIONS,
                MySqlBackend,
                None::<MySqlPoolOptions>
            )
        }
    }
}
