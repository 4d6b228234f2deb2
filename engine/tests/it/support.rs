//! A fresh SQLite store with one segment and its hosts.

use std::sync::Arc;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::config::DatabaseUrl;
use lifeboat_core::model::{NewHost, NewSegment, RecoveryMethod};
use lifeboat_core::store::Store;
use lifeboat_core::validation::{Description, HostType, Name};
use serde_json::json;

pub(crate) fn name(s: &str) -> Name {
    Name::parse("name", &json!(s)).unwrap()
}

/// A migrated store in `dir` with segment `seg` (auto recovery) holding `hosts`.
pub(crate) async fn store_with_hosts(
    dir: &std::path::Path,
    hosts: &[&str],
) -> (Arc<dyn Store>, uuid::Uuid) {
    let url = DatabaseUrl::sqlite_from_path(&dir.join("e.sqlite").display().to_string());
    let store = lifeboat_store::open(
        &url,
        &lifeboat_store::StoreOptions {
            migrate: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let now = SystemClock.now();
    let segment = store
        .create_segment(
            NewSegment {
                name: name("seg"),
                description: None,
                recovery_method: RecoveryMethod::Auto,
                service_type: name("COMPUTE"),
                enabled: true,
            },
            now,
        )
        .await
        .unwrap()
        .uuid;
    for host in hosts {
        store
            .create_host(
                segment,
                NewHost {
                    name: name(host),
                    host_type: HostType::parse("type", &json!("COMPUTE")).unwrap(),
                    control_attributes: Description::parse("c", &json!("SSH")).unwrap(),
                    reserved: false,
                    on_maintenance: false,
                },
                now,
            )
            .await
            .unwrap();
    }
    (store, segment)
}
