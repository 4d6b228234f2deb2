//! A migrated SQLite store in a temporary directory, removed when dropped.

use std::path::Path;
use std::sync::Arc;

use lifeboat_core::config::DatabaseUrl;
use lifeboat_core::store::Store;
use lifeboat_store::StoreOptions;

use crate::fail;

/// A store on a fresh SQLite file; the file goes when this is dropped.
#[derive(Debug)]
pub struct TempStore {
    /// The store.
    pub store: Arc<dyn Store>,
    dir: tempfile::TempDir,
}

impl TempStore {
    /// A migrated store on a new file in a new temporary directory.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("tempdir: {e}")));
        let store = open_sqlite(&dir.path().join("lifeboat.sqlite"), true).await;
        Self { store, dir }
    }

    /// The temporary directory (other files of the test may go there too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Opens the SQLite database at `path`, applying the migrations first when `migrate` (a file
/// a server made is opened as it is).
pub async fn open_sqlite(path: &Path, migrate: bool) -> Arc<dyn Store> {
    try_open_sqlite(path, migrate)
        .await
        .unwrap_or_else(|e| fail(&format!("opening {}: {e}", path.display())))
}

/// As [`open_sqlite`], for callers that wait for the file to appear.
pub async fn try_open_sqlite(
    path: &Path,
    migrate: bool,
) -> Result<Arc<dyn Store>, lifeboat_store::OpenError> {
    let url = DatabaseUrl::sqlite_from_path(&path.display().to_string());
    lifeboat_store::open(
        &url,
        &StoreOptions {
            migrate,
            ..StoreOptions::default()
        },
    )
    .await
}
