//! The store contract: the same scenarios on SQLite, PostgreSQL and MariaDB.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod fencing;
mod harness;
mod maintenance;
mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use lifeboat_core::model::{
    HostUpdate, NewNotification, NewSegment, NotificationStatus, NotificationType, Payload,
    ProgressDetail, RecoveryMethod, RecoveryStep, SegmentUpdate, StepState, VMoveStatus, VMoveType,
};
use lifeboat_core::store::{
    Completion, HostFilter, ListQuery, MaintenanceChange, NewVMove, NotificationFilter,
    OperatorRequest, SegmentFilter, Sort, SortDir, Store, StoreError, VMoveFilter, VMoveUpdate,
};
use lifeboat_core::validation::{Description, HostType, Hostname};
use lifeboat_test_support::fixtures::{name, new_host};
use serde_json::json;

const WINDOW: Duration = Duration::from_secs(180);

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn new_segment(n: &str, method: RecoveryMethod, service_type: &str, enabled: bool) -> NewSegment {
    NewSegment {
        name: name(n),
        description: Some(Description::parse("description", &json!(format!("about {n}"))).unwrap()),
        recovery_method: method,
        service_type: name(service_type),
        enabled,
    }
}

fn payload(pairs: &[(&str, &str)]) -> Payload {
    Payload(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn host_down(host: &str, at: DateTime<Utc>) -> NewNotification {
    NewNotification {
        notification_type: NotificationType::ComputeHost,
        hostname: Hostname::parse("hostname", &json!(host)).unwrap(),
        generated_time: at,
        payload: payload(&[
            ("event", "STOPPED"),
            ("host_status", "NORMAL"),
            ("cluster_status", "OFFLINE"),
        ]),
    }
}

fn host_back(host: &str, at: DateTime<Utc>) -> NewNotification {
    let mut back = host_down(host, at);
    back.payload = payload(&[
        ("event", "STARTED"),
        ("host_status", "NORMAL"),
        ("cluster_status", "ONLINE"),
    ]);
    back
}

fn sorted(key: &'static str, dir: SortDir) -> Vec<Sort> {
    vec![Sort { key, dir }]
}

async fn segments_are_created_read_updated_and_soft_deleted(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("seg-1", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    assert!(seg.id > 0);
    assert_eq!(seg.name, "seg-1");
    assert_eq!(seg.description.as_deref(), Some("about seg-1"));
    assert_eq!(seg.timestamps.created_at, t(0));
    assert_eq!(seg.timestamps.updated_at, None);
    assert!(!seg.timestamps.deleted);
    assert_eq!(store.get_segment(seg.uuid).await.unwrap(), seg);

    let dup = store
        .create_segment(
            new_segment("seg-1", RecoveryMethod::Auto, "COMPUTE", true),
            t(1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(dup, StoreError::SegmentNameTaken(ref n) if n == "seg-1"),
        "{dup:?}"
    );

    let updated = store
        .update_segment(
            seg.uuid,
            SegmentUpdate {
                name: Some(name("seg-renamed")),
                description: Some(None),
                enabled: Some(false),
                recovery_method: Some(RecoveryMethod::RhPriority),
                ..SegmentUpdate::default()
            },
            t(5),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "seg-renamed");
    assert_eq!(updated.description, None);
    assert!(!updated.enabled);
    assert_eq!(updated.recovery_method, RecoveryMethod::RhPriority);
    assert_eq!(updated.timestamps.updated_at, Some(t(5)));
    assert_eq!(updated.service_type, "COMPUTE");

    let host = store
        .create_host(seg.uuid, new_host("compute-1"), t(6))
        .await
        .unwrap();
    store.delete_segment(seg.uuid, t(7)).await.unwrap();
    assert!(matches!(
        store.get_segment(seg.uuid).await,
        Err(StoreError::SegmentNotFound(_))
    ));
    // Deleting a segment deletes its hosts, and both names are free again.
    assert!(store.get_host_by_name("compute-1").await.unwrap().is_none());
    assert!(matches!(
        store.get_host(seg.uuid, host.uuid).await,
        Err(StoreError::SegmentNotFound(_))
    ));
    let again = store
        .create_segment(
            new_segment("seg-renamed", RecoveryMethod::Auto, "COMPUTE", true),
            t(8),
        )
        .await
        .unwrap();
    store
        .create_host(again.uuid, new_host("compute-1"), t(9))
        .await
        .unwrap();
    assert!(matches!(
        store.delete_segment(seg.uuid, t(10)).await,
        Err(StoreError::SegmentNotFound(_))
    ));
}

async fn host_names_are_unique_across_segments_and_case_sensitive(store: Arc<dyn Store>) {
    let a = store
        .create_segment(
            new_segment("a", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let b = store
        .create_segment(
            new_segment("b", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let h = store
        .create_host(a.uuid, new_host("Compute-1"), t(1))
        .await
        .unwrap();
    assert_eq!(h.failover_segment.uuid, a.uuid);
    let err = store
        .create_host(b.uuid, new_host("Compute-1"), t(2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::HostNameTaken(ref n) if n == "Compute-1"),
        "{err:?}"
    );
    // Nova host names are case-sensitive; so are ours, on every backend.
    store
        .create_host(b.uuid, new_host("compute-1"), t(2))
        .await
        .unwrap();
    store
        .create_host(b.uuid, new_host("Ünïcødé-host"), t(2))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_host_by_name("Ünïcødé-host")
            .await
            .unwrap()
            .unwrap()
            .name,
        "Ünïcødé-host"
    );
    // A host is found only under its own segment.
    assert!(matches!(
        store.get_host(b.uuid, h.uuid).await,
        Err(StoreError::HostNotFound { .. })
    ));
    let missing = uuid::Uuid::new_v4();
    assert!(matches!(
        store.create_host(missing, new_host("x"), t(3)).await,
        Err(StoreError::SegmentNotFound(_))
    ));

    let updated = store
        .update_host(
            a.uuid,
            h.uuid,
            HostUpdate {
                reserved: Some(true),
                on_maintenance: Some(true),
                host_type: Some(HostType::parse("type", &json!("SSH")).unwrap()),
                ..HostUpdate::default()
            },
            t(4),
        )
        .await
        .unwrap();
    assert!(updated.reserved && updated.on_maintenance());
    assert_eq!(updated.host_type, "SSH");
    assert_eq!(updated.name, "Compute-1");
    let rename = HostUpdate {
        name: Some(name("compute-1")),
        ..HostUpdate::default()
    };
    assert!(matches!(
        store.update_host(a.uuid, h.uuid, rename, t(5)).await,
        Err(StoreError::HostNameTaken(_))
    ));
    store.delete_host(a.uuid, h.uuid, t(6)).await.unwrap();
    assert!(matches!(
        store.get_host(a.uuid, h.uuid).await,
        Err(StoreError::HostNotFound { .. })
    ));
    assert!(matches!(
        store.delete_host(a.uuid, h.uuid, t(6)).await,
        Err(StoreError::HostNotFound { .. })
    ));
}

async fn segment_lists_filter_sort_and_page_without_gaps(store: Arc<dyn Store>) {
    let methods = [
        RecoveryMethod::Auto,
        RecoveryMethod::ReservedHost,
        RecoveryMethod::AutoPriority,
    ];
    for i in 0..9 {
        let mut seg = new_segment(
            &format!("seg-{i}"),
            methods[i % 3],
            if i % 2 == 0 { "COMPUTE" } else { "OTHER" },
            i % 4 != 0,
        );
        if i % 3 == 0 {
            seg.description = None;
        }
        // Several share a creation time, so the id tie-breaker matters.
        store.create_segment(seg, t(i as i64 / 2)).await.unwrap();
    }
    let all = store.list_segments(&ListQuery::default()).await.unwrap();
    assert_eq!(all.len(), 9);
    // Default order: newest first, id breaking ties.
    let keys: Vec<_> = all
        .iter()
        .map(|s| (s.timestamps.created_at, s.id))
        .collect();
    let mut expected = keys.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, expected);

    for (key, dir) in [
        ("name", SortDir::Asc),
        ("description", SortDir::Desc),
        ("enabled", SortDir::Asc),
        ("created_at", SortDir::Asc),
    ] {
        let full = store
            .list_segments(&ListQuery {
                sort: sorted(key, dir),
                ..ListQuery::default()
            })
            .await
            .unwrap();
        let mut paged = Vec::new();
        let mut marker = None;
        loop {
            let page = store
                .list_segments(&ListQuery {
                    sort: sorted(key, dir),
                    limit: 2,
                    marker,
                    ..ListQuery::default()
                })
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            marker = page.last().map(|s| s.id);
            paged.extend(page);
        }
        let ids = |v: &[lifeboat_core::model::Segment]| v.iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(
            ids(&paged),
            ids(&full),
            "paging by {key} {dir:?} must equal the full list"
        );
        assert_eq!(full.len(), 9);
    }
    let by_name = store
        .list_segments(&ListQuery {
            sort: sorted("name", SortDir::Asc),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    let names: Vec<_> = by_name.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "seg-0", "seg-1", "seg-2", "seg-3", "seg-4", "seg-5", "seg-6", "seg-7", "seg-8"
        ]
    );

    let filtered = |filter: SegmentFilter| {
        let store = store.clone();
        async move {
            store
                .list_segments(&ListQuery {
                    filter,
                    ..ListQuery::default()
                })
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(
        filtered(SegmentFilter {
            enabled: Some(false),
            ..SegmentFilter::default()
        })
        .await,
        3
    );
    assert_eq!(
        filtered(SegmentFilter {
            enabled: Some(true),
            ..SegmentFilter::default()
        })
        .await,
        6
    );
    assert_eq!(
        filtered(SegmentFilter {
            service_type: Some("OTHER".into()),
            ..SegmentFilter::default()
        })
        .await,
        4
    );
    assert_eq!(
        filtered(SegmentFilter {
            recovery_method: Some("reserved_host".into()),
            ..SegmentFilter::default()
        })
        .await,
        3
    );
    assert_eq!(
        filtered(SegmentFilter {
            recovery_method: Some("bogus".into()),
            ..SegmentFilter::default()
        })
        .await,
        0
    );
    assert_eq!(
        store
            .list_segments(&ListQuery {
                limit: 0,
                ..ListQuery::default()
            })
            .await
            .unwrap()
            .len(),
        0
    );
    let err = store
        .list_segments(&ListQuery {
            marker: Some(999_999),
            ..ListQuery::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::MarkerNotFound(999_999)),
        "{err:?}"
    );
}

async fn host_lists_filter_by_every_column(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let other = store
        .create_segment(
            new_segment("o", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    for i in 0..5 {
        let mut h = new_host(&format!("h{i}"));
        h.reserved = i % 2 == 0;
        h.on_maintenance = i == 4;
        if i == 3 {
            h.host_type = HostType::parse("type", &json!("SSH")).unwrap();
        }
        store.create_host(seg.uuid, h, t(i)).await.unwrap();
    }
    store
        .create_host(other.uuid, new_host("elsewhere"), t(0))
        .await
        .unwrap();
    let count = |filter: HostFilter| {
        let store = store.clone();
        async move {
            store
                .list_hosts(
                    seg.uuid,
                    &ListQuery {
                        filter,
                        ..ListQuery::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(count(HostFilter::default()).await.len(), 5);
    assert_eq!(
        count(HostFilter {
            reserved: Some(true),
            ..HostFilter::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        count(HostFilter {
            on_maintenance: Some(true),
            ..HostFilter::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        count(HostFilter {
            host_type: Some("SSH".into()),
            ..HostFilter::default()
        })
        .await
        .len(),
        1
    );
    let named = count(HostFilter {
        name: Some("h2".into()),
        ..HostFilter::default()
    })
    .await;
    assert_eq!(
        named.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
        ["h2"]
    );
    assert_eq!(
        count(HostFilter {
            control_attributes: Some("SSH".into()),
            ..HostFilter::default()
        })
        .await
        .len(),
        5
    );
    assert!(matches!(
        store
            .list_hosts(uuid::Uuid::new_v4(), &ListQuery::default())
            .await,
        Err(StoreError::SegmentNotFound(_))
    ));
}

async fn notifications_refuse_unknown_hosts_maintenance_and_duplicates(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let host = store
        .create_host(seg.uuid, new_host("compute-1"), t(0))
        .await
        .unwrap();
    let mut maint = new_host("compute-2");
    maint.on_maintenance = true;
    store.create_host(seg.uuid, maint, t(0)).await.unwrap();

    let err = store
        .create_notification(host_down("nobody", t(10)), WINDOW, t(10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::HostNameUnknown(ref h) if h == "nobody"),
        "{err:?}"
    );
    let err = store
        .create_notification(host_down("compute-2", t(10)), WINDOW, t(10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::HostOnMaintenance { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("compute-2"));
    // Nor may it say it is back: an operator put it in maintenance (see maintenance.rs).
    let err = store
        .create_notification(host_back("compute-2", t(10)), WINDOW, t(10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::HostOnMaintenance { .. }),
        "{err:?}"
    );

    let first = store
        .create_notification(host_down("compute-1", t(10)), WINDOW, t(11))
        .await
        .unwrap();
    assert_eq!(first.status, NotificationStatus::New);
    assert_eq!(first.source_host_uuid, host.uuid);
    assert_eq!(first.failover_segment_uuid, Some(seg.uuid));
    assert_eq!(first.generated_time, t(10));
    assert_eq!(first.payload.get("event"), Some("STOPPED"));
    assert_eq!(
        store
            .get_notification(first.notification_uuid)
            .await
            .unwrap(),
        first
    );

    // The same report inside the window, before or after, is a duplicate.
    for at in [t(10), t(10 + 179), t(10 - 179)] {
        let err = store
            .create_notification(host_down("compute-1", at), WINDOW, t(12))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::DuplicateNotification { .. }),
            "{err:?}"
        );
    }
    // Outside the window, or with another payload, it is a new report.
    store
        .create_notification(host_down("compute-1", t(10 + 181)), WINDOW, t(13))
        .await
        .unwrap();
    let mut started = host_down("compute-1", t(10));
    started.payload = payload(&[
        ("event", "STARTED"),
        ("host_status", "NORMAL"),
        ("cluster_status", "ONLINE"),
    ]);
    store
        .create_notification(started, WINDOW, t(14))
        .await
        .unwrap();
    let mut process = host_down("compute-1", t(10));
    process.notification_type = NotificationType::Process;
    process.payload = payload(&[("event", "STOPPED"), ("process_name", "nova-compute")]);
    store
        .create_notification(process, WINDOW, t(15))
        .await
        .unwrap();
}

async fn concurrent_duplicate_notifications_are_recorded_once(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    store
        .create_host(seg.uuid, new_host("compute-1"), t(0))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_notification(host_down("compute-1", t(50)), WINDOW, t(50))
                    .await
            })
        })
        .collect();
    let mut created = 0;
    let mut duplicates = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::DuplicateNotification { .. }) => duplicates += 1,
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!((created, duplicates), (1, 15));
    assert_eq!(
        store
            .list_notifications(&ListQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn notification_lists_filter_by_status_type_host_and_time(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let h1 = store
        .create_host(seg.uuid, new_host("c1"), t(0))
        .await
        .unwrap();
    store
        .create_host(seg.uuid, new_host("c2"), t(0))
        .await
        .unwrap();
    for i in 0..4 {
        store
            .create_notification(host_down("c1", t(1000 * i)), WINDOW, t(1000 * i))
            .await
            .unwrap();
    }
    let mut vm = host_down("c2", t(5000));
    vm.notification_type = NotificationType::Vm;
    vm.payload = payload(&[
        ("event", "LIFECYCLE"),
        ("instance_uuid", "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10"),
        ("vir_domain_event", "STOPPED_FAILED"),
    ]);
    store
        .create_notification(vm, WINDOW, t(5000))
        .await
        .unwrap();
    let list = |filter: NotificationFilter| {
        let store = store.clone();
        async move {
            store
                .list_notifications(&ListQuery {
                    filter,
                    ..ListQuery::default()
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(list(NotificationFilter::default()).await.len(), 5);
    assert_eq!(
        list(NotificationFilter {
            notification_type: Some("VM".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        list(NotificationFilter {
            source_host_uuid: Some(h1.uuid.to_string()),
            ..Default::default()
        })
        .await
        .len(),
        4
    );
    assert_eq!(
        list(NotificationFilter {
            status: Some("new".into()),
            ..Default::default()
        })
        .await
        .len(),
        5
    );
    assert_eq!(
        list(NotificationFilter {
            status: Some("finished".into()),
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    assert_eq!(
        list(NotificationFilter {
            generated_since: Some(t(2000)),
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        list(NotificationFilter {
            failover_segment_uuid: Some(seg.uuid.to_string()),
            ..Default::default()
        })
        .await
        .len(),
        5
    );
    let oldest_first = store
        .list_notifications(&ListQuery {
            sort: sorted("generated_time", SortDir::Asc),
            limit: 2,
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        oldest_first
            .iter()
            .map(|n| n.generated_time)
            .collect::<Vec<_>>(),
        [t(0), t(1000)]
    );
}

async fn segments_with_notifications_in_progress_cannot_change(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let host = store
        .create_host(seg.uuid, new_host("c1"), t(0))
        .await
        .unwrap();
    let other = store
        .create_host(seg.uuid, new_host("c2"), t(0))
        .await
        .unwrap();
    store
        .create_notification(host_down("c1", t(10)), WINDOW, t(10))
        .await
        .unwrap();
    let update = SegmentUpdate {
        enabled: Some(false),
        ..SegmentUpdate::default()
    };
    let err = store
        .update_segment(seg.uuid, update, t(11))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SegmentInUse {
                action: "updated",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("can't be updated"));
    assert!(matches!(
        store.delete_segment(seg.uuid, t(11)).await,
        Err(StoreError::SegmentInUse {
            action: "deleted",
            ..
        })
    ));
    let host_update = HostUpdate {
        reserved: Some(true),
        ..HostUpdate::default()
    };
    assert!(matches!(
        store
            .update_host(seg.uuid, other.uuid, host_update, t(11))
            .await,
        Err(StoreError::HostInUse {
            action: "updated",
            ..
        })
    ));
    assert!(matches!(
        store.delete_host(seg.uuid, host.uuid, t(11)).await,
        Err(StoreError::HostInUse { .. })
    ));
    // Nothing changed.
    assert!(store.get_segment(seg.uuid).await.unwrap().enabled);
    assert!(!store.get_host(seg.uuid, other.uuid).await.unwrap().reserved);
}

async fn vmoves_are_scoped_to_their_notification(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    store
        .create_host(seg.uuid, new_host("c1"), t(0))
        .await
        .unwrap();
    let n1 = store
        .create_notification(host_down("c1", t(10)), WINDOW, t(10))
        .await
        .unwrap();
    let n2 = store
        .create_notification(host_down("c1", t(1000)), WINDOW, t(1000))
        .await
        .unwrap();
    let moves = |n: uuid::Uuid, count: usize| {
        (0..count)
            .map(|i| NewVMove {
                notification_uuid: n,
                instance_uuid: uuid::Uuid::new_v4().to_string(),
                instance_name: format!("vm-{i}"),
                source_host: "c1".to_owned(),
                vmove_type: VMoveType::Evacuation,
                status: VMoveStatus::Pending,
            })
            .collect::<Vec<_>>()
    };
    let created = store
        .create_vmoves(moves(n1.notification_uuid, 3), t(20))
        .await
        .unwrap();
    store
        .create_vmoves(moves(n2.notification_uuid, 2), t(20))
        .await
        .unwrap();
    assert_eq!(created.len(), 3);
    assert_eq!(created[0].status, VMoveStatus::Pending);
    assert_eq!(created[0].dest_host, None);
    assert_eq!(
        store
            .get_vmove(n1.notification_uuid, created[1].uuid)
            .await
            .unwrap(),
        created[1]
    );
    assert!(matches!(
        store.get_vmove(n2.notification_uuid, created[1].uuid).await,
        Err(StoreError::VMoveNotFound { .. })
    ));
    let listed = store
        .list_vmoves(n1.notification_uuid, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    let filtered = store
        .list_vmoves(
            n1.notification_uuid,
            &ListQuery {
                filter: VMoveFilter {
                    status: Some("succeeded".into()),
                    ..VMoveFilter::default()
                },
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(filtered.is_empty());
    let by_name = store
        .list_vmoves(
            n1.notification_uuid,
            &ListQuery {
                sort: sorted("dest_host", SortDir::Asc),
                limit: 1,
                marker: Some(listed[2].id),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    // listed is newest first, so listed[2] is the oldest: the next by (dest_host, created_at, id)
    // ascending is listed[1].
    assert_eq!(
        by_name.iter().map(|v| v.id).collect::<Vec<_>>(),
        [listed[1].id]
    );
    assert!(
        store
            .list_recovery_steps(n1.notification_uuid)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn timestamps_keep_microseconds_in_utc(store: Arc<dyn Store>) {
    let at = Utc.timestamp_opt(1_700_000_000, 123_456_000).unwrap();
    let seg = store
        .create_segment(new_segment("s", RecoveryMethod::Auto, "COMPUTE", true), at)
        .await
        .unwrap();
    assert_eq!(seg.timestamps.created_at, at);
    store
        .create_host(seg.uuid, new_host("c1"), at)
        .await
        .unwrap();
    let n = store
        .create_notification(host_down("c1", at), WINDOW, at)
        .await
        .unwrap();
    assert_eq!(n.generated_time, at);
    let since = store
        .list_notifications(&ListQuery {
            filter: NotificationFilter {
                generated_since: Some(at + chrono::Duration::microseconds(1)),
                ..Default::default()
            },
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert!(
        since.is_empty(),
        "generated-since compares to the microsecond"
    );
}

async fn claims_are_exclusive_leased_resumable_and_per_host(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    store
        .create_host(seg.uuid, new_host("c1"), t(0))
        .await
        .unwrap();
    store
        .create_host(seg.uuid, new_host("c2"), t(0))
        .await
        .unwrap();
    let first = store
        .create_notification(host_down("c1", t(10)), WINDOW, t(10))
        .await
        .unwrap();
    let mut process = host_down("c1", t(11));
    process.notification_type = NotificationType::Process;
    process.payload = payload(&[("event", "STOPPED"), ("process_name", "nova-compute")]);
    let second = store
        .create_notification(process, WINDOW, t(11))
        .await
        .unwrap();
    let other = store
        .create_notification(host_down("c2", t(12)), WINDOW, t(12))
        .await
        .unwrap();
    let lease = Duration::from_secs(30);

    // Two engines race: each notification goes to one of them; c1's second waits for its first.
    let a = store
        .claim_notification("engine-a", lease, t(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.notification.notification_uuid, first.notification_uuid);
    assert_eq!(
        (a.attempt, a.resumed, a.notification.status),
        (1, false, NotificationStatus::Running)
    );
    let b = store
        .claim_notification("engine-b", lease, t(20))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        b.notification.notification_uuid, other.notification_uuid,
        "c1 is busy, so c2's comes next"
    );
    assert!(
        store
            .claim_notification("engine-b", lease, t(21))
            .await
            .unwrap()
            .is_none()
    );

    // Only the holder renews or completes.
    assert!(
        store
            .renew_claim(first.notification_uuid, "engine-a", lease, t(25))
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_claim(first.notification_uuid, "engine-b", lease, t(25))
            .await
            .unwrap()
    );
    let done = Completion {
        status: NotificationStatus::Finished,
        message: Some("ok".into()),
        retry_at: None,
        recovery_method: Some("auto".into()),
    };
    assert!(
        !store
            .complete_notification(first.notification_uuid, "engine-b", done.clone(), t(26))
            .await
            .unwrap()
    );

    // engine-a dies: once its lease expires, engine-b resumes the same attempt.
    assert!(
        store
            .claim_notification("engine-b", lease, t(50))
            .await
            .unwrap()
            .is_none(),
        "lease still valid until t(55)"
    );
    let resumed = store
        .claim_notification("engine-b", lease, t(56))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        resumed.notification.notification_uuid,
        first.notification_uuid
    );
    assert_eq!((resumed.attempt, resumed.resumed), (1, true));
    assert!(
        !store
            .renew_claim(first.notification_uuid, "engine-a", lease, t(57))
            .await
            .unwrap(),
        "the dead engine lost its claim"
    );
    assert!(
        store
            .complete_notification(first.notification_uuid, "engine-b", done, t(58))
            .await
            .unwrap()
    );
    let finished = store
        .get_notification(first.notification_uuid)
        .await
        .unwrap();
    assert_eq!(
        (finished.status, finished.message.as_deref()),
        (NotificationStatus::Finished, Some("ok"))
    );

    // Now c1's second notification can go; an error with a retry time comes back as attempt 2.
    let next = store
        .claim_notification("engine-a", lease, t(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        next.notification.notification_uuid,
        second.notification_uuid
    );
    let failed = Completion {
        status: NotificationStatus::Error,
        message: Some("nova down".into()),
        retry_at: Some(t(100)),
        recovery_method: None,
    };
    assert!(
        store
            .complete_notification(second.notification_uuid, "engine-a", failed, t(61))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_notification("engine-a", lease, t(99))
            .await
            .unwrap()
            .map(|c| c.notification.notification_uuid)
            != Some(second.notification_uuid)
    );
    let retry = store
        .claim_notification("engine-a", lease, t(101))
        .await
        .unwrap();
    let retry = match retry {
        Some(c) if c.notification.notification_uuid == second.notification_uuid => c,
        Some(c) => {
            // c2's notification was still claimable by lease expiry; finish it and try again.
            assert_eq!(c.notification.notification_uuid, other.notification_uuid);
            store
                .complete_notification(
                    other.notification_uuid,
                    "engine-a",
                    Completion {
                        status: NotificationStatus::Finished,
                        message: None,
                        retry_at: None,
                        recovery_method: None,
                    },
                    t(101),
                )
                .await
                .unwrap();
            store
                .claim_notification("engine-a", lease, t(101))
                .await
                .unwrap()
                .unwrap()
        }
        None => panic!("the error's retry time has come"),
    };
    assert_eq!(
        (
            retry.notification.notification_uuid,
            retry.attempt,
            retry.resumed
        ),
        (second.notification_uuid, 2, false)
    );
}

async fn concurrent_claimers_never_share_a_notification(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    for i in 0..6 {
        store
            .create_host(seg.uuid, new_host(&format!("c{i}")), t(0))
            .await
            .unwrap();
        store
            .create_notification(host_down(&format!("c{i}"), t(10)), WINDOW, t(10))
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..4)
        .map(|e| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(c) = store
                    .claim_notification(&format!("engine-{e}"), Duration::from_secs(60), t(20))
                    .await
                    .unwrap()
                {
                    mine.push(c.notification.notification_uuid);
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (6, 6),
        "each notification claimed exactly once"
    );
}

async fn engine_bookkeeping_records_steps_vmoves_and_host_flags(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    let host = store
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
    let step = |seq: i32, state: StepState, progress: f64, lines: &[&str]| RecoveryStep {
        id: 0,
        notification_uuid: id,
        attempt: 1,
        seq,
        name: format!("Step{seq}"),
        state,
        progress,
        details: lines
            .iter()
            .map(|m| ProgressDetail {
                timestamp: t(20),
                progress,
                message: (*m).to_owned(),
            })
            .collect(),
    };
    store
        .record_step(&step(1, StepState::Running, 0.0, &["start"]), t(20))
        .await
        .unwrap();
    store
        .record_step(&step(2, StepState::Pending, 0.0, &[]), t(20))
        .await
        .unwrap();
    store
        .record_step(&step(1, StepState::Success, 1.0, &["start", "done"]), t(21))
        .await
        .unwrap();
    let steps = store.list_recovery_steps(id).await.unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(
        (steps[0].state, steps[0].progress, steps[0].details.len()),
        (StepState::Success, 1.0, 2)
    );
    assert_eq!(steps[0].details[1].message, "done");

    let moves = |names: &[&str]| {
        names
            .iter()
            .map(|name| NewVMove {
                notification_uuid: id,
                instance_uuid: format!("uuid-{name}"),
                instance_name: (*name).to_owned(),
                source_host: "c1".into(),
                vmove_type: VMoveType::Evacuation,
                status: VMoveStatus::Pending,
            })
            .collect::<Vec<_>>()
    };
    let first = store
        .ensure_vmoves(moves(&["a", "b"]), t(22))
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    store
        .update_vmove(
            first[0].uuid,
            VMoveUpdate {
                status: Some(VMoveStatus::Succeeded),
                dest_host: Some(Some("c2".into())),
                end_time: Some(Some(t(30))),
                ..VMoveUpdate::default()
            },
            t(30),
        )
        .await
        .unwrap();
    // A resumed run asks again (plus one instance it had not seen): nothing is recorded twice.
    let again = store
        .ensure_vmoves(moves(&["a", "b", "c"]), t(40))
        .await
        .unwrap();
    assert_eq!(again.len(), 3);
    let a = again.iter().find(|m| m.instance_name == "a").unwrap();
    assert_eq!(
        (a.status, a.dest_host.as_deref(), a.end_time),
        (VMoveStatus::Succeeded, Some("c2"), Some(t(30)))
    );

    store
        .set_host_flags(
            host.uuid,
            Some(MaintenanceChange::Recovery(id)),
            Some(false),
            t(41),
        )
        .await
        .unwrap();
    let h = store.get_host_by_uuid(host.uuid).await.unwrap().unwrap();
    assert!(h.in_recovery_maintenance() && !h.reserved);
    assert!(
        store
            .get_host_by_uuid(uuid::Uuid::new_v4())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.failed_hosts_since(seg.uuid, t(0)).await.unwrap(), 1);
    store
        .create_notification(host_down("c2", t(50)), WINDOW, t(50))
        .await
        .unwrap();
    assert_eq!(store.failed_hosts_since(seg.uuid, t(0)).await.unwrap(), 2);
    assert_eq!(store.failed_hosts_since(seg.uuid, t(45)).await.unwrap(), 1);
}

async fn operators_cancel_running_and_retry_failed_notifications(store: Arc<dyn Store>) {
    let seg = store
        .create_segment(
            new_segment("s", RecoveryMethod::Auto, "COMPUTE", true),
            t(0),
        )
        .await
        .unwrap();
    store
        .create_host(seg.uuid, new_host("c1"), t(0))
        .await
        .unwrap();
    let n = store
        .create_notification(host_down("c1", t(10)), WINDOW, t(10))
        .await
        .unwrap();
    let id = n.notification_uuid;
    assert!(!store.cancel_requested(id).await.unwrap());
    store
        .claim_notification("e", Duration::from_secs(60), t(11))
        .await
        .unwrap()
        .unwrap();
    store
        .request(id, OperatorRequest::Cancel, t(12))
        .await
        .unwrap();
    assert!(store.cancel_requested(id).await.unwrap());
    let err = store
        .request(id, OperatorRequest::Retry, t(12))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotificationState {
                status: NotificationStatus::Running,
                ..
            }
        ),
        "{err:?}"
    );
    let failed = Completion {
        status: NotificationStatus::Failed,
        message: Some("cancelled".into()),
        retry_at: None,
        recovery_method: None,
    };
    store
        .complete_notification(id, "e", failed, t(13))
        .await
        .unwrap();
    assert!(
        !store.cancel_requested(id).await.unwrap(),
        "a completion clears the request"
    );
    let retried = store
        .request(id, OperatorRequest::Retry, t(14))
        .await
        .unwrap();
    assert_eq!(
        (retried.status, retried.message),
        (NotificationStatus::New, None)
    );
    let again = store
        .claim_notification("e", Duration::from_secs(60), t(15))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempt, 2);
    assert!(matches!(
        store
            .request(uuid::Uuid::new_v4(), OperatorRequest::Cancel, t(16))
            .await,
        Err(StoreError::NotificationNotFound(_))
    ));
}

use fencing::{
    fence_devices_are_kept_per_host_by_level_and_name, fence_history_is_kept_newest_first,
};
use maintenance::{
    a_cancel_ends_a_notification_in_error_and_records_it,
    maintenance_records_who_set_it_and_only_a_recovery_s_ends_on_started,
};

contract!(
    maintenance_records_who_set_it_and_only_a_recovery_s_ends_on_started,
    a_cancel_ends_a_notification_in_error_and_records_it,
    fence_devices_are_kept_per_host_by_level_and_name,
    fence_history_is_kept_newest_first,
    claims_are_exclusive_leased_resumable_and_per_host,
    concurrent_claimers_never_share_a_notification,
    engine_bookkeeping_records_steps_vmoves_and_host_flags,
    operators_cancel_running_and_retry_failed_notifications,
    segments_are_created_read_updated_and_soft_deleted,
    host_names_are_unique_across_segments_and_case_sensitive,
    segment_lists_filter_sort_and_page_without_gaps,
    host_lists_filter_by_every_column,
    notifications_refuse_unknown_hosts_maintenance_and_duplicates,
    concurrent_duplicate_notifications_are_recorded_once,
    notification_lists_filter_by_status_type_host_and_time,
    segments_with_notifications_in_progress_cannot_change,
    vmoves_are_scoped_to_their_notification,
    timestamps_keep_microseconds_in_utc,
);
