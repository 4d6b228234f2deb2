//! `/v1/notifications` and vmoves.

use std::time::Duration;

use lifeboat_core::clock::{Clock, SystemClock};
use lifeboat_core::model::{NotificationStatus, VMoveStatus, VMoveType};
use lifeboat_core::store::{Completion, NewVMove};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::spawn_app;

#[tokio::test]
async fn notifications_are_accepted_once_and_shown() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    let host = app.host(&seg, "c1").await;
    let accepted = app.host_down("c1", "2024-01-01T09:00:00+09:00").await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    let n = &accepted.body["notification"];
    assert_eq!(n["status"], "new");
    assert_eq!(n["type"], "COMPUTE_HOST");
    assert_eq!(n["source_host_uuid"], host["uuid"]);
    assert_eq!(n["failover_segment_uuid"], seg["uuid"]);
    assert_eq!(
        n["generated_time"], "2024-01-01T00:00:00.000000",
        "converted to UTC"
    );
    assert_eq!(n["payload"]["cluster_status"], "OFFLINE");
    assert!(n.get("recovery_workflow_details").is_none());

    let dup = app.host_down("c1", "2024-01-01T00:01:00Z").await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.fault(),
        "Notification received from host c1 of type COMPUTE_HOST is duplicate."
    );

    let id = n["notification_uuid"].as_str().unwrap();
    let v10 = app.get(&format!("/v1/notifications/{id}")).await;
    assert!(
        v10.body["notification"]
            .get("recovery_workflow_details")
            .is_none()
    );
    let v11 = app
        .call(
            Method::GET,
            &format!("/v1/notifications/{id}"),
            Some("1.1"),
            None,
        )
        .await;
    assert_eq!(
        v11.body["notification"]["recovery_workflow_details"],
        json!([])
    );
    let missing = app
        .get(&format!("/v1/notifications/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notifications_from_unknown_or_maintained_hosts_are_refused() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    let host = app.host(&seg, "c1").await;
    let unknown = app.host_down("nobody", "2024-01-01T00:00:00").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.fault(), "Host with name nobody could not be found.");
    let path = format!(
        "/v1/segments/{}/hosts/{}",
        seg["uuid"].as_str().unwrap(),
        host["uuid"].as_str().unwrap()
    );
    app.put(&path, json!({"host": {"on_maintenance": true}}))
        .await;
    let maint = app.host_down("c1", "2024-01-01T00:00:00").await;
    assert_eq!(maint.status, StatusCode::CONFLICT);
    assert!(
        maint
            .fault()
            .contains("is ignored as the host is already under maintenance")
    );
}

#[tokio::test]
async fn notification_filters_include_generated_since() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    let h1 = app.host(&seg, "c1").await;
    app.host(&seg, "c2").await;
    app.host_down("c1", "2024-01-01T00:00:00").await;
    app.host_down("c1", "2024-01-02T00:00:00").await;
    let process = app
        .post("/v1/notifications", json!({"notification": {"type": "PROCESS", "hostname": "c2", "generated_time": "2024-01-03T00:00:00",
            "payload": {"event": "STOPPED", "process_name": "nova-compute"}}}))
        .await;
    assert_eq!(process.status, StatusCode::ACCEPTED);
    let count = |q: String| {
        let app = &app;
        async move {
            let r = app.get(&format!("/v1/notifications?{q}")).await;
            assert_eq!(r.status, StatusCode::OK, "{q}");
            r.body["notifications"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("generated-since=2024-01-01T12:00:00".into()).await, 2);
    assert_eq!(count("type=PROCESS".into()).await, 1);
    assert_eq!(
        count(format!("source_host_uuid={}", h1["uuid"].as_str().unwrap())).await,
        2
    );
    assert_eq!(count("status=new".into()).await, 3);
    assert_eq!(count("status=bogus".into()).await, 0);
    let bad = app.get("/v1/notifications?generated-since=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.fault(), "Invalid generated-since value");
}

#[tokio::test]
async fn vmoves_are_shown_for_host_notifications_only() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    app.host(&seg, "c1").await;
    let host_n = app.host_down("c1", "2024-01-01T00:00:00").await.body["notification"].clone();
    let vm_n = app
        .post("/v1/notifications", json!({"notification": {"type": "VM", "hostname": "c1", "generated_time": "2024-01-01T00:00:00",
            "payload": {"event": "LIFECYCLE", "instance_uuid": "5c3f4b3e-6d0e-4b8f-9a43-0e6f1d2a7b10", "vir_domain_event": "STOPPED_FAILED"}}}))
        .await
        .body["notification"]
        .clone();
    let host_id: uuid::Uuid = host_n["notification_uuid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let moves = app
        .store
        .create_vmoves(
            (0..3)
                .map(|i| NewVMove {
                    notification_uuid: host_id,
                    instance_uuid: uuid::Uuid::new_v4().to_string(),
                    instance_name: format!("vm{i}"),
                    source_host: "c1".into(),
                    vmove_type: VMoveType::Evacuation,
                    status: VMoveStatus::Pending,
                })
                .collect(),
            SystemClock.now(),
        )
        .await
        .unwrap();
    let list = app
        .get(&format!("/v1/notifications/{host_id}/vmoves"))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["vmoves"].as_array().unwrap().len(), 3);
    let one = app
        .get(&format!(
            "/v1/notifications/{host_id}/vmoves/{}",
            moves[0].uuid
        ))
        .await;
    assert_eq!(one.body["vmove"]["instance_name"], "vm0");
    assert_eq!(one.body["vmove"]["status"], "pending");
    assert_eq!(one.body["vmove"]["type"], "evacuation");
    let filtered = app
        .get(&format!("/v1/notifications/{host_id}/vmoves?status=failed"))
        .await;
    assert!(filtered.body["vmoves"].as_array().unwrap().is_empty());
    let vm_id = vm_n["notification_uuid"].as_str().unwrap();
    let not_host = app.get(&format!("/v1/notifications/{vm_id}/vmoves")).await;
    assert_eq!(not_host.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        not_host.fault(),
        format!("This notification {vm_id} without vm moves.")
    );
    // Masakari answers 500 here; an unknown notification is a 404.
    let unknown = app
        .get(&format!(
            "/v1/notifications/{}/vmoves/{}",
            uuid::Uuid::new_v4(),
            moves[0].uuid
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn operators_cancel_and_retry_from_microversion_1_4() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    app.host(&seg, "c1").await;
    let n = app.host_down("c1", "2024-01-01T00:00:00").await.body["notification"].clone();
    let path = format!(
        "/v1/notifications/{}/action",
        n["notification_uuid"].as_str().unwrap()
    );
    let old = app
        .call(
            Method::POST,
            &path,
            Some("1.3"),
            Some(json!({"cancel": null})),
        )
        .await;
    assert_eq!(old.status, StatusCode::METHOD_NOT_ALLOWED);
    let retry = app
        .call(
            Method::POST,
            &path,
            Some("1.4"),
            Some(json!({"retry": null})),
        )
        .await;
    assert_eq!(retry.status, StatusCode::CONFLICT);
    assert!(
        retry
            .fault()
            .contains("only a notification in error or failed can be retried"),
        "{}",
        retry.text
    );
    let bad = app
        .call(
            Method::POST,
            &path,
            Some("1.4"),
            Some(json!({"cancel": null, "retry": null})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let cancel = app
        .call(
            Method::POST,
            &path,
            Some("1.4"),
            Some(json!({"cancel": null})),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{}", cancel.text);
    // No engine had it yet: it ends at once.
    assert_eq!(cancel.body["notification"]["status"], "failed");
    assert_eq!(
        cancel.body["notification"]["message"],
        "Cancelled by an operator."
    );
    let missing = app
        .call(
            Method::POST,
            &format!("/v1/notifications/{}/action", uuid::Uuid::new_v4()),
            Some("1.4"),
            Some(json!({"cancel": null})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cancel_ends_a_notification_in_error_releases_its_segment_and_is_recorded() {
    let app = spawn_app().await;
    let seg = app.segment("s", "auto").await;
    let host = app.host(&seg, "c1").await;
    let n = app.host_down("c1", "2024-01-01T00:00:00").await.body["notification"].clone();
    let id: uuid::Uuid = n["notification_uuid"].as_str().unwrap().parse().unwrap();
    // An engine tried and left it in error (as the storm guard does: no retry time).
    let now = SystemClock.now();
    app.store
        .claim_notification("e", Duration::from_secs(60), now)
        .await
        .unwrap()
        .unwrap();
    app.store
        .complete_notification(
            id,
            "e",
            Completion {
                status: NotificationStatus::Error,
                message: Some("Storm guard: paused.".into()),
                retry_at: None,
                recovery_method: None,
            },
            now,
        )
        .await
        .unwrap();
    let host_path = format!(
        "/v1/segments/{}/hosts/{}",
        seg["uuid"].as_str().unwrap(),
        host["uuid"].as_str().unwrap()
    );
    let edit = json!({"host": {"control_attributes": "IPMI"}});
    let locked = app.put(&host_path, edit.clone()).await;
    assert_eq!(locked.status, StatusCode::CONFLICT, "{}", locked.text);

    let cancel = app
        .call(
            Method::POST,
            &format!("/v1/notifications/{id}/action"),
            Some("1.4"),
            Some(json!({"cancel": null})),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::ACCEPTED, "{}", cancel.text);
    assert_eq!(cancel.body["notification"]["status"], "failed");
    let shown = app
        .call(
            Method::GET,
            &format!("/v1/notifications/{id}"),
            Some("1.1"),
            None,
        )
        .await;
    let details = shown.body["notification"]["recovery_workflow_details"]
        .as_array()
        .unwrap();
    let last = details.last().unwrap();
    assert_eq!(
        (last["name"].as_str(), last["state"].as_str()),
        (Some("OperatorCancelTask"), Some("SUCCESS"))
    );
    let failed = app.get("/v1/notifications?status=failed").await;
    assert_eq!(failed.body["notifications"].as_array().unwrap().len(), 1);
    assert!(
        app.get("/v1/notifications?status=error").await.body["notifications"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The host and segment are released, and nothing claims the notification again.
    let edited = app.put(&host_path, edit).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert!(
        app.store
            .claim_notification(
                "e",
                Duration::from_secs(60),
                now + chrono::Duration::days(1)
            )
            .await
            .unwrap()
            .is_none()
    );
}
