//! `lifeboat manage db import-masakari`: a database made by Masakari 22's own `masakari-manage
//! db sync` and filled through its own API (hosts and the vmove go in by SQL, as the harness
//! and Masakari's engine put them there: Masakari checks hosts against a Nova this test has
//! not), copied into Lifeboat's, then read back through both APIs and compared. Also: the
//! source is not changed, a non-empty target is refused, and `db sync` on Masakari's database
//! says what to do and leaves nothing behind.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::process::Command;

use crate::masakari::{Masakari, mariadb, venv};
use crate::support::{Server, free_port, run};

const VERSION_HEADER: (&str, &str) = ("OpenStack-API-Version", "instance-ha 1.3");

async fn send(request: reqwest::RequestBuilder) -> Value {
    let r = request
        .header(VERSION_HEADER.0, VERSION_HEADER.1)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

/// Everything the API lists: segments, each live segment's hosts, notifications and each
/// notification's vmoves, sorted by uuid so both sides line up.
async fn listing(endpoint: &str) -> Value {
    let c = reqwest::Client::new();
    let sorted = |mut v: Vec<Value>, key: &str| {
        v.sort_by_key(|x| x[key].as_str().unwrap_or_default().to_owned());
        v
    };
    let segments = send(c.get(format!("{endpoint}/segments"))).await["segments"]
        .as_array()
        .cloned()
        .unwrap();
    let mut hosts = Vec::new();
    for s in &segments {
        let uuid = s["uuid"].as_str().unwrap();
        let listed = send(c.get(format!("{endpoint}/segments/{uuid}/hosts"))).await;
        hosts.extend(listed["hosts"].as_array().cloned().unwrap());
    }
    let notifications = send(c.get(format!("{endpoint}/notifications"))).await["notifications"]
        .as_array()
        .cloned()
        .unwrap();
    let mut vmoves = Vec::new();
    // Masakari answers 400 for the vmoves of a notification that is not a host's.
    for n in notifications.iter().filter(|n| n["type"] == "COMPUTE_HOST") {
        let uuid = n["notification_uuid"].as_str().unwrap();
        let listed = send(c.get(format!("{endpoint}/notifications/{uuid}/vmoves"))).await;
        vmoves.extend(listed["vmoves"].as_array().cloned().unwrap());
    }
    json!({
        "segments": sorted(segments, "uuid"),
        "hosts": sorted(hosts, "uuid"),
        "notifications": sorted(notifications, "notification_uuid"),
        "vmoves": sorted(vmoves, "uuid"),
    })
}

/// Fills Masakari through its API (segments, a maintenance flag, deletions, notifications) and,
/// where its API cannot, by SQL as its engine would (statuses, a vmove).
async fn fill(m: &Masakari) {
    let c = reqwest::Client::new();
    let spare = send(c.post(m.url("/segments")).json(&json!({"segment": {
        "name": "spare", "recovery_method": "reserved_host", "service_type": "COMPUTE",
        "description": "reserved hosts"}})))
    .await;
    let gone = send(c.post(m.url("/segments")).json(&json!({"segment": {
        "name": "gone", "recovery_method": "auto", "service_type": "COMPUTE"}})))
    .await;
    let gone = gone["segment"]["uuid"].as_str().unwrap();
    send(c.delete(m.url(&format!("/segments/{gone}")))).await;
    assert!(spare["segment"]["uuid"].is_string());

    let seg = &m.segment;
    let (h1, h2, h3) = (
        &m.hosts["compute-1"],
        &m.hosts["compute-2"],
        &m.hosts["compute-3"],
    );
    let stopped = send(
        c.post(m.url("/notifications"))
            .json(&json!({"notification": {
        "type": "COMPUTE_HOST", "hostname": "compute-1", "generated_time": "2026-12-01T10:00:00",
        "payload": {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}}})),
    )
    .await;
    let process = send(
        c.post(m.url("/notifications"))
            .json(&json!({"notification": {
        "type": "PROCESS", "hostname": "compute-2", "generated_time": "2026-12-01T11:00:00",
        "payload": {"process_name": "/usr/bin/nova-compute", "event": "STOPPED"}}})),
    )
    .await;
    let stopped = stopped["notification"]["notification_uuid"]
        .as_str()
        .unwrap();
    let process = process["notification"]["notification_uuid"]
        .as_str()
        .unwrap();

    // No engine runs beside this masakari-api: finish the recoveries as its engine would.
    let db = Some(m.database.as_str());
    mariadb(
        db,
        &format!(
            "UPDATE notifications SET status = 'finished', updated_at = NOW() WHERE notification_uuid = '{stopped}';
             UPDATE notifications SET status = 'failed', message = 'process could not be restarted', updated_at = NOW() WHERE notification_uuid = '{process}';
             INSERT INTO vmoves (created_at, updated_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, source_host, dest_host, start_time, end_time, type, status, message)
             VALUES (NOW(), NOW(), 0, '{}', '{stopped}', '{}', 'vm-1', 'compute-1', 'compute-2', NOW(), NOW(), 'evacuation', 'succeeded', NULL)",
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4()
        ),
    )
    .unwrap();
    // Masakari refuses host changes while a recovery is in progress: after the statuses.
    send(
        c.put(m.url(&format!("/segments/{seg}/hosts/{h2}")))
            .json(&json!({"host": {"on_maintenance": true}})),
    )
    .await;
    send(c.delete(m.url(&format!("/segments/{seg}/hosts/{h3}")))).await;
    assert_ne!(h1, h2);
}

/// MariaDB's checksum of Masakari's four tables, to prove the import only read them.
async fn checksums(database: &str) -> Vec<(String, Option<i64>)> {
    let mut conn =
        sqlx::MySqlConnection::connect(&format!("mysql://root@127.0.0.1:3306/{database}"))
            .await
            .unwrap();
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("CHECKSUM TABLE failover_segments, hosts, notifications, vmoves")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    rows
}

async fn lifeboat(args: &[&str], conf: &Path) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lifeboat"));
    command.args(args).arg("--config-file").arg(conf);
    run(&mut command, Duration::from_secs(120)).await
}

#[tokio::test]
async fn a_masakari_22_database_imports_with_ids_uuids_timestamps_and_deleted_rows_and_both_apis_agree()
 {
    let m = Masakari::start(
        &venv(),
        free_port(),
        &["compute-1", "compute-2", "compute-3"],
    )
    .await;
    fill(&m).await;
    let before = checksums(&m.database).await;
    let server = Server::start("").await;
    let conf = server.dir.path().join("lifeboat.conf");
    let from = format!("mysql+pymysql://root@127.0.0.1/{}?charset=utf8", m.database);

    let (ok, out, err) =
        lifeboat(&["manage", "db", "import-masakari", "--from", &from], &conf).await;
    assert!(ok, "import failed: {out}{err}\n{}", m.log());
    for line in [
        "3 segments (1 deleted)",
        "3 hosts (1 deleted)",
        "2 notifications (0 deleted)",
        "1 vmoves (0 deleted)",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert_eq!(checksums(&m.database).await, before, "the source changed");

    let theirs = listing(&m.endpoint()).await;
    let ours = listing(&format!("{}/v1", server.url())).await;
    assert_eq!(
        theirs["segments"].as_array().unwrap().len(),
        2,
        "{theirs:#}"
    );
    assert_eq!(theirs["hosts"].as_array().unwrap().len(), 2, "{theirs:#}");
    assert_eq!(theirs["vmoves"].as_array().unwrap().len(), 1, "{theirs:#}");
    assert_eq!(ours, theirs, "ours:\n{ours:#}\ntheirs:\n{theirs:#}");

    // Soft-deleted rows came along, with their own id as `deleted`, as Masakari keeps them.
    let db = server.dir.path().join("lifeboat.sqlite");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    for table in ["failover_segments", "hosts"] {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM {table} WHERE deleted = id AND deleted_at IS NOT NULL"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(n, 1, "{table}");
    }
    // The host on maintenance is the operator's, as Lifeboat records it.
    let (reason,): (Option<String>,) =
        sqlx::query_as("SELECT maintenance_reason FROM hosts WHERE name = 'compute-2'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(reason.as_deref(), Some("operator"));

    // Again into the now non-empty database: refused, nothing added.
    let (ok, out, err) =
        lifeboat(&["manage", "db", "import-masakari", "--from", &from], &conf).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains("already holds 3 segments, 3 hosts, 2 notifications, 1 vmoves")
            && err.contains("--into-non-empty"),
        "{err}"
    );
    // Told to import anyway, the taken ids fail the whole import, which changes nothing.
    let (ok, _, err) = lifeboat(
        &[
            "manage",
            "db",
            "import-masakari",
            "--from",
            &from,
            "--into-non-empty",
        ],
        &conf,
    )
    .await;
    assert!(
        !ok && err.contains("writing failover_segments row"),
        "{err}"
    );
    assert_eq!(listing(&format!("{}/v1", server.url())).await, ours);
}

#[tokio::test]
async fn db_sync_on_a_masakari_database_says_what_to_do_and_leaves_nothing_behind() {
    let m = Masakari::start(&venv(), free_port(), &["compute-1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("lifeboat.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nauth_strategy = noauth2\n[database]\nconnection = mysql+pymysql://root@127.0.0.1/{}?charset=utf8\n",
            m.database
        ),
    )
    .unwrap();
    let (ok, out, err) = lifeboat(&["manage", "db", "sync"], &conf).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains("holds Masakari's tables") && err.contains("import-masakari --from"),
        "{err}"
    );
    let mut conn =
        sqlx::MySqlConnection::connect(&format!("mysql://root@127.0.0.1:3306/{}", m.database))
            .await
            .unwrap();
    let (ours,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() \
         AND table_name IN ('_sqlx_migrations', 'recovery_steps', 'fence_devices')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(ours, 0, "db sync left tables behind");

    // Importing from an empty (non-Masakari) database names what is missing.
    let empty = tempfile::tempdir().unwrap();
    let target = empty.path().join("lifeboat.conf");
    std::fs::write(
        &target,
        format!(
            "[DEFAULT]\nauth_strategy = noauth2\n[database]\nconnection = sqlite:///{}\n",
            empty.path().join("l.sqlite").display()
        ),
    )
    .unwrap();
    let (ok, out, err) = lifeboat(&["manage", "db", "sync"], &target).await;
    assert!(ok, "{out}{err}");
    let (ok, _, err) = lifeboat(
        &[
            "manage",
            "db",
            "import-masakari",
            "--from",
            &format!("sqlite:///{}", empty.path().join("none.sqlite").display()),
        ],
        &target,
    )
    .await;
    assert!(!ok, "{err}");
    assert!(err.contains("none.sqlite"), "{err}");
}
