//! One database per test, on each backend: a temporary SQLite file, and a fresh database on the
//! machine's PostgreSQL and MariaDB (dropped afterwards, even when the test fails).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use lifeboat_core::config::DatabaseUrl;
use lifeboat_core::store::Store;
use lifeboat_store::StoreOptions;
use sqlx::Connection;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// A database server the tests create databases on.
struct Server {
    admin_url: String,
    create: &'static str,
    drop: &'static str,
    start_hint: &'static str,
    env: &'static str,
}

impl Backend {
    fn server(self) -> Option<Server> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some(Server {
                admin_url: std::env::var("LIFEBOAT_TEST_PG_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
                create: "CREATE DATABASE {name}",
                drop: "DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                start_hint: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
                env: "LIFEBOAT_TEST_PG_URL",
            }),
            Self::MySql => Some(Server {
                admin_url: std::env::var("LIFEBOAT_TEST_MYSQL_URL")
                    .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned()),
                create: "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
                drop: "DROP DATABASE IF EXISTS {name}",
                start_hint: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
                env: "LIFEBOAT_TEST_MYSQL_URL",
            }),
        }
    }
}

fn replace_database(admin: &str, database: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let at = base.rfind('/').expect("admin URL has a database path");
    let mut url = format!("{}/{database}", &base[..at]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Runs `scenario` against a fresh, migrated database of `backend`, then drops it.
pub async fn with_store<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    with_database(backend, |url| async move {
        let options = StoreOptions {
            migrate: true,
            ..StoreOptions::default()
        };
        let store = lifeboat_store::open(&url, &options)
            .await
            .expect("opening the test database");
        scenario(store).await;
    })
    .await;
}

/// Runs `scenario` with the URL of a fresh, empty database of `backend`, then drops it.
pub async fn with_database<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(DatabaseUrl) -> Fut,
    Fut: Future<Output = ()>,
{
    let name = format!(
        "lifeboat_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let keep = std::env::var("LIFEBOAT_TEST_KEEP_DB").is_ok();
    let Some(server) = backend.server() else {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join(format!("{name}.sqlite"));
        scenario(DatabaseUrl::sqlite_from_path(&path.display().to_string())).await;
        if keep {
            let _kept = dir.keep();
        }
        return;
    };
    sqlx::any::install_default_drivers();
    let admin = &server.admin_url;
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap_or_else(|e| {
        panic!(
            "{backend:?} is not reachable at {admin} ({e}). Start it with `{}`, install it with \
             `scripts/test-setup.sh`, or point {} at a server.",
            server.start_hint, server.env
        )
    });
    sqlx::query(&server.create.replace("{name}", &name))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
    let url = DatabaseUrl::parse(&replace_database(admin, &name)).expect("database URL");
    let outcome = AssertUnwindSafe(scenario(url)).catch_unwind().await;
    if !keep {
        sqlx::query(&server.drop.replace("{name}", &name))
            .execute(&mut conn)
            .await
            .expect("DROP DATABASE");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Declares one test per backend for a scenario `async fn(Arc<dyn Store>)`.
#[macro_export]
macro_rules! contract {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::harness::with_store($crate::harness::Backend::Sqlite, super::$scenario).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::harness::with_store($crate::harness::Backend::Postgres, super::$scenario).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    $crate::harness::with_store($crate::harness::Backend::MySql, super::$scenario).await;
                }
            }
        )*
    };
}
