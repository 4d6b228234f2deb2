//! Operator intent: who put a host in maintenance, and a cancel that ends a notification.

use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::model::{
    CANCEL_STEP, CANCELLED_MESSAGE, HostUpdate, Maintenance, MaintenanceReason, NotificationStatus,
    NotificationType, RecoveryMethod, StepState,
};
use lifeboat_core::store::{
    Completion, HostFilter, ListQuery, MaintenanceChange, NotificationFilter, OperatorRequest,
    Store, StoreError,
};

use lifeboat_core::config::DatabaseUrl;
use lifeboat_store::StoreOptions;
use sqlx::Connection;

use crate::harness::{Backend, with_database};
use crate::{WINDOW, host_back, host_down, new_host, new_segment, payload, t};

fn maintenance(update: bool) -> HostUpdate {
    HostUpdate {
        on_maintenance: Some(update),
        ..HostUpdate::default()
    }
}

pub async fn maintenance_records_who_set_it_and_only_a_recovery_s_ends_on_started(
    store: Arc<dyn Store>,
) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let mut kept = new_host("kept");
    kept.on_maintenance = true;
    let kept = store.create_host(seg.uuid, kept, t(0)).await.unwrap();
    let operators = Some(Maintenance {
        reason: MaintenanceReason::Operator,
        notification_uuid: None,
    });
    assert_eq!(kept.maintenance, operators);
    let flipped = store
        .create_host(seg.uuid, new_host("flipped"), t(0))
        .await
        .unwrap();
    assert_eq!(flipped.maintenance, None);
    let on = store
        .update_host(seg.uuid, flipped.uuid, maintenance(true), t(1))
        .await
        .unwrap();
    assert_eq!(on.maintenance, operators);
    let off = store
        .update_host(seg.uuid, flipped.uuid, maintenance(false), t(2))
        .await
        .unwrap();
    assert_eq!(off.maintenance, None);

    // A host an operator put in maintenance is refused every report, STARTED included (409 in
    // Masakari, which the monitors treat as delivered).
    for report in [
        host_down("kept", t(10)),
        host_back("kept", t(10)),
        process("kept", "STARTED"),
    ] {
        let err = store
            .create_notification(report, WINDOW, t(10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::HostOnMaintenance { ref host, .. } if host == "kept"),
            "{err:?}"
        );
    }

    // A recovery's maintenance names its notification and ends with the host's STARTED report.
    let failed = store
        .create_host(seg.uuid, new_host("failed"), t(0))
        .await
        .unwrap();
    let down = store
        .create_notification(host_down("failed", t(20)), WINDOW, t(20))
        .await
        .unwrap();
    let id = down.notification_uuid;
    store
        .set_host_flags(
            failed.uuid,
            Some(MaintenanceChange::Recovery(id)),
            None,
            t(21),
        )
        .await
        .unwrap();
    let recovering = store.get_host_by_uuid(failed.uuid).await.unwrap().unwrap();
    assert_eq!(
        recovering.maintenance,
        Some(Maintenance {
            reason: MaintenanceReason::Recovery,
            notification_uuid: Some(id),
        })
    );
    let err = store
        .create_notification(process("failed", "STOPPED"), WINDOW, t(22))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::HostOnMaintenance { .. }),
        "{err:?}"
    );
    store
        .create_notification(host_back("failed", t(23)), WINDOW, t(23))
        .await
        .unwrap();
    store
        .create_notification(process("failed", "STARTED"), WINDOW, t(23))
        .await
        .unwrap();

    // The engine neither takes over nor ends an operator's maintenance.
    for change in [
        MaintenanceChange::Recovery(id),
        MaintenanceChange::EndRecovery,
    ] {
        store
            .set_host_flags(kept.uuid, Some(change), None, t(30))
            .await
            .unwrap();
        let still = store.get_host_by_uuid(kept.uuid).await.unwrap().unwrap();
        assert_eq!(still.maintenance, operators, "{change:?}");
    }
    store
        .set_host_flags(
            failed.uuid,
            Some(MaintenanceChange::EndRecovery),
            None,
            t(31),
        )
        .await
        .unwrap();
    let back = store.get_host_by_uuid(failed.uuid).await.unwrap().unwrap();
    assert_eq!(back.maintenance, None);

    let listed = store
        .list_hosts(
            seg.uuid,
            &ListQuery {
                filter: HostFilter {
                    on_maintenance: Some(true),
                    ..HostFilter::default()
                },
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
        ["kept"]
    );
}

fn process(host: &str, event: &str) -> lifeboat_core::model::NewNotification {
    let mut n = host_down(host, t(10));
    n.notification_type = NotificationType::Process;
    n.payload = payload(&[("event", event), ("process_name", "nova-compute")]);
    n
}

pub async fn a_cancel_ends_a_notification_in_error_and_records_it(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let c1 = store
        .create_host(seg.uuid, new_host("c1"), t(0))
        .await
        .unwrap();
    store
        .create_host(seg.uuid, new_host("c2"), t(0))
        .await
        .unwrap();
    let n = store
        .create_notification(host_down("c1", t(10)), WINDOW, t(10))
        .await
        .unwrap();
    let id = n.notification_uuid;
    let lease = Duration::from_secs(60);
    let claim = store.claim_notification("e", lease, t(11)).await.unwrap();
    assert_eq!(claim.map(|c| c.attempt), Some(1));
    let error = Completion {
        status: NotificationStatus::Error,
        message: Some("Nova is down".into()),
        retry_at: Some(t(100)),
        recovery_method: None,
    };
    store
        .complete_notification(id, "e", error, t(12))
        .await
        .unwrap();
    let locked = store
        .update_host(seg.uuid, c1.uuid, maintenance(true), t(13))
        .await
        .unwrap_err();
    assert!(matches!(locked, StoreError::HostInUse { .. }), "{locked:?}");

    let cancelled = store
        .request(id, OperatorRequest::Cancel, t(20))
        .await
        .unwrap();
    assert_eq!(cancelled.status, NotificationStatus::Failed);
    assert_eq!(cancelled.message.as_deref(), Some(CANCELLED_MESSAGE));
    assert!(!store.cancel_requested(id).await.unwrap());
    // The retry it was waiting for does not run.
    assert!(
        store
            .claim_notification("e", lease, t(200))
            .await
            .unwrap()
            .is_none()
    );
    let steps = store.list_recovery_steps(id).await.unwrap();
    let last = steps.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.attempt, last.state),
        (CANCEL_STEP, 1, StepState::Success)
    );
    assert!(last.details[0].message.contains("no retry will run"));
    // The host and its segment are no longer "under recovery".
    store
        .update_host(seg.uuid, c1.uuid, maintenance(true), t(21))
        .await
        .unwrap();
    store
        .update_host(seg.uuid, c1.uuid, maintenance(false), t(22))
        .await
        .unwrap();
    let again = store
        .request(id, OperatorRequest::Cancel, t(23))
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            StoreError::NotificationState {
                status: NotificationStatus::Failed,
                ..
            }
        ),
        "{again:?}"
    );

    // One no engine has claimed yet ends too, recorded before any attempt.
    let fresh = store
        .create_notification(host_down("c2", t(30)), WINDOW, t(30))
        .await
        .unwrap();
    let ended = store
        .request(fresh.notification_uuid, OperatorRequest::Cancel, t(31))
        .await
        .unwrap();
    assert_eq!(ended.status, NotificationStatus::Failed);
    let steps = store
        .list_recovery_steps(fresh.notification_uuid)
        .await
        .unwrap();
    assert_eq!(
        steps
            .iter()
            .map(|s| (s.name.as_str(), s.attempt, s.seq))
            .collect::<Vec<_>>(),
        [(CANCEL_STEP, 0, 1)]
    );
    let failed = store
        .list_notifications(&ListQuery {
            filter: NotificationFilter {
                status: Some("failed".into()),
                ..NotificationFilter::default()
            },
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 2);

    // An operator may still retry a cancelled notification.
    let retried = store
        .request(id, OperatorRequest::Retry, t(40))
        .await
        .unwrap();
    assert_eq!(retried.status, NotificationStatus::New);
    let claim = store.claim_notification("e", lease, t(41)).await.unwrap();
    assert_eq!(claim.map(|c| c.attempt), Some(2));
}

/// Migrates `url` to schema 3 (before maintenance reasons) from the `dir` migrations, and
/// records hosts as that schema knew them: one in maintenance, one not.
async fn hosts_of_schema_3(url: &DatabaseUrl, dir: &str) {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(dir);
    let old = tempfile::tempdir().unwrap();
    for file in ["0001_initial.sql", "0002_engine.sql", "0003_fencing.sql"] {
        std::fs::copy(source.join(file), old.path().join(file)).unwrap();
    }
    let migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url.expose()).await.unwrap();
    migrator.run(&mut conn).await.unwrap();
    for statement in [
        "INSERT INTO failover_segments (uuid, name, service_type, recovery_method, created_at) \
         VALUES ('11111111-1111-4111-8111-111111111111', 's', 'COMPUTE', 'auto', '2024-01-01 00:00:00')",
        "INSERT INTO hosts (uuid, name, type, control_attributes, on_maintenance, failover_segment_id, created_at) \
         VALUES ('22222222-2222-4222-8222-222222222222', 'maintained', 'COMPUTE', 'SSH', TRUE, \
         '11111111-1111-4111-8111-111111111111', '2024-01-01 00:00:00')",
        "INSERT INTO hosts (uuid, name, type, control_attributes, on_maintenance, failover_segment_id, created_at) \
         VALUES ('33333333-3333-4333-8333-333333333333', 'running', 'COMPUTE', 'SSH', FALSE, \
         '11111111-1111-4111-8111-111111111111', '2024-01-01 00:00:00')",
    ] {
        sqlx::raw_sql(statement).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

async fn upgraded_maintenance_counts_as_the_operators(backend: Backend, dir: &str) {
    with_database(backend, |url| async move {
        hosts_of_schema_3(&url, dir).await;
        let options = StoreOptions {
            migrate: true,
            ..StoreOptions::default()
        };
        let store = lifeboat_store::open(&url, &options).await.unwrap();
        let maintained = store.get_host_by_name("maintained").await.unwrap().unwrap();
        assert_eq!(
            maintained.maintenance,
            Some(Maintenance {
                reason: MaintenanceReason::Operator,
                notification_uuid: None,
            })
        );
        let running = store.get_host_by_name("running").await.unwrap().unwrap();
        assert_eq!(running.maintenance, None);
        // Recorded as such, for every reader of the table.
        let mut conn = sqlx::AnyConnection::connect(url.expose()).await.unwrap();
        let reasons: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT name, maintenance_reason FROM hosts ORDER BY name")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(
            reasons,
            [
                ("maintained".to_owned(), Some("operator".to_owned())),
                ("running".to_owned(), None)
            ]
        );
        conn.close().await.unwrap();
        // So its STARTED report is refused: nobody knows a recovery put it there.
        let err = store
            .create_notification(host_back("maintained", t(10)), WINDOW, t(10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::HostOnMaintenance { .. }),
            "{err:?}"
        );
    })
    .await;
}

mod hosts_in_maintenance_before_the_upgrade_count_as_the_operators {
    use super::upgraded_maintenance_counts_as_the_operators as upgraded;
    use crate::harness::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        upgraded(Backend::Sqlite, "sqlite").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        upgraded(Backend::Postgres, "postgres").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql() {
        upgraded(Backend::MySql, "mysql").await;
    }
}
