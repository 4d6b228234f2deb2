//! `schema_version`: what `lifeboat manage db version` prints, read without changing anything.

use lifeboat_core::config::DatabaseUrl;
use lifeboat_store::StoreOptions;

use crate::harness::{Backend, with_database};

async fn zero_until_migrated(url: DatabaseUrl) {
    assert_eq!(lifeboat_store::schema_version(&url).await.unwrap(), 0);
    // Reading it twice changes nothing (on SQLite: no file is created).
    assert_eq!(lifeboat_store::schema_version(&url).await.unwrap(), 0);
    if let Some(path) = url.sqlite_path() {
        assert!(!std::path::Path::new(path).exists(), "{path} was created");
    }
    let options = StoreOptions {
        migrate: true,
        ..StoreOptions::default()
    };
    lifeboat_store::open(&url, &options).await.unwrap();
    assert_eq!(
        lifeboat_store::schema_version(&url).await.unwrap(),
        lifeboat_store::latest_schema_version()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_version_is_zero_until_migrated_on_sqlite() {
    with_database(Backend::Sqlite, zero_until_migrated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_version_is_zero_until_migrated_on_postgres() {
    with_database(Backend::Postgres, zero_until_migrated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_version_is_zero_until_migrated_on_mysql() {
    with_database(Backend::MySql, zero_until_migrated).await;
}
